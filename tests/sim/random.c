/* SPDX-License-Identifier: MIT */
/* random.c: crypto_random() from a seeded PRNG, linked ahead of src/crypto/random.c.
 *
 * The engine draws random IDs (bucket refreshes), transaction IDs and hash
 * table seeds from crypto_random(). In the simulator they must follow --seed,
 * or no run could be repeated. This object file is part of the simulator's
 * executable, so the linker never pulls src/crypto/random.o out of the
 * static library; nothing outside the simulator is affected. */
#include "crypto/random.h"

#include <stdbool.h>

#include "random.h"
#include "rng.h"

/* Stream number that no other simulator stream uses. */
#define RANDOM_STREAM 0xc7a9d0ull

static struct rng stream;
static bool seeded;

void random_seed(uint64_t seed)
{
	rng_seed(&stream, seed, RANDOM_STREAM);
	seeded = true;
}

int crypto_random(void *buf, size_t len)
{
	if (!seeded)
		random_seed(0);
	rng_bytes(&stream, buf, len);
	return 0;
}
