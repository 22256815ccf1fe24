"""Tests of the UDP peers (peers_udp.py): each client peer is satisfied by
a correct UDP echo server and catches the broken servers it exists to
catch; the server peers answer (or not) the way the client tests need.

Run: python3 -m unittest discover -s tests/harness -p 'test_*.py'
"""

import os
import socket
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harnesstest import run_peer, start_peer_process  # noqa: E402


class UdpServer:
    """A throwaway UDP server on 127.0.0.1:0: reply(data, addr, sock) says
    what to send back, as a list of (bytes, address) pairs."""

    def __init__(self, reply):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                data, addr = self.sock.recvfrom(65535)
                for out, to in self.reply(data, addr, self):
                    self.sock.sendto(out, to)
            except OSError:
                return

    def close(self):
        self.sock.close()


def echo(data, addr, server):
    return [(data, addr)]


def small_buffer(data, addr, server):
    """The seeds' recvfrom(1024): a datagram cut to 1024 bytes."""
    return [(data[:1024], addr)]


def skip_empty(data, addr, server):
    """Treats recvfrom() returning 0 as nothing to do."""
    return [(data, addr)] if data else []


def first_client(data, addr, server):
    """Remembers the first sender and answers it every time."""
    server.first = getattr(server, "first", addr)
    return [(data, server.first)]


def as_c_string(data, addr, server):
    """Echoes up to the first NUL byte, as strlen() would."""
    return [(data.split(b"\0", 1)[0], addr)]


def with_newline(data, addr, server):
    return [(data + b"\n", addr)]


def twice(data, addr, server):
    return [(data, addr), (data, addr)]


def ack(data, addr, server):
    """Seed 000's server: answers every datagram with "ACK"."""
    return [(b"ACK", addr)]


class UdpClientPeersTest(unittest.TestCase):
    def server(self, reply):
        s = UdpServer(reply)
        self.addCleanup(s.close)
        return s.port

    def check(self, name, reply, *argv):
        """Run peer name against a server answering with reply."""
        return run_peer(name, self.server(reply), "--wait", "0.5", *argv)

    def test_every_client_peer_accepts_a_correct_echo(self):
        for name in ("udp-echo-client", "udp-burst", "udp-two-clients",
                     "udp-big", "udp-empty", "udp-odd"):
            with self.subTest(peer=name):
                ok, why = self.check(name, echo)
                self.assertTrue(ok, why)

    def test_echo_client_names_an_extra_byte(self):
        ok, why = self.check("udp-echo-client", with_newline)
        self.assertFalse(ok)
        self.assertIn('"hello, datagram\\n"', why)
        self.assertIn("one byte too many", why)

    def test_echo_client_sees_a_reply_from_another_port(self):
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind(("127.0.0.1", 0))
        self.addCleanup(other.close)

        def from_other(data, addr, server):
            other.sendto(data, addr)
            return []

        ok, why = self.check("udp-echo-client", from_other)
        self.assertFalse(ok)
        self.assertIn("came from 127.0.0.1:%d" % other.getsockname()[1], why)

    def test_echo_client_on_a_silent_port(self):
        ok, why = self.check("udp-echo-client", lambda *a: [])
        self.assertFalse(ok)
        self.assertIn("no reply within 0.5 s", why)

    def test_burst_catches_extra_and_wrong_datagrams(self):
        ok, why = self.check("udp-burst", twice)
        self.assertFalse(ok)
        self.assertIn("and then 3 more", why)
        ok, why = self.check("udp-burst", ack)
        self.assertFalse(ok)
        self.assertIn('3 bytes "ACK"', why)

    def test_two_clients_catch_a_remembered_address(self):
        ok, why = self.check("udp-two-clients", first_client)
        self.assertFalse(ok)
        self.assertIn("client B", why)

    def test_big_datagram_catches_a_small_buffer(self):
        ok, why = self.check("udp-big", small_buffer)
        self.assertFalse(ok)
        self.assertIn("stops at 1024 bytes", why)

    def test_empty_datagram_must_come_back(self):
        ok, why = self.check("udp-empty", skip_empty)
        self.assertFalse(ok)
        self.assertIn("not end of file", why)

    def test_odd_catches_strings(self):
        ok, why = self.check("udp-odd", as_c_string)
        self.assertFalse(ok)
        self.assertIn("binary datagram", why)
        self.assertIn("received an empty datagram", why)

    def test_bound_sees_a_udp_socket_not_a_tcp_one(self):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        self.addCleanup(udp.close)
        self.assertTrue(run_peer("udp-bound", udp.getsockname()[1])[0])
        tcp = socket.socket()
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(1)
        self.addCleanup(tcp.close)
        ok, why = run_peer("udp-bound", tcp.getsockname()[1])
        self.assertFalse(ok)
        self.assertIn("nothing holds UDP port", why)


class UdpServerPeersTest(unittest.TestCase):
    """The server peers run as processes, the way the tests use them."""

    def start(self, *argv):
        p, port = start_peer_process(self, *argv)
        return p, ("127.0.0.1", port)

    def client(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(2)
        self.addCleanup(sock.close)
        return sock

    def test_echo_server_echoes_and_reports(self):
        p, server = self.start("udp-echo-server", "--datagrams", "1")
        sock = self.client()
        sock.sendto(b"no newline", server)
        self.assertEqual(sock.recvfrom(100), (b"no newline", server))
        out, _ = p.communicate(timeout=5)
        self.assertIn('received "no newline" from 127.0.0.1:%d' %
                      sock.getsockname()[1], out)

    def test_echo_server_sends_a_stranger_first(self):
        p, server = self.start("udp-echo-server", "--stranger", "not me",
                               "--datagrams", "1")
        sock = self.client()
        sock.sendto(b"hi", server)
        first, second = sock.recvfrom(100), sock.recvfrom(100)
        self.assertEqual(first[0], b"not me")
        self.assertNotEqual(first[1], server)
        self.assertEqual(second, (b"hi", server))

    def test_echo_server_delay(self):
        p, server = self.start("udp-echo-server", "--delay", "0.3")
        sock = self.client()
        started = time.monotonic()
        sock.sendto(b"late", server)
        self.assertEqual(sock.recvfrom(100)[0], b"late")
        self.assertGreaterEqual(time.monotonic() - started, 0.3)

    def test_silent_server_records_and_never_answers(self):
        p, server = self.start("udp-silent")
        # A connected UDP socket would get ECONNREFUSED if nothing were
        # bound there: the silent peer must hold the port, not just exist.
        sock = self.client()
        sock.connect(server)
        sock.send(b"anyone?")
        sock.settimeout(0.3)
        with self.assertRaises(socket.timeout):
            sock.recv(100)
        p.kill()
        out, _ = p.communicate(timeout=5)
        self.assertIn('received "anyone?"', out)


if __name__ == "__main__":
    unittest.main()
