/* SPDX-License-Identifier: MIT */
/* random.h: the one source of randomness (mbedTLS CTR_DRBG seeded from the OS). */
#pragma once

#include <stddef.h>

/* Fills buf; 0 or -EIO. Thread-safe; seeds itself on first use. */
int crypto_random(void *buf, size_t len);
