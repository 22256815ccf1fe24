"""Peers for lesson 15 (chat): clients of a line-based chat room.

The protocol: the server greets each connection with a line "* ...", the
first line a client sends is its nickname ("* you are NICK" or "ERR ...");
then each line goes to everyone else as "<NICK> text"; "/who" answers
"* online (N): nick ..."; "/quit" answers "* bye" and closes; the room
hears "* NICK joined", "* NICK left", "* NICK dropped: too slow".

Client peers:
  chat-nick    the nickname handshake: bad and taken names, then good ones
  chat-room    three clients: joins announced, lines to the others only
  chat-who     /who lists the nicknames
  chat-quit    /quit and end-of-file: "* bye", leave notices, fds freed
  chat-pieces  nicknames and lines in pieces, several lines per segment
  chat-slow    one client never reads while others chat hard
  chat-admin   the admin socket: who, say, kick, stats
  chat-hold    N clients join, print holding, then wait for the goodbye
  chat-say     join, say a line, expect lines back
"""

import re
import socket
import time

from peerlib import Deadline, Mismatch, connect, escape, option, peer, say

GOODBYE = b"* server shutting down, goodbye"
WHO = re.compile(rb"^\* online \((\d+)\):((?: [A-Za-z0-9_-]+)*)$")


class Chat:
    """One chat connection that reads whole lines before a deadline."""

    def __init__(self, sock, deadline, label):
        self.sock, self.deadline, self.label = sock, deadline, label
        self.buf = b""
        self.seen = []  # every line received, for the transcript

    @classmethod
    def open(cls, args, deadline, label):
        return cls(connect(args.host, args.port, deadline), deadline, label)

    def fail(self, what):
        seen = " | ".join(escape(s, 60) for s in self.seen[-6:]) or "nothing"
        raise Mismatch("%s: %s (lines received so far: %s)" % (
            self.label, what, seen))

    def line(self, waiting_for):
        """Return the next line, without its newline."""
        while b"\n" not in self.buf:
            self.sock.settimeout(self.deadline.left())
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                self.fail("waited %.1f s for %s; nothing more arrived%s" % (
                    self.deadline.seconds, waiting_for,
                    " (a part line: %s)" % escape(self.buf) if self.buf else ""))
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.fail("expected %s, but the server closed the "
                          "connection%s" % (waiting_for, " after %s" % escape(
                              self.buf) if self.buf else ""))
            self.buf += chunk
        got, self.buf = self.buf.split(b"\n", 1)
        self.seen.append(got)
        return got

    def expect(self, want, why=""):
        """Read the next line; it must be want."""
        got = self.line(escape(want) + (" (%s)" % why if why else ""))
        if got != want:
            self.fail("expected the line %s, got %s%s" % (
                escape(want), escape(got), ". " + why if why else ""))

    def expect_start(self, start, why=""):
        """Read the next line; it must begin with start. Returns it."""
        got = self.line("a line beginning %s%s" % (
            escape(start), " (%s)" % why if why else ""))
        if not got.startswith(start):
            self.fail("expected a line beginning %s, got %s%s" % (
                escape(start), escape(got), ". " + why if why else ""))
        return got

    def send(self, data):
        self.sock.sendall(data)

    def join(self, nick):
        """Read the greeting, send nick, expect "* you are NICK"."""
        self.expect_start(b"* ", "the server greets each new connection "
                          "with a line beginning \"* \" that asks for a "
                          "nickname")
        self.send(nick + b"\n")
        self.expect(b"* you are " + nick, "a free, valid nickname is "
                    "accepted with \"* you are NICK\"")

    def expect_eof(self, why):
        """Read until the server closes; only whole lines may come first."""
        while True:
            self.sock.settimeout(self.deadline.left())
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                self.fail("expected the server to close the connection "
                          "within %.1f s; it stayed open. %s" % (
                              self.deadline.seconds, why))
            except ConnectionResetError:
                return
            if not chunk:
                return
            self.buf += chunk
            while b"\n" in self.buf:
                got, self.buf = self.buf.split(b"\n", 1)
                self.seen.append(got)

    def close(self):
        self.sock.close()


def join_all(args, deadline, nicks):
    """Open a connection per nickname, each joining in turn, and read the
    join notices the earlier ones get. Returns the Chats."""
    chats = []
    for nick in nicks:
        c = Chat.open(args, deadline, "client %s" % nick.decode())
        c.join(nick)
        for earlier in chats:
            earlier.expect(b"* " + nick + b" joined",
                           "everyone already in the room hears of a join")
        chats.append(c)
    return chats


def close_all(chats):
    for c in chats:
        c.close()


def who_set(chat, want):
    """Send /who on chat; the answer must list exactly the set want."""
    chat.send(b"/who\n")
    got = chat.expect_start(b"* online (", "/who answers \"* online (N): "
                            "nick1 nick2 ...\"")
    m = WHO.match(got)
    names = set(m.group(2).split()) if m else None
    if not m or int(m.group(1)) != len(want) or names != set(want):
        chat.fail("/who answered %s; expected the %d nicknames %s (in any "
                  "order) as \"* online (%d): %s\"" % (
                      escape(got), len(want), b" ".join(sorted(want)).decode(),
                      len(want), b" ".join(sorted(want)).decode()))


# ---------------------------------------------------------------- chat-nick

@peer("chat-nick", "the nickname handshake: a bad name and a taken one get "
      "ERR and may try again; good ones are accepted")
def chat_nick(args, deadline):
    a = Chat.open(args, deadline, "first client")
    try:
        a.expect_start(b"* ", "the server greets each new connection with a "
                       "line beginning \"* \" that asks for a nickname")
        for bad, why in ((b"no spaces", "a space"), (b"", "an empty name"),
                         (b"x" * 17, "17 characters (16 at most)"),
                         (b"semi;colon", "a ';'")):
            a.send(bad + b"\n")
            a.expect_start(b"ERR ", "the nickname %s has %s: refuse it "
                           "with a line beginning \"ERR \", and let the "
                           "client try again" % (escape(bad), why))
        a.send(b"alice\n")
        a.expect(b"* you are alice", "after refused names a client may try "
                 "again: \"alice\" is valid and free")
        b = Chat.open(args, deadline, "second client")
        try:
            b.expect_start(b"* ", "every new connection is greeted")
            b.send(b"alice\n")
            b.expect_start(b"ERR ", "\"alice\" is taken by the first client: "
                           "refuse it with \"ERR ...\"")
            b.send(b"Bob_2-x\n")
            b.expect(b"* you are Bob_2-x", "letters, digits, _ and - are all "
                     "allowed, up to 16 characters")
        finally:
            b.close()
    finally:
        a.close()
    say("ok: bad and taken nicknames refused with ERR, good ones accepted")


# ---------------------------------------------------------------- chat-room

@peer("chat-room", "three clients join (joins announced to the others); "
      "each line goes to every other client as <nick> text, never back")
def chat_room(args, deadline):
    chats = join_all(args, deadline, [b"ann", b"ben", b"cat"])
    ann, ben, cat = chats
    try:
        ann.send(b"hello room\n")
        for other in (ben, cat):
            other.expect(b"<ann> hello room", "a line from ann goes to every "
                         "other client as \"<ann> hello room\"")
        ben.send(b"/dance\n")
        ben.expect_start(b"ERR ", "a line beginning with / that is no "
                         "command gets \"ERR unknown command ...\"")
        ben.send(b"hi ann\n")
        ann.expect(b"<ben> hi ann", "the sender never gets its own line "
                   "back, and an unknown command is not a message: ann's next line should be ben's message")
        cat.expect(b"<ben> hi ann")
        for line in (b"third", b"fourth"):
            cat.send(line + b"\n")
            for other in (ann, ben):
                other.expect(b"<cat> " + line, "each line is a message of "
                             "its own")
        ann.send(b"/tango\n")
        ann.expect_start(b"ERR ", "never the sender's own line: the next "
                         "line ann gets is the answer to her /tango")
    finally:
        close_all(chats)
    say("ok: joins announced, lines broadcast to the others only")


# ---------------------------------------------------------------- chat-who

@peer("chat-who", "/who lists exactly the nicknames online, and only to "
      "the one who asked")
def chat_who(args, deadline):
    chats = join_all(args, deadline, [b"dora", b"eli"])
    try:
        who_set(chats[0], [b"dora", b"eli"])
        lurker = Chat.open(args, deadline, "a client with no nickname yet")
        try:
            lurker.expect_start(b"* ")
            chats += join_all(args, deadline, [b"fay-3"])
            chats[0].expect(b"* fay-3 joined")
            chats[1].expect(b"* fay-3 joined")
            who_set(chats[1], [b"dora", b"eli", b"fay-3"])
            chats[2].send(b"after who\n")
            chats[0].expect(b"<fay-3> after who", "/who is answered to the "
                            "client who asked, nobody else")
            lurker.send(b"lurk\n")
            lurker.expect(b"* you are lurk", "a client still choosing its "
                          "nickname is not in the room: it hears nothing of "
                          "the others' joins and lines")
        finally:
            lurker.close()
    finally:
        close_all(chats)
    say("ok: /who lists the nicknames")


# ---------------------------------------------------------------- chat-quit

@peer("chat-quit", "/quit gets * bye and a close, the room hears * NICK "
      "left; end-of-file leaves too; a freed nickname can be taken again")
def chat_quit(args, deadline):
    chats = join_all(args, deadline, [b"gus", b"hal", b"ivy"])
    gus, hal, ivy = chats
    try:
        hal.send(b"/quit\n")
        hal.expect(b"* bye", "/quit is answered with \"* bye\"")
        hal.expect_eof("after \"* bye\" the server closes the connection")
        for other in (gus, ivy):
            other.expect(b"* hal left", "when a client leaves, the others "
                         "hear \"* NICK left\"")
        ivy.close()
        gus.expect(b"* ivy left", "a client that just closes its end "
                   "(recv() returns 0) leaves too: \"* ivy left\"")
        again = join_all(args, deadline, [b"hal"])[0]
        try:
            gus.expect(b"* hal joined", "a nickname is free again once its "
                       "client left")
            who_set(gus, [b"gus", b"hal"])
        finally:
            again.close()
    finally:
        close_all(chats)
    say("ok: /quit, leaves announced, nicknames freed")


# ---------------------------------------------------------------- chat-pieces

def send_pieces(chat, pieces, gap):
    """Send each piece alone (TCP_NODELAY, a short gap between)."""
    for p in pieces:
        chat.send(p)
        time.sleep(gap)  # pacing: each piece its own segment


@peer("chat-pieces", "a nickname and lines cut in pieces, CRLF endings, "
      "several lines in one segment")
@option("--gap", type=float, default=0.02)
def chat_pieces(args, deadline):
    jon = join_all(args, deadline, [b"jon"])[0]
    kim = Chat.open(args, deadline, "client kim (sending in pieces)")
    try:
        kim.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        kim.expect_start(b"* ")
        send_pieces(kim, [b"k", b"i", b"m\r", b"\n"], args.gap)
        kim.expect(b"* you are kim", "the nickname came in four pieces, "
                   "\"k\" \"i\" \"m\\r\" \"\\n\": keep the bytes until the "
                   "newline, and drop a \\r before it")
        jon.expect(b"* kim joined")
        send_pieces(kim, [b"a line cut ", b"in three ", b"pieces\n"],
                    args.gap)
        jon.expect(b"<kim> a line cut in three pieces", "a line may arrive "
                   "in pieces: keep what came, per client, until its newline")
        kim.send(b"one\n\ntwo\r\nthree\n/who\nfour")
        for want in (b"<kim> one", b"<kim> two", b"<kim> three"):
            jon.expect(want, "several lines in one segment: handle each, in "
                       "order, not only the first (an empty line among them "
                       "says nothing)")
        kim.expect_start(b"* online (2)", "a /who among other lines in one "
                         "segment is a command all the same")
        send_pieces(kim, [b" and more\n"], 0)
        jon.expect(b"<kim> four and more", "the end of a segment without a "
                   "newline is the start of the next line")
        kim.send(b"y" * 1500)
        kim.expect_start(b"ERR ", "1500 bytes with no newline: a line "
                         "longer than the input buffer gets \"ERR line too "
                         "long\", then the server closes the connection")
        kim.expect_eof("a line too long ends the connection")
        jon.expect(b"* kim left")
    finally:
        kim.close()
        jon.close()
    say("ok: pieces joined, several lines per segment split")


# ---------------------------------------------------------------- chat-slow

def rss_kib(pid):
    """The peak resident set size of pid in KiB (VmHWM: the most it ever
    held, so a queue freed at the drop still counts), 0 when unknown."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


BATCH = 32  # lines the talker sends at once


@peer("chat-slow", "a client that never reads while another talks hard and "
      "a third reads: the reader keeps up, the slow one is dropped")
@option("--max-bytes", type=int, default=48 << 20,
        help="give up when this much was said without the drop")
@option("--pid", type=int, default=0, help="the server's pid, for its RSS")
@option("--max-rss-growth", type=int, default=8 << 10, help="KiB")
def chat_slow(args, deadline):
    slow = socket.socket()
    # A small receive buffer: the kernel holds little for the slow one.
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.settimeout(deadline.left())
    try:
        slow.connect((args.host, args.port))
    except OSError as e:
        raise Mismatch("connect: %s" % e)
    slow = Chat(slow, deadline, "client slow (who never reads)")
    chats = []
    try:
        slow.join(b"slow")
        chats = join_all(args, deadline, [b"talker", b"reader"])
        slow.expect(b"* talker joined")  # its last read: from now on, none
        talker, reader = chats
        rss0 = rss_kib(args.pid) if args.pid else 0
        payload = b"x" * 900
        sent = n = 0
        dropped = False
        while not dropped:
            if sent > args.max_bytes:
                raise Mismatch(
                    "talker said %d bytes to a room where \"slow\" reads "
                    "nothing, and slow was never dropped (the server's "
                    "peak RSS went from %d to %d KiB): bound each client's "
                    "output queue and drop a client whose queue would "
                    "overflow, telling the others \"* slow dropped: too "
                    "slow\"" % (sent, rss0, rss_kib(args.pid)))
            # A batch of lines at once, then the reader takes them all.
            batch = [b"%d %s" % (n + i, payload) for i in range(BATCH)]
            talker.send(b"".join(line + b"\n" for line in batch))
            sent += sum(len(line) + 1 for line in batch)
            for i, line in enumerate(batch):
                got = reader.line("talker's line %d (the reader reads all "
                                  "the time: a room that waits for the "
                                  "slow client stalls it)" % (n + i))
                if got == b"* slow dropped: too slow":
                    dropped = True
                    got = reader.line("talker's line %d" % (n + i))
                if got != b"<talker> " + line:
                    reader.fail("expected talker's line %d, got %s" % (
                        n + i, escape(got)))
            n += BATCH
        talker.expect(b"* slow dropped: too slow", "everyone hears when a "
                      "slow client is dropped")
        if args.pid:
            grown = rss_kib(args.pid) - rss0
            if grown > args.max_rss_growth:
                raise Mismatch("the server's peak RSS grew by %d KiB while slow "
                               "was not reading (at most %d KiB expected): "
                               "the queue must be bounded" % (
                                   grown, args.max_rss_growth))
        slow.expect_eof("a dropped client's connection is closed")
        reader.send(b"/who\n")
        reader.expect(b"* online (2): talker reader", "the dropped client "
                      "is gone from the room")
    finally:
        slow.close()
        close_all(chats)
    say("ok: slow dropped after %d lines (%d bytes); the reader kept up" % (
        n, sent))


# ---------------------------------------------------------------- chat-admin

class Admin(Chat):
    """A connection to the admin socket."""

    def ask(self, command, why):
        self.send(command + b"\n")
        return self.line("the answer to %s (%s)" % (escape(command), why))


@peer("chat-admin", "two clients join; the admin socket answers who, say, "
      "kick NICK, stats, and ERR to a bad command")
@option("--path", required=True, help="the admin socket's path")
def chat_admin(args, deadline):
    chats = join_all(args, deadline, [b"lea", b"max"])
    lea, mx = chats
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(deadline.left())
    try:
        s.connect(args.path)
    except OSError as e:
        s.close()
        raise Mismatch("connect to the admin socket %s: %s" % (
            args.path, e.strerror or e))
    adm = Admin(s, deadline, "admin")
    try:
        got = adm.ask(b"who", "online (N): nick ...")
        m = re.match(rb"^online \(2\):((?: [A-Za-z0-9_-]+)*)$", got)
        if not m or set(m.group(1).split()) != {b"lea", b"max"}:
            adm.fail("\"who\" answered %s; expected \"online (2): lea max\""
                     % escape(got))
        got = adm.ask(b"say the room closes at six", "ok")
        if got != b"ok":
            adm.fail("\"say TEXT\" should answer \"ok\", got %s" % escape(got))
        for c in chats:
            c.expect(b"* admin: the room closes at six", "\"say TEXT\" on "
                     "the admin socket reaches every client as \"* admin: "
                     "TEXT\"")
        got = adm.ask(b"kick max", "kicked max")
        if got != b"kicked max":
            adm.fail("\"kick max\" should answer \"kicked max\", got %s" %
                     escape(got))
        mx.expect(b"* you were kicked", "a kicked client is told")
        mx.expect_eof("then its connection is closed")
        lea.expect(b"* max was kicked", "the room hears of a kick")
        got = adm.ask(b"kick nobody", "ERR ...")
        if not got.startswith(b"ERR "):
            adm.fail("\"kick nobody\" (no such client) should answer "
                     "\"ERR ...\", got %s" % escape(got))
        lea.send(b"anyone?\n")
        got = adm.ask(b"stats", "clients N named N messages N dropped N")
        m = re.match(rb"^clients (\d+) named (\d+) messages (\d+) dropped "
                     rb"(\d+)$", got)
        if not m or m.group(1, 2) != (b"1", b"1") or m.group(3) == b"0":
            adm.fail("\"stats\" answered %s; expected \"clients 1 named 1 "
                     "messages 1 dropped 0\" (one client left, one message "
                     "said)" % escape(got))
        got = adm.ask(b"dance", "ERR ...")
        if not got.startswith(b"ERR "):
            adm.fail("an unknown command should get \"ERR ...\", got %s" %
                     escape(got))
    finally:
        adm.close()
        close_all(chats)
    say("ok: who, say, kick, stats on the admin socket")


# ---------------------------------------------------------------- chat-hold

@peer("chat-hold", "N clients join, print holding, then each must get a "
      "last line and the server's close")
@option("--clients", type=int, default=3)
def chat_hold(args, deadline):
    nicks = [b"h%d" % i for i in range(args.clients)]
    chats = join_all(args, deadline, nicks)
    try:
        say("holding %d clients" % len(chats))
        for c in chats:
            c.expect_eof("when the server stops it says goodbye and "
                         "closes every client")
            if not c.seen or c.seen[-1] != GOODBYE:
                c.fail("the last line before the close should be the "
                       "server's goodbye, %s" % escape(GOODBYE))
    finally:
        close_all(chats)
    say("ok: %d clients got a goodbye and a close" % len(chats))


# ---------------------------------------------------------------- chat-say

@peer("chat-say", "join as NICK, say LINE, then expect each EXPECT line")
@option("--nick", default="dave")
@option("--line", default="hi")
@option("--expect", action="append", default=[])
def chat_say(args, deadline):
    c = Chat.open(args, deadline, "client %s" % args.nick)
    try:
        c.join(args.nick.encode())
        say("holding: %s joined" % args.nick)
        c.send(args.line.encode() + b"\n")
        for want in args.expect:
            c.expect(want.encode())
    finally:
        c.close()
    say("ok: %s said %s" % (args.nick, escape(args.line.encode())))
