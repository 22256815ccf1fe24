#!/usr/bin/env bats
# Developer test of lesson 12 (http-server): every command its README shows,
# run against the reference server (build/solutions/12-http-server/server)
# and against the Python counterpart (lessons/12-http-server/server.py):
# curl, nc, http.client, and headless Chromium when it is installed.

setup() {
    LAB_IMPL=solutions
    load '../lib/common'
    load '../lib/lesson-12'
    lab_setup
    PY_SERVER=$LAB_ROOT/lessons/12-http-server/server.py
}

teardown() {
    lab_teardown
}

# Start the Python counterpart with ARGS; sets PY_PORT.
start_py_server() {
    setsid timeout -k 1 30 "$LAB_PYTHON" "$PY_SERVER" "$@" </dev/null \
        >"$LAB_TMP/py.out" 2>"$LAB_TMP/py.err" 3>&- &
    LAB_PGIDS+=("$!")
    lab_wait_listening "$LAB_TMP/py.out" "$!" "Python server" || return 1
    PY_PORT=$LAB_LISTEN_PORT
}

# The curl commands of "Run it by hand", against the server on port $1.
check_curl_session() {
    local base=http://127.0.0.1:$1
    run timeout -k 1 10 curl -s "$base/"
    assert_equal "$output" "Hello, client!"
    run timeout -k 1 10 curl -si "$base/nope"
    assert_line --index 0 $'HTTP/1.1 404 Not Found\r'
    run timeout -k 1 10 curl -sI "$base/"
    assert_line --index 0 $'HTTP/1.1 200 OK\r'
    assert_line $'Content-Length: 14\r'
    run timeout -k 1 10 sh -c "curl -v $base/ $base/?again 2>&1 | grep -i re-using"
    assert_output --partial "Re-using existing connection"
}

# The nc commands of "Run it by hand" (the server's idle time must be short).
check_nc_session() {
    run timeout -k 1 10 sh -c "printf 'GET / HTTP/1.1\nHost: 127.0.0.1\n\n' | nc -C 127.0.0.1 $1"
    assert_line --index 0 $'HTTP/1.1 200 OK\r'
    assert_output --partial $'\r\n\r\nHello, client!'
    run timeout -k 1 10 sh -c "printf 'GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' | nc 127.0.0.1 $1"
    [ "$(grep -o "HTTP/1.1 200 OK" <<<"$output" | wc -l)" -eq 2 ]
    run timeout -k 1 10 sh -c "printf 'hello?\r\n\r\n' | nc 127.0.0.1 $1"
    assert_line --index 0 $'HTTP/1.1 400 Bad Request\r'
}

# The http.client snippet of the README, against port $1: one connection.
check_http_client() {
    run timeout -k 1 10 "$LAB_PYTHON" -c "
import http.client

conn = http.client.HTTPConnection('127.0.0.1', $1)
for path in ('/', '/nope', '/'):
    conn.request('GET', path)
    resp = conn.getresponse()
    print(resp.status, resp.reason, resp.read(), conn.sock.getsockname())
"
    assert_success
    assert_line --index 0 --regexp "^200 OK b'Hello, client!' \('127.0.0.1', [0-9]+\)$"
    assert_line --index 1 --regexp "^404 Not Found "
    [ "$(awk '{print $NF}' <<<"$output" | sort -u | wc -l)" -eq 1 ]
}

# Chromium's DOM of the page on port $1, if Chromium is here.
check_browser() {
    find_chromium || skip "no Chromium here (apt-get install chromium-headless-shell)"
    run_chromium "http://127.0.0.1:$1/"
    assert_output --partial '<body>Hello, client!</body>'
}

@test "docs: the C server's usage line, and a bad --idle" {
    run_server --help
    [ "$status" -eq 2 ]
    [[ $stderr == *"usage: server [--idle SECONDS] [HOST [PORT]]"* ]]
    run_server --idle 0 127.0.0.1 0
    [ "$status" -eq 2 ]
}

@test "docs: curl, nc and http.client against the C server" {
    start_server --idle 0.5 127.0.0.1 0
    check_curl_session "$SERVER_PORT"
    check_nc_session "$SERVER_PORT"
    check_http_client "$SERVER_PORT"
    grep -q '"GET / HTTP/1.1" 200' "$LAB_TMP/server.out"
}

@test "docs: curl, nc and http.client against the Python server" {
    start_py_server --idle 0.5 127.0.0.1 0
    check_curl_session "$PY_PORT"
    check_nc_session "$PY_PORT"
    check_http_client "$PY_PORT"
    grep -q '"GET / HTTP/1.1" 200' "$LAB_TMP/py.out"
}

@test "docs: the harness peers pass against the Python server too" {
    start_py_server --idle 0.5 127.0.0.1 0
    local p=(--host 127.0.0.1 --port "$PY_PORT")
    timeout 10 "${PEER[@]}" http-client "${p[@]}"
    timeout 10 "${PEER[@]}" http-crowd "${p[@]}"
    timeout 10 "${PEER[@]}" http-talk "${p[@]}" --together \
        --request 'GET / HTTP/1.1\r\nHost: a\r\n\r\n' --expect 200 \
        --request 'HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\n' --expect 404 \
        --request 'DELETE / HTTP/1.1\r\nHost: a\r\n\r\n' --expect 501
    timeout 10 "${PEER[@]}" http-talk "${p[@]}" --fresh --closes \
        --request 'GET / HTTP/1.0\r\n\r\n' --expect 200 \
        --request 'GET / HTTP/1.1\r\nHost: a\r\nconnection: Upgrade, CLOSE\r\n\r\n' --expect 200 \
        --request 'garbage\r\n\r\n' --expect 400
    timeout 10 "${PEER[@]}" http-talk "${p[@]}" --idle-closes --open-for 0.4
}

@test "docs: headless Chromium shows the page of both servers" {
    start_server 127.0.0.1 0
    check_browser "$SERVER_PORT"
    start_py_server 127.0.0.1 0
    check_browser "$PY_PORT"
}
