/* SPDX-License-Identifier: MIT */
/* cipher.h: AES-CBC for the HIP ENCRYPTED parameter. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CBC_BLOCK 16

/* keylen 16 or 32; len a multiple of 16; in and out may be the same buffer. */
int cbc_encrypt(const uint8_t *key, size_t keylen, const uint8_t iv[CBC_BLOCK], const uint8_t *in,
                size_t len, uint8_t *out);
int cbc_decrypt(const uint8_t *key, size_t keylen, const uint8_t iv[CBC_BLOCK], const uint8_t *in,
                size_t len, uint8_t *out);
