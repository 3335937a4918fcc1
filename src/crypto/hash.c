/* SPDX-License-Identifier: MIT */
/* hash.c: SHA-2 digests, HMAC and HKDF over mbedTLS's generic message-digest layer. */
#include "crypto/hash.h"

#include <errno.h>

#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>

#include "common/bytes.h"

static const mbedtls_md_info_t *md_info(enum hash_alg alg)
{
	switch (alg) {
	case HASH_SHA256:
		return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	case HASH_SHA384:
		return mbedtls_md_info_from_type(MBEDTLS_MD_SHA384);
	}
	return NULL;
}

static int md_error(int mbedtls_err)
{
	switch (mbedtls_err) {
	case 0:
		return 0;
	case MBEDTLS_ERR_MD_ALLOC_FAILED:
		return -ENOMEM;
	case MBEDTLS_ERR_MD_BAD_INPUT_DATA:
	case MBEDTLS_ERR_HKDF_BAD_INPUT_DATA:
		return -EINVAL;
	default:
		return -EIO;
	}
}

size_t hash_len(enum hash_alg alg)
{
	const mbedtls_md_info_t *md = md_info(alg);

	return md ? mbedtls_md_get_size(md) : 0;
}

int hash_digest(enum hash_alg alg, const void *data, size_t len, uint8_t *out)
{
	const mbedtls_md_info_t *md = md_info(alg);

	if (!md)
		return -EINVAL;
	return md_error(mbedtls_md(md, data, len, out));
}

int hmac_compute2(enum hash_alg alg, const uint8_t *key, size_t keylen, const void *a, size_t alen,
                  const void *b, size_t blen, uint8_t *out)
{
	const mbedtls_md_info_t *md = md_info(alg);
	mbedtls_md_context_t ctx;
	int r;

	if (!md)
		return -EINVAL;
	mbedtls_md_init(&ctx);
	r = mbedtls_md_setup(&ctx, md, 1);
	if (r == 0)
		r = mbedtls_md_hmac_starts(&ctx, key, keylen);
	if (r == 0)
		r = mbedtls_md_hmac_update(&ctx, a, alen);
	if (r == 0 && blen > 0)
		r = mbedtls_md_hmac_update(&ctx, b, blen);
	if (r == 0)
		r = mbedtls_md_hmac_finish(&ctx, out);
	/* mbedtls_md_free() wipes the keyed inner/outer pads. */
	mbedtls_md_free(&ctx);
	return md_error(r);
}

int hmac_compute(enum hash_alg alg, const uint8_t *key, size_t keylen, const void *data, size_t len,
                 uint8_t *out)
{
	return hmac_compute2(alg, key, keylen, data, len, NULL, 0, out);
}

int hmac_verify2(enum hash_alg alg, const uint8_t *key, size_t keylen, const void *a, size_t alen,
                 const void *b, size_t blen, const uint8_t *mac)
{
	uint8_t expect[HASH_MAX_LEN];
	int r;

	r = hmac_compute2(alg, key, keylen, a, alen, b, blen, expect);
	if (r == 0 && memcmp_ct(expect, mac, hash_len(alg)) != 0)
		r = -EBADMSG;
	memzero(expect, sizeof(expect));
	return r;
}

int hkdf(enum hash_alg alg, const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen,
         const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
	const mbedtls_md_info_t *md = md_info(alg);

	if (!md)
		return -EINVAL;
	return md_error(mbedtls_hkdf(md, salt, saltlen, ikm, ikmlen, info, infolen, out, outlen));
}
