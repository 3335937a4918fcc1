/* SPDX-License-Identifier: MIT */
/* fuzz_overlay_msg.c: overlay messages into the parser, its transforms, and a small engine.
 *
 * Input: a sequence of chunks `sender(1) | dt(1) | len(2, big-endian) | message`.
 * Each message is parsed on its own, then fed to an engine that has joined
 * through four known contacts and has a lookup and a publication pending;
 * sender selects one of them (or a stranger), dt advances the clock by
 * dt * 8 ms and runs the timers. The engine's transaction ids follow from its
 * ID and start time, so replies and acks can be matched. Records verify when
 * their one-byte signature is the XOR of the signed bytes. Seeds:
 * tests/fuzz/gen_overlay_msg_seeds.py. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "overlay/id.h"
#include "overlay/msg.h"
#include "overlay/node.h"

#define START    1700000000000ull
#define CONTACTS 5 /* four known, one stranger */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned sent;

static int op_send(void *ctx, const struct ovl_contact *to, const uint8_t *msg, size_t len)
{
	struct ovl_msg m;

	(void)ctx;
	(void)to;
	/* Everything the engine sends must parse. */
	if (ovl_msg_parse(msg, len, &m) != 0)
		abort();
	sent++;
	return 0;
}

static uint8_t xor_all(const uint8_t *p, size_t len)
{
	uint8_t x = 0;

	for (size_t i = 0; i < len; i++)
		x ^= p[i];
	return x;
}

static int op_sign(void *ctx, const uint8_t *data, size_t len, uint8_t *sig, size_t *siglen)
{
	(void)ctx;
	if (*siglen < 1)
		return -ENOBUFS;
	sig[0] = xor_all(data, len);
	*siglen = 1;
	return 0;
}

static int op_verify(void *ctx, uint16_t alg, const uint8_t *hi, size_t hi_len, const uint8_t *data,
                     size_t len, const uint8_t *sig, size_t siglen, struct hit *ret_owner)
{
	(void)ctx;
	(void)alg;
	if (siglen != 1 || sig[0] != xor_all(data, len))
		return -EBADMSG;
	memset(ret_owner->b, 0, HIT_LEN);
	memcpy(ret_owner->b, hi, hi_len < HIT_LEN ? hi_len : HIT_LEN);
	return 0;
}

static void op_hip(void *ctx, const struct ovl_contact *prev, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	(void)prev;
	if (len == 0 || !pkt)
		abort();
}

static void on_lookup(void *arg, enum ovl_status st, const struct ovl_record *rec, unsigned hops,
                      uint64_t elapsed)
{
	unsigned *calls = arg;

	(void)hops;
	(void)elapsed;
	if ((st == OVL_OK) != (rec != NULL))
		abort();
	(*calls)++;
}

static void make_contact(uint8_t tag, struct ovl_contact *c)
{
	memset(c, 0, sizeof(*c));
	memset(c->hit.b, tag, HIT_LEN);
	c->hit.b[0] = 0x20;
	c->hit.b[1] = 0x01;
	c->hit.b[2] = 0x00;
	c->hit.b[3] = 0x25;
	ovl_id_from_hit(&c->hit, &c->id);
	c->addr.ss_family = AF_UNSPEC;
}

static void parse_only(const uint8_t *msg, size_t len)
{
	uint8_t out[OVL_MSG_MAX];
	struct ovl_contact c;
	struct ovl_msg m, m2;
	const uint8_t *rec;
	struct reader r;
	struct ovl_id self;
	size_t rlen;
	int n;

	if (ovl_msg_parse(msg, len, &m) != 0)
		return;
	r = reader_init(m.data, m.data_len);
	for (size_t i = 0; i < m.count; i++) {
		if (m.type == OVL_MSG_FIND_REPLY ? ovl_msg_next_contact(&r, &c) != 0
		                                 : ovl_msg_next_record(&r, &rec, &rlen) != 0)
			abort(); /* the parser vouched for the list */
	}
	memset(self.b, 0xab, sizeof(self.b));
	if (ovl_msg_class(m.type) == OVL_CLASS_REQUEST) {
		n = ovl_msg_forward(msg, len, &m, &self, 1, out, sizeof(out));
		if (n > 0 && ovl_msg_parse(out, (size_t)n, &m2) != 0)
			abort();
	}
	if (ovl_msg_class(m.type) == OVL_CLASS_REPLY && m.nvia > 1) {
		n = ovl_msg_pop_via(msg, len, &m, out, sizeof(out));
		if (n < 0 || ovl_msg_parse(out, (size_t)n, &m2) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ovl_contact self, peers[CONTACTS];
	struct ovl_ops ops = {.send = op_send, .sign = op_sign, .verify = op_verify, .hip = op_hip};
	struct ovl_config cfg;
	struct ovl_node *n;
	struct reader r = reader_init(data, size);
	uint64_t now = START;
	unsigned calls = 0;
	uint8_t hi[32];

	parse_only(data, size);
	ovl_config_default(&cfg);
	cfg.k = 4;
	cfg.replicas = 3;
	cfg.alpha = 2;
	make_contact(0x11, &self);
	for (size_t i = 0; i < CONTACTS; i++)
		make_contact((uint8_t)(0x40 + i * 0x11), &peers[i]);
	memcpy(hi, self.hit.b, HIT_LEN);
	memset(hi + HIT_LEN, 7, sizeof(hi) - HIT_LEN);
	if (ovl_node_new(&self, 0xfff0, hi, sizeof(hi), &cfg, &ops, now, &n) != 0)
		return 0;
	(void)ovl_node_publish_name(n, "me.example", NULL, 0, now);
	(void)ovl_node_join(n, peers, CONTACTS - 1, now);
	(void)ovl_node_resolve(n, "a.example", now, on_lookup, &calls);

	while (reader_left(&r) >= 4) {
		const uint8_t *msg;
		const char *reason;
		uint8_t who, dt;
		uint16_t len;
		size_t take;

		if (reader_u8(&r, &who) < 0 || reader_u8(&r, &dt) < 0 || reader_be16(&r, &len) < 0)
			break;
		take = len < reader_left(&r) ? len : reader_left(&r);
		if (reader_take(&r, take, &msg) < 0)
			break;
		parse_only(msg, take);
		now += (uint64_t)dt * 8;
		if (ovl_node_next_timer(n) <= now)
			ovl_node_tick(n, now);
		(void)ovl_node_input(n, &peers[who % CONTACTS], msg, take, now, &reason);
	}
	/* Let everything pending time out: the lookup must end exactly once. */
	for (int i = 0; i < 64 && ovl_node_next_timer(n) != UINT64_MAX; i++) {
		now += 1000;
		ovl_node_tick(n, now);
		if (calls)
			break;
	}
	(void)ovl_node_leave(n, now);
	ovl_node_tick(n, now);
	if (calls != 1)
		abort();
	ovl_node_free(n);
	return 0;
}
