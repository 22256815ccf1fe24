#!/usr/bin/env bats
# The commands lessons/08-framing/README.md shows, run against the built
# solutions: the client with messages and with stdin, nc with printf'd
# frames (a good one, an absurd length, a frame cut short), SIGUSR1, and
# the Python counterparts against the C programs both ways.

setup() {
    LAB_IMPL=solutions
    load '../lib/common'
    lab_setup
    LESSON_DIR=$LAB_ROOT/lessons/08-framing
    BIN=$LAB_BIN_DIR/08-framing
}

teardown() {
    lab_teardown
}

# Wait up to 2 s for a line matching regex $2 in file $1.
wait_line() {
    local i
    for ((i = 0; i < 100; i++)); do
        grep -Eq -- "$2" "$1" && return 0
        sleep 0.02 # polling for the line, with a deadline
    done
    echo "no line matching '$2' in $1:" >&2
    cat "$1" >&2
    return 1
}

@test "the client sends messages and stdin lines; empty messages too" {
    start_server
    timeout 5 "$BIN/client" "$SERVER_HOST" "$SERVER_PORT" hello 'two words' '' \
        >"$LAB_TMP/out"
    cmp "$LAB_TMP/out" <(printf 'hello\ntwo words\n\n')
    run bash -c 'printf "one\ntwo\n" | timeout 5 "$1" "$2" "$3"' _ \
        "$BIN/client" "$SERVER_HOST" "$SERVER_PORT"
    [ "$status" -eq 0 ]
    [ "$output" = $'one\ntwo' ]
}

@test "nc with printf: a frame comes back framed; hostile frames are reported" {
    command -v nc >/dev/null || skip "nc (netcat-openbsd) is not installed"
    start_server
    run bash -c 'printf "\0\0\0\5hello" | timeout 5 nc -N "$1" "$2" | od -An -c' _ \
        "$SERVER_HOST" "$SERVER_PORT"
    [ "$status" -eq 0 ]
    [[ $output =~ \\0\ +\\0\ +\\0\ +005\ +h\ +e\ +l\ +l\ +o ]]
    printf '\377\377\377\360' | timeout 5 nc -N "$SERVER_HOST" "$SERVER_PORT"
    printf '\0\0\0\144only ten b' | timeout 5 nc -N "$SERVER_HOST" "$SERVER_PORT"
    wait_line "$LAB_TMP/server.err" 'sent a frame length of 4294967280 bytes, over the limit of 1049600: closing the connection$'
    wait_line "$LAB_TMP/server.err" 'closed the connection in the middle of a frame \(10 of 100 bytes of its payload\)$'
    kill -USR1 "$SERVER_PID"
    wait_line "$LAB_TMP/server.out" '^server: 1 frames echoed$'
}

@test "client.py talks to the C server, the C client to server.py" {
    start_server
    timeout 5 "$LAB_PYTHON" "$LESSON_DIR/client.py" "$SERVER_HOST" "$SERVER_PORT" \
        'from python' '' >"$LAB_TMP/out"
    cmp "$LAB_TMP/out" <(printf 'from python\n\n')
    run bash -c 'printf "a\nb\n" | timeout 5 "$1" "$2" "$3" "$4"' _ \
        "$LAB_PYTHON" "$LESSON_DIR/client.py" "$SERVER_HOST" "$SERVER_PORT"
    [ "$output" = $'a\nb' ]

    setsid timeout 60 "$LAB_PYTHON" "$LESSON_DIR/server.py" 127.0.0.1 0 \
        </dev/null >"$LAB_TMP/py.out" 2>"$LAB_TMP/py.err" 3>&- &
    LAB_PGIDS+=("$!")
    LAB_LISTEN_TIMEOUT=10 lab_wait_listening "$LAB_TMP/py.out" "$!" "server.py" || { cat "$LAB_TMP/py.err" "$LAB_TMP/py.out" >&2; false; }
    run timeout 5 "$BIN/client" 127.0.0.1 "$LAB_LISTEN_PORT" 'to python'
    [ "$status" -eq 0 ]
    [ "$output" = 'to python' ]
    printf '\377\377\377\360' | timeout 5 "$LAB_PYTHON" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(sys.stdin.buffer.read())
s.shutdown(socket.SHUT_WR); s.recv(1)' "$LAB_LISTEN_PORT" || true
    wait_line "$LAB_TMP/py.err" 'sent a frame length of 4294967280 bytes, over the limit of 1049600'
}

@test "bad usage: a usage line, exit 2" {
    run timeout 5 "$BIN/server" -x
    [ "$status" -eq 2 ]
    [[ $output == *"usage: server [HOST [PORT]]"* ]]
    run timeout 5 "$BIN/client" --nope
    [ "$status" -eq 2 ]
    [[ $output == *"usage: client [HOST [PORT]] [MESSAGE...]"* ]]
}
