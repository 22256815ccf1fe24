#!/usr/bin/env python3
"""server.py - lesson 05's echo server in Python, beside server.c.

Lesson 03's threaded server with --idle SECONDS: a client that sends
nothing for that long is dropped. conn.settimeout() is SO_RCVTIMEO and
SO_SNDTIMEO underneath (Python waits with poll() instead).

usage: server.py [--idle SECONDS] [HOST [PORT]]    default 127.0.0.1 8080
"""
import signal
import socket
import sys
import threading


IDLE = None  # seconds, from --idle


def serve_client(conn, name):
    """Echo what the client sends until bye, end-of-file or --idle seconds
    of silence, then close."""
    line, how = b"", "hung up"
    conn.settimeout(IDLE)
    with conn:
        try:
            while True:
                data = conn.recv(1024)
                if not data:
                    break
                print("%s: received %d bytes" % (name, len(data)), flush=True)
                echo = data
                for i, byte in enumerate(data):
                    if byte == ord("\n"):
                        if line.rstrip(b"\r") == b"bye":
                            echo, how = data[:i + 1], "said bye"
                            break
                        line = b""
                    elif len(line) < 5:
                        line += bytes([byte])
                conn.sendall(echo)
                if how == "said bye":
                    break
        except socket.timeout:
            print("dropped idle client %s" % name, flush=True)
            return
        except (ConnectionResetError, BrokenPipeError):
            how = "went away (connection reset)"
    print("%s: %s" % (name, how), flush=True)


def main():
    global IDLE
    args = sys.argv[1:]
    if args[:1] == ["--idle"]:
        try:
            IDLE = float(args[1])
            assert IDLE > 0
        except (IndexError, ValueError, AssertionError):
            print("server: bad idle time (seconds > 0)", file=sys.stderr)
            sys.exit(2)
        args = args[2:]
    if len(args) > 2 or (args and args[0].startswith("-")):
        print("usage: server [--idle SECONDS] [HOST [PORT]]", file=sys.stderr)
        sys.exit(2)
    host = args[0] if args else "127.0.0.1"
    port = int(args[1]) if len(args) > 1 else 8080
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as e:
        print("server: bind %s:%d: %s" % (host, port, e.strerror),
              file=sys.stderr)
        sys.exit(1)
    listener.listen(64)
    print("listening on %s:%d" % (host, listener.getsockname()[1]), flush=True)
    # SIGTERM and Ctrl-C: shutdown() wakes accept(), as in the C program.
    def stop(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            conn, (ip, peer_port) = listener.accept()
            name = "%s:%d" % (ip, peer_port)
            print("connection from %s" % name, flush=True)
            # daemon: like a detached thread, nobody joins it, and it does
            # not keep the process alive at exit
            threading.Thread(target=serve_client, args=(conn, name),
                             daemon=True).start()
    except KeyboardInterrupt:
        print("shutting down", flush=True)
    listener.close()


if __name__ == "__main__":
    main()
