#!/usr/bin/env bats
# Lesson 01: echo once. One @test per step of lessons/01-echo-once/README.md.

setup() {
    load 'lib/common'
    lab_setup
}

teardown() {
    lab_teardown
}

@test "step 1: the server listens and prints its real port" {
    start_server 127.0.0.1 0
    [ "$SERVER_HOST" = 127.0.0.1 ] ||
        lab_fail "the server printed host '$SERVER_HOST', expected 127.0.0.1"
    peer_ok --why "the line was printed but nothing accepts connections on that port: print it after listen(), with the port from getsockname()" \
        probe
}

@test "step 2: the server echoes one message byte for byte" {
    start_server
    peer_ok --why "recv() the message, then send it all back on the accepted socket (not the listener)" \
        echo-client --message 'hello, socket\n'
}

@test "step 3: the server closes the connection and exits 0 after one client" {
    start_server
    peer_ok --why "after the echo, close() the accepted socket so the client sees end-of-file" \
        echo-client --message 'one and done\n' --expect-close
    wait_server_exit 2
    expect_server_status 0 "after one client, close both sockets and return 0 from main"
}

@test "step 4: the client sends its message and prints the echo" {
    start_peer_server echo-server --once
    run_client 127.0.0.1 "$PEER_PORT" hello world
    expect_client_status 0
    expect_client_stdout 'hello world\n' \
        "send the words joined by spaces plus a newline, then print exactly the bytes recv() returned"
}

@test "step 5: the client reports a refused connection and exits 1" {
    port=$(free_port)
    run_client 127.0.0.1 "$port" anyone there
    expect_client_status 1 "when connect() fails, print the error and return 1"
    expect_client_error "^client: connect 127\.0\.0\.1:$port: Connection refused$" \
        "print one line: client: connect HOST:PORT: strerror(errno)"
}

@test "step 6: the server reports a port already in use and exits 1" {
    start_peer_server record-server
    run_server 127.0.0.1 "$PEER_PORT"
    [ "$status" -eq 1 ] || lab_fail "the server exited with $(lab_describe_status "$status") on a port already in use; expected status 1" \
        "check the result of bind(): on -1 print the error and return 1"
    expect_server_error "^server: bind 127\.0\.0\.1:$PEER_PORT: Address already in use$" \
        "print one line: server: bind HOST:PORT: strerror(errno)"
}

@test "step 7: end to end, the client gets its echo from the server" {
    start_server
    run_client "$SERVER_HOST" "$SERVER_PORT" end to end
    expect_client_status 0
    expect_client_stdout 'end to end\n'
    wait_server_exit 2
    expect_server_status 0
}
