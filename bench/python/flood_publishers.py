"""Load generator for the ingest benchmark: N PUB sockets, each one peer, flooding valid frames.

Every frame is a well-formed Chorus v1 message with a per-peer increasing lamport_time, so a
ChorusNode admits every one it receives (none is stale). The frames announce "hz": 1000, so the
node's per-peer rate limit (ten times the announced rate, at most 10,000/s) lets the whole flood
through while still running on every message. The same generator feeds every receiver
under test. A PUB socket never blocks: what the receiver cannot take is dropped at its high-water
mark, so the receiver's rate is its own capacity.

Usage: flood_publishers.py PORT[,PORT...]     prints "ready" once bound; stops on stdin EOF or SIGTERM.
With FLOOD_REPORT set it also prints {"t": ms, "sent": n} about every 250 ms: the messages handed to
the PUB sockets so far (those dropped at the high-water mark included), so the runner can take the
offered rate over a receiver's window.
"""

import json
import os
import signal
import sys
import threading
import time

import zmq


def main():
    ports = [int(p) for p in sys.argv[1].split(",")]
    context = zmq.Context()
    sockets = []
    for port in ports:
        socket = context.socket(zmq.PUB)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.SNDHWM, 1000)
        socket.bind("tcp://127.0.0.1:%d" % port)
        sockets.append(socket)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def watch_stdin():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    incarnation = int(time.time() * 1000)
    templates = [
        (
            '{"node_id": "flood-%02d", "phase": %%.6f, "lamport_time": %%d, "v": 1, "incarnation": %d, '
            '"omega": 3.1416, "hz": 1000, "endpoint": "tcp://127.0.0.1:%d"}' % (index, incarnation, port)
        )
        for index, port in enumerate(ports)
    ]
    print("ready", flush=True)
    lamport = 0
    pairs = list(zip(sockets, templates))
    reporting = bool(os.environ.get("FLOOD_REPORT"))
    next_report = time.monotonic()
    while not stop.is_set():
        for _ in range(64):
            lamport += 1
            phase = (lamport % 6283) / 1000.0
            for socket, template in pairs:
                socket.send((template % (phase, lamport)).encode())
        if reporting:
            now = time.monotonic()
            if now >= next_report:
                print(json.dumps({"t": now * 1000, "sent": lamport * len(pairs)}), flush=True)
                next_report = now + 0.25

    if os.environ.get("FLOOD_REPORT"):
        print("sent %d" % (lamport * len(pairs)), file=sys.stderr, flush=True)
    for socket in sockets:
        socket.close(0)
    context.term()
    os._exit(0)


if __name__ == "__main__":
    main()
