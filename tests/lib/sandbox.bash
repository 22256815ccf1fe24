# sandbox.bash - the bottom layer of the lesson tests' helpers (loaded by
# common.bash): a step's set-up and teardown, the sandbox its programs run
# in (uid, limits, tag), killing and waiting for processes, polling with
# deadlines, the clock. Uses nothing of the layers above it.

# ---------------------------------------------------------------- set-up and teardown

# Prepare a step: work folder, sandbox identity, empty process lists.
lab_setup() {
    LAB_TMP=$BATS_TEST_TMPDIR
    LAB_PGIDS=()   # process groups this test started
    LAB_REPRO=()   # commands that reproduce the step by hand
    SERVER_PID='' SERVER_PORT='' SERVER_HOST='' SERVER_STATUS='' CLIENT_CMD=''
    CLIENT_OUT=$LAB_TMP/client.out CLIENT_ERR=$LAB_TMP/client.err
    SERVER_FG_STATUS='' SERVER_TIMED_OUT=''
    STEP=''
    [[ $BATS_TEST_DESCRIPTION =~ ^step\ ([0-9]+): ]] && STEP=${BASH_REMATCH[1]}
    # Marks the student programs of this run in their environment: how a
    # non-root teardown finds the ones that left their process group.
    LAB_SANDBOX_TAG=${LAB_RUN_TAG:-socklab-$$-$RANDOM}
    if [ ! -x "$LAB_SANDBOX_EXEC" ]; then
        echo "lab_setup: no ${LAB_SANDBOX_EXEC#"$LAB_ROOT"/}: run 'make' first" >&2
        return 1
    fi
    if [ "${LAB_SANDBOX_UID:-}" = off ]; then
        # grade.py says the uid could not reach the programs (a checkout
        # under /root): they run as we do, with their limits.
        LAB_SANDBOX_UID=''
    elif [ "$EUID" -eq 0 ] && [ -z "${LAB_SANDBOX_UID:-}" ]; then
        lab_pick_sandbox_uid || return 1
    fi
    lab_build_sandbox
}

# Pick a sandbox uid no account and no process uses, and hold its lock
# (fd 219, the one grade.py takes too) for as long as this test runs, so
# two test runs on one machine never share a uid (teardown kills all of it).
lab_pick_sandbox_uid() {
    local dir=${LAB_UID_LOCK_DIR:-/run/socklab} base=${LAB_SANDBOX_UID_BASE:-61000}
    local i uid start=$(((RANDOM * 32768 + RANDOM) % 4000))
    mkdir -p -m 755 "$dir" 2>/dev/null
    if [ ! -d "$dir" ] || [ -L "$dir" ] || [ ! -O "$dir" ] ||
        [ $((0$(stat -c %a "$dir") & 022)) -ne 0 ]; then
        echo "lab_setup: $dir is not a folder only root can write to" >&2
        return 1
    fi
    for ((i = 0; i < 4000; i++)); do
        uid=$((base + (start + i) % 4000))
        getent passwd "$uid" >/dev/null && continue
        exec 219<>"$dir/$uid.lock" || continue
        if flock -n 219 && ! lab_uid_has_processes "$uid"; then
            LAB_SANDBOX_UID=$uid
            return 0
        fi
        exec 219>&-
    done
    echo "lab_setup: no free sandbox uid in $base-$((base + 3999))" >&2
    return 1
}

# End a step: kill every process group and sandboxed process it started,
# then fail if anything of them is left.
lab_teardown() {
    local pgid left=''
    if [ -n "${LAB_STOP_FILE:-}" ] && [ -z "${BATS_TEST_COMPLETED:-}" ] &&
        [ -z "${BATS_TEST_SKIPPED:-}" ]; then
        : >"$LAB_STOP_FILE" # this step failed: the rest are not run
    fi
    # Disowned, their deaths are not announced ("Killed") in the output.
    disown -a 2>/dev/null
    for pgid in "${LAB_PGIDS[@]}"; do
        kill -KILL -- "-$pgid" 2>/dev/null
    done
    lab_kill_sandbox || left+=" (sandbox)"
    lab_sweep_files
    for pgid in "${LAB_PGIDS[@]}"; do
        if ! lab_wait_gone "$pgid"; then
            left+=" $pgid"
        fi
    done
    if [ -n "$left" ]; then
        echo "teardown: processes of group(s)$left survived SIGKILL" >&2
        return 1
    fi
}

# ---------------------------------------------------------------- the sandbox

# Build LAB_SANDBOX, the command prefix that runs a student program with
# its own limits, at a lower priority than the grader, unable to gain
# privileges (no setuid), marked with LAB_SANDBOX_TAG and, when we are
# root, as an unprivileged sandbox uid (RLIMIT_NPROC binds only non-root):
# build/tools/sandbox-exec (tests/harness/sandbox-exec.c), in one exec.
lab_build_sandbox() {
    local nproc=${LAB_LIMIT_NPROC:-256} f
    if [ -z "${LAB_SANDBOX_UID:-}" ]; then
        # RLIMIT_NPROC counts every task of the user, so leave headroom.
        nproc=$(($(ps -L -U "$EUID" --no-headers | wc -l) + nproc))
    elif ! lab_sandbox_uid_ok "$LAB_SANDBOX_UID"; then
        return 1
    fi
    LAB_SANDBOX=("$LAB_SANDBOX_EXEC")
    if [ -n "${LAB_SANDBOX_CGROUPS:-}" ] && [ "$EUID" -eq 0 ]; then
        # grade.py made control groups for this sandbox (a CPU cap, a task
        # cap): joined as root, before the limits and the uid drop, so a
        # runaway program cannot take more than its share of the machine.
        for f in $LAB_SANDBOX_CGROUPS; do
            LAB_SANDBOX+=("--cgroup=$f")
        done
    fi
    # CPU: SIGXCPU (which the transcript names) at the soft limit,
    # SIGKILL a second later if it is ignored.
    LAB_SANDBOX+=("--nproc=$nproc"
        "--cpu=${LAB_LIMIT_CPU:-20}:$((${LAB_LIMIT_CPU:-20} + 1))"
        "--fsize=${LAB_LIMIT_FSIZE:-67108864}"
        "--nofile=${LAB_LIMIT_NOFILE:-1024}" --core=0)
    # ASan reserves terabytes of address space, so no RLIMIT_AS with it.
    if [ "${SANITIZE:-}" != 1 ]; then
        LAB_SANDBOX+=("--as=${LAB_LIMIT_AS:-1073741824}")
    fi
    LAB_SANDBOX+=("--nice=${LAB_NICE:-10}")
    if [ -n "${LAB_SANDBOX_UID:-}" ]; then
        LAB_SANDBOX+=("--uid=$LAB_SANDBOX_UID")
    fi
    LAB_SANDBOX+=("--env=LAB_SANDBOX_TAG=${LAB_SANDBOX_TAG:-socklab-$$}")
    if [ "${SANITIZE:-}" = 1 ]; then
        # A memory error ends the program with its report on stderr, which
        # the transcript shows. Leak checks are off unless asked for.
        LAB_SANDBOX+=("--env=ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:color=never:${ASAN_OPTIONS:-}"
            "--env=UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:color=never:${UBSAN_OPTIONS:-}")
    fi
    # Only stdin, stdout and stderr reach the program (sandbox-exec closes
    # the rest): Bats keeps fds of its own open (3, 4, 10, 251, ...), and a
    # student who counts the entries of /proc/PID/fd should find only what
    # their program opened.
    LAB_SANDBOX+=(--)
    return 0
}

# Refuse a sandbox uid that is not one: teardown kills every process of it.
# (LAB_SANDBOX_UID_FREE names the uid grade.py found no account of.)
lab_sandbox_uid_ok() {
    if ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -lt 1000 ] || [ "$1" -eq "$EUID" ] ||
        { [ "${LAB_SANDBOX_UID_FREE:-}" != "$1" ] && getent passwd "$1" >/dev/null; }; then
        echo "lab_setup: LAB_SANDBOX_UID=$1 is not a free uid (>= 1000, no account)" >&2
        return 1
    fi
}

# Print the pids of the live sandboxed programs: every process of the
# sandbox uid, or (not root) every process carrying this run's tag.
lab_sandbox_pids() {
    if [ -n "${LAB_SANDBOX_UID:-}" ]; then
        ps -U "$LAB_SANDBOX_UID" -o pid=,stat= | awk '$2 !~ /^Z/ { print $1 }'
    else
        grep -lszxF "LAB_SANDBOX_TAG=${LAB_SANDBOX_TAG:-socklab-$$}" \
            /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
    fi
}

# Kill every sandboxed program of this test, wherever it moved (setsid
# takes it out of its group, not out of its uid), until none is left.
lab_kill_sandbox() {
    local live first='' secs=3
    # The usual case, told without a scan of every process (ps).
    lab_sandbox_cgroups_empty && return 0
    if [ -n "${LAB_SANDBOX_UID:-}" ] && ! lab_uid_has_processes "$LAB_SANDBOX_UID"; then
        return 0
    fi
    # Not root: no uid to kill at once, the tagged ones are found one scan
    # at a time, on a machine a fork bomb may be slowing down.
    [ -n "${LAB_SANDBOX_UID:-}" ] || secs=10
    local end=$((${EPOCHREALTIME//[!0-9]/} + secs * 1000000))
    while [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
        live=$(lab_sandbox_pids)
        if [ -z "$live" ]; then
            [ -n "$first" ] && lab_sandbox_log "killed $first processes left running"
            [ "${first:-0}" -gt 32 ] &&
                echo "teardown: killed $first processes of the student's programs: it forks without end?" >&2
            return 0
        fi
        [ -n "$first" ] || first=$(wc -w <<<"$live")
        if [ -n "${LAB_SANDBOX_UID:-}" ] && lab_sandbox_uid_ok "$LAB_SANDBOX_UID"; then
            # kill(-1) run as the uid: all of its processes at once, so a
            # fork bomb cannot fork faster than it is killed.
            "$LAB_SANDBOX_EXEC" "--uid=$LAB_SANDBOX_UID" --kill-all 2>/dev/null
        else
            # Stopped first, so they cannot fork while their siblings die.
            kill -STOP $live 2>/dev/null
            kill -KILL $live 2>/dev/null
        fi
        lab_nap 20 # polling until nothing of the sandbox is left
    done
    echo "teardown: sandboxed processes survived:" $live >&2
    return 1
}

# Is every control group of the sandbox empty? Under grade.py, as root,
# every sandboxed program runs in them (sandbox-exec --cgroup), and only
# root can move a process out: empty groups mean no program is left.
# Returns 1 when there are none to ask.
lab_sandbox_cgroups_empty() {
    [ -n "${LAB_SANDBOX_CGROUPS:-}" ] && [ -n "${LAB_SANDBOX_UID:-}" ] &&
        [ "$EUID" -eq 0 ] || return 1
    local f pid
    for f in $LAB_SANDBOX_CGROUPS; do
        [ -r "$f" ] || return 1
        pid=''
        { read -r pid <"$f"; } 2>/dev/null
        [ -z "$pid" ] || return 1
    done
    return 0
}

# Has uid $1 any process (a zombie too)? sandbox-exec asks the kernel's
# count of the uid's tasks, where ps or pgrep read every process.
lab_uid_has_processes() {
    "$LAB_SANDBOX_EXEC" "--uid=$1" --any-left
    [ $? -ne 1 ] # 0: some; 1: none; anything else: say some (look closer)
}

# Remove the files the sandbox uid left in the world-writable folders, and
# the step's own files a program flooded (its transcript is printed
# already: the disk comes back now, not at the end of the run). One find:
# a process costs a step a millisecond or more.
lab_sweep_files() {
    local uid=${LAB_SANDBOX_UID:-}
    # The top level only: that is where a program can write (the folders
    # are sticky and world-writable), and walking all of /tmp after every
    # step costs more than the step. grade.py sweeps in depth afterwards.
    find ${uid:+/tmp /var/tmp /dev/shm} "$LAB_TMP" -xdev -mindepth 1 -maxdepth 1 \
        \( -path "$LAB_TMP/*" -type f -size +1M -delete \) -o \
        \( ! -path "$LAB_TMP/*" -user "${uid:-0}" -print -exec rm -rf {} + \) \
        >"$LAB_TMP/swept" 2>/dev/null
    [ -s "$LAB_TMP/swept" ] &&
        lab_sandbox_log "removed $(head -n 20 "$LAB_TMP/swept" | tr '\n' ' ')"
    return 0
}

# Note what the sandbox had to clean up in LAB_SANDBOX_LOG (grade.py
# reports it), when it is set.
lab_sandbox_log() {
    [ -n "${LAB_SANDBOX_LOG:-}" ] && echo "step ${STEP:-?}: $*" >>"$LAB_SANDBOX_LOG"
    return 0
}

# ---------------------------------------------------------------- processes, polling, the clock

# Wait up to 2 s for process group $1 to be empty; returns 1 if it is not.
# (Waits count wall-clock microseconds, ${EPOCHREALTIME//[!0-9]/}, not
# polls, so they keep their bound when a runaway program slows us down.)
lab_wait_gone() {
    local end=$((${EPOCHREALTIME//[!0-9]/} + 2000000)) nap=1
    while :; do
        # kill -0 is a builtin: no fork per poll. The group's members are
        # our children, reaped by bash as they die, so no zombie lingers.
        kill -0 -- "-$1" 2>/dev/null || return 0
        [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ] || return 1
        lab_nap $nap
        [ $nap -ge 16 ] || nap=$((nap * 2))
    done
}

# Is process $1 still running (not gone, not a zombie)?
lab_alive() {
    local stat
    # Builtins only: this runs in every polling loop. The state follows
    # the command name's closing parenthesis in /proc/PID/stat.
    IFS= read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    [ -n "$stat" ] && [ "${stat:0:1}" != Z ]
}

# Sleep N milliseconds without a fork: read with a time-out on a fifo
# nothing writes to.
lab_nap() {
    if [ -z "${LAB_TICK:-}" ]; then
        # One fifo for the run's steps (nothing is ever written to it).
        local fifo=${BATS_RUN_TMPDIR:-$LAB_TMP}/.tick
        [ -p "$fifo" ] || mkfifo "$fifo" 2>/dev/null
        exec {LAB_TICK}<>"$fifo" || { sleep "0.0$1"; return 0; }
    fi
    local t
    printf -v t '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
    read -r -t "$t" -u "$LAB_TICK" 2>/dev/null || :
    return 0
}

# Collect the exit status of our child $1 (already exited) into LAB_REAPED.
lab_reap() {
    # `|| ...` keeps a non-zero status from failing the step under set -e.
    LAB_REAPED=0
    wait "$1" 2>/dev/null || LAB_REAPED=$?
}

# Wait up to $2 seconds (default 3) until the shell command $1 succeeds;
# returns 1 if it never did.
lab_wait_for() {
    local end=$((${EPOCHREALTIME//[!0-9]/} + ${2:-3} * 1000000))
    while :; do
        eval "$1" && return 0
        [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ] || return 1
        lab_nap 20 # polling with a deadline
    done
}

# Run command ARGS in the background, bounded, in its own process group
# (killed at teardown); output in $LAB_TMP/bg.out. Sets BG_PID.
lab_bg() {
    setsid timeout -k 1 10 "$@" >"$LAB_TMP/bg.out" 2>&1 </dev/null 3>&- &
    BG_PID=$!
    LAB_PGIDS+=("$BG_PID")
}

# Count the open fds, threads and CPU clock ticks of process $1.
proc_fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

proc_thread_count() { ls "/proc/$1/task" 2>/dev/null | wc -l; }

proc_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }

# Print the milliseconds the threads of process $1 have been runnable: on
# a CPU or waiting for one (/proc/PID/task/*/schedstat). A busy loop is
# runnable all the time however loaded the machine, where its share of
# CPU ticks shrinks; a process that sleeps in a wait is not runnable.
proc_runnable_ms() {
    local f run wait rest total=0
    for f in /proc/"$1"/task/*/schedstat; do
        read -r run wait rest 2>/dev/null <"$f" || continue
        total=$((total + run + wait))
    done
    [ -e "/proc/$1" ] || return 1
    echo $((total / 1000000))
}

# Read the monotonic clock (/proc/uptime, 0.01 s steps, no fork) into
# LAB_CLOCK, in hundredths of a second.
lab_clock() {
    local up
    read -r up _ </proc/uptime
    LAB_CLOCK=$((10#${up/./}))
}

# Print seconds $1 (like 1.5) in hundredths of a second.
lab_centis() {
    local int=${1%%.*} frac=0
    [[ $1 == *.* ]] && frac=${1#*.}
    frac=${frac}00
    echo $((10#${int:-0} * 100 + 10#${frac:0:2}))
}
