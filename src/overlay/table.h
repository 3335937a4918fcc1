/* SPDX-License-Identifier: MIT */
/* table.h: the Kademlia routing table: one k-bucket per shared-prefix length
 * with our ID, least-recently-seen order, and a small replacement cache per
 * bucket, so long-lived contacts are kept and newcomers wait their turn.
 *
 * Entry pointers stay valid until the next call that modifies the table. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "overlay/id.h"
#include "overlay/node.h"

#define OVL_TABLE_BUCKETS   OVL_ID_BITS
#define OVL_TABLE_REPL_MAX  4 /* replacement cache per full bucket */
#define OVL_TABLE_MAX_FAILS 2 /* failed exchanges in a row before removal */
#define OVL_TABLE_K_MAX     64

/* A locator in compact form (the engine keeps hundreds of contacts per node
 * and the simulator thousands of nodes per process). */
struct ovl_loc {
	uint16_t family; /* AF_INET, AF_INET6 or AF_UNSPEC (no locator) */
	uint16_t port;   /* host order */
	uint32_t scope;  /* IPv6 scope id */
	uint8_t addr[16];
};

struct ovl_entry {
	struct ovl_id id;
	struct hit hit;
	struct ovl_loc loc;
	uint64_t first_seen;
	uint64_t last_seen;
	uint64_t ping_txid; /* nonzero while a liveness ping is outstanding */
	uint8_t fails;      /* failed exchanges since it was last heard from */
};

enum ovl_table_seen {
	OVL_SEEN_REFRESHED = 0, /* already in its bucket: now most recently seen */
	OVL_SEEN_ADDED = 1,     /* new in its bucket */
	OVL_SEEN_CACHED = 2,    /* its bucket is full: kept in the replacement cache */
};

struct ovl_table;

/* k: bucket size, 1..OVL_TABLE_K_MAX. */
int ovl_table_new(const struct ovl_id *self, unsigned k, struct ovl_table **ret);
struct ovl_table *ovl_table_free(struct ovl_table *t);

/* The contact was heard from (or is vouched for by the operator): refresh it,
 * add it, or put it in the replacement cache. With OVL_SEEN_CACHED,
 * *ret_oldest (if ret_oldest is not NULL) is the bucket's least recently
 * seen entry, which the caller should ping. Returns the enum value,
 * -EINVAL for our own ID, -ENOMEM. */
int ovl_table_seen(struct ovl_table *t, const struct ovl_contact *c, uint64_t now,
                   struct ovl_entry **ret_oldest);
/* The bucket entry for id, or NULL (replacement entries are not returned). */
struct ovl_entry *ovl_table_find(const struct ovl_table *t, const struct ovl_id *id);
bool ovl_table_cached(const struct ovl_table *t, const struct ovl_id *id);
/* A failed exchange with id. After OVL_TABLE_MAX_FAILS in a row the entry
 * is removed and the newest replacement takes its place. True if removed. */
bool ovl_table_fail(struct ovl_table *t, const struct ovl_id *id);
/* Removes id from its bucket (promoting a replacement) and from the cache. */
void ovl_table_remove(struct ovl_table *t, const struct ovl_id *id);
size_t ovl_table_size(const struct ovl_table *t);
const struct ovl_id *ovl_table_self(const struct ovl_table *t);

typedef bool (*ovl_table_skip_fn)(void *arg, const struct ovl_entry *e);

/* Up to n contacts closest to target (self excluded), closest first,
 * leaving out those skip rejects (skip may be NULL). O(buckets + results). */
size_t ovl_table_closest(const struct ovl_table *t, const struct ovl_id *target,
                         ovl_table_skip_fn skip, void *arg, const struct ovl_entry **out, size_t n);
/* How many contacts are closer to target than we are. O(buckets). */
size_t ovl_table_count_closer(const struct ovl_table *t, const struct ovl_id *target);
/* The next hop toward target: the closest contact not rejected by skip that
 * has not failed lately, else the closest suspect one. With closer_only,
 * only contacts closer to target than we are qualify (NULL then means we
 * are responsible). */
const struct ovl_entry *ovl_table_next_hop(const struct ovl_table *t, const struct ovl_id *target,
                                           bool closer_only, ovl_table_skip_fn skip, void *arg);

/* Buckets 0..ovl_table_depth()-1 may hold entries; deeper ones are empty. */
unsigned ovl_table_depth(const struct ovl_table *t);
/* Bucket i's entries, least recently seen first. */
struct ovl_entry *ovl_table_bucket(const struct ovl_table *t, unsigned i, size_t *ret_n);
bool ovl_table_bucket_full(const struct ovl_table *t, unsigned i);
/* Last time a lookup for an ID in bucket i was started (bucket refresh). */
uint64_t ovl_table_bucket_touched(const struct ovl_table *t, unsigned i);
/* A lookup for target starts now: its bucket counts as refreshed. */
void ovl_table_touch(struct ovl_table *t, const struct ovl_id *target, uint64_t now);
/* Every entry (bucket order), at most cap. */
size_t ovl_table_all(const struct ovl_table *t, const struct ovl_entry **out, size_t cap);

void ovl_loc_from_contact(const struct ovl_contact *c, struct ovl_loc *ret);
void ovl_entry_contact(const struct ovl_entry *e, struct ovl_contact *ret);
