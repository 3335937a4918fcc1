/* SPDX-License-Identifier: MIT */
/* hash.h: SHA-2 digests, HMAC and HKDF (RFC 5869) over a chosen hash. */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum hash_alg {
	HASH_SHA256,
	HASH_SHA384,
};

#define HASH_MAX_LEN 48

size_t hash_len(enum hash_alg alg);
int hash_digest(enum hash_alg alg, const void *data, size_t len, uint8_t *out);
/* HMAC over the concatenation of two parts (the second may be empty): HIP_MAC_2
 * covers a packet prefix followed by a HOST_ID that is not in the packet. */
int hmac_compute2(enum hash_alg alg, const uint8_t *key, size_t keylen, const void *a, size_t alen,
                  const void *b, size_t blen, uint8_t *out);
int hmac_compute(enum hash_alg alg, const uint8_t *key, size_t keylen, const void *data, size_t len,
                 uint8_t *out);
/* Constant-time check; 0 when mac matches, -EBADMSG otherwise. */
int hmac_verify2(enum hash_alg alg, const uint8_t *key, size_t keylen, const void *a, size_t alen,
                 const void *b, size_t blen, const uint8_t *mac);
int hkdf(enum hash_alg alg, const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen,
         const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen);
