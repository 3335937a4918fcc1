/* SPDX-License-Identifier: MIT */
/* mbed.h: glue between mbedTLS conventions and ours, for src/crypto/ only. */
#pragma once

#include <stddef.h>

/* An mbedTLS f_rng callback backed by crypto_random(). */
int mbed_rng(void *ctx, unsigned char *buf, size_t len);
/* Maps an mbedTLS error code to 0, -ENOMEM or -EIO. */
int mbed_error(int mbedtls_err);

struct mbedtls_ecp_group;
/* The NIST P-256 group, loaded once with its precomputed multiples of G
 * (rebuilding them made every signature and ECDH several times slower).
 * mbedTLS writes caches into the group, so it is lent under a lock:
 * every successful mbed_p256_get is paired with mbed_p256_put. */
int mbed_p256_get(struct mbedtls_ecp_group **ret);
void mbed_p256_put(void);
