#!/usr/bin/env bats
# Lesson 09: options. One @test per step of lessons/09-options/README.md.
#
# Each option is checked by what it does, seen from outside the program:
# a restart on a port held by TIME_WAIT (SO_REUSEADDR), keepalive probes
# in the kernel's view of the connection (ss -o -i), the buffer sizes the
# accepted connection really has and the window its peer sees (ss -m -i),
# Nagle's delay seen by the client and by a harness server (TCP_NODELAY),
# a reset instead of an end-of-file (SO_LINGER 0).

setup() {
    load 'lib/common'
    load 'lib/lesson-09'
    lab_setup
}

teardown() {
    lab_teardown
}

@test "step 1: a restart while the old port sits in TIME_WAIT succeeds; with --no-reuseaddr, EADDRINUSE" {
    need_ss || return 1
    start_server 127.0.0.1 0
    local port=$SERVER_PORT
    # The server echoes bye and closes first: its side keeps TIME_WAIT.
    peer_ok --why "the server answers each line, and after bye closes the connection (a FIN, end-of-file): nothing of this lesson changes that" \
        opt-bye --message 'hello before the restart\n' --expect eof
    wait_time_wait "( sport = :$port )" 2 ||
        lab_fail "no connection of port $port is in TIME_WAIT after the server closed first (ss -tan state time-wait)" || return 1
    kill -TERM "$SERVER_PID"
    wait_server_exit 2
    LAB_CALL_TIMEOUT=2 run_server --no-reuseaddr 127.0.0.1 "$port"
    if [ "$status" -ne 1 ] || ! grep -q 'bind.*Address already in use' "$LAB_TMP/server.err"; then
        lab_fail "with --no-reuseaddr, a restart on port $port (an old connection still in TIME_WAIT) should fail: 'server: bind 127.0.0.1:$port: Address already in use' and status 1" \
            "set SO_REUSEADDR only when the command line allows it: main() calls reuse_address() unless --no-reuseaddr"
        return 1
    fi
    start_server 127.0.0.1 "$port" ||
        lab_fail "the restarted server could not listen on port $port while an old connection of that port sits in TIME_WAIT" \
            "turn SO_REUSEADDR on before bind(), in set_int_option() with setsockopt(); the old server must have set it too" ||
        return 1
    peer_ok --why "the restarted server must serve clients as before" \
        opt-bye --message 'hello after the restart\n' --expect eof
    wait_server_line '^SO_REUSEADDR: asked 1, kernel gives 1$' 1 \
        "in set_int_option(), after setsockopt(), getsockopt() the same option into an int and print 'OPTION: asked X, kernel gives Y'"
}

@test "step 2: keepalive probes go out after IDLE quiet seconds, then every INTVL (ss -o)" {
    need_ss || return 1
    start_server --keepalive 1,10,4 127.0.0.1 0
    start_peer_client hold --message 'a quiet client\n' --timeout 10
    # The kernel's view of the server's side of the connection: its timer,
    # the milliseconds since it last received data and since the last ACK.
    local line timer ms rcv ack end=$((${EPOCHREALTIME//[!0-9]/} + 4000000))
    while :; do
        line=$(ss_lines -oi established "( sport = :$SERVER_PORT )")
        timer=$(grep -oE 'timer:\([a-z_]+,[^,]*' <<<"$line" | head -n 1)
        if [[ $timer != timer:\(keepalive,* ]]; then
            lab_fail "ss shows no keepalive timer on the accepted connection (ss -tno: $(lab_escape "${timer:-no timer}"))" \
                "turn SO_KEEPALIVE on (level SOL_SOCKET, value 1) on the connection's socket, the one accept() returned"
            return 1
        fi
        ms=$(ss_ms "${timer#timer:(keepalive,}")
        if [ "$ms" -gt 10500 ]; then
            lab_fail "the keepalive timer of the connection fires in ${ms} ms (ss -tno: $timer); with --keepalive 1,10,4 it must be at most 1 s before the first probe and at most 10 s between probes" \
                "set TCP_KEEPIDLE to IDLE and TCP_KEEPINTVL to INTVL (level IPPROTO_TCP): the kernel's defaults are 2 hours and 75 s"
            return 1
        fi
        rcv=$(ss_field lastrcv "$line") ack=$(ss_field lastack "$line")
        # The client sent nothing since its line, yet an ACK came later:
        # the answer to a keepalive probe.
        if [ -n "$rcv" ] && [ -n "$ack" ] && [ $((rcv - ack)) -ge 500 ]; then
            break
        fi
        if [ "${EPOCHREALTIME//[!0-9]/}" -ge "$end" ]; then
            lab_fail "no keepalive probe was answered in 4 s of silence (ss -toi: $timer, lastrcv:$rcv lastack:$ack); with TCP_KEEPIDLE 1 the kernel probes after 1 s" \
                "set TCP_KEEPIDLE to the first number of --keepalive (IDLE) and TCP_KEEPINTVL to the second (INTVL)"
            return 1
        fi
        sleep 0.05 # polling the kernel's view, with a deadline
    done
    local want
    for want in 'SO_KEEPALIVE: asked 1, kernel gives 1' 'TCP_KEEPIDLE: asked 1, kernel gives 1' \
        'TCP_KEEPINTVL: asked 10, kernel gives 10' 'TCP_KEEPCNT: asked 4, kernel gives 4'; do
        wait_server_line "^$want\$" 1 \
            "in set_keepalive(), set SO_KEEPALIVE, then TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT (level IPPROTO_TCP) on the socket accept() returned, each with set_int_option()" ||
            return 1
    done
}

@test "step 3: SO_RCVBUF and SO_SNDBUF: the kernel's sizes, on the connection, and the window the peer sees" {
    need_ss || return 1
    start_server --rcvbuf 1000 --sndbuf 20000 127.0.0.1 0
    local kernel line
    kernel=$("${PEER[@]}" opt-kernel-bufs --rcvbuf 1000 --sndbuf 20000)
    LAB_REPRO+=("tests/harness/peer.py opt-kernel-bufs --rcvbuf 1000 --sndbuf 20000")
    local rb tb wnd
    rb=$(sed -n 's/^SO_RCVBUF: .* gives //p' <<<"$kernel")
    tb=$(sed -n 's/^SO_SNDBUF: .* gives //p' <<<"$kernel")
    start_peer_client hold --message 'through a small window\n' --timeout 10
    line=$(ss_lines -mi established "( sport = :$SERVER_PORT )")
    if [ "$(ss_field rb "$line")" != "$rb" ] || [ "$(ss_field tb "$line")" != "$tb" ]; then
        lab_fail "the accepted connection has receive buffer $(ss_field rb "$line") and send buffer $(ss_field tb "$line") (ss -tm: rb, tb); expected $rb and $tb" \
            "set the sizes on the listening socket: a socket accept() returns takes them from it"
        return 1
    fi
    # What the client's kernel may send before the server reads: the
    # window the server offered, which comes from its receive buffer.
    line=$(ss_lines -i established "( dport = :$SERVER_PORT )")
    wnd=$(ss_field snd_wnd "$line")
    if [ -n "$wnd" ] && [ "$wnd" -gt "$rb" ]; then
        lab_fail "the client may send $wnd bytes before the server reads (ss -ti on the client's side: snd_wnd), more than the $rb-byte receive buffer" \
            "set SO_RCVBUF before listen(): the window and its scale are agreed in the handshake, and a size set after accept() comes too late"
        return 1
    fi
    while read -r line; do
        wait_server_line "^$line\$" 1 \
            "print what getsockopt() reads back: the kernel doubles the size you ask for (room for its own bookkeeping), has a minimum and a maximum; never compute it yourself" ||
            return 1
    done <<<"$kernel"
}

@test "step 4: TCP_NODELAY: the client's write-write-read rounds are over 5 times faster with --nodelay" {
    # Up to three tries: a busy machine can slow the fast rounds down, never
    # speed up the slow ones (they wait for a kernel timer).
    start_peer_server opt-request-server --connections 6 --timeout 20
    local try rc gap1 gap2 why
    for try in 1 2 3; do
        rc=0
        measure_nagle 127.0.0.1 "$PEER_PORT" 6 || rc=$?
        [ "$rc" -eq 1 ] && return 1
        # The harness server's view: how long each request's second piece
        # came after its first, without --nodelay and with it.
        wait_peer_line "^connection $((2 * try)): " 3 || return 1
        gap1=$(sed -nE "s/^connection $((2 * try - 1)): .* median gap ([0-9.]+) ms\$/\1/p" "$PEER_OUT")
        gap2=$(sed -nE "s/^connection $((2 * try)): .* median gap ([0-9.]+) ms\$/\1/p" "$PEER_OUT")
        if [ "$rc" -ne 0 ]; then
            why="the median round trip was $NAGLE_MS ms without --nodelay and $FAST_MS ms with it; expected more than 5 times faster with it"
        elif ! ratio_above "${gap1:-0}" "${gap2:-0}" 5; then
            why="the harness server saw the second piece of each request ${gap1:-?} ms after the first without --nodelay and ${gap2:-?} ms with it; expected over 5 times less with it"
        else
            why=''
            break
        fi
    done
    [ -z "$why" ] ||
        lab_fail "$why (3 tries)" \
            "turn TCP_NODELAY on before the first send(): then the second small write leaves at once instead of waiting for the ACK of the first, which the server delays (~40 ms)" ||
        return 1
    grep -qx 'TCP_NODELAY: asked 1, kernel gives 1' "$CLIENT_OUT" ||
        lab_fail "with --nodelay the client should print 'TCP_NODELAY: asked 1, kernel gives 1'" \
            "in set_nodelay(), after setsockopt(), getsockopt() TCP_NODELAY back into an int and print it"
}

@test "step 5: SO_LINGER 0: after bye the client sees a reset, not end-of-file, and no TIME_WAIT is left" {
    need_ss || return 1
    start_server --linger0 127.0.0.1 0
    peer_ok --why "with --linger0, set SO_LINGER to {l_onoff 1, l_linger 0} on the connection's socket before close(): close() then sends a reset (RST) and the client's recv() fails with ECONNRESET" \
        opt-bye --message 'hello, then a reset\n' --expect reset
    wait_server_line '^SO_LINGER: asked on 0 s, kernel gives on 0 s$' 1 \
        "getsockopt() SO_LINGER back into a struct linger and print it: 'SO_LINGER: asked on 0 s, kernel gives on 0 s'" ||
        return 1
    if [ -n "$(ss_lines -o time-wait "( sport = :$SERVER_PORT )")" ]; then
        lab_fail "a connection of port $SERVER_PORT is in TIME_WAIT after the reset (ss -tan state time-wait)" \
            "an abortive close (SO_LINGER 0) leaves no TIME_WAIT; a graceful one does"
        return 1
    fi
    expect_server_running "after a reset the server goes on with the next client"
}

@test "step 6: end to end: Nagle's delay against your server, and the client's close leaves TIME_WAIT on its side" {
    need_ss || return 1
    start_server 127.0.0.1 0
    local try rc
    for try in 1 2 3; do
        rc=0
        measure_nagle "$SERVER_HOST" "$SERVER_PORT" 5 || rc=$?
        [ "$rc" -eq 1 ] && return 1
        [ "$rc" -eq 0 ] && break
    done
    [ "$rc" -eq 0 ] ||
        lab_fail "against your server the median round trip was $NAGLE_MS ms without --nodelay and $FAST_MS ms with it; expected more than 5 times faster with it (3 tries)" \
            "the client sets TCP_NODELAY with --nodelay (step 4); the server answers each whole line with one send()" ||
        return 1
    wait_time_wait "( dport = :$SERVER_PORT )" 2 ||
        lab_fail "no TIME_WAIT on the client's side after it closed first (ss -tan state time-wait)" \
            "the client closes first, after its rounds" || return 1
    if [ -n "$(ss_lines -o time-wait "( sport = :$SERVER_PORT )")" ]; then
        lab_fail "the server's side of a connection is in TIME_WAIT, though the client closed first" \
            "the server closes after it reads end-of-file, not before"
        return 1
    fi
    expect_server_running "the server serves one client after the other"
}
