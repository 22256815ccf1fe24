"""Peers for lesson 09 (options): each socket option is checked by what it
does, seen from the other end of the connection.

Client peers:
  opt-bye             echo a line, say bye, and check how the server ends
                      the connection: end-of-file (FIN) or a reset (RST)
  opt-kernel-bufs     no conversation: print what this kernel gives a
                      socket that asks for SO_RCVBUF / SO_SNDBUF sizes
Server peer:
  opt-request-server  answer each line with one send, and time, for each
                      request, how long its last byte came after its first:
                      Nagle's algorithm shows up as that gap
"""

import select
import socket
import statistics
import time

from peerlib import Mismatch, connect, escape, expect_echo, listen, option, peer, say
from peers_tcp_clients import unescape


# ---------------------------------------------------------------- opt-bye

@peer("opt-bye", "send --message and check its echo, send bye and check "
      "its echo, then check the server ends the connection with "
      "--expect eof (an orderly close) or reset (SO_LINGER 0)")
@option("--message", default="hello\\n", help="a line to echo first")
@option("--expect", choices=("eof", "reset"), default="eof")
def opt_bye(args, deadline):
    sock = connect(args.host, args.port, deadline)
    try:
        msg = unescape(args.message)
        sock.sendall(msg)
        expect_echo(sock, msg, deadline)
        sock.sendall(b"bye\n")
        expect_echo(sock, b"bye\n", deadline)
        ending, extra = how_it_ends(sock, deadline)
    finally:
        sock.close()
    if ending == args.expect:
        say("ok: after bye the server ended the connection with %s" % (
            "end-of-file" if ending == "eof" else "a reset (ECONNRESET)"))
        return
    said = {"eof": "an orderly close: recv() returned 0 (end-of-file, a FIN)",
            "reset": "a reset: recv() failed with ECONNRESET (an RST)",
            "open": "nothing: the connection stayed open",
            "bytes": "more bytes: %s" % escape(extra)}
    want = {"eof": "close it in order (a FIN, end-of-file)",
            "reset": "reset it: close() with SO_LINGER on and 0 s sends an "
                     "RST, so recv() here fails with ECONNRESET"}
    raise Mismatch("sent \"bye\\n\" and got it back; then expected the "
                   "server to %s, but got %s" % (want[args.expect],
                                                  said[ending]))


def how_it_ends(sock, deadline):
    """Read until the connection ends; returns ("eof" | "reset" | "open" |
    "bytes", the unexpected bytes)."""
    extra = bytearray()
    while True:
        sock.settimeout(deadline.left())
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return ("bytes", bytes(extra)) if extra else ("reset", b"")
        except socket.timeout:
            return ("bytes", bytes(extra)) if extra else ("open", b"")
        if not chunk:
            return ("bytes", bytes(extra)) if extra else ("eof", b"")
        extra += chunk


# ---------------------------------------------------------------- opt-kernel-bufs

@peer("opt-kernel-bufs", "print what this kernel gives a TCP socket that "
      "asks for --rcvbuf / --sndbuf bytes, in the server's words: "
      "SO_RCVBUF: asked N, kernel gives M")
@option("--rcvbuf", type=int, default=None)
@option("--sndbuf", type=int, default=None)
def opt_kernel_bufs(args, deadline):
    with socket.socket() as s:
        for label, name, value in (("SO_RCVBUF", socket.SO_RCVBUF, args.rcvbuf),
                                   ("SO_SNDBUF", socket.SO_SNDBUF, args.sndbuf)):
            if value is None:
                continue
            s.setsockopt(socket.SOL_SOCKET, name, value)
            say("%s: asked %d, kernel gives %d" % (
                label, value, s.getsockopt(socket.SOL_SOCKET, name)))


# ---------------------------------------------------------------- opt-request-server

@peer("opt-request-server", "answer each line with one send; after each "
      "connection print how many requests it made and the median time "
      "from a request's first byte to its newline (Nagle's delay)")
@option("--connections", type=int, default=2, help="serve this many, then exit")
def opt_request_server(args, deadline):
    srv = listen(args.host, args.port)
    for n in range(1, args.connections + 1):
        srv.settimeout(deadline.left())
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            raise Mismatch("no connection %d of %d came within %.1f s" % (
                n, args.connections, deadline.seconds))
        with conn:
            gaps = answer_requests(conn, deadline)
        if gaps:
            say("connection %d: %d requests, median gap %.3f ms" % (
                n, len(gaps), statistics.median(gaps)))
        else:
            say("connection %d: no complete request" % n)


def answer_requests(conn, deadline):
    """Answer each line on conn with one sendall until end-of-file; return,
    per request, the milliseconds from its first byte's arrival to its
    newline's."""
    buf, gaps, first = b"", [], None
    while not deadline.expired():
        ready, _, _ = select.select([conn], [], [], deadline.left())
        if not ready:
            break
        try:
            data = conn.recv(65536)
        except ConnectionResetError:
            break
        now = time.monotonic()
        if not data:
            break
        if first is None:
            first = now
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            gaps.append((now - first) * 1000)
            first = now if buf else None
            conn.sendall(line + b"\n")
    return gaps
