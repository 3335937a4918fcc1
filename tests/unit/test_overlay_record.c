/* SPDX-License-Identifier: MIT */
/* test_overlay_record.c: record wire format, signatures (keyed hash and ECDSA), strict parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "crypto/hash.h"
#include "crypto/identity.h"
#include "overlay/id.h"
#include "overlay/record.h"

#define NOW      1700000000000ull
#define LIFETIME (30 * 60 * 1000ull)
#define CONTEXT  "idloc-overlay-record"

/* ---- a keyed-hash signer: sig = HMAC-SHA256(key = HI, data), owner = a HIT from SHA-256(HI) ----
 * Anyone can forge it (the HI is public); it stands in for ECDSA where only
 * the record plumbing is under test, as in the simulator. */
struct fake {
	uint8_t hi[32];
	int sign_error;   /* returned by sign when nonzero */
	size_t siglen;    /* reported signature length when nonzero */
	int verify_error; /* returned by verify when nonzero */
};

static int fake_sign(void *ctx, const uint8_t *data, size_t len, uint8_t *sig, size_t *siglen)
{
	struct fake *f = ctx;

	if (f->sign_error)
		return f->sign_error;
	assert_true(*siglen >= 32);
	assert_int_equal(hmac_compute(HASH_SHA256, f->hi, sizeof(f->hi), data, len, sig), 0);
	*siglen = f->siglen ? f->siglen : 32;
	return 0;
}

static void fake_owner(const uint8_t *hi, size_t hi_len, struct hit *ret)
{
	uint8_t d[HASH_MAX_LEN];

	assert_int_equal(hash_digest(HASH_SHA256, hi, hi_len, d), 0);
	memcpy(ret->b, d, HIT_LEN);
	ret->b[0] = 0x20;
	ret->b[1] = 0x01;
}

static int fake_verify(void *ctx, uint16_t alg, const uint8_t *hi, size_t hi_len,
                       const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen,
                       struct hit *ret_owner)
{
	struct fake *f = ctx;
	uint8_t mac[HASH_MAX_LEN];

	if (f && f->verify_error)
		return f->verify_error;
	if (alg != 0xfff0 || siglen != 32)
		return -EBADMSG;
	assert_int_equal(hmac_compute(HASH_SHA256, hi, hi_len, data, len, mac), 0);
	if (memcmp_ct(mac, sig, 32) != 0)
		return -EBADMSG;
	fake_owner(hi, hi_len, ret_owner);
	return 0;
}

static void fake_init(struct fake *f, uint8_t seed, struct ovl_ops *ops)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < sizeof(f->hi); i++)
		f->hi[i] = (uint8_t)(seed + i);
	memset(ops, 0, sizeof(*ops));
	ops->ctx = f;
	ops->sign = fake_sign;
	ops->verify = fake_verify;
}

static struct ovl_record fake_record(const struct fake *f, enum ovl_record_kind kind,
                                     const char *name)
{
	static const uint8_t payload[] = {1, 2, 3, 4, 5};

	return (struct ovl_record){
	        .kind = kind,
	        .name = name,
	        .hi_algorithm = 0xfff0,
	        .hi = f->hi,
	        .hi_len = sizeof(f->hi),
	        .seq = 42,
	        .expires = NOW + LIFETIME,
	        .payload = payload,
	        .payload_len = sizeof(payload),
	};
}

/* ---- the real Host Identity path: ECDSA P-256 through identity.h ---- */
static int ecdsa_sign(void *ctx, const uint8_t *data, size_t len, uint8_t *sig, size_t *siglen)
{
	if (*siglen < SIG_MAX_LEN)
		return -ENOBUFS;
	return identity_sign(ctx, data, len, sig, siglen);
}

static int ecdsa_verify(void *ctx, uint16_t alg, const uint8_t *hi, size_t hi_len,
                        const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen,
                        struct hit *ret_owner)
{
	struct hi_pub *pub;
	int e;

	(void)ctx;
	e = hi_pub_parse(alg, hi, hi_len, &pub);
	if (e < 0)
		return e;
	e = hi_pub_verify(pub, data, len, sig, siglen);
	if (e == 0)
		*ret_owner = *hi_pub_hit(pub);
	hi_pub_free(pub);
	return e;
}

static struct ovl_ops ecdsa_ops(struct identity *id)
{
	return (struct ovl_ops){.ctx = id, .sign = ecdsa_sign, .verify = ecdsa_verify};
}

/* ---- a raw encoder following docs/overlay.md, independent of record.c ---- */
struct raw {
	uint8_t version, kind, name_len;
	const uint8_t *name;
	uint16_t alg, hi_len;
	const uint8_t *hi;
	uint64_t seq, expires;
	uint16_t payload_len;
	const uint8_t *payload;
};

static size_t raw_encode(const struct raw *w, const struct fake *signer, uint8_t *out)
{
	uint8_t msg[sizeof(CONTEXT) + 2048];
	size_t n = 0;

	out[n++] = w->version;
	out[n++] = w->kind;
	out[n++] = w->name_len;
	memcpy(out + n, w->name, w->name_len);
	n += w->name_len;
	store_be16(out + n, w->alg);
	store_be16(out + n + 2, w->hi_len);
	n += 4;
	memcpy(out + n, w->hi, w->hi_len);
	n += w->hi_len;
	store_be64(out + n, w->seq);
	store_be64(out + n + 8, w->expires);
	store_be16(out + n + 16, w->payload_len);
	n += 18;
	if (w->payload_len)
		memcpy(out + n, w->payload, w->payload_len);
	n += w->payload_len;
	memcpy(msg, CONTEXT, sizeof(CONTEXT) - 1);
	memcpy(msg + sizeof(CONTEXT) - 1, out, n);
	store_be16(out + n, 32);
	assert_int_equal(hmac_compute(HASH_SHA256, signer->hi, sizeof(signer->hi), msg,
	                              sizeof(CONTEXT) - 1 + n, out + n + 2),
	                 0);
	return n + 2 + 32;
}

static struct raw raw_valid(const struct fake *f, const char *name)
{
	static const uint8_t payload[] = {1, 2, 3, 4, 5};

	return (struct raw){
	        .version = 1,
	        .kind = OVL_RECORD_NAME,
	        .name_len = (uint8_t)(strlen(name) + 1),
	        .name = (const uint8_t *)name,
	        .alg = 0xfff0,
	        .hi_len = sizeof(f->hi),
	        .hi = f->hi,
	        .seq = 42,
	        .expires = NOW + LIFETIME,
	        .payload_len = sizeof(payload),
	        .payload = payload,
	};
}

static void assert_round_trip(const struct ovl_ops *ops, const struct ovl_record *in,
                              const struct hit *owner)
{
	uint8_t buf[OVL_RECORD_MAX];
	struct ovl_record p, v;
	struct ovl_id key;
	int n;

	n = ovl_record_build(in, ops, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ovl_record_parse(buf, (size_t)n, &p), 0);
	assert_int_equal(ovl_record_verify(buf, (size_t)n, ops, NOW, &v), 0);
	if (in->kind == OVL_RECORD_NAME)
		ovl_key_for_name(in->name, &key);
	else
		ovl_key_for_relay(in->name, &key);
	assert_true(ovl_id_eq(&v.key, &key));
	assert_true(ovl_id_eq(&p.key, &key));
	assert_int_equal(v.kind, in->kind);
	assert_string_equal(v.name, in->name);
	/* Pointers into the buffer, and the name is a C string there. */
	assert_true((const uint8_t *)v.name > buf && (const uint8_t *)v.name < buf + n);
	assert_true(v.hi > buf && v.hi < buf + n);
	assert_int_equal(v.hi_algorithm, in->hi_algorithm);
	assert_int_equal(v.hi_len, in->hi_len);
	assert_memory_equal(v.hi, in->hi, in->hi_len);
	assert_int_equal(v.seq, in->seq);
	assert_int_equal(v.expires, in->expires);
	assert_int_equal(v.payload_len, in->payload_len);
	if (in->payload_len)
		assert_memory_equal(v.payload, in->payload, in->payload_len);
	else
		assert_null(v.payload);
	assert_int_equal(hit_cmp(&v.owner, owner), 0);
}

static void test_round_trip_fake(void **state)
{
	struct ovl_ops ops;
	struct fake f;
	struct hit owner;

	(void)state;
	fake_init(&f, 1, &ops);
	fake_owner(f.hi, sizeof(f.hi), &owner);
	struct ovl_record r = fake_record(&f, OVL_RECORD_NAME, "mars.example.internal");
	assert_round_trip(&ops, &r, &owner);
	r.payload = NULL;
	r.payload_len = 0;
	assert_round_trip(&ops, &r, &owner);
	r = fake_record(&f, OVL_RECORD_RELAY, "relay:");
	assert_round_trip(&ops, &r, &owner);
	r = fake_record(&f, OVL_RECORD_RELAY, "relay:a1");
	assert_round_trip(&ops, &r, &owner);
}

/* The encoder matches the documented layout byte for byte. */
static void test_wire_layout(void **state)
{
	uint8_t built[OVL_RECORD_MAX], raw[2048];
	struct ovl_ops ops;
	struct fake f;
	int n;

	(void)state;
	fake_init(&f, 2, &ops);
	struct ovl_record r = fake_record(&f, OVL_RECORD_NAME, "venus.example");
	struct raw w = raw_valid(&f, "venus.example");
	n = ovl_record_build(&r, &ops, built, sizeof(built));
	assert_int_equal(n, raw_encode(&w, &f, raw));
	assert_memory_equal(built, raw, (size_t)n);
	/* 3 + 14 + 4 + 32 + 16 + 2 + 5 + 2 + 32 */
	assert_int_equal(n, 110);
}

static void test_round_trip_ecdsa(void **state)
{
	uint8_t buf[OVL_RECORD_MAX];
	struct identity *a, *b;
	struct ovl_record r, v;
	struct ovl_ops ops_a, ops_b;
	size_t hi_len;
	int n;

	(void)state;
	assert_int_equal(identity_generate(&a), 0);
	assert_int_equal(identity_generate(&b), 0);
	ops_a = ecdsa_ops(a);
	ops_b = ecdsa_ops(b);
	r = (struct ovl_record){
	        .kind = OVL_RECORD_NAME,
	        .name = "earth.example.internal",
	        .hi_algorithm = identity_algorithm(a),
	        .seq = 7,
	        .expires = NOW + LIFETIME,
	};
	r.hi = identity_hi(a, &hi_len);
	r.hi_len = hi_len;
	assert_round_trip(&ops_a, &r, identity_hit(a));
	r.kind = OVL_RECORD_RELAY;
	r.name = "relay:b";
	r.payload = (const uint8_t *)"10.0.0.1:10500";
	r.payload_len = 14;
	assert_round_trip(&ops_a, &r, identity_hit(a));

	/* Tampering with the payload breaks the signature. */
	n = ovl_record_build(&r, &ops_a, buf, sizeof(buf));
	assert_true(n > 0);
	buf[n - 70] ^= 0x01;
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops_a, NOW, &v), -EKEYREJECTED);

	/* b signs a record that carries a's HI: refused; nobody speaks for a. */
	n = ovl_record_build(&r, &ops_b, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops_b, NOW, &v), -EKEYREJECTED);

	/* With its own HI, b's record verifies and names b as owner. */
	r.hi = identity_hi(b, &hi_len);
	r.hi_len = hi_len;
	assert_round_trip(&ops_b, &r, identity_hit(b));
	identity_free(a);
	identity_free(b);
}

/* Every single-bit change anywhere is refused: the signature covers the body,
 * the length fields frame it, and the signature itself is checked. */
static void test_tamper_every_byte(void **state)
{
	uint8_t buf[OVL_RECORD_MAX], t[OVL_RECORD_MAX];
	struct ovl_record v;
	struct ovl_ops ops;
	struct fake f;
	int n;

	(void)state;
	fake_init(&f, 3, &ops);
	for (int kind = OVL_RECORD_NAME; kind <= OVL_RECORD_RELAY; kind++) {
		struct ovl_record r = fake_record(
		        &f, kind, kind == OVL_RECORD_NAME ? "pluto.example" : "relay:z9");
		n = ovl_record_build(&r, &ops, buf, sizeof(buf));
		assert_true(n > 0);
		for (int i = 0; i < n; i++) {
			for (int bit = 0; bit < 8; bit++) {
				memcpy(t, buf, (size_t)n);
				t[i] ^= (uint8_t)(1u << bit);
				assert_true(ovl_record_verify(t, (size_t)n, &ops, NOW, &v) < 0);
			}
		}
	}
}

static void test_truncated_and_trailing(void **state)
{
	uint8_t buf[OVL_RECORD_MAX + 1];
	struct ovl_record v;
	struct ovl_ops ops;
	struct fake f;
	int n;

	(void)state;
	fake_init(&f, 4, &ops);
	struct ovl_record r = fake_record(&f, OVL_RECORD_NAME, "ceres.example");
	n = ovl_record_build(&r, &ops, buf, sizeof(buf));
	assert_true(n > 0);
	for (int len = 0; len < n; len++) {
		assert_int_equal(ovl_record_parse(buf, (size_t)len, &v), -EBADMSG);
		assert_int_equal(ovl_record_verify(buf, (size_t)len, &ops, NOW, &v), -EBADMSG);
	}
	buf[n] = 0;
	assert_int_equal(ovl_record_parse(buf, (size_t)n + 1, &v), -EBADMSG);
	assert_int_equal(ovl_record_verify(buf, (size_t)n + 1, &ops, NOW, &v), -EBADMSG);
	assert_int_equal(ovl_record_parse(NULL, 0, &v), -EBADMSG);
}

/* The key is not on the wire: whatever key the builder is handed, the record
 * lands under the hash of its name, so a record can never claim another key. */
static void test_key_derived_from_name(void **state)
{
	uint8_t buf[OVL_RECORD_MAX];
	struct ovl_record v;
	struct ovl_ops ops;
	struct ovl_id want;
	struct fake f;
	int n;

	(void)state;
	fake_init(&f, 5, &ops);
	struct ovl_record r = fake_record(&f, OVL_RECORD_NAME, "eris.example");
	ovl_key_for_name("victim.example", &r.key);
	n = ovl_record_build(&r, &ops, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops, NOW, &v), 0);
	ovl_key_for_name("eris.example", &want);
	assert_true(ovl_id_eq(&v.key, &want));

	/* A relay record and a name record never share a key. */
	r = fake_record(&f, OVL_RECORD_RELAY, "relay:a");
	n = ovl_record_build(&r, &ops, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops, NOW, &v), 0);
	ovl_key_for_relay("relay:a", &want);
	assert_true(ovl_id_eq(&v.key, &want));

	/* Relabelling the kind byte (relay -> name) is refused: the branch is not a
	 * valid fqdn, and the kind is signed anyway. */
	buf[1] = OVL_RECORD_NAME;
	assert_true(ovl_record_verify(buf, (size_t)n, &ops, NOW, &v) < 0);
}

static void test_expiry(void **state)
{
	uint8_t buf[OVL_RECORD_MAX];
	struct ovl_record v;
	struct ovl_ops ops;
	struct fake f;
	int n;

	(void)state;
	fake_init(&f, 6, &ops);
	struct ovl_record r = fake_record(&f, OVL_RECORD_NAME, "io.example");
	n = ovl_record_build(&r, &ops, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops, r.expires - 1, &v), 0);
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops, r.expires, &v), -ETIME);
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops, r.expires + LIFETIME, &v), -ETIME);
	/* Parsing alone does not look at the clock. */
	assert_int_equal(ovl_record_parse(buf, (size_t)n, &v), 0);

	r.expires = 0;
	n = ovl_record_build(&r, &ops, buf, sizeof(buf));
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops, NOW, &v), -ETIME);
}

static void test_too_far_ahead(void **state)
{
	const uint64_t limit = OVL_MAX_LIFETIME_MS + OVL_CLOCK_SKEW_MS;
	uint8_t buf[OVL_RECORD_MAX];
	struct ovl_record v;
	struct ovl_ops ops;
	struct fake f;
	int n;

	(void)state;
	fake_init(&f, 7, &ops);
	struct ovl_record r = fake_record(&f, OVL_RECORD_NAME, "europa.example");
	r.expires = NOW + limit;
	n = ovl_record_build(&r, &ops, buf, sizeof(buf));
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops, NOW, &v), 0);
	r.expires = NOW + limit + 1;
	n = ovl_record_build(&r, &ops, buf, sizeof(buf));
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops, NOW, &v), -EKEYREJECTED);
	r.expires = UINT64_MAX;
	n = ovl_record_build(&r, &ops, buf, sizeof(buf));
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops, NOW, &v), -EKEYREJECTED);
	/* No overflow near the end of the clock. */
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops, UINT64_MAX - 10, &v), 0);
}

static void test_build_name_rules(void **state)
{
	uint8_t buf[OVL_RECORD_MAX];
	struct ovl_ops ops;
	struct fake f;

	(void)state;
	fake_init(&f, 8, &ops);
	static const char *const bad_names[] = {
	        "Mars.example", "MARS.EXAMPLE", "mars.example.", "", "mars..example", "relay:a",
	};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		struct ovl_record r = fake_record(&f, OVL_RECORD_NAME, bad_names[i]);
		assert_int_equal(ovl_record_build(&r, &ops, buf, sizeof(buf)), -EINVAL);
	}
	static const char *const bad_branches[] = {
	        "relay", "relay:A", "relay:a.b", "relay:01234567890123456", "mars.example",
	};
	for (size_t i = 0; i < sizeof(bad_branches) / sizeof(bad_branches[0]); i++) {
		struct ovl_record r = fake_record(&f, OVL_RECORD_RELAY, bad_branches[i]);
		assert_int_equal(ovl_record_build(&r, &ops, buf, sizeof(buf)), -EINVAL);
	}
	struct ovl_record r = fake_record(&f, (enum ovl_record_kind)3, "mars.example");
	assert_int_equal(ovl_record_build(&r, &ops, buf, sizeof(buf)), -EINVAL);
}

static void test_build_errors(void **state)
{
	uint8_t buf[OVL_RECORD_MAX], big[OVL_PAYLOAD_MAX + 1] = {0}, hi[OVL_RECORD_MAX] = {0};
	struct ovl_ops ops;
	struct fake f;
	int n;

	(void)state;
	fake_init(&f, 9, &ops);
	struct ovl_record r = fake_record(&f, OVL_RECORD_NAME, "titan.example");
	n = ovl_record_build(&r, &ops, buf, sizeof(buf));
	assert_true(n > 0);
	/* Exactly enough room, then one byte short. */
	assert_int_equal(ovl_record_build(&r, &ops, buf, (size_t)n), n);
	assert_int_equal(ovl_record_build(&r, &ops, buf, (size_t)n - 1), -ENOBUFS);
	assert_int_equal(ovl_record_build(&r, &ops, buf, 10), -ENOBUFS);

	r.payload = big;
	r.payload_len = OVL_PAYLOAD_MAX;
	assert_true(ovl_record_build(&r, &ops, buf, sizeof(buf)) > 0);
	r.payload_len = OVL_PAYLOAD_MAX + 1;
	assert_int_equal(ovl_record_build(&r, &ops, buf, sizeof(buf)), -EINVAL);
	r.payload = NULL;
	r.payload_len = 3;
	assert_int_equal(ovl_record_build(&r, &ops, buf, sizeof(buf)), -EINVAL);

	r = fake_record(&f, OVL_RECORD_NAME, "titan.example");
	r.hi_len = 0;
	assert_int_equal(ovl_record_build(&r, &ops, buf, sizeof(buf)), -EINVAL);
	r.hi = hi;
	r.hi_len = sizeof(hi);
	assert_int_equal(ovl_record_build(&r, &ops, buf, sizeof(buf)), -EMSGSIZE);
	/* Room for the body but not for the signature. */
	r.hi_len = OVL_RECORD_MAX - 3 - 14 - 4 - 16 - 2 - 5 - 2 - 16;
	assert_int_equal(ovl_record_build(&r, &ops, buf, sizeof(buf)), -EMSGSIZE);

	r = fake_record(&f, OVL_RECORD_NAME, "titan.example");
	f.sign_error = -EIO;
	assert_int_equal(ovl_record_build(&r, &ops, buf, sizeof(buf)), -EIO);
	f.sign_error = 0;
	f.siglen = OVL_RECORD_MAX + 1;
	assert_int_equal(ovl_record_build(&r, &ops, buf, sizeof(buf)), -EIO);
	f.siglen = 0;

	assert_int_equal(ovl_record_build(NULL, &ops, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ovl_record_build(&r, NULL, buf, sizeof(buf)), -EINVAL);
	r.name = NULL;
	assert_int_equal(ovl_record_build(&r, &ops, buf, sizeof(buf)), -EINVAL);
}

static void test_verify_errors(void **state)
{
	uint8_t buf[OVL_RECORD_MAX];
	struct ovl_record v;
	struct ovl_ops ops;
	struct fake f;
	int n;

	(void)state;
	fake_init(&f, 10, &ops);
	struct ovl_record r = fake_record(&f, OVL_RECORD_NAME, "rhea.example");
	n = ovl_record_build(&r, &ops, buf, sizeof(buf));
	f.verify_error = -ENOMEM;
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops, NOW, &v), -ENOMEM);
	f.verify_error = -EPROTONOSUPPORT;
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops, NOW, &v), -EKEYREJECTED);
	f.verify_error = 0;
	ops.verify = NULL;
	assert_int_equal(ovl_record_verify(buf, (size_t)n, &ops, NOW, &v), -EINVAL);
}

/* Hand-made records, correctly signed, that break one format rule each. */
static void test_malformed(void **state)
{
	uint8_t out[2048], big[OVL_PAYLOAD_MAX + 1] = {0}, hi[OVL_RECORD_MAX] = {0};
	struct ovl_record v;
	struct ovl_ops ops;
	struct fake f;
	struct raw w;
	size_t n;

	(void)state;
	fake_init(&f, 11, &ops);
	w = raw_valid(&f, "good.example");
	n = raw_encode(&w, &f, out);
	assert_int_equal(ovl_record_verify(out, n, &ops, NOW, &v), 0);

#define EXPECT_BAD(stmt)                                                              \
	do {                                                                          \
		w = raw_valid(&f, "good.example");                                    \
		stmt;                                                                 \
		n = raw_encode(&w, &f, out);                                          \
		assert_int_equal(ovl_record_parse(out, n, &v), -EBADMSG);             \
		assert_int_equal(ovl_record_verify(out, n, &ops, NOW, &v), -EBADMSG); \
	} while (0)

	EXPECT_BAD(w.version = 0);
	EXPECT_BAD(w.version = 2);
	EXPECT_BAD(w.kind = 0);
	EXPECT_BAD(w.kind = 3);
	EXPECT_BAD(w.kind = OVL_RECORD_RELAY);                 /* an fqdn is no branch */
	EXPECT_BAD(w.name = (const uint8_t *)"Good.example");  /* uppercase */
	EXPECT_BAD(w.name = (const uint8_t *)"good.exampl\0"); /* NUL inside */
	EXPECT_BAD(w.name = (const uint8_t *)"good.example.");
	EXPECT_BAD(w.name_len = 12);                                  /* no terminating NUL */
	EXPECT_BAD((w.name = (const uint8_t *)"\0", w.name_len = 1)); /* empty */
	EXPECT_BAD(w.name_len = 0);
	EXPECT_BAD(w.hi_len = 0);
	EXPECT_BAD((w.payload = big, w.payload_len = sizeof(big)));
	/* Over OVL_RECORD_MAX in total. */
	EXPECT_BAD((w.hi = hi, w.hi_len = sizeof(hi)));
#undef EXPECT_BAD

	/* A zero-length signature. */
	w = raw_valid(&f, "good.example");
	n = raw_encode(&w, &f, out);
	store_be16(out + n - 34, 0);
	assert_int_equal(ovl_record_parse(out, n - 32, &v), -EBADMSG);
	/* A signature length that runs past the end, or stops short of it. */
	store_be16(out + n - 34, 33);
	assert_int_equal(ovl_record_parse(out, n, &v), -EBADMSG);
	store_be16(out + n - 34, 31);
	assert_int_equal(ovl_record_parse(out, n, &v), -EBADMSG);
	/* Payload length pointing into the signature. */
	w = raw_valid(&f, "good.example");
	n = raw_encode(&w, &f, out);
	store_be16(out + n - 34 - 5 - 2, 6);
	assert_int_equal(ovl_record_parse(out, n, &v), -EBADMSG);

	/* The smallest valid record: one-letter name, one-byte HI, no payload. */
	uint8_t one = 0x55;
	w = raw_valid(&f, "a");
	w.hi = &one;
	w.hi_len = 1;
	w.payload_len = 0;
	n = raw_encode(&w, &f, out);
	assert_int_equal(ovl_record_parse(out, n, &v), 0);
	assert_string_equal(v.name, "a");
	assert_null(v.payload);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip_fake),
	        cmocka_unit_test(test_wire_layout),
	        cmocka_unit_test(test_round_trip_ecdsa),
	        cmocka_unit_test(test_tamper_every_byte),
	        cmocka_unit_test(test_truncated_and_trailing),
	        cmocka_unit_test(test_key_derived_from_name),
	        cmocka_unit_test(test_expiry),
	        cmocka_unit_test(test_too_far_ahead),
	        cmocka_unit_test(test_build_name_rules),
	        cmocka_unit_test(test_build_errors),
	        cmocka_unit_test(test_verify_errors),
	        cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
