"""Tests of the lesson 14 peers (peers_event_loop.py): each is satisfied by
a one-thread event-loop echo server like the lesson's, and catches the
broken servers it exists to catch (a client limit near 1024 scaled down:
closing or ignoring clients past it; a sequential server; a server that
never closes idle clients).

Run: python3 -m unittest discover -s tests/harness -p 'test_event_loop.py'
"""

import os
import socket
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harnesstest import Server, echo_until_bye, run_peer  # noqa: E402
from test_select import SelectServer  # noqa: E402


def idle_after(seconds):
    """A threaded echo that closes a client silent for seconds."""
    def handle(conn):
        conn.settimeout(seconds)
        while True:
            try:
                data = conn.recv(4096)
            except socket.timeout:
                return
            if not data:
                return
            conn.sendall(data)
    return handle


class EventLoopPeersTest(unittest.TestCase):
    def loop_server(self, **switches):
        s = SelectServer(**switches)
        self.addCleanup(s.close)
        return s.port

    def threaded(self, handle, sequential=False):
        s = Server(handle, sequential)
        self.addCleanup(s.close)
        return s.port

    def test_crowd_passes_an_event_loop(self):
        ok, why = run_peer("loop-crowd", self.loop_server(),
                           "--connections", "60")
        self.assertTrue(ok, why)

    def test_crowd_catches_a_limit_that_closes(self):
        ok, why = run_peer("loop-crowd", self.loop_server(max_clients=20),
                           "--connections", "40", "--wait", "0.5")
        self.assertFalse(ok)
        self.assertIn("20 of 40", why)
        self.assertIn("closed by the server", why)

    def test_crowd_catches_a_limit_that_stops_accepting(self):
        port = self.loop_server(max_clients=20, at_limit="ignore")
        ok, why = run_peer("loop-crowd", port, "--connections", "40",
                           "--wait", "0.5")
        self.assertFalse(ok)
        self.assertIn("got no echo", why)
        self.assertIn("RLIMIT_NOFILE", why)

    def test_swarm_passes_an_event_loop(self):
        ok, why = run_peer("loop-swarm", self.loop_server(),
                           "--clients", "30", "--lines", "3")
        self.assertTrue(ok, why)

    def test_swarm_catches_clients_never_watched(self):
        port = self.loop_server(max_clients=10, at_limit="ignore")
        ok, why = run_peer("loop-swarm", port, "--clients", "20",
                           "--lines", "2")
        self.assertFalse(ok)
        self.assertIn("never comes", why)

    def test_swarm_catches_a_sequential_server(self):
        port = self.threaded(echo_until_bye, sequential=True)
        ok, why = run_peer("loop-swarm", port, "--clients", "5",
                           "--lines", "1")
        self.assertFalse(ok)

    def test_idle_alone_passes_a_server_with_a_timer(self):
        ok, why = run_peer("loop-idle-alone", self.threaded(idle_after(0.3)),
                           "--idle", "0.3")
        self.assertTrue(ok, why)

    def test_idle_alone_catches_a_server_without_one(self):
        ok, why = run_peer("loop-idle-alone", self.threaded(idle_after(5)),
                           "--idle", "0.3", "--slack", "0.3")
        self.assertFalse(ok)
        self.assertIn("only the wait's timeout", why)

    def test_idle_alone_catches_a_server_too_eager(self):
        ok, why = run_peer("loop-idle-alone", self.threaded(idle_after(0.05)),
                           "--idle", "0.5")
        self.assertFalse(ok)
        self.assertIn("after only", why)


if __name__ == "__main__":
    unittest.main()
