/* SPDX-License-Identifier: MIT */
/* test_overlay_table.c: k-buckets, replacement caches, and distance order against brute force. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "overlay/id.h"
#include "overlay/table.h"

static uint64_t rng_state = 0x1234567887654321ull;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static struct ovl_id random_id(void)
{
	struct ovl_id id;

	for (size_t i = 0; i < OVL_ID_LEN; i += 8) {
		uint64_t r = rnd();

		memcpy(id.b + i, &r, 8);
	}
	return id;
}

/* An ID sharing exactly `prefix` leading bits with self. */
static struct ovl_id id_in_bucket(const struct ovl_id *self, unsigned prefix)
{
	struct ovl_id id = random_id();

	for (unsigned i = 0; i < prefix; i++) {
		uint8_t m = (uint8_t)(0x80u >> (i % 8));

		id.b[i / 8] = (uint8_t)((id.b[i / 8] & ~m) | (self->b[i / 8] & m));
	}
	id.b[prefix / 8] ^=
	        (uint8_t)((id.b[prefix / 8] ^ ~self->b[prefix / 8]) & (0x80u >> (prefix % 8)));
	assert_int_equal(ovl_id_prefix_len(self, &id), prefix);
	return id;
}

static struct ovl_contact contact(const struct ovl_id *id)
{
	struct ovl_contact c;
	struct sockaddr_in *sin = (struct sockaddr_in *)&c.addr;

	memset(&c, 0, sizeof(c));
	c.id = *id;
	memcpy(c.hit.b, id->b, HIT_LEN);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(10500);
	memcpy(&sin->sin_addr, id->b, 4);
	c.addrlen = sizeof(*sin);
	return c;
}

static void test_new_and_self(void **state)
{
	struct ovl_id self = random_id();
	struct ovl_table *t;
	struct ovl_contact c = contact(&self);

	(void)state;
	assert_int_equal(ovl_table_new(&self, 0, &t), -EINVAL);
	assert_int_equal(ovl_table_new(&self, OVL_TABLE_K_MAX + 1, &t), -EINVAL);
	assert_int_equal(ovl_table_new(&self, 4, &t), 0);
	assert_true(ovl_id_eq(ovl_table_self(t), &self));
	assert_int_equal(ovl_table_seen(t, &c, 1, NULL), -EINVAL);
	assert_null(ovl_table_find(t, &self));
	assert_int_equal(ovl_table_size(t), 0);
	assert_int_equal(ovl_table_depth(t), 0);
	assert_null(ovl_table_next_hop(t, &self, false, NULL, NULL));
	ovl_table_free(t);
	assert_null(ovl_table_free(NULL));
}

static void test_bucket_lru_and_cache(void **state)
{
	struct ovl_id self = random_id(), ids[8];
	struct ovl_entry *oldest = NULL, *e;
	struct ovl_table *t;
	struct ovl_contact c;
	size_t n;

	(void)state;
	assert_int_equal(ovl_table_new(&self, 4, &t), 0);
	for (size_t i = 0; i < 8; i++)
		ids[i] = id_in_bucket(&self, 3);
	for (size_t i = 0; i < 4; i++) {
		c = contact(&ids[i]);
		assert_int_equal(ovl_table_seen(t, &c, 100 + i, NULL), OVL_SEEN_ADDED);
	}
	assert_int_equal(ovl_table_size(t), 4);
	assert_int_equal(ovl_table_depth(t), 4);
	assert_true(ovl_table_bucket_full(t, 3));
	e = ovl_table_bucket(t, 3, &n);
	assert_int_equal(n, 4);
	assert_true(ovl_id_eq(&e[0].id, &ids[0]));
	/* Refreshing moves a contact to the most recently seen end. */
	c = contact(&ids[0]);
	assert_int_equal(ovl_table_seen(t, &c, 200, NULL), OVL_SEEN_REFRESHED);
	e = ovl_table_bucket(t, 3, &n);
	assert_true(ovl_id_eq(&e[0].id, &ids[1]));
	assert_true(ovl_id_eq(&e[3].id, &ids[0]));
	assert_true(e[3].first_seen == 100 && e[3].last_seen == 200);
	/* A full bucket keeps its contacts: the newcomer waits in the cache, and
	 * the caller learns whom to ping. */
	c = contact(&ids[4]);
	assert_int_equal(ovl_table_seen(t, &c, 300, &oldest), OVL_SEEN_CACHED);
	assert_non_null(oldest);
	assert_true(ovl_id_eq(&oldest->id, &ids[1]));
	assert_null(ovl_table_find(t, &ids[4]));
	assert_true(ovl_table_cached(t, &ids[4]));
	c = contact(&ids[5]);
	assert_int_equal(ovl_table_seen(t, &c, 301, NULL), OVL_SEEN_CACHED);
	/* One failure is forgiven (and forgotten once it talks again)... */
	assert_false(ovl_table_fail(t, &ids[1]));
	assert_int_equal(ovl_table_find(t, &ids[1])->fails, 1);
	c = contact(&ids[1]);
	assert_int_equal(ovl_table_seen(t, &c, 302, NULL), OVL_SEEN_REFRESHED);
	assert_int_equal(ovl_table_find(t, &ids[1])->fails, 0);
	/* ...two in a row remove it, and the newest replacement moves in. */
	assert_false(ovl_table_fail(t, &ids[2]));
	assert_true(ovl_table_fail(t, &ids[2]));
	assert_null(ovl_table_find(t, &ids[2]));
	assert_non_null(ovl_table_find(t, &ids[5]));
	assert_false(ovl_table_cached(t, &ids[5]));
	assert_int_equal(ovl_table_size(t), 4);
	/* LRU order is kept after the promotion (ids[5] was seen at 301). */
	e = ovl_table_bucket(t, 3, &n);
	for (size_t i = 1; i < n; i++)
		assert_true(e[i - 1].last_seen <= e[i].last_seen);
	/* Removal (LEAVE) promotes as well, and drops from the cache. */
	ovl_table_remove(t, &ids[3]);
	assert_null(ovl_table_find(t, &ids[3]));
	assert_non_null(ovl_table_find(t, &ids[4]));
	assert_int_equal(ovl_table_size(t), 4);
	ovl_table_remove(t, &ids[0]);
	ovl_table_remove(t, &ids[1]);
	ovl_table_remove(t, &ids[4]);
	ovl_table_remove(t, &ids[5]);
	assert_int_equal(ovl_table_size(t), 0);
	assert_int_equal(ovl_table_depth(t), 0);
	/* Failing an unknown or cached contact is harmless. */
	assert_false(ovl_table_fail(t, &ids[6]));
	ovl_table_free(t);
}

static struct ovl_table *random_table(const struct ovl_id *self, unsigned k, size_t count)
{
	struct ovl_table *t;

	assert_int_equal(ovl_table_new(self, k, &t), 0);
	for (size_t i = 0; i < count; i++) {
		/* Mostly near buckets, the way a real table fills. */
		unsigned prefix = (unsigned)(rnd() % 12);
		struct ovl_id id = (rnd() & 1) ? random_id() : id_in_bucket(self, prefix);
		struct ovl_contact c = contact(&id);

		assert_true(ovl_table_seen(t, &c, i + 1, NULL) >= 0);
	}
	return t;
}

static bool skip_odd(void *arg, const struct ovl_entry *e)
{
	(void)arg;
	return e->id.b[15] & 1;
}

static void test_distance_order(void **state)
{
	(void)state;
	for (int round = 0; round < 200; round++) {
		struct ovl_id self = random_id(), target = round % 5 ? random_id() : self;
		struct ovl_table *t = random_table(&self, 1 + (unsigned)(rnd() % 8), 300);
		const struct ovl_entry *all[OVL_TABLE_BUCKETS * OVL_TABLE_K_MAX];
		const struct ovl_entry *cl[40], *best = NULL, *hop;
		size_t n = ovl_table_all(t, all, ARRAY_SIZE(all)), got, closer = 0, want;

		if (round % 7 == 0)
			target = id_in_bucket(&self, (unsigned)(rnd() % 10));
		assert_int_equal(n, ovl_table_size(t));
		for (size_t i = 0; i < n; i++) {
			if (ovl_id_closer(&target, &all[i]->id, &self) < 0) {
				closer++;
				if (!best || ovl_id_closer(&target, &all[i]->id, &best->id) < 0)
					best = all[i];
			}
		}
		assert_int_equal(ovl_table_count_closer(t, &target), closer);
		/* next hop with closer_only: the closest contact closer than us. */
		hop = ovl_table_next_hop(t, &target, true, NULL, NULL);
		assert_ptr_equal(hop, best);
		/* closest(): sorted, complete, and agreeing with a full sort. */
		want = 1 + (size_t)(rnd() % 39);
		got = ovl_table_closest(t, &target, NULL, NULL, cl, want);
		assert_int_equal(got, want < n ? want : n);
		for (size_t i = 1; i < got; i++)
			assert_true(ovl_id_closer(&target, &cl[i - 1]->id, &cl[i]->id) < 0);
		for (size_t i = 0; i < n && got > 0; i++) {
			bool listed = false;

			for (size_t j = 0; j < got; j++)
				listed |= cl[j] == all[i];
			/* Anything not listed is no closer than the last listed one. */
			if (!listed)
				assert_true(ovl_id_closer(&target, &cl[got - 1]->id, &all[i]->id) <
				            0);
		}
		/* A skip predicate removes exactly the rejected contacts. */
		got = ovl_table_closest(t, &target, skip_odd, NULL, cl, 40);
		for (size_t i = 0; i < got; i++)
			assert_false(cl[i]->id.b[15] & 1);
		hop = ovl_table_next_hop(t, &target, false, NULL, NULL);
		if (n) {
			got = ovl_table_closest(t, &target, NULL, NULL, cl, 1);
			assert_ptr_equal(hop, cl[0]);
		}
		ovl_table_free(t);
	}
}

static void test_next_hop_prefers_healthy(void **state)
{
	struct ovl_id self = random_id(), target = random_id();
	struct ovl_table *t = random_table(&self, 8, 200);
	const struct ovl_entry *first, *second;
	struct ovl_id first_id;

	(void)state;
	first = ovl_table_next_hop(t, &target, false, NULL, NULL);
	assert_non_null(first);
	first_id = first->id;
	assert_false(ovl_table_fail(t, &first_id));
	second = ovl_table_next_hop(t, &target, false, NULL, NULL);
	assert_non_null(second);
	assert_false(ovl_id_eq(&second->id, &first_id));
	/* With every other candidate skipped, the suspect one is still used. */
	{
		struct ovl_table *one;
		struct ovl_contact c = contact(&first_id);
		const struct ovl_entry *h;

		assert_int_equal(ovl_table_new(&self, 8, &one), 0);
		assert_int_equal(ovl_table_seen(one, &c, 1, NULL), OVL_SEEN_ADDED);
		assert_false(ovl_table_fail(one, &first_id));
		h = ovl_table_next_hop(one, &target, false, NULL, NULL);
		assert_non_null(h);
		assert_true(ovl_id_eq(&h->id, &first_id));
		ovl_table_free(one);
	}
	ovl_table_free(t);
}

static void test_touch_and_locators(void **state)
{
	struct ovl_id self = random_id(), a = id_in_bucket(&self, 5);
	struct ovl_contact c4 = contact(&a), c6, cu, out;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c6.addr;
	struct ovl_table *t;
	struct ovl_entry *e;

	(void)state;
	assert_int_equal(ovl_table_new(&self, 4, &t), 0);
	assert_int_equal(ovl_table_bucket_touched(t, 5), 0);
	ovl_table_touch(t, &a, 77);
	assert_int_equal(ovl_table_bucket_touched(t, 5), 77);
	ovl_table_touch(t, &self, 78); /* our own ID has no bucket */
	assert_int_equal(ovl_table_bucket_touched(t, OVL_TABLE_BUCKETS), 0);

	assert_int_equal(ovl_table_seen(t, &c4, 1, NULL), OVL_SEEN_ADDED);
	e = ovl_table_find(t, &a);
	ovl_entry_contact(e, &out);
	assert_int_equal(out.addrlen, c4.addrlen);
	assert_memory_equal(&out.addr, &c4.addr, c4.addrlen);
	assert_memory_equal(out.hit.b, c4.hit.b, HIT_LEN);

	/* The locator follows the contact when it moves. */
	c6 = c4;
	memset(&c6.addr, 0, sizeof(c6.addr));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(4000);
	sin6->sin6_scope_id = 3;
	assert_int_equal(inet_pton(AF_INET6, "fe80::1", &sin6->sin6_addr), 1);
	c6.addrlen = sizeof(*sin6);
	assert_int_equal(ovl_table_seen(t, &c6, 2, NULL), OVL_SEEN_REFRESHED);
	ovl_entry_contact(ovl_table_find(t, &a), &out);
	assert_int_equal(out.addrlen, sizeof(*sin6));
	assert_memory_equal(&out.addr, &c6.addr, sizeof(*sin6));

	cu = c4;
	memset(&cu.addr, 0, sizeof(cu.addr));
	cu.addrlen = 0;
	assert_int_equal(ovl_table_seen(t, &cu, 3, NULL), OVL_SEEN_REFRESHED);
	ovl_entry_contact(ovl_table_find(t, &a), &out);
	assert_int_equal(out.addrlen, 0);
	assert_int_equal(out.addr.ss_family, AF_UNSPEC);
	ovl_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_new_and_self),
	        cmocka_unit_test(test_bucket_lru_and_cache),
	        cmocka_unit_test(test_distance_order),
	        cmocka_unit_test(test_next_hop_prefers_healthy),
	        cmocka_unit_test(test_touch_and_locators),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
