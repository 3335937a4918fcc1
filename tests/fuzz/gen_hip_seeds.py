#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# gen_hip_seeds.py: writes the seed corpus of fuzz_hip_msg (HIPv2 packets shaped like
# I1/R1/I2/R2/UPDATE/NOTIFY/CLOSE/CLOSE_ACK). Deterministic; run from anywhere:
#   /usr/bin/python3 tests/fuzz/gen_hip_seeds.py
# HIP_MAC / HIP_MAC_2 values are real, computed with the key fuzz_hip_msg.c uses, so the
# fuzzer starts from packets that pass MAC verification. Signatures are fixed dummy bytes
# (the fuzz target's key is generated at run time).
import hashlib
import hmac
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_hip_msg")
MAC_KEY = b"key" + bytes(45)  # fuzz_hip_msg.c mac_key

HIT_I = bytes.fromhex("20010022" + "11" * 12)
HIT_R = bytes.fromhex("20010022" + "22" * 12)

I1, R1, I2, R2, UPDATE, NOTIFY, CLOSE, CLOSE_ACK = 1, 2, 3, 4, 16, 17, 18, 19
ESP_INFO, R1_COUNTER, LOCATOR_SET, PUZZLE, SOLUTION = 65, 129, 193, 257, 321
SEQ, ACK, DH_GROUP_LIST, DIFFIE_HELLMAN, HIP_CIPHER = 385, 449, 511, 513, 579
ENCRYPTED, HOST_ID, HIT_SUITE_LIST, NOTIFICATION = 641, 705, 715, 832
ECHO_REQUEST_SIGNED, ECHO_RESPONSE_SIGNED = 897, 961
TRANSPORT_FORMAT_LIST, ESP_TRANSFORM = 2049, 4095
HIP_MAC, HIP_MAC_2, HIP_SIGNATURE_2, HIP_SIGNATURE = 61505, 61569, 61633, 61697
ECHO_RESPONSE_UNSIGNED, ECHO_REQUEST_UNSIGNED = 63425, 63661


def tlv(t, contents):
    n = len(contents)
    total = 11 + n - (n + 3) % 8
    return struct.pack(">HH", t, n) + contents + bytes(total - 4 - n)


def header(ptype, body_len, sender, receiver):
    hl = (40 + body_len) // 8 - 1
    return bytes([59, hl, ptype, 0x21]) + bytes(4) + sender + receiver


def packet(ptype, params, sender=HIT_I, receiver=HIT_R):
    body = b"".join(params)
    return header(ptype, len(body), sender, receiver) + body


def with_mac(ptype, params, mac_type=HIP_MAC, extra=b"", sender=HIT_I, receiver=HIT_R):
    body = b"".join(params)
    covered = header(ptype, len(body) + len(extra), sender, receiver) + body
    mac = hmac.new(MAC_KEY, covered + extra, hashlib.sha384).digest()
    return params + [tlv(mac_type, mac)]


def fake_sig(t):
    return tlv(t, struct.pack(">H", 7) + bytes(range(64)))


ECDSA_HI = struct.pack(">H", 1) + b"\x04" + bytes(range(1, 65))
HOST_ID_P = tlv(HOST_ID, struct.pack(">HHH", len(ECDSA_HI), 0, 7) + ECDSA_HI)
DH_PUB = bytes(range(0x40, 0x80))
PUZZLE_P = tlv(PUZZLE, bytes([10, 37, 0xAB, 0xCD]) + bytes(range(48)))
SOLUTION_P = tlv(SOLUTION, bytes([10, 0, 0xAB, 0xCD]) + bytes(range(48)) + bytes(48))


def seeds():
    yield "i1", packet(I1, [tlv(DH_GROUP_LIST, bytes([7, 9, 3]))], receiver=bytes(16))
    yield "i1_empty", packet(I1, [])
    yield "r1", packet(
        R1,
        [
            tlv(R1_COUNTER, bytes(4) + struct.pack(">Q", 1)),
            PUZZLE_P,
            tlv(DH_GROUP_LIST, bytes([7])),
            tlv(DIFFIE_HELLMAN, struct.pack(">BH", 7, len(DH_PUB)) + DH_PUB),
            tlv(HIP_CIPHER, struct.pack(">HH", 4, 2)),
            HOST_ID_P,
            tlv(HIT_SUITE_LIST, bytes([0x20, 0x10])),
            tlv(TRANSPORT_FORMAT_LIST, struct.pack(">H", 4095)),
            tlv(ESP_TRANSFORM, struct.pack(">HHH", 0, 13, 8)),
            fake_sig(HIP_SIGNATURE_2),
            tlv(ECHO_REQUEST_UNSIGNED, b"nonce"),
        ],
        sender=HIT_R,
        receiver=bytes(16),
    )
    i2 = [
        tlv(ESP_INFO, struct.pack(">HHII", 0, 160, 0, 0x11223344)),
        tlv(R1_COUNTER, bytes(4) + struct.pack(">Q", 1)),
        SOLUTION_P,
        tlv(DIFFIE_HELLMAN, struct.pack(">BH", 7, len(DH_PUB)) + DH_PUB),
        tlv(HIP_CIPHER, struct.pack(">H", 4)),
        tlv(ENCRYPTED, bytes(4) + bytes(16) + bytes(range(96))),
        tlv(TRANSPORT_FORMAT_LIST, struct.pack(">H", 4095)),
        tlv(ESP_TRANSFORM, struct.pack(">HH", 0, 13)),
    ]
    yield "i2", packet(I2, with_mac(I2, i2) + [fake_sig(HIP_SIGNATURE)])
    i2_clear = i2[:5] + [HOST_ID_P] + i2[6:]
    yield "i2_clear_hi", packet(I2, with_mac(I2, i2_clear) + [fake_sig(HIP_SIGNATURE)])
    r2 = [tlv(ESP_INFO, struct.pack(">HHII", 0, 160, 0, 0x55667788))]
    yield "r2", packet(
        R2,
        with_mac(R2, r2, HIP_MAC_2, sender=HIT_R, receiver=HIT_I) + [fake_sig(HIP_SIGNATURE)],
        HIT_R,
        HIT_I,
    )
    # Traffic type 0, locator type 1 (SPI + address), length 5, P; lifetime, SPI, IPv4-mapped.
    locator = bytes([0, 1, 5, 1]) + struct.pack(">II", 0x80, 0x55667788)
    locator += bytes(10) + b"\xff\xff" + bytes([192, 0, 2, 7])
    upd = [
        tlv(ESP_INFO, struct.pack(">HHII", 0, 0, 0x55667788, 0x55667788)),
        tlv(LOCATOR_SET, locator),
        tlv(LOCATOR_SET, locator),
        tlv(SEQ, struct.pack(">I", 1)),
        tlv(ACK, struct.pack(">II", 3, 4)),
        tlv(ECHO_REQUEST_SIGNED, b"challenge"),
    ]
    yield "update", packet(UPDATE, with_mac(UPDATE, upd) + [fake_sig(HIP_SIGNATURE)])
    yield "notify", packet(
        NOTIFY,
        [tlv(NOTIFICATION, struct.pack(">HH", 0, 44) + b"busy"), fake_sig(HIP_SIGNATURE)],
    )
    yield "close", packet(
        CLOSE, with_mac(CLOSE, [tlv(ECHO_REQUEST_SIGNED, b"bye!")]) + [fake_sig(HIP_SIGNATURE)]
    )
    yield "close_ack", packet(
        CLOSE_ACK,
        with_mac(CLOSE_ACK, [tlv(ECHO_RESPONSE_SIGNED, b"bye!")], sender=HIT_R, receiver=HIT_I)
        + [fake_sig(HIP_SIGNATURE)],
        HIT_R,
        HIT_I,
    )
    yield "echo_unsigned", packet(
        UPDATE,
        with_mac(UPDATE, [tlv(SEQ, struct.pack(">I", 9))])
        + [tlv(ECHO_RESPONSE_UNSIGNED, b"r"), tlv(ECHO_REQUEST_UNSIGNED, b"q")],
    )


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds():
        assert len(data) % 8 == 0 and len(data) <= 2048
        assert data[1] == len(data) // 8 - 1
        with open(os.path.join(OUT, name + ".bin"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
