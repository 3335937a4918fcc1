/* SPDX-License-Identifier: MIT */
/* aead_openssl.c: the OpenSSL libcrypto AES-GCM backend of the AEAD interface. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/bytes.h"
#include "crypto/aead_impl.h"

/* libcrypto is not linked but loaded when the first context is made: its
 * pages (2.7 MiB resident once an AES-GCM context exists, 0.8 MiB of it
 * relocations alone) are then paid only by a process that wants the fast
 * cipher, and aead.c asks for it only once an SA carries bulk traffic
 * (docs/performance.md, "Memory steps"). OpenSSL 3's ABI is this soname. */
#define LIBCRYPTO_SONAME "libcrypto.so.3"

static struct {
	int (*init_crypto)(uint64_t opts, const OPENSSL_INIT_SETTINGS *settings);
	const EVP_CIPHER *(*aes_128_gcm)(void);
	const EVP_CIPHER *(*aes_256_gcm)(void);
	EVP_CIPHER_CTX *(*ctx_new)(void);
	void (*ctx_free)(EVP_CIPHER_CTX *ctx);
	int (*ctx_copy)(EVP_CIPHER_CTX *out, const EVP_CIPHER_CTX *in);
	int (*ctx_ctrl)(EVP_CIPHER_CTX *ctx, int type, int arg, void *ptr);
	int (*ctx_iv_length)(const EVP_CIPHER_CTX *ctx);
	int (*init)(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, ENGINE *impl,
	            const unsigned char *key, const unsigned char *iv, int enc);
	int (*update)(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl, const unsigned char *in,
	              int inl);
	int (*final)(EVP_CIPHER_CTX *ctx, unsigned char *outm, int *outl);
	void (*clear_error)(void);
} ossl;

static pthread_once_t ossl_once = PTHREAD_ONCE_INIT;
static int ossl_status = -ELIBACC;

static void ossl_load(void)
{
	const struct {
		void *slot;
		const char *name;
	} syms[] = {
	        {&ossl.init_crypto, "OPENSSL_init_crypto"},
	        {&ossl.aes_128_gcm, "EVP_aes_128_gcm"},
	        {&ossl.aes_256_gcm, "EVP_aes_256_gcm"},
	        {&ossl.ctx_new, "EVP_CIPHER_CTX_new"},
	        {&ossl.ctx_free, "EVP_CIPHER_CTX_free"},
	        {&ossl.ctx_copy, "EVP_CIPHER_CTX_copy"},
	        {&ossl.ctx_ctrl, "EVP_CIPHER_CTX_ctrl"},
	        {&ossl.ctx_iv_length, "EVP_CIPHER_CTX_get_iv_length"},
	        {&ossl.init, "EVP_CipherInit_ex"},
	        {&ossl.update, "EVP_CipherUpdate"},
	        {&ossl.final, "EVP_CipherFinal_ex"},
	        {&ossl.clear_error, "ERR_clear_error"},
	};
	/* Never closed: OpenSSL keeps per-thread state and exit handlers. */
	void *h = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		void *fn = dlsym(h, syms[i].name);

		if (!fn) {
			ossl_status = -ELIBBAD;
			return;
		}
		/* dlsym's object pointer into a function pointer, as POSIX
		 * allows, without a cast ISO C forbids. */
		memcpy(syms[i].slot, &fn, sizeof(fn));
	}
	/* Only AES-GCM from the default provider is needed: skipping the
	 * system openssl.cnf saves about 0.6 MiB of RSS and keeps the cipher
	 * independent of host policy. */
	ossl_status = ossl.init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) == 1 ? 0 : -EIO;
}

int aead_openssl_load(void)
{
	if (pthread_once(&ossl_once, ossl_load) != 0)
		return -EIO;
	return ossl_status;
}

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
	ossl.clear_error();
	return err;
}

/* Loads the nonce and direction, then AAD and data: GCM writes every byte
 * of out here, none in the final call. */
static int evp_run(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *nonce, const uint8_t *aad,
                   size_t aadlen, const uint8_t *in, size_t len, uint8_t *out)
{
	int n;

	if (ossl.init(ctx, NULL, NULL, NULL, nonce, enc) != 1)
		return -EIO;
	if (aadlen && ossl.update(ctx, NULL, &n, aad, (int)aadlen) != 1)
		return -EIO;
	if (len && (ossl.update(ctx, out, &n, in, (int)len) != 1 || (size_t)n != len))
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
	if (ossl.final(ctx, out, &n) != 1 || n != 0 ||
	    ossl.ctx_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN, tag) != 1)
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
	if (ossl.ctx_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_LEN, expect) != 1)
		return evp_fail(-EIO);
	/* OpenSSL compares the tag in constant time; failure here means forged. */
	if (ossl.final(ctx, out, &n) != 1)
		return evp_fail(-EBADMSG);
	return 0;
}

static void evp_free(struct aead *a)
{
	struct aead_evp *e = (struct aead_evp *)a;

	/* Frees the key schedule with OPENSSL_clear_free. */
	ossl.ctx_free(e->ctx);
	free(e);
}

static int evp_clone(const struct aead *a, struct aead **ret);

static enum aead_backend evp_backend(const struct aead *a)
{
	return AEAD_BACKEND_OPENSSL;
}

static const struct aead_ops evp_ops = {
        .seal = evp_seal,
        .open = evp_open,
        .free = evp_free,
        .clone = evp_clone,
        .backend = evp_backend,
};

static struct aead_evp *evp_alloc(void)
{
	struct aead_evp *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->base.ops = &evp_ops;
	e->ctx = ossl.ctx_new();
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
	if (ossl.ctx_copy(e->ctx, src->ctx) != 1) {
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
	int r;

	if (alg != AEAD_AES_GCM)
		return -EPROTONOSUPPORT;
	if (keylen != 16 && keylen != 32)
		return -EINVAL;
	r = aead_openssl_load();
	if (r < 0)
		return r;
	cipher = keylen == 16 ? ossl.aes_128_gcm() : ossl.aes_256_gcm();
	e = evp_alloc();
	if (!e)
		return evp_fail(-ENOMEM);
	/* The default IV length of GCM in OpenSSL is AEAD_NONCE_LEN (12). */
	if (ossl.init(e->ctx, cipher, NULL, key, NULL, 1) != 1 ||
	    ossl.ctx_iv_length(e->ctx) != AEAD_NONCE_LEN) {
		evp_free(&e->base);
		return evp_fail(-EIO);
	}
	*ret = &e->base;
	return 0;
}
