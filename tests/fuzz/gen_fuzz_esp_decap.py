#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# gen_fuzz_esp_decap.py: writes the seed corpus of fuzz_esp_decap.c.
#
# Packets are built here independently of src/esp (Python's cryptography AESGCM,
# RFC 4303 framing, RFC 4106 nonce/AAD) with the fuzz target's fixed SA, so the
# valid seeds reach the trailer and replay code. Run from anywhere:
#   /usr/bin/python3 tests/fuzz/gen_fuzz_esp_decap.py
import os
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Must match fuzz_esp_decap.c.
KEY = bytes(range(16))
SALT = bytes.fromhex("a1a2a3a4")
SPI = 0x8BADF00D

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_esp_decap")


def esp(seq, payload, next_header, pad_bytes=None, pad_len=None, spi=SPI):
    pad = (4 - (len(payload) + 2) % 4) % 4
    if pad_bytes is None:
        pad_bytes = bytes(range(1, pad + 1))
    if pad_len is None:
        pad_len = len(pad_bytes)
    hdr = struct.pack(">II", spi, seq)
    iv = struct.pack(">Q", seq)
    pt = payload + pad_bytes + bytes([pad_len, next_header])
    return hdr + iv + AESGCM(KEY).encrypt(SALT + iv, pt, hdr)


def udp_hello():
    return struct.pack(">HHHH", 4000, 5000, 13, 0) + b"hello"


def ipv6(payload, next_header, src=b"\x20\x01\x00\x20" + bytes(11) + b"\x01",
         dst=b"\x20\x01\x00\x20" + bytes(11) + b"\x02", plen=None):
    if plen is None:
        plen = len(payload)
    return struct.pack(">IHBB", 6 << 28, plen, next_header, 64) + src + dst + payload


def main():
    seeds = {
        "valid_udp_hello": esp(1, udp_hello(), 17),
        "valid_empty": esp(2, b"", 59),
        "valid_one_byte": esp(3, b"\x42", 58),
        "valid_100": esp(4, bytes(range(100)), 6),
        "valid_far_seq": esp(100000, b"abc", 17),
        "valid_seq_max": esp(0xFFFFFFFF, b"abcd", 17),
        "seq_zero": esp(0, b"abcd", 17),
        "wrong_spi": esp(1, b"abcd", 17, spi=0x11223344),
        "bad_pad_bytes": esp(5, b"a", 17, pad_bytes=b"\x07"),
        "pad_len_too_big": esp(6, b"abcd", 17, pad_bytes=b"", pad_len=200),
        "truncated": esp(7, udp_hello(), 17)[:30],
        "flipped_icv": bytearray(esp(8, udp_hello(), 17)),
        "ipv6_udp": ipv6(udp_hello(), 17),
        "ipv6_trailing": ipv6(udp_hello(), 17) + b"\0\0\0",
        "ipv6_short_payload": ipv6(udp_hello(), 17, plen=100),
        "ipv4": bytes([0x45]) + bytes(39),
        "empty": b"",
    }
    seeds["flipped_icv"][-1] ^= 1
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes(data))


if __name__ == "__main__":
    main()
