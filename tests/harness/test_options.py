"""Tests of the lesson 09 peers (peers_options.py): opt-bye tells an
orderly close from a reset, opt-kernel-bufs says what the kernel gives,
and opt-request-server sees Nagle's delay between the two writes of a
request, and not with TCP_NODELAY.

Run: python3 -m unittest discover -s tests/harness -p 'test_options.py'
"""

import os
import re
import socket
import struct
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import peers_options  # noqa: E402,F401
from harnesstest import ServerFixture, run_peer, start_peer_process  # noqa: E402


def echo_lines_then_close(linger0=False, close_at_bye=True):
    """A handler: answer each line; after bye close (with a reset when
    linger0), or keep the connection open when not close_at_bye."""
    def handle(conn):
        buf = b""
        while True:
            data = conn.recv(4096)
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                conn.sendall(line + b"\n")
                if line == b"bye":
                    if not close_at_bye:
                        time.sleep(3)
                        return
                    if linger0:
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0))
                    return
    return handle


class OptByeTest(ServerFixture, unittest.TestCase):
    def test_eof_passes_an_orderly_close(self):
        ok, why = run_peer("opt-bye", self.server(echo_lines_then_close()),
                           "--expect", "eof")
        self.assertTrue(ok, why)

    def test_reset_passes_linger0(self):
        ok, why = run_peer("opt-bye",
                           self.server(echo_lines_then_close(linger0=True)),
                           "--expect", "reset")
        self.assertTrue(ok, why)

    def test_reset_catches_an_orderly_close(self):
        ok, why = run_peer("opt-bye", self.server(echo_lines_then_close()),
                           "--expect", "reset")
        self.assertFalse(ok)
        self.assertIn("ECONNRESET", why)
        self.assertIn("end-of-file", why)

    def test_eof_catches_a_reset(self):
        ok, why = run_peer("opt-bye",
                           self.server(echo_lines_then_close(linger0=True)),
                           "--expect", "eof")
        self.assertFalse(ok)
        self.assertIn("a reset", why)

    def test_catches_a_server_that_stays_open(self):
        ok, why = run_peer("opt-bye", self.server(
            echo_lines_then_close(close_at_bye=False)), "--expect", "eof")
        self.assertFalse(ok)
        self.assertIn("stayed open", why)


class OptKernelBufsTest(unittest.TestCase):
    def test_says_what_getsockopt_says(self):
        out = subprocess.run([sys.executable, os.path.join(HERE, "peer.py"),
                              "opt-kernel-bufs", "--rcvbuf", "1000",
                              "--sndbuf", "20000"], capture_output=True,
                             text=True, timeout=10).stdout
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1000)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 20000)
            rcv = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            snd = s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        self.assertEqual(out, "SO_RCVBUF: asked 1000, kernel gives %d\n"
                              "SO_SNDBUF: asked 20000, kernel gives %d\n" % (
                                  rcv, snd))
        self.assertGreater(rcv, 1000)  # never what was asked: doubled, floored


class OptRequestServerTest(unittest.TestCase):
    def rounds(self, port, nodelay, n=5):
        """Make n write-write-read requests; return the median round trip."""
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(nodelay))
        times = []
        for i in range(1, n + 1):
            start = time.monotonic()
            s.sendall(b"round %d: " % i)
            s.sendall(b"ping\n")
            got = b""
            while not got.endswith(b"\n"):
                got += s.recv(100)
            self.assertEqual(got, b"round %d: ping\n" % i)
            times.append(time.monotonic() - start)
        s.close()
        return sorted(times)[n // 2]

    def test_sees_nagle_and_not_with_nodelay(self):
        p, port = start_peer_process(self, "opt-request-server",
                                     "--connections", "2", timeout=5)
        slow = self.rounds(port, nodelay=False)
        fast = self.rounds(port, nodelay=True)
        self.assertGreater(slow, 5 * fast)
        lines = [p.stdout.readline() for _ in range(2)]
        gaps = [float(re.search(r"median gap ([0-9.]+) ms", l).group(1))
                for l in lines]
        self.assertRegex(lines[0], r"^connection 1: 5 requests, ")
        self.assertGreater(gaps[0], 10)      # the delayed ACK: ~40 ms
        self.assertGreater(gaps[0], 5 * gaps[1])


if __name__ == "__main__":
    unittest.main()
