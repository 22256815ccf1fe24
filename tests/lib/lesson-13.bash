# lesson-13.bash - what tests/13-ipv6.bats and tests/docs/13-ipv6.bats
# share: what this machine can do with IPv6, and the steps' skips with
# their reasons, so a machine without ::1 (some containers) or a run
# outside a private network namespace skips a step instead of failing it.

# Ask this machine once per test file (one Python start, not one per
# question) what it can do with IPv6; later steps read the answers from
# a file. Sets LAB13_V6 (1: IPv6 sockets work), LAB13_V6LO (1: ::1 can be
# bound) and LAB13_LOCALHOST (localhost's stream addresses, in order).
ipv6_facts() {
    local facts=${BATS_FILE_TMPDIR:-$LAB_TMP}/ipv6-facts
    if [ ! -s "$facts" ]; then
        "$LAB_PYTHON" -S - >"$facts.new" 2>/dev/null <<'PY'
import socket
v6 = v6lo = 0
try:
    with socket.socket(socket.AF_INET6) as s:
        v6 = 1
        s.bind(("::1", 0))
        v6lo = 1
except OSError:
    pass
seen = []
try:
    for *_, addr in socket.getaddrinfo("localhost", 80, 0, socket.SOCK_STREAM):
        if addr[0] not in seen:
            seen.append(addr[0])
except OSError:
    pass
print("LAB13_V6=%d LAB13_V6LO=%d LAB13_LOCALHOST='%s'" % (v6, v6lo, " ".join(seen)))
PY
        mv "$facts.new" "$facts"
    fi
    eval "$(cat "$facts")"
}

# Can this machine make IPv6 sockets at all?
has_ipv6() {
    ipv6_facts
    [ "$LAB13_V6" = 1 ]
}

# Can this machine bind the IPv6 loopback address ::1?
has_ipv6_loopback() {
    ipv6_facts
    [ "$LAB13_V6LO" = 1 ]
}

# Skip the step unless IPv6 sockets exist here.
need_ipv6() {
    has_ipv6 || skip "this machine has no IPv6 (socket(AF_INET6) fails): the kernel was built or booted without it"
}

# Skip the step unless ::1 can be bound here.
need_ipv6_loopback() {
    has_ipv6_loopback || skip "this machine has no IPv6 loopback (::1): 'ip -6 addr show lo' lists none (some containers run without it)"
}

# Are we in a network namespace of our own, where lo is the only
# interface? Only there may a test bind "::", every interface: here
# every interface is loopback, so nothing is exposed off the machine.
in_private_netns() {
    local links
    links=$(ip -o link show 2>/dev/null) || return 1
    [ -n "$links" ] && [ "$(grep -c '' <<<"$links")" -eq 1 ] &&
        [[ $links == *": lo:"* ]]
}

# Skip the step unless we are in a private network namespace.
need_private_netns() {
    in_private_netns || skip "it binds :: (every interface) and this machine has interfaces besides lo, so it runs only in a private network namespace: 'make check' as root gives one (see the README, Run it by hand)"
}

# Print the distinct addresses of stream sockets for name $1, in
# getaddrinfo()'s order (AF_UNSPEC, no AI_ADDRCONFIG, as the client asks),
# one a line. $2..: a command prefix to run the lookup under.
lookup_stream() {
    local name=$1
    shift
    "$@" "$LAB_PYTHON" -S -c 'import socket, sys
seen = []
for *_, addr in socket.getaddrinfo(sys.argv[1], 80, 0, socket.SOCK_STREAM):
    if addr[0] not in seen:
        seen.append(addr[0])
print("\n".join(seen))' "$name" 2>/dev/null
}

# Make sure `localhost`, as the client under test resolves it, has two
# addresses, ::1 and 127.0.0.1 (in either order): where it already does,
# nothing changes; else, as root, the client runs in a mount namespace of
# its own where /etc/hosts has both. Sets DUAL_FIRST and DUAL_SECOND, in
# the order the client will try them. Skips the step with the reason
# when neither can be.
use_dual_localhost() {
    need_ipv6_loopback
    local addrs=${LAB13_LOCALHOST// /$'\n'}
    if [ "$(sort <<<"$addrs" | tr '\n' ' ')" = "127.0.0.1 ::1 " ]; then
        DUAL_FIRST=${addrs%%$'\n'*} DUAL_SECOND=${addrs#*$'\n'}
        return 0
    fi
    local hosts=$LAB_TMP/hosts prefix
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$hosts"
    chmod 644 "$hosts"
    # $0 of the little script is the file to mount over /etc/hosts.
    prefix=(unshare --mount -- sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$hosts")
    local cached=${BATS_FILE_TMPDIR:-$LAB_TMP}/private-localhost
    if [ "$(id -u)" -eq 0 ] && [ ! -e "$cached" ]; then
        lookup_stream localhost "${prefix[@]}" >"$cached" || : >"$cached"
    fi
    if [ "$(id -u)" -eq 0 ] && addrs=$(cat "$cached") &&
        [ "$(sort <<<"$addrs" | tr '\n' ' ')" = "127.0.0.1 ::1 " ]; then
        DUAL_FIRST=${addrs%%$'\n'*} DUAL_SECOND=${addrs#*$'\n'}
        LAB_SANDBOX=("${prefix[@]}" "${LAB_SANDBOX[@]}")
        LAB_REPRO+=("# first: localhost must be both ::1 and 127.0.0.1: add '::1 localhost' to /etc/hosts (the test gave the client a private copy)")
        return 0
    fi
    local how="or run 'make check' as root (the test then gives the client a private /etc/hosts)"
    [ "$(id -u)" -eq 0 ] && how="a private copy of /etc/hosts could not be mounted here (unshare --mount failed)"
    skip "localhost is only ${LAB13_LOCALHOST:-unknown} on this machine, and trying the next address needs two: add '::1 localhost' to /etc/hosts; $how"
}

# Fail unless the client's stderr is exactly one line matching the
# extended regex $1; $2: the usual causes. (Like common.bash's
# expect_client_error, but also when stderr is empty.)
expect_client_said() {
    local lines=0
    [ -s "$CLIENT_ERR" ] && lines=$(grep -c '' "$CLIENT_ERR")
    if [[ $stderr =~ $1 ]] && [ "$lines" -eq 1 ]; then
        return 0
    fi
    lab_fail "the client's messages are not what a user should see
  expected one line matching: $1
  stderr was: $(lab_escape_file "$CLIENT_ERR")" "$2"
}

# Fail unless the client's stderr names DUAL_FIRST, the address it must
# try first: a client that never looked the name up never tried it.
never_tried_first() {
    grep -qF -- "$DUAL_FIRST:" "$CLIENT_ERR" && return 0
    lab_fail "the client never said a word about $DUAL_FIRST, the first address of localhost here (then $DUAL_SECOND): it did not try it, or failed it in silence (say each address in numbers)" \
        "resolve HOST and PORT with getaddrinfo() (AF_UNSPEC, SOCK_STREAM, no AI_ADDRCONFIG) and try each result in order, saying why each that failed failed"
}

# start_server ARGS..., and when the server does not start listening, add
# the usual causes $1 to the transcript.
start_server_why() {
    local why=$1
    shift
    start_server "$@" 2>"$LAB_TMP/start.err" && return 0
    cat "$LAB_TMP/start.err" >&2
    echo "  likely cause: $why" >&2
    return 1
}

# start_server_why $1 ARGS... while this private network namespace makes
# new IPv6 sockets IPv6 only by default, as the BSDs and Windows do
# (net.ipv6.bindv6only = 1). The kernel reads the setting when a socket
# is made, so the old value is put back as soon as the server listens
# (and by teardown, whatever happens). Skips where it cannot be changed.
start_server_ipv6_only_default() {
    local knob=/proc/sys/net/ipv6/bindv6only rc=0
    LAB13_BINDV6ONLY_WAS=$(cat "$knob" 2>/dev/null) &&
        { echo 1 >"$knob"; } 2>/dev/null ||
        skip "net.ipv6.bindv6only cannot be changed here ($knob): it takes root in the test's own network namespace"
    LAB_REPRO+=("# first, in a private network namespace: sysctl -w net.ipv6.bindv6only=1 (IPv6 only by default, as on the BSDs)")
    start_server_why "$@" || rc=$?
    restore_bindv6only
    return "$rc"
}

# Put back net.ipv6.bindv6only as start_server_ipv6_only_default found it.
restore_bindv6only() {
    [ -n "${LAB13_BINDV6ONLY_WAS:-}" ] || return 0
    { echo "$LAB13_BINDV6ONLY_WAS" >/proc/sys/net/ipv6/bindv6only; } 2>/dev/null
    LAB13_BINDV6ONLY_WAS=''
}
