#!/usr/bin/env bats
# Grading a class (grade.py class, make grade): 12 generated submissions
# (solutions, skeletons, hostile and broken programs, missing lessons, in
# three folder layouts, odd folder names, a symlink, a checkout with its
# own edited test and Makefile) whose grades are known beforehand, graded
# with a weights file; then the reports, the isolation of the students,
# and the weights themselves.
#
# Twelve cover every kind of hand-in and every folder layout at least
# once. The self-test grades lesson 01 only, to stay quick; tests/grader/bench-class
# (make bench-grade) times a class of 30 on every lesson.
#
# Run: timeout 600 bats tests/grader/class.bats (make test does).

setup_file() {
    ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    export ROOT
    # Not under BATS_RUN_TMPDIR (mode 700): the sandbox uid runs programs here.
    SELFTEST=$(mktemp -d /tmp/socklab-class.XXXXXX)
    chmod 755 "$SELFTEST"
    export SELFTEST
    "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/selftest.py" class "$SELFTEST/subs" \
        "$SELFTEST/expected.json" --count 12
    printf '# step 7 (end to end) is worth 3\n01 1\n01:7 3\n' >"$SELFTEST/weights.conf"
    local t0=$SECONDS
    (cd "$SELFTEST" && timeout 900 "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/grade.py" class \
        "$SELFTEST/subs" --lesson 01 --weights "$SELFTEST/weights.conf" \
        --build "$SELFTEST/build" --reports "$SELFTEST/reports") \
        >"$SELFTEST/class.out" 2>&1
    echo $? >"$SELFTEST/class.status"
    echo $((SECONDS - t0)) >"$SELFTEST/class.seconds"
}

teardown_file() {
    rm -rf "$SELFTEST" /tmp/socklab-selftest-pwned
}

# Fail unless the Python expression $2 holds for JSON file $1 (as `j`).
query() {
    "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/selftest.py" query "$@"
}

@test "12 submissions are graded to the end (exit 0) with a summary table" {
    cat "$SELFTEST/class.out"
    echo "graded in $(cat "$SELFTEST/class.seconds") s on $(nproc) cores"
    [ "$(cat "$SELFTEST/class.status")" -eq 0 ]
    grep -q '^student  *01  *total$' "$SELFTEST/class.out"
    grep -q '^(max)  *9  *9$' "$SELFTEST/class.out"
    grep -q '^13 students, 1 lessons, ' "$SELFTEST/class.out"
}

@test "grades.csv: every student, the points of each lesson and the total, weights applied" {
    head -n 40 "$SELFTEST/reports/grades.csv"
    run "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/selftest.py" grades \
        "$SELFTEST/reports/grades.csv" "$SELFTEST/expected.json" \
        --weights "$SELFTEST/weights.conf"
    echo "$output"
    [ "$status" -eq 0 ]
    # One of them spelled out: a solution is worth 6 x 1 + 3.
    grep -q ',9,9$' "$SELFTEST/reports/grades.csv"
}

@test "one JUnit file per student: a suite per lesson, a case per step, failures counted" {
    [ "$(ls "$SELFTEST/reports/junit" | wc -l)" -eq 13 ]
    "${LAB_PYTHON:-python3}" - "$SELFTEST/reports" <<'EOF'
import json, os, sys
import xml.etree.ElementTree as ET
reports = sys.argv[1]
grades = json.load(open(os.path.join(reports, "grades.json")))
for s in grades["students"]:
    root = ET.parse(os.path.join(reports, "junit", s["student"] + ".xml")).getroot()
    suite = root.find("testsuite")
    assert suite.get("name") == s["student"] + ".01-echo-once", suite.get("name")
    cases = suite.findall("testcase")
    assert len(cases) == 7, len(cases)
    failed = sum(1 for c in cases if c.find("failure") is not None)
    assert failed == int(suite.get("failures")) == 7 - s["passed"], s["student"]
print("junit: %d files agree with grades.json" % len(grades["students"]))
EOF
}

@test "grades.json: the maximum, each student's points, total and step records" {
    query "$SELFTEST/reports/grades.json" \
        'j["lessons"] == ["01-echo-once"] and j["max_points"]["01-echo-once"] == 9
        and j["max_total"] == 9 and len(j["students"]) == 13'
    query "$SELFTEST/reports/grades.json" \
        'all(s["total"] == s["points"]["01-echo-once"] and len(s["lessons"][0]["steps"]) == 7
            for s in j["students"])'
    # Each student's results.json, the same schema as make check's.
    "${LAB_PYTHON:-python3}" - "$SELFTEST"/build/*/results.json <<'EOF'
import json, sys
assert len(sys.argv[1:]) == 13, sys.argv[1:]
for path in sys.argv[1:]:
    j = json.load(open(path))
    assert j["student"] and j["total"] == 7 and j["max_points"] == 9, path
    assert j["lessons"][0]["lesson"] == "01-echo-once", path
EOF
}

@test "folder names are made safe; nothing of a submission runs but its lesson programs" {
    # Odd names become safe ones, each with its own build folder.
    for name in Jane_Doe rf HYPERLINK_x_ O_Brien_rm_-rf Zo_ symlinked; do
        grep -q "^$name," "$SELFTEST/reports/grades.csv"
        [ -d "$SELFTEST/build/$name" ]
    done
    # Nothing was built or written outside --build and --reports: their
    # Makefiles, tests and oddly named files were never used.
    [ ! -e /tmp/socklab-selftest-pwned ]
    [ -z "$(find "$ROOT" "$SELFTEST" -name 'socklab-pwned*' -print)" ]
    [ -z "$(find "$SELFTEST/build" -name '*pwned*' -print)" ]
    # Only our program names were copied: server.c and client.c.
    [ -z "$(find "$SELFTEST/build"/*/src -type f ! -name server.c ! -name client.c -print)" ]
}

@test "parallel lessons never shared a sandbox uid at the same time" {
    "${LAB_PYTHON:-python3}" - "$SELFTEST/reports/grades.json" <<'EOF'
import json, sys
records = [l for s in json.load(open(sys.argv[1]))["students"] for l in s["lessons"]]
held = {}
for r in records:
    held.setdefault(r["sandbox"]["uid"], []).append(r["sandbox"]["held"])
for uid, spans in held.items():
    spans.sort()
    for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
        assert b0 >= a1, "uid %s held twice at once: %s" % (uid, spans)
print("%d lesson runs, %d distinct uids, no overlap" % (len(records), len(held)))
EOF
    run "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/selftest.py" leftovers \
        "$SELFTEST/reports/grades.json" --under "$SELFTEST"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "make grade SUBMISSIONS=DIR grades a class into BUILD; without SUBMISSIONS it says how" {
    local subs=$SELFTEST/small
    mkdir -p "$subs"/{ana,ben}/lessons/01-echo-once
    cp "$ROOT"/solutions/01-echo-once/*.c "$subs/ana/lessons/01-echo-once/"
    cp "$ROOT"/lessons/01-echo-once/*.c "$subs/ben/lessons/01-echo-once/"
    run timeout 300 make -C "$ROOT" --no-print-directory grade \
        SUBMISSIONS="$subs" LESSON=01 BUILD="$SELFTEST/mk"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"2 students, 1 lessons"* ]]
    [ "$(cat "$SELFTEST/mk/reports/grades.csv")" = "student,01-echo-once,total
ana,7,7
ben,0,0" ]
    [ -s "$SELFTEST/mk/reports/junit/ana.xml" ]
    [ -d "$SELFTEST/mk/grade/ben/bin" ]
    run make -C "$ROOT" --no-print-directory grade
    [ "$status" -ne 0 ]
    [[ $output == *"usage: make grade SUBMISSIONS=DIR"* ]]
}

@test "weights.conf: documented, read by default, a bad line stops the grader with its line number" {
    # The shipped file is all comments (1 point a step) and documents both forms.
    grep -q '^#   LESSON POINTS' "$ROOT/tests/grader/weights.conf"
    grep -q '^#   LESSON:STEP POINTS' "$ROOT/tests/grader/weights.conf"
    printf '01 1\n01:2 lots\n' >"$SELFTEST/bad.conf"
    run "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/grade.py" check --weights "$SELFTEST/bad.conf" --lesson 01
    echo "$output"
    [ "$status" -eq 2 ]
    [[ $output == *"bad.conf:2: expected 'LESSON[:STEP] POINTS'"* ]]
    run "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/grade.py" class "$SELFTEST/nowhere"
    [ "$status" -eq 2 ]
    [[ $output == *"no folder"* ]]
}

@test "--plan runs only the steps it names for a student; a malformed plan stops the grader in one line" {
    mkdir -p "$SELFTEST/planned/ana/01-echo-once"
    cp "$ROOT"/solutions/01-echo-once/*.c "$SELFTEST/planned/ana/01-echo-once/"
    echo '{"ana": {"01": [5, 2]}}' >"$SELFTEST/plan.json"
    run timeout 120 "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/grade.py" class "$SELFTEST/planned" \
        --lesson 01 --plan "$SELFTEST/plan.json" --build "$SELFTEST/build-plan" \
        --reports "$SELFTEST/reports-plan"
    echo "$output"
    [ "$status" -eq 0 ]
    query "$SELFTEST/reports-plan/grades.json" '[(s["step"], s["passed"], s["ran"])
        for s in j["students"][0]["lessons"][0]["steps"]] == [(1, False, False),
        (2, True, True), (3, False, False), (4, False, False), (5, True, True),
        (6, False, False), (7, False, False)]'
    query "$SELFTEST/reports-plan/grades.json" 'j["students"][0]["lessons"][0]["steps"][0]["transcript"]
        == "not run: only steps 2, 5 were run"'
    for bad in '{"ana": {"01": []}}' '{"ana": [2]}' '{"ana": {"01": ["2"]}}' 'not json' \
        '{"ana": {"01": [8]}}' '{"ana": {"02": [1]}}'; do
        echo "$bad" >"$SELFTEST/bad-plan.json"
        run "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/grade.py" class "$SELFTEST/planned" \
            --lesson 01 --plan "$SELFTEST/bad-plan.json" --build "$SELFTEST/build-plan" \
            --reports "$SELFTEST/reports-plan"
        echo "$bad -> $status: $output"
        [ "$status" -eq 2 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ ${lines[0]} == *"--plan $SELFTEST/bad-plan.json: "* ]]
    done
}

@test "the grader's unit tests (weights, names, layouts, TAP, bounds)" {
    run "${LAB_PYTHON:-python3}" -m unittest discover -s "$ROOT/tests/grader" -p 'test_*.py'
    echo "$output"
    [ "$status" -eq 0 ]
}
