/* SPDX-License-Identifier: MIT */
/* test_common.c: the byte helpers of src/common/bytes.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "common/bytes.h"

static void test_hex_round_trip(void **state)
{
	const uint8_t in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char text[2 * sizeof(in) + 1];
	uint8_t out[sizeof(in)];

	memset(text, 'x', sizeof(text));
	hex_encode(in, sizeof(in), text);
	assert_string_equal(text, "00017f80abff");
	assert_int_equal(hex_decode(text, strlen(text), out, sizeof(out)), 0);
	assert_memory_equal(out, in, sizeof(in));
	hex_encode(in, 0, text);
	assert_string_equal(text, "");
}

static void test_hex_decode_refuses(void **state)
{
	uint8_t out[2] = {0x55, 0x55};

	assert_int_equal(hex_decode("abc", 3, out, 2), -EINVAL);    /* too short */
	assert_int_equal(hex_decode("abcdef", 6, out, 2), -EINVAL); /* too long */
	assert_int_equal(hex_decode("ABCD", 4, out, 2), -EINVAL);   /* upper case */
	assert_int_equal(hex_decode("ab g", 4, out, 2), -EINVAL);
	assert_int_equal(hex_decode("0g12", 4, out, 2), -EINVAL);
	assert_int_equal(hex_decode("", 0, out, 0), 0);
}

static void test_memcmp_ct(void **state)
{
	const uint8_t a[] = {1, 2, 3, 4}, b[] = {1, 2, 3, 5};

	assert_int_equal(memcmp_ct(a, a, sizeof(a)), 0);
	assert_int_not_equal(memcmp_ct(a, b, sizeof(a)), 0);
	assert_int_equal(memcmp_ct(a, b, 3), 0);
}

static void test_memzero(void **state)
{
	uint8_t secret[16];

	memset(secret, 0xa5, sizeof(secret));
	memzero(secret, sizeof(secret));
	for (size_t i = 0; i < sizeof(secret); i++)
		assert_int_equal(secret[i], 0);
	memzero(NULL, 4); /* allowed */
}

static void test_big_endian(void **state)
{
	uint8_t b[8];

	store_be16(b, 0x1234);
	assert_int_equal(load_be16(b), 0x1234);
	assert_int_equal(b[0], 0x12);
	store_be32(b, 0x89abcdef);
	assert_int_equal(load_be32(b), 0x89abcdef);
	assert_int_equal(b[0], 0x89);
	store_be64(b, 0x0102030405060708ull);
	assert_true(load_be64(b) == 0x0102030405060708ull);
	assert_int_equal(b[7], 0x08);
}

static void test_reader_bounds(void **state)
{
	const uint8_t buf[] = {0x01, 0x02, 0x03};
	struct reader r = reader_init(buf, sizeof(buf));
	uint16_t v16;
	uint8_t v8;

	assert_int_equal(reader_be16(&r, &v16), 0);
	assert_int_equal(v16, 0x0102);
	assert_int_equal(reader_be16(&r, &v16), -EBADMSG); /* one byte left */
	assert_int_equal(reader_left(&r), 1);
	assert_int_equal(reader_u8(&r, &v8), 0);
	assert_int_equal(v8, 3);
	assert_int_equal(reader_u8(&r, &v8), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_hex_round_trip), cmocka_unit_test(test_hex_decode_refuses),
	        cmocka_unit_test(test_memcmp_ct),      cmocka_unit_test(test_memzero),
	        cmocka_unit_test(test_big_endian),     cmocka_unit_test(test_reader_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
