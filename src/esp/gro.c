/* SPDX-License-Identifier: MIT */
/* gro.c: coalesces decrypted TCP segments into super-packets for the TUN. */
#include "esp/gro.h"

#include <netinet/in.h>
#include <string.h>

#include "common/bytes.h"
#include "common/csum.h"

#define IPV4_HDR_LEN   20
#define IPV6_HDR_LEN   40
#define TCP_HDR_MIN    20
#define TCP_CSUM_OFF   16
#define TCP_FLAGS_OFF  13
#define TCP_PSH        0x08
#define TCP_ACK        0x10
#define IPV4_MF_OFFSET 0x3fff

/* A packet's place in the flow table. */
enum kind {
	KIND_OTHER,     /* not TCP: no held flow can be its own */
	KIND_UNKNOWN,   /* maybe TCP, but its ports cannot be found: order unknown */
	KIND_TCP,       /* TCP whose flow is known, not mergeable */
	KIND_CANDIDATE, /* TCP that may start or extend a super-packet */
};

struct seg {
	const uint8_t *pkt;
	size_t len, l4_off, thl, payload;
	uint32_t seq;
	bool v6, psh;
};

/* Where the TCP header starts, or the kind of packet that has none we use. */
static enum kind locate_tcp(const uint8_t *pkt, size_t len, struct seg *s)
{
	size_t ihl;

	if (len >= IPV4_HDR_LEN && pkt[0] >> 4 == 4) {
		ihl = (size_t)(pkt[0] & 0x0f) * 4;
		if (pkt[9] != IPPROTO_TCP)
			return KIND_OTHER;
		if (ihl < IPV4_HDR_LEN || (load_be16(pkt + 6) & IPV4_MF_OFFSET))
			return KIND_UNKNOWN;
		s->l4_off = ihl;
	} else if (len >= IPV6_HDR_LEN && pkt[0] >> 4 == 6) {
		if (pkt[6] == IPPROTO_UDP || pkt[6] == IPPROTO_ICMPV6)
			return KIND_OTHER;
		if (pkt[6] != IPPROTO_TCP)
			return KIND_UNKNOWN; /* extension headers: TCP may follow */
		s->l4_off = IPV6_HDR_LEN;
		s->v6 = true;
	} else {
		return KIND_OTHER;
	}
	if (len - s->l4_off < TCP_HDR_MIN)
		return KIND_UNKNOWN;
	return KIND_TCP;
}

/* What gro_add does with pkt; s describes it for KIND_TCP and up. */
static enum kind classify(const uint8_t *pkt, size_t len, struct seg *s)
{
	const uint8_t *th;
	enum kind k;
	uint8_t flags;

	memset(s, 0, sizeof(*s));
	s->pkt = pkt;
	s->len = len;
	k = locate_tcp(pkt, len, s);
	if (k != KIND_TCP)
		return k;
	th = pkt + s->l4_off;
	s->thl = (size_t)(th[12] >> 4) * 4;
	if (s->thl < TCP_HDR_MIN || s->thl > len - s->l4_off || len > GRO_PKT_MAX)
		return KIND_TCP;
	/* The header's length must be the packet's: nothing trailing. */
	if (s->v6 ? load_be16(pkt + 4) != len - IPV6_HDR_LEN
	          : s->l4_off != IPV4_HDR_LEN || load_be16(pkt + 2) != len)
		return KIND_TCP;
	flags = th[TCP_FLAGS_OFF];
	if (flags != TCP_ACK && flags != (TCP_ACK | TCP_PSH))
		return KIND_TCP;
	s->payload = len - s->l4_off - s->thl;
	if (s->payload == 0)
		return KIND_TCP;
	s->psh = flags & TCP_PSH;
	s->seq = load_be32(th + 4);
	return KIND_CANDIDATE;
}

/* A merged segment's own checksum is lost, so it is checked here instead
 * of by the kernel, which trusts a super-packet marked NEEDS_CSUM. */
static bool csum_ok(const struct seg *s)
{
	size_t l4len = s->len - s->l4_off;
	uint32_t sum;

	if (s->v6)
		sum = csum_pseudo6(s->pkt + 8, s->pkt + 24, IPPROTO_TCP, (uint32_t)l4len);
	else
		sum = csum_pseudo4(s->pkt + 12, s->pkt + 16, IPPROTO_TCP, (uint16_t)l4len);
	return csum_fold(csum_add(sum, s->pkt + s->l4_off, l4len)) == 0;
}

static bool same_flow(const struct gro_flow *f, const struct seg *s)
{
	size_t a = s->v6 ? 8 : 12, alen = s->v6 ? 32 : 8;

	return f->len && f->v6 == s->v6 && f->l4_off == s->l4_off &&
	       memcmp(f->buf + a, s->pkt + a, alen) == 0 &&
	       memcmp(f->buf + f->l4_off, s->pkt + s->l4_off, 4) == 0;
}

/* The IP fields that must be equal for the kernel to merge. */
static bool same_ip(const struct gro_flow *f, const struct seg *s)
{
	const uint8_t *a = f->buf, *b = s->pkt;

	if (s->v6)
		return a[0] == b[0] && (a[1] & 0xf0) == (b[1] & 0xf0) && a[7] == b[7];
	return a[1] == b[1] && a[6] >> 5 == b[6] >> 5 && a[8] == b[8];
}

static bool can_append(const struct gro_flow *f, const struct seg *s)
{
	const uint8_t *ft = f->buf + f->l4_off, *st = s->pkt + s->l4_off;

	return !f->closed && s->seq == f->next_seq && s->thl == f->thl &&
	       s->payload <= f->seg_size && f->len + s->payload <= GRO_PKT_MAX && same_ip(f, s) &&
	       memcmp(ft + 8, st + 8, 4) == 0 && /* acknowledgement number */
	       memcmp(ft + TCP_HDR_MIN, st + TCP_HDR_MIN, s->thl - TCP_HDR_MIN) == 0;
}

/* Writes a held flow: as it came when it is one segment, else as a
 * super-packet whose TCP checksum the kernel finishes. */
static void emit_flow(struct gro_flow *f, gro_emit_fn emit, void *ctx)
{
	struct vnet_hdr h = {0};
	uint8_t *p = f->buf;
	size_t l4len = f->len - f->l4_off;
	uint32_t sum;

	if (f->segs > 1) {
		if (f->v6) {
			store_be16(p + 4, (uint16_t)l4len);
			sum = csum_pseudo6(p + 8, p + 24, IPPROTO_TCP, (uint32_t)l4len);
		} else {
			store_be16(p + 2, (uint16_t)f->len);
			store_be16(p + 10, 0);
			store_be16(p + 10, csum_fold(csum_add(0, p, f->l4_off)));
			sum = csum_pseudo4(p + 12, p + 16, IPPROTO_TCP, (uint16_t)l4len);
		}
		/* NEEDS_CSUM wants the folded pseudo-header sum, not inverted. */
		store_be16(p + f->l4_off + TCP_CSUM_OFF, (uint16_t)~csum_fold(sum));
		h = (struct vnet_hdr){
		        .flags = VNET_F_NEEDS_CSUM,
		        .gso_type = f->v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4,
		        .hdr_len = (uint16_t)(f->l4_off + f->thl),
		        .gso_size = f->seg_size,
		        .csum_start = f->l4_off,
		        .csum_offset = TCP_CSUM_OFF,
		};
	}
	emit(ctx, &h, p, f->len);
	f->len = 0;
}

static void hold(struct gro *g, struct gro_flow *f, const struct seg *s)
{
	memcpy(f->buf, s->pkt, s->len);
	f->len = s->len;
	f->used = ++g->clock;
	f->next_seq = s->seq + (uint32_t)s->payload;
	f->seg_size = (uint16_t)s->payload;
	f->segs = 1;
	f->l4_off = (uint8_t)s->l4_off;
	f->thl = (uint8_t)s->thl;
	f->v6 = s->v6;
	f->closed = s->psh;
}

static void append(struct gro *g, struct gro_flow *f, const struct seg *s)
{
	memcpy(f->buf + f->len, s->pkt + s->l4_off + s->thl, s->payload);
	f->len += s->payload;
	f->used = ++g->clock;
	f->next_seq += (uint32_t)s->payload;
	f->segs++;
	g->merged++;
	if (s->psh) {
		f->buf[f->l4_off + TCP_FLAGS_OFF] |= TCP_PSH;
		f->closed = true;
	}
	if (s->payload < f->seg_size)
		f->closed = true;
}

static struct gro_flow *find(struct gro *g, const struct seg *s)
{
	for (size_t i = 0; i < GRO_FLOWS; i++)
		if (same_flow(&g->flows[i], s))
			return &g->flows[i];
	return NULL;
}

/* A free slot, or the least recently extended one written out. */
static struct gro_flow *slot(struct gro *g, gro_emit_fn emit, void *ctx)
{
	struct gro_flow *lru = &g->flows[0];

	for (size_t i = 0; i < GRO_FLOWS; i++) {
		struct gro_flow *f = &g->flows[i];
		if (!f->len)
			return f;
		if (f->used < lru->used)
			lru = f;
	}
	emit_flow(lru, emit, ctx);
	return lru;
}

void gro_init(struct gro *g)
{
	g->clock = 0;
	g->merged = 0;
	for (size_t i = 0; i < GRO_FLOWS; i++)
		g->flows[i].len = 0;
}

void gro_add(struct gro *g, const uint8_t *pkt, size_t len, gro_emit_fn emit, void *ctx)
{
	static const struct vnet_hdr plain;
	struct gro_flow *f;
	struct seg s;
	enum kind k = classify(pkt, len, &s);

	if (k == KIND_UNKNOWN)
		gro_flush(g, emit, ctx);
	if (k < KIND_TCP) {
		emit(ctx, &plain, pkt, len);
		return;
	}
	f = find(g, &s);
	if (k == KIND_CANDIDATE && csum_ok(&s)) {
		if (f && can_append(f, &s)) {
			append(g, f, &s);
			return;
		}
		if (f)
			emit_flow(f, emit, ctx);
		else
			f = slot(g, emit, ctx);
		hold(g, f, &s);
		return;
	}
	/* After the flow's held segments: a flow keeps its order. */
	if (f)
		emit_flow(f, emit, ctx);
	emit(ctx, &plain, pkt, len);
}

void gro_flush(struct gro *g, gro_emit_fn emit, void *ctx)
{
	for (size_t i = 0; i < GRO_FLOWS; i++)
		if (g->flows[i].len)
			emit_flow(&g->flows[i], emit, ctx);
}
