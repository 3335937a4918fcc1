/* SPDX-License-Identifier: MIT */
/* mbed.h: glue between mbedTLS conventions and ours, for src/crypto/ only. */
#pragma once

#include <stddef.h>

/* An mbedTLS f_rng callback backed by crypto_random(). */
int mbed_rng(void *ctx, unsigned char *buf, size_t len);
/* Maps an mbedTLS error code to 0, -ENOMEM or -EIO. */
int mbed_error(int mbedtls_err);
