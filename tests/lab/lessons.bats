#!/usr/bin/env bats
# The lab REPL's lesson commands in one-shot and script modes: list, show,
# hint, check, watch, reset, solution; lesson names; the progress file.
# Tests that change lessons or grade them work on a copy of the checkout
# (make_checkout), never on the real lessons/.

setup() {
    load 'helpers'
    lab_repl_setup
}

teardown() {
    lab_repl_teardown
}

# The progress line of a lesson in `list` output.
list_line() {
    grep -E "^  $1  " <<<"$output"
}

# ---------------------------------------------------------------- a first lesson, end to end

@test "a new student: read lesson 01, talk to the reference server by hand, solve it, see it green" {
    make_checkout --git
    port=$(free_port)
    lab_script "show 01
run 01 server --ref 127.0.0.1 $port
socket tcp
connect 3 127.0.0.1 $port
send 3 \"hello\\n\"
recv 3
close 3
check 01"
    [ "$status" -eq 1 ] # the skeleton: check fails
    assert_line '# Lesson 01: echo once'
    assert_line --regexp '^recv\(3, 1024\) = 6 "hello\\n"'
    assert_line --partial '01-echo-once: 0 of 7 steps pass.'
    # The student writes the code (here: the reference's), checks again.
    cp "$REPL_ROOT/solutions/01-echo-once/"*.c "$REPL_ROOT/lessons/01-echo-once/"
    lab_script 'check 01
list'
    [ "$status" -eq 0 ]
    assert_line --partial '01-echo-once: all 7 steps pass.'
    assert_line --regexp '^  01  echo-once +passed$'
    assert_line --regexp '^progress  #{30}  7 of 7 steps, 1 of 1 lessons passed$'
}

# ---------------------------------------------------------------- list

@test "list shows every lesson folder, not started, with a progress bar" {
    lab_run list
    [ "$status" -eq 0 ]
    total=0
    for dir in "$LAB_ROOT"/lessons/[0-9][0-9]-*/; do
        name=$(basename "$dir")
        assert_line --regexp "^  ${name:0:2}  ${name:3} +not started"
        steps=$(grep -c '^[[:space:]]*@test "' "$LAB_ROOT/tests/$name.bats" 2>/dev/null || true)
        total=$((total + ${steps:-0}))
    done
    first=$(basename "$(ls -d "$LAB_ROOT"/lessons/[0-9][0-9]-*/ | head -n 1)")
    assert_line --regexp "^  ${first:0:2}  ${first:3} +not started +<- next$"
    assert_line --regexp "^progress  \.{30}  0 of $total steps, 0 of [0-9]+ lessons passed$"
}

@test "list shows passed, N of M steps and the progress bar from the progress file" {
    make_checkout
    mkdir -p "$REPL_ROOT/lessons/02-second" "$REPL_ROOT/lessons/03-third"
    printf '@test "step 1: a"{\n}\n@test "step 2: b" {\n}\n' >"$REPL_ROOT/tests/02-second.bats"
    printf '@test "step 1: a" {\n}\n' >"$REPL_ROOT/tests/03-third.bats"
    lab_run list # makes the state dir and names the progress file
    file=$(progress_file)
    [ -z "$file" ] || rm "$file"
    lab_run hint 01 1 # a write: now the file exists
    file=$(progress_file)
    [ -n "$file" ]
    printf 'lesson 01-echo-once 7/7\nsolved 01-echo-once 1700000000\nlesson 02-second 1/2 failing 2\n' >>"$file"
    lab_run list
    [ "$status" -eq 0 ]
    assert_line --regexp '^  01  echo-once +passed$'
    assert_line --regexp '^  02  second +1 of 2 steps +<- next$'
    assert_line --regexp '^  03  third +not started$'
    assert_line --regexp '^progress  #{24}\.{6}  8 of 10 steps, 1 of 3 lessons passed$'
    assert_line 'next: 02-second: `show 02` to read it, `check 02` to test it'
}

# ---------------------------------------------------------------- lesson names

@test "a lesson is named by number, NN, slug, NN-slug or a unique slug prefix" {
    make_checkout
    mkdir -p "$REPL_ROOT/lessons/02-echo-twice"
    echo '# two' >"$REPL_ROOT/lessons/02-echo-twice/README.md"
    for name in 1 01 echo-once 01-echo-once echo-o; do
        lab_run show "$name"
        [ "$status" -eq 0 ] || {
            echo "show $name: $output" >&2
            return 1
        }
        assert_line '# Lesson 01: echo once'
    done
    lab_run show echo-t
    [ "$status" -eq 0 ]
    assert_output '# two'
    lab_run show echo
    [ "$status" -eq 1 ]
    assert_output "lab: 'echo' could be more than one lesson (there are: 01-echo-once, 02-echo-twice)"
    lab_run show 7
    [ "$status" -eq 1 ]
    assert_output "lab: no lesson '7' (there are: 01-echo-once, 02-echo-twice)"
}

# ---------------------------------------------------------------- show

@test "show prints the lesson's README as it is when stdout is no terminal" {
    lab_run show 01
    [ "$status" -eq 0 ]
    diff <(printf '%s\n' "$output") "$LAB_ROOT/lessons/01-echo-once/README.md"
}

@test "show of a lesson without a README says so" {
    make_checkout
    rm -f "$REPL_ROOT/lessons/01-echo-once/README.md"
    lab_run show 01
    [ "$status" -eq 1 ]
    assert_output 'lab: cannot read lessons/01-echo-once/README.md: No such file or directory'
}

# ---------------------------------------------------------------- hint

# A hints.md with a known ladder, in the checkout copy.
write_hints() {
    cat >"$REPL_ROOT/lessons/01-echo-once/hints.md" <<'EOF'
# Hints: 01-echo-once

## step 1
1. first nudge
2. more specific,
   on two lines
3. almost the code

## step 4
1. client nudge
2. client code
EOF
}

@test "hint climbs the ladder one rung per call and stays on the last" {
    make_checkout
    write_hints
    lab_run hint 01 1
    [ "$status" -eq 0 ]
    assert_output '01-echo-once, step 1: the server listens and prints its real port
  1. first nudge
(hint 1 of 3: `hint 01 1` again for a more specific one)'
    lab_run hint 01 1
    assert_output '01-echo-once, step 1: the server listens and prints its real port
  1. first nudge
  2. more specific, on two lines
(hint 2 of 3: `hint 01 1` again for a more specific one)'
    lab_run hint 01 1
    assert_line '  3. almost the code'
    assert_line '(that was the last hint for step 1: reread step 1 of the lesson with `show 01`)'
    lab_run hint 01 1
    [ "$status" -eq 0 ]
    assert_line '  3. almost the code'
    # Each step has its own ladder, kept in the progress file.
    lab_run hint 01 4
    assert_line '  1. client nudge'
    refute_line '  2. client code'
    grep -qx 'hint 01-echo-once 1 3' "$(progress_file)"
    grep -qx 'hint 01-echo-once 4 1' "$(progress_file)"
}

@test "hint without STEP starts at step 1 before any check" {
    make_checkout
    write_hints
    lab_run hint echo-once
    [ "$status" -eq 0 ]
    assert_line '01-echo-once, step 1: the server listens and prints its real port'
}

@test "hint checks its STEP and says when a step has no hints" {
    make_checkout
    write_hints
    lab_run hint 01 9
    [ "$status" -eq 2 ]
    assert_output "lab: no step '9' in 01-echo-once (its steps are 1-7)"
    lab_run hint 01 x
    [ "$status" -eq 2 ]
    lab_run hint 01 2
    [ "$status" -eq 1 ]
    assert_output 'lab: lesson 01-echo-once has no hints for step 2'
    rm "$REPL_ROOT/lessons/01-echo-once/hints.md"
    lab_run hint 01
    [ "$status" -eq 1 ]
    assert_output 'lab: lesson 01-echo-once has no hints (lessons/01-echo-once/hints.md)'
}

@test "the real lesson 01 has a hint ladder for every step" {
    for step in 1 2 3 4 5 6 7; do
        lab_run hint 01 "$step"
        [ "$status" -eq 0 ] || {
            echo "hint 01 $step: $output" >&2
            return 1
        }
        assert_line --regexp "^\(hint 1 of [2-4]: "
    done
}

@test "instructors turn hints and solutions off with LAB_NO_HINTS, LAB_NO_SOLUTIONS or lab/lab.conf" {
    make_checkout
    write_hints
    LAB_NO_HINTS=1 lab_run hint 01
    [ "$status" -eq 1 ]
    assert_output "lab: hints are turned off in this lab (your instructor's choice)"
    LAB_NO_SOLUTIONS=1 lab_run solution 01
    [ "$status" -eq 1 ]
    assert_output "lab: solutions are turned off in this lab (your instructor's choice)"
    mkdir -p "$REPL_ROOT/lab"
    printf '# set by the instructor\nhints = off\nsolutions off\n' >"$REPL_ROOT/lab/lab.conf"
    lab_run hint 01
    [ "$status" -eq 1 ]
    assert_output "lab: hints are turned off in this lab (your instructor's choice)"
    lab_run solution 01
    assert_output "lab: solutions are turned off in this lab (your instructor's choice)"
    printf 'hints = on\n' >"$REPL_ROOT/lab/lab.conf"
    lab_run hint 01
    [ "$status" -eq 0 ]
}

# ---------------------------------------------------------------- check and solution

@test "check stops at the first failing step, shows its transcript and records it" {
    make_checkout
    lab_run check 01
    [ "$status" -eq 1 ]
    assert_line 'checking 01-echo-once (building and testing; Ctrl-C stops)'
    assert_line --regexp "^  FAIL step 1: "
    refute_line --regexp "^  FAIL step 2: "
    assert_line --partial "server: socket 127.0.0.1:0: Function not implemented"
    assert_line --partial 'reread step 1 of lessons/01-echo-once/README.md'
    assert_line '01-echo-once: 0 of 7 steps pass. Next: step 1 (reread it with `show 01`; `hint 01 1` if you are stuck)'
    assert_line '(stopped at the first failing step: 6 more not run; `check 01 --all` runs every step)'
    [ -f "$REPL_ROOT/build/reports/lab/results.json" ]
    grep -qx 'lesson 01-echo-once 0/7 failing 1' "$(progress_file)"
    lab_run list
    assert_line --regexp '^  01  echo-once +0 of 7 steps +<- next$'
}

@test "check --all fails every step of the skeleton, the first in full" {
    make_checkout
    lab_run check 01 --all
    [ "$status" -eq 1 ]
    for step in 1 2 3 4 5 6 7; do
        assert_line --regexp "^  FAIL step $step: "
    done
    # The first failing step's whole transcript, the others' first line.
    assert_line --partial 'reread step 1 of lessons/01-echo-once/README.md'
    refute_line --partial 'reread step 2 of'
    refute_line --partial 'stopped at the first failing step'
    grep -qx 'lesson 01-echo-once 0/7 failing 1,2,3,4,5,6,7' "$(progress_file)"
    # --verbose: every transcript.
    lab_run check 01 --all --verbose
    assert_line --partial 'reread step 7 of lessons/01-echo-once/README.md'
}

@test "check N STEP runs that step alone and records nothing" {
    make_checkout --solved
    lab_run check 01 3
    [ "$status" -eq 0 ]
    assert_line --regexp "^  pass step 3: "
    refute_line --regexp "^  pass step [124567]: "
    assert_line '01-echo-once: step 3 passes. `check 01` checks the whole lesson.'
    [ ! -s "$(progress_file)" ] || ! grep -q 'lesson 01-echo-once' "$(progress_file)"
    lab_run check 01 8
    [ "$status" -eq 2 ]
    assert_output 'lab: 01-echo-once has steps 1 to 7, not 8'
}

@test "check on a half-done lesson: N of M, list shows it, hint goes to the first failing step" {
    make_checkout
    write_hints
    cp "$REPL_ROOT/solutions/01-echo-once/server.c" "$REPL_ROOT/lessons/01-echo-once/"
    lab_run check echo-once
    [ "$status" -eq 1 ]
    assert_line --regexp '^  pass step 1: '
    assert_line --regexp '^  FAIL step 4: '
    assert_line --partial '01-echo-once: 3 of 7 steps pass. Next: step 4'
    lab_run list
    assert_line --regexp '^  01  echo-once +3 of 7 steps +<- next$'
    lab_run hint 01
    assert_line '01-echo-once, step 4: the client sends its message and prints the echo'
    assert_line '  1. client nudge'
    lab_run solution 01
    [ "$status" -eq 1 ]
    assert_output --partial 'the solution opens once you pass 01-echo-once (your last check: 3 of 7 steps)'
}

@test "check on a solved lesson passes, list shows it, and the solution opens" {
    make_checkout --solved
    lab_run solution 01
    [ "$status" -eq 1 ]
    assert_output 'lab: the solution opens once you pass 01-echo-once: solve it, then `check 01`'
    lab_run check 01
    [ "$status" -eq 0 ]
    for step in 1 2 3 4 5 6 7; do
        assert_line --regexp "^  pass step $step: "
    done
    assert_line --partial '01-echo-once: all 7 steps pass.'
    lab_run list
    assert_line --regexp '^  01  echo-once +passed$'
    assert_line --regexp '^progress  #{30}  7 of 7 steps, 1 of 1 lessons passed$'
    assert_line 'every lesson passed. Well done!'
    lab_run solution 01
    [ "$status" -eq 0 ]
    assert_line '==> solutions/01-echo-once/server.c <=='
    assert_line '==> solutions/01-echo-once/client.c <=='
    assert_output --partial "$(sed -n 2p "$REPL_ROOT/solutions/01-echo-once/server.c")"
}

@test "check all grades every lesson of the checkout" {
    make_checkout --solved
    lab_run check all
    [ "$status" -eq 0 ]
    assert_line 'checking every lesson (building and testing; Ctrl-C stops)'
    assert_line --partial '01-echo-once: all 7 steps pass.'
}

@test "check shows a compile error once, not in every step" {
    make_checkout
    echo 'int main(void) { return nope; }' >"$REPL_ROOT/lessons/01-echo-once/server.c"
    lab_run check 01
    [ "$status" -eq 1 ]
    assert_line 'server.c does not compile:'
    [ "$(grep -c 'undeclared (first use' <<<"$output")" -eq 1 ]
}

@test "Ctrl-C stops a check and everything the grader started" {
    make_checkout
    # A step that takes long, so the interrupt lands in the middle of it.
    sed -i '/^@test "step 1: .*{$/a\    sleep 30 # lets the test interrupt it' \
        "$REPL_ROOT/tests/01-echo-once.bats"
    grep -q '^    sleep 30 # lets' "$REPL_ROOT/tests/01-echo-once.bats"
    # The grader's and the step runner's temporary folders, to see them go.
    export TMPDIR=$BATS_TEST_TMPDIR/tmp
    mkdir "$TMPDIR"
    lab_start check 01
    for i in $(seq 500); do
        pgrep -f "sleep 30" >/dev/null && pgrep -f "$REPL_ROOT/tests/01-echo-once.bats" >/dev/null && break
        sleep 0.02 # polling until the slow step runs, with a deadline
    done
    lab_pid=$(pgrep -P "$REPL_PID" | head -n 1)
    kill -INT "$lab_pid"
    rc=0
    wait "$REPL_PID" || rc=$?
    [ "$rc" -eq 1 ]
    repl_wait_for '^check stopped \(Ctrl-C\)$'
    for i in $(seq 250); do
        pgrep -f "$REPL_ROOT" >/dev/null || break
        sleep 0.02 # polling until the grader's processes are gone
    done
    run pgrep -af "$REPL_ROOT"
    assert_output ''
    run ls -A "$TMPDIR"
    assert_output ''
}

# ---------------------------------------------------------------- watch

# Start `lab watch 01` and wait for its first check; $@: env settings.
start_watch() {
    lab_start watch 01
    repl_wait_for '^01-echo-once: 0 of 7 steps pass' 90
}

# Stop the watch with SIGINT (Ctrl-C); it must end with status 0.
stop_watch() {
    kill -INT "$(pgrep -P "$REPL_PID" | head -n 1)"
    rc=0
    wait "$REPL_PID" || rc=$?
    [ "$rc" -eq 0 ]
    repl_wait_for '^watch stopped$'
}

@test "watch re-checks when a file of the lesson is saved (inotify) until Ctrl-C" {
    make_checkout
    start_watch
    grep -q '(inotify)' "$BATS_TEST_TMPDIR/repl.out"
    cp "$REPL_ROOT/solutions/01-echo-once/server.c" "$REPL_ROOT/lessons/01-echo-once/server.c"
    repl_wait_for '^01-echo-once: 3 of 7 steps pass' 90
    # An editor's way: write a new file, rename it over the old one.
    cp "$REPL_ROOT/solutions/01-echo-once/client.c" "$REPL_ROOT/lessons/01-echo-once/.client.c.swp"
    mv "$REPL_ROOT/lessons/01-echo-once/.client.c.swp" "$REPL_ROOT/lessons/01-echo-once/client.c"
    repl_wait_for '^01-echo-once: all 7 steps pass' 90
    stop_watch
    grep -qx 'lesson 01-echo-once 7/7' "$(progress_file)"
}

@test "watch falls back to polling (LAB_WATCH_POLL=1)" {
    make_checkout
    export LAB_WATCH_POLL=1
    start_watch
    grep -q '(polling)' "$BATS_TEST_TMPDIR/repl.out"
    cp "$REPL_ROOT/solutions/01-echo-once/server.c" "$REPL_ROOT/lessons/01-echo-once/server.c"
    repl_wait_for '^01-echo-once: 3 of 7 steps pass' 90
    stop_watch
}

@test "watch ignores files that are not sources" {
    make_checkout
    start_watch
    echo notes >"$REPL_ROOT/lessons/01-echo-once/notes.txt"
    echo swap >"$REPL_ROOT/lessons/01-echo-once/.server.c.swp"
    # Nothing may happen: watch for 1.5 s (an observation window, not a
    # synchronisation) that no re-check starts.
    sleep 1.5
    [ "$(grep -c '^checking ' "$BATS_TEST_TMPDIR/repl.out")" -eq 1 ]
    touch "$REPL_ROOT/lessons/01-echo-once/server.c"
    repl_wait_for '^01-echo-once: 0 of 7 steps pass' 90 2
    [ "$(grep -c '^checking ' "$BATS_TEST_TMPDIR/repl.out")" -eq 2 ]
    stop_watch
}

# ---------------------------------------------------------------- reset

@test "reset asks first: no answer or n leaves the files alone" {
    make_checkout --git
    echo '/* my work */' >>"$REPL_ROOT/lessons/01-echo-once/server.c"
    cp "$REPL_ROOT/lessons/01-echo-once/server.c" "$BATS_TEST_TMPDIR/mine.c"
    lab_script 'reset 01
n'
    [ "$status" -eq 1 ]
    assert_line 'Put the skeleton back in lessons/01-echo-once (server.c)? Your files are backed up first. [y/N] n'
    assert_line 'not reset: your files are as they were'
    cmp "$BATS_TEST_TMPDIR/mine.c" "$REPL_ROOT/lessons/01-echo-once/server.c"
    lab_run reset 01 # stdin /dev/null: no answer is no
    [ "$status" -eq 1 ]
    cmp "$BATS_TEST_TMPDIR/mine.c" "$REPL_ROOT/lessons/01-echo-once/server.c"
}

@test "reset with y restores the skeleton and keeps a backup of the student's files" {
    make_checkout --git --solved
    lab_run check 01 # passed: the solution stays open after a reset
    [ "$status" -eq 0 ]
    lab_script 'reset 01
y
list'
    [ "$status" -eq 0 ]
    assert_line 'reset lessons/01-echo-once: client.c, server.c are the skeleton again'
    backup=$(sed -n 's/^your files are in //p' <<<"$output")
    [ -d "$backup" ]
    cmp "$backup/server.c" "$REPL_ROOT/solutions/01-echo-once/server.c"
    cmp "$backup/client.c" "$REPL_ROOT/solutions/01-echo-once/client.c"
    cmp "$LAB_ROOT/lessons/01-echo-once/server.c" "$REPL_ROOT/lessons/01-echo-once/server.c"
    assert_line --regexp '^  01  echo-once +reset \(passed before\) +<- next$'
    lab_run solution 01
    [ "$status" -eq 0 ]
}

@test "reset --yes does not ask; nothing to reset is no error" {
    make_checkout --git
    lab_run reset 01
    [ "$status" -eq 0 ]
    assert_output 'lessons/01-echo-once already is the skeleton: nothing to reset'
    rm "$REPL_ROOT/lessons/01-echo-once/client.c"
    lab_run reset 01 --yes
    [ "$status" -eq 0 ]
    assert_line 'reset lessons/01-echo-once: client.c is the skeleton again'
    [ -f "$REPL_ROOT/lessons/01-echo-once/client.c" ]
}

@test "without git (the hand-out), reset goes back to the lesson as lab first saw it" {
    make_checkout
    lab_run list # the student's first `make lab`
    [ "$status" -eq 0 ]
    echo '/* my work */' >>"$REPL_ROOT/lessons/01-echo-once/server.c"
    lab_run reset 01 --yes
    [ "$status" -eq 0 ]
    assert_line 'reset lessons/01-echo-once: server.c is the skeleton again'
    cmp "$LAB_ROOT/lessons/01-echo-once/server.c" "$REPL_ROOT/lessons/01-echo-once/server.c"
}

# ---------------------------------------------------------------- the progress file

@test "progress lives in XDG_STATE_HOME (else ~/.local/state), keyed by the checkout" {
    make_checkout
    lab_run hint 01 1
    file=$(progress_file)
    [[ $file == "$XDG_STATE_HOME"/socklab/progress-* ]]
    grep -qx 'version 1' "$file"
    grep -qx "checkout $REPL_ROOT" "$file"
    # Nothing was written into the checkout.
    [ -z "$(find "$REPL_ROOT/lessons" -newer "$file")" ]
    unset XDG_STATE_HOME
    HOME=$BATS_TEST_TMPDIR/home lab_run hint 01 1
    ls "$BATS_TEST_TMPDIR"/home/.local/state/socklab/progress-*
    XDG_STATE_HOME=relative/dir HOME=$BATS_TEST_TMPDIR/home2 lab_run hint 01 1
    ls "$BATS_TEST_TMPDIR"/home2/.local/state/socklab/progress-*
}

@test "progress of another version and unknown lines survive an update" {
    make_checkout
    lab_run hint 01 1
    file=$(progress_file)
    cat >"$file" <<EOF
# written by a newer lab
version 3
checkout $REPL_ROOT
streak 01-echo-once 5 days
lesson 01-echo-once 7/7 failing none extra-field
solved 01-echo-once 1700000000
EOF
    lab_run solution 01 # solved is read: the solution opens
    [ "$status" -eq 0 ]
    lab_run hint 01 2
    [ "$status" -eq 0 ]
    grep -qx 'version 3' "$file"
    grep -qx 'streak 01-echo-once 5 days' "$file"
    grep -qx 'lesson 01-echo-once 7/7 failing none extra-field' "$file"
    grep -qx 'solved 01-echo-once 1700000000' "$file"
    grep -qx 'hint 01-echo-once 2 1' "$file"
}
