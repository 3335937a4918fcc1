/* SPDX-License-Identifier: MIT */
/* store.h: the records this node holds for the overlay, with the P2PNS rules:
 * first come first served per name, monotonic sequence numbers, expiry, and
 * per-owner quotas. Holds encoded records verified by the caller. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "overlay/node.h"

struct ovl_store;

int ovl_store_new(const struct ovl_config *cfg, struct ovl_store **ret);
struct ovl_store *ovl_store_free(struct ovl_store *s);

/* Stores a record already checked by ovl_record_verify (rec describes buf).
 * Name records: one per key; a live record owned by another HIT wins (-EEXIST),
 * a lower or equal sequence from the same owner is refused (-ESTALE; equal
 * bytes are accepted as a refresh and return 0). Relay records: one per owner
 * per key, at most cfg->relay_branch_limit per key (-ENOSPC when full).
 * Quotas per owner HIT and in total: -EDQUOT. Returns 0 or 1 (1 = new/changed). */
int ovl_store_put(struct ovl_store *s, const uint8_t *buf, size_t len, const struct ovl_record *rec,
                  uint64_t now);
/* The i-th live record under key (encoded bytes), or NULL past the last. */
const uint8_t *ovl_store_get(const struct ovl_store *s, const struct ovl_id *key, size_t i,
                             size_t *ret_len, uint64_t now);
/* Drops expired records; returns how many. */
size_t ovl_store_expire(struct ovl_store *s, uint64_t now);
/* Visits every live record (for replication and handover). fn returns false to stop. */
void ovl_store_foreach(const struct ovl_store *s, uint64_t now,
                       bool (*fn)(void *arg, const struct ovl_id *key, const uint8_t *buf,
                                  size_t len),
                       void *arg);
/* Removes one record (after handing it over). */
void ovl_store_remove(struct ovl_store *s, const struct ovl_id *key, const struct hit *owner);
size_t ovl_store_count(const struct ovl_store *s);
size_t ovl_store_bytes(const struct ovl_store *s);
