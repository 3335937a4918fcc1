/* SPDX-License-Identifier: MIT */
/* aead_mbedtls.c: the mbedTLS AES-GCM backend of the AEAD interface. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/gcm.h>

#include "common/bytes.h"
#include "crypto/aead_impl.h"

/* mbedTLS 2.28 forbids in-place GCM decryption (gcm.h), so in-place
 * ciphertext is staged through this many bytes of stack, a multiple of the
 * 16-byte block as mbedtls_gcm_update() requires for all but the last call. */
#define GCM_BOUNCE 512

struct aead_gcm {
	struct aead base; /* first: struct aead * converts to struct aead_gcm * */
	mbedtls_gcm_context gcm;
	/* The expanded key inside gcm cannot be copied (its round-key pointer
	 * points into itself), so a clone expands the key again: no more
	 * secret than the schedule next to it, and wiped with it. */
	uint8_t key[32];
	size_t keylen;
};

static mbedtls_gcm_context *gcm_ctx(struct aead *a)
{
	return &((struct aead_gcm *)a)->gcm;
}

static int gcm_seal(struct aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
                    const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	if (mbedtls_gcm_crypt_and_tag(gcm_ctx(a), MBEDTLS_GCM_ENCRYPT, len, nonce, AEAD_NONCE_LEN,
	                              aad, aadlen, in, out, AEAD_TAG_LEN, tag) != 0)
		return -EIO;
	return 0;
}

static int gcm_decrypt_bounced(mbedtls_gcm_context *gcm, uint8_t *buf, size_t len)
{
	uint8_t bounce[GCM_BOUNCE];
	int r = 0;

	while (r == 0 && len > 0) {
		size_t n = len < sizeof(bounce) ? len : sizeof(bounce);

		memcpy(bounce, buf, n);
		r = mbedtls_gcm_update(gcm, n, bounce, buf);
		buf += n;
		len -= n;
	}
	memzero(bounce, sizeof(bounce));
	return r;
}

static int gcm_open_in_place(mbedtls_gcm_context *gcm, const uint8_t *nonce, const uint8_t *aad,
                             size_t aadlen, uint8_t *buf, size_t len, const uint8_t *tag)
{
	uint8_t expect[AEAD_TAG_LEN];
	int r;

	r = mbedtls_gcm_starts(gcm, MBEDTLS_GCM_DECRYPT, nonce, AEAD_NONCE_LEN, aad, aadlen);
	if (r == 0)
		r = gcm_decrypt_bounced(gcm, buf, len);
	if (r == 0)
		r = mbedtls_gcm_finish(gcm, expect, sizeof(expect));
	if (r != 0)
		r = -EIO;
	else if (memcmp_ct(expect, tag, AEAD_TAG_LEN) != 0)
		r = -EBADMSG;
	memzero(expect, sizeof(expect));
	return r;
}

static int gcm_open(struct aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
                    const uint8_t *in, size_t len, const uint8_t *tag, uint8_t *out)
{
	int r;

	if (in == out && len > 0)
		return gcm_open_in_place(gcm_ctx(a), nonce, aad, aadlen, out, len, tag);
	r = mbedtls_gcm_auth_decrypt(gcm_ctx(a), len, nonce, AEAD_NONCE_LEN, aad, aadlen, tag,
	                             AEAD_TAG_LEN, in, out);
	if (r == MBEDTLS_ERR_GCM_AUTH_FAILED)
		return -EBADMSG;
	return r == 0 ? 0 : -EIO;
}

static void gcm_free(struct aead *a)
{
	struct aead_gcm *g = (struct aead_gcm *)a;

	mbedtls_gcm_free(&g->gcm);
	memzero(g->key, sizeof(g->key));
	free(g);
}

static int gcm_clone(const struct aead *a, struct aead **ret)
{
	const struct aead_gcm *g = (const struct aead_gcm *)a;

	return aead_mbedtls_new(AEAD_AES_GCM, g->key, g->keylen, ret);
}

static enum aead_backend gcm_backend(const struct aead *a)
{
	return AEAD_BACKEND_MBEDTLS;
}

static const struct aead_ops gcm_ops = {
        .seal = gcm_seal,
        .open = gcm_open,
        .free = gcm_free,
        .clone = gcm_clone,
        .backend = gcm_backend,
};

int aead_mbedtls_new(enum aead_alg alg, const uint8_t *key, size_t keylen, struct aead **ret)
{
	struct aead_gcm *g;

	if (alg != AEAD_AES_GCM)
		return -EPROTONOSUPPORT;
	if (keylen != 16 && keylen != 32)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->base.ops = &gcm_ops;
	memcpy(g->key, key, keylen);
	g->keylen = keylen;
	mbedtls_gcm_init(&g->gcm);
	if (mbedtls_gcm_setkey(&g->gcm, MBEDTLS_CIPHER_ID_AES, key, (unsigned int)keylen * 8) !=
	    0) {
		gcm_free(&g->base);
		return -EIO;
	}
	*ret = &g->base;
	return 0;
}
