#!/usr/bin/env bats
# Lesson 15: the chat server. One @test per step of lessons/15-chat/README.md.
#
# Steps 1-5 drive the server with harness chat clients (peers_chat.py);
# step 6 uses the real nc and socat; step 7 a client that never reads;
# step 8 the admin socket (harness and socat); step 9 SIGINT; step 10
# counts threads while ten clients chat; step 11 runs the lesson's client.

setup() {
    load 'lib/common'
    load 'lib/lesson-15'
    lab_setup
}

teardown() {
    lab_teardown
    chat_cleanup
}

@test "step 1: a nickname is asked for; a bad or taken one gets ERR and another try" {
    start_server
    peer_ok --why "greet each connection with a line \"* ...\", take its first line as the nickname: 1-16 letters, digits, _ or - (else \"ERR bad nickname ...\"), not taken (else \"ERR nickname taken ...\"); on an error the client may send another; a good one gets \"* you are NICK\"" \
        chat-nick
}

@test "step 2: each line goes to everyone else as <nick> text, joins announced" {
    start_server
    peer_ok --why "broadcast(): enqueue the line on every named client but the sender (\"<NICK> text\"), and \"* NICK joined\" on the others when a nickname is accepted" \
        chat-room
}

@test "step 3: /who lists the nicknames online" {
    start_server
    peer_ok --why "answer /who with one line \"* online (N): nick1 nick2 ...\", every client that has a nickname and no other, to the asker only" \
        chat-who
}

@test "step 4: /quit and end-of-file leave, announced; their fds are freed" {
    start_server
    local baseline
    baseline=$(proc_fd_count "$SERVER_PID")
    peer_ok --why "/quit: queue \"* bye\", close once it is sent; whenever a named client goes (/quit, end-of-file, an error), tell the others \"* NICK left\" and free its nickname" \
        chat-quit
    wait_fd_count "$baseline" 5 \
        "every client that leaves must be close()d (step 4): count the fds in /proc/PID/fd while you test by hand"
}

@test "step 5: lines in pieces and several lines per segment are split right" {
    start_server
    peer_ok --why "TCP keeps no line boundaries: append what recv() returns to the client's own input buffer, handle every whole line in it (there may be several), keep the unfinished rest for next time, drop a \\r before the newline" \
        chat-pieces
}

@test "step 6: nc and socat are clients too" {
    command -v nc >/dev/null && command -v socat >/dev/null ||
        skip "needs nc (netcat-openbsd) and socat"
    start_server
    start_chat_peer chat-say --nick lis --line 'who else is here?' \
        --expect '* tools joined' --expect '<tools> hello from nc' \
        --expect '* tools left' --expect '* sox joined' \
        --expect '<sox> and from socat' --expect '* sox left' --timeout 8
    LAB_REPRO+=("printf 'tools\\nhello from nc\\n/who\\n/quit\\n' | nc -N 127.0.0.1 $SERVER_PORT")
    local out
    out=$(printf 'tools\nhello from nc\n/who\n/quit\n' |
        timeout -k 1 5 nc -N "$SERVER_HOST" "$SERVER_PORT" 2>&1) || true
    [[ $out == *'* you are tools'*'* online (2): '*'* bye'* ]] ||
        lab_fail "nc saw: $out
expected \"* you are tools\", a \"* online (2): ...\" line and \"* bye\"" \
            "nc sends lines as typed (all in one segment here) and ends with /quit: answer each line, and after \"* bye\" close the connection, so nc ends"
    out=$(printf 'sox\r\nand from socat\r\n' |
        timeout -k 1 5 socat -t 3 - "TCP:$SERVER_HOST:$SERVER_PORT" 2>&1) || true
    [[ $out == *'* you are sox'* ]] ||
        lab_fail "socat saw: $out
expected \"* you are sox\"" \
            "socat sends CRLF here: cut the \\r before the newline"
    wait_peer_client 6 "the nc and socat clients' lines reach the others, and their end-of-file is a leave"
}

@test "step 7: a client that never reads is dropped; the room does not wait for it" {
    start_server --queue 16384 127.0.0.1 0
    LAB_CALL_TIMEOUT=20 peer_ok --why "never block on one client: each has an output queue of at most --queue bytes; a message that would overflow it drops that client (\"* NICK dropped: too slow\" to the others) and closes it: the room goes on, memory stays bounded" \
        chat-slow --pid "$SERVER_PID"
    expect_server_running "dropping a slow client ends that client only"
}

@test "step 8: the admin socket (Unix domain, mode 0600) answers who, say, kick, stats" {
    chat_sock_dir
    start_server --admin "$SOCK_DIR/admin.sock" 127.0.0.1 0
    wait_admin_line "$SOCK_DIR/admin.sock"
    [ -S "$SOCK_DIR/admin.sock" ] ||
        lab_fail "no socket file at $SOCK_DIR/admin.sock after the server said it listens" \
            "socket(AF_UNIX, SOCK_STREAM), bind() to a sockaddr_un holding the path, listen()"
    local mode
    mode=$(stat -c %a "$SOCK_DIR/admin.sock")
    [ "$mode" = 600 ] ||
        lab_fail "the admin socket has mode $mode; expected 600 (only its owner may connect)" \
            "bind() creates the file with 0777 & ~umask: set umask(0177) around bind() (a chmod() afterwards leaves a moment open)"
    peer_ok --why "accept admin connections on the Unix socket as clients of their own kind: who -> \"online (N): ...\", say TEXT -> \"* admin: TEXT\" to all and \"ok\", kick NICK -> \"kicked NICK\" (the client told and closed), stats -> \"clients N named N messages N dropped N\", else \"ERR ...\"" \
        chat-admin --path "$SOCK_DIR/admin.sock"
    if command -v socat >/dev/null; then
        LAB_REPRO+=("printf 'stats\\n' | socat -t 2 - UNIX-CONNECT:$SOCK_DIR/admin.sock")
        local out
        out=$(printf 'stats\n' | timeout -k 1 5 socat -t 2 - "UNIX-CONNECT:$SOCK_DIR/admin.sock" 2>&1) || true
        [[ $out == clients\ * ]] ||
            lab_fail "socat on the admin socket saw: $out" \
                "answer the admin's line even when it ends its input right after"
    fi
}

@test "step 9: SIGINT says goodbye, closes every client, removes the socket, exits 0" {
    chat_sock_dir
    start_server --admin "$SOCK_DIR/admin.sock" 127.0.0.1 0
    wait_admin_line "$SOCK_DIR/admin.sock"
    start_chat_peer chat-hold --clients 3 --timeout 8
    kill -INT "$SERVER_PID"
    wait_server_exit 3
    expect_server_status 0 "catch SIGINT and SIGTERM (the handler sets a flag), let the wait end with EINTR, then clean up and return 0"
    wait_peer_client 5 "on the way out, queue a goodbye line on every client, send it, then close() every client"
    [ ! -e "$SOCK_DIR/admin.sock" ] ||
        lab_fail "the admin socket file $SOCK_DIR/admin.sock is still there after the server exited" \
            "close() does not remove a Unix socket's file: unlink() it on the way out, or the next start fails with EADDRINUSE"
}

@test "step 10: one thread serves ten clients chatting at once" {
    start_server
    start_chat_peer chat-hold --clients 10 --timeout 30
    local threads procs
    threads=$(proc_thread_count "$SERVER_PID")
    procs=$(pgrep -g "$SERVER_PID" | wc -l)
    [ "$threads" -eq 1 ] && [ "$procs" -eq 1 ] ||
        lab_fail "the server runs $procs processes and $threads threads with 10 clients in the room; expected exactly 1 and 1" \
            "one poll() loop serves every client: no pthread_create(), no fork()"
    peer_ok --why "with ten clients in the room the others must still chat" chat-room
}

@test "step 11: the client prints what the room says while you have not typed" {
    start_server
    start_client "$SERVER_HOST" "$SERVER_PORT"
    client_type 'carol\n'
    wait_client_stdout '* welcome to the chat; your nickname?\n* you are carol\n' 3 \
        "the client sends what you type and prints whatever arrives as it arrives: poll() stdin and the socket together"
    peer_ok --why "the harness client could not join" \
        chat-say --nick dave --line 'hi carol'
    wait_client_stdout '* welcome to the chat; your nickname?\n* you are carol\n* dave joined\n<dave> hi carol\n' 3 \
        "dave spoke while carol typed nothing: poll() stdin and the socket together, and print the socket's bytes when it is readable, not only after a line of input"
    client_end_input
    wait_client_exit 3 "at the end of input shutdown(SHUT_WR), print what still arrives, and return 0 when the server closes"
    expect_client_status 0
}
