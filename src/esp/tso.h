/* SPDX-License-Identifier: MIT */
/* tso.h: cuts a TUN super-packet into the packets it stands for.
 *
 * A TUN device with TCP (and UDP) segmentation offload hands over one packet
 * of up to 64 KiB where the wire needs many: the IP and transport headers once,
 * then the payload of all segments (vnet.h). ESP must carry ordinary packets
 * (RFC 4303: the receiver has no such header), so each segment is rebuilt the
 * way the kernel's own GSO would: the headers copied, IPv4 total length,
 * identification (+1 per segment) and header checksum, IPv6 payload length,
 * TCP sequence number (FIN and PSH only on the last segment, CWR only on the
 * first), UDP length, and a full transport checksum.
 *
 * A packet without segmentation may still have its transport checksum left
 * to us (VNET_F_NEEDS_CSUM, the TUN's checksum offload): tso_finish_csum
 * completes it in place.
 *
 * I/O-free: the caller owns every buffer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp/vnet.h"

struct tso {
	const uint8_t *pkt;
	size_t len;      /* the super-packet: headers + payload */
	size_t hdr_len;  /* IP header (with IPv6 extension headers) + transport header */
	size_t l4_off;   /* where the transport header starts */
	size_t off;      /* payload offset of the next segment */
	size_t seg_size; /* gso_size */
	uint32_t seq;    /* TCP: the first segment's sequence number */
	uint16_t ip_id;  /* IPv4: the first segment's identification */
	uint16_t index;  /* segments produced so far */
	uint8_t proto;   /* IPPROTO_TCP or IPPROTO_UDP */
	bool v6;
};

/* Checks a super-packet (h->gso_type TCPV4, TCPV6 or UDP_L4, with or without
 * VNET_GSO_ECN) against its header and prepares to cut it; pkt must stay
 * unchanged until the last tso_next. 0, -EBADMSG when the header and packet
 * disagree or the packet is malformed, -EPROTONOSUPPORT for other GSO types
 * (VNET_GSO_NONE included). */
int tso_init(struct tso *t, const struct vnet_hdr *h, const uint8_t *pkt, size_t len);
/* Writes the next segment to out; returns its length, 0 after the last, or
 * -ENOSPC when cap is too small for it. */
int tso_next(struct tso *t, uint8_t *out, size_t cap);
/* Completes a transport checksum the kernel left to us (h->flags has
 * VNET_F_NEEDS_CSUM) in place: the sum over pkt from csum_start on, stored at
 * csum_start + csum_offset (0 is sent as 0xffff, as the kernel does). 0 when
 * there was nothing to do or it is done, -EBADMSG when the offsets do not fit
 * the packet or the field is at an odd offset from csum_start. */
int tso_finish_csum(const struct vnet_hdr *h, uint8_t *pkt, size_t len);
