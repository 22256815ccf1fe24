"""Unit tests of grade.py's pieces that need no Bats run: weights, student
names, submission layouts, TAP parsing and its bounds, XML safety.

    python3 -m unittest discover -s tests/grader -p 'test_*.py'
"""

import io
import os
import re
import tempfile
import unittest

from grading import bats, catalog, classroom, config, report

find_lessons_tree = classroom.find_lessons_tree


class Weights(unittest.TestCase):
    def weights(self, text):
        f = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
        f.write(text)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return catalog.load_weights(f.name)

    def test_default_is_one_point_a_step(self):
        w = self.weights("# nothing\n\n")
        self.assertEqual(w("01-echo-once", 3), 1.0)

    def test_lesson_then_step_wins(self):
        w = self.weights("01 2\n01:7 5   # end to end\n06-select 0.5\n")
        self.assertEqual(w("01-echo-once", 1), 2.0)
        self.assertEqual(w("01-echo-once", 7), 5.0)
        self.assertEqual(w("06-select", 4), 0.5)
        self.assertEqual(w("02-echo-repeat", 1), 1.0)

    def test_full_lesson_name_and_step(self):
        w = self.weights("01-echo-once:2 4\n")
        self.assertEqual(w("01-echo-once", 2), 4.0)
        self.assertEqual(w("01-echo-once", 3), 1.0)

    def test_bad_lines_exit_2(self):
        for text in ("01\n", "01 x\n", "01 -1\n", "one 1\n", "01:x 1\n",
                     "01 1 2\n"):
            with self.assertRaises(SystemExit) as e, \
                    redirect_stderr():
                self.weights(text)
            self.assertEqual(e.exception.code, 2, text)

    def test_missing_named_file_exits_2(self):
        with self.assertRaises(SystemExit) as e, redirect_stderr():
            catalog.load_weights("/nonexistent/weights.conf")
        self.assertEqual(e.exception.code, 2)


class StudentNames(unittest.TestCase):
    def test_safe_and_unique(self):
        taken = set()
        names = [classroom.student_name(n, taken) for n in (
            "alice", "Jane Doe", "../../etc", "-rf", "=SUM(A1)", "alice",
            "", "Zoë", "a/b")]
        self.assertEqual(names, ["alice", "Jane_Doe", "etc", "rf",
                                 "SUM_A1_", "alice-2", "student", "Zo_",
                                 "a_b"])
        for n in names:
            self.assertRegex(n, r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
            self.assertNotIn("..", n)


class Layouts(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(__import__("shutil").rmtree, self.dir)

    def mk(self, *parts):
        path = os.path.join(self.dir, *parts)
        os.makedirs(path, exist_ok=True)
        return path

    def test_lessons_tree_checkout_and_archive(self):
        direct = self.mk("a", "01-echo-once")
        self.assertEqual(find_lessons_tree(os.path.dirname(direct)),
                         os.path.dirname(direct))
        checkout = self.mk("b", "lessons", "01-echo-once")
        self.assertEqual(find_lessons_tree(os.path.join(self.dir, "b")),
                         os.path.dirname(checkout))
        archive = self.mk("c", "socklab-main", "lessons", "01-echo-once")
        self.assertEqual(find_lessons_tree(os.path.join(self.dir, "c")),
                         os.path.dirname(archive))
        self.mk("d", "notes")
        self.assertIsNone(find_lessons_tree(os.path.join(self.dir, "d")))

    def test_symlinks_are_not_followed(self):
        target = self.mk("elsewhere", "lessons", "01-echo-once")
        os.makedirs(os.path.join(self.dir, "e"))
        os.symlink(os.path.dirname(target), os.path.join(self.dir, "e",
                                                         "lessons"))
        self.assertIsNone(find_lessons_tree(os.path.join(self.dir,
                                                               "e")))

    def test_copy_takes_regular_small_files_only(self):
        tree = self.mk("s", "lessons")
        lesson = os.path.join(tree, "01-echo-once")
        os.makedirs(lesson)
        with open(os.path.join(lesson, "client.c"), "w") as f:
            f.write("int main(void) { return 0; }\n")
        os.symlink("/etc/passwd", os.path.join(lesson, "server.c"))
        dest = os.path.join(self.dir, "copy")
        problems = classroom.copy_submission(tree, ["01-echo-once"], dest)
        self.assertTrue(os.path.isfile(os.path.join(dest, "01-echo-once",
                                                    "client.c")))
        self.assertFalse(os.path.lexists(os.path.join(dest, "01-echo-once",
                                                      "server.c")))
        self.assertIn("link", problems["01-echo-once"]["server"])


class Tap(unittest.TestCase):
    def read(self, text):
        reader = bats.TapReader(io.BytesIO(text.encode()))
        reader.thread.join(5)
        return reader

    def test_results_times_and_timeouts(self):
        r = self.read("1..3\n"
                      "ok 1 step 1: listens in 120ms\n"
                      "not ok 2 step 2: echoes in 20003ms # timeout after 20s\n"
                      "# FAILED step 2 of 01\n"
                      "#   server: still running\n"
                      "ok 3 step 3: exits\n")
        out = r.outcome(["step 1: listens", "step 2: echoes", "step 3: exits",
                         "step 4: never ran"])
        self.assertEqual(out["step 1: listens"][:3], (True, "", 0.12))
        passed, text, seconds, note = out["step 2: echoes"]
        self.assertFalse(passed)
        self.assertEqual(seconds, 20.003)
        self.assertTrue(note.startswith("timeout"))
        self.assertEqual(text, "FAILED step 2 of 01\n  server: still running")
        self.assertIsNone(out["step 3: exits"][2])
        self.assertNotIn("step 4: never ran", out)

    def test_output_is_bounded(self):
        flood = "# " + "y" * 1000 + "\n"
        r = self.read("not ok 1 step 1: x in 5ms\n" + flood * 5000 +
                      "ok 2 step 2: y in 5ms\n" + "junk\n" * 100000)
        out = r.outcome(["step 1: x", "step 2: y"])
        self.assertLess(len(out["step 1: x"][1]),
                        config.STEP_OUTPUT_LIMIT + 100)
        self.assertIn("more bytes of output cut", out["step 1: x"][1])
        self.assertTrue(out["step 2: y"][0])
        self.assertLess(r.other_bytes, config.OTHER_OUTPUT_LIMIT)

    def test_stack_trace_and_job_notices_dropped(self):
        lines = ["(from function `start_server' in file tests/lib/common.bash, line 1,",
                 " in test file tests/01-echo-once.bats, line 14)",
                 "  `start_server 127.0.0.1 0' failed",
                 "/work/tests/lib/common.bash: line 257:  2767 Killed"
                 "                  timeout -k 1 ...",
                 "FAILED step 1"]
        self.assertEqual(bats.clean_transcript(lines), "FAILED step 1")


class Xml(unittest.TestCase):
    def test_control_characters_replaced(self):
        self.assertEqual(report.xml_safe("a\x00b\x1bc\td"), "a?b?c\td")


class Layers(unittest.TestCase):
    def test_no_module_uses_one_above_it(self):
        """grade.py lists the modules of grading/ bottom up; each may use
        only those before it (as the lab's layers: tests/lab/layers)."""
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(here, "grade.py")) as f:
            doc = f.read().split('"""')[1]
        order = re.findall(r"^    (\w+)  ", doc, re.M)
        folder = os.path.join(here, "grading")
        found = sorted(n[:-3] for n in os.listdir(folder)
                       if n.endswith(".py") and n != "__init__.py")
        self.assertEqual(sorted(order), found)
        for i, name in enumerate(order):
            with open(os.path.join(folder, name + ".py")) as f:
                text = f.read()
            used = re.findall(r"^from \.(\w+) import", text, re.M) + \
                re.findall(r"^from \. import (\w+)", text, re.M)
            for u in used:
                self.assertLess(order.index(u), i,
                                "grading/%s.py uses %s, a layer above it"
                                % (name, u))


class redirect_stderr:
    """Swallow the grader's one-line error while a test expects it."""

    def __enter__(self):
        import contextlib
        self.ctx = contextlib.redirect_stderr(io.StringIO())
        return self.ctx.__enter__()

    def __exit__(self, *exc):
        return self.ctx.__exit__(*exc)


if __name__ == "__main__":
    unittest.main()
