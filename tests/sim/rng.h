/* SPDX-License-Identifier: MIT */
/* rng.h: a seeded, reproducible PRNG (xoshiro256**) and the distributions the simulator draws. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* Independent streams from one seed: a stream per purpose keeps, say, the
 * churn draws unchanged when the lookup draws change. */
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Uniform in [0, 1). */
double rng_unit(struct rng *r);
/* Exponential with the given mean, rounded to ms and at least 1. */
uint64_t rng_exp_ms(struct rng *r, double mean_ms);
void rng_bytes(struct rng *r, void *buf, size_t len);
/* splitmix64: also a good 64-bit mixer for hashing small tuples. */
uint64_t rng_mix64(uint64_t x);
