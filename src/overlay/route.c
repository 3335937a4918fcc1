/* SPDX-License-Identifier: MIT */
/* route.c: pending transactions by id (chained hash) and by deadline (heap). */
#include "overlay/route.h"

#include "common/bytes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HASH_MIN 16

struct ovl_route {
	uint64_t seed;
	struct ovl_txn **slots;
	size_t nslots; /* power of two */
	size_t count;
	struct ovl_txn **heap;
	size_t heap_cap;
};

/* Keyed with the seed: a peer cannot line its txids up in one chain. */
static uint64_t txid_hash(const struct ovl_route *r, uint64_t txid)
{
	return mix64(txid ^ r->seed);
}

static size_t slot_of(const struct ovl_route *r, uint64_t txid)
{
	return (size_t)(txid_hash(r, txid) & (r->nslots - 1));
}

int ovl_route_new(uint64_t seed, struct ovl_route **ret)
{
	struct ovl_route *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->slots = calloc(HASH_MIN, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return -ENOMEM;
	}
	r->nslots = HASH_MIN;
	r->seed = seed;
	*ret = r;
	return 0;
}

struct ovl_route *ovl_route_free(struct ovl_route *r, void (*txn_free)(struct ovl_txn *))
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->count; i++)
		txn_free(r->heap[i]);
	free(r->heap);
	free(r->slots);
	free(r);
	return NULL;
}

static int grow_hash(struct ovl_route *r)
{
	size_t n = r->nslots * 2;
	struct ovl_txn **slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < r->nslots; i++) {
		struct ovl_txn *t = r->slots[i], *next;

		for (; t; t = next) {
			size_t s = (size_t)(txid_hash(r, t->txid) & (n - 1));

			next = t->hnext;
			t->hnext = slots[s];
			slots[s] = t;
		}
	}
	free(r->slots);
	r->slots = slots;
	r->nslots = n;
	return 0;
}

static void heap_swap(struct ovl_route *r, size_t a, size_t b)
{
	struct ovl_txn *t = r->heap[a];

	r->heap[a] = r->heap[b];
	r->heap[b] = t;
	r->heap[a]->heap_idx = a;
	r->heap[b]->heap_idx = b;
}

static void heap_up(struct ovl_route *r, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (r->heap[p]->wake <= r->heap[i]->wake)
			break;
		heap_swap(r, i, p);
		i = p;
	}
}

static void heap_down(struct ovl_route *r, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < r->count && r->heap[l]->wake < r->heap[m]->wake)
			m = l;
		if (l + 1 < r->count && r->heap[l + 1]->wake < r->heap[m]->wake)
			m = l + 1;
		if (m == i)
			return;
		heap_swap(r, i, m);
		i = m;
	}
}

int ovl_route_insert(struct ovl_route *r, struct ovl_txn *t)
{
	size_t s;

	if (ovl_route_find(r, t->txid))
		return -EEXIST;
	if (r->count == r->heap_cap) {
		size_t cap = r->heap_cap ? r->heap_cap * 2 : 16;
		struct ovl_txn **h = realloc(r->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		r->heap = h;
		r->heap_cap = cap;
	}
	if (r->count >= r->nslots && grow_hash(r) < 0)
		return -ENOMEM;
	s = slot_of(r, t->txid);
	t->hnext = r->slots[s];
	r->slots[s] = t;
	t->heap_idx = r->count;
	r->heap[r->count++] = t;
	heap_up(r, t->heap_idx);
	return 0;
}

struct ovl_txn *ovl_route_find(const struct ovl_route *r, uint64_t txid)
{
	struct ovl_txn *t = r->slots[slot_of(r, txid)];

	while (t && t->txid != txid)
		t = t->hnext;
	return t;
}

static void unlink_hash(struct ovl_route *r, struct ovl_txn *t)
{
	struct ovl_txn **pp = &r->slots[slot_of(r, t->txid)];

	while (*pp && *pp != t)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = t->hnext;
	t->hnext = NULL;
}

void ovl_route_remove(struct ovl_route *r, struct ovl_txn *t)
{
	size_t i = t->heap_idx;

	unlink_hash(r, t);
	if (i >= r->count || r->heap[i] != t)
		return;
	r->count--;
	if (i != r->count) {
		r->heap[i] = r->heap[r->count];
		r->heap[i]->heap_idx = i;
		heap_down(r, i);
		heap_up(r, i);
	}
}

int ovl_route_rekey(struct ovl_route *r, struct ovl_txn *t, uint64_t txid)
{
	size_t s;

	if (ovl_route_find(r, txid))
		return -EEXIST;
	unlink_hash(r, t);
	t->txid = txid;
	s = slot_of(r, txid);
	t->hnext = r->slots[s];
	r->slots[s] = t;
	return 0;
}

void ovl_route_schedule(struct ovl_route *r, struct ovl_txn *t, uint64_t wake)
{
	t->wake = wake;
	if (t->heap_idx < r->count && r->heap[t->heap_idx] == t) {
		heap_down(r, t->heap_idx);
		heap_up(r, t->heap_idx);
	}
}

struct ovl_txn *ovl_route_due(const struct ovl_route *r, uint64_t now)
{
	if (r->count == 0 || r->heap[0]->wake > now)
		return NULL;
	return r->heap[0];
}

uint64_t ovl_route_next_wake(const struct ovl_route *r)
{
	return r->count ? r->heap[0]->wake : UINT64_MAX;
}

size_t ovl_route_count(const struct ovl_route *r)
{
	return r->count;
}

struct ovl_txn *ovl_route_at(const struct ovl_route *r, size_t i)
{
	return i < r->count ? r->heap[i] : NULL;
}

uint64_t ovl_txn_wake(const struct ovl_txn *t)
{
	uint64_t w = t->deadline;

	for (size_t i = 0; i < t->npaths; i++)
		if (t->paths[i].live && t->paths[i].ack_deadline && t->paths[i].ack_deadline < w)
			w = t->paths[i].ack_deadline;
	return w;
}

bool ovl_txn_tried(const struct ovl_txn *t, const struct ovl_id *id)
{
	for (size_t i = 0; i < t->ntried; i++)
		if (ovl_id_eq(&t->tried[i], id))
			return true;
	return false;
}

void ovl_txn_add_tried(struct ovl_txn *t, const struct ovl_id *id)
{
	if (t->ntried < OVL_TRIED_MAX && !ovl_txn_tried(t, id))
		t->tried[t->ntried++] = *id;
}

struct ovl_path *ovl_txn_path(struct ovl_txn *t, const struct ovl_id *id)
{
	for (size_t i = 0; i < t->npaths; i++)
		if (t->paths[i].live && ovl_id_eq(&t->paths[i].next, id))
			return &t->paths[i];
	return NULL;
}
