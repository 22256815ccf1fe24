# Helpers of tests/14-event-loop.bats (lesson 14, the event loop).

# Wait up to $2 seconds for a line of the server's stdout matching the
# extended regex $1; fail with the usual causes $3 when none comes.
wait_server_line() {
    local end=$((${EPOCHREALTIME//[!0-9]/} + $2 * 1000000))
    while :; do
        grep -Eq -- "$1" "$LAB_TMP/server.out" && return 0
        [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ] || break
        sleep 0.02 # polling for the line, with a deadline
    done
    lab_fail "the server printed no line matching: $1
  its last lines of output: $(tail -n 4 "$LAB_TMP/server.out" | paste -sd'|' -)" "$3"
}

# Fail unless the server runs as one process with exactly one thread
# while $1 clients are connected; $2 names the loop (poll() or epoll).
expect_one_thread() {
    local threads procs
    threads=$(proc_thread_count "$SERVER_PID")
    procs=$(pgrep -g "$SERVER_PID" | wc -l)
    [ "$threads" -eq 1 ] ||
        lab_fail "the server has $threads threads (/proc/$SERVER_PID/task) while $1 clients are connected; expected exactly 1" \
            "no pthread_create() in this lesson: one $2 loop waits for all the clients, so one thread serves them all"
    [ "$procs" -eq 1 ] ||
        lab_fail "the server runs as $procs processes while $1 clients are connected; expected exactly 1" \
            "no fork() in this lesson: one $2 loop serves every client from one process"
}

# Print the server's peak resident memory (VmHWM) in KiB.
server_peak_kib() {
    awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null
}

# Fail unless the server was runnable (on a CPU or waiting for one) for at
# most a quarter of $2 centiseconds while its clients sit idle, and used at
# most $1 clock ticks of CPU: a busy loop is runnable all the time however
# loaded the machine, where its ticks shrink. $3: what to say of the loop.
expect_idle_cpu() {
    local most=$1 centis=$2 before after end ticks0 ticks1
    before=$(proc_runnable_ms "$SERVER_PID")
    ticks0=$(proc_cpu_ticks "$SERVER_PID")
    end=$((${EPOCHREALTIME//[!0-9]/} + centis * 10000))
    while [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
        lab_nap 50 # the measuring window itself: nothing to wait for
    done
    after=$(proc_runnable_ms "$SERVER_PID")
    ticks1=$(proc_cpu_ticks "$SERVER_PID")
    [ -n "$before" ] && [ -n "$after" ] ||
        lab_fail "the server exited while it should sit idle"
    [ $((after - before)) -le $((centis * 10 / 4)) ] &&
        [ $((ticks1 - ticks0)) -le "$most" ] ||
        lab_fail "the server was busy (running, or waiting for a CPU) $((after - before)) ms of $((centis * 10)) ms and used $((ticks1 - ticks0)) ticks of CPU (1/100 s each, /proc/$SERVER_PID/stat) while nothing happened; an idle server uses none" \
            "$3"
}
