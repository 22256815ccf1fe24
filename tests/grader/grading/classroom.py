"""`grade.py class`: grade a folder of submissions, one per student.
"""

import csv
import json
import os
import re
import shutil
import stat
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from .config import LESSON_NAME, ROOT, SAFE_PATH, SOURCE_LIMIT, die
from .record import (
    GRADES, LESSON, SANDBOX, STUDENT, summary, write_json)
from .catalog import (
    discover, has_test, load_weights, programs_of, select, steps_of)
from .procs import become_subreaper
from .sandbox import Sandbox, Workspace
from .bats import RunOptions, build_tools
from .lesson import grade_safely
from .report import fmt_points, write_junit


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
    plan = load_plan(args.plan, lessons)
    os.makedirs(build_root, exist_ok=True)
    work = Workspace.when_needed(build_root)
    asked_build_root = build_root
    if work:
        build_root = work.folder("grade", build_root)
    become_subreaper()
    build_tools()
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
                               weight, args.sanitize,
                               plan.get(s["folder"], {}).get(l[:2]))
                   for s, l in tasks]
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
                         sanitize, only=None):
    """Grade one lesson of one student from their copied sources (only the
    step numbers in only, if given)."""
    bin_dir = os.path.join(student["home"], bin_name)
    programs = programs_of(os.path.join(ROOT, "lessons", lesson))
    return grade_safely(lesson, "lessons", student["src"], bin_dir,
                        sandbox, weight, sanitize, programs,
                        student["problems"].get(lesson), only)


def load_plan(path, lessons):
    """The --plan file: {folder: {NN: [step, ...]}} ({} without one), for
    lessons graded here and steps they have; dies with a one-line error
    when it is not that."""
    if not path:
        return {}
    try:
        with open(path) as f:
            plan = json.load(f)
        ok = isinstance(plan, dict) and all(
            isinstance(v, dict) and all(
                isinstance(steps, list) and steps and
                all(type(n) is int and n > 0 for n in steps)
                for steps in v.values()) for v in plan.values())
    except (OSError, ValueError) as e:
        die("--plan %s: %s" % (path, e))
    if not ok:
        die("--plan %s: not {FOLDER: {NN: [STEP, ...]}}" % path)
    count = {l[:2]: len(steps_of(l)) for l in lessons}
    for folder, per in sorted(plan.items()):
        for nn, steps in sorted(per.items()):
            if nn not in count:
                die("--plan %s: %s: lesson %s is not graded here" % (
                    path, folder, nn))
            if max(steps) > count[nn]:
                die("--plan %s: %s: lesson %s has %d steps, not %d" % (
                    path, folder, nn, count[nn], max(steps)))
    return plan


def write_class_reports(students, lessons, reports, seconds, args):
    """grades.csv, grades.json, junit/STUDENT.xml and each student's
    results.json; returns the students whose sandbox left something."""
    os.makedirs(os.path.join(reports, "junit"), exist_ok=True)
    max_points = {}
    for s in students:
        for r in s["results"]:
            max_points[r[LESSON.lesson]] = r[LESSON.max_points]
    rows, trouble = [], []
    for s in students:
        res = s["results"]
        s["points"] = {r[LESSON.lesson]: r[LESSON.points] for r in res}
        s["total"] = sum(r[LESSON.points] for r in res)
        if any(r[LESSON.sandbox][SANDBOX.survivors] or
               r.get(LESSON.grader_error) for r in res):
            trouble.append(s["student"])
        own = summary("lessons", res, sum(r[LESSON.seconds] for r in res),
                      student=s["student"])
        write_json(os.path.join(s["home"], "results.json"), own)
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
    write_json(os.path.join(reports, "grades.json"), GRADES.make(
        lessons=lessons,
        max_points=max_points,
        max_total=sum(max_points.values()),
        seconds=round(seconds, 2),
        jobs=args.jobs,
        sanitize=bool(args.sanitize),
        students=[STUDENT.make(
            student=s["student"], folder=s["folder"],
            lessons_found=s["lessons_found"],
            points=s["points"], total=s["total"],
            passed=sum(r[LESSON.passed] for r in s["results"]),
            steps=sum(r[LESSON.total] for r in s["results"]),
            seconds=round(sum(r[LESSON.seconds] for r in s["results"]), 2),
            lessons=s["results"],
        ) for s in students],
    ))
    return trouble


def print_class_table(students, lessons, seconds, jobs):
    """One line per student: points per lesson and the total."""
    width = max([7] + [len(s["student"]) for s in students])
    maxes = {l: 0.0 for l in lessons}
    for s in students:
        for r in s["results"]:
            maxes[r[LESSON.lesson]] = r[LESSON.max_points]
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
