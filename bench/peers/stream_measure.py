#!/usr/bin/env python3
"""Measure a remote-shell transport the same way for every peer: bulk throughput of
`head -c BYTES /dev/zero` read from the transport's stdout, and the round trip of one byte
echoed by a remote `cat`, repeated. The transport is any command prefix that takes the remote
command as its last argument (`bosun session NODE --command`, `ssh -p PORT host`).

Usage: stream_measure.py --label NAME [--bytes N] [--echoes M] -- PREFIX...
Prints one JSON object."""
import argparse
import json
import os
import statistics
import signal
import subprocess
import sys
import time


def throughput(prefix, size):
    start = time.monotonic()
    proc = subprocess.Popen(prefix + [f"head -c {size} /dev/zero"], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    got = 0
    first = None
    while True:
        chunk = proc.stdout.read1(1 << 20)
        if not chunk:
            break
        if first is None:
            first = time.monotonic()
        got += len(chunk)
    proc.wait()
    end = time.monotonic()
    if got < size:
        raise SystemExit(f"{prefix[0]}: read {got} of {size} bytes (exit {proc.returncode})")
    # Session setup is excluded: from the first byte to the last.
    return {"bytes": got, "seconds": round(end - first, 3),
            "mib_per_s": round(got / (1 << 20) / (end - first), 1),
            "setup_seconds": round(first - start, 3)}


def echo(prefix, count):
    proc = subprocess.Popen(prefix + ["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            bufsize=0)
    out = proc.stdout
    samples = []
    for i in range(count + 10):
        t0 = time.perf_counter()
        proc.stdin.write(b"x")
        if out.read(1) != b"x":
            raise SystemExit(f"{prefix[0]}: the echo did not come back")
        if i >= 10:  # the first round trips warm the path up
            samples.append((time.perf_counter() - t0) * 1000)
    # ssh ends at stdin's end; a Session Manager session does not (the protocol has no EOF,
    # as with AWS's plugin), so it is ended as a user would, with Ctrl-C.
    proc.stdin.close()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    samples.sort()
    return {"count": count, "p50_ms": round(statistics.median(samples), 3),
            "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 3)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--bytes", type=int, default=200 * (1 << 20))
    parser.add_argument("--echoes", type=int, default=1000)
    parser.add_argument("prefix", nargs="+")
    args = parser.parse_args()
    result = {"label": args.label, "throughput": throughput(args.prefix, args.bytes),
              "echo": echo(args.prefix, args.echoes)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
