"""Tests of the lesson 12 peers (peers_http_server.py): each is satisfied by
a small correct HTTP/1.1 server like the lesson's, and catches the broken
servers it exists to catch (no Content-Length, a body after HEAD, closing
after every response, dropping a pipelined request, ignoring Connection:
close, one connection at a time, no idle timeout).

Run: python3 -m unittest discover -s tests/harness -p 'test_http_server.py'
"""

import os
import socket
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harnesstest import Server, run_peer  # noqa: E402

PAGE = b"Hello, client!"


def http_handler(no_length=False, body_on_head=False, always_close=False,
                 drop_leftover=False, ignore_close=False, idle=None):
    """Return handle(conn): the lesson's server in Python, one connection;
    each switch breaks it the way its name says."""

    def respond(conn, status, method, keep):
        body = PAGE if status == 200 else b"%d error\n" % status
        head = b"HTTP/1.1 %d X\r\nContent-Type: text/html\r\n" % status
        if not no_length:
            head += b"Content-Length: %d\r\n" % len(body)
        head += b"Connection: %s\r\n\r\n" % (b"keep-alive" if keep else b"close")
        conn.sendall(head + (body if method != b"HEAD" or body_on_head else b""))

    def handle(conn):
        if idle is not None:
            conn.settimeout(idle)
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                try:
                    data = conn.recv(65536)
                except socket.timeout:
                    return
                if not data:
                    return
                buf += data
            end = buf.index(b"\r\n\r\n") + 4
            head, buf = buf[:end], buf[end:]
            if drop_leftover:
                buf = b""
            lines = head.split(b"\r\n")
            parts = lines[0].split(b" ")
            if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
                respond(conn, 400, b"GET", False)
                return
            method, target, version = parts
            conn_words = b",".join(l.split(b":", 1)[1] for l in lines[1:]
                                   if l.lower().startswith(b"connection:"))
            words = [w.strip().lower() for w in conn_words.split(b",")]
            keep = not always_close and (b"close" not in words or ignore_close)
            if version == b"HTTP/1.0":
                keep = keep and b"keep-alive" in words
            status = 200 if target.split(b"?")[0] == b"/" else 404
            if method not in (b"GET", b"HEAD"):
                status = 501
            respond(conn, status, method, keep)
            if not keep:
                conn.shutdown(socket.SHUT_WR)
                return

    return handle


class HttpPeerTest(unittest.TestCase):
    def serve(self, sequential=False, **breaks):
        server = Server(http_handler(**breaks), sequential=sequential)
        self.addCleanup(server.close)
        return server.port

    def test_talk_passes_and_catches_missing_length(self):
        ok, why = run_peer("http-talk", self.serve(), "--pieces", "3")
        self.assertTrue(ok, why)
        ok, why = run_peer("http-talk", self.serve(no_length=True))
        self.assertFalse(ok)
        self.assertIn("Content-Length", why)

    def test_talk_head_catches_a_body(self):
        head = ["--request", "HEAD / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n",
                "--quiet", "0.2"]
        ok, why = run_peer("http-talk", self.serve(), *head)
        self.assertTrue(ok, why)
        ok, why = run_peer("http-talk", self.serve(body_on_head=True), *head)
        self.assertFalse(ok)
        self.assertIn("more bytes", why)

    def test_talk_statuses_and_fresh_connections(self):
        ok, why = run_peer(
            "http-talk", self.serve(), "--fresh", "--closes",
            "--request", "GET /nope HTTP/1.1\\r\\nConnection: close\\r\\n\\r\\n",
            "--expect", "404",
            "--request", "garbage\\r\\n\\r\\n", "--expect", "400")
        self.assertTrue(ok, why)
        ok, why = run_peer("http-talk", self.serve(), "--request",
                           "GET /nope HTTP/1.1\\r\\n\\r\\n", "--expect", "200")
        self.assertFalse(ok)
        self.assertIn("expected status 200, got 404", why)

    def test_talk_pipelined_catches_dropped_leftover(self):
        two = ["--together",
               "--request", "GET / HTTP/1.1\\r\\n\\r\\n", "--expect", "200",
               "--request", "GET /x HTTP/1.1\\r\\n\\r\\n", "--expect", "404"]
        ok, why = run_peer("http-talk", self.serve(), *two)
        self.assertTrue(ok, why)
        ok, why = run_peer("http-talk", self.serve(drop_leftover=True), *two)
        self.assertFalse(ok)
        self.assertIn("request 2 of 2", why)

    def test_talk_closes_catches_ignored_close(self):
        close = ["--closes", "--request",
                 "GET / HTTP/1.1\\r\\nconnection: CLOSE\\r\\n\\r\\n"]
        ok, why = run_peer("http-talk", self.serve(), *close)
        self.assertTrue(ok, why)
        ok, why = run_peer("http-talk", self.serve(ignore_close=True), *close)
        self.assertFalse(ok)
        self.assertIn("Connection: close", why)

    def test_talk_idle_close(self):
        ok, why = run_peer("http-talk", self.serve(idle=0.3), "--idle-closes",
                           "--open-for", "0.25")
        self.assertTrue(ok, why)
        ok, why = run_peer("http-talk", self.serve(always_close=True),
                           "--idle-closes", "--open-for", "0.25")
        self.assertFalse(ok)
        self.assertIn("keep it open", why)
        ok, why = run_peer("http-talk", self.serve(), "--idle-closes",
                           "--timeout", "0.5")
        self.assertFalse(ok)
        self.assertIn("stayed open", why)

    def test_client_keeps_one_connection(self):
        ok, why = run_peer("http-client", self.serve())
        self.assertTrue(ok, why)
        ok, why = run_peer("http-client", self.serve(always_close=True))
        self.assertFalse(ok)
        self.assertIn("closed the connection", why)

    def test_crowd_catches_a_sequential_server(self):
        ok, why = run_peer("http-crowd", self.serve(), "--connections", "10")
        self.assertTrue(ok, why)
        ok, why = run_peer("http-crowd", self.serve(sequential=True),
                           "--connections", "3", "--timeout", "0.5")
        self.assertFalse(ok)
        self.assertIn("connection 2 of 3", why)

    def test_stall_expect_close(self):
        ok, why = run_peer("http-stall", self.serve(idle=0.3), "--expect-close")
        self.assertTrue(ok, why)
        ok, why = run_peer("http-stall", self.serve(), "--expect-close",
                           "--timeout", "0.5")
        self.assertFalse(ok)
        self.assertIn("kept the connection open", why)


if __name__ == "__main__":
    unittest.main()
