#!/usr/bin/env python3
"""client.py - lesson 03's client: lesson 02's echo client, in Python.

Same command line and output as the C program: send each line of stdin
(or the words of the command line, as one line), print each echo, stop
after a line "bye". makefile() reads the echo up to its newline, however
TCP cut it up: the loop you write in print_echo().

usage: client.py [HOST [PORT]] [MESSAGE...]    default 127.0.0.1 7788
"""
import socket
import sys

USAGE = "usage: client [HOST [PORT]] [MESSAGE...]"


def parse_args(args):
    """Return host, port and the message words; exit 2 on bad usage."""
    if args and args[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    host = args.pop(0) if args else "127.0.0.1"
    port = 7788
    if args and args[0][:1].isdigit():
        word = args.pop(0)
        if not word.isdigit() or not 1 <= int(word) <= 65535:
            print("client: bad port '%s' (1-65535)\n%s" % (word, USAGE),
                  file=sys.stderr)
            sys.exit(2)
        port = int(word)
    return host, port, args


def main():
    host, port, words = parse_args(sys.argv[1:])
    try:
        sock = socket.create_connection((host, port))   # socket(), connect()
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
        echo = replies.readline()          # recv() until the newline
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
