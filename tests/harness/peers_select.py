"""Peers for lesson 06 (select): the crowds and troublemakers a one-thread
server must survive, and a server that talks first.

Client peers:
  interleave  many clients sending pieces of lines in turn
  hold-many   many clients connected at once, then idle
  flood       one client sends without end and never reads, while others
              need service
  disappear   clients that go in every way a connection can end
  crowd       more connections than select() can watch (FD_SETSIZE)
Server peer:
  push-server speaks unprompted, echoes, answers the client's end-of-file
"""

import resource
import select
import socket
import time

from peerlib import (Deadline, Mismatch, connect, escape, expect_echo,
                     first_difference, listen, option, peer, say, wait_closed)
from peers_tcp_clients import pattern, unescape

# SO_LINGER on with a zero timeout: close() sends a reset (RST), not a FIN.
LINGER_RESET = b"\x01\x00\x00\x00\x00\x00\x00\x00"


def reset_close(sock):
    """Close sock abruptly: the other side sees ECONNRESET."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
    sock.close()


def close_all(socks):
    """Close every socket of socks."""
    for s in socks:
        s.close()


def send_bye(sock, deadline, label):
    """Say bye, check its echo and that the server closes the connection."""
    sock.sendall(b"bye\n")
    expect_echo(sock, b"bye\n", deadline, label)
    why = wait_closed(sock, deadline)
    if why:
        raise Mismatch("%ssent \"bye\\n\", expected the server to close the "
                       "connection, but %s" % (label, why))


# ---------------------------------------------------------------- interleave

# The first pieces of four connections in a row spell "bye\n": a server
# that follows lines with one watch for all clients sees a "bye" that no
# client sent. Each connection's own line is harmless.
BYE_TRAP = ((b"b", b"ut not bye, connection %d\n"),
            (b"y", b"es, connection %d\n"),
            (b"e", b"xactly, connection %d\n"),
            (b"\n", b"connection %d sent an empty line\n"))


def round_pieces(c, r):
    """What connection c sends in round r, cut into the pieces it sends
    one at a time: a line cut at a point that depends on c, two lines in
    one piece, a line in three pieces with its newline alone, or its part
    of the bye trap."""
    line = b"client %03d round %d: %s\n" % (c, r, b"x" * ((c * 7 + r) % 40))
    kind = r % 4
    if kind == 0:
        cut = 1 + c % (len(line) - 1)
        return [line[:cut], line[cut:]]
    if kind == 1:
        return [line + b"client %03d round %d, second line\n" % (c, r)]
    if kind == 2:
        third = len(line) // 3
        return [line[:third], line[third:-1], line[-1:]]
    first, rest = BYE_TRAP[c % 4]
    return [first, rest % c]


@peer("interleave", "open N connections; each round every connection "
      "sends a line in pieces, in turn with the others; check every echo, "
      "then bye on each")
@option("--connections", type=int, default=100)
@option("--rounds", type=int, default=4)
def interleave(args, deadline):
    socks = []
    try:
        for c in range(args.connections):
            s = connect(args.host, args.port, deadline)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            socks.append(s)
        for r in range(args.rounds):
            pieces = [round_pieces(c, r) for c in range(len(socks))]
            echoed = [0] * len(socks)
            # Piece 1 of every connection, then piece 2 of every one...:
            # a server that keeps one line buffer for all mixes them up.
            for k in range(3):
                for c, s in enumerate(socks):
                    if k < len(pieces[c]):
                        s.sendall(pieces[c][k])
                if r % 4 == 3 and k == 0:
                    # The bye trap: wait until the server has taken in all
                    # the first pieces (bytes are echoed as they arrive).
                    for c, s in enumerate(socks):
                        expect_echo(s, pieces[c][0], deadline,
                                    "connection %d of %d, round %d, sent "
                                    "the start of a line and expected it "
                                    "back at once (echo bytes as they "
                                    "arrive): " % (c + 1, len(socks), r + 1))
                        echoed[c] = len(pieces[c][0])
            for c, s in enumerate(socks):
                expect_echo(s, b"".join(pieces[c])[echoed[c]:], deadline,
                            "connection %d of %d, round %d (sent in %d "
                            "pieces, interleaved with the others): " % (
                                c + 1, len(socks), r + 1, len(pieces[c])))
        for c, s in enumerate(socks):
            send_bye(s, deadline, "connection %d of %d: " % (c + 1, len(socks)))
    finally:
        close_all(socks)
    say("ok: %d connections x %d interleaved rounds echoed, bye closed each" %
        (len(socks), args.rounds))


# ---------------------------------------------------------------- hold-many

@peer("hold-many", "open N connections, check one echo on each, print "
      "holding, then keep them all open and idle")
@option("--connections", type=int, default=10)
@option("--hold", type=float, default=None, help="seconds (default: timeout)")
def hold_many(args, deadline):
    socks = []
    try:
        for c in range(args.connections):
            socks.append(connect(args.host, args.port, deadline))
            msg = b"client %d is here and stays\n" % (c + 1)
            socks[-1].sendall(msg)
            expect_echo(socks[-1], msg, deadline, "connection %d of %d "
                        "(the others still open): " % (c + 1,
                                                       args.connections))
        say("holding %d connections" % len(socks))
        time.sleep(args.hold if args.hold is not None else deadline.left())
    finally:
        close_all(socks)


# ---------------------------------------------------------------- flood

def fill_until_stalled(sock, limit, stall, deadline):
    """Send to sock (non-blocking) until it takes nothing for stall seconds.
    Returns (bytes sent, how it ended): "stalled", or "closed", "limit" or
    "deadline" (the server closed it, took limit bytes, or the time ran
    out)."""
    chunk = pattern(1 << 16)
    sent = 0
    poller = select.poll()
    poller.register(sock, select.POLLOUT)
    while sent < limit:
        if deadline.expired():
            return sent, "deadline"
        if not poller.poll(int(stall * 1000)):
            return sent, "stalled"
        try:
            sent += sock.send(chunk[sent % len(chunk):])
        except BlockingIOError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return sent, "closed"
    return sent, "limit"


def drain_flooder(sock, sent, deadline):
    """Half-close the flooder, then read back all sent bytes of its echo,
    check them, and expect the server to close."""
    chunk = pattern(1 << 16)
    sock.setblocking(True)
    sock.shutdown(socket.SHUT_WR)
    got = 0
    while got < sent:
        sock.settimeout(deadline.left())
        try:
            data = sock.recv(min(1 << 16, sent - got))
        except socket.timeout:
            data = None
        except ConnectionResetError:
            data = b""
        if not data:
            raise Mismatch(
                "the flooding client stopped, half-closed and read its echo: "
                "it got %d of the %d bytes it sent, then %s. Never close a "
                "client for reading slowly (recv() with room for 0 bytes "
                "returns 0, just like end-of-file)" % (
                    got, sent, "nothing more within %.1f s" %
                    deadline.seconds if data is None else
                    "the server closed the connection"))
        at = got % len(chunk)
        want = (chunk[at:] + chunk)[:len(data)]
        if data != want:
            i = first_difference(want, data)
            raise Mismatch("the flooding client's echo is wrong from byte %d:"
                           " expected %s, received %s" % (
                               got + i, escape(want[i:i + 30]),
                               escape(data[i:i + 30])))
        got += len(data)
    why = wait_closed(sock, deadline)
    if why:
        raise Mismatch("the flooding client read all %d bytes of its echo "
                       "after its end-of-file; expected the server to close "
                       "the connection, but %s" % (sent, why))


@peer("flood", "one connection sends lines without end and never reads; "
      "it must be pushed back, not closed, others must still be served, "
      "and at the end it must get all its echo")
@option("--limit", type=int, default=64 << 20,
        help="give up flooding after this many bytes")
@option("--stall", type=float, default=0.5,
        help="seconds the flooder must be blocked to count as pushed back")
@option("--others", type=int, default=5, help="clients served meanwhile")
def flood(args, deadline):
    flooder = connect(args.host, args.port, deadline)
    flooder.setblocking(False)
    # At most half the time for the flood: the rest is for the others.
    sent, end = fill_until_stalled(flooder, args.limit, args.stall,
                                   Deadline(deadline.left() / 2))
    if end in ("limit", "deadline"):
        raise Mismatch("the flooding client sent %d MiB without reading any "
                       "echo and the server %s: it must stop reading from a "
                       "client whose output buffer is full, or its memory "
                       "grows without bound" % (sent >> 20, "took it all"
                                                if end == "limit" else
                                                "was still taking more at "
                                                "the deadline"))
    if end == "closed":
        raise Mismatch("the server closed (reset) the flooding client's "
                       "connection after %.1f MiB: a client that reads "
                       "slowly is still a client. Stop reading from it while "
                       "its output buffer is full and TCP makes it wait; and "
                       "recv() with room for 0 bytes returns 0, just like "
                       "end-of-file" % (sent / 2**20))
    say("flooder: sent %.1f MiB, read nothing, then the server stopped "
        "reading it" % (sent / 2**20))
    # The flooder is still connected and still not reading: everyone else
    # must get their echoes anyway.
    others = []
    try:
        for i in range(args.others):
            s = connect(args.host, args.port, deadline)
            others.append(s)
            msg = b"client %d, while the flooder is stuck\n" % (i + 1)
            s.sendall(msg)
            expect_echo(s, msg, deadline, "client %d of %d, connected while "
                        "a client that never reads had flooded the server: "
                        % (i + 1, args.others))
    finally:
        close_all(others)
    drain_flooder(flooder, sent, deadline)
    flooder.close()
    say("ok: %d other clients were served while the flooder was stuck; "
        "then it read back all %d bytes of its echo" % (args.others, sent))


# ---------------------------------------------------------------- disappear

# How each connection of disappear ends, in turn.
WAYS = ("closed", "reset", "closed mid-line", "reset mid-line",
        "reset with its echo on the way", "half-closed, then closed")


def disappear_one(sock, way):
    """End sock the way named; returns the line whose echo is still due
    (half-close) or None."""
    if way in ("closed mid-line", "reset mid-line"):
        sock.sendall(b"half a li")
    if way == "reset with its echo on the way":
        sock.sendall(b"echo me, I am gone\n")
    if way.startswith("half-closed"):
        # Corked: the line and the end-of-file leave in one segment, so a
        # server that drops what it has not sent at end-of-file loses the
        # echo however fast it is (sent apart, a quick one sent it first).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        sock.sendall(b"last words\n")
        sock.shutdown(socket.SHUT_WR)
        return b"last words\n"
    if way.startswith("reset"):
        reset_close(sock)
    else:
        sock.close()
    return None


@peer("disappear", "open N connections at once, then end them in every way: "
      "close, reset, mid-line, with an echo pending, half-close")
@option("--connections", type=int, default=24)
def disappear(args, deadline):
    socks = []
    try:
        for c in range(args.connections):
            socks.append(connect(args.host, args.port, deadline))
            msg = b"client %d, about to vanish\n" % (c + 1)
            socks[-1].sendall(msg)
            expect_echo(socks[-1], msg, deadline, "connection %d of %d (the "
                        "others still open): " % (c + 1, args.connections))
        due = []
        for c, s in enumerate(socks):
            line = disappear_one(s, WAYS[c % len(WAYS)])
            if line:
                due.append((c, s, line))
        for c, s, line in due:
            label = "connection %d (sent %s, then half-closed: end-of-file " \
                "ends the session once the echo is sent): " % (
                    c + 1, escape(line))
            expect_echo(s, line, deadline, label)
            why = wait_closed(s, deadline)
            if why:
                raise Mismatch("%sexpected the server to close the "
                               "connection, but %s" % (label, why))
    finally:
        close_all(socks)
    say("ok: %d connections ended: %s" % (args.connections, ", ".join(
        WAYS[:args.connections])))


# ---------------------------------------------------------------- crowd

def raise_fd_limit(needed):
    """Let this process open needed fds; raise Mismatch if it cannot."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard == resource.RLIM_INFINITY or hard >= needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        return
    try:  # only root may raise the hard limit
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
    except (ValueError, OSError):
        raise Mismatch("this harness peer needs %d open files but its hard "
                       "limit is %d: raise it (ulimit -Hn) and run again" % (
                           needed, hard))


def echoed_or_closed(sock, msg, wait):
    """After sending msg: "echoed" when it comes back, "closed" when the
    server closes the connection (whatever it said first), else a
    description of what went wrong."""
    got = b""
    end = time.monotonic() + wait
    while got != msg:
        sock.settimeout(max(end - time.monotonic(), 0.001))
        try:
            chunk = sock.recv(256)
        except socket.timeout:
            return "it was neither echoed nor closed within %.1f s " \
                "(received %s)" % (wait, escape(got))
        except ConnectionResetError:
            return "closed"
        if not chunk:
            return "closed"
        got += chunk
        if msg.startswith(got):
            continue
        if len(got) > 512:
            return "it got %s and stayed open" % escape(got)
    return "echoed"


@peer("crowd", "open more connections than select() can watch "
      "(FD_SETSIZE), each sending a line: each must be echoed, or closed "
      "by the server; the echoed ones must all still work")
@option("--connections", type=int, default=1100)
@option("--min-served", type=int, default=1000,
        help="at least this many must be served at once")
@option("--wait", type=float, default=2.0,
        help="seconds one connection may take to be echoed or closed")
def crowd(args, deadline):
    raise_fd_limit(args.connections + 64)
    served, refused = [], 0
    try:
        for first in range(0, args.connections, CROWD_BATCH):
            batch = range(first, min(first + CROWD_BATCH, args.connections))
            refused += crowd_batch(args, deadline, batch, served)
        if len(served) < args.min_served:
            raise Mismatch("only %d of %d connections were served at once "
                           "(%d closed at once); select() can watch up to "
                           "FD_SETSIZE fds, expected at least %d clients" % (
                               len(served), args.connections, refused,
                               args.min_served))
        # Those past the limit must not have disturbed the ones inside it:
        # a line on each, all sent before any echo is read.
        for s, c in served:
            s.sendall(b"member %d, still here\n" % (c + 1))
        for s, c in served:
            expect_echo(s, b"member %d, still here\n" % (c + 1), deadline,
                        "connection %d, served before the server reached its "
                        "limit, sent another line: " % (c + 1))
    finally:
        close_all(s for s, _ in served)
    say("ok: %d connections served at once, %d more closed by the server" %
        (len(served), refused))


# Connections the crowd opens before it reads their echoes: fewer round
# trips, so a server starved of CPU on a busy machine still gets through
# 1,100 clients in time; under the listen() backlog of most servers (10),
# so no connection waits for a SYN to be sent again.
CROWD_BATCH = 8


def crowd_batch(args, deadline, batch, served):
    """Connect each number c of batch and send its line, then read each
    echo: an echoed one joins served (socket, c), a closed one is counted;
    returns how many were closed; raise Mismatch on anything else."""
    opened = []
    try:
        for c in batch:
            try:
                s = connect(args.host, args.port, deadline)
            except Mismatch as e:
                raise Mismatch("connection %d of %d (%d echoed and still "
                               "open, %d closed by the server): %s" % (
                                   c + 1, args.connections, len(served),
                                   c - len(served) - len(opened), e))
            opened.append((s, c))
            try:
                s.sendall(b"member %d of the crowd\n" % (c + 1))
            except (BrokenPipeError, ConnectionResetError):
                pass   # closed at once: the read below says so
        refused = 0
        while opened:
            s, c = opened.pop(0)
            try:
                outcome = echoed_or_closed(s, b"member %d of the crowd\n" % (
                    c + 1), min(args.wait, deadline.left()))
            except (BrokenPipeError, ConnectionResetError):
                outcome = "closed"
            if outcome == "echoed":
                served.append((s, c))
                continue
            s.close()
            if outcome != "closed":
                raise Mismatch("connection %d of %d (with %d others echoed "
                               "and still open): %s. When it cannot watch "
                               "one more fd, the server must close the new "
                               "connection" % (c + 1, args.connections,
                                               len(served), outcome))
            refused += 1
        return refused
    finally:
        close_all(s for s, _ in opened)


# ---------------------------------------------------------------- push-server

@peer("push-server", "a server that speaks first: send --greet at once and "
      "--later after --gap seconds, unprompted; echo what the client sends; "
      "at its end-of-file send --trailer and close")
@option("--greet", help="send this (C escapes) as soon as the client "
        "connects")
@option("--later", help="send this (C escapes) --gap seconds after "
        "connecting, whatever the client does")
@option("--gap", type=float, default=0.3)
@option("--trailer", help="send this (C escapes) after the client's "
        "end-of-file, then close")
def push_server(args, deadline):
    srv = listen(args.host, args.port)
    srv.settimeout(deadline.left())
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        raise Mismatch("no client connected within %.1f s" % deadline.seconds)
    srv.close()
    with conn:
        if args.greet:
            conn.sendall(unescape(args.greet))
            say("sent %s" % escape(unescape(args.greet)))
        later_at = time.monotonic() + args.gap if args.later else None
        while True:
            wait = deadline.left()
            if later_at is not None:
                wait = min(wait, max(later_at - time.monotonic(), 0.001))
            conn.settimeout(wait)
            try:
                data = conn.recv(65536)
            except socket.timeout:
                if later_at is not None and time.monotonic() >= later_at:
                    conn.sendall(unescape(args.later))
                    say("sent %s" % escape(unescape(args.later)))
                    later_at = None
                    continue
                raise Mismatch("the client neither sent more nor closed "
                               "within %.1f s" % deadline.seconds)
            except ConnectionResetError:
                raise Mismatch("the client reset the connection")
            if not data:
                break
            say("received %s" % escape(data))
            conn.sendall(data)
        say("end-of-file from the client")
        if args.trailer:
            conn.sendall(unescape(args.trailer))
            say("sent %s and closed" % escape(unescape(args.trailer)))
