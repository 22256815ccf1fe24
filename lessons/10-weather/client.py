#!/usr/bin/env python3
"""client.py - lesson 10's sensor in Python: the same protocol, command
line and output as client.c.

    usage: client.py [--interval S] [--count N] [--id STATION]
                     [--max-backoff S] [HOST [PORT]]

What Python hides: socket.create_connection() is getaddrinfo() plus a
connect() to each address; sendall() is the send loop; select.select()
stands in for poll(); time.monotonic() is CLOCK_MONOTONIC.
"""

import argparse
import collections
import select
import socket
import sys
import time

TEMPS = (150, 220, 210, 260, 250, 190)
FIRST_BACKOFF, MAX_FAILURES, ACK_TIMEOUT = 0.05, 20, 3.0


class Lost(Exception):
    """The connection to the collector broke."""


class Sensor:
    def __init__(self, args):
        self.a = args
        self.queue = collections.deque()  # (seq, time, tenths), unacknowledged
        self.sock, self.buf = None, b""
        self.connections = self.failures = 0
        self.backoff, self.last_error = FIRST_BACKOFF, ""
        self.heard = time.monotonic()

    def line(self, r):
        return ("READING %s %d %d %.1f\n" % (self.a.id, r[0], r[1], r[2] / 10.0)).encode()

    def reconnect(self):
        """Connect with backoff, then resend the queue."""
        while True:
            if self.failures >= MAX_FAILURES:
                sys.exit("client: connect %s:%s: %s" % (self.a.host, self.a.port, self.last_error))
            if self.connections or self.failures:
                self.backoff = min(self.backoff, self.a.max_backoff)
                time.sleep(self.backoff)
                self.backoff *= 2
            try:
                self.sock = socket.create_connection((self.a.host, self.a.port))
                break
            except OSError as e:
                self.failures += 1
                self.last_error = e.strerror or str(e)
        self.connections += 1
        self.heard, self.buf = time.monotonic(), b""
        if self.connections > 1:
            print("client: reconnected, %d readings to send again" % len(self.queue),
                  file=sys.stderr)
        for r in self.queue:
            self.sock.sendall(self.line(r))

    def drop(self, why):
        self.sock.close()
        self.sock = None
        self.failures += 1
        self.last_error = why
        print("client: connection to %s:%s lost: %s" % (self.a.host, self.a.port, why),
              file=sys.stderr)

    def take_answers(self, wait):
        """Wait up to wait seconds for answers and act on them."""
        ready, _, _ = select.select([self.sock], [], [], max(wait, 0))
        if not ready:
            if self.queue and time.monotonic() - self.heard >= ACK_TIMEOUT:
                raise Lost("no ACK came: timed out")
            return
        data = self.sock.recv(1024)
        if not data:
            raise Lost("the collector closed the connection")
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            w = line.decode("ascii", "replace").split(" ")
            if len(w) == 3 and w[0] == "ACK" and w[1] == self.a.id and w[2].isdigit():
                while self.queue and self.queue[0][0] <= int(w[2]):
                    seq, _, tenths = self.queue.popleft()
                    print("acknowledged %d %.1f" % (seq, tenths / 10.0), flush=True)
                self.heard = time.monotonic()
                self.failures, self.backoff = 0, FIRST_BACKOFF
            else:
                print("client: the collector said: %s" % line.decode("ascii", "replace"),
                      file=sys.stderr)
                if line.startswith(b"ERR"):
                    sys.exit(1)

    def run(self):
        nxt, due = 1, time.monotonic()
        while nxt <= self.a.count or self.queue:
            if self.sock is None:
                self.reconnect()
            try:
                now = time.monotonic()
                if nxt <= self.a.count and len(self.queue) < 64 and now >= due:
                    if not self.queue:
                        self.heard = now
                    r = (nxt, int(time.time()), TEMPS[(nxt - 1) % len(TEMPS)])
                    self.queue.append(r)
                    nxt, due = nxt + 1, due + self.a.interval
                    self.sock.sendall(self.line(r))
                else:
                    until = self.heard + ACK_TIMEOUT
                    if nxt <= self.a.count and len(self.queue) < 64:
                        until = min(until, due)
                    self.take_answers(until - now)
            except Lost as e:
                self.drop(str(e))
            except OSError as e:
                self.drop(e.strerror or str(e))
        self.sock.close()
        print("all %d readings acknowledged" % self.a.count)


def main():
    p = argparse.ArgumentParser(prog="client.py")
    p.add_argument("--interval", type=float, default=2.0)
    p.add_argument("--count", type=int, default=6)
    p.add_argument("--id", default="station1")
    p.add_argument("--max-backoff", type=float, default=2.0)
    p.add_argument("host", nargs="?", default="127.0.0.1")
    p.add_argument("port", nargs="?", type=int, default=23456)
    Sensor(p.parse_args()).run()


if __name__ == "__main__":
    main()
