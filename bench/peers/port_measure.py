#!/usr/bin/env python3
"""Port forwarding through one Session Manager port session against a direct TCP connection,
and what open sessions cost the server.

A local service on 127.0.0.1 (threads) answers each connection's first line: `zero N` sends N
zero bytes and closes; `echo` echoes. Measured the same way directly and through
`bosun port-forward NODE LOCAL:PORT` (client -> server relay -> agent -> service):
bulk throughput of BYTES (from the first byte), p50/p99 of one-byte round trips, and a burst of
BURST connections opened at once through the one session, each echoing one byte (failed
connections counted). Then SESSIONS idle `bosun session NODE --command cat` sessions are opened
and the server's RSS growth per session is reported (--server-pid).

Usage: port_measure.py --bosun BIN --node ID --server-pid PID [--bytes N] [--echoes M]
                       [--burst K] [--sessions S]
Prints one JSON object."""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def serve(listener):
    def one(conn):
        with conn:
            f = conn.makefile("rb")
            line = f.readline().decode().split()
            if line[:1] == ["zero"]:
                left = int(line[1])
                block = bytes(1 << 16)
                while left > 0:
                    n = min(left, len(block))
                    conn.sendall(block[:n])
                    left -= n
            elif line[:1] == ["echo"]:
                while True:
                    b = f.read1(65536)
                    if not b:
                        break
                    conn.sendall(b)

    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=one, args=(conn,), daemon=True).start()


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def throughput(port, size):
    s = connect(port)
    start = time.monotonic()
    s.sendall(f"zero {size}\n".encode())
    got, first = 0, None
    while got < size:
        b = s.recv(1 << 20)
        if not b:
            break
        if first is None:
            first = time.monotonic()
        got += len(b)
    end = time.monotonic()
    s.close()
    if got < size:
        raise SystemExit(f"port {port}: read {got} of {size} bytes")
    return {"bytes": got, "seconds": round(end - first, 3),
            "mib_per_s": round(got / (1 << 20) / (end - first), 1),
            "setup_seconds": round(first - start, 3)}


def echo(port, count):
    s = connect(port)
    s.sendall(b"echo\n")
    samples = []
    for i in range(count + 10):
        t0 = time.perf_counter()
        s.sendall(b"x")
        if s.recv(1) != b"x":
            raise SystemExit(f"port {port}: the echo did not come back")
        if i >= 10:
            samples.append((time.perf_counter() - t0) * 1000)
    s.close()
    samples.sort()
    return {"count": count, "p50_ms": round(statistics.median(samples), 3),
            "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 3)}


def burst(port, count):
    def one(i):
        try:
            s = connect(port)
            s.sendall(b"echo\n" + bytes([i % 256]))
            ok = s.recv(1) == bytes([i % 256])
            s.close()
            return ok
        except OSError:
            return False

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=min(count, 256)) as pool:
        results = list(pool.map(one, range(count)))
    return {"connections": count, "failed": results.count(False),
            "seconds": round(time.monotonic() - start, 3)}


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_port(port, proc):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bosun port-forward ended: {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the forwarded port never opened")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bosun", required=True)
    p.add_argument("--node", required=True)
    p.add_argument("--server-pid", type=int, required=True)
    p.add_argument("--bytes", type=int, default=200 * (1 << 20))
    p.add_argument("--echoes", type=int, default=1000)
    p.add_argument("--burst", type=int, default=1000)
    p.add_argument("--sessions", type=int, default=50)
    a = p.parse_args()

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    service = listener.getsockname()[1]
    threading.Thread(target=serve, args=(listener,), daemon=True).start()

    say = lambda what: print(f"port_measure: {what}", file=sys.stderr, flush=True)
    say("direct TCP")
    direct = {"throughput": throughput(service, a.bytes), "echo": echo(service, a.echoes)}

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    local = probe.getsockname()[1]
    probe.close()
    fwd = subprocess.Popen([a.bosun, "port-forward", a.node, f"{local}:{service}"],
                           stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        wait_port(local, fwd)
        say("through bosun port-forward")
        forwarded = {"throughput": throughput(local, a.bytes), "echo": echo(local, a.echoes)}
        say(f"a burst of {a.burst} connections")
        forwarded["burst"] = burst(local, a.burst)
    finally:
        fwd.terminate()
        fwd.wait(timeout=30)

    say(f"{a.sessions} open sessions")
    before = rss_kb(a.server_pid)
    sessions = [subprocess.Popen([a.bosun, "session", a.node, "--command", "cat"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL) for _ in range(a.sessions)]
    # Each session is open once its cat answers.
    for s in sessions:
        s.stdin.write(b"x")
        s.stdin.flush()
        if s.stdout.read(1) != b"x":
            raise SystemExit("a session did not answer")
    after = rss_kb(a.server_pid)
    # Ctrl-C: the CLI ends each session on the node (a closed stdin does not end `cat`: the
    # data channel has no end-of-input message).
    for s in sessions:
        s.send_signal(signal.SIGINT)
    for s in sessions:
        s.wait(timeout=60)

    ratio = forwarded["throughput"]["mib_per_s"] / max(direct["throughput"]["mib_per_s"], 0.001)
    print(json.dumps({
        "label": "bosun-port-forward",
        "direct": direct,
        "forwarded": forwarded,
        "throughput_ratio_forwarded_to_direct": round(ratio, 3),
        "open_sessions": a.sessions,
        "server_rss_kb_per_open_session": round((after - before) / a.sessions, 1),
        "server_rss_kb_note": "RSS of the quickstart process: the server (its agent runs apart)",
    }))


if __name__ == "__main__":
    main()
