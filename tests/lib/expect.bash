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
