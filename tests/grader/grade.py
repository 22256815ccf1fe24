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
sandboxed (see tests/lib/common.bash), by tests/lib/run-steps: Bats' TAP
at half Bats' CPU (LAB_RUNNER=bats runs Bats itself). Afterwards every process and file
of the sandbox uid is removed. check prints a table (lesson, steps
passed/total, points) and writes results.json and junit.xml; class writes
grades.csv, grades.json and junit/STUDENT.xml (docs/instructors.md).

Exit status: check: 0 when every step passed (or, with --expect fail, when
every step failed), 1 otherwise; class: 0 once every submission is graded,
1 when the grader itself hit trouble (say, a process it could not kill);
2 on bad usage.

The grader is the package grading/ beside this file, in layers (each
module uses only those before it):

    config     paths, bounds, limits, die()
    record     the result record: its one definition and writers (the lab's
               build/lab/record.h is made from it)
    catalog    lessons, their steps and programs, weights
    procs      the processes we start, reaping, /proc
    sandbox    the sandbox uid or tag, control groups, Workspace
    build      compiling each program, the build cache
    bats       running a lesson's Bats test, reading its TAP
    lesson     grading one lesson into its record, a tree in parallel
    report     results.json, JUnit, the live lines, the table
    check      `grade.py check`
    classroom  `grade.py class`

This file is the command line.

Standard library only.
"""

import argparse
import os
import signal
import sys

# The grader's bytecode is kept under build/pycache, even where
# PYTHONDONTWRITEBYTECODE is set: compiling it is a third of a start.
sys.dont_write_bytecode = False
sys.pycache_prefix = os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "build", "pycache")

from grading.config import ROOT  # noqa: E402
from grading.procs import on_interrupt  # noqa: E402
from grading.check import cmd_check  # noqa: E402
from grading.classroom import cmd_class  # noqa: E402


def main(argv):
    p = argparse.ArgumentParser(prog="grade.py", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    sanitize = os.environ.get("SANITIZE") == "1"
    # A step mostly waits (on sockets, on time bounds): three lessons per
    # core keep the cores busy.
    jobs = 3 * (os.cpu_count() or 2)

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
    # A class is many independent students, each mostly waiting: five
    # lessons per core (measured: 30 students x 6 lessons, 2 cores).
    k.add_argument("--jobs", type=int, default=5 * (os.cpu_count() or 2),
                   help="lessons graded at once (default: 5 per core)")
    k.add_argument("--weights", help="weights file (default "
                   "tests/grader/weights.conf)")
    k.add_argument("--sanitize", action="store_true", default=sanitize,
                   help="build with ASan+UBSan (also SANITIZE=1)")
    k.add_argument("--quiet", action="store_true", help="(accepted)")
    k.add_argument("--first-failure", action="store_true",
                   help="skip the steps after a lesson's first failing one "
                   "(tests/lib/mutants: where a wrong program first fails)")
    k.add_argument("--plan", help="JSON file {FOLDER: {NN: [STEP, ...]}}: "
                   "run only these steps of these students' lessons "
                   "(tests/lib/mutants: a wrong program's named step)")

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
