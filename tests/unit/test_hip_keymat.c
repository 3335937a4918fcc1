/* SPDX-License-Identifier: MIT */
/* test_hip_keymat.c: KEYMAT against an independent HKDF and the key drawing order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/bytes.h"
#include "hip/keymat.h"
#include "hip/wire.h"

static void fixture(struct hip_keymat *km, struct hit *hi, struct hit *lo)
{
	uint8_t i[48], j[48], kij[32];

	for (int n = 0; n < 48; n++) {
		i[n] = (uint8_t)n;
		j[n] = (uint8_t)(100 + n);
	}
	memset(kij, 0x5a, sizeof(kij));
	memcpy(hi->b, "\x20\x01\x00\x22", 4);
	memset(hi->b + 4, 0x11, 12);
	memcpy(lo->b, "\x20\x01\x00\x22", 4);
	memset(lo->b + 4, 0, 12);
	lo->b[15] = 1;
	/* HIT-I is the greater one here; info sorts them, so the order of the
	 * arguments must not matter. */
	assert_int_equal(hip_keymat_derive(km, HASH_SHA384, kij, 32, i, j, 48, hi, lo), 0);
}

/* Expected bytes from Python's cryptography HKDF(SHA384, salt = I|J,
 * info = sort(HIT-I|HIT-R), L = 1024) over the same inputs. */
static void test_keymat_vector(void **state)
{
	static const uint8_t head[16] = {0xd0, 0x81, 0x32, 0x7b, 0x49, 0x4f, 0x30, 0x43,
	                                 0x56, 0x65, 0xf0, 0x57, 0x19, 0xf3, 0x19, 0x11};
	static const uint8_t tail[16] = {0x00, 0xd7, 0x89, 0xba, 0x92, 0x41, 0xd6, 0x2f,
	                                 0xaf, 0x60, 0x37, 0x7d, 0x06, 0x64, 0x9b, 0xcf};
	struct hip_keymat km, km2;
	struct hit hi, lo;
	uint8_t i[48], j[48], kij[32];

	(void)state;
	fixture(&km, &hi, &lo);
	assert_int_equal(km.len, HIP_KEYMAT_LEN);
	assert_memory_equal(km.bytes, head, 16);
	assert_memory_equal(km.bytes + 1008, tail, 16);
	for (int n = 0; n < 48; n++) {
		i[n] = (uint8_t)n;
		j[n] = (uint8_t)(100 + n);
	}
	memset(kij, 0x5a, sizeof(kij));
	assert_int_equal(hip_keymat_derive(&km2, HASH_SHA384, kij, 32, i, j, 48, &lo, &hi), 0);
	assert_memory_equal(km.bytes, km2.bytes, HIP_KEYMAT_LEN);
}

static void test_key_directions(void **state)
{
	static const uint8_t esp_gl[20] = {0x83, 0x1c, 0x90, 0x34, 0x67, 0x95, 0x91,
	                                   0x32, 0x61, 0x2a, 0x6d, 0x31, 0x9b, 0x53,
	                                   0xca, 0x7a, 0x7a, 0x0d, 0xad, 0xad};
	struct hip_keymat km;
	struct hit hi, lo;
	struct hip_keys g, l;
	uint8_t g_out[20], g_in[20], l_out[20], l_in[20];

	(void)state;
	fixture(&km, &hi, &lo);
	/* AES-128-CBC and HMAC-SHA-384: gl-enc 0, gl-mac 16, lg-enc 64, lg-mac 80. */
	assert_int_equal(hip_keys_draw(&km, 16, 48, &hi, &lo, &g), 0);
	assert_int_equal(hip_keys_draw(&km, 16, 48, &lo, &hi, &l), 0);
	assert_int_equal(g.esp_keymat_index, 128);
	assert_memory_equal(g.enc_out, km.bytes, 16);
	assert_memory_equal(g.mac_out, km.bytes + 16, 48);
	assert_memory_equal(g.enc_in, km.bytes + 64, 16);
	assert_memory_equal(g.mac_in, km.bytes + 80, 48);
	assert_memory_equal(l.enc_out, g.enc_in, 16);
	assert_memory_equal(l.mac_out, g.mac_in, 48);
	assert_memory_equal(l.mac_in, g.mac_out, 48);
	/* ESP: SA-gl (HOST_g's outgoing) first, then SA-lg, 20 bytes each. */
	assert_int_equal(hip_esp_keys_draw(&km, 128, 20, &hi, &lo, g_out, g_in), 0);
	assert_int_equal(hip_esp_keys_draw(&km, 128, 20, &lo, &hi, l_out, l_in), 0);
	assert_memory_equal(g_out, esp_gl, 20);
	assert_memory_equal(g_in, km.bytes + 148, 20);
	assert_memory_equal(l_in, g_out, 20);
	assert_memory_equal(l_out, g_in, 20);
	/* Exhaustion is reported, never read past the end. */
	assert_int_equal(hip_esp_keys_draw(&km, HIP_KEYMAT_LEN - 39, 20, &hi, &lo, g_out, g_in),
	                 -ERANGE);
	assert_int_equal(hip_keys_draw(&km, 64, 48, &hi, &lo, &g), -EINVAL);
}

static void test_cipher_key_len(void **state)
{
	(void)state;
	assert_int_equal(hip_cipher_key_len(HIP_CIPHER_AES128_CBC), 16);
	assert_int_equal(hip_cipher_key_len(HIP_CIPHER_AES256_CBC), 32);
	assert_int_equal(hip_cipher_key_len(HIP_CIPHER_NULL), 0);
	assert_int_equal(hip_cipher_key_len(3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_keymat_vector),
	        cmocka_unit_test(test_key_directions),
	        cmocka_unit_test(test_cipher_key_len),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
