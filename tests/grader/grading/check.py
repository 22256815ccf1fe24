"""`grade.py check`: grade one lessons/ tree.
"""

import os
import shutil
import sys
import time

from .config import ROOT, SAFE_PATH, die
from .record import LESSON, RESULTS, STEP, summary, write_json
from .catalog import (
    discover, has_test, load_weights, programs_of, select, steps_of)
from .procs import become_subreaper
from .sandbox import Workspace
from .bats import RunOptions, build_tools
from .lesson import grade_tree
from .report import Reporter, colour, print_table, write_junit


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
    build_tools()
    RunOptions.first_failure = args.first_failure
    RunOptions.only_step = args.step
    # Steps mostly wait: up to three jobs per lesson run a lesson's steps
    # in groups at once. Not for the lab (--events): it reads them in order.
    if not args.events:
        RunOptions.shards = max(1, min(3, 3 * args.jobs // len(lessons)))
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
    results = sorted(done, key=lambda r: r[LESSON.lesson])
    seconds = time.monotonic() - started
    if RunOptions.reporter:
        RunOptions.reporter.finish()
    reports = os.path.abspath(args.reports)
    os.makedirs(reports, exist_ok=True)
    # src: the lab takes a check of its own lessons/ as progress.
    report = summary(impl, results, seconds, sanitize=bool(args.sanitize),
                     src=src, first_failure=bool(args.first_failure),
                     only_step=args.step)
    write_json(os.path.join(reports, "results.json"), report)
    write_junit(os.path.join(reports, "junit.xml"), results)
    if args.expect == "fail":
        return expect_all_failed(results, seconds)
    if args.events:
        return 0 if report[RESULTS.passed] == report[RESULTS.total] else 1
    print_table(results, seconds, not args.quiet and not streaming)
    print("reports: %s/results.json, %s/junit.xml" % (
        os.path.relpath(reports), os.path.relpath(reports)))
    return 0 if report[RESULTS.passed] == report[RESULTS.total] else 1


def expect_all_failed(results, seconds):
    """make test's second half: every step must fail on the skeletons, or
    its test could not tell a finished lesson from an untouched one."""
    # A step its test skipped (no IPv6 loopback here, say) proves nothing
    # either way: it is counted as failing as it must, and said.
    skipped = [(l[LESSON.lesson], s[STEP.name], s[STEP.skipped])
               for l in results for s in l[LESSON.steps]
               if s.get(STEP.skipped)]
    for lesson, name, why in skipped:
        print(colour("skipped", "33"), "%s %s: %s" % (lesson, name, why))
    vacuous = [(l[LESSON.lesson], s[STEP.name])
               for l in results for s in l[LESSON.steps]
               if s[STEP.passed] and not s.get(STEP.skipped)]
    total = sum(l[LESSON.total] for l in results)
    for lesson, name in vacuous:
        print(colour("VACUOUS", "31"),
              "%s %s: passes on the untouched skeleton" % (lesson, name))
    print("skeletons: %d of %d steps fail as they must (%.1f s)" % (
        total - len(vacuous), total, seconds))
    return 1 if vacuous else 0
