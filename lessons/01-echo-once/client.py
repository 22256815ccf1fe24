#!/usr/bin/env python3
"""client.py - lesson 01's echo client in Python, beside client.c.

Same command line and output as the C program: connect to HOST:PORT, send
the words joined by spaces plus a newline (or one line of stdin), print the
one reply.

usage: client.py [HOST [PORT]] [MESSAGE...]    default 127.0.0.1 4000
"""
import socket
import sys

USAGE = "usage: client [HOST [PORT]] [MESSAGE...]"


def main():
    args = sys.argv[1:]
    if args and args[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    host = args.pop(0) if args else "127.0.0.1"
    port = 4000
    if args and args[0][:1].isdigit():
        word = args.pop(0)
        if not word.isdigit() or not 1 <= int(word) <= 65535:
            print("client: bad port '%s' (1-65535)\n%s" % (word, USAGE),
                  file=sys.stderr)
            sys.exit(2)
        port = int(word)
    if args:
        message = (" ".join(args) + "\n").encode()
    else:
        message = sys.stdin.buffer.readline()
    if not message:
        print("client: no message (give one, or a line on stdin)", file=sys.stderr)
        sys.exit(2)
    try:
        # socket(), then connect(): htons and inet_pton happen inside
        sock = socket.create_connection((host, port))
    except OSError as e:
        print("client: connect %s:%d: %s" % (host, port, e.strerror), file=sys.stderr)
        sys.exit(1)
    sock.sendall(message)                  # send() in a loop until all is gone
    reply = sock.recv(1024)                # recv(): one reply, or part of it
    sys.stdout.buffer.write(reply)         # fwrite(buf, 1, n, stdout)
    sys.stdout.flush()
    sock.close()


if __name__ == "__main__":
    main()
