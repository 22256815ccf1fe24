#!/usr/bin/env python3
"""selftest.py - what the grader's own tests (tests/grader/*.bats) use.

    selftest.py hostile OUT             one submission per hostile program
    selftest.py class OUT EXPECTED [--count N] [--seed S]
                                        N mixed submissions and their grades
    selftest.py expect GRADES STUDENT [--lesson L] [--pass STEPS]
                      [--fail STEPS:REGEX ...] [--bound S]
    selftest.py grades CSV EXPECTED [--weights FILE]
    selftest.py leftovers GRADES|RESULTS [--under DIR]
    selftest.py query JSON EXPR [--lines]
                                        EXPR (Python, the file is `j`) is
                                        true, or with --lines: print it

Each command exits 0 when all is as expected, else 1 with a message that
says what differed. Standard library only.
"""

import argparse
import csv
import fcntl
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

from grading.sandbox import Sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
HOSTILE = os.path.join(ROOT, "tests", "grader", "hostile")
LESSON01 = "01-echo-once"

# hostile program -> the lesson 01 program it replaces. The other program
# comes from solutions/. (cpu_spin and heap_overflow need settings of their
# own, LAB_LIMIT_CPU=1 and SANITIZE=1: hostile.bats grades them apart.)
HOSTILE_ROLES = {
    "never_listens": "server", "never_accepts": "server",
    "never_answers": "server", "segfault_on_connect": "server",
    "exits_at_once": "server", "fork_bomb": "server",
    "stdout_flood": "server", "ignores_sigterm": "server",
    "daemonizes": "server", "client_never_exits": "client",
    "does_not_compile": "client", "memory_hog": "client",
}


def fail(message):
    print("selftest: " + message, file=sys.stderr)
    sys.exit(1)


def lesson_programs(lesson, server, client, dest):
    """Write dest/lesson/{server,client}.c from the given source files
    (None leaves that program out)."""
    os.makedirs(os.path.join(dest, lesson), exist_ok=True)
    for name, source in (("server", server), ("client", client)):
        # A lesson may have one program only (11-http-get: a client).
        if source and os.path.exists(source):
            shutil.copyfile(source, os.path.join(dest, lesson, name + ".c"))


def solution(lesson, prog):
    return os.path.join(ROOT, "solutions", lesson, prog + ".c")


def skeleton(lesson, prog):
    return os.path.join(ROOT, "lessons", lesson, prog + ".c")


def cmd_hostile(args):
    """One student folder per hostile program, plus a control that hands
    in the solutions (it must keep all its points beside the others)."""
    os.makedirs(args.out, exist_ok=True)
    for case, role in HOSTILE_ROLES.items():
        progs = {p: solution(LESSON01, p) for p in ("server", "client")}
        progs[role] = os.path.join(HOSTILE, case + ".c")
        lesson_programs(LESSON01, progs["server"], progs["client"],
                        os.path.join(args.out, case, "lessons"))
    lesson_programs(LESSON01, solution(LESSON01, "server"),
                    solution(LESSON01, "client"),
                    os.path.join(args.out, "control", "lessons"))
    return 0


# ---------------------------------------------------------------- a class of 30

# Lesson 01 handed in in every way we know the outcome of: the programs
# (None = not handed in) and the steps that must pass.
KINDS01 = {
    "solution": (("sol", "sol"), [1, 2, 3, 4, 5, 6, 7]),
    "skeleton": (("skel", "skel"), []),
    "server-only": (("sol", "skel"), [1, 2, 3, 6]),
    "client-only": (("skel", "sol"), [4, 5]),
    "no-compile": (("sol", "does_not_compile"), [1, 2, 3, 6]),
    "crash": (("segfault_on_connect", "sol"), [1, 4, 5, 6]),
    "exits": (("exits_at_once", "sol"), [4, 5]),
    "flood": (("stdout_flood", "sol"), [4, 5]),
    "no-server": ((None, "sol"), [4, 5]),
    "missing": (None, []),
}

# Folder names and what the grader must call them.
SPECIAL_NAMES = [("Jane Doe", "Jane_Doe"), ("-rf", "rf"),
                 ("=HYPERLINK(x)", "HYPERLINK_x_"),
                 ("O'Brien; rm -rf", "O_Brien_rm_-rf"),
                 ("Zoë", "Zo_")]


def program_source(lesson, prog, how):
    if how == "sol":
        return solution(lesson, prog)
    if how == "skel":
        return skeleton(lesson, prog)
    return os.path.join(HOSTILE, how + ".c")


def other_lessons():
    """The lessons besides 01 this checkout has a test and a solution of."""
    out = []
    for d in sorted(os.listdir(os.path.join(ROOT, "lessons"))):
        if d != LESSON01 and re.match(r"^\d\d-", d) and \
                os.path.isfile(os.path.join(ROOT, "tests", d + ".bats")) and \
                os.path.isdir(os.path.join(ROOT, "solutions", d)):
            out.append(d)
    return out


def steps_count(lesson):
    with open(os.path.join(ROOT, "tests", lesson + ".bats")) as f:
        return sum(1 for line in f if re.match(r'^\s*@test\s+"', line))


def cmd_class(args):
    """args.count submissions: every kind of lesson 01 at least once, in
    three layouts (a lessons/ tree, a whole checkout, an unpacked archive
    one level down), some with hostile extras that must change nothing.
    Other lessons are handed in as solution, skeleton or not at all."""
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    kinds = list(KINDS01)
    plan = [kinds[i % len(kinds)] for i in range(args.count)]
    rng.shuffle(plan)
    others = other_lessons()
    expected = {}
    for i, kind in enumerate(plan):
        folder, name = "student%02d" % (i + 1), "student%02d" % (i + 1)
        if i < len(SPECIAL_NAMES):
            folder, name = SPECIAL_NAMES[i]
        layout = i % 3
        base = os.path.join(args.out, folder)
        if layout == 0:       # their lessons/ tree: NN-slug folders in it
            tree = base
        elif layout == 1:     # a whole checkout
            tree = os.path.join(base, "lessons")
        else:                 # an archive unpacked one level down
            tree = os.path.join(base, "socklab-main", "lessons")
        os.makedirs(tree, exist_ok=True)
        record = {"kind01": kind, "pass": {}}
        progs, passing = KINDS01[kind]
        if progs is not None:
            lesson_programs(LESSON01, *[
                program_source(LESSON01, p, how) if how else None
                for p, how in zip(("server", "client"), progs)], dest=tree)
        record["pass"][LESSON01] = passing
        for lesson in others:
            how = rng.choice(["sol", "skel", None])
            if how:
                lesson_programs(lesson, program_source(lesson, "server", how),
                                program_source(lesson, "client", how), tree)
            record["pass"][lesson] = list(range(1, steps_count(lesson) + 1)) \
                if how == "sol" else []
            record.setdefault("kinds", {})[lesson] = how or "missing"
        if layout == 1:
            add_hostile_checkout_extras(base, tree, i)
        expected[name] = record
    # A symbolic link is not a submission: the server is not graded.
    link = os.path.join(args.out, "symlinked")
    os.makedirs(os.path.join(link, LESSON01))
    os.symlink(solution(LESSON01, "server"),
               os.path.join(link, LESSON01, "server.c"))
    shutil.copyfile(solution(LESSON01, "client"),
                    os.path.join(link, LESSON01, "client.c"))
    expected["symlinked"] = {"kind01": "symlinked-server",
                             "pass": {LESSON01: [4, 5]}}
    for lesson in others:
        expected["symlinked"]["pass"][lesson] = []
    with open(args.expected, "w") as f:
        json.dump(expected, f, indent=1)
    return 0


def add_hostile_checkout_extras(base, tree, i):
    """What a whole checkout may bring that the grader must ignore: an
    edited test that passes everything, a Makefile that breaks things,
    files whose names are shell or make code."""
    os.makedirs(os.path.join(base, "tests"), exist_ok=True)
    with open(os.path.join(base, "tests", LESSON01 + ".bats"), "w") as f:
        f.write('@test "step 1: always" { true; }\n')
    with open(os.path.join(base, "Makefile"), "w") as f:
        f.write("all:\n\ttouch /tmp/socklab-selftest-pwned\n")
    lesson_dir = os.path.join(tree, LESSON01)
    if os.path.isdir(lesson_dir):
        for name in ("$(shell touch socklab-pwned).c", "a b;touch x.c"):
            with open(os.path.join(lesson_dir, name), "w") as f:
                f.write("int main(void) { return 0; }\n")


# ---------------------------------------------------------------- checks

def parse_steps(text):
    return [int(x) for x in text.split(",") if x]


def find_record(grades, student, lesson):
    """The lesson record of one student in grades.json (or results.json)."""
    if "students" in grades:
        for s in grades["students"]:
            if s["student"] == student:
                for l in s["lessons"]:
                    if l["lesson"].startswith(lesson):
                        return l
        fail("no %s of %s in the grades" % (lesson, student))
    for l in grades["lessons"]:
        if l["lesson"].startswith(lesson):
            return l
    fail("no %s in the results" % lesson)


def cmd_expect(args):
    """The steps that must pass passed; the ones that must fail failed,
    each with a transcript matching its regex; every step kept within its
    bound; nothing of the sandbox survived."""
    with open(args.grades) as f:
        record = find_record(json.load(f), args.student, args.lesson)
    steps = {s["step"]: s for s in record["steps"]}
    named = wanted(args)
    problems = ["step %d should have run, it did not: %s" % (
        n, steps[n]["transcript"]) for n in sorted(steps)
        if not steps[n].get("ran", True) and n in named]
    for n in parse_steps(args.passing or ""):
        if not steps[n]["passed"]:
            problems.append("step %d should pass, it failed:\n%s" % (
                n, indent(steps[n]["transcript"])))
    for spec in args.failing or []:
        nums, _, regex = spec.partition(":")
        for n in parse_steps(nums):
            s = steps[n]
            if s["passed"]:
                problems.append("step %d should fail, it passed" % n)
            elif regex and not re.search(regex, s["transcript"]):
                problems.append("step %d failed, but its transcript does "
                                "not say /%s/:\n%s" % (n, regex,
                                                       indent(s["transcript"])))
    for s in record["steps"]:
        if not s.get("ran", True) and s["step"] not in named:
            continue   # left out by the class's --plan
        if s["seconds"] is None or s["seconds"] > args.bound:
            problems.append("step %d took %s s (bound %s s)" % (
                s["step"], s["seconds"], args.bound))
    if record["sandbox"]["survivors"]:
        problems.append("%d processes survived the sandbox's kill" %
                        record["sandbox"]["survivors"])
    times = " ".join("%d:%.1fs" % (s["step"], s["seconds"] or 0)
                     for s in record["steps"])
    print("%s %s: %d/%d passed in %.1f s (steps %s)" % (
        args.student, record["lesson"], record["passed"], record["total"],
        record["seconds"], times))
    if problems:
        fail("%s:\n%s" % (args.student, "\n".join(problems)))
    return 0


def wanted(args):
    """The step numbers expect names, passing or failing."""
    return set(parse_steps(args.passing or "")) | {
        n for spec in args.failing or []
        for n in parse_steps(spec.partition(":")[0])}


def indent(text):
    return "\n".join("    | " + l for l in text.splitlines()[:30])


def read_weights(path):
    table = {}
    if path:
        with open(path) as f:
            for line in f:
                line = line.split("#", 1)[0].split()
                if line:
                    table[line[0]] = float(line[1])
    return lambda lesson, step: table.get(
        "%s:%d" % (lesson[:2], step), table.get(lesson[:2], 1.0))


def cmd_grades(args):
    """grades.csv has one row per expected student with the points of
    every lesson graded (its columns) and the right total."""
    weight = read_weights(args.weights)
    with open(args.expected) as f:
        expected = json.load(f)
    with open(args.csv, newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    if head[0] != "student" or head[-1] != "total":
        fail("grades.csv header is %r" % head)
    lessons = head[1:-1]
    got = {r[0]: r for r in body}
    problems = []
    if sorted(got) != sorted(expected):
        problems.append("students differ: extra %s, missing %s" % (
            sorted(set(got) - set(expected)), sorted(set(expected) - set(got))))
    for name, record in sorted(expected.items()):
        if name not in got:
            continue
        total = 0.0
        for col, lesson in enumerate(lessons, 1):
            want = sum(weight(lesson, n) for n in record["pass"][lesson])
            total += want
            if abs(float(got[name][col]) - want) > 1e-9:
                problems.append("%s %s (%s): %s points, expected %g" % (
                    name, lesson, record.get("kind01") if lesson == LESSON01
                    else record.get("kinds", {}).get(lesson),
                    got[name][col], want))
        if abs(float(got[name][-1]) - total) > 1e-9:
            problems.append("%s: total %s, expected %g" % (
                name, got[name][-1], total))
    print("grades.csv: %d students, lessons %s" % (len(body),
                                                  " ".join(lessons)))
    if problems:
        fail("\n".join(problems))
    return 0


def lock_uids(uids, bound=120):
    """Take the grader's lock of each sandbox uid in uids (waiting, up to
    bound seconds in all, for a grader using one to let it go); return the
    open lock fds. Without the lock folder (not root) there is none."""
    if os.geteuid() != 0:
        return []
    lock_dir = Sandbox.find_lock_dir()   # where the grader keeps them
    end, fds = time.monotonic() + bound, []
    for uid in uids:
        fd = os.open(os.path.join(lock_dir, "%d.lock" % uid),
                     os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fds.append(fd)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > end:
                    fail("sandbox uid %d stayed in use by another grader "
                         "for %d s: not checked" % (uid, bound))
                time.sleep(0.1)   # polling another grader's lock
    return fds


def cmd_leftovers(args):
    """Nothing of any graded sandbox is left: no process of its uid, no
    socket of its uid, no file of its uid in /tmp, /var/tmp, /dev/shm, no
    process running a program from under DIR."""
    with open(args.grades) as f:
        grades = json.load(f)
    records = [l for s in grades.get("students", [{"lessons":
                                                   grades.get("lessons")}])
               for l in s["lessons"]]
    uids = sorted({r["sandbox"]["uid"] for r in records
                   if r["sandbox"]["uid"] is not None})
    problems = []
    # Another grader may take a uid once ours let it go (make test runs
    # several): each is checked while we hold its lock, so what it has is
    # what the graded sandbox left.
    locks = lock_uids(uids)
    for uid in uids:
        ps = subprocess.run(["ps", "-U", str(uid), "-o", "pid=,stat=,comm="],
                            stdout=subprocess.PIPE, universal_newlines=True)
        if ps.stdout.strip():
            problems.append("uid %d still has processes:\n%s" % (uid,
                                                                 ps.stdout))
        found = subprocess.run(["find", "/tmp", "/var/tmp", "/dev/shm",
                                "-xdev", "-user", str(uid)],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL,
                               universal_newlines=True)
        if found.stdout.strip():
            problems.append("uid %d left files:\n%s" % (uid, found.stdout))
    try:
        ss = subprocess.run(["ss", "-Htuane"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL,
                            universal_newlines=True).stdout
    except FileNotFoundError:
        ss = ""      # no iproute2: the processes are checked all the same
    for line in ss.splitlines():
        m = re.search(r"\buid:(\d+)", line)
        if m and int(m.group(1)) in uids:
            problems.append("a socket of a sandbox uid is left: " + line)
    if args.under:
        under = os.path.realpath(args.under) + "/"
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                exe = os.readlink("/proc/%s/exe" % pid)
            except OSError:
                continue
            if exe.startswith(under):
                problems.append("process %s still runs %s" % (pid, exe))
    for fd in locks:
        os.close(fd)
    print("leftovers: checked %d sandbox uids, nothing left" % len(uids)
          if not problems else "leftovers:")
    if problems:
        fail("\n".join(problems))
    return 0


def cmd_query(args):
    """Check (or print) a Python expression over a JSON file: what jq
    would do, without needing jq."""
    with open(args.file) as f:
        j = json.load(f)
    value = eval("(%s)" % args.expr, {"j": j, "all": all, "any": any,
                                       "len": len, "set": set})
    if args.lines:
        for item in value:
            print(item)
        return 0
    if not value:
        fail("%s: not true: %s" % (args.file, args.expr))
    return 0


def main(argv):
    p = argparse.ArgumentParser(prog="selftest.py")
    sub = p.add_subparsers(dest="command", required=True)
    h = sub.add_parser("hostile")
    h.add_argument("out")
    c = sub.add_parser("class")
    c.add_argument("out")
    c.add_argument("expected")
    c.add_argument("--count", type=int, default=30)
    c.add_argument("--seed", type=int, default=1)
    e = sub.add_parser("expect")
    e.add_argument("grades")
    e.add_argument("student")
    e.add_argument("--lesson", default="01")
    e.add_argument("--pass", dest="passing")
    e.add_argument("--fail", dest="failing", action="append")
    e.add_argument("--bound", type=float, default=20.0)
    g = sub.add_parser("grades")
    g.add_argument("csv")
    g.add_argument("expected")
    g.add_argument("--weights")
    l = sub.add_parser("leftovers")
    l.add_argument("grades")
    l.add_argument("--under")
    q = sub.add_parser("query")
    q.add_argument("file")
    q.add_argument("expr")
    q.add_argument("--lines", action="store_true")
    args = p.parse_args(argv)
    return {"hostile": cmd_hostile, "class": cmd_class, "expect": cmd_expect,
            "grades": cmd_grades, "leftovers": cmd_leftovers,
            "query": cmd_query}[args.command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
