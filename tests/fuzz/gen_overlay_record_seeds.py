#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# gen_overlay_record_seeds.py: writes the seed corpus of fuzz_overlay_record: overlay
# records (docs/overlay.md, "Records and storage") signed with the keyed hash the fuzz
# target verifies, malformed variants, and store scripts. Deterministic; run from anywhere:
#   /usr/bin/python3 tests/fuzz/gen_overlay_record_seeds.py
# An independent encoder: it also documents the layout that record.c implements.
import hashlib
import hmac
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_overlay_record")
NOW = 1700000000000  # fuzz_overlay_record.c NOW
LIFETIME = 30 * 60 * 1000
CONTEXT = b"idloc-overlay-record"
NAME, RELAY = 1, 2
SCRIPT = b"\xff"


def hi_of(n):
    return bytes([n]) * 32


def body(kind, name, hi, seq, expires, payload, version=1, alg=0xFFF0):
    name = name + b"\0"
    return (
        bytes([version, kind, len(name)])
        + name
        + struct.pack(">HH", alg, len(hi))
        + hi
        + struct.pack(">QQH", seq, expires, len(payload))
        + payload
    )


def record(kind, name, owner=1, seq=1, expires=NOW + LIFETIME, payload=b"", **kw):
    hi = hi_of(owner)
    b = body(kind, name, hi, seq, expires, payload, **kw)
    sig = hmac.new(hi, CONTEXT + b, hashlib.sha256).digest()
    return b + struct.pack(">H", len(sig)) + sig


def put(rec):
    return b"\x00" + struct.pack(">H", len(rec)) + rec


def advance(ms):
    return b"\x01" + struct.pack(">I", ms)


EXPIRE = b"\x02"


def remove(i):
    return b"\x03" + bytes([i])


def main():
    os.makedirs(OUT, exist_ok=True)
    good = record(NAME, b"mars.example.internal", payload=b"hint:10.0.0.1:10500")
    seeds = {
        "name": good,
        "name_no_payload": record(NAME, b"a"),
        "relay_root": record(RELAY, b"relay:", owner=2, payload=b"192.0.2.1:10500"),
        "relay_branch": record(RELAY, b"relay:a1", owner=3, payload=b"[2001:db8::1]:10500"),
        "expired": record(NAME, b"old.example", expires=NOW),
        "far_future": record(NAME, b"future.example", expires=NOW + 25 * 3600 * 1000),
        "bad_sig": good[:-1] + bytes([good[-1] ^ 1]),
        "truncated": good[:-5],
        "trailing": good + b"\0",
        "uppercase": record(NAME, b"Mars.example"),
        "version2": record(NAME, b"mars.example", version=2),
        "relay_as_name": record(NAME, b"relay:a"),
        "empty": b"",
        # FCFS: owner 2 is refused while owner 1 holds the name, accepted after expiry.
        "script_fcfs": SCRIPT
        + put(record(NAME, b"venus.example", owner=1, expires=NOW + 1000))
        + put(record(NAME, b"venus.example", owner=2, seq=9))
        + advance(1000)
        + put(record(NAME, b"venus.example", owner=2, seq=9))
        + EXPIRE,
        # Sequence numbers: refresh, stale, newer, remove.
        "script_seq": SCRIPT
        + put(record(NAME, b"io.example", seq=5))
        + put(record(NAME, b"io.example", seq=5))
        + put(record(NAME, b"io.example", seq=4))
        + put(record(NAME, b"io.example", seq=5, payload=b"x"))
        + put(record(NAME, b"io.example", seq=6))
        + remove(0)
        + EXPIRE,
        # Relay branch limit (2 in the fuzz config), then a deeper branch.
        "script_relay": SCRIPT
        + put(record(RELAY, b"relay:", owner=1, payload=b"a"))
        + put(record(RELAY, b"relay:", owner=2, payload=b"b"))
        + put(record(RELAY, b"relay:", owner=3, payload=b"c"))
        + put(record(RELAY, b"relay:", owner=2, seq=2, payload=b"bb"))
        + put(record(RELAY, b"relay:0", owner=3, payload=b"c"))
        + EXPIRE,
        # Per-owner record quota (4): the fifth small record of one owner is refused.
        "script_quota_records": SCRIPT
        + b"".join(put(record(NAME, b"r%d.example" % i)) for i in range(5))
        + EXPIRE,
        # Per-owner byte quota (1024), and the total (3000).
        "script_quota": SCRIPT
        + b"".join(put(record(NAME, b"q%d.example" % i, payload=bytes(200))) for i in range(6))
        + b"".join(
            put(record(NAME, b"t%d.example" % i, owner=10 + i, payload=bytes(500)))
            for i in range(6)
        )
        + EXPIRE
        + remove(1)
        + put(record(NAME, b"q5.example", payload=bytes(200))),
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
