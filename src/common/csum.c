/* SPDX-License-Identifier: MIT */
/* csum.c: the Internet checksum and its incremental update. */
#include "common/csum.h"

#include <string.h>

#include "common/bytes.h"

/* 64-bit words with end-around carry: four 16-bit words per add. */
static uint64_t add_carry(uint64_t s, uint64_t w)
{
	s += w;
	return s + (s < w);
}

/* The sum of len bytes (a multiple of 8) as big-endian 16-bit words,
 * folded to 16 bits. Words are added in the host's byte order and the
 * result swapped: the one's complement sum commutes with byte swapping
 * (RFC 1071 2.B). Two accumulators keep two carry chains in flight. */
static uint32_t sum_words(const uint8_t *b, size_t len)
{
	uint64_t s0 = 0, s1 = 0, w0, w1;
	uint32_t v;

	for (; len >= 16; b += 16, len -= 16) {
		memcpy(&w0, b, 8);
		memcpy(&w1, b + 8, 8);
		s0 = add_carry(s0, w0);
		s1 = add_carry(s1, w1);
	}
	if (len) {
		memcpy(&w0, b, 8);
		s0 = add_carry(s0, w0);
	}
	s0 = add_carry(s0, s1);
	s0 = (s0 & 0xffffffffu) + (s0 >> 32);
	s0 = (s0 & 0xffffffffu) + (s0 >> 32);
	v = (uint32_t)s0;
	v = (v & 0xffff) + (v >> 16);
	v = (v & 0xffff) + (v >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = (uint16_t)(v << 8 | v >> 8);
#endif
	return v;
}

uint32_t csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t bulk = len & ~(size_t)7;
	uint64_t s = sum;

	if (bulk)
		s += sum_words(b, bulk);
	b += bulk;
	len -= bulk;
	for (; len > 1; b += 2, len -= 2)
		s += load_be16(b);
	if (len)
		s += (uint32_t)b[0] << 8;
	/* Folded to 17 bits at most: callers add small terms to the result
	 * (the pseudo-header's protocol and length) without overflow. */
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
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
