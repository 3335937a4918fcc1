/* SPDX-License-Identifier: MIT */
/* wire.c: DNS query parsing, response building and the IP/UDP framing. */
#include "dns/wire.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "common/bytes.h"
#include "common/csum.h"

#define OPT_RR_LEN      11 /* root owner, type, class, ttl, rdlen: no options */
#define EDNS_OPT_COOKIE 10
#define IPV4_HDR_LEN    20
#define IPV6_HDR_LEN    40
#define UDP_HDR_LEN     8
#define IPV4_DF         0x4000
#define IPV4_FRAG_MASK  0x3fff /* MF and the fragment offset */

static uint8_t fold_case(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

bool dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	/* Length octets are at most 63, below 'A', so folding leaves them alone. */
	for (size_t i = 0; i < alen; i++)
		if (fold_case(a[i]) != fold_case(b[i]))
			return false;
	return true;
}

int dns_name_encode(const char *text, uint8_t *out, size_t cap)
{
	size_t len = strlen(text), o = 0;
	const char *p = text, *end;

	if (len > 0 && text[len - 1] == '.')
		len--;
	end = text + len;
	while (p < end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t l = dot ? (size_t)(dot - p) : (size_t)(end - p);
		if (l == 0 || l > 63 || o + 1 + l + 1 > DNS_WIRE_NAME_MAX || o + 1 + l + 1 > cap)
			return -EINVAL;
		out[o++] = (uint8_t)l;
		memcpy(out + o, p, l);
		o += l;
		p += l + (dot ? 1 : 0);
		if (dot && p == end)
			return -EINVAL; /* "a..": the trailing dot was already removed */
	}
	if (o + 1 > cap)
		return -EINVAL;
	out[o++] = 0;
	return (int)o;
}

/* An uncompressed name, as a question must carry it. */
static int read_qname(struct reader *rd, uint8_t *out, size_t *ret_len)
{
	size_t o = 0;

	for (;;) {
		const uint8_t *lab;
		uint8_t n;
		if (reader_u8(rd, &n) < 0)
			return -EPROTO;
		if (n & 0xc0)
			return -EPROTO; /* a pointer, or an extended label type */
		if (o + 1 + n > DNS_WIRE_NAME_MAX)
			return -EPROTO;
		out[o++] = n;
		if (n == 0)
			break;
		if (reader_take(rd, n, &lab) < 0)
			return -EPROTO;
		memcpy(out + o, lab, n);
		o += n;
	}
	*ret_len = o;
	return 0;
}

/* Skips an owner name in the additional section, where compression is legal:
 * a pointer must point backwards, and it ends the name. */
static int skip_name(struct reader *rd, bool *ret_root)
{
	size_t total = 0, start = rd->off;

	for (;;) {
		const uint8_t *p;
		uint8_t n;
		if (reader_u8(rd, &n) < 0)
			return -EPROTO;
		if ((n & 0xc0) == 0xc0) {
			uint8_t lo;
			if (reader_u8(rd, &lo) < 0 || ((size_t)(n & 0x3f) << 8 | lo) >= start)
				return -EPROTO;
			*ret_root = false;
			return 0;
		}
		if (n & 0xc0)
			return -EPROTO;
		total += 1 + (size_t)n;
		if (total > DNS_WIRE_NAME_MAX)
			return -EPROTO;
		if (n == 0)
			break;
		if (reader_take(rd, n, &p) < 0)
			return -EPROTO;
	}
	*ret_root = total == 1;
	return 0;
}

/* RFC 7873 5.2.2: a COOKIE option of the wrong size is a format error. The
 * other options are ignored (RFC 6891 6.1.2). */
static int check_options(const uint8_t *p, size_t len)
{
	struct reader rd = reader_init(p, len);

	while (reader_left(&rd) > 0) {
		uint16_t code, olen;
		const uint8_t *data;
		if (reader_be16(&rd, &code) < 0 || reader_be16(&rd, &olen) < 0 ||
		    reader_take(&rd, olen, &data) < 0)
			return -EPROTO;
		if (code == EDNS_OPT_COOKIE && olen != 8 && (olen < 16 || olen > 40))
			return -EPROTO;
	}
	return 0;
}

static int read_additional(struct reader *rd, struct dns_query *q)
{
	uint16_t type, klass, rdlen;
	uint32_t ttl;
	const uint8_t *rdata;
	size_t start = rd->off;
	bool root;

	if (skip_name(rd, &root) < 0 || reader_be16(rd, &type) < 0 || reader_be16(rd, &klass) < 0 ||
	    reader_be32(rd, &ttl) < 0 || reader_be16(rd, &rdlen) < 0 ||
	    reader_take(rd, rdlen, &rdata) < 0)
		return -EPROTO;
	if (type != DNS_TYPE_OPT)
		return 0; /* TSIG and the like: not supported, not an error */
	/* RFC 6891 6.1.1: one OPT, owned by the root. */
	if (q->edns || !root || check_options(rdata, rdlen) < 0)
		return -EPROTO;
	q->edns = true;
	q->opt_off = start;
	q->udp_size = klass < DNS_UDP_MIN ? DNS_UDP_MIN : klass;
	q->edns_version = (uint8_t)(ttl >> 16);
	q->edns_do = (ttl & 0x8000) != 0;
	return 0;
}

static int read_question(struct reader *rd, struct dns_query *q)
{
	if (read_qname(rd, q->qname, &q->qname_len) < 0 || reader_be16(rd, &q->qtype) < 0 ||
	    reader_be16(rd, &q->qclass) < 0)
		return -EPROTO;
	q->has_question = true;
	return 0;
}

int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q)
{
	struct reader rd = reader_init(msg, len);
	uint16_t qd, an, ns, ar;

	memset(q, 0, sizeof(*q));
	q->udp_size = DNS_UDP_MIN;
	if (len < DNS_HDR_LEN)
		return -EBADMSG;
	q->id = load_be16(msg);
	q->flags = load_be16(msg + 2);
	if (q->flags & DNS_FLAG_QR)
		return -EBADMSG; /* answering responses invites loops */
	q->opcode = (uint8_t)((q->flags >> 11) & 0xf);
	qd = load_be16(msg + 4);
	an = load_be16(msg + 6);
	ns = load_be16(msg + 8);
	ar = load_be16(msg + 10);
	rd.off = DNS_HDR_LEN;
	if (q->opcode != DNS_OPCODE_QUERY) {
		/* Other opcodes lay out their sections differently: read only
		 * the question, for the NOTIMP echo. */
		if (qd == 1 && read_question(&rd, q) < 0)
			q->has_question = false;
		return 0;
	}
	if (qd != 1 || an != 0 || ns != 0)
		return -EPROTO;
	if (read_question(&rd, q) < 0)
		return -EPROTO;
	for (uint16_t i = 0; i < ar; i++)
		if (read_additional(&rd, q) < 0)
			return -EPROTO;
	return reader_left(&rd) == 0 ? 0 : -EPROTO;
}

int dns_response_check(const uint8_t *msg, size_t len)
{
	struct reader rd = reader_init(msg, len);
	unsigned records;
	bool root;

	if (len < DNS_HDR_LEN || !(load_be16(msg + 2) & DNS_FLAG_QR))
		return -EBADMSG;
	rd.off = DNS_HDR_LEN;
	for (unsigned i = 0; i < load_be16(msg + 4); i++) {
		const uint8_t *p;
		if (skip_name(&rd, &root) < 0 || reader_take(&rd, 4, &p) < 0)
			return -EBADMSG;
	}
	records = (unsigned)load_be16(msg + 6) + load_be16(msg + 8) + load_be16(msg + 10);
	for (unsigned i = 0; i < records; i++) {
		const uint8_t *p;
		uint16_t rdlen;
		if (skip_name(&rd, &root) < 0 || reader_take(&rd, 8, &p) < 0 ||
		    reader_be16(&rd, &rdlen) < 0 || reader_take(&rd, rdlen, &p) < 0)
			return -EBADMSG;
	}
	return reader_left(&rd) == 0 ? 0 : -EBADMSG;
}

bool dns_query_same(const struct dns_query *a, const struct dns_query *b)
{
	return a->id == b->id && a->opcode == b->opcode && a->has_question == b->has_question &&
	       a->qtype == b->qtype && a->qclass == b->qclass && a->qname_len == b->qname_len &&
	       memcmp(a->qname, b->qname, a->qname_len) == 0;
}

size_t dns_reply_limit(const struct dns_query *q, size_t cap)
{
	size_t lim = q->edns && q->udp_size > DNS_UDP_MIN ? q->udp_size : DNS_UDP_MIN;

	return lim < cap ? lim : cap;
}

int dns_reply_init(struct dns_reply *r, const struct dns_query *q, uint8_t *out, size_t cap,
                   unsigned rcode, bool aa)
{
	uint16_t flags;

	if (cap < DNS_UDP_MIN || rcode > 0xfff || (rcode > 15 && !q->edns))
		return -EINVAL;
	*r = (struct dns_reply){
	        .buf = out, .limit = dns_reply_limit(q, cap), .q = q, .rcode = (uint16_t)rcode};
	flags = (uint16_t)(DNS_FLAG_QR | DNS_FLAG_RA | (q->opcode & 0xf) << 11 |
	                   (q->flags & (DNS_FLAG_RD | DNS_FLAG_CD)) | (rcode & 0xf));
	if (aa)
		flags |= DNS_FLAG_AA;
	memset(out, 0, DNS_HDR_LEN);
	store_be16(out, q->id);
	store_be16(out + 2, flags);
	r->len = DNS_HDR_LEN;
	if (q->has_question) {
		/* At most 12 + 255 + 4 + 11 (OPT) bytes: always within 512. */
		store_be16(out + 4, 1);
		memcpy(out + r->len, q->qname, q->qname_len);
		r->len += q->qname_len;
		store_be16(out + r->len, q->qtype);
		store_be16(out + r->len + 2, q->qclass);
		r->len += 4;
	}
	r->question_end = r->len;
	return 0;
}

int dns_reply_qname_ptr(const struct dns_reply *r, unsigned skip)
{
	const struct dns_query *q = r->q;
	size_t pos = 0;

	if (!q->has_question)
		return -EINVAL;
	for (unsigned i = 0; i < skip; i++) {
		if (pos >= q->qname_len || q->qname[pos] == 0)
			return -EINVAL;
		pos += 1 + q->qname[pos];
	}
	return (int)(DNS_HDR_LEN + pos);
}

void dns_reply_add(struct dns_reply *r, enum dns_section s, int owner, uint16_t type, uint32_t ttl,
                   const uint8_t *rdata, size_t rdlen)
{
	size_t room = r->limit - (r->q->edns ? OPT_RR_LEN : 0);
	size_t need = 2 + 10 + rdlen;
	uint8_t *p;

	if (r->overflow || owner < DNS_HDR_LEN || owner >= (int)r->question_end ||
	    rdlen > UINT16_MAX || r->len + need > room) {
		r->overflow = true;
		return;
	}
	p = r->buf + r->len;
	store_be16(p, (uint16_t)(0xc000 | owner));
	store_be16(p + 2, type);
	store_be16(p + 4, DNS_CLASS_IN);
	store_be32(p + 6, ttl);
	store_be16(p + 10, (uint16_t)rdlen);
	if (rdlen)
		memcpy(p + 12, rdata, rdlen);
	r->len += need;
	r->count[s]++;
}

size_t dns_reply_finish(struct dns_reply *r)
{
	uint8_t *b = r->buf;

	if (r->overflow) {
		r->len = r->question_end;
		memset(r->count, 0, sizeof(r->count));
		store_be16(b + 2, load_be16(b + 2) | DNS_FLAG_TC);
	}
	if (r->q->edns) {
		uint8_t *p = b + r->len;
		uint32_t ttl = (uint32_t)(r->rcode >> 4) << 24 | (r->q->edns_do ? 0x8000u : 0);
		p[0] = 0;
		store_be16(p + 1, DNS_TYPE_OPT);
		store_be16(p + 3, DNS_EDNS_SIZE);
		store_be32(p + 5, ttl);
		store_be16(p + 9, 0);
		r->len += OPT_RR_LEN;
		r->count[2]++;
	}
	store_be16(b + 6, r->count[0]);
	store_be16(b + 8, r->count[1]);
	store_be16(b + 10, r->count[2]);
	return r->len;
}

int dns_build_error(const struct dns_query *q, unsigned rcode, uint8_t *out, size_t cap)
{
	struct dns_reply r;
	int e = dns_reply_init(&r, q, out, cap, rcode, false);

	return e < 0 ? e : (int)dns_reply_finish(&r);
}

int dns_build_truncated(const struct dns_query *q, uint8_t *out, size_t cap)
{
	struct dns_reply r;
	int e = dns_reply_init(&r, q, out, cap, DNS_RCODE_NOERROR, false);

	if (e < 0)
		return e;
	r.overflow = true;
	return (int)dns_reply_finish(&r);
}

/* ---- IP/UDP ---- */

size_t dns_udp_header_len(int family)
{
	return family == AF_INET    ? IPV4_HDR_LEN + UDP_HDR_LEN
	       : family == AF_INET6 ? IPV6_HDR_LEN + UDP_HDR_LEN
	                            : 0;
}

/* The UDP checksum over the datagram at udp (ulen bytes), pseudo-header sum
 * given; 0 means a valid checksum. */
static uint16_t udp_verify(uint32_t pseudo, const uint8_t *udp, size_t ulen)
{
	return csum_fold(csum_add(pseudo, udp, ulen));
}

static int match4(const uint8_t *pkt, size_t len, uint32_t resolver4, struct dns_udp_addr *addr,
                  const uint8_t **payload, size_t *plen)
{
	size_t ihl, tl, ulen;
	const uint8_t *udp;

	if (resolver4 == 0 || len < IPV4_HDR_LEN || pkt[9] != IPPROTO_UDP ||
	    load_be32(pkt + 16) != resolver4)
		return 0;
	ihl = (size_t)(pkt[0] & 0xf) * 4;
	tl = load_be16(pkt + 2);
	if (ihl < IPV4_HDR_LEN || tl < ihl + UDP_HDR_LEN || tl > len)
		return -EBADMSG;
	if (load_be16(pkt + 6) & IPV4_FRAG_MASK)
		return -EBADMSG; /* reassembly is not ours to do */
	if (csum_fold(csum_add(0, pkt, ihl)) != 0)
		return -EBADMSG;
	udp = pkt + ihl;
	if (load_be16(udp + 2) != DNS_PORT)
		return 0;
	ulen = load_be16(udp + 4);
	if (ulen < UDP_HDR_LEN || ulen > tl - ihl)
		return -EBADMSG;
	if (load_be16(udp + 6) != 0 &&
	    udp_verify(csum_pseudo4(pkt + 12, pkt + 16, IPPROTO_UDP, (uint16_t)ulen), udp, ulen))
		return -EBADMSG;
	memset(addr, 0, sizeof(*addr));
	addr->family = AF_INET;
	memcpy(addr->src, pkt + 12, 4);
	memcpy(addr->dst, pkt + 16, 4);
	addr->sport = load_be16(udp);
	addr->dport = DNS_PORT;
	*payload = udp + UDP_HDR_LEN;
	*plen = ulen - UDP_HDR_LEN;
	return 1;
}

static bool ipv6_ext_header(uint8_t nh)
{
	/* Hop-by-hop, routing, fragment, destination options. */
	return nh == 0 || nh == 43 || nh == 44 || nh == 60;
}

static int match6(const uint8_t *pkt, size_t len, const uint8_t *resolver6,
                  struct dns_udp_addr *addr, const uint8_t **payload, size_t *plen)
{
	size_t pl, ulen;
	const uint8_t *udp;

	if (!resolver6 || len < IPV6_HDR_LEN || memcmp(pkt + 24, resolver6, 16) != 0)
		return 0;
	if (ipv6_ext_header(pkt[6]))
		return -EBADMSG;
	if (pkt[6] != IPPROTO_UDP)
		return 0;
	pl = load_be16(pkt + 4);
	if (pl < UDP_HDR_LEN || IPV6_HDR_LEN + pl > len)
		return -EBADMSG;
	udp = pkt + IPV6_HDR_LEN;
	if (load_be16(udp + 2) != DNS_PORT)
		return 0;
	ulen = load_be16(udp + 4);
	/* RFC 8200 8.1: the checksum is mandatory over IPv6. */
	if (ulen < UDP_HDR_LEN || ulen > pl || load_be16(udp + 6) == 0 ||
	    udp_verify(csum_pseudo6(pkt + 8, pkt + 24, IPPROTO_UDP, (uint32_t)ulen), udp, ulen))
		return -EBADMSG;
	memset(addr, 0, sizeof(*addr));
	addr->family = AF_INET6;
	memcpy(addr->src, pkt + 8, 16);
	memcpy(addr->dst, pkt + 24, 16);
	addr->sport = load_be16(udp);
	addr->dport = DNS_PORT;
	*payload = udp + UDP_HDR_LEN;
	*plen = ulen - UDP_HDR_LEN;
	return 1;
}

int dns_udp_match(const uint8_t *pkt, size_t len, uint32_t resolver4, const uint8_t *resolver6,
                  struct dns_udp_addr *addr, const uint8_t **payload, size_t *plen)
{
	if (len < 1)
		return 0;
	switch (pkt[0] >> 4) {
	case 4:
		return match4(pkt, len, resolver4, addr, payload, plen);
	case 6:
		return match6(pkt, len, resolver6, addr, payload, plen);
	default:
		return 0;
	}
}

static void write_udp(uint8_t *udp, const struct dns_udp_addr *addr, size_t ulen)
{
	store_be16(udp, addr->dport);
	store_be16(udp + 2, addr->sport);
	store_be16(udp + 4, (uint16_t)ulen);
	store_be16(udp + 6, 0);
}

static void finish_udp_csum(uint8_t *udp, uint32_t pseudo, size_t ulen)
{
	uint16_t c = csum_fold(csum_add(pseudo, udp, ulen));

	/* RFC 768: a computed zero is sent as all ones. */
	store_be16(udp + 6, c == 0 ? 0xffff : c);
}

int dns_udp_reply(const struct dns_udp_addr *addr, const uint8_t *payload, size_t plen,
                  uint8_t *out, size_t cap)
{
	size_t hl = dns_udp_header_len(addr->family), ulen = UDP_HDR_LEN + plen;
	uint8_t *udp;

	if (hl == 0)
		return -EINVAL;
	if ((addr->family == AF_INET && hl + plen > UINT16_MAX) || ulen > UINT16_MAX)
		return -EMSGSIZE;
	if (hl + plen > cap)
		return -ENOSPC;
	if (plen)
		memmove(out + hl, payload, plen);
	if (addr->family == AF_INET) {
		memset(out, 0, IPV4_HDR_LEN);
		out[0] = 0x45;
		store_be16(out + 2, (uint16_t)(hl + plen));
		store_be16(out + 6, IPV4_DF); /* ID 0 is fine with DF (RFC 6864) */
		out[8] = DNS_IP_TTL;
		out[9] = IPPROTO_UDP;
		memcpy(out + 12, addr->dst, 4);
		memcpy(out + 16, addr->src, 4);
		store_be16(out + 10, csum_fold(csum_add(0, out, IPV4_HDR_LEN)));
		udp = out + IPV4_HDR_LEN;
		write_udp(udp, addr, ulen);
		finish_udp_csum(udp, csum_pseudo4(out + 12, out + 16, IPPROTO_UDP, (uint16_t)ulen),
		                ulen);
	} else {
		memset(out, 0, IPV6_HDR_LEN);
		out[0] = 0x60;
		store_be16(out + 4, (uint16_t)ulen);
		out[6] = IPPROTO_UDP;
		out[7] = DNS_IP_TTL;
		memcpy(out + 8, addr->dst, 16);
		memcpy(out + 24, addr->src, 16);
		udp = out + IPV6_HDR_LEN;
		write_udp(udp, addr, ulen);
		finish_udp_csum(udp, csum_pseudo6(out + 8, out + 24, IPPROTO_UDP, (uint32_t)ulen),
		                ulen);
	}
	return (int)(hl + plen);
}
