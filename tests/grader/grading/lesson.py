"""Grading one lesson (build, run its test, clean its sandbox, make its
record) and a tree of lessons in parallel.
"""

import os
import random
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .record import LESSON, SANDBOX, STEP, compile_map, failed_lesson
from .config import LOG_LIMIT, STEP_BOUND, remove
from .catalog import programs_of, steps_of
from .sandbox import Sandbox, Slot
from .build import build
from .bats import RunOptions, run_bats, shard_steps, test_env


def grade_lesson(lesson, impl, src, bin_dir, sandbox, weight, sanitize,
                 programs=None, problems=None, only=None):
    """Build and test one lesson (only the step numbers in the list only,
    if given); return its result record."""
    started = time.monotonic()
    names = steps_of(lesson)
    if only is None and RunOptions.only_step is not None:
        only = [RunOptions.only_step]
    if only is not None:
        only = sorted(set(only))
    tag = "socklab-%d-%d-%s" % (os.getpid(), random.randrange(1 << 30),
                                lesson[:2])
    # A lesson with no program handed in builds and runs nothing: no uid
    # to take, no process or file of it to look for (a class of mutants
    # is hundreds of students with one lesson each).
    handed_in = bool(problems) or any(os.path.isfile(os.path.join(
        src, lesson, p + ".c")) for p in (programs if programs is not None
                                          else programs_of(os.path.join(
                                              src, lesson))))
    slot = sandbox.acquire(tag) if handed_in else Slot(None, None, tag)
    held = [round(time.time(), 3)]
    try:
        compiled = build(lesson, src, bin_dir, slot, sanitize, programs,
                         problems)
        if RunOptions.reporter:
            RunOptions.reporter.build(lesson, compiled)
        bound = STEP_BOUND * len(names) + 10
        log = os.path.join(bin_dir, lesson, ".sandbox.log")
        remove(log)
        if handed_in:
            outcome, stopped, other, left, stray, cleaned = run_shards(
                lesson, impl, bin_dir, sandbox, slot, sanitize, log, only)
        else:
            outcome, stopped, other = {}, False, ""
            left, stray, cleaned = 0, [], []
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
        elif only is not None and i not in only:
            not_run = "only step%s %s %s run" % (
                "s" if len(only) > 1 else "", ", ".join(map(str, only)),
                "were" if len(only) > 1 else "was")
        if not_run:
            passed, transcript = False, "not run: " + not_run
        elif not handed_in:
            transcript = "lessons/%s was not in the submission" % lesson
        elif name not in outcome:
            transcript = ("the test run was stopped after %d s, before this "
                          "step ran" % bound) if stopped else \
                "this step did not run: the test ended early\n" + other
        elif note and note.startswith("timeout"):
            transcript = ("the step was stopped at its bound of %d s\n"
                          % STEP_BOUND) + transcript
        w = weight(lesson, i)
        more = {}
        if passed and note and re.match(r"^skip\b", note):
            # The test skipped it (`skip REASON`: say, no IPv6 loopback
            # here): counted as passed, never failed; exporters show why.
            more["skipped"] = note[4:].strip() or "skipped"
        steps.append(STEP.make(
            step=i, name=name, passed=passed, points=w if passed else 0.0,
            max_points=w, seconds=seconds, ran=not not_run,
            transcript="" if passed else transcript, **more))
    return LESSON.make(
        lesson=lesson,
        passed=sum(s[STEP.passed] for s in steps),
        total=len(steps),
        points=sum(s[STEP.points] for s in steps),
        max_points=sum(s[STEP.max_points] for s in steps),
        compile=compile_map(compiled),
        seconds=round(time.monotonic() - started, 2),
        steps=steps,
        sandbox=SANDBOX.make(uid=slot.uid, held=held, survivors=left,
                             files_removed=stray, cleaned=cleaned))


def run_shards(lesson, impl, bin_dir, sandbox, slot, sanitize, log,
               only=None):
    """Run the lesson's test (the steps in only, in order, if given): in
    one go, or its steps in groups at once (shard_steps), each group with
    a sandbox uid of its own (a step's teardown kills every process of its
    uid). Returns (outcome, stopped, other output, processes left, files
    swept, the sandbox log)."""
    groups = [only] if only else shard_steps(len(steps_of(lesson)))
    slots = [slot] + [sandbox.acquire("%s-%d" % (slot.tag, k))
                      for k in range(1, len(groups))]
    logs = [log] + ["%s.%d" % (log, k) for k in range(1, len(groups))]
    runs = [None] * len(groups)

    def one(k):
        remove(logs[k])
        env = test_env(impl, bin_dir, slots[k], sanitize, logs[k])
        bound = STEP_BOUND * len(groups[k] or steps_of(lesson)) + 10
        runs[k] = run_bats(lesson, env, bound, slots[k], groups[k])

    try:
        threads = [threading.Thread(target=one, args=(k,))
                   for k in range(1, len(groups))]
        for t in threads:
            t.start()
        one(0)
        for t in threads:
            t.join()
        outcome, other = {}, []
        for reader, _ in runs:
            outcome.update(reader.outcome(steps_of(lesson)))
            other += reader.other[-40:]
        left = sum(s.kill_all() for s in slots)
        stray = [p for s in slots for p in s.sweep_files()]
        cleaned = [line for l in logs for line in read_log(l)]
    finally:
        for s in slots[1:]:
            s.release()
    return (outcome, any(stopped for _, stopped in runs),
            "\n".join(other[-40:]), left, stray, cleaned)


def grade_safely(lesson, impl, src, bin_dir, sandbox, weight, sanitize,
                 programs=None, problems=None, only=None):
    """grade_lesson, but a failure of the grader itself (a bug, a full
    disk) fails that lesson with the reason instead of the whole run."""
    try:
        return grade_lesson(lesson, impl, src, bin_dir, sandbox, weight,
                            sanitize, programs, problems, only)
    except Exception as e:   # noqa: BLE001 - reported, never hidden
        why = "the grader failed on this lesson: %s: %s" % (
            type(e).__name__, e)
        print("grade: %s: %s" % (lesson, why), file=sys.stderr)
        return failed_lesson(lesson, steps_of(lesson), weight, why)


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
