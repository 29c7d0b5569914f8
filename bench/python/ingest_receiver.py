"""The original Python node's receive loop, as the ingest baseline.

Like distributed_mesh.py: one SUB socket connected to every peer, recv_json(NOBLOCK), sleep 10 ms
when nothing is waiting, keep the last message per node_id in a dict. It validates nothing.
Every half second it prints {"t": ms, "count": messages} so the runner can take a rate.

Usage: ingest_receiver.py PORT[,PORT...]
"""

import json
import signal
import sys
import time

import zmq


def main():
    ports = [int(p) for p in sys.argv[1].split(",")]
    context = zmq.Context()
    socket = context.socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt_string(zmq.SUBSCRIBE, "")
    for port in ports:
        socket.connect("tcp://127.0.0.1:%d" % port)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    peers = {}
    count = 0
    next_report = time.monotonic()
    while True:
        try:
            message = socket.recv_json(zmq.NOBLOCK)
            peers[message.get("node_id")] = message
            count += 1
            if count & 255:
                continue
        except zmq.Again:
            time.sleep(0.01)
        now = time.monotonic()
        if now >= next_report:
            print(json.dumps({"t": now * 1000, "count": count}), flush=True)
            next_report = now + 0.5


if __name__ == "__main__":
    main()
