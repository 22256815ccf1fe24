#!/usr/bin/env bats
# The commands lessons/04-udp-echo/README.md shows, run against the
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

@test "the C client and the C server" {
    start_server
    run timeout 5 "$BIN/client" 127.0.0.1 "$SERVER_PORT" hello
    assert_output hello
}

@test "nc -u as the client of the C server" {
    start_server
    run bash -c "echo hello | timeout 3 nc -u -w 1 127.0.0.1 $SERVER_PORT"
    assert_output hello
    run bash -c "printf 'no newline' | timeout 3 socat -T 1 - UDP:127.0.0.1:$SERVER_PORT"
    assert_output 'no newline'
}

@test "socat as a UDP echo server for the C client" {
    port=$(free_port)
    lab_bg socat "UDP-RECVFROM:$port,bind=127.0.0.1,fork" EXEC:cat
    lab_wait_port "$port" udp
    run timeout 5 "$BIN/client" 127.0.0.1 "$port" via socat
    assert_output 'via socat'
}

@test "the Python server with the C client" {
    lab_py_server server.py 127.0.0.1 0
    run timeout 5 "$BIN/client" 127.0.0.1 "$BG_PORT" from C
    assert_output 'from C'
}

@test "the C server with the Python client, and a timeout" {
    start_server
    run timeout 5 "$LAB_PYTHON" "$PY/client.py" 127.0.0.1 "$SERVER_PORT" from Python
    assert_output 'from Python'
    port=$(free_port)
    run timeout 5 "$BIN/client" --timeout 0.3 127.0.0.1 "$port" anyone
    [ "$status" -eq 1 ]
    assert_output --partial 'timed out'
    run timeout 5 "$LAB_PYTHON" "$PY/client.py" --timeout 0.3 127.0.0.1 "$port" anyone
    [ "$status" -eq 1 ]
    assert_output --partial 'timed out'
}
