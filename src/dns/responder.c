/* SPDX-License-Identifier: MIT */
/* responder.c: the overlay domain's answers, reverse names, forward or refuse. */
#include "dns/responder.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"

#define SOA_SERIAL  1
#define SOA_REFRESH 3600
#define SOA_RETRY   600
#define SOA_EXPIRE  86400
#define MAX_LABELS  128 /* a 255-byte name has at most 127 labels */

/* The HIT prefix (ORCHIDv2, RFC 7343): 2001:20::/28. */
static const uint8_t orchid_prefix[16] = {0x20, 0x01, 0x00, 0x20};
#define ORCHID_PREFIX_LEN 28

static const uint8_t in_addr_arpa[] = "\7in-addr\4arpa";
static const uint8_t ip6_arpa[] = "\3ip6\4arpa";

/* The labels of the question name: offsets into q->qname, root excluded. */
struct labels {
	size_t off[MAX_LABELS];
	unsigned n;
};

static void split_labels(const struct dns_query *q, struct labels *l)
{
	size_t pos = 0;

	l->n = 0;
	while (pos < q->qname_len && q->qname[pos] != 0 && l->n < MAX_LABELS) {
		l->off[l->n++] = pos;
		pos += 1 + q->qname[pos];
	}
}

/* True if the last zone_labels labels of the question name are zone. */
static bool under(const struct dns_query *q, const struct labels *l, const uint8_t *zone,
                  size_t zone_len, unsigned zone_labels)
{
	size_t off;

	if (l->n < zone_labels)
		return false;
	off = zone_labels == l->n ? 0 : l->off[l->n - zone_labels];
	if (zone_labels == 0)
		off = q->qname_len - 1;
	return dns_name_equal(q->qname + off, q->qname_len - off, zone, zone_len);
}

static const uint8_t *label_at(const struct dns_query *q, const struct labels *l, unsigned i,
                               size_t *len)
{
	*len = q->qname[l->off[i]];
	return q->qname + l->off[i] + 1;
}

static int count_labels(const uint8_t *wire, size_t len)
{
	unsigned n = 0;

	for (size_t pos = 0; pos < len && wire[pos] != 0; pos += 1 + wire[pos])
		n++;
	return (int)n;
}

static int copy_wire(uint8_t *dst, size_t *dst_len, const char *text)
{
	int n = dns_name_encode(text, dst, DNS_WIRE_NAME_MAX);

	if (n < 0)
		return n;
	*dst_len = (size_t)n;
	return 0;
}

int dns_responder_init(struct dns_responder *r, const struct dns_responder_config *cfg)
{
	char domain[DNS_NAME_MAX + 1], fqdn[DNS_NAME_MAX + 2], tmp[DNS_NAME_MAX + 12];
	size_t nl;
	uint32_t mask;

	memset(r, 0, sizeof(*r));
	if (!cfg->domain || !cfg->own_name || dns_name_normalize(cfg->domain, domain) < 0)
		return -EINVAL;
	nl = strlen(cfg->own_name);
	if (!dns_label_valid(cfg->own_name, nl) || nl + 1 + strlen(domain) > DNS_NAME_MAX)
		return -EINVAL;
	if (cfg->lsi_prefix_len > 32)
		return -EINVAL;
	mask = cfg->lsi_prefix_len ? ~0u << (32 - cfg->lsi_prefix_len) : 0;
	if ((cfg->own_lsi & mask) != (cfg->lsi_prefix & mask))
		return -EINVAL;
	snprintf(fqdn, sizeof(fqdn), "%s.%s", cfg->own_name, domain);
	if (dns_name_normalize(fqdn, fqdn) < 0)
		return -EINVAL;
	snprintf(tmp, sizeof(tmp), "hostmaster.%s", domain);
	if (copy_wire(r->domain, &r->domain_len, domain) < 0 ||
	    copy_wire(r->own_fqdn, &r->own_fqdn_len, fqdn) < 0 ||
	    copy_wire(r->hostmaster, &r->hostmaster_len, tmp) < 0)
		return -EINVAL;
	memcpy(r->domain_text, domain, strlen(domain) + 1);
	r->domain_labels = (unsigned)count_labels(r->domain, r->domain_len);
	/* The own label, lowercase, as it sits at the start of own_fqdn. */
	memcpy(r->own_label, r->own_fqdn, 1 + nl);
	r->own_hit = cfg->own_hit;
	r->own_lsi = cfg->own_lsi;
	r->lsi_prefix = cfg->lsi_prefix & mask;
	r->lsi_prefix_len = cfg->lsi_prefix_len;
	r->ttl = cfg->ttl ? cfg->ttl : DNS_TTL_DEFAULT;
	r->has_upstream = cfg->has_upstream;
	r->ptr_name = cfg->ptr_name;
	r->ptr_arg = cfg->ptr_arg;
	return 0;
}

/* ---- building ---- */

static void add_soa(const struct dns_responder *r, struct dns_reply *rep, enum dns_section s,
                    int owner)
{
	uint8_t rd[2 * DNS_WIRE_NAME_MAX + 20];
	size_t n = 0;

	memcpy(rd, r->own_fqdn, r->own_fqdn_len);
	n += r->own_fqdn_len;
	memcpy(rd + n, r->hostmaster, r->hostmaster_len);
	n += r->hostmaster_len;
	store_be32(rd + n, SOA_SERIAL);
	store_be32(rd + n + 4, SOA_REFRESH);
	store_be32(rd + n + 8, SOA_RETRY);
	store_be32(rd + n + 12, SOA_EXPIRE);
	/* RFC 2308: negative answers live min(SOA TTL, MINIMUM); both are ttl. */
	store_be32(rd + n + 16, r->ttl);
	dns_reply_add(rep, s, owner, DNS_TYPE_SOA, r->ttl, rd, n + 20);
}

static void add_a(const struct dns_responder *r, struct dns_reply *rep, uint32_t lsi)
{
	uint8_t a[4];

	store_be32(a, lsi);
	dns_reply_add(rep, DNS_SECTION_ANSWER, dns_reply_qname_ptr(rep, 0), DNS_TYPE_A, r->ttl, a,
	              sizeof(a));
}

static void add_aaaa(const struct dns_responder *r, struct dns_reply *rep, const struct hit *hit)
{
	dns_reply_add(rep, DNS_SECTION_ANSWER, dns_reply_qname_ptr(rep, 0), DNS_TYPE_AAAA, r->ttl,
	              hit->b, HIT_LEN);
}

/* A negative answer (NXDOMAIN, or NOERROR without records: NODATA) carrying
 * the zone's SOA; the zone apex is the question name minus skip labels. */
static int negative(const struct dns_responder *r, const struct dns_query *q, unsigned rcode,
                    unsigned skip, uint8_t *out, size_t cap)
{
	struct dns_reply rep;
	int e = dns_reply_init(&rep, q, out, cap, rcode, true);

	if (e < 0)
		return e;
	add_soa(r, &rep, DNS_SECTION_AUTHORITY, dns_reply_qname_ptr(&rep, skip));
	return (int)dns_reply_finish(&rep);
}

/* The apex of one of our zones: SOA and NS exist, nothing else. */
static int apex(const struct dns_responder *r, const struct dns_query *q, uint8_t *out, size_t cap)
{
	struct dns_reply rep;
	int e;

	if (q->qtype != DNS_TYPE_SOA && q->qtype != DNS_TYPE_NS && q->qtype != DNS_TYPE_ANY)
		return negative(r, q, DNS_RCODE_NOERROR, 0, out, cap);
	e = dns_reply_init(&rep, q, out, cap, DNS_RCODE_NOERROR, true);
	if (e < 0)
		return e;
	if (q->qtype != DNS_TYPE_NS)
		add_soa(r, &rep, DNS_SECTION_ANSWER, dns_reply_qname_ptr(&rep, 0));
	if (q->qtype != DNS_TYPE_SOA)
		dns_reply_add(&rep, DNS_SECTION_ANSWER, dns_reply_qname_ptr(&rep, 0), DNS_TYPE_NS,
		              r->ttl, r->own_fqdn, r->own_fqdn_len);
	return (int)dns_reply_finish(&rep);
}

/* A name of ours with an A (lsi) and an AAAA (hit): A, AAAA, ANY answered,
 * other types NODATA. The zone apex is one label up. */
static int host(const struct dns_responder *r, const struct dns_query *q, const struct hit *hit,
                uint32_t lsi, uint8_t *out, size_t cap)
{
	struct dns_reply rep;
	int e;

	if (q->qtype != DNS_TYPE_A && q->qtype != DNS_TYPE_AAAA && q->qtype != DNS_TYPE_ANY)
		return negative(r, q, DNS_RCODE_NOERROR, 1, out, cap);
	e = dns_reply_init(&rep, q, out, cap, DNS_RCODE_NOERROR, true);
	if (e < 0)
		return e;
	if (q->qtype != DNS_TYPE_AAAA)
		add_a(r, &rep, lsi);
	if (q->qtype != DNS_TYPE_A)
		add_aaaa(r, &rep, hit);
	return (int)dns_reply_finish(&rep);
}

/* ---- the overlay domain ---- */

enum name_kind {
	NAME_APEX, /* the domain itself */
	NAME_OWN,  /* our own name */
	NAME_PEER, /* a name a peer may have registered: look it up */
	NAME_NONE, /* can never exist: NXDOMAIN */
};

/* For a question name under the domain. */
static enum name_kind classify(const struct dns_responder *r, const struct dns_query *q,
                               const struct labels *l)
{
	unsigned below = l->n - r->domain_labels;
	const uint8_t *lab;
	size_t len;

	if (below == 0)
		return NAME_APEX;
	lab = label_at(q, l, 0, &len);
	/* Service prefixes (_sip._udp, _8000._https) and deeper names are never
	 * registered: names are one label under the domain (common/dnsname.h). */
	if (below > 1 || lab[0] == '_' || !dns_label_valid((const char *)lab, len))
		return NAME_NONE;
	if (dns_name_equal(q->qname, 1 + len, r->own_label, 1 + len))
		return NAME_OWN;
	return NAME_PEER;
}

static int in_domain(const struct dns_responder *r, const struct dns_query *q,
                     const struct labels *l, struct dns_lookup *lookup, uint8_t *out, size_t cap,
                     size_t *out_len)
{
	enum name_kind kind = classify(r, q, l);
	unsigned below = l->n - r->domain_labels;
	size_t len, i;
	const uint8_t *lab;
	int n;

	switch (kind) {
	case NAME_APEX:
		n = apex(r, q, out, cap);
		break;
	case NAME_OWN:
		n = host(r, q, &r->own_hit, r->own_lsi, out, cap);
		break;
	case NAME_NONE:
		n = negative(r, q, DNS_RCODE_NXDOMAIN, below, out, cap);
		break;
	case NAME_PEER:
	default:
		lab = label_at(q, l, 0, &len);
		for (i = 0; i < len; i++)
			lookup->name[i] =
			        (char)(lab[i] >= 'A' && lab[i] <= 'Z' ? lab[i] + 32 : lab[i]);
		lookup->name[i++] = '.';
		memcpy(lookup->name + i, r->domain_text, strlen(r->domain_text) + 1);
		return DNS_ACTION_LOOKUP;
	}
	if (n < 0)
		return n;
	*out_len = (size_t)n;
	return DNS_ACTION_REPLY;
}

/* ---- reverse zones ---- */

/* A reverse tree cut into zones of depth labels under suffix, each zone
 * lying wholly inside prefix/plen: so we are authoritative for all of it. */
struct revzone {
	int family;
	unsigned unit; /* bits per label: 8 (in-addr.arpa) or 4 (ip6.arpa) */
	unsigned full; /* labels of a complete address */
	const uint8_t *suffix;
	size_t suffix_len;
	uint8_t prefix[16];
	unsigned plen;
	unsigned depth;
};

static bool parse_unit(const uint8_t *s, size_t len, unsigned unit, unsigned *v)
{
	if (unit == 4) {
		uint8_t c = len == 1 ? (uint8_t)(s[0] | 0x20) : 0;
		if (c >= '0' && c <= '9')
			*v = c - '0';
		else if (c >= 'a' && c <= 'f')
			*v = c - 'a' + 10;
		else
			return false;
		return true;
	}
	/* Canonical decimal: no sign, no leading zero. */
	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return false;
	*v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return *v <= 255;
}

static void put_unit(uint8_t *addr, unsigned unit, unsigned i, unsigned v)
{
	if (unit == 8)
		addr[i] = (uint8_t)v;
	else
		addr[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
}

static bool prefix_match(const uint8_t *a, const uint8_t *p, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (memcmp(a, p, bytes) != 0)
		return false;
	return bits == 0 || ((a[bytes] ^ p[bytes]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

static int reverse_host(const struct dns_responder *r, const struct dns_query *q,
                        const struct revzone *z, const uint8_t *addr, unsigned skip, uint8_t *out,
                        size_t cap)
{
	char name[DNS_NAME_MAX + 1];
	uint8_t wire[DNS_WIRE_NAME_MAX], own[16];
	const uint8_t *target;
	struct dns_reply rep;
	int n, e;

	if (z->family == AF_INET)
		store_be32(own, r->own_lsi);
	else
		memcpy(own, r->own_hit.b, HIT_LEN);
	if (memcmp(addr, own, z->family == AF_INET ? 4 : 16) == 0) {
		target = r->own_fqdn;
		n = (int)r->own_fqdn_len;
	} else {
		if (!r->ptr_name || r->ptr_name(r->ptr_arg, z->family, addr, name) < 0)
			return negative(r, q, DNS_RCODE_NXDOMAIN, skip, out, cap);
		name[DNS_NAME_MAX] = '\0';
		n = dns_name_encode(name, wire, sizeof(wire));
		if (n < 0)
			return dns_build_error(q, DNS_RCODE_SERVFAIL, out, cap);
		target = wire;
	}
	if (q->qtype != DNS_TYPE_PTR && q->qtype != DNS_TYPE_ANY)
		return negative(r, q, DNS_RCODE_NOERROR, skip, out, cap);
	e = dns_reply_init(&rep, q, out, cap, DNS_RCODE_NOERROR, true);
	if (e < 0)
		return e;
	dns_reply_add(&rep, DNS_SECTION_ANSWER, dns_reply_qname_ptr(&rep, 0), DNS_TYPE_PTR, r->ttl,
	              target, (size_t)n);
	return (int)dns_reply_finish(&rep);
}

/* 1 with the reply in out, 0 when the name is not in one of z's zones. */
static int reverse(const struct dns_responder *r, const struct dns_query *q, const struct labels *l,
                   const struct revzone *z, uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t addr[16] = {0};
	unsigned m, skip, v;
	const uint8_t *lab;
	size_t len;
	int n;

	if (!under(q, l, z->suffix, z->suffix_len, 2))
		return 0;
	m = l->n - 2;
	if (m < z->depth)
		return 0;
	/* Label m-1 is the most significant unit. */
	for (unsigned i = 0; i < z->depth; i++) {
		lab = label_at(q, l, m - 1 - i, &len);
		if (!parse_unit(lab, len, z->unit, &v))
			return 0;
		put_unit(addr, z->unit, i, v);
	}
	if (!prefix_match(addr, z->prefix, z->plen))
		return 0;
	skip = m - z->depth;
	if (skip == 0) {
		n = apex(r, q, out, cap);
		goto done;
	}
	for (unsigned i = z->depth; i < m; i++) {
		lab = label_at(q, l, m - 1 - i, &len);
		if (i >= z->full || !parse_unit(lab, len, z->unit, &v)) {
			n = negative(r, q, DNS_RCODE_NXDOMAIN, skip, out, cap);
			goto done;
		}
		put_unit(addr, z->unit, i, v);
	}
	if (m < z->full) /* an empty non-terminal: it exists, with no records */
		n = negative(r, q, DNS_RCODE_NOERROR, skip, out, cap);
	else
		n = reverse_host(r, q, z, addr, skip, out, cap);
done:
	if (n < 0)
		return n;
	*out_len = (size_t)n;
	return 1;
}

static void revzone_v4(const struct dns_responder *r, struct revzone *z)
{
	*z = (struct revzone){.family = AF_INET,
	                      .unit = 8,
	                      .full = 4,
	                      .suffix = in_addr_arpa,
	                      .suffix_len = sizeof(in_addr_arpa),
	                      .plen = r->lsi_prefix_len};
	store_be32(z->prefix, r->lsi_prefix);
	z->depth = (z->plen + 7) / 8;
	if (z->depth == 0)
		z->depth = 1;
}

static void revzone_v6(struct revzone *z)
{
	*z = (struct revzone){.family = AF_INET6,
	                      .unit = 4,
	                      .full = 32,
	                      .suffix = ip6_arpa,
	                      .suffix_len = sizeof(ip6_arpa),
	                      .plen = ORCHID_PREFIX_LEN,
	                      .depth = (ORCHID_PREFIX_LEN + 3) / 4};
	memcpy(z->prefix, orchid_prefix, sizeof(orchid_prefix));
}

/* ---- the decision ---- */

static int reply(int n, size_t *out_len)
{
	if (n < 0)
		return n;
	*out_len = (size_t)n;
	return DNS_ACTION_REPLY;
}

int dns_responder_handle(const struct dns_responder *r, const uint8_t *msg, size_t len,
                         struct dns_query *q, struct dns_lookup *lookup, uint8_t *out, size_t cap,
                         size_t *out_len)
{
	struct labels l;
	struct revzone z;
	int e;

	*out_len = 0;
	lookup->name[0] = '\0';
	if (cap < DNS_UDP_MIN)
		return -EINVAL;
	e = dns_query_parse(msg, len, q);
	if (e == -EBADMSG)
		return DNS_ACTION_DROP;
	if (e < 0)
		return reply(dns_build_error(q, DNS_RCODE_FORMERR, out, cap), out_len);
	if (q->opcode != DNS_OPCODE_QUERY)
		return reply(dns_build_error(q, DNS_RCODE_NOTIMP, out, cap), out_len);
	if (q->edns && q->edns_version > 0)
		return reply(dns_build_error(q, DNS_RCODE_BADVERS, out, cap), out_len);
	if (q->qtype == DNS_TYPE_OPT)
		return reply(dns_build_error(q, DNS_RCODE_FORMERR, out, cap), out_len);
	/* Zone transfers are not offered, and other classes hold nothing. */
	if (q->qclass != DNS_CLASS_IN || q->qtype == DNS_TYPE_AXFR || q->qtype == DNS_TYPE_IXFR)
		return reply(dns_build_error(q, DNS_RCODE_REFUSED, out, cap), out_len);
	split_labels(q, &l);
	if (under(q, &l, r->domain, r->domain_len, r->domain_labels))
		return in_domain(r, q, &l, lookup, out, cap, out_len);
	revzone_v4(r, &z);
	e = reverse(r, q, &l, &z, out, cap, out_len);
	if (e == 0) {
		revzone_v6(&z);
		e = reverse(r, q, &l, &z, out, cap, out_len);
	}
	if (e < 0)
		return e;
	if (e > 0)
		return DNS_ACTION_REPLY;
	if (r->has_upstream)
		return DNS_ACTION_FORWARD;
	return reply(dns_build_error(q, DNS_RCODE_REFUSED, out, cap), out_len);
}

int dns_responder_answer(const struct dns_responder *r, const struct dns_query *q,
                         enum dns_lookup_outcome outcome, const struct hit *hit, uint32_t lsi,
                         uint8_t *out, size_t cap)
{
	struct labels l;

	if (!q->has_question)
		return -EINVAL;
	split_labels(q, &l);
	if (!under(q, &l, r->domain, r->domain_len, r->domain_labels) ||
	    classify(r, q, &l) != NAME_PEER)
		return -EINVAL;
	switch (outcome) {
	case DNS_LOOKUP_FOUND:
		if (!hit)
			return -EINVAL;
		return host(r, q, hit, lsi, out, cap);
	case DNS_LOOKUP_NOT_FOUND:
		return negative(r, q, DNS_RCODE_NXDOMAIN, 1, out, cap);
	case DNS_LOOKUP_FAILED:
		return dns_build_error(q, DNS_RCODE_SERVFAIL, out, cap);
	}
	return -EINVAL;
}
