#!/usr/bin/python3
"""The clamav app's client: streams corpus files to clamd over TCP (zINSTREAM), several at once.

Every scan is one connection carrying the file's bytes, so with the proxy in front every replica's
clamd receives exactly the same stream. Each reply is checked against the corpus manifest
(gen_data.py): a wrong verdict or an error counts as failed. Prints one summary block that the
app.cfg metrics read (throughput, latency_ms, p99_ms, scan_s, failed, ...).

Usage: scan_client.py --target HOST:PORT --cache DIR [--files N] [--concurrency C] [--timeout S]
  --files N: scans N files, cycling through the corpus in order (default: the whole corpus once).
Exit: 0 when every scan got an answer that could be judged (failed may still be > 0, as with ab),
1 when no scan completed or the corpus is unusable, 2 for bad arguments.
"""
import argparse
import os
import socket
import struct
import subprocess
import sys
import threading
import time

CHUNK = 64 * 1024


def parse_args():
    p = argparse.ArgumentParser(description="Concurrent clamd INSTREAM scans of the generated corpus.")
    p.add_argument("--target", required=True, help="HOST:PORT of clamd (or of the proxy in front of it)")
    p.add_argument("--cache", required=True, help="data cache made by gen_data.py (created if missing)")
    p.add_argument("--files", type=int, default=0, help="files to scan (default: the corpus once)")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per scan")
    a = p.parse_args()
    host, sep, port = a.target.rpartition(":")
    if not sep or not host or not port.isdigit():
        p.error(f"--target must be HOST:PORT, got '{a.target}'")
    a.addr = (host, int(port))
    if a.files < 0 or a.concurrency < 1:
        p.error("--files must be >= 0 and --concurrency >= 1")
    return a


def load_corpus(cache, count):
    """[(name, bytes, expected reply)] for the first `count` scans (files repeat in order)."""
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([os.path.join(here, "gen_data.py"), cache], check=True)
    corpus = os.path.join(cache, "corpus")
    with open(os.path.join(corpus, "manifest.tsv")) as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    if not rows:
        raise RuntimeError(f"{corpus}/manifest.tsv is empty")
    count = count or len(rows)
    data = {}
    jobs = []
    for i in range(count):
        name, size, verdict = rows[i % len(rows)]
        if name not in data:
            with open(os.path.join(corpus, name), "rb") as f:
                data[name] = f.read()
            if len(data[name]) != int(size):
                raise RuntimeError(f"{name}: {len(data[name])} bytes, manifest says {size}")
        expected = "stream: OK" if verdict == "OK" else f"stream: {verdict} FOUND"
        jobs.append((name, data[name], expected))
    return jobs


def scan(addr, payload, timeout):
    """clamd's reply to one zINSTREAM of payload (without the trailing NUL)."""
    with socket.create_connection(addr, timeout=timeout) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        view = memoryview(payload)
        s.sendall(b"zINSTREAM\0")
        for off in range(0, len(view), CHUNK):
            part = view[off:off + CHUNK]
            s.sendall(struct.pack(">I", len(part)))
            s.sendall(part)
        s.sendall(b"\0\0\0\0")
        reply = bytearray()
        while not reply.endswith(b"\0"):
            got = s.recv(4096)
            if not got:
                break
            reply += got
    return reply.rstrip(b"\0").decode(errors="replace")


def main():
    a = parse_args()
    try:
        jobs = load_corpus(a.cache, a.files)
    except (OSError, RuntimeError, subprocess.CalledProcessError) as e:
        print(f"scan_client: corpus: {e}", file=sys.stderr)
        return 1

    next_job = 0
    lock = threading.Lock()
    latencies = []
    found = expected_found = wrong = errors = 0
    scanned_bytes = 0
    first_problems = []

    def worker():
        nonlocal next_job, found, expected_found, wrong, errors, scanned_bytes
        while True:
            with lock:
                if next_job >= len(jobs):
                    return
                name, payload, expected = jobs[next_job]
                next_job += 1
            start = time.perf_counter()
            try:
                reply = scan(a.addr, payload, a.timeout)
                err = None
            except OSError as e:
                reply, err = "", str(e)
            took = time.perf_counter() - start
            with lock:
                latencies.append(took)
                if expected != "stream: OK":
                    expected_found += 1
                if err is not None or reply.endswith("ERROR") or not reply:
                    errors += 1
                    problem = f"{name}: {err or reply or 'connection closed without a reply'}"
                else:
                    scanned_bytes += len(payload)
                    if reply.endswith(" FOUND"):
                        found += 1
                    problem = None if reply == expected else f"{name}: got '{reply}', expected '{expected}'"
                    if problem:
                        wrong += 1
                if problem and len(first_problems) < 5:
                    first_problems.append(problem)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(min(a.concurrency, len(jobs)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started

    lat = sorted(latencies)
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else 0.0
    failed = wrong + errors
    for p in first_problems:
        print(f"problem: {p}")
    print(f"files: {len(jobs)}")
    print(f"concurrency: {len(threads)}")
    print(f"found: {found}")
    print(f"expected found: {expected_found}")
    print(f"wrong verdicts: {wrong}")
    print(f"errors: {errors}")
    print(f"failed: {failed}")
    print(f"scanned MB: {scanned_bytes / 1e6:.3f}")
    print(f"scan_s: {elapsed:.3f}")
    print(f"throughput: {len(jobs) / elapsed:.2f} files/s")
    print(f"MB/s: {scanned_bytes / 1e6 / elapsed:.2f}")
    print(f"latency_ms: {1000 * sum(lat) / len(lat):.2f}")
    print(f"p99_ms: {1000 * p99:.2f}")
    return 1 if errors == len(jobs) else 0


if __name__ == "__main__":
    sys.exit(main())
