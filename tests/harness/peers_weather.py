"""Peers for lesson 10 (weather): sensors that drive a collector, and a
collector that checks a sensor.

The protocol, one line each way:
  READING STATION SEQ TIME TEMP   ->  ACK STATION SEQ   (or ERR reason)
  STATS                           ->  STATION NAME COUNT MIN MEAN MAX ...
                                      REJECTED N
                                      END

Client peers (against the collector):
  weather-sensors  K sensors, N readings each, one ACK awaited at a time,
                   then their STATS rows checked exactly
  weather-stream   K sensors that pipeline, survive a collector restart
                   (reconnect with backoff, resend what is unacknowledged)
  weather-garbage  malformed and out-of-range lines: each must get ERR,
                   be counted in REJECTED, and change nothing else
  weather-dups     resent readings (SEQ not above the last): ACKed, not counted
  weather-hold     one sensor that reports N times and then stays connected
  weather-wait     waits until the collector has counted M readings
  weather-stats    checks (or prints) the collector's STATS
Server peer (against the sensor):
  weather-collector  ACKs readings and checks SEQ, TEMP, timing; can
                     close connections at once (backoff), drop one
                     mid-stream (resend), delay the last ACK
"""

import socket
import threading
import time

from peerlib import Deadline, Mismatch, connect, escape, listen, option, peer, say

# The sensor's temperatures (client.c's TEMPS), in tenths, used in turn.
SENSOR_TEMPS = (150, 220, 210, 260, 250, 190)


def harness_tenths(sensor, seq):
    """The temperature (tenths) harness sensor number sensor reports as
    reading seq, -15.0 to 20.9: sensors 0, 3, 6... report only negative
    temperatures, 1, 4, 7... both signs, 2, 5, 8... only positive ones
    (a row must not start its min or max at 0)."""
    return (-150, -20, 110)[sensor % 3] + (seq * 37 + sensor * 11) % 100


def sensor_tenths(seq):
    """The temperature (tenths) client.c reports as reading seq."""
    return SENSOR_TEMPS[(seq - 1) % len(SENSOR_TEMPS)]


def fmt_tenths(t):
    """Write tenths t as the protocol does: 21.5, -0.5."""
    return "%.1f" % (t / 10)


def stats_row(name, temps):
    """The STATS line the collector must print for temps (tenths)."""
    return "STATION %s %d %s %.2f %s" % (
        name, len(temps), fmt_tenths(min(temps)),
        sum(temps) / len(temps) / 10.0, fmt_tenths(max(temps)))


def harness_rows(prefix, sensors, count):
    """{station: expected STATS line} of weather-sensors/stream stations."""
    rows = {}
    for i in range(sensors):
        name = "%s%d" % (prefix, i + 1)
        rows[name] = stats_row(name, [harness_tenths(i, s)
                                      for s in range(1, count + 1)])
    return rows


def reading_line(name, seq, tenths, when=None):
    """A READING line, as bytes."""
    return ("READING %s %d %d %s\n" % (
        name, seq, int(when or time.time()), fmt_tenths(tenths))).encode()


class Lines:
    """Lines from a socket, each read before a deadline."""

    def __init__(self, sock, deadline):
        self.sock, self.deadline, self.buf = sock, deadline, b""

    def line(self, what):
        """Return the next line (without \\n); raise Mismatch saying what
        was awaited when none comes."""
        while b"\n" not in self.buf:
            self.sock.settimeout(self.deadline.left())
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                raise Mismatch("waited %.1f s for %s; received only %s" % (
                    self.deadline.seconds, what, escape(self.buf)))
            except ConnectionResetError:
                data = b""
            if not data:
                raise Mismatch("the collector closed the connection while %s "
                               "was awaited (received %s)" % (what, escape(self.buf)))
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line


def ask(sock, lines, data, what):
    """Send data and return the answer line."""
    sock.sendall(data)
    return lines.line(what)


def query_stats(host, port, deadline):
    """Ask STATS on a new connection; return ({station: line}, rejected,
    the whole answer as text)."""
    sock = connect(host, port, deadline)
    try:
        lines = Lines(sock, deadline)
        sock.sendall(b"STATS\n")
        rows, rejected, text = {}, None, []
        while True:
            line = lines.line("the rest of the answer to STATS (up to END)")
            text.append(line.decode("ascii", "replace"))
            if line == b"END":
                break
            words = line.decode("ascii", "replace").split(" ")
            if words[0] == "STATION" and len(words) == 6:
                rows[words[1]] = line.decode()
            elif words[0] == "REJECTED" and len(words) == 2 and words[1].isdigit():
                rejected = int(words[1])
            else:
                raise Mismatch("STATS answered a line that is neither "
                               "\"STATION NAME COUNT MIN MEAN MAX\", \"REJECTED N\" "
                               "nor \"END\": %s" % escape(line + b"\n"))
        if rejected is None:
            raise Mismatch("STATS answered no \"REJECTED N\" line before END:\n  "
                           + "\n  ".join(text))
        return rows, rejected, "\n".join(text)
    finally:
        sock.close()


def check_rows(expected, rows, text, why=""):
    """Raise Mismatch unless every expected row is in rows, exactly."""
    for name, want in sorted(expected.items()):
        got = rows.get(name)
        if got != want:
            raise Mismatch(
                "STATS for station %s:\n  expected %s\n  received %s\n"
                "  the whole answer was:\n    %s%s" % (
                    name, want, got or "(no line for it)",
                    text.replace("\n", "\n    "), why))


def expect_ack(got, name, seq, label):
    """Raise Mismatch unless got is the ACK of name's reading seq."""
    want = ("ACK %s %d" % (name, seq)).encode()
    if got != want:
        raise Mismatch("%ssent reading %d of station %s, expected %s, "
                       "received %s" % (label, seq, name,
                                        escape(want + b"\n"), escape(got + b"\n")))


# ---------------------------------------------------------------- weather-sensors

def report_readings(host, port, i, name, count, deadline, errors):
    """Sensor i: send count readings of station name, one ACK awaited at a
    time; a failure goes to errors."""
    try:
        sock = connect(host, port, deadline)
        try:
            lines = Lines(sock, deadline)
            for seq in range(1, count + 1):
                got = ask(sock, lines, reading_line(name, seq, harness_tenths(i, seq)),
                          "the ACK of reading %d of %s" % (seq, name))
                expect_ack(got, name, seq, "")
        finally:
            sock.close()
    except (Mismatch, OSError) as e:
        errors.append("sensor %s: %s" % (name, e))


@peer("weather-sensors", "K sensors (stations PREFIX1..PREFIXK), each on its "
      "own connection, send N readings and await each ACK; then check their "
      "STATS lines")
@option("--sensors", type=int, default=3)
@option("--count", type=int, default=5)
@option("--prefix", default="wx")
@option("--sequential", action="store_true",
        help="one sensor after the other, not all at once")
def weather_sensors(args, deadline):
    errors = []
    jobs = [threading.Thread(target=report_readings, daemon=True, args=(
        args.host, args.port, i, "%s%d" % (args.prefix, i + 1), args.count,
        deadline, errors)) for i in range(args.sensors)]
    for t in jobs:
        t.start()
        if args.sequential:
            t.join()
    for t in jobs:
        t.join(deadline.left())
    if any(t.is_alive() for t in jobs):
        errors.append("%d of the %d sensors were still waiting for ACKs after "
                      "%.1f s" % (sum(t.is_alive() for t in jobs), args.sensors,
                                  deadline.seconds))
    if errors:
        raise Mismatch("\n".join(errors[:5]))
    rows, _, text = query_stats(args.host, args.port, deadline)
    check_rows(harness_rows(args.prefix, args.sensors, args.count), rows, text)
    say("ok: %d sensors x %d readings acknowledged, STATS exact" % (
        args.sensors, args.count))


# ---------------------------------------------------------------- weather-stream

class StreamSensor:
    """A harness sensor done well: pipelines its readings, keeps the
    unacknowledged ones, reconnects with backoff and resends them."""

    def __init__(self, args, i, deadline):
        self.args, self.i, self.deadline = args, i, deadline
        self.name = "%s%d" % (args.prefix, i + 1)
        self.unacked = []  # seqs sent, oldest first
        self.next = 1
        self.error = None
        self.connections = 0

    def run(self):
        try:
            self.loop()
        except Mismatch as e:
            self.error = "sensor %s: %s" % (self.name, e)

    def connect(self):
        """Connect, retrying with backoff; resend what is unacknowledged."""
        delay = 0.02
        while True:
            if self.deadline.expired():
                raise Mismatch("could not connect again within %.1f s (is the "
                               "collector listening on the same port?)" %
                               self.deadline.seconds)
            try:
                sock = socket.create_connection(
                    (self.args.host, self.args.port), timeout=self.deadline.left())
                break
            except OSError:
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        self.connections += 1
        for seq in self.unacked:
            sock.sendall(reading_line(self.name, seq, harness_tenths(self.i, seq)))
        return sock

    def loop(self):
        sock, buf = None, b""
        due = time.monotonic()
        while self.next <= self.args.count or self.unacked:
            if sock is None:
                sock, buf = self.connect(), b""
            try:
                now = time.monotonic()
                if self.next <= self.args.count and now >= due and len(self.unacked) < 32:
                    seq, self.next = self.next, self.next + 1
                    self.unacked.append(seq)
                    due += self.args.interval
                    sock.sendall(reading_line(self.name, seq, harness_tenths(self.i, seq)))
                    continue
                wait = max(0.001, min(due - now, 0.2)) if self.next <= self.args.count else 0.2
                sock.settimeout(wait)
                try:
                    data = sock.recv(4096)
                except socket.timeout:
                    if self.deadline.expired():
                        raise Mismatch("%d readings still unacknowledged after "
                                       "%.1f s: %s" % (len(self.unacked),
                                                       self.deadline.seconds,
                                                       self.unacked[:5]))
                    continue
                if not data:
                    raise ConnectionResetError
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    self.take(line)
            except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
                sock.close()
                sock = None
        if sock:
            sock.close()

    def take(self, line):
        """Act on an answer line: an ACK drops what it acknowledges."""
        words = line.split(b" ")
        if len(words) != 3 or words[0] != b"ACK" or words[1] != self.name.encode() \
                or not words[2].isdigit():
            raise Mismatch("expected \"ACK %s SEQ\", received %s" % (
                self.name, escape(line + b"\n")))
        seq = int(words[2])
        self.unacked = [s for s in self.unacked if s > seq]


@peer("weather-stream", "K sensors that pipeline N readings each at "
      "--interval, and reconnect (with backoff) and resend what is "
      "unacknowledged when the collector goes away")
@option("--sensors", type=int, default=3)
@option("--count", type=int, default=30)
@option("--interval", type=float, default=0.02)
@option("--prefix", default="stream")
def weather_stream(args, deadline):
    sensors = [StreamSensor(args, i, deadline) for i in range(args.sensors)]
    jobs = [threading.Thread(target=s.run, daemon=True) for s in sensors]
    for t in jobs:
        t.start()
    for t in jobs:
        t.join(deadline.left() + 0.5)
    errors = [s.error for s in sensors if s.error]
    if errors:
        raise Mismatch("\n".join(errors))
    say("ok: %d sensors x %d readings acknowledged (%d connections)" % (
        args.sensors, args.count, sum(s.connections for s in sensors)))


# ---------------------------------------------------------------- weather-garbage

def bad_lines():
    """(line, what is wrong with it) pairs, each one line the collector must
    refuse with ERR."""
    ok = "READING junk %s 1700000000 20.0"
    return [
        (b"hello, collector\n", "not a command"),
        (b"\n", "an empty line"),
        (b"READING\n", "a READING without fields"),
        (b"READING junk 1 1700000000\n", "a READING without its temperature"),
        (b"READING junk 1 1700000000 20.0 extra\n", "a READING with a sixth field"),
        ((ok % "x").encode() + b"\n", "SEQ not a number"),
        ((ok % "0").encode() + b"\n", "SEQ 0 (sequence numbers start at 1)"),
        ((ok % "-1").encode() + b"\n", "a negative SEQ"),
        ((ok % ("9" * 30)).encode() + b"\n", "a SEQ of 30 digits (overflows)"),
        (b"READING junk 1 yesterday 20.0\n", "TIME not a number"),
        (b"READING junk 1 1700000000 warm\n", "TEMP not a number"),
        (b"READING junk 1 1700000000 20.55\n", "TEMP with two decimals"),
        (b"READING junk 1 1700000000 999\n", "TEMP 999, out of range"),
        (b"READING junk 1 1700000000 -273.2\n", "TEMP -273.2, out of range"),
        (b"READING junk 1 1700000000 60.1\n", "TEMP 60.1, just out of range"),
        (b"READING bad/name 1 1700000000 20.0\n", "a station name with /"),
        (b"READING " + b"s" * 40 + b" 1 1700000000 20.0\n",
         "a station name of 40 characters"),
        (b"READING junk\x00evil 1 1700000000 20.0\n", "a NUL byte in the line"),
        (b"READING junk 1 1700000000 20.0\x00\x07\n", "control bytes after a valid reading"),
        (b"READING junk 1 1700000000 20.0\xff\n", "a byte above 126"),
        (b"A" * 100000 + b"\n", "a line of 100000 bytes"),
    ]


@peer("weather-garbage", "send malformed and out-of-range lines: each must "
      "be answered ERR, counted in REJECTED and change nothing; then a good "
      "reading is ACKed and a new connection is served")
@option("--rejected-before", type=int, default=0,
        help="REJECTED of the collector before this peer")
def weather_garbage(args, deadline):
    sock = connect(args.host, args.port, deadline)
    lines = Lines(sock, deadline)
    bad = bad_lines()
    try:
        for data, what in bad:
            got = ask(sock, lines, data, "the answer to %s" % what)
            if not got.startswith(b"ERR"):
                raise Mismatch("sent %s (%s), expected \"ERR reason\", received %s"
                               % (escape(data), what, escape(got + b"\n")))
        good = b"READING junk-ok 1 1700000000 -12.5\n"
        got = ask(sock, lines, good, "the ACK of a good reading after the bad ones")
        expect_ack(got, "junk-ok", 1, "after %d bad lines, " % len(bad))
    finally:
        sock.close()
    rows, rejected, text = query_stats(args.host, args.port, deadline)
    if rejected != args.rejected_before + len(bad):
        raise Mismatch("after %d refused lines STATS says REJECTED %d, expected "
                       "%d:\n  %s" % (len(bad), rejected,
                                      args.rejected_before + len(bad),
                                      text.replace("\n", "\n  ")))
    check_rows({"junk-ok": "STATION junk-ok 1 -12.5 -12.50 -12.5"}, rows, text)
    if "junk" in rows:
        raise Mismatch("a refused reading was counted: %s" % rows["junk"])
    # A connection that ends in the middle of a line, then one of binary junk.
    sock = connect(args.host, args.port, deadline)
    sock.sendall(b"READING junk 7 17000")
    sock.close()
    sock = connect(args.host, args.port, deadline)
    sock.sendall(bytes(range(256)) * 4)
    sock.close()
    rows, _, text = query_stats(args.host, args.port, deadline)
    if "junk" in rows:
        raise Mismatch("half a line, cut by the end of the connection, was "
                       "counted: %s" % rows["junk"])
    say("ok: %d bad lines refused and counted, the collector still serves" % len(bad))


# ---------------------------------------------------------------- weather-dups

@peer("weather-dups", "resend readings the collector has counted (SEQ not "
      "above the station's last), with other temperatures: each is ACKed, "
      "none counted; SEQs of other stations are their own")
@option("--prefix", default="dup")
def weather_dups(args, deadline):
    a, b = args.prefix + "-a", args.prefix + "-b"
    # (station, seq, temp, counted?)
    plan = [(a, 1, 100, True), (a, 2, 120, True), (a, 3, 140, True),
            (a, 2, 500, False), (a, 3, 500, False), (a, 1, -500, False),
            (b, 1, 200, True), (b, 2, 220, True),
            (a, 10, 160, True), (a, 7, 550, False), (a, 10, 550, False),
            (b, 2, -400, False)]
    sock = connect(args.host, args.port, deadline)
    lines = Lines(sock, deadline)
    try:
        for name, seq, temp, _ in plan:
            got = ask(sock, lines, reading_line(name, seq, temp),
                      "the ACK of reading %d of %s" % (seq, name))
            expect_ack(got, name, seq, "")
    finally:
        sock.close()
    # The same resend on a new connection, as after a reconnect.
    sock = connect(args.host, args.port, deadline)
    try:
        got = ask(sock, Lines(sock, deadline), reading_line(a, 3, 590),
                  "the ACK of a resend on a new connection")
        expect_ack(got, a, 3, "on a new connection, ")
    finally:
        sock.close()
    expected = {}
    for name in (a, b):
        expected[name] = stats_row(name, [t for n, _, t, c in plan if n == name and c])
    rows, _, text = query_stats(args.host, args.port, deadline)
    check_rows(expected, rows, text,
               "\n  (%s sent SEQs 1, 2, 3, then 2, 3, 1 again, then 10, then "
               "7 and 10 again: only 1, 2, 3 and 10 count; %s's SEQs are its "
               "own)" % (a, b))
    say("ok: resent readings acknowledged and not counted")


# ---------------------------------------------------------------- weather-hold

@peer("weather-hold", "one sensor reports N readings (client.c's "
      "temperatures), gets each ACK, prints holding, and stays connected "
      "without a word")
@option("--station", default="held")
@option("--count", type=int, default=1)
@option("--hold", type=float, default=None, help="seconds (default: timeout)")
def weather_hold(args, deadline):
    sock = connect(args.host, args.port, deadline)
    try:
        lines = Lines(sock, deadline)
        for seq in range(1, args.count + 1):
            got = ask(sock, lines, reading_line(args.station, seq, sensor_tenths(seq)),
                      "the ACK of reading %d of the held sensor" % seq)
            expect_ack(got, args.station, seq, "")
        say("holding the connection of station %s" % args.station)
        time.sleep(args.hold if args.hold is not None else deadline.left())
    finally:
        sock.close()


# ---------------------------------------------------------------- weather-wait

@peer("weather-wait", "ask STATS again and again until the stations "
      "starting with PREFIX have counted at least M readings in all")
@option("--prefix", default="")
@option("--min-total", type=int, default=1)
def weather_wait(args, deadline):
    total = 0
    while not deadline.expired():
        rows, _, _ = query_stats(args.host, args.port, deadline)
        total = sum(int(line.split(" ")[2]) for name, line in rows.items()
                    if name.startswith(args.prefix))
        if total >= args.min_total:
            say("ok: %d readings counted" % total)
            return
        time.sleep(0.02)
    raise Mismatch("the collector counted %d readings of stations %s* in %.1f s; "
                   "expected %d" % (total, args.prefix, deadline.seconds,
                                    args.min_total))


# ---------------------------------------------------------------- weather-stats

@peer("weather-stats", "ask STATS and check the lines of the stations "
      "given; print the answer")
@option("--harness", action="append", default=[], metavar="PREFIX:K:N",
        help="K harness sensors PREFIX1.. sent N readings each")
@option("--sensor", action="append", default=[], metavar="STATION:N",
        help="a client.c sensor STATION sent N readings")
@option("--rejected", type=int, default=None)
@option("--why", default="")
def weather_stats(args, deadline):
    expected = {}
    for spec in args.harness:
        prefix, k, n = spec.rsplit(":", 2)
        expected.update(harness_rows(prefix, int(k), int(n)))
    for spec in args.sensor:
        name, n = spec.rsplit(":", 1)
        expected[name] = stats_row(name, [sensor_tenths(s) for s in range(1, int(n) + 1)])
    rows, rejected, text = query_stats(args.host, args.port, deadline)
    check_rows(expected, rows, text, args.why and "\n  " + args.why)
    if args.rejected is not None and rejected != args.rejected:
        raise Mismatch("STATS says REJECTED %d, expected %d:\n  %s%s" % (
            rejected, args.rejected, text.replace("\n", "\n  "),
            args.why and "\n  " + args.why))
    say(text)


# ---------------------------------------------------------------- weather-collector

class Collector:
    """The state of one weather-collector run."""

    def __init__(self, args, deadline):
        self.args, self.deadline = args, deadline
        self.accepts = []      # monotonic time of each accept
        self.arrived = {}      # seq -> monotonic time it first arrived
        self.acked = 0         # every SEQ up to this was ACKed
        self.served = 0        # connections read from

    def check_reading(self, line, prev):
        """Check one line of the sensor; return its SEQ."""
        words = line.split(b" ")
        if len(words) != 5 or words[0] != b"READING":
            raise Mismatch("expected \"READING STATION SEQ TIME TEMP\", received %s"
                           % escape(line + b"\n"))
        name, seq, when, temp = words[1].decode("ascii", "replace"), words[2], words[3], words[4]
        if name != self.args.station:
            raise Mismatch("the reading names station %s; the sensor was started "
                           "with --id %s" % (escape(words[1]), self.args.station))
        if not seq.isdigit() or not when.isdigit():
            raise Mismatch("SEQ and TIME must be whole numbers: %s" % escape(line))
        seq = int(seq)
        if seq == 0:
            raise Mismatch("a reading with SEQ 0: sequence numbers start at 1")
        if prev is None and seq > self.acked + 1:
            raise Mismatch("after a reconnect the first reading sent was %d, but "
                           "%d was never acknowledged: readings %d to %d are lost "
                           "(resend every unacknowledged reading, oldest first)" % (
                               seq, self.acked + 1, self.acked + 1, seq - 1))
        if prev is not None and seq != prev + 1:
            raise Mismatch("reading %d came right after reading %d on one "
                           "connection: SEQ must go up by one" % (seq, prev))
        if abs(int(when) - time.time()) > 600:
            raise Mismatch("reading %d has TIME %s, more than 10 minutes from "
                           "now (%d): send time(NULL)" % (seq, when.decode(), time.time()))
        want = fmt_tenths(sensor_tenths(seq))
        if temp.decode("ascii", "replace") != want:
            raise Mismatch("reading %d has TEMP %s, expected %s (the list "
                           "15.0 22.0 21.0 26.0 25.0 19.0, in turn)" % (
                               seq, escape(temp), want))
        if seq > self.args.count:
            raise Mismatch("reading %d came; the sensor was started with "
                           "--count %d" % (seq, self.args.count))
        self.arrived.setdefault(seq, time.monotonic())
        return seq

    def ack(self, conn, seq):
        conn.sendall(("ACK %s %d\n" % (self.args.station, seq)).encode())
        self.acked = max(self.acked, seq)

    def serve(self, conn):
        """Read readings from one connection; return when it ends or was
        dropped on purpose."""
        self.served += 1
        dropping = self.args.drop_after and self.served == 1
        lines, prev = Lines(conn, self.deadline), None
        while True:
            try:
                line = lines.line("a reading")
            except Mismatch:
                if self.acked >= self.args.count:
                    return  # the sensor closed once all was ACKed: good
                if self.deadline.expired():
                    raise
                return  # it closed or reset: it must come back
            prev = seq = self.check_reading(line, prev)
            if dropping and seq >= self.args.drop_after - 1:
                if seq == self.args.drop_after:
                    return  # close with readings unacknowledged
                continue
            if seq == self.args.count and self.args.last_ack_delay:
                conn.settimeout(self.args.last_ack_delay)
                try:
                    early = conn.recv(1)
                except socket.timeout:
                    early = None
                except ConnectionResetError:
                    early = b""
                if early == b"":
                    raise Mismatch("the sensor closed the connection before its "
                                   "last reading (%d) was acknowledged: wait for "
                                   "every ACK before you exit" % seq)
                if early:
                    lines.buf = early + lines.buf
            self.ack(conn, seq)

    def check_span(self):
        """Raise Mismatch when the readings came closer together than
        --min-span from the first to the last. (Arrival times as this peer
        read them: a busy machine can only bunch up a sensor's readings by
        stalling it for most of the span, while one that ignores --interval
        bunches them up every time.)"""
        if not self.args.min_span or len(self.arrived) < 2:
            return
        span = max(self.arrived.values()) - min(self.arrived.values())
        if span < self.args.min_span:
            raise Mismatch("readings 1 to %d all came within %.3f s; at the "
                           "sensor's --interval they must be spread over at "
                           "least %.2f s: take a reading only when it is due, "
                           "not as fast as the connection allows" % (
                               len(self.arrived), span, self.args.min_span))

    def gaps(self):
        """The waits between the connections closed at once, as text. (As
        this peer saw them: a busy machine can delay it, so the test
        times the sensor itself.)"""
        return ", ".join("%.2f" % (t2 - t1) for t1, t2 in zip(
            self.accepts, self.accepts[1:self.args.refuse + 1]))


@peer("weather-collector", "a collector for one sensor: ACKs its readings "
      "and checks STATION, SEQ, TIME, TEMP; --refuse R closes the first R "
      "connections at once (to time the backoff), --drop-after K closes the "
      "first served connection at reading K with readings unacknowledged "
      "(checks the resend)")
@option("--station", default="station1")
@option("--count", type=int, default=6)
@option("--refuse", type=int, default=0)
@option("--drop-after", type=int, default=0)
@option("--last-ack-delay", type=float, default=0.3)
@option("--min-span", type=float, default=0.0,
        help="seconds the readings' first arrivals must at least span: "
        "a sensor that ignores its --interval sends them in one burst")
def weather_collector(args, deadline):
    lsock = listen(args.host, args.port)
    c = Collector(args, deadline)
    try:
        while c.acked < args.count:
            lsock.settimeout(deadline.left())
            try:
                conn, _ = lsock.accept()
            except socket.timeout:
                raise Mismatch("%s; waited %.1f s for the sensor to connect%s" % (
                    "no reading came" if not c.arrived else
                    "readings %d to %d were never acknowledged" % (c.acked + 1, args.count),
                    deadline.seconds, "" if not c.accepts else " again"))
            c.accepts.append(time.monotonic())
            with conn:
                if len(c.accepts) <= args.refuse:
                    continue  # closed at once
                c.serve(conn)
        c.check_span()
        extra = "; came back after %s s" % c.gaps() if args.refuse else ""
        say("ok: readings 1 to %d acknowledged, %d connections%s" % (
            args.count, len(c.accepts), extra))
    finally:
        lsock.close()
