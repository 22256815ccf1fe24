# lesson-11.bash - what tests/11-http-get.bats (and its docs test) add to
# common.bash: Python's http.server as a real server, curl as the reference
# client, and the verdict of a harness server peer that checks a request.

# Start `python3 -m http.server` on a free port of 127.0.0.1 serving folder
# $1, bounded, in its own process group; wait for its "Serving HTTP on ...
# port N" line. Sets HTTP_PORT.
start_http_server() {
    local dir=$1 out=$LAB_TMP/http-server.out line pid
    LAB_REPRO+=("python3 -m http.server 8000 --bind 127.0.0.1 --directory $(lab_args "$dir") &")
    : >"$out"
    # -u: its line reaches the file at once (a file gets block buffering).
    setsid timeout -k 1 $((LAB_CALL_TIMEOUT + 10)) "$LAB_PYTHON" -S -u -m http.server 0 \
        --bind 127.0.0.1 --directory "$dir" </dev/null >"$out" 2>"$out.err" 3>&- &
    pid=$!
    LAB_PGIDS+=("$pid")
    local end=$((${EPOCHREALTIME//[!0-9]/} + 5000000))
    while [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
        line=$(grep -m1 -a 'Serving HTTP on' "$out") || true
        if [[ $line =~ port\ ([0-9]+) ]]; then
            HTTP_PORT=${BASH_REMATCH[1]}
            return 0
        fi
        lab_alive "$pid" || break
        sleep 0.02 # polling for the ready line, with a deadline
    done
    lab_fail "python3 -m http.server did not start: $(tail -n 3 "$out.err")"
}

# Run `curl -s URL`, bounded; its stdout goes to $LAB_TMP/curl.out, its
# exit status to CURL_STATUS.
curl_get() {
    LAB_REPRO+=("curl -s $(lab_args "$1") | od -c | head    # what curl prints")
    CURL_STATUS=0
    timeout -k 1 "$LAB_CALL_TIMEOUT" curl -s "$1" >"$LAB_TMP/curl.out" \
        2>/dev/null 3>&- || CURL_STATUS=$?
}

# Describe how file $2 (what the client printed) differs from file $1
# (what it should print): where, and the usual reason.
lab11_difference() {
    "$LAB_PYTHON" -S - "$LAB_ROOT/tests/harness" "$1" "$2" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import peerlib
want = open(sys.argv[2], "rb").read()
got = open(sys.argv[3], "rb").read()
i = peerlib.first_difference(want, got)
print("  expected %d bytes: %s" % (len(want), peerlib.escape(want, 120)))
print("  printed  %d bytes: %s" % (len(got), peerlib.escape(got, 120)))
print("  first difference at byte %d: expected %s, printed %s" % (
    i, peerlib.escape(want[i:i + 40]), peerlib.escape(got[i:i + 40])))
if got == want[:len(got)] and len(got) < len(want) and want[len(got)] == 0:
    print("  the output stops where the body has a NUL byte (\\0): printf, "
          "puts and fputs stop there; write() the body with its length")
elif want and got.startswith(b"HTTP/"):
    print("  the output starts with the status line: the head (status line "
          "and headers) must not be printed, only the body after the "
          "empty line")
elif got.startswith(want) and len(got) > len(want):
    print("  the output goes on after the body: stop after Content-Length "
          "bytes (or the last chunk), whatever comes next")
elif b"\r\n" in got and b"\r\n" not in want:
    print("  the output has \\r\\n where the body has none: chunk size "
          "lines (and their \\r\\n) printed? a chunked body must be decoded")
EOF
}

# Fail unless the client printed exactly the bytes of file $1, and curl
# printed them too for URL $2; $3: the usual causes.
expect_body() {
    local want=$1 url=$2 why=${3:-}
    if ! cmp -s "$want" "$CLIENT_OUT"; then
        lab_fail "the client did not print the body byte for byte
$(lab11_difference "$want" "$CLIENT_OUT")" "$why"
        return 1
    fi
    curl_get "$url"
    if ! cmp -s "$LAB_TMP/curl.out" "$CLIENT_OUT"; then
        lab_fail "the client printed other bytes than curl -s $url (curl exited with $CURL_STATUS)
$(lab11_difference "$LAB_TMP/curl.out" "$CLIENT_OUT")" "$why"
        return 1
    fi
}

# Wait up to $1 seconds for the harness server peer (start_peer_server) to
# finish, and fail with its transcript unless it was satisfied; $2: the
# usual causes.
expect_peer_verdict() {
    local secs=$1 why=${2:-}
    local end=$((${EPOCHREALTIME//[!0-9]/} + secs * 1000000))
    while lab_alive "$PEER_PID"; do
        if [ "${EPOCHREALTIME//[!0-9]/}" -ge "$end" ]; then
            lab_fail "the harness server was still waiting for a request $secs s later
$(sed 's/^/  /' "$PEER_OUT")" "$why"
            return 1
        fi
        sleep 0.02 # polling for the peer's verdict, with a deadline
    done
    lab_reap "$PEER_PID"
    [ "$LAB_REAPED" -eq 0 ] && return 0
    lab_fail "the harness server found the request wrong:
$(grep -v '^listening on' "$PEER_OUT" | sed 's/^/  /')" "$why"
}

# expect_client_error REGEX WHY, but with a transcript when stderr is empty
# too (common.bash's version stops the step without one in that case: its
# `grep -c` fails on an empty file under `set -e`).
expect_error_line() {
    if [ ! -s "$CLIENT_ERR" ]; then
        lab_fail "the client printed nothing on stderr; expected one line matching: $1" "${2:-}"
        return 1
    fi
    expect_client_error "$@"
}
