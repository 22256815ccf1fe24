#!/usr/bin/env python3
"""server.py - lesson 06's select() echo server in Python, beside server.c.

Same command line and output as the C program: one thread, non-blocking
sockets, one select() loop over the listener and every client, a buffer
per client for its echo. A line "bye" or end-of-file ends that client.

usage: server.py [HOST [PORT]]    default 127.0.0.1 8080; PORT 0 = any free port
"""
import select
import signal
import socket
import sys


def main():
    args = sys.argv[1:]
    if len(args) > 2 or (args and args[0].startswith("-")):
        print("usage: server [HOST [PORT]]", file=sys.stderr)
        sys.exit(2)
    host = args[0] if args else "127.0.0.1"
    port = int(args[1]) if len(args) > 1 else 8080
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(128)
    listener.setblocking(False)                   # fcntl(O_NONBLOCK)
    print("listening on %s:%d" % (host, listener.getsockname()[1]), flush=True)
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(0))
    clients = {}   # socket -> [name, output buffer, line so far, closing]
    try:
        while True:
            readable = [listener] + [s for s, c in clients.items()
                                     if not c[3] and len(c[1]) < 65536]
            writable = [s for s, c in clients.items() if c[1]]
            readable, writable, _ = select.select(readable, writable, [])
            for s in readable:
                if s is listener:
                    try:
                        conn, (ip, peer_port) = listener.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(False)
                    clients[conn] = ["%s:%d" % (ip, peer_port), b"", b"", False]
                    print("connection from %s:%d" % (ip, peer_port), flush=True)
                    continue
                c = clients[s]
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError as e:
                    print("server: recv %s: %s" % (c[0], e.strerror),
                          file=sys.stderr)
                    data, c[1], c[3] = b"", b"", True
                if not data:
                    c[3] = True                   # end-of-file
                for i, byte in enumerate(data):
                    if byte == ord("\n"):
                        if c[2].rstrip(b"\r") == b"bye":
                            data, c[3] = data[:i + 1], True
                            break
                        c[2] = b""
                    elif len(c[2]) < 5:
                        c[2] += bytes([byte])
                c[1] += data
            for s in writable:
                c = clients.get(s)
                if not c:
                    continue
                try:
                    n = s.send(c[1])              # what fits now
                    c[1] = c[1][n:]
                except BlockingIOError:
                    pass
                except OSError as e:
                    print("server: send %s: %s" % (c[0], e.strerror),
                          file=sys.stderr)
                    c[1], c[3] = b"", True
            for s, c in list(clients.items()):
                if c[3] and not c[1]:
                    print("closed %s" % c[0], flush=True)
                    del clients[s]
                    s.close()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
