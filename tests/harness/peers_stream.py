"""Stream peers for lessons 02 and 03: what a byte stream does to a server.

long-line    one line far longer than any sensible buffer, echoed intact
swarm        many clients at once, each in its own thread, talking over
             each other (shared buffers and sequential servers fail it)
vanish       a burst of bytes, then close without reading the echo: the
             server writes into a dead connection (SIGPIPE if unprepared)
plain-client the simplest Python echo client: no newlines, one recv(1024)
"""

import socket
import threading

from peerlib import (Mismatch, connect, escape, expect_echo, option, peer,
                     recv_exactly, say, wait_closed)
from peers_tcp_clients import unescape


def line_of(size):
    """size bytes: one line of printable bytes (period 89, so a lost or
    repeated buffer shows) ending in a newline."""
    body = bytes(33 + i % 89 for i in range(89))
    return (body * (size // 89 + 1))[:size - 1] + b"\n"


def send_in_background(sock, data):
    """Send data from a thread; returns the thread and its error list. A
    server that echoes as it reads would deadlock with a peer that sent
    everything before reading."""
    errors = []

    def sender():
        try:
            sock.sendall(data)
        except OSError as e:
            errors.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    return t, errors


def end_with_bye(sock, deadline, label=""):
    """Send bye, expect its echo and then the server's close."""
    sock.sendall(b"bye\n")
    expect_echo(sock, b"bye\n", deadline, label)
    why = wait_closed(sock, deadline)
    if why:
        raise Mismatch("%sexpected the server to close the connection after "
                       "bye, but %s" % (label, why))


@peer("long-line", "send one line of --size bytes (default 1 MiB) while "
      "reading its echo; check it comes back intact")
@option("--size", type=int, default=1 << 20)
@option("--then", help="afterwards send this (C escapes) and check its echo")
@option("--bye", action="store_true", help="end with bye and expect a close")
def long_line(args, deadline):
    data = line_of(args.size)
    sock = connect(args.host, args.port, deadline)
    sender, errors = send_in_background(sock, data)
    try:
        got = recv_exactly(sock, len(data), deadline)
    except Mismatch as e:
        raise Mismatch("sent one line of %d bytes (one newline, at the end); "
                       "%s" % (len(data), e))
    sender.join(deadline.left())
    if errors:
        raise Mismatch("sending the line failed: %s" % errors[0])
    if got != data:
        i = next(k for k in range(len(data)) if data[k] != got[k])
        raise Mismatch("sent one line of %d bytes; %d came back but they "
                       "differ from byte %d on: expected %s, received %s "
                       "(a buffer lost, repeated or reordered?)" % (
                           len(data), len(got), i, escape(data[i:i + 24]),
                           escape(got[i:i + 24])))
    if args.then:
        msg = unescape(args.then)
        sock.sendall(msg)
        expect_echo(sock, msg, deadline, "after the long line: ")
    if args.bye:
        end_with_bye(sock, deadline)
    sock.close()
    say("ok: a line of %d bytes came back intact" % len(data))


def swarm_message(client, index, size):
    """The index-th message of a swarm client: its own text and its own
    length, about size bytes, ending in a newline."""
    head = b"client %d message %d " % (client, index)
    fill = bytes([97 + (client + index) % 26]) * (
        size + (client * 37 + index * 101) % 3000)
    return head + fill + b"\n"


@peer("swarm", "connect --clients at once, then let each talk in its own "
      "thread at the same time; check every echo")
@option("--clients", type=int, default=20)
@option("--count", type=int, default=5, help="messages per client")
@option("--size", type=int, default=0, help="bytes added to each message "
        "(large ones keep every server thread busy at the same time)")
@option("--bye", action="store_true", help="each ends with bye and expects "
        "the server to close its connection")
def swarm(args, deadline):
    # Connect them all before anyone talks, and let nobody go on past its
    # first echo before everyone has had theirs: a server that serves one
    # client at a time cannot pass, however fast it is.
    socks = [connect(args.host, args.port, deadline)
             for _ in range(args.clients)]
    start = threading.Barrier(len(socks))
    first_echoes = threading.Barrier(len(socks))
    failures = []
    stuck = []

    def talk(c, sock):
        label = "client %d of %d" % (c + 1, len(socks))
        try:
            start.wait(deadline.left())
            for i in range(args.count):
                msg = swarm_message(c, i, args.size)
                sender, errors = send_in_background(sock, msg)
                expect_echo(sock, msg, deadline, "%s, message %d: " % (
                    label, i + 1))
                sender.join(deadline.left())
                if errors:
                    raise Mismatch("%s: sending failed: %s" % (
                        label, errors[0]))
                if i == 0:
                    first_echoes.wait(deadline.left())
            if args.bye:
                end_with_bye(sock, deadline, label + ": ")
        except Mismatch as e:
            failures.append(str(e))
        except threading.BrokenBarrierError:
            stuck.append(label)
        except OSError as e:
            failures.append("%s: %s" % (label, e))
        finally:
            sock.close()

    threads = [threading.Thread(target=talk, args=(c, s), daemon=True)
               for c, s in enumerate(socks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(deadline.left())
    if any(t.is_alive() for t in threads):
        failures.append("some clients were still waiting at the deadline")
    if failures:
        raise Mismatch("%d of %d clients talking at once did not get their "
                       "echoes; the first:\n  %s" % (
                           min(len(failures), len(socks)), len(socks),
                           failures[0]))
    if stuck:
        raise Mismatch("%d of %d clients got their first echo, then waited "
                       "in vain while staying connected for the others to "
                       "get theirs (does the server serve one client at a "
                       "time?)" % (len(stuck), len(socks)))
    say("ok: %d clients at once x %d message(s) echoed" % (
        len(socks), args.count))


@peer("vanish", "send a burst and close at once without reading: the "
      "server's echo meets a closed socket (RST, then EPIPE/SIGPIPE)")
@option("--size", type=int, default=16384, help="bytes per connection")
@option("--count", type=int, default=3, help="connections, one after another")
def vanish(args, deadline):
    data = line_of(args.size)
    for _ in range(args.count):
        sock = connect(args.host, args.port, deadline)
        # Corked, the burst leaves together with our FIN at close(), so
        # the server has not echoed a byte yet when we are gone. Its first
        # echo draws an RST from our kernel; its next send() then fails
        # with EPIPE and raises SIGPIPE, unless it passes MSG_NOSIGNAL or
        # ignores the signal.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        sock.sendall(data)
        sock.close()
    say("ok: %d connection(s) sent %d bytes each and vanished" % (
        args.count, len(data)))


@peer("plain-client", "the simplest Python echo client: each message sent "
      "without a newline, one recv(1024) for its echo, then 'bye' and close")
@option("--messages", default="hello,how are you?,bye",
        help="comma-separated, as typed at its >> prompt")
def plain_client(args, deadline):
    sock = connect(args.host, args.port, deadline)
    with sock:
        # The usual input() loop, with input() replaced by the list and a
        # deadline on recv() so a silent server cannot hang the test.
        for data in args.messages.split(","):
            sock.sendall(data.encode())
            if data == "bye":
                sock.close()
                break
            sock.settimeout(deadline.left())
            try:
                res = sock.recv(1024)
            except socket.timeout:
                raise Mismatch("the client sent %s (no newline) and got no "
                               "echo within %.1f s"
                               % (escape(data.encode()), deadline.seconds))
            except ConnectionResetError:
                res = b"(connection reset)"
            if res != data.encode():
                raise Mismatch("the client sent %s (no newline); its one "
                               "recv(1024) got %s" % (
                                   escape(data.encode()), escape(res)))
    say("ok: the client got every echo")
