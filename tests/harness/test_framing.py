"""Tests of the lesson 08 peers (peers_framing.py): each is satisfied by a
framed echo server like the lesson's, and catches the broken servers and
clients it exists to catch (one recv() per part, no htonl(), no limit,
a frame cut short taken for a whole one, a client without htonl()).

Run: python3 -m unittest discover -s tests/harness -p 'test_framing.py'
"""

import os
import socket
import struct
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import peerlib  # noqa: E402
import peers_framing  # noqa: E402,F401  (registers the peers)
from harnesstest import ServerFixture, run_peer, start_peer_process  # noqa: E402

MAX_FRAME = 1024 * 1024 + 1024


def recv_all(conn, length):
    """The right way: receive until length bytes or end-of-file."""
    data = b""
    while len(data) < length:
        chunk = conn.recv(length - len(data))
        if not chunk:
            break
        data += chunk
    return data


def framed_echo(conn, recv=recv_all, order="!", limit=MAX_FRAME,
                echo_cut=False):
    """A framed echo server's session. The switches break it: recv (one
    recv() per part), order ("<": no htonl), limit (None: any length),
    echo_cut (a frame cut short is echoed as it is)."""
    while True:
        head = recv(conn, 4)
        if len(head) < 4:
            return
        (length,) = struct.unpack("!I", head)
        if limit is not None and length > limit:
            return
        if limit is None:
            # Takes the payload it was promised, however big.
            while conn.recv(65536):
                pass
            return
        payload = recv(conn, length)
        if len(payload) < length and not echo_cut:
            return
        conn.sendall(struct.pack(order + "I", len(payload)) + payload)
        if len(payload) < length:
            time.sleep(3)  # and then keeps the connection open


def one_recv(conn, length):
    """The recv_all pitfall: one recv() is taken for the whole part."""
    return conn.recv(length)


class FramingPeersTest(ServerFixture, unittest.TestCase):

    def check(self, name, handle, *argv, ok=True, says=None):
        port = self.server(handle)
        passed, why = run_peer(name, port, *argv)
        self.assertEqual(passed, ok, why)
        if says:
            self.assertRegex(why, says)

    def test_frame_echo_passes_a_framed_echo(self):
        self.check("frame-echo", framed_echo)

    def test_frame_echo_catches_no_htonl(self):
        self.check("frame-echo", lambda c: framed_echo(c, order="<"),
                   ok=False, says="htonl")

    def test_frame_echo_catches_a_missing_header(self):
        def raw(conn):
            head = recv_all(conn, 4)
            conn.sendall(recv_all(conn, struct.unpack("!I", head)[0]))
        self.check("frame-echo", raw, "--frame", "hello", ok=False,
                   says="length first")

    def test_frame_dribble(self):
        self.check("frame-dribble", framed_echo)
        self.check("frame-dribble", lambda c: framed_echo(c, recv=one_recv),
                   ok=False, says="recv\\(\\) again")

    def test_frame_pair(self):
        self.check("frame-pair", framed_echo)

        def one_frame_per_recv(conn):
            while True:
                data = conn.recv(65536)
                if len(data) < 4:
                    return
                length = struct.unpack("!I", data[:4])[0]
                conn.sendall(data[:4 + length])
        self.check("frame-pair", one_frame_per_recv, ok=False)

    def test_frame_big(self):
        self.check("frame-big", framed_echo)
        self.check("frame-big", framed_echo, "--slow-read", "--gap", "0.001")

    def test_frame_big_catches_a_short_echo(self):
        def short(conn):
            head = recv_all(conn, 4)
            payload = recv_all(conn, struct.unpack("!I", head)[0])
            conn.sendall(head + payload[:len(payload) // 2])
        self.check("frame-big", short, "--slow-read", "--gap", "0.001",
                   ok=False, says="send the rest")

    def test_frame_cut(self):
        self.check("frame-cut", framed_echo)
        self.check("frame-cut", lambda c: framed_echo(c, echo_cut=True),
                   ok=False)

    def test_frame_cut_catches_a_server_that_never_closes(self):
        def holds(conn):
            framed_echo(conn)
            time.sleep(3)
        self.check("frame-cut", holds, ok=False, says="stayed open")

    def test_frame_huge(self):
        self.check("frame-huge", framed_echo, "--pid", str(os.getpid()),
                   "--max-growth", "1000000")
        self.check("frame-huge", lambda c: framed_echo(c, limit=None),
                   "--length", "0x10000000", "--stream", "8000000",
                   ok=False, says="kept taking")

    def test_frame_server_answers_in_pieces(self):
        p, port = start_peer_process(self, "frame-server", "--piece", "1",
                                     timeout=20)
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            for m in (b"hello", b"", b"x" * 300):
                s.sendall(struct.pack("!I", len(m)) + m)
                head = peerlib.recv_exactly(s, 4, peerlib.Deadline(3))
                self.assertEqual(head, struct.pack("!I", len(m)))
                # 300 pieces 2 ms apart: a busy machine stretches each
                # sleep, so the bound is wide.
                self.assertEqual(peerlib.recv_exactly(
                    s, len(m), peerlib.Deadline(20)), m)
        self.assertEqual(p.wait(timeout=10), 0)

    def test_frame_server_catches_no_htonl(self):
        p, port = start_peer_process(self, "frame-server")
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.sendall(struct.pack("<I", 5) + b"hello")
            try:
                self.assertEqual(s.recv(16), b"")
            except ConnectionResetError:
                pass
        self.assertEqual(p.wait(timeout=5), 1)
        self.assertIn("htonl", p.stdout.read())

    def test_frame_server_huge_and_cut(self):
        p, port = start_peer_process(self, "frame-server", "--answer", "huge")
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.sendall(struct.pack("!I", 2) + b"hi")
            self.assertEqual(peerlib.recv_exactly(s, 4, peerlib.Deadline(3)),
                             b"\xff\xff\xff\xf0")
        self.assertEqual(p.wait(timeout=5), 0)
        p, port = start_peer_process(self, "frame-server", "--answer", "cut")
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.sendall(struct.pack("!I", 2) + b"hi")
            self.assertEqual(recv_all(s, 100), struct.pack("!I", 12) + b"hi")
        self.assertEqual(p.wait(timeout=5), 0)


if __name__ == "__main__":
    unittest.main()
