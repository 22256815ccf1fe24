#!/usr/bin/env python3
"""client.py - lesson 13 in Python: try every address of a name in turn,
each with a time limit, then talk; the same command line and output as
client.c. (socket.create_connection() is this loop, minus the messages.)

usage: client.py [--timeout SECONDS] [HOST [PORT]]
       default 2 s per address, 127.0.0.1 8080
"""
import os
import selectors
import socket
import sys

USAGE = "usage: client [--timeout SECONDS] [HOST [PORT]]\n"


def connect_to(host, port, timeout):
    """Each address getaddrinfo() gives, in order, at most timeout seconds
    each; return the first socket that connects, or exit 1."""
    try:
        results = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as e:
        sys.stderr.write("client: getaddrinfo %s:%s: %s\n" % (host, port,
                                                                e.strerror))
        sys.exit(1)
    for family, socktype, proto, _, addr in results:
        text = "%s:%s" % socket.getnameinfo(
            addr, socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)
        try:
            sock = socket.socket(family, socktype, proto)
        except OSError as e:
            sys.stderr.write("client: socket %s: %s\n" % (text, e.strerror))
            continue
        sock.settimeout(timeout)  # a non-blocking connect() and poll()
        try:
            sock.connect(addr)
            sock.settimeout(None)
            return sock
        except socket.timeout:
            reason = "timed out"
        except OSError as e:
            reason = e.strerror
        sys.stderr.write("client: connect %s: %s\n" % (text, reason))
        sock.close()
    sys.exit(1)


def talk(sock):
    """Send what is typed, print what arrives, half-close at the end of
    the input, stop when the server closes."""
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(sys.stdin.fileno(), selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is sock:
                data = sock.recv(4096)
                if not data:
                    return
                os.write(sys.stdout.fileno(), data)
            else:
                data = os.read(sys.stdin.fileno(), 4096)
                if data:
                    sock.sendall(data)
                else:
                    sel.unregister(sys.stdin.fileno())
                    sock.shutdown(socket.SHUT_WR)


def main(args):
    timeout = 2.0
    if args[:1] == ["--timeout"]:
        try:
            timeout = float(args[1])
            if not timeout > 0:
                raise ValueError
        except (IndexError, ValueError):
            sys.stderr.write(USAGE)
            sys.exit(2)
        args = args[2:]
    if len(args) > 2 or (args and args[0].startswith("-")):
        sys.stderr.write(USAGE)
        sys.exit(2)
    host = args[0] if args else "127.0.0.1"
    port = args[1] if len(args) > 1 else "8080"
    with connect_to(host, port, timeout) as sock:
        talk(sock)


if __name__ == "__main__":
    main(sys.argv[1:])
