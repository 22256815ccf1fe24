# transcripts.bash - the failure transcript (loaded by common.bash, above
# sandbox.bash): lab_fail and what it tells of the server and the client,
# exit statuses in words, quoting and escaping for the reader.

# ---------------------------------------------------------------- failure transcripts

# Print the step's failure transcript to stderr and return 1.
# $1: what went wrong; $2 (optional): the usual causes, in plain words.
lab_fail() {
    {
        echo "FAILED step ${STEP:-?} of $LESSON ($LAB_IMPL): $1"
        [ -n "${2:-}" ] && echo "  likely cause: $2"
        lab_server_summary
        lab_client_summary
        if [ ${#LAB_REPRO[@]} -gt 0 ]; then
            echo "  reproduce by hand (from the top folder; use the port the server prints):"
            printf '    %s\n' "${LAB_REPRO[@]}"
        fi
        echo "  reread step ${STEP:-?} of lessons/$LESSON/README.md"
    } >&2
    return 1
}

# Describe the server's state and the last lines of its stderr, if any.
lab_server_summary() {
    if [ -z "$SERVER_PID" ] && [ -n "$SERVER_FG_STATUS" ]; then
        # run_server: it ran in the foreground.
        local fg="exited with $(lab_describe_status "$SERVER_FG_STATUS")"
        [ -n "$SERVER_TIMED_OUT" ] && fg="killed after ${LAB_CALL_TIMEOUT} s: it was still running (it should have exited by itself)"
        echo "  server ($SERVER_CMD): $fg"
        lab_stderr_summary "$LAB_TMP/server.err" server
        return 0
    fi
    [ -n "$SERVER_PID" ] || return 0
    local state end=$((${EPOCHREALTIME//[!0-9]/} + 500000))
    # A server that crashed as the peer saw the reset may still be dying:
    # wait a moment (failures only) so the transcript names its death.
    while lab_alive "$SERVER_PID" && [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
        lab_nap 10 # polling for its exit, with a deadline
    done
    if lab_alive "$SERVER_PID"; then
        state="still running"
    else
        [ -z "$SERVER_STATUS" ] && lab_reap "$SERVER_PID" && SERVER_STATUS=$LAB_REAPED
        [ -z "$SERVER_STATUS" ] && SERVER_STATUS=$LAB_REAPED
        state="exited with $(lab_describe_status "$SERVER_STATUS")"
    fi
    echo "  server ($SERVER_CMD): $state"
    lab_stderr_summary "$LAB_TMP/server.err" server
}

# Show the end of stderr file $1 of program $2, or, when a sanitizer
# (SANITIZE=1) reported a memory error, the first lines of its report.
lab_stderr_summary() {
    [ -s "$1" ] || return 0
    local report='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: '
    if grep -qaE "$report" "$1"; then
        echo "  memory error in the $2, found by the sanitizer; the first lines of its report:"
        grep -aE -m1 -A9 "$report" "$1" | head -n 10 | cut -c1-200 | sed 's/^/    /'
        return 0
    fi
    echo "  $2 stderr (last lines):"
    tail -n 5 "$1" | cut -c1-200 | sed 's/^/    /'
}

# Show the client's last run: command, status and the end of its stderr.
lab_client_summary() {
    [ -n "${CLIENT_CMD:-}" ] || return 0
    local state="exited with $(lab_describe_status "$status")"
    [ -n "$CLIENT_TIMED_OUT" ] && state="killed after ${LAB_CALL_TIMEOUT} s"
    [ "$CLIENT_OUT" = "${LAB_BG_OUT:-}" ] && lab_alive "$CLIENT_PID" &&
        state="still running"
    echo "  client ($CLIENT_CMD): $state"
    echo "  client stdout: $(lab_escape_file "$CLIENT_OUT")"
    lab_stderr_summary "$CLIENT_ERR" client
}

# Say an exit status in words: "status 1", "signal 11 (SIGSEGV)"; the
# signals of the sandbox's limits say which limit.
lab_describe_status() {
    if [ "$1" -gt 128 ] && [ "$1" -lt 160 ]; then
        local sig=$(($1 - 128)) why=''
        case $sig in
        24) why=": it used more than ${LAB_LIMIT_CPU:-20} s of CPU" ;;
        25) why=": it wrote more than the ${LAB_LIMIT_FSIZE:-67108864}-byte file size limit" ;;
        esac
        echo "signal $sig (SIG$(kill -l $sig)$why)"
    else
        echo "status $1"
    fi
}

# Print the arguments quoted for a shell, so a reproduce line pastes as is.
lab_args() {
    local a out=()
    for a in "$@"; do
        printf -v a '%q' "$a"
        out+=("$a")
    done
    echo "${out[*]}"
}

# Print a path relative to the top folder.
lab_rel() { echo "${1#"$LAB_ROOT"/}"; }

# Print string $1 as a C string literal.
lab_escape() {
    printf '%s' "$1" | "${PEER[@]}" escape --limit 200
}

# Print the contents of file $1 as a C string literal (reads only what
# it shows: the file may be a flood of 64 MiB).
lab_escape_file() {
    "${PEER[@]}" escape-file --file "$1" --limit 200 </dev/null
}
