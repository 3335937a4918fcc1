/* SPDX-License-Identifier: MIT */
/* cipher.c: AES-CBC for the HIP ENCRYPTED parameter (no padding; the caller pads). */
#include "crypto/cipher.h"

#include <errno.h>

#include <mbedtls/aes.h>

#include "common/bytes.h"

static int cbc_crypt(int mode, const uint8_t *key, size_t keylen, const uint8_t iv[CBC_BLOCK],
                     const uint8_t *in, size_t len, uint8_t *out)
{
	mbedtls_aes_context aes;
	/* mbedtls_aes_crypt_cbc() advances the IV it is given; the caller's stays intact. */
	uint8_t ivc[CBC_BLOCK];
	int r;

	if ((keylen != 16 && keylen != 32) || len % CBC_BLOCK != 0)
		return -EINVAL;
	if (len == 0)
		return 0;
	memcpy(ivc, iv, CBC_BLOCK);
	mbedtls_aes_init(&aes);
	if (mode == MBEDTLS_AES_ENCRYPT)
		r = mbedtls_aes_setkey_enc(&aes, key, (unsigned int)keylen * 8);
	else
		r = mbedtls_aes_setkey_dec(&aes, key, (unsigned int)keylen * 8);
	if (r == 0)
		r = mbedtls_aes_crypt_cbc(&aes, mode, len, ivc, in, out);
	mbedtls_aes_free(&aes);
	memzero(ivc, sizeof(ivc));
	return r == 0 ? 0 : -EIO;
}

int cbc_encrypt(const uint8_t *key, size_t keylen, const uint8_t iv[CBC_BLOCK], const uint8_t *in,
                size_t len, uint8_t *out)
{
	return cbc_crypt(MBEDTLS_AES_ENCRYPT, key, keylen, iv, in, len, out);
}

int cbc_decrypt(const uint8_t *key, size_t keylen, const uint8_t iv[CBC_BLOCK], const uint8_t *in,
                size_t len, uint8_t *out)
{
	return cbc_crypt(MBEDTLS_AES_DECRYPT, key, keylen, iv, in, len, out);
}
