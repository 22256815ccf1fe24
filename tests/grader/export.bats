#!/usr/bin/env bats
# The classroom platforms' exporters, each run as its platform runs it:
#
#   Gradescope: `make gradescope` builds the zip; run_autograder runs in a
#     simulated /autograder tree (AUTOGRADER_ROOT, under a folder others
#     cannot enter, as /autograder is root's) on four submissions: the
#     solutions, the skeletons (an unpacked archive), a broken one (the
#     lesson's C files alone, the client not compiling) and an empty one.
#   GitHub Classroom: the grading step of .github/workflows/classroom.yml,
#     run with bash -e in a student's repository (a copy of this checkout
#     under a mode-700 folder, sudo a no-op as we are root), its runner JSON
#     decoded from $GITHUB_OUTPUT and summed as the reporter sums it.
#   PrairieLearn: export.py grade in a simulated /grade tree, results.json
#     checked field by field.
#   Autolab and CodeGrade: the scores line and the JUnit XML.
#   Root anywhere and containers without IPv6: a checkout under a mode-700
#     folder grades with the sandbox uid; lesson 13 graded where the
#     loopback has no ::1 skips its IPv6 steps, which keep their points
#     and their reason in every format.
#
# Lesson 01 (and 13 once), every grading at once in setup_file, to stay
# quick.
# Run: timeout 300 bats tests/grader/export.bats (make test does).

setup_file() {
    ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    export ROOT
    # Folders others cannot enter, like /autograder, /root or a CI home.
    T=$BATS_FILE_TMPDIR/private
    mkdir -p "$T"
    chmod 700 "$T"
    export T
    local py=${LAB_PYTHON:-python3}
    export PY=$py
    # The work folders of the graders go here (LAB_WORK_DIR, reachable by
    # the sandbox uid): none may be left behind. A folder of this file's
    # own, as other suites may be grading beside it.
    LAB_WORK_DIR=$(mktemp -d /tmp/socklab-export-work.XXXXXX)
    chmod 755 "$LAB_WORK_DIR"
    export LAB_WORK_DIR

    make --no-print-directory -s -C "$ROOT" gradescope LESSON=01 \
        BUILD="$T/build" >"$T/make-gradescope.out" 2>&1
    echo $? >"$T/make-gradescope.status"

    # Gradescope: four submissions, each in an /autograder tree of its own.
    local name
    for name in solutions skeletons broken empty; do
        mkdir -p "$T/gs-$name/source" "$T/gs-$name/submission"
        (cd "$T/gs-$name/source" && unzip -q "$T/build/gradescope/autograder.zip")
        cp "$T/gs-$name/source/run_autograder" "$T/gs-$name/"
    done
    mkdir -p "$T/gs-solutions/submission/lessons/01-echo-once" \
        "$T/gs-skeletons/submission/socklab-main/lessons/01-echo-once"
    cp "$ROOT"/solutions/01-echo-once/*.c "$T/gs-solutions/submission/lessons/01-echo-once/"
    cp "$ROOT"/lessons/01-echo-once/*.c "$T/gs-skeletons/submission/socklab-main/lessons/01-echo-once/"
    broken_files "$T/gs-broken/submission" client
    for name in solutions skeletons broken empty; do
        (AUTOGRADER_ROOT=$T/gs-$name timeout 600 "$T/gs-$name/run_autograder" \
            >"$T/gs-$name.out" 2>&1; echo $? >"$T/gs-$name.status") &
    done

    # GitHub Classroom: a student's repository, solved and untouched.
    mkdir -p "$T/shim"
    printf '#!/bin/sh\nexec "$@"\n' >"$T/shim/sudo"
    chmod +x "$T/shim/sudo"
    "$py" - "$ROOT/.github/workflows/classroom.yml" >"$T/classroom-step.sh" <<'EOF'
import sys
# The run: block of the step whose id is socklab.
lines = open(sys.argv[1]).read().splitlines()
at = next(i for i, l in enumerate(lines) if l.strip() == "id: socklab")
run = next(i for i in range(at, len(lines)) if lines[i].strip() == "run: |")
indent = len(lines[run + 1]) - len(lines[run + 1].lstrip())
for l in lines[run + 1:]:
    if l.strip() and len(l) - len(l.lstrip()) < indent:
        break
    print(l[indent:])
EOF
    for name in solutions skeletons; do
        copy_checkout "$T/gh-$name"
        [ "$name" = solutions ] && cp "$ROOT"/solutions/01-echo-once/*.c "$T/gh-$name/lessons/01-echo-once/"
        : >"$T/gh-$name.github_output"
        (cd "$T/gh-$name" && PATH=$T/shim:$PATH LESSONS=01 \
            GITHUB_OUTPUT=$T/gh-$name.github_output timeout 600 \
            bash --noprofile --norc -eo pipefail "$T/classroom-step.sh" \
            >"$T/gh-$name.out" 2>&1; echo $? >"$T/gh-$name.status") &
    done

    # PrairieLearn: /grade/student holds the uploaded files.
    for name in solutions broken nothing; do
        mkdir -p "$T/pl-$name/grade/student" "$T/pl-$name/grade/results"
    done
    cp "$ROOT"/solutions/01-echo-once/*.c "$T/pl-solutions/grade/student/"
    broken_files "$T/pl-broken/grade/student" client
    broken_files "$T/pl-nothing/grade/student" client server
    for name in solutions broken nothing; do
        (timeout 600 "$py" "$ROOT/tests/grader/export.py" grade prairielearn \
            "$T/pl-$name/grade/student" --lesson 01 \
            -o "$T/pl-$name/grade/results/results.json" \
            >"$T/pl-$name.out" 2>&1; echo $? >"$T/pl-$name.status") &
    done
    wait
}

teardown_file() {
    rm -rf "$LAB_WORK_DIR"
}

# Copy this checkout (the files git has, untracked ones included) to $1.
copy_checkout() {
    mkdir -p "$1"
    git -C "$ROOT" ls-files -z -co --exclude-standard |
        (cd "$ROOT" && tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
        tar -C "$1" -xf -
}

# Lesson 01's C files into $1, those named after it (client, server)
# broken: a missing semicolon.
broken_files() {
    local dir=$1 prog
    shift
    cp "$ROOT"/solutions/01-echo-once/*.c "$dir/"
    for prog in "$@"; do
        sed -i '0,/return 0;/s//return 0/' "$dir/$prog.c"
    done
}

# Fail unless the Python expression $2 holds for JSON file $1 (as `j`).
query() {
    "$PY" - "$@" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    print("does not hold: %s\n%s" % (sys.argv[2], json.dumps(j, indent=1)[:3000]))
    sys.exit(1)
EOF
}

gs_results() { echo "$T/gs-$1/results/results.json"; }

@test "make gradescope builds the zip: setup.sh and run_autograder at its root, no solutions" {
    cat "$T/make-gradescope.out"
    [ "$(cat "$T/make-gradescope.status")" -eq 0 ]
    run unzip -Z1 "$T/build/gradescope/autograder.zip"
    [ "${lines[0]}" = setup.sh ]
    [ "${lines[1]}" = run_autograder ]
    grep -qx 'socklab/tests/grader/grade.py' <<<"$output"
    grep -qx 'socklab/tests/grader/export.py' <<<"$output"
    # grade.py is the command line of the package beside it: all of it ships.
    for m in "$ROOT"/tests/grader/grading/*.py; do
        grep -qx "socklab/tests/grader/grading/${m##*/}" <<<"$output"
    done
    grep -qx 'socklab/tests/01-echo-once.bats' <<<"$output"
    grep -qx 'socklab/Makefile' <<<"$output"
    ! grep -q '^socklab/solutions/' <<<"$output"
    ! grep -q '^socklab/tests/grader/hostile/' <<<"$output"
    # Executable, and run_autograder grades what make gradescope asked for.
    unzip -Z "$T/build/gradescope/autograder.zip" run_autograder | grep -q '^-rwxr-xr-x'
    grep -q '^LESSONS="01-echo-once"' "$T/gs-solutions/run_autograder"
    bash -n "$T/gs-solutions/source/setup.sh"
}

@test "Gradescope: the solutions get full marks, a test per step with its number" {
    cat "$T/gs-solutions.out"
    [ "$(cat "$T/gs-solutions.status")" -eq 0 ]
    local r
    r=$(gs_results solutions)
    query "$r" 'len(j["tests"]) == 7'
    query "$r" 'j["score"] == 7 == sum(t["max_score"] for t in j["tests"])'
    query "$r" 'all(t["status"] == "passed" and t["score"] == t["max_score"] for t in j["tests"])'
    query "$r" '[t["number"] for t in j["tests"]] == ["1.%d" % i for i in range(1, 8)]'
    query "$r" 'j["tests"][0]["name"].startswith("01-echo-once step 1: ")'
    query "$r" 'all(t["visibility"] == "visible" and isinstance(t["output"], str) for t in j["tests"])'
}

@test "Gradescope: student programs ran as an unprivileged sandbox uid" {
    [ "$(id -u)" -eq 0 ] || skip "not root: there is no sandbox uid"
    query "$(gs_results solutions)" 'all(isinstance(l["sandbox_uid"], int) and l["sandbox_uid"] >= 1000 for l in j["extra_data"]["socklab"])'
}

@test "Gradescope: the skeletons (an unpacked archive) score zero, each step saying why" {
    [ "$(cat "$T/gs-skeletons.status")" -eq 0 ]
    local r
    r=$(gs_results skeletons)
    query "$r" 'j["score"] == 0 and len(j["tests"]) == 7'
    query "$r" 'all(t["status"] == "failed" and t["score"] == 0 and "FAILED step" in t["output"] for t in j["tests"])'
    # Paths as the student knows them, not the grader's work folder.
    query "$r" 'not any("socklab-grade-" in t["output"] or "socklab-work-" in t["output"] for t in j["tests"])'
    query "$r" '"build/lessons/01-echo-once/server" in j["tests"][0]["output"]'
}

@test "Gradescope: a client that does not compile scores the server's steps, with the compiler's message" {
    [ "$(cat "$T/gs-broken.status")" -eq 0 ]
    local r
    r=$(gs_results broken)
    query "$r" '0 < j["score"] < 7'
    query "$r" 'any(t["status"] == "passed" for t in j["tests"])'
    query "$r" 'any(t["status"] == "failed" and "does not compile" in t["output"] and "error: expected" in t["output"] for t in j["tests"])'
    query "$r" '"client.c does not build" in j["output"] and "lessons/01-echo-once/client.c:" in j["output"]'
}

@test "Gradescope: an empty submission still gets a results.json: every step failed, saying why" {
    [ "$(cat "$T/gs-empty.status")" -eq 0 ]
    local r
    r=$(gs_results empty)
    query "$r" 'j["score"] == 0 and len(j["tests"]) == 7'
    query "$r" 'all("not in the submission" in t["output"] for t in j["tests"])'
}

@test "Gradescope: a grader that cannot run still writes results.json with the reason" {
    local ag=$BATS_TEST_TMPDIR/ag
    mkdir -p "$ag/source" "$ag/submission/lessons/01-echo-once"
    cp "$T/gs-empty/run_autograder" "$ag/"
    cp "$ROOT"/solutions/01-echo-once/*.c "$ag/submission/lessons/01-echo-once/"
    # No socklab at all: python3 cannot even open export.py.
    AUTOGRADER_ROOT=$ag run "$ag/run_autograder"
    [ "$status" -eq 0 ]
    query "$ag/results/results.json" 'j["score"] == 0 and "could not start" in j["output"]'
    # A grader that exits without a word: every step failed with the reason.
    cp -r "$T/gs-empty/source/socklab" "$ag/source/"
    sed -i 's/^    sys.exit(main(sys.argv\[1:\]))$/    sys.exit(3)/' \
        "$ag/source/socklab/tests/grader/grade.py"
    AUTOGRADER_ROOT=$ag run "$ag/run_autograder"
    echo "$output"
    [ "$status" -eq 0 ]
    query "$ag/results/results.json" 'j["score"] == 0 and len(j["tests"]) == 7'
    query "$ag/results/results.json" 'all("grade.py exited with status 3" in t["output"] for t in j["tests"])'
}

@test "GitHub Classroom: the workflow's runner JSON, decoded and summed, gives every step its points" {
    cat "$T/gh-solutions.out"
    [ "$(cat "$T/gh-solutions.status")" -eq 0 ]
    "$PY" - "$T/gh-solutions.github_output" 7 <<'EOF'
import base64, json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.startswith("result=")]
assert len(lines) == 1, lines
r = json.loads(base64.b64decode(lines[0][len("result="):]))
assert r["version"] == 1 and r["status"] == "pass", r["status"]
assert r["max_score"] == 7 and len(r["tests"]) == 7, r
# What the reporter sums for Classroom: each test's score.
assert sum(t["score"] for t in r["tests"]) == float(sys.argv[2])
for t in r["tests"]:
    assert t["status"] == "pass" and t["name"].startswith("01-echo-once step "), t
    assert t["filename"] == "tests/01-echo-once.bats" and t["line_no"] > 0, t
print("runner JSON: %d tests, %g of %g points" % (len(r["tests"]), sum(t["score"] for t in r["tests"]), r["max_score"]))
EOF
}

@test "GitHub Classroom: the untouched skeletons sum to zero, each failure with its transcript" {
    [ "$(cat "$T/gh-skeletons.status")" -eq 0 ]
    "$PY" - "$T/gh-skeletons.github_output" <<'EOF'
import base64, json, sys
line = next(l for l in open(sys.argv[1]) if l.startswith("result="))
r = json.loads(base64.b64decode(line.strip()[len("result="):]))
assert r["status"] == "fail" and r["max_score"] == 7 and len(r["tests"]) == 7
assert sum(t["score"] for t in r["tests"]) == 0
assert all(t["status"] == "fail" and "FAILED step" in t["message"] for t in r["tests"])
EOF
}

@test "GitHub Classroom: the reporter reads the output the grading step writes" {
    "$PY" - "$ROOT/.github/workflows/classroom.yml" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
assert re.search(r"^  run-autograding-tests:$", text, re.M), "job name"
runners = re.search(r"runners: (\S+)", text).group(1)
env = re.search(r"(\S+)_RESULTS: \"\$\{\{ steps\.(\S+)\.outputs\.(\S+) \}\}\"", text)
assert env.group(1) == runners.upper(), (env.group(1), runners)
assert re.search(r"id: %s$" % re.escape(env.group(2)), text, re.M), "step id"
assert "--github-output %s " % env.group(3) in text, "output name"
assert "classroom-resources/autograding-grading-reporter@v1" in text
EOF
}

@test "root anywhere: a checkout under a mode-700 folder grades with the sandbox uid" {
    # The Classroom run above was make check's grader in such a checkout.
    [ "$(stat -c %a "$T")" = 700 ]
    query "$T/gh-solutions/build/reports/results.json" 'j["passed"] == j["total"] == 7'
    if [ "$(id -u)" -eq 0 ]; then
        query "$T/gh-solutions/build/reports/results.json" 'isinstance(j["lessons"][0]["sandbox"]["uid"], int)'
        ! grep -q 'run as root' "$T/gh-solutions.out"
    fi
    # Its binaries are where make check leaves them; no work folder is left
    # (by any of the gradings of setup_file).
    [ -x "$T/gh-solutions/build/lessons/01-echo-once/server" ]
    run ls -A "$LAB_WORK_DIR"
    [ -z "$output" ]
}

@test "PrairieLearn: the solutions score 1, each step with points and max_points" {
    cat "$T/pl-solutions.out"
    [ "$(cat "$T/pl-solutions.status")" -eq 0 ]
    local r=$T/pl-solutions/grade/results/results.json
    pl_valid "$r"
    query "$r" 'j["gradable"] is True and j["score"] == 1.0 and len(j["tests"]) == 7'
    query "$r" 'all(t["points"] == t["max_points"] == 1 for t in j["tests"])'
}

@test "PrairieLearn: a client that does not compile gets a partial score" {
    local r=$T/pl-broken/grade/results/results.json
    pl_valid "$r"
    query "$r" 'j["gradable"] is True and 0 < j["score"] < 1'
    query "$r" 'any("does not compile" in t["output"] for t in j["tests"])'
}

@test "PrairieLearn: nothing builds: gradable false with the compiler's messages" {
    local r=$T/pl-nothing/grade/results/results.json
    pl_valid "$r"
    query "$r" 'j["gradable"] is False and j["score"] == 0'
    query "$r" 'isinstance(j["format_errors"], list) and len(j["format_errors"]) == 2'
    query "$r" 'all("error: expected" in e for e in j["format_errors"])'
    query "$r" 'j["format_errors"][0].startswith("01-echo-once/client.c: lessons/01-echo-once/client.c:")'
}

# PrairieLearn's fields, typed: score in [0, 1], tests with name, points
# <= max_points, message and output strings; under its 1 MB cap.
pl_valid() {
    [ "$(stat -c %s "$1")" -lt 1000000 ]
    query "$1" 'isinstance(j["gradable"], bool) and isinstance(j["score"], float) and 0 <= j["score"] <= 1'
    query "$1" 'isinstance(j["message"], str) and isinstance(j["output"], str)'
    query "$1" 'all(isinstance(t["name"], str) and isinstance(t["description"], str) and isinstance(t["message"], str) and isinstance(t["output"], str) for t in j["tests"])'
    query "$1" 'all(isinstance(t["points"], (int, float)) and isinstance(t["max_points"], (int, float)) and 0 <= t["points"] <= t["max_points"] for t in j["tests"])'
}

@test "Autolab: the last line is the scores, a problem per lesson" {
    run "$PY" "$ROOT/tests/grader/export.py" autolab "$T/gh-solutions/build/reports/results.json"
    [ "$status" -eq 0 ]
    "$PY" -c 'import json, sys; s = json.loads(sys.argv[1])["scores"]; assert s == {"01-echo-once": 7}, s' "${lines[-1]}"
    grep -q '^ok   1.7 step 7: ' <<<"$output"
}

@test "CodeGrade: JUnit XML from the results, a case per step, failures with their transcript" {
    "$PY" "$ROOT/tests/grader/export.py" junit "$T/gh-skeletons/build/reports/results.json" \
        -o "$BATS_TEST_TMPDIR/junit.xml"
    "$PY" - "$BATS_TEST_TMPDIR/junit.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
cases = suite.findall("testcase")
assert suite.get("name") == "01-echo-once" and len(cases) == 7
assert all("FAILED step" in c.find("failure").text for c in cases)
EOF
}

@test "make export writes a platform's file from make check's results" {
    run make --no-print-directory -s -C "$ROOT" export FORMAT=prairielearn \
        RESULTS="$T/gh-solutions/build/reports/results.json" OUT="$BATS_TEST_TMPDIR/pl.json"
    [ "$status" -eq 0 ]
    query "$BATS_TEST_TMPDIR/pl.json" 'j["score"] == 1.0'
    run make --no-print-directory -s -C "$ROOT" export FORMAT=nonsense
    [ "$status" -eq 2 ]
    [[ $output == *"usage: make export FORMAT="* ]]
}

@test "no IPv6 loopback: a step that needs ::1 is skipped with its reason, never failed, in every format" {
    [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null || skip "needs root and unshare"
    [ -f "$ROOT/tests/13-ipv6.bats" ] || skip "no lesson 13 (ipv6) here"
    local co=$T/ipv6
    copy_checkout "$co"
    # A container whose loopback has no ::1 (the grader's own namespace
    # off, or it would bring a loopback with ::1), grading lesson 13.
    run unshare --net sh -c 'echo 1 >/proc/sys/net/ipv6/conf/lo/disable_ipv6 &&
        ip link set lo up && cd "$1" && LAB_NETNS=0 timeout 300 "${LAB_PYTHON:-python3}" tests/grader/grade.py check \
        --impl solutions --lesson 13 --quiet --reports "$1/reports"' sh "$co"
    echo "$output"
    [ "$status" -eq 0 ]
    query "$co/reports/results.json" 'j["points"] == j["max_points"] > 0'
    query "$co/reports/results.json" 'any("no IPv6 loopback" in s.get("skipped", "") for s in j["lessons"][0]["steps"])'
    local f
    for f in gradescope classroom prairielearn; do
        "$PY" "$co/tests/grader/export.py" $f "$co/reports/results.json" -o "$co/$f.json"
    done
    query "$co/gradescope.json" 'all(t["status"] == "passed" for t in j["tests"]) and any(t["output"].startswith("skipped: ") and "::1" in t["output"] for t in j["tests"])'
    query "$co/gradescope.json" '"skipped here (points given)" in j["output"]'
    query "$co/classroom.json" 'j["status"] == "pass" and sum(t["score"] for t in j["tests"]) == j["max_score"] and any("::1" in t["message"] for t in j["tests"])'
    query "$co/prairielearn.json" 'j["score"] == 1.0 and any(t["output"].startswith("skipped: ") for t in j["tests"])'
}
