"""Peers for lesson 12 (http-server): HTTP clients that check a web server
byte by byte, and the ones that misbehave.

Client peers:
  http-talk    send requests (raw bytes: garbage too) on one connection,
               check each response, then check the connection closes or
               stays quiet
  http-client  Python's http.client: several requests on one connection,
               which must be the same socket throughout (keep-alive)
  http-crowd   many connections at once, each request cut in two halves
               sent in turn with the others'
  http-stall   send half a request, then nothing: hold it open, or check
               the server closes it
"""

import http.client
import re
import socket
import time

from peerlib import Mismatch, connect, escape, option, peer, say
from peers_tcp_clients import unescape

PAGE = b"Hello, client!"
DEFAULT_REQUEST = "GET / HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n"
STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ([^\r\n]*)\r?\n")


class Conn:
    """A connection and what arrived on it that is not used yet."""

    def __init__(self, sock, deadline):
        self.sock, self.deadline, self.buf = sock, deadline, b""
        self.received = b""  # everything, for transcripts

    def more(self, what):
        """Receive more bytes into buf; raise Mismatch at EOF or timeout."""
        self.sock.settimeout(self.deadline.left())
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise Mismatch("no %s arrived within %.1f s; received so far: %s"
                           % (what, self.deadline.seconds,
                              escape(self.received, 300)))
        except ConnectionResetError:
            raise Mismatch("the connection was reset while waiting for %s; "
                           "received so far: %s" % (what,
                                                    escape(self.received, 300)))
        if not chunk:
            raise Mismatch("the server closed the connection before %s "
                           "arrived; received so far: %s" % (
                               what, escape(self.received, 300)))
        self.buf += chunk
        self.received += chunk

    def take_head(self):
        """Return the next response head (up to its blank line)."""
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise Mismatch("a response head of more than 64 KiB: %s"
                               % escape(self.buf))
            self.more("a response (a head ending in a blank line, "
                      "\"\\r\\n\\r\\n\")")
        end = self.buf.index(b"\r\n\r\n") + 4
        head, self.buf = self.buf[:end], self.buf[end:]
        return head

    def take(self, count, what):
        """Return the next count bytes."""
        while len(self.buf) < count:
            self.more(what)
        data, self.buf = self.buf[:count], self.buf[count:]
        return data


def parse_head(head):
    """Split a response head into (status, reason, {lower name: value});
    raise Mismatch when it is not one."""
    m = STATUS_LINE.match(head)
    if not m:
        raise Mismatch("the response does not start with a status line like "
                       "\"HTTP/1.1 200 OK\\r\\n\": %s" % escape(head, 200))
    headers = {}
    for line in head[m.end():].split(b"\r\n"):
        if not line:
            continue
        name, colon, value = line.partition(b":")
        if not colon or not name.strip():
            raise Mismatch("a header line without \"Name: value\": %s in %s"
                           % (escape(line), escape(head, 300)))
        headers[name.strip().lower().decode("latin-1")] = \
            value.strip().decode("latin-1")
    return int(m.group(1)), m.group(2).decode("latin-1"), headers


def read_response(conn, request, expect):
    """Read the response to request and check it: status expect, a
    Content-Length that counts the body, for 200 the page as text/html
    (HEAD: the same headers, no body). Returns its headers."""
    head = conn.take_head()
    status, reason, headers = parse_head(head)
    what = "sent %s\n  received %s\n  " % (escape(request, 120),
                                           escape(head, 300))
    if status != expect:
        raise Mismatch("%sexpected status %d, got %d %s" % (
            what, expect, status, reason))
    length = headers.get("content-length")
    if length is None or not length.isdigit():
        raise Mismatch("%sno valid Content-Length header: without it the "
                       "client cannot tell where the body ends" % what)
    if status == 200 and not headers.get("content-type", "").lower() \
            .startswith("text/html"):
        raise Mismatch("%sexpected Content-Type: text/html, got %s" % (
            what, escape(headers.get("content-type", "(none)").encode())))
    if status == 200 and int(length) != len(PAGE):
        raise Mismatch("%sContent-Length is %s, but the page %s is %d bytes"
                       % (what, length, escape(PAGE), len(PAGE)))
    if request.startswith(b"HEAD "):
        return headers  # a HEAD response has no body, whatever the length
    body = conn.take(int(length), "the %s-byte body (Content-Length: %s)" % (
        length, length))
    if status == 200 and body != PAGE:
        raise Mismatch("%sexpected the body %s, got %s" % (
            what, escape(PAGE), escape(body)))
    return headers


def check_closed(conn, headers, since, min_wait, said):
    """Check the server closes the connection, no sooner than min_wait
    seconds after since (when we sent the last request), with nothing more sent (and, if said, that its
    last response said so)."""
    if said and "close" not in headers.get("connection", "").lower():
        raise Mismatch("the last response should say \"Connection: close\" "
                       "before the server closes; its Connection header was "
                       "%s" % escape(headers.get("connection", "(none)")
                                     .encode()))
    extra = conn.buf
    while True:
        conn.sock.settimeout(conn.deadline.left())
        try:
            chunk = conn.sock.recv(65536)
        except socket.timeout:
            raise Mismatch("after the last response the connection stayed "
                           "open (no close within %.1f s)" % (
                               conn.deadline.seconds))
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            break
        extra += chunk
    if extra:
        raise Mismatch("after the last response (a complete one, going by "
                       "its Content-Length) the server sent more bytes: %s"
                       % escape(extra))
    waited = time.monotonic() - since
    if waited < min_wait:
        raise Mismatch("the server closed the connection %.2f s after the "
                       "request; it should keep it open for the next request"
                       " for at least %.2f s" % (waited, min_wait))


def check_quiet(conn, seconds):
    """Check that nothing more arrives for seconds (the end may close)."""
    conn.sock.settimeout(seconds)
    extra = conn.buf
    try:
        while True:
            chunk = conn.sock.recv(65536)
            if not chunk:
                break
            extra += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    if extra:
        raise Mismatch("after a complete response the server sent more bytes:"
                       " %s" % escape(extra))


@peer("http-talk", "send HTTP requests on one connection (raw bytes, C "
      "escapes), check each response's status, length and body, then that "
      "the server closes (--closes) or stays quiet (--quiet S)")
@option("--request", action="append", help="raw request bytes (repeatable)")
@option("--expect", action="append", type=int, help="status of each response")
@option("--fresh", action="store_true",
        help="each request on a connection of its own (the checks after "
        "the last response apply to each)")
@option("--together", action="store_true",
        help="send all the requests in one send(), before any response")
@option("--pieces", type=int, default=1,
        help="send each request in this many pieces, 0.05 s apart")
@option("--closes", action="store_true",
        help="the last response says Connection: close, and the server "
        "closes the connection")
@option("--idle-closes", action="store_true",
        help="the server closes the connection after the last response "
        "(its idle timeout), no sooner than --open-for seconds")
@option("--open-for", type=float, default=0.0,
        help="with --idle-closes: not sooner than this many seconds")
@option("--quiet", type=float, default=0.0,
        help="no bytes may follow the last response for this many seconds")
def http_talk(args, deadline):
    requests = [unescape(r) for r in (args.request or [DEFAULT_REQUEST])]
    expects = args.expect or [200] * len(requests)
    if len(expects) != len(requests):
        raise Mismatch("usage: one --expect per --request")
    pairs = list(zip(requests, expects))
    for batch in ([[p] for p in pairs] if args.fresh else [pairs]):
        talk_once(args, deadline, batch)
    say("ok: %d response(s) as expected" % len(requests))


def talk_once(args, deadline, pairs):
    """Send the (request, expected status) pairs on one new connection and
    check the responses and what follows them, as args say."""
    sock = connect(args.host, args.port, deadline)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = Conn(sock, deadline)
    try:
        if args.together:
            sock.sendall(b"".join(r for r, _ in pairs))
        # The server's idle time starts after it has our last request, so
        # it cannot run out sooner than --open-for after we sent it, however
        # late we come to read the response.
        sent = time.monotonic()
        last = {}
        for i, (request, expect) in enumerate(pairs):
            if not args.together:
                send_in_pieces(sock, request, args.pieces)
                sent = time.monotonic()
            try:
                last = read_response(conn, request, expect)
            except Mismatch as e:
                if len(pairs) > 1:
                    raise Mismatch("request %d of %d on one connection%s: %s"
                                   % (i + 1, len(pairs),
                                      " (all sent at once)" if args.together
                                      else "", e))
                raise
        try:
            if args.closes:
                check_closed(conn, last, sent, 0.0, True)
            elif args.idle_closes:
                check_closed(conn, last, sent, args.open_for, False)
            elif args.quiet:
                check_quiet(conn, args.quiet)
        except Mismatch as e:
            raise Mismatch("sent %s\n  %s" % (
                escape(b"".join(r for r, _ in pairs), 200), e))
    finally:
        sock.close()


def send_in_pieces(sock, data, pieces):
    """Send data cut into pieces, a short pause between them, so that the
    server's recv() gets them one at a time."""
    step = max(1, -(-len(data) // max(pieces, 1)))
    for i in range(0, len(data), step):
        if i:
            time.sleep(0.05)
        sock.sendall(data[i:i + step])


@peer("http-client", "Python's http.client: GET /, HEAD /, GET / on one "
      "HTTPConnection; the socket must stay the same (keep-alive)")
def http_client(args, deadline):
    conn = http.client.HTTPConnection(args.host, args.port,
                                      timeout=deadline.left())
    try:
        first = None
        for i, method in enumerate(("GET", "HEAD", "GET")):
            label = "request %d of 3 (%s /) on one HTTPConnection: " % (
                i + 1, method)
            try:
                conn.request(method, "/")
                resp = conn.getresponse()
                body = resp.read()
            except (http.client.HTTPException, OSError) as e:
                raise Mismatch("%shttp.client failed: %s: %s" % (
                    label, type(e).__name__, e))
            want = PAGE if method == "GET" else b""
            if resp.status != 200 or body != want:
                raise Mismatch("%sexpected 200 with body %s, got %d %s with "
                               "body %s" % (label, escape(want), resp.status,
                                            resp.reason, escape(body)))
            if resp.getheader("Content-Length") != str(len(PAGE)):
                raise Mismatch("%sexpected Content-Length: %d, got %s" % (
                    label, len(PAGE), resp.getheader("Content-Length")))
            if conn.sock is None:
                raise Mismatch("%sthe server closed the connection after the "
                               "response (its Connection header: %s); with "
                               "HTTP/1.1 it should stay open for the next "
                               "request" % (label,
                                            resp.getheader("Connection")))
            if first is None:
                first = conn.sock
            elif conn.sock is not first:
                raise Mismatch("%shttp.client had to open a new connection: "
                               "the server closed the first one" % label)
    finally:
        conn.close()
    say("ok: three requests on one connection")


@peer("http-crowd", "open N connections, send the first half of a request "
      "on each, then the second halves, then check every response")
@option("--connections", type=int, default=20)
def http_crowd(args, deadline):
    request = unescape(DEFAULT_REQUEST)
    half = len(request) // 2
    conns = []
    try:
        for _ in range(args.connections):
            s = connect(args.host, args.port, deadline)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conns.append(Conn(s, deadline))
        for c in conns:
            c.sock.sendall(request[:half])
        for c in conns:
            c.sock.sendall(request[half:])
        for i, c in enumerate(conns):
            try:
                read_response(c, request, 200)
            except Mismatch as e:
                raise Mismatch("connection %d of %d, all open at once: %s" % (
                    i + 1, len(conns), e))
    finally:
        for c in conns:
            c.sock.close()
    say("ok: %d connections at once, each answered" % args.connections)


@peer("http-stall", "send half a request and then nothing; print holding; "
      "hold the connection open, or (--expect-close) check the server "
      "closes it")
@option("--partial", default="GET / HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUser-Ag",
        help="the bytes to send (C escapes)")
@option("--expect-close", action="store_true",
        help="the server must close the connection before the timeout")
def http_stall(args, deadline):
    sock = connect(args.host, args.port, deadline)
    sock.sendall(unescape(args.partial))
    say("holding")
    if not args.expect_close:
        # Stay connected until the time is up; the test kills us sooner.
        time.sleep(deadline.left())
        sock.close()
        return
    sock.settimeout(deadline.left())
    try:
        while sock.recv(65536):
            pass  # a 408 Request Timeout before the close is fine too
    except socket.timeout:
        raise Mismatch("sent half a request %s and then nothing; the server "
                       "kept the connection open for %.1f s, expected it to "
                       "close it once its idle time ran out" % (
                           escape(unescape(args.partial)), deadline.seconds))
    except ConnectionResetError:
        pass
    finally:
        sock.close()
    say("ok: the server closed the stalled connection")

