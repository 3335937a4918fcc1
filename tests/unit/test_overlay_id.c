/* SPDX-License-Identifier: MIT */
/* test_overlay_id.c: ID derivations against hashlib, XOR arithmetic, name rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "overlay/id.h"
#include "overlay/record.h"

static struct ovl_id id_hex(const char *s)
{
	struct ovl_id id;

	assert_int_equal(ovl_id_parse(s, &id), 0);
	return id;
}

static void assert_id_hex(const struct ovl_id *id, const char *hex)
{
	char buf[OVL_ID_STRLEN];

	assert_string_equal(ovl_id_format(id, buf), hex);
}

/* Expected values from /usr/bin/python3:
 *   hashlib.sha256(b'idloc-node-id' + hit).hexdigest()[:32]  with hit = 20 01 00 2a 04 05 .. 0f
 *   hashlib.sha256(b'idloc-name:mars.example.internal').hexdigest()[:32]
 *   hashlib.sha256(b'idloc-relay:relay:').hexdigest()[:32]
 *   hashlib.sha256(b'idloc-relay:relay:a1').hexdigest()[:32] */
static void test_derivations(void **state)
{
	struct hit hit = {{0x20, 0x01, 0x00, 0x2a, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}};
	struct ovl_id id;

	(void)state;
	ovl_id_from_hit(&hit, &id);
	assert_id_hex(&id, "8508d995563c6e4e06903800d1796c6a");
	ovl_key_for_name("mars.example.internal", &id);
	assert_id_hex(&id, "1aa35454172cb2882bff5452b76ff486");
	ovl_key_for_relay("relay:", &id);
	assert_id_hex(&id, "7def61ca9a00aa1de835737c04552ec7");
	ovl_key_for_relay("relay:a1", &id);
	assert_id_hex(&id, "19847a0687d963425d0c570d62047b0d");
}

static void test_long_name_key(void **state)
{
	char a[400], b[400];
	struct ovl_id ka, kb, kv;

	(void)state;
	memset(a, 'a', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[300] = 'b';
	ovl_key_for_name(a, &ka);
	ovl_key_for_name(b, &kb);
	/* Only the first OVL_NAME_MAX + 1 bytes count: never a valid name. */
	assert_true(ovl_id_eq(&ka, &kb));
	a[OVL_NAME_MAX] = '\0';
	ovl_key_for_name(a, &kv);
	assert_false(ovl_id_eq(&ka, &kv));
}

static void test_format_parse(void **state)
{
	struct ovl_id id, back;

	(void)state;
	for (size_t i = 0; i < OVL_ID_LEN; i++)
		id.b[i] = (uint8_t)(i * 17 + 3);
	char buf[OVL_ID_STRLEN];
	ovl_id_format(&id, buf);
	assert_int_equal(strlen(buf), 32);
	assert_int_equal(ovl_id_parse(buf, &back), 0);
	assert_true(ovl_id_eq(&id, &back));
	assert_int_equal(ovl_id_parse("0123456789ABCDEFabcdef0123456789", &back), 0);
	assert_id_hex(&back, "0123456789abcdefabcdef0123456789");

	back = id;
	assert_int_equal(ovl_id_parse("", &back), -EINVAL);
	assert_int_equal(ovl_id_parse("0123456789abcdefabcdef012345678", &back), -EINVAL);
	assert_int_equal(ovl_id_parse("0123456789abcdefabcdef01234567890", &back), -EINVAL);
	assert_int_equal(ovl_id_parse("0123456789abcdefabcdef012345678g", &back), -EINVAL);
	assert_int_equal(ovl_id_parse(" 123456789abcdefabcdef0123456789", &back), -EINVAL);
	/* A failed parse leaves ret alone. */
	assert_true(ovl_id_eq(&id, &back));
}

static void test_cmp_eq_zero(void **state)
{
	struct ovl_id zero = {{0}}, a = id_hex("00000000000000000000000000000001"),
	              b = id_hex("80000000000000000000000000000000");

	(void)state;
	assert_true(ovl_id_is_zero(&zero));
	assert_false(ovl_id_is_zero(&a));
	assert_true(ovl_id_cmp(&a, &b) < 0);
	assert_true(ovl_id_cmp(&b, &a) > 0);
	assert_int_equal(ovl_id_cmp(&a, &a), 0);
	assert_true(ovl_id_eq(&b, &b));
	assert_false(ovl_id_eq(&a, &b));
}

static void test_distance_closer(void **state)
{
	struct ovl_id t = id_hex("f0000000000000000000000000000000");
	struct ovl_id a = id_hex("f1000000000000000000000000000000");
	struct ovl_id b = id_hex("e0000000000000000000000000000000");
	struct ovl_id c = id_hex("f0000000000000000000000000000001");
	struct ovl_id d;

	(void)state;
	ovl_id_distance(&t, &a, &d);
	assert_id_hex(&d, "01000000000000000000000000000000");
	assert_true(ovl_id_closer(&t, &a, &b) < 0);
	assert_true(ovl_id_closer(&t, &b, &a) > 0);
	assert_true(ovl_id_closer(&t, &c, &a) < 0);
	assert_true(ovl_id_closer(&t, &t, &c) < 0);
	assert_int_equal(ovl_id_closer(&t, &a, &a), 0);
	/* XOR, not numeric difference: e0.. is numerically nearer to f0.. than
	 * 70.. but both are in the far half; 7f.. vs e0..: e0 wins (shares bit 0). */
	struct ovl_id far = id_hex("7fffffffffffffffffffffffffffffff");
	assert_true(ovl_id_closer(&t, &b, &far) < 0);
}

static void test_prefix_len_bit(void **state)
{
	struct ovl_id a = id_hex("00000000000000000000000000000000");
	struct ovl_id b;

	(void)state;
	assert_int_equal(ovl_id_prefix_len(&a, &a), OVL_ID_BITS);
	for (unsigned i = 0; i < OVL_ID_BITS; i++) {
		b = a;
		b.b[i / 8] = (uint8_t)(0x80 >> (i % 8));
		assert_int_equal(ovl_id_prefix_len(&a, &b), i);
		assert_int_equal(ovl_id_prefix_len(&b, &a), i);
		assert_true(ovl_id_bit(&b, i));
		assert_false(ovl_id_bit(&a, i));
		if (i > 0)
			assert_false(ovl_id_bit(&b, i - 1));
	}
}

static void test_random_in_bucket(void **state)
{
	struct ovl_id self, r, first;

	(void)state;
	assert_int_equal(ovl_id_random(&self), 0);
	for (unsigned p = 0; p < OVL_ID_BITS; p++) {
		for (int k = 0; k < 8; k++) {
			assert_int_equal(ovl_id_random_in_bucket(&self, p, &r), 0);
			assert_int_equal(ovl_id_prefix_len(&self, &r), p);
		}
	}
	/* Randomness below the fixed bits: 20 draws in bucket 0 are not all equal. */
	bool differ = false;
	assert_int_equal(ovl_id_random_in_bucket(&self, 0, &first), 0);
	for (int k = 0; k < 20 && !differ; k++) {
		assert_int_equal(ovl_id_random_in_bucket(&self, 0, &r), 0);
		differ = !ovl_id_eq(&r, &first);
	}
	assert_true(differ);
	assert_int_equal(ovl_id_random_in_bucket(&self, OVL_ID_BITS, &r), -EINVAL);
}

static void test_hash(void **state)
{
	struct ovl_id a = id_hex("00000000000000000000000000000000");
	struct ovl_id b = id_hex("00000000000000000000000000000001");

	(void)state;
	assert_int_equal(ovl_id_hash(&a, 1), ovl_id_hash(&a, 1));
	assert_true(ovl_id_hash(&a, 1) != ovl_id_hash(&a, 2));
	assert_true(ovl_id_hash(&a, 1) != ovl_id_hash(&b, 1));
	/* Low bits (the table index) depend on the last byte as well. */
	assert_true((ovl_id_hash(&a, 7) & 0xffff) != (ovl_id_hash(&b, 7) & 0xffff));
}

static void test_name_valid(void **state)
{
	static const char *const good[] = {
	        "mars.example.internal", "a", "x-1.y", "0.1.2.3", "a-b-c", "xn--nxasmq6b.example",
	};
	static const char *const bad[] = {
	        "",
	        ".",
	        "a.",
	        ".a",
	        "a..b",
	        "-a.b",
	        "a-.b",
	        "Mars.example",
	        "a_b.c",
	        "a b",
	        "a:b",
	        "relay:",
	        "caf\xc3\xa9.example",
	};
	char label[70], name[300];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(ovl_name_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(ovl_name_valid(bad[i]));

	memset(label, 'a', 63);
	label[63] = '\0';
	assert_true(ovl_name_valid(label));
	label[63] = 'a';
	label[64] = '\0';
	assert_false(ovl_name_valid(label));

	/* 253 characters is the limit: labels of 62, 62, 62, 61 and 1 characters make 252. */
	memset(name, 'b', sizeof(name));
	for (int k = 1; k <= 4; k++)
		name[k * 63 - 1] = '.';
	name[251] = 'x';
	name[252] = '\0';
	name[250] = '.';
	assert_int_equal(strlen(name), 252);
	assert_true(ovl_name_valid(name));
	name[252] = 'y';
	name[253] = '\0';
	assert_true(ovl_name_valid(name));
	name[253] = 'z';
	name[254] = '\0';
	assert_false(ovl_name_valid(name));
}

static void test_relay_branch_valid(void **state)
{
	(void)state;
	assert_true(ovl_relay_branch_valid("relay:"));
	assert_true(ovl_relay_branch_valid("relay:a"));
	assert_true(ovl_relay_branch_valid("relay:a1"));
	assert_true(ovl_relay_branch_valid("relay:0123456789abcdef"));
	assert_false(ovl_relay_branch_valid("relay:0123456789abcdefg"));
	assert_false(ovl_relay_branch_valid("relay"));
	assert_false(ovl_relay_branch_valid(""));
	assert_false(ovl_relay_branch_valid("Relay:a"));
	assert_false(ovl_relay_branch_valid("relay:A"));
	assert_false(ovl_relay_branch_valid("relay:a-b"));
	assert_false(ovl_relay_branch_valid("relay:a.b"));
	assert_false(ovl_relay_branch_valid("xrelay:a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_derivations),      cmocka_unit_test(test_long_name_key),
	        cmocka_unit_test(test_format_parse),     cmocka_unit_test(test_cmp_eq_zero),
	        cmocka_unit_test(test_distance_closer),  cmocka_unit_test(test_prefix_len_bit),
	        cmocka_unit_test(test_random_in_bucket), cmocka_unit_test(test_hash),
	        cmocka_unit_test(test_name_valid),       cmocka_unit_test(test_relay_branch_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
