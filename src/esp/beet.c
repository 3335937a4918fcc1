/* SPDX-License-Identifier: MIT */
/* beet.c: BEET mode for HIT (IPv6) traffic: strips and rebuilds the inner IPv6 header. */
#include "esp/beet.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"

#define IPV6_VERSION     6
#define IPV6_MAX_PAYLOAD 65535u
#define OFF_PAYLOAD_LEN  4
#define OFF_NEXT_HEADER  6
#define OFF_HOP_LIMIT    7
#define OFF_SRC          8
#define OFF_DST          24

_Static_assert(OFF_DST + HIT_LEN == BEET_IPV6_HDR_LEN, "IPv6 header layout");

int beet_ipv6_outbound(const uint8_t *pkt, size_t len, struct hit *ret_src, struct hit *ret_dst,
                       uint8_t *ret_next_header, size_t *ret_payload_off)
{
	size_t payload_len;

	if (len < BEET_IPV6_HDR_LEN || pkt[0] >> 4 != IPV6_VERSION)
		return -EBADMSG;
	payload_len = load_be16(pkt + OFF_PAYLOAD_LEN);
	if (payload_len > len - BEET_IPV6_HDR_LEN)
		return -EBADMSG;
	memcpy(ret_src->b, pkt + OFF_SRC, HIT_LEN);
	memcpy(ret_dst->b, pkt + OFF_DST, HIT_LEN);
	*ret_next_header = pkt[OFF_NEXT_HEADER];
	*ret_payload_off = BEET_IPV6_HDR_LEN;
	return (int)payload_len;
}

int beet_ipv6_inbound(uint8_t *buf, size_t cap, size_t payload_len, const struct hit *src,
                      const struct hit *dst, uint8_t next_header)
{
	if (payload_len > IPV6_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (cap < BEET_IPV6_HDR_LEN || payload_len > cap - BEET_IPV6_HDR_LEN)
		return -ENOSPC;
	/* Version 6, traffic class 0, flow label 0. */
	store_be32(buf, (uint32_t)IPV6_VERSION << 28);
	store_be16(buf + OFF_PAYLOAD_LEN, (uint16_t)payload_len);
	buf[OFF_NEXT_HEADER] = next_header;
	buf[OFF_HOP_LIMIT] = BEET_IPV6_HOP_LIMIT;
	memcpy(buf + OFF_SRC, src->b, HIT_LEN);
	memcpy(buf + OFF_DST, dst->b, HIT_LEN);
	return (int)(BEET_IPV6_HDR_LEN + payload_len);
}
