#!/usr/bin/env bats
# Lesson 07: names. One @test per step of lessons/07-names/README.md.
#
# What a name resolves to differs between machines (localhost may or may
# not have ::1, the machine's name may have any address), so every step
# asks this machine first, in the same test: `hostname`, `hostname -f`,
# `getent ahosts`, `getent services`, `getent hosts`, and the resolver's
# own messages through Python; the program must agree with them. Nothing
# needs outside DNS: the names are localhost, the machine's own name,
# numeric addresses and names under .invalid, which exist nowhere.

setup() {
    load 'lib/common'
    load 'lib/lesson-07'
    lab_setup
}

teardown() {
    lab_teardown
}

# Fail unless the client exited 1 with nothing on stdout and one line on
# stderr that names $1 and ends with the resolver's message $2; $3: causes.
expect_resolver_error() {
    local name=$1 msg=$2 why=$3
    expect_client_status 1 "$why" || return 1
    [ -z "$output" ] ||
        lab_fail "the client printed $(lab_escape "$output") on stdout for a name the resolver does not know; expected nothing" "$why" ||
        return 1
    if [[ $stderr != *"$name"* || $stderr != *": $msg" ]]; then
        lab_fail "the error message is not the resolver's own
  expected one line naming $name and ending with: $msg" "$why"
        return 1
    fi
    expect_client_error '.' "$why"
}

@test "step 1: --whoami prints this machine's host name, as hostname does" {
    local name
    name=$(hostname)
    run_client --whoami
    local first=${output%%$'\n'*}
    [ "$first" = "hostname: $name" ] ||
        lab_fail "the first line should be $(lab_escape "hostname: $name") (what \`hostname\` says); it was $(lab_escape "$first")" \
            "gethostname(name, sizeof name) fills the buffer you pass it with the name; print it as 'hostname: NAME'"
}

@test "step 2: --whoami prints the fully qualified name, as hostname -f does" {
    local name fqdn why
    name=$(hostname)
    why="getaddrinfo(name, NULL, &hints, &res) with hints.ai_flags = AI_CANONNAME; res->ai_canonname is the full name (only the first result has it); then freeaddrinfo(res)"
    run_client --whoami
    if fqdn=$(hostname -f 2>/dev/null); then
        expect_client_stdout "hostname: $name\nfqdn: $fqdn\n" "$why" || return 1
        expect_client_status 0 "$why"
    else
        # This machine's name does not resolve: the resolver's message.
        local msg
        msg=$(resolver_message canon "$name")
        expect_client_status 1 "$why" || return 1
        [[ $stderr == *": $msg" ]] ||
            lab_fail "hostname -f fails here; expected the resolver's message ending with: $msg" \
                "report getaddrinfo's error with gai_strerror(err)"
    fi
}

@test "step 3: --lookup lists every address, family and socket type, as getent ahosts" {
    local name names=(localhost "$(hostname)" 127.0.0.1 ::1) tried=0
    for name in "${names[@]}"; do
        # Only the names this machine knows: the others are step 4's.
        expected_lookup "$name" >"$LAB_TMP/expected.txt" || continue
        tried=$((tried + 1))
        run_client --lookup "$name"
        expect_client_stdout "$(cat "$LAB_TMP/expected.txt")\n" \
            "getaddrinfo(name, NULL, &hints, &res) with ai_family AF_UNSPEC, ai_socktype 0 (every type: one line each for stream, dgram and raw) and AI_CANONNAME | AI_ADDRCONFIG, as getent ahosts asks; then walk the whole list (ai->ai_next) and print each address with getnameinfo(..., NI_NUMERICHOST)" ||
            return 1
        expect_client_status 0 || return 1
    done
    [ "$tried" -gt 0 ] || lab_fail "getent ahosts knows none of ${names[*]} here: this machine has no localhost?"
}

@test "step 4: an unknown name gets the resolver's own message and exit status 1" {
    local msg
    msg=$(resolver_message lookup "$NO_SUCH_HOST") ||
        skip "$NO_SUCH_HOST resolves on this machine"
    run_client --lookup "$NO_SUCH_HOST"
    expect_resolver_error "$NO_SUCH_HOST" "$msg" \
        "getaddrinfo() does not set errno: it returns an error code, and gai_strerror(code) says it in words (strerror(errno) only for EAI_SYSTEM); print one line and exit 1"
}

@test "step 5: --service prints a service's port, as getent services" {
    local svc why tried=0
    why="getservbyname(name, proto) (proto NULL when there is no /PROTO) returns the entry; s_port is in network byte order: ntohs() it before printing; print the aliases too"
    for svc in echo http/tcp domain/udp ssh; do
        getent services "$svc" >"$LAB_TMP/expected.txt" || continue
        tried=$((tried + 1))
        run_client --service "$svc"
        expect_client_stdout "$(cat "$LAB_TMP/expected.txt")\n" "$why" || return 1
        expect_client_status 0 "$why" || return 1
    done
    [ "$tried" -gt 0 ] || skip "no /etc/services here (install netbase)"
    run_client --service "$NO_SUCH_SERVICE/tcp"
    expect_client_status 1 "getservbyname() returns NULL for a service it does not know: say so in one line, exit 1" ||
        return 1
    expect_client_error "$NO_SUCH_SERVICE.*unknown service" \
        "print 'client: getservbyname NAME/PROTO: unknown service' and exit 1"
}

@test "step 6: --reverse finds the name of an address, and says when it has none" {
    local name why
    why="getaddrinfo(text, NULL, ...) with AI_NUMERICHOST makes the sockaddr; getnameinfo(sa, len, host, sizeof host, NULL, 0, NI_NAMEREQD) finds its name"
    name=$(getent hosts 127.0.0.1 | awk '{ print $2; exit }')
    if [ -n "$name" ]; then
        run_client --reverse 127.0.0.1
        expect_client_stdout "$name\n" "$why" || return 1
        expect_client_status 0 "$why" || return 1
    fi
    local nameless=127.3.4.5 msg
    msg=$(resolver_message reverse "$nameless") ||
        skip "$nameless has a name on this machine"
    run_client --reverse "$nameless"
    expect_resolver_error "$nameless" "$msg" \
        "without NI_NAMEREQD getnameinfo() answers an address that has no name with the address itself; with it, it fails: report gai_strerror(err) and exit 1"
}

@test "step 7: the server listens on a name and says which address it got" {
    local addrs why
    why="getaddrinfo(host, port, &hints, &res) with AI_PASSIVE and ai_socktype SOCK_STREAM; socket(ai_family, ...), bind(ai_addr, ai_addrlen) and listen() on the first result that works; print the address from getsockname() in numbers with getnameinfo(..., NI_NUMERICHOST | NI_NUMERICSERV)"
    addrs=$(stream_addresses localhost)
    start_server localhost 0 || return 1
    grep -qxF -- "$SERVER_HOST" <<<"$addrs" ||
        lab_fail "the server said 'listening on $SERVER_HOST:$SERVER_PORT'; expected one of the addresses of localhost, in numbers: $(echo $addrs)" \
            "$why" || return 1
    peer_ok --why "$why" echo-client --message 'hello by name\n' || return 1
    local msg
    msg=$(resolver_message listen "$NO_SUCH_HOST" 0) ||
        skip "$NO_SUCH_HOST resolves on this machine"
    run_server "$NO_SUCH_HOST" 0
    [ "$status" -eq 1 ] ||
        lab_fail "the server exited with $(lab_describe_status "$status") for an unknown host; expected status 1" \
            "a getaddrinfo() error is fatal: report it and exit 1" || return 1
    [[ $stderr == *"$NO_SUCH_HOST"*": $msg"* ]] ||
        lab_fail "expected the resolver's own message, naming $NO_SUCH_HOST and ending with: $msg" \
            "getaddrinfo() returns an error code: gai_strerror(code) says it in words"
}

@test "step 8: the client connects to a host name, and to a port given by its service name" {
    local why
    why="getaddrinfo(host, port, &hints, &res) with ai_socktype SOCK_STREAM (port may be a number or a service name); socket() and connect() on each result in turn until one connects; freeaddrinfo(res)"
    grep -qxF 127.0.0.1 <<<"$(stream_addresses localhost)" ||
        skip "localhost is not 127.0.0.1 on this machine"
    start_peer_server echo-server || return 1
    printf 'hello by name\n' >"$LAB_TMP/in"
    LAB_STDIN=$LAB_TMP/in run_client localhost "$PEER_PORT"
    expect_client_stdout 'hello by name\n' "$why" || return 1
    expect_client_status 0 "$why" || return 1
    local service port
    read -r service port < <(free_named_service)
    if [ -n "$service" ]; then
        start_peer_server echo-server --port "$port" || return 1
        printf 'hello, %s\n' "$service" >"$LAB_TMP/in"
        LAB_STDIN=$LAB_TMP/in run_client localhost "$service"
        expect_client_stdout "hello, $service\n" \
            "'$service' is port $port in /etc/services: pass the PORT text to getaddrinfo() as the service, and it looks it up (no atoi, no AI_NUMERICSERV)" ||
            return 1
        expect_client_status 0 || return 1
    fi
    local msg
    if msg=$(resolver_message connect "$NO_SUCH_HOST" 8080); then
        run_client "$NO_SUCH_HOST" 8080
        expect_resolver_error "$NO_SUCH_HOST" "$msg" \
            "report getaddrinfo()'s error with gai_strerror(err) and exit 1" ||
            return 1
    fi
    msg=$(resolver_message connect localhost "$NO_SUCH_SERVICE") || return 0
    run_client localhost "$NO_SUCH_SERVICE"
    expect_resolver_error "$NO_SUCH_SERVICE" "$msg" \
        "a service getaddrinfo() does not know is its error too: report gai_strerror(err), exit 1"
}
