#!/usr/bin/env python3
"""server.py - lesson 02's echo server in Python, beside server.c.

Same command line and output as the C program: accept one client, echo
what it sends as it arrives until a line "bye" or end-of-file, exit 0.

usage: server.py [HOST [PORT]]    default 127.0.0.1 7788; PORT 0 = any free port
"""
import socket
import sys


def main():
    args = sys.argv[1:]
    if len(args) > 2 or (args and args[0].startswith("-")):
        print("usage: server [HOST [PORT]]", file=sys.stderr)
        sys.exit(2)
    host = args[0] if args else "127.0.0.1"
    port = int(args[1]) if len(args) > 1 else 7788
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as e:
        print("server: bind %s:%d: %s" % (host, port, e.strerror),
              file=sys.stderr)
        sys.exit(1)
    listener.listen(1)
    print("listening on %s:%d" % (host, listener.getsockname()[1]), flush=True)
    conn, (ip, peer_port) = listener.accept()
    print("connection from %s:%d" % (ip, peer_port))
    line = b""             # the line so far: "bye" may come in pieces
    while True:
        try:
            data = conn.recv(1024)
        except ConnectionResetError:
            print("the client went away (connection reset)")
            break
        if not data:       # b"": end-of-file, never "try again"
            print("the client hung up")
            break
        print("received %d bytes" % len(data))
        echo, bye = data, False
        for i, byte in enumerate(data):
            if byte == ord("\n"):
                if line.rstrip(b"\r") == b"bye":
                    echo, bye = data[:i + 1], True
                    break
                line = b""
            elif len(line) < 5:
                line += bytes([byte])
        try:
            conn.sendall(echo)
        except (BrokenPipeError, ConnectionResetError):
            print("the client went away (connection reset)")
            break
        if bye:
            print("the client said bye")
            break
    conn.close()
    listener.close()


if __name__ == "__main__":
    main()
