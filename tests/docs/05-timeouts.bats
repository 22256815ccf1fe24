#!/usr/bin/env bats
# The commands lessons/05-timeouts/README.md shows, run against the
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

@test "the C client with --timeout against the C server" {
    start_server --idle 5
    run bash -c "printf 'hello\nbye\n' | timeout 5 '$BIN/client' --timeout 2 127.0.0.1 $SERVER_PORT"
    assert_output $'hello\nbye'
}

@test "the Python server drops an idle nc" {
    lab_py_server server.py --idle 0.5 127.0.0.1 0
    run bash -c "sleep 2 | timeout 5 nc 127.0.0.1 $BG_PORT"
    grep -q '^dropped idle client' "$LAB_TMP/bg.out"
}

@test "the C server with the Python client" {
    start_server
    run bash -c "printf 'one\nbye\n' | timeout 5 '$LAB_PYTHON' '$PY/client.py' --timeout 2 127.0.0.1 $SERVER_PORT"
    assert_output $'one\nbye'
}

@test "both clients time out on a silent server" {
    start_peer_server silent-server
    run bash -c "echo hello | timeout 5 '$BIN/client' --timeout 0.5 127.0.0.1 $PEER_PORT"
    [ "$status" -eq 1 ]
    assert_output --partial 'timed out'
    run bash -c "echo hello | timeout 5 '$LAB_PYTHON' '$PY/client.py' --timeout 0.5 127.0.0.1 $PEER_PORT"
    [ "$status" -eq 1 ]
    assert_output --partial 'timed out'
}
