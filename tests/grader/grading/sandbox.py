"""Who student programs run as (a sandbox uid or tag, control groups) and
where the sandbox uid can work (Workspace).
"""

import fcntl
import json
import os
import pwd
import random
import re
import shutil
import signal
import stat
import tempfile
import time

from .config import ROOT, SANDBOX_UID_BASE, SANDBOX_UID_COUNT, die
from .procs import (
    ACTIVE_SLOTS, processes_of_uid, reap_orphans, run, tagged_processes)


# Starts a program with limits, as a uid (tests/harness/sandbox-exec.c);
# grading.bats.build_tools() builds it.
SANDBOX_EXEC = os.path.join(ROOT, "build", "tools", "sandbox-exec")


def uid_has_processes(uid):
    """Has uid a process (a zombie too)? sandbox-exec asks the kernel's
    count of the uid's tasks in one exec; a scan of /proc (processes_of_uid)
    costs more the busier the machine is, and ran several times a lesson."""
    try:
        status, _, _ = run([SANDBOX_EXEC, "--uid=%d" % uid, "--any-left"],
                           timeout=5)
    except OSError:
        status = None
    if status in (0, 1):
        return status == 0
    return bool(processes_of_uid(uid))   # it could not tell: look


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
            self.lock_dir = self.find_lock_dir()
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
    def find_lock_dir():
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
            if uid_has_processes(uid):
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
        cmd = [SANDBOX_EXEC] + ["--%s=%s" % kv for kv in limits] + \
            ["--nice=%d" % nice]
        if self.uid is not None:
            cmd.append("--uid=%d" % self.uid)
        return cmd + ["--env=LAB_SANDBOX_TAG=" + self.tag, "--"]

    def chown(self, path):
        if self.uid is not None:
            os.chown(path, self.uid, self.uid)

    def kill_all(self, seconds=5):
        """Kill every process of the uid (or of the tag) until none is
        left; returns how many were still alive at the end (0 is good)."""
        end = time.monotonic() + seconds
        if self.uid is not None and not uid_has_processes(self.uid):
            return 0          # the usual case, told without a scan
        while True:
            if self.uid is not None:
                live = processes_of_uid(self.uid, zombies=False)
                if live:
                    # kill(-1) as the uid itself: every process of it at
                    # once, atomically, so a fork bomb cannot outrun it.
                    run([SANDBOX_EXEC, "--uid=%d" % self.uid,
                         "--kill-all"], timeout=5)
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
        # The uid (no groups) writes only in folders it owns or anyone may
        # write to, so only those are walked: not other runs' work and
        # build folders, thousands of files that a sweep after every
        # lesson walked again. (A simplification: a world-writable folder
        # inside a folder of someone else's is not reached; ours are all
        # at the top of /tmp.)
        _, out, _ = run(["find"] + dirs + [
            "-xdev", "(", "-type", "d", "!", "-user", uid, "!", "-perm",
            "-0002", ")", "-prune", "-o", "-user", uid, "-print0"],
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
    v1 cpu and pids, or v2): each lesson's student programs share half a
    CPU at most and a cap on tasks, so a fork bomb of one student cannot
    slow the grading of the others. Without them (a container, LAB_CGROUP=0)
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
                    "cpu.cfs_quota_us": "50000", "cpu.cfs_period_us":
                    "100000", "pids.max": "1024", "cpu.max":
                    "50000 100000"}
                for key, value in settings.items():
                    if os.path.exists(os.path.join(d, key)):
                        with open(os.path.join(d, key), "w") as f:
                            f.write(value)
                procs.append(os.path.join(d, "cgroup.procs"))
        except OSError:
            self.remove(name)
            return []
        self.reweigh()
        return procs

    def reweigh(self):
        """Give the sandboxes' parent group the CPU weight of as many
        ordinary processes as there are sandboxes (each of every grader on
        the machine has a group in it). With the default, one process's
        weight, every student program at once shared what one process of
        the tests gets: on a busy machine they waited tens of ms to run,
        and a step that needs them prompt (a signal that must find a
        server blocked in recv()) went by chance, and a fork bomb's
        neighbours waited seconds to start. Each sandbox has half a CPU at
        most, so a program that spins (a busy loop, a fork bomb) takes no
        more than before from the tests around it."""
        for parent in self.parents:
            try:
                count = sum(1 for e in os.scandir(parent) if e.is_dir())
                for key, unit, most in (("cpu.shares", 1024, 262144),
                                        ("cpu.weight", 100, 10000)):
                    path = os.path.join(parent, key)
                    if os.path.exists(path):
                        with open(path, "w") as f:
                            f.write(str(min(most, unit * max(1, count))))
            except OSError:
                pass     # the default weight: slower under load, as strict

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
        self.reweigh()


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
