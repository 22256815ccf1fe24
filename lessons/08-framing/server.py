#!/usr/bin/env python3
"""server.py - lesson 08's framed echo server in Python: same command line,
same output as server.c.

Each message is a frame: a 4-byte length in network byte order, then the
payload. Every frame is sent back framed; a thread per client; a length
over MAX_FRAME is refused before anything is allocated; SIGUSR1 prints how
many frames were echoed.

usage: server.py [HOST [PORT]]    default 127.0.0.1 8080; PORT 0 = any free port
"""

import signal
import socket
import struct
import sys
import threading

MAX_FRAME = 1024 * 1024 + 1024  # largest payload: 1 MiB + 1 KiB
frames_echoed = 0
counter_lock = threading.Lock()  # "+=" from many threads is not atomic


def recv_all(sock, length):
    """Receive exactly length bytes; fewer if the peer closed first.
    (Python retries recv() after EINTR by itself, PEP 475.)"""
    data = bytearray()
    while len(data) < length:
        chunk = sock.recv(min(length - len(data), 1 << 20))
        if not chunk:
            break  # end-of-file: the caller sees a short result
        data += chunk
    return bytes(data)


def read_frame(sock, name):
    """Return the next frame's payload, None at a clean end; raise
    ValueError with the reason when it is cut short or too long."""
    header = recv_all(sock, 4)
    if not header:
        return None
    if len(header) < 4:
        raise ValueError("%s closed the connection in the middle of a frame "
                         "(%d of 4 bytes of its length)" % (name, len(header)))
    (length,) = struct.unpack("!I", header)  # "!": network byte order
    if length > MAX_FRAME:
        raise ValueError("%s sent a frame length of %d bytes, over the limit "
                         "of %d: closing the connection" % (name, length,
                                                            MAX_FRAME))
    payload = recv_all(sock, length)
    if len(payload) < length:
        raise ValueError("%s closed the connection in the middle of a frame "
                         "(%d of %d bytes of its payload)" % (
                             name, len(payload), length))
    return payload


def serve_client(conn, name):
    """Echo the frames of one client until it leaves, then close it."""
    global frames_echoed
    how = "hung up"
    with conn:
        try:
            while True:
                payload = read_frame(conn, name)
                if payload is None:
                    break
                # sendall() is send_all(): it loops until all is sent.
                conn.sendall(struct.pack("!I", len(payload)) + payload)
                with counter_lock:
                    frames_echoed += 1
        except ValueError as e:
            print("server: %s" % e, file=sys.stderr, flush=True)
            how = "connection closed"
        except OSError as e:
            print("server: recv %s: %s" % (name, e.strerror), file=sys.stderr,
                  flush=True)
            how = "connection closed"
    print("%s: %s" % (name, how), flush=True)


def stop(signum, frame):
    """SIGTERM: stop like Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv):
    if len(argv) > 3 or (len(argv) > 1 and argv[1].startswith("-")):
        print("usage: server.py [HOST [PORT]]", file=sys.stderr)
        return 2
    host = argv[1] if len(argv) > 1 else "127.0.0.1"
    port = argv[2] if len(argv) > 2 else "8080"
    if not port.isdigit() or int(port) > 65535:
        print("server: bad port '%s' (0-65535)" % port, file=sys.stderr)
        print("usage: server.py [HOST [PORT]]", file=sys.stderr)
        return 2
    signal.signal(signal.SIGUSR1, lambda *_: print(
        "server: %d frames echoed" % frames_echoed, flush=True))
    signal.signal(signal.SIGTERM, stop)
    try:
        listener = socket.create_server((host, int(port)), backlog=64)
    except socket.gaierror as e:
        print("server: getaddrinfo %s:%s: %s" % (host, port, e.strerror),
              file=sys.stderr)
        return 1
    except OSError as e:
        print("server: bind %s:%s: %s" % (host, port, e.strerror),
              file=sys.stderr)
        return 1
    ip, real_port = listener.getsockname()[:2]
    print("listening on %s:%d" % (ip, real_port), flush=True)
    try:
        while True:
            conn, peer = listener.accept()
            name = "%s:%d" % peer[:2]
            print("connection from %s" % name, flush=True)
            threading.Thread(target=serve_client, args=(conn, name),
                             daemon=True).start()
    except KeyboardInterrupt:
        print("shutting down", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
