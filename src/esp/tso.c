/* SPDX-License-Identifier: MIT */
/* tso.c: cuts a TUN super-packet into the packets it stands for. */
#include "esp/tso.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "common/bytes.h"
#include "common/csum.h"

#define IPV4_HDR_MIN   20
#define IPV6_HDR_LEN   40
#define TCP_HDR_MIN    20
#define UDP_HDR_LEN    8
#define TCP_CSUM_OFF   16
#define UDP_CSUM_OFF   6
#define TCP_FLAGS_OFF  13
#define TCP_FIN        0x01
#define TCP_PSH        0x08
#define TCP_CWR        0x80
#define IPV4_MF_OFFSET 0x3fff /* more fragments + fragment offset */
#define IPV6_EXT_MAX   8

/* IPv4: the header length, with the packet's own length in *len. */
static int ipv4_headers(const uint8_t *pkt, size_t *len, uint8_t proto, size_t *ret_l4)
{
	size_t ihl, total;

	if (*len < IPV4_HDR_MIN)
		return -EBADMSG;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	total = load_be16(pkt + 2);
	if (ihl < IPV4_HDR_MIN || total < ihl || total > *len)
		return -EBADMSG;
	/* The kernel never segments fragments; the protocol must be the one
	 * the header says is cut. */
	if (pkt[9] != proto || (load_be16(pkt + 6) & IPV4_MF_OFFSET))
		return -EBADMSG;
	*len = total;
	*ret_l4 = ihl;
	return 0;
}

/* IPv6: walks hop-by-hop and destination options to the transport header.
 * A routing header would change the pseudo-header's destination and a
 * fragment header cannot be cut further, so neither is accepted. */
static int ipv6_headers(const uint8_t *pkt, size_t *len, uint8_t proto, size_t *ret_l4)
{
	size_t total, off = IPV6_HDR_LEN;
	uint8_t nh;

	if (*len < IPV6_HDR_LEN)
		return -EBADMSG;
	total = IPV6_HDR_LEN + (size_t)load_be16(pkt + 4);
	if (total > *len)
		return -EBADMSG;
	nh = pkt[6];
	for (int i = 0; nh != proto; i++) {
		if (i == IPV6_EXT_MAX || (nh != IPPROTO_HOPOPTS && nh != IPPROTO_DSTOPTS) ||
		    total - off < 8)
			return -EBADMSG;
		nh = pkt[off];
		off += ((size_t)pkt[off + 1] + 1) * 8;
		if (off > total)
			return -EBADMSG;
	}
	*len = total;
	*ret_l4 = off;
	return 0;
}

static int transport_header(struct tso *t)
{
	size_t thl;

	if (t->proto == IPPROTO_UDP) {
		thl = UDP_HDR_LEN;
	} else {
		if (t->len - t->l4_off < TCP_HDR_MIN)
			return -EBADMSG;
		thl = (size_t)(t->pkt[t->l4_off + 12] >> 4) * 4;
		if (thl < TCP_HDR_MIN)
			return -EBADMSG;
		t->seq = load_be32(t->pkt + t->l4_off + 4);
	}
	if (t->len - t->l4_off < thl)
		return -EBADMSG;
	t->hdr_len = t->l4_off + thl;
	return 0;
}

int tso_init(struct tso *t, const struct vnet_hdr *h, const uint8_t *pkt, size_t len)
{
	uint8_t type = h->gso_type & (uint8_t)~VNET_GSO_ECN;
	int version = len ? pkt[0] >> 4 : 0, r;

	memset(t, 0, sizeof(*t));
	switch (type) {
	case VNET_GSO_TCPV4:
	case VNET_GSO_TCPV6:
		t->proto = IPPROTO_TCP;
		if (version != (type == VNET_GSO_TCPV4 ? 4 : 6))
			return -EBADMSG;
		break;
	case VNET_GSO_UDP_L4:
		t->proto = IPPROTO_UDP;
		break;
	default:
		return -EPROTONOSUPPORT;
	}
	if (version == 4)
		r = ipv4_headers(pkt, &len, t->proto, &t->l4_off);
	else if (version == 6)
		r = ipv6_headers(pkt, &len, t->proto, &t->l4_off);
	else
		r = -EBADMSG;
	if (r < 0)
		return r;
	t->pkt = pkt;
	t->len = len;
	t->v6 = version == 6;
	t->ip_id = t->v6 ? 0 : load_be16(pkt + 4);
	r = transport_header(t);
	if (r < 0)
		return r;
	if (h->gso_size == 0 || t->len == t->hdr_len)
		return -EBADMSG;
	t->seg_size = h->gso_size;
	t->off = t->hdr_len;
	return 0;
}

/* The IP header of segment out (n bytes in all). */
static void fix_ip(const struct tso *t, uint8_t *out, size_t n)
{
	if (t->v6) {
		store_be16(out + 4, (uint16_t)(n - IPV6_HDR_LEN));
		return;
	}
	store_be16(out + 2, (uint16_t)n);
	store_be16(out + 4, (uint16_t)(t->ip_id + t->index));
	store_be16(out + 10, 0);
	store_be16(out + 10, csum_fold(csum_add(0, out, t->l4_off)));
}

/* The transport header of segment out and its checksum, from scratch. */
static void fix_transport(const struct tso *t, uint8_t *out, size_t n, bool last)
{
	uint8_t *l4 = out + t->l4_off;
	size_t l4len = n - t->l4_off;
	uint16_t c;
	uint32_t sum;
	size_t field;

	if (t->proto == IPPROTO_TCP) {
		store_be32(l4 + 4, t->seq + (uint32_t)(t->off - t->hdr_len));
		if (!last)
			l4[TCP_FLAGS_OFF] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		if (t->index > 0)
			l4[TCP_FLAGS_OFF] &= (uint8_t)~TCP_CWR;
		field = TCP_CSUM_OFF;
	} else {
		store_be16(l4 + 4, (uint16_t)l4len);
		field = UDP_CSUM_OFF;
	}
	store_be16(l4 + field, 0);
	if (t->v6)
		sum = csum_pseudo6(out + 8, out + 24, t->proto, (uint32_t)l4len);
	else
		sum = csum_pseudo4(out + 12, out + 16, t->proto, (uint16_t)l4len);
	c = csum_fold(csum_add(sum, l4, l4len));
	/* UDP: 0 means "no checksum" (RFC 768); one's complement's other zero. */
	if (c == 0 && t->proto == IPPROTO_UDP)
		c = 0xffff;
	store_be16(l4 + field, c);
}

int tso_next(struct tso *t, uint8_t *out, size_t cap)
{
	size_t chunk, n;
	bool last;

	if (t->off >= t->len)
		return 0;
	chunk = t->len - t->off;
	if (chunk > t->seg_size)
		chunk = t->seg_size;
	n = t->hdr_len + chunk;
	if (n > cap)
		return -ENOSPC;
	memcpy(out, t->pkt, t->hdr_len);
	memcpy(out + t->hdr_len, t->pkt + t->off, chunk);
	last = t->off + chunk == t->len;
	fix_ip(t, out, n);
	fix_transport(t, out, n, last);
	t->off += chunk;
	t->index++;
	return (int)n;
}

int tso_finish_csum(const struct vnet_hdr *h, uint8_t *pkt, size_t len)
{
	size_t start = h->csum_start, field = h->csum_offset;
	uint16_t c;

	if (!(h->flags & VNET_F_NEEDS_CSUM))
		return 0;
	/* The field must be a 16-bit word of the sum for the sum to cancel. */
	if (start > len || field > len - start || len - start - field < 2 || field % 2)
		return -EBADMSG;
	/* The field holds the pseudo-header sum: summing over it folds that in. */
	c = csum_fold(csum_add(0, pkt + start, len - start));
	store_be16(pkt + start + field, c ? c : 0xffff);
	return 0;
}
