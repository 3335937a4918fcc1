/* SPDX-License-Identifier: MIT */
/* test_overlay_store.c: the P2PNS store rules: FCFS names, sequence numbers, quotas, relay limits.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "crypto/hash.h"
#include "overlay/id.h"
#include "overlay/record.h"
#include "overlay/store.h"

#define NOW      1700000000000ull
#define LIFETIME (30 * 60 * 1000ull)

/* The keyed-hash signer of the simulator: sig = HMAC-SHA256(key = HI, data). */
struct fake {
	uint8_t hi[32];
};

static int fake_sign(void *ctx, const uint8_t *data, size_t len, uint8_t *sig, size_t *siglen)
{
	struct fake *f = ctx;

	assert_true(*siglen >= 32);
	*siglen = 32;
	return hmac_compute(HASH_SHA256, f->hi, sizeof(f->hi), data, len, sig);
}

static int fake_verify(void *ctx, uint16_t alg, const uint8_t *hi, size_t hi_len,
                       const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen,
                       struct hit *ret_owner)
{
	uint8_t mac[HASH_MAX_LEN], d[HASH_MAX_LEN];

	(void)ctx;
	(void)alg;
	if (siglen != 32)
		return -EBADMSG;
	assert_int_equal(hmac_compute(HASH_SHA256, hi, hi_len, data, len, mac), 0);
	if (memcmp_ct(mac, sig, 32) != 0)
		return -EBADMSG;
	assert_int_equal(hash_digest(HASH_SHA256, hi, hi_len, d), 0);
	memcpy(ret_owner->b, d, HIT_LEN);
	return 0;
}

/* One owner: its HI and the ops that sign with it. */
struct owner {
	struct fake f;
	struct ovl_ops ops;
};

static void owner_init(struct owner *o, uint32_t n)
{
	memset(o, 0, sizeof(*o));
	store_be32(o->f.hi, n);
	o->f.hi[31] = 0xee;
	o->ops = (struct ovl_ops){.ctx = &o->f, .sign = fake_sign, .verify = fake_verify};
}

/* A signed, verified record in its own buffer. */
struct signed_rec {
	uint8_t buf[OVL_RECORD_MAX];
	size_t len;
	struct ovl_record rec;
};

static void make(struct signed_rec *s, const struct owner *o, enum ovl_record_kind kind,
                 const char *name, uint64_t seq, uint64_t expires, size_t payload_len)
{
	uint8_t payload[OVL_PAYLOAD_MAX];
	struct ovl_record r = {
	        .kind = kind,
	        .name = name,
	        .hi_algorithm = 1,
	        .hi = o->f.hi,
	        .hi_len = sizeof(o->f.hi),
	        .seq = seq,
	        .expires = expires,
	        .payload = payload,
	        .payload_len = payload_len,
	};
	int n;

	memset(payload, (int)(seq & 0xff), sizeof(payload));
	n = ovl_record_build(&r, &o->ops, s->buf, sizeof(s->buf));
	assert_true(n > 0);
	s->len = (size_t)n;
	/* Verify at the earliest time any test uses, so short-lived records pass. */
	assert_int_equal(ovl_record_verify(s->buf, s->len, &o->ops, NOW, &s->rec), 0);
}

static int put(struct ovl_store *st, const struct signed_rec *s, uint64_t now)
{
	return ovl_store_put(st, s->buf, s->len, &s->rec, now);
}

static struct ovl_config config(void)
{
	return (struct ovl_config){
	        .quota_bytes_per_owner = 64 * 1024,
	        .quota_records_per_owner = 32,
	        .max_store_bytes = 16 * 1024 * 1024,
	        .relay_branch_limit = 8,
	};
}

static struct ovl_store *store_new(const struct ovl_config *cfg)
{
	struct ovl_store *st;

	assert_int_equal(ovl_store_new(cfg, &st), 0);
	return st;
}

static void assert_get(const struct ovl_store *st, const struct signed_rec *s, size_t i,
                       uint64_t now)
{
	size_t len = 0;
	const uint8_t *p = ovl_store_get(st, &s->rec.key, i, &len, now);

	assert_non_null(p);
	assert_int_equal(len, s->len);
	assert_memory_equal(p, s->buf, len);
}

static void test_put_get(void **state)
{
	struct ovl_config cfg = config();
	struct ovl_store *st = store_new(&cfg);
	struct signed_rec a;
	struct owner o;
	size_t len;

	(void)state;
	owner_init(&o, 1);
	make(&a, &o, OVL_RECORD_NAME, "mars.example", 1, NOW + LIFETIME, 10);
	assert_null(ovl_store_get(st, &a.rec.key, 0, &len, NOW));
	assert_int_equal(put(st, &a, NOW), 1);
	assert_int_equal(ovl_store_count(st), 1);
	assert_int_equal(ovl_store_bytes(st), a.len);
	assert_get(st, &a, 0, NOW);
	assert_null(ovl_store_get(st, &a.rec.key, 1, &len, NOW));
	/* The store keeps its own copy. */
	uint8_t saved[OVL_RECORD_MAX];
	memcpy(saved, a.buf, a.len);
	memset(a.buf, 0, a.len);
	const uint8_t *p = ovl_store_get(st, &a.rec.key, 0, &len, NOW);
	assert_memory_equal(p, saved, len);
	/* Expired records are not returned even before expire() runs. */
	assert_null(ovl_store_get(st, &a.rec.key, 0, &len, NOW + LIFETIME));
	ovl_store_free(st);
}

static void test_fcfs(void **state)
{
	struct ovl_config cfg = config();
	struct ovl_store *st = store_new(&cfg);
	struct signed_rec a, b, b_late;
	struct owner oa, ob;

	(void)state;
	owner_init(&oa, 1);
	owner_init(&ob, 2);
	make(&a, &oa, OVL_RECORD_NAME, "mars.example", 5, NOW + 1000, 10);
	make(&b, &ob, OVL_RECORD_NAME, "mars.example", 100, NOW + LIFETIME, 10);
	assert_int_equal(put(st, &a, NOW), 1);
	/* Another HI cannot take a live name, whatever its sequence number. */
	assert_int_equal(put(st, &b, NOW), -EEXIST);
	assert_int_equal(put(st, &b, NOW + 999), -EEXIST);
	assert_get(st, &a, 0, NOW);
	/* Once the holder's record has expired the name is free again. */
	assert_int_equal(put(st, &b, NOW + 1000), 1);
	assert_int_equal(ovl_store_count(st), 1);
	assert_get(st, &b, 0, NOW + 1000);
	/* And now the first owner is the one refused. */
	make(&b_late, &oa, OVL_RECORD_NAME, "mars.example", 6, NOW + LIFETIME, 10);
	assert_int_equal(put(st, &b_late, NOW + 1000), -EEXIST);
	ovl_store_free(st);
}

static void test_seq_rules(void **state)
{
	struct ovl_config cfg = config();
	struct ovl_store *st = store_new(&cfg);
	struct signed_rec s5, s4, s5b, s6, s5copy;
	struct owner o;

	(void)state;
	owner_init(&o, 1);
	make(&s5, &o, OVL_RECORD_NAME, "venus.example", 5, NOW + LIFETIME, 10);
	make(&s4, &o, OVL_RECORD_NAME, "venus.example", 4, NOW + LIFETIME, 10);
	make(&s5b, &o, OVL_RECORD_NAME, "venus.example", 5, NOW + LIFETIME, 20);
	make(&s6, &o, OVL_RECORD_NAME, "venus.example", 6, NOW + LIFETIME, 30);
	s5copy = s5;
	assert_int_equal(put(st, &s5, NOW), 1);
	/* A byte-identical refresh (a replica or a republish) is fine. */
	assert_int_equal(ovl_store_put(st, s5copy.buf, s5copy.len, &s5.rec, NOW + 10), 0);
	/* Lower, or equal with other contents: stale. */
	assert_int_equal(put(st, &s4, NOW), -ESTALE);
	assert_int_equal(put(st, &s5b, NOW), -ESTALE);
	assert_get(st, &s5, 0, NOW);
	/* Higher replaces. */
	assert_int_equal(put(st, &s6, NOW), 1);
	assert_get(st, &s6, 0, NOW);
	assert_int_equal(ovl_store_count(st), 1);
	assert_int_equal(ovl_store_bytes(st), s6.len);
	assert_int_equal(put(st, &s5, NOW), -ESTALE);
	ovl_store_free(st);
}

static void test_quota_records(void **state)
{
	struct ovl_config cfg = config();
	struct signed_rec s, other;
	struct owner o, o2;
	struct ovl_store *st;
	char name[32];

	(void)state;
	cfg.quota_records_per_owner = 3;
	st = store_new(&cfg);
	owner_init(&o, 1);
	owner_init(&o2, 2);
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		make(&s, &o, OVL_RECORD_NAME, name, 1, NOW + LIFETIME, 10);
		assert_int_equal(put(st, &s, NOW), 1);
	}
	make(&s, &o, OVL_RECORD_NAME, "n3.example", 1, NOW + LIFETIME, 10);
	assert_int_equal(put(st, &s, NOW), -EDQUOT);
	/* Relay records count towards the same quota. */
	make(&s, &o, OVL_RECORD_RELAY, "relay:", 1, NOW + LIFETIME, 10);
	assert_int_equal(put(st, &s, NOW), -EDQUOT);
	/* Another owner has its own quota. */
	make(&other, &o2, OVL_RECORD_NAME, "n3.example", 1, NOW + LIFETIME, 10);
	assert_int_equal(put(st, &other, NOW), 1);
	/* Updating an existing record needs no new place. */
	make(&s, &o, OVL_RECORD_NAME, "n0.example", 2, NOW + LIFETIME, 10);
	assert_int_equal(put(st, &s, NOW), 1);
	/* Removing one frees a place. */
	ovl_store_remove(st, &s.rec.key, &s.rec.owner);
	assert_int_equal(ovl_store_count(st), 3);
	make(&s, &o, OVL_RECORD_NAME, "n4.example", 1, NOW + LIFETIME, 10);
	assert_int_equal(put(st, &s, NOW), 1);
	ovl_store_free(st);
}

static void test_quota_bytes(void **state)
{
	struct ovl_config cfg = config();
	struct signed_rec small, big, s2, other;
	struct owner o, o2;
	struct ovl_store *st;

	(void)state;
	owner_init(&o, 1);
	owner_init(&o2, 2);
	make(&small, &o, OVL_RECORD_NAME, "a.example", 1, NOW + LIFETIME, 0);
	make(&big, &o, OVL_RECORD_NAME, "a.example", 2, NOW + LIFETIME, 400);
	make(&s2, &o, OVL_RECORD_NAME, "b.example", 1, NOW + LIFETIME, 0);
	cfg.quota_bytes_per_owner = small.len + s2.len;
	st = store_new(&cfg);
	assert_int_equal(put(st, &small, NOW), 1);
	assert_int_equal(put(st, &s2, NOW), 1);
	/* Growing a record past the owner's byte quota is refused; the old one stays. */
	assert_int_equal(put(st, &big, NOW), -EDQUOT);
	assert_get(st, &small, 0, NOW);
	assert_int_equal(ovl_store_bytes(st), small.len + s2.len);
	ovl_store_remove(st, &s2.rec.key, &s2.rec.owner);
	assert_int_equal(put(st, &big, NOW), -EDQUOT);
	ovl_store_free(st);

	/* The total limit applies across owners. */
	cfg = config();
	make(&other, &o2, OVL_RECORD_NAME, "c.example", 1, NOW + LIFETIME, 0);
	cfg.max_store_bytes = small.len + other.len - 1;
	st = store_new(&cfg);
	assert_int_equal(put(st, &small, NOW), 1);
	assert_int_equal(put(st, &other, NOW), -EDQUOT);
	/* Expired records give their bytes back. */
	make(&s2, &o2, OVL_RECORD_NAME, "c.example", 1, NOW + 2 * LIFETIME, 0);
	assert_int_equal(ovl_store_expire(st, NOW + LIFETIME), 1);
	assert_int_equal(ovl_store_bytes(st), 0);
	assert_int_equal(put(st, &s2, NOW + LIFETIME), 1);
	ovl_store_free(st);
}

static void test_relay_branch_limit(void **state)
{
	struct ovl_config cfg = config();
	struct signed_rec s[5], update, other_branch;
	struct owner o[5];
	struct ovl_store *st;
	size_t len;

	(void)state;
	cfg.relay_branch_limit = 3;
	st = store_new(&cfg);
	for (int i = 0; i < 5; i++) {
		owner_init(&o[i], (uint32_t)(10 + i));
		make(&s[i], &o[i], OVL_RECORD_RELAY, "relay:a", 1, NOW + (i == 0 ? 1000 : LIFETIME),
		     20);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(put(st, &s[i], NOW), 1);
	assert_int_equal(put(st, &s[3], NOW), -ENOSPC);
	/* Owners already in the branch may update their record. */
	make(&update, &o[1], OVL_RECORD_RELAY, "relay:a", 2, NOW + LIFETIME, 30);
	assert_int_equal(put(st, &update, NOW), 1);
	assert_int_equal(put(st, &s[1], NOW), -ESTALE);
	assert_int_equal(put(st, &s[2], NOW), 0);
	/* All three are listed, in arrival order, the update in its place. */
	assert_get(st, &s[0], 0, NOW);
	assert_get(st, &update, 1, NOW);
	assert_get(st, &s[2], 2, NOW);
	assert_null(ovl_store_get(st, &s[0].rec.key, 3, &len, NOW));
	/* The next branch is another key with its own places. */
	make(&other_branch, &o[3], OVL_RECORD_RELAY, "relay:a1", 1, NOW + LIFETIME, 20);
	assert_int_equal(put(st, &other_branch, NOW), 1);
	/* An expired record frees its place. */
	assert_get(st, &update, 0, NOW + 1000);
	assert_int_equal(put(st, &s[4], NOW + 1000), 1);
	assert_get(st, &s[4], 2, NOW + 1000);
	ovl_store_free(st);

	cfg.relay_branch_limit = 0;
	st = store_new(&cfg);
	assert_int_equal(put(st, &s[1], NOW), -ENOSPC);
	ovl_store_free(st);
}

struct visit {
	size_t n, stop_after;
	struct ovl_store *remove_from; /* removes each record as it is visited */
	const struct hit *owner;
};

static bool visit(void *arg, const struct ovl_id *key, const uint8_t *buf, size_t len)
{
	struct visit *v = arg;
	struct ovl_record r;

	assert_int_equal(ovl_record_parse(buf, len, &r), 0);
	assert_true(ovl_id_eq(key, &r.key));
	v->n++;
	if (v->remove_from)
		ovl_store_remove(v->remove_from, key, v->owner);
	return v->n != v->stop_after;
}

static void test_expire_foreach_remove(void **state)
{
	struct ovl_config cfg = config();
	struct ovl_store *st = store_new(&cfg);
	struct signed_rec s;
	struct owner o, o2;
	char name[32];

	(void)state;
	owner_init(&o, 1);
	owner_init(&o2, 2);
	/* Ten records; the even ones expire early. */
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "h%d.example", i);
		make(&s, &o, OVL_RECORD_NAME, name, 1, NOW + (i % 2 ? LIFETIME : 1000), 10);
		assert_int_equal(put(st, &s, NOW), 1);
	}
	struct visit v = {0};
	ovl_store_foreach(st, NOW, visit, &v);
	assert_int_equal(v.n, 10);
	v = (struct visit){0};
	ovl_store_foreach(st, NOW + 1000, visit, &v);
	assert_int_equal(v.n, 5);
	v = (struct visit){.stop_after = 2};
	ovl_store_foreach(st, NOW, visit, &v);
	assert_int_equal(v.n, 2);

	assert_int_equal(ovl_store_expire(st, NOW + 999), 0);
	assert_int_equal(ovl_store_expire(st, NOW + 1000), 5);
	assert_int_equal(ovl_store_count(st), 5);
	assert_int_equal(ovl_store_expire(st, NOW + 1000), 0);

	/* Removing with the wrong owner is a no-op. */
	make(&s, &o, OVL_RECORD_NAME, "h1.example", 1, NOW + LIFETIME, 10);
	ovl_store_remove(st, &s.rec.key, &(struct hit){{0}});
	assert_int_equal(ovl_store_count(st), 5);
	ovl_store_remove(st, &s.rec.key, &s.rec.owner);
	assert_int_equal(ovl_store_count(st), 4);
	ovl_store_remove(st, &s.rec.key, &s.rec.owner);
	assert_int_equal(ovl_store_count(st), 4);

	/* Handover: the callback may remove the record it is handed. */
	v = (struct visit){.remove_from = st, .owner = &s.rec.owner};
	ovl_store_foreach(st, NOW, visit, &v);
	assert_int_equal(v.n, 4);
	assert_int_equal(ovl_store_count(st), 0);
	assert_int_equal(ovl_store_bytes(st), 0);
	ovl_store_free(st);
}

/* A record that failed verification is not stored: the caller's verify is the
 * gate, and the store refuses bytes that do not match the index it is given. */
static void test_forged_never_stored(void **state)
{
	struct ovl_config cfg = config();
	struct ovl_store *st = store_new(&cfg);
	struct signed_rec a, b, forged;
	struct ovl_record r;
	struct owner oa, ob;

	(void)state;
	owner_init(&oa, 1);
	owner_init(&ob, 2);
	make(&a, &oa, OVL_RECORD_NAME, "mars.example", 1, NOW + LIFETIME, 10);
	make(&b, &ob, OVL_RECORD_NAME, "venus.example", 1, NOW + LIFETIME, 10);

	/* A forger takes a's record and raises the sequence number. */
	forged = a;
	forged.buf[forged.len - 34 - 2 - 10 - 8 - 1] ^= 1;
	assert_int_equal(ovl_record_parse(forged.buf, forged.len, &r), 0);
	assert_int_equal(r.seq, a.rec.seq ^ 1);
	assert_int_equal(ovl_record_verify(forged.buf, forged.len, &oa.ops, NOW, &r),
	                 -EKEYREJECTED);

	/* Index and bytes that disagree: refused, nothing stored. */
	assert_int_equal(ovl_store_put(st, b.buf, b.len, &a.rec, NOW), -EINVAL);
	r = a.rec;
	r.seq++;
	assert_int_equal(ovl_store_put(st, a.buf, a.len, &r, NOW), -EINVAL);
	r = a.rec;
	r.expires++;
	assert_int_equal(ovl_store_put(st, a.buf, a.len, &r, NOW), -EINVAL);
	r = a.rec;
	r.kind = OVL_RECORD_RELAY;
	assert_int_equal(ovl_store_put(st, a.buf, a.len, &r, NOW), -EINVAL);
	/* Malformed bytes. */
	assert_int_equal(ovl_store_put(st, a.buf, a.len - 1, &a.rec, NOW), -EBADMSG);
	assert_int_equal(ovl_store_put(st, a.buf, 0, &a.rec, NOW), -EINVAL);
	/* Expired by the time it is stored. */
	assert_int_equal(put(st, &a, NOW + LIFETIME), -ETIME);
	r = a.rec;
	r.kind = (enum ovl_record_kind)7;
	assert_int_equal(ovl_store_put(st, a.buf, a.len, &r, NOW), -EINVAL);
	assert_int_equal(ovl_store_count(st), 0);
	assert_int_equal(ovl_store_bytes(st), 0);
	ovl_store_free(st);
}

static void test_growth_10k(void **state)
{
	enum { N = 10000 };
	struct ovl_config cfg = config();
	struct ovl_store *st;
	struct signed_rec s;
	struct owner o[4];
	char name[32];
	size_t len, total = 0;

	(void)state;
	cfg.quota_records_per_owner = N;
	cfg.quota_bytes_per_owner = SIZE_MAX;
	cfg.max_store_bytes = SIZE_MAX;
	st = store_new(&cfg);
	for (int i = 0; i < 4; i++)
		owner_init(&o[i], (uint32_t)(100 + i));
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "host%d.example", i);
		make(&s, &o[i % 4], OVL_RECORD_NAME, name, 1,
		     NOW + (i % 2 ? 2 * LIFETIME : LIFETIME), (size_t)(i % 50));
		assert_int_equal(put(st, &s, NOW), 1);
		total += s.len;
	}
	assert_int_equal(ovl_store_count(st), N);
	assert_int_equal(ovl_store_bytes(st), total);
	for (int i = 0; i < N; i++) {
		struct ovl_id key;
		struct ovl_record r;
		const uint8_t *p;

		snprintf(name, sizeof(name), "host%d.example", i);
		ovl_key_for_name(name, &key);
		p = ovl_store_get(st, &key, 0, &len, NOW);
		assert_non_null(p);
		assert_int_equal(ovl_record_parse(p, len, &r), 0);
		assert_string_equal(r.name, name);
		assert_null(ovl_store_get(st, &key, 1, &len, NOW));
	}
	/* Half expire; the rest are still found after the table shrinks. */
	assert_int_equal(ovl_store_expire(st, NOW + LIFETIME), N / 2);
	assert_int_equal(ovl_store_count(st), N / 2);
	for (int i = 0; i < N; i++) {
		struct ovl_id key;

		snprintf(name, sizeof(name), "host%d.example", i);
		ovl_key_for_name(name, &key);
		assert_int_equal(ovl_store_get(st, &key, 0, &len, NOW + LIFETIME) != NULL, i % 2);
	}
	assert_int_equal(ovl_store_expire(st, NOW + 2 * LIFETIME), N / 2);
	assert_int_equal(ovl_store_count(st), 0);
	assert_int_equal(ovl_store_bytes(st), 0);
	ovl_store_free(st);
}

static void test_args(void **state)
{
	struct ovl_config cfg = config();
	struct ovl_store *st;
	struct ovl_id key = {{0}};
	size_t len;

	(void)state;
	assert_int_equal(ovl_store_new(NULL, &st), -EINVAL);
	assert_int_equal(ovl_store_new(&cfg, NULL), -EINVAL);
	st = store_new(&cfg);
	assert_null(ovl_store_get(st, &key, 0, &len, NOW));
	assert_int_equal(ovl_store_put(st, NULL, 10, NULL, NOW), -EINVAL);
	assert_int_equal(ovl_store_expire(st, NOW), 0);
	assert_int_equal(ovl_store_count(NULL), 0);
	assert_null(ovl_store_free(st));
	assert_null(ovl_store_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_put_get),
	        cmocka_unit_test(test_fcfs),
	        cmocka_unit_test(test_seq_rules),
	        cmocka_unit_test(test_quota_records),
	        cmocka_unit_test(test_quota_bytes),
	        cmocka_unit_test(test_relay_branch_limit),
	        cmocka_unit_test(test_expire_foreach_remove),
	        cmocka_unit_test(test_forged_never_stored),
	        cmocka_unit_test(test_growth_10k),
	        cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
