/* SPDX-License-Identifier: MIT */
/* msg.h: the HIPv2 packet (RFC 7401 section 5.1): strict parsing into a
 * parameter index, building, checksum, and HIP_MAC/HIP_SIGNATURE coverage. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hit.h"
#include "crypto/hash.h"

struct identity;
struct hi_pub;

#define HIP_MAX_PARAMS 48

struct hip_param {
	uint16_t type;
	uint16_t len;       /* contents length, without T/L and padding */
	const uint8_t *val; /* contents */
	size_t offset;      /* of the TLV within the packet */
};

struct hip_msg {
	uint8_t type;
	uint16_t controls;
	uint16_t checksum;
	struct hit sender;
	struct hit receiver;
	const uint8_t *raw; /* the packet; must outlive the msg */
	size_t len;
	size_t nparams;
	struct hip_param params[HIP_MAX_PARAMS];
};

/* Validates the fixed header (next header 59, fixed bits, version 2, header
 * length equal to len), every TLV length and zero-padded alignment, and
 * ascending type order. Returns 0 or -EBADMSG (-E2BIG for too many params).
 * Does not check the checksum (zero over UDP) nor HMAC/signatures. */
int hip_msg_parse(const uint8_t *pkt, size_t len, struct hip_msg *ret);
/* The first parameter of that type, or NULL. */
const struct hip_param *hip_msg_find(const struct hip_msg *m, uint16_t type);
/* Index of the first parameter of that type, or -1. */
int hip_msg_index(const struct hip_msg *m, uint16_t type);

/* The Internet checksum over the pseudo-header and packet (section 5.1.1); src and
 * dst are 4 or 16 byte addresses. For raw-IP transport; over UDP it is zero. */
uint16_t hip_checksum(const uint8_t *src, const uint8_t *dst, size_t alen, const uint8_t *pkt,
                      size_t len);

/* A builder over a caller buffer. Errors are sticky: check hip_builder_finish. */
struct hip_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	uint16_t last_type;
	int err;
};

void hip_builder_init(struct hip_builder *b, uint8_t *buf, size_t cap, uint8_t type,
                      const struct hit *sender, const struct hit *receiver);
/* Appends a TLV of the given content length, zero-filled and padded, and returns
 * a pointer to its contents (or NULL with b->err set on overflow or when the type
 * is lower than the previous parameter's). */
uint8_t *hip_builder_param(struct hip_builder *b, uint16_t type, size_t len);
int hip_builder_param_copy(struct hip_builder *b, uint16_t type, const void *val, size_t len);
/* Appends HIP_MAC (or HIP_MAC_2 with the extra HOST_ID TLV bytes) computed over
 * the packet so far, per section 6.4.1. */
int hip_builder_mac(struct hip_builder *b, uint16_t type, enum hash_alg alg, const uint8_t *key,
                    size_t keylen, const uint8_t *extra_tlv, size_t extra_len);
/* Appends HIP_SIGNATURE, or HIP_SIGNATURE_2 (receiver HIT and PUZZLE #I and
 * Opaque zeroed while signing, section 5.2.15). */
int hip_builder_sign(struct hip_builder *b, uint16_t type, const struct identity *id);
/* Sets the header length and a zero checksum; returns the length or b->err. */
int hip_builder_finish(struct hip_builder *b);

/* Verifies the HIP_MAC / HIP_MAC_2 parameter of type `type` in m.
 * 0, -ENOENT if absent, -EBADMSG if wrong. */
int hip_msg_verify_mac(const struct hip_msg *m, uint16_t type, enum hash_alg alg,
                       const uint8_t *key, size_t keylen, const uint8_t *extra_tlv,
                       size_t extra_len);
/* Verifies the HIP_SIGNATURE / HIP_SIGNATURE_2 parameter of type `type`. */
int hip_msg_verify_sig(const struct hip_msg *m, uint16_t type, const struct hi_pub *pub);
