"""Tests of the TCP peers: each one is satisfied by a correct echo server
and catches the broken servers it exists to catch.

Run: python3 -m unittest discover -s tests/harness -p 'test_*.py'
"""

import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import peerlib  # noqa: E402
from harnesstest import (ServerFixture, drop_last_byte, echo,  # noqa: E402
                         echo_first_recv, echo_until_bye, never_answer,
                         run_peer, start_peer_process)


class EscapeTest(unittest.TestCase):
    def test_escapes_like_c(self):
        self.assertEqual(peerlib.escape(b'a\n\t"\\\x00\xff'),
                         r'"a\n\t\"\\\x00\xff"')

    def test_long_data_is_cut(self):
        self.assertIn("(100 bytes in all)", peerlib.escape(b"x" * 100, 10))


class ClientPeersTest(ServerFixture, unittest.TestCase):
    def test_echo_client_accepts_a_correct_echo(self):
        ok, why = run_peer("echo-client", self.server(echo), "--count", "3",
                           "--connections", "4")
        self.assertTrue(ok, why)

    def test_echo_client_shows_the_difference(self):
        ok, why = run_peer("echo-client", self.server(drop_last_byte),
                           "--message", "hello\\n")
        self.assertFalse(ok)
        self.assertIn('"hello\\n"', why)

    def test_echo_client_needs_concurrency_when_asked(self):
        port = self.server(echo, sequential=True)
        ok, why = run_peer("echo-client", port, "--connections", "2")
        self.assertFalse(ok)
        self.assertIn("connection 2 of 2", why)

    def test_expect_close(self):
        ok, why = run_peer("echo-client", self.server(echo_first_recv),
                           "--expect-close")
        self.assertTrue(ok, why)
        ok, why = run_peer("echo-client", self.server(echo), "--expect-close")
        self.assertFalse(ok)
        self.assertIn("stayed open", why)

    def test_bye(self):
        ok, why = run_peer("echo-client", self.server(echo_until_bye),
                           "--count", "2", "--bye")
        self.assertTrue(ok, why)

    def test_byte_sender_catches_one_recv_servers(self):
        ok, why = run_peer("byte-sender", self.server(echo))
        self.assertTrue(ok, why)
        ok, why = run_peer("byte-sender", self.server(echo_first_recv))
        self.assertFalse(ok)

    def test_byte_sender_lockstep_waits_for_each_echo(self):
        ok, why = run_peer("byte-sender", self.server(echo), "--lockstep")
        self.assertTrue(ok, why)
        ok, why = run_peer("byte-sender", self.server(echo_first_recv),
                           "--lockstep", "--timeout", "1")
        self.assertFalse(ok)

    def test_bulk_round_trip_and_a_silent_server(self):
        ok, why = run_peer("bulk", self.server(echo))
        self.assertTrue(ok, why)
        ok, why = run_peer("bulk", self.server(never_answer), "--size", "1000")
        self.assertFalse(ok)
        self.assertIn("got 0 of 1000 bytes", why)

    def test_churn(self):
        ok, why = run_peer("churn", self.server(echo), "--count", "50")
        self.assertTrue(ok, why)

    def test_probe_and_refused(self):
        self.assertTrue(run_peer("probe", self.server(echo))[0])
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        ok, why = run_peer("probe", port)
        self.assertFalse(ok)
        self.assertIn("refused", why)

    def test_reset_sends_rst(self):
        got = []

        def record(conn):
            try:
                got.append(conn.recv(100))
                conn.recv(100)
            except ConnectionResetError:
                got.append("reset")

        port = self.server(record)
        self.assertTrue(run_peer("reset", port)[0])


class ServerPeersTest(unittest.TestCase):
    """The server peers run as processes, the way the tests use them."""

    def start(self, *argv):
        return start_peer_process(self, *argv)

    def test_echo_server_in_fragments(self):
        p, port = self.start("echo-server", "--fragment", "2")
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.sendall(b"fragments\n")
            got = b""
            while len(got) < 10:
                got += s.recv(100)
        self.assertEqual(got, b"fragments\n")

    def test_record_server_reports_escaped_bytes(self):
        p, port = self.start("record-server", "--reply", "ok\\n")
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.sendall(b"tab\there\n")
            self.assertEqual(s.recv(10), b"ok\n")
        out, _ = p.communicate(timeout=5)
        self.assertIn(r'recorded "tab\there\n"', out)


if __name__ == "__main__":
    unittest.main()
