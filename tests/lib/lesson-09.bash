# lesson-09.bash - what only tests/09-options.bats uses: reading the
# kernel's view of a connection with ss (iproute2), and the client's timings.

# Fail the step unless ss is here (package iproute2).
need_ss() {
    command -v ss >/dev/null && return 0
    lab_fail "this step looks at the connection with ss, which is not installed" \
        "install iproute2 (apt-get install iproute2), then run the test again"
}

# Print ss's view (-t -n, plus the flags $1, like -oi) of the TCP
# connections in state $2 matching filter $3, each on one line.
ss_lines() {
    ss -tnH "$1" state "$2" "$3" 2>/dev/null |
        awk '/^[ \t]/ { line = line " " $0; next }
             { if (line != "") print line; line = $0 }
             END { if (line != "") print line }'
}

# Print ss's time $1 (58sec, 1min14sec, 119min, 496ms, and 3.496ms which
# is how ss writes 3.496 seconds) in milliseconds.
ss_ms() {
    local t=$1 ms=0
    if [[ $t =~ ^([0-9]+)min(.*)$ ]]; then
        ms=$((10#${BASH_REMATCH[1]} * 60000)) t=${BASH_REMATCH[2]}
    fi
    if [[ $t =~ ^([0-9]+)(sec|\.)(.*)$ ]]; then
        ms=$((ms + 10#${BASH_REMATCH[1]} * 1000)) t=${BASH_REMATCH[3]}
    fi
    if [[ $t =~ ^([0-9]+)(ms|sec)?$ ]]; then
        ms=$((ms + 10#${BASH_REMATCH[1]}))
    fi
    echo "$ms"
}

# Print the number after "NAME:" (like lastack:120 or rb2304 with NAME
# "rb") in ss line $2, or nothing.
ss_field() {
    # Status 0 either way: a field ss does not show yet (lastack before the
    # first ACK) is "nothing", not a failed step under set -e.
    grep -oE "(^|[ ,(])$1:?[0-9]+" <<<"$2" | head -n 1 | grep -oE '[0-9]+$' || true
}

# Wait up to $2 seconds for a line matching $1 in the server peer's
# report (PEER_OUT); sets PEER_LINE.
wait_peer_line() {
    local end=$((${EPOCHREALTIME//[!0-9]/} + $2 * 1000000))
    while :; do
        PEER_LINE=$(grep -E -m1 -- "$1" "$PEER_OUT") && return 0
        [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ] || break
        sleep 0.02 # polling for the peer's report, with a deadline
    done
    lab_fail "the harness server did not report: $1
  it said: $(tail -n 5 "$PEER_OUT")"
}

# Print the median in "N rounds of write, write, read: median M ms, ..."
# of the client's last run, or fail the step.
client_median() {
    local m
    m=$(sed -nE 's/^[0-9]+ rounds of write, write, read: median ([0-9.]+) ms, mean [0-9.]+ ms$/\1/p' \
        "$CLIENT_OUT" | head -n 1)
    if [ -z "$m" ]; then
        lab_fail "the client did not print its timings as 'N rounds of write, write, read: median M ms, mean A ms'" \
            "${1:-}"
        return 1
    fi
    echo "$m"
}

# Succeed when $1 > $3 * $2 (decimal numbers).
ratio_above() {
    awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { exit !(a > r * b) }'
}

# Wait up to $2 seconds until ss shows a connection in TIME_WAIT matching
# filter $1; returns 1 when none shows.
wait_time_wait() {
    local end=$((${EPOCHREALTIME//[!0-9]/} + $2 * 1000000))
    while :; do
        [ -n "$(ss_lines -o time-wait "$1")" ] && return 0
        [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ] || return 1
        sleep 0.02 # polling for the state, with a deadline
    done
}

# Time the client against $1:$2 without --nodelay ($3 rounds) and with it
# (10 rounds); sets NAGLE_MS and FAST_MS, the two medians.
# Returns 0 when the first is over 5 times the second, 2 when it is not,
# 1 after failing the step (the client failed).
measure_nagle() {
    run_client --rounds "$3" "$1" "$2"
    expect_client_status 0 || return 1
    NAGLE_MS=$(client_median) || return 1
    run_client --nodelay --rounds 10 "$1" "$2"
    expect_client_status 0 || return 1
    FAST_MS=$(client_median) || return 1
    ratio_above "$NAGLE_MS" "$FAST_MS" 5 || return 2
}
