#!/usr/bin/env bats
# Lesson 13: IPv6. One @test per step of lessons/13-ipv6/README.md.
#
# Steps 1-2 run the server on loopback only: an IPv6 socket bound to
# ::ffff:127.0.0.1 takes IPv4 clients when IPV6_V6ONLY is off, and cannot
# bind it when it is on. Steps 3-4 bind "::", every interface, so they run
# only in a private network namespace (make check as root) and skip
# elsewhere; step 4 also makes that namespace IPv6-only by default
# (net.ipv6.bindv6only) for one server, so --v6only off must be said.
# Steps 5-7 put the client against a harness server on one port of ::1
# and 127.0.0.1, where the address localhost gives first refuses, stalls
# or both refuse. Step 8: curl -6, curl -4 and the client against
# the dual-stack server. A machine without ::1 skips what needs it.

setup() {
    load 'lib/common'
    load 'lib/lesson-13'
    lab_setup
}

teardown() {
    restore_bindv6only
    lab_teardown
}

@test "step 1: with --v6only off an IPv6 listener takes IPv4 clients, seen as ::ffff:127.0.0.1" {
    need_ipv6
    start_server_why "an IPv6 socket can bind ::ffff:127.0.0.1 (an IPv4-mapped address) only while IPV6_V6ONLY is 0: set it as --v6only says with setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, ...) before bind() (after bind() it fails with EINVAL)" \
        --v6only off ::ffff:127.0.0.1 0
    [ "$SERVER_HOST" = ::ffff:127.0.0.1 ] ||
        lab_fail "the server says it listens on $SERVER_HOST; expected ::ffff:127.0.0.1, the address it was given" \
            "ask getaddrinfo() for any family (AF_UNSPEC): asked for AF_INET only, glibc turns ::ffff:127.0.0.1 into 127.0.0.1 and you get an IPv4 socket"
    SERVER_HOST=127.0.0.1 peer_ok --why "an IPv6 socket takes IPv4 clients only while IPV6_V6ONLY is 0: setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) before bind(), as --v6only off asks" \
        echo-client --message 'an IPv4 client on an IPv6 socket\n'
    wait_server_line '^connection from ::ffff:127\.0\.0\.1:[0-9]+$' 3 \
        "the IPv6 socket sees the IPv4 client as an IPv4-mapped IPv6 address: print accept()'s address with getnameinfo(NI_NUMERICHOST), as it is"
}

@test "step 2: with --v6only on an IPv6 socket takes no IPv4, and IPv4 sockets are left alone" {
    need_ipv6
    LAB_CALL_TIMEOUT=2 run_server --v6only on ::ffff:127.0.0.1 0
    if [ -n "$SERVER_TIMED_OUT" ] || grep -q '^listening on' "$LAB_TMP/server.out"; then
        lab_fail "with --v6only on the server listened on ::ffff:127.0.0.1, an IPv4 address; an IPv6-only socket cannot bind it" \
            "set IPV6_V6ONLY to 1 for --v6only on, before bind(): then bind() fails with EINVAL (Invalid argument)"
    fi
    [ "$status" -eq 1 ] ||
        lab_fail "the server exited with $(lab_describe_status "$status"); expected status 1 when nothing could be bound" \
            "report the failed bind() and return 1"
    expect_server_error '^server: bind ::ffff:127\.0\.0\.1:0: Invalid argument$' \
        "an IPv6-only socket refuses an IPv4-mapped address at bind(): set IPV6_V6ONLY before bind() (after it, setsockopt() fails instead)"
    start_server_why "IPV6_V6ONLY is an option of IPv6 sockets only: on an AF_INET socket setsockopt() fails (Protocol not available). Set it only when the family is AF_INET6" \
        --v6only on 127.0.0.1 0
    peer_ok --why "IPV6_V6ONLY is an option of IPv6 sockets only: on an AF_INET socket setsockopt() fails (Protocol not available). Set it only when ai_family is AF_INET6" \
        echo-client --message 'an IPv4 server with --v6only on\n'
}

@test "step 3: on :: with --v6only off one socket serves IPv6 and IPv4 clients" {
    need_ipv6_loopback
    need_private_netns
    start_server_why "set IPV6_V6ONLY as --v6only says, with setsockopt() before bind(), on IPv6 sockets only" \
        --v6only off :: 0
    SERVER_HOST=::1 peer_ok --why "a listener on :: takes IPv6 clients from every address, ::1 included" \
        echo-client --message 'over IPv6\n'
    SERVER_HOST=127.0.0.1 peer_ok --why "with IPV6_V6ONLY 0 a listener on :: takes IPv4 clients too: set it before bind()" \
        echo-client --message 'over IPv4\n'
    wait_server_line '^connection from ::1:[0-9]+$' 3 \
        "log each client's address as accept() gives it"
    wait_server_line '^connection from ::ffff:127\.0\.0\.1:[0-9]+$' 3 \
        "an IPv4 client of an IPv6 socket is seen as ::ffff:127.0.0.1"
}

@test "step 4: on :: --v6only on refuses IPv4, and off serves it even where the default is IPv6 only" {
    need_ipv6_loopback
    need_private_netns
    start_server_why "set IPV6_V6ONLY as --v6only says, with setsockopt() before bind(), on IPv6 sockets only" \
        --v6only on :: 0
    SERVER_HOST=::1 peer_ok --why "a listener on :: takes IPv6 clients" \
        echo-client --message 'over IPv6 only\n'
    SERVER_HOST=127.0.0.1 peer_ok --why "with --v6only on, IPV6_V6ONLY must be 1 (set before bind()): the socket on :: then takes no IPv4 client, and 0.0.0.0 on the same port is free for an IPv4 socket of its own" \
        ipv6-refused
    start_server_ipv6_only_default "set IPV6_V6ONLY as --v6only says, to 0 for off too, with setsockopt() before bind()" \
        --v6only off :: 0
    SERVER_HOST=127.0.0.1 peer_ok --why "here new IPv6 sockets are IPv6 only unless told otherwise (net.ipv6.bindv6only = 1, the default of the BSDs and Windows): --v6only off must set IPV6_V6ONLY to 0 itself, not rely on the system's default" \
        echo-client --message 'over IPv4 where the default is IPv6 only\n'
}

@test "step 5: the client tries each address of a name in turn and says why each failed" {
    use_dual_localhost
    start_peer_server ipv6-split --first "$DUAL_FIRST" --first-mode refuse \
        --second "$DUAL_SECOND" --second-mode echo
    printf 'through the second address\n' >"$LAB_TMP/input"
    LAB_STDIN=$LAB_TMP/input run_client --timeout 2 localhost "$PEER_PORT"
    never_tried_first
    expect_client_status 0 "localhost is $DUAL_FIRST, then $DUAL_SECOND here, and only $DUAL_SECOND answers: when connect() on one address fails, close that socket and try the next result of getaddrinfo() (ai_next)"
    expect_client_stdout 'through the second address\n' \
        "once an address answers, talk over that socket"
    expect_client_said "^client: connect ${DUAL_FIRST//./\\.}:$PEER_PORT: Connection refused\$" \
        "say on stderr which address failed and why, in numbers (getnameinfo with NI_NUMERICHOST | NI_NUMERICSERV), one line per address that failed"
}

@test "step 6: an address that never answers costs the client --timeout, not minutes" {
    use_dual_localhost
    start_peer_server ipv6-split --first "$DUAL_FIRST" --first-mode stall \
        --second "$DUAL_SECOND" --second-mode echo
    printf 'after a silent address\n' >"$LAB_TMP/input"
    LAB_CALL_TIMEOUT=5 LAB_STDIN=$LAB_TMP/input run_client_timed --timeout 0.5 localhost "$PEER_PORT"
    [ -z "$CLIENT_TIMED_OUT" ] ||
        lab_fail "the client was still running after 5 s and was killed: $DUAL_FIRST, the first address of localhost here, never answers the handshake, and the client waited for it" \
            "a blocking connect() waits for minutes. Make the socket non-blocking, connect() (EINPROGRESS), poll() for POLLOUT at most --timeout, then go on with the next address"
    never_tried_first
    expect_client_status 0 "$DUAL_FIRST never answers the handshake here: a blocking connect() waits for minutes. Make the socket non-blocking, connect() (EINPROGRESS), poll() for POLLOUT at most --timeout, then go on with the next address"
    expect_client_stdout 'after a silent address\n' \
        "once an address answers, talk over that socket"
    expect_client_said "^client: connect ${DUAL_FIRST//./\\.}:$PEER_PORT: timed out\$" \
        "when poll() runs out of time, say 'timed out' for that address, close it and try the next"
    expect_client_elapsed 0.4 4 \
        "wait at most --timeout (0.5 s) for each address, and not less: poll(fd, POLLOUT, timeout_ms)"
}

@test "step 7: when no address answers the client reports each one and exits 1" {
    use_dual_localhost
    start_peer_server ipv6-split --first "$DUAL_FIRST" --first-mode refuse \
        --second "$DUAL_SECOND" --second-mode refuse
    run_client --timeout 2 localhost "$PEER_PORT"
    never_tried_first
    expect_client_status 1 "when every address failed, connect_to() returns -1 and the client exits 1"
    local expected
    printf -v expected 'client: connect %s:%s: Connection refused\nclient: connect %s:%s: Connection refused' \
        "$DUAL_FIRST" "$PEER_PORT" "$DUAL_SECOND" "$PEER_PORT"
    [ "$stderr" = "$expected" ] ||
        lab_fail "the client's messages are not what a user should see
  expected $(lab_escape "$expected")
  stderr was $(lab_escape_file "$CLIENT_ERR")" \
            "one line per address tried, in getaddrinfo()'s order, each with the address in numbers and its own reason"
}

@test "step 8: end to end, curl -6, curl -4 and the client all reach the dual-stack server" {
    need_ipv6_loopback
    need_private_netns
    command -v curl >/dev/null ||
        skip "curl is not installed (apt-get install -y curl)"
    start_server_why "set IPV6_V6ONLY as --v6only says, with setsockopt() before bind(), on IPv6 sockets only" \
        --v6only off :: 0
    LAB_REPRO+=("printf 'hello\\nbye\\n' | curl -6 -s --max-time 3 telnet://[::1]:$SERVER_PORT")
    local family addr out
    for family in 6 4; do
        addr='[::1]'
        [ $family = 4 ] && addr=127.0.0.1
        out=$(printf 'hello with curl -%s\nbye\n' $family |
            timeout 5 curl -$family -s --max-time 3 "telnet://$addr:$SERVER_PORT" 2>&1) || true
        [ "$out" = "$(printf 'hello with curl -%s\nbye' $family)" ] ||
            lab_fail "curl -$family telnet://$addr:$SERVER_PORT got $(lab_escape "$out"); expected its two lines back" \
                "the server on :: with --v6only off must take IPv$family clients"
    done
    printf 'hello from the client\n' >"$LAB_TMP/input"
    LAB_STDIN=$LAB_TMP/input run_client --timeout 2 localhost "$SERVER_PORT"
    expect_client_status 0
    expect_client_stdout 'hello from the client\n'
    wait_server_line '^connection from ::1:[0-9]+$' 3 "curl -6 came from ::1"
    wait_server_line '^connection from ::ffff:127\.0\.0\.1:[0-9]+$' 3 \
        "curl -4 came from 127.0.0.1, seen as ::ffff:127.0.0.1"
}
