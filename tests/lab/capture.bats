#!/usr/bin/env bats
# capture.bats - `capture N server|client [--ref] [ARGS...]`: a program's
# packets on loopback from tcpdump, in a few lines, kept as a .pcap.
# Needs tcpdump and the right to capture (root). Loopback only, bounded.

setup() {
    load 'helpers'
    lab_repl_setup
    command -v tcpdump >/dev/null || skip "tcpdump is not installed"
    [ "$(id -u)" -eq 0 ] || skip "capturing needs root"
}

teardown() {
    lab_repl_teardown
}

@test "capture of a server: handshake, data with lengths, FIN, and a pcap" {
    local port
    port=$(free_port)
    lab_start capture 01 server --ref 127.0.0.1 "$port"
    repl_wait_for "^listening on 127\\.0\\.0\\.1:$port\$" 20
    run timeout 10 "$LAB_ROOT/build/solutions/01-echo-once/client" 127.0.0.1 "$port" hello
    [ "$status" -eq 0 ]
    repl_wait_for 'ACKs? without data' 30
    run cat "$BATS_TEST_TMPDIR/repl.out"
    echo "$output"
    assert_line --regexp "^packets on port $port \\(kept in .*\\.pcap for Wireshark\\):\$"
    assert_line --regexp '^ +[0-9.]+  client :[0-9]+ > server  SYN$'
    assert_line --regexp '^ +[0-9.]+  server > client :[0-9]+  SYN-ACK$'
    assert_line --regexp '^ +[0-9.]+  client :[0-9]+ > server  data, 6 bytes$'
    assert_line --regexp '^ +[0-9.]+  server > client :[0-9]+  data, 6 bytes$'
    assert_line --regexp '^ +[0-9.]+  server > client :[0-9]+  FIN$'
    local pcap
    pcap=$(sed -n 's/^packets on port [0-9]* (kept in \(.*\.pcap\) for Wireshark):$/\1/p' "$BATS_TEST_TMPDIR/repl.out")
    [ -s "$pcap" ]
    run timeout 10 tcpdump -nn -r "$pcap"
    assert_output --partial "127.0.0.1.$port"
    rm -f "$pcap"
}

@test "capture of a refused client: SYN, then the RST" {
    local port
    port=$(free_port)
    lab_run capture 01 client --ref 127.0.0.1 "$port" hi
    echo "$output"
    [ "$status" -eq 1 ]
    assert_line --regexp '^ +[0-9.]+  client :[0-9]+ > server  SYN$'
    assert_line --regexp '^ +[0-9.]+  server > client :[0-9]+  RST$'
}

@test "capture: usage" {
    lab_run capture 01
    [ "$status" -eq 2 ]
    assert_output 'usage: capture N server|client [--ref] [ARGS...]'
}

@test "every lesson's program can be captured" {
    local d n out ports i=0
    # All at once, each on a port of its own: each waits out its bound.
    read -r -a ports < <(free_ports 20)
    for d in "$LAB_ROOT"/solutions/[0-9][0-9]-*; do
        n=$(basename "$d")
        out=$BATS_TEST_TMPDIR/$n.out
        if [ -f "$d/client.c" ]; then # nobody listens there: SYN and RST
            (
                LAB_RUN_TIMEOUT=3 lab_run_bg "$out" capture "${n%%-*}" client --ref 127.0.0.1 "${ports[i]}" hi
                wait
                if grep -q '^usage: ' "$out"; then # one that takes no message
                    LAB_RUN_TIMEOUT=3 lab_run_bg "$out" capture "${n%%-*}" client --ref 127.0.0.1 "${ports[i]}"
                    wait
                fi
            ) &
        else # a server alone: it listens on the port it was given
            LAB_RUN_TIMEOUT=2 lab_run_bg "$out" capture "${n%%-*}" server --ref 127.0.0.1 "${ports[i]}"
        fi
        i=$((i + 1))
    done
    wait
    i=0
    for d in "$LAB_ROOT"/solutions/[0-9][0-9]-*; do
        n=$(basename "$d")
        out=$BATS_TEST_TMPDIR/$n.out
        if [ -f "$d/client.c" ]; then
            grep -qE '  (SYN|datagram, [0-9]+ bytes)$' "$out"
        else
            grep -q "^packets on port ${ports[i]} " "$out"
        fi || {
            echo "capture of $n showed no packet:" >&2
            cat "$out" >&2
            return 1
        }
        i=$((i + 1))
    done
}

@test "check N --capture: the failing step again, its packets in a few lines" {
    make_checkout --solved
    # A server that only pretends to send: step 2 fails.
    sed -i 's/send(fd, buf, len, MSG_NOSIGNAL)/(fd >= 0 ? (ssize_t)len : -1)/' \
        "$REPL_ROOT/lessons/01-echo-once/server.c"
    LAB_REPL_TIMEOUT=240 lab_run check 01 --capture
    echo "$output"
    [ "$status" -eq 1 ]
    assert_line --regexp 'FAIL step 2: '
    assert_line 'step 2 again, captured:'
    assert_line --regexp "^  the step's packets \\(kept in .*\\.pcap for Wireshark\\):\$"
    assert_line --regexp '^ +[0-9.]+  client :[0-9]+ > server  SYN$'
    assert_line --regexp '^ +[0-9.]+  client :[0-9]+ > server  data, [0-9]+ bytes'
    assert_line --regexp '^ +[0-9.]+  server > client :[0-9]+  FIN$'
}

@test "check N --trace: the failing step again, with its socket calls" {
    make_checkout --solved
    sed -i 's/send(fd, buf, len, MSG_NOSIGNAL)/(fd >= 0 ? (ssize_t)len : -1)/' \
        "$REPL_ROOT/lessons/01-echo-once/server.c"
    LAB_REPL_TIMEOUT=240 lab_run check 01 --trace
    echo "$output"
    [ "$status" -eq 1 ]
    assert_line 'step 2 again, traced:'
    # common.bash runs the programs under strace (LAB_TRACE_DIR): the
    # server's recv shows, and no send after it.
    assert_output --partial 'socket calls:'
    assert_line --regexp '^    recv\([0-9]+, [0-9]+\) = [0-9]+ "'
}
