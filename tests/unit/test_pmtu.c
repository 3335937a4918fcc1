/* SPDX-License-Identifier: MIT */
/* test_pmtu.c: ICMP errors into the TUN (checksums, quoting, when none is sent) and the MTU rules.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "esp/pmtu.h"
#include "esp/sa.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#define OWN_LSI  IP(100, 64, 0, 5)
#define PEER_LSI IP(100, 64, 9, 9)

static const uint8_t own_hit[16] = {0x20, 0x01, 0x00, 0x20, [15] = 5};
static const uint8_t peer_hit[16] = {0x20, 0x01, 0x00, 0x21, [15] = 9};

/* ---- a reference checksum, independent of common/csum.c ---- */

static uint32_t ref_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ---- packets ---- */

/* An IPv4 packet of total bytes (payload a counting pattern). */
static size_t mk4(uint8_t *b, size_t total, uint8_t proto, uint16_t frag, uint32_t src,
                  uint32_t dst)
{
	for (size_t i = 20; i < total; i++)
		b[i] = (uint8_t)(i * 7);
	memset(b, 0, 20);
	b[0] = 0x45;
	store_be16(b + 2, (uint16_t)total);
	store_be16(b + 4, 0x1111);
	store_be16(b + 6, frag);
	b[8] = 64;
	b[9] = proto;
	store_be32(b + 12, src);
	store_be32(b + 16, dst);
	store_be16(b + 10, ref_fold(ref_add(0, b, 20)));
	return total;
}

/* An IPv6 packet of total bytes whose next header is nh. */
static size_t mk6(uint8_t *b, size_t total, uint8_t nh, const uint8_t *src, const uint8_t *dst)
{
	for (size_t i = 40; i < total; i++)
		b[i] = (uint8_t)(i * 5);
	memset(b, 0, 40);
	b[0] = 0x60;
	store_be16(b + 4, (uint16_t)(total - 40));
	b[6] = nh;
	b[7] = 64;
	memcpy(b + 8, src, 16);
	memcpy(b + 24, dst, 16);
	return total;
}

/* Checks an IPv4 ICMP error from scratch; returns the quote length. */
static size_t check_icmp4(const uint8_t *e, int n, uint8_t code, uint32_t src, uint32_t dst,
                          const uint8_t *pkt)
{
	size_t q;

	assert_true(n >= 28);
	assert_true(n <= PMTU_ICMP4_MAX);
	assert_int_equal(e[0], 0x45);
	assert_int_equal(load_be16(e + 2), n);
	assert_int_equal(load_be16(e + 6) & 0x3fff, 0); /* not a fragment */
	assert_true(e[8] > 0);
	assert_int_equal(e[9], 1);
	assert_int_equal(load_be32(e + 12), src);
	assert_int_equal(load_be32(e + 16), dst);
	assert_int_equal(ref_fold(ref_add(0, e, 20)), 0);
	assert_int_equal(e[20], 3);
	assert_int_equal(e[21], code);
	assert_int_equal(ref_fold(ref_add(0, e + 20, (size_t)n - 20)), 0);
	q = (size_t)n - 28;
	assert_memory_equal(e + 28, pkt, q);
	return q;
}

/* Checks an ICMPv6 error from scratch; returns the quote length. */
static size_t check_icmp6(const uint8_t *e, int n, uint8_t type, uint8_t code, const uint8_t *pkt)
{
	uint32_t sum;
	size_t q;

	assert_true(n >= 48);
	assert_true(n <= PMTU_ICMP6_MAX);
	assert_int_equal(e[0] >> 4, 6);
	assert_int_equal(load_be16(e + 4), n - 40);
	assert_int_equal(e[6], 58);
	assert_true(e[7] > 0);
	assert_memory_equal(e + 8, own_hit, 16);
	assert_memory_equal(e + 24, pkt + 8, 16);
	assert_int_equal(e[40], type);
	assert_int_equal(e[41], code);
	sum = ref_add(0, e + 8, 32) + 58 + (uint32_t)(n - 40);
	assert_int_equal(ref_fold(ref_add(sum, e + 40, (size_t)n - 40)), 0);
	q = (size_t)n - 48;
	assert_memory_equal(e + 48, pkt, q);
	return q;
}

/* ---- MTU arithmetic ---- */

static void test_esp_max(void **state)
{
	(void)state;
	/* The design's worst case: IPv6 outer, UDP, TURN ChannelData. */
	assert_int_equal(pmtu_esp_max(1500, PMTU_OUTER_IPV6 + PMTU_TURN_CHANNEL), 1414);
	assert_int_equal(pmtu_esp_max(1500, PMTU_OUTER_IPV6), 1418);
	assert_int_equal(pmtu_esp_max(1500, PMTU_OUTER_IPV4), 1438);
	assert_true(pmtu_esp_max(1500, PMTU_OUTER_IPV6 + PMTU_TURN_CHANNEL) >= 1400);
	/* Against the ESP code's own size: the largest payload that fits, and
	 * one more byte that does not. */
	for (unsigned mtu = 60; mtu < 1600; mtu++) {
		const unsigned outers[] = {PMTU_OUTER_IPV4, PMTU_OUTER_IPV6,
		                           PMTU_OUTER_IPV6 + PMTU_TURN_CHANNEL};
		for (size_t i = 0; i < 3; i++) {
			unsigned m = pmtu_esp_max(mtu, outers[i]);
			if (m == 0) {
				assert_true(esp_encap_size(1) + outers[i] > mtu);
				continue;
			}
			assert_true(esp_encap_size(m) + outers[i] <= mtu);
			assert_true(esp_encap_size(m + 1) + outers[i] > mtu);
		}
	}
	assert_int_equal(pmtu_esp_max(0, PMTU_OUTER_IPV4), 0);
}

static void test_check(void **state)
{
	static uint8_t b[2000];
	unsigned mtu = 0;

	(void)state;
	/* IPv4 travels whole. */
	mk4(b, 1400, 6, 0x4000, OWN_LSI, PEER_LSI);
	assert_int_equal(pmtu_check(b, 1400, 1414, &mtu), PMTU_FITS);
	assert_int_equal(pmtu_check(b, 1400, 1400, &mtu), PMTU_FITS);
	assert_int_equal(pmtu_check(b, 1400, 1399, &mtu), PMTU_TOO_BIG);
	assert_int_equal(mtu, 1399);
	assert_int_equal(pmtu_check(b, 1400, 1194, &mtu), PMTU_TOO_BIG);
	assert_int_equal(mtu, 1194);
	/* Without DF the sender lets routers fragment. */
	mk4(b, 1400, 6, 0, OWN_LSI, PEER_LSI);
	assert_int_equal(pmtu_check(b, 1400, 1194, &mtu), PMTU_FRAGMENTS);
	/* Never report below 68. */
	mk4(b, 100, 6, 0x4000, OWN_LSI, PEER_LSI);
	assert_int_equal(pmtu_check(b, 100, 40, &mtu), PMTU_TOO_BIG);
	assert_int_equal(mtu, 68);
	mk4(b, 60, 6, 0x4000, OWN_LSI, PEER_LSI);
	assert_int_equal(pmtu_check(b, 60, 40, &mtu), PMTU_FRAGMENTS);

	/* IPv6 loses its header to BEET. */
	mk6(b, 1454, 6, own_hit, peer_hit);
	assert_int_equal(pmtu_check(b, 1454, 1414, &mtu), PMTU_FITS);
	mk6(b, 1455, 6, own_hit, peer_hit);
	assert_int_equal(pmtu_check(b, 1455, 1414, &mtu), PMTU_TOO_BIG);
	assert_int_equal(mtu, 1454);
	/* A pipe below 1280 still carries 1280-byte packets, fragmented. */
	mk6(b, 1280, 6, own_hit, peer_hit);
	assert_int_equal(pmtu_check(b, 1280, 1194, &mtu), PMTU_FRAGMENTS);
	mk6(b, 1281, 6, own_hit, peer_hit);
	assert_int_equal(pmtu_check(b, 1281, 1194, &mtu), PMTU_TOO_BIG);
	assert_int_equal(mtu, 1280);

	/* Not a packet. */
	assert_int_equal(pmtu_check(b, 0, 1414, &mtu), -EBADMSG);
	assert_int_equal(pmtu_check(b, 39, 1414, &mtu), -EBADMSG);
	assert_int_equal(pmtu_check(b, 1280, 1414, &mtu), -EBADMSG); /* plen says 1241 */
	b[0] = 0x45;
	store_be16(b + 2, 2000);
	assert_int_equal(pmtu_check(b, 1500, 1414, &mtu), -EBADMSG);
	b[0] = 0x70;
	assert_int_equal(pmtu_check(b, 1500, 1414, &mtu), -EBADMSG);
}

/* ---- IPv4 errors ---- */

static void test_icmp4(void **state)
{
	static uint8_t pkt[1500], e[1500];
	int n;

	(void)state;
	/* A large packet: the error stops at 576 bytes. */
	mk4(pkt, 1400, 17, 0x4000, OWN_LSI, PEER_LSI);
	n = pmtu_icmp4_unreach(e, sizeof(e), pkt, 1400);
	assert_int_equal(n, PMTU_ICMP4_MAX);
	assert_int_equal(check_icmp4(e, n, 1, PEER_LSI, OWN_LSI, pkt), 548);
	assert_int_equal(load_be32(e + 24), 0);
	n = pmtu_icmp4_frag_needed(e, sizeof(e), pkt, 1400, 1194);
	assert_int_equal(n, PMTU_ICMP4_MAX);
	check_icmp4(e, n, 4, PEER_LSI, OWN_LSI, pkt);
	assert_int_equal(load_be16(e + 24), 0);
	assert_int_equal(load_be16(e + 26), 1194);
	assert_int_equal(pmtu_icmp4_frag_needed(e, sizeof(e), pkt, 1400, 67), -EINVAL);
	/* A small one is quoted whole; bytes past its total length are not. */
	mk4(pkt, 61, 6, 0x4000, OWN_LSI, PEER_LSI);
	n = pmtu_icmp4_unreach(e, sizeof(e), pkt, 100);
	assert_int_equal(n, 28 + 61);
	check_icmp4(e, n, 1, PEER_LSI, OWN_LSI, pkt);
	/* A small buffer quotes less, down to the header and 8 bytes. */
	mk4(pkt, 1400, 17, 0x4000, OWN_LSI, PEER_LSI);
	n = pmtu_icmp4_unreach(e, 56, pkt, 1400);
	assert_int_equal(n, 56);
	check_icmp4(e, n, 1, PEER_LSI, OWN_LSI, pkt);
	assert_int_equal(pmtu_icmp4_unreach(e, 55, pkt, 1400), -ENOSPC);
	mk4(pkt, 24, 17, 0x4000, OWN_LSI, PEER_LSI);
	assert_int_equal(pmtu_icmp4_unreach(e, 52, pkt, 24), 52);
	assert_int_equal(pmtu_icmp4_unreach(e, 51, pkt, 24), -ENOSPC);
	/* Not IPv4. */
	mk6(pkt, 100, 6, own_hit, peer_hit);
	assert_int_equal(pmtu_icmp4_unreach(e, sizeof(e), pkt, 100), -EBADMSG);
	assert_int_equal(pmtu_icmp4_unreach(e, sizeof(e), pkt, 0), -EBADMSG);
}

static void test_icmp4_when_not(void **state)
{
	static uint8_t pkt[600], e[600];
	const struct {
		uint8_t proto, icmp_type;
		uint16_t frag;
		uint32_t src, dst;
		bool answer;
	} c[] = {
	        {17, 0, 0, OWN_LSI, PEER_LSI, true},
	        {1, 8, 0, OWN_LSI, PEER_LSI, true},       /* echo request */
	        {1, 0, 0, OWN_LSI, PEER_LSI, true},       /* echo reply */
	        {1, 3, 0, OWN_LSI, PEER_LSI, false},      /* unreachable */
	        {1, 11, 0, OWN_LSI, PEER_LSI, false},     /* time exceeded */
	        {1, 12, 0, OWN_LSI, PEER_LSI, false},     /* parameter problem */
	        {1, 5, 0, OWN_LSI, PEER_LSI, false},      /* redirect */
	        {1, 4, 0, OWN_LSI, PEER_LSI, false},      /* source quench */
	        {17, 0, 0x2000, OWN_LSI, PEER_LSI, true}, /* first fragment */
	        {17, 0, 0x2001, OWN_LSI, PEER_LSI, false},
	        {17, 0, 0x0010, OWN_LSI, PEER_LSI, false},
	        {1, 8, 0x0010, OWN_LSI, PEER_LSI, false},
	        {17, 0, 0, IP(0, 0, 0, 0), PEER_LSI, false},
	        {17, 0, 0, IP(127, 0, 0, 1), PEER_LSI, false},
	        {17, 0, 0, IP(224, 0, 0, 1), PEER_LSI, false},
	        {17, 0, 0, IP(255, 255, 255, 255), PEER_LSI, false},
	        {17, 0, 0, OWN_LSI, IP(224, 0, 0, 251), false},
	        {17, 0, 0, OWN_LSI, IP(239, 1, 2, 3), false},
	        {17, 0, 0, OWN_LSI, IP(255, 255, 255, 255), false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int n;

		mk4(pkt, 100, c[i].proto, c[i].frag, c[i].src, c[i].dst);
		pkt[20] = c[i].icmp_type;
		n = pmtu_icmp4_unreach(e, sizeof(e), pkt, 100);
		if (c[i].answer)
			check_icmp4(e, n, 1, c[i].dst, c[i].src, pkt);
		else
			assert_int_equal(n, 0);
		n = pmtu_icmp4_frag_needed(e, sizeof(e), pkt, 100, 1200);
		assert_int_equal(n > 0, c[i].answer);
	}
	/* An ICMP packet too short to say what it is. */
	mk4(pkt, 20, 1, 0, OWN_LSI, PEER_LSI);
	assert_int_equal(pmtu_icmp4_unreach(e, sizeof(e), pkt, 20), 0);
}

/* ---- IPv6 errors ---- */

static void test_icmp6(void **state)
{
	static uint8_t pkt[2000], e[2000];
	int n;

	(void)state;
	mk6(pkt, 1454, 6, own_hit, peer_hit);
	n = pmtu_icmp6_unreach(e, sizeof(e), own_hit, pkt, 1454);
	assert_int_equal(n, PMTU_ICMP6_MAX);
	assert_int_equal(check_icmp6(e, n, 1, 3, pkt), 1232);
	assert_int_equal(load_be32(e + 44), 0);
	n = pmtu_icmp6_too_big(e, sizeof(e), own_hit, pkt, 1454, 1414);
	assert_int_equal(n, PMTU_ICMP6_MAX);
	check_icmp6(e, n, 2, 0, pkt);
	assert_int_equal(load_be32(e + 44), 1414);
	assert_int_equal(pmtu_icmp6_too_big(e, sizeof(e), own_hit, pkt, 1454, 1279), -EINVAL);
	/* Small packets whole; small buffers quote less. */
	mk6(pkt, 77, 17, own_hit, peer_hit);
	n = pmtu_icmp6_unreach(e, sizeof(e), own_hit, pkt, 200);
	assert_int_equal(n, 48 + 77);
	check_icmp6(e, n, 1, 3, pkt);
	n = pmtu_icmp6_unreach(e, 97, own_hit, pkt, 77);
	assert_int_equal(n, 97);
	check_icmp6(e, n, 1, 3, pkt);
	assert_int_equal(pmtu_icmp6_unreach(e, 95, own_hit, pkt, 77), -ENOSPC);
	/* Not IPv6, or shorter than it says. */
	assert_int_equal(pmtu_icmp6_unreach(e, sizeof(e), own_hit, pkt, 76), -EBADMSG);
	assert_int_equal(pmtu_icmp6_unreach(e, sizeof(e), own_hit, pkt, 39), -EBADMSG);
	mk4(pkt, 100, 17, 0, OWN_LSI, PEER_LSI);
	assert_int_equal(pmtu_icmp6_too_big(e, sizeof(e), own_hit, pkt, 100, 1280), -EBADMSG);
}

static void test_icmp6_when_not(void **state)
{
	static uint8_t pkt[300], e[600];
	static const uint8_t mcast[16] = {0xff, 0x02, [15] = 0xfb};
	static const uint8_t unspec[16], loop[16] = {[15] = 1};
	/* Up to 16 bytes of extension headers, then the upper layer's first
	 * byte (its ICMPv6 type when nh or the chain ends in 58). */
	const struct {
		uint8_t nh;
		uint8_t ext[16];
		size_t elen;
		uint8_t type;
		const uint8_t *src, *dst;
		bool unreach, too_big;
	} c[] = {
	        {17, {0}, 0, 0, own_hit, peer_hit, true, true},
	        {58, {0}, 0, 128, own_hit, peer_hit, true, true},   /* echo request */
	        {58, {0}, 0, 1, own_hit, peer_hit, false, false},   /* unreachable */
	        {58, {0}, 0, 2, own_hit, peer_hit, false, false},   /* too big */
	        {58, {0}, 0, 137, own_hit, peer_hit, false, false}, /* redirect */
	        {0, {58, 0, 1, 4}, 8, 1, own_hit, peer_hit, false, false},
	        {0, {58, 0, 1, 4}, 8, 129, own_hit, peer_hit, true, true},
	        {0, {60, 0, 1, 4, 0, 0, 0, 0, 58, 0, 1, 4}, 16, 3, own_hit, peer_hit, false, false},
	        /* Fragments: the first is judged by its content; later
	         * pieces get only "too big". */
	        {44, {58, 0, 0x00, 0x01, 1, 2, 3, 4}, 8, 1, own_hit, peer_hit, false, false},
	        {44, {58, 0, 0x00, 0x01, 1, 2, 3, 4}, 8, 128, own_hit, peer_hit, true, true},
	        {44, {17, 0, 0x00, 0x08, 1, 2, 3, 4}, 8, 0, own_hit, peer_hit, false, true},
	        {44, {58, 0, 0x05, 0x39, 1, 2, 3, 4}, 8, 1, own_hit, peer_hit, false, true},
	        /* Multicast destinations: only "too big". */
	        {17, {0}, 0, 0, own_hit, mcast, false, true},
	        /* Sources that are not one host. */
	        {17, {0}, 0, 0, mcast, peer_hit, false, false},
	        {17, {0}, 0, 0, unspec, peer_hit, false, false},
	        {17, {0}, 0, 0, loop, peer_hit, false, false},
	        /* A chain running past the end: cannot tell, do not answer. */
	        {0, {58, 40, 1, 4}, 8, 128, own_hit, peer_hit, false, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int n;

		mk6(pkt, 120, c[i].nh, c[i].src, c[i].dst);
		memcpy(pkt + 40, c[i].ext, c[i].elen);
		pkt[40 + c[i].elen] = c[i].type;
		n = pmtu_icmp6_unreach(e, sizeof(e), own_hit, pkt, 120);
		if (c[i].unreach)
			check_icmp6(e, n, 1, 3, pkt);
		else
			assert_int_equal(n, 0);
		n = pmtu_icmp6_too_big(e, sizeof(e), own_hit, pkt, 120, 1280);
		if (c[i].too_big)
			check_icmp6(e, n, 2, 0, pkt);
		else
			assert_int_equal(n, 0);
	}
	/* An ICMPv6 header cut off after the IPv6 header. */
	mk6(pkt, 40, 58, own_hit, peer_hit);
	assert_int_equal(pmtu_icmp6_unreach(e, sizeof(e), own_hit, pkt, 40), 0);
	/* Nine extension headers are more than anyone needs. */
	mk6(pkt, 40 + 9 * 8 + 8, 60, own_hit, peer_hit);
	for (size_t i = 0; i < 9; i++) {
		memset(pkt + 40 + 8 * i, 0, 8);
		pkt[40 + 8 * i] = i == 8 ? 17 : 60;
	}
	assert_int_equal(pmtu_icmp6_unreach(e, sizeof(e), own_hit, pkt, 40 + 9 * 8 + 8), 0);
	pkt[40 + 8 * 7] = 17;
	assert_true(pmtu_icmp6_unreach(e, sizeof(e), own_hit, pkt, 40 + 9 * 8 + 8) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_esp_max), cmocka_unit_test(test_check),
	        cmocka_unit_test(test_icmp4),   cmocka_unit_test(test_icmp4_when_not),
	        cmocka_unit_test(test_icmp6),   cmocka_unit_test(test_icmp6_when_not),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
