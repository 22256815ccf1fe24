#!/usr/bin/env python3
"""client.py - lesson 08's client in Python: same command line, same output
as client.c.

Sends each MESSAGE (or each line of stdin, without its newline) as one
frame, a 4-byte length in network byte order then the bytes, and prints
the payload of each answering frame and a newline.

usage: client.py [HOST [PORT]] [MESSAGE...]    default 127.0.0.1 8080
"""

import socket
import struct
import sys

MAX_FRAME = 1024 * 1024 + 1024  # largest payload: 1 MiB + 1 KiB


def recv_all(sock, length):
    """Receive exactly length bytes; fewer if the server closed first.
    Python's sockets have sendall() but no recv_all: this is it."""
    data = bytearray()
    while len(data) < length:
        chunk = sock.recv(min(length - len(data), 1 << 20))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def exchange(sock, where, message):
    """Send message as a frame, print the answer's payload; return 0, or
    1 after printing why."""
    sock.sendall(struct.pack("!I", len(message)) + message)
    header = recv_all(sock, 4)
    if len(header) < 4:
        print("client: the server at %s closed the connection %s" % (
            where, "without answering" if not header else
            "in the middle of a frame (%d of 4 bytes of its length)" %
            len(header)), file=sys.stderr)
        return 1
    (length,) = struct.unpack("!I", header)
    if length > MAX_FRAME:
        print("client: the server at %s sent a frame length of %d bytes, "
              "over the limit of %d" % (where, length, MAX_FRAME),
              file=sys.stderr)
        return 1
    payload = recv_all(sock, length)
    if len(payload) < length:
        print("client: the server at %s closed the connection in the middle "
              "of a frame (%d of %d bytes of its payload)" % (
                  where, len(payload), length), file=sys.stderr)
        return 1
    sys.stdout.buffer.write(payload + b"\n")
    sys.stdout.buffer.flush()
    return 0


def main(argv):
    args = argv[1:]
    if args and args[0].startswith("-") and args[0] != "-":
        print("usage: client.py [HOST [PORT]] [MESSAGE...]", file=sys.stderr)
        return 2
    host = args.pop(0) if args else "127.0.0.1"
    port = args.pop(0) if args and args[0].isdigit() else "8080"
    where = "%s:%s" % (host, port)
    try:
        sock = socket.create_connection((host, int(port)))
    except socket.gaierror as e:
        print("client: getaddrinfo %s: %s" % (where, e.strerror),
              file=sys.stderr)
        return 1
    except OSError as e:
        print("client: connect %s: %s" % (where, e.strerror), file=sys.stderr)
        return 1
    with sock:
        if args:
            messages = (m.encode() for m in args)
        else:
            messages = (line.rstrip(b"\n") for line in sys.stdin.buffer)
        for m in messages:
            if exchange(sock, where, m) != 0:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
