/* SPDX-License-Identifier: MIT */
/* csum.c: the Internet checksum and its incremental update. */
#include "common/csum.h"

#include "common/bytes.h"

uint32_t csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t s = sum;

	/* 64-bit accumulator: no carry handling inside the loop. */
	for (; len > 1; b += 2, len -= 2)
		s += load_be16(b);
	if (len)
		s += (uint32_t)b[0] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t csum_pseudo4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint16_t len)
{
	uint32_t sum = csum_add(0, src, 4);

	sum = csum_add(sum, dst, 4);
	return sum + proto + len;
}

uint32_t csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto, uint32_t len)
{
	uint32_t sum = csum_add(0, src, 16);

	sum = csum_add(sum, dst, 16);
	sum = csum_add(sum,
	               (const uint8_t[4]){(uint8_t)(len >> 24), (uint8_t)(len >> 16),
	                                  (uint8_t)(len >> 8), (uint8_t)len},
	               4);
	return sum + proto;
}

void csum_replace(uint8_t field[2], const void *old, const void *new, size_t n)
{
	const uint8_t *o = old, *w = new;
	/* HC' = ~(~HC + ~m + m') */
	uint32_t sum = (uint16_t)~load_be16(field);

	for (size_t i = 0; i + 1 < n; i += 2) {
		sum += (uint16_t)~load_be16(o + i);
		sum += load_be16(w + i);
	}
	store_be16(field, csum_fold(sum));
}
