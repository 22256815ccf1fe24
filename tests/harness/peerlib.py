"""peerlib - what every harness peer shares: registry, options, reporting.

A peer is a small function that plays one side of a conversation against a
student's program and checks what it sees. Each peer:

* is registered with @peer("name", help) and gets its options from @option;
* has a bounded run time (--timeout, default 5 s) and never waits past it;
* exits 0 when the conversation went as expected, 1 with a transcript
  (what was sent, expected and received, escaped like C strings) when not,
  2 on bad usage;
* when it is a server, binds port 0 and prints `listening on HOST:PORT`.

Standard library only.
"""

import socket
import sys
import time

PEERS = {}


class Mismatch(Exception):
    """The program under test did something the peer did not expect."""


def peer(name, help_text):
    """Register a peer function under name."""

    def register(func):
        # Peers of every module share one namespace: a second "vanish"
        # would silently replace the first.
        if name in PEERS and PEERS[name].__module__ != func.__module__:
            raise RuntimeError("peer %r is defined twice: in %s and %s" % (
                name, PEERS[name].__module__, func.__module__))
        func.peer_name = name
        func.peer_help = help_text
        func.peer_options = getattr(func, "peer_options", [])
        PEERS[name] = func
        return func

    return register


def option(*flags, **kwargs):
    """Declare an argparse option of a peer (used under @peer)."""

    def add(func):
        func.peer_options = [(flags, kwargs)] + getattr(func, "peer_options", [])
        return func

    return add


def escape(data, limit=80):
    """Return data as a C string literal, cut after limit bytes."""
    out = ['"']
    for b in data[:limit]:
        c = chr(b)
        if c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif c in '"\\':
            out.append("\\" + c)
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append("\\x%02x" % b)
    out.append('"')
    if len(data) > limit:
        out.append("... (%d bytes in all)" % len(data))
    return "".join(out)


def first_difference(expected, got):
    """Return the index of the first byte where got departs from expected."""
    for i, (a, b) in enumerate(zip(expected, got)):
        if a != b:
            return i
    return min(len(expected), len(got))


def say(*parts):
    """Print one transcript line and flush (a test may be reading it live)."""
    print(*parts, flush=True)


class Deadline:
    """A point in time that every blocking call of a peer respects."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def left(self):
        """Seconds left, at least a tiny positive amount for settimeout."""
        return max(self.end - time.monotonic(), 0.001)

    def expired(self):
        return time.monotonic() >= self.end


def connect(host, port, deadline):
    """Connect a TCP socket to host:port before deadline; raise Mismatch."""
    try:
        return socket.create_connection((host, port), timeout=deadline.left())
    except ConnectionRefusedError:
        raise Mismatch("connect %s:%d: connection refused (is the server "
                       "still listening?)" % (host, port))
    except socket.timeout:
        raise Mismatch("connect %s:%d: timed out" % (host, port))
    except OSError as e:
        raise Mismatch("connect %s:%d: %s" % (host, port, e.strerror or e))


def recv_exactly(sock, count, deadline, sent=None):
    """Read count bytes before deadline; return them or raise Mismatch with
    what arrived so far."""
    got = bytearray()
    while len(got) < count:
        sock.settimeout(deadline.left())
        try:
            chunk = sock.recv(min(count - len(got), 65536))
        except socket.timeout:
            raise Mismatch(short_read(got, count, "no more bytes arrived "
                                      "within %.1f s" % deadline.seconds))
        except ConnectionResetError:
            raise Mismatch(short_read(got, count, "the connection was reset"))
        if not chunk:
            raise Mismatch(short_read(got, count, "the server closed the "
                                      "connection"))
        got += chunk
    return bytes(got)


def short_read(got, count, why):
    """Describe a reply that stopped short."""
    return "got %d of %d bytes, then %s; received so far: %s" % (
        len(got), count, why, escape(bytes(got)))


def expect_echo(sock, message, deadline, label=""):
    """Read len(message) bytes and check they are message; raise Mismatch."""
    try:
        got = recv_exactly(sock, len(message), deadline)
    except Mismatch as e:
        raise Mismatch("%ssent %s, expected it back; %s" % (
            label, escape(message), e))
    if got != message:
        i = first_difference(message, got)
        raise Mismatch("%ssent %s\n  expected %s\n  received %s\n"
                       "  first difference at byte %d" % (
                           label, escape(message), escape(message),
                           escape(got), i))
    return got


def wait_closed(sock, deadline):
    """Return None if the peer closes before deadline, else a description
    of what it did instead."""
    extra = bytearray()
    while True:
        sock.settimeout(deadline.left())
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            return "the connection stayed open (no close within %.1f s)" % (
                deadline.seconds)
        except ConnectionResetError:
            return None
        if not chunk:
            return None if not extra else "it sent extra bytes %s" % escape(
                bytes(extra))
        extra += chunk


def listen(host, port=0, backlog=16, kind=socket.SOCK_STREAM):
    """Bind a server socket on host:port (0 = any) and announce it. The
    socket's family is the address's: IPv6 for "::1", IPv4 for
    "127.0.0.1"."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    if kind == socket.SOCK_STREAM:
        sock.listen(backlog)
    # An IPv6 address comes back as (host, port, flowinfo, scope_id).
    say("listening on %s:%d" % sock.getsockname()[:2])
    return sock
