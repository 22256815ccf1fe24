#!/usr/bin/env bats
# Lesson 10: weather. One @test per step of lessons/10-weather/README.md.
#
# Steps 1-6 drive the collector (server) with harness sensors: readings
# and STATS, malformed lines, many sensors at once while one holds its
# connection (a sequential collector fails), resent readings, SIGTERM,
# and a SIGKILL + restart with the state file. Steps 7-8 put the sensor
# (client) against a harness collector: pace, SEQ and TEMP of its
# readings, waiting for every ACK, backoff, resending after a dropped
# connection, giving up. Step 9 runs the student's collector with the
# student's sensors and harness sensors, and kills and restarts the
# collector mid-stream: the final stats must be exact.

setup() {
    load 'lib/common'
    load 'lib/lesson-10'
    lab_setup
}

teardown() {
    lab_teardown
    local rc=$?
    weather_cleanup
    return $rc
}

@test "step 1: a reading is acknowledged and STATS gives count, min, mean, max" {
    start_server
    peer_ok --why "answer each reading line with \"ACK STATION SEQ\" once count_reading() has added it to its station's row (count, sum, min, max); STATS answers a line \"STATION NAME COUNT MIN MEAN MAX\" per station (MIN and MAX like 21.5, MEAN with 2 decimals), then REJECTED and END" \
        weather-sensors --sensors 3 --count 4 --sequential --prefix first
}

@test "step 2: malformed and out-of-range lines get ERR, are counted, change nothing" {
    start_server
    LAB_CALL_TIMEOUT=8 peer_ok --why "check every field before you count: the station name (1-32 of A-Z a-z 0-9 _ -), SEQ (1 or more), the temperature within -90.0..60.0, only printable bytes in the line; answer \"ERR reason\" and add one to rejected for every line refused, and never count it" \
        weather-garbage
    expect_server_running "a bad line must never end the collector: refuse it and read the next"
}

@test "step 3: many sensors report at once while one stays connected" {
    start_server
    start_peer_client weather-hold --timeout 30
    LAB_CALL_TIMEOUT=8 peer_ok --why "while one sensor stays connected, twenty others must be served at the same time: a thread per connection (given), and table_lock held around every use of the shared table, or two threads add to the same row at once and counts go missing" \
        weather-sensors --sensors 20 --count 10 --prefix many
}

@test "step 4: a resent reading is acknowledged again but counted once" {
    start_server
    peer_ok --why "a SEQ not above the last one counted for that station is a resend: answer ACK (the sensor must forget it) but do not count it; every station has its own last_seq" \
        weather-dups
}

@test "step 5: SIGTERM prints the stats and exits 0" {
    start_server
    peer_ok weather-sensors --sensors 2 --count 3 --sequential --prefix term
    local stats
    stats=$(timeout 10 "${PEER[@]}" weather-stats --host "$SERVER_HOST" --port "$SERVER_PORT" \
        --harness term:2:3 --rejected 0 3>&-) ||
        lab_fail "STATS before SIGTERM is wrong: $stats" "steps 1 and 2 first"
    kill -TERM "$SERVER_PID"
    wait_server_exit 3
    expect_server_status 0 "the signal handler only sets a flag (given); then main prints the stats and returns 0"
    printf 'listening on %s:%s\n%s\n' "$SERVER_HOST" "$SERVER_PORT" "$stats" >"$LAB_TMP/expected.out"
    cmp -s "$LAB_TMP/expected.out" "$LAB_TMP/server.out" ||
        lab_fail "after SIGTERM the collector's stdout is not what STATS answered
  expected $(lab_escape_file "$LAB_TMP/expected.out")
  printed  $(lab_escape_file "$LAB_TMP/server.out")" \
            "in print_final_stats(), write format_stats()'s text to stdout and fflush(stdout) before main returns"
}

@test "step 6: with --state a collector killed and restarted keeps its stats and its SEQs" {
    weather_state_dir
    local state=$STATE_DIR/weather.state port
    start_server --state "$state" 127.0.0.1 0
    port=$SERVER_PORT
    local idle
    idle=$(proc_fd_count "$SERVER_PID")
    peer_ok weather-sensors --sensors 2 --count 5 --prefix kept
    # Their connections closed (fds back to what an idle collector holds):
    # nothing these sensors did can save the table any more. (Either way
    # on: a collector that leaks them fails where that is checked.)
    lab_wait_for '[ "$(proc_fd_count "$SERVER_PID")" -le "$idle" ]' 3 || true
    # A sensor still connected when the collector dies, its 3 readings
    # ACKed: only a save before each ACK has them in the file. (And the
    # kernel keeps the port busy for its connection unless SO_REUSEADDR.)
    start_peer_client weather-hold --station kept-hold --count 3 --timeout 30
    kill_server
    start_server --state "$state" 127.0.0.1 "$port"
    peer_ok --why "every counted reading must be in the state file before its ACK goes out, not when the sensor leaves (save_state(): FILE.tmp, then rename() over FILE), and read back at start (load_station())" \
        weather-stats --harness kept:2:5 --sensor kept-hold:3 --why "kept1 and kept2 sent 5 readings each and left; kept-hold sent 3, each acknowledged, and was still connected; then the collector was killed (SIGKILL) and restarted with the same --state file: a reading missing was not saved before its ACK"
    peer_ok --why "after the restart the sensors resend readings 1-5 (they were never sure of the ACKs): the state file must keep each station's last_seq too, so the resends are not counted again" \
        weather-sensors --sensors 2 --count 5 --prefix kept
    printf 'this is not a state file\n' >"$STATE_DIR/bad.state"
    chmod 644 "$STATE_DIR/bad.state"
    run_server --state "$STATE_DIR/bad.state" 127.0.0.1 0
    [ "$status" -eq 1 ] ||
        lab_fail "given a state file it cannot read, the collector exited with $(lab_describe_status "$status"); expected status 1 and a message" \
            "starting with an empty table would throw the stations' history away: report \"server: state FILE: ...\" and exit 1"
    expect_server_error 'state' "name the state file in the message"
}

@test "step 7: the sensor sends N readings at its interval and exits once all are acknowledged" {
    start_peer_server weather-collector --station wx7 --count 5 --last-ack-delay 0.15 --min-span 0.2
    run_client_timed --interval 0.1 --count 5 --id wx7 127.0.0.1 "$PEER_PORT"
    expect_client_status 0 "keep every reading in the queue until its ACK comes; exit 0 when all COUNT readings are taken and the queue is empty"
    expect_client_stdout 'acknowledged 1 15.0\nacknowledged 2 22.0\nacknowledged 3 21.0\nacknowledged 4 26.0\nacknowledged 5 25.0\nall 5 readings acknowledged\n' \
        "print \"acknowledged SEQ TEMP\" for each reading an ACK drops from the queue"
    wait_peer_server 3 "each reading: SEQ 1, 2, 3..., TIME from time(NULL), TEMP from TEMPS in turn; and wait for the last ACK before you exit"
    expect_client_elapsed 0.38 5 "5 readings with --interval 0.1 take at least 0.4 s: take a reading only when it is due (st->due), and wait for answers in between"
}

@test "step 8: the sensor reconnects with backoff, resends what is unacknowledged, and gives up in the end" {
    start_peer_server weather-collector --station wx8 --count 3 --refuse 6 --last-ack-delay 0
    run_client_timed --interval 0.05 --count 3 --id wx8 --max-backoff 0.1 127.0.0.1 "$PEER_PORT"
    expect_client_status 0 "when the connection is lost, reconnect: wait FIRST_BACKOFF, then twice as long after each failure, never longer than --max-backoff"
    wait_peer_server 3 "after reconnecting, send the queue again"
    expect_client_elapsed 0.45 3 "the collector closed 6 connections at once: before each new connect sleep st->backoff, then double it, never more than --max-backoff (here 0.05 s, then 0.1, 0.1, 0.1...: about 0.55 s in all)"
    start_peer_server weather-collector --station wx8b --count 8 --drop-after 4 --last-ack-delay 0
    run_client --interval 0.02 --count 8 --id wx8b --max-backoff 0.2 127.0.0.1 "$PEER_PORT"
    expect_client_status 0 "after reconnecting, send every reading still in the queue again, oldest first (resend_queue())"
    wait_peer_server 3 "readings that were sent but not acknowledged are not safe: keep them in the queue and resend them all after reconnecting"
    local port
    port=$(free_port)
    run_client_timed --count 2 --id wx8c --max-backoff 0.01 127.0.0.1 "$port"
    expect_client_status 1 "after MAX_FAILURES failures in a row, give up: print why the last connect failed, exit 1"
    expect_client_error "^client: connect 127\.0\.0\.1:$port: Connection refused$" \
        "one line when giving up: client: connect HOST:PORT: reason"
    expect_client_elapsed 0.15 4 "with no collector at all the sensor must retry (20 connects, 0.01 s apart with --max-backoff 0.01) before it gives up, not exit at the first refusal, nor retry for ever"
}

@test "step 9: end to end, the collector is killed mid-stream and restarted: no reading lost or counted twice" {
    weather_state_dir
    local state=$STATE_DIR/weather.state port i
    start_server --state "$state" 127.0.0.1 0
    port=$SERVER_PORT
    local LAB_CALL_TIMEOUT=15 # the sensors' bound
    for i in 1 2 3; do
        start_sensor "e2e-c$i" --interval 0.02 --count 30 --id "e2e-c$i" --max-backoff 0.2 127.0.0.1 "$port"
    done
    setsid timeout 20 "${PEER[@]}" weather-stream --host 127.0.0.1 --port "$port" --sensors 3 \
        --count 30 --interval 0.02 --prefix e2e-h --timeout 12 \
        </dev/null >"$LAB_TMP/stream.out" 2>&1 3>&- &
    local stream=$!
    LAB_PGIDS+=("$stream")
    LAB_CALL_TIMEOUT=5 peer_ok --why "the collector must count the sensors' readings while they stream (steps 1 and 3)" \
        weather-wait --prefix e2e --min-total 30
    kill_server
    start_server --state "$state" 127.0.0.1 "$port"
    wait_sensors 12 "after the collector comes back on the same port, the sensors reconnect and finish"
    local end=$((${EPOCHREALTIME//[!0-9]/} + 10000000))
    while lab_alive "$stream" && [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
        sleep 0.02 # polling for the harness sensors, with a deadline
    done
    lab_reap "$stream"
    [ "$LAB_REAPED" -eq 0 ] ||
        lab_fail "the harness sensors did not finish: $(tail -n 5 "$LAB_TMP/stream.out")" \
            "the restarted collector must serve again on the same port"
    peer_ok weather-stats --harness e2e-h:3:30 --sensor e2e-c1:30 --sensor e2e-c2:30 \
        --sensor e2e-c3:30 --rejected 0 \
        --why "6 sensors sent 30 readings each; the collector was killed (SIGKILL) mid-stream and restarted with its state file: every station must count exactly 30 (a lost reading: not saved before its ACK, or not resent; one too many: a resend counted twice)"
    kill -TERM "$SERVER_PID"
    wait_server_exit 3
    expect_server_status 0
}
