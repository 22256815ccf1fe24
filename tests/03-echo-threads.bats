#!/usr/bin/env bats
# Lesson 03: echo threads. One @test per step of lessons/03-echo-threads/README.md.

setup() {
    load 'lib/common'
    load 'lib/lessons-core'
    lab_setup
}

teardown() {
    lab_teardown
}

@test "step 1: a second client is served while the first stays connected" {
    start_server
    lab_start_holder "the first client must get its echo: accept() it and echo in its own thread" hold --timeout 60 --message 'first client, staying on\n'
    peer_ok --why "the server is still busy with the first client, which has not left: accept() in a loop and give each client a thread of its own (pthread_create), so the main thread is back in accept() at once" \
        echo-client --message 'second client, served meanwhile\n' --bye
    expect_server_running "the server must keep running after a client leaves"
}

@test "step 2: 20 clients talking at once all get their own echoes" {
    start_server
    LAB_CALL_TIMEOUT=10 peer_ok --why "each thread needs its own socket, buffer and line state: give each one its own malloc()ed struct client (not the address of a variable the next accept() overwrites), and no static or global buffers, which mix clients' bytes; after bye, close that client's socket, only that one" \
        swarm --clients 20 --count 5 --size 65536 --bye
    expect_server_running "a client saying bye ends its own session, not the server"
}

@test "step 3: a stalled client blocks nobody" {
    start_server
    start_peer_client hold --timeout 60 --partial 'half a li'
    start_peer_client hold --timeout 60
    peer_ok --why "two clients are connected and silent, one in the middle of a line: their threads wait in recv(), and nobody else should wait with them" \
        echo-client --count 3 --bye
    expect_server_running
}

@test "step 4: 500 short connections leave no fd and no thread behind" {
    start_server
    local fds threads
    fds=$(proc_fd_count "$SERVER_PID")
    threads=$(proc_thread_count "$SERVER_PID")
    LAB_CALL_TIMEOUT=12 peer_ok --why "every one of 500 clients, one after another, must be served. If the server could make no more threads (pthread_create: Resource temporarily unavailable), the old ones are still holding on: create each thread detached, so its stack is freed when it returns, and make sure it returns when its client hangs up (recv() returning 0)" \
        churn --count 500
    # The threads of the last clients may still be finishing: up to 3 s.
    lab_wait_for '[ "$(proc_fd_count "$SERVER_PID")" -le "$fds" ] &&
        [ "$(proc_thread_count "$SERVER_PID")" -le "$threads" ]' 3 || true
    expect_server_running
    local fds_now threads_now
    fds_now=$(proc_fd_count "$SERVER_PID")
    threads_now=$(proc_thread_count "$SERVER_PID")
    if [ "$fds_now" -gt "$fds" ]; then
        lab_fail "after 500 short connections the server has $fds_now open file descriptors (/proc/$SERVER_PID/fd), $fds before them" \
            "when a client's session ends, its thread must close() the client's socket"
    fi
    if [ "$threads_now" -gt "$threads" ]; then
        lab_fail "after 500 short connections the server has $threads_now threads (/proc/$SERVER_PID/task), $threads before them" \
            "a client's thread must return when its session ends: on recv() returning 0 (the client hung up) as well as on bye"
    fi
}

@test "step 5: clients that vanish mid-message do not kill the server" {
    start_server
    peer_ok --why "a client reset the connection in the middle of a line: that client's thread gets an error from recv() or send(); it should report it and end, and the rest of the server carry on" \
        reset --message 'half a mess'
    peer_ok --why "clients sent 16 KiB and left without reading the echo: the server's send() fails with EPIPE (and raises SIGPIPE unless it is ignored); only that client's thread should end" \
        vanish --count 5 --size 16384
    expect_server_running "writing to a connection the client has reset raises SIGPIPE, which kills the whole process by default: ignore it (sigaction with SIG_IGN) or pass MSG_NOSIGNAL to send(), and let only that client's thread end"
    peer_ok --why "after a client vanished, the server must still serve the others" \
        echo-client --message 'anyone still there?\n' --bye
    expect_server_running
}

@test "step 6: SIGTERM ends the server with status 0 within 1 s" {
    start_server
    lab_start_holder "a client must get its echo before the SIGTERM" hold --timeout 60 --message 'connected when the server stops\n'
    start_peer_client hold --timeout 60 --partial 'half a li'
    kill -TERM "$SERVER_PID"
    if ! server_exited_within 1; then
        lab_fail "the server was sent SIGTERM with two clients connected, and 1 s later it was still running" \
            "in the SIGTERM handler set a flag and shutdown() the listening socket, so accept() fails at once; then leave the accept loop and return 0 (do not wait for clients that may never leave)"
    fi
    expect_server_status 0 "catch SIGTERM with sigaction(): by default it kills the server (signal 15) instead of letting it close and return 0"
}

@test "step 7: end to end, two clients at once, each logged under its own address" {
    start_server
    client=("$LAB_PYTHON" "$LAB_ROOT/lessons/$LESSON/client.py" "$SERVER_HOST" "$SERVER_PORT")
    # The first client's stdin: a fifo a sleeping writer holds open.
    # (opened read-write here first, so no open waits and nothing typed is lost)
    mkfifo "$LAB_TMP/first.in"
    exec {hold}<>"$LAB_TMP/first.in"
    setsid sleep 15 >&"$hold" </dev/null 3>&- &
    LAB_PGIDS+=($!)
    exec {hold}>&-
    LAB_REPRO+=("python3 lessons/$LESSON/client.py $SERVER_HOST $SERVER_PORT    # type: first client here")
    setsid timeout -k 1 10 "${client[@]}" <"$LAB_TMP/first.in" >"$LAB_TMP/first.out" 2>&1 3>&- &
    LAB_PGIDS+=($!)
    first=$!
    printf 'first client here\n' 1<>"$LAB_TMP/first.in"
    lab_wait_for "grep -qx 'first client here' '$LAB_TMP/first.out'" 3 ||
        lab_fail "the first client got no echo of its line within 3 s: $(head -c 200 "$LAB_TMP/first.out")"
    LAB_REPRO+=("printf 'second client\\nbye\\n' | python3 lessons/$LESSON/client.py $SERVER_HOST $SERVER_PORT")
    run timeout 5 "${client[@]}" <<<$'second client\nbye'
    [ "$status" -eq 0 ] && [ "$output" = $'second client\nbye' ] ||
        lab_fail "a second client, while the first is connected, got $(lab_escape "$output") (status $status), expected its two echoes" \
            "the server must serve the second client while the first is still connected"
    printf 'bye\n' 1<>"$LAB_TMP/first.in"
    lab_wait_for "! kill -0 $first 2>/dev/null" 3 ||
        lab_fail "the first client sent bye and was still running 3 s later" "echo the bye line, then close that client's socket"
    local rc=0 said
    wait "$first" 2>/dev/null || rc=$?
    said=$(head -c 300 "$LAB_TMP/first.out")
    [ "$rc" -eq 0 ] && [ "$said" = $'first client here\nbye' ] ||
        lab_fail "the first client ended with status $rc after printing $(lab_escape "$said"); expected its two echoes, then status 0" \
            "a client that waited while another talked is served to the end: echo its bye too, then close its socket"
    expect_server_running "clients leaving must not stop the server"
    # The log, complete once the server has stopped: each client that
    # connected said bye under its own name.
    kill -TERM "$SERVER_PID"
    wait_server_exit 2
    local came left
    came=$(sed -n 's/^connection from //p' "$LAB_TMP/server.out" | sort)
    left=$(sed -n 's/: said bye$//p' "$LAB_TMP/server.out" | sort)
    [ "$(wc -l <<<"$came")" -eq 2 ] && [ "$came" = "$left" ] ||
        lab_fail "the server's log does not name each client that said bye under its own address:
  connection from: $(paste -sd' ' <<<"$came")
  said bye:        $(paste -sd' ' <<<"$left")" \
            "each thread prints its own client's IP:PORT: keep the name in that client's malloc()ed struct client, not in a buffer every thread shares"
}
