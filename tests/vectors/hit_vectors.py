#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# hit_vectors.py: independent HI / HIT / ECDSA-signature vectors for src/crypto/identity.c.
#
# This is a second implementation, written from the specifications and not from
# the C code, so that tests/unit/test_crypto.c has something to agree with:
#   - the ECDSA P-256 Host Identity bytes (RFC 7401 section 5.2.9, encoding
#     decided in docs/identity.md): ECC Curve (2 bytes, 1 = P-256) | 0x04 | X | Y;
#   - the HIT, an ORCHIDv2 (RFC 7343): 2001:20::/28 | OGA ID (4 bits) | the middle
#     96 bits of HASH(context ID | HI), for the three HIT suites
#     (1 SHA-256, 2 SHA-384, 3 SHA-1);
#   - the HIP signature: ECDSA over SHA-384 with deterministic k (RFC 6979,
#     implemented here from section 3.2), written raw r || s, 32 bytes each.
# Python's cryptography package supplies only the curve arithmetic (scalar
# multiplication of the base point), PEM I/O and an ECDSA verifier used as a
# third opinion; hashing, ORCHID encoding and RFC 6979 are done here by hand.
#
# Run with Debian's interpreter, /usr/bin/python3 (python3-cryptography):
#   hit_vectors.py [FILE]          regenerate FILE (default: hit_vectors.txt next to this script)
#   hit_vectors.py --check [FILE]  re-derive every value from the keys in FILE; exit 1 on a mismatch
# Exit status 77 (meson: skipped) when python3-cryptography is missing.
#
# File format (hit_vectors.txt): '#' lines are comments; blank lines are ignored.
# Each vector is a block:
#   vector <n>
#   scalar <private scalar, 64 hex digits>
#   -----BEGIN EC PRIVATE KEY-----      SEC1 PEM of that scalar, verbatim lines
#   ...
#   -----END EC PRIVATE KEY-----
#   hi <Host Identity field, 134 hex digits>
#   hit1 <ORCHID of hi with suite 1 (SHA-256), 32 hex digits>
#   hit2 <ORCHID of hi with suite 2 (SHA-384): the HIT, 32 hex digits>
#   hit3 <ORCHID of hi with suite 3 (SHA-1), 32 hex digits>
#   hittext <hit2 as an IPv6 address, RFC 5952 form>
#   msg <data signed, hex, may be empty>
#   sig <ECDSA-SHA384 RFC 6979 signature of msg, r || s, 128 hex digits>
#   end
# Values are lower-case hex. Vector 0 is the RFC 6979 appendix A.2.5 key and
# message "sample", whose published SHA-384 signature is checked too.

import hashlib
import hmac
import ipaddress
import os
import sys

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    from cryptography.exceptions import InvalidSignature
except ImportError:
    print("hit_vectors.py: python3-cryptography is not installed; skipping", file=sys.stderr)
    sys.exit(77)

# NIST P-256 group order (FIPS 186-4 D.1.2.3).
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
QLEN = 256
COORD = 32

# RFC 7343 section 3 / RFC 7401 section 3.2.
CONTEXT_ID = bytes.fromhex("F0EFF02FBFF43D0FE7930C3C6E6174EA")
SUITE_HASH = {1: hashlib.sha256, 2: hashlib.sha384, 3: hashlib.sha1}

# RFC 6979 A.2.5: P-256 key and the SHA-384 signature of "sample".
RFC6979_D = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721
RFC6979_R = 0x0EAFEA039B20E9B42309FB1D89E213057CBF973DC0CFC8F129EDDDC800EF7719
RFC6979_S = 0x4861F0491E6998B9455193E34E7B0D284DDD7149A74B95B9261F13ABDE940954


def base_mult(k):
    """(k*G) as affine integers."""
    pub = ec.derive_private_key(k, ec.SECP256R1()).public_key().public_numbers()
    return pub.x, pub.y


def host_identity(d):
    x, y = base_mult(d)
    hi = (1).to_bytes(2, "big") + b"\x04" + x.to_bytes(COORD, "big") + y.to_bytes(COORD, "big")
    assert len(hi) == 67
    return hi


def orchid(suite, hi):
    digest = SUITE_HASH[suite](CONTEXT_ID + hi).digest()
    bits = len(digest) * 8
    # Encode_96: drop (bits - 96) / 2 bits on each side, keep the middle 96.
    middle = (int.from_bytes(digest, "big") >> ((bits - 96) // 2)) & ((1 << 96) - 1)
    prefix = (0x2001002 << 4) | suite  # 2001:20::/28 then the 4-bit OGA ID
    return prefix.to_bytes(4, "big") + middle.to_bytes(12, "big")


def bits2int(b):
    v = int.from_bytes(b, "big")
    blen = len(b) * 8
    return v >> (blen - QLEN) if blen > QLEN else v


def rfc6979_sign(d, msg):
    """ECDSA P-256 over SHA-384(msg), k per RFC 6979 section 3.2 with HMAC-SHA-384."""
    h1 = hashlib.sha384(msg).digest()
    e = bits2int(h1)
    mac = lambda key, data: hmac.new(key, data, hashlib.sha384).digest()
    x_oct = d.to_bytes(COORD, "big")
    h_oct = (e % N).to_bytes(COORD, "big")  # bits2octets
    v = b"\x01" * 48
    k_ = b"\x00" * 48
    k_ = mac(k_, v + b"\x00" + x_oct + h_oct)
    v = mac(k_, v)
    k_ = mac(k_, v + b"\x01" + x_oct + h_oct)
    v = mac(k_, v)
    while True:
        t = b""
        while len(t) * 8 < QLEN:
            v = mac(k_, v)
            t += v
        k = bits2int(t)
        if 1 <= k < N:
            r = base_mult(k)[0] % N
            if r != 0:
                s = pow(k, -1, N) * (e + r * d) % N
                if s != 0:
                    return r.to_bytes(COORD, "big") + s.to_bytes(COORD, "big")
        k_ = mac(k_, v + b"\x00")
        v = mac(k_, v)


def cross_verify(d, msg, sig):
    """Third opinion: OpenSSL (via cryptography) must accept sig for msg."""
    pub = ec.derive_private_key(d, ec.SECP256R1()).public_key()
    der = encode_dss_signature(int.from_bytes(sig[:COORD], "big"), int.from_bytes(sig[COORD:], "big"))
    try:
        pub.verify(der, msg, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        return False
    return True


def pem_of(d):
    key = ec.derive_private_key(d, ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode("ascii")


def seeded_scalar(label):
    return int.from_bytes(hashlib.sha256(label.encode()).digest(), "big") % (N - 1) + 1


def search_scalar(label, pred):
    """First seeded scalar whose public point satisfies pred: reproducible edge cases."""
    i = 0
    while True:
        d = seeded_scalar("%s %d" % (label, i))
        if pred(*base_mult(d)):
            return d
        i += 1


def search_msg(d, label, pred):
    i = 0
    while True:
        msg = ("%s %d" % (label, i)).encode()
        sig = rfc6979_sign(d, msg)
        if pred(sig):
            return msg
        i += 1


def derive(d, msg):
    hi = host_identity(d)
    hit2 = orchid(2, hi)
    return {
        "scalar": "%064x" % d,
        "pem": pem_of(d),
        "hi": hi.hex(),
        "hit1": orchid(1, hi).hex(),
        "hit2": hit2.hex(),
        "hit3": orchid(3, hi).hex(),
        "hittext": str(ipaddress.IPv6Address(hit2)),
        "msg": msg.hex(),
        "sig": rfc6979_sign(d, msg).hex(),
    }


def generate():
    small = 1 << (8 * (COORD - 1))  # a 32-byte value below this has a leading zero byte
    plain1 = seeded_scalar("idloc hit vector 1")
    plain2 = seeded_scalar("idloc hit vector 2")
    cases = [
        (RFC6979_D, b"sample"),
        # r with a leading zero byte: catches minimal-length (non-padded) output.
        (plain1, search_msg(plain1, "idloc r pad", lambda s: s[0] == 0)),
        # s with a leading zero byte.
        (plain2, search_msg(plain2, "idloc s pad", lambda s: s[COORD] == 0)),
        # X and Y with a leading zero byte: the HI must stay fixed-length.
        (search_scalar("idloc x pad", lambda x, y: x < small), b""),
        (search_scalar("idloc y pad", lambda x, y: y < small), b"\x00" * 100),
    ]
    return [derive(d, msg) for d, msg in cases]


def write(path, vectors):
    with open(path, "w") as f:
        f.write("# hit_vectors.txt: generated by hit_vectors.py (format described there); do not edit.\n")
        f.write("# Regenerate: /usr/bin/python3 tests/vectors/hit_vectors.py\n")
        for n, v in enumerate(vectors):
            f.write("\nvector %d\n" % n)
            f.write("scalar %s\n" % v["scalar"])
            f.write(v["pem"])
            for key in ("hi", "hit1", "hit2", "hit3", "hittext", "msg", "sig"):
                f.write("%s %s\n" % (key, v[key]))
            f.write("end\n")


def read(path):
    vectors, cur, pem = [], None, None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if pem is not None:
                pem.append(line)
                if line.startswith("-----END "):
                    cur["pem"] = "\n".join(pem) + "\n"
                    pem = None
                continue
            if not line or line.startswith("#"):
                continue
            if line.startswith("-----BEGIN "):
                pem = [line]
                continue
            key, _, value = line.partition(" ")
            if key == "vector":
                cur = {}
            elif key == "end":
                vectors.append(cur)
                cur = None
            else:
                cur[key] = value
    if cur is not None or pem is not None:
        raise ValueError("%s: truncated vector" % path)
    return vectors


def check(path):
    vectors = read(path)
    failures = 0
    if len(vectors) < 2:
        print("%s: only %d vectors" % (path, len(vectors)), file=sys.stderr)
        return 1
    first = vectors[0]
    published = RFC6979_R.to_bytes(COORD, "big") + RFC6979_S.to_bytes(COORD, "big")
    if int(first["scalar"], 16) != RFC6979_D or bytes.fromhex(first["sig"]) != published:
        print("vector 0: not the RFC 6979 A.2.5 SHA-384 'sample' signature", file=sys.stderr)
        failures += 1
    for n, v in enumerate(vectors):
        key = serialization.load_pem_private_key(v["pem"].encode(), password=None)
        d = key.private_numbers().private_value
        if "%064x" % d != v["scalar"]:
            print("vector %d: PEM does not hold the listed scalar" % n, file=sys.stderr)
            failures += 1
        want = derive(d, bytes.fromhex(v["msg"]))
        for field in ("hi", "hit1", "hit2", "hit3", "hittext", "sig"):
            if want[field] != v[field]:
                print("vector %d: %s mismatch\n  file    %s\n  derived %s" % (n, field, v[field], want[field]),
                      file=sys.stderr)
                failures += 1
        if not cross_verify(d, bytes.fromhex(v["msg"]), bytes.fromhex(v["sig"])):
            print("vector %d: OpenSSL rejects the signature" % n, file=sys.stderr)
            failures += 1
    print("%s: %d vectors, %d mismatches" % (path, len(vectors), failures))
    return 1 if failures else 0


def main(argv):
    args = argv[1:]
    checking = "--check" in args
    args = [a for a in args if a != "--check"]
    path = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "hit_vectors.txt")
    if checking:
        return check(path)
    write(path, generate())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
