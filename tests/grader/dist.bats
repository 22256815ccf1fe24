#!/usr/bin/env bats
# The student hand-out (make dist): what it holds, and that a student can
# unpack it, build it and run make check in it.
#
# Run: timeout 300 bats tests/grader/dist.bats (make test does).

setup_file() {
    ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    export ROOT
    # Readable by the sandbox uid that runs the programs (as root).
    SELFTEST=$(mktemp -d /tmp/socklab-dist.XXXXXX)
    chmod 755 "$SELFTEST"
    export SELFTEST
    make -C "$ROOT" --no-print-directory dist BUILD="$SELFTEST/build" \
        >"$SELFTEST/dist.out" 2>&1
    echo $? >"$SELFTEST/dist.status"
    export TARBALL=$SELFTEST/build/dist/socklab-student.tar.gz
}

teardown_file() {
    rm -rf "$SELFTEST"
}

@test "make dist writes build/dist/socklab-student.tar.gz" {
    cat "$SELFTEST/dist.out"
    [ "$(cat "$SELFTEST/dist.status")" -eq 0 ]
    [ -s "$TARBALL" ]
}

@test "the hand-out has the lessons, their tests and the grader; no solutions/, no build/, no self-tests" {
    run tar -tzf "$TARBALL"
    [ "$status" -eq 0 ]
    echo "$output"
    # Everything unpacks into socklab/.
    ! grep -v '^socklab/' <<<"$output"
    grep -qx 'socklab/Makefile' <<<"$output"
    grep -qx 'socklab/lessons/01-echo-once/server.c' <<<"$output"
    grep -qx 'socklab/lessons/01-echo-once/client.c' <<<"$output"
    grep -qx 'socklab/tests/01-echo-once.bats' <<<"$output"
    grep -qx 'socklab/tests/lib/common.bash' <<<"$output"
    grep -qx 'socklab/tests/grader/grade.py' <<<"$output"
    # grade.py is the command line of the package beside it: all of it ships.
    for m in "$ROOT"/tests/grader/grading/*.py; do
        grep -qx "socklab/tests/grader/grading/${m##*/}" <<<"$output"
    done
    ! grep -q '^socklab/solutions' <<<"$output"
    ! grep -q '^socklab/build' <<<"$output"
    ! grep -q '^socklab/tests/grader/hostile' <<<"$output"
    ! grep -q '^socklab/tests/grader/.*\.bats$' <<<"$output"
    # Tracked files only, so nothing this self-test made.
    ! grep -q 'socklab-dist\.' <<<"$output"
}

@test "it is reproducible: the same files give the same bytes" {
    make -C "$ROOT" --no-print-directory dist BUILD="$SELFTEST/again" >/dev/null
    cmp "$TARBALL" "$SELFTEST/again/dist/socklab-student.tar.gz"
}

@test "unpacked, it builds, and make check LESSON=01 grades the skeleton: the table, 0 passed, exit non-zero" {
    mkdir "$SELFTEST/student"
    tar -xzf "$TARBALL" -C "$SELFTEST/student"
    local top=$SELFTEST/student/socklab
    [ ! -e "$top/solutions" ]
    run timeout 120 make -C "$top" --no-print-directory
    echo "$output"
    [ "$status" -eq 0 ]
    [ -x "$top/build/lessons/01-echo-once/server" ]
    [ -x "$top/build/lessons/01-echo-once/client" ]
    run timeout 300 make -C "$top" --no-print-directory check LESSON=01
    echo "$output"
    # grade.py exits 1 (not everything passed); make says so with its 2.
    [ "$status" -eq 2 ]
    [[ $output == *"grade.py check --impl lessons"* ]]
    [[ $output == *"check] Error 1"* ]]
    [[ $output == *"lesson                    steps     points"* ]]
    [[ $output == *"01-echo-once                0/7        0/7  --"* ]]
    [[ $output == *"FAIL 01-echo-once step 1:"* ]]
    [[ $output == *"total                       0/7"* ]]
    [ -s "$top/build/reports/results.json" ]
    [ -s "$top/build/reports/junit.xml" ]
}

@test "make test in the hand-out says why it cannot run (no solutions/), no traceback" {
    [ -d "$SELFTEST/student/socklab" ] || skip "the previous test unpacks it"
    run timeout 60 make -C "$SELFTEST/student/socklab" --no-print-directory test
    echo "$output"
    [ "$status" -eq 2 ]
    [[ $output == *"no solutions/ here: this is the student hand-out"* ]]
    [[ $output != *Traceback* ]]
    # The grader asked for solutions/ says so too.
    run "${LAB_PYTHON:-python3}" "$SELFTEST/student/socklab/tests/grader/grade.py" check --impl solutions
    echo "$output"
    [ "$status" -eq 2 ]
    [[ $output == *"solutions/ is not part of the student hand-out"* ]]
    [[ $output != *Traceback* ]]
}

@test "make dist LESSONS=01-02 hands out those lessons only, and never the mutants or README tests" {
    run timeout 120 make -C "$ROOT" --no-print-directory dist LESSONS=01-02 \
        BUILD="$SELFTEST/staged"
    [ "$status" -eq 0 ]
    run tar -tzf "$SELFTEST/staged/dist/socklab-student.tar.gz"
    [ "$status" -eq 0 ]
    grep -qx 'socklab/lessons/01-echo-once/server.c' <<<"$output"
    grep -qx 'socklab/tests/02-echo-repeat.bats' <<<"$output"
    ! grep -q '^socklab/lessons/0[3-9]-\|^socklab/tests/0[3-9]-' <<<"$output"
    ! grep -q '^socklab/solutions/\|^socklab/tests/mutants/\|^socklab/tests/docs/' <<<"$output"
    run timeout 60 make -C "$ROOT" --no-print-directory dist LESSONS=one \
        BUILD="$SELFTEST/staged"
    [ "$status" -ne 0 ]
    [[ $output == *"write lessons as 01-03"* ]]
}
