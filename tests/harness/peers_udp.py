"""UDP peers for lesson 04: clients that drive a student's UDP echo server
and check every reply, and servers that stand in for it when the student's
client is under test.

UDP has no connection to wait on and no end of file, so each client peer
waits for every reply with a bound of its own (--wait, default 2 s, far
more than loopback needs) inside the peer's overall --timeout. Replies are
received on unconnected sockets, so a reply from the wrong address is seen
and reported instead of being filtered away by the kernel.
"""

import errno
import socket
import time

from peerlib import (Mismatch, escape, first_difference, listen, option,
                     peer, say)
from peers_tcp_clients import unescape

MAX_DATAGRAM = 65535  # what a recvfrom buffer must hold to never truncate


def udp_socket(host):
    """An unconnected UDP socket bound to host and a port the kernel picks."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    return sock


def where(addr):
    """Say an address as HOST:PORT."""
    return "%s:%d" % addr


def receive(sock, wait, deadline):
    """One datagram within wait seconds (and before deadline): (data, addr),
    or None when nothing came."""
    end = min(time.monotonic() + wait, deadline.end)
    sock.settimeout(max(end - time.monotonic(), 0.001))
    try:
        return sock.recvfrom(MAX_DATAGRAM)
    except socket.timeout:
        return None


def await_reply(sock, server, args, deadline, label, sent):
    """The next datagram from server; raise Mismatch when none comes in
    time or one comes from somewhere else."""
    got = receive(sock, args.wait, deadline)
    if got is None:
        raise Mismatch("%ssent %s, no reply within %.1f s" % (
            label, describe(sent), args.wait))
    data, addr = got
    if addr != server:
        raise Mismatch("%ssent %s to %s, but the reply %s came from %s: "
                       "reply from the socket the datagram arrived on" % (
                           label, describe(sent), where(server),
                           describe(data), where(addr)))
    return data


def describe(data):
    """A datagram in words: its size and its bytes, escaped."""
    if not data:
        return "an empty datagram (0 bytes)"
    return "%d bytes %s" % (len(data), escape(data))


def expect_echo(sock, server, message, args, deadline, label=""):
    """Send message as one datagram and check the same bytes come back as
    one datagram from server."""
    sock.sendto(message, server)
    got = await_reply(sock, server, args, deadline, label, message)
    if got != message:
        i = first_difference(message, got)
        raise Mismatch("%ssent one datagram of %s\n  expected the same "
                       "datagram back\n  received %s\n  first difference "
                       "at byte %d%s" % (label, describe(message),
                                         describe(got), i,
                                         size_hint(message, got)))


def size_hint(sent, got):
    """A plain-words cause for a reply of the wrong size."""
    if len(got) < len(sent) and len(got) in (256, 512, 1024, 2048, 4096,
                                             8192, 16384, 32768):
        return ("\n  the reply stops at %d bytes: a recvfrom() buffer that "
                "small cuts a datagram short and the rest is lost" % len(got))
    if len(got) == len(sent) + 1:
        return "\n  one byte too many: a newline or '\\0' added to the echo?"
    return ""


def drain(sock, seconds, deadline):
    """Datagrams that arrive within seconds; the caller expects none."""
    extra = []
    while True:
        got = receive(sock, seconds, deadline)
        if got is None:
            return extra
        extra.append(got)


def pattern(size, seed=0):
    """size printable bytes, different for each seed."""
    line = bytes((ord("a") + (seed + i) % 26) for i in range(26)) + b"\n"
    return (line * (size // len(line) + 1))[:size]


# ---- clients of a student's server

@peer("udp-bound", "check that something holds UDP port --port (binding "
      "it ourselves must fail)")
def udp_bound(args, deadline):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((args.host, args.port))
    except OSError as e:
        if e.errno == errno.EADDRINUSE:  # the server holds the port
            say("ok: UDP port %d on %s is bound" % (args.port, args.host))
            return
        raise Mismatch("bind %s:%d (UDP): %s" % (args.host, args.port,
                                                  e.strerror or e))
    finally:
        sock.close()
    raise Mismatch("nothing holds UDP port %d on %s: the server printed "
                   "that port but has no UDP socket bound to it (a "
                   "SOCK_DGRAM socket? print the port after bind())" % (
                       args.port, args.host))


@peer("udp-echo-client", "send datagrams, check each comes back whole from "
      "the server's address")
@option("--message", default="hello, datagram",
        help="the datagram (C escapes allowed)")
@option("--count", type=int, default=1, help="datagrams, one at a time")
@option("--wait", type=float, default=2.0, help="seconds to wait per reply")
def udp_echo_client(args, deadline):
    server = (args.host, args.port)
    sock = udp_socket(args.host)
    message = unescape(args.message)
    for i in range(args.count):
        label = "datagram %d of %d: " % (i + 1, args.count) \
            if args.count > 1 else ""
        expect_echo(sock, server, message, args, deadline, label)
    say("ok: %d datagram(s) of %d bytes echoed" % (args.count, len(message)))


@peer("udp-burst", "send datagrams of several sizes back to back, then "
      "check the same datagrams come back, no more, no fewer")
@option("--sizes", default="5,1,300", help="sizes in bytes, comma separated")
@option("--wait", type=float, default=2.0, help="seconds to wait per reply")
@option("--quiet-time", type=float, default=0.2,
        help="seconds to watch for extra datagrams after the last reply")
def udp_burst(args, deadline):
    server = (args.host, args.port)
    sock = udp_socket(args.host)
    sent = [pattern(int(n), i) for i, n in enumerate(args.sizes.split(","))]
    for data in sent:  # back to back, before reading any reply
        sock.sendto(data, server)
    sizes = ", ".join(str(len(d)) for d in sent)
    got = []
    for data in sent:
        reply = receive(sock, args.wait, deadline)
        if reply is None:
            raise Mismatch("sent %d datagrams back to back (sizes %s), got "
                           "%d back within %.1f s: %s" % (
                               len(sent), sizes, len(got), args.wait,
                               listing(got) or "none"))
        if reply[1] != server:
            raise Mismatch("a reply came from %s, not from the server's "
                           "address %s" % (where(reply[1]), where(server)))
        got.append(reply[0])
    extra = drain(sock, args.quiet_time, deadline)
    if sorted(got) != sorted(sent) or extra:
        raise Mismatch("sent %d datagrams back to back, of sizes %s\n"
                       "  expected the same %d datagrams back\n"
                       "  received %s%s\n  each recvfrom() returns exactly "
                       "one datagram: send each one back by itself, all of "
                       "it and nothing more" % (
                           len(sent), sizes, len(sent), listing(got),
                           "\n  and then %d more: %s" % (
                               len(extra), listing([d for d, _ in extra]))
                           if extra else ""))
    say("ok: %d datagrams of sizes %s came back as %d datagrams" % (
        len(sent), sizes, len(got)))


def listing(datagrams):
    """Describe a list of datagrams by their sizes and first bytes."""
    return "; ".join("%d bytes %s" % (len(d), escape(d, 12))
                     for d in datagrams)


@peer("udp-two-clients", "two clients interleave their datagrams; each "
      "must get back its own")
@option("--rounds", type=int, default=3)
@option("--wait", type=float, default=2.0, help="seconds to wait per reply")
def udp_two_clients(args, deadline):
    server = (args.host, args.port)
    socks = {"A": udp_socket(args.host), "B": udp_socket(args.host)}
    for r in range(args.rounds):
        # Both send before either reads: a server that answers "the client"
        # (one remembered address) gives one of them the other's reply.
        messages = {name: b"client %s, datagram %d" % (name.encode(), r + 1)
                    for name in socks}
        for name, sock in socks.items():
            sock.sendto(messages[name], server)
        for name, sock in socks.items():
            mine = messages[name]
            label = "client %s (%s), round %d: " % (
                name, where(sock.getsockname()), r + 1)
            got = await_reply(sock, server, args, deadline, label, mine)
            if got != mine:
                raise Mismatch("%ssent %s\n  expected it back\n  received "
                               "%s\n  send each reply to the address "
                               "recvfrom() gave with that datagram" % (
                                   label, escape(mine), escape(got)))
    say("ok: %d rounds, each client got back only its own datagrams" %
        args.rounds)


@peer("udp-big", "send one large datagram (default 60 000 bytes), check it "
      "comes back whole")
@option("--size", type=int, default=60000)
@option("--wait", type=float, default=2.0, help="seconds to wait per reply")
def udp_big(args, deadline):
    server = (args.host, args.port)
    sock = udp_socket(args.host)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    data = pattern(args.size)
    expect_echo(sock, server, data, args, deadline)
    say("ok: a %d-byte datagram came back whole" % len(data))


@peer("udp-empty", "send an empty datagram, expect an empty one back, then "
      "check the server still echoes")
@option("--wait", type=float, default=2.0, help="seconds to wait per reply")
def udp_empty(args, deadline):
    server = (args.host, args.port)
    sock = udp_socket(args.host)
    try:
        expect_echo(sock, server, b"", args, deadline, "empty datagram: ")
    except Mismatch as e:
        raise Mismatch("%s\n  recvfrom() returning 0 is a datagram of 0 "
                       "bytes, not end of file: UDP has no end of file" % e)
    expect_echo(sock, server, b"after the empty one", args, deadline,
                "after the empty datagram: ")
    say("ok: the empty datagram came back empty and the server still echoes")


@peer("udp-odd", "send odd datagrams (binary bytes, senders that vanish "
      "before the reply), then check a normal one is still echoed")
@option("--vanish", type=int, default=3, help="senders that close at once")
@option("--wait", type=float, default=2.0, help="seconds to wait per reply")
def udp_odd(args, deadline):
    server = (args.host, args.port)
    sock = udp_socket(args.host)
    binary = b"\x00zero first\x00\xff\xfe\r\n\tand after\x00"
    expect_echo(sock, server, binary, args, deadline, "binary datagram: ")
    for i in range(args.vanish):
        # The reply goes to a closed port: the server's kernel gets an ICMP
        # port unreachable back, which must not stop the server.
        gone = udp_socket(args.host)
        gone.sendto(b"nobody will read this reply %d" % i, server)
        gone.close()
    expect_echo(sock, server, b"still there?", args, deadline,
                "after %d senders vanished before their reply: " %
                args.vanish)
    fresh = udp_socket(args.host)
    expect_echo(fresh, server, b"a new sender", args, deadline,
                "a new sender after the odd datagrams: ")
    say("ok: binary bytes came back whole; after %d vanished senders the "
        "server still echoes" % args.vanish)


# ---- servers for a student's client

@peer("udp-echo-server", "echo every datagram to its sender, reporting "
      "each; optionally late, or after a stranger's datagram")
@option("--datagrams", type=int, default=0,
        help="exit after this many (default: serve until the timeout)")
@option("--delay", type=float, default=0.0, help="seconds before each reply")
@option("--stranger", help="first send this (C escapes) to the client from "
        "another port, as someone else would")
def udp_echo_server(args, deadline):
    sock = listen(args.host, args.port, kind=socket.SOCK_DGRAM)
    served = 0
    while not deadline.expired():
        got = receive(sock, deadline.left(), deadline)
        if got is None:
            break
        data, addr = got
        say("received %s from %s" % (escape(data, 4096), where(addr)))
        if args.stranger:
            stranger = udp_socket(args.host)
            stranger.sendto(unescape(args.stranger), addr)
            say("sent %s to %s from another port, %s" % (
                escape(unescape(args.stranger)), where(addr),
                where(stranger.getsockname())))
            stranger.close()
            # Pacing, not synchronisation: let the stranger's datagram be
            # first in the client's queue, as a race would have it.
            time.sleep(0.02)
        if args.delay:
            time.sleep(args.delay)  # the behaviour under test: a slow reply
        sock.sendto(data, addr)
        served += 1
        if args.datagrams and served >= args.datagrams:
            break
    sock.close()


@peer("udp-silent", "bind a UDP port, report what arrives, never answer")
def udp_silent(args, deadline):
    sock = listen(args.host, args.port, kind=socket.SOCK_DGRAM)
    while not deadline.expired():
        got = receive(sock, deadline.left(), deadline)
        if got is not None:
            say("received %s from %s (not answering)" % (
                escape(got[0], 4096), where(got[1])))
    sock.close()
