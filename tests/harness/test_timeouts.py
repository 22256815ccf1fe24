"""Tests of the timeout peers (peers_timeouts.py): the servers make a
client wait the way lesson 05 needs (the full backlog really stalls a
connect on this kernel), and idle-check passes a server that drops idle
clients and catches the servers that get it wrong.

Run: python3 -m unittest discover -s tests/harness -p 'test_*.py'
"""

import os
import socket
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harnesstest import ServerFixture, run_peer, start_peer_process  # noqa: E402

IDLE = 0.5  # the idle time of the servers below, short to keep tests fast


def echo_lines(conn, idle=None):
    """Echo until end of file or, with idle, until idle seconds of silence."""
    conn.settimeout(idle)
    while True:
        try:
            data = conn.recv(65536)
        except socket.timeout:
            return
        if not data:
            return
        conn.sendall(data)


def drops_idle(conn):
    """A correct server: drops a client after IDLE s of silence."""
    echo_lines(conn, IDLE)


def never_drops(conn):
    """A server without an idle timeout."""
    echo_lines(conn)


def drops_too_soon(conn):
    """Drops after half the idle time."""
    echo_lines(conn, IDLE / 2)


def drops_after_connect(conn):
    """Drops every client IDLE s after it connected, talking or not."""
    end = time.monotonic() + IDLE
    while time.monotonic() < end:
        conn.settimeout(end - time.monotonic())
        try:
            data = conn.recv(65536)
        except socket.timeout:
            return
        if not data:
            return
        conn.sendall(data)


class IdleCheckTest(ServerFixture, unittest.TestCase):
    def idle_check(self, handle, sequential=False):
        return run_peer("idle-check", self.server(handle, sequential),
                        "--idle", str(IDLE))

    def test_passes_a_server_that_drops_idle_clients(self):
        ok, why = self.idle_check(drops_idle)
        self.assertTrue(ok, why)

    def test_reports_the_idle_client(self):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                            "idle-check-%d" % os.getpid())
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        ok, why = run_peer("idle-check", self.server(drops_idle), "--idle",
                           str(IDLE), "--report", path)
        self.assertTrue(ok, why)
        with open(path) as f:
            self.assertRegex(f.read(), r"^127\.0\.0\.1:\d+\n$")

    def test_catches_a_server_without_idle_timeout(self):
        ok, why = self.idle_check(never_drops)
        self.assertFalse(ok)
        self.assertIn("still connected", why)

    def test_catches_a_server_that_drops_too_soon(self):
        ok, why = self.idle_check(drops_too_soon)
        self.assertFalse(ok)
        self.assertIn("after only", why)

    def test_catches_a_server_that_drops_active_clients(self):
        ok, why = self.idle_check(drops_after_connect)
        self.assertFalse(ok)
        self.assertIn("the active client was dropped", why)

    def test_catches_a_server_that_serves_one_client_at_a_time(self):
        ok, why = self.idle_check(drops_idle, sequential=True)
        self.assertFalse(ok)
        self.assertIn("first echo only after", why)


class WaitingServersTest(unittest.TestCase):
    """The server peers run as processes, the way the tests use them."""

    def start(self, *argv):
        p, port = start_peer_process(self, *argv)
        return p, ("127.0.0.1", port)

    def test_backlog_full_stalls_the_next_connect(self):
        # The reason the peer exists: on this kernel, a connect to it must
        # neither complete nor be refused within the client's timeout.
        p, addr = self.start("backlog-full")
        s = socket.socket()
        self.addCleanup(s.close)
        s.settimeout(0.5)
        started = time.monotonic()
        with self.assertRaises(socket.timeout):
            s.connect(addr)
        self.assertGreaterEqual(time.monotonic() - started, 0.45)

    def test_silent_server_reads_and_never_answers(self):
        p, addr = self.start("silent-server")
        with socket.create_connection(addr, timeout=2) as s:
            s.sendall(b"hello?\n")
            s.settimeout(0.3)
            with self.assertRaises(socket.timeout):
                s.recv(100)
        p.kill()
        out, _ = p.communicate(timeout=5)
        self.assertIn('received "hello?\\n"', out)

    def test_slow_server_answers_each_line_late(self):
        p, addr = self.start("slow-server", "--delay", "0.3")
        with socket.create_connection(addr, timeout=2) as s:
            started = time.monotonic()
            s.sendall(b"slowly\n")
            got = b""
            while not got.endswith(b"\n"):
                got += s.recv(100)
            self.assertEqual(got, b"slowly\n")
            self.assertGreaterEqual(time.monotonic() - started, 0.3)


if __name__ == "__main__":
    unittest.main()
