# common.bash - what every lesson test loads (tests/NN-slug.bats).
#
#   setup()    { load 'lib/common'; lab_setup; }
#   teardown() { lab_teardown; }
#
# It starts the program under test (lessons/ or solutions/, from LAB_IMPL)
# sandboxed in its own process group with resource limits, waits for its
# `listening on HOST:PORT` line with a deadline, drives it with harness
# peers bounded in time, and on failure prints a transcript: what was
# expected, what happened, the program's exit status and stderr, a
# diagnosis, the commands that reproduce the step, and the README step to
# reread. Teardown kills everything the test started and checks it is gone.
#
# Environment (all optional):
#   LAB_IMPL=lessons|solutions   which programs to test (default lessons)
#   LAB_BIN_DIR=DIR              where they are built (default build/LAB_IMPL)
#   LAB_SANDBOX_UID=N            when root, run student programs as this uid
#                                (default: a free one, locked in /run/socklab;
#                                off: as root, with the limits only)
#   LAB_LIMIT_NPROC, LAB_LIMIT_CPU, LAB_LIMIT_FSIZE, LAB_LIMIT_AS,
#   LAB_LIMIT_NOFILE             resource limits of student programs
#   LAB_NICE=N                   their scheduling niceness (default 10)
#   SANITIZE=1                   programs built with ASan+UBSan: no RLIMIT_AS
#   LAB_CALL_TIMEOUT=S           bound of one client or peer run (default 5)

# After a failing step under `check N` (grade.py --first-failure) the steps
# left are skipped, and cheaply: nothing more of this file is read.
if [ -n "${LAB_STOP_FILE:-}" ] && [ -e "$LAB_STOP_FILE" ]; then
    lab_setup() { skip "not run: an earlier step failed"; }
    lab_teardown() { :; }
    return 0
fi

# bats-support and bats-assert, loaded the first time a test calls one of
# their functions: most steps never do, and loading them costs each step
# ~30 ms of parsing.
lab_load_assert_libs() {
    unset -f assert assert_equal assert_failure assert_line assert_not_equal \
        assert_output assert_regex assert_success refute refute_line \
        refute_output refute_regex fail
    # Their load.bash files call dirname fifteen times: a function here,
    # not fifteen processes.
    dirname() {
        local d=${1%/*}
        [ "$d" != "$1" ] || d=.
        printf '%s\n' "${d:-/}"
    }
    bats_load_library bats-support
    bats_load_library bats-assert
    unset -f dirname
}
for lab_f in assert assert_equal assert_failure assert_line assert_not_equal \
    assert_output assert_regex assert_success refute refute_line \
    refute_output refute_regex fail; do
    eval "$lab_f() { lab_load_assert_libs; $lab_f \"\$@\"; }"
done
unset lab_f

# The checkout: the folder above tests/, wherever under tests/ this test is.
if [ -z "${LAB_ROOT:-}" ]; then
    LAB_ROOT=$BATS_TEST_DIRNAME
    while [ "$LAB_ROOT" != / ] && [ ! -e "$LAB_ROOT/tests/lib/common.bash" ]; do
        LAB_ROOT=${LAB_ROOT%/*} # dirname, without a fork a step
        LAB_ROOT=${LAB_ROOT:-/}
    done
fi
# The real interpreter, resolved once: a pyenv shim costs ~0.1-0.7 s a start.
if [ -z "${LAB_PYTHON:-}" ]; then
    LAB_PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || LAB_PYTHON=python3
    export LAB_PYTHON
fi
LAB_IMPL=${LAB_IMPL:-lessons}
LESSON=${BATS_TEST_FILENAME##*/} # basename, without a fork a step
LESSON=${LESSON%.bats}
LAB_BIN_DIR=${LAB_BIN_DIR:-$LAB_ROOT/build/$LAB_IMPL}
LAB_CALL_TIMEOUT=${LAB_CALL_TIMEOUT:-5}
# No call is bounded below LAB_CALL_TIMEOUT_FLOOR seconds, whatever a step
# sets: for a slow machine, valgrind, or a CPU limit that must be reached.
LAB_CALL_TIMEOUT_FLOOR=${LAB_CALL_TIMEOUT_FLOOR:-0}
LAB_LISTEN_TIMEOUT=${LAB_LISTEN_TIMEOUT:-3}
# What starts a student program in its sandbox (make builds it).
LAB_SANDBOX_EXEC=${LAB_SANDBOX_EXEC:-$LAB_ROOT/build/tools/sandbox-exec}
# -S: the harness is standard library only, and site's start-up (a .pth
# file importing a package) can cost more than the peer itself.
# Bats captures a stack trace before every command; not inside these
# helpers, whose failures say what happened in their own words.
BATS_DEBUG_EXCLUDE_PATHS+=("$LAB_ROOT/tests/lib")
PEER=("$LAB_PYTHON" -S "$LAB_ROOT/tests/harness/peer.py")
# Under grade.py a peerd has the peers loaded: peerc asks it for a fork
# instead of a Python start (tests/harness/peerd.py).
if [ -n "${LAB_PEERD:-}" ] && [ -x "${LAB_PEERC:-}" ]; then
    PEER=("$LAB_PEERC")
fi

# LAB_PROFILE=FILE traces every command of every step, with a timestamp,
# into FILE: where a step's time goes (tests/lib/profile-steps reads it).
if [ -n "${LAB_PROFILE:-}" ]; then
    exec 218>>"$LAB_PROFILE"
    BASH_XTRACEFD=218
    PS4='+ ${EPOCHREALTIME} ${BATS_TEST_NUMBER:-0} ${FUNCNAME[0]:-main} '
    set -x
fi

# The helpers, in layers, each using only those loaded before it:
#   sandbox.bash      set-up and teardown, the sandbox, processes, polling
#   transcripts.bash  lab_fail and the failure transcript
#   programs.bash     the server and client under test, peers, background
#   expect.bash       the checks of what a step observed
# (`source`, not Bats' load: this runs before every step.)
lab_lib=${BASH_SOURCE[0]%common.bash}
for lab_f in sandbox transcripts programs expect; do
    source "${lab_lib:-./}$lab_f.bash"
done
unset lab_f lab_lib
