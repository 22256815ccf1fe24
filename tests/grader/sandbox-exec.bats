#!/usr/bin/env bats
# build/tools/sandbox-exec (tests/harness/sandbox-exec.c): what every
# student program starts through. It must give the program its limits,
# niceness, control group, uid, environment and no fd above 2, refuse bad
# usage in one line, and tell whether a uid has a process left.
#
# Run: timeout 120 bats tests/grader/sandbox-exec.bats (make test does).

setup() {
    bats_require_minimum_version 1.5.0
    load '../lib/common'
    ROOT=$LAB_ROOT
    EXEC=$LAB_SANDBOX_EXEC
    [ -x "$EXEC" ] || {
        echo "no $EXEC: run make" >&2
        return 1
    }
    # A uid below the graders' range (61000-64999): no grader takes it.
    UID_FREE=60999
    CGROUP=''
}

teardown() {
    if [ "$EUID" -eq 0 ]; then
        "$EXEC" --uid=$UID_FREE --kill-all 2>/dev/null || :
    fi
    [ -z "$CGROUP" ] || rmdir "$CGROUP" 2>/dev/null || :
}

# Skip unless root with uid UID_FREE free of accounts.
need_root() {
    [ "$EUID" -eq 0 ] || skip "not root: no uid to change to"
    ! getent passwd $UID_FREE >/dev/null || skip "uid $UID_FREE is an account here"
}

@test "the program gets its limits, niceness, no_new_privs, environment and only fds 0-2" {
    run -0 timeout 10 "$EXEC" --nproc=300 --cpu=7:8 --fsize=1048576 --nofile=64 \
        --core=0 --as=1073741824 --nice=7 --env=LAB_SANDBOX_TAG=the-tag -- \
        sh -c 'cat /proc/self/limits; grep NoNewPrivs /proc/self/status
            echo "nice $(cut -d" " -f19 /proc/self/stat)"; echo "tag $LAB_SANDBOX_TAG"
            ls /proc/self/fd' 5</dev/null 9>/dev/null
    [[ $output =~ Max\ processes\ +300\ +300 ]]
    [[ $output =~ Max\ cpu\ time\ +7\ +8 ]]
    [[ $output =~ Max\ file\ size\ +1048576\ +1048576 ]]
    [[ $output =~ Max\ open\ files\ +64\ +64 ]]
    [[ $output =~ Max\ core\ file\ size\ +0\ +0 ]]
    [[ $output =~ Max\ address\ space\ +1073741824\ +1073741824 ]]
    [[ $output =~ NoNewPrivs:.1 ]]
    [[ $output =~ $'\n'"tag the-tag"$'\n' ]]
    # Our nice plus 7 (nice(1) adds, so does sandbox-exec).
    [[ $output =~ $'\n'"nice $(($(cut -d' ' -f19 /proc/$$/stat) + 7))"$'\n' ]]
    # ls's own directory fd (3) is the only one above 2: not 5, not 9.
    [ "$(tail -n 4 <<<"$output" | tr '\n' ' ')" = "0 1 2 3 " ]
}

@test "as root: the uid and gid become the sandbox's, with no supplementary group" {
    need_root
    # Started with a supplementary group (4), as a grader may be.
    run -0 timeout 10 "$LAB_PYTHON" -S -c 'import os, sys
os.setgroups([4]); os.execv(sys.argv[1], sys.argv[1:])' "$EXEC" --uid=$UID_FREE -- \
        sh -c 'id -u; id -g; id -G; grep ^Groups: /proc/self/status'
    [ "${lines[0]}" = $UID_FREE ] && [ "${lines[1]}" = $UID_FREE ]
    [ "${lines[2]}" = $UID_FREE ] # id -G: the primary group only
    [[ ${lines[3]} =~ ^Groups:[[:space:]]*$ ]]
}

@test "as root: --cgroup joins the control group before the program runs" {
    need_root
    local base=/sys/fs/cgroup/pids
    [ -e "$base/cgroup.procs" ] || base=/sys/fs/cgroup/unified
    [ -e "$base/cgroup.procs" ] || skip "no pids or unified control group hierarchy"
    CGROUP=$(mktemp -d "$base/socklab-sandbox-exec-test.XXXXXX" 2>/dev/null) ||
        skip "cannot make a control group here"
    run -0 timeout 10 "$EXEC" "--cgroup=$CGROUP/cgroup.procs" --uid=$UID_FREE -- \
        sh -c 'cat /proc/self/cgroup'
    [[ $output == *"${CGROUP#"$base"}"* ]]
}

@test "--any-left and --kill-all: the uid's processes are seen and killed, and none is an answer too" {
    need_root
    run -1 "$EXEC" --uid=$UID_FREE --any-left
    setsid "$EXEC" --uid=$UID_FREE -- sleep 30 </dev/null >/dev/null 2>&1 3>&- &
    local pid=$!
    lab_wait_for '[ "$(stat -c %u /proc/'$pid' 2>/dev/null)" = '$UID_FREE' ]' 5
    run -0 "$EXEC" --uid=$UID_FREE --any-left
    run -0 "$EXEC" --uid=$UID_FREE --kill-all
    lab_wait_for '! lab_alive '$pid 5
    wait $pid || :
    run -1 "$EXEC" --uid=$UID_FREE --any-left
}

@test "bad usage and a program that cannot run: one line each, 125, 126, 127" {
    run -125 --separate-stderr "$EXEC" --bogus true
    [ "$stderr" = "sandbox-exec: unknown option --bogus" ]
    run -125 --separate-stderr "$EXEC" --cpu=lots true
    [ "$stderr" = "sandbox-exec: a limit needs SOFT or SOFT:HARD, whole numbers" ]
    run -125 --separate-stderr "$EXEC" --uid=0 true
    [ "$stderr" = "sandbox-exec: --uid needs a uid other than 0" ]
    run -125 --separate-stderr "$EXEC" --kill-all
    [ "$stderr" = "sandbox-exec: --kill-all and --any-left need --uid" ]
    run -125 --separate-stderr "$EXEC" --nice=3
    [ "$stderr" = "sandbox-exec: no program to run" ]
    run -127 --separate-stderr "$EXEC" -- /no/such/program
    [ "$stderr" = "sandbox-exec: execvp /no/such/program: No such file or directory" ]
    run -126 --separate-stderr "$EXEC" -- /tmp
    [ "$stderr" = "sandbox-exec: execvp /tmp: Permission denied" ]
}
