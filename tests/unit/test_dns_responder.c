/* SPDX-License-Identifier: MIT */
/* test_dns_responder.c: every answering rule of the overlay resolver: own
 * name, peers (lookup, then found / not found / failed), the apex, '_' and
 * deep names, reverse names of LSIs and HITs, FORMERR/NOTIMP/BADVERS/REFUSED,
 * forwarding, EDNS0, truncation, case, and retransmissions. Replies are read
 * back with a small independent parser that follows compression pointers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"
#include "dns/responder.h"

#define T_A     1
#define T_NS    2
#define T_SOA   6
#define T_PTR   12
#define T_MX    15
#define T_TXT   16
#define T_AAAA  28
#define T_SRV   33
#define T_NAPTR 35
#define T_OPT   41
#define T_HTTPS 65
#define T_AXFR  252
#define T_ANY   255

#define OWN_LSI   0x64400102u /* 100.64.1.2 */
#define PEER_LSI  0x64460304u /* 100.70.3.4 */
#define LSI_PFX   0x64400000u
#define RESOLVER4 0x64400035u

static const struct hit own_hit = {{0x20, 0x01, 0x00, 0x2a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                                    0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc}};
static const struct hit peer_hit = {
        {0x20, 0x01, 0x00, 0x2b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05}};

/* ---- building queries ---- */

static size_t query(uint8_t *b, uint16_t id, uint16_t flags, const char *name, uint16_t type,
                    uint16_t klass, int edns_size, bool dnssec_ok)
{
	size_t o = 12;

	memset(b, 0, 12);
	store_be16(b, id);
	store_be16(b + 2, flags);
	store_be16(b + 4, 1);
	store_be16(b + 10, edns_size > 0 ? 1 : 0);
	if (strcmp(name, ".") == 0)
		name++;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		b[o++] = (uint8_t)l;
		memcpy(b + o, name, l);
		o += l;
		name += l + (dot ? 1 : 0);
	}
	b[o++] = 0;
	store_be16(b + o, type);
	store_be16(b + o + 2, klass);
	o += 4;
	if (edns_size > 0) {
		b[o] = 0;
		store_be16(b + o + 1, T_OPT);
		store_be16(b + o + 3, (uint16_t)edns_size);
		store_be32(b + o + 5, dnssec_ok ? 0x8000 : 0);
		store_be16(b + o + 9, 0);
		o += 11;
	}
	return o;
}

/* ---- reading replies ---- */

struct rr {
	char owner[300];
	uint16_t type;
	uint16_t klass;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;
	size_t rdoff;
};

struct msg {
	uint16_t id;
	uint16_t flags;
	uint16_t qd, an, ns, ar;
	char qname[300];
	uint16_t qtype;
	struct rr rr[16];
	size_t nrr;
};

/* Dotted text of the name at *off (case kept); *off moves past it. */
static void read_name(const uint8_t *b, size_t n, size_t *off, char *out)
{
	size_t pos = *off, o = 0;
	bool jumped = false;
	int hops = 0;

	for (;;) {
		uint8_t l;
		assert_true(pos < n);
		l = b[pos];
		if ((l & 0xc0) == 0xc0) {
			assert_true(pos + 1 < n);
			if (!jumped)
				*off = pos + 2;
			jumped = true;
			pos = (size_t)(l & 0x3f) << 8 | b[pos + 1];
			assert_true(++hops < 20);
			continue;
		}
		assert_int_equal(l & 0xc0, 0);
		pos++;
		if (l == 0)
			break;
		assert_true(pos + l <= n);
		memcpy(out + o, b + pos, l);
		o += l;
		out[o++] = '.';
		pos += l;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	if (!jumped)
		*off = pos;
}

static void parse_msg(const uint8_t *b, size_t n, struct msg *m)
{
	size_t off = 12;

	memset(m, 0, sizeof(*m));
	assert_true(n >= 12);
	m->id = load_be16(b);
	m->flags = load_be16(b + 2);
	m->qd = load_be16(b + 4);
	m->an = load_be16(b + 6);
	m->ns = load_be16(b + 8);
	m->ar = load_be16(b + 10);
	assert_true(m->qd <= 1);
	if (m->qd) {
		read_name(b, n, &off, m->qname);
		assert_true(off + 4 <= n);
		m->qtype = load_be16(b + off);
		off += 4;
	}
	for (size_t i = 0; i < (size_t)m->an + m->ns + m->ar; i++) {
		struct rr *r = &m->rr[m->nrr++];
		assert_true(m->nrr <= 16);
		read_name(b, n, &off, r->owner);
		assert_true(off + 10 <= n);
		r->type = load_be16(b + off);
		r->klass = load_be16(b + off + 2);
		r->ttl = load_be32(b + off + 4);
		r->rdlen = load_be16(b + off + 8);
		off += 10;
		assert_true(off + r->rdlen <= n);
		r->rdata = b + off;
		r->rdoff = off;
		off += r->rdlen;
	}
	assert_int_equal(off, n); /* nothing trailing */
}

static int rcode(const struct msg *m)
{
	int ext = 0;

	for (size_t i = 0; i < m->nrr; i++)
		if (m->rr[i].type == T_OPT)
			ext = (int)(m->rr[i].ttl >> 24) << 4;
	return ext | (m->flags & 0xf);
}

/* ---- the responder under test ---- */

struct fixture {
	struct dns_responder r;
	int ptr_calls;
};

static int ptr_name(void *arg, int family, const uint8_t *addr, char name[DNS_NAME_MAX + 1])
{
	struct fixture *f = arg;
	uint8_t lsi[4];

	f->ptr_calls++;
	store_be32(lsi, PEER_LSI);
	if ((family == AF_INET && memcmp(addr, lsi, 4) == 0) ||
	    (family == AF_INET6 && memcmp(addr, peer_hit.b, 16) == 0)) {
		strcpy(name, "venus.example.internal");
		return 0;
	}
	return -ENOENT;
}

static void setup_with(struct fixture *f, const char *domain, bool upstream)
{
	struct dns_responder_config cfg = {
	        .domain = domain,
	        .own_name = "mars",
	        .own_hit = own_hit,
	        .own_lsi = OWN_LSI,
	        .lsi_prefix = LSI_PFX,
	        .lsi_prefix_len = 10,
	        .has_upstream = upstream,
	        .ptr_name = ptr_name,
	        .ptr_arg = f,
	};

	memset(f, 0, sizeof(*f));
	assert_int_equal(dns_responder_init(&f->r, &cfg), 0);
}

static int setup(void **state)
{
	static struct fixture f;

	setup_with(&f, "example.internal", false);
	*state = &f;
	return 0;
}

struct result {
	int action;
	struct dns_query q;
	struct dns_lookup lookup;
	uint8_t out[4096];
	size_t len;
	struct msg m;
};

static void ask_raw(const struct fixture *f, const uint8_t *msg, size_t n, struct result *res)
{
	res->action = dns_responder_handle(&f->r, msg, n, &res->q, &res->lookup, res->out,
	                                   sizeof(res->out), &res->len);
	assert_true(res->action >= 0);
	if (res->action == DNS_ACTION_REPLY)
		parse_msg(res->out, res->len, &res->m);
}

static void ask(const struct fixture *f, const char *name, uint16_t type, struct result *res)
{
	uint8_t b[600];
	size_t n = query(b, 0x4242, DNS_FLAG_RD, name, type, 1, 0, false);

	ask_raw(f, b, n, res);
}

/* An answer from our zones: authoritative, RD copied, RA set. */
static void expect_reply(const struct result *res, int rc, unsigned an, unsigned ns)
{
	assert_int_equal(res->action, DNS_ACTION_REPLY);
	assert_int_equal(rcode(&res->m), rc);
	assert_int_equal(res->m.id, 0x4242);
	assert_true(res->m.flags & DNS_FLAG_QR);
	assert_true(res->m.flags & DNS_FLAG_RD);
	assert_true(res->m.flags & DNS_FLAG_RA);
	assert_false(res->m.flags & DNS_FLAG_TC);
	assert_int_equal(res->m.an, an);
	assert_int_equal(res->m.ns, ns);
}

static void expect_soa(const struct rr *rr, const char *owner)
{
	size_t off = rr->rdoff;
	char mname[300], rname[300];
	const uint8_t *b = rr->rdata - rr->rdoff;

	assert_int_equal(rr->type, T_SOA);
	assert_string_equal(rr->owner, owner);
	read_name(b, rr->rdoff + rr->rdlen, &off, mname);
	read_name(b, rr->rdoff + rr->rdlen, &off, rname);
	assert_string_equal(mname, "mars.example.internal.");
	assert_string_equal(rname, "hostmaster.example.internal.");
	assert_int_equal(off + 20, rr->rdoff + rr->rdlen);
	assert_int_equal(load_be32(b + off + 16), DNS_TTL_DEFAULT); /* MINIMUM */
	assert_int_equal(rr->ttl, DNS_TTL_DEFAULT);
}

static void expect_a(const struct rr *rr, const char *owner, uint32_t lsi)
{
	assert_int_equal(rr->type, T_A);
	assert_int_equal(rr->klass, 1);
	assert_string_equal(rr->owner, owner);
	assert_int_equal(rr->rdlen, 4);
	assert_int_equal(load_be32(rr->rdata), lsi);
	assert_int_equal(rr->ttl, DNS_TTL_DEFAULT);
}

static void expect_aaaa(const struct rr *rr, const char *owner, const struct hit *h)
{
	assert_int_equal(rr->type, T_AAAA);
	assert_string_equal(rr->owner, owner);
	assert_int_equal(rr->rdlen, 16);
	assert_memory_equal(rr->rdata, h->b, 16);
}

static void expect_ptr(const struct rr *rr, const char *owner, const char *target)
{
	size_t off = rr->rdoff;
	char name[300];

	assert_int_equal(rr->type, T_PTR);
	assert_string_equal(rr->owner, owner);
	read_name(rr->rdata - rr->rdoff, rr->rdoff + rr->rdlen, &off, name);
	assert_string_equal(name, target);
}

/* ---- own name ---- */

static void test_own_name(void **state)
{
	struct fixture *f = *state;
	static struct result res;

	ask(f, "mars.example.internal", T_A, &res);
	expect_reply(&res, 0, 1, 0);
	assert_true(res.m.flags & DNS_FLAG_AA);
	expect_a(&res.m.rr[0], "mars.example.internal.", OWN_LSI);

	ask(f, "mars.example.internal", T_AAAA, &res);
	expect_reply(&res, 0, 1, 0);
	expect_aaaa(&res.m.rr[0], "mars.example.internal.", &own_hit);

	ask(f, "mars.example.internal", T_ANY, &res);
	expect_reply(&res, 0, 2, 0);
	expect_a(&res.m.rr[0], "mars.example.internal.", OWN_LSI);
	expect_aaaa(&res.m.rr[1], "mars.example.internal.", &own_hit);

	/* Types we have no record of: NODATA with the SOA, never NXDOMAIN. */
	static const uint16_t others[] = {T_MX, T_TXT, T_HTTPS, T_NAPTR, T_SRV, T_PTR, T_SOA, T_NS};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		ask(f, "mars.example.internal", others[i], &res);
		expect_reply(&res, 0, 0, 1);
		assert_true(res.m.flags & DNS_FLAG_AA);
		expect_soa(&res.m.rr[0], "example.internal.");
	}
	assert_int_equal(f->ptr_calls, 0);
}

static void test_case_kept(void **state)
{
	struct fixture *f = *state;
	static struct result res;

	ask(f, "MaRS.ExAmple.INTERNAL.", T_A, &res);
	expect_reply(&res, 0, 1, 0);
	assert_string_equal(res.m.qname, "MaRS.ExAmple.INTERNAL.");
	expect_a(&res.m.rr[0], "MaRS.ExAmple.INTERNAL.", OWN_LSI);

	ask(f, "MaRS.ExAmple.INTERNAL", T_TXT, &res);
	expect_reply(&res, 0, 0, 1);
	assert_string_equal(res.m.rr[0].owner, "ExAmple.INTERNAL.");

	ask(f, "VENUS.Example.Internal", T_AAAA, &res);
	assert_int_equal(res.action, DNS_ACTION_LOOKUP);
	assert_string_equal(res.lookup.name, "venus.example.internal");
}

/* ---- peers ---- */

static void answer(const struct fixture *f, struct result *res, enum dns_lookup_outcome o)
{
	int n = dns_responder_answer(&f->r, &res->q, o, o == DNS_LOOKUP_FOUND ? &peer_hit : NULL,
	                             PEER_LSI, res->out, sizeof(res->out));

	assert_true(n > 0);
	res->len = (size_t)n;
	res->action = DNS_ACTION_REPLY;
	parse_msg(res->out, res->len, &res->m);
}

static void test_peer_lookup(void **state)
{
	struct fixture *f = *state;
	static struct result res;

	ask(f, "Venus.example.internal", T_A, &res);
	assert_int_equal(res.action, DNS_ACTION_LOOKUP);
	assert_string_equal(res.lookup.name, "venus.example.internal");
	assert_int_equal(res.len, 0);
	answer(f, &res, DNS_LOOKUP_FOUND);
	expect_reply(&res, 0, 1, 0);
	assert_true(res.m.flags & DNS_FLAG_AA);
	expect_a(&res.m.rr[0], "Venus.example.internal.", PEER_LSI);

	/* AAAA agrees with A: the same lookup outcome gives the same peer. */
	ask(f, "venus.example.internal", T_AAAA, &res);
	assert_int_equal(res.action, DNS_ACTION_LOOKUP);
	answer(f, &res, DNS_LOOKUP_FOUND);
	expect_reply(&res, 0, 1, 0);
	expect_aaaa(&res.m.rr[0], "venus.example.internal.", &peer_hit);

	ask(f, "venus.example.internal", T_ANY, &res);
	assert_int_equal(res.action, DNS_ACTION_LOOKUP);
	answer(f, &res, DNS_LOOKUP_FOUND);
	expect_reply(&res, 0, 2, 0);
	expect_a(&res.m.rr[0], "venus.example.internal.", PEER_LSI);
	expect_aaaa(&res.m.rr[1], "venus.example.internal.", &peer_hit);
}

/* NAPTR/HTTPS/MX for a peer: whether it is NODATA or NXDOMAIN depends on
 * whether the name exists, so it is looked up too. */
static void test_peer_other_types(void **state)
{
	struct fixture *f = *state;
	static struct result res;
	static const uint16_t others[] = {T_NAPTR, T_HTTPS, T_MX, T_TXT};

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		ask(f, "venus.example.internal", others[i], &res);
		assert_int_equal(res.action, DNS_ACTION_LOOKUP);
		answer(f, &res, DNS_LOOKUP_FOUND);
		expect_reply(&res, 0, 0, 1);
		expect_soa(&res.m.rr[0], "example.internal.");

		ask(f, "venus.example.internal", others[i], &res);
		answer(f, &res, DNS_LOOKUP_NOT_FOUND);
		expect_reply(&res, DNS_RCODE_NXDOMAIN, 0, 1);
	}
}

static void test_peer_not_found_and_failed(void **state)
{
	struct fixture *f = *state;
	static struct result res;

	ask(f, "pluto.example.internal", T_A, &res);
	assert_int_equal(res.action, DNS_ACTION_LOOKUP);
	answer(f, &res, DNS_LOOKUP_NOT_FOUND);
	expect_reply(&res, DNS_RCODE_NXDOMAIN, 0, 1);
	assert_true(res.m.flags & DNS_FLAG_AA);
	expect_soa(&res.m.rr[0], "example.internal.");

	ask(f, "pluto.example.internal", T_AAAA, &res);
	answer(f, &res, DNS_LOOKUP_FAILED);
	expect_reply(&res, DNS_RCODE_SERVFAIL, 0, 0);
	assert_false(res.m.flags & DNS_FLAG_AA);

	/* The second call refuses a query that never asked for a lookup. */
	ask(f, "mars.example.internal", T_A, &res);
	assert_int_equal(dns_responder_answer(&f->r, &res.q, DNS_LOOKUP_FOUND, &peer_hit, PEER_LSI,
	                                      res.out, sizeof(res.out)),
	                 -EINVAL);
	ask(f, "venus.example.internal", T_A, &res);
	assert_int_equal(dns_responder_answer(&f->r, &res.q, DNS_LOOKUP_FOUND, NULL, PEER_LSI,
	                                      res.out, sizeof(res.out)),
	                 -EINVAL);
}

/* ---- names that can never be peers ---- */

static void test_underscore_and_deep(void **state)
{
	struct fixture *f = *state;
	static struct result res;
	static const struct {
		const char *name;
		uint16_t type;
		const char *zone;
	} cases[] = {
	        {"_sip._udp.mars.example.internal", T_SRV, "example.internal."},
	        {"_sips._tcp.Venus.example.internal", T_SRV, "example.internal."},
	        {"_8000._https.venus.example.internal", T_HTTPS, "example.internal."},
	        {"_dmarc.example.internal", T_TXT, "example.internal."},
	        {"_venus.example.internal", T_A, "example.internal."},
	        {"www.venus.example.internal", T_A, "example.internal."},
	        {"a.b.c.example.internal", T_AAAA, "example.internal."},
	        {"-venus.example.internal", T_A, "example.internal."},
	        {"ven_us.example.internal", T_A, "example.internal."},
	        {"ven\\032us.example.internal", T_A, "example.internal."},
	        {"EXAMPLE.internal", T_A, NULL}, /* the apex: NODATA, below */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ask(f, cases[i].name, cases[i].type, &res);
		if (!cases[i].zone) {
			expect_reply(&res, 0, 0, 1);
			expect_soa(&res.m.rr[0], "EXAMPLE.internal.");
			continue;
		}
		expect_reply(&res, DNS_RCODE_NXDOMAIN, 0, 1);
		assert_true(res.m.flags & DNS_FLAG_AA);
		expect_soa(&res.m.rr[0], cases[i].zone);
	}
}

/* ---- the apex ---- */

static void test_apex(void **state)
{
	struct fixture *f = *state;
	static struct result res;
	size_t off;
	char ns[300];

	ask(f, "Example.Internal", T_SOA, &res);
	expect_reply(&res, 0, 1, 0);
	expect_soa(&res.m.rr[0], "Example.Internal.");

	ask(f, "example.internal", T_NS, &res);
	expect_reply(&res, 0, 1, 0);
	assert_int_equal(res.m.rr[0].type, T_NS);
	off = res.m.rr[0].rdoff;
	read_name(res.out, res.len, &off, ns);
	assert_string_equal(ns, "mars.example.internal.");

	ask(f, "example.internal", T_ANY, &res);
	expect_reply(&res, 0, 2, 0);
	expect_soa(&res.m.rr[0], "example.internal.");
	assert_int_equal(res.m.rr[1].type, T_NS);

	ask(f, "example.internal", T_AAAA, &res);
	expect_reply(&res, 0, 0, 1);
	expect_soa(&res.m.rr[0], "example.internal.");
}

/* ---- outside our zones ---- */

static void test_outside(void **state)
{
	struct fixture *f = *state;
	static struct fixture up;
	static struct result res;
	static const char *names[] = {"www.example.com", "internal", "example.internal.com",
	                              "xexample.internal", "."};

	setup_with(&up, "example.internal", true);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ask(f, names[i], T_A, &res);
		assert_int_equal(res.action, DNS_ACTION_REPLY);
		assert_int_equal(rcode(&res.m), DNS_RCODE_REFUSED);
		assert_false(res.m.flags & DNS_FLAG_AA);
		assert_int_equal(res.m.an + res.m.ns, 0);
		ask(&up, names[i], T_A, &res);
		assert_int_equal(res.action, DNS_ACTION_FORWARD);
		assert_int_equal(res.len, 0);
		assert_true(res.q.has_question);
	}
	/* Reverse names outside our prefixes are not ours either. */
	ask(&up, "1.0.168.192.in-addr.arpa", T_PTR, &res);
	assert_int_equal(res.action, DNS_ACTION_FORWARD);
	ask(&up, "100.in-addr.arpa", T_NS, &res);
	assert_int_equal(res.action, DNS_ACTION_FORWARD);
	ask(&up, "4.3.2.63.100.in-addr.arpa", T_PTR, &res); /* 100.63.x: below the /10 */
	assert_int_equal(res.action, DNS_ACTION_FORWARD);
	ask(&up, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", T_PTR,
	    &res);
	assert_int_equal(res.action, DNS_ACTION_FORWARD);
	/* Zone transfers and other classes: refused even with an upstream. */
	ask(&up, "www.example.com", T_AXFR, &res);
	assert_int_equal(res.action, DNS_ACTION_REPLY);
	assert_int_equal(rcode(&res.m), DNS_RCODE_REFUSED);
	ask(&up, "example.internal", T_AXFR, &res);
	assert_int_equal(rcode(&res.m), DNS_RCODE_REFUSED);
	{
		uint8_t b[100];
		size_t n = query(b, 0x4242, 0, "version.bind", T_TXT, 3 /* CH */, 0, false);
		ask_raw(&up, b, n, &res);
		assert_int_equal(res.action, DNS_ACTION_REPLY);
		assert_int_equal(rcode(&res.m), DNS_RCODE_REFUSED);
	}
}

/* ---- reverse names ---- */

static void test_ptr_v4(void **state)
{
	struct fixture *f = *state;
	static struct result res;

	ask(f, "2.1.64.100.in-addr.arpa", T_PTR, &res);
	expect_reply(&res, 0, 1, 0);
	assert_true(res.m.flags & DNS_FLAG_AA);
	expect_ptr(&res.m.rr[0], "2.1.64.100.in-addr.arpa.", "mars.example.internal.");

	ask(f, "4.3.70.100.IN-ADDR.ARPA", T_PTR, &res);
	expect_reply(&res, 0, 1, 0);
	expect_ptr(&res.m.rr[0], "4.3.70.100.IN-ADDR.ARPA.", "venus.example.internal.");

	/* A known address, another type: NODATA; ANY: the PTR. */
	ask(f, "4.3.70.100.in-addr.arpa", T_A, &res);
	expect_reply(&res, 0, 0, 1);
	assert_int_equal(res.m.rr[0].type, T_SOA);
	assert_string_equal(res.m.rr[0].owner, "70.100.in-addr.arpa.");
	ask(f, "4.3.70.100.in-addr.arpa", T_ANY, &res);
	expect_reply(&res, 0, 1, 0);

	/* Unknown: NXDOMAIN with the reverse zone's SOA. */
	ask(f, "9.9.70.100.in-addr.arpa", T_PTR, &res);
	expect_reply(&res, DNS_RCODE_NXDOMAIN, 0, 1);
	assert_int_equal(res.m.rr[0].type, T_SOA);
	assert_string_equal(res.m.rr[0].owner, "70.100.in-addr.arpa.");
	/* The resolver address has no name either. */
	ask(f, "53.0.64.100.in-addr.arpa", T_PTR, &res);
	expect_reply(&res, DNS_RCODE_NXDOMAIN, 0, 1);

	/* Zone apex (a /16 inside the /10), empty non-terminal, too deep,
	 * not a canonical octet. */
	ask(f, "127.100.in-addr.arpa", T_SOA, &res);
	expect_reply(&res, 0, 1, 0);
	assert_string_equal(res.m.rr[0].owner, "127.100.in-addr.arpa.");
	ask(f, "64.100.in-addr.arpa", T_PTR, &res);
	expect_reply(&res, 0, 0, 1);
	ask(f, "3.70.100.in-addr.arpa", T_PTR, &res);
	expect_reply(&res, 0, 0, 1);
	assert_string_equal(res.m.rr[0].owner, "70.100.in-addr.arpa.");
	ask(f, "5.4.3.70.100.in-addr.arpa", T_PTR, &res);
	expect_reply(&res, DNS_RCODE_NXDOMAIN, 0, 1);
	ask(f, "04.3.70.100.in-addr.arpa", T_PTR, &res);
	expect_reply(&res, DNS_RCODE_NXDOMAIN, 0, 1);
	ask(f, "256.3.70.100.in-addr.arpa", T_PTR, &res);
	expect_reply(&res, DNS_RCODE_NXDOMAIN, 0, 1);
	/* Outside the prefix and without an upstream: refused. */
	ask(f, "4.3.2.128.in-addr.arpa", T_PTR, &res);
	assert_int_equal(rcode(&res.m), DNS_RCODE_REFUSED);
}

/* The nibble name of a 16-byte address. */
static void nibbles(const uint8_t *a, const char *suffix, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (int i = 15; i >= 0; i--) {
		out[o++] = hex[a[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[a[i] >> 4];
		out[o++] = '.';
	}
	strcpy(out + o, suffix);
}

static void test_ptr_v6(void **state)
{
	struct fixture *f = *state;
	static struct result res;
	char name[200];
	uint8_t other[16];

	nibbles(own_hit.b, "ip6.arpa", name);
	ask(f, name, T_PTR, &res);
	expect_reply(&res, 0, 1, 0);
	expect_ptr(&res.m.rr[0], strcat(name, "."), "mars.example.internal.");

	nibbles(peer_hit.b, "IP6.ARPA", name);
	ask(f, name, T_PTR, &res);
	expect_reply(&res, 0, 1, 0);
	expect_ptr(&res.m.rr[0], strcat(name, "."), "venus.example.internal.");

	nibbles(peer_hit.b, "ip6.arpa", name);
	ask(f, name, T_AAAA, &res);
	expect_reply(&res, 0, 0, 1);
	assert_string_equal(res.m.rr[0].owner, "2.0.0.1.0.0.2.ip6.arpa.");

	memcpy(other, peer_hit.b, 16);
	other[15] = 0x77;
	nibbles(other, "ip6.arpa", name);
	ask(f, name, T_PTR, &res);
	expect_reply(&res, DNS_RCODE_NXDOMAIN, 0, 1);
	assert_string_equal(res.m.rr[0].owner, "2.0.0.1.0.0.2.ip6.arpa.");

	/* Zone apex, an empty non-terminal, a bad nibble, one too many. */
	ask(f, "2.0.0.1.0.0.2.ip6.arpa", T_SOA, &res);
	expect_reply(&res, 0, 1, 0);
	ask(f, "b.2.0.0.1.0.0.2.ip6.arpa", T_PTR, &res);
	expect_reply(&res, 0, 0, 1);
	ask(f, "bb.2.0.0.1.0.0.2.ip6.arpa", T_PTR, &res);
	expect_reply(&res, DNS_RCODE_NXDOMAIN, 0, 1);
	nibbles(peer_hit.b, "ip6.arpa", name + 2);
	name[0] = '1';
	name[1] = '.';
	ask(f, name, T_PTR, &res);
	expect_reply(&res, DNS_RCODE_NXDOMAIN, 0, 1);

	/* 2001:30::/28 is not a HIT. */
	memcpy(other, peer_hit.b, 16);
	other[3] = 0x30;
	nibbles(other, "ip6.arpa", name);
	ask(f, name, T_PTR, &res);
	assert_int_equal(rcode(&res.m), DNS_RCODE_REFUSED);
}

/* ---- errors ---- */

static void test_formerr_notimp_drop(void **state)
{
	struct fixture *f = *state;
	static struct result res;
	uint8_t b[600];
	size_t n;

	/* Two questions: FORMERR, no question echoed. */
	n = query(b, 0x4242, DNS_FLAG_RD, "mars.example.internal", T_A, 1, 0, false);
	store_be16(b + 4, 2);
	ask_raw(f, b, n, &res);
	assert_int_equal(res.action, DNS_ACTION_REPLY);
	assert_int_equal(rcode(&res.m), DNS_RCODE_FORMERR);
	assert_int_equal(res.m.qd, 0);
	assert_int_equal(res.m.id, 0x4242);
	assert_false(res.m.flags & DNS_FLAG_AA);

	/* Trailing bytes: FORMERR with the question echoed. */
	n = query(b, 0x4242, DNS_FLAG_RD, "mars.example.internal", T_A, 1, 0, false);
	b[n++] = 0;
	ask_raw(f, b, n, &res);
	assert_int_equal(rcode(&res.m), DNS_RCODE_FORMERR);
	assert_int_equal(res.m.qd, 1);

	/* OPT as the question type. */
	n = query(b, 0x4242, 0, "example.internal", T_OPT, 1, 0, false);
	ask_raw(f, b, n, &res);
	assert_int_equal(rcode(&res.m), DNS_RCODE_FORMERR);

	/* Opcodes other than QUERY: NOTIMP, opcode echoed. */
	for (unsigned op = 1; op < 16; op++) {
		n = query(b, 0x4242, (uint16_t)(op << 11), "mars.example.internal", T_SOA, 1, 0,
		          false);
		ask_raw(f, b, n, &res);
		assert_int_equal(res.action, DNS_ACTION_REPLY);
		assert_int_equal(rcode(&res.m), DNS_RCODE_NOTIMP);
		assert_int_equal((res.m.flags >> 11) & 0xf, op);
	}

	/* No header, or a response: dropped, nothing written. */
	ask_raw(f, b, 11, &res);
	assert_int_equal(res.action, DNS_ACTION_DROP);
	assert_int_equal(res.len, 0);
	n = query(b, 0x4242, DNS_FLAG_QR, "mars.example.internal", T_A, 1, 0, false);
	ask_raw(f, b, n, &res);
	assert_int_equal(res.action, DNS_ACTION_DROP);

	/* A caller buffer below 512 bytes is a caller bug. */
	assert_int_equal(
	        dns_responder_handle(&f->r, b, n, &res.q, &res.lookup, res.out, 100, &res.len),
	        -EINVAL);
}

/* ---- EDNS0 ---- */

static const struct rr *find_opt(const struct msg *m)
{
	for (size_t i = 0; i < m->nrr; i++)
		if (m->rr[i].type == T_OPT)
			return &m->rr[i];
	return NULL;
}

static void test_edns(void **state)
{
	struct fixture *f = *state;
	static struct result res;
	const struct rr *opt;
	uint8_t b[600];
	size_t n;

	n = query(b, 0x4242, DNS_FLAG_RD, "mars.example.internal", T_A, 1, 4096, true);
	ask_raw(f, b, n, &res);
	expect_reply(&res, 0, 1, 0);
	assert_int_equal(res.m.ar, 1);
	opt = find_opt(&res.m);
	assert_non_null(opt);
	assert_string_equal(opt->owner, ".");
	assert_int_equal(opt->klass, DNS_EDNS_SIZE);
	assert_int_equal(opt->ttl, 0x8000); /* DO copied, version 0, no extended rcode */

	n = query(b, 0x4242, DNS_FLAG_RD, "pluto.example.internal", T_A, 1, 1232, false);
	ask_raw(f, b, n, &res);
	assert_int_equal(res.action, DNS_ACTION_LOOKUP);
	answer(f, &res, DNS_LOOKUP_NOT_FOUND);
	expect_reply(&res, DNS_RCODE_NXDOMAIN, 0, 1);
	opt = find_opt(&res.m);
	assert_non_null(opt);
	assert_int_equal(opt->ttl, 0);

	/* Without EDNS in the query, none in the reply. */
	ask(f, "mars.example.internal", T_A, &res);
	assert_int_equal(res.m.ar, 0);

	/* EDNS version 1: BADVERS (16), carried in our OPT. */
	n = query(b, 0x4242, DNS_FLAG_RD, "mars.example.internal", T_A, 1, 1232, false);
	b[n - 11 + 6] = 1;
	ask_raw(f, b, n, &res);
	assert_int_equal(res.action, DNS_ACTION_REPLY);
	assert_int_equal(rcode(&res.m), DNS_RCODE_BADVERS);
	assert_int_equal(res.m.an, 0);
	assert_non_null(find_opt(&res.m));
}

/* ---- truncation ---- */

static void test_truncation(void **state)
{
	static struct fixture big;
	static struct result res;
	char domain[260], name[300];
	uint8_t b[600];
	size_t n;

	(void)state;
	/* A 200-character domain: its SOA alone is over 400 bytes. */
	memset(domain, 0, sizeof(domain));
	for (int i = 0; i < 3; i++) {
		memset(domain + i * 64, 'a' + i, 63);
		domain[i * 64 + 63] = '.';
	}
	strcat(domain, "internal");
	setup_with(&big, domain, false);

	snprintf(name, sizeof(name), "pluto.%s", domain);
	n = query(b, 0x4242, DNS_FLAG_RD, name, T_A, 1, 0, false);
	ask_raw(&big, b, n, &res);
	assert_int_equal(res.action, DNS_ACTION_LOOKUP);
	answer(&big, &res, DNS_LOOKUP_NOT_FOUND);
	assert_int_equal(rcode(&res.m), DNS_RCODE_NXDOMAIN);
	assert_true(res.m.flags & DNS_FLAG_TC);
	assert_int_equal(res.m.an + res.m.ns, 0);
	assert_int_equal(res.m.qd, 1);
	assert_true(res.len <= 512);

	/* The same with EDNS 1232: it fits. */
	n = query(b, 0x4242, DNS_FLAG_RD, name, T_A, 1, 1232, false);
	ask_raw(&big, b, n, &res);
	answer(&big, &res, DNS_LOOKUP_NOT_FOUND);
	assert_false(res.m.flags & DNS_FLAG_TC);
	assert_int_equal(res.m.ns, 1);
	assert_true(res.len > 512);

	/* Apex ANY (SOA + NS) without EDNS: truncated at once. */
	n = query(b, 0x4242, DNS_FLAG_RD, domain, T_ANY, 1, 0, false);
	ask_raw(&big, b, n, &res);
	assert_int_equal(res.action, DNS_ACTION_REPLY);
	assert_true(res.m.flags & DNS_FLAG_TC);
	assert_int_equal(res.m.an, 0);
	/* EDNS 512 means 512. */
	n = query(b, 0x4242, DNS_FLAG_RD, domain, T_ANY, 1, 512, false);
	ask_raw(&big, b, n, &res);
	assert_true(res.m.flags & DNS_FLAG_TC);
	assert_true(res.len <= 512);
	assert_non_null(find_opt(&res.m));
}

/* ---- retransmissions ---- */

static void test_retransmit(void **state)
{
	struct fixture *f = *state;
	static struct result a, b;
	uint8_t m[600];
	size_t n = query(m, 0x4242, DNS_FLAG_RD, "Venus.example.internal", T_A, 1, 1232, false);

	ask_raw(f, m, n, &a);
	ask_raw(f, m, n, &b);
	assert_int_equal(a.action, DNS_ACTION_LOOKUP);
	assert_int_equal(b.action, DNS_ACTION_LOOKUP);
	assert_string_equal(a.lookup.name, b.lookup.name);
	assert_true(dns_query_same(&a.q, &b.q));

	n = query(m, 0x4242, DNS_FLAG_RD, "mars.example.internal", T_AAAA, 1, 0, false);
	ask_raw(f, m, n, &a);
	ask_raw(f, m, n, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.out, b.out, a.len);
}

/* ---- configuration ---- */

static void test_init(void **state)
{
	struct dns_responder r;
	struct dns_responder_config cfg = {
	        .domain = "Example.Internal.",
	        .own_name = "Mars",
	        .own_hit = own_hit,
	        .own_lsi = OWN_LSI,
	        .lsi_prefix = LSI_PFX,
	        .lsi_prefix_len = 10,
	        .ttl = 30,
	};
	struct dns_query q;
	struct dns_lookup l;
	uint8_t b[600], out[600];
	size_t n, len;
	struct msg m;

	(void)state;
	assert_int_equal(dns_responder_init(&r, &cfg), 0);
	n = query(b, 1, 0, "mars.example.internal", T_A, 1, 0, false);
	assert_int_equal(dns_responder_handle(&r, b, n, &q, &l, out, sizeof(out), &len),
	                 DNS_ACTION_REPLY);
	parse_msg(out, len, &m);
	assert_int_equal(m.an, 1);
	assert_int_equal(m.rr[0].ttl, 30);
	/* No PTR callback: unknown addresses are NXDOMAIN. */
	n = query(b, 1, 0, "4.3.70.100.in-addr.arpa", T_PTR, 1, 0, false);
	assert_int_equal(dns_responder_handle(&r, b, n, &q, &l, out, sizeof(out), &len),
	                 DNS_ACTION_REPLY);
	parse_msg(out, len, &m);
	assert_int_equal(m.flags & 0xf, DNS_RCODE_NXDOMAIN);

	cfg.own_lsi = 0x0a000001;
	assert_int_equal(dns_responder_init(&r, &cfg), -EINVAL);
	cfg.own_lsi = OWN_LSI;
	cfg.lsi_prefix_len = 33;
	assert_int_equal(dns_responder_init(&r, &cfg), -EINVAL);
	cfg.lsi_prefix_len = 10;
	cfg.own_name = "ma.rs";
	assert_int_equal(dns_responder_init(&r, &cfg), -EINVAL);
	cfg.own_name = "_mars";
	assert_int_equal(dns_responder_init(&r, &cfg), -EINVAL);
	cfg.own_name = "mars";
	cfg.domain = "exa_mple.internal";
	assert_int_equal(dns_responder_init(&r, &cfg), -EINVAL);
	cfg.domain = NULL;
	assert_int_equal(dns_responder_init(&r, &cfg), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_own_name, setup),
	        cmocka_unit_test_setup(test_case_kept, setup),
	        cmocka_unit_test_setup(test_peer_lookup, setup),
	        cmocka_unit_test_setup(test_peer_other_types, setup),
	        cmocka_unit_test_setup(test_peer_not_found_and_failed, setup),
	        cmocka_unit_test_setup(test_underscore_and_deep, setup),
	        cmocka_unit_test_setup(test_apex, setup),
	        cmocka_unit_test_setup(test_outside, setup),
	        cmocka_unit_test_setup(test_ptr_v4, setup),
	        cmocka_unit_test_setup(test_ptr_v6, setup),
	        cmocka_unit_test_setup(test_formerr_notimp_drop, setup),
	        cmocka_unit_test_setup(test_edns, setup),
	        cmocka_unit_test(test_truncation),
	        cmocka_unit_test_setup(test_retransmit, setup),
	        cmocka_unit_test(test_init),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
