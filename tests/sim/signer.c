/* SPDX-License-Identifier: MIT */
/* signer.c: HMAC-SHA-256 signatures keyed by a hash of the Host Identity. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/hash.h"
#include "signer.h"

#define SHA256_LEN 32

static const char key_context[] = "idloc-sim-signer";
static const char hit_context[] = "idloc-sim-hit";

static bool hi_layout_ok(uint16_t algorithm, const uint8_t *hi, size_t hi_len)
{
	return algorithm == SIGNER_HI_ALGORITHM && hi_len == SIGNER_HI_LEN && hi[0] == 0 &&
	       hi[1] == 1 && hi[2] == 0x04;
}

static int derive(const char *context, const uint8_t *hi, size_t hi_len, uint8_t out[SHA256_LEN])
{
	return hmac_compute(HASH_SHA256, (const uint8_t *)context, strlen(context), hi, hi_len,
	                    out);
}

void signer_identity(struct rng *r, uint8_t hi[SIGNER_HI_LEN], struct hit *ret_hit)
{
	hi[0] = 0;
	hi[1] = 1; /* NIST P-256 */
	hi[2] = 0x04;
	rng_bytes(r, hi + 3, SIGNER_HI_LEN - 3);
	/* Cannot fail: the layout is ours and SHA-256 is always there. */
	(void)signer_hit(hi, SIGNER_HI_LEN, ret_hit);
}

int signer_hit(const uint8_t *hi, size_t hi_len, struct hit *ret)
{
	uint8_t d[SHA256_LEN];
	int r;

	r = derive(hit_context, hi, hi_len, d);
	if (r < 0)
		return r;
	ret->b[0] = 0x20;
	ret->b[1] = 0x01;
	ret->b[2] = 0x00;
	ret->b[3] = 0x20 | 0x02;
	memcpy(ret->b + 4, d, HIT_LEN - 4);
	return 0;
}

static int mac(const uint8_t *hi, size_t hi_len, const uint8_t *data, size_t len,
               uint8_t sig[SIGNER_SIG_LEN])
{
	uint8_t key[SHA256_LEN];
	int r;

	r = derive(key_context, hi, hi_len, key);
	if (r == 0)
		r = hmac_compute(HASH_SHA256, key, sizeof(key), data, len, sig);
	/* The second half only gives the signature its real ECDSA size. */
	if (r == 0)
		r = hash_digest(HASH_SHA256, sig, SHA256_LEN, sig + SHA256_LEN);
	memzero(key, sizeof(key));
	return r;
}

int signer_sign(const uint8_t *hi, size_t hi_len, const uint8_t *data, size_t len, uint8_t *sig,
                size_t *siglen)
{
	int r;

	if (!hi_layout_ok(SIGNER_HI_ALGORITHM, hi, hi_len))
		return -EINVAL;
	if (*siglen < SIGNER_SIG_LEN)
		return -ENOBUFS;
	r = mac(hi, hi_len, data, len, sig);
	if (r < 0)
		return r;
	*siglen = SIGNER_SIG_LEN;
	return 0;
}

int signer_verify(uint16_t algorithm, const uint8_t *hi, size_t hi_len, const uint8_t *data,
                  size_t len, const uint8_t *sig, size_t siglen, struct hit *ret_owner)
{
	uint8_t want[SIGNER_SIG_LEN];
	int r;

	if (!hi_layout_ok(algorithm, hi, hi_len))
		return -EPROTONOSUPPORT;
	if (siglen != SIGNER_SIG_LEN)
		return -EBADMSG;
	r = mac(hi, hi_len, data, len, want);
	if (r < 0)
		return r;
	if (memcmp_ct(want, sig, SIGNER_SIG_LEN) != 0)
		return -EBADMSG;
	return signer_hit(hi, hi_len, ret_owner);
}
