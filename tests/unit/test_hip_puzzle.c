/* SPDX-License-Identifier: MIT */
/* test_hip_puzzle.c: the cookie puzzle against vectors computed with Python's hashlib. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "hip/puzzle.h"

/* The vectors below came from /usr/bin/python3:
 *   d = hashlib.sha384(I + HIT_I + HIT_R + J).digest()   (sha256 for the 32-byte case)
 * with I = bytes(range(48)) (sha384) or bytes(range(0x80, 0xa0)) (sha256), and J a
 * big-endian counter of the stated value. "tz" is the number of trailing zero bits
 * of d, i.e. the largest K that J solves. */
static const struct hit hit_i = {{0x20, 0x01, 0x00, 0x22, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}};
static const struct hit hit_r = {
        {0x20, 0x01, 0x00, 0x22, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xaa, 0x02}};

struct vector {
	enum hash_alg alg;
	uint64_t j;
	uint8_t tz;
};

static const struct vector vectors[] = {
        /* sha384, J=0: digest ends ...6380, tz 7. A mask of (2 << 7) - 1 would reject K=7. */
        {HASH_SHA384, 0, 7},
        /* sha384, J=1: digest ends in an odd byte, tz 0. */
        {HASH_SHA384, 1, 0},
        /* sha384, J=1190: digest ends 5a00, tz 9; with the HITs swapped tz is 2. */
        {HASH_SHA384, 1190, 9},
        /* sha384, J=61429: digest ends ac0000, tz 18; with the HITs swapped tz is 1. */
        {HASH_SHA384, 61429, 18},
        /* sha256, J=0: digest ends ...0529, tz 0. */
        {HASH_SHA256, 0, 0},
        /* sha256, J=617: digest ends 1a00, tz 9; with the HITs swapped tz is 1. */
        {HASH_SHA256, 617, 9},
        /* sha256, J=25824: digest ends d30000, tz 16; with the HITs swapped tz is 0. */
        {HASH_SHA256, 25824, 16},
};

static size_t vec_i(enum hash_alg alg, uint8_t *i)
{
	size_t n = alg == HASH_SHA384 ? 48 : 32;

	for (size_t k = 0; k < n; k++)
		i[k] = (uint8_t)((alg == HASH_SHA384 ? 0 : 0x80) + k);
	return n;
}

static void vec_j(uint64_t v, size_t n, uint8_t *j)
{
	memset(j, 0, n);
	store_be64(j + n - 8, v);
}

static void test_known_vectors(void **state)
{
	(void)state;
	for (size_t v = 0; v < ARRAY_SIZE(vectors); v++) {
		uint8_t i[HASH_MAX_LEN], j[HASH_MAX_LEN];
		size_t n = vec_i(vectors[v].alg, i);
		uint8_t tz = vectors[v].tz;

		vec_j(vectors[v].j, n, j);
		for (unsigned k = 0; k <= tz; k++)
			assert_int_equal(
			        puzzle_verify(vectors[v].alg, i, n, &hit_i, &hit_r, (uint8_t)k, j),
			        0);
		assert_int_equal(
		        puzzle_verify(vectors[v].alg, i, n, &hit_i, &hit_r, (uint8_t)(tz + 1), j),
		        -EBADMSG);
	}
}

/* The HIT order is I | HIT-I | HIT-R | J; swapping them (the hip-vpls bug) fails. */
static void test_hit_order(void **state)
{
	uint8_t i[HASH_MAX_LEN], j[HASH_MAX_LEN];
	size_t n = vec_i(HASH_SHA384, i);

	(void)state;
	vec_j(1190, n, j);
	assert_int_equal(puzzle_verify(HASH_SHA384, i, n, &hit_i, &hit_r, 8, j), 0);
	assert_int_equal(puzzle_verify(HASH_SHA384, i, n, &hit_r, &hit_i, 8, j), -EBADMSG);
	n = vec_i(HASH_SHA256, i);
	vec_j(25824, n, j);
	assert_int_equal(puzzle_verify(HASH_SHA256, i, n, &hit_i, &hit_r, 16, j), 0);
	assert_int_equal(puzzle_verify(HASH_SHA256, i, n, &hit_r, &hit_i, 1, j), -EBADMSG);
}

static void test_k_zero_always_solved(void **state)
{
	uint8_t i[HASH_MAX_LEN], j[HASH_MAX_LEN];
	size_t n = vec_i(HASH_SHA384, i);

	(void)state;
	for (uint64_t v = 0; v < 64; v++) {
		vec_j(v, n, j);
		assert_int_equal(puzzle_verify(HASH_SHA384, i, n, &hit_i, &hit_r, 0, j), 0);
	}
	assert_int_equal(puzzle_solve(HASH_SHA384, i, n, &hit_i, &hit_r, 0, 1, j), 0);
}

static void test_solve_then_verify(void **state)
{
	static const enum hash_alg algs[] = {HASH_SHA256, HASH_SHA384};

	(void)state;
	for (size_t a = 0; a < ARRAY_SIZE(algs); a++) {
		uint8_t i[HASH_MAX_LEN], j[HASH_MAX_LEN];
		size_t n = vec_i(algs[a], i);

		for (uint8_t k = 1; k <= 12; k++) {
			assert_int_equal(puzzle_solve(algs[a], i, n, &hit_i, &hit_r, k,
			                              UINT64_C(1) << 24, j),
			                 0);
			assert_int_equal(puzzle_verify(algs[a], i, n, &hit_i, &hit_r, k, j), 0);
		}
	}
}

static void test_one_bit_off(void **state)
{
	uint8_t i[HASH_MAX_LEN], j[HASH_MAX_LEN];
	size_t n = vec_i(HASH_SHA256, i);

	(void)state;
	vec_j(25824, n, j);
	assert_int_equal(puzzle_verify(HASH_SHA256, i, n, &hit_i, &hit_r, 16, j), 0);
	/* Python: flipping bit 0, 7 or 255 of J leaves tz 0, 3 and 0. */
	for (unsigned bit = 0; bit < 8 * n; bit++) {
		uint8_t jj[HASH_MAX_LEN];

		memcpy(jj, j, n);
		jj[n - 1 - bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(puzzle_verify(HASH_SHA256, i, n, &hit_i, &hit_r, 16, jj),
		                 -EBADMSG);
	}
	/* Changing I or a HIT breaks it too. */
	i[0] ^= 1;
	assert_int_equal(puzzle_verify(HASH_SHA256, i, n, &hit_i, &hit_r, 16, j), -EBADMSG);
}

static void test_bad_arguments(void **state)
{
	uint8_t i[HASH_MAX_LEN] = {0}, j[HASH_MAX_LEN] = {0};

	(void)state;
	/* #I and #J are RHASH_len/8 bytes in v2. */
	assert_int_equal(puzzle_verify(HASH_SHA384, i, 32, &hit_i, &hit_r, 1, j), -EINVAL);
	assert_int_equal(puzzle_verify(HASH_SHA256, i, 48, &hit_i, &hit_r, 1, j), -EINVAL);
	assert_int_equal(puzzle_verify(HASH_SHA384, i, 8, &hit_i, &hit_r, 1, j), -EINVAL);
	assert_int_equal(puzzle_solve(HASH_SHA384, i, 0, &hit_i, &hit_r, 1, 10, j), -EINVAL);
	assert_int_equal(puzzle_verify((enum hash_alg)99, i, 48, &hit_i, &hit_r, 1, j), -EINVAL);
}

static void test_give_up(void **state)
{
	uint8_t i[HASH_MAX_LEN], j[HASH_MAX_LEN];
	size_t n = vec_i(HASH_SHA384, i);

	(void)state;
	/* K = 255 is unsolvable in practice; the solver must stop at max_tries. */
	assert_int_equal(puzzle_solve(HASH_SHA384, i, n, &hit_i, &hit_r, 255, 100, j), -ETIME);
	assert_int_equal(puzzle_solve(HASH_SHA384, i, n, &hit_i, &hit_r, 1, 0, j), -ETIME);
}

/* Two solves start from independent random J values. */
static void test_random_start(void **state)
{
	uint8_t i[HASH_MAX_LEN], j1[HASH_MAX_LEN], j2[HASH_MAX_LEN];
	size_t n = vec_i(HASH_SHA384, i);

	(void)state;
	assert_int_equal(puzzle_solve(HASH_SHA384, i, n, &hit_i, &hit_r, 0, 1, j1), 0);
	assert_int_equal(puzzle_solve(HASH_SHA384, i, n, &hit_i, &hit_r, 0, 1, j2), 0);
	assert_memory_not_equal(j1, j2, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_known_vectors),
	        cmocka_unit_test(test_hit_order),
	        cmocka_unit_test(test_k_zero_always_solved),
	        cmocka_unit_test(test_solve_then_verify),
	        cmocka_unit_test(test_one_bit_off),
	        cmocka_unit_test(test_bad_arguments),
	        cmocka_unit_test(test_give_up),
	        cmocka_unit_test(test_random_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
