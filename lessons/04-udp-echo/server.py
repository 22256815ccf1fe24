#!/usr/bin/env python3
"""server.py - lesson 04's UDP echo server in Python, beside server.c.

Same command line and output as the C program: every datagram goes back to
the address it came from, until SIGTERM or Ctrl-C (exit 0).

usage: server.py [HOST [PORT]]    default 127.0.0.1 9999; PORT 0 = any free port
"""
import signal
import socket
import sys


def main():
    args = sys.argv[1:]
    if len(args) > 2 or (args and args[0].startswith("-")):
        print("usage: server [HOST [PORT]]", file=sys.stderr)
        sys.exit(2)
    host = args[0] if args else "127.0.0.1"
    port = int(args[1]) if len(args) > 1 else 9999
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # no listen, no accept
    try:
        sock.bind((host, port))
    except OSError as e:
        print("server: bind %s:%d: %s" % (host, port, e.strerror),
              file=sys.stderr)
        sys.exit(1)
    print("listening on %s:%d" % (host, sock.getsockname()[1]), flush=True)
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(0))
    try:
        while True:
            data, (ip, peer_port) = sock.recvfrom(65535)  # one whole datagram
            who = "%s:%d" % (ip, peer_port)
            print("%d bytes from %s" % (len(data), who), flush=True)
            try:
                sock.sendto(data, (ip, peer_port))        # back to its sender
            except OSError as e:
                print("server: sendto %s: %s" % (who, e.strerror),
                      file=sys.stderr)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
