/* SPDX-License-Identifier: MIT */
/* aead.c: the AEAD front end: argument checks, backend choice, dispatch. */
#include "crypto/aead.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/aead_impl.h"

/* OpenSSL's AES-GCM is about ten times faster than mbedTLS 2.28's on the
 * same core (docs/performance.md, "Micro-benchmarks"): mbedTLS works one
 * block at a time, OpenSSL interleaves AES-NI and carry-less multiplies.
 * But libcrypto costs about 3 MiB of resident memory in the process that
 * loads it, so an SA starts on mbedTLS and moves to OpenSSL once it has
 * carried AEAD_BULK_BYTES (a file transfer does at once; keepalives, pings
 * and a terminal session take hours or never): a daemon whose associations
 * only idle never loads libcrypto. Both give the same bytes, so the move is
 * invisible on the wire. */
#ifdef IDLOC_HAVE_OPENSSL
#define AEAD_DEFAULT    AEAD_BACKEND_OPENSSL
#define AEAD_BULK_BYTES (1u << 20)
#define AEAD_KEY_MAX    32
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

#ifdef IDLOC_HAVE_OPENSSL
/* The default context: mbedTLS until the SA carries bulk traffic, then
 * OpenSSL (or mbedTLS for good when libcrypto cannot be loaded). */
struct aead_bulk {
	struct aead base;
	struct aead *cur;
	bool settled; /* cur is the context for good: the key is gone */
	size_t bytes; /* carried so far, while not settled */
	enum aead_alg alg;
	size_t keylen;
	uint8_t key[AEAD_KEY_MAX];
};

static void bulk_settle(struct aead_bulk *b, struct aead *fast)
{
	if (fast) {
		aead_free(b->cur);
		b->cur = fast;
	}
	b->settled = true;
	memzero(b->key, sizeof(b->key));
}

static void bulk_count(struct aead_bulk *b, size_t len)
{
	struct aead *fast = NULL;

	if (b->settled)
		return;
	b->bytes += len;
	if (b->bytes < AEAD_BULK_BYTES)
		return;
	if (aead_openssl_new(b->alg, b->key, b->keylen, &fast) < 0)
		fast = NULL; /* no libcrypto: mbedTLS carries on */
	bulk_settle(b, fast);
}

static int bulk_seal(struct aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
                     const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	struct aead_bulk *b = (struct aead_bulk *)a;
	int r = b->cur->ops->seal(b->cur, nonce, aad, aadlen, in, len, out, tag);

	bulk_count(b, len);
	return r;
}

static int bulk_open(struct aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
                     const uint8_t *in, size_t len, const uint8_t *tag, uint8_t *out)
{
	struct aead_bulk *b = (struct aead_bulk *)a;
	int r = b->cur->ops->open(b->cur, nonce, aad, aadlen, in, len, tag, out);

	bulk_count(b, len);
	return r;
}

static void bulk_free(struct aead *a)
{
	struct aead_bulk *b = (struct aead_bulk *)a;

	aead_free(b->cur);
	memzero(b->key, sizeof(b->key));
	free(b);
}

static int bulk_new(enum aead_alg alg, const uint8_t *key, size_t keylen, size_t bytes,
                    struct aead **ret);

/* A settled context clones its backend's; an unsettled one makes another
 * bulk context with the key and the count so far. */
static int bulk_clone(const struct aead *a, struct aead **ret)
{
	const struct aead_bulk *b = (const struct aead_bulk *)a;

	if (b->settled)
		return aead_clone(b->cur, ret);
	return bulk_new(b->alg, b->key, b->keylen, b->bytes, ret);
}

static enum aead_backend bulk_backend(const struct aead *a)
{
	const struct aead_bulk *b = (const struct aead_bulk *)a;

	return aead_current_backend(b->cur);
}

static const struct aead_ops bulk_ops = {
        .seal = bulk_seal,
        .open = bulk_open,
        .free = bulk_free,
        .clone = bulk_clone,
        .backend = bulk_backend,
};

static int bulk_new(enum aead_alg alg, const uint8_t *key, size_t keylen, size_t bytes,
                    struct aead **ret)
{
	struct aead_bulk *b;
	int r;

	if (keylen > AEAD_KEY_MAX)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	r = aead_mbedtls_new(alg, key, keylen, &b->cur);
	if (r < 0) {
		free(b);
		return r;
	}
	b->base.ops = &bulk_ops;
	b->alg = alg;
	b->keylen = keylen;
	b->bytes = bytes;
	memcpy(b->key, key, keylen);
	*ret = &b->base;
	return 0;
}
#endif

int aead_new(enum aead_alg alg, const uint8_t *key, size_t keylen, struct aead **ret)
{
#ifdef IDLOC_HAVE_OPENSSL
	if (!ret || (!key && keylen))
		return -EINVAL;
	return bulk_new(alg, key, keylen, 0, ret);
#else
	return aead_new_backend(AEAD_DEFAULT, alg, key, keylen, ret);
#endif
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

enum aead_backend aead_current_backend(const struct aead *a)
{
	return a->ops->backend(a);
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
