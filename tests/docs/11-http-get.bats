#!/usr/bin/env bats
# The commands lessons/11-http-get/README.md shows, run against the built
# solutions: the client and curl on Python's http.server, the request
# checker, a chunked body seen with curl --raw, and the Python counterpart
# client.py printing what the C client prints.

setup() {
    LAB_IMPL=solutions
    load '../lib/common'
    load '../lib/lesson-11'
    lab_setup
    PY_CLIENT=$LAB_ROOT/lessons/11-http-get/client.py
}

teardown() {
    lab_teardown
}

# Run the Python client with ARGS, bounded; sets py_status, and its stdout
# and stderr are in $LAB_TMP/py.out and $LAB_TMP/py.err.
run_py_client() {
    py_status=0
    timeout -k 1 "$LAB_CALL_TIMEOUT" "$LAB_PYTHON" "$PY_CLIENT" "$@" \
        >"$LAB_TMP/py.out" 2>"$LAB_TMP/py.err" </dev/null 3>&- || py_status=$?
}

# Fail unless the C client (run_client) and the Python client (run_py_client)
# gave the same status, stdout and stderr (ports aside).
expect_same_as_c() {
    [ "$py_status" = "$status" ] ||
        lab_fail "client.py exited with $py_status, the C client with $status"
    cmp -s "$LAB_TMP/py.out" "$CLIENT_OUT" ||
        lab_fail "client.py printed other bytes than the C client
$(lab11_difference "$CLIENT_OUT" "$LAB_TMP/py.out")"
    cmp -s "$LAB_TMP/py.err" "$CLIENT_ERR" ||
        lab_fail "client.py's stderr differs: $(lab_escape_file "$LAB_TMP/py.err") vs $(lab_escape_file "$CLIENT_ERR")"
}

@test "by hand: the client and curl on python3 -m http.server" {
    mkdir -p "$LAB_TMP/site"
    printf 'hello, web\n' >"$LAB_TMP/site/hello.txt"
    chmod -R a+rX "$LAB_TMP/site"
    start_http_server "$LAB_TMP/site"
    run_client 127.0.0.1 "$HTTP_PORT" /hello.txt
    expect_client_status 0
    expect_client_stdout 'hello, web\n'
    run_client -v localhost "$HTTP_PORT" /hello.txt
    expect_client_stdout 'hello, web\n'
    grep -q '^HTTP/1.0 200 OK$' "$CLIENT_ERR" || lab_fail "-v: no status line on stderr"
    grep -q '^Content-Length: 11$' "$CLIENT_ERR" || lab_fail "-v: no Content-Length on stderr"
    curl_get "http://127.0.0.1:$HTTP_PORT/hello.txt"
    cmp -s "$LAB_TMP/curl.out" "$CLIENT_OUT" || lab_fail "curl printed another body"
    run_client 127.0.0.1 "$HTTP_PORT" /missing
    expect_client_status 3
    expect_error_line "^client: GET /missing 127\.0\.0\.1:$HTTP_PORT: HTTP/1\.0 404 File not found$"
    run_client 127.0.0.1 "$HTTP_PORT" /
    expect_client_status 0
    curl_get "http://127.0.0.1:$HTTP_PORT/"
    cmp -s "$LAB_TMP/curl.out" "$CLIENT_OUT" || lab_fail "the folder listing differs from curl's"
    # Step 3's example: a script tells "not found" from "found".
    local bin=$LAB_BIN_DIR/11-http-get/client said
    said=$(cd "$LAB_TMP" && if "$bin" 127.0.0.1 "$HTTP_PORT" /x >x 2>/dev/null; then echo got it; else echo "status $?"; fi)
    [ "$said" = "status 3" ] || lab_fail "the if example said: $said"
    for path in /hello.txt /missing /; do
        run_client 127.0.0.1 "$HTTP_PORT" "$path"
        run_py_client 127.0.0.1 "$HTTP_PORT" "$path"
        expect_same_as_c
    done
}

@test "by hand: http-request-check shows the client's request" {
    start_peer_server http-request-check --path /hello --timeout 60
    run_client 127.0.0.1 "$PEER_PORT" /hello
    expect_client_stdout 'request ok\n'
    expect_peer_verdict 3
    grep -q '^request ok: "GET /hello HTTP/1.1\\r\\nHost: 127.0.0.1:' "$PEER_OUT" ||
        lab_fail "the checker did not show the request: $(cat "$PEER_OUT")"
    start_peer_server http-request-check --path /hello --timeout 60
    run_py_client 127.0.0.1 "$PEER_PORT" /hello
    [ "$py_status" -eq 0 ] || lab_fail "client.py exited with $py_status: $(cat "$LAB_TMP/py.err")"
    expect_peer_verdict 3
}

@test "by hand: a chunked body, raw with curl --raw, decoded by the client" {
    start_peer_server http-origin --port 0 --timeout 60 --framing chunked --extensions --trailers
    local raw
    raw=$(timeout 5 curl -s --raw "http://127.0.0.1:$PEER_PORT/")
    [[ $raw == *';piece=0'* ]] || lab_fail "curl --raw did not show the chunk sizes: $raw"
    run_client 127.0.0.1 "$PEER_PORT" /
    expect_client_status 0
    expect_client_stdout 'hello, HTTP\n'
    run_py_client 127.0.0.1 "$PEER_PORT" /
    expect_same_as_c
}

@test "client.py answers the harness servers as the C client does" {
    local -a configs=(
        "--framing eof --body-size 700 --piece 7 --gap 0.0002"
        "--framing length --keep-open --body-size 5000"
        "--framing length --short 100"
        "--framing chunked --body-size 12000 --chunks 1,5,300,4096,5000,7 --extensions --trailers"
        "--status 404|Not|Found --body gone"
        "--header-line 102400"
        "--raw SSH-2.0-OpenSSH_9.2p1\\r\\n"
    )
    local c
    for c in "${configs[@]}"; do
        local -a args
        read -r -a args <<<"$c"
        args=("${args[@]//|/ }")
        start_peer_server http-origin "${args[@]}"
        LAB_CALL_TIMEOUT=3 run_client 127.0.0.1 "$PEER_PORT" /x
        LAB_CALL_TIMEOUT=3 run_py_client 127.0.0.1 "$PEER_PORT" /x
        expect_same_as_c || return 1
        disown "$PEER_PID" 2>/dev/null
        kill -KILL -- "-$PEER_PID"
        lab_wait_gone "$PEER_PID"
    done
}

@test "client.py refuses what the C client refuses, with the same line" {
    # Twelve runs against one server: its own bound is theirs, not one run's.
    start_peer_server http-bad --timeout 120
    local path
    for path in /garbage /cut-head /bad-length /bad-chunk /bad-status /long-header; do
        run_client 127.0.0.1 "$PEER_PORT" "$path"
        run_py_client 127.0.0.1 "$PEER_PORT" "$path"
        expect_same_as_c || return 1
    done
}
