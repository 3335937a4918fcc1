/* SPDX-License-Identifier: MIT */
/* beet.h: BEET mode for HIT (IPv6) traffic: strips and rebuilds the inner IPv6 header.
 *
 * In BEET mode (RFC 7402, draft-nikander-esp-beet-mode) the inner IP header is
 * not sent: the sender keeps only the next header and the payload (extension
 * headers included, they travel as payload), and the receiver writes a fresh
 * header from the SA, with the peer's HIT as source and its own HIT as
 * destination.
 *
 * Transport checksums (TCP, UDP, ICMPv6) survive this unchanged: their
 * pseudo-header covers the source and destination addresses, the upper-layer
 * length and the next header, and the rebuilt header carries the same HITs the
 * sender's stack used (HITs are the same on both ends, unlike LSIs), the same
 * payload and the same next header. Hop limit, traffic class and flow label,
 * which are reset, are not part of the pseudo-header.
 *
 * I/O-free: the caller owns every buffer. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/hit.h"

#define BEET_IPV6_HDR_LEN   40
#define BEET_IPV6_HOP_LIMIT 64

/* Parses an IPv6 packet read from the TUN device. Returns the payload length
 * (0-65535, from the header's Payload Length) and sets the addresses, the next
 * header and *ret_payload_off (always BEET_IPV6_HDR_LEN). Bytes beyond the
 * stated payload length are not part of the packet and are ignored.
 * -EBADMSG: not version 6, shorter than a header, or len shorter than the
 * header says. */
int beet_ipv6_outbound(const uint8_t *pkt, size_t len, struct hit *ret_src, struct hit *ret_dst,
                       uint8_t *ret_next_header, size_t *ret_payload_off);

/* buf holds payload_len bytes of payload at offset BEET_IPV6_HDR_LEN (headroom
 * reserved by the caller); writes the IPv6 header in front of it (traffic class
 * and flow label 0, hop limit BEET_IPV6_HOP_LIMIT). Returns the packet length,
 * -ENOSPC if cap < BEET_IPV6_HDR_LEN + payload_len, -EMSGSIZE if payload_len
 * does not fit the 16-bit Payload Length. */
int beet_ipv6_inbound(uint8_t *buf, size_t cap, size_t payload_len, const struct hit *src,
                      const struct hit *dst, uint8_t next_header);
