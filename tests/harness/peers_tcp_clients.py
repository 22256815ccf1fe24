"""TCP client peers: they drive a student's server and check its echoes.

The adversaries of the seeds' pitfalls: many interleaved connections, a
sender that writes one byte at a time, a 1 MiB payload, an abrupt reset,
a client that stalls, and a burst of short connections.
"""

import codecs
import socket
import sys
import threading
import time

from peerlib import (Deadline, Mismatch, connect, escape, expect_echo, option,
                     peer, recv_exactly, say, wait_closed)


def unescape(text):
    """Turn C escapes in a command-line string ("hi\\n") into bytes."""
    return codecs.escape_decode(text.encode())[0]


def generated(conn, index):
    """The index-th message of connection conn, unique and easy to read."""
    return b"client %d says hello %d\n" % (conn, index)


def finish(sock, args, deadline, label):
    """After the echoes: say bye, half-close or expect a close, per args."""
    if args.bye:
        sock.sendall(b"bye\n")
        expect_echo(sock, b"bye\n", deadline, label)
    if args.half_close:
        sock.shutdown(socket.SHUT_WR)
    if args.expect_close or args.bye:
        why = wait_closed(sock, deadline)
        if why:
            raise Mismatch("%sexpected the server to close the connection, "
                           "but %s" % (label, why))


@peer("echo-client", "open N connections, send messages round-robin, "
      "check every echo")
@option("--message", help="send this (C escapes allowed) instead of "
        "numbered lines")
@option("--count", type=int, default=1, help="messages per connection")
@option("--connections", type=int, default=1, help="connections at once")
@option("--bye", action="store_true", help="end with bye and expect a close")
@option("--half-close", action="store_true", help="shutdown(SHUT_WR) at end")
@option("--expect-close", action="store_true", help="expect the server to "
        "close the connection after the last echo")
def echo_client(args, deadline):
    # Connect them all first: a server that serves one client at a time
    # never answers the second, and the deadline says so.
    socks = [connect(args.host, args.port, deadline)
             for _ in range(args.connections)]
    for i in range(args.count):
        for c, sock in enumerate(socks):
            msg = unescape(args.message) if args.message else generated(c, i)
            label = "connection %d of %d, message %d: " % (
                c + 1, len(socks), i + 1) if len(socks) > 1 or args.count > 1 \
                else ""
            sock.sendall(msg)
            expect_echo(sock, msg, deadline, label)
    for c, sock in enumerate(socks):
        finish(sock, args, deadline, "connection %d: " % (c + 1)
               if len(socks) > 1 else "")
        sock.close()
    say("ok: %d connection(s) x %d message(s) echoed" % (
        len(socks), args.count))


@peer("byte-sender", "send a message one byte at a time, check the echo")
@option("--message", default="hello, one byte at a time\\n")
@option("--gap", type=float, default=0.002, help="seconds between bytes")
@option("--bye", action="store_true")
@option("--half-close", action="store_true")
@option("--expect-close", action="store_true")
@option("--lockstep", action="store_true", help="wait for each byte's echo "
        "before sending the next: every byte is a recv() of its own")
def byte_sender(args, deadline):
    msg = unescape(args.message)
    sock = connect(args.host, args.port, deadline)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i, b in enumerate(msg):
        try:
            sock.sendall(bytes([b]))
        except OSError as e:
            raise Mismatch("sending %s one byte at a time, the server closed "
                           "the connection after %d bytes (%s)" % (
                               escape(msg), i, e.strerror))
        if args.lockstep:
            expect_echo(sock, bytes([b]), deadline, "sent %s one byte at a "
                        "time, waiting for each echo; byte %d: " % (
                            escape(msg), i))
        else:
            time.sleep(args.gap)  # pacing, not synchronisation
    if not args.lockstep:
        expect_echo(sock, msg, deadline, "sent one byte at a time: ")
    finish(sock, args, deadline, "")
    sock.close()
    say("ok: %d bytes sent one at a time came back whole" % len(msg))


def pattern(size):
    """size bytes of printable lines ending in a newline."""
    line = bytes(range(ord("a"), ord("z") + 1)) * 3 + b"\n"
    data = (line * (size // len(line) + 1))[:size - 1] + b"\n"
    return data


@peer("bulk", "send one large message while reading the echo, check it")
@option("--size", type=int, default=1 << 20, help="bytes (default 1 MiB)")
@option("--bye", action="store_true")
@option("--half-close", action="store_true")
@option("--expect-close", action="store_true")
def bulk(args, deadline):
    data = pattern(args.size)
    sock = connect(args.host, args.port, deadline)
    # Send from a thread while this one reads: a server that echoes as it
    # reads would deadlock with us if we sent everything first.
    errors = []

    def sender():
        try:
            sock.sendall(data)
        except OSError as e:
            errors.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    try:
        got = recv_exactly(sock, len(data), deadline)
    except Mismatch as e:
        raise Mismatch("sent %d bytes in one message; %s" % (len(data), e))
    t.join(deadline.left())
    if got != data:
        i = next(k for k in range(len(data)) if data[k] != got[k])
        raise Mismatch("sent %d bytes, got %d back but they differ from byte "
                       "%d: expected %s, received %s" % (
                           len(data), len(got), i, escape(data[i:i + 20]),
                           escape(got[i:i + 20])))
    if errors:
        raise Mismatch("sending failed: %s" % errors[0])
    finish(sock, args, deadline, "")
    sock.close()
    say("ok: %d bytes echoed intact" % len(data))


@peer("reset", "send part of a message, then reset the connection (RST)")
@option("--message", default="half a mess")
def reset(args, deadline):
    sock = connect(args.host, args.port, deadline)
    sock.sendall(unescape(args.message))
    # SO_LINGER with a zero timeout turns close() into an RST: the server's
    # next send gets ECONNRESET or EPIPE (and SIGPIPE if it is not ready).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()
    say("ok: sent %s and reset the connection" % escape(
        unescape(args.message)))


@peer("hold", "connect (optionally check one echo), print holding, then "
      "keep the connection open for --hold seconds")
@option("--message", help="send this and check its echo first")
@option("--partial", help="send these bytes (say, half a line) and never read")
@option("--hold", type=float, default=None, help="seconds (default: timeout)")
def hold(args, deadline):
    sock = connect(args.host, args.port, deadline)
    if args.message:
        msg = unescape(args.message)
        sock.sendall(msg)
        expect_echo(sock, msg, deadline)
    if args.partial:
        sock.sendall(unescape(args.partial))
    say("holding")
    # Stay connected until the hold time is up; the test kills us sooner.
    time.sleep(args.hold if args.hold is not None else deadline.left())
    sock.close()


@peer("churn", "open and close many short connections, one echo each")
@option("--count", type=int, default=100)
@option("--message", default="short\\n")
def churn(args, deadline):
    msg = unescape(args.message)
    for i in range(args.count):
        sock = connect(args.host, args.port, deadline)
        sock.sendall(msg)
        expect_echo(sock, msg, deadline, "short connection %d of %d: " % (
            i + 1, args.count))
        sock.close()
    say("ok: %d short connections echoed" % args.count)


@peer("probe", "connect, then close at once: is anything listening?")
def probe(args, deadline):
    sock = connect(args.host, args.port, deadline)
    sock.close()
    say("ok: something accepts connections on %s:%d" % (args.host, args.port))
