#!/usr/bin/env python3
"""server.py - lesson 14 in Python: the echo server on asyncio, with the
same command line and output as server.c.

asyncio is the event loop of server.c with the calls hidden: a selector
(epoll on Linux; poll with --poll) waits for ready sockets, each
connection is a coroutine whose `await` is where server.c returns to the
loop, writer.drain() is the back pressure of a full output buffer, and
wait_for() is the idle timer. Python's own default limit of open files
is raised the same way: resource.setrlimit().

usage: server.py [--poll|--epoll] [--idle SECONDS] [HOST [PORT]]
"""
import asyncio
import resource
import selectors
import signal
import socket
import sys

USAGE = "usage: server [--poll|--epoll] [--idle SECONDS] [HOST [PORT]]\n"


def parse_args(argv):
    """Return (use_poll, idle seconds or None, host, port); exit 2 on bad
    usage."""
    use_poll, idle, rest = False, None, argv[1:]
    while rest and rest[0].startswith("-"):
        opt = rest.pop(0)
        if opt in ("--poll", "--epoll"):
            use_poll = opt == "--poll"
        elif opt == "--idle" and rest:
            try:
                idle = float(rest.pop(0))
            except ValueError:
                idle = -1
            if not 0 < idle <= 86400:
                sys.stderr.write("server: bad idle time (seconds > 0)\n")
                sys.exit(2)
        else:
            sys.stderr.write(USAGE)
            sys.exit(2)
    if len(rest) > 2:
        sys.stderr.write(USAGE)
        sys.exit(2)
    host = rest[0] if rest else "127.0.0.1"
    port = rest[1] if len(rest) > 1 else "8080"
    return use_poll, idle, host, port


def numeric(addr):
    """ADDRESS:PORT in numbers (getnameinfo with NI_NUMERICHOST)."""
    host, port = socket.getnameinfo(addr, socket.NI_NUMERICHOST |
                                    socket.NI_NUMERICSERV)
    return "%s:%s" % (host, port)


def raise_fd_limit():
    """The soft limit of open files up to the hard one (setrlimit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, 1 << 20), hard))


def echo_part(data, line):
    """Follow the lines in data; return (bytes to echo, line so far, bye)."""
    for i, byte in enumerate(data):
        if byte == ord("\n"):
            if line in (b"bye", b"bye\r"):
                return data[:i + 1], b"", True
            line = b""
        else:
            line = (line + bytes([byte]))[:5]
    return data, line, False


async def serve_client(reader, writer, idle):
    """One client, one coroutine: echo until bye, end-of-file or silence."""
    name = numeric(writer.get_extra_info("peername"))
    print("connection from %s" % name, flush=True)
    line = b""
    try:
        while True:
            try:
                data = await asyncio.wait_for(reader.read(4096), idle)
            except asyncio.TimeoutError:
                print("dropped idle client %s" % name, flush=True)
                break
            if not data:
                break
            part, line, bye = echo_part(data, line)
            writer.write(part)
            await writer.drain()  # back pressure: wait while it piles up
            if bye:
                break
    except ConnectionError as e:
        sys.stderr.write("server: %s: %s\n" % (name, e.strerror))
    finally:
        print("closed %s" % name, flush=True)
        writer.close()


async def main(argv):
    use_poll, idle, host, port = parse_args(argv)
    raise_fd_limit()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)  # a self-pipe inside
    try:
        server = await asyncio.start_server(
            lambda r, w: serve_client(r, w, idle), host, int(port),
            reuse_address=True, backlog=1024)
    except (socket.gaierror, OSError) as e:
        sys.stderr.write("server: listen %s:%s: %s\n" % (host, port,
                                                         e.strerror))
        return 1
    print("listening on %s" % numeric(server.sockets[0].getsockname()),
          flush=True)
    await stop.wait()
    server.close()
    return 0


if __name__ == "__main__":
    use_poll = "--poll" in sys.argv[1:]
    # The loop's selector: epoll by default on Linux, or poll.
    selector = selectors.PollSelector() if use_poll else None
    loop = asyncio.SelectorEventLoop(selector)
    try:
        sys.exit(loop.run_until_complete(main(sys.argv)))
    finally:
        loop.close()
