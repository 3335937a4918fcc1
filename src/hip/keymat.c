/* SPDX-License-Identifier: MIT */
/* keymat.c: HKDF-based KEYMAT and the key drawing order. */
#include "hip/keymat.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/bytes.h"
#include "hip/wire.h"

int hip_keymat_derive(struct hip_keymat *km, enum hash_alg alg, const uint8_t *kij, size_t kijlen,
                      const uint8_t *i, const uint8_t *j, size_t ijlen, const struct hit *hit_i,
                      const struct hit *hit_r)
{
	uint8_t salt[2 * HASH_MAX_LEN];
	uint8_t info[2 * HIT_LEN];
	const struct hit *lo = hit_i, *hi = hit_r;
	int r;

	if (ijlen > HASH_MAX_LEN)
		return -EINVAL;
	/* The numerically smaller HIT comes first, so both ends agree on the info. */
	if (hit_cmp(hit_i, hit_r) > 0) {
		lo = hit_r;
		hi = hit_i;
	}
	memcpy(info, lo->b, HIT_LEN);
	memcpy(info + HIT_LEN, hi->b, HIT_LEN);
	memcpy(salt, i, ijlen);
	memcpy(salt + ijlen, j, ijlen);
	r = hkdf(alg, salt, 2 * ijlen, kij, kijlen, info, sizeof(info), km->bytes,
	         sizeof(km->bytes));
	memzero(salt, sizeof(salt));
	if (r < 0)
		return r;
	km->len = sizeof(km->bytes);
	return 0;
}

int hip_keys_draw(const struct hip_keymat *km, size_t enclen, size_t maclen, const struct hit *mine,
                  const struct hit *peer, struct hip_keys *ret)
{
	const uint8_t *gl_enc, *gl_mac, *lg_enc, *lg_mac;
	size_t need = 2 * (enclen + maclen);
	bool i_am_g = hit_cmp(mine, peer) > 0;

	if (enclen > HIP_ENC_KEY_MAX || maclen > HASH_MAX_LEN || need > km->len)
		return -EINVAL;
	gl_enc = km->bytes;
	gl_mac = gl_enc + enclen;
	lg_enc = gl_mac + maclen;
	lg_mac = lg_enc + enclen;
	memcpy(ret->enc_out, i_am_g ? gl_enc : lg_enc, enclen);
	memcpy(ret->enc_in, i_am_g ? lg_enc : gl_enc, enclen);
	memcpy(ret->mac_out, i_am_g ? gl_mac : lg_mac, maclen);
	memcpy(ret->mac_in, i_am_g ? lg_mac : gl_mac, maclen);
	ret->enclen = enclen;
	ret->maclen = maclen;
	ret->esp_keymat_index = (uint16_t)need;
	return 0;
}

int hip_esp_keys_draw(const struct hip_keymat *km, size_t index, size_t keylen,
                      const struct hit *mine, const struct hit *peer, uint8_t *ret_out,
                      uint8_t *ret_in)
{
	bool i_am_g = hit_cmp(mine, peer) > 0;
	const uint8_t *gl, *lg;

	if (index + 2 * keylen > km->len)
		return -ERANGE;
	gl = km->bytes + index;
	lg = gl + keylen;
	memcpy(ret_out, i_am_g ? gl : lg, keylen);
	memcpy(ret_in, i_am_g ? lg : gl, keylen);
	return 0;
}

size_t hip_cipher_key_len(uint16_t cipher)
{
	switch (cipher) {
	case HIP_CIPHER_AES128_CBC:
		return 16;
	case HIP_CIPHER_AES256_CBC:
		return 32;
	default:
		return 0;
	}
}

int hip_ice_credentials(const uint8_t *key, size_t keylen, const struct hit *hit, char ufrag[9],
                        char pwd[33])
{
	uint8_t mac[HASH_MAX_LEN];
	int r = hmac_compute(HASH_SHA256, key, keylen, hit->b, sizeof(hit->b), mac);

	if (r < 0)
		return r;
	hex_encode(hit->b + sizeof(hit->b) - 4, 4, ufrag);
	hex_encode(mac, 16, pwd);
	memzero(mac, sizeof(mac));
	return 0;
}
