"""Unit tests of export.py's converters on hand-made results records: the
fields each platform reads, weights, skipped steps, compile errors, a
missing record, the sizes the platforms cap. (tests/grader/export.bats
runs each exporter as its platform does.)

    python3 -m unittest discover -s tests/grader -p 'test_export.py'
"""

import base64
import json
import os
import tempfile
import unittest
import xml.etree.ElementTree as ET
from unittest import mock

import export

COMPILE_ERROR = ("lessons/03-echo-threads/client.c:12:5: error: expected "
                 "';' before 'return'")


def step(n, passed, points=1.0, transcript="", skipped=None):
    s = {"step": n, "name": "step %d: does thing %d" % (n, n),
         "passed": passed, "points": points if passed else 0.0,
         "max_points": points, "seconds": 0.25 if passed else 1.5,
         "transcript": "" if passed else transcript}
    if skipped:
        s["skipped"] = skipped
    return s


def lesson(name, steps, compile_=None):
    return {"lesson": name, "passed": sum(s["passed"] for s in steps),
            "total": len(steps), "points": sum(s["points"] for s in steps),
            "max_points": sum(s["max_points"] for s in steps),
            "compile": compile_ or {"server": "ok", "client": "ok"},
            "seconds": 3.0, "steps": steps,
            "sandbox": {"uid": 61234, "held": [], "survivors": 0,
                        "files_removed": [], "cleaned": []}}


def record(lessons):
    return {"impl": "lessons", "seconds": 6.4, "sanitize": False,
            "passed": sum(l["passed"] for l in lessons),
            "total": sum(l["total"] for l in lessons),
            "points": sum(l["points"] for l in lessons),
            "max_points": sum(l["max_points"] for l in lessons),
            "lessons": lessons}


def mixed():
    """Lesson 01 passed but a weighted step; lesson 03's client does not
    compile; lesson 13 skipped a step for want of ::1."""
    return record([
        lesson("01-echo-once", [step(1, True), step(2, True),
                                step(3, False, 3.0, "FAILED step 3: got \"\"")]),
        lesson("03-echo-threads", [
            step(1, True), step(2, False, 1.0, "it does not compile")],
            {"server": "ok", "client": COMPILE_ERROR}),
        lesson("13-ipv6", [step(1, True, 2.0, skipped="no IPv6 loopback "
                                                   "(::1) here"),
                           step(2, True)]),
    ])


class Gradescope(unittest.TestCase):
    def test_a_test_per_step_numbered_lesson_dot_step(self):
        r = export.to_gradescope(mixed())
        self.assertEqual([t["number"] for t in r["tests"]],
                         ["1.1", "1.2", "1.3", "3.1", "3.2", "13.1", "13.2"])
        self.assertEqual(r["score"], 6.0)
        self.assertEqual(sum(t["max_score"] for t in r["tests"]), 10.0)
        for t in r["tests"]:
            self.assertIn(t["status"], ("passed", "failed"))
            self.assertEqual(t["visibility"], "visible")
            self.assertTrue(t["name"].startswith(t["tags"][0] + " step "))

    def test_output_is_the_transcript_of_a_failure(self):
        t = export.to_gradescope(mixed())["tests"][2]
        self.assertEqual((t["status"], t["score"], t["max_score"]),
                         ("failed", 0.0, 3.0))
        self.assertEqual(t["output"], 'FAILED step 3: got ""')

    def test_compile_errors_and_skips_in_the_summary(self):
        out = export.to_gradescope(mixed())["output"]
        self.assertIn("03-echo-threads/client.c does not build:", out)
        self.assertIn(COMPILE_ERROR, out)
        self.assertIn("13.1: no IPv6 loopback (::1) here", out)

    def test_a_skipped_step_passes_with_its_reason(self):
        t = export.to_gradescope(mixed())["tests"][5]
        self.assertEqual((t["status"], t["score"]), ("passed", 2.0))
        self.assertTrue(t["output"].startswith(
            "skipped: no IPv6 loopback (::1) here"))

    def test_valid_json_as_written(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "results", "results.json")
            export.export("gradescope", mixed(), out)
            with open(out) as f:
                self.assertEqual(json.load(f)["score"], 6.0)


class Classroom(unittest.TestCase):
    def test_scores_sum_to_the_points(self):
        r = export.to_classroom(mixed())
        self.assertEqual(r["version"], 1)
        self.assertEqual(r["status"], "fail")
        self.assertEqual(r["max_score"], 10.0)
        self.assertEqual(sum(t["score"] for t in r["tests"]), 6.0)
        self.assertEqual([t["status"] for t in r["tests"]],
                         ["pass", "pass", "fail", "pass", "fail", "pass",
                          "pass"])

    def test_all_passed_is_pass(self):
        r = export.to_classroom(record([lesson("01-echo-once",
                                               [step(1, True)])]))
        self.assertEqual(r["status"], "pass")

    def test_github_output_is_base64_of_the_runner_json(self):
        with tempfile.TemporaryDirectory() as d:
            gh = os.path.join(d, "github_output")
            open(gh, "w").close()
            with mock.patch.dict(os.environ, {"GITHUB_OUTPUT": gh}), \
                    mock.patch("sys.stdout"):
                export.export("classroom", mixed(), None, "result")
            with open(gh) as f:
                name, value = f.read().rstrip("\n").split("=", 1)
            self.assertEqual(name, "result")
            r = json.loads(base64.b64decode(value))
            self.assertEqual(sum(t["score"] for t in r["tests"]), 6.0)

    def test_long_transcripts_are_cut(self):
        long = record([lesson("01-echo-once",
                              [step(1, False, 1.0, "x" * 100000)])])
        msg = export.to_classroom(long)["tests"][0]["message"]
        self.assertLess(len(msg), export.MESSAGE_LIMIT + 100)
        self.assertIn("more characters cut", msg)


class PrairieLearn(unittest.TestCase):
    def test_score_is_a_fraction_and_tests_have_points(self):
        r = export.to_prairielearn(mixed())
        self.assertIs(r["gradable"], True)
        self.assertAlmostEqual(r["score"], 0.6, places=5)
        for t in r["tests"]:
            self.assertLessEqual(t["points"], t["max_points"])
            for key in ("name", "description", "message", "output"):
                self.assertIsInstance(t[key], str)

    def test_nothing_builds_is_not_gradable(self):
        r = export.to_prairielearn(record([lesson(
            "03-echo-threads", [step(1, False, 1.0, "does not compile")],
            {"server": COMPILE_ERROR, "client": COMPILE_ERROR})]))
        self.assertIs(r["gradable"], False)
        self.assertEqual(len(r["format_errors"]), 2)
        self.assertIn(COMPILE_ERROR, r["format_errors"][0])

    def test_one_program_building_is_gradable(self):
        self.assertIs(export.to_prairielearn(mixed())["gradable"], True)

    def test_a_grader_failure_is_not_gradable(self):
        r = export.to_prairielearn(export.failed_record("disk full",
                                                        ["01"]))
        self.assertIs(r["gradable"], False)
        self.assertEqual(r["format_errors"], ["disk full"])


class Autolab(unittest.TestCase):
    def test_last_line_is_the_scores(self):
        text = export.to_autolab(mixed())
        last = json.loads(text.rstrip("\n").splitlines()[-1])
        self.assertEqual(last, {"scores": {"01-echo-once": 2.0,
                                           "03-echo-threads": 1.0,
                                           "13-ipv6": 3.0}})
        self.assertIn('FAIL 1.3 step 3: does thing 3 (0/3)', text)
        self.assertIn('    FAILED step 3: got ""', text)


class Junit(unittest.TestCase):
    def test_a_case_per_step(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "junit.xml")
            export.export("junit", mixed(), out)
            suites = ET.parse(out).getroot().findall("testsuite")
        self.assertEqual([s.get("name") for s in suites],
                         ["01-echo-once", "03-echo-threads", "13-ipv6"])
        self.assertEqual(sum(s.get("failures") == "1" for s in suites), 2)


class MissingRecord(unittest.TestCase):
    def test_every_step_of_the_lessons_fails_with_the_reason(self):
        rec, why = export.load_record("/nonexistent/results.json")
        self.assertIsNone(rec)
        r = export.failed_record(why, ["01"])
        self.assertEqual([l["lesson"] for l in r["lessons"]],
                         ["01-echo-once"])
        self.assertGreater(r["total"], 0)
        self.assertEqual(r["points"], 0)
        self.assertTrue(all(s["transcript"] == why for l in r["lessons"]
                            for s in l["steps"]))
        g = export.to_gradescope(r)
        self.assertEqual(g["score"], 0)
        self.assertIn("could not grade", g["output"])

    def test_not_a_record(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            f.write('{"students": []}')
            f.flush()
            rec, why = export.load_record(f.name)
        self.assertIsNone(rec)
        self.assertIn("not a socklab results record", why)


if __name__ == "__main__":
    unittest.main()
