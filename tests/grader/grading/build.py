"""Building a lesson's programs: each on its own, under limits, as the
sandbox uid, with a cache of binaries keyed by what they are built from.
"""

import hashlib
import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

from . import sandbox
from .config import (
    BUILD_BOUND, LOG_LIMIT, ROOT, SOURCE_LIMIT, remove, write_text)
from .catalog import programs_of
from .procs import run


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
COMPILER_LOCK = threading.Lock()


def compiler_version():
    """The compiler's own words on its version, asked once (a lesson's
    programs are built at once, in threads)."""
    with COMPILER_LOCK:
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
            "make", "-s", "--no-print-directory", "-C", sandbox.MAKE_DIR,
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
