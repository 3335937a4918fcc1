/* SPDX-License-Identifier: MIT */
/* gro.h: coalesces decrypted TCP segments into super-packets for the TUN.
 *
 * Writing one 64 KiB super-packet with a virtio-net header (vnet.h) instead
 * of forty-odd segments saves the system calls and, more, lets the kernel's
 * TCP stack take the data in one piece, as the kernel's own GRO does for a
 * network card. Only what the kernel itself would merge is merged (the rules
 * of tcp_gro_receive, as wireguard-go applies them): the same addresses and
 * ports, IPv4 without options or fragmentation and with equal TOS, TTL and DF,
 * IPv6 without extension headers and with equal traffic class and hop limit,
 * equal TCP option bytes and acknowledgement number, flags ACK (PSH allowed on
 * the last segment only), consecutive sequence numbers, every segment but the
 * last of the same size, a valid TCP checksum, 64 KiB in all.
 *
 * Packets arrive in order per flow, so this works as a stream: a few flows
 * are held open, a packet either extends its flow's super-packet, replaces
 * it (the held one is written first, so a flow's order is kept), or is
 * written at once. The caller flushes after each batch it received, so
 * nothing waits longer than one wakeup.
 *
 * I/O-free: emit writes; the buffers are inside struct gro (allocate it
 * zeroed, or call gro_init; neither touches the buffers, so their pages cost
 * memory only once a flow used them). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp/vnet.h"

#define GRO_FLOWS   8
#define GRO_PKT_MAX 65535

/* One packet or super-packet for the TUN, with its virtio-net header
 * (all zero for an ordinary packet). */
typedef void (*gro_emit_fn)(void *ctx, const struct vnet_hdr *h, const uint8_t *pkt, size_t len);

struct gro_flow {
	size_t len;        /* 0: the slot is free */
	uint64_t used;     /* gro.clock when last extended */
	uint32_t next_seq; /* the sequence number that extends it */
	uint16_t seg_size; /* TCP payload of the first segment */
	uint16_t segs;
	uint8_t l4_off, thl; /* IP header length, TCP header length */
	bool v6;
	bool closed; /* a shorter segment or PSH came: nothing may follow */
	uint8_t buf[GRO_PKT_MAX];
};

struct gro {
	uint64_t clock;
	uint64_t merged; /* segments appended to a super-packet (statistics) */
	struct gro_flow flows[GRO_FLOWS];
};

void gro_init(struct gro *g);
/* Takes one IP packet bound for the TUN (len bytes at pkt, which need not
 * outlive the call). */
void gro_add(struct gro *g, const uint8_t *pkt, size_t len, gro_emit_fn emit, void *ctx);
/* Writes every held packet. */
void gro_flush(struct gro *g, gro_emit_fn emit, void *ctx);
