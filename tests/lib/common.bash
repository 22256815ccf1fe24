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
#   LAB_LIMIT_NPROC, LAB_LIMIT_CPU, LAB_LIMIT_FSIZE, LAB_LIMIT_AS,
#   LAB_LIMIT_NOFILE             resource limits of student programs
#   LAB_CALL_TIMEOUT=S           bound of one client or peer run (default 5)

bats_load_library bats-support
bats_load_library bats-assert

LAB_ROOT=${LAB_ROOT:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}
LAB_IMPL=${LAB_IMPL:-lessons}
LESSON=$(basename "$BATS_TEST_FILENAME" .bats)
LAB_BIN_DIR=${LAB_BIN_DIR:-$LAB_ROOT/build/$LAB_IMPL}
LAB_CALL_TIMEOUT=${LAB_CALL_TIMEOUT:-5}
LAB_LISTEN_TIMEOUT=${LAB_LISTEN_TIMEOUT:-3}
PEER=(python3 "$LAB_ROOT/tests/harness/peer.py")

# ---------------------------------------------------------------- set-up and teardown

# Prepare a step: work folder, sandbox identity, empty process lists.
lab_setup() {
    LAB_TMP=$BATS_TEST_TMPDIR
    LAB_PGIDS=()   # process groups this test started
    LAB_REPRO=()   # commands that reproduce the step by hand
    SERVER_PID='' SERVER_PORT='' SERVER_HOST='' SERVER_STATUS='' CLIENT_CMD=''
    STEP=$(sed -n 's/^step \([0-9]*\):.*/\1/p' <<<"$BATS_TEST_DESCRIPTION")
    if [ "$(id -u)" -eq 0 ]; then
        LAB_SANDBOX_UID=${LAB_SANDBOX_UID:-$((61000 + $$ % 4000))}
    fi
    lab_build_sandbox
}

# End a step: kill every process group and sandboxed process it started,
# then fail if anything of them is left.
lab_teardown() {
    local pgid left=''
    # Disowned, their deaths are not announced ("Killed") in the output.
    disown -a 2>/dev/null
    for pgid in "${LAB_PGIDS[@]}"; do
        kill -KILL -- "-$pgid" 2>/dev/null
    done
    lab_kill_sandbox
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
# its own limits and, when we are root, as an unprivileged sandbox uid.
lab_build_sandbox() {
    local nproc=${LAB_LIMIT_NPROC:-256}
    if [ -z "${LAB_SANDBOX_UID:-}" ]; then
        # RLIMIT_NPROC counts every task of the user, so leave headroom.
        nproc=$(($(ps -L -U "$(id -u)" --no-headers | wc -l) + nproc))
    fi
    LAB_SANDBOX=(prlimit "--nproc=$nproc" "--cpu=${LAB_LIMIT_CPU:-20}"
        "--fsize=${LAB_LIMIT_FSIZE:-67108864}"
        "--nofile=${LAB_LIMIT_NOFILE:-1024}" --core=0)
    # ASan reserves terabytes of address space, so no RLIMIT_AS with it.
    if [ "${SANITIZE:-}" != 1 ]; then
        LAB_SANDBOX+=("--as=${LAB_LIMIT_AS:-1073741824}")
    fi
    if [ -n "${LAB_SANDBOX_UID:-}" ]; then
        LAB_SANDBOX+=(setpriv "--reuid=$LAB_SANDBOX_UID"
            "--regid=$LAB_SANDBOX_UID" --clear-groups)
    fi
    return 0
}

# Kill every process of the sandbox uid (only this test's programs run as it).
lab_kill_sandbox() {
    [ -n "${LAB_SANDBOX_UID:-}" ] || return 0
    local i
    for i in 1 2 3 4 5 6 7 8 9 10; do
        pkill -KILL -U "$LAB_SANDBOX_UID" 2>/dev/null || return 0
        sleep 0.05 # polling until the uid has no process left
    done
    pgrep -U "$LAB_SANDBOX_UID" >/dev/null && {
        echo "teardown: processes of sandbox uid $LAB_SANDBOX_UID survived" >&2
        return 1
    }
    return 0
}

# Wait up to 2 s for process group $1 to be empty; returns 1 if it is not.
lab_wait_gone() {
    local i
    for i in $(seq 100); do
        pgrep -g "$1" >/dev/null || return 0
        sleep 0.02 # polling with a deadline
    done
    return 1
}

# ---------------------------------------------------------------- the program under test

# Print the path of program $1 (server or client) of this lesson, or fail
# with the compiler's message when it was not built.
lab_program() {
    local bin=$LAB_BIN_DIR/$LESSON/$1
    if [ ! -x "$bin" ]; then
        local why="it was not built"
        [ -s "$bin.compile.log" ] && why="it does not compile:
$(head -n 15 "$bin.compile.log" | sed 's/^/    /')"
        lab_fail "$(lab_rel "$bin"): $why" \
            "run 'make' and fix the first error the compiler reports"
        return 1
    fi
    echo "$bin"
}

# Start this lesson's server with ARGS (default 127.0.0.1 0) and wait for
# its `listening on HOST:PORT` line. Sets SERVER_PID, SERVER_HOST,
# SERVER_PORT; fails with a diagnosis when it dies or never says it.
start_server() {
    local bin
    bin=$(lab_program server) || return 1
    [ $# -gt 0 ] || set -- 127.0.0.1 0
    SERVER_CMD="$(lab_rel "$bin") $*"
    LAB_REPRO+=("$SERVER_CMD &")
    : >"$LAB_TMP/server.out"
    setsid "${LAB_SANDBOX[@]}" "$bin" "$@" \
        </dev/null >"$LAB_TMP/server.out" 2>"$LAB_TMP/server.err" 3>&- &
    SERVER_PID=$!
    LAB_PGIDS+=("$SERVER_PID")
    lab_wait_listening "$LAB_TMP/server.out" "$SERVER_PID" server || return 1
    SERVER_HOST=$LAB_LISTEN_HOST SERVER_PORT=$LAB_LISTEN_PORT
}

# Run this lesson's server in the foreground with ARGS, for steps where it
# must exit by itself (bad usage, port in use). Sets status and stderr.
run_server() {
    local bin
    bin=$(lab_program server) || return 1
    SERVER_CMD="$(lab_rel "$bin") $*"
    LAB_REPRO+=("$SERVER_CMD")
    status=0
    timeout -k 1 "$LAB_CALL_TIMEOUT" "${LAB_SANDBOX[@]}" "$bin" "$@" \
        </dev/null >"$LAB_TMP/server.out" 2>"$LAB_TMP/server.err" 3>&- ||
        status=$?
    stderr=$(head -c 65536 "$LAB_TMP/server.err")
}

# Print a TCP port on 127.0.0.1 that nothing listens on (just released).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Start a harness server peer NAME with ARGS; sets PEER_PID, PEER_PORT and
# PEER_OUT (the file its report goes to).
start_peer_server() {
    local name=$1
    shift
    PEER_OUT=$LAB_TMP/peer-$name.out
    LAB_REPRO+=("tests/harness/peer.py $name $* &")
    setsid "${PEER[@]}" "$name" "$@" </dev/null >"$PEER_OUT" 2>&1 3>&- &
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
    LAB_REPRO+=("tests/harness/peer.py $name --port $SERVER_PORT $* &")
    setsid "${PEER[@]}" "$name" --host "$SERVER_HOST" --port "$SERVER_PORT" \
        "$@" </dev/null >"$out" 2>&1 3>&- &
    HOLD_PID=$!
    LAB_PGIDS+=("$HOLD_PID")
    for i in $(seq 250); do
        grep -q '^holding' "$out" && return 0
        lab_alive "$HOLD_PID" || break
        sleep 0.02 # polling for the ready line, with a deadline
    done
    lab_fail "the harness peer '$name' could not get going: $(tail -n 3 "$out")"
}

# Wait for "listening on HOST:PORT" in file $1 written by process $2 (named
# $3). Sets LAB_LISTEN_HOST and LAB_LISTEN_PORT.
lab_wait_listening() {
    local file=$1 pid=$2 who=$3 line i
    local tries=$((LAB_LISTEN_TIMEOUT * 50))
    for ((i = 0; i < tries; i++)); do
        line=$(grep -m1 -a '^listening on ' "$file" 2>/dev/null)
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
        sleep 0.02 # polling for the readiness line, with a deadline
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
    fi
    lab_fail "the $who did not start listening: $diag"
}

# Is process $1 still running (not gone, not a zombie)?
lab_alive() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# Collect the exit status of our child $1 (already exited) into LAB_REAPED.
lab_reap() {
    wait "$1" 2>/dev/null
    LAB_REAPED=$?
}

# Say an exit status in words: "status 1", "signal 11 (SIGSEGV)".
lab_describe_status() {
    if [ "$1" -gt 128 ] && [ "$1" -lt 160 ]; then
        echo "signal $(($1 - 128)) (SIG$(kill -l $(($1 - 128))))"
    else
        echo "status $1"
    fi
}

# Wait up to $1 seconds (default 2) for the server to exit; sets
# SERVER_STATUS, or fails when it is still running.
wait_server_exit() {
    local secs=${1:-2} i
    for ((i = 0; i < secs * 50; i++)); do
        if ! lab_alive "$SERVER_PID"; then
            lab_reap "$SERVER_PID"
            SERVER_STATUS=$LAB_REAPED
            return 0
        fi
        sleep 0.02 # polling for the exit, with a deadline
    done
    lab_fail "the server was still running ${secs} s later; it should have exited"
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

# ---------------------------------------------------------------- clients and peers

# Run this lesson's client with ARGS (stdin from LAB_STDIN if set), bounded
# by LAB_CALL_TIMEOUT. Sets status, output (stdout, first 64 KiB), stderr;
# the exact bytes are in $LAB_TMP/client.out.
run_client() {
    local bin
    bin=$(lab_program client) || return 1
    local input=${LAB_STDIN:-/dev/null}
    LAB_REPRO+=("$(lab_rel "$bin") $*${LAB_STDIN:+ < $(lab_rel "$LAB_STDIN")}")
    CLIENT_CMD="$(lab_rel "$bin") $*"
    status=0
    timeout -k 1 "$LAB_CALL_TIMEOUT" "${LAB_SANDBOX[@]}" "$bin" "$@" \
        <"$input" >"$LAB_TMP/client.out" 2>"$LAB_TMP/client.err" 3>&- ||
        status=$?
    output=$(head -c 65536 "$LAB_TMP/client.out")
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
    local why=''
    if [ "$1" = --why ]; then
        why=$2
        shift 2
    fi
    local name=$1
    shift
    LAB_REPRO+=("tests/harness/peer.py $name --port $SERVER_PORT $*")
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
    cmp -s "$LAB_TMP/expected.out" "$LAB_TMP/client.out" && return 0
    lab_fail "the client printed the wrong bytes
  expected $(lab_escape_file "$LAB_TMP/expected.out")
  printed  $(lab_escape_file "$LAB_TMP/client.out")" "${@:2}"
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
    lines=$(grep -c '' "$LAB_TMP/client.err")
    if [[ $stderr =~ $1 ]] && [ "$lines" -eq 1 ]; then
        return 0
    fi
    lab_fail "the client's error message is not what a user should see
  expected one line matching: $1
  stderr was: $(lab_escape_file "$LAB_TMP/client.err")" "${@:2}"
}

# Fail unless the server's stderr has a line matching the regex $1.
expect_server_error() {
    grep -Eq -- "$1" "$LAB_TMP/server.err" && return 0
    lab_fail "the server's error message is not what a user should see
  expected a line matching: $1
  stderr was: $(lab_escape_file "$LAB_TMP/server.err")" "${@:2}"
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
    [ -n "$SERVER_PID" ] || return 0
    local state
    if lab_alive "$SERVER_PID"; then
        state="still running"
    else
        [ -z "$SERVER_STATUS" ] && lab_reap "$SERVER_PID" && SERVER_STATUS=$LAB_REAPED
        [ -z "$SERVER_STATUS" ] && SERVER_STATUS=$LAB_REAPED
        state="exited with $(lab_describe_status "$SERVER_STATUS")"
    fi
    echo "  server ($SERVER_CMD): $state"
    if [ -s "$LAB_TMP/server.err" ]; then
        echo "  server stderr (last lines):"
        tail -n 5 "$LAB_TMP/server.err" | cut -c1-200 | sed 's/^/    /'
    fi
}

# Show the client's last run: command, status and the end of its stderr.
lab_client_summary() {
    [ -n "${CLIENT_CMD:-}" ] || return 0
    local state="exited with $(lab_describe_status "$status")"
    [ -n "$CLIENT_TIMED_OUT" ] && state="killed after ${LAB_CALL_TIMEOUT} s"
    echo "  client ($CLIENT_CMD): $state"
    echo "  client stdout: $(lab_escape_file "$LAB_TMP/client.out")"
    if [ -s "$LAB_TMP/client.err" ]; then
        echo "  client stderr (last lines):"
        tail -n 5 "$LAB_TMP/client.err" | cut -c1-200 | sed 's/^/    /'
    fi
}

# Print a path relative to the top folder.
lab_rel() { echo "${1#"$LAB_ROOT"/}"; }

# Print string $1 as a C string literal.
lab_escape() {
    printf '%s' "$1" | python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import peerlib; print(peerlib.escape(sys.stdin.buffer.read(), 200))' "$LAB_ROOT/tests/harness"
}

# Print the contents of file $1 as a C string literal.
lab_escape_file() {
    python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import peerlib; print(peerlib.escape(open(sys.argv[2], "rb").read(), 200))' "$LAB_ROOT/tests/harness" "$1"
}
