#!/usr/bin/env python3
"""grade.py - build and grade lessons with their Bats tests.

    grade.py check [--impl lessons|solutions] [--lesson NN ...]
                   [--expect pass|fail] [--reports DIR] [--jobs N] [--quiet]

Every lesson is built program by program (a compile error fails only the
steps that need that program, with the compiler's message) and its test
tests/NN-slug.bats runs under an outer time bound in its own process group,
its student programs sandboxed (see tests/lib/common.bash). Prints a table
(lesson, steps passed/total, points) and writes results.json and junit.xml
under --reports (default build/reports).

Exit status: 0 when every step passed (or, with --expect fail, when every
step failed), 1 otherwise, 2 on bad usage.

Standard library only.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
STEP_BOUND = 20       # seconds one step may take before it is failed
BUILD_BOUND = 120     # seconds one program may take to compile
TEST_LINE = re.compile(r'^\s*@test\s+"([^"]+)"')
TAP_LINE = re.compile(r"^(ok|not ok) (\d+) (.*)$")


# ---------------------------------------------------------------- lessons and weights

def discover(lessons_dir):
    """Return the NN-slug names of the lessons in lessons_dir, in order."""
    return sorted(d for d in os.listdir(lessons_dir)
                  if re.match(r"^\d\d-", d) and
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
                sys.exit("grade: no lesson '%s' (there are: %s)" % (
                    item, ", ".join(all_lessons)))
            picked += [m for m in match if m not in picked]
    return picked


def steps_of(lesson):
    """Return the @test names of tests/LESSON.bats, in file order."""
    path = os.path.join(ROOT, "tests", lesson + ".bats")
    with open(path) as f:
        return [m.group(1) for m in map(TEST_LINE.match, f) if m]


def load_weights():
    """Read tests/grader/weights.conf: `LESSON POINTS` sets every step of a
    lesson, `LESSON:STEP POINTS` one step. Returns a lookup function."""
    table = {}
    path = os.path.join(ROOT, "tests", "grader", "weights.conf")
    if os.path.exists(path):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                try:
                    key, points = line.split()
                    table[key] = float(points)
                except ValueError:
                    sys.exit("grade: %s:%d: expected 'LESSON[:STEP] POINTS'"
                             % (path, n))

    def weight(lesson, step):
        for key in ("%s:%d" % (lesson, step), "%s:%d" % (lesson[:2], step),
                    lesson, lesson[:2]):
            if key in table:
                return table[key]
        return 1.0

    return weight


# ---------------------------------------------------------------- building

def build(lesson, impl, src, bin_dir, env):
    """Compile each program of the lesson; return {program: error or None}.
    A program that does not compile has no binary, only PROGRAM.compile.log,
    which the test shows."""
    results = {}
    src_dir = os.path.join(src, lesson)
    for name in sorted(os.listdir(src_dir)):
        if not name.endswith(".c"):
            continue
        prog = name[:-2]
        binary = os.path.join(bin_dir, lesson, prog)
        log = binary + ".compile.log"
        # bin_dir is BUILD/lessons or BUILD/solutions: the Makefile's rules.
        cmd = ["make", "-s", "--no-print-directory", "-C", ROOT,
               "BUILD=" + os.path.dirname(bin_dir), "LESSONS_SRC=" + src,
               binary]
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=env,
                               timeout=BUILD_BOUND, start_new_session=True)
            ok, text = p.returncode == 0, p.stdout.decode(errors="replace")
        except subprocess.TimeoutExpired:
            ok, text = False, "the compiler ran longer than %d s" % BUILD_BOUND
        os.makedirs(os.path.dirname(binary), exist_ok=True)
        if ok:
            results[prog] = None
            if os.path.exists(log):
                os.unlink(log)
        else:
            # gcc leaves an old binary in place when the new code fails.
            if os.path.exists(binary):
                os.unlink(binary)
            with open(log, "w") as f:
                f.write(text)
            results[prog] = text.strip() or "the build failed"
    return results


# ---------------------------------------------------------------- running a lesson's test

def kill_sandbox(uid):
    """Kill every process of the sandbox uid (only our test programs)."""
    if uid is not None:
        subprocess.run(["pkill", "-KILL", "-U", str(uid)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_bats(lesson, env, bound, uid):
    """Run the lesson's test under an outer time bound; return its TAP
    output and whether it was stopped at the bound."""
    cmd = ["bats", "--tap", os.path.join(ROOT, "tests", lesson + ".bats")]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, env=env, cwd=ROOT,
                         start_new_session=True)
    stopped = False
    try:
        out, _ = p.communicate(timeout=bound)
    except subprocess.TimeoutExpired:
        stopped = True
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        kill_sandbox(uid)
    return out.decode(errors="replace"), stopped


def clean_transcript(lines):
    """Keep what a student needs from a failure: drop Bats' stack trace."""
    keep = []
    for line in lines:
        if line.startswith("(from function") or line.startswith(" from function") \
                or line.startswith(" in test file") or \
                re.match(r"^\s+`.*' failed", line):
            continue
        keep.append(line)
    return "\n".join(keep).strip()


def parse_tap(text, names):
    """Map each step name to (passed, transcript) from Bats' TAP output."""
    results = {}
    current = None
    for line in text.splitlines():
        m = TAP_LINE.match(line)
        if m:
            current = m.group(3)
            results[current] = [m.group(1) == "ok", []]
        elif line.startswith("# ") and current is not None:
            results[current][1].append(line[2:])
        elif line == "#" and current is not None:
            results[current][1].append("")
    return {n: (results[n][0], clean_transcript(results[n][1]))
            for n in names if n in results}


def grade_lesson(lesson, impl, src, bin_dir, uid, weight):
    """Build and test one lesson; return its result record."""
    env = dict(os.environ, LAB_IMPL=impl, LAB_BIN_DIR=bin_dir,
               LAB_ROOT=ROOT, BATS_TEST_TIMEOUT=str(STEP_BOUND))
    if uid is not None:
        env["LAB_SANDBOX_UID"] = str(uid)
    started = time.monotonic()
    names = steps_of(lesson)
    compiled = build(lesson, impl, src, bin_dir, env)
    bound = STEP_BOUND * len(names) + 10
    tap, stopped = run_bats(lesson, env, bound, uid)
    outcome = parse_tap(tap, names)
    steps = []
    for i, name in enumerate(names, 1):
        passed, transcript = outcome.get(name, (False, ""))
        if name not in outcome:
            transcript = ("the test run was stopped after %d s, before this "
                          "step ran" % bound) if stopped else \
                "this step did not run: the test ended early\n" + tap[-2000:]
        w = weight(lesson, i)
        steps.append({"step": i, "name": name, "passed": passed,
                      "points": w if passed else 0.0, "max_points": w,
                      "transcript": "" if passed else transcript})
    return {
        "lesson": lesson,
        "passed": sum(s["passed"] for s in steps),
        "total": len(steps),
        "points": sum(s["points"] for s in steps),
        "max_points": sum(s["max_points"] for s in steps),
        "compile": {p: ("ok" if e is None else e) for p, e in compiled.items()},
        "seconds": round(time.monotonic() - started, 2),
        "steps": steps,
    }


def sandbox_uids(count):
    """Return count distinct sandbox uids when root (else Nones)."""
    if os.geteuid() != 0:
        return [None] * count
    base = 61000 + (os.getpid() % 300) * 12
    return [base + i for i in range(count)]


def grade_tree(impl, src, bin_dir, lessons, jobs):
    """Grade lessons in parallel, one sandbox uid per worker slot."""
    weight = load_weights()
    uids = sandbox_uids(len(lessons))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(grade_lesson, lesson, impl, src, bin_dir, uid,
                               weight)
                   for lesson, uid in zip(lessons, uids)]
        return [f.result() for f in futures]


# ---------------------------------------------------------------- reports

def write_json(path, report):
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")


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
            if not s["passed"]:
                first = (s["transcript"].splitlines() or ["failed"])[0]
                fail = ET.SubElement(case, "failure", message=first[:300])
                fail.text = s["transcript"]
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def colour(text, code, stream=sys.stdout):
    """Colour text for a terminal, never for a pipe or with NO_COLOR."""
    if stream.isatty() and not os.environ.get("NO_COLOR"):
        return "\033[%sm%s\033[0m" % (code, text)
    return text


def fmt_points(x):
    return ("%g" % x)


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


# ---------------------------------------------------------------- commands

def cmd_check(args):
    impl = args.impl
    src = os.path.join(ROOT, impl) if impl == "solutions" else \
        os.path.abspath(args.src or os.path.join(ROOT, "lessons"))
    lessons = select(discover(src), args.lesson)
    if not lessons:
        print("grade: no lessons found in %s" % src, file=sys.stderr)
        return 1
    bin_dir = os.path.abspath(args.bin or os.path.join(ROOT, "build", impl))
    started = time.monotonic()
    results = grade_tree(impl, src, bin_dir, lessons, args.jobs)
    seconds = time.monotonic() - started
    reports = os.path.abspath(args.reports)
    os.makedirs(reports, exist_ok=True)
    report = {
        "impl": impl, "seconds": round(seconds, 2),
        "passed": sum(l["passed"] for l in results),
        "total": sum(l["total"] for l in results),
        "points": sum(l["points"] for l in results),
        "max_points": sum(l["max_points"] for l in results),
        "lessons": results,
    }
    write_json(os.path.join(reports, "results.json"), report)
    write_junit(os.path.join(reports, "junit.xml"), results)
    if args.expect == "fail":
        return expect_all_failed(results, seconds)
    print_table(results, seconds, not args.quiet)
    print("reports: %s/results.json, %s/junit.xml" % (
        os.path.relpath(reports), os.path.relpath(reports)))
    return 0 if report["passed"] == report["total"] else 1


def expect_all_failed(results, seconds):
    """make test's second half: every step must fail on the skeletons, or
    its test could not tell a finished lesson from an untouched one."""
    vacuous = [(l["lesson"], s["name"]) for l in results for s in l["steps"]
               if s["passed"]]
    total = sum(l["total"] for l in results)
    for lesson, name in vacuous:
        print(colour("VACUOUS", "31"),
              "%s %s: passes on the untouched skeleton" % (lesson, name))
    print("skeletons: %d of %d steps fail as they must (%.1f s)" % (
        total - len(vacuous), total, seconds))
    return 1 if vacuous else 0


def main(argv):
    p = argparse.ArgumentParser(prog="grade.py", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="grade the lessons of this checkout")
    c.add_argument("--impl", choices=("lessons", "solutions"),
                   default=os.environ.get("LAB_IMPL", "lessons"))
    c.add_argument("--lesson", action="append",
                   help="NN, slug or NN-slug (repeatable)")
    c.add_argument("--expect", choices=("pass", "fail"), default="pass")
    c.add_argument("--reports", default=os.path.join(ROOT, "build", "reports"))
    c.add_argument("--src", help="the lessons/ tree to grade (default ours)")
    c.add_argument("--bin", help="where to build it (default build/IMPL)")
    c.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    c.add_argument("--quiet", action="store_true",
                   help="no failure transcripts, only the table")
    args = p.parse_args(argv)
    if args.command == "check":
        return cmd_check(args)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
