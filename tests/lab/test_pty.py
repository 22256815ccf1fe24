#!/usr/bin/env python3
"""test_pty.py - the lab REPL on a real pseudo-terminal, as a student types.

Proves what only a terminal shows: Tab completion (commands, lesson names
and numbers, server|client, socket ids, option names, and no file names
where they make no sense), history kept across two sessions, ~/.inputrc
honoured, Ctrl-C interrupting a blocking recv and a running client (and
clearing the line at the prompt), a background job's output printed
without losing the line being typed, and colour only on a terminal.

    python3 -m unittest discover -s tests/lab -p 'test_*.py'

Standard library only; every wait has a deadline and every process it
starts is ended. The REPL under test is $LAB_BIN (default build/lab/lab).
"""

import fcntl
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unittest

ROOT = os.environ.get("LAB_ROOT") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
LAB_BIN = os.environ.get("LAB_BIN") or os.path.join(ROOT, "build", "lab", "lab")
PEER = [sys.executable, os.path.join(ROOT, "tests", "harness", "peer.py")]
# Terminal control sequences Readline writes, and BEL and backspace.
ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|"
                     rb"[\x07\x08]")


class Repl:
    """The lab on a pseudo-terminal: send keys, expect text.

    What the terminal shows is kept twice: raw (every byte) and clean
    (escape sequences and backspaces removed), which expect() searches
    from just after its last match."""

    def __init__(self, state, env=None, args=(), unset=(), argv=None):
        environment = dict(os.environ, XDG_STATE_HOME=state, TERM="xterm",
                           PAGER="cat", INPUTRC=os.path.join(state, "inputrc"),
                           LAB_ROOT=ROOT, HOME=state)
        environment.pop("NO_COLOR", None)
        environment.update(env or {})
        for name in unset:
            environment.pop(name, None)
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(ROOT)
            try:
                if argv:
                    os.execvpe(argv[0], argv, environment)
                os.execve(LAB_BIN, [LAB_BIN] + list(args), environment)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.raw = b""
        self.pending = b""  # a chunk's tail that may be half an escape
        self.clean = ""
        self.mark = 0
        self.status = None

    def send(self, keys):
        os.write(self.fd, keys.encode() if isinstance(keys, str) else keys)

    def read_some(self, timeout):
        """Read what the terminal shows within timeout; False at its end."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        self.raw += data
        chunk = self.pending + data
        cut = chunk.rfind(b"\x1b")
        if cut >= 0 and not ESCAPES.match(chunk, cut):
            chunk, self.pending = chunk[:cut], chunk[cut:]
        else:
            self.pending = b""
        self.clean += ESCAPES.sub(b"", chunk).decode(errors="replace")
        return True

    def text(self):
        """What was shown since the last expect, escape codes removed."""
        return self.clean[self.mark:]

    def expect(self, pattern, timeout=8):
        """Wait for pattern (a regex) after the last match; return it."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            m = regex.search(self.clean, self.mark)
            if m:
                self.mark = m.end()
                return m
            left = deadline - time.monotonic()
            alive = left > 0 and self.read_some(min(left, 0.2))
            if not alive and not regex.search(self.clean, self.mark):
                raise AssertionError(
                    "never saw /%s/ within %s s; the terminal showed:\n%s" %
                    (pattern, timeout, self.text()))

    def settle(self, quiet=0.3, timeout=3):
        """Read until nothing new comes for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = len(self.raw)
            if not self.read_some(quiet) or len(self.raw) == before:
                return

    def close(self, timeout=8):
        """End the session (Ctrl-D), kill it if it will not go."""
        deadline = time.monotonic() + timeout
        try:
            if self.status is None:
                self.send("\x15\x04")  # Ctrl-U, Ctrl-D
        except OSError:
            pass
        while self.status is None and time.monotonic() < deadline:
            self.read_some(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)
            _, self.status = os.waitpid(self.pid, 0)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        return self.status


class Peer:
    """A harness server peer on port 0, bounded, in its own group."""

    def __init__(self, name, *args):
        self.proc = subprocess.Popen(
            PEER + [name, "--timeout", "30"] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.stop()
            raise AssertionError("peer %s did not start: %r" % (name, line))
        self.port = int(m.group(1))

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=5)
        self.proc.stdout.close()


@unittest.skipUnless(os.access(LAB_BIN, os.X_OK),
                     "no %s: run make lab-build" % LAB_BIN)
class LabOnATerminal(unittest.TestCase):

    def setUp(self):
        self.state = tempfile.mkdtemp(prefix="lab-pty-")
        with open(os.path.join(self.state, "inputrc"), "w") as f:
            f.write("set bell-style none\n")
        self.repls = []
        self.peers = []

    def tearDown(self):
        for r in self.repls:
            if r.fd is not None:
                r.close()
        for p in self.peers:
            p.stop()
        subprocess.run(["rm", "-rf", self.state])

    def start(self, **kw):
        r = Repl(self.state, **kw)
        self.repls.append(r)
        r.expect(r"lab> ")
        return r

    def peer(self, name, *args):
        p = Peer(name, *args)
        self.peers.append(p)
        return p

    # ------------------------------------------------------------ make lab

    def test_make_lab_builds_and_starts_the_lab(self):
        r = Repl(self.state, argv=["make", "-s", "--no-print-directory", "-C",
                                   ROOT, "lab"])
        self.repls.append(r)
        r.expect(r"socklab: `list` shows the lessons", timeout=120)
        r.expect(r"lab> ")
        r.send("quit\r")
        self.assertEqual(os.waitstatus_to_exitcode(r.close()), 0)

    # ------------------------------------------------------------ completion

    def test_tab_completes_command_names(self):
        r = self.start()
        r.send("jo\t")  # one command starts so
        r.expect(r"jobs $")
        r.send("\r")
        r.expect(r"no jobs")
        r.expect(r"lab> ")
        r.send("li\t")  # list and listen: their common part
        r.expect(r"list$")
        r.send("\r")
        r.expect(r"lessons\r?\n")
        r.expect(r"lab> ")
        r.send("sol\t01\r")
        r.expect(r"the solution opens once you pass 01-echo-once")

    def test_tab_completes_lesson_numbers_slugs_and_all(self):
        r = self.start()
        # Readline rubs out the 2, then writes the name (a 1 could be 10-19)
        r.send("hint 2\t")
        r.expect(r"02-echo-repeat $")
        r.send("\x15hint echo-o\t")
        r.expect(r"hint echo-once $")
        r.send("1\r")
        r.expect(r"01-echo-once, step 1: ")
        r.expect(r"lab> ")
        r.send("check a\t")
        r.expect(r"check all $")
        r.send("\x15show 0\t\t")  # the whole list, by full name
        r.expect(r"01-echo-once")
        r.send("\x15hint 01 \t\t")  # step numbers of the lesson
        r.expect(r"1\s+2\s+3\s+4\s+5\s+6\s+7")

    def test_tab_completes_server_client_and_options(self):
        r = self.start()
        r.send("run 01 s\t")
        r.expect(r"run 01 server $")
        r.send("--r\t")
        r.expect(r"--ref $")
        r.send("\x15run 01 c\t")
        r.expect(r"run 01 client $")
        r.send("\x15help che\t")
        r.expect(r"help check $")
        r.send("\r")
        r.expect(r"usage: check N\|all \[STEP\] \[--all\] \[--verbose\] \[--trace\] \[--capture\]")

    def test_no_file_names_where_they_make_no_sense(self):
        # The REPL runs in the top folder: Makefile, lessons/, tests/ ...
        r = self.start()
        r.send("Mak\t\r")
        r.expect(r"no command 'Mak'")
        r.expect(r"lab> ")
        r.send("show Mak\t\r")
        r.expect(r"no lesson 'Mak'")
        r.expect(r"lab> ")
        r.send("run 01 server 127.0.0.1 Mak\t")
        r.settle()
        self.assertNotIn("Makefile", r.text())

    def test_tab_completes_socket_ids_and_option_names(self):
        r = self.start()
        r.send("socket tcp\r")
        r.expect(r"socket\(AF_INET, SOCK_STREAM, 0\) = 3")
        r.expect(r"lab> ")
        r.send("getsockname \t")
        r.expect(r"getsockname 3 $")
        r.send("\r")
        r.expect(r"getsockname\(3\)")
        r.expect(r"lab> ")
        r.send("setsockopt 3 SO_REUSEA\t")
        r.expect(r"setsockopt 3 SO_REUSEADDR $")
        r.send("1\r")
        r.expect(r"setsockopt\(3, SOL_SOCKET, SO_REUSEADDR, 1\) = 0")

    # ------------------------------------------------------------ history and inputrc

    def test_history_is_kept_across_two_sessions(self):
        first = self.start()
        first.send("help stop\r")
        first.expect(r"usage: stop J")
        first.expect(r"lab> ")
        first.send("quit\r")
        first.close()
        self.assertEqual(os.waitstatus_to_exitcode(first.status), 0)
        second = self.start()
        second.send("\x1b[A")  # Up: the last line of the first session
        second.expect(r"quit$")
        second.send("\x1b[A")  # and the one before
        second.expect(r"help stop$")
        second.send("\r")
        second.expect(r"usage: stop J")
        with open(os.path.join(self.state, "socklab", "history")) as f:
            self.assertIn("help stop\n", f.read())

    def test_inputrc_is_honoured(self):
        # ~/.inputrc itself (HOME is the test's folder), with a $if lab
        # block: Readline knows the program by that name.
        with open(os.path.join(self.state, ".inputrc"), "w") as f:
            f.write('$if lab\n"\\C-xj": "help jobs\\r"\n$endif\n')
        r = self.start(unset=("INPUTRC",))
        r.send("\x18j")  # Ctrl-X j: the macro of ~/.inputrc
        r.expect(r"usage: jobs")

    # ------------------------------------------------------------ Ctrl-C

    def test_ctrl_c_interrupts_a_blocking_recv(self):
        peer = self.peer("record-server")  # never answers
        r = self.start()
        r.send("wait 60\r")
        r.expect(r"lab> ")
        r.send("socket tcp\r")
        r.expect(r"= 3")
        r.expect(r"lab> ")
        r.send("connect 3 127.0.0.1 %d\r" % peer.port)
        r.expect(r"connect\(3, 127\.0\.0\.1:%d\) = 0" % peer.port)
        r.expect(r"lab> ")
        r.send("recv 3\r")
        r.expect(r"recv 3\r?\n")
        r.settle(quiet=0.5)  # it blocks: no result comes
        self.assertNotRegex(r.text(), r"recv\(3, 1024\) =")
        started = time.monotonic()
        r.send("\x03")
        r.expect(r"recv\(3, 1024\)(\^C)? = -1 EINTR")  # ^C: the tty's echo
        r.expect(r"lab> ", timeout=3)
        self.assertLess(time.monotonic() - started, 3)
        # The REPL goes on: the socket is still there.
        r.send("sockets\r")
        r.expect(r"3\s+tcp/inet")

    def test_ctrl_c_stops_a_running_client(self):
        peer = self.peer("record-server")
        r = self.start()
        r.send("run 01 client --ref 127.0.0.1 %d hello\r" % peer.port)
        r.settle(quiet=1.0, timeout=10)  # built, connected, waiting
        r.send("\x03")
        r.expect(r"\(client stopped: Ctrl-C\)")
        r.expect(r"lab> ", timeout=3)

    def test_ctrl_c_at_the_prompt_clears_the_line(self):
        r = self.start()
        r.send("hint 01")
        r.expect(r"hint 01$")
        r.send("\x03")
        r.expect(r"\^C")
        r.expect(r"lab> ")
        r.send("jobs\r")
        r.expect(r"no jobs")

    # ------------------------------------------------------------ paging

    def test_show_pages_a_long_readme_through_pager(self):
        pager = os.path.join(self.state, "pager")
        with open(pager, "w") as f:
            f.write("#!/bin/sh\necho \"PAGER GOT $(wc -l) lines\"\n")
        os.chmod(pager, 0o755)
        r = self.start(env={"PAGER": pager})
        r.send("show 01\r")  # longer than the 40 rows of this terminal
        m = r.expect(r"PAGER GOT (\d+) lines")
        with open(os.path.join(ROOT, "lessons", "01-echo-once",
                               "README.md")) as f:
            self.assertEqual(int(m.group(1)), len(f.readlines()))
        r.expect(r"lab> ")

    # ------------------------------------------------------------ jobs and colour

    def test_job_output_does_not_mangle_the_line_being_typed(self):
        r = self.start()
        r.send("run 01 server --ref 127.0.0.1 0\r")
        m = r.expect(r"\[1\] listening on 127\.0\.0\.1:(\d+)", timeout=30)
        port = int(m.group(1))
        r.expect(r"lab> ")
        r.send("sock")
        r.expect(r"sock$")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"hi there\n")
            self.assertEqual(s.recv(100), b"hi there\n")
        r.expect(r"\[1\] connection from 127\.0\.0\.1")
        r.expect(r"\[1\] exited with status 0")
        r.expect(r"lab> sock$")  # the typed text is back, cursor at its end
        r.send("et tcp\r")
        r.expect(r"socket\(AF_INET, SOCK_STREAM, 0\) = 3")

    def test_colour_on_a_terminal_and_never_with_no_color(self):
        r = self.start()
        self.assertIn(b"\x1b[1;36mlab>", r.raw)
        r.send("list\r")
        r.expect(r"lessons")
        r.expect(r"lab> ")
        self.assertRegex(r.raw, rb"\x1b\[3[0-9]m")
        plain = self.start(env={"NO_COLOR": "1"})
        plain.send("list\r")
        plain.expect(r"progress")
        plain.expect(r"lab> ")
        self.assertNotRegex(plain.raw, rb"\x1b\[[0-9;]*m")

    def test_ctrl_d_ends_the_lab_and_its_jobs(self):
        r = self.start()
        r.send("run 01 server --ref 127.0.0.1 0\r")
        m = r.expect(r"\(pid (\d+);", timeout=30)
        pid = int(m.group(1))
        r.expect(r"lab> ")
        r.send("\x04")
        r.expect(r"\[1\] stopped")
        status = r.close()
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)  # polling for its end, with a deadline
        else:
            self.fail("the job's server %d outlived the lab" % pid)


if __name__ == "__main__":
    unittest.main()
