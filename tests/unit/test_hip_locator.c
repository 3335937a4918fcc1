/* SPDX-License-Identifier: MIT */
/* test_hip_locator.c: LOCATOR_SET and NAT_TRAVERSAL_MODE encoding and strict decoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/bytes.h"
#include "hip/locator.h"
#include "hip/msg.h"
#include "hip/wire.h"

static uint8_t pkt[HIP_MAX_PACKET];
static struct hip_msg msg;

static const struct hip_param *build(const struct hip_locator_entry *e, size_t n)
{
	struct hip_builder b;
	struct hit s = {{0x20, 0x01, 0x00, 0x20}}, d = {{0x20, 0x01, 0x00, 0x21}};
	int len;

	hip_builder_init(&b, pkt, sizeof(pkt), HIP_UPDATE, &s, &d);
	assert_int_equal(hip_locator_set_encode(&b, e, n), 0);
	len = hip_builder_finish(&b);
	assert_true(len > 0);
	assert_int_equal(hip_msg_parse(pkt, (size_t)len, &msg), 0);
	return hip_msg_find(&msg, HIP_P_LOCATOR_SET);
}

static void sample(struct hip_locator_entry e[3])
{
	memset(e, 0, 3 * sizeof(*e));
	e[0] = (struct hip_locator_entry){.traffic = HIP_TRAFFIC_BOTH,
	                                  .type = HIP_LOCATOR_IPV6,
	                                  .preferred = true,
	                                  .lifetime = 120,
	                                  .addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
	e[1] = (struct hip_locator_entry){.traffic = HIP_TRAFFIC_DATA,
	                                  .type = HIP_LOCATOR_ESP_IPV6,
	                                  .lifetime = 60,
	                                  .spi = 0x80000001u,
	                                  .addr = {[10] = 0xff, [11] = 0xff, 10, 0, 0, 1}};
	e[2] = (struct hip_locator_entry){.traffic = HIP_TRAFFIC_BOTH,
	                                  .type = HIP_LOCATOR_TRANSPORT,
	                                  .lifetime = 600,
	                                  .spi = 0x8badf00du,
	                                  .port = 10500,
	                                  .protocol = 17,
	                                  .kind = HIP_KIND_SRFLX,
	                                  .priority = 1694498815u,
	                                  .addr = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 7}};
}

static void test_round_trip(void **state)
{
	struct hip_locator_entry e[3], out[HIP_LOCATORS_MAX];
	const struct hip_param *p;
	size_t n;

	(void)state;
	sample(e);
	p = build(e, 3);
	assert_non_null(p);
	/* 8-byte headers + 16 + 20 + 28 bytes of locators; the type-2 entry at 52. */
	assert_int_equal(p->len, 3 * 8 + 16 + 20 + 28);
	/* The wire layout of the type-2 entry (RFC 5770 section 5.7). */
	assert_int_equal(p->val[52 + 1], 2);
	assert_int_equal(p->val[52 + 2], 7);
	assert_int_equal(load_be16(p->val + 60), 10500);
	assert_int_equal(p->val[62], 17);
	assert_int_equal(p->val[63], HIP_KIND_SRFLX);
	assert_int_equal(hip_locator_set_decode(p, out, HIP_LOCATORS_MAX, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(out[i].type, e[i].type);
		assert_int_equal(out[i].traffic, e[i].traffic);
		assert_int_equal(out[i].preferred, e[i].preferred);
		assert_int_equal(out[i].lifetime, e[i].lifetime);
		assert_int_equal(out[i].spi, e[i].spi);
		assert_int_equal(out[i].port, e[i].port);
		assert_int_equal(out[i].kind, e[i].kind);
		assert_int_equal(out[i].priority, e[i].priority);
		assert_memory_equal(out[i].addr, e[i].addr, 16);
	}
}

/* Corrupts one byte of the encoded set and expects the given error. */
static void expect_corrupt(size_t off, uint8_t value, int err)
{
	struct hip_locator_entry e[3], out[HIP_LOCATORS_MAX];
	const struct hip_param *p;
	size_t n = 99;

	sample(e);
	p = build(e, 3);
	((uint8_t *)p->val)[off] = value;
	assert_int_equal(hip_locator_set_decode(p, out, HIP_LOCATORS_MAX, &n), err);
	assert_int_equal(n, 0);
}

static void test_strict(void **state)
{
	(void)state;
	expect_corrupt(1, 9, -EPROTONOSUPPORT); /* unknown locator type */
	expect_corrupt(2, 5, -EBADMSG);         /* length that does not fit the type */
	expect_corrupt(0, 3, -EBADMSG);         /* unknown traffic type */
	expect_corrupt(7, 0, -EBADMSG);         /* lifetime 120 -> 0 */
	expect_corrupt(63, 4, -EBADMSG);        /* unknown candidate kind */
}

static void test_truncated_and_capacity(void **state)
{
	struct hip_locator_entry e[3], out[HIP_LOCATORS_MAX];
	struct hip_param p;
	size_t n;

	(void)state;
	sample(e);
	p = *build(e, 3);
	p.len = (uint16_t)(p.len - 4);
	assert_int_equal(hip_locator_set_decode(&p, out, HIP_LOCATORS_MAX, &n), -EBADMSG);
	p.len = (uint16_t)(p.len + 4);
	assert_int_equal(hip_locator_set_decode(&p, out, 2, &n), -E2BIG);
	e[0].lifetime = 0;
	{
		struct hip_builder b;
		struct hit s = {{0}};

		hip_builder_init(&b, pkt, sizeof(pkt), HIP_UPDATE, &s, &s);
		assert_int_equal(hip_locator_set_encode(&b, e, 3), -EINVAL);
	}
}

static void test_nat_mode(void **state)
{
	struct hip_builder b;
	struct hit s = {{0}};
	const uint16_t modes[] = {HIP_NAT_ICE_STUN, HIP_NAT_UDP};
	uint16_t out[HIP_NAT_MODES_MAX];
	const struct hip_param *p;
	size_t n;
	int len;

	(void)state;
	hip_builder_init(&b, pkt, sizeof(pkt), HIP_R1, &s, &s);
	assert_int_equal(hip_nat_mode_encode(&b, modes, 2), 0);
	len = hip_builder_finish(&b);
	assert_true(len > 0);
	assert_int_equal(hip_msg_parse(pkt, (size_t)len, &msg), 0);
	p = hip_msg_find(&msg, HIP_P_NAT_TRAVERSAL_MODE);
	assert_non_null(p);
	assert_int_equal(p->len, 6);
	assert_int_equal(load_be16(p->val), 0);
	assert_int_equal(hip_nat_mode_decode(p, out, HIP_NAT_MODES_MAX, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], HIP_NAT_ICE_STUN);
	assert_int_equal(out[1], HIP_NAT_UDP);
	assert_int_equal(hip_nat_mode_decode(p, out, 1, &n), -E2BIG);
	struct hip_param q = *p;
	q.len = 3;
	assert_int_equal(hip_nat_mode_decode(&q, out, HIP_NAT_MODES_MAX, &n), -EBADMSG);
	q.len = 2;
	assert_int_equal(hip_nat_mode_decode(&q, out, HIP_NAT_MODES_MAX, &n), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_round_trip),
	        cmocka_unit_test(test_strict),
	        cmocka_unit_test(test_truncated_and_capacity),
	        cmocka_unit_test(test_nat_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
