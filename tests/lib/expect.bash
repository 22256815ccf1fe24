# expect.bash - the checks a step makes of what it observed (loaded by
# common.bash, the top layer): exit statuses, bytes printed, error lines,
# the server still running, elapsed times.

# ---------------------------------------------------------------- expectations

# Fail unless the server is still running (it must survive what just happened).
expect_server_running() {
    if ! lab_alive "$SERVER_PID"; then
        lab_reap "$SERVER_PID"
        SERVER_STATUS=$LAB_REAPED
        lab_fail "the server died: it exited with $(lab_describe_status "$SERVER_STATUS")" \
            "$@"
        return 1
    fi
}

# Fail unless the server's exit status (after wait_server_exit) is $1.
expect_server_status() {
    [ "$SERVER_STATUS" = "$1" ] && return 0
    lab_fail "the server exited with $(lab_describe_status "$SERVER_STATUS"), expected status $1" \
        "${@:2}"
}

# Fail unless the client's stdout is exactly the bytes $1 (C escapes).
expect_client_stdout() {
    printf '%b' "$1" >"$LAB_TMP/expected.out"
    cmp -s "$LAB_TMP/expected.out" "$CLIENT_OUT" && return 0
    lab_fail "the client printed the wrong bytes
  expected $(lab_escape_file "$LAB_TMP/expected.out")
  printed  $(lab_escape_file "$CLIENT_OUT")" "${@:2}"
}

# Fail unless the client exited with status $1.
expect_client_status() {
    [ "$status" = "$1" ] && return 0
    local what="exited with $(lab_describe_status "$status")"
    [ -n "$CLIENT_TIMED_OUT" ] && what="was still running after ${LAB_CALL_TIMEOUT} s and was killed"
    lab_fail "the client $what; expected status $1" "${@:2}"
}

# Fail unless the client's stderr is one line matching the regex $1.
expect_client_error() {
    local lines
    lines=$(grep -c '' "$CLIENT_ERR" || true) # grep -c says 0 with status 1
    if [[ $stderr =~ $1 ]] && [ "$lines" -eq 1 ]; then
        return 0
    fi
    lab_fail "the client's error message is not what a user should see
  expected one line matching: $1
  stderr was: $(lab_escape_file "$CLIENT_ERR")" "${@:2}"
}

# Fail unless the server's stderr has a line matching the regex $1.
expect_server_error() {
    grep -Eq -- "$1" "$LAB_TMP/server.err" && return 0
    lab_fail "the server's error message is not what a user should see
  expected a line matching: $1
  stderr was: $(lab_escape_file "$LAB_TMP/server.err")" "${@:2}"
}

# ---------------------------------------------------------------- timing (lessons with timeouts)

# After a run_client_timed with a long --timeout (its CLIENT_CENTIS kept
# by the caller as $1) and one with a shorter --timeout, fail unless the
# second gave up at least $2 seconds sooner: the client uses the value it
# is given, not a time of its own. Wide bounds, a difference: steady on a
# busy machine.
expect_timeout_used() {
    local longer=$1 min
    min=$(lab_centis "$2")
    [ $((longer - CLIENT_CENTIS)) -ge "$min" ] && return 0
    lab_fail "with a shorter --timeout the client gave up after $CLIENT_SECONDS s, not $2 s sooner than with the longer one ($(printf '%d.%02d' $((longer / 100)) $((longer % 100))) s)" \
        "${3:-use the --timeout the user gives, not a time of your own}"
}

# Fail unless the last run_client_timed took at least $1 and at most $2
# seconds; $3 (optional): the usual causes.
expect_client_elapsed() {
    local min max
    min=$(lab_centis "$1") max=$(lab_centis "$2")
    [ "$CLIENT_CENTIS" -ge "$min" ] && [ "$CLIENT_CENTIS" -le "$max" ] &&
        return 0
    local what="the client ran for $CLIENT_SECONDS s"
    [ -n "$CLIENT_TIMED_OUT" ] && what+=" and was killed"
    lab_fail "$what; expected it to finish after $1 to $2 s" "${3:-}"
}

# ---------------------------------------------------------------- the server's state

# Wait up to $2 seconds for a line of the server's stdout matching the
# extended regex $1; fail with what it printed and the likely cause $3.
wait_server_line() {
    local regex=$1 # read by the condition lab_wait_for evaluates
    lab_wait_for 'grep -Eq -- "$regex" "$LAB_TMP/server.out"' "$2" && return 0
    lab_fail "the server printed no line matching: $regex
  it printed: $(lab_escape_file "$LAB_TMP/server.out")" "$3"
}

# Wait up to $2 seconds for the server to hold no more than $1 open fds;
# fail with the count and the likely cause $3.
wait_fd_count() {
    local want=$1 # read by the condition lab_wait_for evaluates
    lab_wait_for '[ "$(proc_fd_count "$SERVER_PID")" -le "$want" ]' "$2" && return 0
    lab_fail "the server still has $(proc_fd_count "$SERVER_PID") open fds $2 s after its clients left; it had $1 before they came" \
        "$3"
}

# Fail unless the server runs as one process with exactly one thread
# while $1 clients are connected; $2 names the loop (select(), poll()...).
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
