#!/usr/bin/env python3
"""server.py - lesson 13 in Python: the echo server on IPv6 or IPv4, with
IPV6_V6ONLY as --v6only says, and the same command line and output as
server.c. (socket.create_server(..., dualstack_ipv6=True) does the same
as --v6only off on "::".)

Simplification: a thread per client (lesson 03) instead of select().

usage: server.py [--v6only on|off] [HOST [PORT]]
       default off, 127.0.0.1 8080; PORT 0 = any free port
"""
import socket
import sys
import threading


def open_listener(host, port, v6only):
    """Bind the first address of host:port that works (getaddrinfo with
    AI_PASSIVE), IPV6_V6ONLY set on an IPv6 socket before bind(), as
    server.c does."""
    try:
        results = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0,
                                     socket.AI_PASSIVE)
    except socket.gaierror as e:
        sys.stderr.write("server: getaddrinfo %s:%s: %s\n" % (host, port,
                                                                e.strerror))
        sys.exit(1)
    for family, socktype, proto, _, addr in results:
        sock = socket.socket(family, socktype, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY,
                                v6only)
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


def usage():
    sys.stderr.write("usage: server [--v6only on|off] [HOST [PORT]]\n")
    sys.exit(2)


def main(argv):
    args = argv[1:]
    v6only = 0
    if args[:1] == ["--v6only"]:
        if len(args) < 2 or args[1] not in ("on", "off"):
            sys.stderr.write("server: --v6only needs on or off\n")
            usage()
        v6only = 1 if args[1] == "on" else 0
        args = args[2:]
    if len(args) > 2 or (args and args[0].startswith("-")):
        usage()
    host = args[0] if args else "127.0.0.1"
    port = args[1] if len(args) > 1 else "8080"
    listener = open_listener(host, port, v6only)
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
