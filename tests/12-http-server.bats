#!/usr/bin/env bats
# Lesson 12: http-server. One @test per step of lessons/12-http-server/README.md.
#
# The server is driven by the clients a web server meets: curl, Python's
# http.client, a headless Chromium (step 9), and harness peers that send
# raw bytes (requests in pieces, several at once, garbage, half a request
# and then nothing) and check every response byte by byte.

setup() {
    load 'lib/common'
    lab_setup
}

teardown() {
    lab_teardown
}

# Run curl ARGS against the server, bounded; sets status, output (stdout)
# and CURL_ERR (its stderr, a file). Fails the step when curl is missing.
curl_run() {
    if ! command -v curl >/dev/null; then
        lab_fail "curl is not installed: run make doctor (or apt-get install curl)"
        return 1
    fi
    LAB_REPRO+=("curl $(lab_args "$@")")
    CURL_ERR=$LAB_TMP/curl.err
    status=0
    # curl's own limit comes first, so that it says what it was waiting for.
    timeout -k 1 "$LAB_CALL_TIMEOUT" curl --max-time "$((LAB_CALL_TIMEOUT - 1))" "$@" \
        >"$LAB_TMP/curl.out" 2>"$CURL_ERR" 3>&- || status=$?
    output=$(head -c 65536 "$LAB_TMP/curl.out")
}

# Fail with curl's transcript: what it printed and its last error lines;
# $1: what went wrong, $2: the usual causes.
curl_fail() {
    local why=${2:-}
    [ "$status" -eq 28 ] && why="curl gave up waiting (status 28, timed out): it reads a body of exactly Content-Length bytes, so check that the header is there and counts the bytes of the body; and the response must end its head with an empty line \"\\r\\n\". ${why}"
    lab_fail "$1
  curl exited with status $status; it printed $(lab_escape_file "$LAB_TMP/curl.out")
  curl stderr: $(tail -n 3 "$CURL_ERR" | cut -c1-200)" "$why"
}

# The server's base URL.
url() { echo "http://$SERVER_HOST:$SERVER_PORT$1"; }

@test "step 1: GET / answers 200 with Hello, client! as text/html" {
    start_server
    curl_run -sS "$(url /)"
    [ "$status" -eq 0 ] && [ "$output" = "Hello, client!" ] ||
        curl_fail "curl -s $(url /) should print exactly \"Hello, client!\"" \
            "read the request head up to its blank line, then send \"HTTP/1.1 200 OK\\r\\n\", the headers, \"\\r\\n\" and the page; curl's status 52 (empty reply) or 56 (connection reset) means no response came back"
    curl_run -sSi "$(url /)"
    local first
    first=$(head -n 1 "$LAB_TMP/curl.out")
    [ "$first" = $'HTTP/1.1 200 OK\r' ] ||
        curl_fail "curl -i: the status line should be \"HTTP/1.1 200 OK\\r\\n\"" \
            "the first line of the response is the version, the code and its reason, ending in \\r\\n"
    grep -qi $'^content-type: text/html; charset=utf-8\r$' "$LAB_TMP/curl.out" ||
        curl_fail "curl -i: expected a header \"Content-Type: text/html; charset=utf-8\"" \
            "without it a browser has to guess what the bytes are"
    grep -qi $'^content-length: 14\r$' "$LAB_TMP/curl.out" ||
        curl_fail "curl -i: expected a header \"Content-Length: 14\" (the page is 14 bytes)" \
            "the client knows where the body ends only from Content-Length: count the bytes of the body, not of the buffer"
    peer_ok --why "a request may arrive in pieces: recv() in a loop, adding to what you have, until head_end() finds the blank line" \
        http-talk --pieces 3
}

@test "step 2: HEAD / answers the same headers with no body" {
    start_server
    curl_run -sSI "$(url /)"
    [ "$status" -eq 0 ] && [ "$(head -n 1 "$LAB_TMP/curl.out")" = $'HTTP/1.1 200 OK\r' ] &&
        grep -qi $'^content-length: 14\r$' "$LAB_TMP/curl.out" ||
        curl_fail "curl -I (a HEAD request) should get \"HTTP/1.1 200 OK\" and Content-Length: 14, the length GET's body has" \
            "HEAD gets the very headers GET would, Content-Length included"
    peer_ok --why "a HEAD response ends with its blank line: no body, though Content-Length says 14 (the client knows not to wait for it). A body sent anyway is read as the start of the next response" \
        http-talk --request 'HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' --quiet 0.2
}

@test "step 3: other paths get 404, other methods 501" {
    start_server
    curl_run -sS -o /dev/null -w '%{http_code}' "$(url /nope)"
    [ "$output" = 404 ] ||
        curl_fail "curl $(url /nope) should get status 404" \
            "only the path / has a page: compare the target with \"/\""
    peer_ok --why "404 for any path but / (a query after '?' is not part of the path), for HEAD too (without a body); 501 Not Implemented for methods other than GET and HEAD; every response with a Content-Length that counts its body" \
        http-talk --fresh \
        --request 'GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' --expect 404 \
        --request 'GET /?from=test HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' --expect 200 \
        --request 'HEAD /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' --expect 404 \
        --request 'DELETE / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' --expect 501
}

@test "step 4: a request that is not HTTP gets 400, a huge head 431, then the connection closes" {
    start_server
    local big
    big=$(printf 'GET / HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nX-Padding: %09000d\\r\\n\\r\\n' 0)
    peer_ok --why "check the request line (METHOD /target HTTP/1.1 or HTTP/1.0), that each header line has a name and a colon, that an HTTP/1.1 request has a Host header, and no NUL bytes; answer anything else 400 Bad Request with Connection: close, and close" \
        http-talk --fresh --closes \
        --request 'garbage\r\n\r\n' --expect 400 \
        --request 'GET /\r\n\r\n' --expect 400 \
        --request 'GET / HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n' --expect 400 \
        --request 'GET nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' --expect 400 \
        --request 'GET / HTTP/7.0\r\nHost: 127.0.0.1\r\n\r\n' --expect 400 \
        --request 'GET / HTTP/1.1\r\n\r\n' --expect 400 \
        --request 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n' --expect 400 \
        --request 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Nul: a\x00b\r\n\r\n' --expect 400
    peer_ok --why "the head is read into a fixed buffer (HEAD_MAX bytes): when it is full and there is still no blank line, answer 431 Request Header Fields Too Large and close; never recv() with room for 0 bytes (that returns 0, like end-of-file) and never write past the buffer" \
        http-talk --closes --request "$big" --expect 431
    expect_server_running "a bad request ends that connection, never the server"
    peer_ok --why "after the bad requests the server must answer good ones as before" \
        http-talk
}

@test "step 5: keep-alive: several requests on one connection" {
    start_server
    peer_ok --why "HTTP/1.1 keeps the connection open after a response (Connection: keep-alive): loop back to read the next request on the same socket instead of closing it" \
        http-client
    curl_run -sSv "$(url /)" "$(url /?again)"
    [ "$status" -eq 0 ] && [ "$output" = "Hello, client!Hello, client!" ] &&
        grep -qi 're-using existing' "$CURL_ERR" ||
        curl_fail "curl with two URLs should get the page twice, on one connection (curl -v says \"Re-using existing connection\")" \
            "keep the connection open after a response and read the next request from it"
    peer_ok --why "a client may send several requests at once: the bytes after one head are the start of the next request. Keep them: move them to the front of c->in and subtract the head's length from c->in_len, do not throw away the buffer" \
        http-talk --together \
        --request 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' --expect 200 \
        --request 'HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' --expect 200 \
        --request 'GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' --expect 404 \
        --request 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' --expect 200
}

@test "step 6: Connection: close, HTTP/1.0 and requests with a body close the connection" {
    start_server
    peer_ok --why "after a request with Connection: close (the header name and the value in any case, the value maybe a list), an HTTP/1.0 request without Connection: keep-alive, or a request with a body (which we do not read), answer with Connection: close and close the connection" \
        http-talk --fresh --closes \
        --request 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' --expect 200 \
        --request 'GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: Upgrade, CLOSE\r\n\r\n' --expect 200 \
        --request 'GET / HTTP/1.0\r\n\r\n' --expect 200 \
        --request 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello' --expect 501
    peer_ok --why "an HTTP/1.0 client that sends Connection: keep-alive keeps the connection: answer its next request on the same socket" \
        http-talk \
        --request 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' --expect 200 \
        --request 'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n' --expect 200
}

@test "step 7: a client stalled in mid-request blocks nobody; 20 clients at once are served" {
    start_server
    start_peer_client http-stall --timeout 30
    curl_run -sS "$(url /)"
    [ "$status" -eq 0 ] && [ "$output" = "Hello, client!" ] ||
        curl_fail "while another client sits on half a request, curl must still get the page" \
            "each connection needs its own thread (lesson 03): a server that reads one connection at a time waits on the stalled client and nobody else is served"
    peer_ok --why "20 connections each send half a request, then the other halves: all must be answered. Keep every connection's bytes in its own struct client, never in a static or global buffer" \
        http-crowd --connections 20
}

@test "step 8: idle connections are closed after --idle seconds, quietly" {
    start_server --idle 0.3 127.0.0.1 0
    local before
    before=$(proc_thread_count "$SERVER_PID")
    peer_ok --why "with --idle 0.3, a keep-alive connection must stay open for the next request, and be closed once it has sent nothing for 0.3 s (call set_idle_timeout(c), and return HEAD_IDLE when recv() fails with EAGAIN)" \
        http-talk --idle-closes --open-for 0.25
    peer_ok --why "a client that sends half a request and then nothing must be closed after --idle seconds too: recv() times out in the middle of a head as well" \
        http-stall --expect-close
    local i now
    for ((i = 0; i < 150; i++)); do
        now=$(proc_thread_count "$SERVER_PID")
        [ "$now" -le "$before" ] && break
        lab_nap 20 # polling for the threads to end, with a deadline
    done
    [ "$now" -le "$before" ] ||
        lab_fail "the server still runs $now threads 3 s after its connections closed; it had $before before" \
            "when read_head() returns, close the socket and let the thread end"
    ! grep -qi 'temporarily unavailable' "$LAB_TMP/server.err" ||
        lab_fail "the server reported the idle timeout as an error: $(grep -i -m1 'temporarily unavailable' "$LAB_TMP/server.err")" \
            "EAGAIN from recv() on a socket with SO_RCVTIMEO only means the time ran out: return HEAD_IDLE before reporting errors"
    expect_server_running
}

@test "step 9: a real browser shows the page" {
    load 'lib/lesson-12'
    find_chromium || skip "not run: no Chromium on this machine (make doctor; apt-get install chromium-headless-shell)"
    start_server
    run_chromium "$(url /)"
    local why="a browser is strict where curl is forgiving: the status line, \\r\\n line ends, Content-Type text/html and a Content-Length that counts the body"
    [ "$status" -eq 124 ] && why="Chromium was still loading the page when its time ran out: it waits for the whole body, Content-Length bytes, or for the end of the head. $why"
    [[ $output == *'<body>Hello, client!</body>'* ]] ||
        lab_fail "headless Chromium loaded $(url /) and its page (the DOM) is not <body>Hello, client!</body>
  Chromium exited with status $status; the DOM it printed: $(lab_escape "$output")
  its last lines on stderr: $(grep -v -e dbus -e vaapi -e 'multiple threads' "$LAB_TMP/chromium.err" | tail -n 3 | cut -c1-200)" \
            "$why"
}
