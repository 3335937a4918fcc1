/* SPDX-License-Identifier: MIT */
/* test_ipv4.c: IPv4 over ESP (parse, translate, inbound checks) and TCP MSS clamping. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "esp/ipv4.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* ---- vectors from an independent implementation ----
 * Built with Python's struct module and checksums computed from scratch (not
 * with this project's code); tshark 3.6 with checksum validation on reports
 * every IPv4, TCP, UDP and ICMP checksum in the *_wire packets as good.
 * _wire: as a peer sends it inside ESP (canonical LSIs: peer 100.64.1.2, us
 * 100.80.3.4); _local: as our TUN must see it when our local LSI for the
 * peer is 100.64.1.3 (a collision). */
/* vec_syn_wire */
static const uint8_t vec_syn_wire[64] = {
        0x45, 0x00, 0x00, 0x40, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x5b, 0xee, 0x64,
        0x40, 0x01, 0x02, 0x64, 0x50, 0x03, 0x04, 0x9c, 0x40, 0x00, 0x50, 0x01, 0x02,
        0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x02, 0xfa, 0xf0, 0x30, 0x40, 0x00,
        0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07, 0x04, 0x02, 0x08, 0x0a,
        0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00,
};
/* vec_syn_local */
static const uint8_t vec_syn_local[64] = {
        0x45, 0x00, 0x00, 0x40, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x5b, 0xed, 0x64,
        0x40, 0x01, 0x03, 0x64, 0x50, 0x03, 0x04, 0x9c, 0x40, 0x00, 0x50, 0x01, 0x02,
        0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x02, 0xfa, 0xf0, 0x30, 0x3f, 0x00,
        0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07, 0x04, 0x02, 0x08, 0x0a,
        0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00,
};
/* vec_syn_local_clamped */
static const uint8_t vec_syn_local_clamped[64] = {
        0x45, 0x00, 0x00, 0x40, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x5b, 0xed, 0x64,
        0x40, 0x01, 0x03, 0x64, 0x50, 0x03, 0x04, 0x9c, 0x40, 0x00, 0x50, 0x01, 0x02,
        0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x02, 0xfa, 0xf0, 0x30, 0xa3, 0x00,
        0x00, 0x02, 0x04, 0x05, 0x50, 0x01, 0x03, 0x03, 0x07, 0x04, 0x02, 0x08, 0x0a,
        0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00,
};
/* vec_udp_wire */
static const uint8_t vec_udp_wire[50] = {
        0x45, 0x00, 0x00, 0x32, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0x9b, 0xf1, 0x64,
        0x40, 0x01, 0x02, 0x64, 0x50, 0x03, 0x04, 0x14, 0xe9, 0x00, 0x35, 0x00, 0x1e,
        0x31, 0xe7, 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x04, 0x6d, 0x61, 0x72, 0x73, 0x00, 0x00, 0x01, 0x00, 0x01,
};
/* vec_udp_local */
static const uint8_t vec_udp_local[50] = {
        0x45, 0x00, 0x00, 0x32, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0x9b, 0xf0, 0x64,
        0x40, 0x01, 0x03, 0x64, 0x50, 0x03, 0x04, 0x14, 0xe9, 0x00, 0x35, 0x00, 0x1e,
        0x31, 0xe6, 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x04, 0x6d, 0x61, 0x72, 0x73, 0x00, 0x00, 0x01, 0x00, 0x01,
};
/* vec_icmp_wire */
static const uint8_t vec_icmp_wire[68] = {
        0x45, 0x00, 0x00, 0x44, 0x12, 0x34, 0x00, 0x00, 0x40, 0x01, 0x9b, 0xef, 0x64, 0x40,
        0x01, 0x02, 0x64, 0x50, 0x03, 0x04, 0x03, 0x03, 0xc9, 0xb8, 0x00, 0x00, 0x00, 0x00,
        0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0x9b, 0xfb, 0x64, 0x50,
        0x03, 0x04, 0x64, 0x40, 0x01, 0x02, 0x04, 0xd2, 0x13, 0xc4, 0x00, 0x14, 0x62, 0x61,
        0x49, 0x4e, 0x56, 0x49, 0x54, 0x45, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x78,
};
/* vec_icmp_local */
static const uint8_t vec_icmp_local[68] = {
        0x45, 0x00, 0x00, 0x44, 0x12, 0x34, 0x00, 0x00, 0x40, 0x01, 0x9b, 0xee, 0x64, 0x40,
        0x01, 0x03, 0x64, 0x50, 0x03, 0x04, 0x03, 0x03, 0xc9, 0xb9, 0x00, 0x00, 0x00, 0x00,
        0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0x9b, 0xfa, 0x64, 0x50,
        0x03, 0x04, 0x64, 0x40, 0x01, 0x03, 0x04, 0xd2, 0x13, 0xc4, 0x00, 0x14, 0x62, 0x60,
        0x49, 0x4e, 0x56, 0x49, 0x54, 0x45, 0x20, 0x73, 0x69, 0x70, 0x3a, 0x78,
};

#define PEER_WIRE  IP(100, 64, 1, 2)
#define PEER_LOCAL IP(100, 64, 1, 3)
#define US         IP(100, 80, 3, 4)

static const struct ipv4_addrs wire_in = {PEER_WIRE, US}, local_in = {PEER_LOCAL, US};

/* ---- a reference checksum, independent of common/csum.c ---- */

static uint32_t ref_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t ref_pseudo4(const uint8_t *pkt, size_t l4len)
{
	return ref_add(0, pkt + 12, 8) + pkt[9] + (uint32_t)l4len;
}

static size_t ihl_of(const uint8_t *pkt)
{
	return (size_t)(pkt[0] & 15) * 4;
}

static bool hdr_ok(const uint8_t *pkt)
{
	return ref_fold(ref_add(0, pkt, ihl_of(pkt))) == 0;
}

/* The transport checksum of a whole (unfragmented) packet verifies. */
static bool l4_ok(const uint8_t *pkt)
{
	size_t hl = ihl_of(pkt), total = load_be16(pkt + 2);

	return ref_fold(ref_add(ref_pseudo4(pkt, total - hl), pkt + hl, total - hl)) == 0;
}

static size_t l4_csum_off(uint8_t proto)
{
	return proto == 6 ? 16 : proto == 1 ? 2 : 6;
}

/* Sets the transport (or ICMP) checksum of a whole packet from scratch. */
static void l4_fill(uint8_t *pkt)
{
	size_t hl = ihl_of(pkt), total = load_be16(pkt + 2), off = hl + l4_csum_off(pkt[9]);
	uint32_t sum = pkt[9] == 1 ? 0 : ref_pseudo4(pkt, total - hl);
	uint16_t c;

	store_be16(pkt + off, 0);
	c = ref_fold(ref_add(sum, pkt + hl, total - hl));
	if (pkt[9] == 17 && c == 0)
		c = 0xffff;
	store_be16(pkt + off, c);
}

/* Writes an IPv4 header of ihl words (NOP options) in front of plen bytes
 * of payload already at b + 4 * ihl; returns the total length. */
static size_t mk4(uint8_t *b, uint8_t ihl, uint8_t proto, uint16_t frag, uint32_t src, uint32_t dst,
                  size_t plen)
{
	size_t hl = (size_t)ihl * 4;

	b[0] = (uint8_t)(0x40 | ihl);
	b[1] = 0;
	store_be16(b + 2, (uint16_t)(hl + plen));
	store_be16(b + 4, 0x4242);
	store_be16(b + 6, frag);
	b[8] = 64;
	b[9] = proto;
	store_be16(b + 10, 0);
	store_be32(b + 12, src);
	store_be32(b + 16, dst);
	memset(b + 20, 1, hl - 20);
	store_be16(b + 10, ref_fold(ref_add(0, b, hl)));
	return hl + plen;
}

/* A TCP header with flags and the given options at seg; returns its length. */
static size_t mktcp(uint8_t *seg, uint8_t flags, const uint8_t *opts, size_t olen)
{
	memset(seg, 0, 20);
	store_be16(seg, 40000);
	store_be16(seg + 2, 80);
	store_be32(seg + 4, 0x01020304);
	seg[12] = (uint8_t)(((20 + olen) / 4) << 4);
	seg[13] = flags;
	store_be16(seg + 14, 64240);
	memcpy(seg + 20, opts, olen);
	return 20 + olen;
}

/* ---- parsing ---- */

static void test_parse(void **state)
{
	uint8_t b[128];
	struct ipv4_info in;

	(void)state;
	assert_int_equal(ipv4_parse(vec_syn_wire, sizeof(vec_syn_wire), &in), 64);
	assert_int_equal(in.src, PEER_WIRE);
	assert_int_equal(in.dst, US);
	assert_int_equal(in.proto, 6);
	assert_int_equal(in.hdr_len, 20);
	assert_int_equal(in.total_len, 64);
	assert_true(in.df);
	assert_false(in.mf);
	assert_false(in.fragment);
	/* Bytes past the total length are not part of the packet. */
	memset(b, 0xee, sizeof(b));
	memcpy(b, vec_syn_wire, sizeof(vec_syn_wire));
	assert_int_equal(ipv4_parse(b, sizeof(b), &in), 64);

	memset(b, 0, sizeof(b));
	assert_int_equal(mk4(b, 6, 17, 0x2000, 1, 2, 16), 40);
	assert_int_equal(ipv4_parse(b, 40, &in), 40);
	assert_int_equal(in.hdr_len, 24);
	assert_true(in.mf && in.fragment && !in.df);
	assert_int_equal(in.frag_off, 0);
	mk4(b, 5, 17, 0x0005, 1, 2, 16);
	assert_int_equal(ipv4_parse(b, 36, &in), 36);
	assert_true(in.fragment && !in.mf);
	assert_int_equal(in.frag_off, 5);

	/* Malformed. */
	mk4(b, 5, 17, 0, 1, 2, 16);
	assert_int_equal(ipv4_parse(b, 19, &in), -EBADMSG);
	assert_int_equal(ipv4_parse(b, 35, &in), -EBADMSG); /* total 36 > 35 */
	b[0] = 0x65;
	assert_int_equal(ipv4_parse(b, 36, &in), -EBADMSG);
	b[0] = 0x44;
	assert_int_equal(ipv4_parse(b, 36, &in), -EBADMSG);
	b[0] = 0x4f; /* 60-byte header, total 36 */
	assert_int_equal(ipv4_parse(b, 36, &in), -EBADMSG);
	b[0] = 0x45;
	store_be16(b + 2, 19);
	assert_int_equal(ipv4_parse(b, 36, &in), -EBADMSG);
	store_be16(b + 2, 20); /* a bare header is a packet */
	assert_int_equal(ipv4_parse(b, 36, &in), 20);
}

/* ---- the independent vectors ---- */

static void test_vectors(void **state)
{
	static const struct {
		const uint8_t *wire, *local;
		size_t len;
	} v[] = {
	        {vec_syn_wire, vec_syn_local, sizeof(vec_syn_wire)},
	        {vec_udp_wire, vec_udp_local, sizeof(vec_udp_wire)},
	        {vec_icmp_wire, vec_icmp_local, sizeof(vec_icmp_wire)},
	};
	uint8_t b[128];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		/* Inbound: the peer's canonical view to ours. */
		memcpy(b, v[i].wire, v[i].len);
		assert_int_equal(ipv4_inbound(b, v[i].len, wire_in, local_in), (int)v[i].len);
		assert_memory_equal(b, v[i].local, v[i].len);
		/* And back, as the outbound path translates. */
		assert_int_equal(ipv4_rewrite(b, v[i].len, wire_in), 0);
		assert_memory_equal(b, v[i].wire, v[i].len);
	}
	memcpy(b, vec_syn_local, sizeof(vec_syn_local));
	assert_int_equal(ipv4_clamp_mss(b, sizeof(vec_syn_local), 1400), 1);
	assert_memory_equal(b, vec_syn_local_clamped, sizeof(vec_syn_local_clamped));
}

/* ---- translation ---- */

static void test_rewrite_many(void **state)
{
	uint8_t b[1600], orig[1600];
	uint32_t x = 7;

	(void)state;
	for (int i = 0; i < 400; i++) {
		uint8_t proto = (i & 1) ? 6 : 17, ihl = (uint8_t)(5 + i % 3);
		size_t hl = (size_t)ihl * 4, plen = 20 + (size_t)(i * 7) % 1300, total;
		struct ipv4_addrs to;

		for (size_t k = 0; k < plen; k++) {
			x = x * 1103515245u + 12345u;
			b[hl + k] = (uint8_t)(x >> 16);
		}
		if (proto == 6)
			b[hl + 12] = 0x50;
		x = x * 1103515245u + 12345u;
		total = mk4(b, ihl, proto, 0x4000, IP(100, 64, 0, 0) | (x & 0xffff), US, plen);
		l4_fill(b);
		assert_true(hdr_ok(b) && l4_ok(b));
		memcpy(orig, b, total);
		x = x * 1103515245u + 12345u;
		to = (struct ipv4_addrs){x ^ 0x5a5a5a5a, x * 3};
		assert_int_equal(ipv4_rewrite(b, total, to), 0);
		assert_int_equal(load_be32(b + 12), to.src);
		assert_int_equal(load_be32(b + 16), to.dst);
		assert_true(hdr_ok(b));
		if (proto == 17 && load_be16(orig + hl + 6) == 0)
			assert_int_equal(load_be16(b + hl + 6), 0);
		else
			assert_true(l4_ok(b));
		/* Nothing else moved. */
		assert_memory_equal(b, orig, 10);
		assert_memory_equal(b + 20, orig + 20, hl - 20);
		assert_memory_equal(b + hl, orig + hl, l4_csum_off(proto));
		assert_memory_equal(b + hl + l4_csum_off(proto) + 2,
		                    orig + hl + l4_csum_off(proto) + 2,
		                    plen - l4_csum_off(proto) - 2);
	}
}

static void test_udp_zero_checksum(void **state)
{
	uint8_t b[64];
	size_t total;

	(void)state;
	memset(b, 0x33, sizeof(b));
	store_be16(b + 20 + 4, 28);
	store_be16(b + 20 + 6, 0); /* no checksum */
	total = mk4(b, 5, 17, 0, PEER_WIRE, US, 28);
	assert_int_equal(ipv4_inbound(b, total, wire_in, local_in), (int)total);
	assert_int_equal(load_be16(b + 26), 0);
	assert_true(hdr_ok(b));
	assert_int_equal(load_be32(b + 12), PEER_LOCAL);
}

/* A datagram whose checksum after translation is the one value UDP cannot
 * send as computed: it must come out as 0xffff, not 0 (RFC 768). */
static void test_udp_checksum_becomes_ffff(void **state)
{
	uint8_t b[64];
	uint32_t s;
	size_t total;

	(void)state;
	memset(b, 0, sizeof(b));
	store_be16(b + 20, 1000);
	store_be16(b + 22, 2000);
	store_be16(b + 24, 12);
	/* Choose the payload word w so that, with the local addresses, the sum
	 * is 0xffff and the checksum ~0xffff = 0. */
	total = mk4(b, 5, 17, 0, PEER_LOCAL, US, 12);
	s = ref_add(ref_pseudo4(b, 12), b + 20, 12);
	s = (uint16_t)~ref_fold(s);
	store_be16(b + 28, (uint16_t)(0xffff - s));
	assert_int_equal(ref_fold(ref_add(ref_pseudo4(b, 12), b + 20, 12)), 0);
	/* The same datagram as the peer sent it. */
	mk4(b, 5, 17, 0, PEER_WIRE, US, 12);
	l4_fill(b);
	assert_int_not_equal(load_be16(b + 26), 0);
	assert_int_equal(ipv4_inbound(b, total, wire_in, local_in), (int)total);
	assert_int_equal(load_be16(b + 26), 0xffff);
	assert_true(l4_ok(b));
}

static void test_fragments(void **state)
{
	uint8_t dgram[1100], f1[600], f2[600], seg[1008];
	size_t seglen = 1008, n1 = 504, n2 = seglen - n1;
	struct ipv4_addrs to = {IP(100, 64, 7, 7), IP(100, 64, 8, 8)};

	(void)state;
	/* A whole UDP datagram, for its checksum. */
	for (size_t k = 0; k < seglen; k++)
		dgram[20 + k] = (uint8_t)(k * 13 + 1);
	store_be16(dgram + 24, (uint16_t)seglen);
	mk4(dgram, 5, 17, 0, PEER_WIRE, US, seglen);
	l4_fill(dgram);
	/* Cut in two. */
	memcpy(f1 + 20, dgram + 20, n1);
	mk4(f1, 5, 17, 0x2000, PEER_WIRE, US, n1);
	memcpy(f2 + 20, dgram + 20 + n1, n2);
	mk4(f2, 5, 17, (uint16_t)(n1 / 8), PEER_WIRE, US, n2);
	assert_int_equal(ipv4_rewrite(f1, 20 + n1, to), 0);
	assert_int_equal(ipv4_rewrite(f2, 20 + n2, to), 0);
	assert_true(hdr_ok(f1) && hdr_ok(f2));
	/* The later piece has no transport header: its payload is untouched. */
	assert_memory_equal(f2 + 20, dgram + 20 + n1, n2);
	/* Reassembled, the datagram verifies with the new addresses. */
	memcpy(seg, f1 + 20, n1);
	memcpy(seg + n1, f2 + 20, n2);
	memcpy(dgram + 20, seg, seglen);
	mk4(dgram, 5, 17, 0, to.src, to.dst, seglen);
	assert_true(l4_ok(dgram));

	/* A first TCP piece too short to hold the checksum (RFC 1858). */
	uint8_t t[64], orig[64];
	memset(t, 0, sizeof(t));
	mk4(t, 5, 6, 0x2000, PEER_WIRE, US, 8);
	memcpy(orig, t, 28);
	assert_int_equal(ipv4_rewrite(t, 28, to), -EBADMSG);
	assert_int_equal(ipv4_inbound(t, 28, wire_in, local_in), -EBADMSG);
	assert_memory_equal(t, orig, 28);
	/* With 16 bytes it still lacks the field at 16. */
	mk4(t, 5, 6, 0x2000, PEER_WIRE, US, 16);
	assert_int_equal(ipv4_rewrite(t, 36, to), -EBADMSG);
	/* A whole UDP packet shorter than its header. */
	mk4(t, 5, 17, 0, PEER_WIRE, US, 6);
	assert_int_equal(ipv4_rewrite(t, 26, to), -EBADMSG);
	/* A later TCP piece of 8 bytes is fine: nothing to fix in it. */
	mk4(t, 5, 6, 0x0001, PEER_WIRE, US, 8);
	memcpy(orig, t, 28);
	assert_int_equal(ipv4_rewrite(t, 28, to), 0);
	assert_true(hdr_ok(t));
	assert_memory_equal(t + 20, orig + 20, 8);
	/* Protocols without a pseudo-header checksum need no transport bytes. */
	mk4(t, 5, 50, 0, PEER_WIRE, US, 0);
	assert_int_equal(ipv4_rewrite(t, 20, to), 0);
	assert_true(hdr_ok(t));
}

static void test_inbound_checks(void **state)
{
	uint8_t b[80], orig[80];
	size_t n = sizeof(vec_syn_wire);

	(void)state;
	memcpy(orig, vec_syn_wire, n);
	memcpy(b, orig, n);
	assert_int_equal(ipv4_inbound(b, n, (struct ipv4_addrs){PEER_LOCAL, US}, local_in),
	                 -EACCES);
	assert_int_equal(ipv4_inbound(b, n, (struct ipv4_addrs){PEER_WIRE, US + 1}, local_in),
	                 -EADDRNOTAVAIL);
	assert_memory_equal(b, orig, n);
	/* A wrong header checksum. */
	b[8] = 63;
	assert_int_equal(ipv4_inbound(b, n, wire_in, local_in), -EBADMSG);
	b[8] = 64;
	/* Shorter than the header says, or not IPv4 at all. */
	assert_int_equal(ipv4_inbound(b, n - 1, wire_in, local_in), -EBADMSG);
	b[0] = 0x60;
	assert_int_equal(ipv4_inbound(b, n, wire_in, local_in), -EBADMSG);
	b[0] = 0x45;
	assert_int_equal(ipv4_inbound(b, 0, wire_in, local_in), -EBADMSG);
	assert_memory_equal(b, orig, n);
	/* Longer: the rest is dropped, and left as it was. */
	memset(b + n, 0xab, sizeof(b) - n);
	assert_int_equal(ipv4_inbound(b, sizeof(b), wire_in, local_in), (int)n);
	assert_memory_equal(b, vec_syn_local, n);
	for (size_t i = n; i < sizeof(b); i++)
		assert_int_equal(b[i], 0xab);
	/* No collision, no change. */
	memcpy(b, orig, n);
	assert_int_equal(ipv4_inbound(b, n, wire_in, wire_in), (int)n);
	assert_memory_equal(b, orig, n);
}

/* ---- ICMP errors and their quotes ---- */

/* An ICMP error from src to dst quoting qlen bytes of the packet at q. */
static size_t mkicmp(uint8_t *b, uint8_t type, uint32_t src, uint32_t dst, const uint8_t *q,
                     size_t qlen)
{
	size_t total;

	memset(b + 20, 0, 8);
	b[20] = type;
	b[21] = 3;
	memcpy(b + 28, q, qlen);
	total = mk4(b, 5, 1, 0, src, dst, 8 + qlen);
	l4_fill(b);
	return total;
}

static void test_icmp_quotes(void **state)
{
	uint8_t orig[128], expect[128], b[256], keep[256];
	size_t olen, total;
	static const uint8_t mss[4] = {2, 4, 5, 0xb4};

	(void)state;
	/* We sent a TCP SYN to the peer; its stack answers port unreachable
	 * quoting all of it, TCP checksum included. */
	olen = mk4(orig, 5, 6, 0x4000, US, PEER_WIRE, mktcp(orig + 20, 0x02, mss, 4));
	l4_fill(orig);
	memcpy(expect, orig, olen);
	mk4(expect, 5, 6, 0x4000, US, PEER_LOCAL, olen - 20);
	l4_fill(expect);
	total = mkicmp(b, 3, PEER_WIRE, US, orig, olen);
	assert_int_equal(ipv4_inbound(b, total, wire_in, local_in), (int)total);
	assert_true(hdr_ok(b));
	assert_int_equal(ref_fold(ref_add(0, b + 20, total - 20)), 0);
	assert_memory_equal(b + 28, expect, olen);

	/* A quote cut short after 8 transport bytes (RFC 792's minimum). */
	total = mkicmp(b, 11, PEER_WIRE, US, orig, 28);
	assert_int_equal(ipv4_inbound(b, total, wire_in, local_in), (int)total);
	assert_int_equal(ref_fold(ref_add(0, b + 20, total - 20)), 0);
	assert_memory_equal(b + 28, expect, 28);

	/* A quoted later fragment has no transport header to fix. */
	memset(orig + 20, 0x5c, 8);
	mk4(orig, 5, 17, 0x0010, US, PEER_WIRE, 8);
	total = mkicmp(b, 11, PEER_WIRE, US, orig, 28);
	assert_int_equal(ipv4_inbound(b, total, wire_in, local_in), (int)total);
	assert_int_equal(ref_fold(ref_add(0, b + 20, total - 20)), 0);
	assert_int_equal(load_be32(b + 28 + 16), PEER_LOCAL);
	assert_true(hdr_ok(b + 28));
	assert_memory_equal(b + 48, orig + 20, 8);

	/* A quote of some other packet is left alone. */
	mk4(orig, 5, 17, 0, US, IP(100, 64, 99, 99), 8);
	total = mkicmp(b, 3, PEER_WIRE, US, orig, 28);
	memcpy(keep, b, total);
	assert_int_equal(ipv4_inbound(b, total, wire_in, local_in), (int)total);
	assert_memory_equal(b + 20, keep + 20, total - 20);

	/* A bad ICMP checksum: the quote is not touched, the stack drops it. */
	mk4(orig, 5, 17, 0, US, PEER_WIRE, 8);
	total = mkicmp(b, 3, PEER_WIRE, US, orig, 28);
	b[23] ^= 1;
	memcpy(keep, b, total);
	assert_int_equal(ipv4_inbound(b, total, wire_in, local_in), (int)total);
	assert_memory_equal(b + 20, keep + 20, total - 20);
	assert_int_equal(load_be32(b + 12), PEER_LOCAL);

	/* An echo request carries no addresses inside. */
	total = mkicmp(b, 8, PEER_WIRE, US, orig, 28);
	memcpy(keep, b, total);
	assert_int_equal(ipv4_inbound(b, total, wire_in, local_in), (int)total);
	assert_memory_equal(b + 20, keep + 20, total - 20);
	assert_true(hdr_ok(b));
}

/* ---- MSS clamping ---- */

static size_t syn4(uint8_t *b, uint8_t flags, const uint8_t *opts, size_t olen)
{
	size_t total = mk4(b, 5, 6, 0x4000, US, PEER_WIRE, mktcp(b + 20, flags, opts, olen));

	l4_fill(b);
	return total;
}

static void test_mss4(void **state)
{
	uint8_t b[128], orig[128];
	size_t n;

	(void)state;
	/* MSS at an odd offset (after one NOP). */
	static const uint8_t odd[8] = {1, 2, 4, 0x05, 0xb4, 1, 1, 1};
	n = syn4(b, 0x02, odd, sizeof(odd));
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 1);
	assert_int_equal(load_be16(b + 20 + 23), 1360);
	assert_true(l4_ok(b) && hdr_ok(b));
	/* SYN-ACK too. */
	static const uint8_t even[4] = {2, 4, 0x23, 0x28};
	n = syn4(b, 0x12, even, sizeof(even));
	assert_int_equal(ipv4_clamp_mss(b, n, 1280), 1);
	assert_int_equal(load_be16(b + 42), 1240);
	assert_true(l4_ok(b));
	/* Every MSS option, should there be two. */
	static const uint8_t two[8] = {2, 4, 0x05, 0xb4, 2, 4, 0x23, 0x28};
	n = syn4(b, 0x02, two, sizeof(two));
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 1);
	assert_int_equal(load_be16(b + 42), 1360);
	assert_int_equal(load_be16(b + 46), 1360);
	assert_true(l4_ok(b));
	/* With IPv4 options in front. */
	n = mk4(b, 7, 6, 0x4000, US, PEER_WIRE, mktcp(b + 28, 0x02, even, sizeof(even)));
	l4_fill(b);
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 1);
	assert_int_equal(load_be16(b + 28 + 22), 1360);
	assert_true(l4_ok(b));

	/* Left alone. */
	static const uint8_t small[4] = {2, 4, 0x04, 0xb0};
	static const uint8_t none[4] = {1, 1, 4, 2};
	static const uint8_t zero_len[8] = {1, 1, 8, 0, 2, 4, 0x05, 0xb4};
	static const uint8_t too_long[8] = {1, 1, 8, 7, 2, 4, 0x05, 0xb4};
	static const uint8_t mss_len3[8] = {2, 3, 0x05, 0xb4, 0, 0, 0, 0};
	static const uint8_t after_eol[8] = {1, 0, 1, 1, 2, 4, 0x05, 0xb4};
	static const uint8_t cut[4] = {1, 1, 1, 2};
	const struct {
		uint8_t flags;
		const uint8_t *opts;
		size_t olen;
	} same[] = {
	        {0x10, even, 4},     {0x02, small, 4},    {0x02, none, 4},      {0x02, zero_len, 8},
	        {0x02, too_long, 8}, {0x02, mss_len3, 8}, {0x02, after_eol, 8}, {0x02, cut, 4},
	};
	for (size_t i = 0; i < ARRAY_SIZE(same); i++) {
		n = syn4(b, same[i].flags, same[i].opts, same[i].olen);
		memcpy(orig, b, n);
		assert_int_equal(ipv4_clamp_mss(b, n, 1400), 0);
		assert_memory_equal(b, orig, n);
	}
	/* A fragment, a data offset past the end, UDP. */
	n = syn4(b, 0x02, even, 4);
	store_be16(b + 6, 0x2000);
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 0);
	n = syn4(b, 0x02, even, 4);
	b[32] = 0xf0;
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 0);
	n = syn4(b, 0x02, even, 4);
	assert_int_equal(ipv4_clamp_mss(b, 39, 1400), -EBADMSG);
	b[9] = 17;
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 0);
	/* Bounds of the MTU. */
	n = syn4(b, 0x02, even, 4);
	assert_int_equal(ipv4_clamp_mss(b, n, 40), -EINVAL);
	assert_int_equal(ipv4_clamp_mss(b, n, 70000), 0);
	assert_int_equal(ipv4_clamp_mss(b, n, 41), 1);
	assert_int_equal(load_be16(b + 42), 1);
	assert_true(l4_ok(b));
	/* Neither family. */
	b[0] = 0x50;
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), -EBADMSG);
	assert_int_equal(ipv4_clamp_mss(b, 0, 1400), -EBADMSG);
}

/* An IPv6 packet: header, then the extension headers in ext (their next
 * header bytes already chained, the first one's type in nh), then a TCP
 * SYN with an MSS of 1460. Returns the length; *tcp_off is where TCP starts. */
static size_t mk6(uint8_t *b, uint8_t nh, const uint8_t *ext, size_t elen, size_t *tcp_off)
{
	static const uint8_t mss[4] = {2, 4, 0x05, 0xb4};
	size_t off = 40 + elen, tl = mktcp(b + off, 0x02, mss, sizeof(mss));
	uint32_t sum;

	memset(b, 0, 40);
	b[0] = 0x60;
	store_be16(b + 4, (uint16_t)(elen + tl));
	b[6] = nh;
	b[7] = 64;
	b[8] = 0x20, b[9] = 0x01, b[11] = 0x20, b[23] = 1;
	b[24] = 0x20, b[25] = 0x01, b[27] = 0x21, b[39] = 2;
	if (elen)
		memcpy(b + 40, ext, elen);
	sum = ref_add(0, b + 8, 32) + 6 + (uint32_t)tl;
	store_be16(b + off + 16, ref_fold(ref_add(sum, b + off, tl)));
	*tcp_off = off;
	return off + tl;
}

static bool tcp6_ok(const uint8_t *b, size_t off, size_t end)
{
	uint32_t sum = ref_add(0, b + 8, 32) + 6 + (uint32_t)(end - off);

	return ref_fold(ref_add(sum, b + off, end - off)) == 0;
}

static void test_mss6(void **state)
{
	uint8_t b[256], orig[256];
	size_t n, off;

	(void)state;
	n = mk6(b, 6, NULL, 0, &off);
	assert_true(tcp6_ok(b, off, n));
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 1);
	assert_int_equal(load_be16(b + off + 22), 1340);
	assert_true(tcp6_ok(b, off, n));

	/* Hop-by-hop (8) then destination options (16), then TCP. */
	uint8_t ext[24] = {60, 0, 1, 4, 0, 0, 0, 0, 6, 1, 1, 12};
	n = mk6(b, 0, ext, 24, &off);
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 1);
	assert_int_equal(load_be16(b + off + 22), 1340);
	assert_true(tcp6_ok(b, off, n));
	/* A routing header (type 0, no segments left) is skipped too. */
	uint8_t rt[8] = {6, 0, 0, 0};
	n = mk6(b, 43, rt, 8, &off);
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 1);

	/* An atomic fragment (offset 0, no M) is a whole packet... */
	uint8_t frag[8] = {6, 0, 0, 0, 0, 0, 0, 1};
	n = mk6(b, 44, frag, 8, &off);
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 1);
	/* ... a real one is not, first or later. */
	static const uint8_t fragbits[2][2] = {{0x00, 0x01}, {0x00, 0x08}};
	for (size_t i = 0; i < 2; i++) {
		frag[2] = fragbits[i][0];
		frag[3] = fragbits[i][1];
		n = mk6(b, 44, frag, 8, &off);
		memcpy(orig, b, n);
		assert_int_equal(ipv4_clamp_mss(b, n, 1400), 0);
		assert_memory_equal(b, orig, n);
	}
	/* AH, an unknown header, a header running past the end, too many. */
	uint8_t ah[16] = {6, 2};
	n = mk6(b, 51, ah, 16, &off);
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 0);
	n = mk6(b, 253, ah, 16, &off);
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 0);
	uint8_t longopt[8] = {6, 30};
	n = mk6(b, 60, longopt, 8, &off);
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 0);
	uint8_t many[72];
	for (size_t i = 0; i < 9; i++) {
		memset(many + 8 * i, 0, 8);
		many[8 * i] = i == 8 ? 6 : 60;
	}
	n = mk6(b, 60, many, 72, &off);
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 0);
	/* Eight are fine. */
	many[8 * 7] = 6;
	n = mk6(b, 60, many, 64, &off);
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 1);
	assert_true(tcp6_ok(b, off, n));
	/* An extension header cut by the payload length. */
	n = mk6(b, 0, ext, 24, &off);
	store_be16(b + 4, 1);
	assert_int_equal(ipv4_clamp_mss(b, n, 1400), 0);

	/* Malformed IPv6 and bad MTUs. */
	n = mk6(b, 6, NULL, 0, &off);
	assert_int_equal(ipv4_clamp_mss(b, 39, 1400), -EBADMSG);
	assert_int_equal(ipv4_clamp_mss(b, n - 1, 1400), -EBADMSG);
	assert_int_equal(ipv4_clamp_mss(b, n, 60), -EINVAL);
	assert_int_equal(ipv4_clamp_mss(b, n, 1520), 0);
	assert_int_equal(ipv4_clamp_mss(b, n, 1519), 1);
	assert_int_equal(load_be16(b + off + 22), 1459);
	assert_true(tcp6_ok(b, off, n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse),
	        cmocka_unit_test(test_vectors),
	        cmocka_unit_test(test_rewrite_many),
	        cmocka_unit_test(test_udp_zero_checksum),
	        cmocka_unit_test(test_udp_checksum_becomes_ffff),
	        cmocka_unit_test(test_fragments),
	        cmocka_unit_test(test_inbound_checks),
	        cmocka_unit_test(test_icmp_quotes),
	        cmocka_unit_test(test_mss4),
	        cmocka_unit_test(test_mss6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
