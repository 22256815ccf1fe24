"""harnesstest - what the harness's own tests share: throwaway servers to
aim a peer at, a way to run a peer in-process, and one to start a server
peer as a process and read its `listening on` line.

Standard library only.
"""

import contextlib
import io
import os
import socket
import subprocess
import sys
import threading
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


def start_peer_process(test, *argv, timeout=3):
    """Start server peer argv as a process for unittest.TestCase test (it
    is killed at cleanup); return (process, port) once it is listening."""
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "peer.py")]
                         + list(argv) + ["--timeout", str(timeout)],
                         stdout=subprocess.PIPE, text=True)
    test.addCleanup(p.stdout.close)
    test.addCleanup(p.wait)
    test.addCleanup(p.kill)
    while True:
        line = p.stdout.readline()
        if not line or line.startswith("listening on"):
            break
    test.assertRegex(line, r"^listening on 127\.0\.0\.1:\d+$")
    return p, int(line.rsplit(":", 1)[1])


class ServerFixture:
    """A TestCase mixin: self.server(handle) starts a Server closed at the
    end of the test and returns its port."""

    def server(self, handle, sequential=False):
        s = Server(handle, sequential)
        self.addCleanup(s.close)
        return s.port
