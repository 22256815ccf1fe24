#!/usr/bin/env python3
"""server.py - lesson 12's web server in Python, on top of http.server.

The same command line, log and answers as server.c: GET / is 200 with
"Hello, client!" as text/html, HEAD / the same headers, other paths 404,
other methods 501, garbage 400; HTTP/1.1 keeps the connection open, and
a connection quiet for --idle seconds is closed. What server.c does by
hand, http.server does here: read_head (rfile.readline), parse_request,
keep-alive (close_connection), the thread per connection
(ThreadingHTTPServer) and the idle timeout (the handler's timeout).
Where they differ: http.server answers 414 to a huge request line, and
it does not insist on a Host header.

usage: server.py [--idle SECONDS] [HOST [PORT]]
       default 127.0.0.1 8000, idle 5 s; PORT 0 = any free port
"""

import http.server
import signal
import sys

PAGE = b"Hello, client!"
USAGE = "usage: server.py [--idle SECONDS] [HOST [PORT]]"


class Hello(http.server.BaseHTTPRequestHandler):
    """One connection: answers its requests one after another."""

    protocol_version = "HTTP/1.1"  # keep-alive unless the client says no
    timeout = 5.0                  # --idle: the socket's timeout

    def do_GET(self):
        if self.path.split("?", 1)[0] != "/":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        # close_connection: http.server's reading of Connection and the
        # version, made before do_GET is called. It only knows the value
        # "close" alone; "Upgrade, close" asks to close too.
        words = self.headers.get("Connection", "").lower().split(",")
        if "close" in (w.strip() for w in words):
            self.close_connection = True
        self.send_header("Connection",
                         "close" if self.close_connection else "keep-alive")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(PAGE)

    do_HEAD = do_GET

    def send_error(self, code, message=None, explain=None):
        """Send an error as server.c does: a one-line body, and close after
        a bad request or one with a body (which we do not read)."""
        if self.request_version == "HTTP/0.9":
            # http.server takes a one-word line for HTTP/0.9, which has no
            # status line at all; we answer everything in HTTP/1.1.
            self.request_version = "HTTP/1.1"
        headers = getattr(self, "headers", None) or {}
        if code in (400, 414, 431) or headers.get("Transfer-Encoding") or \
                headers.get("Content-Length", "0") != "0":
            self.close_connection = True
        body = ("%d %s\n" % (code, self.responses[code][0])).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection",
                         "close" if self.close_connection else "keep-alive")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code="-", size="-"):
        who = "%s:%d" % self.client_address
        if self.command:
            print('%s "%s" %s' % (who, self.requestline, int(code)), flush=True)
        else:
            print("%s %s" % (who, int(code)), flush=True)

    def log_error(self, fmt, *args):
        if fmt.startswith("Request timed out"):
            print("%s:%d: idle for %g s, closed" % (
                self.client_address + (self.timeout,)), flush=True)


def parse_args(argv):
    """Return (idle, host, port) from the command line, or exit 2."""
    idle, host, port = 5.0, "127.0.0.1", 8000
    try:
        if argv[:1] == ["--idle"]:
            idle = float(argv[1])
            if not 0 < idle <= 86400:
                raise ValueError
            argv = argv[2:]
        if len(argv) > 2 or (argv and argv[0].startswith("-")):
            raise ValueError
        if argv:
            host = argv[0]
        if len(argv) > 1:
            port = int(argv[1])
            if not 0 <= port <= 65535:
                raise ValueError
    except (ValueError, IndexError):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    return idle, host, port


def main():
    idle, host, port = parse_args(sys.argv[1:])
    Hello.timeout = idle
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    http.server.ThreadingHTTPServer.request_queue_size = 64  # listen() backlog
    try:
        server = http.server.ThreadingHTTPServer((host, port), Hello)
    except OSError as e:
        print("server.py: bind %s:%d: %s" % (host, port, e.strerror or e),
              file=sys.stderr)
        return 1
    server.daemon_threads = True  # connections end with the server
    print("listening on %s:%d" % server.server_address[:2], flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        print("shutting down", flush=True)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
