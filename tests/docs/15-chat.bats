#!/usr/bin/env bats
# The commands lessons/15-chat/README.md shows ("Run it by hand"), run
# against the built solutions, each bounded. Ports are the kernel's choice
# (0) instead of the README's 7777, and the admin socket lives in a folder
# the sandbox can write.

setup() {
    export LAB_IMPL=solutions
    load '../lib/common'
    load '../lib/lesson-15'
    lab_setup
    LESSON_DIR=$LAB_ROOT/lessons/15-chat
    chat_sock_dir
}

teardown() {
    lab_teardown
    local rc=$?
    chat_cleanup
    return $rc
}

# Start the Python server with ARGS (its own process group, bounded) and
# wait for its listening line; sets PY_PID and PY_PORT.
start_py_server() {
    # Emptied here, before the start: a restart must never find the last
    # server's listening line in it.
    : >"$LAB_TMP/py-server.out"
    setsid timeout 60 "$LAB_PYTHON" "$LESSON_DIR/server.py" "$@" \
        </dev/null >"$LAB_TMP/py-server.out" 2>&1 3>&- &
    PY_PID=$!
    LAB_PGIDS+=("$PY_PID")
    lab_wait_listening "$LAB_TMP/py-server.out" "$PY_PID" "Python server" || return 1
    PY_PORT=$LAB_LISTEN_PORT
}

ZED='* welcome to the chat; your nickname?
* you are zed
* online (1): zed
* bye'

@test "by hand: nc -N as a script, the client, socat on the admin socket, Ctrl-C" {
    local sock=$SOCK_DIR/chat.sock out
    start_server --admin "$sock" 127.0.0.1 0
    grep -qx "admin on $sock" "$LAB_TMP/server.out"
    [ "$(stat -c %A "$sock")" = srw------- ]
    out=$(printf 'zed\n/who\n/quit\n' | timeout 5 nc -N 127.0.0.1 "$SERVER_PORT")
    [ "$out" = "$ZED" ]
    out=$(printf 'ada\nhello\n' | timeout 5 socat -t 1 - "TCP:127.0.0.1:$SERVER_PORT")
    [[ $out == *'* you are ada'* ]]
    printf 'bob\n' >"$LAB_TMP/input"
    LAB_STDIN=$LAB_TMP/input run_client 127.0.0.1 "$SERVER_PORT"
    [ "$status" -eq 0 ]
    [ "$output" = $'* welcome to the chat; your nickname?\n* you are bob' ]
    out=$(printf 'stats\n' | timeout 5 socat -t 1 - "UNIX-CONNECT:$sock")
    [[ $out =~ ^clients\ [0-9]+\ named\ [0-9]+\ messages\ 1\ dropped\ 0$ ]]
    out=$(printf 'who\n' | timeout 5 socat -t 1 - "UNIX-CONNECT:$sock")
    [[ $out == 'online ('* ]]
    kill -INT "$SERVER_PID"
    wait_server_exit 3
    [ "$SERVER_STATUS" -eq 0 ]
    [ ! -e "$sock" ]
}

@test "the Python server with the C client and nc, its admin socket, SIGINT" {
    local sock=$SOCK_DIR/py.sock out
    start_py_server --admin "$sock" 127.0.0.1 0
    [ "$(stat -c %A "$sock")" = srw------- ]
    out=$(printf 'zed\n/who\n/quit\n' | timeout 5 nc -N 127.0.0.1 "$PY_PORT")
    [ "$out" = "$ZED" ]
    printf 'bob\n' >"$LAB_TMP/input"
    LAB_STDIN=$LAB_TMP/input run_client 127.0.0.1 "$PY_PORT"
    [ "$status" -eq 0 ]
    [ "$output" = $'* welcome to the chat; your nickname?\n* you are bob' ]
    out=$(printf 'stats\n' | timeout 5 socat -t 1 - "UNIX-CONNECT:$sock")
    [[ $out =~ ^clients\ [0-9]+\ named\ [0-9]+\ messages\ 0\ dropped\ 0$ ]]
    kill -INT "$PY_PID"
    lab_wait_gone "$PY_PID"
    [ ! -e "$sock" ]
}

@test "the Python client with the C server" {
    start_server
    out=$(printf 'zed\n/who\n/quit\n' | timeout 5 "$LAB_PYTHON" "$LESSON_DIR/client.py" 127.0.0.1 "$SERVER_PORT")
    [ "$out" = "$ZED" ]
}
