#!/usr/bin/env python3
"""client.py - lesson 05's echo client in Python, beside client.c.

Lesson 02's client with --timeout SECONDS: connecting, and waiting for an
echo, give up after that long with "timed out", exit 1. settimeout() is
the non-blocking connect() and poll() you write in C.

usage: client.py [--timeout SECONDS] [HOST [PORT]] [MESSAGE...]
       default 127.0.0.1 8080
"""
import socket
import sys

USAGE = "usage: client [--timeout SECONDS] [HOST [PORT]] [MESSAGE...]"


def parse_args(args):
    """Return host, port, timeout and the message words; exit 2 on bad
    usage."""
    timeout = None
    if args[:1] == ["--timeout"]:
        try:
            timeout = float(args[1])
            assert timeout > 0
        except (IndexError, ValueError, AssertionError):
            print("client: bad timeout (seconds, more than 0)\n" + USAGE,
                  file=sys.stderr)
            sys.exit(2)
        args = args[2:]
    if args and args[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    host = args.pop(0) if args else "127.0.0.1"
    port = 8080
    if args and args[0][:1].isdigit():
        word = args.pop(0)
        if not word.isdigit() or not 1 <= int(word) <= 65535:
            print("client: bad port '%s' (1-65535)\n%s" % (word, USAGE),
                  file=sys.stderr)
            sys.exit(2)
        port = int(word)
    return host, port, timeout, args


def main():
    host, port, timeout, words = parse_args(sys.argv[1:])
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.timeout:
        print("client: connect %s:%d: timed out" % (host, port),
              file=sys.stderr)
        sys.exit(1)
    except OSError as e:
        print("client: connect %s:%d: %s" % (host, port, e.strerror),
              file=sys.stderr)
        sys.exit(1)
    replies = sock.makefile("rb")          # a buffer like struct inbox
    lines = [(" ".join(words) + "\n").encode()] if words else sys.stdin.buffer
    for line in lines:
        if not line.endswith(b"\n"):
            line += b"\n"
        sock.sendall(line)                 # send_all()
        try:
            echo = replies.readline()      # recv() until the newline
        except socket.timeout:
            print("client: recv %s:%d: timed out" % (host, port),
                  file=sys.stderr)
            sys.exit(1)
        sys.stdout.buffer.write(echo)
        sys.stdout.flush()
        if not echo.endswith(b"\n"):
            print("client: the server at %s:%d closed the connection before "
                  "the echo ended" % (host, port), file=sys.stderr)
            sys.exit(1)
        if line.rstrip(b"\r\n") == b"bye":
            break
    sock.close()


if __name__ == "__main__":
    main()
