#!/usr/bin/env python3
"""client.py - lesson 09's client in Python: requests written in two small
sends, timed, with and without TCP_NODELAY.

usage: client.py [--nodelay] [--rounds N] [HOST [PORT]]

socket.create_connection() tries every address getaddrinfo() gives, like
the C client's connect_to(); settimeout() is the C's SO_RCVTIMEO.
"""

import socket
import statistics
import sys
import time

USAGE = "usage: client [--nodelay] [--rounds N] [HOST [PORT]]"


def parse_args(argv):
    """Return (nodelay, rounds, host, port), or exit with the usage line."""
    nodelay, rounds, args = False, 10, list(argv)
    try:
        while args and args[0].startswith("--"):
            flag = args.pop(0)
            if flag == "--nodelay":
                nodelay = True
            elif flag == "--rounds":
                rounds = int(args.pop(0))
                assert 1 <= rounds <= 1000
            else:
                raise ValueError(flag)
        host = args.pop(0) if args else "127.0.0.1"
        port = int(args.pop(0)) if args else 9000
        assert not args
    except (ValueError, IndexError, AssertionError):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    return nodelay, rounds, host, port


def recv_line(sock):
    """Read one answer line."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(64)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return data


def main(argv):
    nodelay, rounds, host, port = parse_args(argv)
    try:
        sock = socket.create_connection((host, port), timeout=5)
    except OSError as e:
        sys.exit("client: connect %s:%d: %s" % (host, port, e.strerror or e))
    with sock:
        if nodelay:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            print("TCP_NODELAY: asked 1, kernel gives %d" % sock.getsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY))
        times = []
        for i in range(1, rounds + 1):
            head = b"round %d: " % i
            start = time.monotonic()
            sock.sendall(head)        # two small writes...
            sock.sendall(b"ping\n")
            answer = recv_line(sock)  # ...then a read
            times.append((time.monotonic() - start) * 1000)
            if answer != head + b"ping\n":
                sys.exit("client: the server answered %r" % answer)
    print("%d rounds of write, write, read: median %.3f ms, mean %.3f ms" % (
        rounds, statistics.median(times), statistics.mean(times)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
