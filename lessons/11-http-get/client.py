#!/usr/bin/env python3
"""client.py - lesson 11's HTTP GET client in Python, next to client.c.

Same command line, same output, same exit status as the C client:

    python3 client.py [-v] [HOST [PORT [PATH]]]    default 127.0.0.1 8000 /

The body goes to stdout byte for byte; -v shows the head on stderr; exit
0 for 1xx-3xx, 3 for 4xx/5xx (status line on stderr), 1 for a network
error or a response that is not HTTP, 2 for bad usage. What Python hides:
sock.makefile('rb') is the C client's struct reader (a buffer refilled
with recv()), and its readline(limit) is read_line().
"""

import re
import socket
import sys

LINE_MAX = 8192
EXIT_HTTP_ERROR = 3


class BadResponse(Exception):
    """The server's answer is not HTTP we can read."""


def read_line(f):
    """Read one line without its \\r\\n; raise BadResponse if it is cut
    short or too long."""
    line = f.readline(LINE_MAX)  # stops at LINE_MAX bytes: bounded
    if not line.endswith(b"\n"):
        if len(line) >= LINE_MAX:
            raise BadResponse("a line of the response is too long (over 8 KiB)")
        raise BadResponse("the connection closed in the middle of a line")
    return line.rstrip(b"\n").removesuffix(b"\r")


def read_head(f, verbose):
    """Read the status line and headers; return (status, status line,
    Content-Length or None, chunked)."""
    line = read_line(f)
    m = re.fullmatch(rb"HTTP/\d\.\d ([0-9]{3})(?: .*)?", line, re.S)
    if not m or not 100 <= int(m.group(1)) <= 599:
        raise BadResponse("not an HTTP status line")
    status, status_line, length, chunked = int(m.group(1)), line, None, False
    while line:
        if verbose:
            sys.stderr.buffer.write(line + b"\n")
            sys.stderr.flush()
        line = read_line(f)
        if not line:
            break
        name, colon, value = line.partition(b":")
        if not colon or not name:
            raise BadResponse("a header line without a name and a ':'")
        name, value = name.lower(), value.strip(b" \t")
        if name == b"content-length":
            if not re.fullmatch(rb"[0-9]{1,15}", value) or (
                    length is not None and length != int(value)):
                raise BadResponse("a bad Content-Length header")
            length = int(value)
        elif name == b"transfer-encoding" and value.lower() == b"chunked":
            chunked = True
    return status, status_line, length, chunked


def pass_body(f, out, count):
    """Copy count bytes (None: up to end of file) to out; return how many."""
    done = 0
    while count is None or done < count:
        data = f.read1(65536 if count is None else min(65536, count - done))
        if not data:
            break
        out.write(data)
        done += len(data)
    return done


def pass_chunked(f, out):
    """Decode a chunked body to out."""
    while True:
        m = re.match(rb"([0-9a-fA-F]{1,15})(?:[;\t ]|$)", read_line(f))
        if not m:
            raise BadResponse("a bad chunk size line")
        size = int(m.group(1), 16)
        if size == 0:
            break
        if pass_body(f, out, size) < size:
            raise BadResponse("the connection closed in the middle of a chunk")
        if read_line(f):
            raise BadResponse("no \\r\\n after a chunk")
    while read_line(f):  # trailers, ignored
        pass


def get(host, port, path, verbose):
    """Fetch path from host:port, print the body; return the exit status."""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        h = "[%s]" % host if ":" in host else host
        sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%s\r\n"
                      "Connection: close\r\n\r\n" % (path, h, port)).encode())
        f = sock.makefile("rb")
        out = sys.stdout.buffer
        status, status_line, length, chunked = read_head(f, verbose)
        if chunked:
            pass_chunked(f, out)
        elif length is not None:
            got = pass_body(f, out, length)
            if got < length:
                raise BadResponse("the connection closed after %d of %d body "
                                  "bytes" % (got, length))
        else:
            pass_body(f, out, None)
        out.flush()
    if status >= 400:
        print("client: GET %s %s:%s: %s" % (path, host, port,
              status_line[:200].decode("latin-1")), file=sys.stderr)
        return EXIT_HTTP_ERROR
    return 0


def main(argv):
    verbose = bool(argv) and argv[0] == "-v"
    args = argv[1:] if verbose else argv
    if len(args) > 3 or (args and args[0].startswith("-")):
        print("usage: client [-v] [HOST [PORT [PATH]]]", file=sys.stderr)
        return 2
    host, port, path = (args + ["127.0.0.1", "8000", "/"][len(args):])[:3]
    if not (port.isdigit() and len(port) <= 5 and 1 <= int(port) <= 65535):
        print("client: bad port '%s' (1-65535)" % port, file=sys.stderr)
        print("usage: client [-v] [HOST [PORT [PATH]]]", file=sys.stderr)
        return 2
    if not re.fullmatch(r"/[\x21-\x7e]*", path) or len(path) > 4096:
        print("client: bad path '%s' (it starts with / and has no spaces: "
              "use %%20)" % path, file=sys.stderr)
        print("usage: client [-v] [HOST [PORT [PATH]]]", file=sys.stderr)
        return 2
    try:
        return get(host, port, path, verbose)
    except BadResponse as e:
        sys.stdout.buffer.flush()
        print("client: bad response from %s:%s: %s" % (host, port, e),
              file=sys.stderr)
    except socket.timeout:
        print("client: recv %s:%s: timed out" % (host, port), file=sys.stderr)
    except socket.gaierror as e:
        print("client: getaddrinfo %s:%s: %s" % (host, port, e.strerror),
              file=sys.stderr)
    except OSError as e:
        print("client: connect %s:%s: %s" % (host, port, e.strerror or e),
              file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
