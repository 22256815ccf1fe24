#!/usr/bin/env python3
"""peerd.py - keep the harness peers loaded, and run each one in a fork.

    peerd.py SOCKET

A Python start with its imports costs ~30 ms of CPU for every peer a step
runs; a fork of a process that has them loaded costs a few. grade.py
starts one peerd beside each lesson's test (in its network namespace) and
tells the test where it listens (LAB_PEERD). peerc (tests/harness/peerc.c)
connects, passes its stdin, stdout and stderr and its arguments; the fork
makes those fds its own, runs peer.py's main on the arguments and answers
its exit status. When peerc goes away (a test's time bound or teardown
killed it), the fork kills itself: no peer outlives the one who asked.

Standard library only. Exit: 0 on SIGTERM, 2 on bad usage.
"""

import array
import gc
import os
import signal
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# peer.py, imported at the first request (see main); it keeps the
# harness's bytecode in build/pycache.
peer = None


def receive(conn):
    """Return (argv, fds) of one request: its words and three fds."""
    fds = array.array("i")
    msg, anc, _, _ = conn.recvmsg(1 << 16, socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    words = msg.split(b"\0")[:-1] if msg else []
    return [os.fsdecode(w) for w in words], list(fds)


def run_peer(conn, argv, fds):
    """In the fork: take the fds as 0, 1, 2, run the peer, answer its
    status; never returns."""
    for i, fd in enumerate(fds[:3]):
        os.dup2(fd, i)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def watch():
        # peerc closed its end: it was killed, so is this peer.
        try:
            conn.recv(1)
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()
    try:
        status = peer.main(argv)
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 2
    except BaseException as e:   # noqa: BLE001 - said, then a status
        print("peerd: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        status = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        conn.send(struct.pack("i", status or 0))
    except OSError:
        pass
    os._exit(status or 0)


def main(argv):
    global peer
    if len(argv) != 1:
        print("usage: peerd.py SOCKET", file=sys.stderr)
        return 2
    path = argv[0]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # forks reap themselves
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        conn, _ = listener.accept()
        try:
            argv, fds = receive(conn)
        except OSError:
            conn.close()
            continue
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            conn.close()
            continue
        if peer is None:
            # Here, not at start: a lesson whose steps ask for no peer
            # pays for no import (argparse and peerlib: most of a start),
            # and a fork finds it loaded.
            import peer
            # What is loaded now stays: the collector of a fork never
            # walks it (each walk writes to its pages, copying them).
            gc.freeze()
        pid = os.fork()
        if pid == 0:
            listener.close()
            run_peer(conn, argv, fds)
        for fd in fds:
            os.close(fd)
        conn.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
