"""Peers for lesson 14 (the event loop): crowds a one-thread server must
hold all at once, past select()'s FD_SETSIZE, and a swarm of asyncio
clients.

Client peers:
  loop-crowd  N connections at once (2000: past FD_SETSIZE), all open
              together, every one echoed, twice
  loop-swarm  N asyncio clients at once, each sending lines in pieces
              with pauses between them; every echo exact, then bye
"""

import asyncio
import random
import selectors
import socket
import time

from peerlib import (Deadline, Mismatch, connect, escape, expect_echo,
                     option, peer, say, wait_closed)
from peers_select import raise_fd_limit

# ---------------------------------------------------------------- loop-crowd


def open_crowd(host, port, count, deadline):
    """Open count connections (blocking connects: on loopback the kernel
    completes them even before the server accepts). Returns the sockets."""
    socks = []
    try:
        for c in range(count):
            s = socket.socket()
            socks.append(s)
            s.settimeout(min(3.0, deadline.left()))
            try:
                s.connect((host, port))
            except socket.timeout:
                raise Mismatch(
                    "connection %d of %d: connect timed out (%d already "
                    "open): the server's accept queue is full and it does "
                    "not accept()" % (c + 1, count, c))
            except OSError as e:
                raise Mismatch("connection %d of %d: connect: %s (%d already"
                               " open)" % (c + 1, count, e.strerror or e, c))
            s.setblocking(False)
    except BaseException:
        for s in socks:
            s.close()
        raise
    return socks


def echo_round(socks, messages, wait):
    """Send messages[i] on socks[i], all at once, and read every echo with
    one selector. Returns (echoed, closed, wrong) lists of indexes; the
    rest got no (whole) echo within wait seconds."""
    sel = selectors.DefaultSelector()
    got = {}
    for i, s in enumerate(socks):
        s.sendall(messages[i])  # a few bytes: the send buffer takes them
        got[i] = b""
        sel.register(s, selectors.EVENT_READ, i)
    echoed, closed, wrong = [], [], []
    end = time.monotonic() + wait
    try:
        while got and time.monotonic() < end:
            for key, _ in sel.select(max(end - time.monotonic(), 0.001)):
                i = key.data
                try:
                    chunk = key.fileobj.recv(4096)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    chunk = b""
                done = None
                if not chunk:
                    done = closed
                else:
                    got[i] += chunk
                    if got[i] == messages[i]:
                        done = echoed
                    elif not messages[i].startswith(got[i]):
                        done = wrong
                if done is not None:
                    done.append(i)
                    sel.unregister(key.fileobj)
                    if done is wrong:
                        wrong[-1] = (i, got[i])
                    del got[i]
    finally:
        sel.close()
    return echoed, closed, wrong


def describe_round(count, echoed, closed, wrong, wait, what):
    """Raise Mismatch naming how many of count connections were not
    served in a round, and the likely cause."""
    lost = count - len(echoed) - len(closed) - len(wrong)
    if wrong:
        i, data = wrong[0]
        raise Mismatch("%s: connection %d got %s, not its own bytes: each "
                       "client needs its own buffer" % (what, i + 1,
                                                        escape(data)))
    parts = []
    if closed:
        parts.append("%d were closed by the server (the first: connection "
                     "%d)" % (len(closed), min(closed) + 1))
    if lost:
        parts.append("%d got no echo within %.1f s" % (lost, wait))
    raise Mismatch(
        "%s: %d of %d connections, all open at once, were echoed; %s.\n"
        "  A server that stops near 1024 clients has hit its open-file "
        "limit (RLIMIT_NOFILE: raise the soft limit to the hard one) or "
        "select()'s FD_SETSIZE (poll() and epoll have none)" % (
            what, len(echoed), count, "; ".join(parts)))


@peer("loop-crowd", "open N connections and keep them all open; each sends "
      "a line and must get its echo, then each sends a second one: every "
      "connection must be served (no FD_SETSIZE, no fd limit near 1024)")
@option("--connections", type=int, default=2000)
@option("--wait", type=float, default=5.0,
        help="seconds a round of echoes may take")
def loop_crowd(args, deadline):
    raise_fd_limit(args.connections + 64)
    started = time.monotonic()
    socks = open_crowd(args.host, args.port, args.connections, deadline)
    try:
        for r in (1, 2):
            msgs = [b"round %d, connection %d of the crowd\n" % (r, i + 1)
                    for i in range(len(socks))]
            wait = min(args.wait, deadline.left())
            echoed, closed, wrong = echo_round(socks, msgs, wait)
            if len(echoed) != len(socks):
                describe_round(len(socks), echoed, closed, wrong, wait,
                               "round %d" % r)
    finally:
        for s in socks:
            s.close()
    say("ok: %d connections open at once, each echoed twice, in %.2f s" % (
        len(socks), time.monotonic() - started))


# ---------------------------------------------------------------- loop-swarm

def swarm_lines(c, rng, lines):
    """The lines client c sends: distinct, of varied lengths."""
    return [b"swarm client %03d line %d %s\n" % (
        c, k, b"abcdefghij" * rng.randrange(0, 12)) for k in range(lines)]


def cut(data, rng):
    """Cut data into 1 to 3 pieces at random places."""
    points = sorted(rng.sample(range(1, len(data)), min(2, len(data) - 1)))
    points = points[:rng.randrange(0, len(points) + 1)]
    pieces, at = [], 0
    for p in points + [len(data)]:
        pieces.append(data[at:p])
        at = p
    return pieces


class Gate:
    """A barrier for the swarm: every client waits at it until all have
    come, so all are connected at once, and all are busy at once."""

    def __init__(self, count):
        self.count, self.come = count, 0
        self.open = asyncio.Event()

    async def wait(self):
        self.come += 1
        if self.come >= self.count:
            self.open.set()
        await self.open.wait()


async def swarm_client(host, port, c, lines, seed, gates):
    """One asyncio client: connect, wait for all the others, send each line
    in pieces with short pauses, read each piece's echo as it goes, wait
    until every client has its echoes, then bye and the close. Returns
    None when all was exact, else what went wrong."""
    rng = random.Random(seed * 1000 + c)
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as e:
        for g in gates:
            await g.wait()  # let the others go on
        return "connect: %s" % (e.strerror or e)
    try:
        await gates[0].wait()
        for line in swarm_lines(c, rng, lines):
            for piece in cut(line, rng):
                writer.write(piece)
                await writer.drain()
                try:
                    got = await reader.readexactly(len(piece))
                except asyncio.IncompleteReadError as e:
                    return "sent %s, the server closed after echoing %s" % (
                        escape(piece), escape(e.partial))
                if got != piece:
                    return "sent %s, got back %s" % (escape(piece),
                                                    escape(got))
                await asyncio.sleep(rng.random() * 0.01)
        await gates[1].wait()
        writer.write(b"bye\n")
        await writer.drain()
        try:
            got = await reader.readexactly(4)
        except asyncio.IncompleteReadError as e:
            got = e.partial
        if got != b"bye\n":
            return "sent \"bye\\n\", got back %s" % escape(got)
        rest = await reader.read(100)
        if rest:
            return "after bye, expected the server to close; got %s" % (
                escape(rest))
    except (ConnectionError, OSError) as e:
        return "the connection broke: %s" % (e.strerror or e)
    finally:
        writer.close()
    return None


async def run_swarm(args, deadline):
    """Run every client at once; returns their results in order."""
    gates = (Gate(args.clients), Gate(args.clients))
    tasks = [swarm_client(args.host, args.port, c, args.lines, args.seed,
                          gates) for c in range(args.clients)]
    try:
        return await asyncio.wait_for(asyncio.gather(*tasks),
                                      deadline.left())
    except asyncio.TimeoutError:
        return gates


@peer("loop-swarm", "N asyncio clients at once, each sending lines cut in "
      "pieces with short pauses and checking each piece's echo, then bye")
@option("--clients", type=int, default=200)
@option("--lines", type=int, default=4)
@option("--seed", type=int, default=14)
def loop_swarm(args, deadline):
    raise_fd_limit(args.clients + 64)
    started = time.monotonic()
    results = asyncio.run(run_swarm(args, deadline))
    if isinstance(results, tuple):
        connected, echoed = results[0].come, results[1].come
        raise Mismatch("%d asyncio clients, all connected at once, each "
                       "sending %d lines in pieces: within %.1f s %d of them "
                       "connected and %d got all their echoes; the others "
                       "wait for an echo that never comes. Is every client "
                       "watched on every turn of the loop, however many "
                       "there are?" % (args.clients, args.lines,
                                       deadline.seconds, connected, echoed))
    bad = [(c, r) for c, r in enumerate(results) if r]
    if bad:
        c, why = bad[0]
        raise Mismatch("%d of %d asyncio clients did not get exact echoes; "
                       "the first, client %d: %s" % (len(bad), args.clients,
                                                     c + 1, why))
    say("ok: %d asyncio clients x %d lines in pieces, all echoed exactly, "
        "bye closed each, in %.2f s" % (args.clients, args.lines,
                                        time.monotonic() - started))


# ---------------------------------------------------------------- loop-idle-alone

@peer("loop-idle-alone", "one client sends a line, then nothing, and is "
      "alone: nothing else wakes the server; it must be closed --idle s "
      "later, not much later (the wait's timeout is the idle deadline)")
@option("--idle", type=float, required=True, help="the server's --idle")
@option("--slack", type=float, default=1.0,
        help="seconds past --idle the close may take")
def loop_idle_alone(args, deadline):
    sock = connect(args.host, args.port, deadline)
    try:
        sock.sendall(b"alone, then silent\n")
        expect_echo(sock, b"alone, then silent\n", deadline, "")
        went_idle = time.monotonic()
        limit = min(args.idle + args.slack, deadline.left())
        why = wait_closed(sock, Deadline(limit))
        after = time.monotonic() - went_idle
        if why:
            raise Mismatch("a client alone with the server sent a line and "
                           "then nothing for %.1f s: with --idle %g it should "
                           "have been closed by then, but %s. When nothing "
                           "else happens, only the wait's timeout wakes the "
                           "loop: make it the time left until the nearest "
                           "idle deadline" % (after, args.idle, why))
        if after < args.idle * 0.9:
            raise Mismatch("the silent client was closed after only %.2f s;"
                           " --idle was %g s" % (after, args.idle))
    finally:
        sock.close()
    say("ok: the client alone was closed %.2f s after it fell silent "
        "(--idle %g)" % (after, args.idle))
