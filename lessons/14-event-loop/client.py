#!/usr/bin/env python3
"""client.py - lesson 14 in Python: a non-blocking connect with a time
limit, then one selector over the keyboard and the socket, with the same
command line and output as client.c.

usage: client.py [--timeout SECONDS] [HOST [PORT]]
"""
import errno
import os
import selectors
import socket
import sys

USAGE = "usage: client [--timeout SECONDS] [HOST [PORT]]\n"


def parse_args(argv):
    """Return (timeout or None, host, port); exit 2 on bad usage."""
    rest, timeout = argv[1:], None
    if len(rest) >= 2 and rest[0] == "--timeout":
        try:
            timeout = float(rest[1])
        except ValueError:
            timeout = -1
        if not 0 < timeout <= 86400:
            sys.stderr.write("client: bad timeout '%s' (seconds > 0)\n%s" % (
                rest[1], USAGE))
            sys.exit(2)
        rest = rest[2:]
    if len(rest) > 2 or (rest and rest[0].startswith("-")):
        sys.stderr.write(USAGE)
        sys.exit(2)
    return (timeout, rest[0] if rest else "127.0.0.1",
            rest[1] if len(rest) > 1 else "8080")


def connect(host, port, timeout):
    """connect() returns EINPROGRESS; wait for writable; ask SO_ERROR."""
    where = "%s:%s" % (host, port)
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0,
                                   socket.AI_ADDRCONFIG)
    except socket.gaierror as e:
        sys.exit("client: getaddrinfo %s: %s" % (where, e.strerror))
    for family, socktype, proto, _, addr in infos:
        sock = socket.socket(family, socktype, proto)
        sock.setblocking(False)
        err = sock.connect_ex(addr)
        if err == errno.EINPROGRESS:
            sel = selectors.DefaultSelector()
            sel.register(sock, selectors.EVENT_WRITE)
            ready = sel.select(timeout)
            sel.close()
            if not ready:
                sys.stderr.write("client: connect %s: timed out\n" % where)
                sock.close()
                continue
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err == 0:
            return sock
        sys.stderr.write("client: connect %s: %s\n" % (where,
                                                       os.strerror(err)))
        sock.close()
    sys.exit(1)


def talk(sock):
    """Typed bytes to the server, its bytes to stdout, until it closes."""
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(0, selectors.EVENT_READ)
    pending = b""
    while True:
        for key, events in sel.select():
            if key.fileobj is sock and events & selectors.EVENT_READ:
                data = sock.recv(4096)
                if not data:
                    return 0  # the server closed
                os.write(1, data)
            elif key.fileobj == 0:
                data = os.read(0, 4096)  # not sys.stdin: no read-ahead
                if not data:
                    sel.unregister(0)
                    if not pending:
                        sock.shutdown(socket.SHUT_WR)
                pending += data
            elif events & selectors.EVENT_WRITE:
                pending = pending[sock.send(pending):]
                if not pending and 0 not in sel.get_map():
                    sock.shutdown(socket.SHUT_WR)
        want = selectors.EVENT_READ | (selectors.EVENT_WRITE if pending
                                       else 0)
        sel.modify(sock, want)


if __name__ == "__main__":
    timeout, host, port = parse_args(sys.argv)
    s = connect(host, port, timeout)
    try:
        sys.exit(talk(s))
    except OSError as e:
        sys.exit("client: %s:%s: %s" % (host, port, e.strerror))
