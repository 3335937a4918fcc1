/* SPDX-License-Identifier: MIT */
/* test_idmap.c: the HIT <-> LSI <-> name table: the LSI function, collisions, names, bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "daemon/idmap.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const struct idmap_config dflt = {
        .prefix = IP(100, 64, 0, 0),
        .prefix_len = 10,
        .resolver = IP(100, 64, 0, 53),
};

/* An ORCHIDv2 HIT whose last 4 bytes are tail; salt tells HITs with the same
 * tail apart. */
static struct hit mkhit(uint32_t tail, uint8_t salt)
{
	struct hit h = {{0x20, 0x01, 0x00, 0x20}};

	h.b[5] = salt;
	h.b[9] = 0x5a;
	store_be32(h.b + 12, tail);
	return h;
}

static struct idmap *mknew(const struct idmap_config *cfg, uint32_t own_tail, const char *name)
{
	struct hit own = mkhit(own_tail, 0xee);
	struct idmap *m = NULL;

	assert_int_equal(idmap_new(cfg, &own, name, &m), 0);
	assert_non_null(m);
	return m;
}

static void test_lsi_function(void **state)
{
	struct hit h = mkhit(0x12345678, 1);

	(void)state;
	/* Low 22 bits of 0x12345678 are 0x345678: 100.64.0.0 | 0x345678. */
	assert_int_equal(idmap_lsi_for_hit(&dflt, &h), IP(100, 116, 86, 120));
	/* Only the last 4 bytes count. */
	h.b[4] ^= 0xff;
	h.b[11] ^= 0xff;
	assert_int_equal(idmap_lsi_for_hit(&dflt, &h), IP(100, 116, 86, 120));
	/* OpenHIP-like /8: the last 24 bits. */
	struct idmap_config c8 = {.prefix = IP(1, 0, 0, 0), .prefix_len = 8};
	assert_int_equal(idmap_lsi_for_hit(&c8, &h), IP(1, 0x34, 0x56, 0x78));
}

static void test_prefix_lengths(void **state)
{
	(void)state;
	for (uint8_t plen = IDMAP_PLEN_MIN; plen <= IDMAP_PLEN_MAX; plen++) {
		uint32_t hostmask = UINT32_MAX >> plen;
		struct idmap_config c = {.prefix = IP(10, 0, 0, 0) & ~hostmask,
		                         .prefix_len = plen,
		                         .resolver = IP(192, 0, 2, 1)};
		for (uint32_t t = 0; t < 64; t++) {
			uint32_t tail = (t * 0x9e3779b9u) ^ (t << 3);
			struct hit h = mkhit(tail, 0);
			uint32_t lsi = idmap_lsi_for_hit(&c, &h);
			uint32_t host = lsi & hostmask;

			assert_int_equal(lsi & ~hostmask, c.prefix);
			assert_int_not_equal(host, 0);
			assert_int_not_equal(host, hostmask);
			if ((tail & hostmask) != 0 && (tail & hostmask) != hostmask)
				assert_int_equal(host, tail & hostmask);
		}
	}
}

static void test_forbidden(void **state)
{
	struct hit h;

	(void)state;
	/* All zeros -> 1. */
	h = mkhit(0xffc00000, 0);
	assert_int_equal(idmap_lsi_for_hit(&dflt, &h), IP(100, 64, 0, 1));
	/* All ones wraps to all zeros, then 1. */
	h = mkhit(0x003fffff, 0);
	assert_int_equal(idmap_lsi_for_hit(&dflt, &h), IP(100, 64, 0, 1));
	/* The resolver address. */
	h = mkhit(53, 0);
	assert_int_equal(idmap_lsi_for_hit(&dflt, &h), IP(100, 64, 0, 54));
	/* /30: hosts 1 and 2 only; with the resolver on .1 everything lands on .2. */
	struct idmap_config c30 = {
	        .prefix = IP(100, 64, 0, 0), .prefix_len = 30, .resolver = IP(100, 64, 0, 1)};
	for (uint32_t t = 0; t < 4; t++) {
		h = mkhit(t, 0);
		assert_int_equal(idmap_lsi_for_hit(&c30, &h), IP(100, 64, 0, 2));
	}
	/* A resolver outside the prefix is no obstacle. */
	c30.resolver = IP(100, 64, 0, 53);
	h = mkhit(1, 0);
	assert_int_equal(idmap_lsi_for_hit(&c30, &h), IP(100, 64, 0, 1));
	h = mkhit(3, 0);
	assert_int_equal(idmap_lsi_for_hit(&c30, &h), IP(100, 64, 0, 1));
}

static void test_own_entry(void **state)
{
	struct idmap *m = mknew(&dflt, 0x00000a0b, "Venus.Example.Internal.");
	const struct idmap_entry *e = idmap_self(m);
	struct hit own = mkhit(0x00000a0b, 0xee);

	(void)state;
	assert_true(e->self);
	assert_int_equal(e->lsi, IP(100, 64, 10, 11));
	assert_int_equal(e->canon, e->lsi);
	assert_string_equal(e->name, "venus.example.internal");
	assert_ptr_equal(idmap_by_hit(m, &own), e);
	assert_ptr_equal(idmap_by_lsi(m, IP(100, 64, 10, 11)), e);
	assert_ptr_equal(idmap_by_name(m, "VENUS.example.internal"), e);
	assert_ptr_equal(idmap_get(m, 0), e);
	assert_int_equal(idmap_count(m), 1);
	/* Known again: nothing changes. */
	assert_int_equal(idmap_add(m, &own, NULL, NULL), 0);
	assert_int_equal(idmap_add(m, &own, "venus.example.internal", NULL), 0);
	/* The own entry keeps its name; nobody takes it. */
	assert_int_equal(idmap_add(m, &own, "other.example.internal", NULL), -EEXIST);
	struct hit x = mkhit(7, 1);
	assert_int_equal(idmap_add(m, &x, "venus.example.internal", NULL), -EEXIST);
	assert_null(idmap_by_hit(m, &x)); /* refused before anything was created */
	assert_int_equal(idmap_count(m), 1);
	idmap_free(m);
}

static void test_collisions(void **state)
{
	struct idmap *m = mknew(&dflt, 0x00000100, NULL);
	struct hit a = mkhit(0x00000200, 1), b = mkhit(0xffc00200, 2), c = mkhit(0x00000200, 3);
	struct hit d = mkhit(0x00000201, 4), s = mkhit(0x00000100, 5);
	const struct idmap_entry *ea, *eb, *ec, *ed, *es;

	(void)state;
	assert_int_equal(idmap_add(m, &a, NULL, &ea), IDMAP_ADDED);
	assert_int_equal(ea->lsi, IP(100, 64, 2, 0));
	assert_int_equal(ea->canon, ea->lsi);
	/* Same low 22 bits, different HIT: the next free value. */
	assert_int_equal(idmap_add(m, &b, NULL, &eb), IDMAP_ADDED | IDMAP_COLLISION);
	assert_int_equal(eb->canon, IP(100, 64, 2, 0));
	assert_int_equal(eb->lsi, IP(100, 64, 2, 1));
	assert_int_equal(idmap_add(m, &c, NULL, &ec), IDMAP_ADDED | IDMAP_COLLISION);
	assert_int_equal(ec->lsi, IP(100, 64, 2, 2));
	/* d's own value went to b: d collides too although no one shares its bits. */
	assert_int_equal(idmap_add(m, &d, NULL, &ed), IDMAP_ADDED | IDMAP_COLLISION);
	assert_int_equal(ed->canon, IP(100, 64, 2, 1));
	assert_int_equal(ed->lsi, IP(100, 64, 2, 3));
	/* A peer whose value is our own. */
	assert_int_equal(idmap_add(m, &s, NULL, &es), IDMAP_ADDED | IDMAP_COLLISION);
	assert_int_equal(es->canon, idmap_self(m)->lsi);
	assert_int_equal(es->lsi, IP(100, 64, 1, 1));
	/* Lookups find each by its local LSI; the holder of a canonical value
	 * is the one to name in a log line. */
	assert_ptr_equal(idmap_by_lsi(m, IP(100, 64, 2, 0)), ea);
	assert_ptr_equal(idmap_by_lsi(m, IP(100, 64, 2, 1)), eb);
	assert_ptr_equal(idmap_by_lsi(m, IP(100, 64, 2, 2)), ec);
	assert_ptr_equal(idmap_by_lsi(m, IP(100, 64, 2, 3)), ed);
	assert_ptr_equal(idmap_by_lsi(m, IP(100, 64, 1, 1)), es);
	assert_ptr_equal(idmap_by_lsi(m, ed->canon), eb);
	assert_null(idmap_by_lsi(m, IP(100, 64, 2, 4)));
	/* The order of arrival decides, not the HIT. */
	struct idmap *m2 = mknew(&dflt, 0x00000100, NULL);
	assert_int_equal(idmap_add(m2, &c, NULL, &ec), IDMAP_ADDED);
	assert_int_equal(ec->lsi, IP(100, 64, 2, 0));
	assert_int_equal(idmap_add(m2, &a, NULL, &ea), IDMAP_ADDED | IDMAP_COLLISION);
	assert_int_equal(ea->lsi, IP(100, 64, 2, 1));
	idmap_free(m2);
	idmap_free(m);
}

static void test_collision_skips_forbidden(void **state)
{
	struct idmap *m = mknew(&dflt, 0x00000100, NULL);
	struct hit a = mkhit(52, 1), b = mkhit(52, 2), c = mkhit(0x003ffffe, 3),
	           d = mkhit(0x003ffffe, 4);
	const struct idmap_entry *e;

	(void)state;
	assert_int_equal(idmap_add(m, &a, NULL, &e), IDMAP_ADDED);
	assert_int_equal(idmap_add(m, &b, NULL, &e), IDMAP_ADDED | IDMAP_COLLISION);
	assert_int_equal(e->lsi, IP(100, 64, 0, 54)); /* .53 is the resolver */
	assert_int_equal(idmap_add(m, &c, NULL, &e), IDMAP_ADDED);
	assert_int_equal(e->lsi, IP(100, 127, 255, 254));
	/* Wraps past all ones and all zeros. */
	assert_int_equal(idmap_add(m, &d, NULL, &e), IDMAP_ADDED | IDMAP_COLLISION);
	assert_int_equal(e->lsi, IP(100, 64, 0, 1));
	idmap_free(m);
}

static void test_stability(void **state)
{
	struct idmap *m = mknew(&dflt, 0x00000100, NULL);
	struct hit h[40];
	uint32_t lsi[40];
	const struct idmap_entry *e;

	(void)state;
	for (int i = 0; i < 40; i++) {
		h[i] = mkhit(0x00000200 + (uint32_t)(i % 5), (uint8_t)i);
		assert_true(idmap_add(m, &h[i], NULL, &e) & IDMAP_ADDED);
		lsi[i] = e->lsi;
		for (int j = 0; j < i; j++)
			assert_int_not_equal(lsi[i], lsi[j]);
	}
	/* Names learnt later and lookups in any order change nothing. */
	for (int round = 0; round < 3; round++) {
		for (int i = 39; i >= 0; i--) {
			char name[64];
			snprintf(name, sizeof(name), "p%d.example.internal", i);
			int r = idmap_add(m, &h[i], name, &e);
			assert_int_equal(r, round == 0 ? IDMAP_NAMED : 0);
			assert_int_equal(e->lsi, lsi[i]);
			assert_ptr_equal(idmap_by_lsi(m, lsi[i]), e);
			assert_ptr_equal(idmap_by_hit(m, &h[i]), e);
		}
	}
	assert_int_equal(idmap_count(m), 41);
	for (size_t i = 1; i < idmap_count(m); i++)
		assert_int_equal(idmap_get(m, i)->lsi, lsi[i - 1]);
	assert_null(idmap_get(m, 41));
	idmap_free(m);
}

static void test_names(void **state)
{
	struct idmap *m = mknew(&dflt, 0x00000100, NULL);
	struct hit a = mkhit(0x1000, 1), b = mkhit(0x2000, 2);
	const struct idmap_entry *ea, *eb;

	(void)state;
	/* A peer that connects before anyone resolved its name. */
	assert_int_equal(idmap_add(m, &a, NULL, &ea), IDMAP_ADDED);
	assert_string_equal(ea->name, "");
	assert_null(idmap_by_name(m, "mars.example.internal"));
	assert_int_equal(idmap_add(m, &a, "MARS.example.internal.", NULL), IDMAP_NAMED);
	assert_string_equal(ea->name, "mars.example.internal");
	assert_ptr_equal(idmap_by_name(m, "mars.EXAMPLE.internal"), ea);
	assert_ptr_equal(idmap_by_name(m, "mars.example.internal."), ea);
	assert_null(idmap_by_name(m, "mars.example"));
	assert_null(idmap_by_name(m, "bad..name"));
	assert_null(idmap_by_name(m, ""));
	assert_null(idmap_by_name(m, NULL));
	/* Created by a resolution, named at once. */
	assert_int_equal(idmap_add(m, &b, "jupiter.example.internal", &eb),
	                 IDMAP_ADDED | IDMAP_NAMED);
	/* A rename drops the old name. */
	assert_int_equal(idmap_add(m, &a, "mars2.example.internal", NULL), IDMAP_NAMED);
	assert_null(idmap_by_name(m, "mars.example.internal"));
	assert_ptr_equal(idmap_by_name(m, "mars2.example.internal"), ea);
	/* A name that now resolves to another HIT moves; the LSIs stay. */
	uint32_t la = ea->lsi, lb = eb->lsi;
	assert_int_equal(idmap_add(m, &b, "mars2.example.internal", NULL),
	                 IDMAP_NAMED | IDMAP_NAME_MOVED);
	assert_string_equal(ea->name, "");
	assert_ptr_equal(idmap_by_name(m, "mars2.example.internal"), eb);
	assert_null(idmap_by_name(m, "jupiter.example.internal"));
	assert_int_equal(ea->lsi, la);
	assert_int_equal(eb->lsi, lb);
	/* Invalid names change nothing. */
	assert_int_equal(idmap_add(m, &a, "-x.example.internal", NULL), -EINVAL);
	struct hit c = mkhit(0x3000, 3);
	assert_int_equal(idmap_add(m, &c, "a_b.example.internal", NULL), -EINVAL);
	assert_null(idmap_by_hit(m, &c));
	idmap_free(m);
}

/* Names moving around a tiny index (16 slots for 8 entries, so clusters
 * wrap) against a plain model of who holds which name. */
static void test_name_index_churn(void **state)
{
	struct idmap_config c = dflt;
	struct hit h[7];
	int holder[12]; /* name k -> HIT index, -1 */
	uint32_t x = 12345;

	(void)state;
	c.max_entries = 8;
	struct idmap *m = mknew(&c, 0x100, NULL);
	for (int i = 0; i < 7; i++) {
		h[i] = mkhit(0x200 + (uint32_t)i, (uint8_t)i);
		assert_true(idmap_add(m, &h[i], NULL, NULL) & IDMAP_ADDED);
	}
	memset(holder, -1, sizeof(holder));
	for (int step = 0; step < 3000; step++) {
		char name[32];
		x = x * 1103515245u + 12345u;
		int k = (int)((x >> 8) % 12), i = (int)((x >> 20) % 7);

		snprintf(name, sizeof(name), "n%d.example.internal", k);
		assert_true(idmap_add(m, &h[i], name, NULL) >= 0);
		for (int j = 0; j < 12; j++)
			if (holder[j] == i)
				holder[j] = -1;
		holder[k] = i;
		for (int j = 0; j < 12; j++) {
			const struct idmap_entry *e;
			snprintf(name, sizeof(name), "n%d.example.internal", j);
			e = idmap_by_name(m, name);
			if (holder[j] < 0)
				assert_null(e);
			else
				assert_ptr_equal(e, idmap_by_hit(m, &h[holder[j]]));
		}
	}
	idmap_free(m);
}

static void test_bounds(void **state)
{
	struct idmap_config c = dflt;
	struct hit h;
	int r;

	(void)state;
	c.max_entries = 3;
	struct idmap *m = mknew(&c, 0x100, NULL);
	h = mkhit(1, 1);
	assert_int_equal(idmap_add(m, &h, NULL, NULL), IDMAP_ADDED);
	h = mkhit(2, 2);
	assert_int_equal(idmap_add(m, &h, NULL, NULL), IDMAP_ADDED);
	h = mkhit(3, 3);
	assert_int_equal(idmap_add(m, &h, NULL, NULL), -ENOSPC);
	assert_null(idmap_by_hit(m, &h));
	/* Known ones still work, names too. */
	h = mkhit(2, 2);
	assert_int_equal(idmap_add(m, &h, "b.example.internal", NULL), IDMAP_NAMED);
	idmap_free(m);

	/* A /30 with the resolver inside holds the own entry and no one else. */
	struct idmap_config c30 = {
	        .prefix = IP(100, 64, 0, 0), .prefix_len = 30, .resolver = IP(100, 64, 0, 2)};
	m = mknew(&c30, 0x1, NULL);
	assert_int_equal(idmap_self(m)->lsi, IP(100, 64, 0, 1));
	h = mkhit(1, 1);
	assert_int_equal(idmap_add(m, &h, NULL, NULL), -ENOSPC);
	idmap_free(m);
	/* Without it, two. */
	c30.resolver = dflt.resolver;
	m = mknew(&c30, 0x1, NULL);
	h = mkhit(1, 1);
	const struct idmap_entry *e;
	r = idmap_add(m, &h, NULL, &e);
	assert_int_equal(r, IDMAP_ADDED | IDMAP_COLLISION);
	assert_int_equal(e->lsi, IP(100, 64, 0, 2));
	h = mkhit(2, 2);
	assert_int_equal(idmap_add(m, &h, NULL, NULL), -ENOSPC);
	idmap_free(m);
}

static void test_bad_config(void **state)
{
	struct idmap_config c = dflt;
	struct hit own = mkhit(1, 0);
	struct idmap *m = NULL;

	(void)state;
	c.prefix_len = 7;
	assert_int_equal(idmap_new(&c, &own, NULL, &m), -EINVAL);
	c.prefix_len = 31;
	assert_int_equal(idmap_new(&c, &own, NULL, &m), -EINVAL);
	c.prefix_len = 10;
	c.prefix = IP(100, 64, 0, 1);
	assert_int_equal(idmap_new(&c, &own, NULL, &m), -EINVAL);
	c.prefix = dflt.prefix;
	c.max_entries = IDMAP_ENTRIES_MAX + 1;
	assert_int_equal(idmap_new(&c, &own, NULL, &m), -EINVAL);
	c.max_entries = 0;
	assert_int_equal(idmap_new(&c, &own, "bad name", &m), -EINVAL);
	assert_null(m);
	assert_int_equal(idmap_new(&c, &own, "", &m), 0);
	assert_string_equal(idmap_self(m)->name, "");
	assert_true(idmap_in_prefix(m, IP(100, 127, 1, 1)));
	assert_true(idmap_in_prefix(m, IP(100, 64, 0, 0)));
	assert_false(idmap_in_prefix(m, IP(100, 128, 0, 1)));
	assert_false(idmap_in_prefix(m, IP(10, 64, 0, 1)));
	assert_true(idmap_lsi_usable(m, IP(100, 64, 0, 1)));
	assert_true(idmap_lsi_usable(m, IP(100, 127, 255, 254)));
	assert_false(idmap_lsi_usable(m, IP(100, 64, 0, 0)));
	assert_false(idmap_lsi_usable(m, IP(100, 127, 255, 255)));
	assert_false(idmap_lsi_usable(m, IP(100, 64, 0, 53)));
	assert_false(idmap_lsi_usable(m, IP(100, 128, 0, 1)));
	assert_null(idmap_free(m));
	assert_null(idmap_free(NULL));
}

/* A full default-size table in a /24 would run out of LSIs first; in the
 * default /10 every one of 4096 peers gets an LSI and is found again. */
static void test_full_default(void **state)
{
	struct idmap *m = mknew(&dflt, 0x100, NULL);
	uint32_t x = 99;

	(void)state;
	for (uint32_t i = 1; i < IDMAP_DEFAULT_MAX; i++) {
		x = x * 1664525u + 1013904223u;
		struct hit h = mkhit(x & 0xfff, (uint8_t)i); /* many collisions */
		h.b[6] = (uint8_t)(i >> 8);
		int r = idmap_add(m, &h, NULL, NULL);
		assert_true(r > 0);
	}
	struct hit extra = mkhit(5, 5);
	extra.b[7] = 0x77;
	assert_int_equal(idmap_add(m, &extra, NULL, NULL), -ENOSPC);
	for (size_t i = 0; i < idmap_count(m); i++) {
		const struct idmap_entry *e = idmap_get(m, i);
		assert_ptr_equal(idmap_by_hit(m, &e->hit), e);
		assert_ptr_equal(idmap_by_lsi(m, e->lsi), e);
	}
	idmap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_lsi_function),
	        cmocka_unit_test(test_prefix_lengths),
	        cmocka_unit_test(test_forbidden),
	        cmocka_unit_test(test_own_entry),
	        cmocka_unit_test(test_collisions),
	        cmocka_unit_test(test_collision_skips_forbidden),
	        cmocka_unit_test(test_stability),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_name_index_churn),
	        cmocka_unit_test(test_bounds),
	        cmocka_unit_test(test_bad_config),
	        cmocka_unit_test(test_full_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
