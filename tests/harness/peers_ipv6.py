"""IPv6 peers (lesson 13): a server on two addresses of one port, where
the first address a name gives fails and the second answers, for a client
that must try every address in turn; and a client that expects to be
refused, for a server that must not take IPv4 clients.

ipv6-split binds the same port on two addresses (say ::1 and 127.0.0.1).
On each it plays one part:
  echo    listen, accept --clients clients one after the other, echo each
          until it closes;
  refuse  bind but never listen: a connect is refused at once (RST), and
          the port stays ours, so nothing else can answer there;
  stall   listen(0), never accept, fill the accept queue ourselves: the
          next connect gets no answer at all (lesson 05's full backlog).
It prints `listening on SECOND:PORT` once both are set up.
"""

import select
import socket
import time

from peerlib import Mismatch, escape, option, peer, say

MODES = ("echo", "refuse", "stall")


def family_of(address):
    """AF_INET6 for an IPv6 address in text, else AF_INET."""
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def fill_queue(sock, tries=8, settle=0.25):
    """Connect to our own listen(0) socket until a connect no longer
    completes; return the sockets (keep them open). Raises Mismatch when
    the kernel keeps completing them."""
    fillers = []
    for _ in range(tries):
        s = socket.socket(sock.family)
        s.setblocking(False)
        s.connect_ex(sock.getsockname())
        fillers.append(s)
        _, done, _ = select.select([], [s], [], settle)
        if not done:
            return fillers
    raise Mismatch("%d connections completed without accept(): this "
                   "kernel does not keep listen(0)'s backlog small" % tries)


def bind_part(address, port, mode):
    """Bind address:port (port 0: any) for mode; return (socket, fillers)."""
    sock = socket.socket(family_of(address))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sock.family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.bind((address, port))
    fillers = []
    if mode == "echo":
        sock.listen(16)
    elif mode == "stall":
        sock.listen(0)
        fillers = fill_queue(sock)
    return sock, fillers


def echo_one(conn, deadline):
    """Echo what conn sends until it closes; return the bytes received."""
    got = bytearray()
    while True:
        conn.settimeout(deadline.left())
        try:
            data = conn.recv(65536)
        except socket.timeout:
            raise Mismatch("the client connected but sent nothing more "
                           "within %.1f s; received so far: %s" % (
                               deadline.seconds, escape(bytes(got))))
        except ConnectionResetError:
            data = b""
        if not data:
            return bytes(got)
        got += data
        conn.sendall(data)


def hold(deadline):
    """Keep our sockets until the deadline."""
    while not deadline.expired():
        time.sleep(min(deadline.left(), 0.2))  # holding, bounded by deadline


@peer("ipv6-split", "one port on two addresses: the first refuses or "
      "stalls, the second echoes (or refuses too)")
@option("--first", default="::1", help="the address the name gives first")
@option("--first-mode", choices=MODES, default="refuse")
@option("--second", default="127.0.0.1", help="the address it gives next")
@option("--second-mode", choices=MODES, default="echo")
@option("--clients", type=int, default=1,
        help="echo this many clients on an echo address, then exit")
def ipv6_split(args, deadline):
    second, second_fillers = bind_part(args.second, args.port,
                                       args.second_mode)
    port = second.getsockname()[1]
    first, first_fillers = bind_part(args.first, port, args.first_mode)
    say("%s:%d %s, %s:%d %s" % (args.first, port, args.first_mode,
                                  args.second, port, args.second_mode))
    say("listening on %s:%d" % (args.second, port))
    echo = [s for s, mode in ((first, args.first_mode),
                              (second, args.second_mode)) if mode == "echo"]
    if not echo:
        hold(deadline)
        return
    for _ in range(args.clients):
        ready, _, _ = select.select(echo, [], [], deadline.left())
        if not ready:
            raise Mismatch("no client connected within %.1f s" %
                           deadline.seconds)
        conn, peer_addr = ready[0].accept()
        with conn:
            got = echo_one(conn, deadline)
        say("received %s from %s" % (escape(got), peer_addr[0]))
    for s in [first, second] + first_fillers + second_fillers:
        s.close()


@peer("ipv6-refused", "connect and expect to be refused: nothing may "
      "answer on this address")
def ipv6_refused(args, deadline):
    sock = socket.socket(family_of(args.host))
    sock.settimeout(deadline.left())
    try:
        sock.connect((args.host, args.port))
    except ConnectionRefusedError:
        say("connect %s:%d: refused, as expected" % (args.host, args.port))
        return
    except socket.timeout:
        raise Mismatch("connect %s:%d: no answer within %.1f s; expected it "
                       "to be refused at once" % (args.host, args.port,
                                                  deadline.seconds))
    finally:
        sock.close()
    raise Mismatch("connect %s:%d: connected; expected the connection to be "
                   "refused (nothing should listen on this address)" % (
                       args.host, args.port))
