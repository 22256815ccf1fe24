# lesson-07.bash - what tests/07-names.bats and tests/docs/07-names.bats
# share: the machine's own answers to the questions the lesson's programs
# answer (getent, hostname, and the resolver's messages through Python),
# asked in the same test, so nothing depends on what a name resolves to
# on this machine or on outside DNS.

# A lookup that has to ask DNS (a name that is nowhere in /etc/hosts) gives
# up after one second and one try, instead of glibc's 5 s times 2: the
# machines running these tests are offline. glibc reads RES_OPTIONS from the
# environment, and the programs under test inherit it.
export RES_OPTIONS="timeout:1 attempts:1"

# A name that exists nowhere: .invalid is reserved for that (RFC 6761).
NO_SUCH_HOST=no-such-host.invalid
NO_SUCH_SERVICE=no-such-service

# Print what `client --lookup NAME` must print, from `getent ahosts NAME`:
# "canonical name: CANON", then "FAMILY  TYPE  ADDRESS" for each address.
# Returns 1 (printing nothing) when getent does not know the name.
expected_lookup() {
    local out
    out=$(getent ahosts "$1") || return 1
    awk 'NR == 1 && $3 != "" { print "canonical name: " $3 }
        { printf "%-4s  %-6s  %s\n", (index($1, ":") ? "IPv6" : "IPv4"), tolower($2), $1 }' <<<"$out"
}

# Print the stream (TCP) addresses of name $1, one a line, as getent
# ahosts lists them.
stream_addresses() {
    getent ahosts "$1" | awk '$2 == "STREAM" { print $1 }'
}

# Print the resolver's own message (gai_strerror's text) for a question,
# asked with the same flags as the lesson's programs; returns 1, printing
# nothing, when the question has an answer. $1 is the question:
#   lookup NAME           getaddrinfo(NAME), AI_CANONNAME | AI_ADDRCONFIG
#   canon NAME            getaddrinfo(NAME), AI_CANONNAME (hostname -f)
#   connect NAME SERVICE  getaddrinfo(NAME, SERVICE), a stream socket
#   listen NAME SERVICE   the same with AI_PASSIVE
#   reverse ADDRESS       getnameinfo(ADDRESS), NI_NAMEREQD
resolver_message() {
    "$LAB_PYTHON" -S - "$@" <<'PY'
import socket, sys
kind, name = sys.argv[1], sys.argv[2]
service = sys.argv[3] if len(sys.argv) > 3 else None
S = socket
try:
    if kind == "lookup":
        S.getaddrinfo(name, None, 0, 0, 0, S.AI_CANONNAME | S.AI_ADDRCONFIG)
    elif kind == "canon":
        S.getaddrinfo(name, None, 0, 0, 0, S.AI_CANONNAME)
    elif kind == "connect":
        S.getaddrinfo(name, service, 0, S.SOCK_STREAM, 0, S.AI_ADDRCONFIG)
    elif kind == "listen":
        S.getaddrinfo(name, service, 0, S.SOCK_STREAM, 0,
                      S.AI_PASSIVE | S.AI_ADDRCONFIG)
    elif kind == "reverse":
        S.getnameinfo((name, 0), S.NI_NAMEREQD)
except OSError as e:
    print(e.strerror or e)
    sys.exit(0)
sys.exit(1)
PY
}

# Print "NAME PORT" of a TCP service of /etc/services above 1024 that
# nothing listens on at 127.0.0.1, or nothing when there is none.
free_named_service() {
    "$LAB_PYTHON" -S - <<'PY'
import socket, subprocess
out = subprocess.run(["getent", "services"], capture_output=True, text=True).stdout
for line in out.splitlines():
    fields = line.split()
    if len(fields) < 2 or not fields[1].endswith("/tcp"):
        continue
    name, port = fields[0], int(fields[1].split("/")[0])
    if port <= 1024 or not name.replace("-", "").isalnum():
        continue
    try:
        if socket.getservbyname(name, "tcp") != port:
            continue
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(name, port)
    break
PY
}
