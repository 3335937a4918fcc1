/* SPDX-License-Identifier: MIT */
/* pmtu.h: the ICMP errors idlocd writes back into the TUN, and when a packet gets one.
 *
 * The daemon is the router at the far side of the TUN link: when it cannot
 * deliver a packet (no peer owns the LSI or HIT) or cannot carry it in one
 * ESP datagram, it answers like a router would, with an ICMP destination
 * unreachable or "too big" message addressed to the packet's source and
 * quoting as much of the packet as the rules allow.
 *
 * Source addresses (measured on Linux 6.x, see docs/datapath.md, "ICMP
 * errors"): an IPv4 error whose source is one of the host's own addresses
 * (the own LSI) is dropped as a martian when it arrives on the TUN (unless
 * accept_local is set), so IPv4 errors come from the offending packet's
 * destination, the LSI the packet could not reach. IPv6 has no such check,
 * and RFC 4443 2.2 wants one of the node's own unicast addresses: the caller
 * passes the own HIT.
 *
 * No error answers an ICMP error, a packet from an address that is not one
 * host (unspecified, multicast, broadcast, loopback), an IPv4 packet to a
 * multicast or broadcast address, an ICMPv6 unreachable to a multicast
 * address (a "too big" still goes, RFC 4443 2.4 (e.3)), an ICMPv6 redirect,
 * or a non-first fragment (RFC 1122 3.2.2; for IPv6 "too big" excepted, the
 * source must learn the path MTU whatever piece overflowed). Builders return
 * 0 then. Rate limiting (RFC 4443 2.4 (f), RFC 1812 4.3.2.8) is the caller's.
 *
 * Addresses in host byte order for IPv4, as in daemon/idmap.h. I/O-free. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PMTU_ICMP4_MAX 576  /* RFC 1812 4.3.2.3: error datagrams up to 576 bytes */
#define PMTU_ICMP6_MAX 1280 /* RFC 4443 2.4 (c): up to the IPv6 minimum MTU */
#define PMTU_IPV4_MIN  68   /* RFC 791: every IPv4 link carries 68 bytes */
#define PMTU_IPV6_MIN  1280 /* RFC 8200 5 */

/* Outer overheads for pmtu_esp_max. */
#define PMTU_OUTER_IPV4   (20 + 8) /* IPv4 + UDP */
#define PMTU_OUTER_IPV6   (40 + 8) /* IPv6 + UDP */
#define PMTU_TURN_CHANNEL 4        /* ChannelData header through a TURN relay */

/* The largest ESP payload (the inner packet as ESP carries it) that fits one
 * datagram of at most path_mtu bytes on the wire, with outer bytes of outer
 * headers and framing (PMTU_OUTER_* plus PMTU_TURN_CHANNEL when relayed):
 * AES-GCM ESP adds 8 + 8 IV + 16 ICV + 2 trailer and pads to 4 bytes. 0 when
 * nothing fits. */
unsigned pmtu_esp_max(unsigned path_mtu, unsigned outer);

enum pmtu_verdict {
	PMTU_FITS,      /* one ESP datagram carries it */
	PMTU_FRAGMENTS, /* too big for one, but the sender allows fragmentation
	                 * (IPv4 without DF, IPv6 up to 1280 bytes): send it;
	                 * the outer UDP datagram is fragmented on the way */
	PMTU_TOO_BIG,   /* answer with pmtu_icmp4_frag_needed or pmtu_icmp6_too_big
	                 * carrying *ret_mtu, and drop it */
};

/* Decides for a packet of len bytes read from the TUN, given esp_max (see
 * pmtu_esp_max): IPv4 packets travel whole, IPv6 packets lose their 40-byte
 * header (BEET). *ret_mtu is the MTU to report, in inner packet bytes, never
 * below PMTU_IPV4_MIN or PMTU_IPV6_MIN. -EBADMSG: neither an IPv4 nor an
 * IPv6 packet. */
int pmtu_check(const uint8_t *pkt, size_t len, unsigned esp_max, unsigned *ret_mtu);

/* IPv4 destination unreachable, code 1 (host unreachable), in answer to the
 * len-byte IPv4 packet pkt, built into out (cap bytes). Returns the error's
 * length, 0 when none may be sent, -EBADMSG when pkt is not IPv4, -ENOSPC
 * when cap cannot hold the error with the offending header and 8 bytes. */
int pmtu_icmp4_unreach(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len);
/* IPv4 destination unreachable, code 4 (fragmentation needed and DF set),
 * with the next-hop MTU (RFC 1191); otherwise as pmtu_icmp4_unreach. */
int pmtu_icmp4_frag_needed(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len, uint16_t mtu);
/* ICMPv6 destination unreachable, code 3 (address unreachable), from `from`
 * (the own HIT) to the source of the len-byte IPv6 packet pkt. Returns as
 * pmtu_icmp4_unreach (-ENOSPC below the IPv6 header and 8 more bytes). */
int pmtu_icmp6_unreach(uint8_t *out, size_t cap, const uint8_t from[16], const uint8_t *pkt,
                       size_t len);
/* ICMPv6 packet too big with mtu (RFC 4443 3.2, RFC 8201); otherwise as
 * pmtu_icmp6_unreach. */
int pmtu_icmp6_too_big(uint8_t *out, size_t cap, const uint8_t from[16], const uint8_t *pkt,
                       size_t len, uint32_t mtu);
