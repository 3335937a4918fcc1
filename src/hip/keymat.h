/* SPDX-License-Identifier: MIT */
/* keymat.h: HIPv2 KEYMAT (RFC 7401 section 6.5, HKDF with RHASH) and the
 * drawing of HIP and ESP keys from it (RFC 7401 section 6.5, RFC 7402 section 7). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/hit.h"
#include "crypto/hash.h"

/* Enough for the HIP keys plus many ESP rekeys drawn from the same KEYMAT
 * before a new Diffie-Hellman is required. */
#define HIP_KEYMAT_LEN  1024
#define HIP_ENC_KEY_MAX 32

struct hip_keymat {
	uint8_t bytes[HIP_KEYMAT_LEN];
	size_t len;
};

/* KEYMAT = HKDF(salt = I | J, IKM = Kij, info = sort(HIT-I | HIT-R), L). */
int hip_keymat_derive(struct hip_keymat *km, enum hash_alg alg, const uint8_t *kij, size_t kijlen,
                      const uint8_t *i, const uint8_t *j, size_t ijlen, const struct hit *hit_i,
                      const struct hit *hit_r);

/* The four HIP keys, already oriented for this host: `out` keys protect what we
 * send, `in` keys what the peer sends. */
struct hip_keys {
	uint8_t enc_out[HIP_ENC_KEY_MAX];
	uint8_t enc_in[HIP_ENC_KEY_MAX];
	size_t enclen;
	uint8_t mac_out[HASH_MAX_LEN];
	uint8_t mac_in[HASH_MAX_LEN];
	size_t maclen;
	uint16_t esp_keymat_index; /* first byte after the HIP keys */
};

/* Draws HIP-gl enc, HIP-gl integrity, HIP-lg enc, HIP-lg integrity in that order.
 * HOST_g is the host with the greater HIT. */
int hip_keys_draw(const struct hip_keymat *km, size_t enclen, size_t maclen, const struct hit *mine,
                  const struct hit *peer, struct hip_keys *ret);
/* Draws SA-gl then SA-lg ESP key material (keylen bytes each) at index, oriented:
 * ret_out is what this host sends with. -ERANGE when KEYMAT is exhausted. */
int hip_esp_keys_draw(const struct hip_keymat *km, size_t index, size_t keylen,
                      const struct hit *mine, const struct hit *peer, uint8_t *ret_out,
                      uint8_t *ret_in);
/* ICE credentials of the host with HIT hit, from the ICE key both ends drew
 * from KEYMAT (docs/hip.md "NAT traversal"): ufrag = the HIT's last 32 bits
 * in hex (8 characters), pwd = hex of HMAC-SHA-256(key, HIT) truncated to
 * 16 bytes (32 characters, above RFC 8445's 22-character minimum). */
int hip_ice_credentials(const uint8_t *key, size_t keylen, const struct hit *hit, char ufrag[9],
                        char pwd[33]);

/* Key length of a HIP_CIPHER ID, or 0 if unsupported. */
size_t hip_cipher_key_len(uint16_t cipher);
