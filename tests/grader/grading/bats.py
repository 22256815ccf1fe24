"""Running a lesson's Bats test: its network namespace, the peerd beside
it, its environment, and reading its TAP output as it comes.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from .config import (
    BUILD_BOUND, OTHER_OUTPUT_LIMIT, ROOT, STEP_BOUND, STEP_OUTPUT_LIMIT,
    TAP_LINE, die, remove)
from .catalog import steps_of, test_file
from .procs import (OWN_CHILDREN, SPAWN_LOCK, TEMP_DIRS, kill_group, run,
                    spawn)
from .build import make_env
from .sandbox import SANDBOX_EXEC


NETNS = None


def netns_prefix():
    """When root, run each lesson's test in a network namespace of its
    own (a private loopback): student programs of parallel graders cannot
    reach each other's ports, and nothing they open outlives the run.
    LAB_NETNS=0 turns it off; without the rights it is off."""
    global NETNS
    if NETNS is None:
        NETNS = []
        if os.geteuid() == 0 and os.environ.get("LAB_NETNS", "1") != "0" \
                and shutil.which("unshare") and shutil.which("ip"):
            cmd = ["unshare", "--net", "--", "sh", "-c",
                   'ip link set lo up && exec "$@"', "sh"]
            status, _, _ = run(cmd + ["true"], timeout=10)
            if status == 0:
                NETNS = cmd
    return NETNS


RUN_STEPS = os.path.join(ROOT, "tests", "lib", "run-steps")


def runner():
    """The command that runs a lesson's Bats file and prints its TAP:
    tests/lib/run-steps (the file read once, a fork per step), or Bats
    itself with LAB_RUNNER=bats (the same TAP, at twice the CPU)."""
    if os.environ.get("LAB_RUNNER") == "bats":
        return ["bats", "--tap", "--timing"]
    return ["bash", RUN_STEPS, "--timing"]   # bash itself: no env(1) first


PEERC = os.path.join(ROOT, "build", "tools", "peerc")
PEERD = os.path.join(ROOT, "tests", "harness", "peerd.py")


def build_tools():
    """Build the tests' tools: sandbox-exec, which every student program
    starts through (grading stops without it), and peerc, which runs
    harness peers through a peerd: a fork instead of a Python start for
    each (without it the tests start Python for every peer, as before)."""
    _, out, _ = run(["make", "-s", "--no-print-directory", "-C", ROOT,
                     "build/tools/peerc", "build/tools/sandbox-exec"],
                    timeout=BUILD_BOUND, env=make_env())
    if not os.access(SANDBOX_EXEC, os.X_OK):
        die("could not build %s: %s" % (os.path.relpath(SANDBOX_EXEC, ROOT),
                                        out.decode(errors="replace").strip()
                                        or "make failed"))


def with_peerd(cmd, env):
    """Return (cmd, env) that start a peerd beside the test, in its network
    namespace, and tell the test where it listens; the peerd dies with the
    test's process group."""
    if not os.access(PEERC, os.X_OK):
        return cmd, env
    folder = tempfile.mkdtemp(prefix="socklab-peerd-")
    TEMP_DIRS.add(folder)
    sock = os.path.join(folder, "sock")
    env = dict(env, LAB_PEERD=sock, LAB_PEERC=PEERC)
    start = ('"$LAB_PYTHON" -S "$0" "$LAB_PEERD" </dev/null >/dev/null 2>&1 &'
             ' exec "$@"')
    return ["sh", "-c", start, PEERD] + cmd, env


class TapReader:
    """Read Bats' TAP output as it comes, keeping a bounded amount of it:
    every result line, up to STEP_OUTPUT_LIMIT bytes of each step's
    transcript and OTHER_OUTPUT_LIMIT of the rest. The grader's memory
    stays bounded however much a test prints."""

    def __init__(self, stream, on_step=None):
        self.stream = stream
        self.on_step = on_step  # called with (name, passed, transcript,
        #                         seconds, note) once a step is complete
        self.results = {}      # name -> [passed, lines, ms, note]
        self.current = None
        self.other = []
        self.other_bytes = 0
        self.cut = {}
        self.progress = time.monotonic()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while True:
            line = self.stream.readline(65536)
            if not line:
                self._complete()
                return
            self._take(line.decode(errors="replace").rstrip("\n"))

    def _complete(self):
        """Tell on_step about the current step: its transcript is whole
        once the next result line (or the end) comes."""
        if self.current is not None and self.on_step:
            name = self.current
            self.on_step(name, *self.outcome([name])[name])
        self.current = None

    def _take(self, line):
        m = TAP_LINE.match(line)
        if m:
            self._complete()
            self.current = m.group(3)
            ms = int(m.group(4)) if m.group(4) else None
            self.results[self.current] = [m.group(1) == "ok", [], ms,
                                          m.group(5)]
            self.progress = time.monotonic()
            if m.group(1) == "ok":
                self._complete()   # a passing step prints nothing more
            return
        if self.current is not None and (line.startswith("# ") or
                                         line == "#"):
            lines = self.results[self.current][1]
            used = sum(len(l) + 1 for l in lines)
            if used + len(line) < STEP_OUTPUT_LIMIT:
                lines.append(line[2:])
            else:
                self.cut[self.current] = self.cut.get(self.current, 0) + \
                    len(line) + 1
            return
        if self.other_bytes + len(line) < OTHER_OUTPUT_LIMIT:
            self.other.append(line)
            self.other_bytes += len(line) + 1

    def outcome(self, names):
        """Map each step name to (passed, transcript, seconds, note)."""
        out = {}
        for n in names:
            if n in self.results:
                passed, lines, ms, note = self.results[n]
                text = clean_transcript(lines)
                if n in self.cut:
                    text += "\n(%d more bytes of output cut)" % self.cut[n]
                out[n] = (passed, text, None if ms is None else ms / 1000.0,
                          note)
        return out


class RunOptions:
    """How check runs the steps (class mode keeps the defaults)."""
    first_failure = False   # skip the steps after the first failing one
    only_step = None        # run this step number alone
    reporter = None         # Reporter told of each step as it finishes
    shards = 1              # run a lesson's steps in this many groups at once


def shard_steps(count):
    """The step numbers 1..count in the groups that run at once: one group
    (None: every step) unless RunOptions.shards asks for more and every
    step runs (a first-failure run is in order by nature)."""
    shards = min(RunOptions.shards, count // 2)
    if shards < 2 or RunOptions.first_failure:
        return [None]
    return [list(range(k, count + 1, shards)) for k in range(1, shards + 1)]


def run_bats(lesson, env, bound, slot, steps=None):
    """Run the lesson's test (only the step numbers in steps, if given)
    under an outer time bound; return the TapReader and whether the run
    was stopped at the bound. A step that makes no progress for
    STEP_BOUND + 5 s has its programs killed."""
    cmd = netns_prefix() + runner()
    if steps is not None:
        cmd += ["--filter", "^step (%s): " % "|".join(map(str, steps))]
    cmd.append(test_file(lesson))
    stop_file = None
    if RunOptions.first_failure:
        stop_file = os.path.join(env["LAB_BIN_DIR"], lesson, ".stop")
        remove(stop_file)
        env = dict(env, LAB_STOP_FILE=stop_file)
    # The peerd starts inside the namespace: it reaches what the test does.
    prefix = netns_prefix()
    inner, env = with_peerd(cmd[len(prefix):], env)
    cmd = prefix + inner
    p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
              stdin=subprocess.DEVNULL, env=env, cwd=ROOT,
              start_new_session=True)
    on_step = None
    if RunOptions.reporter:
        numbers = {n: i for i, n in enumerate(steps_of(lesson), 1)}

        def on_step(name, passed, transcript, seconds, note):
            RunOptions.reporter.step(lesson, numbers.get(name, 0), name,
                                     passed, transcript, seconds, note)
    reader = TapReader(p.stdout, on_step)
    deadline = time.monotonic() + bound
    stopped = False
    nudged = None
    while p.poll() is None:
        now = time.monotonic()
        if now > deadline:
            stopped = True
            break
        if now - reader.progress > STEP_BOUND + 5 and \
                nudged != reader.progress:
            nudged = reader.progress
            slot.kill_all()
        try:
            p.wait(timeout=0.1)   # returns the moment the test ends
        except subprocess.TimeoutExpired:
            pass
    kill_group(p.pid)
    slot.kill_all()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    with SPAWN_LOCK:
        OWN_CHILDREN.discard(p.pid)
    reader.thread.join(5)
    p.stdout.close()
    if stop_file:
        remove(stop_file)
    if env.get("LAB_PEERD"):
        folder = os.path.dirname(env["LAB_PEERD"])
        shutil.rmtree(folder, ignore_errors=True)
        TEMP_DIRS.discard(folder)
    return reader, stopped


JOB_NOTICE = re.compile(r"^\S+: line \d+: +\d+ (Killed|Terminated|"
                        r"Segmentation fault|Aborted|File size limit exceeded|"
                        r"CPU time limit exceeded)")


def clean_transcript(lines):
    """Keep what a student needs from a failure: drop Bats' stack trace
    and bash's notices of a killed command (the transcript says it)."""
    keep = []
    for line in lines:
        if line.startswith(("(from function", " from function",
                            "(in test file")) \
                or line.startswith(" in test file") or \
                re.match(r"^\s+`.*' failed", line) or JOB_NOTICE.match(line):
            continue
        keep.append(line)
    return "\n".join(keep).strip()


def test_env(impl, bin_dir, slot, sanitize, log):
    """The environment of one lesson's test: ours, minus anything that
    would change how Bats runs, plus what common.bash reads."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("BATS_") and k != "BATS_LIB_PATH") and
           k not in ("LAB_SANDBOX_UID", "LAB_SANDBOX_UID_FREE",
                     "LAB_SANDBOX_TAG", "LAB_SANDBOX_LOG",
                     "LAB_SANDBOX_CGROUPS", "MAKEFLAGS",
                     "MFLAGS", "MAKELEVEL", "SANITIZE")}
    # Under an outer Bats (the grader's self-tests), PATH starts with
    # Bats' libexec folder, whose `bats` is not the command to run.
    env["PATH"] = os.pathsep.join(
        d for d in os.environ.get("PATH", os.defpath).split(os.pathsep)
        if d and not d.rstrip("/").endswith("libexec/bats-core"))
    # The interpreter running us, so no test pays for a shim's start-up.
    env.setdefault("LAB_PYTHON", sys.executable)
    env.update(LAB_IMPL=impl, LAB_BIN_DIR=bin_dir, LAB_ROOT=ROOT,
               LAB_RUN_TAG=slot.tag, LAB_SANDBOX_LOG=log,
               BATS_TEST_TIMEOUT=str(STEP_BOUND))
    if slot.uid is not None:
        # Sandbox.acquire found no account of it: the test need not ask
        # again (getent) at every step.
        env["LAB_SANDBOX_UID"] = env["LAB_SANDBOX_UID_FREE"] = str(slot.uid)
    elif os.geteuid() == 0:
        env["LAB_SANDBOX_UID"] = "off"   # Sandbox(use_uid=False)
    if slot.cgroup_procs:
        env["LAB_SANDBOX_CGROUPS"] = " ".join(slot.cgroup_procs)
    if sanitize:
        env["SANITIZE"] = "1"
    return env
