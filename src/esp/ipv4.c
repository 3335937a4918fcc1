/* SPDX-License-Identifier: MIT */
/* ipv4.c: IPv4 packets to and from LSIs over ESP, and TCP MSS clamping for both families. */
#include "esp/ipv4.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "common/csum.h"

#define OFF_TOTAL_LEN 2
#define OFF_FRAG      6
#define OFF_PROTO     9
#define OFF_CSUM      10
#define OFF_SRC       12
#define FRAG_DF       0x4000
#define FRAG_MF       0x2000
#define FRAG_OFFSET   0x1fff

#define PROTO_ICMP    1
#define PROTO_TCP     6
#define PROTO_UDP     17
#define PROTO_DCCP    33
#define PROTO_UDPLITE 136

#define ICMP_HDR_LEN 8

#define IPV6_HDR_LEN      40
#define IPV6_OFF_PLEN     4
#define IPV6_OFF_NH       6
#define IPV6_HOPOPTS      0
#define IPV6_ROUTING      43
#define IPV6_FRAGMENT     44
#define IPV6_DSTOPTS      60
#define IPV6_FRAG_HDR_LEN 8
#define IPV6_FRAG_OFF_MF  0xfff9 /* offset and M flag, not the reserved bits */
#define IPV6_EXT_MAX      8      /* more is an attack or a mistake; leave it alone */

#define TCP_HDR_MIN  20
#define TCP_OFF_CSUM 16
#define TCP_FLAG_SYN 0x02
#define TCPOPT_EOL   0
#define TCPOPT_NOP   1
#define TCPOPT_MSS   2
#define TCPOLEN_MSS  4

int ipv4_parse(const uint8_t *pkt, size_t len, struct ipv4_info *ret)
{
	size_t hdr_len, total;
	uint16_t frag;

	if (len < IPV4_HDR_MIN || pkt[0] >> 4 != 4)
		return -EBADMSG;
	hdr_len = (size_t)(pkt[0] & 0x0f) * 4;
	total = load_be16(pkt + OFF_TOTAL_LEN);
	if (hdr_len < IPV4_HDR_MIN || total < hdr_len || total > len)
		return -EBADMSG;
	frag = load_be16(pkt + OFF_FRAG);
	*ret = (struct ipv4_info){
	        .src = load_be32(pkt + OFF_SRC),
	        .dst = load_be32(pkt + OFF_SRC + 4),
	        .proto = pkt[OFF_PROTO],
	        .hdr_len = (uint8_t)hdr_len,
	        .total_len = (uint16_t)total,
	        .frag_off = frag & FRAG_OFFSET,
	        .df = frag & FRAG_DF,
	        .mf = frag & FRAG_MF,
	        .fragment = frag & (FRAG_MF | FRAG_OFFSET),
	};
	return (int)total;
}

/* ---- address translation ---- */

/* Where a transport protocol keeps its checksum, for those whose checksum
 * covers the IPv4 addresses through a pseudo-header. */
struct l4_csum {
	uint8_t proto;
	uint8_t off;
	bool zero_is_none; /* UDP: 0 means "not computed" */
};

static const struct l4_csum l4_csums[] = {
        {PROTO_TCP, TCP_OFF_CSUM, false},
        {PROTO_UDP, 6, true},
        {PROTO_UDPLITE, 6, false},
        {PROTO_DCCP, 6, false},
};

static const struct l4_csum *l4_csum_of(uint8_t proto)
{
	for (size_t i = 0; i < ARRAY_SIZE(l4_csums); i++)
		if (l4_csums[i].proto == proto)
			return &l4_csums[i];
	return NULL;
}

/* The transport checksum to fix in a packet (or quote) of which `have`
 * bytes follow the IPv4 header at l4. */
struct l4_field {
	uint8_t *sum; /* NULL: none to fix */
	bool zero_is_none;
};

static struct l4_field l4_field(uint8_t *l4, size_t have, uint8_t proto, bool first)
{
	const struct l4_csum *c = l4_csum_of(proto);

	if (!c || !first || have < (size_t)c->off + 2)
		return (struct l4_field){NULL, false};
	return (struct l4_field){l4 + c->off, c->zero_is_none};
}

/* Writes the 8 address bytes (source, destination) at a, keeping the
 * header checksum at hsum and the transport checksum in t right. */
static void set_addrs(uint8_t *a, const uint8_t nw[8], uint8_t *hsum, struct l4_field t)
{
	if (t.sum && !(t.zero_is_none && load_be16(t.sum) == 0)) {
		csum_replace(t.sum, a, nw, 8);
		if (t.zero_is_none && load_be16(t.sum) == 0)
			store_be16(t.sum, 0xffff);
	}
	csum_replace(hsum, a, nw, 8);
	memcpy(a, nw, 8);
}

static void addrs_store(uint8_t out[8], uint32_t src, uint32_t dst)
{
	store_be32(out, src);
	store_be32(out + 4, dst);
}

static bool icmp_is_error(uint8_t type)
{
	/* Unreachable, source quench, redirect, time exceeded, parameter problem. */
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* An ICMP error quotes the packet that caused it, which went the other way:
 * its source is the error's old destination and its destination the old
 * source. Translated like the outer header so the receiving stack matches
 * the quote to its socket (or route, for fragmentation needed). Quotes that
 * do not match, and messages whose checksum is wrong, are left alone. */
static void icmp_quote_translate(uint8_t *icmp, size_t n, struct ipv4_addrs from,
                                 struct ipv4_addrs to)
{
	uint8_t *q = icmp + ICMP_HDR_LEN, nw[8];
	size_t qlen, qhl;
	uint16_t qfrag;

	if (n < ICMP_HDR_LEN + IPV4_HDR_MIN || !icmp_is_error(icmp[0]) ||
	    csum_fold(csum_add(0, icmp, n)) != 0)
		return;
	qlen = n - ICMP_HDR_LEN;
	qhl = (size_t)(q[0] & 0x0f) * 4;
	if (q[0] >> 4 != 4 || qhl < IPV4_HDR_MIN || qhl > qlen)
		return;
	if (load_be32(q + OFF_SRC) != from.dst || load_be32(q + OFF_SRC + 4) != from.src)
		return;
	qfrag = load_be16(q + OFF_FRAG);
	addrs_store(nw, to.dst, to.src);
	set_addrs(q + OFF_SRC, nw, q + OFF_CSUM,
	          l4_field(q + qhl, qlen - qhl, q[OFF_PROTO], !(qfrag & FRAG_OFFSET)));
	/* The quote changed in up to three places: sum the message again, now
	 * that it is known to have been correct. */
	store_be16(icmp + 2, 0);
	store_be16(icmp + 2, csum_fold(csum_add(0, icmp, n)));
}

/* What a rewrite needs, found before anything is changed. */
struct rewrite {
	struct ipv4_info in;
	struct l4_field t;
};

static int rewrite_prepare(uint8_t *pkt, size_t len, struct rewrite *rw)
{
	const struct l4_csum *c;
	int total = ipv4_parse(pkt, len, &rw->in);
	size_t have;

	if (total < 0)
		return total;
	have = (size_t)total - rw->in.hdr_len;
	rw->t = l4_field(pkt + rw->in.hdr_len, have, rw->in.proto, rw->in.frag_off == 0);
	c = l4_csum_of(rw->in.proto);
	/* A first piece (or a whole packet) without its checksum field could
	 * not be fixed: the field would sit in a later fragment. */
	if (c && rw->in.frag_off == 0 && !rw->t.sum)
		return -EBADMSG;
	return total;
}

static void rewrite_apply(uint8_t *pkt, const struct rewrite *rw, struct ipv4_addrs to)
{
	struct ipv4_addrs from = {rw->in.src, rw->in.dst};
	uint8_t nw[8];

	if (from.src == to.src && from.dst == to.dst)
		return;
	if (rw->in.proto == PROTO_ICMP && !rw->in.fragment)
		icmp_quote_translate(pkt + rw->in.hdr_len, rw->in.total_len - rw->in.hdr_len, from,
		                     to);
	addrs_store(nw, to.src, to.dst);
	set_addrs(pkt + OFF_SRC, nw, pkt + OFF_CSUM, rw->t);
}

int ipv4_rewrite(uint8_t *pkt, size_t len, struct ipv4_addrs to)
{
	struct rewrite rw;
	int r = rewrite_prepare(pkt, len, &rw);

	if (r < 0)
		return r;
	rewrite_apply(pkt, &rw, to);
	return 0;
}

int ipv4_inbound(uint8_t *pkt, size_t len, struct ipv4_addrs expect, struct ipv4_addrs local)
{
	struct rewrite rw;
	int total = rewrite_prepare(pkt, len, &rw);

	if (total < 0)
		return total;
	if (csum_fold(csum_add(0, pkt, rw.in.hdr_len)) != 0)
		return -EBADMSG;
	if (rw.in.src != expect.src)
		return -EACCES;
	if (rw.in.dst != expect.dst)
		return -EADDRNOTAVAIL;
	rewrite_apply(pkt, &rw, local);
	return total;
}

/* ---- MSS clamping ---- */

/* Writes n (at most 4) bytes at seg + off and updates the checksum at sum,
 * whose coverage starts at seg. The incremental update works on 16-bit words,
 * so an odd offset takes the neighbouring bytes along (the caller makes sure
 * they lie inside the coverage). */
static void patch(uint8_t *seg, size_t off, const uint8_t *nw, size_t n, uint8_t *sum)
{
	uint8_t old[6], neu[6];
	size_t lo = off & ~(size_t)1, hi = (off + n + 1) & ~(size_t)1;

	memcpy(old, seg + lo, hi - lo);
	memcpy(neu, old, hi - lo);
	memcpy(neu + (off - lo), nw, n);
	csum_replace(sum, old, neu, hi - lo);
	memcpy(seg + off, nw, n);
}

/* Lowers every MSS option of a SYN segment of n bytes to mss; 1 if any
 * was lowered. Options that run past the header end the walk untouched. */
static int tcp_clamp(uint8_t *seg, size_t n, uint16_t mss)
{
	size_t doff, o = TCP_HDR_MIN;
	int changed = 0;

	if (n < TCP_HDR_MIN)
		return 0;
	doff = (size_t)(seg[12] >> 4) * 4;
	if (doff < TCP_HDR_MIN || doff > n || !(seg[13] & TCP_FLAG_SYN))
		return 0;
	while (o < doff && seg[o] != TCPOPT_EOL) {
		size_t olen;

		if (seg[o] == TCPOPT_NOP) {
			o++;
			continue;
		}
		if (doff - o < 2)
			break;
		olen = seg[o + 1];
		if (olen < 2 || olen > doff - o)
			break;
		if (seg[o] == TCPOPT_MSS && olen == TCPOLEN_MSS && load_be16(seg + o + 2) > mss) {
			uint8_t v[2];
			/* An option ending at an odd offset is followed by at
			 * least one more header byte: doff is a multiple of 4. */
			store_be16(v, mss);
			patch(seg, o + 2, v, 2, seg + TCP_OFF_CSUM);
			changed = 1;
		}
		o += olen;
	}
	return changed;
}

static int clamp4(uint8_t *pkt, size_t len, unsigned mtu)
{
	struct ipv4_info in;
	int total;

	if (mtu <= IPV4_MSS_OVERHEAD)
		return -EINVAL;
	total = ipv4_parse(pkt, len, &in);
	if (total < 0)
		return total;
	if (in.proto != PROTO_TCP || in.fragment)
		return 0;
	mtu -= IPV4_MSS_OVERHEAD;
	return tcp_clamp(pkt + in.hdr_len, (size_t)total - in.hdr_len,
	                 (uint16_t)(mtu > UINT16_MAX ? UINT16_MAX : mtu));
}

/* The offset of the TCP header behind IPv6 extension headers, or 0 when
 * there is none to reach. */
static size_t ipv6_tcp_offset(const uint8_t *pkt, size_t end)
{
	uint8_t nh = pkt[IPV6_OFF_NH];
	size_t off = IPV6_HDR_LEN;

	for (int i = 0; i < IPV6_EXT_MAX && nh != PROTO_TCP; i++) {
		size_t hl;

		if (end - off < 2)
			return 0;
		switch (nh) {
		case IPV6_HOPOPTS:
		case IPV6_ROUTING:
		case IPV6_DSTOPTS:
			hl = ((size_t)pkt[off + 1] + 1) * 8;
			break;
		case IPV6_FRAGMENT:
			if (end - off < IPV6_FRAG_HDR_LEN ||
			    (load_be16(pkt + off + 2) & IPV6_FRAG_OFF_MF))
				return 0;
			hl = IPV6_FRAG_HDR_LEN;
			break;
		default: /* AH would no longer verify; the rest is opaque */
			return 0;
		}
		if (hl > end - off)
			return 0;
		nh = pkt[off];
		off += hl;
	}
	return nh == PROTO_TCP ? off : 0;
}

static int clamp6(uint8_t *pkt, size_t len, unsigned mtu)
{
	size_t end, off;

	if (mtu <= IPV6_MSS_OVERHEAD)
		return -EINVAL;
	if (len < IPV6_HDR_LEN || load_be16(pkt + IPV6_OFF_PLEN) > len - IPV6_HDR_LEN)
		return -EBADMSG;
	end = IPV6_HDR_LEN + load_be16(pkt + IPV6_OFF_PLEN);
	off = ipv6_tcp_offset(pkt, end);
	if (!off)
		return 0;
	mtu -= IPV6_MSS_OVERHEAD;
	return tcp_clamp(pkt + off, end - off, (uint16_t)(mtu > UINT16_MAX ? UINT16_MAX : mtu));
}

int ipv4_clamp_mss(uint8_t *pkt, size_t len, unsigned mtu)
{
	if (len < 1)
		return -EBADMSG;
	switch (pkt[0] >> 4) {
	case 4:
		return clamp4(pkt, len, mtu);
	case 6:
		return clamp6(pkt, len, mtu);
	default:
		return -EBADMSG;
	}
}
