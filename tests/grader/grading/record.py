#!/usr/bin/env python3
"""The result record: the one definition of what the grader writes and its
readers read.

    results.json   RESULTS, its lessons[] LESSON, their steps[] STEP and
                   sandbox SANDBOX (grade.py check; each student's own in
                   grade.py class; export.py's record of a failed grading)
    --events       one JSON object a line: BUILD_EVENT, STEP_EVENT
    grades.json    GRADES, its students[] STUDENT (grade.py class)

Each kind lists its fields in the order they are written; a field marked
optional is left out when there is nothing to say. The grader writes
records only through make() (an unknown field or a missing one is a bug it
says at once); export.py reads them by these names (STEP.passed is
"passed"); the lab reads them through build/lab/record.h, which

    python3 tests/grader/grading/record.py --c-header

writes (make builds it before the lab): REC_STEP_PASSED is "passed".
tests/grader/test_record.py fails when the lab or export.py reads a field
by any other name.

Standard library only; uses no other module of the grader.
"""

import json
import os
import sys


class Kind:
    """One kind of record: its fields, each an attribute holding its own
    name (so a misspelt field is an AttributeError, not a silent None)."""

    def __init__(self, kind, where, fields):
        self._kind, self._where = kind, where
        self._fields = []          # (name, optional, what it holds)
        for spec, what in fields:
            name = spec.rstrip("?")
            self._fields.append((name, spec.endswith("?"), what))
            setattr(self, name, name)

    def names(self):
        """The field names, in the order they are written."""
        return [name for name, _, _ in self._fields]

    def make(self, **values):
        """The record of these values, its fields in the defined order."""
        unknown = set(values) - set(self.names())
        missing = [n for n, optional, _ in self._fields
                   if not optional and n not in values]
        if unknown or missing:
            raise ValueError("%s record: unknown %s, missing %s" % (
                self._kind, sorted(unknown), missing))
        return {n: values[n] for n in self.names() if n in values}


STEP = Kind("STEP", "results.json: lessons[].steps[]", [
    ("step", "its number, from 1"),
    ("name", "its @test name, 'step N: what it checks'"),
    ("passed", "true or false (a step the test skipped counts as passed)"),
    ("points", "points earned: max_points when passed, else 0"),
    ("max_points", "what it is worth (tests/grader/weights.conf)"),
    ("seconds", "how long it took, or null"),
    ("ran?", "false when it was not run (after a first failure, or "
             "--step ran another)"),
    ("transcript", "what the student reads when it failed, else ''"),
    ("skipped?", "why the test skipped it (passed, no points lost)"),
])

SANDBOX = Kind("SANDBOX", "results.json: lessons[].sandbox", [
    ("uid", "the sandbox uid, or null"),
    ("held", "when the uid was taken and given back (epoch seconds)"),
    ("survivors", "processes still alive after the clean-up (0 is good)"),
    ("files_removed", "files the uid left in /tmp and the like"),
    ("cleaned", "the lines of the sandbox's clean-up log"),
])

LESSON = Kind("LESSON", "results.json: lessons[]", [
    ("lesson", "NN-slug"),
    ("passed", "steps passed"),
    ("total", "steps"),
    ("points", "points earned"),
    ("max_points", "points the lesson is worth"),
    ("compile", "program -> COMPILE_OK or the compiler's message"),
    ("seconds", "how long building and testing it took"),
    ("steps", "its STEP records, in order"),
    ("sandbox?", "its SANDBOX record"),
    ("grader_error?", "why the grader itself failed on it"),
])

RESULTS = Kind("RESULTS", "results.json", [
    ("impl", "'lessons' or 'solutions'"),
    ("seconds", "how long the grading took"),
    ("passed", "steps passed, every lesson"),
    ("total", "steps, every lesson"),
    ("points", "points earned"),
    ("max_points", "points possible"),
    ("lessons", "its LESSON records, in lesson order"),
    ("sanitize?", "built with ASan+UBSan (check)"),
    ("src?", "the lessons/ tree graded (check; the lab takes a check of "
             "its own lessons/ as the student's progress)"),
    ("first_failure?", "steps after a first failure were not run (check)"),
    ("only_step?", "the one step run, or null (check)"),
    ("student?", "whose results these are (class)"),
    ("grader_error?", "why there are no real results (export.py)"),
])

BUILD_EVENT = Kind("BUILD_EVENT", "--events: a lesson was built", [
    ("event", "EVENT_BUILD"),
    ("lesson", "NN-slug"),
    ("compile", "program -> COMPILE_OK or the compiler's message"),
])

STEP_EVENT = Kind("STEP_EVENT", "--events: a step finished", [
    ("event", "EVENT_STEP"),
    ("lesson", "NN-slug"),
    ("step", "its number"),
    ("name", "its @test name"),
    ("passed", "true or false"),
    ("ran", "false when it was not run (after a first failure)"),
    ("seconds", "how long it took, or null"),
    ("skipped", "why the test skipped it, or null"),
    ("transcript", "what the student reads when it failed, else ''"),
])

STUDENT = Kind("STUDENT", "grades.json: students[]", [
    ("student", "the safe name the grader gave the folder"),
    ("folder", "the folder as handed in"),
    ("lessons_found", "where its lessons/ was, or null"),
    ("points", "NN-slug -> points"),
    ("total", "points, every lesson"),
    ("passed", "steps passed"),
    ("steps", "steps"),
    ("seconds", "how long grading them took"),
    ("lessons", "its LESSON records"),
])

GRADES = Kind("GRADES", "grades.json", [
    ("lessons", "the NN-slug names graded"),
    ("max_points", "NN-slug -> points possible"),
    ("max_total", "points possible, every lesson"),
    ("seconds", "how long the class took"),
    ("jobs", "lessons graded at once"),
    ("sanitize", "built with ASan+UBSan"),
    ("students", "the STUDENT records"),
])

KINDS = (STEP, SANDBOX, LESSON, RESULTS, BUILD_EVENT, STEP_EVENT, STUDENT,
         GRADES)

# Values with a meaning of their own.
VALUES = {
    "EVENT": (STEP_EVENT.event, "the field every --events line has"),
    "COMPILE_OK": ("ok", "a compile entry of a program that built"),
    "IMPL_LESSONS": ("lessons", "the impl of a check of a lessons/ tree"),
    "EVENT_BUILD": ("build", "the event field of a BUILD_EVENT"),
    "EVENT_STEP": ("step", "the event field of a STEP_EVENT"),
}
EVENT = VALUES["EVENT"][0]
COMPILE_OK = VALUES["COMPILE_OK"][0]
IMPL_LESSONS = VALUES["IMPL_LESSONS"][0]
EVENT_BUILD = VALUES["EVENT_BUILD"][0]
EVENT_STEP = VALUES["EVENT_STEP"][0]


# ---------------------------------------------------------------- writers

def compile_map(compiled):
    """{program: error or None} as the record says it."""
    return {p: (COMPILE_OK if e is None else e) for p, e in compiled.items()}


def failed_lesson(lesson, names, weight, why, sandbox=True):
    """The LESSON record of a lesson the grader could not grade: each of
    its steps (names) failed for the reason why; with an empty SANDBOX
    record unless sandbox is false (no grader ran)."""
    steps = [STEP.make(step=i, name=n, passed=False, points=0.0,
                       max_points=weight(lesson, i), seconds=None,
                       transcript=why)
             for i, n in enumerate(names, 1)]
    more = {}
    if sandbox:
        more["sandbox"] = SANDBOX.make(uid=None, held=[], survivors=0,
                                       files_removed=[], cleaned=[])
    return LESSON.make(
        lesson=lesson, passed=0, total=len(steps), points=0.0,
        max_points=sum(s[STEP.max_points] for s in steps), compile={},
        seconds=0.0, steps=steps, grader_error=why, **more)


def summary(impl, lessons, seconds, **more):
    """The RESULTS record of lesson records."""
    return RESULTS.make(
        impl=impl, seconds=round(seconds, 2),
        passed=sum(l[LESSON.passed] for l in lessons),
        total=sum(l[LESSON.total] for l in lessons),
        points=sum(l[LESSON.points] for l in lessons),
        max_points=sum(l[LESSON.max_points] for l in lessons),
        lessons=lessons, **more)


def write_json(path, record):
    """Write a record to path, atomically, as the readers expect it."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def event_line(record):
    """One --events line of a record."""
    return json.dumps(record) + "\n"


# ---------------------------------------------------------------- the lab's header

def c_name(text):
    return "".join(c if c.isalnum() else "_" for c in text).upper()


def c_header():
    """build/lab/record.h: a macro per field of every kind and per value."""
    out = ["/* record.h - the grader's result record, for the lab.",
           "   Generated by tests/grader/grading/record.py --c-header from",
           "   the one definition of the record there: do not edit. */",
           "#ifndef LAB_RECORD_H", "#define LAB_RECORD_H", ""]
    for kind in KINDS:
        out.append("/* %s (%s) */" % (kind._kind, kind._where))
        for name, optional, what in kind._fields:
            out.append("#define REC_%s_%s %s /* %s%s */" % (
                kind._kind, c_name(name), json.dumps(name),
                "optional: " if optional else "", what.replace("*/", "* /")))
        out.append("")
    for name, (value, what) in VALUES.items():
        out.append("#define REC_%s %s /* %s */" % (name, json.dumps(value),
                                                  what))
    out += ["", "#endif"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--c-header"]:
        print("usage: record.py --c-header", file=sys.stderr)
        sys.exit(2)
    sys.stdout.write(c_header())
