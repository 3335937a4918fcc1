/* SPDX-License-Identifier: MIT */
/* id.h: arithmetic on overlay IDs: XOR distance, shared prefixes, bucket ranges, text form.
 *
 * The derivations themselves (ovl_id_from_hit, ovl_key_for_name,
 * ovl_key_for_relay) are declared in node.h and record.h and live in id.c.
 * Bits are numbered from the most significant bit of b[0] (bit 0) to the
 * least significant bit of b[15] (bit 127), as Kademlia reads them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "overlay/node.h"

#define OVL_ID_BITS   (OVL_ID_LEN * 8)
#define OVL_ID_STRLEN (OVL_ID_LEN * 2 + 1) /* lowercase hex and the NUL */

/* Numeric order of IDs read as unsigned 128-bit big-endian integers. */
int ovl_id_cmp(const struct ovl_id *a, const struct ovl_id *b);
bool ovl_id_eq(const struct ovl_id *a, const struct ovl_id *b);
bool ovl_id_is_zero(const struct ovl_id *id);

/* The XOR distance a ^ b. */
void ovl_id_distance(const struct ovl_id *a, const struct ovl_id *b, struct ovl_id *ret);
/* Compares the distances of a and b to target: < 0 when a is closer, 0 when
 * a == b, > 0 when b is closer (XOR makes distinct IDs never tie). */
int ovl_id_closer(const struct ovl_id *target, const struct ovl_id *a, const struct ovl_id *b);
/* Number of leading bits a and b share, 0..OVL_ID_BITS (OVL_ID_BITS when equal).
 * A contact with prefix length i from our ID belongs to bucket i. */
unsigned ovl_id_prefix_len(const struct ovl_id *a, const struct ovl_id *b);
/* Bit i (0 = most significant) of id; i < OVL_ID_BITS. */
bool ovl_id_bit(const struct ovl_id *id, unsigned i);

/* A uniformly random ID in bucket prefix_len of self: it shares exactly
 * prefix_len leading bits with self (bit prefix_len differs, the rest is
 * random). Used to refresh a bucket. -EINVAL if prefix_len >= OVL_ID_BITS,
 * -EIO if the random source fails. */
int ovl_id_random_in_bucket(const struct ovl_id *self, unsigned prefix_len, struct ovl_id *ret);
/* A uniformly random ID; 0 or -EIO. */
int ovl_id_random(struct ovl_id *ret);

/* 32 lowercase hex digits. Returns buf. */
const char *ovl_id_format(const struct ovl_id *id, char buf[OVL_ID_STRLEN]);
/* Exactly 32 hex digits (either case); 0 or -EINVAL. */
int ovl_id_parse(const char *s, struct ovl_id *ret);

/* A 64-bit hash of id mixed with seed, for hash tables. Keys are SHA-256
 * outputs, but a peer can grind names to collide in a table whose layout it
 * can predict; a random per-table seed takes that prediction away. */
uint64_t ovl_id_hash(const struct ovl_id *id, uint64_t seed);

/* Name rules (docs/overlay.md): a name record's name is a lowercase ASCII
 * fqdn: 1..OVL_NAME_MAX characters, labels of 1..63 characters from
 * [a-z0-9-] not starting or ending with '-', separated by single dots, no
 * trailing dot. Uppercase is refused, not folded: callers lowercase user
 * input before lookup. */
bool ovl_name_valid(const char *fqdn);
/* A relay branch: "relay:" followed by 0..OVL_RELAY_BRANCH_MAX of [a-z0-9]. */
#define OVL_RELAY_PREFIX     "relay:"
#define OVL_RELAY_BRANCH_MAX 16
bool ovl_relay_branch_valid(const char *branch);
