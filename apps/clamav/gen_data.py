#!/usr/bin/python3
"""Generates the clamav app's signature database and scan corpus into CACHE_DIR, once.

Everything is derived from SHAKE-256 streams of fixed seeds, so the output is byte-identical on
every machine and every run. prepare.sh copies the database into each replica (every replica loads
the same signatures) and the scan client reads the corpus and its expected verdicts from here.
A finished cache holds a stamp naming the generator version; a half-written one (crash, Ctrl-C) has
none and is regenerated. Concurrent callers serialize on a lock file.

Usage: gen_data.py CACHE_DIR
"""
import fcntl
import hashlib
import os
import shutil
import sys

# Bump when anything below changes: the stamp then no longer matches and the cache is rebuilt.
VERSION = "clamav-data-2"

NDB_SIGNATURES = 60000      # body signatures (.ndb), 16..31 bytes, some with wildcards
HDB_SIGNATURES = 100000     # whole-file MD5 signatures (.hdb) that match nothing, plus the corpus ones
CORPUS_FILES = 256
INFECTED_BODY_EVERY = 8     # every 8th file carries one .ndb signature's bytes
INFECTED_HASH_EVERY = 32    # every 32nd file (offset 5) is listed by MD5 in the .hdb


def stream(label, n):
    """n deterministic pseudo-random bytes for label."""
    return hashlib.shake_256(("lockstep-clamav/" + label).encode()).digest(n)


def ndb_pattern(i):
    """Signature i's literal bytes and its .ndb hex body (a wildcard gap in every 4th)."""
    raw = stream(f"ndb/{i}", 32)
    length = 16 + raw[0] % 16
    body = raw[1:1 + length]
    if i % 4 == 3:
        # Two literal halves joined by a bounded gap: clamd's matcher must verify both parts.
        half = length // 2
        return body[:half] + b"\0\0\0\0" + body[half:], body[:half].hex() + "{4}" + body[half:].hex()
    return body, body.hex()


def file_size(i):
    raw = stream(f"size/{i}", 4)
    return 16 * 1024 + (int.from_bytes(raw, "little") % (112 * 1024))  # 16 KiB .. 128 KiB


def generate(out):
    db = os.path.join(out, "db")
    corpus = os.path.join(out, "corpus")
    os.makedirs(db)
    os.makedirs(corpus)

    with open(os.path.join(db, "lockstep.ndb"), "w") as f:
        for i in range(NDB_SIGNATURES):
            f.write(f"Lockstep.Body.{i}:0:*:{ndb_pattern(i)[1]}\n")

    manifest = []
    hash_hits = []
    for i in range(CORPUS_FILES):
        name = f"f{i:05d}.bin"
        data = bytearray(stream(f"file/{i}", file_size(i)))
        verdict = "OK"
        if i % INFECTED_BODY_EVERY == 0:
            sig = (i * 7919) % NDB_SIGNATURES
            literal = ndb_pattern(sig)[0]
            at = int.from_bytes(stream(f"offset/{i}", 4), "little") % (len(data) - len(literal))
            data[at:at + len(literal)] = literal
            verdict = f"Lockstep.Body.{sig}.UNOFFICIAL"
        elif i % INFECTED_HASH_EVERY == 5:
            name_sig = f"Lockstep.Hash.{i}"
            hash_hits.append(f"{hashlib.md5(data).hexdigest()}:{len(data)}:{name_sig}\n")
            verdict = name_sig + ".UNOFFICIAL"
        with open(os.path.join(corpus, name), "wb") as f:
            f.write(data)
        manifest.append(f"{name}\t{len(data)}\t{verdict}\n")

    with open(os.path.join(db, "lockstep.hdb"), "w") as f:
        for i in range(HDB_SIGNATURES):
            raw = stream(f"hdb/{i}", 20)
            f.write(f"{raw[:16].hex()}:{16384 + int.from_bytes(raw[16:], 'little') % 114688}:Lockstep.NoMatch.{i}\n")
        f.writelines(hash_hits)
    with open(os.path.join(corpus, "manifest.tsv"), "w") as f:
        f.writelines(manifest)


def main():
    if len(sys.argv) != 2:
        print("usage: gen_data.py CACHE_DIR", file=sys.stderr)
        return 2
    cache = sys.argv[1]
    os.makedirs(cache, exist_ok=True)
    stamp = os.path.join(cache, "complete")
    with open(os.path.join(cache, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(stamp) as f:
                if f.read().strip() == VERSION:
                    return 0
        except FileNotFoundError:
            pass
        for sub in ("db", "corpus", "complete"):
            path = os.path.join(cache, sub)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.remove(path)
        generate(cache)
        with open(stamp, "w") as f:
            f.write(VERSION + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
