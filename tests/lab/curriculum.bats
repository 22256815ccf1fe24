#!/usr/bin/env bats
# The lab over the whole curriculum: every lesson folder is listed, shown,
# hinted at every step and completed, and a lesson checks from the lab
# with its solution in place; the lessons' text has no authoring words.

setup() {
    load 'helpers'
    lab_repl_setup
}

teardown() {
    lab_repl_teardown
}

# Print every lesson folder's name, one a line.
lessons() {
    local d
    for d in "$LAB_ROOT"/lessons/[0-9][0-9]-*/; do
        basename "$d"
    done
}

@test "list shows every lesson folder of the checkout" {
    lab_run list
    [ "$status" -eq 0 ]
    local l
    for l in $(lessons); do
        assert_line --regexp "^  ${l:0:2}  ${l:3} "
    done
}

@test "show renders every lesson in plain text: a title, no mermaid, no authoring words" {
    local l
    for l in $(lessons); do
        lab_run show "${l:0:2}"
        [ "$status" -eq 0 ] || {
            echo "show $l: $output" >&2
            return 1
        }
        assert_line --regexp "^# Lesson ${l:0:2}: "
        refute_output --partial 'mermaid'
        refute_output --regexp '\bseeds?\b'
    done
}

@test "every step of every lesson has a hint ladder" {
    local l steps step
    for l in $(lessons); do
        steps=$(grep -c '^@test "step ' "$LAB_ROOT/tests/$l.bats")
        [ "$steps" -gt 0 ]
        for ((step = 1; step <= steps; step++)); do
            lab_run hint "${l:0:2}" "$step"
            [ "$status" -eq 0 ] || {
                echo "hint $l $step: $output" >&2
                return 1
            }
            assert_line --regexp "^\(hint 1 of [1-9]: |^\(that was the last hint"
        done
    done
}

@test "no authoring words in what a student reads: lessons, skeletons, hints" {
    run grep -rniE '\bseeds?\b|seed [0-9]{3}|the tutorials?'"'"' python' \
        "$LAB_ROOT/lessons"
    echo "$output"
    [ "$status" -eq 1 ]
}

@test "check of a late lesson from the lab, with its solution in place, passes every step" {
    make_checkout
    # Lesson 11 (one program, a client): copied beside lesson 01.
    cp -r "$LAB_ROOT/lessons/11-http-get" "$REPL_ROOT/lessons/"
    cp -r "$LAB_ROOT/solutions/11-http-get" "$REPL_ROOT/solutions/"
    cp "$LAB_ROOT/tests/11-http-get.bats" "$REPL_ROOT/tests/"
    cp "$LAB_ROOT"/tests/lib/lesson-11.bash "$REPL_ROOT/tests/lib/" 2>/dev/null || true
    cp "$LAB_ROOT"/solutions/11-http-get/*.c "$REPL_ROOT/lessons/11-http-get/"
    lab_run check 11
    echo "$output"
    [ "$status" -eq 0 ]
    assert_line --partial '11-http-get: all 7 steps pass.'
}
