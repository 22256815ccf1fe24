#!/usr/bin/env bats
# The socket playground (lab/playground.c): every command, in one-shot and
# script mode, against harness peers and the lesson 01 reference programs.
# Each call is printed as strace would, errno name included; blocking
# calls wait at most the `wait` bound and SIGINT interrupts them.
# (Ctrl-C on a real terminal: test_talk_pty.py, run from talk.bats.)

setup() {
    load 'helpers'
    load 'session'
    lab_repl_setup
}

teardown() {
    lab_repl_teardown
}

# ---------------------------------------------------------------- socket, close, one-shot mode

@test "socket makes TCP and UDP sockets, IPv4 and IPv6; sockets lists them" {
    pg_script "socket tcp
socket udp
socket tcp inet6
socket udp inet6
sockets"
    [ "$status" -eq 0 ]
    assert_line 'socket(AF_INET, SOCK_STREAM, 0) = 3'
    assert_line 'socket(AF_INET, SOCK_DGRAM, 0) = 4'
    assert_line 'socket(AF_INET6, SOCK_STREAM, 0) = 5'
    assert_line 'socket(AF_INET6, SOCK_DGRAM, 0) = 6'
    assert_line --regexp '^id +type +local +peer +state$'
    assert_line --regexp '^3 +tcp/inet +- +- +created$'
    assert_line --regexp '^4 +udp/inet +- +- +created$'
    assert_line --regexp '^5 +tcp/inet6 +- +- +created$'
    assert_line --regexp '^6 +udp/inet6 +- +- +created$'
}

@test "socket with a bad kind or family is a usage error (status 2)" {
    pg_run socket sctp
    [ "$status" -eq 2 ]
    assert_line "lab: 'sctp' is not tcp or udp"
    assert_line 'usage: socket tcp|udp [inet|inet6]'
    pg_run socket tcp inet7
    [ "$status" -eq 2 ]
    assert_line "lab: 'inet7' is not inet or inet6"
}

@test "one-shot mode runs one call and exits with its status" {
    pg_run socket udp
    [ "$status" -eq 0 ]
    assert_output 'socket(AF_INET, SOCK_DGRAM, 0) = 3'
    pg_run recv 3
    [ "$status" -eq 1 ]
    assert_output 'lab: 3 is not an open playground socket (none is open: make one with `socket tcp`)'
    pg_run sockets
    [ "$status" -eq 0 ]
    assert_output 'no open sockets (make one with: socket tcp)'
    pg_run wait
    [ "$status" -eq 0 ]
    assert_output --partial 'wait at most 10 s'
}

@test "one-shot mode: every command that names a socket says none is open and exits 1" {
    for args in "bind 3 127.0.0.1 0" "listen 3" "accept 3" \
        "connect 3 127.0.0.1 4000" "send 3 hi" "recv 3" \
        "sendto 3 127.0.0.1 4000 hi" "recvfrom 3" "shutdown 3 wr" \
        "setsockopt 3 SO_REUSEADDR 1" "getsockname 3" "getpeername 3" \
        "close 3"; do
        # shellcheck disable=SC2086 # the words are the arguments
        pg_run $args
        [ "$status" -eq 1 ] || {
            echo "lab $args: status $status, output: $output" >&2
            return 1
        }
        assert_output 'lab: 3 is not an open playground socket (none is open: make one with `socket tcp`)'
    done
    for args in "socket tcp" "socket udp inet6" "resolve 127.0.0.1" "sockets" \
        "wait" "wait 5"; do
        # shellcheck disable=SC2086
        pg_run $args
        [ "$status" -eq 0 ] || {
            echo "lab $args: status $status, output: $output" >&2
            return 1
        }
    done
}

@test "close closes a socket; only playground sockets can be named, never the REPL's own" {
    pg_script "socket tcp
close 3
close 3
close 0
send 1 \"x\"
recv 2
recv abc
sockets"
    [ "$status" -eq 1 ]
    assert_line 'close(3) = 0'
    assert_line 'lab: 3 is not an open playground socket (none is open: make one with `socket tcp`)'
    assert_line 'lab: 0 is not an open playground socket (none is open: make one with `socket tcp`)'
    assert_line 'lab: 1 is not an open playground socket (none is open: make one with `socket tcp`)'
    assert_line "lab: 'abc' is not a socket id (a number \`sockets\` lists)"
    assert_line 'usage: recv FD [MAXBYTES]'
    # stdout is still open: the last command printed.
    assert_line 'no open sockets (make one with: socket tcp)'
}

# ---------------------------------------------------------------- bind, listen, getsockname

@test "bind to port 0 gets a real port (getsockname); a taken port is EADDRINUSE" {
    start_peer_server record-server
    pg_script "socket tcp
getsockname 3
bind 3 127.0.0.1 0
getsockname 3
socket tcp
bind 4 127.0.0.1 $PEER_PORT
bind 4 127.0.0.1 99999
bind 4 ::1 0
listen 3
listen 3 0
sockets"
    [ "$status" -eq 1 ]
    assert_line 'getsockname(3) = 0 (0.0.0.0:0) (not bound yet: bind, connect or sendto gives it one)'
    assert_line 'bind(3, 127.0.0.1:0) = 0'
    assert_line --regexp '^getsockname\(3\) = 0 \(127\.0\.0\.1:[1-9][0-9]*\)$'
    assert_line "bind(4, 127.0.0.1:$PEER_PORT) = -1 EADDRINUSE (Address already in use) (a socket has this address, or a connection on it is in TIME_WAIT: \`ss -tan\` shows them)"
    assert_line "lab: '99999' is not a port (0-65535)"
    assert_line "lab: '::1' has no IPv4 address (this socket is AF_INET; \`resolve ::1\` lists what it has)"
    assert_line 'listen(3, 5) = 0'
    assert_line 'listen(3, 0) = 0'
    assert_line --regexp '^3 +tcp/inet +127\.0\.0\.1:[0-9]+ +- +listening$'
    assert_line --regexp '^4 +tcp/inet +- +- +created$'
}

@test "IPv6: bind ::1, listen, connect and talk over it" {
    pg_script "socket tcp inet6
bind 3 ::1 0
listen 3
getsockname 3"
    [ "$status" -eq 0 ] || skip "no IPv6 loopback here: $output"
    port=$(sed -n 's/^getsockname(3) = 0 (\[::1\]:\([0-9]*\))$/\1/p' <<<"$output")
    [ -n "$port" ]
    session_start
    session_send "socket tcp inet6" "bind 3 ::1 0" "listen 3" "getsockname 3"
    session_expect '^getsockname\(3\) = 0 \(\[::1\]:[0-9]+\)$'
    port=$(sed -n 's/^getsockname(3) = 0 (\[::1\]:\([0-9]*\))$/\1/p' "$BATS_TEST_TMPDIR/repl.out")
    session_send "socket tcp inet6" "connect 4 ::1 $port" "accept 3" \
        'send 4 "over six\n"' "recv 5" "sockets"
    session_end
    [ "$status" -eq 0 ]
    assert_line "connect(4, [::1]:$port) = 0"
    assert_line --regexp '^accept\(3\) = 5 \(peer \[::1\]:[0-9]+\)$'
    assert_line 'recv(5, 1024) = 9 "over six\n"'
    assert_line --regexp "^5 +tcp/inet6 +\[::1\]:$port +\[::1\]:[0-9]+ +connected \(accepted on 3\)$"
}

# ---------------------------------------------------------------- accept, send, recv: the playground as a server

@test "listen and accept a harness client; recv and send echo its message; getpeername names it" {
    port=$(free_port)
    session_start
    session_send "socket tcp" "bind 3 127.0.0.1 $port" "listen 3"
    session_expect '^listen\(3, 5\) = 0$'
    # The harness client connects, sends its message, checks the echo and
    # says holding; the playground does the server's part by hand.
    setsid "${PEER[@]}" hold --host 127.0.0.1 --port "$port" \
        --message 'ping\x00\n' </dev/null >"$BATS_TEST_TMPDIR/hold.out" 2>&1 3>&- &
    LAB_PGIDS+=("$!")
    session_send "accept 3" "recv 4" 'send 4 "ping\0\n"' "getpeername 4" \
        "getsockname 4" "sockets"
    for ((i = 0; i < 250; i++)); do
        grep -q '^holding' "$BATS_TEST_TMPDIR/hold.out" && break
        sleep 0.02 # polling for the peer's verdict, with a deadline
    done
    grep -q '^holding' "$BATS_TEST_TMPDIR/hold.out" || {
        echo "the harness client did not get its echo: $(cat "$BATS_TEST_TMPDIR/hold.out")" >&2
        return 1
    }
    session_end
    [ "$status" -eq 0 ]
    assert_line --regexp '^accept\(3\) = 4 \(peer 127\.0\.0\.1:[0-9]+\)$'
    assert_line 'recv(4, 1024) = 6 "ping\x00\n"'
    assert_line 'send(4, "ping\x00\n", 6, MSG_NOSIGNAL) = 6'
    assert_line --regexp '^getpeername\(4\) = 0 \(127\.0\.0\.1:[0-9]+\)$'
    assert_line "getsockname(4) = 0 (127.0.0.1:$port)"
    assert_line --regexp "^4 +tcp/inet +127\.0\.0\.1:$port +127\.0\.0\.1:[0-9]+ +connected \(accepted on 3\)$"
}

@test "the playground serves the lesson 01 reference client" {
    build_lesson01
    port=$(free_port)
    session_start
    session_send "socket tcp" "setsockopt 3 SO_REUSEADDR on" \
        "bind 3 127.0.0.1 $port" "listen 3"
    session_expect '^listen\(3, 5\) = 0$'
    setsid timeout 10 "$LAB_ROOT/build/solutions/01-echo-once/client" \
        127.0.0.1 "$port" hello from C </dev/null \
        >"$BATS_TEST_TMPDIR/client.out" 2>&1 3>&- &
    client=$!
    LAB_PGIDS+=("$client")
    session_send "accept 3" "recv 4" 'send 4 "hello from C\n"' "close 4"
    wait "$client" || {
        echo "the lesson 01 client failed: $(cat "$BATS_TEST_TMPDIR/client.out")" >&2
        return 1
    }
    [ "$(cat "$BATS_TEST_TMPDIR/client.out")" = "hello from C" ]
    session_end
    assert_line 'recv(4, 1024) = 13 "hello from C\n"'
    assert_line 'close(4) = 0'
}

# ---------------------------------------------------------------- connect, send, recv: the playground as a client

@test "connect to a port nobody listens on is ECONNREFUSED" {
    port=$(free_port)
    pg_script "socket tcp
connect 3 127.0.0.1 $port
getpeername 3"
    [ "$status" -eq 1 ]
    assert_line "connect(3, 127.0.0.1:$port) = -1 ECONNREFUSED (Connection refused)"
    assert_line 'getpeername(3) = -1 ENOTCONN (Transport endpoint is not connected)'
}

@test "send decodes C escapes; recv prints the bytes escaped the same way" {
    start_peer_server echo-server
    pg_script "socket tcp
connect 3 127.0.0.1 $PEER_PORT
send 3 \"tab\\there \\\"quoted\\\" back\\\\slash \\x00\\xff\\x7f\\r\\n\"
recv 3
send 3 \"bad \\q escape\"
send 3 \"\\x\""
    [ "$status" -eq 2 ]
    assert_line "connect(3, 127.0.0.1:$PEER_PORT) = 0"
    assert_line 'send(3, "tab\there \"quoted\" back\\slash \x00\xff\x7f\r\n", 34, MSG_NOSIGNAL) = 34'
    assert_line 'recv(3, 1024) = 34 "tab\there \"quoted\" back\\slash \x00\xff\x7f\r\n"'
    assert_line 'lab: unknown escape \q (known: \n \r \t \\ \" \0 \xHH ...)'
    assert_line 'lab: \x needs one or two hex digits'
    # The bytes on the wire, as the harness saw them.
    run cat "$PEER_OUT"
    assert_line 'received "tab\there \"quoted\" back\\slash \x00\xff\x7f\r\n"'
}

@test "the whole lesson 01 conversation by hand against its reference server" {
    start_lesson01_server
    pg_script "socket tcp
connect 3 127.0.0.1 $SERVER_PORT
getpeername 3
send 3 \"hello, socket\\n\"
recv 3
recv 3
sockets
send 3 \"too late\\n\"
close 3"
    assert_line "connect(3, 127.0.0.1:$SERVER_PORT) = 0"
    assert_line "getpeername(3) = 0 (127.0.0.1:$SERVER_PORT)"
    assert_line 'send(3, "hello, socket\n", 14, MSG_NOSIGNAL) = 14'
    assert_line 'recv(3, 1024) = 14 "hello, socket\n"'
    assert_line 'recv(3, 1024) = 0 (end of stream: the peer closed or shut down its side)'
    assert_line --regexp "^3 +tcp/inet +127\.0\.0\.1:[0-9]+ +127\.0\.0\.1:$SERVER_PORT +connected, peer closed$"
    assert_line 'close(3) = 0'
    wait_server_exit 5
    expect_server_status 0
    grep -qx 'received 14 bytes' "$BATS_TEST_TMPDIR/server.out"
}

@test "shutdown wr sends end of file: the peer reports what it got, then recv returns 0" {
    start_peer_server record-server
    pg_script "socket tcp
connect 3 127.0.0.1 $PEER_PORT
send 3 \"all of it\"
shutdown 3 wr
recv 3
sockets
send 3 \"more\"
shutdown 3 sideways
close 3"
    [ "$status" -eq 1 ]
    assert_line 'shutdown(3, SHUT_WR) = 0'
    assert_line 'recv(3, 1024) = 0 (end of stream: the peer closed or shut down its side)'
    assert_line --regexp '^3 +tcp/inet .* connected, shut wr, peer closed$'
    assert_line 'send(3, "more", 4, MSG_NOSIGNAL) = -1 EPIPE (Broken pipe) (the connection is closed for sending)'
    assert_line "lab: 'sideways' is not rd, wr or rdwr"
    run cat "$PEER_OUT"
    assert_line 'recorded "all of it"'
}

@test "shutdown rd and rdwr; shutdown of a socket never connected is ENOTCONN" {
    start_peer_server echo-server
    pg_script "socket tcp
shutdown 3 rdwr
connect 3 127.0.0.1 $PEER_PORT
shutdown 3 rd
recv 3
shutdown 3 RDWR"
    [ "$status" -eq 1 ]
    assert_line 'shutdown(3, SHUT_RDWR) = -1 ENOTCONN (Transport endpoint is not connected)'
    assert_line 'shutdown(3, SHUT_RD) = 0'
    assert_line 'recv(3, 1024) = 0 (end of stream: the peer closed or shut down its side)'
    assert_line 'shutdown(3, SHUT_RDWR) = 0'
}

# ---------------------------------------------------------------- the wait bound and interruptions

@test "recv on a silent server: the lab stops waiting at its bound, and says it is not the kernel's error" {
    start_peer_server silent-server
    start=$(now)
    pg_script "wait 1
socket tcp
connect 3 127.0.0.1 $PEER_PORT
recv 3"
    took_less_than "$start" "$(now)" 5
    [ "$status" -eq 1 ]
    assert_line 'blocking calls now wait at most 1 s'
    assert_line 'recv(3, 1024) = ? (no data came within 1 s: the lab stopped waiting, see `wait`; not an error of the call)'
}

@test "a real time-out (SO_RCVTIMEO) is the kernel's EAGAIN, not the lab's bound; SO_RCVBUF 1 gets the kernel's minimum" {
    start_peer_server silent-server
    pg_script "wait 5
socket tcp
connect 3 127.0.0.1 $PEER_PORT
setsockopt 3 SO_RCVTIMEO 0.3
recv 3
setsockopt 3 SO_RCVBUF 1
getsockopt 3 SO_RCVBUF"
    [ "$status" -eq 1 ]
    assert_line --regexp '^recv\(3, 1024\) = -1 EAGAIN \(Resource temporarily unavailable\)'
    refute_line --partial 'the lab stopped waiting'
    assert_line --regexp '^getsockopt\(3, SOL_SOCKET, SO_RCVBUF\) = 0 \([0-9]+; the kernel.s minimum: it never goes below that\)$'
}

@test "accept with no client and connect to a full backlog give up at the wait bound" {
    start_peer_server backlog-full
    start=$(now)
    pg_script "wait 0.5
socket tcp
bind 3 127.0.0.1 0
listen 3
accept 3
socket tcp
connect 4 127.0.0.1 $PEER_PORT
sockets
recvfrom 3
accept 4"
    took_less_than "$start" "$(now)" 6
    [ "$status" -eq 1 ]
    assert_line 'accept(3) = ? (no connection came within 0.5 s: the lab stopped waiting, see `wait`; not an error of the call)'
    assert_line "connect(4, 127.0.0.1:$PEER_PORT) = ? (no answer within 0.5 s: the lab stopped waiting, see \`wait\`; not an error of the call) (the handshake goes on in the kernel)"
    assert_line --regexp '^4 +tcp/inet .* connecting$'
    assert_line 'recvfrom(3, 1024) = -1 ENOTCONN (Transport endpoint is not connected)'
    assert_line 'accept(4) = -1 EINVAL (Invalid argument)'
}

@test "a socket's own SO_RCVTIMEO ends a recv with the kernel's EAGAIN" {
    start_peer_server silent-server
    start=$(now)
    pg_script "wait 20
socket tcp
connect 3 127.0.0.1 $PEER_PORT
setsockopt 3 SO_RCVTIMEO 0.3
recv 3"
    took_less_than "$start" "$(now)" 5
    [ "$status" -eq 1 ]
    assert_line 'recv(3, 1024) = -1 EAGAIN (Resource temporarily unavailable) (the socket'"'"'s SO_RCVTIMEO passed)'
}

@test "send of more than the peer reads stops at the wait bound with what went" {
    # Socket 5 is accepted and never read. Small buffers, set before the
    # connection (accept passes them on), keep the kernel from growing
    # them, so 4 MiB cannot all go.
    size=$((4 << 20))
    big=$(head -c "$size" /dev/zero | tr '\0' x)
    session_start
    session_send "wait 1" "socket tcp" "setsockopt 3 SO_RCVBUF 16384" \
        "bind 3 127.0.0.1 0" "listen 3" "getsockname 3"
    session_expect '^getsockname\(3\) = 0 '
    port=$(sed -n 's/^getsockname(3) = 0 (127\.0\.0\.1:\([0-9]*\))$/\1/p' "$BATS_TEST_TMPDIR/repl.out")
    session_send "socket tcp" "setsockopt 4 SO_SNDBUF 16384" \
        "connect 4 127.0.0.1 $port" "accept 3"
    session_expect '^accept\(3\) = 5 '
    start=$(now)
    session_send "send 4 $big"
    session_expect "^send\\(4, \"x+\"\\.\\.\\. \\($size bytes in all\\), $size, MSG_NOSIGNAL\\) = [0-9]" 20
    # Far less than for ever (a blocking send would never return), with
    # room for moving the bytes around on a busy machine.
    took_less_than "$start" "$(now)" 15
    session_end
    assert_line --regexp "^send\\(4, \"x+\"\\.\\.\\. \\($size bytes in all\\), $size, MSG_NOSIGNAL\\) = [1-9][0-9]* \\(only part went: the wait bound passed, the peer is not reading\\)\$"
}

@test "SIGINT (Ctrl-C) interrupts a blocking recv; a script then stops with 130" {
    start_peer_server silent-server
    session_start
    session_send "wait 60" "socket tcp" "connect 3 127.0.0.1 $PEER_PORT" "recv 3"
    # The call is printed before it blocks, as strace does.
    session_expect '^connect.* = 0$'
    session_expect '^recv\(3, 1024\)'
    start=$(now)
    kill -INT "$(session_lab_pid)"
    session_expect 'recv\(3, 1024\) = -1 EINTR \(interrupted by Ctrl-C\)$'
    took_less_than "$start" "$(now)" 5
    session_end
    [ "$status" -eq 130 ]
}

@test "wait shows and sets the bound; a bad value is a usage error" {
    pg_script "wait
wait 2.5
wait
wait 0
wait -1
wait soon
wait 3601"
    [ "$status" -eq 2 ]
    assert_line 'blocking calls (accept, connect, recv, recvfrom, send, resolve) wait at most 10 s; Ctrl-C stops one sooner; `wait SECONDS` changes it'
    assert_line 'blocking calls now wait at most 2.5 s'
    assert_line --partial 'wait at most 2.5 s; Ctrl-C'
    assert_line 'blocking calls now wait at most 0 s'
    assert_line "lab: '-1' is not a number of seconds (0-3600)"
    assert_line "lab: 'soon' is not a number of seconds (0-3600)"
    assert_line "lab: '3601' is not a number of seconds (0-3600)"
    assert_line 'usage: wait [SECONDS]'
}

# ---------------------------------------------------------------- UDP

@test "UDP: sendto and recvfrom between playground sockets name the sender; a cut datagram says so" {
    port=$(free_udp_port)
    pg_script "wait 0.5
socket udp
bind 3 127.0.0.1 $port
socket udp
sendto 4 127.0.0.1 $port \"first\"
getsockname 4
recvfrom 3
sendto 4 127.0.0.1 $port \"a longer datagram\"
recvfrom 3 8
recv 3
sockets"
    [ "$status" -eq 1 ]
    assert_line "sendto(4, \"first\", 5, MSG_NOSIGNAL, 127.0.0.1:$port) = 5"
    # sendto bound socket 4 to a port of its own, on every address.
    from=$(sed -n 's/^getsockname(4) = 0 (0\.0\.0\.0:\([0-9]*\))$/\1/p' <<<"$output")
    [ -n "$from" ]
    assert_line "recvfrom(3, 1024) = 5 \"first\" (from 127.0.0.1:$from)"
    assert_line "recvfrom(3, 8) = 8 \"a longer\" (the datagram was longer: the rest is lost) (from 127.0.0.1:$from)"
    # The rest of a cut datagram is gone: nothing more to read.
    assert_line --regexp '^recv\(3, 1024\) = \? \(no data came'
    assert_line --regexp "^3 +udp/inet +127\.0\.0\.1:$port +- +bound$"
    assert_line --regexp "^4 +udp/inet +0\.0\.0\.0:$from +- +bound$"
}

@test "UDP: a harness echo server answers; connect fixes the peer; ICMP refusals show as ECONNREFUSED" {
    start_peer_server udp-echo-server
    closed=$(free_udp_port)
    pg_script "wait 2
socket udp
sendto 3 127.0.0.1 $PEER_PORT \"hello, datagram\"
recvfrom 3
connect 3 127.0.0.1 $PEER_PORT
send 3 \"\"
recv 3
sockets
socket udp
connect 4 127.0.0.1 $closed
send 4 \"anyone?\"
recv 4"
    [ "$status" -eq 1 ]
    assert_line "recvfrom(3, 1024) = 15 \"hello, datagram\" (from 127.0.0.1:$PEER_PORT)"
    assert_line "connect(3, 127.0.0.1:$PEER_PORT) = 0"
    assert_line 'send(3, "", 0, MSG_NOSIGNAL) = 0'
    assert_line 'recv(3, 1024) = 0 ""'
    assert_line --regexp "^3 +udp/inet +127\.0\.0\.1:[0-9]+ +127\.0\.0\.1:$PEER_PORT +connected$"
    assert_line 'recv(4, 1024) = -1 ECONNREFUSED (Connection refused)'
}

# ---------------------------------------------------------------- setsockopt

@test "setsockopt sets each option and reads it back with getsockopt" {
    pg_script "socket tcp
setsockopt 3 SO_REUSEADDR 1
setsockopt 3 so_reuseport on
setsockopt 3 SO_KEEPALIVE yes
setsockopt 3 TCP_NODELAY on
setsockopt 3 nodelay off
setsockopt 3 SO_RCVTIMEO 1.5
setsockopt 3 SO_SNDTIMEO 2
setsockopt 3 SO_RCVBUF 65536
setsockopt 3 SO_SNDBUF 65536
setsockopt 3 SO_LINGER 5
setsockopt 3 SO_LINGER off
setsockopt 3 TCP_KEEPIDLE 30
socket udp
setsockopt 4 SO_BROADCAST 1
setsockopt 4 TCP_NODELAY 1"
    [ "$status" -eq 1 ]
    assert_line 'setsockopt(3, SOL_SOCKET, SO_REUSEADDR, 1) = 0'
    assert_line 'getsockopt(3, SOL_SOCKET, SO_REUSEADDR) = 0 (1)'
    assert_line 'setsockopt(3, SOL_SOCKET, SO_REUSEPORT, 1) = 0'
    assert_line 'getsockopt(3, SOL_SOCKET, SO_KEEPALIVE) = 0 (1)'
    assert_line 'setsockopt(3, IPPROTO_TCP, TCP_NODELAY, 1) = 0'
    assert_line 'getsockopt(3, IPPROTO_TCP, TCP_NODELAY) = 0 (1)'
    assert_line 'setsockopt(3, IPPROTO_TCP, TCP_NODELAY, 0) = 0'
    assert_line 'getsockopt(3, IPPROTO_TCP, TCP_NODELAY) = 0 (0)'
    assert_line 'setsockopt(3, SOL_SOCKET, SO_RCVTIMEO, {tv_sec=1, tv_usec=500000}) = 0'
    assert_line 'getsockopt(3, SOL_SOCKET, SO_RCVTIMEO) = 0 ({tv_sec=1, tv_usec=500000}; recv and accept on it now give up with EAGAIN)'
    assert_line 'getsockopt(3, SOL_SOCKET, SO_SNDTIMEO) = 0 ({tv_sec=2, tv_usec=0}; send and connect on it now give up)'
    assert_line 'setsockopt(3, SOL_SOCKET, SO_RCVBUF, 65536) = 0'
    assert_line 'getsockopt(3, SOL_SOCKET, SO_RCVBUF) = 0 (131072; Linux doubles the size asked for: the other half is its own bookkeeping)'
    assert_line --regexp '^getsockopt\(3, SOL_SOCKET, SO_SNDBUF\) = 0 \([0-9]+'
    assert_line 'getsockopt(3, SOL_SOCKET, SO_LINGER) = 0 ({l_onoff=1, l_linger=5})'
    # Off keeps the old time: only l_onoff matters then.
    assert_line --regexp '^getsockopt\(3, SOL_SOCKET, SO_LINGER\) = 0 \(\{l_onoff=0, l_linger=[0-9]+\}\)$'
    assert_line 'getsockopt(3, IPPROTO_TCP, TCP_KEEPIDLE) = 0 (30)'
    assert_line 'getsockopt(4, SOL_SOCKET, SO_BROADCAST) = 0 (1)'
    assert_line 'setsockopt(4, IPPROTO_TCP, TCP_NODELAY, 1) = -1 ENOPROTOOPT (Protocol not available)'
}

@test "setsockopt with an unknown option or a bad value is a usage error" {
    pg_script "socket tcp
setsockopt 3 SO_NOSUCH 1
setsockopt 3 SO_RCVTIMEO soon
setsockopt 3 SO_RCVBUF -5
setsockopt 3 TCP_NODELAY maybe"
    [ "$status" -eq 2 ]
    assert_line --partial "lab: unknown option 'SO_NOSUCH' (known: SO_REUSEADDR SO_REUSEPORT SO_KEEPALIVE"
    assert_line "lab: SO_RCVTIMEO takes seconds, like 1.5 (0: never), not 'soon'"
    assert_line "lab: SO_RCVBUF takes a number, not '-5'"
    assert_line "lab: TCP_NODELAY takes on or off, not 'maybe'"
    assert_line 'usage: setsockopt FD OPTION VALUE'
    refute_line --partial 'setsockopt(3'
}

# ---------------------------------------------------------------- resolve

@test "resolve lists every getaddrinfo result, the way the C library gives them" {
    pg_run resolve localhost 4000
    [ "$status" -eq 0 ]
    # What the C library gives, through Python's getaddrinfo.
    mapfile -t expected < <("${LAB_PYTHON:-python3}" -c '
import socket
families = {socket.AF_INET: "AF_INET", socket.AF_INET6: "AF_INET6"}
types = {socket.SOCK_STREAM: "SOCK_STREAM", socket.SOCK_DGRAM: "SOCK_DGRAM",
         socket.SOCK_RAW: "SOCK_RAW"}
protos = {6: "IPPROTO_TCP", 17: "IPPROTO_UDP", 0: "0"}
for fam, typ, proto, _, addr in socket.getaddrinfo("localhost", "4000"):
    host = "[%s]:%d" % addr[:2] if fam == socket.AF_INET6 else "%s:%d" % addr
    print("%s %s %s %s" % (families[fam], types[typ], protos[proto], host))')
    [ "${#expected[@]}" -gt 0 ]
    assert_line --regexp "^getaddrinfo\(\"localhost\", \"4000\"\) = 0 \(${#expected[@]} results?, canonical name \"localhost\"\)$"
    got=$(sed -n '2,$p' <<<"$output" | awk '{ print $1, $2, $3, $4 }')
    [ "$got" = "$(printf '%s\n' "${expected[@]}")" ] || {
        echo "expected:" >&2
        printf '  %s\n' "${expected[@]}" >&2
        echo "got:" >&2
        echo "$got" >&2
        return 1
    }
    assert_line --regexp '^  AF_INET +SOCK_STREAM +IPPROTO_TCP +127\.0\.0\.1:4000$'
}

@test "resolve of a numeric address needs no lookup; a name that does not exist is an EAI error" {
    pg_run resolve 127.0.0.1
    [ "$status" -eq 0 ]
    assert_line --regexp '^getaddrinfo\("127\.0\.0\.1", NULL\) = 0 \([0-9]+ results?'
    assert_line --regexp '^  AF_INET +SOCK_DGRAM +IPPROTO_UDP +127\.0\.0\.1$'
    pg_script "wait 3
resolve nosuch.invalid"
    [ "$status" -eq 1 ]
    assert_line --regexp '^getaddrinfo\("nosuch\.invalid", NULL\) = EAI_(NONAME|AGAIN|FAIL|NODATA) \(.+\)$'
    pg_run resolve localhost nosuchservice
    [ "$status" -eq 1 ]
    assert_line --regexp '^getaddrinfo\("localhost", "nosuchservice"\) = EAI_SERVICE '
}

# ---------------------------------------------------------------- valgrind

@test "a scripted session of every playground command is clean under valgrind" {
    command -v valgrind >/dev/null || skip "valgrind is not installed"
    [ "${SANITIZE:-}" != 1 ] || skip "valgrind cannot run an ASan build"
    start_peer_server echo-server --timeout 60
    echo_port=$PEER_PORT
    udp_port=$(free_udp_port)
    nobody=$(free_port)
    cat >"$BATS_TEST_TMPDIR/session.lab" <<EOF
wait
wait 1
resolve localhost 4000
resolve nosuch.invalid
socket tcp
socket udp inet6
setsockopt 3 SO_REUSEADDR on
setsockopt 3 SO_RCVTIMEO 0.2
setsockopt 3 SO_LINGER 1
setsockopt 3 SO_NOSUCH 1
bind 3 127.0.0.1 0
listen 3
getsockname 3
accept 3
socket tcp
connect 5 127.0.0.1 $nobody
close 5
socket tcp
connect 5 127.0.0.1 $echo_port
getpeername 5
send 5 "under valgrind\t\x00\xff\n"
recv 5 100
send 5 "bad \q"
shutdown 5 wr
recv 5
sockets
close 5
socket udp
bind 5 127.0.0.1 $udp_port
sendto 5 127.0.0.1 $udp_port "a datagram"
recvfrom 5 4
recvfrom 5
close 99
close 3
sockets
EOF
    LAB_WRAP=(valgrind -q --leak-check=full
        --show-leak-kinds=definite,indirect
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99)
    LAB_REPL_TIMEOUT=120 REPL_STDIN=$BATS_TEST_TMPDIR/session.lab pg_run
    [ "$status" -ne 99 ] || {
        echo "$output" >&2
        return 1
    }
    [ "$status" -eq 1 ]  # the first failure: resolve nosuch.invalid
    refute_output --regexp '==[0-9]+=='  # no valgrind report at all
    assert_line 'recv(5, 100) = 18 "under valgrind\t\x00\xff\n"'
    assert_line 'accept(3) = -1 EAGAIN (Resource temporarily unavailable) (the socket'"'"'s SO_RCVTIMEO passed)'
    assert_line 'recvfrom(5, 4) = 4 "a da" (the datagram was longer: the rest is lost) (from 127.0.0.1:'"$udp_port"')'
    assert_line 'close(3) = 0'
}
