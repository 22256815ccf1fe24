"""Peers for lesson 05 (timeouts): servers that make a client wait (one
that never answers, one that answers late, a listener whose accept backlog
is full) and a client peer that checks a server drops idle clients, and
only those.

A full backlog on Linux: a listener with listen(0) and nobody calling
accept() takes one connection into its accept queue; after that the kernel
drops every new SYN (the queue is full), so the next connect() gets no
answer and, blocking, waits through its SYN retries (minutes). The
backlog-full peer makes those connections itself before it announces its
port, so the first connect of the program under test is the one that hangs.
"""

import os
import select
import socket
import time

from peerlib import (Deadline, Mismatch, connect, escape, expect_echo, listen,
                     option, peer, say)
from peers_tcp_servers import serve_clients, read_some


def hold_until(deadline):
    """Do nothing until deadline (the test kills us sooner)."""
    while not deadline.expired():
        time.sleep(min(deadline.left(), 0.5))


# ---- servers that make a client wait

@peer("silent-server", "accept every client, read what it sends, never "
      "answer; keep the connections open until the timeout")
def silent_server(args, deadline):
    srv = listen(args.host, args.port)
    conns = []
    while not deadline.expired():
        ready, _, _ = select.select([srv] + conns, [], [], deadline.left())
        for s in ready:
            if s is srv:
                conn, addr = srv.accept()
                say("accepted %s:%d (never answering)" % addr)
                conns.append(conn)
                continue
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                data = b""
            if data:
                say("received %s (not answering)" % escape(data))
            else:
                conns.remove(s)
                s.close()


@peer("slow-server", "echo each line after --delay seconds")
@option("--delay", type=float, default=0.5, help="seconds before each echo")
@option("--clients", type=int, default=1, help="serve this many, then exit")
def slow_server(args, deadline):
    def handle(conn):
        pending = b""
        while True:
            data = read_some(conn, deadline)
            if not data:
                return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                say("received %s, answering in %.2f s" % (
                    escape(line + b"\n"), args.delay))
                time.sleep(args.delay)  # the behaviour under test: slowness
                conn.sendall(line + b"\n")

    serve_clients(args, deadline, handle)


def fill_backlog(address, tries=8, settle=0.25):
    """Connect to our own listener until a connect no longer completes:
    its accept queue is then full. Returns the sockets (keep them open)."""
    socks = []
    for _ in range(tries):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(address)
        socks.append(s)
        _, done, _ = select.select([], [s], [], settle)
        if not done:
            return socks, len(socks) - 1
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise Mismatch("could not fill our own backlog: connect: %s" %
                           os.strerror(err))
    raise Mismatch("%d connections completed without accept(): this "
                   "kernel does not keep listen(0)'s backlog small" % tries)


@peer("backlog-full", "listen(0), never accept, fill the accept queue "
      "ourselves: the next connect gets no answer")
def backlog_full(args, deadline):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.host, args.port))
    srv.listen(0)
    fillers, queued = fill_backlog(srv.getsockname())
    say("accept queue full: %d connection(s) queued, %d pending; nobody "
        "calls accept()" % (queued, len(fillers) - queued))
    say("listening on %s:%d" % srv.getsockname())
    hold_until(deadline)


# ---- a client that checks idle timeouts

def closed_at(sock, timeout):
    """Wait up to timeout for sock to be closed by the other side; return
    the time it was seen closed, None if it is still open. Bytes that
    arrive instead raise Mismatch."""
    ready, _, _ = select.select([sock], [], [], max(timeout, 0))
    if not ready:
        return None
    try:
        data = sock.recv(4096)
    except ConnectionResetError:
        data = b""
    if data:
        raise Mismatch("the server sent %s to the idle client, which had "
                       "sent nothing" % escape(data))
    return time.monotonic()


@peer("idle-check", "one client goes idle and must be dropped after "
      "--idle s; another keeps talking for 1.5 times that and must not be; "
      "then a new client must be served")
@option("--idle", type=float, required=True, help="the server's --idle")
@option("--report", help="write the idle client's HOST:PORT to this file")
def idle_check(args, deadline):
    idle = args.idle
    sleeper = connect(args.host, args.port, deadline)
    sleeper.sendall(b"going idle\n")
    expect_echo(sleeper, b"going idle\n", deadline, "idle client: ")
    went_idle = time.monotonic()
    name = "%s:%d" % sleeper.getsockname()
    if args.report:
        with open(args.report, "w") as f:
            f.write(name + "\n")
    talker = connect(args.host, args.port, deadline)
    # The talker sends every quarter of the idle time for one and a half
    # times the idle time: a server that drops clients some time after
    # they connect, rather than after they fall silent, drops it too.
    until = went_idle + 1.5 * idle
    dropped = None
    sent = 0
    while time.monotonic() < until:
        msg = b"still talking %d\n" % sent
        talker.sendall(msg)
        try:
            expect_echo(talker, msg, Deadline(min(2.0, deadline.left())), "")
        except Mismatch as e:
            raise Mismatch("the active client was dropped or not answered "
                           "%.2f s after it connected, although it sent a "
                           "line every %.2f s (--idle %g): %s\n  drop only "
                           "clients that sent nothing for the idle time" % (
                               time.monotonic() - went_idle, idle / 4, idle,
                               e))
        sent += 1
        if sent == 1 and closed_at(sleeper, 0) is not None:
            raise Mismatch("the active client got its first echo only "
                           "after the idle client %s had been dropped: "
                           "one silent client must not hold up the "
                           "others (a thread per client)" % name)
        if dropped is None:
            dropped = closed_at(sleeper, min(idle / 4,
                                             until - time.monotonic()))
        else:
            time.sleep(idle / 4)  # the active client's pace, not a sync
    if dropped is None:
        dropped = closed_at(sleeper, went_idle + idle + 1.0 -
                            time.monotonic())
    if dropped is None:
        raise Mismatch("the idle client %s sent nothing for %.1f s and is "
                       "still connected; with --idle %g the server must "
                       "close it after %g s" % (
                           name, time.monotonic() - went_idle, idle, idle))
    after = dropped - went_idle
    if after < idle * 0.9:
        raise Mismatch("the idle client was dropped after only %.2f s of "
                       "silence; --idle was %g s" % (after, idle))
    talker.close()
    sleeper.close()
    fresh = connect(args.host, args.port, Deadline(min(deadline.left(), 3)))
    try:
        fresh.sendall(b"a new client\n")
        expect_echo(fresh, b"a new client\n", deadline, "")
    except Mismatch as e:
        raise Mismatch("after dropping the idle client, the server did not "
                       "serve a new one: %s" % e)
    fresh.close()
    say("ok: idle client %s dropped after %.2f s (--idle %g); the active "
        "client sent %d lines over %.1f s and was never dropped; a new "
        "client was served" % (name, after, idle, sent, 1.5 * idle))
