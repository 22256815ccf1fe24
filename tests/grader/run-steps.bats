#!/usr/bin/env bats
# tests/lib/run-steps, the grader's step runner: it must print what Bats
# prints for the same file (TAP lines, skips, timeouts, each failure's
# output), every lesson must grade the same under both, and it must leave
# nothing behind.
#
# Run: timeout 300 bats tests/grader/run-steps.bats (make test does).

setup() {
    bats_require_minimum_version 1.5.0
    ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    FIXTURE=$ROOT/tests/grader/run-steps
    PY=${LAB_PYTHON:-python3}
}

# Print the TAP of runner $1.. on FILE (last argument) with what may differ
# dropped: times, Bats' stack-trace lines (the grader drops them too) and
# the warnings Bats adds at the end.
tap_of() {
    BATS_TEST_TIMEOUT=1 timeout 60 "$@" 2>&1 </dev/null |
        sed -E -e 's/ in [0-9]+ms//' -e '/^The following warnings/,$d' \
            -e '/^# (\(in test file|\(from function| from function| in test file|  `.*. failed)/d' \
            -e '/^$/d'
}

@test "run-steps prints the TAP Bats prints: passes, failures with their output, skips, run, load, a timeout" {
    cd "$ROOT"
    bats_tap=$(tap_of bats --tap --timing tests/grader/run-steps/fixture.bats)
    ours=$(tap_of tests/lib/run-steps --timing tests/grader/run-steps/fixture.bats)
    diff <(echo "$bats_tap") <(echo "$ours")
    # What the fixture shows (so a fixture broken for both is caught too).
    grep -qx 'ok 1 a step that passes' <<<"$ours"
    grep -qx '# said on stderr' <<<"$ours"
    ! grep -q 'never printed' <<<"$ours"
    grep -qx 'ok 3 skip with a reason # skip the reason' <<<"$ours"
    grep -qx 'not ok 5 setup fails: the step fails, teardown still runs' <<<"$ours"
    grep -qx '# teardown of 5 ran' <<<"$ours"
    grep -qx 'not ok 6 teardown fails: the step fails' <<<"$ours"
    grep -qx 'ok 7 run keeps status, output and lines; a failing command in it is no failure' <<<"$ours"
    grep -qx 'not ok 8 run -N with another status fails the step' <<<"$ours"
    grep -qx "# bats-support's fail says this" <<<"$ours"
    grep -qx 'ok 10 the variables a step has, stdin from /dev/null, fd 3 for TAP' <<<"$ours"
    grep -qx 'not ok 11 BATS_TEST_TIMEOUT ends a step that hangs # timeout after 1s' <<<"$ours"
    grep -qx 'ok 12 skip in teardown ends teardown, of a step that passed' <<<"$ours"
    grep -qx 'not ok 13 skip in teardown ends teardown, of a step that failed' <<<"$ours"
}

@test "run-steps --filter runs the matching steps, numbered from 1; exit 0 when all pass; a failure says where" {
    cd "$ROOT"
    run -0 timeout 60 tests/lib/run-steps --filter '^(a step|skip with|skip without)' tests/grader/run-steps/fixture.bats
    [ "$output" = $'1..3\nok 1 a step that passes\nok 2 skip with a reason # skip the reason\nok 3 skip without one # skip' ]
    run -1 timeout 60 tests/lib/run-steps --filter '^a failing' tests/grader/run-steps/fixture.bats
    grep -qx '# (in test file tests/grader/run-steps/fixture.bats, line 27)' <<<"$output"
    grep -qx "#   \`false' failed" <<<"$output"
}

@test "run-steps hands a file with setup_file to Bats; bad usage is one line and exit 2" {
    cd "$ROOT"
    run -0 timeout 60 tests/lib/run-steps tests/grader/run-steps/with-setup-file.bats
    [ "$output" = $'1..1\nok 1 setup_file ran first' ]
    run -2 tests/lib/run-steps tests/no-such-file.bats
    [ "$output" = 'run-steps: tests/no-such-file.bats: no such file' ]
    run -2 tests/lib/run-steps
    [[ $output == usage:* ]] && [ "${#lines[@]}" -eq 1 ]
    run -2 tests/lib/run-steps --jobs 2 tests/01-echo-once.bats
    [ "$output" = 'run-steps: unknown option --jobs' ]
}

@test "lessons grade the same under run-steps and under Bats, step by step" {
    # Lessons 01 and 03 (03 uses Bats' run; its skeleton waits out
    # timeouts for 11 s, so only 01's); make test grades them all under
    # run-steps, and students may run any with bats by hand.
    cd "$ROOT"
    make -s --no-print-directory all >/dev/null
    for impl in solutions lessons; do
        lessons=(--lesson 01 --lesson 03)
        [ "$impl" = solutions ] || lessons=(--lesson 01)
        for runner in bats run-steps; do
            LAB_RUNNER=$runner timeout 300 "$PY" tests/grader/grade.py check --impl "$impl" \
                "${lessons[@]}" --quiet --jobs 2 \
                --reports "$BATS_TEST_TMPDIR/$impl-$runner" >/dev/null 2>&1 || true
        done
        "$PY" - "$BATS_TEST_TMPDIR/$impl-bats/results.json" "$BATS_TEST_TMPDIR/$impl-run-steps/results.json" <<'PY'
import json, sys
def steps(path):
    return {(l["lesson"], s["step"]): s["passed"] for l in json.load(open(path))["lessons"]
            for s in l["steps"]}
a, b = steps(sys.argv[1]), steps(sys.argv[2])
assert a and a == b, sorted(set(a.items()) ^ set(b.items()))
PY
    done
}

@test "an interrupted run-steps ends the step it runs and removes its files" {
    cd "$ROOT"
    tmp=$BATS_TEST_TMPDIR/tmp
    mkdir "$tmp"
    TMPDIR=$tmp BATS_TEST_TIMEOUT=60 setsid tests/lib/run-steps --filter hangs \
        tests/grader/run-steps/fixture.bats >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
    pid=$!
    # The hanging step's sleep is running: interrupt.
    for _ in $(seq 200); do
        pgrep -s "$pid" -x sleep >/dev/null && break
        sleep 0.05
    done
    pgrep -s "$pid" -x sleep >/dev/null
    kill -TERM "$pid"
    status=0
    timeout 10 tail --pid="$pid" -f /dev/null || status=$?
    [ "$status" -eq 0 ]
    ! pgrep -s "$pid" >/dev/null
    [ -z "$(ls -A "$tmp")" ]
}
