#!/usr/bin/env python3
"""server.py - lesson 01's echo server in Python, beside server.c.

Same command line and output as the C program: listen on HOST:PORT, accept
one client, read one message, send it back, close, exit 0. Each Python call
is marked with the C calls it makes for you.

usage: server.py [HOST [PORT]]    default 127.0.0.1 4000; PORT 0 = any free port
"""
import socket
import sys


def main():
    args = sys.argv[1:]
    if len(args) > 2 or (args and args[0].startswith("-")):
        print("usage: server [HOST [PORT]]", file=sys.stderr)
        sys.exit(2)
    host = args[0] if args else "127.0.0.1"
    try:
        port = int(args[1]) if len(args) > 1 else 4000
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        print("server: bad port '%s' (0-65535)\nusage: server [HOST [PORT]]"
              % args[1], file=sys.stderr)
        sys.exit(2)
    try:
        # socket(AF_INET, SOCK_STREAM, 0)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # memset, sin_family, htons(port), inet_pton(host), bind(..., sizeof)
        listener.bind((host, port))
        listener.listen(1)
    except OSError as e:
        print("server: bind %s:%d: %s" % (host, port, e.strerror), file=sys.stderr)
        sys.exit(1)
    port = listener.getsockname()[1]             # getsockname(), ntohs()
    print("listening on %s:%d" % (host, port), flush=True)  # printf, fflush
    conn, (ip, peer_port) = listener.accept()    # accept(), inet_ntop, ntohs
    print("connection from %s:%d" % (ip, peer_port))
    data = conn.recv(1024)                       # recv(): one message, or part
    print("received %d bytes" % len(data))
    conn.sendall(data)                           # send_all(): send() in a loop
    conn.close()                                 # close()
    listener.close()


if __name__ == "__main__":
    main()
