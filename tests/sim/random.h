/* SPDX-License-Identifier: MIT */
/* random.h: the simulator's stand-in for src/crypto/random.c. */
#pragma once

#include <stdint.h>

/* Seeds the stream crypto_random() serves from. Until called, crypto_random
 * serves the stream of seed 0: never from the OS, so runs always repeat. */
void random_seed(uint64_t seed);
