# helpers.bash - what the lab REPL's tests (tests/lab/*.bats) share.
#
#   setup()    { load 'helpers'; lab_repl_setup; }
#   teardown() { lab_repl_teardown; }
#
# Every test gets its own state dir (XDG_STATE_HOME), so progress and
# history never leak between tests or into the developer's own. Tests that
# change lessons work on a copy of the checkout (make_checkout), never on
# the real lessons/. The REPL under test is $LAB_BIN (default
# build/lab/lab: `make lab-build`). The shared helpers of
# tests/lib/common.bash (peers, free_port, process clean-up) are loaded too.

LAB_ROOT=${LAB_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
export LAB_ROOT
load '../lib/common'

LAB_BIN=${LAB_BIN:-$LAB_ROOT/build/lab/lab}
LAB_REPL_TIMEOUT=${LAB_REPL_TIMEOUT:-30}

# Prepare a test: the shared set-up plus a state dir of its own.
lab_repl_setup() {
    lab_setup
    [ -x "$LAB_BIN" ] || {
        echo "no $LAB_BIN: run 'make lab-build' first" >&2
        return 1
    }
    export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
    unset LAB_NO_HINTS LAB_NO_SOLUTIONS LAB_WATCH_POLL LAB_SKELETON_REV
    REPL_ROOT=$LAB_ROOT
}

# Run `lab ARGS` (one-shot mode) in REPL_ROOT, bounded, stdin from
# /dev/null unless REPL_STDIN names a file; sets status and output
# (stdout and stderr), like Bats' run.
lab_run() {
    run lab_exec "$@"
}

# Run `lab ARGS` as lab_run does, its output left where it goes.
lab_exec() {
    timeout -k 2 "$LAB_REPL_TIMEOUT" env LAB_ROOT="$REPL_ROOT" \
        "$LAB_BIN" "$@" <"${REPL_STDIN:-/dev/null}" 3>&-
}

# Start `lab ARGS` like lab_run, in the background, its stdout and stderr
# in file $1 (bounded the same way: `wait` collects it).
lab_run_bg() {
    local out=$1
    shift
    lab_exec "$@" >"$out" 2>&1 3>&- &
}

# Run the lines of $1 as a script (`lab < script`); sets status, output.
lab_script() {
    printf '%s\n' "$1" >"$BATS_TEST_TMPDIR/script.lab"
    REPL_STDIN=$BATS_TEST_TMPDIR/script.lab lab_run
}

# Start `lab ARGS` in the background in its own process group, its
# output in $BATS_TEST_TMPDIR/repl.out; sets REPL_PID.
lab_start() {
    : >"$BATS_TEST_TMPDIR/repl.out"
    setsid timeout -k 2 "$LAB_REPL_TIMEOUT" env LAB_ROOT="$REPL_ROOT" \
        "$LAB_BIN" "$@" </dev/null >"$BATS_TEST_TMPDIR/repl.out" 2>&1 3>&- &
    REPL_PID=$!
    LAB_PGIDS+=("$REPL_PID")
}

# Wait up to $2 seconds (default 10) for the background REPL's output to
# match the extended regex $1 (counting matches: $3, default 1).
repl_wait_for() {
    local pattern=$1 secs=${2:-10} count=${3:-1} i
    for ((i = 0; i < secs * 50; i++)); do
        [ "$(grep -cE -- "$pattern" "$BATS_TEST_TMPDIR/repl.out")" -ge "$count" ] && return 0
        sleep 0.02 # polling for the REPL's output, with a deadline
    done
    echo "the REPL never printed /$pattern/ ($count times) in ${secs} s; it printed:" >&2
    cat "$BATS_TEST_TMPDIR/repl.out" >&2
    return 1
}

# End a test: the shared teardown, then remove the checkout copy.
lab_repl_teardown() {
    local rc=0
    lab_teardown || rc=$?
    if [ -n "${CHECKOUT_DIR:-}" ] && [ -d "$CHECKOUT_DIR" ]; then
        rm -rf "$CHECKOUT_DIR"
    fi
    return $rc
}

# Copy the checkout's lesson 01 (lessons, solutions, its test, the test
# machinery and the Makefile) to a folder of its own and point the REPL
# at it. --solved puts the reference programs in lessons/; --git commits
# the skeleton first (what reset restores). The folder is under /tmp and
# open to others (Bats' own is mode 700), because when the grader runs as
# root it runs student programs as a sandbox uid that must reach them.
make_checkout() {
    local arg root
    CHECKOUT_DIR=$(mktemp -d /tmp/lab-checkout.XXXXXX)
    chmod 755 "$CHECKOUT_DIR"
    root=$CHECKOUT_DIR/root
    mkdir -p "$root/lessons" "$root/solutions" "$root/tests"
    cp -r "$LAB_ROOT/lessons/01-echo-once" "$root/lessons/"
    cp -r "$LAB_ROOT/solutions/01-echo-once" "$root/solutions/"
    cp -r "$LAB_ROOT/tests/01-echo-once.bats" "$LAB_ROOT/tests/lib" \
        "$LAB_ROOT/tests/harness" "$LAB_ROOT/tests/grader" "$root/tests/"
    cp "$LAB_ROOT/Makefile" "$root/"
    rm -rf "$root/tests/harness/__pycache__"
    # The tests' tools as built (newer than their sources: make keeps
    # them), and the build cache of the checkout: a program the copy has
    # the same source of is not compiled again (grade.py's cache is keyed
    # by the source, the Makefile, the flags and the compiler).
    if [ -d "$LAB_ROOT/build/tools" ]; then
        mkdir -p "$root/build"
        cp -r "$LAB_ROOT/build/tools" "$root/build/"
    fi
    export LAB_BUILD_CACHE=$LAB_ROOT/build/cache
    for arg in "$@"; do
        case $arg in
        --git)
            git -C "$root" init -q &&
                git -C "$root" add -A &&
                git -C "$root" -c user.name=lab-test -c user.email=lab@test \
                    commit -q -m skeleton
            ;;
        --solved)
            cp "$root/solutions/01-echo-once/"*.c "$root/lessons/01-echo-once/"
            ;;
        esac
    done
    REPL_ROOT=$root
}

# The progress file of the checkout the REPL works on.
progress_file() {
    ls "$XDG_STATE_HOME"/socklab/progress-* 2>/dev/null | grep -v '\.lock$' | head -n 1
}
