"""TCP server peers: they stand in for the server when a student's client
is under test. Each binds port 0, prints `listening on HOST:PORT`, serves
for at most --timeout seconds and reports what it received.
"""

import socket
import time

from peerlib import Mismatch, escape, listen, option, peer, say
from peers_tcp_clients import unescape


def serve_clients(args, deadline, handle):
    """Accept up to args.clients connections and run handle on each."""
    srv = listen(args.host, args.port)
    for _ in range(args.clients):
        srv.settimeout(deadline.left())
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            raise Mismatch("no client connected within %.1f s" %
                           deadline.seconds)
        with conn:
            handle(conn)
    srv.close()


def read_some(conn, deadline):
    """One recv before deadline: bytes, b'' at EOF, or None on timeout."""
    conn.settimeout(deadline.left())
    try:
        return conn.recv(65536)
    except socket.timeout:
        return None
    except ConnectionResetError:
        return b""


@peer("echo-server", "echo what each client sends, optionally in small "
      "fragments, until it closes")
@option("--clients", type=int, default=1, help="serve this many, then exit")
@option("--fragment", type=int, default=0,
        help="send the echo back in pieces of this many bytes")
@option("--gap", type=float, default=0.01, help="seconds between pieces")
@option("--once", action="store_true",
        help="echo only the first recv, then close (like lesson 01)")
def echo_server(args, deadline):
    def handle(conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            data = read_some(conn, deadline)
            if not data:
                return
            say("received %s" % escape(data))
            step = args.fragment or len(data)
            for i in range(0, len(data), step):
                conn.sendall(data[i:i + step])
                if args.fragment:
                    time.sleep(args.gap)  # pacing: each piece its own segment
            if args.once:
                return

    serve_clients(args, deadline, handle)


@peer("record-server", "accept one client, print everything it sends "
      "(escaped) until it closes; optionally reply")
@option("--clients", type=int, default=1)
@option("--reply", help="send this (C escapes) after the first bytes arrive")
@option("--greet", help="send this (C escapes) as soon as the client connects")
def record_server(args, deadline):
    def handle(conn):
        if args.greet:
            conn.sendall(unescape(args.greet))
        got = bytearray()
        replied = False
        while True:
            data = read_some(conn, deadline)
            if data is None:
                say("recorded %s (client still connected at the deadline)" %
                    escape(bytes(got), 4096))
                return
            if not data:
                break
            got += data
            if args.reply and not replied:
                conn.sendall(unescape(args.reply))
                replied = True
        say("recorded %s" % escape(bytes(got), 4096))

    serve_clients(args, deadline, handle)
