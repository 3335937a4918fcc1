/* SPDX-License-Identifier: MIT */
/* pmtu.c: the ICMP errors idlocd writes back into the TUN, and when a packet gets one. */
#include "esp/pmtu.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "esp/ipv4.h"
#include "esp/sa.h"

#define ESP_TRAILER 2 /* pad length + next header */
#define ESP_ALIGN   4

#define IPV4_ERR_HDR      IPV4_HDR_MIN
#define ICMP_HDR_LEN      8
#define ICMP_QUOTE_MIN    8 /* RFC 792: the header and 64 bits of data */
#define ICMP_DEST_UNREACH 3
#define ICMP_HOST_UNREACH 1
#define ICMP_FRAG_NEEDED  4
#define PROTO_ICMP        1
#define ERR_TTL           64

#define IPV6_HDR_LEN         40
#define IPV6_OFF_PLEN        4
#define IPV6_OFF_NH          6
#define IPV6_OFF_SRC         8
#define IPV6_OFF_DST         24
#define IPV6_HOPOPTS         0
#define IPV6_ROUTING         43
#define IPV6_FRAGMENT        44
#define IPV6_DSTOPTS         60
#define IPV6_FRAG_OFFSET     0xfff8
#define IPV6_EXT_MAX         8
#define PROTO_ICMP6          58
#define ICMP6_DST_UNREACH    1
#define ICMP6_ADDR_UNREACH   3
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_INFO_MIN       128 /* types below are errors */
#define ICMP6_REDIRECT       137

unsigned pmtu_esp_max(unsigned path_mtu, unsigned outer)
{
	unsigned fixed = outer + ESP_HDR_LEN + ESP_IV_LEN + ESP_ICV_LEN, room;

	if (path_mtu < fixed + ESP_ALIGN)
		return 0;
	/* payload + pad + trailer is a multiple of ESP_ALIGN. */
	room = (path_mtu - fixed) & ~(unsigned)(ESP_ALIGN - 1);
	return room - ESP_TRAILER;
}

/* ---- when a packet gets an error ---- */

static int check4(const uint8_t *pkt, size_t len, unsigned esp_max, unsigned *ret_mtu)
{
	struct ipv4_info in;
	unsigned limit = esp_max > PMTU_IPV4_MIN ? esp_max : PMTU_IPV4_MIN;
	int total = ipv4_parse(pkt, len, &in);

	if (total < 0)
		return total;
	*ret_mtu = limit;
	if ((unsigned)total <= esp_max)
		return PMTU_FITS;
	return in.df && (unsigned)total > limit ? PMTU_TOO_BIG : PMTU_FRAGMENTS;
}

static int check6(const uint8_t *pkt, size_t len, unsigned esp_max, unsigned *ret_mtu)
{
	unsigned plen, limit;

	if (len < IPV6_HDR_LEN || (plen = load_be16(pkt + IPV6_OFF_PLEN)) > len - IPV6_HDR_LEN)
		return -EBADMSG;
	/* BEET leaves the header behind; an IPv6 link never carries less
	 * than 1280, so smaller pipes fragment the outer datagram instead. */
	limit = esp_max + IPV6_HDR_LEN;
	if (limit < PMTU_IPV6_MIN)
		limit = PMTU_IPV6_MIN;
	*ret_mtu = limit;
	if (plen <= esp_max)
		return PMTU_FITS;
	return IPV6_HDR_LEN + plen > limit ? PMTU_TOO_BIG : PMTU_FRAGMENTS;
}

int pmtu_check(const uint8_t *pkt, size_t len, unsigned esp_max, unsigned *ret_mtu)
{
	if (len < 1)
		return -EBADMSG;
	switch (pkt[0] >> 4) {
	case 4:
		return check4(pkt, len, esp_max, ret_mtu);
	case 6:
		return check6(pkt, len, esp_max, ret_mtu);
	default:
		return -EBADMSG;
	}
}

/* ---- IPv4 ---- */

/* 0/8, loopback, multicast and the reserved 240/4 with the limited
 * broadcast in it: none names one host that could take an answer. */
static bool ipv4_not_one_host(uint32_t a)
{
	uint8_t top = (uint8_t)(a >> 24);

	return top == 0 || top == 127 || top >= 224;
}

static bool icmp4_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* RFC 1122 3.2.2 and RFC 1812 4.3.2.7. */
static bool icmp4_may_answer(const uint8_t *pkt, const struct ipv4_info *in)
{
	if (in->frag_off != 0 || ipv4_not_one_host(in->src) || ipv4_not_one_host(in->dst))
		return false;
	if (in->proto == PROTO_ICMP)
		return in->total_len > in->hdr_len && !icmp4_is_error(pkt[in->hdr_len]);
	return true;
}

static int icmp4_build(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len, uint8_t code,
                       uint16_t mtu)
{
	const size_t hdrs = IPV4_ERR_HDR + ICMP_HDR_LEN;
	struct ipv4_info in;
	int total = ipv4_parse(pkt, len, &in);
	size_t quote, need;
	uint8_t *icmp = out + IPV4_ERR_HDR;

	if (total < 0)
		return total;
	if (!icmp4_may_answer(pkt, &in))
		return 0;
	need = (size_t)in.hdr_len + ICMP_QUOTE_MIN;
	if (need > (size_t)total)
		need = (size_t)total;
	if (cap < hdrs + need)
		return -ENOSPC;
	quote = (size_t)total;
	if (quote > PMTU_ICMP4_MAX - hdrs)
		quote = PMTU_ICMP4_MAX - hdrs;
	if (quote > cap - hdrs)
		quote = cap - hdrs;

	memset(out, 0, hdrs);
	out[0] = 0x45;
	store_be16(out + 2, (uint16_t)(hdrs + quote));
	out[8] = ERR_TTL;
	out[9] = PROTO_ICMP;
	/* From the address the packet could not reach: our own would be a
	 * martian source on the TUN (see pmtu.h). */
	store_be32(out + 12, in.dst);
	store_be32(out + 16, in.src);
	store_be16(out + 10, csum_fold(csum_add(0, out, IPV4_ERR_HDR)));
	icmp[0] = ICMP_DEST_UNREACH;
	icmp[1] = code;
	store_be16(icmp + 6, mtu);
	memcpy(icmp + ICMP_HDR_LEN, pkt, quote);
	store_be16(icmp + 2, csum_fold(csum_add(0, icmp, ICMP_HDR_LEN + quote)));
	return (int)(hdrs + quote);
}

int pmtu_icmp4_unreach(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len)
{
	return icmp4_build(out, cap, pkt, len, ICMP_HOST_UNREACH, 0);
}

int pmtu_icmp4_frag_needed(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len, uint16_t mtu)
{
	if (mtu < PMTU_IPV4_MIN)
		return -EINVAL;
	return icmp4_build(out, cap, pkt, len, ICMP_FRAG_NEEDED, mtu);
}

/* ---- IPv6 ---- */

static bool ipv6_is_multicast(const uint8_t *a)
{
	return a[0] == 0xff;
}

/* Unspecified, loopback or multicast. */
static bool ipv6_not_one_host(const uint8_t *a)
{
	static const uint8_t zero[15];

	return ipv6_is_multicast(a) || (memcmp(a, zero, 15) == 0 && a[15] <= 1);
}

/* What an IPv6 packet carries, past its extension headers. */
struct upper6 {
	bool known;      /* the chain was walked to its end */
	bool later_frag; /* a fragment other than the first */
	uint8_t nh;
	size_t off;
};

static struct upper6 ipv6_upper(const uint8_t *pkt, size_t end)
{
	struct upper6 u = {.nh = pkt[IPV6_OFF_NH], .off = IPV6_HDR_LEN};

	for (int i = 0;; i++) {
		size_t hl;

		if (u.nh != IPV6_HOPOPTS && u.nh != IPV6_ROUTING && u.nh != IPV6_DSTOPTS &&
		    u.nh != IPV6_FRAGMENT) {
			u.known = true;
			return u;
		}
		if (i == IPV6_EXT_MAX || end - u.off < 8)
			return u;
		if (u.nh == IPV6_FRAGMENT) {
			hl = 8;
			if (load_be16(pkt + u.off + 2) & IPV6_FRAG_OFFSET) {
				/* The rest is payload of a datagram begun elsewhere. */
				u.later_frag = true;
				u.known = true;
				return u;
			}
		} else {
			hl = ((size_t)pkt[u.off + 1] + 1) * 8;
			if (hl > end - u.off)
				return u;
		}
		u.nh = pkt[u.off];
		u.off += hl;
	}
}

/* RFC 4443 2.4 (e). too_big: the exceptions for packet too big. */
static bool icmp6_may_answer(const uint8_t *pkt, size_t end, bool too_big)
{
	struct upper6 u;

	if (ipv6_not_one_host(pkt + IPV6_OFF_SRC))
		return false;
	if (!too_big && ipv6_is_multicast(pkt + IPV6_OFF_DST))
		return false;
	u = ipv6_upper(pkt, end);
	if (!u.known)
		return false;
	if (u.later_frag)
		return too_big;
	if (u.nh == PROTO_ICMP6)
		return u.off < end && pkt[u.off] >= ICMP6_INFO_MIN && pkt[u.off] != ICMP6_REDIRECT;
	return true;
}

static int icmp6_build(uint8_t *out, size_t cap, const uint8_t from[16], const uint8_t *pkt,
                       size_t len, uint8_t type, uint8_t code, uint32_t word)
{
	const size_t hdrs = IPV6_HDR_LEN + ICMP_HDR_LEN;
	size_t total, quote, need;
	uint8_t *icmp = out + IPV6_HDR_LEN;
	uint32_t sum;

	if (len < IPV6_HDR_LEN || pkt[0] >> 4 != 6 ||
	    load_be16(pkt + IPV6_OFF_PLEN) > len - IPV6_HDR_LEN)
		return -EBADMSG;
	total = IPV6_HDR_LEN + load_be16(pkt + IPV6_OFF_PLEN);
	if (!icmp6_may_answer(pkt, total, type == ICMP6_PACKET_TOO_BIG))
		return 0;
	need = total < hdrs ? total : hdrs;
	if (cap < hdrs + need)
		return -ENOSPC;
	quote = total;
	if (quote > PMTU_ICMP6_MAX - hdrs)
		quote = PMTU_ICMP6_MAX - hdrs;
	if (quote > cap - hdrs)
		quote = cap - hdrs;

	memset(out, 0, hdrs);
	store_be32(out, UINT32_C(6) << 28);
	store_be16(out + IPV6_OFF_PLEN, (uint16_t)(ICMP_HDR_LEN + quote));
	out[IPV6_OFF_NH] = PROTO_ICMP6;
	out[7] = ERR_TTL;
	memcpy(out + IPV6_OFF_SRC, from, 16);
	memcpy(out + IPV6_OFF_DST, pkt + IPV6_OFF_SRC, 16);
	icmp[0] = type;
	icmp[1] = code;
	store_be32(icmp + 4, word);
	memcpy(icmp + ICMP_HDR_LEN, pkt, quote);
	sum = csum_pseudo6(out + IPV6_OFF_SRC, out + IPV6_OFF_DST, PROTO_ICMP6,
	                   (uint32_t)(ICMP_HDR_LEN + quote));
	store_be16(icmp + 2, csum_fold(csum_add(sum, icmp, ICMP_HDR_LEN + quote)));
	return (int)(hdrs + quote);
}

int pmtu_icmp6_unreach(uint8_t *out, size_t cap, const uint8_t from[16], const uint8_t *pkt,
                       size_t len)
{
	return icmp6_build(out, cap, from, pkt, len, ICMP6_DST_UNREACH, ICMP6_ADDR_UNREACH, 0);
}

int pmtu_icmp6_too_big(uint8_t *out, size_t cap, const uint8_t from[16], const uint8_t *pkt,
                       size_t len, uint32_t mtu)
{
	if (mtu < PMTU_IPV6_MIN)
		return -EINVAL;
	return icmp6_build(out, cap, from, pkt, len, ICMP6_PACKET_TOO_BIG, 0, mtu);
}
