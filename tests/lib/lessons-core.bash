# lessons-core.bash - diagnoses shared by the core lessons' tests (01-06):
# the classic C mistakes named in plain words. Load it after lib/common:
#
#   setup() { load 'lib/common'; load 'lib/lessons-core'; lab_setup; }
#
# Each lab_diagnose_* prints nothing when it recognises nothing, else one
# "  likely cause: ..." line per mistake, for a lab_fail CAUSE argument.

# Print port $1 with its two bytes swapped (what a missing htons/ntohs does).
lab_swap16() { echo $(((($1 & 255) << 8) | ($1 >> 8))); }

# Print a free TCP port P on 127.0.0.1 whose byte-swapped twin is free
# too, >= 1024 and different from P: the port a missing htons() shows up on.
lab_free_swappable_port() {
    "${PEER[@]}" free-swappable-port </dev/null
}

# Does something accept TCP connections on 127.0.0.1 port $1 (within 1 s)?
lab_port_open() {
    "${PEER[@]}" port-open --port "$1" </dev/null
}

# Name the classic mistakes that server stderr file $1 (default the
# server's) shows: sizeof a pointer, listen() forgotten, the listening
# socket used for data, htons() forgotten on a low port.
lab_diagnose_server_err() {
    local err=${1:-$LAB_TMP/server.err} out=''
    [ -s "$err" ] || return 0
    if grep -qa 'bind .*Invalid argument' "$err"; then
        out+="the address length passed to bind() is wrong: sizeof a pointer? Pass sizeof the struct sockaddr_in (sizeof *addr when addr is a pointer)"$'\n'
    fi
    if grep -qa 'bind .*Permission denied' "$err"; then
        out+="bind() was refused a port below 1024 the test never asked for: htons() forgotten when filling sin_port? (port bytes swapped)"$'\n'
    fi
    if grep -qa 'accept .*Invalid argument' "$err"; then
        out+="accept() failed with EINVAL: the socket is not listening. listen() forgotten (or its result not checked)?"$'\n'
    fi
    if grep -qaE '(recv|send) .*Transport endpoint is not connected' "$err"; then
        out+="recv() or send() on the listening socket: talk to the client on the new socket accept() returned"$'\n'
    fi
    printf '%s' "${out%$'\n'}"
}

# Why does nothing accept connections on the port the server printed ($1)?
# Prints a diagnosis (never empty).
lab_diagnose_unreachable() {
    local printed=$1 swapped
    swapped=$(lab_swap16 "$printed")
    local why
    why=$(lab_diagnose_server_err)
    if [ -n "$why" ]; then
        echo "$why"
    elif [ "$swapped" -ne "$printed" ] && lab_port_open "$swapped"; then
        echo "the server printed port $printed but listens on port $swapped, the same number with its two bytes swapped: ntohs() forgotten on the port getsockname() gave? (or htons() forgotten when filling sin_port)"
    else
        echo "the server printed 'listening on' but nothing accepts connections on port $printed: listen() forgotten, or the line printed before bind() and listen() succeeded, or not with the port from getsockname()"
    fi
}
