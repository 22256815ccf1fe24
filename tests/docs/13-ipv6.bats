#!/usr/bin/env bats
# The commands lessons/13-ipv6/README.md shows, run against the built
# solutions (build/solutions/13-ipv6), on port 0 where the README says
# 8080, and the Python counterparts against the C programs both ways.
# What needs ::1 or a private network namespace skips without them.

setup() {
    LAB_IMPL=solutions
    load '../lib/common'
    load '../lib/lesson-13'
    lab_setup
    C=$LAB_BIN_DIR/13-ipv6
    PY=$LAB_ROOT/lessons/13-ipv6
}

teardown() {
    lab_teardown
}

# Start server command "$@" (C or Python) in the background and wait for
# its listening line; sets PORT and ADDR, and OUT (its output file).
start_any_server() {
    OUT=$LAB_TMP/any-server-$RANDOM.out
    setsid timeout 60 "$@" </dev/null >"$OUT" 2>&1 3>&- &
    LAB_PGIDS+=("$!")
    lab_wait_listening "$OUT" "$!" "server ($*)" || return 1
    ADDR=$LAB_LISTEN_HOST PORT=$LAB_LISTEN_PORT
}

@test "the machine's own answers: ip -6 addr show lo, getent ahosts localhost" {
    command -v ip >/dev/null || skip "no ip command here"
    run timeout 5 ip -6 addr show lo
    [ "$status" -eq 0 ]
    run timeout 5 getent ahosts localhost
    [ "$status" -eq 0 ]
}

@test "--v6only off on ::ffff:127.0.0.1: nc over IPv4, seen as ::ffff:127.0.0.1; --v6only on cannot bind it" {
    need_ipv6
    start_any_server "$C/server" --v6only off ::ffff:127.0.0.1 0
    [ "$ADDR" = ::ffff:127.0.0.1 ]
    run timeout 5 sh -c "echo 'hello, IPv4 to an IPv6 socket' | nc -N 127.0.0.1 $PORT"
    [ "$status" -eq 0 ] && [ "$output" = 'hello, IPv4 to an IPv6 socket' ]
    grep -q '^connection from ::ffff:127\.0\.0\.1:[0-9]*$' "$OUT"
    run timeout 5 "$C/server" --v6only on ::ffff:127.0.0.1 0
    [ "$status" -eq 1 ]
    [ "$output" = 'server: bind ::ffff:127.0.0.1:0: Invalid argument' ]
}

@test "--v6only on ::1: curl -6 gets its echo, curl -4 cannot connect" {
    need_ipv6_loopback
    command -v curl >/dev/null || skip "no curl here"
    start_any_server "$C/server" --v6only on ::1 0
    run timeout 5 sh -c "printf 'hello over IPv6\nbye\n' | curl -6 -s --max-time 3 telnet://[::1]:$PORT"
    [ "$status" -eq 0 ] && [ "$output" = "$(printf 'hello over IPv6\nbye')" ]
    run timeout 5 sh -c "printf 'hello\nbye\n' | curl -4 -s --max-time 3 telnet://127.0.0.1:$PORT"
    [ "$status" -eq 7 ]
}

@test "the client by localhost against a server on 127.0.0.1 only" {
    start_any_server "$C/server" 127.0.0.1 0
    run timeout 5 "$C/client" --timeout 0.5 localhost "$PORT" <<<'hello'
    [ "$status" -eq 0 ]
    local first
    first=$(lookup_stream localhost | head -n 1)
    if [ "$first" = ::1 ]; then
        [ "$output" = "client: connect ::1:$PORT: Connection refused
hello" ]
    else
        [ "$output" = hello ]
    fi
}

@test "the dual-stack server on :: in a namespace of its own, with curl -6 and curl -4" {
    [ "$(id -u)" -eq 0 ] || skip "unshare --net needs root"
    command -v curl >/dev/null || skip "no curl here"
    has_ipv6 || skip "no IPv6 here"
    unshare --net true 2>/dev/null || skip "unshare --net is not allowed here"
    # The README's command, with the solutions' server in place of yours,
    # and a wait for its listening line in place of the README's sleep.
    run timeout 10 unshare --net sh -c "ip link set lo up
    $C/server --v6only off :: 8083 >$LAB_TMP/ns.out &
    until grep -q listening $LAB_TMP/ns.out; do sleep 0.05; done
    printf \"six\nbye\n\" | curl -6 -s --max-time 3 telnet://[::1]:8083
    printf \"four\nbye\n\" | curl -4 -s --max-time 3 telnet://127.0.0.1:8083
    kill \$!; wait; cat $LAB_TMP/ns.out"
    [[ $output == *"listening on :::8083"* ]]
    [[ $output == *"six"$'\n'"bye"* ]]
    [[ $output == *"four"$'\n'"bye"* ]]
    [[ $output == *"connection from ::ffff:127.0.0.1:"* ]]
}

@test "the Python server and client, against the C programs both ways" {
    need_ipv6
    start_any_server "$LAB_PYTHON" "$PY/server.py" --v6only off ::ffff:127.0.0.1 0
    run timeout 5 "$C/client" 127.0.0.1 "$PORT" <<<'C to Python'
    [ "$status" -eq 0 ] && [ "$output" = 'C to Python' ]
    grep -q '^connection from ::ffff:127\.0\.0\.1:[0-9]*$' "$OUT"
    run timeout 5 "$LAB_PYTHON" "$PY/server.py" --v6only on ::ffff:127.0.0.1 0
    [ "$status" -eq 1 ]
    [ "$output" = 'server: bind ::ffff:127.0.0.1:0: Invalid argument' ]
    start_any_server "$C/server" 127.0.0.1 0
    run timeout 5 "$LAB_PYTHON" "$PY/client.py" --timeout 0.5 localhost "$PORT" <<<'Python to C'
    [ "$status" -eq 0 ]
    [ "${lines[${#lines[@]} - 1]}" = 'Python to C' ]
    run timeout 5 "$C/client" --timeout 0.5 localhost "$PORT" <<<'Python to C'
    local c_output=$output
    run timeout 5 "$LAB_PYTHON" "$PY/client.py" --timeout 0.5 localhost "$PORT" <<<'Python to C'
    [ "$output" = "$c_output" ]
}
