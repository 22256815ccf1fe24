"""Tests of peerd.py and peerc (build/tools/peerc): a peer run through them
behaves as one run by peer.py, and dies with the peerc that asked for it.

Standard library only; skipped when peerc is not built (make all builds it).
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEERC = os.path.join(ROOT, "build", "tools", "peerc")


def wait_for(predicate, seconds=5.0):
    """Poll predicate until it is true or seconds pass; returns its value."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)   # polling with a deadline
    return predicate()


@unittest.skipUnless(os.access(PEERC, os.X_OK), "peerc is not built (make all)")
class PeerdTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.sock = os.path.join(self.dir, "sock")
        self.env = dict(os.environ, LAB_PEERD=self.sock, LAB_ROOT=ROOT,
                        LAB_PYTHON=sys.executable)
        self.peerd = subprocess.Popen(
            [sys.executable, "-S", os.path.join(HERE, "peerd.py"), self.sock],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self.assertTrue(wait_for(lambda: os.path.exists(self.sock)))

    def tearDown(self):
        self.peerd.terminate()
        self.peerd.wait(5)
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def peerc(self, *args, **kwargs):
        return subprocess.Popen([PEERC] + list(args), env=self.env,
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, **kwargs)

    def start_server(self, name):
        """Start server peer name through peerc; returns (process, port)."""
        p = self.peerc(name, start_new_session=True)
        line = p.stdout.readline().decode()
        self.assertTrue(line.startswith("listening on "), line)
        return p, int(line.rsplit(":", 1)[1])

    def test_a_peer_runs_with_our_fds_and_exit_status(self):
        server, port = self.start_server("echo-server")
        client = self.peerc("echo-client", "--port", str(port), "--message",
                            "hi\\n")
        out, _ = client.communicate(timeout=10)
        self.assertEqual(client.returncode, 0, out)
        self.assertIn(b"echoed", out)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(5)

    def test_a_failing_peer_gives_its_status_and_its_words(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()   # nobody listens there now
        p = self.peerc("echo-client", "--port", str(port), "--timeout", "1")
        out, _ = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 1, out)
        p = self.peerc("no-such-peer")
        out, _ = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"no peer named", out)

    def test_killing_peerc_kills_the_peer(self):
        server, port = self.start_server("silent-server")
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(5)

        def refused():
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                return False
            except OSError:
                return True
        self.assertTrue(wait_for(refused), "the peer outlived its peerc")

    def test_without_peerd_peerc_runs_peer_py_itself(self):
        self.env["LAB_PEERD"] = os.path.join(self.dir, "nobody-here")
        p = self.peerc("--list")
        out, _ = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"echo-client", out)


if __name__ == "__main__":
    unittest.main()
