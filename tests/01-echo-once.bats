#!/usr/bin/env bats
# Lesson 01: echo once. One @test per step of lessons/01-echo-once/README.md.

setup() {
    load 'lib/common'
    load 'lib/lessons-core'
    lab_setup
}

teardown() {
    lab_teardown
}

# Start the server with ARGS; on failure add the named C mistakes its
# stderr shows (sizeof a pointer, htons) to the transcript.
start_server_diagnosed() {
    start_server "$@" && return 0
    local why
    why=$(lab_diagnose_server_err)
    [ -n "$why" ] && echo "  likely cause: $why" >&2
    return 1
}

# Fail unless something accepts connections on the port the server printed.
expect_reachable() {
    lab_port_open "$SERVER_PORT" && return 0
    lab_fail "nothing accepts connections on 127.0.0.1:$SERVER_PORT, the port the server printed" \
        "$(lab_diagnose_unreachable "$SERVER_PORT")"
}

@test "step 1: the server listens and prints its real port" {
    start_server_diagnosed 127.0.0.1 0
    [ "$SERVER_HOST" = 127.0.0.1 ] ||
        lab_fail "the server printed host '$SERVER_HOST', expected 127.0.0.1"
    expect_reachable
    # A port given on the command line is the port it listens on.
    port=$(lab_free_swappable_port)
    start_server_diagnosed 127.0.0.1 "$port"
    if [ "$SERVER_PORT" != "$port" ]; then
        if [ "$SERVER_PORT" = "$(lab_swap16 "$port")" ]; then
            lab_fail "asked for port $port, the server listens on port $SERVER_PORT: the same number with its two bytes swapped" \
                "htons() forgotten: sin_port holds the port in network byte order, addr.sin_port = htons(port)"
        else
            lab_fail "asked for port $port, the server printed port $SERVER_PORT" \
                "bind() to the port from the command line and print the port getsockname() gives"
        fi
    fi
    expect_reachable
}

@test "step 2: the server echoes one message byte for byte" {
    LAB_CALL_TIMEOUT=2
    start_server
    why="recv() the message on the socket accept() returned, then send back exactly the n bytes recv() returned (not sizeof buf, not strlen(buf): the message may hold a zero byte)"
    diag=$(lab_diagnose_server_err)
    # The message holds a zero byte, and nothing may follow the echo.
    peer_ok --why "$why${diag:+
  likely cause: $diag}" echo-client --message 'hello,\x00 socket\n' --expect-close || {
        diag=$(lab_diagnose_server_err)
        [ -n "$diag" ] && echo "  likely cause: $diag" >&2
        return 1
    }
}

@test "step 3: the server closes the connection and exits 0 after one client" {
    start_server
    peer_ok --why "after the echo, close() the accepted socket so the client sees end-of-file" \
        echo-client --message 'one and done\n' --expect-close
    wait_server_exit 2
    expect_server_status 0 "after one client, close both sockets and return 0 from main"
    grep -qx 'received 13 bytes' "$LAB_TMP/server.out" ||
        lab_fail "the server did not print 'received 13 bytes' for a 13-byte message" \
            "print the n recv() returned: printf(\"received %zd bytes\\n\", n)"
}

@test "step 4: the client sends its message and prints the echo" {
    start_peer_server echo-server --once
    run_client 127.0.0.1 "$PEER_PORT" hello world
    expect_client_status 0
    expect_client_stdout 'hello world\n' \
        "send the words joined by spaces plus a newline, then print exactly the bytes recv() returned"
    # A line from stdin with a zero byte in it: fwrite the n bytes, not %s.
    start_peer_server echo-server --once
    printf 'a\0b\n' >"$LAB_TMP/typed"
    # (stderr: bash warns that the zero byte is dropped from $output)
    LAB_STDIN=$LAB_TMP/typed run_client 127.0.0.1 "$PEER_PORT" 2>/dev/null
    expect_client_status 0
    expect_client_stdout 'a\0b\n' \
        "print the reply with fwrite(buf, 1, n, stdout): printf(\"%s\") stops at the zero byte, and no NUL ends what recv() wrote"
}

@test "step 5: the client reports a refused connection and exits 1" {
    port=$(free_port)
    run_client 127.0.0.1 "$port" anyone there
    expect_client_status 1 "when connect() fails, print the error and return 1"
    [ -s "$CLIENT_ERR" ] || lab_fail "the client exited 1 without a word on stderr" \
        "when connect() fails, print one line: client: connect HOST:PORT: strerror(errno), as report(\"connect\") does"
    expect_client_error "^client: connect 127\.0\.0\.1:$port: Connection refused$" \
        "print one line: client: connect HOST:PORT: strerror(errno)"
}

@test "step 6: the server reports a port already in use and exits 1" {
    LAB_CALL_TIMEOUT=2
    start_peer_server record-server
    run_server 127.0.0.1 "$PEER_PORT"
    [ "$status" -eq 1 ] || lab_fail "the server exited with $(lab_describe_status "$status") on a port already in use; expected status 1" \
        "check the result of bind(): on -1 report(\"bind\") and return 1 (bind() result not checked? then listen() quietly picks another port)"
    expect_server_error "^server: bind 127\.0\.0\.1:$PEER_PORT: Address already in use$" \
        "print one line: server: bind HOST:PORT: strerror(errno)"
}

@test "step 7: end to end, the client gets its echo, again from a server restarted on the same port" {
    port=$(free_port)
    start_server 127.0.0.1 "$port"
    # A harness client that waits for the server to close first: the
    # server's end of that connection then sits in TIME_WAIT for a minute.
    peer_ok echo-client --message 'before the restart\n' --expect-close
    wait_server_exit 2
    expect_server_status 0
    if ! start_server_diagnosed 127.0.0.1 "$port"; then
        lab_port_listened "$port" && lab_fail \
            "the server could not be started again on port $port: a socket still listens there, though the first server exited" \
            "a process of the first server outlived it with the listening socket open (a child of fork(), a daemon): a server that exits leaves nothing running"
        lab_fail "the server could not be started again on port $port right after a client left" \
            "set SO_REUSEADDR on the listening socket before bind(): without it bind() fails with EADDRINUSE while the last connection is in TIME_WAIT"
    fi
    run_client "$SERVER_HOST" "$SERVER_PORT" end to end
    expect_client_status 0
    expect_client_stdout 'end to end\n'
    wait_server_exit 2
    expect_server_status 0
}
