"""Peers for lesson 11 (http-get): HTTP servers for a raw GET client.

http-request-check takes one request and checks it is what HTTP/1.1 asks
of a client (the request line, a Host header naming host and port,
`Connection: close`, lines ending in \\r\\n, an empty line at the end).

http-origin answers every request the way its options say, and so plays
every server a client meets: a body framed by Content-Length, by the end
of the connection or in chunks (with chunk extensions and trailers); sent
in tiny pieces, slowly; a server that keeps the connection open after the
body; a 404 with a body; a header line of 100 KiB; garbage that is not
HTTP at all. Like any HTTP/1.1 server it answers 400 to a request without
a Host header.
"""

import codecs
from http import HTTPStatus
import socket
import threading
import time

from peerlib import Mismatch, escape, listen, option, peer, say

HEAD_LIMIT = 65536  # the most of a request head we read


def unescape(text):
    """Turn C escapes (\\r, \\n, \\x00) of a command line argument into bytes."""
    return codecs.escape_decode(text.encode())[0]


def read_request(conn, deadline):
    """Read a request head up to its empty line, the end of the connection,
    HEAD_LIMIT bytes or the deadline; return what came."""
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data:
        if len(data) >= HEAD_LIMIT:
            break
        conn.settimeout(deadline.left())
        try:
            chunk = conn.recv(4096)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
    return data


def header_values(head, name):
    """Return the values of header name (any case) in a request head."""
    values = []
    for line in head.split(b"\n")[1:]:
        key, colon, value = line.partition(b":")
        if colon and key.strip().lower() == name.lower().encode():
            values.append(value.strip().decode("latin-1"))
    return values


def request_problems(head, path, host):
    """Return what is wrong with request head for a GET of path from host
    (HOST:PORT), as a list of sentences (empty when all is right)."""
    if not head:
        return ["the client connected, then sent no request at all"]
    problems = []
    if b"\r\n\r\n" not in head:
        problems.append("the request does not end with an empty line, "
                        "\\r\\n\\r\\n (every line ends with \\r\\n, and an "
                        "empty line ends the head)")
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    want = ("GET %s HTTP/1.1" % path).encode()
    if first != want:
        problems.append("the request line is %s; expected %s" % (
            escape(first), escape(want)))
    lines = head.split(b"\r\n\r\n")[0].split(b"\n")
    if any(not line.endswith(b"\r") for line in lines[:-1]):
        problems.append("a line ends with a bare \\n: HTTP lines end with "
                        "\\r\\n")
    hosts = header_values(head, "Host")
    if not hosts:
        problems.append("there is no Host header: HTTP/1.1 requires one "
                        "(Host: %s); servers answer 400 without it" % host)
    elif hosts != [host]:
        problems.append("Host is %s; expected %s (the host and the port "
                        "the client connected to)" % (
                            ", ".join(map(repr, hosts)), host))
    conn = [v.lower() for v in header_values(head, "Connection")]
    if "close" not in conn:
        problems.append("there is no 'Connection: close' header: without it "
                        "an HTTP/1.1 server may keep the connection open "
                        "after the body")
    return problems


def respond(conn, status, body):
    """Send a small response with a Content-Length; ignore a gone client."""
    try:
        conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: " +
                     str(len(body)).encode() + b"\r\nConnection: close\r\n"
                     b"\r\n" + body)
    except OSError:
        pass


@peer("http-request-check", "take one HTTP request and check it: request "
      "line, Host, Connection: close, \\r\\n line ends; answer 200, or 400 "
      "without Host")
@option("--path", default="/", help="the path the request must ask for")
def http_request_check(args, deadline):
    srv = listen(args.host, args.port)
    host = "%s:%d" % srv.getsockname()
    srv.settimeout(deadline.left())
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        raise Mismatch("no client connected within %.1f s" % deadline.seconds)
    with conn:
        head = read_request(conn, deadline)
        problems = request_problems(head, args.path, host)
        if not header_values(head, "Host"):
            respond(conn, b"400 Bad Request", b"no Host header\n")
        else:
            respond(conn, b"200 OK", b"request ok\n")
    if problems:
        raise Mismatch("the request was wrong:\n  - %s\n  request: %s" % (
            "\n  - ".join(problems), escape(head, 400)))
    say("request ok: %s" % escape(head, 400))


def filler(size):
    """Return size bytes of readable text: numbered lines, no NUL."""
    out = bytearray()
    n = 0
    while len(out) < size:
        out += b"line %05d of the body, just text\n" % n
        n += 1
    return bytes(out[:size])


def chunked(body, sizes, extensions, trailers):
    """Return body in chunked transfer coding, in pieces of the given sizes
    (the last one repeated), with chunk extensions and trailers if asked."""
    out, i, k = bytearray(), 0, 0
    while i < len(body):
        size = min(sizes[min(k, len(sizes) - 1)], len(body) - i)
        ext = b";piece=%d;note=\"x\"" % k if extensions else b""
        # Upper and lower case hex, as servers send both.
        digits = (b"%X" if k % 2 else b"%x") % size
        out += digits + ext + b"\r\n" + body[i:i + size] + b"\r\n"
        i, k = i + size, k + 1
    out += b"0" + (b";last" if extensions else b"") + b"\r\n"
    if trailers:
        out += b"X-Checksum: 12345\r\nX-Trailer-Note: the end\r\n"
    return bytes(out + b"\r\n")


def status_for(args, path):
    """Return the status (code and reason) to answer path with: --status,
    or with --status-from-path, the code a path like /404 names."""
    code = path.lstrip(b"/")
    if args.status_from_path and code.isdigit() and len(code) == 3:
        try:
            return "%s %s" % (code.decode(), HTTPStatus(int(code)).phrase)
        except ValueError:
            return "%s Unknown" % code.decode()
    return args.status


def build_response(args, body, path=b"/"):
    """Return the bytes of the response the options describe."""
    if args.raw is not None:
        return unescape(args.raw)
    status = status_for(args, path)
    head = [b"%s %s" % (args.version.encode(), status.encode()),
            b"Server: socklab-http-origin", b"Content-Type: text/plain"]
    if args.header_line:
        # One header line of header_line bytes in all.
        head.append(b"X-Filler: " + b"f" * max(args.header_line - 10, 0))
    wire = body
    if args.framing == "chunked":
        head.append(b"Transfer-Encoding: chunked")
        sizes = [int(s) for s in args.chunks.split(",")]
        wire = chunked(body, sizes, args.extensions, args.trailers)
    elif args.framing == "length":
        head.append(b"Content-Length: %d" % (len(body) + args.short))
    if not args.keep_open:
        head.append(b"Connection: close")
    if args.lower_headers:  # names are case-insensitive: clients must cope
        head[1:] = [h.split(b":")[0].lower() + b":" + h.split(b":", 1)[1]
                    for h in head[1:]]
    return b"\r\n".join(head) + b"\r\n\r\n" + wire + unescape(args.extra)


def send_paced(conn, data, piece, gap):
    """Send data in pieces of piece bytes, gap seconds apart (gap 0: all at
    once)."""
    if gap <= 0:
        conn.sendall(data)
        return
    for i in range(0, len(data), piece):
        conn.sendall(data[i:i + piece])
        time.sleep(gap)  # the behaviour under test: a slow server


def hold_open(conn, deadline):
    """Keep the connection open until the client closes it or deadline."""
    while not deadline.expired():
        conn.settimeout(min(deadline.left(), 0.5))
        try:
            if not conn.recv(4096):
                return
        except socket.timeout:
            continue
        except OSError:
            return


def serve_one(conn, addr, args, body, deadline):
    """Answer one client the way the options say."""
    with conn:
        head = read_request(conn, deadline)
        first = head.split(b"\n", 1)[0].rstrip(b"\r")
        if not header_values(head, "Host"):
            say("%s:%d asked %s without a Host header: 400" % (
                addr[0], addr[1], escape(first)))
            respond(conn, b"400 Bad Request",
                    b"400 Bad Request: HTTP/1.1 requires a Host header\n")
            return
        say("%s:%d asked %s" % (addr[0], addr[1], escape(first)))
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            path = (first.split(b" ") + [b"", b""])[1]
            send_paced(conn, build_response(args, body, path), args.piece,
                       args.gap)
        except OSError:
            return
        if args.keep_open:
            say("response sent; keeping the connection open")
            hold_open(conn, deadline)


@peer("http-origin", "an HTTP server answering every GET as the options "
      "say: Content-Length, to end of file or chunked; slow; kept open; a "
      "huge header line; garbage")
@option("--status", default="200 OK", help="status code and reason")
@option("--status-from-path", action="store_true",
        help="answer a path like /404 with that status (404 Not Found)")
@option("--version", default="HTTP/1.1", help="the status line's version")
@option("--body", default="hello, HTTP\n", help="the body (C escapes)")
@option("--body-size", type=int, default=0,
        help="instead of --body: this many bytes of numbered text lines")
@option("--framing", choices=("length", "eof", "chunked"), default="length",
        help="how the body's end is told: Content-Length, the end of the "
        "connection, or chunked transfer coding")
@option("--chunks", default="5,1,300,7",
        help="chunk sizes, comma separated (the last one repeats)")
@option("--extensions", action="store_true",
        help="add chunk extensions (;name=value) to the size lines")
@option("--trailers", action="store_true",
        help="add trailer lines after the last chunk")
@option("--piece", type=int, default=1, help="bytes per send with --gap")
@option("--gap", type=float, default=0.0,
        help="seconds between the pieces (0: send all at once)")
@option("--lower-headers", action="store_true",
        help="send header names in lower case (content-length: 5)")
@option("--keep-open", action="store_true",
        help="keep the connection open after the response (no close)")
@option("--extra", default="", help="bytes sent after the body (C escapes)")
@option("--short", type=int, default=0,
        help="Content-Length says this many bytes more than are sent")
@option("--header-line", type=int, default=0,
        help="add a header line of this many bytes")
@option("--raw", default=None,
        help="send these bytes (C escapes) instead of a response")
@option("--save-body", default=None,
        help="write the body a client should print into this file")
def http_origin(args, deadline):
    body = filler(args.body_size) if args.body_size else unescape(args.body)
    if args.save_body:
        with open(args.save_body, "wb") as f:
            f.write(body)
    srv = listen(args.host, args.port)
    while not deadline.expired():
        srv.settimeout(deadline.left())
        try:
            conn, addr = srv.accept()
        except socket.timeout:
            return
        threading.Thread(target=serve_one, daemon=True,
                         args=(conn, addr, args, body, deadline)).start()



# What http-bad answers, by path: responses no client should accept.
BAD_RESPONSES = {
    b"/garbage": b"SSH-2.0-OpenSSH_9.2p1\r\n",
    b"/cut-head": b"HTTP/1.1 200 OK\r\nServer: cut short\r\n",
    b"/bad-length": b"HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\nhello",
    b"/bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"zz\r\nhello\r\n0\r\n\r\n",
    b"/bad-status": b"HTTP/1.1 two hundred OK\r\n\r\nhello",
    b"/long-header": b"HTTP/1.1 200 OK\r\nX-Filler: " + b"f" * 102400 +
                     b"\r\nContent-Length: 6\r\n\r\nhello\n",
}


def answer_bad(conn, addr, deadline):
    """Send one client the bad response its path names, then close."""
    with conn:
        head = read_request(conn, deadline)
        first = head.split(b"\n", 1)[0].rstrip(b"\r")
        path = (first.split(b" ") + [b"", b""])[1]
        say("%s:%d asked %s" % (addr[0], addr[1], escape(first)))
        try:
            conn.sendall(BAD_RESPONSES.get(
                path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
        except OSError:
            pass


@peer("http-bad", "answer each GET with a response that is not valid "
      "HTTP, chosen by path: %s" % ", ".join(
          p.decode() for p in BAD_RESPONSES))
def http_bad(args, deadline):
    srv = listen(args.host, args.port)
    while not deadline.expired():
        srv.settimeout(deadline.left())
        try:
            conn, addr = srv.accept()
        except socket.timeout:
            return
        threading.Thread(target=answer_bad, daemon=True,
                         args=(conn, addr, deadline)).start()
