#!/usr/bin/env python3
"""server.py - lesson 03's threaded echo server in Python, beside server.c.

Same command line and output as the C program: the main thread accepts,
each client gets a thread that echoes until a line "bye" or end-of-file,
and SIGTERM or Ctrl-C end the server with status 0. Python ignores
SIGPIPE for you (sendall raises BrokenPipeError instead).

usage: server.py [HOST [PORT]]    default 127.0.0.1 7788; PORT 0 = any free port
"""
import signal
import socket
import sys
import threading


def serve_client(conn, name):
    """Echo what the client sends until bye or end-of-file, then close."""
    line, how = b"", "hung up"
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
        except (ConnectionResetError, BrokenPipeError):
            how = "went away (connection reset)"
    print("%s: %s" % (name, how), flush=True)


def main():
    args = sys.argv[1:]
    if len(args) > 2 or (args and args[0].startswith("-")):
        print("usage: server [HOST [PORT]]", file=sys.stderr)
        sys.exit(2)
    host = args[0] if args else "127.0.0.1"
    port = int(args[1]) if len(args) > 1 else 7788
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
