/* SPDX-License-Identifier: MIT */
/* rng.c: xoshiro256** (Blackman and Vigna) seeded through splitmix64. */
#include <math.h>
#include <string.h>

#include "rng.h"

uint64_t rng_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = rng_mix64(seed) ^ rng_mix64(stream + 0x5eed);

	for (size_t i = 0; i < 4; i++) {
		x += 0x9e3779b97f4a7c15ull;
		r->s[i] = rng_mix64(x);
	}
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	/* Rejection sampling: no modulo bias, even for n near 2^64. */
	uint64_t limit = -n % n;
	uint64_t x;

	do {
		x = rng_next(r);
	} while (x < limit);
	return x % n;
}

double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t rng_exp_ms(struct rng *r, double mean_ms)
{
	/* 1 - u lies in (0, 1], so the logarithm is finite. */
	double v = -mean_ms * log(1.0 - rng_unit(r));

	return v < 1.0 ? 1 : (uint64_t)llround(v);
}

void rng_bytes(struct rng *r, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		uint64_t x = rng_next(r);
		size_t n = len < sizeof(x) ? len : sizeof(x);

		memcpy(p, &x, n);
		p += n;
		len -= n;
	}
}
