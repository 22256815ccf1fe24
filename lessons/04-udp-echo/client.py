#!/usr/bin/env python3
"""client.py - lesson 04's UDP echo client in Python, beside client.c.

Same command line and output as the C program: send one datagram (the
words, or one line of stdin, without its newline), print the reply from
the server with a newline, or say "timed out" and exit 1.

usage: client.py [--timeout SECONDS] [HOST [PORT]] [MESSAGE...]
       default 127.0.0.1 9999, timeout 3 s
"""
import socket
import sys

USAGE = "usage: client [--timeout SECONDS] [HOST [PORT]] [MESSAGE...]"


def usage(why=None):
    if why:
        print(why, file=sys.stderr)
    print(USAGE, file=sys.stderr)
    sys.exit(2)


def main():
    args = sys.argv[1:]
    timeout = 3.0
    if args[:1] == ["--timeout"]:
        try:
            timeout = float(args[1])
            assert timeout > 0
        except (IndexError, ValueError, AssertionError):
            usage("client: bad timeout (seconds, more than 0)")
        args = args[2:]
    if args and args[0].startswith("-"):
        usage()
    host = args.pop(0) if args else "127.0.0.1"
    port = 9999
    if args and args[0][:1].isdigit():
        word = args.pop(0)
        if not word.isdigit() or not 1 <= int(word) <= 65535:
            usage("client: bad port '%s' (1-65535)" % word)
        port = int(word)
    message = " ".join(args).encode() if args else \
        sys.stdin.buffer.readline().rstrip(b"\n")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)                      # SO_RCVTIMEO
    server = (socket.gethostbyname(host), port)
    sock.sendto(message, server)                  # no connect(): sendto names it
    while True:
        try:
            reply, sender = sock.recvfrom(65535)
        except socket.timeout:
            print("client: recvfrom %s:%d: timed out" % (host, port),
                  file=sys.stderr)
            sys.exit(1)
        if sender == server:
            break
        print("client: ignored %d bytes from %s:%d (not the server)" % (
            len(reply), sender[0], sender[1]), file=sys.stderr)
    sys.stdout.buffer.write(reply + b"\n")


if __name__ == "__main__":
    main()
