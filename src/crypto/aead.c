/* SPDX-License-Identifier: MIT */
/* aead.c: the AEAD front end and its mbedTLS AES-GCM backend. */

/* Callers see only struct aead; each backend supplies a struct aead_ops and
 * embeds struct aead first in its own state, so adding a backend (another
 * library, or ChaCha20-Poly1305) touches this file alone. Per-packet calls do
 * not allocate; all allocation happens in aead_new(). */
#include "crypto/aead.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <mbedtls/gcm.h>

#include "common/bytes.h"

struct aead_ops {
	int (*seal)(struct aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
	            const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag);
	int (*open)(struct aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
	            const uint8_t *in, size_t len, const uint8_t *tag, uint8_t *out);
	void (*free)(struct aead *a);
};

struct aead {
	const struct aead_ops *ops;
};

/* ---- mbedTLS AES-GCM ---- */

/* mbedTLS 2.28 forbids in-place GCM decryption (gcm.h), so overlapping
 * ciphertext is staged through this many bytes of stack, a multiple of the
 * 16-byte block as mbedtls_gcm_update() requires for all but the last call. */
#define GCM_BOUNCE 512

struct aead_gcm {
	struct aead base; /* first: struct aead * converts to struct aead_gcm * */
	mbedtls_gcm_context gcm;
};

static mbedtls_gcm_context *gcm_ctx(struct aead *a)
{
	return &((struct aead_gcm *)a)->gcm;
}

static bool ranges_overlap(const uint8_t *a, const uint8_t *b, size_t len)
{
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;

	return len > 0 && x < y + len && y < x + len;
}

static int gcm_seal(struct aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
                    const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	if (in != out && ranges_overlap(in, out, len))
		return -EINVAL;
	if (mbedtls_gcm_crypt_and_tag(gcm_ctx(a), MBEDTLS_GCM_ENCRYPT, len, nonce, AEAD_NONCE_LEN,
	                              aad, aadlen, in, out, AEAD_TAG_LEN, tag) != 0)
		return -EIO;
	return 0;
}

static int gcm_decrypt_bounced(mbedtls_gcm_context *gcm, const uint8_t *in, size_t len,
                               uint8_t *out)
{
	uint8_t bounce[GCM_BOUNCE];
	int r = 0;

	while (r == 0 && len > 0) {
		size_t n = len < sizeof(bounce) ? len : sizeof(bounce);

		memcpy(bounce, in, n);
		r = mbedtls_gcm_update(gcm, n, bounce, out);
		in += n;
		out += n;
		len -= n;
	}
	memzero(bounce, sizeof(bounce));
	return r;
}

static int gcm_open(struct aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
                    const uint8_t *in, size_t len, const uint8_t *tag, uint8_t *out)
{
	mbedtls_gcm_context *gcm = gcm_ctx(a);
	uint8_t expect[AEAD_TAG_LEN];
	int r;

	if (!ranges_overlap(in, out, len)) {
		r = mbedtls_gcm_auth_decrypt(gcm, len, nonce, AEAD_NONCE_LEN, aad, aadlen, tag,
		                             AEAD_TAG_LEN, in, out);
		if (r == MBEDTLS_ERR_GCM_AUTH_FAILED)
			return -EBADMSG;
		return r == 0 ? 0 : -EIO;
	}
	r = mbedtls_gcm_starts(gcm, MBEDTLS_GCM_DECRYPT, nonce, AEAD_NONCE_LEN, aad, aadlen);
	if (r == 0)
		r = gcm_decrypt_bounced(gcm, in, len, out);
	if (r == 0)
		r = mbedtls_gcm_finish(gcm, expect, sizeof(expect));
	if (r != 0) {
		r = -EIO;
	} else if (memcmp_ct(expect, tag, AEAD_TAG_LEN) != 0) {
		/* Never hand out plaintext that failed authentication. */
		memzero(out, len);
		r = -EBADMSG;
	}
	memzero(expect, sizeof(expect));
	return r;
}

static void gcm_free(struct aead *a)
{
	struct aead_gcm *g = (struct aead_gcm *)a;

	mbedtls_gcm_free(&g->gcm);
	free(g);
}

static const struct aead_ops gcm_ops = {
        .seal = gcm_seal,
        .open = gcm_open,
        .free = gcm_free,
};

static int gcm_new(const uint8_t *key, size_t keylen, struct aead **ret)
{
	struct aead_gcm *g;

	if (keylen != 16 && keylen != 32)
		return -EINVAL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->base.ops = &gcm_ops;
	mbedtls_gcm_init(&g->gcm);
	if (mbedtls_gcm_setkey(&g->gcm, MBEDTLS_CIPHER_ID_AES, key, (unsigned int)keylen * 8) !=
	    0) {
		gcm_free(&g->base);
		return -EIO;
	}
	*ret = &g->base;
	return 0;
}

/* ---- front end ---- */

int aead_new(enum aead_alg alg, const uint8_t *key, size_t keylen, struct aead **ret)
{
	switch (alg) {
	case AEAD_AES_GCM:
		return gcm_new(key, keylen, ret);
	}
	return -EPROTONOSUPPORT;
}

struct aead *aead_free(struct aead *a)
{
	if (a)
		a->ops->free(a);
	return NULL;
}

int aead_seal(struct aead *a, const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *aad,
              size_t aadlen, const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[AEAD_TAG_LEN])
{
	return a->ops->seal(a, nonce, aad, aadlen, in, len, out, tag);
}

int aead_open(struct aead *a, const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *aad,
              size_t aadlen, const uint8_t *in, size_t len, const uint8_t tag[AEAD_TAG_LEN],
              uint8_t *out)
{
	return a->ops->open(a, nonce, aad, aadlen, in, len, tag, out);
}
