/* SPDX-License-Identifier: MIT */
/* aead_impl.h: what an AEAD backend implements, for src/crypto/aead*.c only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "crypto/aead.h"

/* The front end (aead.c) has already checked the arguments: in equals out
 * or the two are disjoint, len and aadlen fit in an int, and a backend may
 * leave out dirty on failure because open zeroes it. */
struct aead_ops {
	int (*seal)(struct aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
	            const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag);
	int (*open)(struct aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
	            const uint8_t *in, size_t len, const uint8_t *tag, uint8_t *out);
	void (*free)(struct aead *a);
	int (*clone)(const struct aead *a, struct aead **ret);
	/* Where a's packets go now. */
	enum aead_backend (*backend)(const struct aead *a);
};

/* Each backend embeds this first in its own state, so a struct aead *
 * converts to the backend's type. */
struct aead {
	const struct aead_ops *ops;
};

/* Constructors: -EINVAL for a key length the algorithm does not take,
 * -EPROTONOSUPPORT for an algorithm the backend lacks. */
int aead_mbedtls_new(enum aead_alg alg, const uint8_t *key, size_t keylen, struct aead **ret);
#ifdef IDLOC_HAVE_OPENSSL
int aead_openssl_new(enum aead_alg alg, const uint8_t *key, size_t keylen, struct aead **ret);
/* Loads libcrypto (once, thread-safe): 0, -ELIBACC when it is not
 * installed, -ELIBBAD when it lacks a function, -EIO. */
int aead_openssl_load(void);
#endif
