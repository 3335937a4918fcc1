/* SPDX-License-Identifier: MIT */
/* dh.h: ephemeral Diffie-Hellman for HIP (group 7, ECDH NIST P-256).
 * Public values on the wire are X||Y (RFC 5903 section 7), no 0x04 prefix;
 * the shared secret is the X coordinate. See docs/identity.md. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define DH_GROUP_NIST_P256 7
#define DH_P256_PUB_LEN    64
#define DH_MAX_PUB_LEN     64
#define DH_MAX_SECRET_LEN  32

struct dh;

/* -EPROTONOSUPPORT for groups other than 7. */
int dh_generate(uint8_t group, struct dh **ret);
struct dh *dh_free(struct dh *dh);
uint8_t dh_group(const struct dh *dh);
/* Writes the public value; returns its length or a negative error. */
int dh_public(const struct dh *dh, uint8_t *out, size_t cap);
/* Computes the shared secret; returns its length, -EBADMSG for a bad point. */
int dh_shared(const struct dh *dh, const uint8_t *peer, size_t len, uint8_t *out, size_t cap);
