"""Tool peers: the small socket and text jobs of the tests' helpers
(tests/lib/*.bash): free ports, is a port open, a C string literal of some
bytes. Run through peerc, each is a fork of the peerd, not a Python start
of its own.
"""

import socket
import sys

from peerlib import escape, option, peer


@peer("free-ports", "print --count free loopback TCP ports, all different "
      "(held at once to pick them)")
@option("--count", type=int, default=1)
def free_ports(args, deadline):
    held = [socket.socket() for _ in range(args.count)]
    for s in held:
        s.bind((args.host, 0))
    print(*[s.getsockname()[1] for s in held])
    for s in held:
        s.close()


def bindable(host, port):
    """Can a TCP socket bind host:port right now?"""
    s = socket.socket()
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


@peer("free-swappable-port", "print a free TCP port P whose byte-swapped "
      "twin is free too, >= 1024 and not P (where a missing htons() shows)")
def free_swappable_port(args, deadline):
    for _ in range(200):
        s = socket.socket()
        s.bind((args.host, 0))
        p = s.getsockname()[1]
        s.close()
        q = ((p & 255) << 8) | (p >> 8)
        if q >= 1024 and q != p and bindable(args.host, q):
            print(p)
            return


@peer("port-open", "exit 0 when something accepts TCP connections on "
      "--port (within 1 s), else 1, silently")
def port_open(args, deadline):
    s = socket.socket()
    s.settimeout(min(1.0, deadline.left()))
    try:
        if s.connect_ex((args.host, args.port)) != 0:
            raise SystemExit(1)
    finally:
        s.close()


@peer("escape", "print standard input as a C string literal, cut after "
      "--limit bytes")
@option("--limit", type=int, default=200)
def escape_stdin(args, deadline):
    print(escape(sys.stdin.buffer.read(), args.limit))


@peer("escape-file", "print the start of --file as a C string literal, "
      "with its size when it is longer than --limit bytes")
@option("--file", required=True)
@option("--limit", type=int, default=200)
def escape_file(args, deadline):
    with open(args.file, "rb") as f:
        data = f.read(args.limit)
        size = f.seek(0, 2)
    print(escape(data, args.limit) +
          ("... (%d bytes in all)" % size if size > args.limit else ""))
