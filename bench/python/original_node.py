"""A node built like the original distributed_mesh.py, as the baseline for cost per node.

pyzmq (Debian's python3-zmq). One PUB socket bound to PORT; one SUB socket connected to every peer.
One thread loops recv_json(NOBLOCK), sleeping 10 ms when nothing is waiting, and keeps the last
message of each node_id in a dict; the main thread publishes {node_id, phase, lamport_time} every
100 ms after a Kuramoto step over the cached phases (no TTL, no ordering: last message wins).

Usage: original_node.py PORT PEER_PORT[,PEER_PORT...] [NODE_ID]
With ORIGINAL_NODE_STATUS set it also prints, once a second, {"heard": peers heard from in the last
second, "lateP99": p99 in ms of how much later than 100 ms its last 128 publish intervals came}:
what the scale bench judges it by. Without it the node does what the original does, nothing more.
"""

import json
import math
import os
import random
import signal
import sys
import threading
import time

import zmq


def main():
    port = int(sys.argv[1])
    peer_ports = [int(p) for p in sys.argv[2].split(",") if p]
    node_id = sys.argv[3] if len(sys.argv) > 3 else "%08x" % random.getrandbits(32)
    context = zmq.Context()
    publisher = context.socket(zmq.PUB)
    publisher.setsockopt(zmq.LINGER, 0)
    publisher.bind("tcp://127.0.0.1:%d" % port)
    subscriber = context.socket(zmq.SUB)
    subscriber.setsockopt(zmq.LINGER, 0)
    subscriber.setsockopt_string(zmq.SUBSCRIBE, "")
    for peer in peer_ports:
        subscriber.connect("tcp://127.0.0.1:%d" % peer)

    state = {"phase": random.uniform(-math.pi, math.pi), "lamport_time": 0}
    peers = {}
    heard_at = {}
    status = bool(os.environ.get("ORIGINAL_NODE_STATUS"))
    lock = threading.Lock()
    running = threading.Event()
    running.set()

    def receive_loop():
        while running.is_set():
            try:
                message = subscriber.recv_json(zmq.NOBLOCK)
            except zmq.Again:
                time.sleep(0.01)
                continue
            with lock:
                peers[message["node_id"]] = message
                if status:
                    heard_at[message["node_id"]] = time.monotonic()
                state["lamport_time"] = max(state["lamport_time"], message["lamport_time"]) + 1

    threading.Thread(target=receive_loop, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: running.clear())
    omega = 2 * math.pi * 0.5 + random.gauss(0, 0.3)
    coupling = 2.5
    dt = 0.1
    print("ready", flush=True)
    intervals = []
    last_publish = None
    next_status = time.monotonic() + 1
    while running.is_set():
        with lock:
            phases = [peer["phase"] for peer in peers.values()]
            theta = state["phase"]
            pull = sum(math.sin(phase - theta) for phase in phases)
            theta += omega * dt + coupling / (len(phases) + 1) * pull * dt
            state["phase"] = math.atan2(math.sin(theta), math.cos(theta))
            state["lamport_time"] += 1
            message = {"node_id": node_id, "phase": state["phase"], "lamport_time": state["lamport_time"]}
        publisher.send_json(message)
        if status:
            now = time.monotonic()
            if last_publish is not None:
                intervals = (intervals + [(now - last_publish - dt) * 1000])[-128:]
            last_publish = now
            if now >= next_status:
                next_status = now + 1
                with lock:
                    heard = sum(1 for at in heard_at.values() if now - at < 1)
                late = sorted(intervals)
                p99 = late[min(len(late) - 1, int(0.99 * len(late)))] if late else 0
                print(json.dumps({"heard": heard, "lateP99": round(max(p99, 0), 1)}), flush=True)
        time.sleep(dt)

    subscriber.close(0)
    publisher.close(0)
    context.term()


if __name__ == "__main__":
    main()
