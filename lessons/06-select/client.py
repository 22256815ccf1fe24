#!/usr/bin/env python3
"""client.py - lesson 06's client in Python, beside client.c.

Same command line and output as the C program: one select() loop over the
keyboard (fd 0) and the socket, so what the server sends is printed at
once, typed or not. At the end of input it half-closes (shutdown
SHUT_WR) and prints the rest until the server closes.

usage: client.py [HOST [PORT]]    default 127.0.0.1 8080
"""
import os
import select
import socket
import sys


def main():
    args = sys.argv[1:]
    if len(args) > 2 or (args and args[0].startswith("-")) or \
            (len(args) > 1 and not args[1].isdigit()):
        print("usage: client [HOST [PORT]]", file=sys.stderr)
        sys.exit(2)
    host = args[0] if args else "127.0.0.1"
    port = int(args[1]) if len(args) > 1 else 8080
    try:
        sock = socket.create_connection((host, port))
    except OSError as e:
        print("client: connect %s:%d: %s" % (host, port, e.strerror),
              file=sys.stderr)
        sys.exit(1)
    stdin_open = True
    while True:
        watch = [sock] + ([sys.stdin] if stdin_open else [])
        ready, _, _ = select.select(watch, [], [])
        if sock in ready:
            data = sock.recv(4096)
            if not data:
                break                         # the server closed
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        if sys.stdin in ready:
            # os.read, not readline(): no buffer that select() cannot see
            typed = os.read(0, 4096)
            if typed:
                sock.sendall(typed)
            else:
                sock.shutdown(socket.SHUT_WR)  # the end of input
                stdin_open = False
    sock.close()


if __name__ == "__main__":
    main()
