/* SPDX-License-Identifier: MIT */
/* responder.h: what idlocd answers for one DNS query: the overlay domain, its
 * own name, reverse names of LSIs and HITs, and what it forwards or refuses.
 *
 * Pure: no I/O, no allocation, no clock. One call decides (answer now, look
 * the name up in the overlay, forward upstream, or drop); after a lookup a
 * second call builds the answer from its outcome. The rules and why:
 * docs/dns.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dnsname.h"
#include "common/hit.h"
#include "dns/wire.h"

#define DNS_TTL_DEFAULT 10 /* seconds, for answers and negative answers alike */

/* Maps an address inside the LSI prefix (family AF_INET, 4 bytes in network
 * order) or the HIT prefix (AF_INET6, 16 bytes) to the fully qualified name
 * of the peer that owns it ("venus.example.internal"). 0 when known, -ENOENT
 * otherwise. The responder's own LSI and HIT never reach it. */
typedef int (*dns_ptr_fn)(void *arg, int family, const uint8_t *addr, char name[DNS_NAME_MAX + 1]);

struct dns_responder_config {
	const char *domain;   /* the overlay domain, e.g. "example.internal" */
	const char *own_name; /* our label under it, e.g. "mars" */
	struct hit own_hit;
	uint32_t own_lsi;    /* host byte order, like the LSI prefix */
	uint32_t lsi_prefix; /* host byte order */
	uint8_t lsi_prefix_len;
	uint32_t ttl;      /* 0: DNS_TTL_DEFAULT */
	bool has_upstream; /* names outside our zones are forwarded, else refused */
	dns_ptr_fn ptr_name;
	void *ptr_arg;
};

/* Fields are private; the struct is public so the daemon can embed it. */
struct dns_responder {
	uint8_t domain[DNS_WIRE_NAME_MAX]; /* wire form, lowercase */
	size_t domain_len;
	char domain_text[DNS_NAME_MAX + 1];
	unsigned domain_labels;
	uint8_t own_label[DNS_LABEL_MAX + 1]; /* length octet + label, lowercase */
	uint8_t own_fqdn[DNS_WIRE_NAME_MAX];
	size_t own_fqdn_len;
	uint8_t hostmaster[DNS_WIRE_NAME_MAX];
	size_t hostmaster_len;
	struct hit own_hit;
	uint32_t own_lsi;
	uint32_t lsi_prefix;
	uint8_t lsi_prefix_len;
	uint32_t ttl;
	bool has_upstream;
	dns_ptr_fn ptr_name;
	void *ptr_arg;
};

/* Checks and copies cfg. -EINVAL: a domain or own name that breaks the name
 * rule (common/dnsname.h), an fqdn over 253, a prefix length over 32, or an
 * own LSI outside the prefix. */
int dns_responder_init(struct dns_responder *r, const struct dns_responder_config *cfg);

enum dns_action {
	DNS_ACTION_DROP,    /* not answerable (no header, or a response): send nothing */
	DNS_ACTION_REPLY,   /* out holds the reply */
	DNS_ACTION_LOOKUP,  /* look name up in the overlay, then dns_responder_answer() */
	DNS_ACTION_FORWARD, /* relay the query bytes upstream (dns/forward.h) */
};

/* The fully qualified name to look up for DNS_ACTION_LOOKUP: lowercase, no
 * trailing dot, one valid label under the domain. */
struct dns_lookup {
	char name[DNS_NAME_MAX + 1];
};

/* Decides for one query message msg. q receives the parsed query (keep it
 * for DNS_ACTION_LOOKUP and DNS_ACTION_FORWARD); lookup is set for
 * DNS_ACTION_LOOKUP; for DNS_ACTION_REPLY, out (cap >= DNS_UDP_MIN) holds
 * *out_len bytes. Returns the action, or -EINVAL if cap is too small.
 * Deterministic: a retransmitted query gets the same decision, so the caller
 * can join it to the lookup or forward already running for it. */
int dns_responder_handle(const struct dns_responder *r, const uint8_t *msg, size_t len,
                         struct dns_query *q, struct dns_lookup *lookup, uint8_t *out, size_t cap,
                         size_t *out_len);

enum dns_lookup_outcome {
	DNS_LOOKUP_FOUND,     /* the name is registered: hit and lsi are its identifiers */
	DNS_LOOKUP_NOT_FOUND, /* nobody registered it: NXDOMAIN */
	DNS_LOOKUP_FAILED,    /* the overlay could not tell (timeout, error): SERVFAIL */
};

/* The reply to q (a query that got DNS_ACTION_LOOKUP) once the lookup is
 * over: A = lsi (host byte order), AAAA = hit, ANY = both, any other type
 * NODATA; NXDOMAIN or SERVFAIL otherwise. hit may be NULL unless found.
 * Returns the length, or -EINVAL. */
int dns_responder_answer(const struct dns_responder *r, const struct dns_query *q,
                         enum dns_lookup_outcome outcome, const struct hit *hit, uint32_t lsi,
                         uint8_t *out, size_t cap);
