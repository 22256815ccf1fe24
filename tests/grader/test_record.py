"""Unit tests of the result record's one definition (grading/record.py):
its writers, and that the lab and export.py read it by its names only.

    python3 -m unittest discover -s tests/grader -p 'test_*.py'
"""

import io
import json
import os
import re
import unittest

from grading import record
from grading.record import (
    BUILD_EVENT, GRADES, KINDS, LESSON, RESULTS, SANDBOX, STEP, STEP_EVENT,
    STUDENT)
from grading.report import Reporter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
JSON_READ = re.compile(r"\bjson_(?:get|str|num)\(\s*[^,()]+,\s*([^)]*)\)")


def lab_sources():
    """(path, text) of every C file of the lab."""
    for top, _, files in os.walk(os.path.join(ROOT, "lab")):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                with open(os.path.join(top, f)) as fh:
                    yield os.path.relpath(os.path.join(top, f), ROOT), \
                        fh.read()


class Definition(unittest.TestCase):
    def test_fields_are_attributes_holding_their_names(self):
        for kind in KINDS:
            for name in kind.names():
                self.assertEqual(getattr(kind, name), name)

    def test_make_orders_fields_and_refuses_unknown_or_missing(self):
        s = STEP.make(transcript="", seconds=None, max_points=1.0,
                      points=1.0, passed=True, name="step 1: x", step=1)
        self.assertEqual(list(s), ["step", "name", "passed", "points",
                                   "max_points", "seconds", "transcript"])
        with self.assertRaises(ValueError):
            STEP.make(**dict(s, colour="red"))
        with self.assertRaises(ValueError):
            STEP.make(step=1)

    def test_failed_lesson_is_a_whole_lesson_record(self):
        l = record.failed_lesson("01-x", ["step 1: a", "step 2: b"],
                                 lambda lesson, i: 2.0, "disk full")
        self.assertEqual(list(l), ["lesson", "passed", "total", "points",
                                   "max_points", "compile", "seconds",
                                   "steps", "sandbox", "grader_error"])
        self.assertEqual((l["total"], l["max_points"]), (2, 4.0))
        self.assertEqual(list(l["sandbox"]), SANDBOX.names())
        self.assertNotIn("sandbox", record.failed_lesson(
            "01-x", [], lambda *a: 1.0, "why", sandbox=False))

    def test_summary_sums_its_lessons(self):
        l = record.failed_lesson("01-x", ["step 1: a"], lambda *a: 3.0, "w")
        r = record.summary("lessons", [l, l], 1.234, student="ann")
        self.assertEqual((r["total"], r["max_points"], r["seconds"],
                          r["student"]), (2, 6.0, 1.23, "ann"))
        self.assertEqual(list(r)[:7], RESULTS.names()[:7])

    def test_class_records(self):
        st = STUDENT.make(student="a", folder="a", lessons_found=None,
                          points={}, total=0, passed=0, steps=0, seconds=0,
                          lessons=[])
        g = GRADES.make(lessons=[], max_points={}, max_total=0, seconds=0,
                        jobs=1, sanitize=False, students=[st])
        self.assertEqual(list(g), GRADES.names())


class Events(unittest.TestCase):
    def test_reporter_writes_the_defined_events(self):
        out = io.StringIO()
        r = Reporter(2, events=True, stream=out)
        r.build("01-x", {"server": None, "client": "error: x"})
        r.step("01-x", 1, "step 1: a", False, "FAILED", 0.5, None)
        r.step("01-x", 2, "step 2: b", True, "", 0.1, "skip no IPv6")
        lines = [json.loads(l) for l in out.getvalue().splitlines()]
        self.assertEqual(list(lines[0]), BUILD_EVENT.names())
        self.assertEqual(lines[0]["compile"]["server"], record.COMPILE_OK)
        self.assertEqual([l[record.EVENT] for l in lines],
                         [record.EVENT_BUILD, record.EVENT_STEP,
                          record.EVENT_STEP])
        for l in lines[1:]:
            self.assertEqual(list(l), STEP_EVENT.names())
        self.assertEqual(lines[2]["skipped"], "no IPv6")


class Readers(unittest.TestCase):
    """The lab and export.py take the record's names from the definition:
    a reader naming a field by a string of its own would go on reading a
    field the definition renamed or dropped."""

    def test_header_defines_every_field_and_value(self):
        header = record.c_header()
        for kind in KINDS:
            for name in kind.names():
                self.assertIn('#define REC_%s_%s "%s"' % (
                    kind._kind, record.c_name(name), name), header)
        for name, (value, _) in record.VALUES.items():
            self.assertIn('#define REC_%s %s' % (name, json.dumps(value)),
                          header)

    def test_lab_reads_the_record_by_the_header_names_only(self):
        header = record.c_header()
        defined = set(re.findall(r"#define (REC_\w+)", header))
        reads = 0
        for path, text in lab_sources():
            for key in JSON_READ.findall(text):
                if path.startswith("lab/base/json."):
                    continue      # the parser itself
                reads += 1
                self.assertRegex(key.strip(), r"^REC_\w+$",
                                 "%s reads a record field as %s, not by "
                                 "its name in record.h" % (path, key))
            for used in re.findall(r"\bREC_\w+", text):
                self.assertTrue(used in defined, "%s uses %s, which "
                              "grading/record.py does not define"
                              % (path, used))
        self.assertGreater(reads, 10)   # the pattern still finds them

    def test_export_reads_the_record_by_the_definition(self):
        with open(os.path.join(HERE, "export.py")) as f:
            text = f.read()
        fields = {n for kind in KINDS for n in kind.names()}
        for var, key in re.findall(
                r"\b(record|lesson|step|l|s|r)(?:\[|\.get\()\"(\w+)\"",
                text):
            self.assertNotIn(key, fields, "export.py reads %s[%r]: use "
                             "the name from grading/record.py" % (var, key))


if __name__ == "__main__":
    unittest.main()
