/* SPDX-License-Identifier: MIT */
/* puzzle.h: the HIPv2 cookie puzzle (RFC 7401 section 4.1.2):
 * solved when Ltrunc(RHASH(I | HIT-I | HIT-R | J), K) == 0, Ltrunc taking the
 * lowest-order K bits. I and J are RHASH_len/8 bytes. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/hit.h"
#include "crypto/hash.h"

/* Searches J from a random start; -ETIME after max_tries attempts. */
int puzzle_solve(enum hash_alg alg, const uint8_t *i, size_t ilen, const struct hit *hit_i,
                 const struct hit *hit_r, uint8_t k, uint64_t max_tries, uint8_t *ret_j);
/* 0 when J solves the puzzle, -EBADMSG otherwise. */
int puzzle_verify(enum hash_alg alg, const uint8_t *i, size_t ilen, const struct hit *hit_i,
                  const struct hit *hit_r, uint8_t k, const uint8_t *j);
