/* SPDX-License-Identifier: MIT */
/* fuzz_overlay_record.c: record parsing and verification, and the store rules behind them.
 *
 * An input is either one record (parsed, verified, stored in a fresh store)
 * or, when its first byte is SCRIPT, a sequence of store operations on one
 * store, with invariants checked after each step. The verifier is the
 * simulator's keyed hash (HMAC-SHA256 keyed by the HI bytes), so seeds from
 * tests/fuzz/gen_overlay_record_seeds.py verify and reach the store; it
 * compares with plain memcmp so libFuzzer can learn signatures of mutated
 * records. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/hash.h"
#include "overlay/id.h"
#include "overlay/record.h"
#include "overlay/store.h"

#define NOW      1700000000000ull
#define SCRIPT   0xff /* never a record version */
#define MAX_SEEN 64
#define SIG_LEN  32
#define CHECK(c) ((c) ? (void)0 : abort())

static int fuzz_verify(void *ctx, uint16_t alg, const uint8_t *hi, size_t hi_len,
                       const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen,
                       struct hit *ret_owner)
{
	uint8_t mac[HASH_MAX_LEN], d[HASH_MAX_LEN];

	(void)ctx;
	(void)alg;
	if (siglen != SIG_LEN)
		return -EBADMSG;
	if (hmac_compute(HASH_SHA256, hi, hi_len, data, len, mac) < 0)
		return -EIO;
	if (memcmp(mac, sig, SIG_LEN) != 0)
		return -EBADMSG;
	if (hash_digest(HASH_SHA256, hi, hi_len, d) < 0)
		return -EIO;
	memcpy(ret_owner->b, d, HIT_LEN);
	return 0;
}

static const struct ovl_ops ops = {.verify = fuzz_verify};

/* Small limits so that a handful of records reach every refusal. */
static const struct ovl_config cfg = {
        .quota_records_per_owner = 4,
        .quota_bytes_per_owner = 1024,
        .max_store_bytes = 3000,
        .relay_branch_limit = 2,
};

struct seen {
	struct ovl_id key;
	struct hit owner;
};

struct script {
	struct ovl_store *st;
	uint64_t now;
	struct seen seen[MAX_SEEN];
	size_t nseen;
};

struct tally {
	size_t n, bytes;
};

static bool count_one(void *arg, const struct ovl_id *key, const uint8_t *buf, size_t len)
{
	struct tally *t = arg;
	struct ovl_record r;

	CHECK(ovl_record_parse(buf, len, &r) == 0);
	CHECK(ovl_id_eq(key, &r.key));
	t->n++;
	t->bytes += len;
	return true;
}

/* After expire, every record is live: foreach must see exactly what count
 * and bytes report. */
static void check_totals(struct script *s)
{
	struct tally t = {0};

	ovl_store_expire(s->st, s->now);
	ovl_store_foreach(s->st, s->now, count_one, &t);
	CHECK(t.n == ovl_store_count(s->st));
	CHECK(t.bytes == ovl_store_bytes(s->st));
}

static bool stored(const struct script *s, const struct ovl_record *r, const uint8_t *buf,
                   size_t len)
{
	const uint8_t *p;
	size_t plen;

	for (size_t i = 0; (p = ovl_store_get(s->st, &r->key, i, &plen, s->now)); i++)
		if (plen == len && memcmp(p, buf, len) == 0)
			return true;
	return false;
}

static void put_one(struct script *s, const uint8_t *buf, size_t len)
{
	struct ovl_record r;
	size_t n = 0, plen;
	int e;

	if (ovl_record_verify(buf, len, &ops, s->now, &r) < 0)
		return;
	e = ovl_store_put(s->st, buf, len, &r, s->now);
	CHECK(e == 0 || e == 1 || e == -EEXIST || e == -ESTALE || e == -ENOSPC || e == -EDQUOT ||
	      e == -ENOMEM);
	if (e >= 0) {
		CHECK(stored(s, &r, buf, len));
		if (s->nseen < MAX_SEEN)
			s->seen[s->nseen++] = (struct seen){.key = r.key, .owner = r.owner};
	}
	while (ovl_store_get(s->st, &r.key, n, &plen, s->now))
		n++;
	CHECK(n <= (r.kind == OVL_RECORD_NAME ? 1 : cfg.relay_branch_limit));
}

static void run_script(const uint8_t *data, size_t size)
{
	struct reader rd = reader_init(data, size);
	struct script s = {.now = NOW};
	const uint8_t *p;
	uint16_t n;
	uint32_t dt;
	uint8_t op;

	if (ovl_store_new(&cfg, &s.st) < 0)
		return;
	while (reader_u8(&rd, &op) == 0) {
		switch (op % 4) {
		case 0:
			if (reader_be16(&rd, &n) < 0 || reader_take(&rd, n, &p) < 0)
				goto out;
			put_one(&s, p, n);
			break;
		case 1:
			if (reader_be32(&rd, &dt) < 0)
				goto out;
			s.now += dt;
			break;
		case 2:
			check_totals(&s);
			break;
		case 3:
			if (reader_u8(&rd, &op) < 0)
				goto out;
			if (s.nseen) {
				struct seen *x = &s.seen[op % s.nseen];

				ovl_store_remove(s.st, &x->key, &x->owner);
			}
			break;
		}
	}
out:
	check_totals(&s);
	ovl_store_free(s.st);
}

static void run_record(const uint8_t *data, size_t size)
{
	struct script s = {.now = NOW};
	struct ovl_record r;

	if (ovl_record_parse(data, size, &r) == 0) {
		/* A parsed record's strings and blobs lie inside the input. */
		CHECK(strlen(r.name) < size);
		CHECK(r.hi >= data && r.hi + r.hi_len <= data + size);
		CHECK(r.payload_len <= OVL_PAYLOAD_MAX);
	}
	if (ovl_store_new(&cfg, &s.st) < 0)
		return;
	put_one(&s, data, size);
	/* The same bytes again are a refresh or the same refusal. */
	put_one(&s, data, size);
	check_totals(&s);
	for (size_t i = 0; i < s.nseen; i++)
		ovl_store_remove(s.st, &s.seen[i].key, &s.seen[i].owner);
	CHECK(ovl_store_count(s.st) == 0 && ovl_store_bytes(s.st) == 0);
	ovl_store_free(s.st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == SCRIPT)
		run_script(data + 1, size - 1);
	else
		run_record(data, size);
	return 0;
}
