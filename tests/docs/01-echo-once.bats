#!/usr/bin/env bats
# The commands lessons/01-echo-once/README.md shows, run against the
# reference programs, and the Python counterparts against the C ones.

setup() {
    export LAB_IMPL=solutions
    load '../lib/common'
    load '../lib/lessons-core'
    lab_setup
    BIN=$LAB_BIN_DIR/$LESSON
    PY=$LAB_ROOT/lessons/$LESSON
}

teardown() {
    lab_teardown
}

@test "two terminals: the C client gets its echo from the C server" {
    port=$(free_port)
    start_server 127.0.0.1 "$port"
    run timeout 5 "$BIN/client" 127.0.0.1 "$port" hello
    assert_success
    assert_output hello
}

@test "the client reads its line from stdin" {
    start_server
    run bash -c "echo 'typed line' | timeout 5 '$BIN/client' 127.0.0.1 $SERVER_PORT"
    assert_output 'typed line'
}

@test "nc as the client of the C server" {
    start_server
    run bash -c "echo hello | timeout 5 nc -q 1 127.0.0.1 $SERVER_PORT"
    assert_output hello
}

@test "nc -l as the server shows what the C client sends" {
    port=$(free_port)
    # The reply typed into nc's terminal comes from its stdin here.
    lab_bg bash -c "echo reply | nc -l 127.0.0.1 $port"
    lab_wait_port "$port"
    run timeout 5 "$BIN/client" 127.0.0.1 "$port" hello
    assert_success
    assert_output reply
    wait "$BG_PID" || true
    [ "$(cat "$LAB_TMP/bg.out")" = hello ]
}

@test "socat as the client, and socat as an echo server" {
    start_server
    run bash -c "echo hi | timeout 5 socat - TCP:127.0.0.1:$SERVER_PORT"
    assert_output hi
    port=$(free_port)
    lab_bg socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" EXEC:cat
    lab_wait_port "$port"
    run timeout 5 "$BIN/client" 127.0.0.1 "$port" via socat
    assert_output 'via socat'
}

@test "the Python server with the C client" {
    port=$(free_port)
    lab_bg "$LAB_PYTHON" "$PY/server.py" 127.0.0.1 "$port"
    lab_wait_port "$port"
    run timeout 5 "$BIN/client" 127.0.0.1 "$port" from C
    assert_output 'from C'
}

@test "the C server with the Python client" {
    port=$(free_port)
    start_server 127.0.0.1 "$port"
    run timeout 5 "$LAB_PYTHON" "$PY/client.py" 127.0.0.1 "$port" from Python
    assert_success
    assert_output 'from Python'
}

@test "the Python pair prints what the C pair prints" {
    lab_py_server server.py 127.0.0.1 0
    port=$BG_PORT
    run timeout 5 "$LAB_PYTHON" "$PY/client.py" 127.0.0.1 "$port" hello socket
    assert_output 'hello socket'
    wait "$BG_PID"
    run sed 1d "$LAB_TMP/bg.out"
    assert_line --index 1 'received 13 bytes'
}

@test "a PORT that is not a number is a usage error, exit 2" {
    run timeout 5 "$BIN/client" 127.0.0.1 4000x hi
    [ "$status" -eq 2 ]
    assert_output --partial "bad port '4000x'"
    run timeout 5 "$LAB_PYTHON" "$PY/client.py" 127.0.0.1 4000x hi
    [ "$status" -eq 2 ]
}

@test "a 2000-byte message is sent" {
    start_server
    msg=$(head -c 2000 /dev/zero | tr '\0' x)
    run timeout 5 "$BIN/client" 127.0.0.1 "$SERVER_PORT" "$msg"
    assert_success
    wait_server_exit 2
    grep -q '^received [0-9]* bytes' "$LAB_TMP/server.out"
}
