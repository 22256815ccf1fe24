"""Writing and printing results: results.json, JUnit XML, the live
per-step lines (or --events JSON lines) and the table.
"""

import os
import re
import sys
import threading
import time
import xml.etree.ElementTree as ET

from .record import (
    BUILD_EVENT, EVENT_BUILD, EVENT_STEP, LESSON, STEP, STEP_EVENT,
    compile_map, event_line)


def write_junit(path, lessons, suite_prefix=""):
    """Write one JUnit testsuite per lesson, one testcase per step."""
    root = ET.Element("testsuites", name="socklab")
    for l in lessons:
        suite = ET.SubElement(root, "testsuite",
                              name=suite_prefix + l[LESSON.lesson],
                              tests=str(l[LESSON.total]),
                              failures=str(l[LESSON.total] - l[LESSON.passed]),
                              time=str(l[LESSON.seconds]))
        for s in l[LESSON.steps]:
            case = ET.SubElement(suite, "testcase",
                                 classname=suite_prefix + l[LESSON.lesson],
                                 name=s[STEP.name])
            if s.get(STEP.seconds) is not None:
                case.set("time", "%.3f" % s[STEP.seconds])
            if not s[STEP.passed]:
                first = (s[STEP.transcript].splitlines() or ["failed"])[0]
                fail = ET.SubElement(case, "failure", message=xml_safe(
                    first[:300]))
                fail.text = xml_safe(s[STEP.transcript])
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def xml_safe(text):
    """Drop the characters XML 1.0 cannot hold (a student's stderr may)."""
    return re.sub(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]",
                  "?", text)


def colour(text, code, stream=sys.stdout):
    """Colour text for a terminal, never for a pipe or with NO_COLOR."""
    if stream.isatty() and not os.environ.get("NO_COLOR"):
        return "\033[%sm%s\033[0m" % (code, text)
    return text


def fmt_points(x):
    return ("%g" % x)


class Reporter:
    """Print each step's verdict the moment it is known: one line a step
    with its transcript when it fails, under a progress line on a terminal
    (step k of n, elapsed); or, with events, one JSON object a line for
    the lab. Lessons run in parallel threads: one lock orders the lines."""

    def __init__(self, total, events=False, stream=None):
        self.stream = stream or sys.stdout
        self.total, self.done, self.events = total, 0, events
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.not_run = {}
        self.tty = self.stream.isatty() and not events
        self.shown = False
        if self.tty:
            threading.Thread(target=self._tick, daemon=True).start()

    def _progress(self):
        """Redraw the progress line (call with the lock held)."""
        if self.tty:
            self.stream.write("\r\033[K" + colour(
                "[step %d of %d, %.1f s]" % (min(self.done + 1, self.total),
                                            self.total, time.monotonic() -
                                            self.started), "2", self.stream))
            self.stream.flush()
            self.shown = True

    def _tick(self):
        while True:
            time.sleep(0.5)
            with self.lock:
                if self.done >= self.total:
                    return
                self._progress()

    def build(self, lesson, compiled):
        """Say which programs did not compile, before any step runs."""
        with self.lock:
            if self.events:
                self.stream.write(event_line(BUILD_EVENT.make(
                    event=EVENT_BUILD, lesson=lesson,
                    compile=compile_map(compiled))))
                self.stream.flush()

    def step(self, lesson, number, name, passed, transcript, seconds, note):
        with self.lock:
            self.done += 1
            not_run = bool(note and note.startswith("skip not run:"))
            if self.events:
                self.stream.write(event_line(STEP_EVENT.make(
                    event=EVENT_STEP, lesson=lesson, step=number,
                    name=name, passed=passed and not not_run,
                    ran=not not_run, seconds=seconds,
                    skipped=note[4:].strip() if passed and note and
                    note.startswith("skip") else None,
                    transcript="" if passed else transcript)))
                self.stream.flush()
                return
            if self.shown:
                self.stream.write("\r\033[K")
                self.shown = False
            if not_run:
                self.not_run[lesson] = self.not_run.get(lesson, 0) + 1
            elif passed and note and note.startswith("skip"):
                self.stream.write("%s %s %s (%s)\n" % (
                    colour("skip", "33", self.stream), lesson, name,
                    note[4:].strip()))
            elif passed:
                self.stream.write("%s %s %s%s\n" % (
                    colour("ok  ", "32", self.stream), lesson, name,
                    "" if seconds is None else " (%.1f s)" % seconds))
            else:
                self.stream.write("%s %s %s\n" % (
                    colour("FAIL", "31", self.stream), lesson, name))
                for line in transcript.splitlines():
                    self.stream.write("    " + line + "\n")
            if self.done < self.total:
                self._progress()
            self.stream.flush()

    def finish(self):
        with self.lock:
            self.done = self.total
            if self.shown:
                self.stream.write("\r\033[K")
            for lesson, n in sorted(self.not_run.items()):
                if not self.events:
                    self.stream.write(
                        "%s: stopped at the first failing step; %d more "
                        "not run (--all runs every step)\n" % (lesson, n))
            self.stream.flush()


def print_table(lessons, seconds, show_failures):
    """Print the per-step outcome, failure transcripts, and the table."""
    for l in lessons:
        if show_failures:
            for s in l[LESSON.steps]:
                if not s[STEP.passed]:
                    print(colour("FAIL", "31"),
                          "%s %s" % (l[LESSON.lesson], s[STEP.name]))
                    for line in s[STEP.transcript].splitlines():
                        print("    " + line)
    print()
    print("%-22s %8s %10s" % ("lesson", "steps", "points"))
    for l in lessons:
        mark = colour("ok", "32") if l[LESSON.passed] == l[LESSON.total] else \
            colour("--", "31")
        print("%-22s %8s %10s  %s" % (
            l[LESSON.lesson], "%d/%d" % (l[LESSON.passed], l[LESSON.total]),
            "%s/%s" % (fmt_points(l[LESSON.points]),
                       fmt_points(l[LESSON.max_points])),
            mark))
    passed = sum(l[LESSON.passed] for l in lessons)
    total = sum(l[LESSON.total] for l in lessons)
    points = sum(l[LESSON.points] for l in lessons)
    max_points = sum(l[LESSON.max_points] for l in lessons)
    print("%-22s %8s %10s  (%.1f s)" % ("total", "%d/%d" % (passed, total),
                                       "%s/%s" % (fmt_points(points),
                                                  fmt_points(max_points)),
                                       seconds))
