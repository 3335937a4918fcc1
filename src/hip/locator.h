/* SPDX-License-Identifier: MIT */
/* locator.h: LOCATOR_SET (RFC 8046 section 4, with RFC 5770's transport
 * locators) and NAT_TRAVERSAL_MODE (RFC 5770 section 5.4).
 *
 * The base exchange carries our ICE candidates as type-2 locators in I2 and
 * R2; mobility (UPDATE) will carry type 0/1 and type 2 locators alike. The
 * decoders are strict about lengths and skip nothing silently: an entry of a
 * locator type we do not know ends the decode with -EPROTONOSUPPORT so the
 * caller can answer LOCATOR_TYPE_UNSUPPORTED. Pointers never escape: entries
 * are copied out. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hip_builder;
struct hip_param;

#define HIP_LOCATORS_MAX  16 /* entries we send or accept in one LOCATOR_SET */
#define HIP_NAT_MODES_MAX 8

enum hip_traffic_type {
	HIP_TRAFFIC_BOTH = 0,
	HIP_TRAFFIC_SIGNALING = 1,
	HIP_TRAFFIC_DATA = 2,
};

enum hip_locator_type {
	HIP_LOCATOR_IPV6 = 0,      /* 128-bit address (IPv4-mapped for IPv4) */
	HIP_LOCATOR_ESP_IPV6 = 1,  /* SPI + address */
	HIP_LOCATOR_TRANSPORT = 2, /* RFC 5770: port, protocol, kind, priority, SPI, address */
};

/* RFC 5770's Kind, in libnice's NiceCandidateType order. */
enum hip_candidate_kind {
	HIP_KIND_HOST = 0,
	HIP_KIND_SRFLX = 1,
	HIP_KIND_PRFLX = 2,
	HIP_KIND_RELAY = 3,
};

struct hip_locator_entry {
	uint8_t traffic; /* enum hip_traffic_type */
	uint8_t type;    /* enum hip_locator_type */
	bool preferred;
	uint32_t lifetime; /* seconds, never 0 */
	uint8_t addr[16];  /* IPv6, or ::ffff:a.b.c.d */
	uint32_t spi;      /* types 1 and 2 */
	uint16_t port;     /* type 2 */
	uint8_t protocol;  /* type 2: 17 (UDP) */
	uint8_t kind;      /* type 2: enum hip_candidate_kind */
	uint32_t priority; /* type 2: the ICE priority */
};

/* NAT traversal modes (RFC 5770 section 5.4, RFC 9028). */
enum hip_nat_mode {
	HIP_NAT_UDP = 1,      /* UDP-ENCAPSULATION */
	HIP_NAT_ICE_STUN = 2, /* ICE-STUN-UDP: what libnice speaks */
	HIP_NAT_ICE_HIP = 3,  /* ICE-HIP-UDP (RFC 9028): not offered */
};

int hip_locator_set_encode(struct hip_builder *b, const struct hip_locator_entry *e, size_t n);
/* Decodes at most cap entries into out (*ret_n); more than cap entries is
 * -E2BIG, a bad length or a zero lifetime -EBADMSG, an unknown locator type
 * -EPROTONOSUPPORT. */
int hip_locator_set_decode(const struct hip_param *p, struct hip_locator_entry *out, size_t cap,
                           size_t *ret_n);

/* NAT_TRAVERSAL_MODE: Reserved(2) | Mode ID(2)... in preference order. */
int hip_nat_mode_encode(struct hip_builder *b, const uint16_t *modes, size_t n);
int hip_nat_mode_decode(const struct hip_param *p, uint16_t *out, size_t cap, size_t *ret_n);
