#!/usr/bin/env bats
# Lesson 05: timeouts. One @test per step of lessons/05-timeouts/README.md.
# The client meets the servers of tests/harness/peers_timeouts.py that make
# it wait; the server meets the idle-check peer; step 4 puts them together.
# Each step also checks the behaviour a timeout must not break (a prompt
# or slow server, an active client), so that a program without timeouts
# fails every step and one that times out too eagerly fails too.

setup() {
    load 'lib/common'
    lab_setup
}

teardown() {
    lab_teardown
}

# Run the idle-check peer against the server with --idle $1 (peer_ok,
# with the likely cause $2) and read its report (PEER_OUTPUT): sets
# IDLE_CENTIS to how long the idle client was silent before it was
# dropped, in 1/100 s, and writes its HOST:PORT to $LAB_TMP/idle-client.
idle_check_timed() {
    peer_ok --why "$2" idle-check --idle "$1" --report "$LAB_TMP/idle-client"
    [[ $PEER_OUTPUT =~ dropped\ after\ ([0-9]+\.[0-9]+)\ s ]] ||
        lab_fail "the idle-check peer did not say when it was dropped: $PEER_OUTPUT"
    IDLE_CENTIS=$(lab_centis "${BASH_REMATCH[1]}")
}

@test "step 1: with --timeout, the client waits for a slow echo but gives up on a silent server" {
    LAB_CALL_TIMEOUT=2 # a client without a timeout is stopped here
    start_peer_server echo-server
    run_client --timeout 1 127.0.0.1 "$PEER_PORT" prompt
    expect_client_status 0
    expect_client_stdout 'prompt\n'
    start_peer_server slow-server --delay 0.5
    run_client_timed --timeout 1.5 127.0.0.1 "$PEER_PORT" slow but in time
    expect_client_status 0 "a reply that comes before the timeout is not a timeout: wait up to the whole --timeout"
    expect_client_stdout 'slow but in time\n'
    start_peer_server silent-server
    LAB_CALL_TIMEOUT=4 run_client_timed --timeout 1.5 127.0.0.1 "$PEER_PORT" anyone there
    expect_client_status 1 \
        "before each recv(), poll() the socket for POLLIN with the timeout in milliseconds; poll() returning 0 means the time is up"
    expect_client_error "^client: recv 127\.0\.0\.1:$PEER_PORT: timed out$" \
        "print one line, client: recv HOST:PORT: timed out, and return 1"
    expect_client_elapsed 1.4 3.5 "wait --timeout seconds for the echo, no less and not much more"
    local longer=$CLIENT_CENTIS
    run_client_timed --timeout 0.4 127.0.0.1 "$PEER_PORT" anyone there
    expect_client_status 1
    expect_client_elapsed 0.35 2.5 "wait --timeout seconds for the echo, no less and not much more"
    expect_timeout_used "$longer" 0.6 "poll() with --timeout in milliseconds, not a time of your own"
}

@test "step 2: with --timeout, the client's connect gives up on a full accept backlog" {
    LAB_CALL_TIMEOUT=4 # a blocking connect waits here for minutes
    start_peer_server backlog-full
    run_client_timed --timeout 1.5 127.0.0.1 "$PEER_PORT" hello
    expect_client_status 1 \
        "set O_NONBLOCK with fcntl(), connect() (it fails with EINPROGRESS), then poll() for POLLOUT with the timeout; 0 means the time is up"
    expect_client_error "^client: connect 127\.0\.0\.1:$PEER_PORT: timed out$" \
        "print one line, client: connect HOST:PORT: timed out, and return 1"
    expect_client_elapsed 1.4 3.5 "wait --timeout seconds for the connection, no less and not much more"
    local longer=$CLIENT_CENTIS
    run_client_timed --timeout 0.4 127.0.0.1 "$PEER_PORT" hello
    expect_client_status 1
    expect_client_elapsed 0.35 2.5 "wait --timeout seconds for the connection, no less and not much more"
    expect_timeout_used "$longer" 0.6 "poll() for the connection with --timeout in milliseconds, not a time of your own"
    port=$(free_port)
    run_client --timeout 1 127.0.0.1 "$port" anyone home
    expect_client_status 1 \
        "a writable socket means the connect is over, not that it worked: getsockopt(SO_ERROR) says how it ended"
    expect_client_error "^client: connect 127\.0\.0\.1:$port: Connection refused$" \
        "when SO_ERROR is not 0, set errno to it and report connect"
}

@test "step 3: with --idle, the server drops a silent client, never an active one, and serves the rest" {
    local why="set SO_RCVTIMEO to the idle time on each accepted socket; when recv() fails with EAGAIN or EWOULDBLOCK the client was silent that long: print the line, close it, end its thread"
    start_server --idle 1 127.0.0.1 0
    idle_check_timed 1 "$why"
    idle_client=$(cat "$LAB_TMP/idle-client")
    wait_server_line "^dropped idle client ${idle_client//./\\.}$" 2 \
        "print 'dropped idle client IP:PORT' (the client's address) on stdout, and flush it"
    expect_server_running "dropping one client must not stop the server"
    local longer=$IDLE_CENTIS
    start_server --idle 0.4 127.0.0.1 0
    idle_check_timed 0.4 "$why"
    [ $((longer - IDLE_CENTIS)) -ge 30 ] ||
        lab_fail "with --idle 0.4 the server dropped the silent client after $((IDLE_CENTIS / 100)).$(printf '%02d' $((IDLE_CENTIS % 100))) s, not 0.3 s sooner than with --idle 1 ($((longer / 100)).$(printf '%02d' $((longer % 100))) s)" \
            "turn idle_limit, the --idle the user gives (a fraction of a second too), into the struct timeval of SO_RCVTIMEO; not a time of your own"
}

@test "step 4: end to end, the client gets its echo and hears when the server drops it" {
    start_server --idle 1 127.0.0.1 0
    run_client --timeout 2 "$SERVER_HOST" "$SERVER_PORT" end to end
    expect_client_status 0
    expect_client_stdout 'end to end\n'
    # A person types a line, then nothing for longer than --idle, then a
    # second line, which the server can no longer answer.
    start_client --timeout 2 "$SERVER_HOST" "$SERVER_PORT"
    client_type 'first line\n'
    wait_client_stdout 'first line\n' 3
    wait_server_line '^dropped idle client 127\.0\.0\.1:[0-9]+$' 3 \
        "the server, run with --idle 1, should drop the client 1 s after its first line"
    client_type 'second line\n'
    wait_client_exit 3 "the connection is closed, so the echo of the second line never comes: recv() returns 0"
    expect_client_status 1 "say that the server closed the connection and return 1"
    expect_client_error "^client: .*127\.0\.0\.1:$SERVER_PORT.*(closed the connection|Connection reset by peer|Broken pipe)" \
        "say in one line that the server closed the connection"
    expect_client_stdout 'first line\n'
}
