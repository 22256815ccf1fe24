"""Tests of the lesson 15 peers (peers_chat.py): each is satisfied by a
chat server like the lesson's (its Python counterpart,
lessons/15-chat/server.py), and catches the broken ones it exists to catch
(names unchecked, lines echoed to the sender, no leave notice, an
unbounded queue, an admin say that reaches nobody, no goodbye).

Run: python3 -m unittest discover -s tests/harness -p 'test_*.py'
"""

import os
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
LESSON = os.path.join(os.path.dirname(os.path.dirname(HERE)), "lessons",
                      "15-chat")
sys.path.insert(0, HERE)

import peers_chat  # noqa: E402,F401  (registers the peers)
from harnesstest import run_peer  # noqa: E402

# Runs lessons/15-chat/server.py after a patch that breaks it.
RUNNER = """
import asyncio, sys
sys.path.insert(0, %r)
import server
%s
sys.exit(asyncio.run(server.main(sys.argv[1:])))
"""


class ChatPeers(unittest.TestCase):

    def start(self, patch="", *argv):
        """Start the Python chat server, broken by patch; returns its
        port. Its admin socket is self.admin."""
        folder = tempfile.mkdtemp()
        self.admin = os.path.join(folder, "admin.sock")
        p = subprocess.Popen(
            [sys.executable, "-c", RUNNER % (LESSON, patch), "--admin",
             self.admin] + list(argv) + ["127.0.0.1", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.proc = p
        self.addCleanup(os.rmdir, folder)
        self.addCleanup(lambda: os.path.exists(self.admin) and os.unlink(
            self.admin))
        self.addCleanup(p.stdout.close)
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        line = p.stdout.readline()
        self.assertRegex(line, r"^listening on 127\.0\.0\.1:\d+$")
        p.stdout.readline()  # admin on PATH
        return int(line.rsplit(":", 1)[1])

    def assert_ok(self, name, port, *argv):
        ok, why = run_peer(name, port, *argv)
        self.assertTrue(ok, why)

    def assert_fails(self, name, port, pattern, *argv):
        ok, why = run_peer(name, port, *argv)
        self.assertFalse(ok, "%s was satisfied by a broken server" % name)
        self.assertRegex(why, pattern)

    def test_a_good_server_satisfies_every_peer(self):
        port = self.start("", "--queue", "16384")
        for name in ("chat-nick", "chat-room", "chat-who", "chat-quit",
                     "chat-pieces"):
            self.assert_ok(name, port)
        self.assert_ok("chat-admin", port, "--path", self.admin)
        self.assert_ok("chat-say", port, "--nick", "solo")
        ok, why = run_peer("chat-slow", port, "--timeout", "20")
        self.assertTrue(ok, why)

    def test_any_nickname(self):
        port = self.start("import re; server.NICK = re.compile(r'.*')")
        self.assert_fails("chat-nick", port, r"ERR")

    def test_echo_to_the_sender(self):
        port = self.start(
            "b = server.Room.broadcast\n"
            "server.Room.broadcast = lambda self, t, s=None: b(self, t)")
        self.assert_fails("chat-room", port, r"own line|expected")

    def test_no_leave_notice(self):
        port = self.start("server.Client.leave = lambda self, n='': None")
        self.assert_fails("chat-quit", port, r"left")

    def test_unbounded_queue(self):
        port = self.start("", "--queue", "999999999")
        # 3 MiB through a Python server: 2 s (run_peer's bound) was not
        # enough on a busy machine; the failure sought is the byte count.
        self.assert_fails("chat-slow", port, r"never dropped",
                          "--max-bytes", str(3 << 20), "--timeout", "20")

    def test_admin_say_reaches_nobody(self):
        port = self.start(
            "a = server.admin_line\n"
            "server.admin_line = lambda r, c, l: c.queue('ok\\n') "
            "if l.startswith('say ') else a(r, c, l)")
        self.assert_fails("chat-admin", port, r"admin: the room",
                          "--path", self.admin)

    def test_hold_wants_the_goodbye(self):
        port = self.start("server.BYE = '* stopping\\n'")
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "peer.py"),
                              "chat-hold", "--port", str(port), "--timeout",
                              "3"], stdout=subprocess.PIPE, text=True)
        self.addCleanup(p.stdout.close)
        self.assertTrue(p.stdout.readline().startswith("holding"))
        self.proc.send_signal(signal.SIGINT)
        out = p.stdout.read()
        self.assertEqual(p.wait(), 1)
        self.assertIn("goodbye", out)


if __name__ == "__main__":
    unittest.main()
