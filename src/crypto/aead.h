/* SPDX-License-Identifier: MIT */
/* aead.h: the narrow AEAD interface ESP uses. Backends (mbedTLS today) live
 * behind it so a faster one can be added without touching src/esp/. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define AEAD_NONCE_LEN 12
#define AEAD_TAG_LEN   16

enum aead_alg {
	AEAD_AES_GCM, /* key 16 or 32 bytes */
};

struct aead;

int aead_new(enum aead_alg alg, const uint8_t *key, size_t keylen, struct aead **ret);
struct aead *aead_free(struct aead *a);
/* Encrypts len bytes of in to out (which may equal in) and writes the tag. */
int aead_seal(struct aead *a, const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *aad,
              size_t aadlen, const uint8_t *in, size_t len, uint8_t *out,
              uint8_t tag[AEAD_TAG_LEN]);
/* Verifies and decrypts; -EBADMSG on a bad tag (out is then undefined). */
int aead_open(struct aead *a, const uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *aad,
              size_t aadlen, const uint8_t *in, size_t len, const uint8_t tag[AEAD_TAG_LEN],
              uint8_t *out);
