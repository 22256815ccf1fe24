#!/usr/bin/env python3
"""server.py - lesson 09's server in Python: a line echo server whose
command line turns socket options on, each set, read back and printed.

usage: server.py [--no-reuseaddr] [--keepalive IDLE,INTVL,CNT] [--rcvbuf N]
                 [--sndbuf N] [--linger0] [HOST [PORT]]

Python's setsockopt() and getsockopt() are the C calls: the same levels,
the same names, the same kernel. What Python hides is the size argument
(it packs an int for you) and struct linger, which you pack yourself.
"""

import signal
import socket
import struct
import sys

USAGE = ("usage: server [--no-reuseaddr] [--keepalive IDLE,INTVL,CNT] "
         "[--rcvbuf N] [--sndbuf N] [--linger0] [HOST [PORT]]")


def set_int_option(sock, level, name, label, value):
    """setsockopt, then getsockopt: print what the kernel gives."""
    sock.setsockopt(level, name, value)
    print("%s: asked %d, kernel gives %d" % (
        label, value, sock.getsockopt(level, name)), flush=True)


def set_linger0(sock):
    """close() now resets the connection (RST) instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    onoff, seconds = struct.unpack("ii", sock.getsockopt(
        socket.SOL_SOCKET, socket.SO_LINGER, 8))
    print("SO_LINGER: asked on 0 s, kernel gives %s %d s" % (
        "on" if onoff else "off", seconds), flush=True)


def parse_args(argv):
    """Return the options as a dict, or exit 2 with the usage line."""
    o = {"reuseaddr": True, "keepalive": None, "rcvbuf": None,
         "sndbuf": None, "linger0": False, "host": "127.0.0.1", "port": 9000}
    args = list(argv)
    try:
        while args and args[0].startswith("--"):
            flag = args.pop(0)
            if flag == "--no-reuseaddr":
                o["reuseaddr"] = False
            elif flag == "--linger0":
                o["linger0"] = True
            elif flag == "--keepalive":
                o["keepalive"] = [int(n) for n in args.pop(0).split(",")]
                assert len(o["keepalive"]) == 3 and min(o["keepalive"]) > 0
            elif flag in ("--rcvbuf", "--sndbuf"):
                o[flag[2:]] = int(args.pop(0))
            else:
                raise ValueError(flag)
        if args:
            o["host"] = args.pop(0)
        if args:
            o["port"] = int(args.pop(0))
        assert not args and 0 <= o["port"] <= 65535
    except (ValueError, IndexError, AssertionError):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    return o


def answer_lines(conn):
    """Answer each whole line with one send until bye or end-of-file."""
    buf = b""
    while True:
        data = conn.recv(1024)
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            conn.sendall(line + b"\n")
            if line in (b"bye", b"bye\r"):
                return  # we close first


def serve(listener, o):
    """Accept clients one at a time, set their options, answer them."""
    while True:
        conn, peer = listener.accept()
        name = "%s:%d" % peer[:2]
        print("connection from %s" % name, flush=True)
        with conn:
            if o["keepalive"]:
                idle, intvl, cnt = o["keepalive"]
                set_int_option(conn, socket.SOL_SOCKET, socket.SO_KEEPALIVE,
                               "SO_KEEPALIVE", 1)
                for label, value in (("TCP_KEEPIDLE", idle),
                                     ("TCP_KEEPINTVL", intvl),
                                     ("TCP_KEEPCNT", cnt)):
                    set_int_option(conn, socket.IPPROTO_TCP,
                                   getattr(socket, label), label, value)
            if o["linger0"]:
                set_linger0(conn)
            try:
                answer_lines(conn)
            except ConnectionError as e:
                print("server: recv %s: %s" % (name, e.strerror),
                      file=sys.stderr)
        print("closed %s" % name, flush=True)


def main(argv):
    o = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    family = socket.AF_INET6 if ":" in o["host"] else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    if o["reuseaddr"]:
        set_int_option(listener, socket.SOL_SOCKET, socket.SO_REUSEADDR,
                       "SO_REUSEADDR", 1)
    for label in ("SO_RCVBUF", "SO_SNDBUF"):
        size = o[label[3:].lower()]
        if size is not None:
            set_int_option(listener, socket.SOL_SOCKET, getattr(socket, label),
                           label, size)
    try:
        listener.bind((o["host"], o["port"]))
    except OSError as e:
        sys.exit("server: bind %s:%d: %s" % (o["host"], o["port"], e.strerror))
    listener.listen(16)
    print("listening on %s:%d" % listener.getsockname()[:2], flush=True)
    try:
        serve(listener, o)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
