/* SPDX-License-Identifier: MIT */
/* fuzz_dns.c: arbitrary bytes as a DNS query (parser and the whole responder
 * decision, then every lookup outcome), as an upstream answer, and as an IP
 * packet read from the TUN; and the same bytes wrapped in a valid IPv4/UDP
 * packet, so the packet path reaches the responder too. Every reply built is
 * checked: within the client's limit, well-formed, the query's ID. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "dns/responder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RESOLVER4 0x64400035u
static const uint8_t resolver6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};

static int ptr_name(void *arg, int family, const uint8_t *addr, char name[DNS_NAME_MAX + 1])
{
	size_t n = family == AF_INET ? 4 : 16;

	(void)arg;
	/* Deterministic: addresses ending in an even byte are known. One of
	 * them gets the longest legal name. */
	if (addr[n - 1] & 1)
		return -ENOENT;
	if (addr[n - 1] == 0x42) {
		memset(name, 'a', DNS_NAME_MAX);
		for (size_t i = 63; i < DNS_NAME_MAX; i += 64)
			name[i] = '.';
		name[DNS_NAME_MAX] = '\0';
		return 0;
	}
	strcpy(name, "venus.example.internal");
	return 0;
}

static struct dns_responder *responder(bool upstream)
{
	static struct dns_responder r[2];
	static bool ready[2];
	struct dns_responder_config cfg = {
	        .domain = "example.internal",
	        .own_name = "mars",
	        .own_hit = {{0x20, 0x01, 0x00, 0x2a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
	        .own_lsi = 0x64400102,
	        .lsi_prefix = 0x64400000,
	        .lsi_prefix_len = 10,
	        .has_upstream = upstream,
	        .ptr_name = ptr_name,
	};

	if (!ready[upstream]) {
		if (dns_responder_init(&r[upstream], &cfg) < 0)
			abort();
		ready[upstream] = true;
	}
	return &r[upstream];
}

static void check_reply(const struct dns_query *q, const uint8_t *out, size_t len, size_t cap)
{
	if (len < DNS_HDR_LEN || len > dns_reply_limit(q, cap))
		abort();
	if (dns_response_check(out, len) < 0 || load_be16(out) != q->id)
		abort();
}

static void respond(const struct dns_responder *r, const uint8_t *msg, size_t len)
{
	static uint8_t out[DNS_MSG_MAX];
	static const struct hit hit = {
	        {0x20, 0x01, 0x00, 0x2b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}};
	static const enum dns_lookup_outcome outcomes[] = {DNS_LOOKUP_FOUND, DNS_LOOKUP_NOT_FOUND,
	                                                   DNS_LOOKUP_FAILED};
	struct dns_query q;
	struct dns_lookup lookup;
	size_t n;
	int action, m;

	/* A small and a large caller buffer: truncation differs. */
	for (size_t cap = DNS_UDP_MIN; cap <= sizeof(out); cap += sizeof(out) - DNS_UDP_MIN) {
		action = dns_responder_handle(r, msg, len, &q, &lookup, out, cap, &n);
		switch (action) {
		case DNS_ACTION_DROP:
			break;
		case DNS_ACTION_REPLY:
			check_reply(&q, out, n, cap);
			break;
		case DNS_ACTION_LOOKUP:
			if (strlen(lookup.name) == 0 || strlen(lookup.name) > DNS_NAME_MAX)
				abort();
			for (size_t i = 0; i < 3; i++) {
				m = dns_responder_answer(r, &q, outcomes[i], &hit, 0x64460304, out,
				                         cap);
				if (m < 0)
					abort();
				check_reply(&q, out, (size_t)m, cap);
			}
			break;
		case DNS_ACTION_FORWARD:
			/* What the forwarder builds when the upstream fails. */
			m = dns_build_error(&q, DNS_RCODE_SERVFAIL, out, cap);
			if (m < 0)
				abort();
			check_reply(&q, out, (size_t)m, cap);
			m = dns_build_truncated(&q, out, cap);
			if (m < 0)
				abort();
			check_reply(&q, out, (size_t)m, cap);
			break;
		default:
			abort();
		}
	}
}

/* The bytes as a packet from the TUN; a reply goes back through framing. */
static void as_packet(const uint8_t *pkt, size_t len)
{
	static uint8_t out[70000];
	struct dns_udp_addr addr;
	const uint8_t *payload;
	size_t plen;
	int e = dns_udp_match(pkt, len, RESOLVER4, resolver6, &addr, &payload, &plen);

	if (e < 0 || e == 0)
		return;
	if (e != 1 || payload < pkt || payload + plen > pkt + len)
		abort();
	respond(responder(true), payload, plen);
	e = dns_udp_reply(&addr, payload, plen, out, sizeof(out));
	if (e < 0 || (size_t)e != dns_udp_header_len(addr.family) + plen)
		abort();
}

/* The bytes as a query inside a valid IPv4/UDP packet to the resolver. */
static void wrapped(const uint8_t *data, size_t size)
{
	static uint8_t pkt[70000];
	/* dns_udp_reply swaps: naming the resolver as the "client" on port 53
	 * makes the packet a query to it from 100.64.1.2:33000. */
	struct dns_udp_addr to = {.family = AF_INET, .sport = DNS_PORT, .dport = 33000};
	struct dns_udp_addr got;
	const uint8_t *payload;
	size_t plen;
	int n;

	store_be32(to.src, RESOLVER4);
	store_be32(to.dst, 0x64400102);
	n = dns_udp_reply(&to, data, size, pkt, sizeof(pkt));
	if (n < 0) {
		if (size + 28 <= UINT16_MAX)
			abort();
		return;
	}
	if (dns_udp_match(pkt, (size_t)n, RESOLVER4, NULL, &got, &payload, &plen) != 1 ||
	    plen != size || got.sport != 33000)
		abort();
	respond(responder(false), payload, plen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_query q;

	(void)dns_query_parse(data, size, &q);
	(void)dns_response_check(data, size);
	respond(responder(false), data, size);
	respond(responder(true), data, size);
	as_packet(data, size);
	if (size <= 1500)
		wrapped(data, size);
	return 0;
}
