#!/usr/bin/env bats
# The commands lessons/09-options/README.md shows ("Run it by hand" and the
# opening example), run against the built solutions, each bounded. Ports
# are the kernel's choice (0) instead of the README's 9000.

setup() {
    export LAB_IMPL=solutions
    load '../lib/common'
    load '../lib/lesson-09'
    lab_setup
    BIN=$LAB_BIN_DIR/09-options
    LESSON_DIR=$LAB_ROOT/lessons/09-options
}

teardown() {
    lab_teardown
}

# Start the Python server with ARGS (its own process group, bounded) and
# wait for its listening line; sets PY_PORT and PY_OUT.
start_py_server() {
    PY_OUT=$LAB_TMP/py-server.out
    # Emptied here, before the start: a restart must never find the last
    # server's listening line in it.
    : >"$PY_OUT"
    setsid timeout 60 "$LAB_PYTHON" "$LESSON_DIR/server.py" "$@" \
        </dev/null >"$PY_OUT" 2>&1 3>&- &
    LAB_PGIDS+=("$!")
    lab_wait_listening "$PY_OUT" "$!" "Python server" || return 1
    PY_PORT=$LAB_LISTEN_PORT
}

# Hold a connection to port $1 open with nc (as a student does) for a few
# seconds in the background.
hold_with_nc() {
    setsid timeout 5 nc 127.0.0.1 "$1" </dev/null >/dev/null 2>&1 3>&- &
    LAB_PGIDS+=("$!")
}

@test "the opening example: options printed, then the client with and without --nodelay" {
    start_server --keepalive 1,10,4 --rcvbuf 1000 127.0.0.1 0
    grep -qx 'SO_REUSEADDR: asked 1, kernel gives 1' "$LAB_TMP/server.out"
    grep -qE '^SO_RCVBUF: asked 1000, kernel gives [0-9]+$' "$LAB_TMP/server.out"
    run_client 127.0.0.1 "$SERVER_PORT"
    [ "$status" -eq 0 ]
    [[ $output =~ ^10\ rounds\ of\ write,\ write,\ read:\ median\ [0-9.]+\ ms,\ mean\ [0-9.]+\ ms$ ]]
    run_client --nodelay 127.0.0.1 "$SERVER_PORT"
    [ "$status" -eq 0 ]
    [[ $output == "TCP_NODELAY: asked 1, kernel gives 1"$'\n'"10 rounds of write, write, read: median "* ]]
    wait_server_line '^TCP_KEEPCNT: asked 4, kernel gives 4$' 2
    wait_server_line '^closed 127\.0\.0\.1:[0-9]+$' 2
}

@test "by hand: keepalive seen with nc and ss" {
    start_server --keepalive 1,10,4 127.0.0.1 0
    hold_with_nc "$SERVER_PORT"
    wait_server_line '^TCP_KEEPCNT: asked 4, kernel gives 4$' 3
    run ss -tnoi state established "( sport = :$SERVER_PORT )"
    [ "$status" -eq 0 ]
    [[ $output == *"timer:(keepalive,"* ]]
}

@test "by hand: TIME_WAIT after bye, a restart without and with SO_REUSEADDR" {
    start_server 127.0.0.1 0
    local port=$SERVER_PORT
    run bash -c "printf 'hello\nbye\n' | timeout 3 nc 127.0.0.1 $port"
    [ "$output" = $'hello\nbye' ]
    wait_time_wait "( sport = :$port )" 2
    run ss -tan state time-wait "( sport = :$port )"
    [[ $output == *"127.0.0.1:$port "* ]]
    kill -TERM "$SERVER_PID"
    wait_server_exit 2
    LAB_CALL_TIMEOUT=2 run_server --no-reuseaddr 127.0.0.1 "$port"
    [ "$status" -eq 1 ]
    [ "$stderr" = "server: bind 127.0.0.1:$port: Address already in use" ]
    start_server 127.0.0.1 "$port"
}

@test "by hand: buffer sizes, the kernel's rule in Python, ss -tnmi" {
    start_server --rcvbuf 1000 --sndbuf 20000 127.0.0.1 0
    run "$LAB_PYTHON" -c 'import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1000); print(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))'
    grep -qx "SO_RCVBUF: asked 1000, kernel gives $output" "$LAB_TMP/server.out"
    hold_with_nc "$SERVER_PORT"
    wait_server_line '^connection from ' 3
    run ss -tnmi "( sport = :$SERVER_PORT or dport = :$SERVER_PORT )"
    [[ $output == *"rb$(sed -n 's/^SO_RCVBUF: .* gives //p' "$LAB_TMP/server.out")"* ]]
}

@test "by hand: the client against the server, --nodelay --rounds 100" {
    start_server 127.0.0.1 0
    run_client --nodelay --rounds 100 127.0.0.1 "$SERVER_PORT"
    [ "$status" -eq 0 ]
    [[ $output == *$'\n'"100 rounds of write, write, read: median "* ]]
}

@test "by hand: --linger0, the Python one-liner gets a reset" {
    start_server --linger0 127.0.0.1 0
    run timeout 5 "$LAB_PYTHON" -c "import socket; s = socket.create_connection((\"127.0.0.1\", $SERVER_PORT)); s.sendall(b\"bye\n\"); print(s.recv(100)); print(s.recv(100))"
    [ "$status" -eq 1 ]
    [[ $output == "b'bye\n'"* ]]
    [[ $output == *"ConnectionResetError: [Errno 104] Connection reset by peer" ]]
}

@test "the Python server with the C client, the Python client with the C server" {
    start_py_server --keepalive 1,10,4 127.0.0.1 0
    run_client --rounds 3 127.0.0.1 "$PY_PORT"
    [ "$status" -eq 0 ]
    [[ $output =~ ^3\ rounds\ of\ write,\ write,\ read:\ median ]]
    grep -qx 'TCP_KEEPCNT: asked 4, kernel gives 4' "$PY_OUT"
    start_server 127.0.0.1 0
    run timeout 5 "$LAB_PYTHON" "$LESSON_DIR/client.py" --nodelay 127.0.0.1 "$SERVER_PORT"
    [ "$status" -eq 0 ]
    [[ $output == "TCP_NODELAY: asked 1, kernel gives 1"$'\n'"10 rounds of write, write, read: median "* ]]
}

@test "the Python programs print what the C ones print" {
    start_py_server --rcvbuf 1000 --linger0 127.0.0.1 0
    start_server --rcvbuf 1000 --linger0 127.0.0.1 0
    run timeout 5 "$LAB_PYTHON" "$LESSON_DIR/client.py" --rounds 2 127.0.0.1 "$PY_PORT"
    [ "$status" -eq 0 ]
    run_client --rounds 2 127.0.0.1 "$SERVER_PORT"
    [ "$status" -eq 0 ]
    wait_server_line '^closed ' 2
    local i
    for i in 1 2 3 4; do
        grep -q '^closed ' "$PY_OUT" && break
        sleep 0.5 # polling for the Python server's log, with a deadline
    done
    diff <(sed 's/[0-9]\{4,5\}$/PORT/' "$PY_OUT") \
        <(sed 's/[0-9]\{4,5\}$/PORT/' "$LAB_TMP/server.out")
}
