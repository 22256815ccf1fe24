#!/usr/bin/env python3
"""grade.py - build and grade lessons with their Bats tests.

    grade.py check [--impl lessons|solutions] [--lesson NN ...]
                   [--expect pass|fail] [--reports DIR] [--jobs N] [--quiet]
                   [--src DIR] [--bin DIR] [--weights FILE] [--sanitize]
    grade.py class DIR [--lesson NN ...] [--reports DIR] [--build DIR]
                   [--jobs N] [--weights FILE] [--sanitize] [--quiet]

check grades one lessons/ tree (ours by default). class grades a folder of
submissions, one folder per student (their lessons/ tree or a whole
checkout), each built apart and graded against the tests of this checkout.

Every program is built on its own (a compile error fails only the steps
that need that program, with the compiler's message), under resource
limits and, when root, as an unprivileged sandbox uid. Each lesson's test
tests/NN-slug.bats runs under an outer time bound in its own process group
(and, when root, its own network namespace), its student programs
sandboxed (see tests/lib/common.bash). Afterwards every process and file
of the sandbox uid is removed. check prints a table (lesson, steps
passed/total, points) and writes results.json and junit.xml; class writes
grades.csv, grades.json and junit/STUDENT.xml (docs/instructors.md).

Exit status: check: 0 when every step passed (or, with --expect fail, when
every step failed), 1 otherwise; class: 0 once every submission is graded,
1 when the grader itself hit trouble (say, a process it could not kill);
2 on bad usage.

Standard library only.
"""

import argparse
import csv
import ctypes
import fcntl
import hashlib
import json
import os
import pwd
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
STEP_BOUND = 20       # seconds one step may take before it is failed
BUILD_BOUND = 60      # seconds one program may take to compile
SOURCE_LIMIT = 1 << 20        # bytes of one submitted C file
LOG_LIMIT = 64 << 10          # bytes kept of a compile log
STEP_OUTPUT_LIMIT = 16 << 10  # bytes kept of one step's transcript
OTHER_OUTPUT_LIMIT = 8 << 10  # bytes kept of Bats output outside steps
SANDBOX_UID_BASE = int(os.environ.get("LAB_SANDBOX_UID_BASE", "61000"))
SANDBOX_UID_COUNT = 4000
TEST_LINE = re.compile(r'^\s*@test\s+"([^"]+)"')
TAP_LINE = re.compile(r"^(ok|not ok) (\d+) (.*?)(?: in (\d+)ms)?"
                      r"(?: # (.*))?$")
LESSON_NAME = re.compile(r"^\d\d-[A-Za-z0-9_-]+$")
PROGRAM_FILE = re.compile(r"^[A-Za-z0-9_-]+\.c$")
SAFE_PATH = re.compile(r"^[A-Za-z0-9_./@+-]+$")   # what make can take


def die(message):
    """Bad usage or set-up: say so in one line and exit 2."""
    print("grade: " + message, file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------- lessons and weights

def discover(lessons_dir):
    """Return the NN-slug names of the lessons in lessons_dir, in order."""
    if not os.path.isdir(lessons_dir):
        die("no folder %s%s" % (lessons_dir, (
            " (solutions/ is not part of the student hand-out)"
            if os.path.basename(lessons_dir) == "solutions" else "")))
    return sorted(d for d in os.listdir(lessons_dir)
                  if LESSON_NAME.match(d) and
                  os.path.isdir(os.path.join(lessons_dir, d)))


def select(all_lessons, wanted):
    """Pick lessons by number, slug or full name; exit 2 on an unknown one."""
    if not wanted:
        return all_lessons
    picked = []
    for w in wanted:
        for item in w.replace(",", " ").split():
            match = [l for l in all_lessons
                     if l == item or l[:2] == item.zfill(2) or l[3:] == item]
            if not match:
                die("no lesson '%s' (there are: %s)" % (
                    item, ", ".join(all_lessons)))
            picked += [m for m in match if m not in picked]
    return picked


def test_file(lesson):
    return os.path.join(ROOT, "tests", lesson + ".bats")


def steps_of(lesson):
    """Return the @test names of tests/LESSON.bats, in file order."""
    with open(test_file(lesson)) as f:
        return [m.group(1) for m in map(TEST_LINE.match, f) if m]


def programs_of(lesson_dir):
    """Return the program names (X for X.c) of one lesson folder."""
    if not os.path.isdir(lesson_dir):
        return []
    return sorted(n[:-2] for n in os.listdir(lesson_dir)
                  if PROGRAM_FILE.match(n))


def load_weights(path=None):
    """Read the weights file (default tests/grader/weights.conf):
    `LESSON POINTS` sets every step of a lesson, `LESSON:STEP POINTS` one
    step; LESSON is NN or NN-slug. Returns a lookup function."""
    path = path or os.path.join(ROOT, "tests", "grader", "weights.conf")
    table = {}
    if os.path.exists(path):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                try:
                    key, points = line.split()
                    value = float(points)
                    if not re.match(r"^\d\d(-[A-Za-z0-9_-]+)?(:\d+)?$", key) \
                            or value < 0 or value != value:
                        raise ValueError
                    table[key] = value
                except ValueError:
                    die("%s:%d: expected 'LESSON[:STEP] POINTS' (LESSON is "
                        "NN or NN-slug, POINTS a number >= 0), got '%s'"
                        % (path, n, line))
    elif path != os.path.join(ROOT, "tests", "grader", "weights.conf"):
        die("no weights file %s" % path)

    def weight(lesson, step):
        for key in ("%s:%d" % (lesson, step), "%s:%d" % (lesson[:2], step),
                    lesson, lesson[:2]):
            if key in table:
                return table[key]
        return 1.0

    return weight


# ---------------------------------------------------------------- processes we start

SPAWN_LOCK = threading.Lock()
OWN_CHILDREN = set()     # pids (= process groups) of what we started
ACTIVE_SLOTS = set()     # sandboxes in use, for the interrupt handler


def spawn(cmd, **kwargs):
    """Popen that the orphan reaper knows about (it never reaps these)."""
    with SPAWN_LOCK:
        p = subprocess.Popen(cmd, **kwargs)
        OWN_CHILDREN.add(p.pid)
    return p


def finish(p, timeout=None):
    """communicate() with p; on the bound kill its group. Returns
    (stdout, timed_out)."""
    try:
        out, _ = p.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        kill_group(p.pid)
        out, _ = p.communicate()
        timed_out = True
    with SPAWN_LOCK:
        OWN_CHILDREN.discard(p.pid)
    return out, timed_out


def run(cmd, timeout=None, **kwargs):
    """Run cmd in its own session; returns (status, output, timed_out)."""
    p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
              stdin=subprocess.DEVNULL, start_new_session=True, **kwargs)
    out, timed_out = finish(p, timeout)
    kill_group(p.pid)
    return p.returncode, out or b"", timed_out


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def on_interrupt(signum, frame):
    """Ctrl-C, SIGTERM, SIGHUP: kill everything we started (the tests'
    process groups, every sandbox in use) before we go, so nothing of a
    student outlives the grader."""
    signal.signal(signum, signal.SIG_DFL)
    print("\ngrade: interrupted; stopping the tests", file=sys.stderr)
    for pid in list(OWN_CHILDREN):
        kill_group(pid)
    for slot in list(ACTIVE_SLOTS):
        slot.kill_all(seconds=3)
        slot.release()
    os._exit(128 + signum)


def become_subreaper():
    """Ask Linux to give us the orphans of our descendants, so a student
    program that double-forks is still our child to reap (else it becomes
    a zombie of PID 1, which some containers never reap)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(36, 1, 0, 0, 0) != 0:   # PR_SET_CHILD_SUBREAPER
            return
    except (OSError, AttributeError):
        return
    t = threading.Thread(target=reap_loop, daemon=True)
    t.start()


def reap_orphans():
    """Reap our zombie children that are not the ones we started."""
    try:
        if os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT) \
                is None:
            return           # no child has exited: nothing to do
    except ChildProcessError:
        return
    with SPAWN_LOCK:
        for pid in children():
            if pid in OWN_CHILDREN:
                continue
            try:
                with open("/proc/%d/stat" % pid) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                if state == "Z":
                    os.waitpid(pid, os.WNOHANG)
            except (OSError, IndexError):
                pass


def children():
    """The pids of our children (orphans handed to us included)."""
    pids = set()
    for task in os.listdir("/proc/self/task"):
        try:
            with open("/proc/self/task/%s/children" % task) as f:
                pids.update(int(x) for x in f.read().split())
        except OSError:
            pass
    return pids


def reap_loop():
    while True:
        time.sleep(0.2)
        try:
            reap_orphans()
        except OSError:
            pass


def proc_table():
    """Yield (pid, ppid, state, real uid) of every process."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/status" % name) as f:
                text = f.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines()
                      if ":" in line)
        try:
            yield (int(name), int(fields["PPid"]), fields["State"].split()[0],
                   int(fields["Uid"].split()[0]))
        except (KeyError, ValueError, IndexError):
            continue


def processes_of_uid(uid, zombies=True):
    return [pid for pid, _, state, u in proc_table()
            if u == uid and (zombies or state != "Z")]


def tagged_processes(tag):
    """Processes started with LAB_SANDBOX_TAG=tag in their environment
    (how a non-root grader finds student programs that left their group)."""
    want = ("LAB_SANDBOX_TAG=" + tag).encode()
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/environ" % name, "rb") as f:
                    if want in f.read(1 << 20).split(b"\0"):
                        found.append(int(name))
            except OSError:
                pass
    return found


# ---------------------------------------------------------------- the sandbox

class Sandbox:
    """Who student programs run as: when root, one unprivileged uid per
    lesson being graded, unique across this and every other grader on the
    machine (a lock file per uid), never a uid an account or a process
    already uses. When not root, only a tag in their environment."""

    def __init__(self, use_uid=True):
        self.root = os.geteuid() == 0
        self.use_uid = self.root and use_uid
        self.lock_dir = None
        self.cgroups = Cgroups()
        if self.root:
            if not shutil.which("setpriv"):
                die("setpriv (util-linux) is missing: it drops student "
                    "programs to a sandbox uid")
            self.lock_dir = self._lock_dir()
            self._remove_stale_cgroups()

    def _remove_stale_cgroups(self):
        """Remove the control groups a grader that was killed left behind
        (those whose uid no grader holds now)."""
        stale = set()
        for parent in self.cgroups.parents:
            try:
                stale.update(int(n[4:]) for n in os.listdir(parent)
                             if re.match(r"^uid-\d+$", n))
            except OSError:
                pass
        for uid in stale:
            path = os.path.join(self.lock_dir, "%d.lock" % uid)
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC |
                             os.O_NOFOLLOW, 0o600)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.cgroups.remove("uid-%d" % uid, tries=1)
            except OSError:
                pass        # in use by a grader: not stale
            finally:
                os.close(fd)

    @staticmethod
    def _lock_dir():
        """A folder only root can write to, for the uid lock files."""
        for d in (os.environ.get("LAB_UID_LOCK_DIR"), "/run/socklab",
                  "/tmp/socklab-uids-0"):
            if not d:
                continue
            try:
                os.makedirs(d, mode=0o755, exist_ok=True)
                st = os.lstat(d)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and \
                    not st.st_mode & 0o022:
                return d
        die("no safe folder for the sandbox uid locks (/run/socklab)")

    def acquire(self, tag):
        """Return a Slot for one lesson's programs."""
        if not self.use_uid:
            return Slot(None, None, tag, self.cgroups)
        start = random.randrange(SANDBOX_UID_COUNT)
        for i in range(SANDBOX_UID_COUNT):
            uid = SANDBOX_UID_BASE + (start + i) % SANDBOX_UID_COUNT
            try:
                pwd.getpwuid(uid)
                continue          # an account: never ours
            except KeyError:
                pass
            fd = os.open(os.path.join(self.lock_dir, "%d.lock" % uid),
                         os.O_RDWR | os.O_CREAT | os.O_CLOEXEC |
                         os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            if processes_of_uid(uid):
                os.close(fd)      # someone else's, or leftovers: skip it
                continue
            return Slot(uid, fd, tag, self.cgroups)
        die("no free sandbox uid in %d-%d" % (
            SANDBOX_UID_BASE, SANDBOX_UID_BASE + SANDBOX_UID_COUNT - 1))


class Slot:
    """One lesson's sandbox: a uid (or None), an environment tag and,
    when there are, control groups."""

    def __init__(self, uid, lock_fd, tag, cgroups=None):
        self.uid, self.lock_fd, self.tag = uid, lock_fd, tag
        self.cgroups = cgroups
        self.cgroup_name = "uid-%d" % uid if uid is not None else \
            "tag-" + tag
        self.cgroup_procs = cgroups.make(self.cgroup_name) if cgroups else []
        ACTIVE_SLOTS.add(self)

    def prefix(self, limits, nice=10):
        """Command prefix running a program with limits as this uid."""
        cmd = ["prlimit"] + ["--%s=%s" % kv for kv in limits] + \
              ["nice", "-n", str(nice), "setpriv", "--no-new-privs"]
        if self.uid is not None:
            cmd += ["--reuid=%d" % self.uid, "--regid=%d" % self.uid,
                    "--clear-groups"]
        return cmd + ["env", "LAB_SANDBOX_TAG=" + self.tag]

    def chown(self, path):
        if self.uid is not None:
            os.chown(path, self.uid, self.uid)

    def kill_all(self, seconds=5):
        """Kill every process of the uid (or of the tag) until none is
        left; returns how many were still alive at the end (0 is good)."""
        end = time.monotonic() + seconds
        while True:
            if self.uid is not None:
                live = processes_of_uid(self.uid, zombies=False)
                if live:
                    # kill(-1) as the uid itself: every process of it at
                    # once, atomically, so a fork bomb cannot outrun it.
                    run(["setpriv", "--reuid=%d" % self.uid,
                         "--regid=%d" % self.uid, "--clear-groups",
                         "kill", "-KILL", "-1"], timeout=5)
            else:
                live = tagged_processes(self.tag)
                for sig in (signal.SIGSTOP, signal.SIGKILL):
                    for pid in live:
                        try:
                            os.kill(pid, sig)
                        except OSError:
                            pass
            reap_orphans()
            if not live:
                return 0
            if time.monotonic() > end:
                return len(live)
            time.sleep(0.05)

    def sweep_files(self):
        """Remove what the uid left in the world-writable folders; returns
        the paths removed."""
        if self.uid is None:
            return []
        dirs = [d for d in ("/tmp", "/var/tmp", "/dev/shm") if
                os.path.isdir(d)]
        uid = str(self.uid)
        # A folder that is not the uid's and that others cannot enter
        # (mode 700: every other run's work folder) holds nothing the uid
        # could write (it has no groups): not walked.
        _, out, _ = run(["find"] + dirs + [
            "-xdev", "(", "-type", "d", "!", "-user", uid, "!", "-perm",
            "-0001", ")", "-prune", "-o", "-user", uid, "-print0"],
            timeout=30)
        paths = [p for p in out.decode(errors="replace").split("\0") if p]
        for path in sorted(paths, key=lambda p: -p.count("/")):
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    os.rmdir(path)
                else:
                    os.unlink(path)
            except OSError:
                pass   # gone already, or a folder with others' files
        return paths

    def release(self):
        ACTIVE_SLOTS.discard(self)
        if self.cgroup_procs:
            self.cgroups.remove(self.cgroup_name)
            self.cgroup_procs = []
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None


class Cgroups:
    """Control groups for the sandboxes, when root may make them (cgroup
    v1 cpu and pids, or v2): each lesson's student programs share one CPU
    at most and a cap on tasks, so a fork bomb of one student cannot slow
    the grading of the others. Without them (a container, LAB_CGROUP=0)
    the sandbox still has its rlimits and nice level."""

    V1 = ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/pids")
    V2 = "/sys/fs/cgroup"

    def __init__(self):
        self.parents = []
        if os.geteuid() != 0 or os.environ.get("LAB_CGROUP", "1") == "0":
            return
        try:
            if all(os.path.exists(os.path.join(d, "cgroup.procs"))
                   for d in self.V1):
                self.version = 1
                self.parents = [self._mkdir(os.path.join(d, "socklab"))
                                for d in self.V1]
            elif os.path.exists(os.path.join(self.V2, "cgroup.controllers")):
                self.version = 2
                top = self._mkdir(os.path.join(self.V2, "socklab"))
                with open(os.path.join(top, "cgroup.subtree_control"),
                          "w") as f:
                    f.write("+cpu +pids")
                self.parents = [top]
        except OSError:
            self.parents = []

    @staticmethod
    def _mkdir(path):
        os.makedirs(path, exist_ok=True)
        return path

    def make(self, name):
        """Create the groups of one sandbox; returns their cgroup.procs
        files (empty when there are none)."""
        if not self.parents:
            return []
        procs = []
        try:
            for parent in self.parents:
                d = self._mkdir(os.path.join(parent, name))
                settings = {
                    "cpu.cfs_quota_us": "100000", "cpu.cfs_period_us":
                    "100000", "pids.max": "1024", "cpu.max":
                    "100000 100000"}
                for name, value in settings.items():
                    if os.path.exists(os.path.join(d, name)):
                        with open(os.path.join(d, name), "w") as f:
                            f.write(value)
                procs.append(os.path.join(d, "cgroup.procs"))
        except OSError:
            self.remove(name)
            return []
        return procs

    def remove(self, name, tries=100):
        """Remove the (emptied) groups of one sandbox."""
        for parent in self.parents:
            d = os.path.join(parent, name)
            for _ in range(tries):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.03)   # its last tasks are still exiting


def reachable_by_others(path):
    """Can an unprivileged uid get to path (every folder above it o+x)?"""
    path = os.path.abspath(path)
    while True:
        parent = os.path.dirname(path)
        try:
            st = os.stat(path)
            if stat.S_ISDIR(st.st_mode) and not st.st_mode & stat.S_IXOTH:
                return False
        except FileNotFoundError:
            pass
        if parent == path:
            return True
        path = parent


MAKE_DIR = ROOT   # where the sandbox uid runs make (see Workspace)


class Workspace:
    """Root anywhere: when, as root, the checkout (or the build folder) is
    under a folder other users cannot enter (mode 700, like /root, where
    classroom platforms run graders), the sandbox uid could not reach the
    sources, the Makefile or the programs it runs. Then the grading happens
    in a folder of ours under /tmp (LAB_WORK_DIR) that it can enter: a copy
    of the Makefile, the sources, the builds. copy_back() puts the results
    where they were asked for, with the paths in messages put back too."""

    @staticmethod
    def when_needed(*paths):
        """A Workspace when root cannot hand paths (or the checkout) to the
        sandbox uid as they are; None when it can (or we are not root)."""
        if os.geteuid() != 0 or all(reachable_by_others(p)
                                    for p in (ROOT,) + paths):
            return None
        return Workspace()

    def __init__(self):
        base = os.environ.get("LAB_WORK_DIR") or "/tmp"
        if not reachable_by_others(base):
            die("%s: the sandbox uid cannot enter it; set LAB_WORK_DIR to a "
                "folder others can enter" % base)
        self.path = tempfile.mkdtemp(prefix="socklab-work-", dir=base)
        os.chmod(self.path, 0o755)
        global MAKE_DIR
        MAKE_DIR = os.path.join(self.path, "make")
        os.mkdir(MAKE_DIR, 0o755)
        shutil.copy(os.path.join(ROOT, "Makefile"), MAKE_DIR)
        os.chmod(os.path.join(MAKE_DIR, "Makefile"), 0o644)
        self.moved = []          # (ours, theirs) folder pairs

    def folder(self, name, theirs):
        """Our folder standing for theirs (created, mode 755)."""
        ours = os.path.join(self.path, name)
        os.makedirs(ours, mode=0o755, exist_ok=True)
        self.moved.append((ours, theirs))
        return ours

    def restore(self, record):
        """record (JSON-able) with our folders' paths replaced by theirs."""
        text = json.dumps(record)
        for ours, theirs in self.moved:
            text = text.replace(json.dumps(ours)[1:-1],
                                json.dumps(theirs)[1:-1])
        return json.loads(text)

    def copy_back(self, ours, theirs):
        """Copy the folder ours into theirs (builds, reports)."""
        shutil.copytree(ours, theirs, symlinks=True, dirs_exist_ok=True)

    def remove(self):
        """Remove our folder; make runs in the checkout again."""
        global MAKE_DIR
        MAKE_DIR = ROOT
        shutil.rmtree(self.path, ignore_errors=True)


# ---------------------------------------------------------------- building

COMPILE_LIMITS = [("as", 4 << 30), ("cpu", 60), ("fsize", 128 << 20),
                  ("core", 0), ("nofile", 256)]


def make_env():
    """The environment of the compiler: ours minus the outer make's."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")
           and not k.startswith("BATS_")}
    env.pop("SANITIZE", None)
    return env


def build(lesson, src, bin_dir, slot, sanitize, programs=None,
          problems=None):
    """Compile each program of the lesson; return {program: error or None}.
    A program that does not compile has no binary, only PROGRAM.compile.log
    (PROGRAM.missing when it was not submitted), which the test shows."""
    results = {}
    src_dir = os.path.join(src, lesson)
    out_dir = os.path.join(bin_dir, lesson)
    os.makedirs(out_dir, exist_ok=True)
    todo = []
    for prog in programs if programs is not None else programs_of(src_dir):
        binary = os.path.join(out_dir, prog)
        for old in (binary + ".compile.log", binary + ".missing"):
            if os.path.lexists(old):
                os.unlink(old)
        source = os.path.join(src_dir, prog + ".c")
        if not os.path.isfile(source):
            why = "%s/%s.c is not in the submission" % (lesson, prog)
            if problems and prog in problems:
                why = "%s/%s.c %s: it was not graded" % (lesson, prog,
                                                        problems[prog])
            remove(binary)
            write_text(binary + ".missing", why + "\n")
            results[prog] = why
            continue
        todo.append((prog, binary))
    # The programs of a lesson compile at once: they do not depend on
    # each other, and a student waits for the slowest.
    with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
        errors = list(pool.map(lambda t: compile_cached(
            lesson, t[0], src, t[1], slot, sanitize), todo))
    if todo:
        slot.kill_all()   # nothing of a build may outlive it
    for (prog, binary), error in zip(todo, errors):
        if error is None:
            results[prog] = None
        else:
            remove(binary)   # never grade an old binary of new code
            write_text(binary + ".compile.log", error[:LOG_LIMIT])
            results[prog] = error.strip()[:LOG_LIMIT] or "the build failed"
    return results


BUILD_CACHE = os.environ.get("LAB_BUILD_CACHE") or os.path.join(
    ROOT, "build", "cache")
COMPILER = []


def compiler_version():
    """The compiler's own words on its version, asked once."""
    if not COMPILER:
        try:
            _, out, _ = run([os.environ.get("CC") or "cc", "--version"],
                            timeout=30)
        except OSError:
            out = b"no compiler"
        COMPILER.append(out.decode(errors="replace").split("\n")[0])
    return COMPILER[0]


def build_key(src, lesson, prog, sanitize):
    """A digest of everything a program's binary depends on: its source,
    the Makefile, the compiler and flags from the environment."""
    h = hashlib.sha256()
    for path in (os.path.join(src, lesson, prog + ".c"),
                 os.path.join(ROOT, "Makefile")):
        with open(path, "rb") as f:
            h.update(f.read(SOURCE_LIMIT + 1))
        h.update(b"\0")
    for var in ("CC", "CFLAGS", "CPPFLAGS", "LDFLAGS", "LDLIBS"):
        h.update(("%s=%s\0" % (var, os.environ.get(var, ""))).encode())
    h.update(b"sanitize" if sanitize else b"plain")
    h.update(compiler_version().encode())
    return h.hexdigest()[:32]


def compile_cached(lesson, prog, src, binary, slot, sanitize):
    """compile_one, unless the same source was built with the same
    Makefile and flags before: a check of unchanged code then takes the
    binary it built last time (BINARY.key names what it was built from)."""
    key_file = binary + ".key"
    try:
        key = build_key(src, lesson, prog, sanitize)
    except OSError:
        key = None
    try:
        with open(key_file) as f:
            same = key is not None and f.read().strip() == key
    except OSError:
        same = False
    if same and os.path.isfile(binary):
        return None
    remove(key_file)
    # A class hands in many identical files (the skeleton untouched, the
    # partner program as given): one build serves every copy.
    shared = key and os.path.join(BUILD_CACHE, key)
    if shared and os.path.isfile(shared):
        try:
            tmp = binary + ".from-cache"
            shutil.copyfile(shared, tmp)
            os.chmod(tmp, 0o755)
            os.replace(tmp, binary)
            write_text(key_file, key + "\n")
            return None
        except OSError:
            pass
    error = compile_one(lesson, prog, src, binary, slot, sanitize)
    if error is None and key is not None:
        write_text(key_file, key + "\n")
        try:
            os.makedirs(BUILD_CACHE, exist_ok=True)
            tmp = "%s.%d.tmp" % (shared, threading.get_ident())
            shutil.copyfile(binary, tmp)
            os.replace(tmp, shared)
        except OSError:
            pass
    return error


def compile_one(lesson, prog, src, binary, slot, sanitize):
    """Build src/LESSON/PROG.c with the Makefile's rule in a fresh folder
    (as the sandbox uid, under limits); move the binary in place. Returns
    None or the compiler's output."""
    stage = tempfile.mkdtemp(prefix=".stage-", dir=os.path.dirname(binary))
    try:
        os.chmod(stage, 0o755)
        slot.chown(stage)
        target = os.path.join(stage, "lessons", lesson, prog)
        limits = list(COMPILE_LIMITS)
        if slot.uid is not None:
            limits.append(("nproc", 64))
        cmd = slot.prefix(limits) + [
            "make", "-s", "--no-print-directory", "-C", MAKE_DIR,
            "BUILD=" + stage, "LESSONS_SRC=" + src, target]
        if sanitize:
            cmd.append("SANITIZE=1")
        status, out, timed_out = run(cmd, timeout=BUILD_BOUND, cwd=ROOT,
                                     env=make_env())
        # The compiler's words; make's own line names our staging folder.
        text = "".join(l for l in out.decode(errors="replace").splitlines(
            True) if not l.startswith("make: *** "))
        if timed_out:
            return text[:LOG_LIMIT // 2] + \
                "\nthe compiler ran longer than %d s and was stopped\n" % \
                BUILD_BOUND
        if status != 0 or not os.path.isfile(target):
            return text or "the build failed (status %d)\n" % status
        os.chown(target, os.geteuid(), os.getegid())
        os.chmod(target, 0o755)
        os.replace(target, binary)   # atomic, even if the old one runs
        return None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_text(path, text):
    with open(path, "w") as f:
        f.write(text)


# ---------------------------------------------------------------- running a lesson's test

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


PEERC = os.path.join(ROOT, "build", "tools", "peerc")
PEERD = os.path.join(ROOT, "tests", "harness", "peerd.py")


def build_peerc():
    """Build peerc, which runs harness peers through a peerd: a fork
    instead of a Python start for each. Without it the tests start Python
    for every peer, as before (slower, as strict)."""
    run(["make", "-s", "--no-print-directory", "-C", ROOT,
         "build/tools/peerc"], timeout=BUILD_BOUND, env=make_env())
    return os.access(PEERC, os.X_OK)


def with_peerd(cmd, env):
    """Return (cmd, env) that start a peerd beside the test, in its network
    namespace, and tell the test where it listens; the peerd dies with the
    test's process group."""
    if not os.access(PEERC, os.X_OK):
        return cmd, env
    sock = os.path.join(tempfile.mkdtemp(prefix="socklab-peerd-"), "sock")
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


def run_bats(lesson, env, bound, slot):
    """Run the lesson's test under an outer time bound; return the
    TapReader and whether the run was stopped at the bound. A step that
    makes no progress for STEP_BOUND + 5 s has its programs killed."""
    cmd = netns_prefix() + ["bats", "--tap", "--timing"]
    if RunOptions.only_step is not None:
        cmd += ["--filter", "^step %d: " % RunOptions.only_step]
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
        shutil.rmtree(os.path.dirname(env["LAB_PEERD"]), ignore_errors=True)
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
           k not in ("LAB_SANDBOX_UID", "LAB_SANDBOX_TAG", "LAB_SANDBOX_LOG",
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
        env["LAB_SANDBOX_UID"] = str(slot.uid)
    elif os.geteuid() == 0:
        env["LAB_SANDBOX_UID"] = "off"   # Sandbox(use_uid=False)
    if slot.cgroup_procs:
        env["LAB_SANDBOX_CGROUPS"] = " ".join(slot.cgroup_procs)
    if sanitize:
        env["SANITIZE"] = "1"
    return env


def grade_lesson(lesson, impl, src, bin_dir, sandbox, weight, sanitize,
                 programs=None, problems=None):
    """Build and test one lesson; return its result record."""
    started = time.monotonic()
    names = steps_of(lesson)
    slot = sandbox.acquire("socklab-%d-%d-%s" % (
        os.getpid(), random.randrange(1 << 30), lesson[:2]))
    held = [round(time.time(), 3)]
    try:
        compiled = build(lesson, src, bin_dir, slot, sanitize, programs,
                         problems)
        if RunOptions.reporter:
            RunOptions.reporter.build(lesson, compiled)
        submitted = any(not os.path.exists(os.path.join(
            bin_dir, lesson, p + ".missing")) for p in compiled) or \
            bool(problems)
        bound = STEP_BOUND * len(names) + 10
        log = os.path.join(bin_dir, lesson, ".sandbox.log")
        remove(log)
        if submitted:
            env = test_env(impl, bin_dir, slot, sanitize, log)
            reader, stopped = run_bats(lesson, env, bound, slot)
            outcome = reader.outcome(names)
            other = "\n".join(reader.other[-40:])
        else:
            outcome, stopped, other = {}, False, ""
        left = slot.kill_all()
        stray = slot.sweep_files()
        cleaned = read_log(log)
    finally:
        slot.release()
        held.append(round(time.time(), 3))
    steps = []
    for i, name in enumerate(names, 1):
        passed, transcript, seconds, note = outcome.get(
            name, (False, "", None, None))
        not_run = None
        if note and note.startswith("skip not run:"):
            not_run = note[len("skip not run: "):]
        elif RunOptions.only_step is not None and i != RunOptions.only_step:
            not_run = "only step %d was run" % RunOptions.only_step
        if not_run:
            passed, transcript = False, "not run: " + not_run
        elif not submitted:
            transcript = "lessons/%s was not in the submission" % lesson
        elif name not in outcome:
            transcript = ("the test run was stopped after %d s, before this "
                          "step ran" % bound) if stopped else \
                "this step did not run: the test ended early\n" + other
        elif note and note.startswith("timeout"):
            transcript = ("the step was stopped at its bound of %d s\n"
                          % STEP_BOUND) + transcript
        w = weight(lesson, i)
        steps.append({"step": i, "name": name, "passed": passed,
                      "points": w if passed else 0.0, "max_points": w,
                      "seconds": seconds, "ran": not not_run,
                      "transcript": "" if passed else transcript})
        if passed and note and re.match(r"^skip\b", note):
            # The test skipped it (`skip REASON`: say, no IPv6 loopback
            # here): counted as passed, never failed; exporters show why.
            steps[-1]["skipped"] = note[4:].strip() or "skipped"
    record = {
        "lesson": lesson,
        "passed": sum(s["passed"] for s in steps),
        "total": len(steps),
        "points": sum(s["points"] for s in steps),
        "max_points": sum(s["max_points"] for s in steps),
        "compile": {p: ("ok" if e is None else e) for p, e in compiled.items()},
        "seconds": round(time.monotonic() - started, 2),
        "steps": steps,
        "sandbox": {"uid": slot.uid, "held": held, "survivors": left,
                    "files_removed": stray, "cleaned": cleaned},
    }
    return record


def grade_safely(lesson, impl, src, bin_dir, sandbox, weight, sanitize,
                 programs=None, problems=None):
    """grade_lesson, but a failure of the grader itself (a bug, a full
    disk) fails that lesson with the reason instead of the whole run."""
    try:
        return grade_lesson(lesson, impl, src, bin_dir, sandbox, weight,
                            sanitize, programs, problems)
    except Exception as e:   # noqa: BLE001 - reported, never hidden
        why = "the grader failed on this lesson: %s: %s" % (
            type(e).__name__, e)
        print("grade: %s: %s" % (lesson, why), file=sys.stderr)
        steps = [{"step": i, "name": n, "passed": False, "points": 0.0,
                  "max_points": weight(lesson, i), "seconds": None,
                  "transcript": why}
                 for i, n in enumerate(steps_of(lesson), 1)]
        return {"lesson": lesson, "passed": 0, "total": len(steps),
                "points": 0.0, "max_points": sum(s["max_points"]
                                                 for s in steps),
                "compile": {}, "seconds": 0.0, "steps": steps,
                "sandbox": {"uid": None, "held": [], "survivors": 0,
                            "files_removed": [], "cleaned": []},
                "grader_error": why}


def read_log(path):
    """The lines of the sandbox's clean-up log (bounded), then remove it."""
    try:
        with open(path, errors="replace") as f:
            lines = f.read(LOG_LIMIT).splitlines()
        os.unlink(path)
        return lines[:200]
    except OSError:
        return []


def grade_tree(impl, src, bin_dir, lessons, jobs, weight, sanitize,
               use_uid=True):
    """Grade lessons in parallel, each with a sandbox of its own."""
    sandbox = Sandbox(use_uid)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(grade_safely, lesson, impl, src, bin_dir,
                               sandbox, weight, sanitize)
                   for lesson in lessons]
        return [f.result() for f in futures]


# ---------------------------------------------------------------- reports

def write_json(path, report):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def write_junit(path, lessons, suite_prefix=""):
    """Write one JUnit testsuite per lesson, one testcase per step."""
    root = ET.Element("testsuites", name="socklab")
    for l in lessons:
        suite = ET.SubElement(root, "testsuite", name=suite_prefix + l["lesson"],
                              tests=str(l["total"]),
                              failures=str(l["total"] - l["passed"]),
                              time=str(l["seconds"]))
        for s in l["steps"]:
            case = ET.SubElement(suite, "testcase",
                                 classname=suite_prefix + l["lesson"],
                                 name=s["name"])
            if s.get("seconds") is not None:
                case.set("time", "%.3f" % s["seconds"])
            if not s["passed"]:
                first = (s["transcript"].splitlines() or ["failed"])[0]
                fail = ET.SubElement(case, "failure", message=xml_safe(
                    first[:300]))
                fail.text = xml_safe(s["transcript"])
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def xml_safe(text):
    """Drop the characters XML 1.0 cannot hold (a student's stderr may)."""
    return re.sub(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]",
                  "?", text)


def colour(text, code, stream=sys.stdout):
    """Colour text for a terminal, never for a pipe or with NO_COLOR."""
    if stream.isatty() and not os.environ.get("NO_COLOR"):
        return "\033[%sm%s\033[0m" % (code, text)
    return text


def fmt_points(x):
    return ("%g" % x)


class Reporter:
    """Print each step's verdict the moment it is known: one line a step
    with its transcript when it fails, under a progress line on a terminal
    (step k of n, elapsed); or, with events, one JSON object a line for
    the lab. Lessons run in parallel threads: one lock orders the lines."""

    def __init__(self, total, events=False, stream=None):
        self.stream = stream or sys.stdout
        self.total, self.done, self.events = total, 0, events
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.not_run = {}
        self.tty = self.stream.isatty() and not events
        self.shown = False
        if self.tty:
            threading.Thread(target=self._tick, daemon=True).start()

    def _progress(self):
        """Redraw the progress line (call with the lock held)."""
        if self.tty:
            self.stream.write("\r\033[K" + colour(
                "[step %d of %d, %.1f s]" % (min(self.done + 1, self.total),
                                            self.total, time.monotonic() -
                                            self.started), "2", self.stream))
            self.stream.flush()
            self.shown = True

    def _tick(self):
        while True:
            time.sleep(0.5)
            with self.lock:
                if self.done >= self.total:
                    return
                self._progress()

    def build(self, lesson, compiled):
        """Say which programs did not compile, before any step runs."""
        with self.lock:
            if self.events:
                self.stream.write(json.dumps({
                    "event": "build", "lesson": lesson, "compile": {
                        p: "ok" if e is None else e
                        for p, e in compiled.items()}}) + "\n")
                self.stream.flush()

    def step(self, lesson, number, name, passed, transcript, seconds, note):
        with self.lock:
            self.done += 1
            not_run = bool(note and note.startswith("skip not run:"))
            if self.events:
                self.stream.write(json.dumps({
                    "event": "step", "lesson": lesson, "step": number,
                    "name": name, "passed": passed and not not_run,
                    "ran": not not_run, "seconds": seconds,
                    "skipped": note[4:].strip() if passed and note and
                    note.startswith("skip") else None,
                    "transcript": "" if passed else transcript}) + "\n")
                self.stream.flush()
                return
            if self.shown:
                self.stream.write("\r\033[K")
                self.shown = False
            if not_run:
                self.not_run[lesson] = self.not_run.get(lesson, 0) + 1
            elif passed and note and note.startswith("skip"):
                self.stream.write("%s %s %s (%s)\n" % (
                    colour("skip", "33", self.stream), lesson, name,
                    note[4:].strip()))
            elif passed:
                self.stream.write("%s %s %s%s\n" % (
                    colour("ok  ", "32", self.stream), lesson, name,
                    "" if seconds is None else " (%.1f s)" % seconds))
            else:
                self.stream.write("%s %s %s\n" % (
                    colour("FAIL", "31", self.stream), lesson, name))
                for line in transcript.splitlines():
                    self.stream.write("    " + line + "\n")
            if self.done < self.total:
                self._progress()
            self.stream.flush()

    def finish(self):
        with self.lock:
            self.done = self.total
            if self.shown:
                self.stream.write("\r\033[K")
            for lesson, n in sorted(self.not_run.items()):
                if not self.events:
                    self.stream.write(
                        "%s: stopped at the first failing step; %d more "
                        "not run (--all runs every step)\n" % (lesson, n))
            self.stream.flush()


def print_table(lessons, seconds, show_failures):
    """Print the per-step outcome, failure transcripts, and the table."""
    for l in lessons:
        if show_failures:
            for s in l["steps"]:
                if not s["passed"]:
                    print(colour("FAIL", "31"), "%s %s" % (l["lesson"], s["name"]))
                    for line in s["transcript"].splitlines():
                        print("    " + line)
    print()
    print("%-22s %8s %10s" % ("lesson", "steps", "points"))
    for l in lessons:
        mark = colour("ok", "32") if l["passed"] == l["total"] else \
            colour("--", "31")
        print("%-22s %8s %10s  %s" % (
            l["lesson"], "%d/%d" % (l["passed"], l["total"]),
            "%s/%s" % (fmt_points(l["points"]), fmt_points(l["max_points"])),
            mark))
    passed = sum(l["passed"] for l in lessons)
    total = sum(l["total"] for l in lessons)
    points = sum(l["points"] for l in lessons)
    max_points = sum(l["max_points"] for l in lessons)
    print("%-22s %8s %10s  (%.1f s)" % ("total", "%d/%d" % (passed, total),
                                       "%s/%s" % (fmt_points(points),
                                                  fmt_points(max_points)),
                                       seconds))


def summarise(impl, results, seconds):
    return {
        "impl": impl, "seconds": round(seconds, 2),
        "passed": sum(l["passed"] for l in results),
        "total": sum(l["total"] for l in results),
        "points": sum(l["points"] for l in results),
        "max_points": sum(l["max_points"] for l in results),
        "lessons": results,
    }


# ---------------------------------------------------------------- check: one tree

def cmd_check(args):
    impl = args.impl
    src = os.path.join(ROOT, impl) if impl == "solutions" else \
        os.path.abspath(args.src or os.path.join(ROOT, "lessons"))
    lessons = select(discover(src), args.lesson)
    lessons = [l for l in lessons if has_test(l)]
    if not lessons:
        print("grade: no lessons found in %s" % src, file=sys.stderr)
        return 1
    default_bin = os.path.join(ROOT, "build", "sanitize", impl) \
        if args.sanitize else os.path.join(ROOT, "build", impl)
    bin_dir = os.path.abspath(args.bin or default_bin)
    for path in (src, bin_dir):
        if not SAFE_PATH.match(path):
            die("%s: make cannot build from a path with spaces or special "
                "characters; copy it somewhere plainer" % path)
    os.makedirs(bin_dir, exist_ok=True)
    if args.step is not None and (len(lessons) != 1 or not
                                  1 <= args.step <= len(steps_of(lessons[0]))):
        die("--step N needs one lesson (--lesson NN) that has a step N")
    weight = load_weights(args.weights)
    work = Workspace.when_needed(src, bin_dir)
    run_src, run_bin = src, bin_dir
    if work:
        run_src = work.folder("src", src)
        run_bin = work.folder("bin", bin_dir)
        for lesson in lessons:
            os.makedirs(os.path.join(run_src, lesson), exist_ok=True)
            for prog in programs_of(os.path.join(src, lesson)):
                shutil.copy(os.path.join(src, lesson, prog + ".c"),
                            os.path.join(run_src, lesson))
            if os.path.isdir(os.path.join(bin_dir, lesson)):
                # Last time's binaries: unchanged code is not rebuilt.
                work.copy_back(os.path.join(bin_dir, lesson),
                               os.path.join(run_bin, lesson))
    become_subreaper()
    build_peerc()
    RunOptions.first_failure = args.first_failure
    RunOptions.only_step = args.step
    streaming = args.events or not (args.quiet or args.expect == "fail")
    if streaming:
        total = len(lessons) if args.step else \
            sum(len(steps_of(l)) for l in lessons)
        RunOptions.reporter = Reporter(total, events=args.events)
    started = time.monotonic()
    # The longest lessons first, so the last one to start is a short one.
    order = sorted(lessons, key=lambda l: -len(steps_of(l)))
    try:
        done = grade_tree(impl, run_src, run_bin, order, args.jobs, weight,
                          args.sanitize)
        if work:
            done = work.restore(done)
            work.copy_back(run_bin, bin_dir)
    finally:
        if work:
            work.remove()
    results = sorted(done, key=lambda r: r["lesson"])
    seconds = time.monotonic() - started
    if RunOptions.reporter:
        RunOptions.reporter.finish()
    reports = os.path.abspath(args.reports)
    os.makedirs(reports, exist_ok=True)
    report = summarise(impl, results, seconds)
    report["sanitize"] = bool(args.sanitize)
    report["src"] = src   # the lab takes a check of its lessons/ as progress
    report["first_failure"] = bool(args.first_failure)
    report["only_step"] = args.step
    write_json(os.path.join(reports, "results.json"), report)
    write_junit(os.path.join(reports, "junit.xml"), results)
    if args.expect == "fail":
        return expect_all_failed(results, seconds)
    if args.events:
        return 0 if report["passed"] == report["total"] else 1
    print_table(results, seconds, not args.quiet and not streaming)
    print("reports: %s/results.json, %s/junit.xml" % (
        os.path.relpath(reports), os.path.relpath(reports)))
    return 0 if report["passed"] == report["total"] else 1


def has_test(lesson):
    if os.path.isfile(test_file(lesson)):
        return True
    print("grade: %s has no test tests/%s.bats: skipped" % (lesson, lesson),
          file=sys.stderr)
    return False


def expect_all_failed(results, seconds):
    """make test's second half: every step must fail on the skeletons, or
    its test could not tell a finished lesson from an untouched one."""
    # A step its test skipped (no IPv6 loopback here, say) proves nothing
    # either way: it is counted as failing as it must, and said.
    skipped = [(l["lesson"], s["name"], s["skipped"]) for l in results
               for s in l["steps"] if s.get("skipped")]
    for lesson, name, why in skipped:
        print(colour("skipped", "33"), "%s %s: %s" % (lesson, name, why))
    vacuous = [(l["lesson"], s["name"]) for l in results for s in l["steps"]
               if s["passed"] and not s.get("skipped")]
    total = sum(l["total"] for l in results)
    for lesson, name in vacuous:
        print(colour("VACUOUS", "31"),
              "%s %s: passes on the untouched skeleton" % (lesson, name))
    print("skeletons: %d of %d steps fail as they must (%.1f s)" % (
        total - len(vacuous), total, seconds))
    return 1 if vacuous else 0


# ---------------------------------------------------------------- class: many students

def student_name(folder, taken):
    """A safe, unique name for a student folder: letters, digits, . _ -,
    starting with a letter or digit (no path tricks, no hidden files, no
    spreadsheet formulas)."""
    name = re.sub(r"\.\.+", "_", folder)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    name = re.sub(r"^[^A-Za-z0-9]+", "", name)[:64] or "student"
    base, n = name, 2
    while name in taken:
        name = "%s-%d" % (base, n)
        n += 1
    taken.add(name)
    return name


def find_lessons_tree(folder):
    """Where a submission keeps its lessons: FOLDER/lessons, FOLDER itself
    (NN-slug folders directly in it), or a lessons/ one or two levels down
    (an unpacked archive). Symbolic links are never followed."""
    def is_dir(p):
        try:
            return stat.S_ISDIR(os.lstat(p).st_mode)
        except OSError:
            return False

    def has_lessons(p):
        try:
            return any(LESSON_NAME.match(n) and is_dir(os.path.join(p, n))
                       for n in os.listdir(p))
        except OSError:
            return False

    if is_dir(os.path.join(folder, "lessons")):
        return os.path.join(folder, "lessons")
    if has_lessons(folder):
        return folder
    level = [folder]
    for _ in range(2):
        nxt = []
        for d in level:
            try:
                names = sorted(os.listdir(d))
            except OSError:
                continue
            for n in names:
                p = os.path.join(d, n)
                if not n.startswith(".") and is_dir(p):
                    if is_dir(os.path.join(p, "lessons")):
                        return os.path.join(p, "lessons")
                    nxt.append(p)
        level = nxt
    return None


def copy_submission(tree, lessons, dest):
    """Copy the lesson programs this checkout grades (lessons/NN-slug/X.c
    for every X.c of our lesson) from tree to dest: regular files only, at
    most SOURCE_LIMIT bytes. Returns {lesson: {program: problem}} for what
    could not be taken; a program simply absent is left out."""
    shutil.rmtree(dest, ignore_errors=True)
    problems = {}
    for lesson in lessons:
        os.makedirs(os.path.join(dest, lesson), exist_ok=True)
        for prog in programs_of(os.path.join(ROOT, "lessons", lesson)):
            if tree is None:
                continue
            path = os.path.join(tree, lesson, prog + ".c")
            try:
                st = os.lstat(path)
            except OSError:
                continue
            why = None
            if not stat.S_ISREG(st.st_mode):
                why = "is not a regular file (a link?)"
            elif st.st_size > SOURCE_LIMIT:
                why = "is larger than %d bytes" % SOURCE_LIMIT
            if why:
                problems.setdefault(lesson, {})[prog] = why
                continue
            target = os.path.join(dest, lesson, prog + ".c")
            with open(path, "rb") as f, open(target, "wb") as out:
                out.write(f.read(SOURCE_LIMIT))
            os.chmod(target, 0o644)
    return problems


def cmd_class(args):
    RunOptions.first_failure = args.first_failure
    folder = os.path.abspath(args.submissions)
    if not os.path.isdir(folder):
        die("no folder %s" % folder)
    ours = os.path.join(ROOT, "lessons")
    lessons = [l for l in select(discover(ours), args.lesson) if has_test(l)]
    if not lessons:
        die("no lessons with tests in %s" % ours)
    build_root = os.path.abspath(args.build or os.path.join(ROOT, "build",
                                                            "grade"))
    reports = os.path.abspath(args.reports)
    if not SAFE_PATH.match(build_root):
        die("%s: make cannot build in a path with spaces or special "
            "characters; pass --build DIR" % build_root)
    weight = load_weights(args.weights)
    os.makedirs(build_root, exist_ok=True)
    work = Workspace.when_needed(build_root)
    asked_build_root = build_root
    if work:
        build_root = work.folder("grade", build_root)
    become_subreaper()
    build_peerc()
    if os.geteuid() != 0:
        print("grade: not root: student programs run as you, with their "
              "limits but without a sandbox uid, control group or network "
              "namespace; a hostile one can slow this machine while its "
              "step lasts (docs/instructors.md)", file=sys.stderr)

    taken, students = set(), []
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if entry.startswith(".") or not stat.S_ISDIR(os.lstat(path).st_mode):
            continue
        name = student_name(entry, taken)
        tree = find_lessons_tree(path)
        home = os.path.join(build_root, name)
        src = os.path.join(home, "src")
        problems = copy_submission(tree, lessons, src)
        students.append({"student": name, "folder": entry,
                         "lessons_found": tree and os.path.relpath(tree,
                                                                   folder),
                         "home": home, "src": src, "problems": problems})
    if not students:
        die("no student folders in %s" % folder)
    bin_name = "bin-sanitize" if args.sanitize else "bin"
    sandbox = Sandbox()
    started = time.monotonic()
    tasks = [(s, l) for s in students for l in lessons]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(grade_student_lesson, s, l, bin_name, sandbox,
                               weight, args.sanitize) for s, l in tasks]
        done = [f.result() for f in futures]
    seconds = time.monotonic() - started
    if work:
        done = work.restore(done)
    for (s, _), record in zip(tasks, done):
        s.setdefault("results", []).append(record)
    trouble = write_class_reports(students, lessons, reports, seconds, args)
    if work:
        work.copy_back(build_root, asked_build_root)
        work.remove()
    print_class_table(students, lessons, seconds, args.jobs)
    print("reports: %s, %s, %s/" % tuple(os.path.relpath(os.path.join(
        reports, n)) for n in ("grades.csv", "grades.json", "junit")))
    if trouble:
        print("grade: the grader had trouble (see grades.json: "
              "grader_error, sandbox.survivors) with: %s" %
              ", ".join(trouble), file=sys.stderr)
        return 1
    return 0


def grade_student_lesson(student, lesson, bin_name, sandbox, weight,
                         sanitize):
    """Grade one lesson of one student from their copied sources."""
    bin_dir = os.path.join(student["home"], bin_name)
    programs = programs_of(os.path.join(ROOT, "lessons", lesson))
    return grade_safely(lesson, "lessons", student["src"], bin_dir,
                        sandbox, weight, sanitize, programs,
                        student["problems"].get(lesson))


def write_class_reports(students, lessons, reports, seconds, args):
    """grades.csv, grades.json, junit/STUDENT.xml and each student's
    results.json; returns the students whose sandbox left something."""
    os.makedirs(os.path.join(reports, "junit"), exist_ok=True)
    max_points = {}
    for s in students:
        for r in s["results"]:
            max_points[r["lesson"]] = r["max_points"]
    rows, trouble = [], []
    for s in students:
        res = s["results"]
        s["points"] = {r["lesson"]: r["points"] for r in res}
        s["total"] = sum(r["points"] for r in res)
        if any(r["sandbox"]["survivors"] or r.get("grader_error")
               for r in res):
            trouble.append(s["student"])
        summary = summarise("lessons", res, sum(r["seconds"] for r in res))
        summary["student"] = s["student"]
        write_json(os.path.join(s["home"], "results.json"), summary)
        write_junit(os.path.join(reports, "junit", s["student"] + ".xml"),
                    res, suite_prefix=s["student"] + ".")
        rows.append([s["student"]] + [fmt_points(s["points"][l])
                                      for l in lessons] +
                    [fmt_points(s["total"])])
    tmp = os.path.join(reports, "grades.csv.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["student"] + lessons + ["total"])
        w.writerows(rows)
    os.replace(tmp, os.path.join(reports, "grades.csv"))
    write_json(os.path.join(reports, "grades.json"), {
        "lessons": lessons,
        "max_points": max_points,
        "max_total": sum(max_points.values()),
        "seconds": round(seconds, 2),
        "jobs": args.jobs,
        "sanitize": bool(args.sanitize),
        "students": [{
            "student": s["student"], "folder": s["folder"],
            "lessons_found": s["lessons_found"],
            "points": s["points"], "total": s["total"],
            "passed": sum(r["passed"] for r in s["results"]),
            "steps": sum(r["total"] for r in s["results"]),
            "seconds": round(sum(r["seconds"] for r in s["results"]), 2),
            "lessons": s["results"],
        } for s in students],
    })
    return trouble


def print_class_table(students, lessons, seconds, jobs):
    """One line per student: points per lesson and the total."""
    width = max([7] + [len(s["student"]) for s in students])
    maxes = {l: 0.0 for l in lessons}
    for s in students:
        for r in s["results"]:
            maxes[r["lesson"]] = r["max_points"]
    head = "%-*s " % (width, "student") + " ".join(
        "%6s" % l[:2] for l in lessons) + " %8s" % "total"
    print(head)
    print("%-*s " % (width, "(max)") + " ".join(
        "%6s" % fmt_points(maxes[l]) for l in lessons) +
        " %8s" % fmt_points(sum(maxes.values())))
    for s in students:
        line = "%-*s " % (width, s["student"]) + " ".join(
            "%6s" % fmt_points(s["points"][l]) for l in lessons) + \
            " %8s" % fmt_points(s["total"])
        if s["lessons_found"] is None:
            line += "  (no lessons/ found)"
        print(line)
    print("%d students, %d lessons, %.1f s with %d jobs" % (
        len(students), len(lessons), seconds, jobs))


# ---------------------------------------------------------------- command line

def main(argv):
    p = argparse.ArgumentParser(prog="grade.py", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    sanitize = os.environ.get("SANITIZE") == "1"
    jobs = os.cpu_count() or 2

    c = sub.add_parser("check", help="grade the lessons of this checkout")
    c.add_argument("--impl", choices=("lessons", "solutions"),
                   default=os.environ.get("LAB_IMPL", "lessons"))
    c.add_argument("--lesson", action="append",
                   help="NN, slug or NN-slug (repeatable)")
    c.add_argument("--expect", choices=("pass", "fail"), default="pass")
    c.add_argument("--reports", default=os.path.join(ROOT, "build", "reports"))
    c.add_argument("--src", help="the lessons/ tree to grade (default ours)")
    c.add_argument("--bin", help="where to build it (default build/IMPL, "
                   "build/sanitize/IMPL with --sanitize)")
    c.add_argument("--jobs", type=int, default=jobs)
    c.add_argument("--weights", help="weights file (default "
                   "tests/grader/weights.conf)")
    c.add_argument("--sanitize", action="store_true", default=sanitize,
                   help="build with ASan+UBSan (also SANITIZE=1)")
    c.add_argument("--quiet", action="store_true",
                   help="no failure transcripts, only the table")
    c.add_argument("--first-failure", action="store_true",
                   help="skip the steps after a lesson's first failing one")
    c.add_argument("--step", type=int,
                   help="run this step alone (with one --lesson)")
    c.add_argument("--events", action="store_true",
                   help="print each step as a JSON line as it finishes "
                   "(for the lab), no table")

    k = sub.add_parser("class", help="grade a folder of submissions")
    k.add_argument("submissions", help="one folder per student")
    k.add_argument("--lesson", action="append",
                   help="grade only these lessons (NN, slug or NN-slug)")
    k.add_argument("--reports", default=os.path.join(ROOT, "build", "reports"))
    k.add_argument("--build", help="where the students' builds go "
                   "(default build/grade)")
    k.add_argument("--jobs", type=int, default=jobs,
                   help="lessons graded at once (default: the cores)")
    k.add_argument("--weights", help="weights file (default "
                   "tests/grader/weights.conf)")
    k.add_argument("--sanitize", action="store_true", default=sanitize,
                   help="build with ASan+UBSan (also SANITIZE=1)")
    k.add_argument("--quiet", action="store_true", help="(accepted)")
    k.add_argument("--first-failure", action="store_true",
                   help="skip the steps after a lesson's first failing one "
                   "(tests/lib/mutants: where a wrong program first fails)")

    args = p.parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_interrupt)
    if args.command == "check":
        return cmd_check(args)
    if args.command == "class":
        return cmd_class(args)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
