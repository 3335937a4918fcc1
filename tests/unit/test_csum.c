/* SPDX-License-Identifier: MIT */
/* test_csum.c: the Internet checksum against known packets and its incremental update. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "common/csum.h"

/* A UDP-carrying IPv4 header whose checksum field (0xb861) is correct. */
static const uint8_t ip4[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

static void test_ipv4_header(void **state)
{
	uint8_t h[20];

	(void)state;
	memcpy(h, ip4, sizeof(h));
	/* A header with its checksum in place sums to zero. */
	assert_int_equal(csum_fold(csum_add(0, h, sizeof(h))), 0);
	store_be16(h + 10, 0);
	assert_int_equal(csum_fold(csum_add(0, h, sizeof(h))), 0xb861);
}

static void test_odd_length(void **state)
{
	const uint8_t odd[3] = {0x01, 0x02, 0x03};

	(void)state;
	/* 0x0102 + 0x0300 = 0x0402 -> ~ = 0xfbfd */
	assert_int_equal(csum_fold(csum_add(0, odd, 3)), 0xfbfd);
}

static void test_incremental_matches_full(void **state)
{
	uint8_t h[20];
	const uint8_t addr[4] = {100, 64, 1, 2};

	(void)state;
	memcpy(h, ip4, sizeof(h));
	for (int i = 0; i < 4; i++) {
		uint8_t nu[4] = {(uint8_t)(addr[0] + i), addr[1], (uint8_t)(addr[2] * i), 0xff};
		uint8_t full[20];

		csum_replace(h + 10, h + 12, nu, 4);
		memcpy(h + 12, nu, 4);
		memcpy(full, h, sizeof(full));
		store_be16(full + 10, 0);
		assert_int_equal(load_be16(h + 10), csum_fold(csum_add(0, full, 20)));
	}
}

static void test_pseudo_headers(void **state)
{
	uint8_t s6[16] = {0x20, 0x01, 0x00, 0x20}, d6[16] = {0x20, 0x01, 0x00, 0x21};
	uint8_t b[24];

	(void)state;
	/* IPv6 pseudo-header equals the explicit 40-byte layout. */
	memcpy(b, s6, 16);
	memcpy(b + 16, d6, 8);
	uint32_t explicit = csum_add(0, s6, 16);
	explicit = csum_add(explicit, d6, 16);
	explicit = csum_add(explicit, (const uint8_t[8]){0, 0, 0x01, 0x00, 0, 0, 0, 17}, 8);
	assert_int_equal(csum_fold(csum_pseudo6(s6, d6, 17, 256)), csum_fold(explicit));
	uint32_t e4 = csum_add(0, ip4 + 12, 8);
	e4 = csum_add(e4, (const uint8_t[4]){0, 6, 0, 40}, 4);
	assert_int_equal(csum_fold(csum_pseudo4(ip4 + 12, ip4 + 16, 6, 40)), csum_fold(e4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_ipv4_header),
	        cmocka_unit_test(test_odd_length),
	        cmocka_unit_test(test_incremental_matches_full),
	        cmocka_unit_test(test_pseudo_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
