# lesson-15.bash - helpers only lesson 15 (chat) uses; its tests load it
# after lib/common.
#
#   chat_sock_dir          a folder the sandboxed server may create its admin
#                          socket in; sets SOCK_DIR (removed by chat_cleanup)
#   start_chat_peer NAME ARGS  start_peer_client with the room's likely cause
#                          (sets HOLD_PID, HOLD_OUT)

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
# background, and wait for its "holding" line: start_peer_client, naming
# what lets the clients into the room when they cannot get there.
start_chat_peer() {
    lab_start_holder "each client's first line is its nickname, answered \"* you are NICK\" (step 1), and the others hear \"* NICK joined\" (step 2)" "$@"
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
