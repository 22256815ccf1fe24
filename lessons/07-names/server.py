#!/usr/bin/env python3
"""server.py - lesson 07 in Python: the echo server listening on a name,
with the same command line and output as server.c.

Simplification: a thread per client (lesson 03) instead of select().

usage: server.py [HOST [PORT]]    default 127.0.0.1 8080; PORT 0 = any free port
"""
import socket
import sys
import threading


def open_listener(host, port):
    """Bind the first address of host:port that works (getaddrinfo with
    AI_PASSIVE), as server.c does."""
    try:
        results = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0,
                                     socket.AI_PASSIVE | socket.AI_ADDRCONFIG)
    except socket.gaierror as e:
        sys.stderr.write("server: getaddrinfo %s:%s: %s\n" % (host, port,
                                                                e.strerror))
        sys.exit(1)
    for family, socktype, proto, _, addr in results:
        sock = socket.socket(family, socktype, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(addr)
            sock.listen(128)
            return sock
        except OSError as e:
            sys.stderr.write("server: bind %s:%s: %s\n" % (host, port,
                                                             e.strerror))
            sock.close()
    sys.exit(1)


def numeric(addr):
    """ADDRESS:PORT in numbers (getnameinfo with NI_NUMERICHOST)."""
    host, port = socket.getnameinfo(addr, socket.NI_NUMERICHOST |
                                    socket.NI_NUMERICSERV)
    return "%s:%s" % (host, port)


def serve(conn, name):
    """Echo what arrives until a line "bye" or end-of-file."""
    line = b""
    with conn:
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                break
            if not data:
                break
            for i, byte in enumerate(data):
                line += bytes([byte])
                if byte == ord("\n"):
                    if line in (b"bye\n", b"bye\r\n"):
                        conn.sendall(data[:i + 1])
                        print("closed %s" % name, flush=True)
                        return
                    line = b""
                line = line[:5]
            conn.sendall(data)
    print("closed %s" % name, flush=True)


def main(argv):
    if len(argv) > 3 or (len(argv) > 1 and argv[1].startswith("-")):
        sys.stderr.write("usage: server [HOST [PORT]]\n")
        sys.exit(2)
    host = argv[1] if len(argv) > 1 else "127.0.0.1"
    port = argv[2] if len(argv) > 2 else "8080"
    listener = open_listener(host, port)
    print("listening on %s" % numeric(listener.getsockname()), flush=True)
    try:
        while True:
            conn, addr = listener.accept()
            name = numeric(addr)
            print("connection from %s" % name, flush=True)
            threading.Thread(target=serve, args=(conn, name),
                             daemon=True).start()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv)
