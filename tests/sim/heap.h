/* SPDX-License-Identifier: MIT */
/* heap.h: the simulator's event queue: a binary min-heap of timed events. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One event. Ties on `at` pop in insertion order (seq), so a run is the same
 * on every machine and libc. */
struct event {
	uint64_t at;  /* virtual clock, ms */
	uint64_t seq; /* insertion counter */
	void *ptr;    /* kind-specific payload (a packet), or NULL */
	uint32_t kind;
	uint32_t node;
};

struct heap {
	struct event *ev;
	size_t len, cap;
	uint64_t next_seq;
	size_t peak; /* largest len seen */
};

void heap_init(struct heap *h);
void heap_release(struct heap *h);
/* 0, or -ENOMEM (the heap is unchanged). */
int heap_push(struct heap *h, uint64_t at, uint32_t kind, uint32_t node, void *ptr);
/* The earliest event, or NULL when empty. Valid until the next push or pop. */
const struct event *heap_peek(const struct heap *h);
/* Removes the earliest event into *ret; false when empty. */
bool heap_pop(struct heap *h, struct event *ret);
