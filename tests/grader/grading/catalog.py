"""The lessons of a tree, the steps of their tests, the programs of a lesson
and the points of each step (tests/grader/weights.conf).
"""

import os
import re
import sys

from .config import LESSON_NAME, PROGRAM_FILE, ROOT, TEST_LINE, die


def discover(lessons_dir):
    """Return the NN-slug names of the lessons in lessons_dir, in order."""
    if not os.path.isdir(lessons_dir):
        die("no folder %s%s" % (lessons_dir, (
            " (solutions/ is not part of the student hand-out)"
            if os.path.basename(lessons_dir) == "solutions" else "")))
    return sorted(d for d in os.listdir(lessons_dir)
                  if LESSON_NAME.match(d) and
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
                die("no lesson '%s' (there are: %s)" % (
                    item, ", ".join(all_lessons)))
            picked += [m for m in match if m not in picked]
    return picked


def test_file(lesson):
    return os.path.join(ROOT, "tests", lesson + ".bats")


def steps_of(lesson):
    """Return the @test names of tests/LESSON.bats, in file order."""
    with open(test_file(lesson)) as f:
        return [m.group(1) for m in map(TEST_LINE.match, f) if m]


def programs_of(lesson_dir):
    """Return the program names (X for X.c) of one lesson folder."""
    if not os.path.isdir(lesson_dir):
        return []
    return sorted(n[:-2] for n in os.listdir(lesson_dir)
                  if PROGRAM_FILE.match(n))


def load_weights(path=None):
    """Read the weights file (default tests/grader/weights.conf):
    `LESSON POINTS` sets every step of a lesson, `LESSON:STEP POINTS` one
    step; LESSON is NN or NN-slug. Returns a lookup function."""
    path = path or os.path.join(ROOT, "tests", "grader", "weights.conf")
    table = {}
    if os.path.exists(path):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                try:
                    key, points = line.split()
                    value = float(points)
                    if not re.match(r"^\d\d(-[A-Za-z0-9_-]+)?(:\d+)?$", key) \
                            or value < 0 or value != value:
                        raise ValueError
                    table[key] = value
                except ValueError:
                    die("%s:%d: expected 'LESSON[:STEP] POINTS' (LESSON is "
                        "NN or NN-slug, POINTS a number >= 0), got '%s'"
                        % (path, n, line))
    elif path != os.path.join(ROOT, "tests", "grader", "weights.conf"):
        die("no weights file %s" % path)

    def weight(lesson, step):
        for key in ("%s:%d" % (lesson, step), "%s:%d" % (lesson[:2], step),
                    lesson, lesson[:2]):
            if key in table:
                return table[key]
        return 1.0

    return weight

def has_test(lesson):
    if os.path.isfile(test_file(lesson)):
        return True
    print("grade: %s has no test tests/%s.bats: skipped" % (lesson, lesson),
          file=sys.stderr)
    return False
