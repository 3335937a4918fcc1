#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# gen_fuzz_offload.py: writes the seed corpus of fuzz_offload.c.
#
# Records as the target reads them: a virtio-net header (host order, little
# endian here), a 16-bit big-endian length, the packet. Packets are built
# here with Python's struct module and checksums summed from scratch, apart
# from src/common/csum.c. Run from anywhere:
#   /usr/bin/python3 tests/fuzz/gen_fuzz_offload.py
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_offload")
SRC4, DST4 = bytes([100, 64, 0, 1]), bytes([100, 64, 0, 2])
SRC6 = bytes.fromhex("20010020000000000000000000000001")
DST6 = bytes.fromhex("20010020000000000000000000000002")
TCP, UDP = 6, 17
NEEDS_CSUM = 1
GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4 = 0, 1, 4, 5


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def ip4(proto, l4):
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0x1000, 0x4000, 64, proto, 0, SRC4, DST4)
    h = h[:10] + struct.pack(">H", ~csum(h) & 0xFFFF) + h[12:]
    return h, SRC4 + DST4


def ip6(proto, l4):
    h = struct.pack(">IHBB16s16s", 6 << 28, len(l4), proto, 64, SRC6, DST6)
    return h, SRC6 + DST6


def packet(v6, proto, l4, csum_off, partial):
    """l4 with its checksum: complete, or the pseudo-header sum (partial)."""
    hdr, addrs = (ip6 if v6 else ip4)(proto, l4)
    if v6:
        pseudo = csum(addrs + struct.pack(">IxxxB", len(l4), proto))
    else:
        pseudo = csum(addrs + struct.pack(">xBH", proto, len(l4)))
    if partial:
        c = pseudo
    else:
        c = ~csum(struct.pack(">H", pseudo) + l4) & 0xFFFF
    l4 = l4[:csum_off] + struct.pack(">H", c) + l4[csum_off + 2 :]
    return hdr + l4, len(hdr)


def tcp(seq, flags, payload):
    return struct.pack(">HHIIBBHHH", 40000, 5201, seq, 777, 5 << 4, flags, 512, 0, 0) + payload


def udp(payload):
    return struct.pack(">HHHH", 5000, 443, 8 + len(payload), 0) + payload


def record(pkt, flags=0, gso=GSO_NONE, hdr_len=0, gso_size=0, start=0, off=0):
    return struct.pack("<BBHHHH", flags, gso, hdr_len, gso_size, start, off) + struct.pack(">H", len(pkt)) + pkt


def data(n, seed=0):
    return bytes((seed + i) & 0xFF for i in range(n))


def seeds():
    for v6 in (False, True):
        name = "v6" if v6 else "v4"
        gso = GSO_TCPV6 if v6 else GSO_TCPV4
        p, l4 = packet(v6, TCP, tcp(1000, 0x18, data(4000)), 16, True)
        yield "super_tcp_" + name, record(p, NEEDS_CSUM, gso, l4 + 20, 1400, l4, 16)
        p, l4 = packet(v6, UDP, udp(data(3000)), 6, True)
        yield "super_udp_" + name, record(p, NEEDS_CSUM, GSO_UDP_L4, l4 + 8, 1200, l4, 6)
        p, l4 = packet(v6, TCP, tcp(7, 0x10, data(300)), 16, True)
        yield "partial_tcp_" + name, record(p, NEEDS_CSUM, GSO_NONE, 0, 0, l4, 16)
        stream = b""
        for i in range(5):
            p, _ = packet(v6, TCP, tcp(1 + 1000 * i, 0x10, data(1000, i)), 16, False)
            stream += record(p)
        p, _ = packet(v6, TCP, tcp(5001, 0x11, b""), 16, False)
        yield "stream_" + name, stream + record(p)
    p, _ = packet(False, UDP, udp(data(100)), 6, False)
    yield "plain_udp", record(p)
    yield "garbage", record(data(60, 0x45), NEEDS_CSUM, GSO_TCPV4, 40, 1, 20, 16)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, blob in seeds():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
