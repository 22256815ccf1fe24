#!/usr/bin/env python3
"""peer.py - run one harness peer against a program under test.

    peer.py NAME [--host H] [--port P] [--timeout S] [options]
    peer.py --list

Peers live in the peers_*.py modules beside this file; each registers
itself with peerlib.peer. Exit status: 0 the conversation went as expected,
1 it did not (a transcript says how), 2 bad usage.
"""

import argparse
import glob
import importlib
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The harness's bytecode is kept under build/pycache, even where
# PYTHONDONTWRITEBYTECODE is set: compiling it is most of a start.
sys.dont_write_bytecode = False
sys.pycache_prefix = os.path.normpath(os.path.join(HERE, "..", "..", "build",
                                                  "pycache"))
sys.path.insert(0, HERE)
import peerlib  # noqa: E402


def load_peers(name=None):
    """Import the peers_*.py modules so their peers register themselves:
    every module, or with name only those whose text names it (a start
    then imports one module of the harness, not all of them)."""
    paths = sorted(glob.glob(os.path.join(HERE, "peers_*.py")))
    if name is not None:
        quoted = ('"%s"' % name).encode()
        with_name = []
        for path in paths:
            with open(path, "rb") as f:
                if quoted in f.read():
                    with_name.append(path)
        paths = with_name or paths
    for path in paths:
        importlib.import_module(os.path.basename(path)[:-3])
    return peerlib.PEERS


def parser_for(func):
    """Build the argument parser of one peer."""
    p = argparse.ArgumentParser(prog="peer.py " + func.peer_name,
                                description=func.peer_help)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--timeout", type=float, default=5.0,
                   help="the most this peer waits in all (seconds)")
    for flags, kwargs in func.peer_options:
        p.add_argument(*flags, **kwargs)
    return p


def main(argv):
    wanted = argv[0] if argv and not argv[0].startswith("-") else None
    peers = load_peers(wanted)
    if len(argv) < 1 or argv[0] in ("-h", "--help", "--list"):
        for name in sorted(peers):
            print("%-18s %s" % (name, peers[name].peer_help))
        return 0 if argv else 2
    func = peers.get(argv[0])
    if func is None:
        print("peer.py: no peer named %r (see peer.py --list)" % argv[0],
              file=sys.stderr)
        return 2
    args = parser_for(func).parse_args(argv[1:])
    # A hard stop behind the per-call deadlines: no peer outlives its bound.
    signal.signal(signal.SIGALRM, lambda *_: os._exit(3))
    signal.alarm(int(args.timeout) + 2)
    try:
        func(args, peerlib.Deadline(args.timeout))
    except peerlib.Mismatch as e:
        peerlib.say("%s: %s" % (func.peer_name, e))
        return 1
    except (BrokenPipeError, ConnectionResetError):
        peerlib.say("%s: the other side closed the connection while we were "
                    "still sending" % func.peer_name)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
