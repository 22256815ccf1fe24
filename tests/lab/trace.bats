#!/usr/bin/env bats
# trace.bats - `trace N server|client [--ref] [ARGS...]`: the student's
# program under strace, its socket calls printed in the playground's own
# format. Loopback only, every run bounded.

setup() {
    load 'helpers'
    lab_repl_setup
    command -v strace >/dev/null || skip "strace is not installed"
}

teardown() {
    lab_repl_teardown
}

@test "trace of a client: its calls in the playground's format" {
    start_peer_server echo-server --once
    lab_run trace 01 client --ref 127.0.0.1 "$PEER_PORT" hello trace
    echo "$output"
    [ "$status" -eq 0 ]
    assert_line 'socket(AF_INET, SOCK_STREAM, 0) = 3'
    assert_line "connect(3, 127.0.0.1:$PEER_PORT) = 0"
    assert_line --regexp '^send\(3, "hello trace\\n", 12, [A-Z_0-9]+\) = 12$'
    assert_line --regexp '^recv\(3, [0-9]+\) = 12 "hello trace\\n"$'
    assert_line 'close(3) = 0'
    assert_line 'hello trace'
    # libc's own sockets and the terminal's writes are left out.
    refute_output --partial 'AF_NETLINK'
    refute_output --regexp 'write\(1,'
}

@test "trace of a server: accept, the client's bytes, and threads by pid" {
    local port
    port=$(free_port)
    lab_start trace 03 server --ref 127.0.0.1 "$port"
    repl_wait_for '^listen\(3, [0-9]+\) = 0$' 20
    repl_wait_for "^listening on 127\\.0\\.0\\.1:$port\$" 20
    run timeout 10 "$LAB_ROOT/build/solutions/01-echo-once/client" 127.0.0.1 "$port" hi
    [ "$status" -eq 0 ]
    repl_wait_for '^\[pid [0-9]+\] recv\(4, [0-9]+\) = 0 \(end of stream\)$' 20
    kill -INT -- "-$REPL_PID"
    lab_wait_gone "$REPL_PID" 10 || true
    run cat "$BATS_TEST_TMPDIR/repl.out"
    echo "$output"
    assert_line "bind(3, 127.0.0.1:$port) = 0"
    assert_line --regexp "^accept\\(3\\) = 4 \\(peer 127\\.0\\.0\\.1:[0-9]+\\)$"
    assert_line --regexp '^\[pid [0-9]+\] recv\(4, [0-9]+\) = 3 "hi\\n"$'
}

@test "trace shows a failing call with its errno, and the exit status" {
    local port
    port=$(free_port)
    lab_run trace 01 client --ref 127.0.0.1 "$port" hi
    echo "$output"
    [ "$status" -eq 1 ]
    assert_line "connect(3, 127.0.0.1:$port) = -1 ECONNREFUSED (Connection refused)"
    assert_line '(it exited with status 1)'
}

@test "trace: usage, and a program that is not server or client" {
    lab_run trace
    [ "$status" -eq 2 ]
    assert_output 'usage: trace N server|client [--ref] [ARGS...]'
    lab_run trace 01 peer
    [ "$status" -eq 2 ]
}

@test "every lesson's server can be traced: bind, then the bound stops it" {
    local d n out
    # All at once: each waits out its 2 s bound.
    for d in "$LAB_ROOT"/solutions/[0-9][0-9]-*; do
        n=$(basename "$d")
        if [ -f "$d/server.c" ]; then
            LAB_RUN_TIMEOUT=2 lab_run_bg "$BATS_TEST_TMPDIR/$n.out" trace "${n%%-*}" server --ref 127.0.0.1 0
        else # a client alone: nobody listens there, connect is refused
            LAB_RUN_TIMEOUT=2 lab_run_bg "$BATS_TEST_TMPDIR/$n.out" trace "${n%%-*}" client --ref 127.0.0.1 "$(free_port)"
        fi
    done
    wait
    for d in "$LAB_ROOT"/solutions/[0-9][0-9]-*; do
        n=$(basename "$d")
        out=$BATS_TEST_TMPDIR/$n.out
        if ! grep -qE '^(bind|connect|socket)\(' "$out"; then
            echo "trace of $n showed no socket call:" >&2
            cat "$out" >&2
            return 1
        fi
    done
}
