#!/usr/bin/env bats
# Lesson 11: http-get. One @test per step of lessons/11-http-get/README.md.
#
# The client is the only program. Step 1 checks its request with a harness
# server that reads it; steps 2-6 put it against harness HTTP servers
# (body to end of file, 4xx/5xx, Content-Length on a connection that stays
# open, chunked, slow, garbage, a 100 KiB header line), comparing what it
# prints with the body and with what `curl -s` prints for the same URL;
# step 7 fetches files from Python's http.server, a binary one included.

setup() {
    load 'lib/common'
    load 'lib/lesson-11'
    lab_setup
}

teardown() {
    lab_teardown
}

# Start http-origin with ARGS, its body saved in $LAB_TMP/body; sets URL.
start_origin() {
    start_peer_server http-origin --save-body "$LAB_TMP/body" "$@" || return 1
    URL=http://127.0.0.1:$PEER_PORT/lesson/11
}

# Stop the http-origin peer started last.
stop_origin() {
    disown "$PEER_PID" 2>/dev/null # no "Killed" line in the transcript
    kill -KILL -- "-$PEER_PID" 2>/dev/null
    lab_wait_gone "$PEER_PID"
}

@test "step 1: the request has the request line, Host: HOST:PORT and Connection: close" {
    start_peer_server http-request-check --path '/lesson/11?step=1'
    run_client 127.0.0.1 "$PEER_PORT" '/lesson/11?step=1'
    expect_peer_verdict 3 "format the request as 'GET PATH HTTP/1.1\\r\\nHost: HOST:PORT\\r\\nConnection: close\\r\\n\\r\\n': every line ends with \\r\\n, an empty line ends the request, and HTTP/1.1 servers answer 400 to a request without Host"
}

@test "step 2: only the body is printed, byte for byte, up to the end of the connection" {
    start_origin --framing eof --body-size 700 --piece 7 --gap 0.0002
    run_client 127.0.0.1 "$PEER_PORT" /lesson/11
    expect_client_status 0 "read the head line by line (fill() when the buffer is empty: the response arrives in pieces), check the status line, skip the headers up to the empty line, then print what follows until recv() returns 0"
    expect_body "$LAB_TMP/body" "$URL" "print only the bytes after the empty line that ends the head, all of them, as they are, until the end of the connection; a response comes in many pieces: never assume one recv() holds a line"
    run_client -v 127.0.0.1 "$PEER_PORT" /lesson/11
    expect_body "$LAB_TMP/body" "$URL" "with -v the head goes to stderr; stdout still gets the body alone"
    if ! grep -q '^HTTP/1.1 200 OK' "$CLIENT_ERR" || ! grep -q '^Server: socklab-http-origin' "$CLIENT_ERR"; then
        lab_fail "with -v the status line and the headers must appear on stderr" \
            "read_head shows each line with -v; read_line must return the line without its \\r\\n"
    fi
}

@test "step 3: 4xx and 5xx answers exit with status 3, the body still printed" {
    start_origin --framing eof --status-from-path --body 'the page of the answer\n'
    local base=http://127.0.0.1:$PEER_PORT
    run_client 127.0.0.1 "$PEER_PORT" /404
    expect_body "$LAB_TMP/body" "$base/404" "a 404 has a body too, and curl -s prints it: print it as any other"
    expect_client_status 3 "the exit status comes from the HTTP status: 0 for 1xx to 3xx, 3 for 4xx and 5xx, so a script can tell 'not found' from 'found'"
    expect_error_line '404 Not Found' "print the status line on stderr, in one line: client: GET PATH HOST:PORT: HTTP/1.1 404 Not Found"
    run_client 127.0.0.1 "$PEER_PORT" /503
    expect_client_status 3 "5xx (a server error) is an HTTP error too: exit status 3"
    run_client 127.0.0.1 "$PEER_PORT" /201
    expect_client_status 0 "any 2xx is success: exit 0 (not only 200)"
    expect_body "$LAB_TMP/body" "$base/201"
}

@test "step 4: a Content-Length body ends after that many bytes, even on an open connection" {
    start_origin --framing length --keep-open --lower-headers --body-size 5000 --piece 500 --gap 0.01
    LAB_CALL_TIMEOUT=3 run_client 127.0.0.1 "$PEER_PORT" /lesson/11
    if [ -n "$CLIENT_TIMED_OUT" ]; then
        lab_fail "the client was still waiting 3 s after the server sent the whole body (Content-Length: 5000) on a connection it keeps open" \
            "Content-Length ignored? the body ends after Content-Length bytes: stop there, do not wait for the end of the connection. Header names are case-insensitive: this server sends content-length"
        return 1
    fi
    expect_client_status 0 "count the body bytes and stop at Content-Length; they come in many pieces"
    expect_body "$LAB_TMP/body" "$URL" "read exactly Content-Length bytes of body, across as many recv() calls as it takes"
    stop_origin
    start_origin --framing length --body 'exactly this\n' --extra 'and not this, which comes after the body'
    run_client 127.0.0.1 "$PEER_PORT" /lesson/11
    expect_client_status 0
    expect_body "$LAB_TMP/body" "$URL" "Content-Length ignored? print Content-Length bytes and stop: what comes after them is not the body"
    stop_origin
    start_origin --framing length --body 'the server promised more\n' --short 100
    run_client 127.0.0.1 "$PEER_PORT" /lesson/11
    expect_client_status 1 "the connection closed before Content-Length bytes came: the body is cut short, which is an error (exit 1), not a success"
    expect_error_line 'closed|short|cut' "say in one line that the body was cut short: client: bad response from HOST:PORT: the connection closed after N of M body bytes"
}

@test "step 5: a chunked body is decoded: sizes, extensions and trailers are not printed" {
    start_origin --framing chunked --extensions --trailers --body-size 12000 \
        --chunks 1,5,300,4096,5000,7
    run_client 127.0.0.1 "$PEER_PORT" /lesson/11
    expect_client_status 0 "Transfer-Encoding: chunked: a hex size line (maybe with ;extensions), that many bytes, \\r\\n, again until size 0, then trailer lines up to an empty line"
    expect_body "$LAB_TMP/body" "$URL" "chunked not decoded? print only the bytes of the chunks: not their size lines, not the \\r\\n after each, not the trailers; a chunk can be bigger than your buffer"
    stop_origin
    start_origin --framing chunked --body-size 400 --chunks 1,2,100,17 \
        --piece 3 --gap 0.0002
    run_client 127.0.0.1 "$PEER_PORT" /lesson/11
    expect_client_status 0 "the chunks came 3 bytes at a time: size lines are split across recv() calls"
    expect_body "$LAB_TMP/body" "$URL" "chunked not decoded when it arrives in tiny pieces? read the size lines with read_line() and the data with pass_body(): both take what the buffer holds and recv() more"
}

@test "step 6: a response that is not HTTP gets a one-line error and exit status 1" {
    start_peer_server http-bad
    local path
    local -A why=(
        [/garbage]="garbage: the first line must look like HTTP/1.1 200 REASON; anything else is refused"
        [/cut-head]="the connection closed in the middle of the head: that is an error, not an empty body"
        [/bad-length]="a Content-Length that is not a number of digits is refused"
        [/bad-chunk]="a chunk size that is not hex is refused"
        [/bad-status]="the status code is three digits"
    )
    for path in /garbage /cut-head /bad-length /bad-chunk /bad-status; do
        run_client 127.0.0.1 "$PEER_PORT" "$path"
        expect_client_status 1 "$path: ${why[$path]}" || return 1
        expect_error_line '^client: bad response from 127\.0\.0\.1:[0-9]+: .+' "one line on stderr, from bad_response(): client: bad response from HOST:PORT: WHAT" || return 1
    done
    run_client 127.0.0.1 "$PEER_PORT" /long-header
    expect_client_status 1 "a header line of 100 KiB: read_line() stops at the size of its buffer (8 KiB) and refuses the response, exit 1; it must not crash or take the whole line into memory"
    expect_error_line '^client: bad response .*(too long|long)' "say in one line that a line of the response is too long"
}

@test "step 7: files from python3 -m http.server, a binary one too, print exactly as curl prints them" {
    local site=$LAB_TMP/site
    mkdir -p "$site"
    printf 'hello from http.server\n' >"$site/hello.txt"
    # Every byte value, NUL bytes among them, 64 KiB and a bit.
    "$LAB_PYTHON" -S -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 257 + b"\0end")' >"$site/all-bytes.bin"
    chmod -R a+rX "$site"
    start_http_server "$site"
    run_client localhost "$HTTP_PORT" /all-bytes.bin
    expect_client_status 0 "a binary file is served with Content-Length: print exactly that many bytes"
    expect_body "$site/all-bytes.bin" "http://127.0.0.1:$HTTP_PORT/all-bytes.bin" \
        "a body with NUL bytes: write() it with its length (printf, puts and fputs stop at the first NUL)"
    run_client 127.0.0.1 "$HTTP_PORT" /hello.txt
    expect_client_status 0
    expect_body "$site/hello.txt" "http://127.0.0.1:$HTTP_PORT/hello.txt"
    run_client 127.0.0.1 "$HTTP_PORT" /no-such-file
    expect_client_status 3 "http.server answers 404 for a missing file: exit status 3"
    curl_get "http://127.0.0.1:$HTTP_PORT/no-such-file"
    expect_body "$LAB_TMP/curl.out" "http://127.0.0.1:$HTTP_PORT/no-such-file" \
        "the 404 page has a body: print it as curl -s does"
}
