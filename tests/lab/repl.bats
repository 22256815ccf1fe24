#!/usr/bin/env bats
# The lab REPL as a program: one-shot and script modes, the command table
# (help, usage lines, exit statuses), the line splitter, run/jobs/stop,
# a conversation by hand with the lesson 01 reference server, and a
# scripted session that uses every command under valgrind.
# (Tab completion, history and Ctrl-C on a real terminal: test_pty.py.)

setup() {
    load 'helpers'
    lab_repl_setup
}

teardown() {
    lab_repl_teardown
}

# ---------------------------------------------------------------- help and the command table

@test "help lists every command of the table under its heading" {
    lab_run help
    [ "$status" -eq 0 ]
    for cmd in list show hint check watch reset solution run jobs stop \
        socket bind listen accept connect send recv sendto recvfrom shutdown \
        setsockopt getsockname getpeername close resolve sockets wait talk \
        help quit exit; do
        grep -qE "^  $cmd( |$)" <<<"$output" || {
            echo "help does not list '$cmd':" >&2
            echo "$output" >&2
            return 1
        }
    done
    assert_line 'Lessons'
    assert_line --partial 'Socket playground'
    assert_line 'Talk mode'
}

@test "make install links lab into PREFIX/bin, and it finds its checkout from anywhere" {
    pfx=$BATS_TEST_TMPDIR/pfx
    run timeout 120 make -s -C "$LAB_ROOT" install "PREFIX=$pfx"
    [ "$status" -eq 0 ]
    [ -L "$pfx/bin/lab" ]
    run bash -c 'cd / && exec env -u LAB_ROOT timeout 10 "$1" list' lab "$pfx/bin/lab"
    [ "$status" -eq 0 ]
    assert_line --regexp '^  01  echo-once '
    run timeout 60 make -s -C "$LAB_ROOT" uninstall "PREFIX=$pfx"
    [ ! -e "$pfx/bin/lab" ]
}

@test "help fits 80 columns" {
    lab_run help
    [ "$status" -eq 0 ]
    while IFS= read -r line; do
        [ "${#line}" -le 80 ] || {
            echo "too long (${#line}): $line" >&2
            return 1
        }
    done <<<"$output"
}

@test "help CMD shows the usage line and what it does; --help too" {
    lab_run help hint
    [ "$status" -eq 0 ]
    assert_line 'usage: hint N [STEP]'
    assert_output --partial 'ladder'
    lab_run check --help
    [ "$status" -eq 0 ]
    assert_line 'usage: check N|all [STEP] [--all] [--verbose] [--trace] [--capture]'
    lab_run --help
    [ "$status" -eq 0 ]
    assert_line 'Lessons'
    lab_run help nosuch
    [ "$status" -eq 1 ]
    assert_output --partial "no command 'nosuch'"
}

@test "wrong argument counts get the usage line and status 2, from the table" {
    lab_run show
    [ "$status" -eq 2 ]
    assert_output 'usage: show N'
    lab_run hint 01 1 extra
    [ "$status" -eq 2 ]
    assert_output 'usage: hint N [STEP]'
    lab_run run 01
    [ "$status" -eq 2 ]
    assert_output 'usage: run N server|client [--ref] [ARGS...]'
    lab_run list extra
    [ "$status" -eq 2 ]
    assert_output 'usage: list'
    lab_run bind 3 127.0.0.1
    [ "$status" -eq 2 ]
    assert_output 'usage: bind FD HOST PORT'
    lab_run talk
    [ "$status" -eq 2 ]
    assert_output 'usage: talk HOST PORT [tcp|udp]'
    lab_run stop
    [ "$status" -eq 2 ]
    assert_output 'usage: stop J'
}

@test "a bad argument value gets the usage line too" {
    lab_run run 01 both
    [ "$status" -eq 2 ]
    assert_output 'usage: run N server|client [--ref] [ARGS...]'
    lab_run reset 01 --force
    [ "$status" -eq 2 ]
    assert_output 'usage: reset N [--yes]'
    lab_run check 01 --loud
    [ "$status" -eq 2 ]
    assert_output 'usage: check N|all [STEP] [--all] [--verbose] [--trace] [--capture]'
}

@test "an unknown command says so (with a near miss) and exits 2" {
    lab_run chek 01
    [ "$status" -eq 2 ]
    assert_output "lab: no command 'chek'. Did you mean check? (\`help\` lists them)"
    lab_run xyzzy
    [ "$status" -eq 2 ]
    assert_output "lab: no command 'xyzzy' (\`help\` lists them)"
}

# ---------------------------------------------------------------- one-shot and script modes

@test "one-shot mode exits with the command's status" {
    lab_run list
    [ "$status" -eq 0 ]
    lab_run show 99
    [ "$status" -eq 1 ]
    assert_output --partial "no lesson '99'"
    lab_run quit
    [ "$status" -eq 0 ]
}

@test "a script runs with no prompt and no colour; comments and blank lines are skipped" {
    lab_script '# a comment

help quit
exit'
    [ "$status" -eq 0 ]
    assert_output $'usage: quit\n  leave the lab (ends your background jobs)'
    refute_output --partial 'lab>'
    [[ $output != *$'\e['* ]]
}

@test "a script goes on after a failure and exits with the first failure's status" {
    lab_script 'show
show 99
help show'
    [ "$status" -eq 2 ]
    assert_line 'usage: show N'
    assert_line --partial "no lesson '99'"
    assert_line 'usage: show N' # help show still ran after the failures
    assert_line '  read lesson N (paged when it is long)'
}

@test "quit and exit end a script; the lines after them do not run" {
    lab_script 'quit
help show'
    [ "$status" -eq 0 ]
    assert_output ''
    lab_script 'exit
help show'
    [ "$status" -eq 0 ]
    assert_output ''
}

@test "an unterminated quote is an error with its line number" {
    lab_script 'help
send 3 "no end'
    [ "$status" -eq 2 ]
    assert_line 'lab: line 2: unterminated " quote'
}

@test "NO_COLOR and a pipe mean no escape codes anywhere" {
    NO_COLOR=1 lab_run list
    [ "$status" -eq 0 ]
    [[ $output != *$'\e'* ]]
    lab_run check 99
    [[ $output != *$'\e'* ]]
}

@test "lab finds its checkout from where the binary is, without LAB_ROOT" {
    run timeout 10 env -u LAB_ROOT "$LAB_BIN" list </dev/null
    [ "$status" -eq 0 ]
    assert_line --partial '01  echo-once'
    cd /
    run timeout 10 env LAB_ROOT=/nonexistent "$LAB_BIN" list </dev/null
    [ "$status" -eq 0 ] # LAB_ROOT that is no checkout: the binary's own
}

# ---------------------------------------------------------------- quoting (what reaches the wire)

@test "the splitter groups quoted words and keeps escapes for the playground" {
    start_peer_server record-server
    lab_script "socket tcp
connect 3 127.0.0.1 $PEER_PORT
send 3 \"two words \\\"quoted\\\"\\n\"
send 3 tab\\there
close 3"
    [ "$status" -eq 0 ]
    # The peer prints what arrived, escaped; wait for it to see the close.
    for i in $(seq 150); do
        grep -q 'closed' "$PEER_OUT" 2>/dev/null && break
        sleep 0.02 # polling for the peer's report, with a deadline
    done
    run cat "$PEER_OUT"
    assert_output --partial 'two words \"quoted\"\ntab\there'
}

# ---------------------------------------------------------------- run, jobs, stop

@test "run N server starts a background job that says where it listens; jobs lists it; stop ends it" {
    lab_script 'run 01 server --ref 127.0.0.1 0
jobs
stop 1
jobs'
    [ "$status" -eq 0 ]
    assert_line --regexp '^\[1\] started build/solutions/01-echo-once/server 127\.0\.0\.1 0 \(pid [0-9]+'
    assert_line --regexp '^\[1\] listening on 127\.0\.0\.1:[0-9]+$'
    assert_line --regexp '^\[1\] running  pid [0-9]+ +build/solutions/01-echo-once/server 127\.0\.0\.1 0  \(listening on 127\.0\.0\.1:[0-9]+\)$'
    assert_line '[1] stopped build/solutions/01-echo-once/server 127.0.0.1 0'
    assert_line 'no jobs: `run N server` starts one'
}

@test "jobs end when the REPL ends, and their output is shown as it arrives" {
    port=$(free_port)
    lab_script "run 01 server --ref 127.0.0.1 $port
jobs"
    [ "$status" -eq 0 ]
    pid=$(sed -n 's/^\[1\] started .*(pid \([0-9]*\);.*/\1/p' <<<"$output")
    [ -n "$pid" ]
    assert_line "[1] stopped build/solutions/01-echo-once/server 127.0.0.1 $port"
    ! kill -0 "$pid" 2>/dev/null
    # Nothing listens there any more.
    run "${LAB_PYTHON:-python3}" "$LAB_ROOT/tests/harness/peer.py" probe --port "$port" --timeout 2
    [ "$status" -ne 0 ]
}

@test "a job's stderr and exit status are shown; stop of a finished job fails" {
    start_peer_server record-server
    lab_script "run 01 server --ref 127.0.0.1 $PEER_PORT
stop 1"
    [ "$status" -eq 1 ]
    assert_line "[1] server: bind 127.0.0.1:$PEER_PORT: Address already in use"
    assert_line "[1] exited with status 1 build/solutions/01-echo-once/server 127.0.0.1 $PEER_PORT"
    assert_line "lab: no job '1' (\`jobs\` lists them)"
}

@test "a job's output shows line by line as it happens, not when it exits" {
    load 'session'
    port=$(free_port)
    session_start
    session_send "run 01 server --ref 127.0.0.1 $port"
    session_expect "^\[1\] listening on 127\.0\.0\.1:$port\$"
    # A client that connects and never sends: the server prints its
    # "connection from" line (printf, no fflush) and waits in recv.
    SERVER_HOST=127.0.0.1 SERVER_PORT=$port start_peer_client hold --hold 20
    for i in $(seq 100); do
        session_send jobs # the script's output comes between commands
        grep -q '^\[1\] connection from' "$BATS_TEST_TMPDIR/repl.out" && break
        sleep 0.05 # polling for the line, with a deadline
    done
    session_expect '^\[1\] connection from 127\.0\.0\.1:[0-9]+$'
    session_send jobs
    session_expect "^\[1\] running .*server 127\.0\.0\.1 $port" 10 2
    session_end
    [ "$status" -eq 0 ]
}

@test "run N client runs in the foreground against a harness server" {
    start_peer_server echo-server --once
    lab_run run 01 client --ref 127.0.0.1 "$PEER_PORT" hello lab
    [ "$status" -eq 0 ]
    assert_output 'hello lab'
}

@test "run N client reports a failing client's status" {
    port=$(free_port)
    lab_run run 01 client --ref 127.0.0.1 "$port" hi
    [ "$status" -eq 1 ]
    assert_line "client: connect 127.0.0.1:$port: Connection refused"
    assert_line '(the client exited with status 1)'
}

@test "run N client is bounded: a server that never answers cannot hang the REPL" {
    start_peer_server record-server
    LAB_RUN_TIMEOUT=1 lab_run run 01 client --ref 127.0.0.1 "$PEER_PORT" hi
    [ "$status" -eq 1 ]
    assert_output --partial 'the client ran 1 s and was stopped (LAB_RUN_TIMEOUT)'
}

@test "run builds the student's program and reports a compile error" {
    make_checkout
    echo 'int main(void) { return undeclared; }' >"$REPL_ROOT/lessons/01-echo-once/client.c"
    lab_run run 01 client
    [ "$status" -eq 1 ]
    assert_output --partial "undeclared (first use in this function)"
    assert_output --partial 'lessons/01-echo-once/client.c does not build (see above)'
}

@test "run N server in one-shot mode is the server in the foreground" {
    lab_start run 01 server --ref 127.0.0.1 0
    repl_wait_for '^\[1\] listening on 127\.0\.0\.1:[0-9]+$'
    port=$(sed -n 's/^\[1\] listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$BATS_TEST_TMPDIR/repl.out")
    run timeout 10 "${LAB_PYTHON:-python3}" "$LAB_ROOT/tests/harness/peer.py" echo-client \
        --port "$port" --message 'one shot\n' --expect-close
    [ "$status" -eq 0 ]
    # The server exits after one client, and so does lab, with its status.
    rc=0
    wait "$REPL_PID" || rc=$?
    [ "$rc" -eq 0 ]
    repl_wait_for '^\[1\] exited with status 0'
}

@test "Ctrl-C (SIGINT) stops a one-shot server and lab exits 0" {
    lab_start run 01 server --ref 127.0.0.1 0
    repl_wait_for '^\[1\] listening on'
    pid=$(pgrep -P "$(pgrep -P "$REPL_PID")" | head -n 1)
    kill -INT "$(pgrep -P "$REPL_PID")"
    rc=0
    wait "$REPL_PID" || rc=$?
    [ "$rc" -eq 0 ]
    repl_wait_for '^\[1\] stopped'
    ! kill -0 "$pid" 2>/dev/null
}

# ---------------------------------------------------------------- the whole conversation by hand

@test "by hand: the lesson 01 reference server started by run, and the playground" {
    port=$(free_port)
    lab_script "run 01 server --ref 127.0.0.1 $port
socket tcp
connect 3 127.0.0.1 $port
send 3 \"hello, socket\\n\"
recv 3
recv 3
close 3"
    [ "$status" -eq 0 ]
    assert_line "[1] listening on 127.0.0.1:$port"
    assert_line 'socket(AF_INET, SOCK_STREAM, 0) = 3'
    assert_line "connect(3, 127.0.0.1:$port) = 0"
    assert_line --regexp '^send\(3, "hello, socket\\n".*\) = 14$'
    assert_line --regexp '^recv\(3, 1024\) = 14 "hello, socket\\n"'
    assert_line --regexp '^recv\(3, 1024\) = 0'
    assert_line --regexp '^close\(3\) = 0'
    assert_line "[1] received 14 bytes"
}

# ---------------------------------------------------------------- valgrind

@test "a scripted session that uses every command is clean under valgrind" {
    command -v valgrind >/dev/null || skip "valgrind is not installed"
    make_checkout --git
    echo '/* a change reset undoes */' >>"$REPL_ROOT/lessons/01-echo-once/server.c"
    start_peer_server echo-server --clients 5 --timeout 240
    port=$(free_port)
    udp_port=$(free_port)
    cat >"$BATS_TEST_TMPDIR/session.lab" <<EOF
help
help run
list
show 01
hint 01
hint 01 2
check 01
solution 01
reset 01
n
reset 01 --yes
run 01 server --ref 127.0.0.1 $port
jobs
wait 2
resolve localhost
socket tcp
setsockopt 3 SO_REUSEADDR 1
getsockname 3
connect 3 127.0.0.1 $port
getpeername 3
send 3 "valgrind\n"
recv 3
recv 3
shutdown 3 wr
close 3
socket tcp
bind 3 127.0.0.1 0
listen 3
accept 3
close 3
socket udp
bind 3 127.0.0.1 $udp_port
sendto 3 127.0.0.1 $udp_port "datagram"
recvfrom 3
sockets
close 3
run 01 client --ref 127.0.0.1 $PEER_PORT via run
talk 127.0.0.1 $PEER_PORT
said in talk
bye
run 01 server --ref 127.0.0.1 0
stop 1
trace 01 client --ref 127.0.0.1 $PEER_PORT via trace
capture 01 client --ref 127.0.0.1 $PEER_PORT via capture
check 01 1 --trace --capture
bench 01
watch 99
nosuch
exit
EOF
    run timeout -k 2 300 env LAB_ROOT="$REPL_ROOT" LAB_BENCH_SECONDS=0.1 valgrind -q \
        --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        "$LAB_BIN" <"$BATS_TEST_TMPDIR/session.lab" 3>&-
    [ "$status" -ne 99 ] || {
        echo "$output" >&2
        return 1
    }
    refute_output --partial '=='  # no valgrind report at all
    assert_line --partial 'checking 01-echo-once'
    assert_line '  FAIL step 1: the server listens and prints its real port'
    assert_line "[1] listening on 127.0.0.1:$port"
    assert_line 'via run'
    assert_line 'said in talk'
    assert_line 'not reset: your files are as they were'
    assert_line 'reset lessons/01-echo-once: server.c is the skeleton again'
}

@test "watch and Ctrl-C are clean under valgrind too" {
    command -v valgrind >/dev/null || skip "valgrind is not installed"
    make_checkout
    : >"$BATS_TEST_TMPDIR/repl.out"
    setsid timeout -k 2 300 env LAB_ROOT="$REPL_ROOT" valgrind -q \
        --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        "$LAB_BIN" watch 01 </dev/null >"$BATS_TEST_TMPDIR/repl.out" 2>&1 3>&- &
    REPL_PID=$!
    LAB_PGIDS+=("$REPL_PID")
    repl_wait_for '^01-echo-once: 0 of 7 steps pass' 120
    touch "$REPL_ROOT/lessons/01-echo-once/client.c"
    repl_wait_for '^01-echo-once: 0 of 7 steps pass' 120 2
    kill -INT "$(pgrep -P "$REPL_PID" | head -n 1)"
    rc=0
    wait "$REPL_PID" || rc=$?
    [ "$rc" -eq 0 ] || {
        cat "$BATS_TEST_TMPDIR/repl.out" >&2
        return 1
    }
    repl_wait_for '^watch stopped$'
}
