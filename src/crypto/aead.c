/* SPDX-License-Identifier: MIT */
/* aead.c: the AEAD front end: argument checks, backend choice, dispatch. */
#include "crypto/aead.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/bytes.h"
#include "crypto/aead_impl.h"

/* OpenSSL's AES-GCM is about ten times faster than mbedTLS 2.28's on the
 * same core (docs/performance.md, "Micro-benchmarks"): mbedTLS works one
 * block at a time, OpenSSL interleaves AES-NI and carry-less multiplies. */
#ifdef IDLOC_HAVE_OPENSSL
#define AEAD_DEFAULT AEAD_BACKEND_OPENSSL
#else
#define AEAD_DEFAULT AEAD_BACKEND_MBEDTLS
#endif

static const char *const backend_names[] = {
        [AEAD_BACKEND_MBEDTLS] = "mbedtls",
        [AEAD_BACKEND_OPENSSL] = "openssl",
};

const char *aead_backend_name(enum aead_backend backend)
{
	if ((unsigned)backend >= ARRAY_SIZE(backend_names))
		return NULL;
	return backend_names[backend];
}

const char *aead_backend(void)
{
	return aead_backend_name(AEAD_DEFAULT);
}

int aead_new_backend(enum aead_backend backend, enum aead_alg alg, const uint8_t *key,
                     size_t keylen, struct aead **ret)
{
	if (!ret || (!key && keylen))
		return -EINVAL;
	switch (backend) {
	case AEAD_BACKEND_MBEDTLS:
		return aead_mbedtls_new(alg, key, keylen, ret);
	case AEAD_BACKEND_OPENSSL:
#ifdef IDLOC_HAVE_OPENSSL
		return aead_openssl_new(alg, key, keylen, ret);
#else
		return -EPROTONOSUPPORT;
#endif
	}
	return -EPROTONOSUPPORT;
}

int aead_new(enum aead_alg alg, const uint8_t *key, size_t keylen, struct aead **ret)
{
	return aead_new_backend(AEAD_DEFAULT, alg, key, keylen, ret);
}

struct aead *aead_free(struct aead *a)
{
	if (a)
		a->ops->free(a);
	return NULL;
}

/* In place or apart: both libraries handle those two, and no caller needs a
 * shifted overlap, which mbedTLS and OpenSSL each restrict differently. */
static bool buffers_ok(const uint8_t *in, const uint8_t *out, size_t len, size_t aadlen)
{
	uintptr_t x = (uintptr_t)in, y = (uintptr_t)out;

	if (len > INT_MAX || aadlen > INT_MAX)
		return false;
	return len == 0 || x == y || x >= y + len || y >= x + len;
}

int aead_clone(const struct aead *a, struct aead **ret)
{
	if (!a || !ret)
		return -EINVAL;
	return a->ops->clone(a, ret);
}

int aead_seal(struct aead *a, const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *aad,
              size_t aadlen, const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[AEAD_TAG_LEN])
{
	if (!buffers_ok(in, out, len, aadlen))
		return -EINVAL;
	return a->ops->seal(a, nonce, aad, aadlen, in, len, out, tag);
}

int aead_open(struct aead *a, const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *aad,
              size_t aadlen, const uint8_t *in, size_t len, const uint8_t tag[AEAD_TAG_LEN],
              uint8_t *out)
{
	int r;

	if (!buffers_ok(in, out, len, aadlen))
		return -EINVAL;
	r = a->ops->open(a, nonce, aad, aadlen, in, len, tag, out);
	if (r < 0 && len)
		memzero(out, len);
	return r;
}
