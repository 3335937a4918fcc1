/* SPDX-License-Identifier: MIT */
/* test_hip_bex.c: two HIP engines wired back to back in memory: base exchange,
 * puzzles, simultaneous initiation, loss and retransmission, E-FAILED, CLOSE,
 * UPDATE rekeying, and rejection of forged or malformed packets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/identity.h"
#include "hip/bex.h"
#include "hip/msg.h"
#include "hip/params.h"
#include "hip/wire.h"

#define MAXQ 64

struct node;

struct packet {
	struct node *from;
	struct hip_locator to;
	uint8_t data[HIP_MAX_PACKET];
	size_t len;
};

struct node {
	struct identity *id;
	struct hip_host *host;
	struct hip_locator loc;
	struct node *peer;
	int established, rekeyed, closed, failed, destroyed, moved, candidates;
	struct hip_assoc *last;
};

static struct packet queue[MAXQ];
static size_t qlen;
static struct identity *ids[2];

static int net_send(void *ctx, const struct hip_locator *to, const uint8_t *pkt, size_t len)
{
	struct node *n = ctx;

	assert_true(qlen < MAXQ);
	assert_true(len <= HIP_MAX_PACKET);
	queue[qlen].from = n;
	queue[qlen].to = *to;
	memcpy(queue[qlen].data, pkt, len);
	queue[qlen].len = len;
	qlen++;
	return 0;
}

static void net_event(void *ctx, struct hip_assoc *a, enum hip_event ev)
{
	struct node *n = ctx;

	n->last = a;
	switch (ev) {
	case HIP_EVENT_ESTABLISHED:
		n->established++;
		break;
	case HIP_EVENT_REKEYED:
		n->rekeyed++;
		break;
	case HIP_EVENT_CLOSED:
		n->closed++;
		break;
	case HIP_EVENT_FAILED:
		n->failed++;
		break;
	case HIP_EVENT_DESTROYED:
		n->destroyed++;
		n->last = NULL;
		break;
	case HIP_EVENT_MOVED:
		n->moved++;
		break;
	case HIP_EVENT_CANDIDATES:
		n->candidates++;
		break;
	}
}

/* Two candidates per node: a host one and a server-reflexive one. */
static size_t net_candidates(void *ctx, struct hip_assoc *a, struct hip_locator_entry *out,
                             size_t cap)
{
	struct node *n = ctx;
	uint8_t idx =
	        n->loc.addr.ss_family == AF_INET
	                ? (uint8_t)(((struct sockaddr_in *)&n->loc.addr)->sin_addr.s_addr >> 24)
	                : 0;

	/* Asked while building an I2 or R2: the credentials are known by then,
	 * so the ICE agent can be created with them. */
	if (a) {
		struct hip_ice_params ip;

		assert_int_equal(hip_assoc_ice(a, &ip), 0);
	}
	assert_true(cap >= 2);
	memset(out, 0, 2 * sizeof(*out));
	for (int i = 0; i < 2; i++) {
		out[i].addr[10] = out[i].addr[11] = 0xff;
		out[i].addr[12] = 192;
		out[i].addr[13] = 0;
		out[i].addr[14] = (uint8_t)(2 + i);
		out[i].addr[15] = idx;
		out[i].port = (uint16_t)(40000 + i);
		out[i].kind = i == 0 ? HIP_KIND_HOST : HIP_KIND_SRFLX;
		out[i].priority = i == 0 ? 2130706431u : 1694498815u;
	}
	return 2;
}

static void node_init(struct node *n, int idx, uint8_t k)
{
	struct hip_config cfg;
	struct hip_ops ops = {
	        .ctx = n, .send = net_send, .event = net_event, .candidates = net_candidates};
	struct sockaddr_in *sin = (struct sockaddr_in *)&n->loc.addr;

	memset(n, 0, sizeof(*n));
	n->id = ids[idx];
	sin->sin_family = AF_INET;
	sin->sin_port = htons(10500);
	sin->sin_addr.s_addr = htonl(0x0a4d0001u + (uint32_t)idx);
	n->loc.len = sizeof(*sin);
	hip_config_default(&cfg);
	cfg.puzzle_k = k;
	cfg.offer_ice = true;
	assert_int_equal(hip_host_new(n->id, &cfg, &ops, 0, &n->host), 0);
}

static int setup(void **state)
{
	static struct node nodes[2];

	qlen = 0;
	node_init(&nodes[0], 0, 0);
	node_init(&nodes[1], 1, 0);
	nodes[0].peer = &nodes[1];
	nodes[1].peer = &nodes[0];
	*state = nodes;
	return 0;
}

static int teardown(void **state)
{
	struct node *nodes = *state;

	nodes[0].host = hip_host_free(nodes[0].host);
	nodes[1].host = hip_host_free(nodes[1].host);
	return 0;
}

/* Delivers queued packets (and what they trigger) until the network is quiet;
 * returns how many were delivered. */
static int deliver_all(uint64_t now)
{
	int n = 0;

	while (qlen) {
		struct packet p = queue[0];
		const char *why = NULL;

		memmove(queue, queue + 1, (qlen - 1) * sizeof(queue[0]));
		qlen--;
		hip_host_input(p.from->peer->host, p.data, p.len, &p.from->loc, now, &why);
		n++;
	}
	return n;
}

static uint8_t pkt_type(size_t i)
{
	return queue[i].data[2] & 0x7f;
}

static void assert_keys_match(struct node *a, struct node *b)
{
	struct hip_assoc *x = hip_host_find(a->host, identity_hit(b->id));
	struct hip_assoc *y = hip_host_find(b->host, identity_hit(a->id));
	struct hip_esp_keys kx, ky;

	assert_non_null(x);
	assert_non_null(y);
	assert_int_equal(hip_assoc_esp_keys(x, &kx), 0);
	assert_int_equal(hip_assoc_esp_keys(y, &ky), 0);
	assert_int_equal(kx.suite, ESP_SUITE_AES_GCM_ICV16);
	assert_int_equal(kx.spi_out, ky.spi_in);
	assert_int_equal(kx.spi_in, ky.spi_out);
	/* SPIs never start with the bits 00, so ESP cannot be mistaken for STUN. */
	assert_true((kx.spi_in >> 30) != 0 && (ky.spi_in >> 30) != 0);
	assert_int_equal(kx.keylen, ky.keylen);
	assert_memory_equal(kx.key_out, ky.key_in, kx.keylen);
	assert_memory_equal(kx.key_in, ky.key_out, kx.keylen);
	assert_memory_not_equal(kx.key_in, kx.key_out, kx.keylen);
}

static void connect_ab(struct node *n, bool opportunistic)
{
	const struct hit *hit_b = opportunistic ? NULL : identity_hit(n[1].id);

	assert_int_equal(hip_host_connect(n[0].host, hit_b, &n[1].loc, 0, NULL), 0);
	deliver_all(0);
}

static void test_base_exchange(void **state)
{
	struct node *n = *state;
	struct hip_assoc *a;

	assert_int_equal(hip_host_connect(n[0].host, identity_hit(n[1].id), &n[1].loc, 0, &a), 0);
	assert_int_equal(hip_assoc_state(a), HIP_STATE_I1_SENT);
	assert_int_equal(qlen, 1);
	assert_int_equal(pkt_type(0), HIP_I1);
	deliver_all(0);
	assert_int_equal(n[0].established, 1);
	assert_int_equal(n[1].established, 1);
	assert_int_equal(hip_assoc_state(a), HIP_STATE_ESTABLISHED);
	assert_int_equal(hip_assoc_state(hip_host_find(n[1].host, identity_hit(n[0].id))),
	                 HIP_STATE_R2_SENT);
	assert_keys_match(&n[0], &n[1]);
	/* The first ESP packet completes R2-SENT on the responder. */
	hip_assoc_esp_received(hip_host_find(n[1].host, identity_hit(n[0].id)));
	assert_int_equal(hip_assoc_state(hip_host_find(n[1].host, identity_hit(n[0].id))),
	                 HIP_STATE_ESTABLISHED);
}

static void assert_candidates(const struct hip_ice_params *p, const struct node *from, uint32_t spi)
{
	struct hip_locator_entry want[2];

	assert_int_equal(p->ncands, 2);
	net_candidates((void *)from, NULL, want, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(p->cands[i].type, HIP_LOCATOR_TRANSPORT);
		assert_int_equal(p->cands[i].protocol, 17);
		assert_int_equal(p->cands[i].spi, spi);
		assert_int_equal(p->cands[i].port, want[i].port);
		assert_int_equal(p->cands[i].kind, want[i].kind);
		assert_int_equal(p->cands[i].priority, want[i].priority);
		assert_memory_equal(p->cands[i].addr, want[i].addr, 16);
		assert_true(p->cands[i].lifetime > 0);
	}
}

/* An exchange that wants ICE: NAT_TRAVERSAL_MODE chosen in I2, candidates in
 * I2 and R2, credentials that match crosswise, and rekeying still agrees on
 * where in KEYMAT the next ESP keys come from. */
static void test_ice_mode(void **state)
{
	struct node *n = *state;
	struct hip_assoc *a, *b;
	struct hip_ice_params pa, pb;
	struct hip_esp_keys ka, kb;

	assert_int_equal(hip_host_connect(n[0].host, identity_hit(n[1].id), &n[1].loc, 0, &a), 0);
	hip_assoc_want_ice(a);
	deliver_all(0);
	b = hip_host_find(n[1].host, identity_hit(n[0].id));
	assert_int_equal(hip_assoc_state(a), HIP_STATE_ESTABLISHED);
	assert_non_null(b);
	assert_int_equal(hip_assoc_ice(a, &pa), 0);
	assert_int_equal(hip_assoc_ice(b, &pb), 0);
	assert_true(pa.controlling);
	assert_false(pb.controlling);
	assert_string_equal(pa.local_ufrag, pb.remote_ufrag);
	assert_string_equal(pa.local_pwd, pb.remote_pwd);
	assert_string_equal(pa.remote_ufrag, pb.local_ufrag);
	assert_string_equal(pa.remote_pwd, pb.local_pwd);
	assert_string_not_equal(pa.local_pwd, pa.remote_pwd);
	assert_int_equal(strlen(pa.local_ufrag), 8);
	assert_int_equal(strlen(pa.local_pwd), 32);
	assert_int_equal(hip_assoc_esp_keys(a, &ka), 0);
	assert_int_equal(hip_assoc_esp_keys(b, &kb), 0);
	assert_candidates(&pa, &n[1], ka.spi_out);
	assert_candidates(&pb, &n[0], kb.spi_out);
	assert_keys_match(&n[0], &n[1]);
	assert_int_equal(hip_host_rekey(n[0].host, a, 1), 0);
	deliver_all(1);
	assert_int_equal(n[0].rekeyed, 1);
	assert_int_equal(n[1].rekeyed, 1);
	assert_keys_match(&n[0], &n[1]);
}

/* Candidates gathered after the I2/R2 follow in UPDATEs; both sides may send
 * theirs at once. The peer's list is replaced, nothing else changes, and a
 * plain-UDP association refuses them. */
static void test_late_candidates(void **state)
{
	struct node *n = *state;
	struct hip_locator_entry more[3];
	struct hip_assoc *a, *b;
	struct hip_ice_params p;
	struct hip_esp_keys before, after;

	assert_int_equal(hip_host_connect(n[0].host, identity_hit(n[1].id), &n[1].loc, 0, &a), 0);
	hip_assoc_want_ice(a);
	deliver_all(0);
	b = hip_host_find(n[1].host, identity_hit(n[0].id));
	assert_non_null(b);
	assert_int_equal(hip_assoc_esp_keys(a, &before), 0);
	memset(more, 0, sizeof(more));
	for (size_t i = 0; i < 3; i++) {
		more[i].kind = (uint8_t)i;
		more[i].priority = 1000u - (uint32_t)i;
		more[i].addr[10] = more[i].addr[11] = 0xff;
		more[i].addr[12] = 192;
		more[i].addr[15] = (uint8_t)(10 + i);
		more[i].port = (uint16_t)(4000 + i);
	}
	assert_int_equal(hip_host_send_candidates(n[0].host, a, more, 3, 1), 0);
	assert_int_equal(hip_host_send_candidates(n[0].host, a, more, 3, 1), -EBUSY);
	assert_int_equal(hip_host_send_candidates(n[1].host, b, more, 2, 1), 0);
	deliver_all(1);
	assert_int_equal(n[1].candidates, 1);
	assert_int_equal(n[0].candidates, 1);
	assert_int_equal(hip_assoc_ice(b, &p), 0);
	assert_int_equal(p.ncands, 3);
	assert_int_equal(p.cands[2].port, 4002);
	assert_int_equal(p.cands[2].kind, 2);
	assert_int_equal(p.cands[2].type, HIP_LOCATOR_TRANSPORT);
	assert_int_equal(hip_assoc_ice(a, &p), 0);
	assert_int_equal(p.ncands, 2);
	/* Both UPDATEs were acknowledged: another may go. */
	assert_int_equal(hip_host_send_candidates(n[0].host, a, more, 1, 2), 0);
	deliver_all(2);
	assert_int_equal(n[1].candidates, 2);
	assert_int_equal(hip_assoc_esp_keys(a, &after), 0);
	assert_int_equal(before.spi_out, after.spi_out);
	assert_int_equal(hip_assoc_state(a), HIP_STATE_ESTABLISHED);
	assert_int_equal(n[0].moved + n[1].moved, 0);
	assert_keys_match(&n[0], &n[1]);
}

/* Relay credentials: client and relay derive the same password, nobody else
 * the same one, and none before the keys. */
static void test_relay_password(void **state)
{
	struct node *n = *state;
	char c[HIP_RELAY_PWD_LEN + 1], r[HIP_RELAY_PWD_LEN + 1], x[HIP_RELAY_PWD_LEN + 1];
	struct hip_assoc *a, *b;

	assert_int_equal(hip_host_connect(n[0].host, identity_hit(n[1].id), &n[1].loc, 0, &a), 0);
	assert_int_equal(hip_assoc_relay_password(a, true, c), -EAGAIN);
	deliver_all(0);
	b = hip_host_find(n[1].host, identity_hit(n[0].id));
	assert_non_null(b);
	assert_int_equal(hip_assoc_relay_password(a, true, c), 0);
	assert_int_equal(hip_assoc_relay_password(b, false, r), 0);
	assert_string_equal(c, r);
	assert_int_equal(strlen(c), HIP_RELAY_PWD_LEN);
	/* The other direction (n[1] as client of n[0]) is another password. */
	assert_int_equal(hip_assoc_relay_password(b, true, x), 0);
	assert_string_not_equal(x, c);
}

/* A re-exchange over an established association: both ends close the old
 * SAs and end with new ones, the same association, in ICE mode. */
static void test_reconnect(void **state)
{
	struct node *n = *state;
	struct hip_esp_keys before, after, peer;
	struct hip_ice_params p;
	struct hip_assoc *a, *b;

	connect_ab(n, false);
	a = hip_host_find(n[0].host, identity_hit(n[1].id));
	assert_int_equal(hip_assoc_esp_keys(a, &before), 0);
	assert_int_equal(hip_host_reconnect(n[0].host, a, &n[1].loc, 5), 0);
	assert_int_equal(n[0].closed, 1);
	assert_int_equal(hip_assoc_state(a), HIP_STATE_I1_SENT);
	deliver_all(5);
	b = hip_host_find(n[1].host, identity_hit(n[0].id));
	assert_int_equal(hip_assoc_state(a), HIP_STATE_ESTABLISHED);
	assert_int_equal(n[0].established, 2);
	assert_int_equal(n[1].established, 2);
	assert_int_equal(n[1].closed, 1);
	assert_int_equal(hip_assoc_esp_keys(a, &after), 0);
	assert_int_equal(hip_assoc_esp_keys(b, &peer), 0);
	assert_int_not_equal(after.spi_in, before.spi_in);
	assert_int_equal(after.spi_out, peer.spi_in);
	assert_int_equal(hip_assoc_ice(a, &p), 0);
	assert_keys_match(&n[0], &n[1]);
	/* Only from an established association. */
	assert_int_equal(hip_host_close(n[0].host, a, 6), 0);
	assert_int_equal(hip_host_reconnect(n[0].host, a, &n[1].loc, 6), -ENOTCONN);
}

static bool loc_is(const struct hip_locator *l, const struct node *n)
{
	return l->len == n->loc.len && memcmp(&l->addr, &n->loc.addr, l->len) == 0;
}

/* Both ends announce their own addresses right after an exchange: the two
 * UPDATEs cross, both are acknowledged, each end learns whether the
 * locator it uses is one the peer announced (else: a NAT's mapping). */
static void test_announce_crossing(void **state)
{
	struct node *n = *state;
	struct hip_locator_entry mine = {.type = HIP_LOCATOR_TRANSPORT,
	                                 .port = 10500,
	                                 .protocol = 17,
	                                 .addr = {[10] = 0xff, [11] = 0xff, 192, 168, 1, 2}};
	struct hip_locator_entry real;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&n[1].loc.addr;
	struct hip_assoc *a, *b;
	bool listed = true;

	connect_ab(n, false);
	a = hip_host_find(n[0].host, identity_hit(n[1].id));
	b = hip_host_find(n[1].host, identity_hit(n[0].id));
	assert_false(hip_assoc_peer_announced(a, &listed));
	real = mine;
	memcpy(real.addr + 12, &s4->sin_addr, 4);
	real.port = ntohs(s4->sin_port);
	assert_int_equal(hip_host_readdress(n[0].host, a, &mine, 1, 1), 0);
	assert_int_equal(hip_host_readdress(n[1].host, b, &real, 1, 1), 0);
	deliver_all(1);
	assert_false(hip_assoc_readdressing(a));
	assert_false(hip_assoc_readdressing(b));
	/* b knows n[0] only as a NAT mapping; a sees n[1]'s own address. */
	assert_true(hip_assoc_peer_announced(b, &listed));
	assert_false(listed);
	assert_true(hip_assoc_peer_announced(a, &listed));
	assert_true(listed);
	assert_int_equal(n[0].moved + n[1].moved, 0);
	assert_keys_match(&n[0], &n[1]);
}

/* An I1 through the overlay (here: a locator nobody has) and the same I1 to
 * a direct locator: the direct R1 makes a direct association without ICE. */
static void test_also_direct(void **state)
{
	struct node *n = *state;
	struct hip_locator nowhere = n[1].loc;
	struct hip_ice_params p;
	struct hip_assoc *a;

	((struct sockaddr_in *)&nowhere.addr)->sin_port = htons(1);
	assert_int_equal(hip_host_connect(n[0].host, identity_hit(n[1].id), &nowhere, 0, &a), 0);
	hip_assoc_want_ice(a);
	assert_int_equal(hip_assoc_also_direct(n[0].host, a, &n[1].loc), 0);
	assert_int_equal(qlen, 2);
	deliver_all(0);
	assert_int_equal(hip_assoc_state(a), HIP_STATE_ESTABLISHED);
	assert_int_equal(n[0].established, 1);
	assert_true(loc_is(hip_assoc_locator(a), &n[1]));
	assert_int_equal(hip_assoc_ice(a, &p), -ENOENT);
	assert_keys_match(&n[0], &n[1]);
	assert_int_equal(hip_assoc_also_direct(n[0].host, a, &n[1].loc), -EBUSY);
}

static void test_late_candidates_need_ice(void **state)
{
	struct node *n = *state;
	struct hip_locator_entry one = {.port = 1};
	struct hip_assoc *a;

	connect_ab(n, false);
	a = hip_host_find(n[0].host, identity_hit(n[1].id));
	assert_int_equal(hip_host_send_candidates(n[0].host, a, &one, 1, 1), -ENOENT);
}

/* Without wanting ICE the Initiator picks plain UDP encapsulation. */
static void test_udp_mode(void **state)
{
	struct node *n = *state;
	struct hip_ice_params p;

	connect_ab(n, false);
	assert_int_equal(n[0].established, 1);
	assert_int_equal(hip_assoc_ice(hip_host_find(n[0].host, identity_hit(n[1].id)), &p),
	                 -ENOENT);
	assert_int_equal(hip_assoc_ice(hip_host_find(n[1].host, identity_hit(n[0].id)), &p),
	                 -ENOENT);
}

/* A moves to a new address and says so (RFC 8046): B checks the new
 * address with an echo sent there, then uses it; SAs stay as they were. */
static void test_readdress(void **state)
{
	struct node *n = *state;
	struct hip_assoc *a, *b;
	struct hip_esp_keys before, after;
	struct hip_locator_entry loc = {.type = HIP_LOCATOR_TRANSPORT,
	                                .port = 10501,
	                                .protocol = 17,
	                                .addr = {[10] = 0xff, [11] = 0xff, 10, 77, 9, 9}};
	bool echo_to_new = false;

	connect_ab(n, false);
	a = hip_host_find(n[0].host, identity_hit(n[1].id));
	b = hip_host_find(n[1].host, identity_hit(n[0].id));
	hip_assoc_esp_received(b);
	assert_int_equal(hip_assoc_esp_keys(b, &before), 0);
	((struct sockaddr_in *)&n[0].loc.addr)->sin_addr.s_addr = htonl(0x0a4d0909u);
	((struct sockaddr_in *)&n[0].loc.addr)->sin_port = htons(10501);
	assert_int_equal(hip_host_readdress(n[0].host, a, &loc, 1, 1), 0);
	assert_int_equal(hip_host_readdress(n[0].host, a, &loc, 1, 1), -EBUSY);
	/* A's UPDATE, then B's echo request: it must go to the new address. */
	for (int i = 0; i < 8 && qlen; i++) {
		struct packet p = queue[0];

		if (p.from == &n[1] && pkt_type(0) == HIP_UPDATE && !echo_to_new)
			echo_to_new = loc_is(&p.to, &n[0]);
		memmove(queue, queue + 1, (qlen - 1) * sizeof(queue[0]));
		qlen--;
		assert_int_equal(
		        hip_host_input(p.from->peer->host, p.data, p.len, &p.from->loc, 1, NULL),
		        0);
	}
	assert_true(echo_to_new);
	assert_int_equal(qlen, 0);
	assert_int_equal(n[1].moved, 1);
	assert_true(loc_is(hip_assoc_locator(b), &n[0]));
	assert_int_equal(hip_assoc_esp_keys(b, &after), 0);
	assert_int_equal(after.spi_in, before.spi_in);
	assert_int_equal(after.spi_out, before.spi_out);
	assert_memory_equal(after.key_out, before.key_out, before.keylen);
	/* A is free for the next UPDATE. */
	assert_int_equal(hip_host_rekey(n[0].host, a, 2), 0);
	deliver_all(2);
	assert_keys_match(&n[0], &n[1]);
}

/* Tampered UPDATEs (a readdress, late candidates, a rekey) fail the HMAC or
 * the signature and change nothing: no echo, no event, same locator, same
 * keys; the genuine retransmission still works afterwards. */
static void test_forged_updates_ignored(void **state)
{
	struct node *n = *state;
	struct hip_locator_entry loc = {.type = HIP_LOCATOR_TRANSPORT,
	                                .port = 10501,
	                                .protocol = 17,
	                                .addr = {[10] = 0xff, [11] = 0xff, 10, 77, 9, 9}};
	struct hip_esp_keys before, after;
	struct hip_locator was;
	struct hip_assoc *a, *b;
	const char *why = NULL;

	connect_ab(n, false);
	a = hip_host_find(n[0].host, identity_hit(n[1].id));
	b = hip_host_find(n[1].host, identity_hit(n[0].id));
	hip_assoc_esp_received(b);
	was = *hip_assoc_locator(b);
	assert_int_equal(hip_assoc_esp_keys(b, &before), 0);
	for (int round = 0; round < 2; round++) {
		if (round == 0)
			assert_int_equal(hip_host_readdress(n[0].host, a, &loc, 1, 1), 0);
		else
			assert_int_equal(hip_host_rekey(n[0].host, a, 1), 0);
		assert_int_equal(qlen, 1);
		for (size_t off = 40; off < queue[0].len; off += 29) {
			uint8_t bad[HIP_MAX_PACKET];

			memcpy(bad, queue[0].data, queue[0].len);
			bad[off] ^= 0x20;
			why = NULL;
			assert_true(hip_host_input(n[1].host, bad, queue[0].len, &n[0].loc, 1,
			                           &why) < 0);
			assert_non_null(why);
		}
		assert_int_equal(qlen, 1); /* nothing answered the forgeries */
		assert_int_equal(n[1].moved + n[1].rekeyed + n[1].candidates, 0);
		assert_true(hip_assoc_locator(b)->len == was.len &&
		            memcmp(&hip_assoc_locator(b)->addr, &was.addr, was.len) == 0);
		assert_int_equal(hip_assoc_esp_keys(b, &after), 0);
		assert_int_equal(after.spi_out, before.spi_out);
		assert_int_equal(after.spi_in, before.spi_in);
		assert_int_equal(hip_assoc_state(b), HIP_STATE_ESTABLISHED);
		deliver_all(2); /* the genuine one goes through */
		if (round == 1) {
			assert_int_equal(n[1].rekeyed, 1);
			assert_keys_match(&n[0], &n[1]);
		}
		n[1].moved = n[1].rekeyed = 0;
		assert_int_equal(hip_assoc_esp_keys(b, &before), 0);
		was = *hip_assoc_locator(b);
	}
}

/* Nobody answers the echo at the announced address (a forged or replayed
 * UPDATE, or A lost it again): B keeps the old address. */
static void test_readdress_unverified(void **state)
{
	struct node *n = *state;
	struct hip_assoc *a, *b;
	struct hip_locator old;
	struct hip_locator_entry loc = {.type = HIP_LOCATOR_IPV6,
	                                .addr = {[10] = 0xff, [11] = 0xff, 10, 77, 9, 9}};

	connect_ab(n, false);
	a = hip_host_find(n[0].host, identity_hit(n[1].id));
	b = hip_host_find(n[1].host, identity_hit(n[0].id));
	hip_assoc_esp_received(b);
	old = *hip_assoc_locator(b);
	((struct sockaddr_in *)&n[0].loc.addr)->sin_addr.s_addr = htonl(0x0a4d0909u);
	assert_int_equal(hip_host_readdress(n[0].host, a, &loc, 1, 1), 0);
	for (uint64_t t = 1; t < 120000; t += 500) {
		/* Deliver A's packets; drop everything B sends to the new address. */
		while (qlen) {
			struct packet p = queue[0];

			memmove(queue, queue + 1, (qlen - 1) * sizeof(queue[0]));
			qlen--;
			if (p.from == &n[1] && loc_is(&p.to, &n[0]))
				continue;
			hip_host_input(p.from->peer->host, p.data, p.len, &p.from->loc, t, NULL);
		}
		hip_host_tick(n[0].host, t);
		hip_host_tick(n[1].host, t);
	}
	assert_int_equal(n[1].moved, 0);
	assert_int_equal(hip_assoc_locator(b)->len, old.len);
	assert_memory_equal(&hip_assoc_locator(b)->addr, &old.addr, old.len);
	assert_int_equal(hip_assoc_state(b), HIP_STATE_ESTABLISHED);
}

static void test_opportunistic(void **state)
{
	struct node *n = *state;

	connect_ab(n, true);
	assert_int_equal(n[0].established, 1);
	assert_int_equal(n[1].established, 1);
	assert_keys_match(&n[0], &n[1]);
	assert_int_equal(hip_host_count(n[0].host), 1);
}

static void test_puzzle_difficulty(void **state)
{
	struct node *n = *state;

	n[1].host = hip_host_free(n[1].host);
	node_init(&n[1], 1, 12);
	n[1].peer = &n[0];
	connect_ab(n, false);
	assert_int_equal(n[0].established, 1);
	assert_int_equal(n[1].established, 1);
	assert_keys_match(&n[0], &n[1]);
}

static void test_packet_order_and_contents(void **state)
{
	struct node *n = *state;
	uint8_t types[4];
	struct hip_msg m;

	assert_int_equal(hip_host_connect(n[0].host, NULL, &n[1].loc, 0, NULL), 0);
	for (int i = 0; i < 4; i++) {
		struct packet p = queue[0];
		assert_int_equal(qlen, 1);
		types[i] = pkt_type(0);
		assert_int_equal(hip_msg_parse(p.data, p.len, &m), 0);
		if (types[i] == HIP_R1) {
			static const uint16_t r1[] = {HIP_P_R1_COUNTER,
			                              HIP_P_PUZZLE,
			                              HIP_P_DH_GROUP_LIST,
			                              HIP_P_DIFFIE_HELLMAN,
			                              HIP_P_HIP_CIPHER,
			                              HIP_P_NAT_TRAVERSAL_MODE,
			                              HIP_P_HOST_ID,
			                              HIP_P_HIT_SUITE_LIST,
			                              HIP_P_TRANSPORT_FORMAT_LIST,
			                              HIP_P_ESP_TRANSFORM,
			                              HIP_P_HIP_SIGNATURE_2};
			assert_int_equal(m.nparams, ARRAY_SIZE(r1));
			for (size_t k = 0; k < ARRAY_SIZE(r1); k++)
				assert_int_equal(m.params[k].type, r1[k]);
		} else if (types[i] == HIP_I2) {
			static const uint16_t i2[] = {
			        HIP_P_ESP_INFO,      HIP_P_R1_COUNTER,
			        HIP_P_SOLUTION,      HIP_P_DIFFIE_HELLMAN,
			        HIP_P_HIP_CIPHER,    HIP_P_NAT_TRAVERSAL_MODE,
			        HIP_P_HOST_ID,       HIP_P_TRANSPORT_FORMAT_LIST,
			        HIP_P_ESP_TRANSFORM, HIP_P_HIP_MAC,
			        HIP_P_HIP_SIGNATURE};
			assert_int_equal(m.nparams, ARRAY_SIZE(i2));
			for (size_t k = 0; k < ARRAY_SIZE(i2); k++)
				assert_int_equal(m.params[k].type, i2[k]);
		} else if (types[i] == HIP_R2) {
			assert_int_equal(m.nparams, 3);
			assert_int_equal(m.params[0].type, HIP_P_ESP_INFO);
			assert_int_equal(m.params[1].type, HIP_P_HIP_MAC_2);
			assert_int_equal(m.params[2].type, HIP_P_HIP_SIGNATURE);
		}
		memmove(queue, queue + 1, (qlen - 1) * sizeof(queue[0]));
		qlen--;
		assert_int_equal(
		        hip_host_input(p.from->peer->host, p.data, p.len, &p.from->loc, 0, NULL),
		        0);
	}
	assert_int_equal(types[0], HIP_I1);
	assert_int_equal(types[1], HIP_R1);
	assert_int_equal(types[2], HIP_I2);
	assert_int_equal(types[3], HIP_R2);
	assert_int_equal(qlen, 0);
}

static void test_simultaneous_initiation(void **state)
{
	struct node *n = *state;

	assert_int_equal(hip_host_connect(n[0].host, identity_hit(n[1].id), &n[1].loc, 0, NULL), 0);
	assert_int_equal(hip_host_connect(n[1].host, identity_hit(n[0].id), &n[0].loc, 0, NULL), 0);
	deliver_all(0);
	assert_int_equal(n[0].established, 1);
	assert_int_equal(n[1].established, 1);
	assert_keys_match(&n[0], &n[1]);
	assert_int_equal(hip_host_count(n[0].host), 1);
	assert_int_equal(hip_host_count(n[1].host), 1);
}

static void test_retransmit_backoff_and_failure(void **state)
{
	struct node *n = *state;
	struct hip_assoc *a;
	uint64_t now = 0, prev_gap = 0;

	assert_int_equal(hip_host_connect(n[0].host, identity_hit(n[1].id), &n[1].loc, 0, &a), 0);
	qlen = 0; /* lost */
	for (int i = 0; i < 5; i++) {
		uint64_t t = hip_host_next_timer(n[0].host);
		assert_true(t > now);
		if (prev_gap)
			assert_int_equal(t - now, 2 * prev_gap); /* exponential backoff */
		prev_gap = t - now;
		now = t;
		hip_host_tick(n[0].host, now);
		assert_int_equal(qlen, 1);
		assert_int_equal(pkt_type(0), HIP_I1);
		qlen = 0;
	}
	now = hip_host_next_timer(n[0].host);
	hip_host_tick(n[0].host, now);
	assert_int_equal(qlen, 0);
	assert_int_equal(n[0].failed, 1);
	assert_int_equal(hip_assoc_state(a), HIP_STATE_E_FAILED);
	now = hip_host_next_timer(n[0].host);
	hip_host_tick(n[0].host, now);
	assert_int_equal(n[0].destroyed, 1);
	assert_int_equal(hip_host_count(n[0].host), 0);
}

static void test_lost_r2(void **state)
{
	struct node *n = *state;
	uint64_t t;

	assert_int_equal(hip_host_connect(n[0].host, NULL, &n[1].loc, 0, NULL), 0);
	for (int i = 0; i < 3; i++) { /* I1, R1, I2 */
		struct packet p = queue[0];
		qlen = 0;
		hip_host_input(p.from->peer->host, p.data, p.len, &p.from->loc, 0, NULL);
	}
	assert_int_equal(qlen, 1);
	assert_int_equal(pkt_type(0), HIP_R2);
	qlen = 0; /* R2 lost */
	assert_int_equal(n[1].established, 1);
	assert_int_equal(n[0].established, 0);
	t = hip_host_next_timer(n[0].host);
	hip_host_tick(n[0].host, t); /* I2 again */
	assert_int_equal(qlen, 1);
	assert_int_equal(pkt_type(0), HIP_I2);
	deliver_all(t);
	assert_int_equal(n[0].established, 1);
	assert_int_equal(n[1].established, 1); /* the same association, R2 resent */
	assert_keys_match(&n[0], &n[1]);
}

static void establish(struct node *n)
{
	connect_ab(n, false);
	assert_int_equal(n[0].established, 1);
	assert_int_equal(n[1].established, 1);
}

static void test_close(void **state)
{
	struct node *n = *state;
	struct hip_assoc *a;
	uint64_t t;

	establish(n);
	a = hip_host_find(n[0].host, identity_hit(n[1].id));
	assert_int_equal(hip_host_close(n[0].host, a, 10), 0);
	assert_int_equal(hip_assoc_state(a), HIP_STATE_CLOSING);
	assert_int_equal(pkt_type(0), HIP_CLOSE);
	deliver_all(10);
	assert_int_equal(n[0].closed, 1);
	assert_int_equal(n[1].closed, 1);
	assert_int_equal(hip_assoc_state(a), HIP_STATE_CLOSED);
	t = hip_host_next_timer(n[0].host);
	hip_host_tick(n[0].host, t);
	hip_host_tick(n[1].host, hip_host_next_timer(n[1].host));
	assert_int_equal(hip_host_count(n[0].host), 0);
	assert_int_equal(hip_host_count(n[1].host), 0);
}

static void test_close_ack_lost(void **state)
{
	struct node *n = *state;
	struct hip_assoc *a;
	struct packet p;
	uint64_t t;

	establish(n);
	a = hip_host_find(n[0].host, identity_hit(n[1].id));
	assert_int_equal(hip_host_close(n[0].host, a, 10), 0);
	p = queue[0];
	qlen = 0;
	assert_int_equal(hip_host_input(n[1].host, p.data, p.len, &n[0].loc, 10, NULL), 0);
	assert_int_equal(pkt_type(0), HIP_CLOSE_ACK);
	qlen = 0; /* CLOSE_ACK lost */
	assert_int_equal(n[1].closed, 1);
	t = hip_host_next_timer(n[0].host);
	hip_host_tick(n[0].host, t);
	assert_int_equal(pkt_type(0), HIP_CLOSE);
	deliver_all(t);
	assert_int_equal(n[0].closed, 1);
	assert_int_equal(n[1].closed, 1); /* reported once */
	assert_int_equal(hip_assoc_state(a), HIP_STATE_CLOSED);
}

static void get_keys(struct node *a, struct node *b, struct hip_esp_keys *k)
{
	assert_int_equal(hip_assoc_esp_keys(hip_host_find(a->host, identity_hit(b->id)), k), 0);
}

static void test_rekey(void **state)
{
	struct node *n = *state;
	struct hip_esp_keys before, after;
	struct hip_assoc *a;

	establish(n);
	get_keys(&n[0], &n[1], &before);
	a = hip_host_find(n[0].host, identity_hit(n[1].id));
	for (int round = 1; round <= 3; round++) {
		assert_int_equal(hip_host_rekey(n[0].host, a, 100), 0);
		assert_int_equal(pkt_type(0), HIP_UPDATE);
		deliver_all(100);
		assert_int_equal(n[0].rekeyed, round);
		assert_int_equal(n[1].rekeyed, round);
		assert_keys_match(&n[0], &n[1]);
		get_keys(&n[0], &n[1], &after);
		assert_int_not_equal(after.spi_in, before.spi_in);
		assert_int_not_equal(after.spi_out, before.spi_out);
		assert_memory_not_equal(after.key_out, before.key_out, after.keylen);
		before = after;
		/* Nothing left to retransmit: only the R1 refresh (10 min) is due. */
		assert_true(hip_host_next_timer(n[0].host) >= 600000);
	}
	/* The other side can rekey too. */
	assert_int_equal(
	        hip_host_rekey(n[1].host, hip_host_find(n[1].host, identity_hit(n[0].id)), 200), 0);
	deliver_all(200);
	assert_int_equal(n[0].rekeyed, 4);
	assert_keys_match(&n[0], &n[1]);
}

static void test_simultaneous_rekey(void **state)
{
	struct node *n = *state;

	establish(n);
	hip_assoc_esp_received(hip_host_find(n[1].host, identity_hit(n[0].id)));
	assert_int_equal(
	        hip_host_rekey(n[0].host, hip_host_find(n[0].host, identity_hit(n[1].id)), 100), 0);
	assert_int_equal(
	        hip_host_rekey(n[1].host, hip_host_find(n[1].host, identity_hit(n[0].id)), 100), 0);
	deliver_all(100);
	assert_int_equal(n[0].rekeyed, 1);
	assert_int_equal(n[1].rekeyed, 1);
	assert_keys_match(&n[0], &n[1]);
}

static void test_lost_update_reply(void **state)
{
	struct node *n = *state;
	struct hip_assoc *a;
	struct packet p;
	uint64_t t;

	establish(n);
	a = hip_host_find(n[0].host, identity_hit(n[1].id));
	assert_int_equal(hip_host_rekey(n[0].host, a, 100), 0);
	p = queue[0];
	qlen = 0;
	assert_int_equal(hip_host_input(n[1].host, p.data, p.len, &n[0].loc, 100, NULL), 0);
	qlen = 0; /* B's answer lost */
	t = hip_host_next_timer(n[0].host);
	hip_host_tick(n[0].host, t); /* A retransmits; B must acknowledge, not rekey twice */
	deliver_all(t);
	t = hip_host_next_timer(n[1].host);
	if (t < UINT64_MAX)
		hip_host_tick(n[1].host, t);
	deliver_all(t);
	assert_int_equal(n[1].rekeyed, 1);
	assert_int_equal(n[0].rekeyed, 1);
	assert_keys_match(&n[0], &n[1]);
}

/* Runs the base exchange, and when the packet of type `type` is about to be
 * delivered, feeds a corrupted copy first (byte `off` XOR 0x01) and checks it
 * is refused; then the genuine packet still completes the exchange. */
static void corrupt_then_continue(struct node *n, uint8_t type, size_t off)
{
	assert_int_equal(hip_host_connect(n[0].host, NULL, &n[1].loc, 0, NULL), 0);
	while (qlen) {
		struct packet p = queue[0];
		memmove(queue, queue + 1, (qlen - 1) * sizeof(queue[0]));
		qlen--;
		if ((p.data[2] & 0x7f) == type && off < p.len) {
			struct packet bad = p;
			const char *why = NULL;
			size_t before = qlen;
			bad.data[off] ^= 0x01;
			assert_true(hip_host_input(p.from->peer->host, bad.data, bad.len,
			                           &p.from->loc, 0, &why) < 0);
			assert_non_null(why);
			/* A corrupted packet may at most trigger a NOTIFY. */
			while (qlen > before) {
				assert_int_equal(queue[qlen - 1].data[2] & 0x7f, HIP_NOTIFY);
				qlen--;
			}
		}
		hip_host_input(p.from->peer->host, p.data, p.len, &p.from->loc, 0, NULL);
	}
	assert_int_equal(n[0].established, 1);
	assert_int_equal(n[1].established, 1);
	assert_keys_match(&n[0], &n[1]);
}

static void test_corrupt_r1(void **state)
{
	struct node *n = *state;
	/* Byte 150 is inside the DH public value, covered by HIP_SIGNATURE_2; the
	 * receiver HIT (24..39) and puzzle #I are deliberately outside it. */
	corrupt_then_continue(n, HIP_R1, 150);
}

static void test_corrupt_i2_each_region(void **state)
{
	struct node *n = *state;
	static const size_t offs[] = {2, 8, 30, 60, 200, 400};

	for (size_t i = 0; i < ARRAY_SIZE(offs); i++) {
		teardown(state);
		setup(state);
		n = *state;
		corrupt_then_continue(n, HIP_I2, offs[i]);
	}
}

static void test_corrupt_r2(void **state)
{
	struct node *n = *state;

	corrupt_then_continue(n, HIP_R2, 60);
}

static void test_truncated_and_garbage(void **state)
{
	struct node *n = *state;
	uint8_t buf[HIP_MAX_PACKET];
	const char *why;

	establish(n);
	assert_int_equal(hip_host_connect(n[0].host, NULL, &n[1].loc, 0, NULL), -EALREADY);
	qlen = 0;
	/* An UPDATE from the peer, cut at every length: always refused. */
	assert_int_equal(
	        hip_host_rekey(n[0].host, hip_host_find(n[0].host, identity_hit(n[1].id)), 5), 0);
	for (size_t len = 0; len < queue[0].len; len++) {
		why = NULL;
		assert_true(hip_host_input(n[1].host, queue[0].data, len, &n[0].loc, 5, &why) < 0);
		assert_non_null(why);
	}
	memset(buf, 0xa5, sizeof(buf));
	assert_true(hip_host_input(n[1].host, buf, sizeof(buf), &n[0].loc, 5, &why) < 0);
	assert_int_equal(n[1].rekeyed, 0);
	assert_int_equal(hip_assoc_state(hip_host_find(n[1].host, identity_hit(n[0].id))),
	                 HIP_STATE_R2_SENT);
}

/* A forged CLOSE (valid format, wrong MAC) must not tear down the association. */
static void test_forged_close_ignored(void **state)
{
	struct node *n = *state;
	struct hip_assoc *b_side;
	const char *why = NULL;

	establish(n);
	assert_int_equal(
	        hip_host_close(n[0].host, hip_host_find(n[0].host, identity_hit(n[1].id)), 5), 0);
	queue[0].data[queue[0].len - 80] ^= 0x40; /* inside HIP_MAC or signature */
	b_side = hip_host_find(n[1].host, identity_hit(n[0].id));
	assert_true(hip_host_input(n[1].host, queue[0].data, queue[0].len, &n[0].loc, 5, &why) < 0);
	assert_non_null(why);
	assert_int_equal(n[1].closed, 0);
	assert_int_equal(hip_assoc_state(b_side), HIP_STATE_R2_SENT);
	qlen = 0;
}

static void test_unknown_critical_parameter(void **state)
{
	struct node *n = *state;
	uint8_t pkt[HIP_MAX_PACKET];
	struct hip_builder b;
	struct hip_list8 groups = {.ids = {7}, .n = 1};
	struct hip_msg m;
	const char *why = NULL;
	int len;

	hip_builder_init(&b, pkt, sizeof(pkt), HIP_I1, identity_hit(n[0].id), NULL);
	hip_list8_encode(&b, HIP_P_DH_GROUP_LIST, &groups);
	hip_builder_param(&b, 1001, 4); /* odd: critical, and unknown */
	len = hip_builder_finish(&b);
	assert_true(len > 0);
	assert_true(hip_host_input(n[1].host, pkt, (size_t)len, &n[0].loc, 0, &why) < 0);
	assert_non_null(why);
	/* The Responder reports it with a signed NOTIFY. */
	assert_int_equal(qlen, 1);
	assert_int_equal(pkt_type(0), HIP_NOTIFY);
	assert_int_equal(hip_msg_parse(queue[0].data, queue[0].len, &m), 0);
	assert_non_null(hip_msg_find(&m, HIP_P_NOTIFICATION));
	assert_non_null(hip_msg_find(&m, HIP_P_HIP_SIGNATURE));
	qlen = 0;
	/* A non-critical unknown parameter is ignored. */
	hip_builder_init(&b, pkt, sizeof(pkt), HIP_I1, identity_hit(n[0].id), NULL);
	hip_list8_encode(&b, HIP_P_DH_GROUP_LIST, &groups);
	hip_builder_param(&b, 1002, 4);
	len = hip_builder_finish(&b);
	assert_int_equal(hip_host_input(n[1].host, pkt, (size_t)len, &n[0].loc, 0, NULL), 0);
	assert_int_equal(pkt_type(0), HIP_R1);
	qlen = 0;
}

static void test_nonzero_checksum(void **state)
{
	struct node *n = *state;
	const char *why = NULL;
	struct packet p;

	assert_int_equal(hip_host_connect(n[0].host, NULL, &n[1].loc, 0, NULL), 0);
	p = queue[0];
	qlen = 0;
	store_be16(p.data + 4, 0x1234);
	assert_true(hip_host_input(n[1].host, p.data, p.len, &n[0].loc, 0, &why) < 0);
	assert_non_null(why);
	assert_int_equal(qlen, 0);
}

static void test_wrong_receiver_hit(void **state)
{
	struct node *n = *state;
	const char *why = NULL;

	assert_int_equal(hip_host_connect(n[0].host, NULL, &n[1].loc, 0, NULL), 0);
	deliver_all(0);
	qlen = 0;
	/* An I1 for somebody else's HIT gets no R1. */
	assert_int_equal(hip_host_connect(n[0].host, identity_hit(n[0].id), &n[1].loc, 0, NULL),
	                 -EINVAL);
	{
		uint8_t pkt[HIP_MAX_PACKET];
		struct hip_builder b;
		struct hip_list8 groups = {.ids = {7}, .n = 1};
		struct hit other = *identity_hit(n[1].id);
		int len;
		other.b[15] ^= 1;
		hip_builder_init(&b, pkt, sizeof(pkt), HIP_I1, identity_hit(n[0].id), &other);
		hip_list8_encode(&b, HIP_P_DH_GROUP_LIST, &groups);
		len = hip_builder_finish(&b);
		assert_true(hip_host_input(n[1].host, pkt, (size_t)len, &n[0].loc, 0, &why) < 0);
		assert_int_equal(qlen, 0);
	}
}

static void test_peer_restart_new_i2(void **state)
{
	struct node *n = *state;
	struct hip_esp_keys before, after;

	establish(n);
	get_keys(&n[1], &n[0], &before);
	/* A restarts (loses its state) and runs a new base exchange. */
	n[0].host = hip_host_free(n[0].host);
	node_init(&n[0], 0, 0);
	n[0].peer = &n[1];
	connect_ab(n, false);
	assert_int_equal(n[0].established, 1);
	assert_int_equal(n[1].established, 2);
	assert_int_equal(n[1].closed, 1); /* the old SAs were dropped */
	get_keys(&n[1], &n[0], &after);
	assert_int_not_equal(before.spi_in, after.spi_in);
	assert_keys_match(&n[0], &n[1]);
}

/* After a CLOSE, a new opportunistic exchange with the same peer must not be
 * blocked by the association kept in CLOSED. */
static void test_reconnect_after_close(void **state)
{
	struct node *n = *state;
	struct hip_assoc *a;

	establish(n);
	a = hip_host_find(n[0].host, identity_hit(n[1].id));
	assert_int_equal(hip_host_close(n[0].host, a, 10), 0);
	deliver_all(10);
	assert_int_equal(hip_assoc_state(a), HIP_STATE_CLOSED);
	assert_int_equal(hip_host_connect(n[0].host, NULL, &n[1].loc, 20, NULL), 0);
	deliver_all(20);
	assert_int_equal(n[0].established, 2);
	assert_int_equal(n[1].established, 2);
	assert_keys_match(&n[0], &n[1]);
	hip_host_tick(n[0].host, 21);
	assert_int_equal(hip_host_count(n[0].host), 1);
	assert_int_equal(hip_assoc_state(hip_host_find(n[0].host, identity_hit(n[1].id))),
	                 HIP_STATE_ESTABLISHED);
}

static void test_r1_refresh_keeps_previous_generation(void **state)
{
	struct node *n = *state;
	struct packet p;
	uint64_t t;

	assert_int_equal(hip_host_connect(n[0].host, NULL, &n[1].loc, 0, NULL), 0);
	p = queue[0];
	qlen = 0;
	hip_host_input(n[1].host, p.data, p.len, &n[0].loc, 0, NULL); /* R1 of gen 1 */
	t = hip_host_next_timer(n[1].host);
	hip_host_tick(n[1].host, t); /* refresh: gen 2 */
	deliver_all(t);              /* the I2 answers gen 1: still accepted */
	assert_int_equal(n[0].established, 1);
	assert_int_equal(n[1].established, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_base_exchange, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_opportunistic, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_ice_mode, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_udp_mode, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_late_candidates, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_late_candidates_need_ice, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_relay_password, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_also_direct, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_announce_crossing, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_readdress, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_forged_updates_ignored, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_readdress_unverified, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_puzzle_difficulty, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_packet_order_and_contents, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_simultaneous_initiation, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_retransmit_backoff_and_failure, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_lost_r2, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_close, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_close_ack_lost, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rekey, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_simultaneous_rekey, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_lost_update_reply, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_corrupt_r1, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_corrupt_i2_each_region, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_corrupt_r2, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_truncated_and_garbage, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_forged_close_ignored, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_unknown_critical_parameter, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_nonzero_checksum, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_reconnect_after_close, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_wrong_receiver_hit, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_peer_restart_new_i2, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_r1_refresh_keeps_previous_generation, setup,
	                                        teardown),
	};
	int rc;

	assert_int_equal(identity_generate(&ids[0]), 0);
	assert_int_equal(identity_generate(&ids[1]), 0);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	identity_free(ids[0]);
	identity_free(ids[1]);
	return rc;
}
