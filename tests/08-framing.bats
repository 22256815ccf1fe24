#!/usr/bin/env bats
# Lesson 08: framing. One @test per step of lessons/08-framing/README.md.
#
# Steps 1-5 drive the framed echo server with harness clients: whole
# frames (byte order), frames cut up every way (the recv_all pitfall),
# end-of-file in the middle of a frame, absurd lengths (refused, not
# allocated: the server's VmRSS is watched), and a storm of SIGUSR1 at
# every thread while frames go both ways (EINTR, short sends). Steps 6-7
# put the client against a harness server that answers in 1-byte pieces,
# with an absurd length, or cut short; step 8 runs the two together.

setup() {
    load 'lib/common'
    lab_setup
}

teardown() {
    lab_teardown
}

# Send SIGUSR1 to every thread of the server every 10 ms, for at most 15
# s, until stop_signal_storm; return once the first round has gone out, so
# the peers that follow run in the storm even on a busy machine. (The
# pace is not a synchronisation: the peers wait for their answers.)
start_signal_storm() {
    LAB_REPRO+=("while :; do kill -USR1 \$(ls /proc/\$(pgrep -n server)/task); sleep 0.01; done &")
    mkfifo "$LAB_TMP/storm.pace"
    setsid bash -c 'end=$((SECONDS + 15))
        exec 5<>"$3" # read -t on a silent fifo: a pause without a fork
        while [ "$SECONDS" -lt "$end" ] && [ ! -e "$1" ]; do
            for t in /proc/"$2"/task/*; do kill -USR1 "${t##*/}" 2>/dev/null; done
            [ -e "$1.started" ] || : >"$1.started"
            read -rt 0.01 -u 5 # the pace of the storm
        done' storm "$LAB_TMP/storm.stop" "$SERVER_PID" "$LAB_TMP/storm.pace" \
        </dev/null >/dev/null 2>&1 3>&- 219>&- &
    STORM_PID=$!
    LAB_PGIDS+=("$STORM_PID")
    lab_wait_for '[ -e "$LAB_TMP/storm.stop.started" ]' 5 ||
        lab_fail "the signal storm did not start within 5 s (a harness problem)"
}

# End the signal storm and wait until it is over.
stop_signal_storm() {
    : >"$LAB_TMP/storm.stop"
    lab_wait_gone "$STORM_PID"
}

@test "step 1: the server echoes frames back framed, length in network byte order" {
    start_server
    LAB_CALL_TIMEOUT=3 peer_ok --why "read the 4-byte length, convert it with ntohl(), read that many bytes, then send the length back with htonl() and the payload after it. A length read or sent without the conversion is the wrong number (5 becomes 83886080)" \
        frame-echo
}

@test "step 2: the recv_all pitfall: frames a byte at a time, empty, several in one segment, 1 MiB" {
    start_server
    peer_ok --why "one recv() returns what has arrived, maybe 1 byte: recv_all() must call recv() again until all len bytes are in" \
        frame-dribble
    LAB_CALL_TIMEOUT=3 peer_ok --why "an empty frame (length 0) has no payload to receive, but recv() asked for 0 bytes waits for the next bytes to arrive: recv_all()'s loop (while got < len) never calls it" \
        frame-echo --frame '' --frame 'after an empty frame'
    peer_ok --why "several frames can arrive in one segment: read exactly 4 bytes of header, then exactly the length it says, never 'whatever recv() returns'" \
        frame-pair
    peer_ok --why "a 1 MiB frame arrives in many pieces: recv_all() loops until all of it is in; allocate the length (it is under the limit), not a fixed small buffer" \
        frame-big --size 1048576
}

@test "step 3: end-of-file in the middle of a frame closes that client; the others are served" {
    start_server
    peer_ok --why "recv() returning 0 is end-of-file: recv_all() must stop and return what it got (a loop that ignores 0 spins for ever); then read_frame() returns -1 for a frame cut short, 0 for an end between frames, and the connection is closed" \
        frame-cut
    expect_server_running "a client that leaves in the middle of a frame ends only its own session"
    expect_server_error 'middle of a frame' \
        "a frame cut short is worth one line on stderr (recv_part() prints it when recv_all() returns fewer bytes than asked)"
    peer_ok --why "after a client left in the middle of a frame, new clients must be served as before" \
        frame-echo
}

@test "step 4: a length over the limit is refused: a clear error, no allocation, the others served" {
    start_server
    peer_ok --why "check the length against MAX_FRAME right after ntohl(), before malloc(): print one line and close the connection" \
        frame-huge --length 0xFFFFFFF0 --pid "$SERVER_PID"
    expect_server_error '4294967280.*1049600|1049600.*4294967280' \
        "say why the connection is closed: the length received (4294967280) and the limit (MAX_FRAME, 1049600), on one line"
    peer_ok --why "a length of 256 MiB is allocatable, and still absurd: refuse it before allocating, instead of taking megabytes of its payload" \
        frame-huge --length 0x10000000 --stream 33554432 --pid "$SERVER_PID"
    peer_ok --why "a frame of exactly MAX_FRAME bytes (1049600) is allowed: refuse only a length over the limit (>, not >=)" \
        frame-big --size 1049600
    expect_server_running "a refused frame closes that connection, never the server"
    peer_ok --why "after refusing an absurd length, the server must serve the next client as before" \
        frame-echo
}

@test "step 5: a storm of signals loses no byte: recv_all retries after EINTR, send_all sends the rest" {
    start_server
    start_signal_storm
    # 20 ms between bytes: the server waits in recv() long enough for the
    # storm (every 10 ms) to find it there, even when a busy machine is
    # slow to run it (at 5 ms, its bytes were often waiting already).
    LAB_CALL_TIMEOUT=8 peer_ok --why "a signal makes a waiting recv() fail with EINTR: nothing was lost, call it again (recv_all, step 2)" \
        frame-dribble --frames 2 --gap 0.02
    LAB_CALL_TIMEOUT=8 peer_ok --why "a signal cuts a send() that is waiting for room short: it returns how many bytes it took, fewer than asked; send_all() must send the rest (and retry after EINTR)" \
        frame-big --size 1048576 --frames 6 --slow-read
    stop_signal_storm
    expect_server_running "SIGUSR1 only prints a status line; it must not end the server"
    kill -USR1 "$SERVER_PID"
    local i
    for ((i = 0; i < 100; i++)); do
        grep -Eq '^server: [0-9]+ frames echoed$' "$LAB_TMP/server.out" && return 0
        sleep 0.02 # polling for the status line, with a deadline
    done
    lab_fail "no line 'server: N frames echoed' on stdout 2 s after SIGUSR1" \
        "the SIGUSR1 handler of setup_signals() prints it; keep it installed"
}

@test "step 6: the client sends each message as a frame and prints each answer, read in pieces" {
    start_peer_server frame-server --piece 1
    run_client 127.0.0.1 "$PEER_PORT" hello '' 'a third message, longer than the others'
    if [ "$status" -ne 0 ] || ! cmp -s <(printf 'hello\n\na third message, longer than the others\n') "$CLIENT_OUT"; then
        lab_fail "the client did not print the three answers
  expected \"hello\\n\\na third message, longer than the others\\n\"
  printed  $(lab_escape_file "$CLIENT_OUT")
  the harness server said: $(tail -n 3 "$PEER_OUT" | tr '\n' ' ')" \
            "send each message with its 4-byte length (htonl) first; the answer comes 1 byte per segment, so read its header and payload with a recv_all() that loops, convert the length with ntohl(), then print the payload and a newline"
    fi
    expect_client_status 0
}

@test "step 7: the client refuses an absurd length and a frame cut short: a clear error, exit 1" {
    start_peer_server frame-server --answer huge
    LAB_CALL_TIMEOUT=3 run_client 127.0.0.1 "$PEER_PORT" hello
    expect_client_status 1 "a length over MAX_FRAME is an error: print one line and exit 1, without allocating it or waiting for its bytes"
    expect_client_error '4294967280.*1049600|1049600.*4294967280' \
        "say what came and what the limit is: the length received (4294967280) and MAX_FRAME (1049600), on one line"
    start_peer_server frame-server --answer cut
    LAB_CALL_TIMEOUT=3 run_client 127.0.0.1 "$PEER_PORT" hello
    expect_client_status 1 "the server closed the connection in the middle of a frame: recv_all() returns fewer bytes than asked, and that is an error"
    expect_client_error 'middle of a frame' \
        "recv_part() reports a frame cut short when recv_all() stops at end-of-file"
}

@test "step 8: end to end: lines of stdin, one of 1 MiB, come back as they went" {
    start_server
    "$LAB_PYTHON" -S -c 'import sys
sys.stdout.write("first line\n\n" + "0123456789abcdef" * 65536 + "\nlast line\n")' \
        >"$LAB_TMP/input"
    LAB_STDIN=$LAB_TMP/input run_client "$SERVER_HOST" "$SERVER_PORT"
    expect_client_status 0 "each line of stdin is one frame; the client sends it and prints the answer's payload and a newline"
    if ! cmp -s "$LAB_TMP/input" "$CLIENT_OUT"; then
        lab_fail "the client's output differs from its input: $(cmp "$LAB_TMP/input" "$CLIENT_OUT" 2>&1 | head -n 1)
  printed $(lab_escape_file "$CLIENT_OUT")" \
            "a 1 MiB line is one frame of 1048576 bytes: both sides must send and receive all of it (send_all, recv_all)"
    fi
    expect_server_running "the client's end ends its session only; the server keeps running"
}
