#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# gen_overlay_msg_seeds.py: writes the seed corpus of fuzz_overlay_msg (format: docs/overlay.md
# "Routing and messages"; chunk framing: the header of tests/fuzz/fuzz_overlay_msg.c).
# Usage: gen_overlay_msg_seeds.py OUTDIR
import hashlib
import os
import struct
import sys

START = 1700000000000
MASK = (1 << 64) - 1

PING, PONG, HOP_ACK, FIND, FIND_REPLY, GET, GET_REPLY, PUT, PUT_REPLY, STORE, LEAVE, HIP, ERROR = range(1, 14)
F_MAINT, F_DIRECT = 1, 2


def hit(tag):
    return bytes([0x20, 0x01, 0x00, 0x25]) + bytes([tag]) * 12


def node_id(h):
    return hashlib.sha256(b"idloc-node-id" + h).digest()[:16]


def name_key(name):
    return hashlib.sha256(b"idloc-name:" + name.encode()).digest()[:16]


SELF_HIT = hit(0x11)
SELF = node_id(SELF_HIT)
PEER_HITS = [hit(0x40 + i * 0x11) for i in range(5)]
PEERS = [node_id(h) for h in PEER_HITS]


def splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def engine_txids(count):
    state = struct.unpack(">Q", SELF[:8])[0] ^ struct.unpack(">Q", SELF[8:])[0] ^ START
    out = []
    while len(out) < count:
        state, v = splitmix(state)
        if v and v not in out:
            out.append(v)
    return out


JOIN_TXID, GET_TXID = engine_txids(2)


def msg(mtype, txid, target, via=(), flags=0, ttl=0, body=b""):
    return (bytes([1, mtype, flags, ttl]) + struct.pack(">Q", txid) + target +
            bytes([len(via)]) + b"".join(via) + body)


def contact(h, fam=4):
    if fam == 4:
        loc = bytes([4]) + struct.pack(">H", 10500) + bytes([10, 0, 0, h[4]])
    elif fam == 6:
        loc = bytes([6]) + struct.pack(">H", 10500) + bytes(15) + bytes([h[4]])
    else:
        loc = bytes([0, 0, 0])
    return node_id(h) + h + loc


def record(name, seq=1, expires=START + 30 * 60 * 1000, payload=b"", kind=1, hi=None):
    hi = hi if hi is not None else hit(0x99) + bytes(16)
    nb = name.encode() + b"\0"
    body = (bytes([1, kind, len(nb)]) + nb + struct.pack(">HH", 0xFFF0, len(hi)) + hi +
            struct.pack(">QQH", seq, expires, len(payload)) + payload)
    x = 0
    for b in b"idloc-overlay-record" + body:
        x ^= b
    return body + struct.pack(">H", 1) + bytes([x])


def chunk(who, m, dt=1):
    return bytes([who, dt]) + struct.pack(">H", len(m)) + m


def blob(b):
    return struct.pack(">H", len(b)) + b


def seeds():
    s = {}
    rec_a = record("a.example")
    rec_b = record("b.example", seq=5, payload=b"hints")
    key_b = name_key("b.example")
    other = bytes(range(16))
    find_reply = bytes([3]) + contact(PEER_HITS[0]) + contact(hit(0x77), 6) + contact(hit(0x78), 0)
    # Join completes through whichever first hop the engine chose.
    s["join_ack_reply"] = b"".join(
        chunk(i, msg(HOP_ACK, JOIN_TXID, SELF, flags=F_MAINT)) +
        chunk(i, msg(FIND_REPLY, JOIN_TXID, SELF, via=[SELF], flags=F_MAINT, ttl=2, body=find_reply))
        for i in range(4))
    s["resolve_found"] = b"".join(
        chunk(i, msg(GET_REPLY, GET_TXID, name_key("a.example"), via=[SELF], ttl=3,
                     body=bytes([0, 1]) + blob(rec_a)))
        for i in range(4))
    s["resolve_not_found"] = b"".join(
        chunk(i, msg(GET_REPLY, GET_TXID, name_key("a.example"), via=[SELF], ttl=3, body=bytes([1, 0])))
        for i in range(4))
    s["resolve_ttl"] = b"".join(
        chunk(i, msg(ERROR, GET_TXID, name_key("a.example"), via=[SELF], ttl=1, body=bytes([1])))
        for i in range(4))
    s["ping"] = chunk(0, msg(PING, 77, SELF, flags=F_MAINT)) + chunk(4, msg(PING, 78, SELF, flags=F_MAINT))
    s["pong"] = chunk(1, msg(PONG, 79, PEERS[1], flags=F_MAINT))
    # A request forwarded on, acknowledged, answered, and the answer relayed back.
    fwd = b""
    for i in range(1, 4):
        fwd += chunk(i, msg(HOP_ACK, 0x1234, other))
        fwd += chunk(i, msg(FIND_REPLY, 0x1234, other, via=[PEERS[0], SELF], ttl=2, body=find_reply))
    s["forward_find"] = chunk(0, msg(FIND, 0x1234, other, via=[PEERS[0]], ttl=5)) + fwd
    s["forward_get"] = (chunk(0, msg(GET, 0x2345, key_b, via=[PEERS[0]], ttl=5)) + b"".join(
        chunk(i, msg(GET_REPLY, 0x2345, key_b, via=[PEERS[0], SELF], ttl=2, body=bytes([0, 1]) + blob(rec_b)))
        for i in range(1, 4)))
    s["put"] = chunk(2, msg(PUT, 0x3456, key_b, via=[PEERS[3], PEERS[2]], ttl=4, body=blob(rec_b)))
    s["put_stale_then_new"] = (s["put"] + chunk(1, msg(PUT, 0x3457, key_b, via=[PEERS[1]], ttl=4,
                                                       body=blob(record("b.example", seq=4)))) +
                               chunk(1, msg(PUT, 0x3458, key_b, via=[PEERS[1]], ttl=4,
                                            body=blob(record("b.example", seq=6)))))
    s["put_forged"] = chunk(1, msg(PUT, 0x3459, key_b, via=[PEERS[1]], ttl=4,
                                   body=blob(rec_b[:-1] + bytes([rec_b[-1] ^ 1]))))
    s["store"] = chunk(3, msg(STORE, 9, key_b, flags=F_MAINT, body=blob(rec_b)))
    s["store_then_get"] = s["store"] + chunk(1, msg(GET, 0x4567, key_b, via=[PEERS[1]], ttl=3))
    s["direct_get"] = s["store"] + chunk(2, msg(GET, 0x5678, key_b, via=[PEERS[2]], flags=F_DIRECT, ttl=1))
    s["hip_for_us"] = chunk(0, msg(HIP, 0x6789, SELF, via=[PEERS[0]], ttl=3, body=blob(bytes(40))))
    s["hip_elsewhere"] = chunk(0, msg(HIP, 0x678A, other, via=[PEERS[0]], ttl=1, body=blob(bytes(40))))
    s["leave"] = chunk(2, msg(LEAVE, 5, PEERS[2], flags=F_MAINT))
    s["ttl_exhausted"] = chunk(0, msg(FIND, 0x789A, other, via=[PEERS[0]], ttl=1))
    s["loop"] = chunk(0, msg(GET, 0x89AB, other, via=[SELF, PEERS[0]], ttl=3))
    s["put_reply"] = chunk(1, msg(PUT_REPLY, 0x1111, other, via=[SELF], ttl=1, body=bytes([1, 1])))
    s["timeouts"] = chunk(0, msg(PING, 1, SELF), dt=255) * 8
    s["garbage"] = chunk(0, bytes(range(60)))
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_overlay_msg")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    # The parser alone: single messages without chunk framing.
    for name, data in {
        "raw_ping": msg(PING, 1, SELF, flags=F_MAINT),
        "raw_find_reply": msg(FIND_REPLY, 2, SELF, via=[SELF, PEERS[0]], ttl=2,
                              body=bytes([2]) + contact(PEER_HITS[1]) + contact(PEER_HITS[2], 6)),
        "raw_get_reply": msg(GET_REPLY, 3, SELF, via=[SELF, PEERS[1]], ttl=2,
                             body=bytes([0, 2]) + blob(record("a.example")) + blob(record("c.example"))),
        "raw_put": msg(PUT, 4, name_key("a.example"), via=[SELF], ttl=16, body=blob(record("a.example"))),
    }.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
