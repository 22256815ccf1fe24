#!/usr/bin/env bats
# Talk mode (lab/talk.c): `talk HOST PORT [tcp|udp]`. In a script the lines
# after talk, up to and including bye (or the end of input), are the
# conversation; stdout carries exactly what the server sent and talk's own
# messages go to stderr. On a terminal: test_talk_pty.py (the last test).

setup() {
    load 'helpers'
    load 'session'
    lab_repl_setup
}

teardown() {
    lab_repl_teardown
}

# Run the script $1; output is the lab's stdout, $ERR its stderr.
talk_script() {
    ERR=$BATS_TEST_TMPDIR/talk.err
    PG_STDERR=$ERR pg_script "$1"
}

# Fail unless the lab's stderr (from talk_script) has a line matching $1.
expect_err() {
    grep -qE -- "$1" "$ERR" && return 0
    echo "stderr has no line matching /$1/; it was:" >&2
    cat "$ERR" >&2
    return 1
}

# Build and start the lesson 02 reference server (echo lines until bye,
# then close); sets SERVER_PID and SERVER_PORT.
start_lesson02_server() {
    make -C "$LAB_ROOT" -s build/solutions/02-echo-repeat/server >&2 || return 1
    setsid "$LAB_ROOT/build/solutions/02-echo-repeat/server" 127.0.0.1 0 \
        </dev/null >"$BATS_TEST_TMPDIR/server.out" \
        2>"$BATS_TEST_TMPDIR/server.err" 3>&- &
    SERVER_PID=$!
    LAB_PGIDS+=("$SERVER_PID")
    lab_wait_listening "$BATS_TEST_TMPDIR/server.out" "$SERVER_PID" \
        "lesson 02 server" || return 1
    SERVER_PORT=$LAB_LISTEN_PORT
}

# ---------------------------------------------------------------- TCP

@test "each line goes out with its newline; stdout is exactly what the server sent; end of input half-closes" {
    start_peer_server push-server --greet 'welcome\n' --trailer 'that was all\n'
    talk_script "talk 127.0.0.1 $PEER_PORT
hello
world"
    [ "$status" -eq 0 ]
    [ "$output" = $'welcome\nhello\nworld\nthat was all' ] || {
        echo "stdout was: $(lab_escape "$output")" >&2
        return 1
    }
    expect_err "^talk: connected to 127\.0\.0\.1:$PEER_PORT over tcp$"
    expect_err '^talk: end of input: shutdown\(SHUT_WR\) sent'
    expect_err '^talk: the server closed the connection$'
    expect_err '^talk: closed; 2 lines sent, 33 bytes received$'
    # On the wire: both lines, in one segment or two, then end of file.
    run cat "$PEER_OUT"
    assert_line 'end-of-file from the client'
    received=$(sed -n 's/^received "\(.*\)"$/\1/p' "$PEER_OUT" | tr -d '\n')
    assert_equal "$received" 'hello\nworld\n'
}

@test "bye is sent like any line; the server's close ends talk and the script goes on" {
    start_lesson02_server
    talk_script "talk 127.0.0.1 $SERVER_PORT
hello
bye
sockets"
    [ "$status" -eq 0 ]
    assert_equal "$output" $'hello\nbye\nno open sockets (make one with: socket tcp)'
    expect_err '^talk: bye sent: waiting up to 10 s for the server to close$'
    expect_err '^talk: the server closed the connection$'
    run grep -c 'no command' "$ERR"
    assert_output 0
}

@test "the lesson 01 reference server: one line, its echo, its close" {
    start_lesson01_server
    talk_script "talk 127.0.0.1 $SERVER_PORT
hello, once"
    [ "$status" -eq 0 ]
    assert_equal "$output" 'hello, once'
    expect_err '^talk: the server closed the connection$'
    wait_server_exit 5
    expect_server_status 0
}

@test "when the server closes first, the rest of the conversation up to bye is not run as commands" {
    start_lesson01_server
    session_start
    session_send "talk 127.0.0.1 $SERVER_PORT" "hello"
    session_expect '^talk: the server closed the connection$'
    # talk still owns the input: these lines are skipped, not run.
    session_send "close 3" "bye" "sockets"
    session_expect '^no open sockets'
    session_end
    [ "$status" -eq 0 ]
    assert_line 'hello'
    assert_line 'talk: skipped the 2 lines left of the conversation (up to bye)'
    refute_line --partial 'not an open playground socket'
}

@test "a refused connection fails talk and skips its conversation" {
    port=$(free_port)
    talk_script "talk 127.0.0.1 $port
hello
bye
wait"
    [ "$status" -eq 1 ]
    expect_err "^lab: connect 127\.0\.0\.1:$port: Connection refused \(ECONNREFUSED\)$"
    expect_err '^talk: skipped the 2 lines left of the conversation \(up to bye\)$'
    assert_output --partial 'wait at most 10 s'
}

@test "a server that does not close after bye gets the wait bound, no more" {
    start_peer_server silent-server --timeout 30
    start=$(now)
    talk_script "wait 1
talk 127.0.0.1 $PEER_PORT
hello
bye
sockets"
    took_less_than "$start" "$(now)" 6
    [ "$status" -eq 0 ]
    expect_err '^talk: bye sent: waiting up to 1 s for the server to close$'
    expect_err '^talk: the server did not close the connection within 1 s; closing it$'
    assert_line 'no open sockets (make one with: socket tcp)'
}

@test "what the server sends is printed as it arrives, before the input ends" {
    start_peer_server push-server --greet 'first\n' --later 'second\n' \
        --gap 0.3 --timeout 20
    session_start
    session_send "wait 2" "talk 127.0.0.1 $PEER_PORT"
    session_expect '^first$'
    session_expect '^second$'
    session_send "ping"
    session_expect '^ping$'
    session_send "bye"
    session_expect 'did not close the connection within 2 s'
    session_end
    [ "$status" -eq 0 ]
}

@test "SIGINT (Ctrl-C) leaves talk at once; a script then stops with 130" {
    start_peer_server record-server --timeout 20
    session_start
    session_send "talk 127.0.0.1 $PEER_PORT" "said before Ctrl-C"
    session_expect '^talk: connected to'
    for ((i = 0; i < 250; i++)); do # the line is on the wire when it is recorded
        [ -n "$(session_lab_pid)" ] && break
        sleep 0.02 # polling for the lab's pid, with a deadline
    done
    kill -INT "$(session_lab_pid)"
    session_expect '^talk: Ctrl-C: leaving talk$'
    session_end
    [ "$status" -eq 130 ]
    # The connection was closed: the peer saw its end and reports it.
    for ((i = 0; i < 250; i++)); do
        grep -q '^recorded' "$PEER_OUT" && break
        sleep 0.02 # polling for the peer's report, with a deadline
    done
    run cat "$PEER_OUT"
    assert_line 'recorded "said before Ctrl-C\n"'
}

# ---------------------------------------------------------------- UDP

@test "talk udp: each line is one datagram without a newline; each reply is shown on its own line" {
    start_peer_server udp-echo-server
    talk_script "talk 127.0.0.1 $PEER_PORT udp
hello, datagram

bye
sockets"
    [ "$status" -eq 0 ]
    assert_equal "$output" $'hello, datagram\n(an empty datagram)\nbye\nno open sockets (make one with: socket tcp)'
    expect_err "^talk: connected to 127\.0\.0\.1:$PEER_PORT over udp$"
    run cat "$PEER_OUT"
    assert_line --regexp '^received "hello, datagram" from 127\.0\.0\.1:[0-9]+$'
    assert_line --regexp '^received "" from '
    assert_line --regexp '^received "bye" from '
}

@test "talk udp to a port nobody listens on says so and fails" {
    port=$(free_udp_port)
    talk_script "talk 127.0.0.1 $port udp
anyone there?"
    [ "$status" -eq 1 ]
    expect_err "^talk: recv: nothing listens on udp 127\.0\.0\.1:$port \(ECONNREFUSED"
}

# ---------------------------------------------------------------- arguments

@test "talk checks its arguments: usage errors exit 2, a name that does not resolve 1" {
    pg_run talk 127.0.0.1
    [ "$status" -eq 2 ]
    assert_line 'usage: talk HOST PORT [tcp|udp]'
    pg_run talk 127.0.0.1 0
    [ "$status" -eq 2 ]
    assert_line "lab: '0' is not a port (1-65535)"
    pg_run talk 127.0.0.1 4000 sctp
    [ "$status" -eq 2 ]
    assert_line "lab: 'sctp' is not tcp or udp"
    pg_script "wait 3
talk nosuch.invalid 4000"
    [ "$status" -eq 1 ]
    assert_line --regexp '^lab: nosuch\.invalid: .+'
}

# ---------------------------------------------------------------- valgrind and the terminal

@test "a scripted talk session (tcp, udp, refused, skipped) is clean under valgrind" {
    command -v valgrind >/dev/null || skip "valgrind is not installed"
    [ "${SANITIZE:-}" != 1 ] || skip "valgrind cannot run an ASan build"
    start_peer_server push-server --greet 'hi\n' --trailer 'bye now\n' --timeout 60
    tcp_port=$PEER_PORT
    start_peer_server udp-echo-server --timeout 60
    udp_port=$PEER_PORT
    nobody=$(free_port)
    cat >"$BATS_TEST_TMPDIR/session.lab" <<EOF
wait 2
talk 127.0.0.1 $nobody
skipped
bye
talk 127.0.0.1 $udp_port udp
one
two
bye
talk 127.0.0.1 $tcp_port
a line with a tab	and more
EOF
    LAB_WRAP=(valgrind -q --leak-check=full
        --show-leak-kinds=definite,indirect
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99)
    ERR=$BATS_TEST_TMPDIR/talk.err
    LAB_REPL_TIMEOUT=120 PG_STDERR=$ERR \
        REPL_STDIN=$BATS_TEST_TMPDIR/session.lab pg_run
    [ "$status" -ne 99 ] || {
        cat "$ERR" >&2
        return 1
    }
    ! grep -E '==[0-9]+==' "$ERR" # no valgrind report at all
    [ "$status" -eq 1 ] # the refused connection
    assert_equal "$output" $'blocking calls now wait at most 2 s\none\ntwo\nbye\nhi\na line with a tab\tand more\nbye now'
}

@test "on a terminal: Ctrl-C stops a blocking recv; talk prints while a line is half typed" {
    run timeout -k 2 120 env LAB_BIN="$LAB_BIN" LAB_ROOT="$REPL_ROOT" \
        "${LAB_PYTHON:-python3}" "$BATS_TEST_DIRNAME/test_talk_pty.py" 3>&-
    [ "$status" -eq 0 ] || {
        echo "$output" >&2
        return 1
    }
}
