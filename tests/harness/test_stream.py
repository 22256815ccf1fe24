"""Tests of the lesson 02 and 03 peers (peers_stream.py): each is satisfied
by a correct echo server and catches the broken servers it exists to catch
(a fixed line buffer, one recv per message, a sequential server, clients'
bytes crossed, a server that waits for newlines).

Run: python3 -m unittest discover -s tests/harness -p 'test_*.py'
"""

import os
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import peers_stream  # noqa: E402
from harnesstest import ServerFixture, echo, echo_until_bye, run_peer  # noqa: E402


def lossy_line_buffer(conn):
    """Echo a line when its newline comes, from a 1 KiB line buffer that
    drops what does not fit."""
    line = b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        for b in data:
            if len(line) < 1024:
                line += bytes([b])
            if b == 10:
                conn.sendall(line)
                line = b""


def echo_first_recv(conn):
    """Lesson 01's simplification: one recv, echoed, then close."""
    conn.sendall(conn.recv(1024))


def wait_for_newline(conn):
    """Echo whole lines only: a client that sends none waits for ever."""
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            conn.sendall(line + b"\n")


class Crossed:
    """A server whose threads share their state: every echo goes to the
    connection that arrived last, like a static buffer or a reused struct
    in C."""

    def __init__(self):
        self.last = None

    def __call__(self, conn):
        self.last = conn
        while True:
            data = conn.recv(65536)
            if not data:
                return
            self.last.sendall(data)


class StreamPeersTest(ServerFixture, unittest.TestCase):
    def test_line_of_is_one_line(self):
        data = peers_stream.line_of(5000)
        self.assertEqual(len(data), 5000)
        self.assertEqual(data.count(b"\n"), 1)
        self.assertTrue(data.endswith(b"\n"))

    def test_long_line_round_trip(self):
        ok, why = run_peer("long-line", self.server(echo), "--then",
                           "more\\n")
        self.assertTrue(ok, why)

    def test_long_line_then_bye(self):
        ok, why = run_peer("long-line", self.server(echo_until_bye),
                           "--size", "100000", "--bye")
        self.assertTrue(ok, why)

    def test_long_line_catches_a_fixed_line_buffer(self):
        ok, why = run_peer("long-line", self.server(lossy_line_buffer),
                           "--size", "100000")
        self.assertFalse(ok)
        self.assertIn("sent one line of 100000 bytes", why)

    def test_long_line_catches_one_recv(self):
        ok, why = run_peer("long-line", self.server(echo_first_recv),
                           "--size", "100000")
        self.assertFalse(ok)

    def test_swarm_round_trip(self):
        ok, why = run_peer("swarm", self.server(echo_until_bye), "--clients",
                           "10", "--count", "3", "--size", "20000", "--bye")
        self.assertTrue(ok, why)

    def test_swarm_catches_a_sequential_server(self):
        ok, why = run_peer("swarm", self.server(echo, sequential=True),
                           "--clients", "3", "--count", "1")
        self.assertFalse(ok)
        self.assertRegex(why, "one client at a time|did not get their echoes")

    def test_swarm_catches_crossed_clients(self):
        ok, why = run_peer("swarm", self.server(Crossed()), "--clients", "10",
                           "--count", "2")
        self.assertFalse(ok)
        self.assertIn("did not get their echoes", why)

    def test_vanish_makes_the_servers_send_fail(self):
        errors = []
        done = threading.Event()

        def echo_and_record(conn):
            try:
                while True:
                    data = conn.recv(1024)
                    if not data:
                        return
                    conn.sendall(data)
            except OSError as e:
                errors.append(type(e).__name__)
            finally:
                done.set()

        port = self.server(echo_and_record, sequential=True)
        ok, why = run_peer("vanish", port, "--count", "1")
        self.assertTrue(ok, why)
        done.wait(2)
        # EPIPE is the error that comes with SIGPIPE (Python ignores the
        # signal and raises BrokenPipeError instead).
        self.assertEqual(errors, ["BrokenPipeError"])

    def test_plain_client_round_trip(self):
        ok, why = run_peer("plain-client", self.server(echo))
        self.assertTrue(ok, why)

    def test_plain_client_catches_a_server_waiting_for_newlines(self):
        ok, why = run_peer("plain-client", self.server(wait_for_newline))
        self.assertFalse(ok)
        self.assertIn('sent "hello" (no newline', why)

    def test_plain_client_catches_one_recv(self):
        ok, why = run_peer("plain-client", self.server(echo_first_recv))
        self.assertFalse(ok)
        self.assertIn("how are you?", why)


if __name__ == "__main__":
    unittest.main()
