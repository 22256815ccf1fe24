#!/usr/bin/env python3
"""client.py - lesson 07 in Python: the same command line and output as
client.c, so you can see which C calls each Python call wraps.

usage: client.py --whoami | --lookup NAME | --service NAME[/PROTO]
                 | --reverse ADDRESS
       client.py [HOST [PORT]]    default 127.0.0.1 8080
"""
import os
import selectors
import socket
import sys

USAGE = ("usage: client --whoami | --lookup NAME | --service NAME[/PROTO] | "
         "--reverse ADDRESS\n       client [HOST [PORT]]\n")
TYPES = {socket.SOCK_STREAM: "stream", socket.SOCK_DGRAM: "dgram",
         socket.SOCK_RAW: "raw"}
FAMILIES = {socket.AF_INET: "IPv4", socket.AF_INET6: "IPv6"}


def fail(message):
    """Print one error line and exit 1."""
    sys.stderr.write("client: %s\n" % message)
    sys.exit(1)


def whoami():
    """gethostname(), then getaddrinfo() with AI_CANONNAME (hostname -f).
    (socket.getfqdn() asks gethostbyaddr() instead: not the same answer.)"""
    name = socket.gethostname()
    print("hostname: %s" % name)
    try:
        canon = socket.getaddrinfo(name, None, 0, 0, 0, socket.AI_CANONNAME)
    except socket.gaierror as e:
        fail("getaddrinfo %s: %s" % (name, e.strerror))
    print("fqdn: %s" % canon[0][3])


def lookup(name):
    """Every address of name, as getent ahosts asks for them."""
    try:
        results = socket.getaddrinfo(
            name, None, 0, 0, 0, socket.AI_CANONNAME | socket.AI_ADDRCONFIG)
    except socket.gaierror as e:
        fail("getaddrinfo %s: %s" % (name, e.strerror))
    if results[0][3]:
        print("canonical name: %s" % results[0][3])
    for family, socktype, _, _, addr in results:
        text, _ = socket.getnameinfo(addr, socket.NI_NUMERICHOST |
                                     socket.NI_NUMERICSERV)
        print("%-4s  %-6s  %s" % (FAMILIES.get(family, "other"),
                                  TYPES.get(socktype, "other"), text))


def service(arg):
    """The port of NAME[/PROTO], as getent services prints it. Python
    hides the servent (and its ntohs): it returns the port alone."""
    name, _, proto = arg.partition("/")
    for p in [proto] if proto else ["tcp", "udp"]:
        try:
            port = socket.getservbyname(name, p)
        except OSError:
            continue
        # Simplification: the name as asked, no aliases (Python gives
        # neither the entry's own name nor its aliases).
        print("%-21s %d/%s" % (name, port, p))
        return
    fail("getservbyname %s: unknown service" % arg)


def reverse(text):
    """The name of a numeric address; an address with no name is an error."""
    try:
        addr = socket.getaddrinfo(text, None, 0, 0, 0,
                                  socket.AI_NUMERICHOST)[0][4]
        name, _ = socket.getnameinfo(addr, socket.NI_NAMEREQD)
    except socket.gaierror as e:
        fail("getnameinfo %s: %s" % (text, e.strerror))
    print(name)


def connect_to(host, port):
    """Try each stream address of host:port in turn (what
    socket.create_connection() does for you)."""
    try:
        results = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0,
                                     socket.AI_ADDRCONFIG)
    except socket.gaierror as e:
        fail("getaddrinfo %s:%s: %s" % (host, port, e.strerror))
    error = None
    for family, socktype, proto, _, addr in results:
        sock = socket.socket(family, socktype, proto)
        try:
            sock.connect(addr)
            return sock
        except OSError as e:
            error = e
            sock.close()
    fail("connect %s:%s: %s" % (host, port, error.strerror))


def talk(sock):
    """Lesson 06's loop: typed bytes go out, the server's bytes are
    printed as they come, end of input half-closes."""
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(sys.stdin.fileno(), selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is sock:
                data = sock.recv(4096)
                if not data:
                    return
                os.write(1, data)
            else:
                data = os.read(sys.stdin.fileno(), 4096)
                if data:
                    sock.sendall(data)
                else:
                    sel.unregister(sys.stdin.fileno())
                    sock.shutdown(socket.SHUT_WR)


def main(argv):
    questions = {"--lookup": lookup, "--service": service,
                 "--reverse": reverse}
    if argv[1:] == ["--whoami"]:
        return whoami()
    if len(argv) > 1 and argv[1].startswith("-"):
        if len(argv) != 3 or argv[1] not in questions:
            sys.stderr.write(USAGE)
            sys.exit(2)
        return questions[argv[1]](argv[2])
    if len(argv) > 3:
        sys.stderr.write(USAGE)
        sys.exit(2)
    host = argv[1] if len(argv) > 1 else "127.0.0.1"
    port = argv[2] if len(argv) > 2 else "8080"
    with connect_to(host, port) as sock:
        talk(sock)


if __name__ == "__main__":
    main(sys.argv)
