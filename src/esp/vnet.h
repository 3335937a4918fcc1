/* SPDX-License-Identifier: MIT */
/* vnet.h: the virtio-net header a TUN device opened with IFF_VNET_HDR puts in
 * front of every packet (include/uapi/linux/virtio_net.h).
 *
 * With TUNSETOFFLOAD the kernel hands the daemon TCP (and, from Linux 6.2,
 * UDP) "super-packets" of up to 64 KiB that the header says how to cut
 * (gso_type, gso_size), and transport checksums left for it to finish
 * (VNET_F_NEEDS_CSUM: the field at csum_start + csum_offset holds the folded
 * pseudo-header sum). Writes carry the same header, so the daemon can hand
 * the kernel coalesced super-packets too (src/esp/gro.h). The fields are in
 * host byte order: a TUN device uses the CPU's endianness unless told
 * otherwise (TUNSETVNETLE/BE), and the daemon never does. */
#pragma once

#include <stdint.h>

#define VNET_HDR_LEN 10

/* flags */
#define VNET_F_NEEDS_CSUM 1
/* gso_type; VNET_GSO_ECN is OR'ed in when the sender used ECN (CWR) */
#define VNET_GSO_NONE   0
#define VNET_GSO_TCPV4  1
#define VNET_GSO_TCPV6  4
#define VNET_GSO_UDP_L4 5 /* Linux 6.2+; Debian 12's 6.1 headers lack it */
#define VNET_GSO_ECN    0x80

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;  /* IP + transport headers of a super-packet (a hint) */
	uint16_t gso_size; /* transport payload bytes per segment */
	uint16_t csum_start;
	uint16_t csum_offset;
};

_Static_assert(sizeof(struct vnet_hdr) == VNET_HDR_LEN, "virtio_net_hdr layout");
