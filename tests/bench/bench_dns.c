/* SPDX-License-Identifier: MIT */
/* bench_dns.c: DNS answers per second from the overlay resolver
 * (src/dns/responder.h): A and AAAA queries for peers' overlay names (decide,
 * then build the answer from a found lookup) and for our own name. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "common/bytes.h"
#include "dns/responder.h"

/* Distinct names, so each answer builds from a different query. */
#define NAMES  64
#define DOMAIN "bench.internal"
#define LSI    0x64400000u /* 100.64.0.0/10 */

struct query {
	uint8_t msg[DNS_HDR_LEN + DNS_WIRE_NAME_MAX + 4];
	size_t len;
};

struct dns_bench {
	struct dns_responder resp;
	struct query peers[NAMES], own[2];
	uint64_t next;
};

static int no_ptr(void *arg, int family, const uint8_t *addr, char name[DNS_NAME_MAX + 1])
{
	return -ENOENT;
}

/* A standard query with RD set and no EDNS, as a stub resolver sends it. */
static int query_build(struct query *q, uint16_t id, const char *name, uint16_t type)
{
	int n;

	memset(q->msg, 0, DNS_HDR_LEN);
	store_be16(q->msg, id);
	store_be16(q->msg + 2, DNS_FLAG_RD);
	store_be16(q->msg + 4, 1);
	n = dns_name_encode(name, q->msg + DNS_HDR_LEN, DNS_WIRE_NAME_MAX);
	if (n < 0)
		return n;
	q->len = DNS_HDR_LEN + (size_t)n;
	store_be16(q->msg + q->len, type);
	store_be16(q->msg + q->len + 2, DNS_CLASS_IN);
	q->len += 4;
	return 0;
}

static int setup(struct dns_bench *b)
{
	struct dns_responder_config cfg = {
	        .domain = DOMAIN,
	        .own_name = "mars",
	        .own_hit = {{0x20, 0x01, 0x00, 0x2a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
	        .own_lsi = LSI + 1,
	        .lsi_prefix = LSI,
	        .lsi_prefix_len = 10,
	        .has_upstream = true,
	        .ptr_name = no_ptr,
	};
	char name[DNS_NAME_MAX + 1];
	int r;

	r = dns_responder_init(&b->resp, &cfg);
	for (int i = 0; r == 0 && i < NAMES; i++) {
		snprintf(name, sizeof(name), "venus-%d." DOMAIN, i);
		r = query_build(&b->peers[i], (uint16_t)i, name,
		                i % 2 ? DNS_TYPE_AAAA : DNS_TYPE_A);
	}
	if (r == 0)
		r = query_build(&b->own[0], 1, "mars." DOMAIN, DNS_TYPE_A);
	if (r == 0)
		r = query_build(&b->own[1], 2, "mars." DOMAIN, DNS_TYPE_AAAA);
	return r;
}

/* One query set and what the responder must decide for it. */
struct workload {
	struct dns_bench *b;
	const struct query *set;
	size_t n;
	int action;
};

/* What the daemon does per query: decide, and for a peer's name build the
 * answer once the overlay lookup found it. */
static int answer_n(void *ctx, uint64_t n)
{
	static const struct hit peer_hit = {
	        {0x20, 0x01, 0x00, 0x2b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}};
	struct workload *w = ctx;
	uint8_t out[DNS_UDP_MIN];
	struct dns_query q;
	struct dns_lookup lk;
	size_t len;

	for (uint64_t i = 0; i < n; i++) {
		const struct query *m = &w->set[w->b->next++ % w->n];
		int r = dns_responder_handle(&w->b->resp, m->msg, m->len, &q, &lk, out, sizeof(out),
		                             &len);

		if (r != w->action)
			return r < 0 ? r : -EPROTO;
		if (r == DNS_ACTION_LOOKUP)
			r = dns_responder_answer(&w->b->resp, &q, DNS_LOOKUP_FOUND, &peer_hit,
			                         LSI + 77, out, sizeof(out));
		if (r < 0)
			return r;
	}
	return 0;
}

int main(void)
{
	double seconds = bench_seconds(0.5);
	static struct dns_bench b;
	struct workload peers = {&b, b.peers, NAMES, DNS_ACTION_LOOKUP};
	struct workload own = {&b, b.own, 2, DNS_ACTION_REPLY};
	struct bench_result res;
	int r;

	r = setup(&b);
	if (r == 0)
		r = bench_run(answer_n, &peers, seconds, &res);
	if (r == 0) {
		printf("# DNS responder (handle + answer), one core\n");
		bench_print("dns-answer", "peer-name A/AAAA", "answers", 0, &res);
		r = bench_run(answer_n, &own, seconds, &res);
	}
	if (r == 0)
		bench_print("dns-answer", "own-name A/AAAA", "answers", 0, &res);
	if (r < 0) {
		fprintf(stderr, "bench_dns: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
