#!/usr/bin/env bats
# The commands lessons/14-event-loop/README.md shows, run against the built
# solutions (build/solutions/14-event-loop), the Python counterparts
# against the C programs and the other way round, and the benchmark's
# smoke run.

setup() {
    LAB_IMPL=solutions
    load '../lib/common'
    lab_setup
    C=$LAB_BIN_DIR/14-event-loop
    PY=$LAB_ROOT/lessons/14-event-loop
}

teardown() {
    lab_teardown
}

# Start server command "$@" in the background and wait for its listening
# line; sets PORT and SPID; its output goes to $LAB_TMP/any-server.out.
start_any_server() {
    local out=$LAB_TMP/any-server.out
    : >"$out"
    setsid timeout 60 "$@" </dev/null >"$out" 2>&1 3>&- &
    SPID=$!
    LAB_PGIDS+=("$SPID")
    lab_wait_listening "$out" "$SPID" "server ($*)" || return 1
    PORT=$LAB_LISTEN_PORT
}

@test "server --idle with nc and the client; /proc shows one thread and the raised limit" {
    start_any_server "$C/server" --idle 10 127.0.0.1 0
    run timeout 5 nc -q 1 127.0.0.1 "$PORT" <<<'hello'
    [ "$output" = hello ]
    run timeout 5 "$C/client" 127.0.0.1 "$PORT" <<<'hello, loop'
    [ "$status" -eq 0 ] && [ "$output" = 'hello, loop' ]
    local pid
    pid=$(pgrep -P "$SPID" -x server)
    [ "$(ls "/proc/$pid/task" | wc -l)" -eq 1 ]
    grep 'open files' "/proc/$pid/limits"
    grep -E 'VmRSS|VmHWM' "/proc/$pid/status"
    run timeout 1 strace -e trace=epoll_wait,epoll_ctl -p "$pid"
    [[ $output == *epoll_wait* ]] || [[ $output == *"Operation not permitted"* ]]
    kill -TERM "$pid"
    lab_wait_gone "$pid"
}

@test "the harness crowd, swarm and a full backlog, as the README runs them" {
    start_any_server "$C/server" 127.0.0.1 0
    run timeout 30 "${PEER[@]}" loop-crowd --port "$PORT" --connections 2000 --timeout 25
    [ "$status" -eq 0 ]
    run timeout 20 "${PEER[@]}" loop-swarm --port "$PORT" --clients 200 --timeout 15
    [ "$status" -eq 0 ]
    start_peer_server backlog-full --timeout 30
    run timeout 5 "$C/client" --timeout 1 127.0.0.1 "$PEER_PORT"
    [ "$status" -eq 1 ]
    [ "$output" = "client: connect 127.0.0.1:$PEER_PORT: timed out" ]
    run timeout 5 "$LAB_PYTHON" "$PY/client.py" --timeout 1 127.0.0.1 "$PEER_PORT"
    [ "$status" -eq 1 ]
    [ "$output" = "client: connect 127.0.0.1:$PEER_PORT: timed out" ]
}

@test "server.py and client.py talk to the C programs both ways" {
    start_any_server "$LAB_PYTHON" "$PY/server.py" --idle 10 127.0.0.1 0
    run timeout 5 "$C/client" 127.0.0.1 "$PORT" <<<'to Python'
    [ "$status" -eq 0 ] && [ "$output" = 'to Python' ]
    start_any_server "$C/server" --poll 127.0.0.1 0
    run timeout 5 "$LAB_PYTHON" "$PY/client.py" 127.0.0.1 "$PORT" <<<'from Python'
    [ "$status" -eq 0 ] && [ "$output" = 'from Python' ]
    start_any_server "$LAB_PYTHON" "$PY/server.py" --poll --idle 0.5 127.0.0.1 0
    run timeout 10 "${PEER[@]}" idle-check --idle 0.5 --port "$PORT" --timeout 8
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    # The swarm gets a server of its own with the README's --idle 10: at
    # 0.5 s, a swarm client a busy machine kept waiting was dropped.
    start_any_server "$LAB_PYTHON" "$PY/server.py" --poll --idle 10 127.0.0.1 0
    run timeout 10 "${PEER[@]}" loop-swarm --port "$PORT" --clients 50 --timeout 8
    [ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "the benchmark's smoke run prints a row for each server" {
    run timeout 60 "$LAB_ROOT/tests/lib/bench-event-loop" --quick
    [ "$status" -eq 0 ]
    [ "$(grep -cE '^(14 epoll|14 poll|06 select|asyncio)' <<<"$output")" -eq 8 ]
}
