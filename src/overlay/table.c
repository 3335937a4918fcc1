/* SPDX-License-Identifier: MIT */
/* table.c: k-buckets with least-recently-seen order and replacement caches. */
#include "overlay/table.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct bucket {
	struct ovl_entry *e; /* capacity k, allocated on first use; e[0] least recently seen */
	struct ovl_entry *r; /* replacement cache, capacity OVL_TABLE_REPL_MAX; newest last */
	uint8_t n;
	uint8_t nr;
	uint64_t touched;
};

struct ovl_table {
	struct ovl_id self;
	unsigned k;
	size_t size;
	unsigned depth; /* buckets >= depth are empty */
	struct bucket b[OVL_TABLE_BUCKETS];
};

int ovl_table_new(const struct ovl_id *self, unsigned k, struct ovl_table **ret)
{
	struct ovl_table *t;

	if (k == 0 || k > OVL_TABLE_K_MAX)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->self = *self;
	t->k = k;
	*ret = t;
	return 0;
}

struct ovl_table *ovl_table_free(struct ovl_table *t)
{
	if (!t)
		return NULL;
	for (unsigned i = 0; i < OVL_TABLE_BUCKETS; i++) {
		free(t->b[i].e);
		free(t->b[i].r);
	}
	free(t);
	return NULL;
}

void ovl_loc_from_contact(const struct ovl_contact *c, struct ovl_loc *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->family = AF_UNSPEC;
	if (c->addr.ss_family == AF_INET && c->addrlen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&c->addr;

		ret->family = AF_INET;
		ret->port = ntohs(sin->sin_port);
		memcpy(ret->addr, &sin->sin_addr, 4);
	} else if (c->addr.ss_family == AF_INET6 && c->addrlen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&c->addr;

		ret->family = AF_INET6;
		ret->port = ntohs(sin6->sin6_port);
		ret->scope = sin6->sin6_scope_id;
		memcpy(ret->addr, &sin6->sin6_addr, 16);
	}
}

void ovl_entry_contact(const struct ovl_entry *e, struct ovl_contact *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->id = e->id;
	ret->hit = e->hit;
	if (e->loc.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ret->addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(e->loc.port);
		memcpy(&sin->sin_addr, e->loc.addr, 4);
		ret->addrlen = sizeof(*sin);
	} else if (e->loc.family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ret->addr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(e->loc.port);
		sin6->sin6_scope_id = e->loc.scope;
		memcpy(&sin6->sin6_addr, e->loc.addr, 16);
		ret->addrlen = sizeof(*sin6);
	} else {
		ret->addr.ss_family = AF_UNSPEC;
	}
}

static unsigned bucket_index(const struct ovl_table *t, const struct ovl_id *id)
{
	return ovl_id_prefix_len(&t->self, id);
}

static int index_in(const struct ovl_entry *e, size_t n, const struct ovl_id *id)
{
	for (size_t i = 0; i < n; i++)
		if (ovl_id_eq(&e[i].id, id))
			return (int)i;
	return -1;
}

static void update_depth(struct ovl_table *t)
{
	while (t->depth > 0 && t->b[t->depth - 1].n == 0)
		t->depth--;
}

/* Inserts e into b keeping least-recently-seen order (the newest goes last). */
static void bucket_insert_sorted(struct bucket *b, const struct ovl_entry *e)
{
	size_t pos = b->n;

	while (pos > 0 && b->e[pos - 1].last_seen > e->last_seen)
		pos--;
	memmove(&b->e[pos + 1], &b->e[pos], (b->n - pos) * sizeof(*b->e));
	b->e[pos] = *e;
	b->n++;
}

static void bucket_del(struct bucket *b, size_t i)
{
	memmove(&b->e[i], &b->e[i + 1], (b->n - i - 1) * sizeof(*b->e));
	b->n--;
}

static void cache_del(struct bucket *b, size_t i)
{
	memmove(&b->r[i], &b->r[i + 1], (b->nr - i - 1) * sizeof(*b->r));
	b->nr--;
}

static void entry_fill(struct ovl_entry *e, const struct ovl_contact *c, uint64_t now)
{
	memset(e, 0, sizeof(*e));
	e->id = c->id;
	e->hit = c->hit;
	ovl_loc_from_contact(c, &e->loc);
	e->first_seen = now;
	e->last_seen = now;
}

static int refresh_in_bucket(struct bucket *b, size_t i, const struct ovl_contact *c, uint64_t now)
{
	struct ovl_entry e = b->e[i];

	ovl_loc_from_contact(c, &e.loc);
	e.last_seen = now;
	e.fails = 0;
	e.ping_txid = 0;
	bucket_del(b, i);
	bucket_insert_sorted(b, &e);
	return OVL_SEEN_REFRESHED;
}

static int put_in_cache(struct bucket *b, const struct ovl_contact *c, uint64_t now)
{
	struct ovl_entry e;
	int i;

	if (!b->r) {
		b->r = calloc(OVL_TABLE_REPL_MAX, sizeof(*b->r));
		if (!b->r)
			return -ENOMEM;
	}
	i = index_in(b->r, b->nr, &c->id);
	if (i >= 0) {
		e = b->r[i];
		cache_del(b, (size_t)i);
	} else {
		entry_fill(&e, c, now);
		if (b->nr == OVL_TABLE_REPL_MAX)
			cache_del(b, 0);
	}
	ovl_loc_from_contact(c, &e.loc);
	e.last_seen = now;
	e.fails = 0;
	b->r[b->nr++] = e;
	return OVL_SEEN_CACHED;
}

int ovl_table_seen(struct ovl_table *t, const struct ovl_contact *c, uint64_t now,
                   struct ovl_entry **ret_oldest)
{
	unsigned bi;
	struct bucket *b;
	struct ovl_entry e;
	int i, r;

	if (ovl_id_eq(&c->id, &t->self))
		return -EINVAL;
	bi = bucket_index(t, &c->id);
	b = &t->b[bi];
	i = index_in(b->e, b->n, &c->id);
	if (i >= 0)
		return refresh_in_bucket(b, (size_t)i, c, now);
	if (b->n == t->k) {
		r = put_in_cache(b, c, now);
		if (r >= 0 && ret_oldest)
			*ret_oldest = &b->e[0];
		return r;
	}
	if (!b->e) {
		b->e = calloc(t->k, sizeof(*b->e));
		if (!b->e)
			return -ENOMEM;
	}
	/* A contact waiting in the cache moves up with its history. */
	i = index_in(b->r, b->nr, &c->id);
	if (i >= 0) {
		e = b->r[i];
		cache_del(b, (size_t)i);
		ovl_loc_from_contact(c, &e.loc);
		e.last_seen = now;
		e.fails = 0;
	} else {
		entry_fill(&e, c, now);
	}
	bucket_insert_sorted(b, &e);
	t->size++;
	if (bi + 1 > t->depth)
		t->depth = bi + 1;
	return OVL_SEEN_ADDED;
}

struct ovl_entry *ovl_table_find(const struct ovl_table *t, const struct ovl_id *id)
{
	const struct bucket *b;
	int i;

	if (ovl_id_eq(id, &t->self))
		return NULL;
	b = &t->b[bucket_index(t, id)];
	i = index_in(b->e, b->n, id);
	return i >= 0 ? &b->e[i] : NULL;
}

bool ovl_table_cached(const struct ovl_table *t, const struct ovl_id *id)
{
	const struct bucket *b;

	if (ovl_id_eq(id, &t->self))
		return false;
	b = &t->b[bucket_index(t, id)];
	return index_in(b->r, b->nr, id) >= 0;
}

static void remove_at(struct ovl_table *t, struct bucket *b, size_t i)
{
	bucket_del(b, i);
	t->size--;
	if (b->nr > 0) {
		bucket_insert_sorted(b, &b->r[b->nr - 1]);
		b->nr--;
		t->size++;
	}
	update_depth(t);
}

bool ovl_table_fail(struct ovl_table *t, const struct ovl_id *id)
{
	struct bucket *b;
	int i;

	if (ovl_id_eq(id, &t->self))
		return false;
	b = &t->b[bucket_index(t, id)];
	i = index_in(b->e, b->n, id);
	if (i < 0) {
		i = index_in(b->r, b->nr, id);
		if (i >= 0)
			cache_del(b, (size_t)i);
		return false;
	}
	b->e[i].ping_txid = 0;
	if (++b->e[i].fails < OVL_TABLE_MAX_FAILS)
		return false;
	remove_at(t, b, (size_t)i);
	return true;
}

void ovl_table_remove(struct ovl_table *t, const struct ovl_id *id)
{
	struct bucket *b;
	int i;

	if (ovl_id_eq(id, &t->self))
		return;
	b = &t->b[bucket_index(t, id)];
	i = index_in(b->r, b->nr, id);
	if (i >= 0)
		cache_del(b, (size_t)i);
	i = index_in(b->e, b->n, id);
	if (i >= 0)
		remove_at(t, b, (size_t)i);
}

size_t ovl_table_size(const struct ovl_table *t)
{
	return t->size;
}

const struct ovl_id *ovl_table_self(const struct ovl_table *t)
{
	return &t->self;
}

/* Buckets in order of distance to target, nearest first: those where target
 * differs from self at bit i hold contacts closer than self (smaller i is
 * nearer); then the others, larger i nearer. Returns the bucket of step s,
 * or -1 when done; *closer tells which half it belongs to. */
struct walk {
	struct ovl_id d;
	unsigned depth;
	unsigned step;
};

static int walk_next(struct walk *w, bool *closer)
{
	while (w->step < 2 * w->depth) {
		unsigned s = w->step++;

		if (s < w->depth) {
			if (ovl_id_bit(&w->d, s)) {
				*closer = true;
				return (int)s;
			}
		} else {
			unsigned i = 2 * w->depth - 1 - s;

			if (!ovl_id_bit(&w->d, i)) {
				*closer = false;
				return (int)i;
			}
		}
	}
	return -1;
}

static void walk_init(struct walk *w, const struct ovl_table *t, const struct ovl_id *target)
{
	ovl_id_distance(&t->self, target, &w->d);
	w->depth = t->depth;
	w->step = 0;
}

/* Sorts the (few) candidates of one bucket by distance to target. */
static void sort_by_distance(const struct ovl_entry **v, size_t n, const struct ovl_id *target)
{
	for (size_t i = 1; i < n; i++) {
		const struct ovl_entry *x = v[i];
		size_t j = i;

		while (j > 0 && ovl_id_closer(target, &x->id, &v[j - 1]->id) < 0) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

size_t ovl_table_closest(const struct ovl_table *t, const struct ovl_id *target,
                         ovl_table_skip_fn skip, void *arg, const struct ovl_entry **out, size_t n)
{
	const struct ovl_entry *tmp[OVL_TABLE_K_MAX];
	struct walk w;
	size_t got = 0;
	bool closer;
	int bi;

	walk_init(&w, t, target);
	while (got < n && (bi = walk_next(&w, &closer)) >= 0) {
		const struct bucket *b = &t->b[bi];
		size_t m = 0;

		for (size_t i = 0; i < b->n; i++)
			if (!skip || !skip(arg, &b->e[i]))
				tmp[m++] = &b->e[i];
		sort_by_distance(tmp, m, target);
		for (size_t i = 0; i < m && got < n; i++)
			out[got++] = tmp[i];
	}
	return got;
}

size_t ovl_table_count_closer(const struct ovl_table *t, const struct ovl_id *target)
{
	struct ovl_id d;
	size_t n = 0;

	ovl_id_distance(&t->self, target, &d);
	for (unsigned i = 0; i < t->depth; i++)
		if (ovl_id_bit(&d, i))
			n += t->b[i].n;
	return n;
}

const struct ovl_entry *ovl_table_next_hop(const struct ovl_table *t, const struct ovl_id *target,
                                           bool closer_only, ovl_table_skip_fn skip, void *arg)
{
	const struct ovl_entry *suspect = NULL;
	struct walk w;
	bool closer;
	int bi;

	walk_init(&w, t, target);
	while ((bi = walk_next(&w, &closer)) >= 0) {
		const struct bucket *b = &t->b[bi];
		const struct ovl_entry *best = NULL;

		if (closer_only && !closer)
			break;
		for (size_t i = 0; i < b->n; i++) {
			const struct ovl_entry *e = &b->e[i];

			if (skip && skip(arg, e))
				continue;
			if (e->fails > 0) {
				if (!suspect || ovl_id_closer(target, &e->id, &suspect->id) < 0)
					suspect = e;
				continue;
			}
			if (!best || ovl_id_closer(target, &e->id, &best->id) < 0)
				best = e;
		}
		if (best)
			return best;
	}
	return suspect;
}

unsigned ovl_table_depth(const struct ovl_table *t)
{
	return t->depth;
}

struct ovl_entry *ovl_table_bucket(const struct ovl_table *t, unsigned i, size_t *ret_n)
{
	if (i >= OVL_TABLE_BUCKETS) {
		*ret_n = 0;
		return NULL;
	}
	*ret_n = t->b[i].n;
	return t->b[i].e;
}

bool ovl_table_bucket_full(const struct ovl_table *t, unsigned i)
{
	return i < OVL_TABLE_BUCKETS && t->b[i].n >= t->k;
}

uint64_t ovl_table_bucket_touched(const struct ovl_table *t, unsigned i)
{
	return i < OVL_TABLE_BUCKETS ? t->b[i].touched : 0;
}

void ovl_table_touch(struct ovl_table *t, const struct ovl_id *target, uint64_t now)
{
	unsigned bi = bucket_index(t, target);

	if (bi < OVL_TABLE_BUCKETS)
		t->b[bi].touched = now;
}

size_t ovl_table_all(const struct ovl_table *t, const struct ovl_entry **out, size_t cap)
{
	size_t n = 0;

	for (unsigned i = 0; i < t->depth; i++)
		for (size_t j = 0; j < t->b[i].n && n < cap; j++)
			out[n++] = &t->b[i].e[j];
	return n;
}
