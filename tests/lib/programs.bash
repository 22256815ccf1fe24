# programs.bash - starting and driving programs (loaded by common.bash,
# above transcripts.bash): the lesson's server and client, harness peers,
# background commands and their readiness lines.

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

# Run harness client peer NAME against the server with ARGS and fail with
# its transcript unless it is satisfied. The first argument may be
# --why "TEXT": a diagnosis of the usual causes, added to the transcript.
# Sets PEER_OUTPUT: what the peer said (its report of a success too).
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
    PEER_OUTPUT=$out
    [ $rc -eq 0 ] && return 0
    [ $rc -ge 124 ] && out+=$'\n'"(the harness peer was stopped at its time bound)"
    lab_fail "$out" "$why"
}

# Print a TCP port on 127.0.0.1 that nothing listens on (just released).
free_port() {
    free_ports 1
}

# Print $1 free loopback TCP ports, all different (held at once to pick).
free_ports() {
    "${PEER[@]}" free-ports --count "$1" </dev/null
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
# and wait for it to print `holding`; sets HOLD_PID and HOLD_OUT (the file
# its output goes to). When it does not get going, the transcript adds
# LAB_PEER_WHY as the likely cause, if set (see lab_start_holder).
start_peer_client() {
    local name=$1 out i
    shift
    out=$LAB_TMP/peer-$name-$RANDOM.out
    HOLD_OUT=$out
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
    lab_fail "the harness peer '$name' could not get going: $said" \
        "${LAB_PEER_WHY:-}"
}

# Start harness client peer NAME ARGS like start_peer_client, with WHY
# (the first argument) as the likely cause when it does not get going: a
# peer still waiting for its first echo leaves no report of its own.
lab_start_holder() {
    LAB_PEER_WHY=$1 start_peer_client "${@:2}"
}

# Wait up to $3 seconds for the peer $1 (its output in file $2) to exit;
# fail with the end of its output and $4 (the likely cause) unless it
# exited satisfied (status 0).
lab_wait_peer() {
    local pid=$1 out=$2 secs=$3
    local end=$((${EPOCHREALTIME//[!0-9]/} + secs * 1000000))
    while lab_alive "$pid" && [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
        lab_nap 20 # polling for the peer's verdict, with a deadline
    done
    if lab_alive "$pid"; then
        lab_fail "the harness peer was still waiting $secs s later:
$(tail -n 5 "$out")" "${4:-}"
        return 1
    fi
    lab_reap "$pid"
    [ "$LAB_REAPED" -eq 0 ] && return 0
    lab_fail "$(grep -v '^listening on' "$out" | tail -n 8)" "${4:-}"
}

# Wait up to $1 seconds for the start_peer_client peer / the
# start_peer_server peer to exit satisfied; $2: the likely cause.
wait_peer_client() { lab_wait_peer "$HOLD_PID" "$HOLD_OUT" "$@"; }
wait_peer_server() { lab_wait_peer "$PEER_PID" "$PEER_OUT" "$@"; }

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

# ---------------------------------------------------------------- other programs (tests/docs: nc, socat, the Python counterparts)

# Succeed if a socket listens on TCP port $1 now (UDP with $2 = udp, bound),
# read from /proc/net, without connecting: some servers serve one client only.
lab_port_listened() {
    local hex table=/proc/net/tcp state=0A
    [ "${2:-tcp}" = udp ] && table=/proc/net/udp state=07
    printf -v hex ':%04X 00000000:0000 %s ' "$1" "$state"
    grep -qF "$hex" "$table"
}

# Wait until a socket listens on TCP port $1 (UDP with $2 = udp).
lab_wait_port() {
    lab_wait_for "lab_port_listened $1 ${2:-tcp}" 3 ||
        lab_fail "nothing listens on port $1: $(head -c 300 "$LAB_TMP/bg.out")"
}

# Start Python program $1 of this lesson (a server) with ARGS in the
# background and wait for its listening line; sets BG_PID and BG_PORT.
lab_py_server() {
    local prog=$1 LAB_LISTEN_TIMEOUT=5
    shift
    lab_bg "$LAB_PYTHON" "$LAB_ROOT/lessons/$LESSON/$prog" "$@"
    lab_wait_listening "$LAB_TMP/bg.out" "$BG_PID" "lessons/$LESSON/$prog" ||
        return 1
    BG_PORT=$LAB_LISTEN_PORT
}
