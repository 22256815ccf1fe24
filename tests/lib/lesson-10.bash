# lesson-10.bash - helpers only lesson 10 (weather) uses; its tests load it
# after lib/common.
#
#   weather_state_dir     a folder the sandboxed collector may write its
#                         state file in; sets STATE_DIR (removed at teardown)
#   start_sensor NAME ARGS  this lesson's client (a sensor) in the background
#   wait_sensors S        wait for every started sensor to exit 0
#   kill_server           SIGKILL the collector and wait until it is gone

SENSOR_PIDS=()
SENSOR_NAMES=()

# Make STATE_DIR: under /tmp, not in the test's folder, which only we can
# enter; the sandbox uid must create FILE and FILE.tmp in it.
weather_state_dir() {
    STATE_DIR=$(mktemp -d /tmp/socklab-weather.XXXXXX) || return 1
    chmod 1777 "$STATE_DIR"
}

# Remove STATE_DIR, if any (teardown).
weather_cleanup() {
    [ -n "${STATE_DIR:-}" ] && rm -rf "$STATE_DIR"
    return 0
}

# Start this lesson's client (a sensor) with ARGS in the background, its
# output in $LAB_TMP/sensor-NAME.out and .err; bounded by LAB_CALL_TIMEOUT.
start_sensor() {
    local name=$1 bin
    shift
    bin=$(lab_program client) || return 1
    LAB_REPRO+=("$(lab_rel "$bin") $(lab_args "$@") &")
    setsid timeout -k 1 "$LAB_CALL_TIMEOUT" "${LAB_SANDBOX[@]}" "$bin" "$@" \
        </dev/null >"$LAB_TMP/sensor-$name.out" 2>"$LAB_TMP/sensor-$name.err" \
        3>&- 219>&- &
    SENSOR_PIDS+=("$!")
    SENSOR_NAMES+=("$name")
    LAB_PGIDS+=("$!")
}

# Wait up to $1 seconds for every start_sensor sensor to exit; fail unless
# each exited 0. $2: the usual causes.
wait_sensors() {
    local secs=$1 i pid end=$((${EPOCHREALTIME//[!0-9]/} + $1 * 1000000))
    for i in "${!SENSOR_PIDS[@]}"; do
        pid=${SENSOR_PIDS[$i]}
        while lab_alive "$pid" && [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
            sleep 0.02 # polling for the sensor's exit, with a deadline
        done
        local what
        if lab_alive "$pid"; then
            what="was still running $secs s later"
        else
            lab_reap "$pid"
            [ "$LAB_REAPED" -eq 0 ] && continue
            what="exited with $(lab_describe_status "$LAB_REAPED")"
            [ "$LAB_REAPED" -eq 124 ] && what="was killed after ${LAB_CALL_TIMEOUT} s"
        fi
        lab_fail "sensor ${SENSOR_NAMES[$i]} $what; expected it to finish with status 0
  its stdout (last lines): $(tail -n 3 "$LAB_TMP/sensor-${SENSOR_NAMES[$i]}.out" | tr '\n' '|')
  its stderr (last lines): $(tail -n 4 "$LAB_TMP/sensor-${SENSOR_NAMES[$i]}.err" | tr '\n' '|')" \
            "${2:-}"
        return 1
    done
}

# Kill the collector with SIGKILL (a crash: no handler runs) and wait
# until it is gone.
kill_server() {
    kill -KILL "$SERVER_PID" 2>/dev/null
    local end=$((${EPOCHREALTIME//[!0-9]/} + 2000000))
    while lab_alive "$SERVER_PID" && [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
        sleep 0.02 # polling for the kill to land, with a deadline
    done
    lab_reap "$SERVER_PID"
    LAB_REPRO+=("kill -KILL %1    # the collector crashes")
}

