#!/usr/bin/env bats
# The grader against hostile student programs (tests/grader/hostile/*.c).
#
# Each hostile program is handed in as a student's lesson 01 server.c or
# client.c, the other program being the solution, and the whole lot is
# graded at once with `grade.py class` (as an instructor would, in
# parallel), beside a control student who hands in the solutions. Each
# test then reads grades.json: the steps that need the hostile program
# fail with a clear reason, the others pass (it fails ONLY its own
# steps), every step ends within its bound (20 s), and nothing of it is
# left: no process, socket or file of its sandbox uid, no process running
# a program built for it. The wall time of each case is printed.
#
# Run: timeout 600 bats tests/grader/hostile.bats (make test does).

setup_file() {
    ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    export ROOT
    # Not under BATS_RUN_TMPDIR: it is mode 700, and as root the sandbox
    # uid must be able to run the programs built here.
    SELFTEST=$(mktemp -d /tmp/socklab-hostile.XXXXXX)
    chmod 755 "$SELFTEST"
    export SELFTEST
    "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/selftest.py" hostile "$SELFTEST/class"
    local t0=$SECONDS
    # The fork bomb burns a CPU for as long as its step waits: one step
    # that starts it (1), two that must pass right after it (4, 5: its
    # processes are gone) and the one that runs it in the foreground (6).
    echo '{"fork_bomb": {"01": [1, 4, 5, 6]}}' >"$SELFTEST/plan.json"
    # Mostly waiting on time bounds, so six at once even on two cores.
    # A listen bound of 6 s, so "noticed at once" (--bound 5 below) is told
    # apart from "waited for the bound" with a margin even on a busy machine.
    LAB_LISTEN_TIMEOUT=6 timeout 600 "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/grade.py" class "$SELFTEST/class" \
        --lesson 01 --jobs 6 --build "$SELFTEST/build" --plan "$SELFTEST/plan.json" \
        --reports "$SELFTEST/reports" >"$SELFTEST/class.out" 2>&1
    echo $? >"$SELFTEST/class.status"
    echo $((SECONDS - t0)) >"$SELFTEST/class.seconds"
}

teardown_file() {
    rm -rf "$SELFTEST"
}

# Check one hostile case in grades.json (see selftest.py expect --help).
expect_case() {
    run "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/selftest.py" expect \
        "$SELFTEST/reports/grades.json" "$@"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "the class with every hostile program is graded to the end (exit 0)" {
    cat "$SELFTEST/class.out"
    echo "graded in $(cat "$SELFTEST/class.seconds") s"
    [ "$(cat "$SELFTEST/class.status")" -eq 0 ]
    grep -q '^control  *7  *7$' "$SELFTEST/class.out"
}

@test "the control student keeps every point beside the hostile ones" {
    expect_case control --pass 1,2,3,4,5,6,7
}

@test "a server that never listens: 'did not start listening', killed when run in the foreground" {
    expect_case never_listens --pass 4,5 \
        --fail "1,2,3,7:did not start listening: it is still running" \
        --fail "6:killed after [0-9]+ s"
}

@test "a server that listens and never accepts: the echo steps time out" {
    expect_case never_accepts --pass 1,4,5,6 \
        --fail "2,3,7:no more bytes arrived within [0-9.]+ s"
}

@test "a server that accepts and never answers: the echo steps time out" {
    expect_case never_answers --pass 1,4,5,6 \
        --fail "2,3,7:no more bytes arrived within [0-9.]+ s"
}

@test "a server that crashes on the first connection: 'signal 11 (SIGSEGV)'" {
    expect_case segfault_on_connect --pass 1,4,5,6 \
        --fail "2,3,7:exited with signal 11 \\(SIGSEGV\\)"
}

@test "a server that exits at once: noticed at once, not at a timeout" {
    expect_case exits_at_once --pass 4,5 --bound 5 \
        --fail "1,2,3,7:exited with status 3 before it printed 'listening on" \
        --fail "6:exited with status 3 on a port already in use"
}

@test "a fork bomb (setsid children): stopped by the process limit, every process killed" {
    expect_case fork_bomb --pass 4,5 \
        --fail "1:did not start listening[\s\S]*killed [0-9]+ processes .* forks without end" \
        --fail "6:killed after [0-9]+ s"
}

@test "a server writing gigabytes to stdout: stopped by the file size limit (SIGXFSZ)" {
    expect_case stdout_flood --pass 4,5 \
        --fail "1,2,3,7:signal 25 \\(SIGXFSZ: it wrote more than the 67108864-byte file size limit\\)" \
        --fail "6:SIGXFSZ"
    # The floods were deleted with their step, the grader kept a bounded
    # transcript.
    [ "$(wc -c <"$SELFTEST/reports/grades.json")" -lt 1000000 ]
}

@test "a server that ignores SIGTERM: killed with SIGKILL, only the exit steps fail" {
    expect_case ignores_sigterm --pass 1,2,4,5 \
        --fail "3,7:the server was still running 2 s later" \
        --fail "6:killed after [0-9]+ s"
}

@test "a server that leaves a setsid daemon and files behind: all of it is removed" {
    # Step 7 restarts the server on its port, which the daemon still holds.
    expect_case daemonizes --pass 1,2,3,4,5,6 \
        --fail "7:a socket still listens there, though the first server exited"
    # The sandbox's log: after each step it killed the daemon and removed
    # its files (the leftovers test checks that nothing is left).
    local log
    log=$("${LAB_PYTHON:-python3}" "$ROOT/tests/grader/selftest.py" query --lines \
        "$SELFTEST/reports/grades.json" \
        '[s for s in j["students"] if s["student"] == "daemonizes"][0]["lessons"][0]["sandbox"]["cleaned"]')
    echo "$log"
    # (steps 1, 2, 3 and 7 start the server; 4 and 5 only the client, and
    # in 6 it cannot bind, so it exits before it forks)
    [ "$(grep -c '^step [1237]: killed [1-9][0-9]* processes' <<<"$log")" -eq 4 ]
    # (step 1 starts it twice: on port 0, then on a port of its own)
    [ "$(grep -cE '^step [1237]: removed (/tmp/socklab-stray-[0-9]+ )+/dev/shm/socklab-stray-[0-9]+' <<<"$log")" -eq 4 ]
    [ "$(wc -l <<<"$log")" -eq 8 ]
}

@test "a client that never exits (and ignores SIGTERM): 'killed after 5 s'" {
    expect_case client_never_exits --pass 1,2,3,6 \
        --fail "4,5,7:client .*: killed after [0-9]+ s"
}

@test "a client that does not compile: only the client's steps fail, with the compiler's message" {
    expect_case does_not_compile --pass 1,2,3,6 \
        --fail "4,5,7:client: it does not compile:[\s\S]*expected .;. before .return."
}

@test "a client that eats memory: stopped by the 1 GiB address-space limit" {
    expect_case memory_hog --pass 1,2,3,6 --fail "4,5,7:malloc failed after (9[0-9][0-9]|10[0-9][0-9]) MiB"
}

@test "nothing of any hostile program is left: no process, socket or file" {
    run "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/selftest.py" leftovers \
        "$SELFTEST/reports/grades.json" --under "$SELFTEST"
    echo "$output"
    [ "$status" -eq 0 ]
    # Nothing written into the checkout either (a core dump, say).
    [ -z "$(find "$ROOT" -maxdepth 3 -newer "$SELFTEST/class" \( -name 'core*' -o -name 'socklab-stray-*' \) -print)" ]
}

@test "RLIMIT_CPU stops a spinning server (SIGXCPU); SANITIZE=1 turns a heap overflow into a 'memory error'" {
    local class=$SELFTEST/class2
    mkdir -p "$class"/{cpu_spin,heap_overflow,control}/01-echo-once
    cp "$ROOT/tests/grader/hostile/cpu_spin.c" "$class/cpu_spin/01-echo-once/server.c"
    cp "$ROOT/tests/grader/hostile/heap_overflow.c" "$class/heap_overflow/01-echo-once/server.c"
    cp "$ROOT/solutions/01-echo-once/server.c" "$class/control/01-echo-once/server.c"
    for s in cpu_spin heap_overflow control; do
        cp "$ROOT/solutions/01-echo-once/client.c" "$class/$s/01-echo-once/client.c"
    done
    # At nice 0 and with a 12 s wait for the echo, the spinner reaches its
    # 1 s of CPU within the step even beside two busy programs.
    LAB_LIMIT_CPU=1 LAB_NICE=0 LAB_CALL_TIMEOUT_FLOOR=12 \
        run timeout 300 "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/grade.py" class \
        "$class" --lesson 01 --sanitize --build "$SELFTEST/build2" \
        --reports "$SELFTEST/reports2"
    echo "$output"
    [ "$status" -eq 0 ]
    local grades=$SELFTEST/reports2/grades.json
    run "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/selftest.py" expect "$grades" cpu_spin \
        --pass 1,4,5,6 --fail "2,3,7:signal 24 \\(SIGXCPU: it used more than 1 s of CPU\\)"
    echo "$output"
    [ "$status" -eq 0 ]
    run "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/selftest.py" expect "$grades" heap_overflow \
        --pass 1,4,5,6 --fail "2,3,7:memory error in the server, found by the sanitizer[\s\S]*ERROR: AddressSanitizer: heap-buffer-overflow"
    echo "$output"
    [ "$status" -eq 0 ]
    # The sanitized solution passes everything, even on 1 s of CPU.
    run "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/selftest.py" expect "$grades" control --pass 1,2,3,4,5,6,7
    echo "$output"
    [ "$status" -eq 0 ]
    # Sanitized binaries have a folder of their own, never the plain one.
    nm "$SELFTEST/build2/heap_overflow/bin-sanitize/01-echo-once/server" | grep -q __asan_init
    [ ! -e "$SELFTEST/build2/heap_overflow/bin" ]
    run "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/selftest.py" leftovers "$grades" --under "$SELFTEST"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "check --src/--bin grades one tree: a compile error fails only its steps, results.json as the REPL reads it" {
    local tree=$SELFTEST/one/lessons/01-echo-once
    mkdir -p "$tree"
    cp "$ROOT/tests/grader/hostile/does_not_compile.c" "$tree/client.c"
    cp "$ROOT/solutions/01-echo-once/server.c" "$tree/server.c"
    run timeout 120 "${LAB_PYTHON:-python3}" "$ROOT/tests/grader/grade.py" check --impl lessons \
        --src "$SELFTEST/one/lessons" --bin "$SELFTEST/one/build/lessons" \
        --reports "$SELFTEST/one/reports" --lesson 01 --quiet
    echo "$output"
    [ "$status" -eq 1 ]
    [[ $output == *"01-echo-once                4/7        4/7  --"* ]]
    local results=$SELFTEST/one/reports/results.json
    # The schema: what lab/ and CI read.
    local q=("${LAB_PYTHON:-python3}" "$ROOT/tests/grader/selftest.py" query "$results")
    "${q[@]}" 'j["impl"] == "lessons" and j["passed"] == 4 and j["total"] == 7
        and j["points"] == 4 and j["max_points"] == 7 and len(j["lessons"]) == 1'
    "${q[@]}" 'j["lessons"][0]["lesson"] == "01-echo-once"
        and j["lessons"][0]["compile"]["server"] == "ok"
        and "expected" in j["lessons"][0]["compile"]["client"]
        and len(j["lessons"][0]["steps"]) == 7
        and all(set(s) >= {"step", "name", "passed", "points", "max_points",
                           "transcript", "seconds"} for s in j["lessons"][0]["steps"])'
    [ -s "$SELFTEST/one/reports/junit.xml" ]
    [ -f "$SELFTEST/one/build/lessons/01-echo-once/client.compile.log" ]
    [ ! -e "$SELFTEST/one/build/lessons/01-echo-once/client" ]
}
