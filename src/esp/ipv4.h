/* SPDX-License-Identifier: MIT */
/* ipv4.h: IPv4 packets to and from LSIs over ESP, and TCP MSS clamping for both families.
 *
 * An IPv4 packet travels whole inside ESP (next header 4, IPPROTO_IPIP):
 * unlike HITs, LSIs are only meaningful inside the prefix, so the header
 * keeps them and the receiver checks them. On the wire (inside ESP) the
 * header carries canonical LSIs, the ones every peer computes from the HITs
 * (daemon/idmap.h); each end translates between those and its local view,
 * which differs only after a local LSI collision. A translation rewrites the
 * addresses and fixes, incrementally (RFC 1624), the IPv4 header checksum,
 * the TCP, UDP, UDP-Lite or DCCP checksum (their pseudo-header holds the
 * addresses) and, for ICMP errors, the quoted header of the packet that
 * caused them. See docs/datapath.md, "IPv4 over ESP".
 *
 * Addresses are in host byte order, as in the config and daemon/idmap.h.
 * I/O-free: the caller owns every buffer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPV4_HDR_MIN      20
#define IPV4_HDR_MAX      60
#define IPV4_MSS_OVERHEAD 40 /* IPv4 20 + TCP 20 */
#define IPV6_MSS_OVERHEAD 60 /* IPv6 40 + TCP 20 */
#define IPV4_PROTO_IPIP   4  /* the ESP next header of a whole IPv4 packet */

struct ipv4_info {
	uint32_t src, dst;
	uint8_t proto;
	uint8_t hdr_len;    /* bytes, IPV4_HDR_MIN..IPV4_HDR_MAX */
	uint16_t total_len; /* header included */
	uint16_t frag_off;  /* in 8-byte units */
	bool df, mf;
	bool fragment; /* mf or frag_off: one piece of a larger datagram */
};

/* A source and a destination. */
struct ipv4_addrs {
	uint32_t src, dst;
};

/* Parses the header of an IPv4 packet (from the TUN or out of ESP). Returns
 * the packet's total length; bytes beyond it are not part of the packet.
 * -EBADMSG: shorter than a header, not version 4, IHL below 5, total length
 * below the header length or above len. The header checksum is not checked
 * (the local stack's packets need none; ipv4_inbound checks it). */
int ipv4_parse(const uint8_t *pkt, size_t len, struct ipv4_info *ret);

/* Rewrites the source and destination of the packet of len bytes (its total
 * length, as ipv4_parse returned) to `to`, fixing the checksums named at the
 * top. A UDP checksum of 0 (none) stays 0 and a fixed-up one that comes out
 * as 0 is sent as 0xffff (RFC 768). Only a first fragment carries the
 * transport header, so later fragments get only the IPv4 header fixed.
 * -EBADMSG: the header does not parse, or a first fragment or whole packet
 * ends before the transport checksum (RFC 1858 tiny fragments included). */
int ipv4_rewrite(uint8_t *pkt, size_t len, struct ipv4_addrs to);

/* A decrypted ESP payload with next header 4, len bytes, from a peer: checks
 * it is an IPv4 packet with a correct header checksum whose total length is at
 * most len (the rest is dropped), with source expect.src (the peer's canonical
 * LSI) and destination expect.dst (our canonical LSI), then rewrites the
 * addresses to local (see ipv4_rewrite). Returns the packet's length.
 * -EBADMSG: malformed; -EACCES: another source; -EADDRNOTAVAIL: another
 * destination. On error the packet is unchanged. */
int ipv4_inbound(uint8_t *pkt, size_t len, struct ipv4_addrs expect, struct ipv4_addrs local);

/* Lowers the MSS option of a TCP SYN or SYN-ACK in an IPv4 or IPv6 packet
 * (the version nibble decides) to mtu - IPV4_MSS_OVERHEAD or mtu -
 * IPV6_MSS_OVERHEAD, fixing the TCP checksum. IPv6 extension headers
 * (hop-by-hop, routing, destination options, an unfragmented fragment
 * header) are skipped; any other header and fragments leave the packet
 * alone, and a malformed TCP option ends the walk over the options. Every
 * MSS option found is lowered. Returns 1 when an MSS was lowered, else 0.
 * -EBADMSG: not an IPv4 or IPv6 packet; -EINVAL: mtu leaves no room for a
 * segment. */
int ipv4_clamp_mss(uint8_t *pkt, size_t len, unsigned mtu);
