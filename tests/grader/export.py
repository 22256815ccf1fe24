#!/usr/bin/env python3
"""export.py - socklab's grades in the formats of classroom platforms.

    export.py gradescope   RESULTS.json [-o FILE] [--lesson NN ...]
    export.py classroom    RESULTS.json [-o FILE] [--github-output NAME] [...]
    export.py prairielearn RESULTS.json [-o FILE] [--lesson NN ...]
    export.py autolab      RESULTS.json [-o FILE] [--lesson NN ...]
    export.py junit        RESULTS.json [-o FILE] [--lesson NN ...]
    export.py grade FORMAT SUBMISSION [-o FILE] [--lesson NN ...] [--jobs N]
    export.py zip [-o FILE] [--lesson NN ...]

RESULTS.json is the record grade.py writes: build/reports/results.json
(`grade.py check`, `make check`) or build/grade/STUDENT/results.json
(`grade.py class`). The converters write:

  gradescope    Gradescope's /autograder/results/results.json: a test per
                lesson step (name, number "3.2", score, max_score, status,
                output: the step's transcript, visibility)
  classroom     GitHub Classroom's runner result (version 1, status,
                max_score, tests with their score), the JSON that the
                autograding-grading-reporter action decodes from base64;
                --github-output NAME appends NAME=BASE64 to $GITHUB_OUTPUT
  prairielearn  PrairieLearn's external grader results.json: score 0-1,
                tests with points and max_points; gradable false, with
                the compiler's messages, when no program builds
  autolab       the step transcripts, then Autolab's last line
                {"scores": {"NN-slug": POINTS, ...}}
  junit         JUnit XML as grade.py writes it (CodeGrade and CI)

grade runs `grade.py class` on one submission folder (its lessons/ tree, a
whole checkout, an unpacked archive, or, with one --lesson, the lesson's
C files alone) and writes FORMAT to FILE. It always writes FILE: when the
grader cannot run or its record cannot be read, every step is failed with
the reason. zip builds Gradescope's autograder zip (`make gradescope`):
setup.sh and run_autograder at its root, this checkout without solutions/
and the grader's self-tests beside them in socklab/.

A step the test skipped (say, an IPv6 step where the loopback has no ::1)
keeps its points and says why; it is never a failure.

Exit status: 0 when the file was written, 1 when it was written from a
record that could not be had (the reason is in it), 2 on bad usage.
Standard library only.
"""

import argparse
import base64
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile

from grading import catalog, classroom, config, report
from grading.record import (
    COMPILE_OK, LESSON, RESULTS, SANDBOX, STEP, failed_lesson)

ROOT = config.ROOT
FORMATS = ("gradescope", "classroom", "prairielearn", "autolab", "junit")
MESSAGE_LIMIT = 4000          # bytes of one compiler message we pass on
GRADE_BOUND = 3600            # seconds a whole submission may take
# What the autograder zip leaves out: what make dist leaves out.
LEAVE_OUT = re.compile(r"^(solutions|build|dist|\.git|\.github|\.ci)/|^tests/grader/("
                       r"hostile/|run-steps/|selftest\.py$|[^/]*\.bats$|bench-class$|"
                       r"test_[^/]*\.py$)")


def die(message):
    """Bad usage: say so in one line and exit 2."""
    print("export: " + message, file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------- the record

def load_record(path):
    """Read grade.py's results record; returns (record, None) or (None,
    why it could not be read)."""
    try:
        with open(path) as f:
            record = json.load(f)
        if not isinstance(record, dict) or not isinstance(
                record.get(RESULTS.lessons), list):
            return None, "%s is not a socklab results record" % path
        return record, None
    except FileNotFoundError:
        return None, "the grader wrote no results (%s is missing)" % path
    except (OSError, ValueError) as e:
        return None, "%s cannot be read: %s" % (path, e)


def failed_record(why, lessons=None):
    """A record where every step of the lessons (default: every lesson of
    this checkout with a test) failed for the reason why."""
    all_lessons = [l for l in catalog.discover(os.path.join(ROOT, "lessons"))
                   if os.path.isfile(catalog.test_file(l))]
    lessons = catalog.select(all_lessons, lessons) if lessons else all_lessons
    weight = catalog.load_weights()
    records = [failed_lesson(lesson, catalog.steps_of(lesson), weight, why,
                             sandbox=False) for lesson in lessons]
    return RESULTS.make(
        impl="lessons", seconds=0.0, passed=0,
        total=sum(r[LESSON.total] for r in records), points=0.0,
        max_points=sum(r[LESSON.max_points] for r in records),
        lessons=records, grader_error=why)


def steps(record):
    """Yield (lesson record, step record) in order."""
    for lesson in record[RESULTS.lessons]:
        for step in lesson.get(LESSON.steps, []):
            yield lesson, step


def number(lesson, step):
    """The step's number as platforms show it: lesson 3 step 2 is "3.2"."""
    return "%d.%d" % (int(lesson[LESSON.lesson][:2]), step[STEP.step])


def title(lesson, step):
    """A test's name: the lesson and the step's own name."""
    return "%s %s" % (lesson[LESSON.lesson], step[STEP.name])


def step_output(step):
    """What a student reads for one step: the transcript of a failure, the
    reason of a skip, or that it passed."""
    if step.get(STEP.skipped):
        return "skipped: %s (this machine cannot run the step; its " \
            "points are given)" % step[STEP.skipped]
    if step[STEP.passed]:
        if step.get(STEP.seconds) is not None:
            return "passed in %.2f s" % step[STEP.seconds]
        return "passed"
    return step.get(STEP.transcript) or "failed"


def compile_errors(record):
    """[(lesson, program, message)] for each program that did not build
    (not submitted included)."""
    return [(l[LESSON.lesson], prog, msg)
            for l in record[RESULTS.lessons]
            for prog, msg in sorted((l.get(LESSON.compile) or {}).items())
            if msg != COMPILE_OK]


def nothing_builds(record):
    """True when there were programs to build and none of them built."""
    built = [msg == COMPILE_OK for l in record[RESULTS.lessons]
             for msg in (l.get(LESSON.compile) or {}).values()]
    return bool(built) and not any(built)


def fmt(x):
    """Points as the reports print them (7, 2.5)."""
    return report.fmt_points(x)


def cut(text, limit):
    """text, at most limit characters of it (platforms cap their files:
    PrairieLearn's at 1 MB, a GitHub step output at 1 MB)."""
    if len(text) <= limit:
        return text
    return text[:limit] + "\n(%d more characters cut)" % (len(text) - limit)


def summary(record):
    """A plain-text summary: a line per lesson, the total, the compile
    errors and any grader trouble."""
    lines = []
    for l in record[RESULTS.lessons]:
        lines.append("%-22s %5s steps  %s points" % (
            l[LESSON.lesson], "%d/%d" % (l[LESSON.passed], l[LESSON.total]),
            "%s/%s" % (fmt(l[LESSON.points]), fmt(l[LESSON.max_points]))))
    lines.append("%-22s %5s steps  %s points" % (
        "total", "%d/%d" % (record[RESULTS.passed], record[RESULTS.total]),
        "%s/%s" % (fmt(record[RESULTS.points]),
                   fmt(record[RESULTS.max_points]))))
    for lesson, prog, msg in compile_errors(record):
        lines.append("")
        lines.append("%s/%s.c does not build:" % (lesson, prog))
        lines.append(msg[:MESSAGE_LIMIT])
    skipped = [(l, s) for l, s in steps(record) if s.get(STEP.skipped)]
    if skipped:
        lines.append("")
        lines.append("skipped here (points given): " + "; ".join(
            "%s: %s" % (number(l, s), s[STEP.skipped]) for l, s in skipped))
    if record.get(RESULTS.grader_error):
        lines.append("")
        lines.append("the grader could not grade this submission: " +
                     record[RESULTS.grader_error])
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the formats

def to_gradescope(record):
    """Gradescope's results.json: a test per step."""
    tests = []
    for lesson, step in steps(record):
        tests.append({
            "name": title(lesson, step),
            "number": number(lesson, step),
            "score": step[STEP.points],
            "max_score": step[STEP.max_points],
            "status": "passed" if step[STEP.passed] else "failed",
            "output": step_output(step),
            "tags": [lesson[LESSON.lesson]],
            "visibility": "visible",
        })
    return {
        "score": record[RESULTS.points],
        "execution_time": int(round(record.get(RESULTS.seconds) or 0)),
        "output": summary(record),
        "visibility": "visible",
        "stdout_visibility": "visible",
        "tests": tests,
        # Kept by Gradescope for the instructor: how each lesson was graded.
        "extra_data": {"socklab": [{
            "lesson": l[LESSON.lesson], "points": l[LESSON.points],
            "max_points": l[LESSON.max_points],
            "compile": l.get(LESSON.compile),
            "sandbox_uid": (l.get(LESSON.sandbox) or {}).get(SANDBOX.uid),
            "grader_error": l.get(LESSON.grader_error)}
            for l in record[RESULTS.lessons]]},
    }


def bats_line(lesson, name):
    """The line of step name's @test in tests/LESSON.bats (0 if unknown)."""
    try:
        with open(catalog.test_file(lesson)) as f:
            for n, line in enumerate(f, 1):
                m = config.TEST_LINE.match(line)
                if m and m.group(1) == name:
                    return n
    except OSError:
        pass
    return 0


def to_classroom(record):
    """GitHub Classroom's runner result: a test per step, with its score,
    which the grading reporter sums (and shows per step)."""
    tests = []
    for lesson, step in steps(record):
        status = "pass" if step[STEP.passed] else \
            "error" if lesson.get(LESSON.grader_error) else "fail"
        tests.append({
            "name": title(lesson, step),
            "status": status,
            "message": cut(step_output(step), MESSAGE_LIMIT),
            "test_code": "make check LESSON=%s" % lesson[LESSON.lesson][:2],
            "filename": "tests/%s.bats" % lesson[LESSON.lesson],
            "line_no": bats_line(lesson[LESSON.lesson], step[STEP.name]),
            "execution_time": "%.2fs" % (step.get(STEP.seconds) or 0),
            "score": step[STEP.points],
        })
    if record.get(RESULTS.grader_error):
        status = "error"
    elif all(t["status"] == "pass" for t in tests):
        status = "pass"
    else:
        status = "fail"
    return {"version": 1, "status": status,
            "max_score": record[RESULTS.max_points], "tests": tests}


def to_prairielearn(record):
    """PrairieLearn's external grading results: score 0-1, a test per
    step; not gradable (no attempt used up) when nothing builds."""
    most = record[RESULTS.max_points]
    tests = []
    for lesson, step in steps(record):
        out = cut(step_output(step), 2 * MESSAGE_LIMIT)
        tests.append({
            "name": title(lesson, step),
            "description": "lesson %s, step %d" % (lesson[LESSON.lesson],
                                                   step[STEP.step]),
            "points": step[STEP.points],
            "max_points": step[STEP.max_points],
            "message": out.splitlines()[0] if out else "",
            "output": out,
        })
    result = {
        "gradable": True,
        "score": round(record[RESULTS.points] / most, 6) if most else 0.0,
        "message": "%d of %d steps passed (%s of %s points)" % (
            record[RESULTS.passed], record[RESULTS.total],
            fmt(record[RESULTS.points]), fmt(most)),
        "output": summary(record),
        "tests": tests,
    }
    if nothing_builds(record):
        result["gradable"] = False
        result["score"] = 0.0
        result["message"] = "nothing builds: fix the compiler's errors"
        result["format_errors"] = [
            "%s/%s.c: %s" % (lesson, prog, msg[:MESSAGE_LIMIT])
            for lesson, prog, msg in compile_errors(record)]
    elif record.get(RESULTS.grader_error):
        # The grader's trouble, not the student's: no attempt used up.
        result["gradable"] = False
        result["score"] = 0.0
        result["message"] = "the grader could not grade this submission"
        result["format_errors"] = [record[RESULTS.grader_error]]
    return result


def to_autolab(record):
    """Autolab's autograder output: the transcripts, then the scores line
    last (a problem per lesson, named NN-slug)."""
    lines = []
    for lesson, step in steps(record):
        mark = "ok  " if step[STEP.passed] else "FAIL"
        lines.append("%s %s %s (%s/%s)" % (
            mark, number(lesson, step), step[STEP.name],
            fmt(step[STEP.points]), fmt(step[STEP.max_points])))
        if not step[STEP.passed] or step.get(STEP.skipped):
            lines += ["    " + l for l in step_output(step).splitlines()]
    lines.append("")
    lines.append(summary(record).rstrip("\n"))
    scores = {l[LESSON.lesson]: l[LESSON.points]
              for l in record[RESULTS.lessons]}
    lines.append(json.dumps({"scores": scores}))
    return "\n".join(lines) + "\n"


def write_junit(record, path):
    """JUnit XML, as grade.py writes it."""
    report.write_junit(path, record[RESULTS.lessons])


# ---------------------------------------------------------------- output

def write_out(text, out):
    """Write text to out ('-' is stdout), atomically for a file."""
    if out in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".export-", dir=folder)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)


def export(fmt_name, record, out, github_output=None):
    """Convert record to fmt_name and write it to out."""
    if fmt_name == "junit":
        if out in (None, "-"):
            fd, tmp = tempfile.mkstemp(suffix=".xml")
            os.close(fd)
            write_junit(record, tmp)
            with open(tmp) as f:
                write_out(f.read(), "-")
            os.unlink(tmp)
        else:
            os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
            write_junit(record, out)
        return
    if fmt_name == "autolab":
        write_out(to_autolab(record), out)
        return
    data = {"gradescope": to_gradescope, "classroom": to_classroom,
            "prairielearn": to_prairielearn}[fmt_name](record)
    text = json.dumps(data, indent=2) + "\n"
    if github_output:
        target = os.environ.get("GITHUB_OUTPUT")
        if not target:
            die("--github-output needs GITHUB_OUTPUT (a GitHub Actions step)")
        encoded = base64.b64encode(json.dumps(data).encode()).decode()
        with open(target, "a") as f:
            f.write("%s=%s\n" % (github_output, encoded))
        print(summary(record), end="")
        if out is None:
            return
    write_out(text, out)


# ---------------------------------------------------------------- grading one submission

def gather(submission, dest, lessons):
    """Copy a submission into dest/submission (a folder of one student for
    `grade.py class`): as it is, or, when it holds only C files and one
    lesson is graded (PrairieLearn's file upload), into that lesson's
    folder. Symbolic links are copied as links (and never graded)."""
    target = os.path.join(dest, "submission")
    os.makedirs(dest, exist_ok=True)
    if not os.path.isdir(submission):
        raise OSError("no submission folder %s" % submission)
    names = os.listdir(submission)
    flat = names and all(n.endswith(".c") for n in names
                         if not n.startswith("."))
    if flat and lessons and len(lessons) == 1 and \
            classroom.find_lessons_tree(submission) is None:
        target = os.path.join(target, "lessons", lessons[0])
        os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copytree(submission, target, symlinks=True,
                    ignore=shutil.ignore_patterns(".git"))
    return os.path.join(dest, "submission")


def as_student_sees(record, home):
    """record with our folders' paths in messages made the ones of the
    student's checkout (build/lessons/..., lessons/...)."""
    text = json.dumps(record)
    for ours, theirs in (("bin-sanitize", "build/sanitize/lessons"),
                         ("bin", "build/lessons"), ("src", "lessons")):
        text = text.replace(json.dumps(os.path.join(home, ours) + "/")[1:-1],
                            theirs + "/")
    return json.loads(text)


def run_class(work, lessons, jobs):
    """Run `grade.py class` on work/submissions (builds in work/build);
    returns its exit status, or why it was stopped. At the bound it gets
    SIGTERM, on which it kills every student program, then SIGKILL."""
    cmd = [sys.executable, os.path.join(ROOT, "tests", "grader", "grade.py"),
           "class", os.path.join(work, "submissions"),
           "--build", os.path.join(work, "build"),
           "--reports", os.path.join(work, "reports")]
    for l in lessons:
        cmd += ["--lesson", l]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        return p.wait(timeout=GRADE_BOUND)
    except subprocess.TimeoutExpired:
        p.terminate()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.wait()
        return "stopped after %d s" % GRADE_BOUND


def grade_in(work, submission, lessons, jobs):
    """Grade submission in the folder work; returns (record, None) or
    (None, why there is none)."""
    os.chmod(work, 0o755)     # the sandbox uid builds and runs here
    gather(submission, os.path.join(work, "submissions"), lessons)
    started = time.monotonic()
    status = run_class(work, lessons, jobs)
    home = os.path.join(work, "build", "submission")
    record, why = load_record(os.path.join(home, "results.json"))
    if record is None:
        return None, "grade.py exited with status %s; %s" % (status, why)
    record[RESULTS.seconds] = round(time.monotonic() - started, 2)
    return as_student_sees(record, home), None


def grade_submission(fmt_name, submission, out, lessons, jobs):
    """Grade one submission with `grade.py class` and write fmt_name to
    out, whatever happens. Returns 0, or 1 when the record is one of
    failures made up from the reason the grader could not give one."""
    try:
        picked = catalog.select(
            catalog.discover(os.path.join(ROOT, "lessons")), lessons) \
            if lessons else []
    except SystemExit:      # catalog.select said which lesson is unknown
        export(fmt_name, failed_record("the autograder is set up with an "
                                       "unknown lesson: %s" % lessons),
               out)
        return 1
    work = tempfile.mkdtemp(prefix="socklab-grade-", dir=os.environ.get(
        "LAB_WORK_DIR") or "/tmp")
    try:
        record, why = grade_in(work, submission, picked, jobs)
    except Exception as e:    # noqa: BLE001 - reported in the file
        record, why = None, "%s: %s" % (type(e).__name__, e)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if record is None:
        print("export: %s" % why, file=sys.stderr)
        record = failed_record(why, picked)
    export(fmt_name, record, out)
    return 1 if why else 0


# ---------------------------------------------------------------- Gradescope's zip

def checkout_files():
    """The files of this checkout (git's, untracked ones included, or all
    when it is not a git checkout), minus what the zip leaves out."""
    try:
        out = subprocess.run(
            ["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"], capture_output=True, check=True).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for top, dirs, files in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in (".git", "build")]
            names += [os.path.relpath(os.path.join(top, f), ROOT)
                      for f in files]
    return sorted(n for n in set(names) if not LEAVE_OUT.match(n) and
                  os.path.isfile(os.path.join(ROOT, n)) and
                  not os.path.islink(os.path.join(ROOT, n)))


def add_file(z, name, data, mode):
    """Add one file with a fixed time and its mode (reproducible zips)."""
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, data)


def build_zip(out, lessons):
    """Write Gradescope's autograder zip to out."""
    if lessons:
        lessons = catalog.select(
            catalog.discover(os.path.join(ROOT, "lessons")), lessons)
    here = os.path.join(ROOT, "tests", "grader", "gradescope")
    with open(os.path.join(here, "run_autograder")) as f:
        run = f.read().replace("@LESSONS@", " ".join(lessons or []))
    with open(os.path.join(here, "setup.sh")) as f:
        setup = f.read()
    files = checkout_files()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w") as z:
        add_file(z, "setup.sh", setup, 0o755)
        add_file(z, "run_autograder", run, 0o755)
        for name in files:
            path = os.path.join(ROOT, name)
            with open(path, "rb") as f:
                data = f.read()
            mode = 0o755 if os.stat(path).st_mode & 0o111 else 0o644
            add_file(z, "socklab/" + name, data, mode)
    os.replace(tmp, out)
    print("export: %s (setup.sh, run_autograder, socklab/: %d files; "
          "lessons: %s)" % (os.path.relpath(out), len(files),
                            " ".join(lessons) if lessons else "all"))


# ---------------------------------------------------------------- command line

def parser():
    """The command line's parser."""
    p = argparse.ArgumentParser(prog="export.py", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    for name in FORMATS:
        c = sub.add_parser(name, help="convert a results record to %s" % name)
        c.add_argument("results", help="grade.py's results.json")
        c.add_argument("-o", "--output", help="file to write (default: "
                       "standard output)")
        c.add_argument("--lesson", action="append", help="the lessons "
                       "graded, for a record of failures when RESULTS "
                       "is missing (default: all)")
        if name == "classroom":
            c.add_argument("--github-output", metavar="NAME",
                           help="append NAME=BASE64 to $GITHUB_OUTPUT")
    g = sub.add_parser("grade", help="grade one submission into a format")
    g.add_argument("format", choices=FORMATS)
    g.add_argument("submission", help="the submitted folder")
    g.add_argument("-o", "--output", help="file to write (default: stdout)")
    g.add_argument("--lesson", action="append",
                   help="grade only these lessons (NN, slug or NN-slug)")
    g.add_argument("--jobs", type=int, help="lessons graded at once")
    z = sub.add_parser("zip", help="build Gradescope's autograder zip")
    z.add_argument("-o", "--output", default=os.path.join(
        ROOT, "build", "gradescope", "autograder.zip"))
    z.add_argument("--lesson", action="append",
                   help="grade only these lessons (default: all)")
    return p


def main(argv):
    args = parser().parse_args(argv)

    if args.command == "zip":
        build_zip(args.output, args.lesson)
        return 0
    if args.command == "grade":
        return grade_submission(args.format, args.submission, args.output,
                                args.lesson, args.jobs)
    record, why = load_record(args.results)
    if record is None:
        print("export: %s" % why, file=sys.stderr)
        record = failed_record(why, args.lesson)
    export(args.command, record, args.output,
           getattr(args, "github_output", None))
    return 1 if why else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
