/* SPDX-License-Identifier: MIT */
/* idmap.h: the HIT <-> LSI <-> name table of the daemon.
 *
 * An LSI is a fixed function of the HIT inside the LSI prefix (see
 * idmap_lsi_for_hit), so a peer has the same LSI on every machine and IPv4
 * referrals (SIP Contact, SDP c=, FTP PORT) mean the same everywhere. That
 * value is the entry's canonical LSI. When another HIT already holds it
 * locally, the later HIT gets the next free value as its local LSI, which is
 * what this host's stack and applications see; the IPv4 data path translates
 * between the two (docs/datapath.md, "Identifiers (LSI)").
 *
 * Entries are never removed and an LSI is never given to another HIT while the
 * table lives: a stale LSI in an application's hands can only ever reach the
 * peer it first meant. The table is therefore bounded (-ENOSPC when full).
 * The own HIT is entry 0 and always holds its canonical LSI.
 *
 * A data structure only: no I/O, no logging. Lookups never allocate.
 * Addresses are IPv4 in host byte order, as in the config. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dnsname.h"
#include "common/hit.h"

#define IDMAP_PLEN_MIN    8
#define IDMAP_PLEN_MAX    30 /* a /31 or /32 has no host part left to give */
#define IDMAP_DEFAULT_MAX 4096
#define IDMAP_ENTRIES_MAX 65536

/* What idmap_add did, as bits of its positive return value (0: the HIT was
 * known and nothing changed). */
#define IDMAP_ADDED      0x1 /* a new entry */
#define IDMAP_COLLISION  0x2 /* new, and its canonical LSI was taken: lsi != canon */
#define IDMAP_NAMED      0x4 /* the entry's name was learnt or changed */
#define IDMAP_NAME_MOVED 0x8 /* ... and another HIT's entry lost that name */

struct idmap_config {
	uint32_t prefix; /* host bits clear */
	uint8_t prefix_len;
	uint32_t resolver;  /* never an LSI when inside the prefix (dns.address) */
	size_t max_entries; /* own entry included; 0: IDMAP_DEFAULT_MAX */
};

struct idmap_entry {
	struct hit hit;
	uint32_t lsi;                /* local: what this host's stack uses */
	uint32_t canon;              /* what every peer computes for hit */
	char name[DNS_NAME_MAX + 1]; /* lower-case FQDN without the dot; "" while unknown */
	bool self;
};

struct idmap;

/* The deterministic LSI of hit: the prefix with the low (32 - prefix_len)
 * bits of the HIT's last 4 bytes (big-endian) as host part; a host part of all
 * zeros or all ones, or the resolver address, moves on to the next value
 * (host part + 1, wrapping inside the prefix). cfg must be valid (see
 * idmap_new). */
uint32_t idmap_lsi_for_hit(const struct idmap_config *cfg, const struct hit *hit);

/* A table holding the own HIT (own_name may be NULL or "" while unknown).
 * -EINVAL: prefix length outside IDMAP_PLEN_MIN..IDMAP_PLEN_MAX, host bits
 * set, max_entries above IDMAP_ENTRIES_MAX, or an invalid name. -ENOMEM. */
int idmap_new(const struct idmap_config *cfg, const struct hit *own, const char *own_name,
              struct idmap **ret);
struct idmap *idmap_free(struct idmap *m);

/* Finds or creates the entry for hit and, when name is not NULL, binds the
 * name (any case, one trailing dot allowed) to it; a name bound to another
 * HIT moves here (the caller has verified the owner-signed record). Returns
 * the IDMAP_* bits of what changed, with *ret (may be NULL) set to the entry.
 * -EINVAL: an invalid name; -EEXIST: the name is the own entry's, or the HIT
 * is ours and the name is another; -ENOSPC: the table is full or no LSI is
 * free in the prefix. */
int idmap_add(struct idmap *m, const struct hit *hit, const char *name,
              const struct idmap_entry **ret);

const struct idmap_entry *idmap_by_hit(const struct idmap *m, const struct hit *hit);
/* By local LSI. */
const struct idmap_entry *idmap_by_lsi(const struct idmap *m, uint32_t lsi);
/* Case-insensitive, one trailing dot allowed; NULL for invalid names too. */
const struct idmap_entry *idmap_by_name(const struct idmap *m, const char *name);
/* The own entry. */
const struct idmap_entry *idmap_self(const struct idmap *m);
/* True when lsi lies inside the LSI prefix. */
bool idmap_in_prefix(const struct idmap *m, uint32_t lsi);
/* True when lsi lies inside the prefix and is a value an LSI may take: not
 * the network or broadcast address (host part all zeros or all ones) nor the
 * resolver. A packet to a usable LSI nobody holds gets "host unreachable";
 * to the others, nothing (they are broadcast or belong to the DNS path). */
bool idmap_lsi_usable(const struct idmap *m, uint32_t lsi);

/* Iteration in creation order; entry 0 is the own one. */
size_t idmap_count(const struct idmap *m);
const struct idmap_entry *idmap_get(const struct idmap *m, size_t i);
