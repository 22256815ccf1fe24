#!/usr/bin/env python3
"""client.py - lesson 15's chat client in Python: the same command line
and output as client.c.

    usage: client.py [HOST [PORT]]    default 127.0.0.1 7777

What Python hides: selectors.DefaultSelector is poll() (epoll on Linux);
socket.create_connection() is getaddrinfo() with a socket() and connect()
per address; os.read/os.write on fds 0 and 1 are read() and write().
"""

import os
import selectors
import socket
import sys


def main(argv):
    if len(argv) > 2 or (argv and argv[0].startswith("-")):
        print("usage: client [HOST [PORT]]", file=sys.stderr)
        return 2
    host = argv[0] if argv else "127.0.0.1"
    port = argv[1] if len(argv) > 1 else "7777"
    try:
        sock = socket.create_connection((host, int(port)))
    except (OSError, ValueError) as e:
        print("client: connect %s:%s: %s" % (host, port,
              getattr(e, "strerror", None) or e), file=sys.stderr)
        return 1
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(0, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is sock:
                data = sock.recv(4096)
                if not data:
                    return 0  # the server closed: we are done
                os.write(1, data)
            else:
                typed = os.read(0, 4096)
                if typed:
                    sock.sendall(typed)  # simplification: blocks if full
                else:
                    sel.unregister(0)
                    sock.shutdown(socket.SHUT_WR)  # end of input


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
