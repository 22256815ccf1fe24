"""Tests of the tool peers (peers_tools.py), run as the tests' helpers run
them: peer.py NAME ARGS, their output and exit status.

Run: python3 -m unittest discover -s tests/harness -p 'test_tools.py'
"""

import os
import socket
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def tool(*argv, stdin=b""):
    """Run peer.py with argv; return (exit status, stdout text)."""
    p = subprocess.run([sys.executable, "-S", os.path.join(HERE, "peer.py")]
                       + list(argv), input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=20)
    return p.returncode, p.stdout.decode()


class ToolPeersTest(unittest.TestCase):
    def test_free_ports_are_different_and_free(self):
        status, out = tool("free-ports", "--count", "3")
        self.assertEqual(status, 0)
        ports = [int(p) for p in out.split()]
        self.assertEqual(len(set(ports)), 3)
        for port in ports:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))   # free: this does not raise

    def test_free_swappable_port_has_a_free_twin(self):
        status, out = tool("free-swappable-port")
        self.assertEqual(status, 0)
        p = int(out)
        twin = ((p & 255) << 8) | (p >> 8)
        self.assertNotEqual(twin, p)
        self.assertGreaterEqual(twin, 1024)

    def test_port_open_says_by_its_status_only(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            self.assertEqual(tool("port-open", "--port", str(port)), (0, ""))
        self.assertEqual(tool("port-open", "--port", str(port)), (1, ""))

    def test_escape_reads_stdin(self):
        self.assertEqual(tool("escape", stdin=b'a\n"\xff'),
                         (0, '"a\\n\\"\\xff"\n'))
        status, out = tool("escape", "--limit", "4", stdin=b"x" * 10)
        self.assertEqual(out, '"xxxx"... (10 bytes in all)\n')

    def test_escape_file_reads_only_its_start(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"\t" * 300)
            f.flush()
            status, out = tool("escape-file", "--file", f.name)
        self.assertEqual(status, 0)
        self.assertEqual(out, '"' + "\\t" * 200 + '"... (300 bytes in all)\n')


if __name__ == "__main__":
    unittest.main()
