"""Peers for lesson 08 (framing): messages as frames, a 4-byte length in
network byte order then the payload, cut up and abused every way TCP and
a hostile client allow.

Client peers (against the framed echo server):
  frame-echo     whole frames, one at a time: checks the header and echo
  frame-dribble  frames sent one byte at a time, header split
  frame-pair     several frames in one send()
  frame-big      one large frame (1 MiB), optionally read back slowly
                 through a small receive buffer
  frame-cut      end-of-file in the middle of a frame while another
                 client is served; end-of-file between frames
  frame-huge     an absurd length: the server must refuse it, not
                 allocate it, and close the connection
Server peer (against the client):
  frame-server   reads the client's frames and answers each in tiny
                 pieces, or with an absurd length, or cut short
"""

import select
import socket
import struct
import threading
import time

from peerlib import (Mismatch, connect, escape, first_difference, listen,
                     option, peer, recv_exactly, say, wait_closed)
from peers_tcp_clients import unescape

SANE_LENGTH = 16 << 20  # a header above this was surely not meant


def header(length):
    """The 4-byte header of a frame of length bytes: network byte order."""
    return struct.pack("!I", length)


def frame(payload):
    """payload as a frame: its header, then itself."""
    return header(len(payload)) + payload


def payload_of(index, size):
    """size bytes of frame number index, different for every frame and
    every position, so a misaligned or mixed-up echo shows."""
    text = b"frame %d, %d bytes:" % (index, size)
    cycle = bytes(97 + (i * 7 + index) % 26 for i in range(26))
    return (text + cycle * (size // 26 + 1))[:size]


def explain_header(got, length, payload):
    """Say in words what is wrong with a header got, for a frame of
    length bytes whose payload was payload."""
    if got == struct.pack("<I", length):
        return ("that is %d in the host's byte order (little-endian): "
                "convert the length with htonl() before sending it" % length)
    if payload and got == payload[:4]:
        return ("those are the first bytes of the payload: send the 4-byte "
                "length first")
    value = struct.unpack("!I", got)[0]
    return "it says %d bytes" % value


def expect_frame(sock, payload, deadline, label=""):
    """Read one frame and check it is payload, framed; raise Mismatch with
    a diagnosis of the usual mistakes."""
    want = header(len(payload))
    try:
        got = recv_exactly(sock, 4, deadline)
    except Mismatch as e:
        hint = ""
        if "within" in str(e):
            hint = ("\n  (no answer: is the server still waiting for bytes? "
                    "A length read without ntohl() is huge: %s means %d, "
                    "not %d)" % (escape(want), struct.unpack("<I", want)[0],
                                 len(payload)))
        raise Mismatch("%sexpected the echo's 4-byte header %s; %s%s" % (
            label, escape(want), e, hint))
    if got != want:
        raise Mismatch("%sexpected the echo's header %s (%d bytes follow), "
                       "received %s: %s" % (label, escape(want), len(payload),
                                            escape(got), explain_header(
                                                got, len(payload), payload)))
    try:
        data = recv_exactly(sock, len(payload), deadline)
    except Mismatch as e:
        raise Mismatch("%sthe echo's header said %d bytes; %s" % (
            label, len(payload), e))
    if data != payload:
        if len(payload) > 8 and data[4:] == payload[:-4]:
            raise Mismatch("%s4 bytes too many came between the header and "
                           "the payload: was the header sent with the size "
                           "of a pointer (sizeof of a char *, 8) instead of "
                           "its own 4 (sizeof header)?" % label)
        i = first_difference(payload, data)
        raise Mismatch("%sthe echoed payload of %d bytes differs from byte "
                       "%d on:\n  expected %s\n  received %s" % (
                           label, len(payload), i, escape(payload[i:i + 40]),
                           escape(data[i:i + 40])))


def nodelay(sock):
    """Send each send() at once, as its own segment (no Nagle)."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def expect_closed(sock, deadline, label):
    """Expect the server to close sock, without sending anything."""
    why = wait_closed(sock, deadline)
    if why:
        raise Mismatch("%sexpected the server to close the connection, but "
                       "%s" % (label, why))


# ---------------------------------------------------------------- frame-echo

@peer("frame-echo", "send frames whole, one at a time, and check each "
      "echo: its header in network byte order, then the same payload")
@option("--frame", action="append", help="a payload (C escapes); "
        "repeatable (default: hello, then 300 bytes)")
@option("--size", type=int, action="append", help="a generated payload of "
        "this many bytes; repeatable")
def frame_echo(args, deadline):
    payloads = [unescape(f) for f in args.frame or []]
    payloads += [payload_of(i, n) for i, n in enumerate(args.size or [])]
    if not payloads:
        payloads = [b"hello", payload_of(0, 300)]
    with connect(args.host, args.port, deadline) as sock:
        for i, p in enumerate(payloads):
            sock.sendall(frame(p))
            expect_frame(sock, p, deadline, "frame %d of %d (%d bytes, sent "
                         "whole as %s...): " % (i + 1, len(payloads), len(p),
                                                escape(frame(p), 12)))
    say("ok: %d frames echoed" % len(payloads))


# ---------------------------------------------------------------- frame-dribble

@peer("frame-dribble", "send frames one byte per send() (TCP_NODELAY, a "
      "gap between bytes), and check each echo")
@option("--frames", type=int, default=2)
@option("--size", type=int, default=20, help="payload bytes of each frame")
@option("--gap", type=float, default=0.003, help="seconds between bytes")
def frame_dribble(args, deadline):
    with nodelay(connect(args.host, args.port, deadline)) as sock:
        for i in range(args.frames):
            p = payload_of(i, args.size + i)
            for k, b in enumerate(frame(p)):
                try:
                    sock.sendall(bytes([b]))
                except OSError as e:
                    raise Mismatch(
                        "frame %d of %d, sent one byte at a time: the server "
                        "closed the connection after %d of its %d bytes (%s)."
                        " One recv() brought 1 byte, fewer than asked: call "
                        "recv() again until all have come" % (
                            i + 1, args.frames, k, len(frame(p)),
                            e.strerror or e))
                time.sleep(args.gap)
            expect_frame(sock, p, deadline, "frame %d of %d, sent one byte "
                         "at a time (a recv() gets 1 byte, however many it "
                         "asks for): " % (i + 1, args.frames))
    say("ok: %d frames dribbled and echoed" % args.frames)


# ---------------------------------------------------------------- frame-pair

@peer("frame-pair", "send several frames in one send(), then a frame "
      "whose second half comes with the next frame's start; check echoes")
@option("--frames", type=int, default=3)
def frame_pair(args, deadline):
    with nodelay(connect(args.host, args.port, deadline)) as sock:
        payloads = [payload_of(i, 10 + 7 * i) for i in range(args.frames)]
        sock.sendall(b"".join(frame(p) for p in payloads))
        for i, p in enumerate(payloads):
            expect_frame(sock, p, deadline, "frame %d of %d, all sent in "
                         "one send() (one recv() may hold several frames: "
                         "take only what this frame's length says): " % (
                             i + 1, args.frames))
        # One frame's end and the next one's start in one segment.
        a, b = payload_of(7, 30), payload_of(8, 25)
        both = frame(a) + frame(b)
        cut = len(frame(a)) - 10
        sock.sendall(both[:cut])
        time.sleep(0.02)
        sock.sendall(both[cut:cut + 16])
        time.sleep(0.02)
        sock.sendall(both[cut + 16:])
        for i, p in enumerate((a, b)):
            expect_frame(sock, p, deadline, "frame %d of 2 sent across "
                         "three send()s, the second one holding the end of "
                         "one frame and the start of the next: " % (i + 1))
    say("ok: frames sent together were echoed one by one")


# ---------------------------------------------------------------- frame-big

def read_slowly(sock, count, chunk, gap, deadline):
    """Read count bytes in chunks of at most chunk bytes, pausing gap
    seconds between reads; return them (Mismatch on a short read)."""
    got = bytearray()
    while len(got) < count:
        got += recv_exactly(sock, min(chunk, count - len(got)), deadline)
        time.sleep(gap)
    return bytes(got)


@peer("frame-big", "send large frames and check their echoes; "
      "--slow-read: send them all at once from a thread, read nothing for "
      "--stall seconds, then read the echoes slowly through a small receive "
      "buffer, so the server's send() waits for room")
@option("--size", type=int, default=1 << 20, help="payload bytes (1 MiB)")
@option("--frames", type=int, default=1)
@option("--slow-read", action="store_true")
@option("--stall", type=float, default=0.3)
@option("--chunk", type=int, default=65536)
@option("--gap", type=float, default=0.0)
def frame_big(args, deadline):
    sock = socket.socket()
    if args.slow_read:
        # Set before connect(), so the window is small from the start.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.settimeout(deadline.left())
    try:
        sock.connect((args.host, args.port))
    except OSError as e:
        raise Mismatch("connect %s:%d: %s" % (args.host, args.port, e))
    payloads = [payload_of(n, args.size) for n in range(args.frames)]
    with sock:
        if args.slow_read:
            slow_echoes(sock, payloads, args, deadline)
        else:
            for n, p in enumerate(payloads):
                try:
                    sock.sendall(frame(p))
                except OSError as e:
                    raise Mismatch("frame %d of %d (%d bytes): the server "
                                   "stopped taking its bytes (%s): it must "
                                   "read the whole payload, in as many "
                                   "recv()s as it takes" % (
                                       n + 1, len(payloads), len(p), e))
                expect_frame(sock, p, deadline, "frame %d of %d (%d bytes): "
                             % (n + 1, len(payloads), len(p)))
    say("ok: %d frame(s) of %d bytes echoed%s" % (
        args.frames, args.size, " and read back slowly" if args.slow_read
        else ""))


def slow_echoes(sock, payloads, args, deadline):
    """Send every frame of payloads at once from a thread; wait --stall
    seconds, then read the echoes slowly and check them."""
    failed = []

    def writer():
        try:
            for p in payloads:
                sock.sendall(frame(p))
        except OSError as e:
            failed.append(e)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    time.sleep(args.stall)  # the server's send buffer fills meanwhile
    for n, p in enumerate(payloads):
        label = "frame %d of %d (%d bytes, sent together with the others), " \
            "read back slowly: " % (n + 1, len(payloads), len(p))
        try:
            head = recv_exactly(sock, 4, deadline)
        except Mismatch as e:
            raise Mismatch("%sno header; %s" % (label, e))
        if head != header(len(p)):
            raise Mismatch("%sexpected the header %s, received %s: %s. A "
                           "send() cut short by a signal sent only part of "
                           "the previous frame: send the rest" % (
                               label, escape(header(len(p))), escape(head),
                               explain_header(head, len(p), p)))
        try:
            data = read_slowly(sock, len(p), args.chunk, args.gap, deadline)
        except Mismatch as e:
            raise Mismatch("%s%s. A send() cut short (by a signal) sends "
                           "only part: send the rest" % (label, e))
        if data != p:
            i = first_difference(p, data)
            raise Mismatch("%sthe echo differs from byte %d on: expected %s,"
                           " received %s. A send() cut short (by a signal) "
                           "sent only part of it: send the rest" % (
                               label, i, escape(p[i:i + 24]),
                               escape(data[i:i + 24])))
    thread.join(deadline.left())
    if failed:
        raise Mismatch("sending the frames failed: %s" % failed[0])


# ---------------------------------------------------------------- frame-cut

@peer("frame-cut", "start a frame and stop in the middle while another "
      "client is served, then end the input: the server must close that "
      "connection; also end-of-file between frames and inside a header")
@option("--length", type=int, default=100)
@option("--send", type=int, default=10, help="payload bytes actually sent")
def frame_cut(args, deadline):
    cut = connect(args.host, args.port, deadline)
    with cut:
        cut.sendall(header(args.length) + payload_of(0, args.send))
        # While one client sits in the middle of a frame, others are served.
        with connect(args.host, args.port, deadline) as other:
            p = payload_of(1, 40)
            other.sendall(frame(p))
            expect_frame(other, p, deadline, "a second client, while the "
                         "first one is in the middle of a frame: ")
            # A clean end between two frames: the server closes too.
            other.shutdown(socket.SHUT_WR)
            expect_closed(other, deadline, "a client sent a whole frame, got "
                          "its echo and ended its output (end-of-file "
                          "between two frames): ")
        cut.shutdown(socket.SHUT_WR)
        expect_closed(cut, deadline, "a client sent a header saying %d "
                      "bytes, then %d bytes, then ended its output "
                      "(end-of-file in the middle of a frame): " % (
                          args.length, args.send))
    with connect(args.host, args.port, deadline) as half:
        half.sendall(b"\x00\x00")
        half.shutdown(socket.SHUT_WR)
        expect_closed(half, deadline, "a client sent 2 of the 4 bytes of a "
                      "header, then ended its output: ")
    say("ok: end-of-file in a frame and between frames closed the "
        "connection")


# ---------------------------------------------------------------- frame-huge

def rss_kib(pid):
    """The resident memory of process pid in KiB, from /proc/PID/status."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def stream_until_closed(sock, limit, deadline):
    """Send bytes (non-blocking) until the server closes the connection,
    limit bytes were taken, or the deadline; return (bytes taken, how it
    ended: "closed", "limit" or "stalled")."""
    chunk = b"\x55" * 65536
    sent = 0
    sock.setblocking(False)
    while sent < limit and not deadline.expired():
        r, w, _ = select.select([sock], [sock], [], deadline.left())
        if r:
            try:
                data = sock.recv(4096)
            except ConnectionResetError:
                return sent, "closed"
            if not data:
                return sent, "closed"
            raise Mismatch("after a refused length the server sent %s: it "
                           "must only close the connection" % escape(data))
        if w:
            try:
                sent += sock.send(chunk[:min(len(chunk), limit - sent)])
            except BlockingIOError:
                pass
            except (ConnectionResetError, BrokenPipeError):
                return sent, "closed"
    return sent, "limit" if sent >= limit else "stalled"


@peer("frame-huge", "send a header with an absurd length, then keep "
      "sending: the server must close the connection at once, not "
      "allocate the length nor take the bytes")
@option("--length", type=lambda s: int(s, 0), default=0xFFFFFFF0)
@option("--stream", type=int, default=32 << 20, help="bytes to try to "
        "send after the header (default 32 MiB)")
@option("--pid", type=int, help="the server's pid: its resident memory "
        "must not grow by more than --max-growth KiB")
@option("--max-growth", type=int, default=16384)
def frame_huge(args, deadline):
    before = rss_kib(args.pid) if args.pid else 0
    with connect(args.host, args.port, deadline) as sock:
        sock.sendall(header(args.length))
        sent, how = stream_until_closed(sock, args.stream, deadline)
    if how != "closed":
        raise Mismatch(
            "sent a header saying %d bytes (%s), then %d bytes of payload, "
            "and the server %s. It must check the length against its "
            "limit before allocating anything, print why, and close the "
            "connection" % (args.length, escape(header(args.length)), sent,
                            "kept taking them" if how == "limit" else
                            "neither took more nor closed the connection"))
    if args.pid:
        growth = rss_kib(args.pid) - before
        if growth > args.max_growth:
            raise Mismatch("after a header saying %d bytes, the server's "
                           "resident memory grew by %d KiB (VmRSS in "
                           "/proc/%d/status): it allocated the length it was "
                           "told" % (args.length, growth, args.pid))
    say("ok: a length of %d was refused; %d bytes were taken before the "
        "close" % (args.length, sent))


# ---------------------------------------------------------------- frame-server

@peer("frame-server", "a server for the client: read its frames and "
      "answer each with --answer: echo (in --piece-byte pieces, --gap "
      "apart), huge (an absurd length), cut (a frame cut short, then close)")
@option("--answer", choices=("echo", "huge", "cut"), default="echo")
@option("--piece", type=int, default=1, help="bytes per send() of an echo")
@option("--gap", type=float, default=0.002)
def frame_server(args, deadline):
    srv = listen(args.host, args.port)
    srv.settimeout(deadline.left())
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        raise Mismatch("no client connected within %.1f s" % deadline.seconds)
    srv.close()
    count = 0
    with nodelay(conn):
        while True:
            conn.settimeout(deadline.left())
            try:
                first = conn.recv(4)
            except socket.timeout:
                raise Mismatch("the client sent nothing more for %.1f s" %
                               deadline.seconds)
            if not first:
                break
            head = first + recv_exactly(conn, 4 - len(first), deadline)
            length = struct.unpack("!I", head)[0]
            if length > SANE_LENGTH:
                raise Mismatch(
                    "the client's frame %d begins %s, a length of %d bytes: "
                    "%s" % (count + 1, escape(head), length,
                            "that is the length in the host's byte order: "
                            "htonl() it" if struct.unpack("<I", head)[0]
                            <= SANE_LENGTH else "is the 4-byte length "
                            "header missing?"))
            payload = recv_exactly(conn, length, deadline)
            count += 1
            say("received frame %d: %s" % (count, escape(payload, 40)))
            if args.answer == "huge":
                conn.sendall(header(0xFFFFFFF0) + b"\x55" * 64)
                say("answered with a length of 4294967280")
                expect_closed(conn, deadline, "after an absurd length, ")
                return
            answer = frame(payload)
            if args.answer == "cut":
                answer = header(length + 10) + payload
            for i in range(0, len(answer), args.piece):
                conn.sendall(answer[i:i + args.piece])
                time.sleep(args.gap)
            if args.answer == "cut":
                say("answered with a frame cut short, and closed")
                return
    say("ok: %d frames answered" % count)
