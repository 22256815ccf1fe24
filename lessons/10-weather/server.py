#!/usr/bin/env python3
"""server.py - lesson 10's collector in Python: the same protocol, command
line and output as server.c.

    usage: server.py [--state FILE] [HOST [PORT]]    default 127.0.0.1 23456

What Python hides: socketserver.ThreadingTCPServer is the accept loop with
a thread per connection (and SO_REUSEADDR, with allow_reuse_address);
rfile.readline(limit) is the line reader; threading.Lock is the mutex;
os.replace() is rename().
"""

import os
import re
import signal
import socketserver
import sys
import threading

LINE_MAX = 128
STATE_HEADER = "weather-state 1\n"
NAME = re.compile(r"[A-Za-z0-9_-]{1,32}\Z")
WHOLE = re.compile(r"[0-9]{1,%d}\Z")
TEMP = re.compile(r"(-?)([0-9]{1,3})(?:\.([0-9]))?\Z")

lock = threading.Lock()
stations = {}  # name -> [last_seq, count, sum, min, max], tenths
rejected = 0
state_path = None


def parse_reading(line):
    """Return (station, seq, tenths) of a READING line, or the reason it
    is refused (a str)."""
    w = line.split(" ")
    if len(w) != 5 or w[0] != "READING":
        return "expected READING STATION SEQ TIME TEMP"
    if not re.match(WHOLE.pattern % 18, w[2]):
        return "bad sequence number"
    if not re.match(WHOLE.pattern % 12, w[3]):
        return "bad time"
    m = TEMP.match(w[4])
    if not m:
        return "bad temperature"
    tenths = int(m.group(2)) * 10 + int(m.group(3) or 0)
    tenths = -tenths if m.group(1) else tenths
    if not NAME.match(w[1]):
        return "bad station name"
    if int(w[2]) == 0:
        return "bad sequence number"
    if not -900 <= tenths <= 600:
        return "temperature out of range"
    return w[1], int(w[2]), tenths


def save_state():
    """Write the table to FILE.tmp, then rename it over FILE."""
    tmp = state_path + ".tmp"
    with open(tmp, "w") as f:
        f.write(STATE_HEADER)
        for name, (last, count, total, low, high) in stations.items():
            f.write("%s %d %d %d %d %d\n" % (name, last, count, total, low, high))
    os.replace(tmp, state_path)


def load_state():
    """Read the table from FILE, if there is one."""
    try:
        with open(state_path) as f:
            lines = f.readlines()
    except FileNotFoundError:
        return
    if not lines or lines[0] != STATE_HEADER:
        sys.exit("server: state %s: not a state file (line 1)" % state_path)
    for n, line in enumerate(lines[1:], 2):
        w = line.split()
        if len(w) != 6 or not NAME.match(w[0]):
            sys.exit("server: state %s: not a state file (line %d)" % (state_path, n))
        stations[w[0]] = [int(x) for x in w[1:]]


def record(name, seq, tenths):
    """Count a reading unless it is a resend; save before the ACK."""
    with lock:
        row = stations.setdefault(name, [0, 0, 0, 0, 0])
        if seq > row[0]:
            row[0] = seq
            row[3] = tenths if row[1] == 0 else min(row[3], tenths)
            row[4] = tenths if row[1] == 0 else max(row[4], tenths)
            row[1] += 1
            row[2] += tenths
        if state_path:
            try:
                save_state()
            except OSError as e:
                print("server: state %s: %s" % (state_path, e.strerror), file=sys.stderr)
                os._exit(1)


def stats():
    """The answer to STATS."""
    with lock:
        out = ["STATION %s %d %.1f %.2f %.1f\n" % (
            name, count, low / 10.0, total / count / 10.0, high / 10.0)
            for name, (_, count, total, low, high) in stations.items() if count]
    return "".join(out) + "REJECTED %d\nEND\n" % rejected


def answer(raw):
    """The answer to one line (bytes, newline included)."""
    global rejected
    if not raw.endswith(b"\n") and len(raw) >= LINE_MAX:
        why = "line too long"
    else:
        line = raw.rstrip(b"\n").rstrip(b"\r")
        if any(b < 32 or b > 126 for b in line):
            why = "not text"
        elif line == b"STATS":
            return stats()
        elif not line.startswith(b"READING"):
            why = "unknown command"
        else:
            why = parse_reading(line.decode())
            if not isinstance(why, str):
                record(*why)
                return "ACK %s %d\n" % (why[0], why[1])
    with lock:
        rejected += 1
    return "ERR %s\n" % why


class Sensor(socketserver.StreamRequestHandler):
    def handle(self):
        skipping = False
        while True:
            raw = self.rfile.readline(LINE_MAX)
            if not raw or (not raw.endswith(b"\n") and len(raw) < LINE_MAX):
                return  # end of file (a last line without \n is lost)
            if skipping:
                skipping = not raw.endswith(b"\n")
                continue
            skipping = not raw.endswith(b"\n")
            reply = answer(raw)
            if reply.startswith("ERR "):
                print("server: %s:%d: refused a line: %s" % (
                    self.client_address[0], self.client_address[1], reply[4:-1]),
                    file=sys.stderr)
            try:
                self.wfile.write(reply.encode())
            except OSError:
                return


class Collector(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main(argv):
    global state_path
    if len(argv) >= 2 and argv[0] == "--state":
        state_path, argv = argv[1], argv[2:]
    if len(argv) > 2 or (argv and argv[0].startswith("-")):
        sys.exit("usage: server.py [--state FILE] [HOST [PORT]]")
    host = argv[0] if argv else "127.0.0.1"
    port = int(argv[1]) if len(argv) > 1 else 23456
    if state_path:
        load_state()
    server = Collector((host, port), Sensor)
    print("listening on %s:%d" % (host, server.server_address[1]), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    print(stats(), end="", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
