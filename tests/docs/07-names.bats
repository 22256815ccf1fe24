#!/usr/bin/env bats
# The commands lessons/07-names/README.md shows, run against the built
# solutions (build/solutions/07-names), and the Python counterparts
# against the C programs and the other way round. Each answer is compared
# with what this machine's own tools say, asked in the same test.

setup() {
    LAB_IMPL=solutions
    load '../lib/common'
    load '../lib/lesson-07'
    lab_setup
    C=$LAB_BIN_DIR/07-names
    PY=$LAB_ROOT/lessons/07-names
}

teardown() {
    lab_teardown
}

# Start server command "$@" (C or Python) in the background and wait for
# its listening line; sets PORT and ADDR.
start_any_server() {
    local out=$LAB_TMP/any-server-$RANDOM.out
    setsid timeout 60 "$@" </dev/null >"$out" 2>&1 3>&- &
    LAB_PGIDS+=("$!")
    lab_wait_listening "$out" "$!" "server ($*)" || return 1
    ADDR=$LAB_LISTEN_HOST PORT=$LAB_LISTEN_PORT
}

@test "the answers of --whoami, --lookup, --service, --reverse are the system's" {
    run timeout 5 "$C/client" --whoami
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "hostname: $(hostname)" ]
    if hostname -f >/dev/null 2>&1; then
        [ "${lines[1]}" = "fqdn: $(hostname -f)" ]
    fi
    local name
    for name in localhost "$(hostname)"; do
        run timeout 5 "$C/client" --lookup "$name"
        [ "$status" -eq 0 ]
        [ "$output" = "$(expected_lookup "$name")" ]
    done
    run timeout 5 "$C/client" --service http/tcp
    [ "$output" = "$(getent services http/tcp)" ]
    run timeout 5 "$C/client" --service http
    [ "$output" = "$(getent services http)" ]
    run timeout 5 "$C/client" --reverse 127.0.0.1
    [ "$output" = "$(getent hosts 127.0.0.1 | awk '{ print $2; exit }')" ]
    run timeout 5 "$C/client" --lookup no-such-host.invalid
    [ "$status" -eq 1 ]
    [[ $output == "client: getaddrinfo no-such-host.invalid: "* ]]
}

@test "the Python client answers like the C client" {
    local arg
    for arg in --whoami "--lookup localhost" "--lookup ::1" "--reverse 127.0.0.1" \
        "--lookup no-such-host.invalid"; do
        run timeout 5 "$C/client" $arg
        local c_status=$status c_output=$output
        run timeout 5 "$LAB_PYTHON" "$PY/client.py" $arg
        [ "$status" -eq "$c_status" ]
        [ "$output" = "$c_output" ]
    done
    run timeout 5 "$LAB_PYTHON" "$PY/client.py" --service http/tcp
    [ "$output" = "$(printf '%-21s %d/%s' http 80 tcp)" ]
}

@test "server localhost and client localhost, in C and in Python, both ways" {
    start_any_server "$C/server" localhost 0
    run timeout 5 "$C/client" localhost "$PORT" <<<'hello by name'
    [ "$status" -eq 0 ] && [ "$output" = 'hello by name' ]
    run timeout 5 "$LAB_PYTHON" "$PY/client.py" localhost "$PORT" <<<'from Python'
    [ "$status" -eq 0 ] && [ "$output" = 'from Python' ]
    start_any_server "$LAB_PYTHON" "$PY/server.py" localhost 0
    run timeout 5 "$C/client" localhost "$PORT" <<<'to Python'
    [ "$status" -eq 0 ] && [ "$output" = 'to Python' ]
}

@test "server ::1 and client ::1, where this machine has ::1" {
    ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128' || skip "no ::1 here"
    start_any_server "$C/server" ::1 0
    [ "$ADDR" = ::1 ]
    run timeout 5 "$C/client" ::1 "$PORT" <<<'over IPv6'
    [ "$status" -eq 0 ] && [ "$output" = 'over IPv6' ]
}
