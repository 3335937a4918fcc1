/* SPDX-License-Identifier: MIT */
/* hints.h: address hints in name records, and the ones we learnt.
 *
 * A name record may carry the owner's host addresses (docs/overlay.md
 * "Records"): a resolver then sends the first I1 straight there while the
 * same I1 also goes through the overlay (hip_assoc_also_direct), so two
 * peers that can reach each other skip the routed exchange and ICE. The
 * addresses are hints, never trusted: the base exchange authenticates
 * whoever answers, and a peer behind a NAT is reached through the overlay
 * anyway.
 *
 * Payload: version (1) | count (1) | count x (port (2) | address (16,
 * IPv4-mapped for IPv4)). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hit.h"
#include "hip/bex.h"

#define HINTS_VERSION  1
#define HINTS_MAX      8
#define HINTS_ENTRY    18
#define HINTS_BUF      (2 + HINTS_MAX * HINTS_ENTRY)
#define HINTS_CACHE    256 /* peers whose hints we keep */
#define HINTS_PER_PEER 4

/* Our host locators (type-2 entries with address and port) as a payload;
 * returns its length (at most HINTS_BUF). */
size_t hints_encode(const struct hip_locator_entry *e, size_t n, uint8_t out[HINTS_BUF]);
/* The UDP locators in a payload, up to cap; -EBADMSG when malformed or of
 * another version. */
int hints_decode(const uint8_t *p, size_t len, struct hip_locator *out, size_t cap, size_t *ret_n);

struct hints_cache;
int hints_cache_new(struct hints_cache **ret);
struct hints_cache *hints_cache_free(struct hints_cache *c);
/* Keeps (replaces) the hints of hit from a verified record's payload; a
 * payload without any forgets them. The least recently used peer goes when
 * the cache is full. */
void hints_cache_put(struct hints_cache *c, const struct hit *hit, const uint8_t *payload,
                     size_t len, uint64_t now);
/* The first hint for hit, if any. */
bool hints_cache_get(struct hints_cache *c, const struct hit *hit, struct hip_locator *ret,
                     uint64_t now);
