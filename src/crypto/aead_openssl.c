/* SPDX-License-Identifier: MIT */
/* aead_openssl.c: the OpenSSL libcrypto AES-GCM backend of the AEAD interface. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/aead_impl.h"

/* One cipher context per key, set up once: a packet only loads its nonce
 * (EVP_CipherInit_ex with no cipher and no key keeps the key schedule) and
 * picks the direction, so nothing is allocated or expanded per packet. */
struct aead_evp {
	struct aead base; /* first: struct aead * converts to struct aead_evp * */
	EVP_CIPHER_CTX *ctx;
};

static EVP_CIPHER_CTX *evp_ctx(struct aead *a)
{
	return ((struct aead_evp *)a)->ctx;
}

/* The error queue is per thread and keeps only the newest entries, so
 * clearing it is about hygiene for other libcrypto users in the process. */
static int evp_fail(int err)
{
	ERR_clear_error();
	return err;
}

/* Loads the nonce and direction, then AAD and data: GCM writes every byte
 * of out here, none in the final call. */
static int evp_run(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *nonce, const uint8_t *aad,
                   size_t aadlen, const uint8_t *in, size_t len, uint8_t *out)
{
	int n;

	if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, enc) != 1)
		return -EIO;
	if (aadlen && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
		return -EIO;
	if (len && (EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 || (size_t)n != len))
		return -EIO;
	return 0;
}

static int evp_seal(struct aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
                    const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx = evp_ctx(a);
	int n;

	if (evp_run(ctx, 1, nonce, aad, aadlen, in, len, out) < 0)
		return evp_fail(-EIO);
	if (EVP_CipherFinal_ex(ctx, out, &n) != 1 || n != 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN, tag) != 1)
		return evp_fail(-EIO);
	return 0;
}

static int evp_open(struct aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
                    const uint8_t *in, size_t len, const uint8_t *tag, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = evp_ctx(a);
	uint8_t expect[AEAD_TAG_LEN];
	int n;

	if (evp_run(ctx, 0, nonce, aad, aadlen, in, len, out) < 0)
		return evp_fail(-EIO);
	/* A copy, because the control call takes a non-const pointer. */
	memcpy(expect, tag, AEAD_TAG_LEN);
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_LEN, expect) != 1)
		return evp_fail(-EIO);
	/* OpenSSL compares the tag in constant time; failure here means forged. */
	if (EVP_CipherFinal_ex(ctx, out, &n) != 1)
		return evp_fail(-EBADMSG);
	return 0;
}

static void evp_free(struct aead *a)
{
	struct aead_evp *e = (struct aead_evp *)a;

	/* Frees the key schedule with OPENSSL_clear_free. */
	EVP_CIPHER_CTX_free(e->ctx);
	free(e);
}

static int evp_clone(const struct aead *a, struct aead **ret);

static const struct aead_ops evp_ops = {
        .seal = evp_seal,
        .open = evp_open,
        .free = evp_free,
        .clone = evp_clone,
};

static struct aead_evp *evp_alloc(void)
{
	struct aead_evp *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->base.ops = &evp_ops;
	e->ctx = EVP_CIPHER_CTX_new();
	if (!e->ctx) {
		free(e);
		return NULL;
	}
	return e;
}

/* The copy duplicates the expanded key (the provider's dupctx), so the two
 * contexts share nothing mutable; a nonce is loaded per packet anyway. */
static int evp_clone(const struct aead *a, struct aead **ret)
{
	const struct aead_evp *src = (const struct aead_evp *)a;
	struct aead_evp *e = evp_alloc();

	if (!e)
		return evp_fail(-ENOMEM);
	if (EVP_CIPHER_CTX_copy(e->ctx, src->ctx) != 1) {
		evp_free(&e->base);
		return evp_fail(-EIO);
	}
	*ret = &e->base;
	return 0;
}

int aead_openssl_new(enum aead_alg alg, const uint8_t *key, size_t keylen, struct aead **ret)
{
	const EVP_CIPHER *cipher;
	struct aead_evp *e;

	if (alg != AEAD_AES_GCM)
		return -EPROTONOSUPPORT;
	if (keylen == 16)
		cipher = EVP_aes_128_gcm();
	else if (keylen == 32)
		cipher = EVP_aes_256_gcm();
	else
		return -EINVAL;
	/* Only AES-GCM from the default provider is needed: skipping the
	 * system openssl.cnf saves about 0.6 MiB of RSS and keeps the cipher
	 * independent of host policy. A no-op once libcrypto is initialised. */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
		return evp_fail(-EIO);
	e = evp_alloc();
	if (!e)
		return evp_fail(-ENOMEM);
	/* The default IV length of GCM in OpenSSL is AEAD_NONCE_LEN (12). */
	if (EVP_CipherInit_ex(e->ctx, cipher, NULL, key, NULL, 1) != 1 ||
	    EVP_CIPHER_CTX_iv_length(e->ctx) != AEAD_NONCE_LEN) {
		evp_free(&e->base);
		return evp_fail(-EIO);
	}
	*ret = &e->base;
	return 0;
}
