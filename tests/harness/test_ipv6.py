"""Tests of the IPv6 peers (peers_ipv6.py) and of peerlib.listen() on an
IPv6 address: ipv6-split really refuses, stalls and echoes on the two
addresses of one port, and ipv6-refused passes only where nothing
listens. Skipped where this machine has no ::1.

Run: python3 -m unittest discover -s tests/harness -p 'test_*.py'
"""

import io
import contextlib
import os
import socket
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import peerlib  # noqa: E402
from harnesstest import run_peer  # noqa: E402


def has_ipv6_loopback():
    """Can ::1 be bound here?"""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


NO_V6 = not has_ipv6_loopback()
WHY = "this machine has no IPv6 loopback (::1)"


def start_split(test, *argv):
    """Start ipv6-split as a process (killed at cleanup); return (process,
    port) once it is listening."""
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "peer.py"),
                          "ipv6-split", "--timeout", "5"] + list(argv),
                         stdout=subprocess.PIPE, text=True)
    test.addCleanup(p.stdout.close)
    test.addCleanup(p.wait)
    test.addCleanup(p.kill)
    while True:
        line = p.stdout.readline()
        if not line or line.startswith("listening on"):
            break
    test.assertRegex(line, r"^listening on .+:\d+$")
    return p, int(line.rsplit(":", 1)[1])


@unittest.skipIf(NO_V6, WHY)
class ListenTest(unittest.TestCase):
    def test_listen_on_ipv6_announces_address_and_port(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            sock = peerlib.listen("::1")
        self.addCleanup(sock.close)
        self.assertEqual(sock.family, socket.AF_INET6)
        self.assertRegex(out.getvalue(), r"^listening on ::1:\d+\n$")

    def test_listen_on_ipv4_is_unchanged(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            sock = peerlib.listen("127.0.0.1")
        self.addCleanup(sock.close)
        self.assertEqual(sock.family, socket.AF_INET)
        self.assertRegex(out.getvalue(), r"^listening on 127\.0\.0\.1:\d+\n$")


@unittest.skipIf(NO_V6, WHY)
class SplitTest(unittest.TestCase):
    def test_first_refuses_second_echoes(self):
        p, port = start_split(self, "--first", "::1", "--first-mode",
                              "refuse", "--second", "127.0.0.1")
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("::1", port), timeout=2).close()
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"hello\n")
            self.assertEqual(s.recv(100), b"hello\n")
        out, _ = p.communicate(timeout=5)
        self.assertEqual(p.returncode, 0)
        self.assertIn('received "hello\\n" from 127.0.0.1', out)

    def test_first_stalls(self):
        p, port = start_split(self, "--first", "127.0.0.1", "--first-mode",
                              "stall", "--second", "::1")
        s = socket.socket(socket.AF_INET)
        self.addCleanup(s.close)
        s.settimeout(0.5)
        started = time.monotonic()
        with self.assertRaises(socket.timeout):
            s.connect(("127.0.0.1", port))
        self.assertGreaterEqual(time.monotonic() - started, 0.45)
        with socket.create_connection(("::1", port), timeout=2) as c:
            c.sendall(b"six\n")
            self.assertEqual(c.recv(100), b"six\n")

    def test_both_refuse(self):
        p, port = start_split(self, "--first-mode", "refuse",
                              "--second-mode", "refuse")
        for host in ("::1", "127.0.0.1"):
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection((host, port), timeout=2).close()


@unittest.skipIf(NO_V6, WHY)
class RefusedTest(unittest.TestCase):
    def test_passes_where_nothing_listens(self):
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))  # bound, never listening: refuses
            ok, why = run_peer("ipv6-refused", s.getsockname()[1],
                               "--host", "::1")
        self.assertTrue(ok, why)

    def test_catches_a_listener(self):
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
            s.listen(4)
            ok, why = run_peer("ipv6-refused", s.getsockname()[1],
                               "--host", "::1")
        self.assertFalse(ok)
        self.assertIn("connected; expected the connection to be refused", why)


if __name__ == "__main__":
    unittest.main()
