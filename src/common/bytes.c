/* SPDX-License-Identifier: MIT */
/* bytes.c: secret wiping and constant-time comparison. */
#include "common/bytes.h"

void memzero(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

int memcmp_ct(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (uint8_t)(x[i] ^ y[i]);
	return d != 0;
}
