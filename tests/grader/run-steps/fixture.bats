#!/usr/bin/env bats
# What tests/lib/run-steps must do as Bats does (tests/grader/run-steps.bats
# runs this file under both and compares their TAP). Not a lesson.

setup() {
    [ "$BATS_TEST_DESCRIPTION" != "setup fails: the step fails, teardown still runs" ] || false
}

teardown() {
    echo "teardown of $BATS_TEST_NUMBER ran"
    case $BATS_TEST_DESCRIPTION in
    "skip in teardown"*)
        skip "in teardown"
        echo "never printed"
        ;;
    esac
    [ "$BATS_TEST_DESCRIPTION" != "teardown fails: the step fails" ]
}

@test "a step that passes" {
    true
}

@test "a failing command ends the step: its output is printed" {
    echo "said on stdout"
    echo "said on stderr" >&2
    false
    echo "never printed"
}

@test "skip with a reason" {
    skip "the reason"
    false
}

@test "skip without one" {
    skip
}

@test "setup fails: the step fails, teardown still runs" {
    echo "never printed"
}

@test "teardown fails: the step fails" {
    true
}

@test "run keeps status, output and lines; a failing command in it is no failure" {
    run printf 'a\n\nb\n'
    [ "$status" -eq 0 ] && [ "$output" = $'a\n\nb' ] && [ "${#lines[@]}" -eq 2 ]
    run sh -c 'echo out; echo err >&2; exit 3'
    [ "$status" -eq 3 ] && [ "$output" = $'out\nerr' ]
    run -3 sh -c 'exit 3'
    run ! false
    run --separate-stderr sh -c 'echo out; echo err >&2'
    [ "$output" = out ] && [ "$stderr" = err ] && [ "${stderr_lines[0]}" = err ]
}

@test "run -N with another status fails the step" {
    run -0 sh -c 'exit 1'
}

@test "load and bats_load_library" {
    load helper
    [ "$(helper_says)" = "helper loaded" ]
    bats_load_library bats-support
    fail "bats-support's fail says this"
}

@test "the variables a step has, stdin from /dev/null, fd 3 for TAP" {
    [ -d "$BATS_TEST_TMPDIR" ] && [ -d "$BATS_FILE_TMPDIR" ] && [ -d "$BATS_RUN_TMPDIR" ]
    [ "$BATS_TEST_NUMBER" -eq 10 ]
    [ "$BATS_TEST_FILENAME" = "$BATS_TEST_DIRNAME/fixture.bats" ]
    [ "${BATS_TEST_FILENAME:0:1}" = / ]
    [ "$(readlink /proc/self/fd/0)" = /dev/null ]
    [ -z "$BATS_TEST_COMPLETED$BATS_TEST_SKIPPED" ]
    echo "# said on fd 3" >&3
}

@test "BATS_TEST_TIMEOUT ends a step that hangs" {
    [ -n "${BATS_TEST_TIMEOUT:-}" ] || skip "no BATS_TEST_TIMEOUT"
    sleep 30
}

@test "skip in teardown ends teardown, of a step that passed" {
    true
}

@test "skip in teardown ends teardown, of a step that failed" {
    false
}
