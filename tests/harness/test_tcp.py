"""Tests of the TCP peers: each one is satisfied by a correct echo server
and catches the broken servers it exists to catch.

Run: python3 -m unittest discover -s tests/harness -p 'test_*.py'
"""

import contextlib
import io
import os
import socket
import subprocess
import sys
import threading
import unittest
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import peer  # noqa: E402
import peerlib  # noqa: E402

PEERS = peer.load_peers()


class Server:
    """A throwaway TCP server on 127.0.0.1:0 running handle(conn) per client
    in threads, for at most a few seconds."""

    def __init__(self, handle, sequential=False):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.handle = handle
        self.sequential = sequential
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(5)
            if self.sequential:
                self.run(conn)
            else:
                threading.Thread(target=self.run, args=(conn,),
                                 daemon=True).start()

    def run(self, conn):
        try:
            with conn:
                self.handle(conn)
        except OSError:
            pass

    def close(self):
        self.sock.close()


def echo(conn):
    """A correct echo: everything back until EOF."""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


def echo_until_bye(conn):
    """Echo lines; after an echoed bye, close."""
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)
        buf += data
        if b"bye\n" in buf:
            return


def echo_first_recv(conn):
    """Lesson 01's simplification: one recv, echoed, then close."""
    conn.sendall(conn.recv(1024))


def drop_last_byte(conn):
    """A broken echo that loses the last byte of each chunk."""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data[:-1])


def never_answer(conn):
    """Accepts, reads, never writes."""
    while conn.recv(65536):
        pass


def run_peer(name, port, *argv):
    """Run peer name in-process; return (ok, transcript)."""
    func = PEERS[name]
    args = peer.parser_for(func).parse_args(
        ["--port", str(port), "--timeout", "2"] + list(argv))
    # A peer that gives up leaves its sockets to process exit; here that is
    # the test process, so quiet the warnings and the peers' "ok" lines.
    warnings.simplefilter("ignore", ResourceWarning)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            func(args, peerlib.Deadline(args.timeout))
        return True, ""
    except peerlib.Mismatch as e:
        return False, str(e)


class EscapeTest(unittest.TestCase):
    def test_escapes_like_c(self):
        self.assertEqual(peerlib.escape(b'a\n\t"\\\x00\xff'),
                         r'"a\n\t\"\\\x00\xff"')

    def test_long_data_is_cut(self):
        self.assertIn("(100 bytes in all)", peerlib.escape(b"x" * 100, 10))


class ClientPeersTest(unittest.TestCase):
    def setUp(self):
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.close()

    def server(self, handle, sequential=False):
        s = Server(handle, sequential)
        self.servers.append(s)
        return s.port

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
        self.servers[-1].thread.join(0.5)


class ServerPeersTest(unittest.TestCase):
    """The server peers run as processes, the way the tests use them."""

    def start(self, *argv):
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "peer.py")]
                             + list(argv) + ["--timeout", "3"],
                             stdout=subprocess.PIPE, text=True)
        self.addCleanup(p.stdout.close)
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        line = p.stdout.readline()
        self.assertRegex(line, r"^listening on 127\.0\.0\.1:\d+$")
        return p, int(line.rsplit(":", 1)[1])

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
