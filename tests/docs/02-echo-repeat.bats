#!/usr/bin/env bats
# The commands lessons/02-echo-repeat/README.md shows, run against the
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

@test "the client sends one line from its arguments" {
    start_server
    run timeout 5 "$BIN/client" 127.0.0.1 "$SERVER_PORT" one line from the command line
    assert_output 'one line from the command line'
}

@test "nc as the client: goodbye is not bye, bye ends it" {
    start_server
    run bash -c "printf 'hello from nc\ngoodbye is not bye\nbye\n' | timeout 5 nc -q 2 127.0.0.1 $SERVER_PORT"
    assert_output $'hello from nc\ngoodbye is not bye\nbye'
    wait_server_exit 3
    expect_server_status 0
}

@test "nc -l as the server answers the client by hand" {
    port=$(free_port)
    lab_bg bash -c "echo 'yes, typed by hand' | nc -l 127.0.0.1 $port"
    lab_wait_port "$port"
    run timeout 5 "$BIN/client" 127.0.0.1 "$port" are you there
    assert_output 'yes, typed by hand'
}

@test "socat -v as an echo server for the client" {
    port=$(free_port)
    lab_bg socat -v "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" EXEC:cat
    lab_wait_port "$port"
    run bash -c "printf 'one\ntwo\nbye\n' | timeout 5 '$BIN/client' 127.0.0.1 $port"
    assert_output $'one\ntwo\nbye'
}

@test "the Python server with the C client" {
    lab_py_server server.py 127.0.0.1 0
    run bash -c "printf 'hello\nhow are you?\nbye\n' | timeout 5 '$BIN/client' 127.0.0.1 $BG_PORT"
    assert_output $'hello\nhow are you?\nbye'
}

@test "the C server with the Python client" {
    start_server
    run bash -c "printf 'one\ntwo\nbye\n' | timeout 5 '$LAB_PYTHON' '$PY/client.py' 127.0.0.1 $SERVER_PORT"
    assert_output $'one\ntwo\nbye'
    wait_server_exit 3
    expect_server_status 0
}

@test "a PORT that is not a number is a usage error, exit 2" {
    run timeout 5 "$BIN/client" 127.0.0.1 7788x hi
    [ "$status" -eq 2 ]
}
