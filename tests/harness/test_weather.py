"""Tests of the lesson 10 peers (peers_weather.py): each is satisfied by a
collector or a sensor like the lesson's, and catches the broken ones it
exists to catch (no range check, REJECTED not counted, resends counted,
a sensor that starts at SEQ 0, exits before its last ACK, or forgets its
queue when it reconnects).

Run: python3 -m unittest discover -s tests/harness -p 'test_*.py'
"""

import os
import re
import socket
import socketserver
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import peers_weather  # noqa: E402
from harnesstest import run_peer, start_peer_process  # noqa: E402


STATION = re.compile(r"[A-Za-z0-9_-]{1,32}\Z")


class Collector:
    """The lesson's collector in a few lines, threads and all (no state
    file). The switches break it the ways students do:
      range_check=False   999 degrees is counted
      count_rejected=False  ERR is answered, REJECTED stays 0
      dedup=False         resends are counted again
      sequential=True     one connection at a time
    """

    def __init__(self, range_check=True, count_rejected=True, dedup=True,
                 sequential=False):
        self.range_check, self.count_rejected = range_check, count_rejected
        self.dedup = dedup
        self.lock = threading.Lock()
        self.rows, self.rejected = {}, 0
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                try:
                    self.serve()
                except OSError:
                    pass  # the peer went away: so does this connection

            def serve(self):
                while True:
                    raw = self.rfile.readline(128)
                    if not raw:
                        return
                    skipping = not raw.endswith(b"\n")
                    self.wfile.write(outer.answer(raw, skipping).encode())
                    while skipping:
                        raw = self.rfile.readline(65536)
                        skipping = bool(raw) and not raw.endswith(b"\n")

        base = socketserver.TCPServer if sequential else socketserver.ThreadingTCPServer
        base.allow_reuse_address = True
        self.server = base(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, raw, too_long):
        line = raw.rstrip(b"\n")
        why = "line too long" if too_long else None
        if not why and any(b < 32 or b > 126 for b in line):
            why = "not text"
        if not why and line == b"STATS":
            with self.lock:
                out = "".join(peers_weather.stats_row(n, t) + "\n"
                              for n, (_, t) in self.rows.items())
                return out + "REJECTED %d\nEND\n" % self.rejected
        if not why:
            w = line.decode().split(" ")
            m = len(w) == 5 and w[0] == "READING" and w[2].isdigit() and \
                w[3].isdigit() and len(w[2]) < 19
            try:
                tenths = round(float(w[4]) * 10) if m else None
            except ValueError:
                tenths = None
            if tenths is None or "e" in w[4] or "n" in w[4].lower() or \
                    ("." in w[4] and len(w[4].split(".")[1]) != 1):
                why = "bad reading"
            elif not STATION.match(w[1]) or int(w[2]) == 0:
                why = "bad station or seq"
            elif self.range_check and not -900 <= tenths <= 600:
                why = "temperature out of range"
            else:
                with self.lock:
                    last, temps = self.rows.setdefault(w[1], [0, []])
                    if int(w[2]) > last or not self.dedup:
                        self.rows[w[1]][0] = max(last, int(w[2]))
                        temps.append(tenths)
                return "ACK %s %s\n" % (w[1], w[2])
        if self.count_rejected:
            with self.lock:
                self.rejected += 1
        return "ERR %s\n" % why


class CollectorPeersTest(unittest.TestCase):
    def collector(self, **switches):
        c = Collector(**switches)
        self.addCleanup(c.close)
        return c.port

    def test_sensors_pass_and_stats_match(self):
        port = self.collector()
        ok, why = run_peer("weather-sensors", port, "--sensors", "4", "--count", "6")
        self.assertTrue(ok, why)
        ok, why = run_peer("weather-stats", port, "--harness", "wx:4:6", "--rejected", "0")
        self.assertTrue(ok, why)
        ok, why = run_peer("weather-stats", port, "--harness", "wx:4:7")
        self.assertFalse(ok)
        self.assertIn("STATS for station", why)

    def test_sensors_fail_on_a_sequential_collector_while_one_holds(self):
        port = self.collector(sequential=True)
        held = socket.create_connection(("127.0.0.1", port))
        self.addCleanup(held.close)
        held.sendall(peers_weather.reading_line("held", 1, 100))
        self.assertEqual(held.recv(100), b"ACK held 1\n")
        ok, why = run_peer("weather-sensors", port, "--sensors", "2", "--count", "2")
        self.assertFalse(ok)
        self.assertRegex(why, "waited|waiting")

    def test_garbage(self):
        ok, why = run_peer("weather-garbage", self.collector())
        self.assertTrue(ok, why)
        ok, why = run_peer("weather-garbage", self.collector(range_check=False))
        self.assertFalse(ok)
        self.assertIn("999", why)
        ok, why = run_peer("weather-garbage", self.collector(count_rejected=False))
        self.assertFalse(ok)
        self.assertIn("REJECTED 0", why)

    def test_dups(self):
        ok, why = run_peer("weather-dups", self.collector())
        self.assertTrue(ok, why)
        ok, why = run_peer("weather-dups", self.collector(dedup=False))
        self.assertFalse(ok)
        self.assertIn("only 1, 2, 3 and 10 count", why)

    def test_wait_and_stream(self):
        port = self.collector()
        ok, why = run_peer("weather-wait", port, "--min-total", "1")
        self.assertFalse(ok)  # nothing counted yet: it waits, then says so
        ok, why = run_peer("weather-stream", port, "--sensors", "2", "--count", "10",
                           "--interval", "0.01", "--prefix", "st")
        self.assertTrue(ok, why)
        ok, why = run_peer("weather-wait", port, "--prefix", "st", "--min-total", "20")
        self.assertTrue(ok, why)
        ok, why = run_peer("weather-stats", port, "--harness", "st:2:10")
        self.assertTrue(ok, why)


TEMPS = peers_weather.SENSOR_TEMPS


def sensor(port, count, first=1, resend=True, wait_last=True, station="wx",
           gap=0.0):
    """A sensor like client.c, in Python: sends a reading every 0.05 s
    without waiting for its ACK, keeps the unacknowledged ones, and sends
    them again after reconnecting (unless resend=False: it forgets them)."""
    pending, seq, end, delay = [], first, first + count, 0.02
    deadline = time.monotonic() + 5
    while (seq < end or pending) and time.monotonic() < deadline:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            time.sleep(delay)
            delay *= 2
            continue
        try:
            if not resend:
                pending = []
            for p in pending:
                s.sendall(peers_weather.reading_line(station, p, TEMPS[(p - 1) % 6]))
            s.settimeout(0.05)
            buf = b""
            while (seq < end or pending) and time.monotonic() < deadline:
                if seq < end:
                    if seq > first:
                        time.sleep(gap)  # the interval between readings
                    pending.append(seq)
                    seq += 1  # before sendall(), which may fail: it is queued
                    s.sendall(peers_weather.reading_line(station, seq - 1,
                                                         TEMPS[(seq - 2) % 6]))
                    if seq == end and not wait_last:
                        return
                try:
                    data = s.recv(4096)
                except socket.timeout:
                    continue
                if not data:
                    raise OSError("closed")
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    acked = int(line.split()[2])
                    pending = [p for p in pending if p > acked]
        except OSError:
            time.sleep(delay)
            delay *= 2
        finally:
            s.close()


class CollectorPeerTest(unittest.TestCase):
    def run_against(self, peer_argv, **sensor_args):
        p, port = start_peer_process(self, "weather-collector", "--station", "wx",
                                     *peer_argv, timeout=4)
        sensor(port, **sensor_args)
        out = p.stdout.read()
        return p.wait(5), out

    def test_good_sensor(self):
        rc, out = self.run_against(["--count", "4"], count=4)
        self.assertEqual(rc, 0, out)

    def test_refuse_and_drop(self):
        rc, out = self.run_against(["--count", "4", "--refuse", "3"], count=4)
        self.assertEqual(rc, 0, out)
        self.assertIn("came back after", out)
        rc, out = self.run_against(["--count", "6", "--drop-after", "3"], count=6)
        self.assertEqual(rc, 0, out)

    def test_min_span(self):
        rc, out = self.run_against(["--count", "4", "--min-span", "0.15"],
                                   count=4, gap=0.1)
        self.assertEqual(rc, 0, out)
        rc, out = self.run_against(["--count", "4", "--min-span", "0.15"], count=4)
        self.assertEqual(rc, 1, out)
        self.assertIn("interval", out)

    def test_bad_sensors(self):
        rc, out = self.run_against(["--count", "3"], count=3, first=0)
        self.assertEqual(rc, 1, out)
        rc, out = self.run_against(["--count", "3"], count=3, wait_last=False)
        self.assertEqual(rc, 1, out)
        self.assertIn("before its last reading", out)
        rc, out = self.run_against(["--count", "6", "--drop-after", "3"], count=6,
                                   resend=False)
        self.assertEqual(rc, 1, out)
        self.assertIn("lost", out)


if __name__ == "__main__":
    unittest.main()
