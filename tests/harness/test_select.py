"""Tests of the lesson 06 peers (peers_select.py): each is satisfied by a
one-thread select() echo server like the lesson's, and catches the broken
servers it exists to catch (shared line state, no output cap, sequential,
forgetting the echo at end-of-file, leaving the crowd unanswered).

Run: python3 -m unittest discover -s tests/harness -p 'test_*.py'
"""

import collections
import os
import selectors
import socket
import sys
import threading
import time
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import peerlib  # noqa: E402
import peers_select  # noqa: E402
from harnesstest import Server, echo, echo_until_bye, run_peer, start_peer_process  # noqa: E402


class SelectServer:
    """The lesson's server in Python: one thread, non-blocking sockets, one
    selector over the listener and the clients, an output buffer per
    client. The switches break it the ways students do:
      out_cap=None        reads for ever, however much echo piles up
      read_when_full      reads even when its buffer is full, with room
                          for 0 bytes: recv() returns b"", "end-of-file"
      shared_watch        one "bye" line watch for all clients
      flush_at_eof=False  drops a client at end-of-file, echo unsent
      max_clients, at_limit="close"|"ignore"  what happens when full
    """

    def __init__(self, out_cap=16384, shared_watch=False, flush_at_eof=True,
                 max_clients=1000, at_limit="close", read_when_full=False):
        self.out_cap, self.shared_watch = out_cap, shared_watch
        self.read_when_full = read_when_full
        self.flush_at_eof, self.max_clients = flush_at_eof, max_clients
        self.at_limit = at_limit
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ)
        self.clients = {}  # socket -> its state
        self.shared = {"head": b""}
        self.endings = []  # "eof", "bye" or "reset", one per client gone
        self.stopping = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stopping:
            for key, mask in self.sel.select(0.05):  # 0.05: to see stopping
                if key.fileobj is self.listener:
                    self.accept()
                elif key.fileobj in self.clients:
                    self.serve(key.fileobj, mask)
            for sock, c in list(self.clients.items()):
                self.sel.modify(sock, self.interest(c))
        self.sel.close()

    def interest(self, c):
        events = 0
        room = self.out_cap is None or c["queued"] < self.out_cap or \
            self.read_when_full
        if not c["closing"] and room:
            events |= selectors.EVENT_READ
        if c["out"]:
            events |= selectors.EVENT_WRITE
        return events or selectors.EVENT_READ

    def accept(self):
        if len(self.clients) >= self.max_clients and self.at_limit == "ignore":
            return
        try:
            sock, _ = self.listener.accept()
        except BlockingIOError:
            return
        if len(self.clients) >= self.max_clients:
            sock.close()
            return
        sock.setblocking(False)
        # out: the echo not sent yet, in chunks (cheap to take from the
        # front however much piles up); queued: its length.
        self.clients[sock] = {"out": collections.deque(), "queued": 0,
                              "head": b"", "closing": False}
        self.sel.register(sock, selectors.EVENT_READ)

    def watch(self, c, data):
        """Return how much of data to echo, and whether it ended in bye."""
        state = self.shared if self.shared_watch else c
        start = 0
        while True:
            i = data.find(b"\n", start)
            if i < 0:
                state["head"] = (state["head"] + data[start:start + 5])[:5]
                return len(data), False
            line = (state["head"] + data[start:i])[:5]
            state["head"] = b""
            if line in (b"bye", b"bye\r"):
                return i + 1, True
            start = i + 1

    def serve(self, sock, mask):
        c = self.clients[sock]
        try:
            if mask & selectors.EVENT_READ:
                size = 65536 if self.out_cap is None else \
                    max(self.out_cap - c["queued"], 0)
                data = sock.recv(size)
                if not data:
                    c["closing"] = "eof"
                    if not self.flush_at_eof:
                        c["out"].clear()
                else:
                    n, bye = self.watch(c, data)
                    c["out"].append(data[:n])
                    c["queued"] += n
                    c["closing"] = c["closing"] or (bye and "bye")
            if mask & selectors.EVENT_WRITE and c["out"]:
                n = sock.send(c["out"][0])
                c["out"][0] = c["out"][0][n:]
                c["queued"] -= n
                if not c["out"][0]:
                    c["out"].popleft()
        except BlockingIOError:
            pass
        except OSError:
            c["closing"] = "reset"
            c["out"].clear()
        if c["closing"] and not c["out"]:
            self.drop(sock, c["closing"])

    def drop(self, sock, why):
        self.endings.append(why)
        self.sel.unregister(sock)
        del self.clients[sock]
        sock.close()

    def wait_empty(self, seconds=2):
        """Wait until every client is gone; returns whether they were."""
        end = time.monotonic() + seconds
        while self.clients and time.monotonic() < end:
            time.sleep(0.01)  # polling, with a deadline
        return not self.clients

    def close(self):
        self.stopping = True
        self.thread.join(2)
        for sock in list(self.clients):
            sock.close()
        self.listener.close()


class SelectPeersTest(unittest.TestCase):
    def server(self, **switches):
        s = SelectServer(**switches)
        self.addCleanup(s.close)
        return s

    def threaded(self, handle, sequential=False):
        s = Server(handle, sequential)
        self.addCleanup(s.close)
        return s.port

    def test_interleave_passes_a_select_server(self):
        ok, why = run_peer("interleave", self.server().port,
                           "--connections", "20")
        self.assertTrue(ok, why)

    def test_interleave_catches_one_watch_for_all(self):
        ok, why = run_peer("interleave", self.server(shared_watch=True).port,
                           "--connections", "8")
        self.assertFalse(ok)
        self.assertIn("round 4", why)

    def test_interleave_catches_a_sequential_server(self):
        port = self.threaded(echo_until_bye, sequential=True)
        ok, why = run_peer("interleave", port, "--connections", "3",
                           "--timeout", "0.5")
        self.assertFalse(ok)
        self.assertIn("connection 2 of 3", why)

    def test_bye_trap_is_harmless_for_each_client(self):
        lines = [b"".join(peers_select.round_pieces(c, 3)) for c in range(4)]
        self.assertTrue(all(b"\nbye\n" not in b"\n" + l for l in lines))
        firsts = b"".join(peers_select.round_pieces(c, 3)[0] for c in range(4))
        self.assertEqual(firsts, b"bye\n")

    def test_hold_many(self):
        ok, why = run_peer("hold-many", self.server().port,
                           "--connections", "5", "--hold", "0")
        self.assertTrue(ok, why)
        port = self.threaded(echo, sequential=True)
        ok, why = run_peer("hold-many", port, "--connections", "2",
                           "--hold", "0", "--timeout", "0.5")
        self.assertFalse(ok)
        self.assertIn("connection 2 of 2", why)

    def test_flood_passes_a_capped_select_server(self):
        # The Python server is slow: give the flood time to meet its cap.
        ok, why = run_peer("flood", self.server().port, "--others", "3",
                           "--timeout", "8")
        self.assertTrue(ok, why)

    def test_flood_passes_a_thread_per_client(self):
        ok, why = run_peer("flood", self.threaded(echo), "--others", "3",
                           "--timeout", "8")
        self.assertTrue(ok, why)

    def test_flood_catches_a_server_without_a_cap(self):
        ok, why = run_peer("flood", self.server(out_cap=None).port,
                           "--limit", str(16 << 20), "--timeout", "8")
        self.assertFalse(ok)
        self.assertIn("without reading any echo", why)

    def test_flood_catches_a_server_that_drops_a_slow_reader(self):
        ok, why = run_peer("flood", self.server(read_when_full=True).port,
                           "--timeout", "8")
        self.assertFalse(ok)
        self.assertIn("slowly", why)

    def test_flood_catches_a_server_stuck_on_the_flooder(self):
        port = self.threaded(echo, sequential=True)
        ok, why = run_peer("flood", port, "--others", "1", "--stall", "0.2",
                           "--timeout", "1")
        self.assertFalse(ok)
        self.assertIn("client 1 of 1", why)

    def test_disappear_ends_connections_every_way(self):
        s = self.server()
        ok, why = run_peer("disappear", s.port, "--connections", "12")
        self.assertTrue(ok, why)
        self.assertTrue(s.wait_empty(), "clients left: %d" % len(s.clients))
        self.assertIn("reset", s.endings)
        self.assertIn("eof", s.endings)

    def test_disappear_catches_an_echo_lost_at_eof(self):
        s = self.server(flush_at_eof=False)
        ok, why = run_peer("disappear", s.port, "--connections", "6")
        self.assertFalse(ok)
        self.assertIn("last words", why)

    def test_crowd_passes_a_server_that_closes_past_its_limit(self):
        s = self.server(max_clients=20)
        ok, why = run_peer("crowd", s.port, "--connections", "30",
                           "--min-served", "20", "--wait", "0.5")
        self.assertTrue(ok, why)

    def test_crowd_catches_a_server_that_leaves_them_waiting(self):
        s = self.server(max_clients=20, at_limit="ignore")
        ok, why = run_peer("crowd", s.port, "--connections", "25",
                           "--min-served", "20", "--wait", "0.3")
        self.assertFalse(ok)
        self.assertIn("connection 21 of 25", why)
        self.assertIn("neither echoed nor closed", why)

    def test_crowd_catches_a_server_that_serves_too_few(self):
        s = self.server(max_clients=10)
        ok, why = run_peer("crowd", s.port, "--connections", "15",
                           "--min-served", "12", "--wait", "0.5")
        self.assertFalse(ok)
        self.assertIn("only 10 of 15", why)

    def test_fd_limit_that_cannot_be_raised_is_reported(self):
        fake = mock.Mock(RLIMIT_NOFILE=7, RLIM_INFINITY=-1)
        fake.getrlimit.return_value = (1024, 1024)
        fake.setrlimit.side_effect = ValueError("not allowed")
        with mock.patch.object(peers_select, "resource", fake):
            with self.assertRaises(peerlib.Mismatch) as caught:
                peers_select.raise_fd_limit(2000)
        self.assertIn("hard limit is 1024", str(caught.exception))


class PushServerTest(unittest.TestCase):
    """push-server runs as a process, the way the tests use it."""

    def test_greets_pushes_echoes_and_answers_eof(self):
        p, port = start_peer_process(self, "push-server", "--greet", "hi\\n",
                                     "--later", "later\\n", "--gap", "0.2",
                                     "--trailer", "last\\n")
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            self.assertEqual(peerlib.recv_exactly(
                s, 3, peerlib.Deadline(3)), b"hi\n")
            started = time.monotonic()
            self.assertEqual(peerlib.recv_exactly(
                s, 6, peerlib.Deadline(3)), b"later\n")
            self.assertGreater(time.monotonic() - started, 0.1)
            s.sendall(b"typed\n")
            self.assertEqual(peerlib.recv_exactly(
                s, 6, peerlib.Deadline(3)), b"typed\n")
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(peerlib.recv_exactly(
                s, 5, peerlib.Deadline(3)), b"last\n")
            self.assertEqual(s.recv(10), b"")
        out, _ = p.communicate(timeout=5)
        self.assertIn('received "typed\\n"', out)
        self.assertIn("end-of-file from the client", out)
        self.assertEqual(p.returncode, 0)


if __name__ == "__main__":
    unittest.main()
