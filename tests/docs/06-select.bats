#!/usr/bin/env bats
# The commands lessons/06-select/README.md shows, run against the
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

@test "nc and socat as clients of the C server" {
    start_server
    run bash -c "echo hello | timeout 5 nc -q 1 127.0.0.1 $SERVER_PORT"
    assert_output hello
    run bash -c "echo hi | timeout 5 socat - TCP:127.0.0.1:$SERVER_PORT"
    assert_output hi
}

@test "the C client prints a server that speaks first (socat SYSTEM)" {
    port=$(free_port)
    lab_bg socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" SYSTEM:'for i in 1 2 3; do echo tick $i; sleep 0.1; done; cat'
    lab_wait_port "$port"
    run bash -c "timeout 5 '$BIN/client' 127.0.0.1 $port </dev/null"
    assert_output $'tick 1\ntick 2\ntick 3'
}

@test "the Python server with the C client" {
    lab_py_server server.py 127.0.0.1 0
    run bash -c "printf 'one\nbye\n' | timeout 5 '$BIN/client' 127.0.0.1 $BG_PORT"
    assert_output $'one\nbye'
}

@test "the C server with the Python client" {
    start_server
    run bash -c "printf 'one\ntwo\nbye\n' | timeout 5 '$LAB_PYTHON' '$PY/client.py' 127.0.0.1 $SERVER_PORT"
    assert_output $'one\ntwo\nbye'
}
