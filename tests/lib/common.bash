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
    bats_load_library bats-support
    bats_load_library bats-assert
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
        LAB_ROOT=$(dirname "$LAB_ROOT")
    done
fi
# The real interpreter, resolved once: a pyenv shim costs ~0.1-0.7 s a start.
if [ -z "${LAB_PYTHON:-}" ]; then
    LAB_PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || LAB_PYTHON=python3
    export LAB_PYTHON
fi
LAB_IMPL=${LAB_IMPL:-lessons}
LESSON=$(basename "$BATS_TEST_FILENAME" .bats)
LAB_BIN_DIR=${LAB_BIN_DIR:-$LAB_ROOT/build/$LAB_IMPL}
LAB_CALL_TIMEOUT=${LAB_CALL_TIMEOUT:-5}
# No call is bounded below LAB_CALL_TIMEOUT_FLOOR seconds, whatever a step
# sets: for a slow machine, valgrind, or a CPU limit that must be reached.
LAB_CALL_TIMEOUT_FLOOR=${LAB_CALL_TIMEOUT_FLOOR:-0}
LAB_LISTEN_TIMEOUT=${LAB_LISTEN_TIMEOUT:-3}
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

# ---------------------------------------------------------------- set-up and teardown

# Prepare a step: work folder, sandbox identity, empty process lists.
lab_setup() {
    LAB_TMP=$BATS_TEST_TMPDIR
    LAB_PGIDS=()   # process groups this test started
    LAB_REPRO=()   # commands that reproduce the step by hand
    SERVER_PID='' SERVER_PORT='' SERVER_HOST='' SERVER_STATUS='' CLIENT_CMD=''
    CLIENT_OUT=$LAB_TMP/client.out CLIENT_ERR=$LAB_TMP/client.err
    SERVER_FG_STATUS='' SERVER_TIMED_OUT=''
    STEP=''
    [[ $BATS_TEST_DESCRIPTION =~ ^step\ ([0-9]+): ]] && STEP=${BASH_REMATCH[1]}
    # Marks the student programs of this run in their environment: how a
    # non-root teardown finds the ones that left their process group.
    LAB_SANDBOX_TAG=${LAB_RUN_TAG:-socklab-$$-$RANDOM}
    if [ "${LAB_SANDBOX_UID:-}" = off ]; then
        # grade.py says the uid could not reach the programs (a checkout
        # under /root): they run as we do, with their limits.
        LAB_SANDBOX_UID=''
    elif [ "$EUID" -eq 0 ] && [ -z "${LAB_SANDBOX_UID:-}" ]; then
        lab_pick_sandbox_uid || return 1
    fi
    lab_build_sandbox
}

# Pick a sandbox uid no account and no process uses, and hold its lock
# (fd 219, the one grade.py takes too) for as long as this test runs, so
# two test runs on one machine never share a uid (teardown kills all of it).
lab_pick_sandbox_uid() {
    local dir=${LAB_UID_LOCK_DIR:-/run/socklab} base=${LAB_SANDBOX_UID_BASE:-61000}
    local i uid start=$(((RANDOM * 32768 + RANDOM) % 4000))
    mkdir -p -m 755 "$dir" 2>/dev/null
    if [ ! -d "$dir" ] || [ -L "$dir" ] || [ ! -O "$dir" ] ||
        [ $((0$(stat -c %a "$dir") & 022)) -ne 0 ]; then
        echo "lab_setup: $dir is not a folder only root can write to" >&2
        return 1
    fi
    for ((i = 0; i < 4000; i++)); do
        uid=$((base + (start + i) % 4000))
        getent passwd "$uid" >/dev/null && continue
        exec 219<>"$dir/$uid.lock" || continue
        if flock -n 219 && ! pgrep -U "$uid" >/dev/null; then
            LAB_SANDBOX_UID=$uid
            return 0
        fi
        exec 219>&-
    done
    echo "lab_setup: no free sandbox uid in $base-$((base + 3999))" >&2
    return 1
}

# End a step: kill every process group and sandboxed process it started,
# then fail if anything of them is left.
lab_teardown() {
    local pgid left=''
    if [ -n "${LAB_STOP_FILE:-}" ] && [ -z "${BATS_TEST_COMPLETED:-}" ] &&
        [ -z "${BATS_TEST_SKIPPED:-}" ]; then
        : >"$LAB_STOP_FILE" # this step failed: the rest are not run
    fi
    # Disowned, their deaths are not announced ("Killed") in the output.
    disown -a 2>/dev/null
    for pgid in "${LAB_PGIDS[@]}"; do
        kill -KILL -- "-$pgid" 2>/dev/null
    done
    lab_kill_sandbox || left+=" (sandbox)"
    lab_sweep_sandbox_files
    # A program that flooded its output filled these files; the transcript
    # is printed already, so free the disk now, not at the end of the run.
    find "$LAB_TMP" -maxdepth 1 -type f -size +1M -delete 2>/dev/null
    for pgid in "${LAB_PGIDS[@]}"; do
        if ! lab_wait_gone "$pgid"; then
            left+=" $pgid"
        fi
    done
    if [ -n "$left" ]; then
        echo "teardown: processes of group(s)$left survived SIGKILL" >&2
        return 1
    fi
}

# Build LAB_SANDBOX, the command prefix that runs a student program with
# its own limits, at a lower priority than the grader, unable to gain
# privileges (no setuid), marked with LAB_SANDBOX_TAG and, when we are
# root, as an unprivileged sandbox uid (RLIMIT_NPROC binds only non-root).
lab_build_sandbox() {
    local nproc=${LAB_LIMIT_NPROC:-256}
    if [ -z "${LAB_SANDBOX_UID:-}" ]; then
        # RLIMIT_NPROC counts every task of the user, so leave headroom.
        nproc=$(($(ps -L -U "$EUID" --no-headers | wc -l) + nproc))
    elif ! lab_sandbox_uid_ok "$LAB_SANDBOX_UID"; then
        return 1
    fi
    # CPU: SIGXCPU (which the transcript names) at the soft limit,
    # SIGKILL a second later if it is ignored.
    LAB_SANDBOX=(prlimit "--nproc=$nproc"
        "--cpu=${LAB_LIMIT_CPU:-20}:$((${LAB_LIMIT_CPU:-20} + 1))"
        "--fsize=${LAB_LIMIT_FSIZE:-67108864}"
        "--nofile=${LAB_LIMIT_NOFILE:-1024}" --core=0)
    # ASan reserves terabytes of address space, so no RLIMIT_AS with it.
    if [ "${SANITIZE:-}" != 1 ]; then
        LAB_SANDBOX+=("--as=${LAB_LIMIT_AS:-1073741824}")
    fi
    LAB_SANDBOX+=(nice -n "${LAB_NICE:-10}" setpriv --no-new-privs)
    if [ -n "${LAB_SANDBOX_UID:-}" ]; then
        LAB_SANDBOX+=("--reuid=$LAB_SANDBOX_UID" "--regid=$LAB_SANDBOX_UID"
            --clear-groups)
    fi
    LAB_SANDBOX+=(env "LAB_SANDBOX_TAG=${LAB_SANDBOX_TAG:-socklab-$$}")
    if [ -n "${LAB_SANDBOX_CGROUPS:-}" ] && [ "$EUID" -eq 0 ]; then
        # grade.py made control groups for this sandbox (a CPU cap, a task
        # cap): join them as root, before the limits and the uid drop, so
        # a runaway program cannot take more than its share of the machine.
        LAB_SANDBOX=(sh -c 'for f in $LAB_SANDBOX_CGROUPS; do echo $$ 2>/dev/null >"$f"; done; exec "$@"'
            sh "${LAB_SANDBOX[@]}")
    fi
    if [ "${SANITIZE:-}" = 1 ]; then
        # A memory error ends the program with its report on stderr, which
        # the transcript shows. Leak checks are off unless asked for.
        LAB_SANDBOX+=("ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:color=never:${ASAN_OPTIONS:-}"
            "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:color=never:${UBSAN_OPTIONS:-}")
    fi
    # Only stdin, stdout and stderr reach the program: Bats keeps fds of its
    # own open (3, 4, 10, 251, ...), and a student who counts the entries of
    # /proc/PID/fd should find only what their program opened.
    # (No redirection on the loop: bash would park fd 2 on a high fd the
    # loop then closes.)
    LAB_SANDBOX+=(bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}
        [ "$fd" -gt 2 ] && [ -e "/proc/$$/fd/$fd" ] && eval "exec $fd>&-"
        done; exec "$@"' lab-exec)
    return 0
}

# Refuse a sandbox uid that is not one: teardown kills every process of it.
lab_sandbox_uid_ok() {
    if ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -lt 1000 ] || [ "$1" -eq "$EUID" ] ||
        getent passwd "$1" >/dev/null; then
        echo "lab_setup: LAB_SANDBOX_UID=$1 is not a free uid (>= 1000, no account)" >&2
        return 1
    fi
}

# Print the pids of the live sandboxed programs: every process of the
# sandbox uid, or (not root) every process carrying this run's tag.
lab_sandbox_pids() {
    if [ -n "${LAB_SANDBOX_UID:-}" ]; then
        ps -U "$LAB_SANDBOX_UID" -o pid=,stat= | awk '$2 !~ /^Z/ { print $1 }'
    else
        grep -lszxF "LAB_SANDBOX_TAG=${LAB_SANDBOX_TAG:-socklab-$$}" \
            /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
    fi
}

# Kill every sandboxed program of this test, wherever it moved (setsid
# takes it out of its group, not out of its uid), until none is left.
lab_kill_sandbox() {
    local live first='' secs=3
    # Not root: no uid to kill at once, the tagged ones are found one scan
    # at a time, on a machine a fork bomb may be slowing down.
    [ -n "${LAB_SANDBOX_UID:-}" ] || secs=10
    local end=$((${EPOCHREALTIME//[!0-9]/} + secs * 1000000))
    while [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
        live=$(lab_sandbox_pids)
        if [ -z "$live" ]; then
            [ -n "$first" ] && lab_sandbox_log "killed $first processes left running"
            [ "${first:-0}" -gt 32 ] &&
                echo "teardown: killed $first processes of the student's programs: it forks without end?" >&2
            return 0
        fi
        [ -n "$first" ] || first=$(wc -w <<<"$live")
        if [ -n "${LAB_SANDBOX_UID:-}" ] && lab_sandbox_uid_ok "$LAB_SANDBOX_UID"; then
            # kill(-1) run as the uid: all of its processes at once, so a
            # fork bomb cannot fork faster than it is killed.
            setpriv "--reuid=$LAB_SANDBOX_UID" "--regid=$LAB_SANDBOX_UID" \
                --clear-groups kill -KILL -1 2>/dev/null
        else
            # Stopped first, so they cannot fork while their siblings die.
            kill -STOP $live 2>/dev/null
            kill -KILL $live 2>/dev/null
        fi
        lab_nap 20 # polling until nothing of the sandbox is left
    done
    echo "teardown: sandboxed processes survived:" $live >&2
    return 1
}

# Remove the files the sandbox uid left in the world-writable folders.
lab_sweep_sandbox_files() {
    [ -n "${LAB_SANDBOX_UID:-}" ] || return 0
    # The top level only: that is where a program can write (the folders
    # are sticky and world-writable), and walking all of /tmp after every
    # step costs more than the step. grade.py sweeps in depth afterwards.
    find /tmp /var/tmp /dev/shm -xdev -mindepth 1 -maxdepth 1 \
        -user "$LAB_SANDBOX_UID" -print -exec rm -rf {} + \
        >"$LAB_TMP/swept" 2>/dev/null
    [ -s "$LAB_TMP/swept" ] &&
        lab_sandbox_log "removed $(head -n 20 "$LAB_TMP/swept" | tr '\n' ' ')"
    return 0
}

# Note what the sandbox had to clean up in LAB_SANDBOX_LOG (grade.py
# reports it), when it is set.
lab_sandbox_log() {
    [ -n "${LAB_SANDBOX_LOG:-}" ] && echo "step ${STEP:-?}: $*" >>"$LAB_SANDBOX_LOG"
    return 0
}

# Wait up to 2 s for process group $1 to be empty; returns 1 if it is not.
# (Waits count wall-clock microseconds, ${EPOCHREALTIME//[!0-9]/}, not
# polls, so they keep their bound when a runaway program slows us down.)
lab_wait_gone() {
    local end=$((${EPOCHREALTIME//[!0-9]/} + 2000000)) nap=1
    while :; do
        # kill -0 is a builtin: no fork per poll. The group's members are
        # our children, reaped by bash as they die, so no zombie lingers.
        kill -0 -- "-$1" 2>/dev/null || return 0
        [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ] || return 1
        lab_nap $nap
        [ $nap -ge 16 ] || nap=$((nap * 2))
    done
}

# ---------------------------------------------------------------- the program under test

# Print the path of program $1 (server or client) of this lesson, or fail
# with the compiler's message when it was not built.
lab_program() {
    local bin=$LAB_BIN_DIR/$LESSON/$1
    if [ ! -x "$bin" ]; then
        if [ -s "$bin.missing" ]; then
            lab_fail "$(lab_rel "$bin"): it was not submitted: $(head -c 300 "$bin.missing")" \
                "hand in lessons/$LESSON/$1.c"
            return 1
        fi
        local why="it was not built"
        [ -s "$bin.compile.log" ] && why="it does not compile:
$(head -n 15 "$bin.compile.log" | cut -c1-300 | sed 's/^/    /')"
        lab_fail "$(lab_rel "$bin"): $why" \
            "run 'make' and fix the first error the compiler reports"
        return 1
    fi
    echo "$bin"
}

# The programs under test run under strace when the lab asks for their
# socket calls (`check N --trace` sets LAB_TRACE_DIR): one file a run.
# Sets LAB_TRACE, the words to put before the program ($1: its name).
lab_traced() {
    LAB_TRACE=()
    if [ -n "${LAB_TRACE_DIR:-}" ] && command -v strace >/dev/null; then
        LAB_TRACE_N=$((${LAB_TRACE_N:-0} + 1))
        LAB_TRACE=(strace -f -qq -x -s 256 -e trace=network,close,read,write
            -o "$LAB_TRACE_DIR/$1.$LAB_TRACE_N")
    fi
}

# Start this lesson's server with ARGS (default 127.0.0.1 0) and wait for
# its `listening on HOST:PORT` line. Sets SERVER_PID, SERVER_HOST,
# SERVER_PORT; fails with a diagnosis when it dies or never says it.
start_server() {
    local bin
    bin=$(lab_program server) || return 1
    [ $# -gt 0 ] || set -- 127.0.0.1 0
    SERVER_CMD="$(lab_rel "$bin") $(lab_args "$@")"
    LAB_REPRO+=("$SERVER_CMD &")
    : >"$LAB_TMP/server.out"
    lab_traced server
    setsid "${LAB_SANDBOX[@]}" "${LAB_TRACE[@]}" "$bin" "$@" \
        </dev/null >"$LAB_TMP/server.out" 2>"$LAB_TMP/server.err" 3>&- 219>&- &
    SERVER_PID=$!
    LAB_PGIDS+=("$SERVER_PID")
    lab_wait_listening "$LAB_TMP/server.out" "$SERVER_PID" server || return 1
    SERVER_HOST=$LAB_LISTEN_HOST SERVER_PORT=$LAB_LISTEN_PORT
}

# Run this lesson's server in the foreground with ARGS, for steps where it
# must exit by itself (bad usage, port in use). Sets status and stderr.
run_server() {
    local LAB_CALL_TIMEOUT=$((LAB_CALL_TIMEOUT > LAB_CALL_TIMEOUT_FLOOR ? LAB_CALL_TIMEOUT : LAB_CALL_TIMEOUT_FLOOR))
    local bin
    bin=$(lab_program server) || return 1
    SERVER_CMD="$(lab_rel "$bin") $(lab_args "$@")"
    LAB_REPRO+=("$SERVER_CMD")
    status=0
    lab_traced "${bin##*/}"
    timeout -k 1 "$LAB_CALL_TIMEOUT" "${LAB_SANDBOX[@]}" "${LAB_TRACE[@]}" "$bin" "$@" \
        </dev/null >"$LAB_TMP/server.out" 2>"$LAB_TMP/server.err" 3>&- 219>&- ||
        status=$?
    stderr=$(head -c 65536 "$LAB_TMP/server.err")
    SERVER_FG_STATUS=$status SERVER_TIMED_OUT=''
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        SERVER_TIMED_OUT=1
    fi
}

# Print a TCP port on 127.0.0.1 that nothing listens on (just released).
free_port() {
    "$LAB_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Start a harness server peer NAME with ARGS; sets PEER_PID, PEER_PORT and
# PEER_OUT (the file its report goes to).
start_peer_server() {
    local name=$1
    shift
    PEER_OUT=$LAB_TMP/peer-$name.out
    LAB_REPRO+=("tests/harness/peer.py $name $(lab_args "$@") &")
    # Emptied here, not by the child's redirection: the wait below must
    # never read an earlier peer's line from this file.
    : >"$PEER_OUT"
    setsid "${PEER[@]}" "$name" "$@" </dev/null >>"$PEER_OUT" 2>&1 3>&- &
    PEER_PID=$!
    LAB_PGIDS+=("$PEER_PID")
    lab_wait_listening "$PEER_OUT" "$PEER_PID" "harness $name" || return 1
    PEER_PORT=$LAB_LISTEN_PORT
}

# Start a harness client peer NAME in the background against the server
# and wait for it to print `holding`; sets HOLD_PID.
start_peer_client() {
    local name=$1 out i
    shift
    out=$LAB_TMP/peer-$name-$RANDOM.out
    LAB_REPRO+=("tests/harness/peer.py $name --port $SERVER_PORT $(lab_args "$@") &")
    : >"$out"
    setsid "${PEER[@]}" "$name" --host "$SERVER_HOST" --port "$SERVER_PORT" \
        "$@" </dev/null >>"$out" 2>&1 3>&- &
    HOLD_PID=$!
    LAB_PGIDS+=("$HOLD_PID")
    local end=$((${EPOCHREALTIME//[!0-9]/} + 5000000))
    while [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
        grep -q '^holding' "$out" 2>/dev/null && return 0
        lab_alive "$HOLD_PID" || break
        lab_nap 20 # polling for the ready line, with a deadline
    done
    local said
    said=$(tail -n 3 "$out")
    if [ -z "$said" ] && lab_alive "$HOLD_PID"; then
        said="it is still waiting: it connected (or tried to) but never got what it needed to start holding (the echo of its first message?) within 5 s"
    elif [ -z "$said" ]; then
        said="it ended without a word"
    fi
    lab_fail "the harness peer '$name' could not get going: $said"
}

# Wait for "listening on HOST:PORT" in file $1 written by process $2 (named
# $3). Sets LAB_LISTEN_HOST and LAB_LISTEN_PORT.
lab_wait_listening() {
    local file=$1 pid=$2 who=$3 line
    local end=$((${EPOCHREALTIME//[!0-9]/} + LAB_LISTEN_TIMEOUT * 1000000))
    local nap=1
    while [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
        lab_find_listening_line "$file"
        line=$LAB_LINE
        if [[ $line =~ ^listening\ on\ (.+):([0-9]+)$ ]]; then
            LAB_LISTEN_HOST=${BASH_REMATCH[1]} LAB_LISTEN_PORT=${BASH_REMATCH[2]}
            if [ "$LAB_LISTEN_PORT" -eq 0 ]; then
                lab_fail "the $who printed port 0: print the port the kernel" \
                    "chose, from getsockname(), not the one you asked for"
                return 1
            fi
            return 0
        fi
        lab_alive "$pid" || break
        lab_nap $nap # polling for the readiness line, with a deadline
        [ $nap -ge 16 ] || nap=$((nap * 2))
    done
    local diag
    if lab_alive "$pid"; then
        diag="it is still running but never printed 'listening on HOST:PORT'
  within ${LAB_LISTEN_TIMEOUT} s. Usual causes: stdout not flushed
  (add fflush(stdout) after the printf), the line has another shape, or it
  blocks before it gets there (in accept? print before accepting)."
        [ -n "$line" ] && diag+="
  its line was: $(lab_escape "$line")"
    else
        lab_reap "$pid"
        diag="it exited with $(lab_describe_status "$LAB_REAPED") before it printed 'listening on HOST:PORT'."
        # It may have printed the line just before it died.
        grep -q -a '^listening on ' "$file" 2>/dev/null &&
            diag="it printed 'listening on' and then exited at once, with $(lab_describe_status "$LAB_REAPED")."
    fi
    lab_fail "the $who did not start listening: $diag"
}

# Is process $1 still running (not gone, not a zombie)?
lab_alive() {
    local stat
    # Builtins only: this runs in every polling loop. The state follows
    # the command name's closing parenthesis in /proc/PID/stat.
    IFS= read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    [ -n "$stat" ] && [ "${stat:0:1}" != Z ]
}

# Set LAB_LINE to the first line of FILE that starts "listening on "
# (within its first 64 lines), or to ''. Builtins only: no fork per poll.
lab_find_listening_line() {
    local l n=0
    LAB_LINE=''
    while [ $n -lt 64 ] && { IFS= read -r l || [ -n "$l" ]; }; do
        if [[ $l == "listening on "* ]]; then
            LAB_LINE=$l
            return 0
        fi
        n=$((n + 1))
    done 2>/dev/null <"$1"
}

# Sleep N milliseconds without a fork: read with a time-out on a fifo
# nothing writes to.
lab_nap() {
    if [ -z "${LAB_TICK:-}" ]; then
        mkfifo "$LAB_TMP/.tick" 2>/dev/null
        exec {LAB_TICK}<>"$LAB_TMP/.tick" || { sleep "0.0$1"; return 0; }
    fi
    local t
    printf -v t '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
    read -r -t "$t" -u "$LAB_TICK" 2>/dev/null || :
    return 0
}

# Collect the exit status of our child $1 (already exited) into LAB_REAPED.
lab_reap() {
    # `|| ...` keeps a non-zero status from failing the step under set -e.
    LAB_REAPED=0
    wait "$1" 2>/dev/null || LAB_REAPED=$?
}

# Say an exit status in words: "status 1", "signal 11 (SIGSEGV)"; the
# signals of the sandbox's limits say which limit.
lab_describe_status() {
    if [ "$1" -gt 128 ] && [ "$1" -lt 160 ]; then
        local sig=$(($1 - 128)) why=''
        case $sig in
        24) why=": it used more than ${LAB_LIMIT_CPU:-20} s of CPU" ;;
        25) why=": it wrote more than the ${LAB_LIMIT_FSIZE:-67108864}-byte file size limit" ;;
        esac
        echo "signal $sig (SIG$(kill -l $sig)$why)"
    else
        echo "status $1"
    fi
}

# Wait up to $1 seconds (default 2) for the server to exit; sets
# SERVER_STATUS and returns 0, or returns 1 (without failing the step)
# when it is still running.
server_exited_within() {
    local secs=${1:-2}
    local end=$((${EPOCHREALTIME//[!0-9]/} + secs * 1000000))
    while :; do
        if ! lab_alive "$SERVER_PID"; then
            lab_reap "$SERVER_PID"
            SERVER_STATUS=$LAB_REAPED
            return 0
        fi
        [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ] || return 1
        lab_nap 20 # polling for the exit, with a deadline
    done
}

# Wait up to $1 seconds (default 2) for the server to exit; sets
# SERVER_STATUS, or fails when it is still running.
wait_server_exit() {
    server_exited_within "${1:-2}" && return 0
    lab_fail "the server was still running ${1:-2} s later; it should have exited"
}

# Fail unless the server is still running (it must survive what just happened).
expect_server_running() {
    if ! lab_alive "$SERVER_PID"; then
        lab_reap "$SERVER_PID"
        SERVER_STATUS=$LAB_REAPED
        lab_fail "the server died: it exited with $(lab_describe_status "$SERVER_STATUS")" \
            "$@"
        return 1
    fi
}

# Fail unless the server's exit status (after wait_server_exit) is $1.
expect_server_status() {
    [ "$SERVER_STATUS" = "$1" ] && return 0
    lab_fail "the server exited with $(lab_describe_status "$SERVER_STATUS"), expected status $1" \
        "${@:2}"
}

# Count the open fds, threads and CPU clock ticks of process $1.
proc_fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
proc_thread_count() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
proc_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }

# Print the milliseconds the threads of process $1 have been runnable: on
# a CPU or waiting for one (/proc/PID/task/*/schedstat). A busy loop is
# runnable all the time however loaded the machine, where its share of
# CPU ticks shrinks; a process that sleeps in a wait is not runnable.
proc_runnable_ms() {
    local f run wait rest total=0
    for f in /proc/"$1"/task/*/schedstat; do
        read -r run wait rest 2>/dev/null <"$f" || continue
        total=$((total + run + wait))
    done
    [ -e "/proc/$1" ] || return 1
    echo $((total / 1000000))
}

# ---------------------------------------------------------------- clients and peers

# Run this lesson's client with ARGS (stdin from LAB_STDIN if set), bounded
# by LAB_CALL_TIMEOUT. Sets status, output (stdout, first 64 KiB), stderr;
# the exact bytes are in $CLIENT_OUT.
run_client() {
    local LAB_CALL_TIMEOUT=$((LAB_CALL_TIMEOUT > LAB_CALL_TIMEOUT_FLOOR ? LAB_CALL_TIMEOUT : LAB_CALL_TIMEOUT_FLOOR))
    local bin
    bin=$(lab_program client) || return 1
    local input=${LAB_STDIN:-/dev/null}
    if [ -n "${LAB_STDIN:-}" ]; then
        local typed
        typed=$(head -c 300 "$LAB_STDIN" && echo .) # keep the last newline
        LAB_REPRO+=("printf '%s' $(lab_args "${typed%.}") | $(lab_rel "$bin") $(lab_args "$@")")
    else
        LAB_REPRO+=("$(lab_rel "$bin") $(lab_args "$@")")
    fi
    CLIENT_CMD="$(lab_rel "$bin") $(lab_args "$@")"
    CLIENT_OUT=$LAB_TMP/client.out CLIENT_ERR=$LAB_TMP/client.err
    status=0
    lab_traced "${bin##*/}"
    timeout -k 1 "$LAB_CALL_TIMEOUT" "${LAB_SANDBOX[@]}" "${LAB_TRACE[@]}" "$bin" "$@" \
        <"$input" >"$LAB_TMP/client.out" 2>"$LAB_TMP/client.err" 3>&- 219>&- ||
        status=$?
    # A zero byte the client printed is in client.out, which the transcript
    # shows escaped; bash's note that it dropped it from $output is noise.
    { output=$(head -c 65536 "$LAB_TMP/client.out"); } 2>/dev/null
    stderr=$(head -c 65536 "$LAB_TMP/client.err")
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        CLIENT_TIMED_OUT=1
    else
        CLIENT_TIMED_OUT=''
    fi
}

# Run harness client peer NAME against the server with ARGS and fail with
# its transcript unless it is satisfied. The first argument may be
# --why "TEXT": a diagnosis of the usual causes, added to the transcript.
peer_ok() {
    local LAB_CALL_TIMEOUT=$((LAB_CALL_TIMEOUT > LAB_CALL_TIMEOUT_FLOOR ? LAB_CALL_TIMEOUT : LAB_CALL_TIMEOUT_FLOOR))
    local why=''
    if [ "$1" = --why ]; then
        why=$2
        shift 2
    fi
    local name=$1
    shift
    LAB_REPRO+=("tests/harness/peer.py $name --port $SERVER_PORT $(lab_args "$@")")
    local out rc=0
    out=$(timeout -k 1 $((LAB_CALL_TIMEOUT + 3)) "${PEER[@]}" "$name" \
        --host "$SERVER_HOST" --port "$SERVER_PORT" --timeout "$LAB_CALL_TIMEOUT" \
        "$@" 2>&1 3>&-) || rc=$?
    [ $rc -eq 0 ] && return 0
    [ $rc -ge 124 ] && out+=$'\n'"(the harness peer was stopped at its time bound)"
    lab_fail "$out" "$why"
}

# ---------------------------------------------------------------- expectations

# Fail unless the client's stdout is exactly the bytes $1 (C escapes).
expect_client_stdout() {
    printf '%b' "$1" >"$LAB_TMP/expected.out"
    cmp -s "$LAB_TMP/expected.out" "$CLIENT_OUT" && return 0
    lab_fail "the client printed the wrong bytes
  expected $(lab_escape_file "$LAB_TMP/expected.out")
  printed  $(lab_escape_file "$CLIENT_OUT")" "${@:2}"
}

# Fail unless the client exited with status $1.
expect_client_status() {
    [ "$status" = "$1" ] && return 0
    local what="exited with $(lab_describe_status "$status")"
    [ -n "$CLIENT_TIMED_OUT" ] && what="was still running after ${LAB_CALL_TIMEOUT} s and was killed"
    lab_fail "the client $what; expected status $1" "${@:2}"
}

# Fail unless the client's stderr is one line matching the regex $1.
expect_client_error() {
    local lines
    lines=$(grep -c '' "$CLIENT_ERR" || true) # grep -c says 0 with status 1
    if [[ $stderr =~ $1 ]] && [ "$lines" -eq 1 ]; then
        return 0
    fi
    lab_fail "the client's error message is not what a user should see
  expected one line matching: $1
  stderr was: $(lab_escape_file "$CLIENT_ERR")" "${@:2}"
}

# Fail unless the server's stderr has a line matching the regex $1.
expect_server_error() {
    grep -Eq -- "$1" "$LAB_TMP/server.err" && return 0
    lab_fail "the server's error message is not what a user should see
  expected a line matching: $1
  stderr was: $(lab_escape_file "$LAB_TMP/server.err")" "${@:2}"
}

# ---------------------------------------------------------------- timing (lessons with timeouts)

# Read the monotonic clock (/proc/uptime, 0.01 s steps, no fork) into
# LAB_CLOCK, in hundredths of a second.
lab_clock() {
    local up
    read -r up _ </proc/uptime
    LAB_CLOCK=$((10#${up/./}))
}

# Print seconds $1 (like 1.5) in hundredths of a second.
lab_centis() {
    local int=${1%%.*} frac=0
    [[ $1 == *.* ]] && frac=${1#*.}
    frac=${frac}00
    echo $((10#${int:-0} * 100 + 10#${frac:0:2}))
}

# Run the client like run_client and time the run; sets CLIENT_SECONDS
# (like 1.02) too. Bound it with LAB_CALL_TIMEOUT=S set in the step.
run_client_timed() {
    local t0
    lab_clock
    t0=$LAB_CLOCK
    run_client "$@"
    lab_clock
    CLIENT_CENTIS=$((LAB_CLOCK - t0))
    CLIENT_SECONDS=$(printf '%d.%02d' $((CLIENT_CENTIS / 100)) $((CLIENT_CENTIS % 100)))
}

# Fail unless the last run_client_timed took at least $1 and at most $2
# seconds; $3 (optional): the usual causes.
# After a run_client_timed with a long --timeout (its CLIENT_CENTIS kept
# by the caller as $1) and one with a shorter --timeout, fail unless the
# second gave up at least $2 seconds sooner: the client uses the value it
# is given, not a time of its own. Wide bounds, a difference: steady on a
# busy machine.
expect_timeout_used() {
    local longer=$1 min
    min=$(lab_centis "$2")
    [ $((longer - CLIENT_CENTIS)) -ge "$min" ] && return 0
    lab_fail "with a shorter --timeout the client gave up after $CLIENT_SECONDS s, not $2 s sooner than with the longer one ($(printf '%d.%02d' $((longer / 100)) $((longer % 100))) s)" \
        "${3:-use the --timeout the user gives, not a time of your own}"
}

expect_client_elapsed() {
    local min max
    min=$(lab_centis "$1") max=$(lab_centis "$2")
    [ "$CLIENT_CENTIS" -ge "$min" ] && [ "$CLIENT_CENTIS" -le "$max" ] &&
        return 0
    local what="the client ran for $CLIENT_SECONDS s"
    [ -n "$CLIENT_TIMED_OUT" ] && what+=" and was killed"
    lab_fail "$what; expected it to finish after $1 to $2 s" "${3:-}"
}

# ---------------------------------------------------------------- a client with an idle stdin (lesson 06)

# Start this lesson's client with ARGS in the background, its stdin a fifo
# that stays open and idle until client_type writes to it or
# client_end_input ends it. Bounded by LAB_CALL_TIMEOUT; sets CLIENT_PID
# (its `timeout`, leader of its process group). Its output goes to files of
# its own, so run_client can run meanwhile; once it has exited
# (wait_client_exit) the expect_client_* checks read them.
start_client() {
    local LAB_CALL_TIMEOUT=$((LAB_CALL_TIMEOUT > LAB_CALL_TIMEOUT_FLOOR ? LAB_CALL_TIMEOUT : LAB_CALL_TIMEOUT_FLOOR))
    local bin fifo=$LAB_TMP/client.in
    bin=$(lab_program client) || return 1
    CLIENT_CMD="$(lab_rel "$bin") $(lab_args "$@")"
    LAB_REPRO+=("$CLIENT_CMD    # then type the lines; Ctrl-D ends the input")
    rm -f "$fifo" && mkfifo "$fifo" || return 1
    # The fifo's writer, so the client's stdin stays open: a process, not
    # an fd of this shell, which every later child would inherit. Opened
    # here (read-write: no wait for a reader) and inherited at fork, so it
    # holds the fifo before anything is typed into it.
    local hold_fd
    exec {hold_fd}<>"$fifo"
    setsid sleep $((LAB_CALL_TIMEOUT + 5)) >&"$hold_fd" </dev/null 3>&- \
        {hold_fd}>&- &
    LAB_STDIN_HOLDER=$!
    exec {hold_fd}>&-
    LAB_PGIDS+=("$LAB_STDIN_HOLDER")
    LAB_BG_OUT=$LAB_TMP/bg-client.out LAB_BG_ERR=$LAB_TMP/bg-client.err
    : >"$LAB_BG_OUT"
    CLIENT_OUT=$LAB_BG_OUT CLIENT_ERR=$LAB_BG_ERR LAB_BG_CMD=$CLIENT_CMD
    lab_traced client
    setsid timeout -k 1 "$LAB_CALL_TIMEOUT" "${LAB_SANDBOX[@]}" "${LAB_TRACE[@]}" "$bin" "$@" \
        <"$fifo" >"$LAB_BG_OUT" 2>"$LAB_BG_ERR" 3>&- 219>&- &
    CLIENT_PID=$!
    LAB_PGIDS+=("$CLIENT_PID")
    status=0 CLIENT_TIMED_OUT=''
}

# Type the bytes $1 (C escapes) into the stdin of the start_client client.
client_type() {
    printf '%b' "$1" 1<>"$LAB_TMP/client.in"
}

# End the start_client client's input: it reads end-of-file.
client_end_input() {
    disown "$LAB_STDIN_HOLDER" 2>/dev/null
    kill -KILL -- "-$LAB_STDIN_HOLDER" 2>/dev/null
    lab_wait_gone "$LAB_STDIN_HOLDER"
}

# If the start_client client has exited, collect its status, stdout and
# stderr like run_client does; returns 1 while it still runs.
lab_client_exited() {
    lab_alive "$CLIENT_PID" && return 1
    lab_reap "$CLIENT_PID"
    status=$LAB_REAPED CLIENT_TIMED_OUT=''
    [ "$status" -eq 124 ] || [ "$status" -eq 137 ] && CLIENT_TIMED_OUT=1
    CLIENT_OUT=$LAB_BG_OUT CLIENT_ERR=$LAB_BG_ERR CLIENT_CMD=$LAB_BG_CMD
    output=$(head -c 65536 "$CLIENT_OUT")
    stderr=$(head -c 65536 "$CLIENT_ERR")
    return 0
}

# Wait up to $2 seconds (default 3) until the start_client client's stdout
# begins with the bytes $1 (C escapes); $3: the usual causes.
wait_client_stdout() {
    local secs=${2:-3} size i
    printf '%b' "$1" >"$LAB_TMP/expected.out"
    size=$(stat -c %s "$LAB_TMP/expected.out")
    for ((i = 0; i < secs * 50; i++)); do
        cmp -s -n "$size" "$LAB_TMP/expected.out" "$LAB_BG_OUT" &&
            return 0
        if lab_client_exited; then
            cmp -s -n "$size" "$LAB_TMP/expected.out" "$LAB_BG_OUT" &&
                return 0
            break
        fi
        lab_nap 20 # polling for the output, with a deadline
    done
    lab_fail "the client did not print what the server sent within $secs s
  expected $(lab_escape_file "$LAB_TMP/expected.out")
  printed  $(lab_escape_file "$LAB_BG_OUT")" "${3:-}"
}

# Wait up to $1 seconds (default 3) for the start_client client to exit;
# sets status, output and stderr. $2: the usual causes.
wait_client_exit() {
    local secs=${1:-3} i
    for ((i = 0; i < secs * 50; i++)); do
        lab_client_exited && return 0
        lab_nap 20 # polling for the exit, with a deadline
    done
    lab_fail "the client was still running ${secs} s later; it should have exited" \
        "${2:-}"
}

# ---------------------------------------------------------------- failure transcripts

# Print the step's failure transcript to stderr and return 1.
# $1: what went wrong; $2 (optional): the usual causes, in plain words.
lab_fail() {
    {
        echo "FAILED step ${STEP:-?} of $LESSON ($LAB_IMPL): $1"
        [ -n "${2:-}" ] && echo "  likely cause: $2"
        lab_server_summary
        lab_client_summary
        if [ ${#LAB_REPRO[@]} -gt 0 ]; then
            echo "  reproduce by hand (from the top folder; use the port the server prints):"
            printf '    %s\n' "${LAB_REPRO[@]}"
        fi
        echo "  reread step ${STEP:-?} of lessons/$LESSON/README.md"
    } >&2
    return 1
}

# Describe the server's state and the last lines of its stderr, if any.
lab_server_summary() {
    if [ -z "$SERVER_PID" ] && [ -n "$SERVER_FG_STATUS" ]; then
        # run_server: it ran in the foreground.
        local fg="exited with $(lab_describe_status "$SERVER_FG_STATUS")"
        [ -n "$SERVER_TIMED_OUT" ] && fg="killed after ${LAB_CALL_TIMEOUT} s: it was still running (it should have exited by itself)"
        echo "  server ($SERVER_CMD): $fg"
        lab_stderr_summary "$LAB_TMP/server.err" server
        return 0
    fi
    [ -n "$SERVER_PID" ] || return 0
    local state end=$((${EPOCHREALTIME//[!0-9]/} + 500000))
    # A server that crashed as the peer saw the reset may still be dying:
    # wait a moment (failures only) so the transcript names its death.
    while lab_alive "$SERVER_PID" && [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
        lab_nap 10 # polling for its exit, with a deadline
    done
    if lab_alive "$SERVER_PID"; then
        state="still running"
    else
        [ -z "$SERVER_STATUS" ] && lab_reap "$SERVER_PID" && SERVER_STATUS=$LAB_REAPED
        [ -z "$SERVER_STATUS" ] && SERVER_STATUS=$LAB_REAPED
        state="exited with $(lab_describe_status "$SERVER_STATUS")"
    fi
    echo "  server ($SERVER_CMD): $state"
    lab_stderr_summary "$LAB_TMP/server.err" server
}

# Show the end of stderr file $1 of program $2, or, when a sanitizer
# (SANITIZE=1) reported a memory error, the first lines of its report.
lab_stderr_summary() {
    [ -s "$1" ] || return 0
    local report='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: '
    if grep -qaE "$report" "$1"; then
        echo "  memory error in the $2, found by the sanitizer; the first lines of its report:"
        grep -aE -m1 -A9 "$report" "$1" | head -n 10 | cut -c1-200 | sed 's/^/    /'
        return 0
    fi
    echo "  $2 stderr (last lines):"
    tail -n 5 "$1" | cut -c1-200 | sed 's/^/    /'
}

# Show the client's last run: command, status and the end of its stderr.
lab_client_summary() {
    [ -n "${CLIENT_CMD:-}" ] || return 0
    local state="exited with $(lab_describe_status "$status")"
    [ -n "$CLIENT_TIMED_OUT" ] && state="killed after ${LAB_CALL_TIMEOUT} s"
    [ "$CLIENT_OUT" = "${LAB_BG_OUT:-}" ] && lab_alive "$CLIENT_PID" &&
        state="still running"
    echo "  client ($CLIENT_CMD): $state"
    echo "  client stdout: $(lab_escape_file "$CLIENT_OUT")"
    lab_stderr_summary "$CLIENT_ERR" client
}

# Print the arguments quoted for a shell, so a reproduce line pastes as is.
lab_args() {
    local a out=()
    for a in "$@"; do
        printf -v a '%q' "$a"
        out+=("$a")
    done
    echo "${out[*]}"
}

# Print a path relative to the top folder.
lab_rel() { echo "${1#"$LAB_ROOT"/}"; }

# Print string $1 as a C string literal.
lab_escape() {
    printf '%s' "$1" | "$LAB_PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1]); import peerlib; print(peerlib.escape(sys.stdin.buffer.read(), 200))' "$LAB_ROOT/tests/harness"
}

# Print the contents of file $1 as a C string literal (reads only what
# it shows: the file may be a flood of 64 MiB).
lab_escape_file() {
    "$LAB_PYTHON" -c 'import os, sys; sys.path.insert(0, sys.argv[1]); import peerlib
data = open(sys.argv[2], "rb").read(200); size = os.path.getsize(sys.argv[2])
print(peerlib.escape(data, 200) + ("... (%d bytes in all)" % size if size > 200 else ""))' "$LAB_ROOT/tests/harness" "$1"
}
