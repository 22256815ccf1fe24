#!/usr/bin/env bats
# Lesson 04: UDP echo. One @test per step of lessons/04-udp-echo/README.md.
# The server is driven by the UDP peers of tests/harness/peers_udp.py; the
# client talks to a harness UDP server; step 11 puts the two together.

setup() {
    load 'lib/common'
    lab_setup
}

teardown() {
    lab_teardown
}

# Fail unless the harness server peer recorded the datagram $1 (escaped
# like a C string, quotes included) from the client.
expect_peer_received() {
    grep -qF -- "received $1 from 127.0.0.1:" "$PEER_OUT" && return 0
    lab_fail "the harness server did not receive the datagram $1
  it received: $(grep '^received' "$PEER_OUT" | head -n 3 | cut -c10-120 | paste -sd';' -)" \
        "${2:-}"
}

@test "step 1: the server binds a UDP socket and prints its real port" {
    start_server 127.0.0.1 0
    [ "$SERVER_HOST" = 127.0.0.1 ] ||
        lab_fail "the server printed host '$SERVER_HOST', expected 127.0.0.1"
    peer_ok --why "print the line after socket(AF_INET, SOCK_DGRAM, 0) and bind(), with the port from getsockname()" \
        udp-bound
}

@test "step 2: the server echoes each datagram to its sender" {
    start_server
    peer_ok --why "recvfrom() one datagram with the sender's address, then sendto() the same n bytes back to that address, in a loop" \
        udp-echo-client --message 'hello, datagram' --count 3
}

@test "step 3: datagram boundaries are kept: three sent back to back come back as three" {
    start_server
    peer_ok --why "each recvfrom() returns one datagram: send back exactly the n bytes it returned, once" \
        udp-burst --sizes 5,1,300
}

@test "step 4: replies reach the right sender when two clients interleave" {
    start_server
    peer_ok --why "reply to the address recvfrom() filled in for this datagram, not to an address saved from an earlier one (and do not connect() the server's socket)" \
        udp-two-clients --rounds 3
}

@test "step 5: a 60 000-byte datagram comes back whole" {
    start_server
    peer_ok --why "recvfrom() cuts a datagram to the buffer and drops the rest: make the buffer 65535 bytes" \
        udp-big --size 60000
}

@test "step 6: an empty datagram is echoed as an empty datagram" {
    start_server
    peer_ok --why "recvfrom() returning 0 is an empty datagram, not the end of anything: send 0 bytes back and keep going" \
        udp-empty
}

@test "step 7: the server keeps serving after odd datagrams" {
    start_server
    peer_ok --why "echo the n bytes recvfrom() returned, not a string (the data may hold '\\0'); a sendto() that fails is one client's problem: report it and carry on" \
        udp-odd
    expect_server_running "a failed reply must not end the server's loop"
}

@test "step 8: the client sends one datagram and prints the reply" {
    start_peer_server udp-echo-server
    run_client 127.0.0.1 "$PEER_PORT" hello world
    expect_client_status 0 "socket(AF_INET, SOCK_DGRAM, 0), sendto() the server, recvfrom() the reply"
    expect_peer_received '"hello world"' \
        "send the words joined by spaces, without a newline: the datagram is the message"
    expect_client_stdout 'hello world\n' \
        "print exactly the bytes recvfrom() returned, then a newline"
    printf 'from stdin\n' >"$LAB_TMP/line"
    LAB_STDIN=$LAB_TMP/line run_client 127.0.0.1 "$PEER_PORT"
    expect_client_status 0
    expect_peer_received '"from stdin"' \
        "without words, send one line of standard input without its newline"
    expect_client_stdout 'from stdin\n'
}

@test "step 9: the client gives up with 'timed out' when nobody answers" {
    LAB_CALL_TIMEOUT=4 # a client without a timeout is stopped here
    start_peer_server udp-silent
    run_client_timed --timeout 1.5 127.0.0.1 "$PEER_PORT" anyone there
    expect_client_status 1 \
        "set SO_RCVTIMEO to the timeout before recvfrom(); it then fails with EAGAIN or EWOULDBLOCK when the time is up"
    expect_client_error "^client: recvfrom 127\.0\.0\.1:$PEER_PORT: timed out$" \
        "print one line, client: recvfrom HOST:PORT: timed out (strerror(EAGAIN) would say 'Resource temporarily unavailable')"
    expect_client_elapsed 1.4 3.5 "wait --timeout seconds for the reply, no less and not much more"
    local longer=$CLIENT_CENTIS
    run_client_timed --timeout 0.4 127.0.0.1 "$PEER_PORT" anyone there
    expect_client_status 1
    expect_client_elapsed 0.35 2.5 "wait --timeout seconds for the reply, no less and not much more"
    expect_timeout_used "$longer" 0.6 "set SO_RCVTIMEO from --timeout (seconds and microseconds in a struct timeval), not a time of your own"
}

@test "step 10: the client ignores datagrams that do not come from the server" {
    start_peer_server udp-echo-server --stranger 'not your reply'
    run_client --timeout 2 127.0.0.1 "$PEER_PORT" the real reply
    expect_client_status 0
    expect_client_stdout 'the real reply\n' \
        "anyone can send to your port: compare the address recvfrom() gives (sin_addr and sin_port) with the server's, and wait again when they differ"
}

@test "step 11: end to end, the client gets its echo and the server stops on SIGTERM" {
    start_server
    run_client --timeout 2 "$SERVER_HOST" "$SERVER_PORT" end to end
    expect_client_status 0
    expect_client_stdout 'end to end\n'
    expect_server_running "a UDP server has no client to finish with: it serves until it is stopped"
    kill -TERM "$SERVER_PID"
    wait_server_exit 2
    expect_server_status 0 "SIGTERM interrupts recvfrom() (EINTR); then leave the loop and return 0"
}
