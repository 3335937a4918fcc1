/* SPDX-License-Identifier: MIT */
/* aead.h: the narrow AEAD interface ESP uses. Backends (OpenSSL libcrypto when
 * built with it, mbedTLS always) live behind it, so src/esp/ never sees them. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define AEAD_NONCE_LEN 12
#define AEAD_TAG_LEN   16

enum aead_alg {
	AEAD_AES_GCM, /* key 16 or 32 bytes */
};

enum aead_backend {
	AEAD_BACKEND_MBEDTLS, /* always built: the fallback */
	AEAD_BACKEND_OPENSSL, /* with -Dopenssl (libcrypto found) */
};

struct aead;

/* One key, for one direction of one SA. Allocates here and never per packet.
 * A struct aead is not safe for concurrent use; separate ones are. With
 * OpenSSL built in, the context starts on mbedTLS and moves to OpenSSL once
 * it has carried 1 MiB (libcrypto is loaded then; aead.c says why). */
int aead_new(enum aead_alg alg, const uint8_t *key, size_t keylen, struct aead **ret);
struct aead *aead_free(struct aead *a);
/* A new context with a's key and backend, for another thread (the crypto
 * worker, esp/worker.h): it seals and opens exactly as a does. a must not be
 * in use by another thread meanwhile. -ENOMEM, -EIO. */
int aead_clone(const struct aead *a, struct aead **ret);
/* Encrypts len bytes of in to out and writes the tag. out equals in or does
 * not overlap it (-EINVAL otherwise); len and aadlen are at most INT_MAX. */
int aead_seal(struct aead *a, const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *aad,
              size_t aadlen, const uint8_t *in, size_t len, uint8_t *out,
              uint8_t tag[AEAD_TAG_LEN]);
/* Verifies and decrypts, with the same buffer rules as aead_seal; -EBADMSG on
 * a bad tag (out then holds zeros, never unauthenticated plaintext). */
int aead_open(struct aead *a, const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *aad,
              size_t aadlen, const uint8_t *in, size_t len, const uint8_t tag[AEAD_TAG_LEN],
              uint8_t *out);

/* The backend that carries bulk traffic for aead_new() contexts ("openssl"
 * or "mbedtls"), for logs and benchmarks. */
const char *aead_backend(void);
/* The name of a backend, or NULL for a value outside the enum. */
const char *aead_backend_name(enum aead_backend backend);
/* The backend a's packets go through now (an aead_new() context moves from
 * mbedTLS to OpenSSL under bulk traffic). */
enum aead_backend aead_current_backend(const struct aead *a);
/* aead_new() on a chosen backend (tests, benchmarks); -EPROTONOSUPPORT when
 * this build lacks it. Every backend gives the same bytes and errors. */
int aead_new_backend(enum aead_backend backend, enum aead_alg alg, const uint8_t *key,
                     size_t keylen, struct aead **ret);
