#!/usr/bin/env bats
# bench.bats - `bench N [MODE]`: the student's server and the reference
# under the same bounded loopback load (build/lab/tools/loadgen), at 1, 4
# and 16 clients. The figures are never asserted beyond "there are some":
# the machine is shared.

setup() {
    load 'helpers'
    lab_repl_setup
    export LAB_BENCH_SECONDS=0.3
}

teardown() {
    lab_repl_teardown
}

@test "bench: a table of both servers at 1, 4 and 16 clients, and a plot" {
    LAB_REPL_TIMEOUT=120 lab_run bench 03
    echo "$output"
    assert_line --regexp '^bench 03-echo-threads: line load, 1, 4 and 16 clients'
    assert_line --regexp '^clients +yours/s +p50 ms +p99 ms +errors +ref/s +p50 ms +p99 ms$'
    # The reference answers: a non-zero rate at every level.
    assert_line --regexp '^1 +.* +[1-9][0-9]* +[0-9.]+ +[0-9.]+$'
    assert_line --regexp '^4 +.* +[1-9][0-9]* +[0-9.]+ +[0-9.]+$'
    assert_line --regexp '^16 +.* +[1-9][0-9]* +[0-9.]+ +[0-9.]+$'
    assert_line 'throughput (requests per second)'
    assert_line --regexp '^ +16 clients  yours '
}

@test "bench: a server that exits at once is reported, not waited for" {
    # The lesson 01 skeleton's server exits before it listens.
    LAB_REPL_TIMEOUT=8 lab_run bench 01
    [ "$status" -eq 1 ]
    assert_line --regexp '^1 +- +- +- +- +[1-9]'
    assert_line '(yours did not start, or never said `listening on`)'
}

@test "the load generator: bounded, loopback only, errors when nobody answers" {
    local gen=$LAB_ROOT/build/lab/tools/loadgen port
    [ -x "$gen" ] || skip "build the lab first (make lab-build)"
    port=$(free_port)
    run timeout 10 "$gen" --conns 2 --seconds 0.3 127.0.0.1 "$port"
    [ "$status" -eq 0 ]
    assert_output --regexp '^conns=2 requests=0 errors=[1-9][0-9]* seconds=0\.[0-9]+ rps=0 '
    run timeout 10 "$gen" --conns 2 --seconds 0.3 10.0.0.1 "$port"
    [ "$status" -eq 2 ]
    assert_output --partial 'a loopback address (127.x.x.x) only'
}

@test "bench: usage, and a lesson without a server" {
    lab_run bench 03 nosuchmode
    [ "$status" -eq 2 ]
    assert_output 'usage: bench N [line|once|http|udp]'
    if [ -d "$LAB_ROOT/solutions/11-http-get" ]; then
        lab_run bench 11
        [ "$status" -eq 1 ]
        assert_output 'lab: 11-http-get has no server to bench'
    fi
}

@test "every lesson's server can be benched" {
    local d n
    export LAB_BENCH_SECONDS=0.1
    for d in "$LAB_ROOT"/solutions/[0-9][0-9]-*; do
        [ -f "$d/server.c" ] || continue
        n=$(basename "$d")
        LAB_REPL_TIMEOUT=120 lab_run bench "${n%%-*}"
        grep -qE '^16 +' <<<"$output" || {
            echo "bench $n made no table:" >&2
            echo "$output" >&2
            return 1
        }
    done
}
