#!/usr/bin/env bats
# Lesson 02: echo repeat. One @test per step of lessons/02-echo-repeat/README.md.

setup() {
    load 'lib/common'
    lab_setup
}

teardown() {
    lab_teardown
}

# Wait up to 1 s for the server to exit after its client left ($1 says
# how); sets SERVER_STATUS, or fails saying how much CPU it burnt meanwhile
# (a server that spins on end-of-file never exits).
expect_exit_within_1s() {
    local ticks
    server_exited_within 1 && return 0
    ticks=$(proc_cpu_ticks "$SERVER_PID") || ticks='?'
    local spin=''
    [[ $ticks =~ ^[0-9]+$ ]] && [ "$ticks" -gt 20 ] && spin=": it is spinning"
    lab_fail "$1, and 1 s later the server was still running (it had used ${ticks:-?} CPU ticks of 1/100 s$spin)" \
        "recv() returning 0 means end-of-file: the client has gone and nothing more will come. End the session there; a loop that goes on calls recv() forever and burns the CPU (a server that echoes b'' for ever)"
}

@test "step 1: the server echoes many messages in order on one connection" {
    start_server
    peer_ok --why "loop: recv() what has come, send_all() exactly the n bytes recv() returned back (not sizeof buf, not strlen), and recv() again on the same accepted socket; do not close after the first message" \
        echo-client --count 20
}

@test "step 2: a message written one byte at a time comes back whole" {
    start_server
    peer_ok --why "each recv() may return a single byte: echo whatever came and go back to recv(); never assume one recv() is one message" \
        byte-sender --message 'sent one byte at a time, still one line\n'
}

@test "step 3: a 1 MiB line comes back intact" {
    start_server
    peer_ok --why "a line can be far longer than your buffer: echo each chunk as it arrives (send_all() loops until every byte is sent) instead of waiting for the newline in a fixed buffer" \
        long-line --size 1048576 --then 'still there?\n'
}

@test "step 4: a bye line ends the session and the server exits 0" {
    start_server
    peer_ok --why "bye can arrive in the same recv() as other lines: look for a line that is exactly bye, echo up to its newline, then close" \
        echo-client --message 'last words\nbye\n' --expect-close
    wait_server_exit 2
    expect_server_status 0 "after bye, close the connection and the listener and return 0 from main"

    start_server
    peer_ok --why "a line is bye only when it is exactly 'bye' (or 'bye\\r', as nc -C and telnet send it) from one newline to the next, however recv() cut it up: carry the start of the line over from one recv() to the next. 'goodbye' and 'bye now' are not bye" \
        byte-sender --lockstep --message 'goodbye\nbye now\nbye\r\n' --expect-close
    wait_server_exit 2
    expect_server_status 0 "after bye, close the connection and the listener and return 0 from main"
}

@test "step 5: a client that leaves without bye ends the session within 1 s" {
    start_server
    peer_ok echo-client --count 3
    expect_exit_within_1s "the client sent 3 lines and hung up without bye"
    expect_server_status 0 "a client hanging up is a normal end of the session: close the connection and the listener and return 0"

    start_server
    peer_ok reset --message 'half a mess'
    expect_exit_within_1s "the client sent half a line and reset the connection"
    expect_server_status 0 "a client that resets the connection has gone, like one that hangs up: recv() or send() fails with ECONNRESET; end the session (client_gone()) and return 0"

    start_server
    peer_ok vanish --count 1 --size 16384
    expect_exit_within_1s "the client sent 16 KiB and left without reading the echo"
    expect_server_status 0 "a client that left before its echo has gone: send() fails with EPIPE; end the session (client_gone()) and return 0"
}

@test "step 6: the client sends each stdin line, prints each echo and stops at bye" {
    start_peer_server echo-server
    printf 'one\ntwo\nbye\nnot sent\n' >"$LAB_TMP/input"
    LAB_STDIN=$LAB_TMP/input run_client 127.0.0.1 "$PEER_PORT"
    expect_client_status 0 "read lines with getline() until bye or the end of input; return 0"
    expect_client_stdout 'one\ntwo\nbye\n' \
        "for each line of stdin: send it, print its echo; after the echo of bye, stop"
    lab_wait_gone "$PEER_PID" || true # it has reported once it is gone
    if grep -q 'not sent' "$PEER_OUT"; then
        lab_fail "the client sent the line after bye: $(tail -n 2 "$PEER_OUT")" \
            "stop reading stdin once you have sent bye"
    fi

    start_peer_server echo-server
    printf 'first\nsecond\n' >"$LAB_TMP/input"
    LAB_STDIN=$LAB_TMP/input run_client 127.0.0.1 "$PEER_PORT"
    expect_client_status 0 "when stdin ends without bye, close the socket and return 0"
    expect_client_stdout 'first\nsecond\n' \
        "for each line of stdin: send it, then print its echo"
}

@test "step 7: the client reassembles an echo that arrives in pieces" {
    start_peer_server echo-server --fragment 4 --gap 0.03
    printf 'it comes back\nin small pieces\nbye\n' >"$LAB_TMP/input"
    LAB_STDIN=$LAB_TMP/input run_client 127.0.0.1 "$PEER_PORT"
    expect_client_status 0
    expect_client_stdout 'it comes back\nin small pieces\nbye\n' \
        "one recv() returns what has arrived so far, here 4 bytes: keep calling recv() and printing until the newline has come"
}

@test "step 8: a Python client that sends messages without a newline works with the server" {
    start_server
    peer_ok --why "this client sends 'hello' with no newline, waits for its echo, then sends the next message on the same connection: echo bytes as they arrive (do not wait for a newline) and keep the session going (step 1)" \
        plain-client --messages 'hello,how are you?,bye'
    # It sends 'bye' with no newline and closes without reading its
    # echo: the server sees end-of-file, or a reset if the echo was back.
    wait_server_exit 2
    expect_server_status 0 "this client ends by closing the connection (its 'bye' has no newline): that is a normal end of the session"
    # It waits for each echo before it sends the next message, so each
    # message is one recv() on the server's side.
    local got
    got=$(grep -E '^received ' "$LAB_TMP/server.out" | paste -sd'|' -)
    [ "$got" = 'received 5 bytes|received 12 bytes|received 3 bytes' ] ||
        lab_fail "for messages of 5, 12 and 3 bytes the server logged: ${got:-nothing}" \
            "after each recv(), print received N bytes with the n recv() returned (not sizeof buf)"
    if grep -q 'said bye' "$LAB_TMP/server.out"; then
        lab_fail "the server logged that the client said bye, but its 'bye' had no newline and it hung up" \
            "a bye line is bye and its newline; log how the session really ended: the client hung up (or went away)"
    fi
}

@test "step 9: end to end, a whole conversation between client and server" {
    start_server
    printf 'hello\nthis is a longer line, still one message\nbye\n' >"$LAB_TMP/input"
    LAB_STDIN=$LAB_TMP/input run_client "$SERVER_HOST" "$SERVER_PORT"
    expect_client_status 0
    expect_client_stdout 'hello\nthis is a longer line, still one message\nbye\n'
    wait_server_exit 2
    expect_server_status 0
}
