/* SPDX-License-Identifier: MIT */
/* test_offload.c: TUN super-packets cut (tso), decrypted segments coalesced
 * (gro), and the socket's send queue with UDP_SEGMENT runs (udp_tx). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "esp/gro.h"
#include "esp/tso.h"
#include "net/udp.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

static const uint8_t v4_src[4] = {100, 64, 0, 1}, v4_dst[4] = {100, 64, 0, 2};
static const uint8_t v6_src[16] = {0x20, 0x01, 0x00, 0x20, [15] = 1};
static const uint8_t v6_dst[16] = {0x20, 0x01, 0x00, 0x20, [15] = 2};

/* ---- packet builders: headers written byte by byte, checksums from scratch ---- */

struct tcp_opts {
	bool v6;
	uint32_t seq;
	uint8_t flags;
	size_t payload;
	uint8_t fill;      /* payload byte i is fill + i */
	uint16_t sport;    /* 0: 40000 */
	uint8_t tos_or_tc; /* IPv4 TOS, IPv6 traffic class */
	bool bad_csum;
	bool timestamps; /* a 12-byte option block: NOP NOP TS */
	uint32_t ack;
};

/* Prestates: which family a test runs with, whether the receiver has UDP_GRO. */
static bool ipv4 = false, ipv6 = true, rx_plain = false, rx_gro = true;

static size_t ip_len(bool is_v6)
{
	return is_v6 ? 40 : 20;
}

/* An IPv6 header for len bytes in all, between the test's two HITs. */
static void put_ip6(uint8_t *p, size_t len, uint8_t nh, uint8_t tc)
{
	memset(p, 0, 40);
	p[0] = (uint8_t)(0x60 | tc >> 4);
	p[1] = (uint8_t)(tc << 4);
	store_be16(p + 4, (uint16_t)(len - 40));
	p[6] = nh;
	p[7] = 64;
	memcpy(p + 8, v6_src, 16);
	memcpy(p + 24, v6_dst, 16);
}

static void tcp_csum(uint8_t *p, size_t len, bool v6, size_t l4)
{
	uint32_t sum;
	size_t l4len = len - l4;

	store_be16(p + l4 + 16, 0);
	sum = v6 ? csum_pseudo6(p + 8, p + 24, IPPROTO_TCP, (uint32_t)l4len)
	         : csum_pseudo4(p + 12, p + 16, IPPROTO_TCP, (uint16_t)l4len);
	store_be16(p + l4 + 16, csum_fold(csum_add(sum, p + l4, l4len)));
}

/* An ordinary TCP segment; returns its length. */
static size_t make_tcp(uint8_t *p, const struct tcp_opts *o)
{
	size_t l4 = ip_len(o->v6), thl = o->timestamps ? 32 : 20, len = l4 + thl + o->payload;
	uint8_t *t = p + l4;

	memset(p, 0, l4 + thl);
	if (o->v6) {
		put_ip6(p, len, IPPROTO_TCP, o->tos_or_tc);
	} else {
		p[0] = 0x45;
		p[1] = o->tos_or_tc;
		store_be16(p + 2, (uint16_t)len);
		store_be16(p + 4, 0x1000);
		p[6] = 0x40; /* DF */
		p[8] = 64;
		p[9] = IPPROTO_TCP;
		memcpy(p + 12, v4_src, 4);
		memcpy(p + 16, v4_dst, 4);
		store_be16(p + 10, csum_fold(csum_add(0, p, 20)));
	}
	store_be16(t, o->sport ? o->sport : 40000);
	store_be16(t + 2, 5201);
	store_be32(t + 4, o->seq);
	store_be32(t + 8, o->ack ? o->ack : 777);
	t[12] = (uint8_t)(thl / 4 << 4);
	t[13] = o->flags;
	store_be16(t + 14, 512);
	if (o->timestamps) {
		t[20] = 1;
		t[21] = 1;
		t[22] = 8;
		t[23] = 10;
		store_be32(t + 24, 0x01020304);
		store_be32(t + 28, 0x05060708);
	}
	for (size_t i = 0; i < o->payload; i++)
		t[thl + i] = (uint8_t)(o->fill + i);
	tcp_csum(p, len, o->v6, l4);
	if (o->bad_csum)
		t[16] ^= 0x55;
	return len;
}

static bool ip4_hdr_ok(const uint8_t *p)
{
	return csum_fold(csum_add(0, p, (size_t)(p[0] & 15) * 4)) == 0;
}

static bool l4_ok(const uint8_t *p, size_t len, bool v6, uint8_t proto)
{
	size_t l4 = ip_len(v6), l4len = len - l4;
	uint32_t sum = v6 ? csum_pseudo6(p + 8, p + 24, proto, (uint32_t)l4len)
	                  : csum_pseudo4(p + 12, p + 16, proto, (uint16_t)l4len);

	return csum_fold(csum_add(sum, p + l4, l4len)) == 0;
}

/* A super-packet as the kernel hands it over: the first segment's headers,
 * all the payload, lengths for the whole, the checksum field left partial. */
static size_t make_super(uint8_t *p, struct vnet_hdr *h, bool v6, size_t payload, uint16_t mss,
                         uint8_t flags)
{
	struct tcp_opts o = {.v6 = v6, .seq = 1000, .flags = flags, .payload = payload, .fill = 3};
	size_t len = make_tcp(p, &o), l4 = ip_len(v6);
	uint32_t sum = v6 ? csum_pseudo6(p + 8, p + 24, IPPROTO_TCP, (uint32_t)(len - l4))
	                  : csum_pseudo4(p + 12, p + 16, IPPROTO_TCP, (uint16_t)(len - l4));

	store_be16(p + l4 + 16, (uint16_t)~csum_fold(sum));
	*h = (struct vnet_hdr){
	        .flags = VNET_F_NEEDS_CSUM,
	        .gso_type = v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4,
	        .hdr_len = (uint16_t)(l4 + 20),
	        .gso_size = mss,
	        .csum_start = (uint16_t)l4,
	        .csum_offset = 16,
	};
	return len;
}

/* ---- tso ---- */

static void test_tso_tcp(void **state)
{
	bool v6 = *(bool *)*state;
	static uint8_t sup[70000], seg[2000];
	struct vnet_hdr h;
	struct tso t;
	size_t len = make_super(sup, &h, v6, 3500, 1200, TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR);
	size_t l4 = ip_len(v6), got = 0;
	int n, i = 0;

	assert_int_equal(tso_init(&t, &h, sup, len), 0);
	while ((n = tso_next(&t, seg, sizeof(seg))) > 0) {
		size_t pay = (size_t)n - l4 - 20;
		uint8_t flags = seg[l4 + 13];
		assert_int_equal(pay, i < 2 ? 1200 : 1100);
		assert_true(l4_ok(seg, (size_t)n, v6, IPPROTO_TCP));
		if (v6) {
			assert_int_equal(load_be16(seg + 4), (size_t)n - 40);
		} else {
			assert_int_equal(load_be16(seg + 2), n);
			assert_int_equal(load_be16(seg + 4), 0x1000 + i);
			assert_true(ip4_hdr_ok(seg));
		}
		assert_int_equal(load_be32(seg + l4 + 4), 1000 + 1200 * (uint32_t)i);
		assert_int_equal(!!(flags & TCP_CWR), i == 0);
		assert_int_equal(!!(flags & (TCP_PSH | TCP_FIN)), i == 2);
		assert_memory_equal(seg + l4 + 20, sup + l4 + 20 + got, pay);
		got += pay;
		i++;
	}
	assert_int_equal(n, 0);
	assert_int_equal(i, 3);
	assert_int_equal(got, 3500);
}

static void test_tso_udp(void **state)
{
	uint8_t sup[2000], seg[600];
	struct vnet_hdr h = {.flags = VNET_F_NEEDS_CSUM,
	                     .gso_type = VNET_GSO_UDP_L4,
	                     .gso_size = 500,
	                     .csum_start = 40,
	                     .csum_offset = 6};
	size_t len = 40 + 8 + 1200;
	struct tso t;
	int n, i = 0;

	memset(sup, 0, sizeof(sup));
	put_ip6(sup, len, IPPROTO_UDP, 0);
	store_be16(sup + 40, 5000);
	store_be16(sup + 42, 443);
	for (size_t k = 48; k < len; k++)
		sup[k] = (uint8_t)k;
	assert_int_equal(tso_init(&t, &h, sup, len), 0);
	while ((n = tso_next(&t, seg, sizeof(seg))) > 0) {
		assert_int_equal(load_be16(seg + 44), n - 40);
		assert_int_equal(n, i < 2 ? 548 : 248);
		assert_true(l4_ok(seg, (size_t)n, true, IPPROTO_UDP));
		assert_memory_equal(seg + 48, sup + 48 + 500 * i, (size_t)n - 48);
		i++;
	}
	assert_int_equal(i, 3);
}

static void test_tso_rejects(void **state)
{
	static uint8_t sup[70000], seg[2000];
	struct vnet_hdr h, bad;
	struct tso t;
	size_t len = make_super(sup, &h, false, 3000, 1000, TCP_ACK);

	(void)state;
	bad = h;
	bad.gso_type = VNET_GSO_TCPV6; /* an IPv4 packet */
	assert_int_equal(tso_init(&t, &bad, sup, len), -EBADMSG);
	bad = h;
	bad.gso_type = 3; /* UFO: never asked for */
	assert_int_equal(tso_init(&t, &bad, sup, len), -EPROTONOSUPPORT);
	bad = h;
	bad.gso_size = 0;
	assert_int_equal(tso_init(&t, &bad, sup, len), -EBADMSG);
	assert_int_equal(tso_init(&t, &h, sup, len - 1),
	                 -EBADMSG); /* shorter than its header says */
	assert_int_equal(tso_init(&t, &h, sup, 30), -EBADMSG);
	assert_int_equal(tso_init(&t, &h, sup, 0), -EBADMSG);
	sup[9] = IPPROTO_UDP;
	assert_int_equal(tso_init(&t, &h, sup, len), -EBADMSG);
	sup[9] = IPPROTO_TCP;
	assert_int_equal(tso_init(&t, &h, sup, len), 0);
	assert_int_equal(tso_next(&t, seg, 100), -ENOSPC);
	/* A routing header would change the pseudo-header. */
	len = make_super(sup, &h, true, 3000, 1000, TCP_ACK);
	sup[6] = 43;
	assert_int_equal(tso_init(&t, &h, sup, len), -EBADMSG);
}

static void test_finish_csum(void **state)
{
	uint8_t p[200];
	struct tcp_opts o = {.seq = 1, .flags = TCP_ACK, .payload = 77, .fill = 9};
	size_t len = make_tcp(p, &o);
	uint16_t want = load_be16(p + 36);
	struct vnet_hdr h = {.flags = VNET_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 16};

	(void)state;
	store_be16(p + 36, (uint16_t)~csum_fold(csum_pseudo4(p + 12, p + 16, IPPROTO_TCP,
	                                                     (uint16_t)(len - 20))));
	assert_int_equal(tso_finish_csum(&h, p, len), 0);
	assert_int_equal(load_be16(p + 36), want);
	h.csum_offset = (uint16_t)(len - 20 - 1);
	assert_int_equal(tso_finish_csum(&h, p, len), -EBADMSG);
	h.flags = 0;
	assert_int_equal(tso_finish_csum(&h, p, len), 0);
}

/* ---- gro ---- */

#define MAX_EMITS 64

static struct emitted {
	struct vnet_hdr h;
	size_t len;
	uint8_t pkt[GRO_PKT_MAX];
} emits[MAX_EMITS];
static unsigned n_emits;
static struct gro gro_state;

static void record(void *ctx, const struct vnet_hdr *h, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	assert_true(n_emits < MAX_EMITS);
	assert_true(len <= GRO_PKT_MAX);
	emits[n_emits].h = *h;
	emits[n_emits].len = len;
	memcpy(emits[n_emits].pkt, pkt, len);
	n_emits++;
}

static int gro_setup(void **state)
{
	(void)state;
	n_emits = 0;
	gro_init(&gro_state);
	return 0;
}

static void add(const struct tcp_opts *o)
{
	uint8_t p[2000];
	size_t len = make_tcp(p, o);

	gro_add(&gro_state, p, len, record, NULL);
}

static void flush(void)
{
	gro_flush(&gro_state, record, NULL);
}

/* The coalesced super-packet cut again gives back the segments that went in. */
static void check_round_trip(const struct emitted *e, const struct tcp_opts *first, unsigned segs)
{
	static uint8_t seg[2000], want[2000];
	struct tso t;
	int n;

	assert_int_equal(e->h.flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(e->h.gso_type, first->v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4);
	assert_int_equal(e->h.gso_size, first->payload);
	assert_int_equal(e->h.csum_start, ip_len(first->v6));
	assert_int_equal(e->h.csum_offset, 16);
	if (!first->v6)
		assert_true(ip4_hdr_ok(e->pkt));
	assert_int_equal(tso_init(&t, &e->h, e->pkt, e->len), 0);
	for (unsigned i = 0; i < segs; i++) {
		struct tcp_opts o = *first;
		size_t wlen;
		o.seq = first->seq + (uint32_t)(i * first->payload);
		o.fill = (uint8_t)(first->fill + i * first->payload);
		o.flags = i + 1 == segs ? first->flags : TCP_ACK;
		wlen = make_tcp(want, &o);
		n = tso_next(&t, seg, sizeof(seg));
		assert_int_equal(n, wlen);
		if (!first->v6) {
			/* The identification counts up from the first one's. */
			assert_int_equal(load_be16(seg + 4), 0x1000 + i);
			assert_true(ip4_hdr_ok(seg));
			store_be16(seg + 4, 0x1000);
			store_be16(seg + 10, load_be16(want + 10));
		}
		assert_memory_equal(seg, want, wlen);
	}
	assert_int_equal(tso_next(&t, seg, sizeof(seg)), 0);
}

static void test_gro_tcp(void **state)
{
	bool v6 = *(bool *)*state;
	struct tcp_opts o = {
	        .v6 = v6, .seq = 5000, .flags = TCP_ACK, .payload = 1000, .timestamps = true};

	for (int i = 0; i < 5; i++) {
		o.flags = i == 4 ? TCP_ACK | TCP_PSH : TCP_ACK;
		o.fill = (uint8_t)(i * 1000);
		add(&o);
		o.seq += 1000;
	}
	assert_int_equal(n_emits, 0);
	flush();
	assert_int_equal(n_emits, 1);
	assert_int_equal(emits[0].len, ip_len(v6) + 32 + 5000);
	o.seq = 5000;
	o.fill = 0;
	o.flags = TCP_ACK | TCP_PSH;
	check_round_trip(&emits[0], &o, 5);
	assert_int_equal(gro_state.merged, 4);
}

static void test_gro_single_untouched(void **state)
{
	uint8_t p[2000];
	struct tcp_opts o = {.seq = 1, .flags = TCP_ACK, .payload = 100};
	size_t len = make_tcp(p, &o);

	(void)state;
	gro_add(&gro_state, p, len, record, NULL);
	flush();
	assert_int_equal(n_emits, 1);
	assert_int_equal(emits[0].h.gso_type, VNET_GSO_NONE);
	assert_int_equal(emits[0].h.flags, 0);
	assert_int_equal(emits[0].len, len);
	assert_memory_equal(emits[0].pkt, p, len);
}

static void test_gro_breaks(void **state)
{
	struct tcp_opts o = {.seq = 1, .flags = TCP_ACK, .payload = 1000};

	(void)state;
	add(&o); /* held */
	o.seq += 1000;
	o.payload = 500; /* shorter: joins, then nothing more may */
	add(&o);
	o.seq += 500;
	add(&o); /* a new super-packet: the first is written */
	assert_int_equal(n_emits, 1);
	assert_int_equal(emits[0].len, 20 + 20 + 1500);
	o.seq += 700; /* a gap */
	add(&o);
	assert_int_equal(n_emits, 2);
	assert_int_equal(emits[1].len, 20 + 20 + 500);
	o.seq += 500;
	o.ack = 9999; /* another acknowledgement number */
	add(&o);
	assert_int_equal(n_emits, 3);
	o.seq += 500;
	o.tos_or_tc = 2; /* ECN bits differ */
	add(&o);
	assert_int_equal(n_emits, 4);
	flush();
	assert_int_equal(n_emits, 5);
}

static void test_gro_order_kept(void **state)
{
	struct tcp_opts o = {.seq = 1, .flags = TCP_ACK, .payload = 1000};

	(void)state;
	add(&o);
	o.seq += 1000;
	add(&o);
	o.seq += 1000;
	o.flags = TCP_ACK | TCP_FIN; /* not mergeable: after the held ones */
	add(&o);
	assert_int_equal(n_emits, 2);
	assert_int_equal(emits[0].h.gso_type, VNET_GSO_TCPV4);
	assert_int_equal(emits[1].h.gso_type, VNET_GSO_NONE);
	assert_int_equal(load_be32(emits[1].pkt + 24), 2001);
	o.seq += 1000;
	o.flags = TCP_ACK;
	o.bad_csum = true; /* passes as it is, for the kernel to drop */
	add(&o);
	assert_int_equal(n_emits, 3);
	assert_int_equal(emits[2].h.gso_type, VNET_GSO_NONE);
	flush();
	assert_int_equal(n_emits, 3);
}

static void test_gro_psh_ends(void **state)
{
	struct tcp_opts o = {.seq = 1, .flags = TCP_ACK | TCP_PSH, .payload = 1000};

	(void)state;
	add(&o);
	o.seq += 1000;
	o.flags = TCP_ACK;
	add(&o);
	assert_int_equal(n_emits, 1); /* PSH ended the first */
	flush();
	assert_int_equal(n_emits, 2);
}

static void test_gro_flows(void **state)
{
	struct tcp_opts o = {.seq = 1, .flags = TCP_ACK, .payload = 1000};
	uint8_t udp[60] = {0x45, 0, 0, 60, [8] = 64, [9] = IPPROTO_UDP};

	(void)state;
	/* Interleaved flows each get their super-packet. */
	for (int i = 0; i < 3; i++) {
		for (uint16_t f = 0; f < 2; f++) {
			o.sport = (uint16_t)(1000 + f);
			o.seq = 1 + 1000 * (uint32_t)i;
			add(&o);
		}
	}
	gro_add(&gro_state, udp, sizeof(udp), record, NULL); /* not TCP: at once */
	assert_int_equal(n_emits, 1);
	assert_int_equal(emits[0].len, sizeof(udp));
	flush();
	assert_int_equal(n_emits, 3);
	assert_int_equal(emits[1].len, 40 + 3000);
	assert_int_equal(emits[2].len, 40 + 3000);
	/* More flows than slots: the oldest goes first. */
	n_emits = 0;
	for (uint16_t f = 0; f < GRO_FLOWS + 1; f++) {
		o.sport = (uint16_t)(2000 + f);
		add(&o);
	}
	assert_int_equal(n_emits, 1);
	assert_int_equal(load_be16(emits[0].pkt + 20), 2000);
	flush();
	assert_int_equal(n_emits, GRO_FLOWS + 1);
}

static void test_gro_size_limit(void **state)
{
	struct tcp_opts o = {.seq = 1, .flags = TCP_ACK, .payload = 1400};

	(void)state;
	for (int i = 0; i < 60; i++) {
		add(&o);
		o.seq += 1400;
	}
	flush();
	assert_int_equal(n_emits, 2);
	assert_int_equal(emits[0].len, 40 + 46 * 1400);
	assert_int_equal(emits[1].len, 40 + 14 * 1400);
}

/* ---- udp_tx ---- */

static struct udp_tx tx;

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static void push(const struct udp_sock *s, const struct sockaddr_in *to, size_t len, uint8_t fill)
{
	uint8_t *room = udp_tx_room(&tx, len);

	assert_non_null(room);
	memset(room, fill, len);
	assert_int_equal(udp_tx_push(&tx, s, (const struct sockaddr *)to, sizeof(*to), len), 0);
}

static void test_tx_runs(void **state)
{
	struct udp_sock s = {.fd = -1, .family = AF_INET6};
	struct sockaddr_in a = loopback(1), b = loopback(2);

	(void)state;
	udp_tx_init(&tx, true);
	push(&s, &a, 100, 1);
	push(&s, &a, 100, 2);
	push(&s, &a, 60, 3); /* shorter: ends the run */
	push(&s, &a, 60, 4);
	push(&s, &b, 60, 5); /* another address */
	push(&s, &b, 80, 6); /* longer than the run's */
	assert_int_equal(tx.n, 4);
	assert_int_equal(tx.m[0].segs, 3);
	assert_int_equal(tx.m[0].len, 260);
	assert_int_equal(tx.m[0].seg, 100);
	assert_int_equal(tx.m[1].segs, 1);
	assert_int_equal(tx.m[2].segs, 1);
	assert_int_equal(tx.m[3].segs, 1);
	assert_int_equal(tx.used, 460);
	/* A run stops at UDP_GSO_SEGS datagrams. */
	udp_tx_init(&tx, true);
	for (int i = 0; i < UDP_GSO_SEGS + 1; i++)
		push(&s, &a, 10, 0);
	assert_int_equal(tx.n, 2);
	/* Without GSO every datagram is its own message, and the table fills. */
	udp_tx_init(&tx, false);
	for (int i = 0; i < UDP_TX_MSGS; i++)
		push(&s, &a, 10, 0);
	assert_null(udp_tx_room(&tx, 10));
	udp_tx_init(&tx, true);
	assert_null(udp_tx_room(&tx, UDP_TX_BYTES + 1));
}

static void test_tx_family(void **state)
{
	struct udp_sock s = {.fd = -1, .family = AF_INET};
	struct sockaddr_in6 to6 = {.sin6_family = AF_INET6, .sin6_port = htons(9)};

	(void)state;
	udp_tx_init(&tx, true);
	assert_non_null(udp_tx_room(&tx, 10));
	assert_int_equal(udp_tx_push(&tx, &s, (const struct sockaddr *)&to6, sizeof(to6), 10),
	                 -EAFNOSUPPORT);
	assert_int_equal(tx.n, 0);
}

/* Over loopback: a run arrives as the datagrams it stands for, to a plain
 * socket, and as one UDP_GRO slot (or the same datagrams) to ours. */
static void test_tx_loopback(void **state)
{
	bool gro = *(bool *)*state;
	static struct udp_batch b;
	struct udp_sock s, r;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct sockaddr_in to;
	size_t sizes[] = {1000, 1000, 1000, 400}, got = 0, k = 0;
	int err;

	assert_int_equal(udp_open(0, &s), 0);
	assert_int_equal(udp_open(0, &r), 0);
	if (!gro && r.gro)
		assert_int_equal(udp_set_gro(&r, false), 0);
	assert_int_equal(getsockname(r.fd, (struct sockaddr *)&ss, &sl), 0);
	to = loopback(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	udp_tx_init(&tx, s.gso);
	for (size_t i = 0; i < 4; i++)
		push(&s, &to, sizes[i], (uint8_t)(i + 1));
	assert_int_equal(udp_tx_flush(&tx, &s, &err), 0);
	assert_int_equal(tx.n, 0);
	assert_int_equal(tx.sent, 4);
	assert_int_equal(udp_batch_init(&b), 0);
	while (got < 3400) {
		struct pollfd pfd = {.fd = r.fd, .events = POLLIN};
		int n;
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		n = udp_recv_batch(&r, &b);
		assert_true(n > 0);
		for (int i = 0; i < n; i++) {
			struct udp_dgram *d = &b.d[i];
			size_t seg = d->seg ? d->seg : d->len;
			assert_false(d->truncated);
			assert_int_equal(d->from.ss_family, AF_INET);
			for (size_t off = 0; off < d->len; off += seg, k++) {
				size_t len = d->len - off < seg ? d->len - off : seg;
				assert_true(k < 4);
				assert_int_equal(len, sizes[k]);
				assert_int_equal(d->data[off], k + 1);
				assert_int_equal(d->data[off + len - 1], k + 1);
				got += len;
			}
		}
	}
	assert_int_equal(k, 4);
	udp_batch_done(&b);
	udp_close(&s);
	udp_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_prestate(test_tso_tcp, &ipv4),
	        cmocka_unit_test_prestate(test_tso_tcp, &ipv6),
	        cmocka_unit_test(test_tso_udp),
	        cmocka_unit_test(test_tso_rejects),
	        cmocka_unit_test(test_finish_csum),
	        cmocka_unit_test_prestate_setup_teardown(test_gro_tcp, gro_setup, NULL, &ipv4),
	        cmocka_unit_test_prestate_setup_teardown(test_gro_tcp, gro_setup, NULL, &ipv6),
	        cmocka_unit_test_setup(test_gro_single_untouched, gro_setup),
	        cmocka_unit_test_setup(test_gro_breaks, gro_setup),
	        cmocka_unit_test_setup(test_gro_order_kept, gro_setup),
	        cmocka_unit_test_setup(test_gro_psh_ends, gro_setup),
	        cmocka_unit_test_setup(test_gro_flows, gro_setup),
	        cmocka_unit_test_setup(test_gro_size_limit, gro_setup),
	        cmocka_unit_test(test_tx_runs),
	        cmocka_unit_test(test_tx_family),
	        cmocka_unit_test_prestate(test_tx_loopback, &rx_plain),
	        cmocka_unit_test_prestate(test_tx_loopback, &rx_gro),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
