#!/usr/bin/env bats
# The commands lessons/03-echo-threads/README.md shows, run against the
# reference server, and the Python counterparts against it.

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

@test "two Python clients and nc at once, then SIGTERM: status 0" {
    start_server
    start_peer_client hold --message 'first\n' --timeout 10
    run bash -c "printf 'hello\nbye\n' | timeout 5 '$LAB_PYTHON' '$PY/client.py' 127.0.0.1 $SERVER_PORT"
    assert_output $'hello\nbye'
    run bash -c "printf 'from nc\n' | timeout 5 nc -q 1 127.0.0.1 $SERVER_PORT"
    assert_output 'from nc'
    kill -TERM "$SERVER_PID"
    wait_server_exit 3
    expect_server_status 0
    grep -qx 'shutting down' "$LAB_TMP/server.out"
}

@test "the Python threaded server serves two clients at once" {
    lab_py_server server.py 127.0.0.1 0
    SERVER_HOST=127.0.0.1 SERVER_PORT=$BG_PORT
    start_peer_client hold --message 'first\n' --timeout 10
    run bash -c "printf 'hello\nbye\n' | timeout 5 '$LAB_PYTHON' '$PY/client.py' 127.0.0.1 $BG_PORT"
    assert_output $'hello\nbye'
    kill -TERM "$BG_PID"
}
