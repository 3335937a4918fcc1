/* SPDX-License-Identifier: MIT */
/* net.h: the simulated network: per-link latency, random loss, one locator per node.
 *
 * A message becomes a delivery event on the heap; the caller decides on
 * delivery whether the receiver is still there (a message to a node that went
 * away is lost, like UDP). Node n's locator is 10.0.0.0/8 + n, port 10500. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "heap.h"
#include "rng.h"

#define NET_MAX_NODES    (1u << 24) /* what 10.0.0.0/8 can number */
#define NET_PORT         10500
#define NET_MAX_MSG      65507 /* a UDP payload over IPv4 */
#define NET_PATH_MTU_MSG 1400  /* larger overlay messages would need fragmentation */

struct packet {
	uint32_t from, to;
	uint32_t len;
	uint8_t data[];
};

struct net_stats {
	uint64_t sent, lost, bytes, oversize;
};

struct net {
	struct heap *heap;
	uint32_t deliver_kind;
	uint64_t latency_ms; /* one way */
	uint64_t jitter_ms;  /* per-link extra delay, drawn once per link in [0, jitter_ms] */
	double loss;         /* probability a message is dropped */
	uint64_t link_seed;
	struct rng rng;
	struct net_stats stats;
};

void net_init(struct net *net, struct heap *heap, uint32_t deliver_kind, uint64_t latency_ms,
              uint64_t jitter_ms, double loss, uint64_t seed);
/* One-way delay between a and b (symmetric, fixed for the link). */
uint64_t net_latency(const struct net *net, uint32_t a, uint32_t b);
/* Queues msg for delivery at now + latency, or drops it at random. 0 when
 * queued or lost; -EMSGSIZE when too big for UDP; -ENOMEM. The delivery
 * event carries a struct packet the consumer frees with free(). */
int net_send(struct net *net, uint64_t now, uint32_t from, uint32_t to, const uint8_t *msg,
             size_t len);

void net_addr(uint32_t node, struct sockaddr_storage *ret, socklen_t *ret_len);
/* The node a locator names; -EINVAL if it is not one of ours. */
int net_addr_node(const struct sockaddr_storage *addr, socklen_t len, uint32_t *ret);
