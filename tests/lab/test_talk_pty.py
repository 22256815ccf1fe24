#!/usr/bin/env python3
"""test_talk_pty.py - the playground and talk mode on a real terminal.

What only a terminal shows: Ctrl-C interrupting a recv() that blocks,
and talk mode printing what the server sends while a line is half typed,
the half-typed line kept intact and sent whole afterwards.

The lab runs on a pseudo-terminal (pty.fork) against a server this test
plays itself with a plain socket, so the test decides exactly when the
server speaks. Every wait has a deadline; the lab and everything it
started are killed at the end of each test.

    python3 tests/lab/test_talk_pty.py        (tests/lab/talk.bats runs it)

Environment: LAB_BIN (default build/lab/lab), LAB_ROOT (the checkout).
Standard library only.
"""

import os
import pty
import re
import select
import signal
import socket
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("LAB_ROOT") or os.path.dirname(os.path.dirname(HERE))
LAB_BIN = os.environ.get("LAB_BIN") or os.path.join(ROOT, "build", "lab", "lab")
WAIT = 10.0  # the longest any one expected output may take


class Repl:
    """The lab REPL on a pseudo-terminal: type into it, wait for output."""

    def __init__(self, state_dir):
        env = dict(os.environ, LAB_ROOT=ROOT, XDG_STATE_HOME=state_dir,
                   HOME=state_dir, INPUTRC="/dev/null", TERM="xterm",
                   NO_COLOR="1", COLUMNS="200", LINES="50")
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the lab, on the terminal
            try:
                os.execve(LAB_BIN, [LAB_BIN], env)
            finally:
                os._exit(127)
        self.out = b""

    def type(self, data):
        """Type bytes on the terminal."""
        os.write(self.fd, data)

    def expect(self, pattern, seconds=WAIT, since=0):
        """Wait for the regex (bytes) in the output after offset since;
        return the match. Fail with the output so far at the deadline."""
        regex = re.compile(pattern, re.S)
        deadline = time.monotonic() + seconds
        while True:
            m = regex.search(self.out, since)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %r within %.0f s; the terminal "
                                     "showed:\n%r" % (pattern, seconds,
                                                      self.out[-1500:]))
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # EIO: the lab has exited
                    chunk = b""
                if not chunk:
                    raise AssertionError("the lab exited; it showed:\n%r" %
                                         self.out[-1500:])
                self.out += chunk

    def command(self, line, answer, seconds=WAIT):
        """Type a command at the lab prompt and wait for the regex answer
        in what follows; return the match."""
        self.expect(rb"lab> $", seconds, len(self.out) - 200)
        mark = len(self.out)
        self.type(line.encode() + b"\r")
        return self.expect(answer, seconds, mark)

    def close(self):
        """End the lab and everything it started (its own session)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.fd)


class Server:
    """A TCP server on 127.0.0.1 that this test drives by hand."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(WAIT)
        self.port = self.listener.getsockname()[1]
        self.conn = None

    def accept(self):
        self.conn, _ = self.listener.accept()
        self.conn.settimeout(WAIT)

    def recv_until(self, end):
        """Read until the bytes end (or EOF); return everything read."""
        got = b""
        while not got.endswith(end):
            chunk = self.conn.recv(4096)
            if not chunk:
                break
            got += chunk
        return got

    def close(self):
        if self.conn:
            self.conn.close()
        self.listener.close()


class PtyTest(unittest.TestCase):
    def setUp(self):
        if not os.access(LAB_BIN, os.X_OK):
            self.fail("no %s: run 'make lab-build' first" % LAB_BIN)
        self.tmp = tempfile.TemporaryDirectory()
        self.server = Server()
        self.lab = Repl(self.tmp.name)
        # A hard bound behind every deadline: no test outlives it.
        signal.signal(signal.SIGALRM, self.too_slow)
        signal.alarm(60)

    def tearDown(self):
        signal.alarm(0)
        self.lab.close()
        self.server.close()
        self.tmp.cleanup()

    def too_slow(self, *_):
        raise AssertionError("the test took over 60 s; the terminal "
                             "showed:\n%r" % self.lab.out[-1500:])

    def test_ctrl_c_interrupts_a_blocking_recv(self):
        lab, server = self.lab, self.server
        lab.command("wait 60", rb"at most 60 s")
        lab.command("socket tcp", rb"socket\(AF_INET, SOCK_STREAM, 0\) = 3")
        lab.command("connect 3 127.0.0.1 %d" % server.port,
                    rb"connect\(3, 127\.0\.0\.1:\d+\) = 0")
        server.accept()  # and never send: recv() has nothing to return
        # The call is printed before it blocks, as strace does: once it is
        # on the terminal the lab is inside recv.
        lab.command("recv 3", rb"recv\(3, 1024\)")
        started = time.monotonic()
        lab.type(b"\x03")
        lab.expect(rb"recv\(3, 1024\).*= -1 EINTR \(interrupted by Ctrl-C\)")
        self.assertLess(time.monotonic() - started, 10,
                        "Ctrl-C took as long as the wait bound")
        # The REPL is still there and the socket still open and connected.
        lab.command("sockets", rb"\n3 +tcp/inet .*connected")
        server.conn.sendall(b"late\n")
        lab.command("recv 3", rb'recv\(3, 1024\) = 5 "late\\n"')

    def test_talk_prints_what_arrives_while_a_line_is_half_typed(self):
        lab, server = self.lab, self.server
        prompt = b"127.0.0.1:%d> " % server.port
        lab.command("talk 127.0.0.1 %d" % server.port, rb"connected to")
        server.accept()
        lab.expect(re.escape(prompt))
        lab.type(b"half typed")
        lab.expect(re.escape(prompt + b"half typed"))
        mark = len(lab.out)
        server.conn.sendall(b"news from the server\n")
        # The news on a line of its own, then the prompt and the half-typed
        # text drawn again below it.
        lab.expect(rb"news from the server\r\n(?:\x1b\[[0-9;?]*[A-Za-z]|\r)*" +
                   re.escape(prompt + b"half typed"), since=mark)
        # The line goes out whole once finished.
        lab.type(b" line\r")
        self.assertEqual(server.recv_until(b"\n"), b"half typed line\n")
        # Ctrl-D on an empty line half-closes: the server reads EOF, and
        # what it says after that is still shown until it closes.
        lab.type(b"\x04")
        self.assertEqual(server.recv_until(b"\n"), b"")
        server.conn.sendall(b"after your EOF\n")
        server.conn.close()
        server.conn = None
        lab.expect(rb"after your EOF\r\n.*the server closed the connection")
        # Back at the lab prompt; talk's lines are not in its history.
        lab.expect(rb"lab> $", since=len(lab.out) - 10)
        mark = len(lab.out)
        lab.type(b"\x1b[A")  # up arrow
        lab.expect(rb"talk 127\.0\.0\.1 %d" % server.port, since=mark)

    def test_ctrl_c_leaves_talk_and_closes_the_connection(self):
        lab, server = self.lab, self.server
        lab.command("talk 127.0.0.1 %d" % server.port, rb"connected to")
        server.accept()
        lab.expect(re.escape(b"127.0.0.1:%d> " % server.port))
        lab.type(b"never sent")
        lab.expect(rb"never sent")
        lab.type(b"\x03")
        lab.expect(rb"Ctrl-C: leaving talk")
        self.assertEqual(server.recv_until(b"\n"), b"",
                         "the half-typed line was sent, or no close came")
        lab.command("sockets", rb"no open sockets")


if __name__ == "__main__":
    unittest.main()
