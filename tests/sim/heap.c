/* SPDX-License-Identifier: MIT */
/* heap.c: a binary min-heap ordered by (time, insertion order). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "heap.h"

void heap_init(struct heap *h)
{
	*h = (struct heap){0};
}

void heap_release(struct heap *h)
{
	free(h->ev);
	*h = (struct heap){0};
}

static bool before(const struct event *a, const struct event *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static int grow(struct heap *h)
{
	size_t cap = h->cap ? h->cap * 2 : 1024;
	struct event *ev = realloc(h->ev, cap * sizeof(*ev));

	if (!ev)
		return -ENOMEM;
	h->ev = ev;
	h->cap = cap;
	return 0;
}

int heap_push(struct heap *h, uint64_t at, uint32_t kind, uint32_t node, void *ptr)
{
	struct event e = {.at = at, .seq = h->next_seq, .ptr = ptr, .kind = kind, .node = node};
	size_t i;

	if (h->len == h->cap) {
		int r = grow(h);

		if (r < 0)
			return r;
	}
	h->next_seq++;
	/* Sift up with a hole instead of swaps. */
	i = h->len++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!before(&e, &h->ev[parent]))
			break;
		h->ev[i] = h->ev[parent];
		i = parent;
	}
	h->ev[i] = e;
	if (h->len > h->peak)
		h->peak = h->len;
	return 0;
}

const struct event *heap_peek(const struct heap *h)
{
	return h->len ? &h->ev[0] : NULL;
}

bool heap_pop(struct heap *h, struct event *ret)
{
	struct event last;
	size_t i = 0;

	if (h->len == 0)
		return false;
	*ret = h->ev[0];
	last = h->ev[--h->len];
	if (h->len == 0)
		return true;
	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= h->len)
			break;
		if (child + 1 < h->len && before(&h->ev[child + 1], &h->ev[child]))
			child++;
		if (!before(&h->ev[child], &last))
			break;
		h->ev[i] = h->ev[child];
		i = child;
	}
	h->ev[i] = last;
	return true;
}
