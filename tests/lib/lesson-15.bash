# lesson-15.bash - helpers only lesson 15 (chat) uses; its tests load it
# after lib/common.
#
#   chat_sock_dir          a folder the sandboxed server may create its admin
#                          socket in; sets SOCK_DIR (removed by chat_cleanup)
#   start_chat_peer NAME ARGS  a harness client peer in the background, waiting
#                          for its `holding` line; sets CHAT_PEER_PID and
#                          CHAT_PEER_OUT
#   wait_chat_peer S WHY   wait for that peer to exit satisfied
#   wait_fd_count N S WHY  wait for the server to hold at most N fds

# Make SOCK_DIR under /tmp (the test's own folder is closed to the sandbox
# uid), writable by anyone, sticky.
chat_sock_dir() {
    SOCK_DIR=$(mktemp -d /tmp/socklab-chat.XXXXXX) || return 1
    chmod 1777 "$SOCK_DIR"
}

# Remove SOCK_DIR, if any (teardown).
chat_cleanup() {
    [ -n "${SOCK_DIR:-}" ] && rm -rf "$SOCK_DIR"
    return 0
}

# Start harness client peer NAME with ARGS against the server, in the
# background, and wait for its "holding" line.
start_chat_peer() {
    local name=$1
    shift
    CHAT_PEER_OUT=$LAB_TMP/peer-$name.out
    LAB_REPRO+=("tests/harness/peer.py $name --port $SERVER_PORT $(lab_args "$@") &")
    : >"$CHAT_PEER_OUT"
    setsid "${PEER[@]}" "$name" --host "$SERVER_HOST" --port "$SERVER_PORT" \
        "$@" </dev/null >>"$CHAT_PEER_OUT" 2>&1 3>&- &
    CHAT_PEER_PID=$!
    LAB_PGIDS+=("$CHAT_PEER_PID")
    local end=$((${EPOCHREALTIME//[!0-9]/} + 5000000))
    while [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
        grep -q '^holding' "$CHAT_PEER_OUT" 2>/dev/null && return 0
        lab_alive "$CHAT_PEER_PID" || break
        lab_nap 20 # polling for the ready line, with a deadline
    done
    lab_fail "the harness peer '$name' could not get its clients into the room:
$(tail -n 3 "$CHAT_PEER_OUT")" \
        "each client's first line is its nickname, answered \"* you are NICK\" (step 1), and the others hear \"* NICK joined\" (step 2)"
}

# Wait up to $1 seconds for the background peer to exit; fail with its
# transcript and $2 unless it exited satisfied.
wait_chat_peer() {
    local end=$((${EPOCHREALTIME//[!0-9]/} + $1 * 1000000))
    while lab_alive "$CHAT_PEER_PID" && [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
        lab_nap 20 # polling for the peer's verdict, with a deadline
    done
    if lab_alive "$CHAT_PEER_PID"; then
        lab_fail "the harness clients were still waiting $1 s later:
$(tail -n 5 "$CHAT_PEER_OUT")" "$2"
        return 1
    fi
    lab_reap "$CHAT_PEER_PID"
    [ "$LAB_REAPED" -eq 0 ] && return 0
    lab_fail "$(tail -n 8 "$CHAT_PEER_OUT")" "$2"
}

# Wait up to $2 seconds for the server to hold no more than $1 open fds;
# fail with the count and $3.
wait_fd_count() {
    local want=$1 secs=$2 now
    local end=$((${EPOCHREALTIME//[!0-9]/} + secs * 1000000))
    while :; do
        now=$(proc_fd_count "$SERVER_PID")
        [ "$now" -le "$want" ] && return 0
        [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ] || break
        lab_nap 20 # polling for the fds to be closed, with a deadline
    done
    lab_fail "the server still has $now open fds ${secs} s after its clients left; it had $want before they came" \
        "$3"
}

# Wait up to 3 s for the server's line "admin on $1"; fail if it exits or
# never says it.
wait_admin_line() {
    local end=$((${EPOCHREALTIME//[!0-9]/} + 3000000))
    while [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ]; do
        grep -qxF "admin on $1" "$LAB_TMP/server.out" 2>/dev/null && return 0
        lab_alive "$SERVER_PID" || break
        lab_nap 20 # polling for the admin line, with a deadline
    done
    expect_server_running "with --admin PATH the server opens the admin socket (step 8) and goes on serving" || return 1
    lab_fail "the server never printed \"admin on $1\"" \
        "step 8: after listen() on the Unix socket, print \"admin on PATH\" and flush"
}
