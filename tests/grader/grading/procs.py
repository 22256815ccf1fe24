"""The processes the grader starts: spawning them in their own groups,
killing groups, reaping orphans, reading /proc.
"""

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
import time


SPAWN_LOCK = threading.Lock()
OWN_CHILDREN = set()     # pids (= process groups) of what we started
ACTIVE_SLOTS = set()     # sandboxes in use, for the interrupt handler
TEMP_DIRS = set()        # folders of the tests running, removed if we are
#                          interrupted before their end removes them


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
    end_groups(list(OWN_CHILDREN), INTERRUPT_GRACE)
    for slot in list(ACTIVE_SLOTS):
        slot.kill_all(seconds=3)
        slot.release()
    for path in list(TEMP_DIRS):
        shutil.rmtree(path, ignore_errors=True)
    os._exit(128 + signum)


INTERRUPT_GRACE = 2.0    # seconds a test has to end itself when stopped


def end_groups(pgids, grace):
    """SIGTERM the process groups pgids (our children lead them), so each
    test ends its step and removes its files; SIGKILL what is left after
    grace seconds."""
    for pgid in pgids:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    end, left = time.monotonic() + grace, set(pgids)
    while left and time.monotonic() < end:
        for pgid in list(left):
            try:
                os.waitpid(pgid, os.WNOHANG)   # a zombie leader still counts
            except ChildProcessError:
                pass
            try:
                os.killpg(pgid, 0)
            except (ProcessLookupError, PermissionError):
                left.discard(pgid)
        time.sleep(0.05)   # polling the groups' end
    for pgid in pgids:
        kill_group(pgid)


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
        # Three fields of some fifty, found without parsing the rest: this
        # runs for every process, several times per lesson graded.
        try:
            yield (int(name), int(status_field(text, "PPid")),
                   status_field(text, "State")[0],
                   int(status_field(text, "Uid")))
        except (ValueError, IndexError):
            continue


def status_field(text, name):
    """The first word of field name in a /proc/PID/status text ('' if it
    is not there)."""
    at = text.find("\n%s:" % name)
    if at < 0:
        return ""
    words = text[at + len(name) + 2:text.find("\n", at + 1)].split()
    return words[0] if words else ""


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
