/* SPDX-License-Identifier: MIT */
/* dnsserver.h: idlocd's DNS server on the TUN packet path.
 *
 * Queries to the resolver address arrive as IP packets read from the TUN (no
 * socket listens on port 53). The responder (dns/responder.h) decides; names
 * of peers are looked up in the overlay (the record's signature verified by
 * the overlay engine), entered into the identifier map (which gives the LSI)
 * and answered with A = LSI, AAAA = HIT; retransmitted queries join the
 * lookup already running; answers are cached for their TTL; names outside
 * the overlay's zones go to the upstream servers (dns/forward.h) or are
 * refused. Each reply is written back into the TUN as an IP packet.
 * Decisions: docs/dns.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/hit.h"

struct config;
struct dnsserver;
struct idmap;
struct mesh;
struct tun;

struct dnsserver_io {
	uv_loop_t *loop;
	const struct config *cfg;
	struct mesh *mesh;
	struct idmap *idmap;
	const struct tun *tun;
	struct hit own_hit;
	void *ctx;
	/* Optional: a name was resolved to peer; its pipe may start now, so it
	 * is often ready before the application's first packet. hints is the
	 * verified record's payload (address hints, hints.h). */
	void (*resolved)(void *ctx, const struct hit *peer, const uint8_t *hints, size_t len);
};

/* Logs its own failures. The forwarder is optional: without usable upstream
 * servers, names outside the overlay's zones are refused. */
int dnsserver_new(const struct dnsserver_io *io, struct dnsserver **ret);
/* Cancels forwarded queries (their handles close while the loop runs).
 * Lookups still running in the overlay are forgotten when the server is
 * freed, which must come after the overlay node is freed. */
void dnsserver_stop(struct dnsserver *s);
struct dnsserver *dnsserver_free(struct dnsserver *s);

/* The data path's DNS hook (datapath_dns_fn): an IPv4 packet from the TUN to
 * the resolver address. True when it was a DNS query (answered now or later,
 * or dropped as unusable). */
bool dnsserver_packet(void *ctx, const uint8_t *pkt, size_t len, uint64_t now);

struct dnsserver_stats {
	uint64_t queries, answered_local, lookups, lookups_joined, cache_hits, forwarded;
	uint64_t dropped;
};
void dnsserver_stats(const struct dnsserver *s, struct dnsserver_stats *ret);
