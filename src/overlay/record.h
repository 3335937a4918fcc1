/* SPDX-License-Identifier: MIT */
/* record.h: overlay records on the wire: owner-signed, self-describing, strict.
 *
 * Every record carries the owner's Host Identity and a signature by it over
 * all preceding bytes; its key is derived from its name, so a record can
 * only be stored under the key its name hashes to. Times are absolute wall
 * clock milliseconds (Unix epoch), which assumes peers' clocks agree within
 * OVL_CLOCK_SKEW_MS. Layout: docs/overlay.md. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "overlay/node.h"

#define OVL_RECORD_MAX      1200 /* encoded, including the signature */
#define OVL_NAME_MAX        253
#define OVL_PAYLOAD_MAX     512
#define OVL_CLOCK_SKEW_MS   (5 * 60 * 1000)
#define OVL_MAX_LIFETIME_MS (24 * 3600 * 1000ull)

/* Key of a relay branch: "relay:" + branch digits ("", "a", "a1", ...). */
void ovl_key_for_relay(const char *branch, struct ovl_id *ret);

/* Builds and signs a record (r->key is derived from r->kind and r->name, r->owner
 * is ignored: the verifier derives it from the HI). Returns the length. */
int ovl_record_build(const struct ovl_record *r, const struct ovl_ops *ops, uint8_t *out,
                     size_t cap);
/* Parses without verifying (pointers into buf). -EBADMSG if malformed. */
int ovl_record_parse(const uint8_t *buf, size_t len, struct ovl_record *ret);
/* Parses and checks everything a reader or storing node must: the key matches
 * the name, the record is not expired nor expires too far ahead, and the
 * signature is valid for the embedded HI (ret->owner is then its HIT).
 * -EBADMSG malformed, -EKEYREJECTED bad signature or key, -ETIME expired. */
int ovl_record_verify(const uint8_t *buf, size_t len, const struct ovl_ops *ops, uint64_t now,
                      struct ovl_record *ret);
