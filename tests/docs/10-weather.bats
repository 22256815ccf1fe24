#!/usr/bin/env bats
# The commands lessons/10-weather/README.md shows (the opening example and
# "Run it by hand"), run against the built solutions, each bounded. Ports
# are the kernel's choice (0) instead of the README's 23456, intervals are
# shorter, and the state files live in a folder the sandbox can write.

setup() {
    export LAB_IMPL=solutions
    load '../lib/common'
    load '../lib/lesson-10'
    lab_setup
    LESSON_DIR=$LAB_ROOT/lessons/10-weather
    weather_state_dir
}

teardown() {
    lab_teardown
    local rc=$?
    weather_cleanup
    return $rc
}

# Start the Python collector with ARGS (its own process group, bounded)
# and wait for its listening line; sets PY_PID and PY_PORT.
start_py_server() {
    # Emptied here, before the start: a restart must never find the last
    # server's listening line in it.
    : >"$LAB_TMP/py-server.out"
    setsid timeout 60 "$LAB_PYTHON" "$LESSON_DIR/server.py" "$@" \
        </dev/null >"$LAB_TMP/py-server.out" 2>&1 3>&- &
    PY_PID=$!
    LAB_PGIDS+=("$PY_PID")
    lab_wait_listening "$LAB_TMP/py-server.out" "$PY_PID" "Python server" || return 1
    PY_PORT=$LAB_LISTEN_PORT
}

# Ask STATS with nc, as the README does; sets output.
nc_stats() {
    output=$(printf 'STATS\n' | timeout 5 nc -q 1 127.0.0.1 "$1")
}

@test "the opening example: a sensor's 6 readings, then Ctrl-C prints the stats" {
    start_server --state "$STATE_DIR/weather.state" 127.0.0.1 0
    run_client --interval 0.02 127.0.0.1 "$SERVER_PORT"
    [ "$status" -eq 0 ]
    [ "$output" = "acknowledged 1 15.0
acknowledged 2 22.0
acknowledged 3 21.0
acknowledged 4 26.0
acknowledged 5 25.0
acknowledged 6 19.0
all 6 readings acknowledged" ]
    kill -INT "$SERVER_PID"
    wait_server_exit 3
    [ "$SERVER_STATUS" -eq 0 ]
    [ "$(tail -n 3 "$LAB_TMP/server.out")" = "STATION station1 6 15.0 21.33 26.0
REJECTED 0
END" ]
}

@test "by hand: two sensors, the collector killed and restarted, STATS with nc, nc as a sensor, the state file" {
    local state=$STATE_DIR/weather.state port
    start_server --state "$state" 127.0.0.1 0
    port=$SERVER_PORT
    LAB_CALL_TIMEOUT=10
    start_sensor roof --interval 0.05 --count 50 --id roof 127.0.0.1 "$port"
    start_sensor cellar --interval 0.05 --count 50 --id cellar 127.0.0.1 "$port"
    timeout 10 "${PEER[@]}" weather-wait --port "$port" --min-total 20 3>&-
    kill_server
    start_server --state "$state" 127.0.0.1 "$port"
    wait_sensors 8
    nc_stats "$port"
    [[ $output == *"STATION roof 50 15.0 21.22 26.0"* ]]
    [[ $output == *"STATION cellar 50 15.0 21.22 26.0"* ]]
    [[ $output == *$'REJECTED 0\nEND' ]]
    output=$(printf '%s\n' 'READING porch 1 1700000000 12.5' 'READING porch 1 1700000000 12.5' \
        'READING porch 2 1700000000 999' 'READING bad/name 1 1700000000 3' |
        timeout 5 nc -C -q 1 127.0.0.1 "$port")
    [ "$output" = "ACK porch 1
ACK porch 1
ERR temperature out of range
ERR bad station name" ]
    run cat "$state"
    [ "${lines[0]}" = "weather-state 1" ]
    [[ $output == *"roof 50 50 10610 150 260"* ]]
    [[ $output == *"cellar 50 50 10610 150 260"* ]]
    [[ $output == *"porch 1 1 125 125 125"* ]]
}

@test "by hand: the Python collector with the C sensor, the Python sensor with the C collector" {
    start_py_server --state "$STATE_DIR/py.state" 127.0.0.1 0
    run_client --interval 0.02 --count 3 127.0.0.1 "$PY_PORT"
    [ "$status" -eq 0 ]
    [ "$output" = $'acknowledged 1 15.0\nacknowledged 2 22.0\nacknowledged 3 21.0\nall 3 readings acknowledged' ]
    nc_stats "$PY_PORT"
    [ "$output" = $'STATION station1 3 15.0 19.33 22.0\nREJECTED 0\nEND' ]
    start_server 127.0.0.1 0
    run timeout 10 "$LAB_PYTHON" "$LESSON_DIR/client.py" --interval 0.02 --count 3 127.0.0.1 "$SERVER_PORT"
    [ "$status" -eq 0 ]
    [ "$output" = $'acknowledged 1 15.0\nacknowledged 2 22.0\nacknowledged 3 21.0\nall 3 readings acknowledged' ]
    nc_stats "$SERVER_PORT"
    [ "$output" = $'STATION station1 3 15.0 19.33 22.0\nREJECTED 0\nEND' ]
}

@test "the Python collector refuses what the C one refuses, and survives a restart" {
    start_py_server --state "$STATE_DIR/py2.state" 127.0.0.1 0
    local port=$PY_PORT
    run timeout 15 "${PEER[@]}" weather-garbage --port "$PY_PORT" --timeout 10 3>&-
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run timeout 15 "${PEER[@]}" weather-dups --port "$PY_PORT" 3>&-
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    kill -KILL -- "-$PY_PID"
    lab_wait_gone "$PY_PID"
    start_py_server --state "$STATE_DIR/py2.state" 127.0.0.1 "$port"
    run timeout 15 "${PEER[@]}" weather-dups --port "$PY_PORT" 3>&-
    [ "$status" -eq 0 ] || { echo "$output"; false; }
}
