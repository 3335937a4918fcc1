/* SPDX-License-Identifier: MIT */
/* net.c: latency, loss and locators of the simulated network. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

#define NET_LOSS_STREAM 0x4e45ull

void net_init(struct net *net, struct heap *heap, uint32_t deliver_kind, uint64_t latency_ms,
              uint64_t jitter_ms, double loss, uint64_t seed)
{
	*net = (struct net){
	        .heap = heap,
	        .deliver_kind = deliver_kind,
	        .latency_ms = latency_ms,
	        .jitter_ms = jitter_ms,
	        .loss = loss,
	        .link_seed = rng_mix64(seed ^ 0x6c696e6bull),
	};
	rng_seed(&net->rng, seed, NET_LOSS_STREAM);
}

uint64_t net_latency(const struct net *net, uint32_t a, uint32_t b)
{
	uint32_t lo = a < b ? a : b, hi = a < b ? b : a;

	if (net->jitter_ms == 0)
		return net->latency_ms;
	/* A hash of the link, not a draw: no state per link, and the same delay
	 * both ways and for every message, so the link never reorders. */
	return net->latency_ms +
	       rng_mix64(net->link_seed ^ ((uint64_t)lo << 32 | hi)) % (net->jitter_ms + 1);
}

int net_send(struct net *net, uint64_t now, uint32_t from, uint32_t to, const uint8_t *msg,
             size_t len)
{
	struct packet *p;
	int r;

	if (len > NET_MAX_MSG)
		return -EMSGSIZE;
	net->stats.sent++;
	net->stats.bytes += len;
	if (len > NET_PATH_MTU_MSG)
		net->stats.oversize++;
	if (net->loss > 0 && rng_unit(&net->rng) < net->loss) {
		net->stats.lost++;
		return 0;
	}
	p = malloc(sizeof(*p) + len);
	if (!p)
		return -ENOMEM;
	p->from = from;
	p->to = to;
	p->len = (uint32_t)len;
	memcpy(p->data, msg, len);
	r = heap_push(net->heap, now + net_latency(net, from, to), net->deliver_kind, to, p);
	if (r < 0)
		free(p);
	return r;
}

void net_addr(uint32_t node, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ret;

	memset(ret, 0, sizeof(*ret));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(NET_PORT);
	sin->sin_addr.s_addr = htonl(0x0a000000u | (node & (NET_MAX_NODES - 1)));
	*ret_len = sizeof(*sin);
}

int net_addr_node(const struct sockaddr_storage *addr, socklen_t len, uint32_t *ret)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
	uint32_t a;

	if (len < (socklen_t)sizeof(*sin) || addr->ss_family != AF_INET ||
	    sin->sin_port != htons(NET_PORT))
		return -EINVAL;
	a = ntohl(sin->sin_addr.s_addr);
	if ((a & 0xff000000u) != 0x0a000000u)
		return -EINVAL;
	*ret = a & (NET_MAX_NODES - 1);
	return 0;
}
