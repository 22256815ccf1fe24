# session.bash - a lab session typed line by line, for the playground and
# talk mode tests (tests/lab/playground.bats, tests/lab/talk.bats).
#
#   setup() { load 'helpers'; load 'session'; lab_repl_setup; }
#
#   session_start              start `lab` (script mode) reading a FIFO
#   session_send LINE...       type lines into it
#   session_expect REGEX [S] [N]  wait for its output (repl_wait_for)
#   session_end [S]            quit, wait for it to exit; sets status,
#                              output and lines as Bats' run does
#
# Unlike a script file, the test can look at what a command printed (a
# port) and start a harness peer before typing the next line. Peers
# started after session_start inherit the FIFO's write end, so the
# session ends with `quit`, never by end of input.

SESSION_FD=17

# Close every file descriptor above 2 of this (sub)shell. Bats keeps some
# open and the lab would inherit them; socket() takes the lowest free
# number, so without this the first socket is not always 3.
close_extra_fds() {
    local fd
    for fd in $(ls "/proc/$BASHPID/fd"); do
        [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    return 0
}

# lab_run and lab_script of helpers.bash, with no descriptor inherited;
# the lab runs under the command LAB_WRAP (an array, say valgrind) if set.
# With PG_STDERR set, stderr goes to that file and output is stdout only.
pg_run() {
    PG_STDERR=${PG_STDERR:-} run bash -c 'for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; [ -z "$PG_STDERR" ] || exec 2>"$PG_STDERR"; exec "$@"' \
        pg_run timeout -k 2 "$LAB_REPL_TIMEOUT" env LAB_ROOT="$REPL_ROOT" \
        "${LAB_WRAP[@]}" "$LAB_BIN" "$@" <"${REPL_STDIN:-/dev/null}"
}

pg_script() {
    printf '%s\n' "$1" >"$BATS_TEST_TMPDIR/script.lab"
    REPL_STDIN=$BATS_TEST_TMPDIR/script.lab pg_run
}

# Start the lab reading commands from a FIFO; output to repl.out.
session_start() {
    local dir=$BATS_TEST_TMPDIR
    rm -f "$dir/session.in"
    mkfifo "$dir/session.in"
    : >"$dir/repl.out"
    (
        close_extra_fds
        exec setsid timeout -k 2 "$LAB_REPL_TIMEOUT" env LAB_ROOT="$REPL_ROOT" \
            "$LAB_BIN"
    ) <"$dir/session.in" >"$dir/repl.out" 2>&1 &
    REPL_PID=$!
    LAB_PGIDS+=("$REPL_PID")
    eval "exec $SESSION_FD>\"\$dir/session.in\""
}

# Type lines into the session (a lab that has exited does not kill the
# test with SIGPIPE).
session_send() {
    (
        trap '' PIPE
        printf '%s\n' "$@" >&"$SESSION_FD"
    ) 2>/dev/null
}

# Wait for the session's output to match regex $1 (see repl_wait_for).
session_expect() {
    repl_wait_for "$@"
}

# The pid of the lab itself (the session's leader is timeout(1)).
session_lab_pid() {
    pgrep -P "$REPL_PID" -x lab | head -n 1
}

# Say quit, close the input and wait up to $1 s (default 10) for the lab
# to exit. Sets status, output and lines from what it printed.
session_end() {
    local secs=${1:-10} i
    session_send quit || true # it may be gone already (Ctrl-C ends a script)
    eval "exec $SESSION_FD>&-"
    status=''
    for ((i = 0; i < secs * 50; i++)); do
        if ! lab_alive "$REPL_PID"; then
            lab_reap "$REPL_PID"
            status=$LAB_REAPED
            break
        fi
        sleep 0.02 # polling for the exit, with a deadline
    done
    session_output
    if [ -z "$status" ]; then
        echo "the lab did not exit ${secs} s after quit; it printed:" >&2
        echo "$output" >&2
        return 1
    fi
}

# Load what the session printed into output and lines.
session_output() {
    output=$(cat "$BATS_TEST_TMPDIR/repl.out")
    mapfile -t lines <"$BATS_TEST_TMPDIR/repl.out"
}

# Build the lesson 01 reference server and client (build/solutions/).
build_lesson01() {
    make -C "$LAB_ROOT" -s build/solutions/01-echo-once/server \
        build/solutions/01-echo-once/client >&2
}

# Build and start the lesson 01 reference server on a free port; sets
# SERVER_PID and SERVER_PORT.
start_lesson01_server() {
    local bin=$LAB_ROOT/build/solutions/01-echo-once/server
    build_lesson01 || return 1
    setsid "$bin" 127.0.0.1 0 </dev/null >"$BATS_TEST_TMPDIR/server.out" \
        2>"$BATS_TEST_TMPDIR/server.err" 3>&- &
    SERVER_PID=$!
    LAB_PGIDS+=("$SERVER_PID")
    lab_wait_listening "$BATS_TEST_TMPDIR/server.out" "$SERVER_PID" \
        "lesson 01 server" || return 1
    SERVER_PORT=$LAB_LISTEN_PORT
}

# Print a UDP port on 127.0.0.1 that nothing uses (just released).
free_udp_port() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Print the seconds since the epoch, with a fraction (for elapsed times).
now() {
    date +%s.%N
}

# Fail unless $2 - $1 (seconds) is below $3.
took_less_than() {
    awk -v a="$1" -v b="$2" -v max="$3" 'BEGIN { exit !(b - a < max) }' || {
        echo "it took $(awk -v a="$1" -v b="$2" 'BEGIN { print b - a }') s, expected under $3 s" >&2
        return 1
    }
}
