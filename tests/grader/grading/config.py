"""Paths, bounds and limits every layer shares, the one way the grader
says it was used wrongly (die), and two small file helpers.
"""

import os
import re
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
STEP_BOUND = 20       # seconds one step may take before it is failed
BUILD_BOUND = 60      # seconds one program may take to compile
SOURCE_LIMIT = 1 << 20        # bytes of one submitted C file
LOG_LIMIT = 64 << 10          # bytes kept of a compile log
STEP_OUTPUT_LIMIT = 16 << 10  # bytes kept of one step's transcript
OTHER_OUTPUT_LIMIT = 8 << 10  # bytes kept of Bats output outside steps
SANDBOX_UID_BASE = int(os.environ.get("LAB_SANDBOX_UID_BASE", "61000"))
SANDBOX_UID_COUNT = 4000
TEST_LINE = re.compile(r'^\s*@test\s+"([^"]+)"')
TAP_LINE = re.compile(r"^(ok|not ok) (\d+) (.*?)(?: in (\d+)ms)?"
                      r"(?: # (.*))?$")
LESSON_NAME = re.compile(r"^\d\d-[A-Za-z0-9_-]+$")
PROGRAM_FILE = re.compile(r"^[A-Za-z0-9_-]+\.c$")
SAFE_PATH = re.compile(r"^[A-Za-z0-9_./@+-]+$")   # what make can take


def die(message):
    """Bad usage or set-up: say so in one line and exit 2."""
    print("grade: " + message, file=sys.stderr)
    sys.exit(2)


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_text(path, text):
    with open(path, "w") as f:
        f.write(text)
