/* SPDX-License-Identifier: MIT */
/* puzzle.c: solving and checking the HIPv2 cookie puzzle (RFC 7401 section 4.1.2).
 *
 * The hash input is I | HIT-I | HIT-R | J in that order, and Ltrunc keeps the
 * lowest-order K bits, i.e. the end of the digest. hip-vpls swaps the HITs and
 * rustdhipv2 masks one bit too many (hip-reference 1.8); both are wrong. */
#include "hip/puzzle.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/random.h"

struct puzzle_input {
	uint8_t buf[2 * HASH_MAX_LEN + 2 * HIT_LEN];
	size_t len;
	uint8_t *j;
};

static int input_init(struct puzzle_input *in, enum hash_alg alg, const uint8_t *i, size_t ilen,
                      const struct hit *hit_i, const struct hit *hit_r, uint8_t k)
{
	size_t hlen = hash_len(alg);

	/* v2 fixes #I and #J at RHASH_len/8 bytes; K cannot exceed the digest. */
	if (hlen == 0 || hlen > HASH_MAX_LEN || ilen != hlen || (size_t)k > 8 * hlen)
		return -EINVAL;
	memcpy(in->buf, i, ilen);
	memcpy(in->buf + ilen, hit_i->b, HIT_LEN);
	memcpy(in->buf + ilen + HIT_LEN, hit_r->b, HIT_LEN);
	in->j = in->buf + ilen + 2 * HIT_LEN;
	in->len = 2 * ilen + 2 * HIT_LEN;
	return 0;
}

/* Ltrunc(digest, k) == 0: whole zero bytes from the end, then a partial byte. */
static bool ltrunc_zero(const uint8_t *d, size_t dlen, uint8_t k)
{
	size_t whole = k / 8;
	unsigned rest = k % 8;

	for (size_t n = 0; n < whole; n++)
		if (d[dlen - 1 - n] != 0)
			return false;
	return rest == 0 || (d[dlen - 1 - whole] & ((1u << rest) - 1)) == 0;
}

static int input_solved(const struct puzzle_input *in, enum hash_alg alg, uint8_t k)
{
	uint8_t d[HASH_MAX_LEN];
	int e = hash_digest(alg, in->buf, in->len, d);

	if (e < 0)
		return e;
	return ltrunc_zero(d, hash_len(alg), k) ? 0 : -EBADMSG;
}

/* J as a big-endian counter. */
static void increment(uint8_t *j, size_t len)
{
	for (size_t n = len; n > 0; n--)
		if (++j[n - 1] != 0)
			break;
}

int puzzle_solve(enum hash_alg alg, const uint8_t *i, size_t ilen, const struct hit *hit_i,
                 const struct hit *hit_r, uint8_t k, uint64_t max_tries, uint8_t *ret_j)
{
	struct puzzle_input in;
	int e;

	if ((e = input_init(&in, alg, i, ilen, hit_i, hit_r, k)) < 0)
		return e;
	if ((e = crypto_random(in.j, ilen)) < 0)
		return e;
	for (uint64_t t = 0; t < max_tries; t++) {
		e = input_solved(&in, alg, k);
		if (e == 0) {
			memcpy(ret_j, in.j, ilen);
			return 0;
		}
		if (e != -EBADMSG)
			return e;
		increment(in.j, ilen);
	}
	return -ETIME;
}

int puzzle_verify(enum hash_alg alg, const uint8_t *i, size_t ilen, const struct hit *hit_i,
                  const struct hit *hit_r, uint8_t k, const uint8_t *j)
{
	struct puzzle_input in;
	int e;

	if ((e = input_init(&in, alg, i, ilen, hit_i, hit_r, k)) < 0)
		return e;
	memcpy(in.j, j, ilen);
	return input_solved(&in, alg, k);
}
