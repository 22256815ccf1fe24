"""Tests of the HTTP peers (peers_http_get.py): http-request-check passes
a proper request and names what is wrong with the usual broken ones, and
http-origin sends what its options say, checked with Python's own HTTP
client (http.client) where it applies and with raw bytes where it does not.

Run: python3 -m unittest discover -s tests/harness -p 'test_http_get.py'
"""

import http.client
import os
import socket
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harnesstest import start_peer_process  # noqa: E402
import peers_http_get  # noqa: E402


def exchange(port, request, read_all=True, timeout=3):
    """Send request bytes to 127.0.0.1:port and half-close; return what
    comes back until the server closes (or, with read_all False, the
    first recv)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)  # as a client that is done, or gave up
        got = b""
        while True:
            data = s.recv(65536)
            if not data:
                return got
            got += data
            if not read_all:
                return got


def good_request(port, path="/p"):
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
            "\r\n" % (path, port)).encode()


class RequestCheckTest(unittest.TestCase):
    def check(self, make_request):
        """Run http-request-check, send it make_request(port); return
        (exit status, its output, what it answered)."""
        p, port = start_peer_process(self, "http-request-check", "--path",
                                     "/p")
        answer = exchange(port, make_request(port))
        out = p.stdout.read()
        return p.wait(), out, answer

    def test_passes_a_proper_request(self):
        rc, out, answer = self.check(good_request)
        self.assertEqual(rc, 0, out)
        self.assertTrue(answer.endswith(b"\r\n\r\nrequest ok\n"), answer)

    def test_no_host_is_answered_400_and_reported(self):
        rc, out, answer = self.check(
            lambda port: b"GET /p HTTP/1.1\r\nConnection: close\r\n\r\n")
        self.assertEqual(rc, 1)
        self.assertIn("no Host header", out)
        self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), answer)

    def test_host_without_port(self):
        rc, out, _ = self.check(lambda port: b"GET /p HTTP/1.1\r\nHost: "
                                b"127.0.0.1\r\nConnection: close\r\n\r\n")
        self.assertEqual(rc, 1)
        self.assertIn("Host is '127.0.0.1'", out)

    def test_no_connection_close(self):
        rc, out, _ = self.check(lambda port: good_request(port).replace(
            b"Connection: close\r\n", b""))
        self.assertEqual(rc, 1)
        self.assertIn("Connection: close", out)

    def test_bare_newlines(self):
        rc, out, _ = self.check(
            lambda port: good_request(port).replace(b"\r\n", b"\n"))
        self.assertEqual(rc, 1)
        self.assertIn("\\r\\n", out)

    def test_wrong_path_and_version(self):
        rc, out, _ = self.check(lambda port: good_request(port).replace(
            b"GET /p HTTP/1.1", b"GET /q HTTP/1.0"))
        self.assertEqual(rc, 1)
        self.assertIn("request line", out)

    def test_nothing_sent(self):
        rc, out, _ = self.check(lambda port: b"")
        self.assertEqual(rc, 1)
        self.assertIn("no request at all", out)


class OriginTest(unittest.TestCase):
    def origin(self, *argv):
        _, port = start_peer_process(self, "http-origin", *argv)
        return port

    def get(self, port):
        """Fetch / with http.client; return (status, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
        self.addCleanup(conn.close)
        conn.request("GET", "/")
        r = conn.getresponse()
        return r.status, r.read()

    def test_length_body(self):
        status, body = self.get(self.origin("--body", "a\\x00b\\n"))
        self.assertEqual((status, body), (200, b"a\x00b\n"))

    def test_chunked_with_extensions_and_trailers_decodes(self):
        port = self.origin("--framing", "chunked", "--body-size", "9000",
                           "--chunks", "1,5,300,4096", "--extensions",
                           "--trailers")
        self.assertEqual(self.get(port), (200, peers_http_get.filler(9000)))
        raw = exchange(port, good_request(port))
        self.assertIn(b"\r\n1;piece=0;", raw)
        self.assertIn(b"\r\nX-Checksum: 12345\r\n", raw)

    def test_chunked_in_tiny_pieces(self):
        port = self.origin("--framing", "chunked", "--body-size", "200",
                           "--piece", "3", "--gap", "0.0002")
        self.assertEqual(self.get(port), (200, peers_http_get.filler(200)))

    def test_eof_body_has_no_length(self):
        port = self.origin("--framing", "eof", "--body", "to the end")
        raw = exchange(port, good_request(port))
        self.assertNotIn(b"Content-Length", raw)
        self.assertTrue(raw.endswith(b"\r\n\r\nto the end"), raw)

    def test_status_404(self):
        port = self.origin("--status", "404 Not Found", "--body", "gone")
        self.assertEqual(self.get(port), (404, b"gone"))

    def test_keep_open_does_not_close(self):
        port = self.origin("--keep-open", "--body", "x")
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.sendall(good_request(port))
            got = b""
            while not got.endswith(b"\r\n\r\nx"):
                got += s.recv(4096)
            s.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                s.recv(4096)

    def test_extra_short_and_header_line(self):
        port = self.origin("--body", "abc", "--extra", "XYZ", "--short", "2",
                           "--header-line", "20000")
        raw = exchange(port, good_request(port))
        self.assertIn(b"\r\nContent-Length: 5\r\n", raw)
        self.assertTrue(raw.endswith(b"\r\n\r\nabcXYZ"), raw[-40:])
        line = [l for l in raw.split(b"\r\n") if l.startswith(b"X-Filler")]
        self.assertEqual(len(line[0]), 20000)

    def test_raw(self):
        port = self.origin("--raw", "SSH-2.0-x\\r\\n")
        self.assertEqual(exchange(port, good_request(port)), b"SSH-2.0-x\r\n")

    def test_no_host_gets_400(self):
        port = self.origin()
        raw = exchange(port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 400 "), raw)

    def test_slow_pieces_take_time(self):
        port = self.origin("--body-size", "100", "--piece", "20", "--gap",
                           "0.05")
        start = time.monotonic()
        self.assertEqual(self.get(port), (200, peers_http_get.filler(100)))
        self.assertGreater(time.monotonic() - start, 0.1)

    def test_lower_headers(self):
        port = self.origin("--lower-headers", "--body", "abc")
        raw = exchange(port, good_request(port))
        self.assertIn(b"\r\ncontent-length: 3\r\n", raw)
        self.assertTrue(raw.startswith(b"HTTP/1.1 200 OK\r\n"), raw)

    def test_status_from_path(self):
        port = self.origin("--status-from-path", "--body", "b")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
        self.addCleanup(conn.close)
        conn.request("GET", "/503")
        r = conn.getresponse()
        self.assertEqual((r.status, r.reason, r.read()),
                         (503, "Service Unavailable", b"b"))


class BadTest(unittest.TestCase):
    def test_each_path_gets_its_bad_response(self):
        _, port = start_peer_process(self, "http-bad")
        for path, want in peers_http_get.BAD_RESPONSES.items():
            got = exchange(port, good_request(port, path.decode()))
            self.assertEqual(got, want, path)
        long_line = peers_http_get.BAD_RESPONSES[b"/long-header"]
        self.assertGreater(max(map(len, long_line.split(b"\r\n"))), 102400)


if __name__ == "__main__":
    unittest.main()
