#!/usr/bin/env python3
"""server.py - lesson 15's chat server in Python: the same protocol,
command line and output as server.c.

    usage: server.py [--admin PATH] [--queue BYTES] [HOST [PORT]]
           default 127.0.0.1 7777

What Python hides: asyncio's event loop is the poll() loop, a coroutine
per connection replaces the state in struct client, StreamReader.readline()
is split_lines(), and each StreamWriter has an unbounded buffer: the
output queue, whose bound we check ourselves with the transport's
get_write_buffer_size(). start_unix_server() is socket(AF_UNIX), bind()
and listen(); the umask is set around it as in C.
"""

import asyncio
import os
import re
import signal
import sys

USAGE = "usage: server [--admin PATH] [--queue BYTES] [HOST [PORT]]"
LINE_SIZE = 1024
NICK = re.compile(r"[A-Za-z0-9_-]{1,16}\Z")
BYE = "* server shutting down, goodbye\n"


class Room:
    """Who is here (nick -> Client, in join order) and the counters."""

    def __init__(self, limit):
        self.limit, self.clients, self.conns = limit, {}, set()
        self.messages = self.dropped = 0

    def broadcast(self, text, sender=None):
        for c in list(self.clients.values()):
            if c is not sender:
                c.queue(text)

    def who(self):
        return "online (%d):%s\n" % (len(self.clients), "".join(
            " " + n for n in self.clients))


class Client:
    """One connection: its writer is its output queue."""

    def __init__(self, room, writer):
        self.room, self.writer, self.nick, self.dropped = room, writer, "", False

    def queue(self, text):
        """Queue text, or drop this client if its queue would overflow."""
        if self.dropped or self.writer.is_closing():
            return
        data = text.encode()
        if self.writer.transport.get_write_buffer_size() + len(data) > \
                self.room.limit:
            self.dropped = True
            self.writer.transport.abort()  # close now, unsent bytes and all
            self.leave("* %s dropped: too slow\n")
            self.room.dropped += 1
            return
        self.writer.write(data)

    def leave(self, notice="* %s left\n"):
        if self.nick and self.room.clients.get(self.nick) is self:
            del self.room.clients[self.nick]
            self.room.broadcast(notice % self.nick)
        self.nick = ""


async def lines(reader):
    """Yield the lines of reader, newline and a \\r before it cut."""
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            return
        except asyncio.LimitOverrunError:
            raise ValueError("line too long")
        yield line[:-1].rstrip(b"\r").decode("utf-8", "replace")


def chat_line(room, c, line):
    """A line of a chat client; returns False when it quits."""
    if not c.nick:
        if not NICK.match(line):
            c.queue("ERR bad nickname: 1-16 letters, digits, _ or -; try again\n")
        elif line in room.clients:
            c.queue("ERR nickname taken: %s; try another\n" % line)
        else:
            c.nick = line
            room.clients[line] = c
            c.queue("* you are %s\n" % line)
            room.broadcast("* %s joined\n" % line, c)
    elif line == "/who":
        c.queue("* " + room.who())
    elif line == "/quit":
        c.queue("* bye\n")
        return False
    elif line.startswith("/"):
        c.queue("ERR unknown command: %s (try /who or /quit)\n" % line)
    elif line:
        room.messages += 1
        room.broadcast("<%s> %s\n" % (c.nick, line), c)
    return True


def admin_line(room, a, line):
    """A line of the admin socket."""
    if line == "who":
        a.queue(room.who())
    elif line.startswith("kick "):
        c = room.clients.get(line[5:])
        if not c:
            a.queue("ERR no such nickname: %s\n" % line[5:])
            return
        c.queue("* you were kicked\n")
        c.leave("* %s was kicked\n")
        c.writer.close()
        a.queue("kicked %s\n" % line[5:])
    elif line.startswith("say "):
        room.broadcast("* admin: %s\n" % line[4:])
        a.queue("ok\n")
    elif line == "stats":
        a.queue("clients %d named %d messages %d dropped %d\n" % (
            len(room.conns), len(room.clients), room.messages, room.dropped))
    else:
        a.queue("ERR unknown command: %s (who, kick NICK, say TEXT, stats)\n"
                % line)


async def serve(room, reader, writer, admin):
    c = Client(room, writer)
    if not admin:
        room.conns.add(c)
        c.queue("* welcome to the chat; your nickname?\n")
    try:
        async for line in lines(reader):
            if c.dropped or writer.is_closing():
                break
            if admin:
                admin_line(room, c, line)
            elif not chat_line(room, c, line):
                break
    except ValueError:
        c.queue("ERR line too long (%d bytes at most)\n" % (LINE_SIZE - 1))
    except (OSError, asyncio.CancelledError):
        pass  # gone, or the server is stopping
    finally:
        room.conns.discard(c)
        c.leave()
        writer.close()


def parse_args(argv):
    opts = {"--admin": None, "--queue": 65536}
    while len(argv) >= 2 and argv[0].startswith("-"):
        if argv[0] == "--admin" and argv[1]:
            opts["--admin"] = argv[1]
        elif argv[0] == "--queue" and argv[1].isdigit() and \
                int(argv[1]) >= LINE_SIZE:
            opts["--queue"] = int(argv[1])
        else:
            sys.exit("server: bad option '%s %s'\n%s" % (argv[0], argv[1], USAGE))
        argv = argv[2:]
    if len(argv) > 2 or (argv and argv[0].startswith("-")):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    host = argv[0] if argv else "127.0.0.1"
    port = argv[1] if len(argv) > 1 else "7777"
    return opts["--admin"], opts["--queue"], host, port


async def main(argv):
    admin_path, limit, host, port = parse_args(argv)
    room = Room(limit)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        server = await asyncio.start_server(
            lambda r, w: serve(room, r, w, False), host, int(port),
            limit=LINE_SIZE)
    except OSError as e:
        print("server: bind %s:%s: %s" % (host, port, e.strerror),
              file=sys.stderr)
        return 1
    addr = server.sockets[0].getsockname()
    print("listening on %s:%d" % (addr[0], addr[1]), flush=True)
    admin = None
    if admin_path:
        old = os.umask(0o177)  # the socket file is born 0600
        try:
            admin = await asyncio.start_unix_server(
                lambda r, w: serve(room, r, w, True), admin_path,
                limit=LINE_SIZE)
        except OSError as e:
            print("server: bind %s: %s" % (admin_path, e.strerror),
                  file=sys.stderr)
            return 1
        finally:
            os.umask(old)
        print("admin on %s" % admin_path, flush=True)
    await stop.wait()
    for c in list(room.conns):
        c.nick = ""  # no "left" notices now
        c.queue(BYE)
        c.writer.close()
    for s in (server, admin):
        if s:
            s.close()
    if admin_path:
        os.unlink(admin_path)  # the file outlives the socket otherwise
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
