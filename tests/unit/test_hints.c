/* SPDX-License-Identifier: MIT */
/* test_hints.c: address hints in name records, and the cache of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "daemon/hints.h"

static struct hip_locator_entry entry(uint8_t last, uint16_t port, bool v6)
{
	struct hip_locator_entry e;

	memset(&e, 0, sizeof(e));
	if (v6) {
		e.addr[0] = 0x20;
		e.addr[1] = 0x01;
		e.addr[2] = 0x0d;
		e.addr[3] = 0xb8;
	} else {
		e.addr[10] = e.addr[11] = 0xff;
		e.addr[12] = 192;
		e.addr[13] = 0;
		e.addr[14] = 2;
	}
	e.addr[15] = last;
	e.port = port;
	return e;
}

static void test_roundtrip(void **state)
{
	struct hip_locator_entry e[3] = {entry(1, 10500, false), entry(2, 0, false),
	                                 entry(3, 4000, true)};
	struct hip_locator l[4];
	uint8_t buf[HINTS_BUF];
	size_t len = hints_encode(e, 3, buf), n;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&l[0].addr;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&l[1].addr;

	(void)state;
	assert_int_equal(len, 2 + 2 * HINTS_ENTRY); /* the port-0 entry is left out */
	assert_int_equal(hints_decode(buf, len, l, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 10500);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0xc0000201u);
	assert_int_equal(l[0].len, sizeof(struct sockaddr_in));
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 4000);
	assert_int_equal(s6->sin6_addr.s6_addr[15], 3);
	/* cap limits what is copied, not what is valid */
	assert_int_equal(hints_decode(buf, len, l, 1, &n), 0);
	assert_int_equal(n, 1);
}

static void test_malformed(void **state)
{
	struct hip_locator_entry e = entry(1, 10500, false);
	struct hip_locator l[4];
	uint8_t buf[HINTS_BUF];
	size_t len = hints_encode(&e, 1, buf), n;

	(void)state;
	assert_int_equal(hints_decode(buf, len - 1, l, 4, &n), -EBADMSG);
	assert_int_equal(hints_decode(buf, 1, l, 4, &n), -EBADMSG);
	buf[0] = 2;
	assert_int_equal(hints_decode(buf, len, l, 4, &n), -EBADMSG);
	buf[0] = HINTS_VERSION;
	buf[2] = buf[3] = 0; /* port 0 */
	assert_int_equal(hints_decode(buf, len, l, 4, &n), -EBADMSG);
	buf[1] = HINTS_MAX + 1;
	assert_int_equal(hints_decode(buf, len, l, 4, &n), -EBADMSG);
}

static void test_cache(void **state)
{
	struct hip_locator_entry e = entry(7, 10500, false);
	struct hints_cache *c;
	struct hip_locator l;
	uint8_t buf[HINTS_BUF];
	size_t len = hints_encode(&e, 1, buf);
	struct hit h[HINTS_CACHE + 1];

	(void)state;
	memset(h, 0, sizeof(h));
	for (size_t i = 0; i <= HINTS_CACHE; i++) {
		h[i].b[0] = 0x20;
		h[i].b[14] = (uint8_t)(i >> 8);
		h[i].b[15] = (uint8_t)i;
	}
	assert_int_equal(hints_cache_new(&c), 0);
	assert_false(hints_cache_get(c, &h[0], &l, 1));
	hints_cache_put(c, &h[0], buf, len, 1);
	assert_true(hints_cache_get(c, &h[0], &l, 2));
	assert_int_equal(((struct sockaddr_in *)&l.addr)->sin_addr.s_addr, htonl(0xc0000207u));
	/* A record without hints forgets them; a malformed one too. */
	hints_cache_put(c, &h[0], NULL, 0, 3);
	assert_false(hints_cache_get(c, &h[0], &l, 3));
	hints_cache_put(c, &h[0], buf, len - 1, 3);
	assert_false(hints_cache_get(c, &h[0], &l, 3));
	/* Full: the least recently used peer goes. */
	for (size_t i = 0; i < HINTS_CACHE; i++)
		hints_cache_put(c, &h[i], buf, len, 10 + i);
	assert_true(hints_cache_get(c, &h[0], &l, 1000)); /* h[0] used last now */
	hints_cache_put(c, &h[HINTS_CACHE], buf, len, 1001);
	assert_true(hints_cache_get(c, &h[HINTS_CACHE], &l, 1002));
	assert_true(hints_cache_get(c, &h[0], &l, 1003));
	assert_false(hints_cache_get(c, &h[1], &l, 1004));
	c = hints_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_roundtrip),
	        cmocka_unit_test(test_malformed),
	        cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
