/* SPDX-License-Identifier: MIT */
/* test_overlay_node.c: overlay engines in an in-memory network on a virtual clock: join,
 * resolve everything, churn (leave and silent death), FCFS names, TTL, bad input, HIP routing. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "crypto/hash.h"
#include "overlay/id.h"
#include "overlay/msg.h"
#include "overlay/node.h"
#include "overlay/record.h"

#define LATENCY_MS 10
#define START      1700000000000ull
#define FAKE_ALG   0xfff0
#define NAME_FMT   "n%d.example"

static const uint8_t secret[16] = "idloc-test-key!";

/* ---- the network ---- */

struct net;

struct peer {
	struct net *net;
	int idx;
	struct ovl_contact c;
	uint8_t hi[32]; /* the HIT, then padding: the fake verifier reads the owner from it */
	struct ovl_node *node;
	bool alive;
	bool forge; /* signs with the wrong key */
	uint64_t sent_bytes;
	uint64_t timer_at; /* earliest timer event queued for it */
	unsigned hip_count;
	uint8_t hip_pkt[64];
	size_t hip_len;
	struct ovl_contact hip_prev;
	int pub_ok, pub_refused, pub_other;
	char pub_last[OVL_NAME_MAX + 1];
	char relay_last[OVL_NAME_MAX + 1]; /* the last relay branch published */
};

struct event {
	uint64_t at;
	uint64_t seq;
	int dst;
	int src; /* -1: timer */
	uint8_t *msg;
	size_t len;
};

struct net {
	struct peer *p;
	int n;
	struct event *heap;
	size_t nheap, capheap;
	uint64_t now, seq;
	uint64_t delivered, dropped, bad_locator;
};

static void heap_push(struct net *net, struct event ev)
{
	size_t i;

	if (net->nheap == net->capheap) {
		net->capheap = net->capheap ? net->capheap * 2 : 1024;
		net->heap = realloc(net->heap, net->capheap * sizeof(*net->heap));
		assert_non_null(net->heap);
	}
	ev.seq = net->seq++;
	i = net->nheap++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		struct event *pe = &net->heap[parent];

		if (pe->at < ev.at || (pe->at == ev.at && pe->seq < ev.seq))
			break;
		net->heap[i] = *pe;
		i = parent;
	}
	net->heap[i] = ev;
}

static bool ev_less(const struct event *a, const struct event *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static struct event heap_pop(struct net *net)
{
	struct event top = net->heap[0], last = net->heap[--net->nheap];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, m = l;

		if (l >= net->nheap)
			break;
		if (l + 1 < net->nheap && ev_less(&net->heap[l + 1], &net->heap[l]))
			m = l + 1;
		if (!ev_less(&net->heap[m], &last))
			break;
		net->heap[i] = net->heap[m];
		i = m;
	}
	if (net->nheap)
		net->heap[i] = last;
	return top;
}

static void schedule_timer(struct peer *p)
{
	uint64_t t;

	if (!p->node || !p->alive)
		return;
	t = ovl_node_next_timer(p->node);
	if (t == UINT64_MAX)
		return;
	if (t < p->net->now)
		t = p->net->now;
	if (t >= p->timer_at)
		return;
	p->timer_at = t;
	heap_push(p->net, (struct event){.at = t, .dst = p->idx, .src = -1});
}

static int peer_of_hit(const struct net *net, const struct hit *h)
{
	int i = load_be16(h->b + 14);

	if (i >= net->n || memcmp(net->p[i].c.hit.b, h->b, HIT_LEN) != 0)
		return -1;
	return i;
}

static int op_send(void *ctx, const struct ovl_contact *to, const uint8_t *msg, size_t len)
{
	struct peer *p = ctx;
	struct net *net = p->net;
	int dst = peer_of_hit(net, &to->hit);
	struct event ev = {.at = net->now + LATENCY_MS, .src = p->idx};

	assert_true(len > 0 && len <= OVL_MSG_MAX);
	p->sent_bytes += len;
	if (dst < 0) {
		net->dropped++;
		return 0;
	}
	if (!ovl_id_eq(&to->id, &net->p[dst].c.id) || to->addrlen != net->p[dst].c.addrlen ||
	    memcmp(&to->addr, &net->p[dst].c.addr, to->addrlen) != 0)
		net->bad_locator++;
	if (!net->p[dst].alive) {
		net->dropped++;
		return 0;
	}
	ev.dst = dst;
	ev.msg = malloc(len);
	assert_non_null(ev.msg);
	memcpy(ev.msg, msg, len);
	ev.len = len;
	heap_push(net, ev);
	return 0;
}

static int op_sign(void *ctx, const uint8_t *data, size_t len, uint8_t *sig, size_t *siglen)
{
	struct peer *p = ctx;
	uint8_t key[sizeof(secret)];

	assert_true(*siglen >= 32);
	memcpy(key, secret, sizeof(key));
	if (p->forge)
		key[0] ^= 1;
	*siglen = 32;
	return hmac_compute2(HASH_SHA256, key, sizeof(key), p->hi, sizeof(p->hi), data, len, sig);
}

static int op_verify(void *ctx, uint16_t alg, const uint8_t *hi, size_t hi_len, const uint8_t *data,
                     size_t len, const uint8_t *sig, size_t siglen, struct hit *ret_owner)
{
	uint8_t mac[HASH_MAX_LEN];

	(void)ctx;
	if (alg != FAKE_ALG || hi_len != 32 || siglen != 32)
		return -EBADMSG;
	assert_int_equal(
	        hmac_compute2(HASH_SHA256, secret, sizeof(secret), hi, hi_len, data, len, mac), 0);
	if (memcmp_ct(mac, sig, 32) != 0)
		return -EBADMSG;
	memcpy(ret_owner->b, hi, HIT_LEN);
	return 0;
}

static void op_hip(void *ctx, const struct ovl_contact *prev, const uint8_t *pkt, size_t len)
{
	struct peer *p = ctx;

	p->hip_count++;
	p->hip_len = len < sizeof(p->hip_pkt) ? len : sizeof(p->hip_pkt);
	memcpy(p->hip_pkt, pkt, p->hip_len);
	p->hip_prev = *prev;
}

static void on_publish(void *arg, enum ovl_record_kind kind, const char *name, enum ovl_status st)
{
	struct peer *p = arg;

	if (kind == OVL_RECORD_RELAY)
		snprintf(p->relay_last, sizeof(p->relay_last), "%s", name);
	if (st == OVL_OK)
		p->pub_ok++;
	else if (st == OVL_REFUSED)
		p->pub_refused++;
	else
		p->pub_other++;
	snprintf(p->pub_last, sizeof(p->pub_last), "%s", name);
}

static void identity_init(struct peer *p, int idx, uint64_t salt)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&p->c.addr;
	uint8_t d[HASH_MAX_LEN];
	uint8_t in[16];

	store_be64(in, (uint64_t)idx);
	store_be64(in + 8, salt);
	assert_int_equal(hash_digest(HASH_SHA256, in, sizeof(in), d), 0);
	memset(&p->c, 0, sizeof(p->c));
	memcpy(p->c.hit.b, d, HIT_LEN);
	p->c.hit.b[0] = 0x20; /* 2001:2x::/28, ORCHIDv2 */
	p->c.hit.b[1] = 0x01;
	p->c.hit.b[2] = 0x00;
	p->c.hit.b[3] = (uint8_t)(0x20 | (p->c.hit.b[3] & 0x0f));
	store_be16(p->c.hit.b + 14, (uint16_t)idx);
	ovl_id_from_hit(&p->c.hit, &p->c.id);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(10500);
	sin->sin_addr.s_addr = htonl(0x0a000000u | (uint32_t)idx);
	p->c.addrlen = sizeof(*sin);
	memcpy(p->hi, p->c.hit.b, HIT_LEN);
	memset(p->hi + HIT_LEN, 0x42, sizeof(p->hi) - HIT_LEN);
}

static void peer_start(struct net *net, int i, const struct ovl_config *cfg)
{
	struct peer *p = &net->p[i];
	struct ovl_ops ops = {
	        .ctx = p,
	        .send = op_send,
	        .sign = op_sign,
	        .verify = op_verify,
	        .hip = op_hip,
	};

	assert_int_equal(
	        ovl_node_new(&p->c, FAKE_ALG, p->hi, sizeof(p->hi), cfg, &ops, net->now, &p->node),
	        0);
	ovl_node_set_publish_cb(p->node, on_publish, p);
	p->alive = true;
	p->timer_at = UINT64_MAX;
}

static struct net *net_new(int n, uint64_t salt)
{
	struct net *net = calloc(1, sizeof(*net));

	assert_non_null(net);
	net->p = calloc((size_t)n, sizeof(*net->p));
	assert_non_null(net->p);
	net->n = n;
	net->now = START;
	for (int i = 0; i < n; i++) {
		net->p[i].net = net;
		net->p[i].idx = i;
		identity_init(&net->p[i], i, salt);
	}
	return net;
}

static void net_free(struct net *net)
{
	for (int i = 0; i < net->n; i++)
		ovl_node_free(net->p[i].node);
	for (size_t i = 0; i < net->nheap; i++)
		free(net->heap[i].msg);
	free(net->heap);
	free(net->p);
	free(net);
}

/* Runs events up to and including time `until`. */
static void net_run(struct net *net, uint64_t until)
{
	while (net->nheap && net->heap[0].at <= until) {
		struct event ev = heap_pop(net);
		struct peer *p = &net->p[ev.dst];
		const char *reason;

		net->now = ev.at;
		if (ev.src < 0) {
			if (ev.at != p->timer_at)
				continue; /* superseded */
			p->timer_at = UINT64_MAX;
			if (p->alive && ovl_node_next_timer(p->node) <= net->now)
				ovl_node_tick(p->node, net->now);
		} else {
			if (p->alive) {
				(void)ovl_node_input(p->node, &net->p[ev.src].c, ev.msg, ev.len,
				                     net->now, &reason);
				net->delivered++;
			}
			free(ev.msg);
		}
		schedule_timer(p);
	}
	net->now = until;
}

static void net_run_for(struct net *net, uint64_t ms)
{
	net_run(net, net->now + ms);
}

static void net_kick(struct net *net, int i)
{
	schedule_timer(&net->p[i]);
}

static void default_config(struct ovl_config *cfg)
{
	ovl_config_default(cfg);
}

/* Node 0 starts the overlay; the others join through it one after another. */
static struct net *build(int n, const struct ovl_config *cfg, uint64_t salt)
{
	struct net *net = net_new(n, salt);
	char name[64];

	for (int i = 0; i < n; i++) {
		peer_start(net, i, cfg);
		snprintf(name, sizeof(name), NAME_FMT, i);
		assert_int_equal(ovl_node_publish_name(net->p[i].node, name, NULL, 0, net->now), 0);
		if (i == 0)
			assert_int_equal(ovl_node_join(net->p[i].node, NULL, 0, net->now), 0);
		else
			assert_int_equal(ovl_node_join(net->p[i].node, &net->p[0].c, 1, net->now),
			                 0);
		net_kick(net, i);
		net_run_for(net, 300);
	}
	net_run_for(net, 3000);
	for (int i = 0; i < n; i++) {
		assert_true(ovl_node_joined(net->p[i].node));
		assert_true(net->p[i].pub_ok >= 1); /* republished early while the overlay forms */
	}
	return net;
}

/* ---- lookups ---- */

struct lookup {
	struct net *net;
	int expect; /* peer whose name it is, or -1 */
	int calls;
	enum ovl_status st;
	unsigned hops;
	uint64_t elapsed;
	struct hit owner;
	bool owner_ok;
};

static void on_lookup(void *arg, enum ovl_status st, const struct ovl_record *rec, unsigned hops,
                      uint64_t elapsed)
{
	struct lookup *l = arg;

	l->calls++;
	l->st = st;
	l->hops = hops;
	l->elapsed = elapsed;
	if (st == OVL_OK) {
		assert_non_null(rec);
		assert_int_equal(rec->kind, OVL_RECORD_NAME);
		l->owner = rec->owner;
		l->owner_ok = l->expect >= 0 &&
		              memcmp(rec->owner.b, l->net->p[l->expect].c.hit.b, HIT_LEN) == 0;
	} else {
		assert_null(rec);
	}
}

static void resolve(struct net *net, int from, int whose, struct lookup *l)
{
	char name[64];

	memset(l, 0, sizeof(*l));
	l->net = net;
	l->expect = whose;
	snprintf(name, sizeof(name), NAME_FMT, whose);
	assert_int_equal(ovl_node_resolve(net->p[from].node, name, net->now, on_lookup, l), 0);
	assert_int_equal(l->calls, 0); /* never from the call itself */
	net_kick(net, from);
}

struct tally {
	size_t total, ok, max_hops, hist[OVL_VIA_MAX + 2];
};

/* Every alive peer in `who` resolves every alive name in `whose`, in rounds
 * gap_ms apart. */
static void resolve_rounds(struct net *net, const bool *who, const bool *whose, struct tally *t,
                           uint64_t gap_ms)
{
	int n = net->n;
	struct lookup *ls = calloc((size_t)n * (size_t)n, sizeof(*ls));

	assert_non_null(ls);
	memset(t, 0, sizeof(*t));
	for (int r = 1; r < n; r++) {
		for (int i = 0; i < n; i++) {
			int j = (i + r) % n;

			if (who[i] && whose[j])
				resolve(net, i, j, &ls[(size_t)i * (size_t)n + (size_t)j]);
		}
		net_run_for(net, gap_ms);
	}
	net_run_for(net, 12000);
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < n; j++) {
			struct lookup *l = &ls[(size_t)i * (size_t)n + (size_t)j];

			if (i == j || !who[i] || !whose[j])
				continue;
			assert_int_equal(l->calls, 1);
			t->total++;
			if (l->st == OVL_OK) {
				assert_true(l->owner_ok);
				t->ok++;
				t->hist[l->hops < OVL_VIA_MAX ? l->hops : OVL_VIA_MAX]++;
				if (l->hops > t->max_hops)
					t->max_hops = l->hops;
			} else {
				print_message("lookup %d -> %d: status %d after %llu ms\n", i, j,
				              l->st, (unsigned long long)l->elapsed);
			}
		}
	}
	free(ls);
}

static void resolve_all(struct net *net, const bool *who, const bool *whose, struct tally *t)
{
	resolve_rounds(net, who, whose, t, 100);
}

static size_t median_hops(const struct tally *t)
{
	size_t seen = 0;

	for (size_t h = 0; h < ARRAY_SIZE(t->hist); h++) {
		seen += t->hist[h];
		if (seen * 2 >= t->ok)
			return h;
	}
	return SIZE_MAX;
}

static void check_accounting(const struct net *net)
{
	uint64_t maint = 0, all = 0;

	for (int i = 0; i < net->n; i++) {
		struct ovl_stats st;

		if (!net->p[i].node)
			continue;
		ovl_node_stats(net->p[i].node, &st);
		assert_true(st.bytes_sent == net->p[i].sent_bytes);
		assert_true(st.maintenance_bytes_sent <= st.bytes_sent);
		maint += st.maintenance_bytes_sent;
		all += st.bytes_sent;
	}
	assert_true(maint > 0 && maint < all);
	assert_int_equal(net->bad_locator, 0);
}

static void everyone(struct net *net, bool *v)
{
	for (int i = 0; i < net->n; i++)
		v[i] = net->p[i].alive;
}

static void all_pairs(int n, uint64_t salt)
{
	struct ovl_config cfg;
	struct net *net;
	bool *all = calloc((size_t)n, sizeof(bool));
	struct tally t;
	uint64_t nb = 0;

	assert_non_null(all);
	default_config(&cfg);
	net = build(n, &cfg, salt);
	everyone(net, all);
	resolve_all(net, all, all, &t);
	for (int i = 0; i < n; i++)
		nb += ovl_node_neighbors(net->p[i].node);
	print_message("%d nodes: %zu/%zu lookups ok, median hops %zu, max %zu, "
	              "mean neighbours %.1f\n",
	              n, t.ok, t.total, median_hops(&t), t.max_hops, (double)nb / n);
	assert_int_equal(t.ok, t.total);
	assert_true(t.max_hops <= 8);
	check_accounting(net);
	net_free(net);
	free(all);
}

static void test_resolve_64(void **state)
{
	(void)state;
	all_pairs(64, 1);
}

static void test_resolve_200(void **state)
{
	(void)state;
	all_pairs(200, 2);
}

/* Nodes joining within moments of each other, each through a few earlier
 * ones that are mostly seconds old themselves, with nearly empty tables: a
 * join lookup then often ends at a node that knows almost nobody. Without the
 * settling lookups of our own ID, the joiner keeps missing its real
 * neighbours, takes publications for keys they are closer to, and they never
 * learn it, so names published then are NOT_FOUND where lookups go. Checked
 * before the first early republication, which would otherwise hide it. */
static void test_burst_join(void **state)
{
	enum { N = 120, GAP_MS = 10 };
	struct ovl_config cfg;
	struct net *net = net_new(N, 9);
	bool all[N];
	struct tally t;
	char name[64];
	uint64_t rnd = 9;

	(void)state;
	default_config(&cfg);
	for (int i = 0; i < N; i++) {
		struct ovl_contact boot[3];
		size_t nb = 0;

		for (; i > 0 && nb < ARRAY_SIZE(boot); nb++) {
			rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
			boot[nb] = net->p[(rnd >> 33) % (uint64_t)i].c;
		}
		peer_start(net, i, &cfg);
		snprintf(name, sizeof(name), NAME_FMT, i);
		assert_int_equal(ovl_node_publish_name(net->p[i].node, name, NULL, 0, net->now), 0);
		assert_int_equal(ovl_node_join(net->p[i].node, nb ? boot : NULL, nb, net->now), 0);
		net_kick(net, i);
		net_run_for(net, GAP_MS);
	}
	/* Past the settling lookups (10 s after the last join), before the
	 * first node's 15 s republication. */
	net_run_for(net, 11000);
	everyone(net, all);
	resolve_rounds(net, all, all, &t, 1);
	print_message("%d nodes joined %d ms apart: %zu/%zu lookups ok, median hops %zu\n", N,
	              GAP_MS, t.ok, t.total, median_hops(&t));
	assert_int_equal(t.ok, t.total);
	for (int i = 0; i < N; i++)
		assert_true(ovl_node_joined(net->p[i].node));
	net_free(net);
}

/* ---- churn ---- */

static void test_leave_third(void **state)
{
	struct ovl_config cfg;
	struct net *net;
	bool alive[64];
	struct tally t;

	(void)state;
	default_config(&cfg);
	net = build(64, &cfg, 3);
	for (int i = 1; i < 64; i += 3) {
		assert_int_equal(ovl_node_leave(net->p[i].node, net->now), 0);
		assert_false(ovl_node_joined(net->p[i].node));
		net_run_for(net, 200);
		net->p[i].alive = false;
	}
	net_run_for(net, 1000);
	everyone(net, alive);
	resolve_all(net, alive, alive, &t);
	print_message("after 21 of 64 left: %zu/%zu ok, median hops %zu\n", t.ok, t.total,
	              median_hops(&t));
	assert_int_equal(t.ok, t.total);
	assert_true(t.max_hops <= 8);
	net_free(net);
}

static void test_silent_third(void **state)
{
	struct ovl_config cfg;
	struct net *net;
	bool alive[64];
	struct tally t;
	size_t nb = 0;

	(void)state;
	default_config(&cfg);
	net = build(64, &cfg, 4);
	for (int i = 2; i < 64; i += 3)
		net->p[i].alive = false;
	everyone(net, alive);
	/* At once: dead hops cost a hop timeout each and are routed around. */
	resolve_all(net, alive, alive, &t);
	print_message("right after 21 of 64 died: %zu/%zu ok, median hops %zu\n", t.ok, t.total,
	              median_hops(&t));
	assert_true(t.ok * 100 >= t.total * 90);
	/* After a republication, every surviving name is back in full. */
	net_run_for(net, cfg.republish_ms + 60000);
	for (int i = 0; i < 64; i++)
		if (alive[i])
			nb += ovl_node_neighbors(net->p[i].node);
	resolve_all(net, alive, alive, &t);
	print_message("after a republication: %zu/%zu ok, median hops %zu, mean neighbours %.1f\n",
	              t.ok, t.total, median_hops(&t), (double)nb / 43);
	assert_int_equal(t.ok, t.total);
	assert_true(t.max_hops <= 8);
	/* The dead are gone from the tables (pinged twice, then removed). */
	for (int i = 0; i < 64; i++) {
		struct ovl_contact cs[256];
		size_t n;

		if (!alive[i])
			continue;
		n = ovl_node_contacts(net->p[i].node, cs, ARRAY_SIZE(cs));
		for (size_t k = 0; k < n; k++) {
			int j = peer_of_hit(net, &cs[k].hit);

			assert_true(j >= 0);
			assert_true(alive[j]);
		}
	}
	net_free(net);
}

/* ---- names ---- */

static void test_first_come_first_served(void **state)
{
	struct ovl_config cfg;
	struct net *net;
	struct lookup l;
	uint64_t forged = 0;

	(void)state;
	default_config(&cfg);
	net = build(64, &cfg, 5);
	assert_int_equal(
	        ovl_node_publish_name(net->p[10].node, "shared.example", NULL, 0, net->now), 0);
	net_kick(net, 10);
	net_run_for(net, 2000);
	assert_true(net->p[10].pub_ok >= 2);
	assert_string_equal(net->p[10].pub_last, "shared.example");
	assert_int_equal(
	        ovl_node_publish_name(net->p[20].node, "shared.example", NULL, 0, net->now), 0);
	net_kick(net, 20);
	net_run_for(net, 2000);
	assert_int_equal(net->p[20].pub_refused, 1);
	assert_true(net->p[20].pub_ok >= 1);
	for (int i = 0; i < 64; i++) {
		struct ovl_stats st;

		ovl_node_stats(net->p[i].node, &st);
		forged += st.dropped_forged;
	}
	assert_true(forged >= 1);
	memset(&l, 0, sizeof(l));
	l.net = net;
	l.expect = 10;
	assert_int_equal(
	        ovl_node_resolve(net->p[30].node, "shared.example", net->now, on_lookup, &l), 0);
	net_kick(net, 30);
	net_run_for(net, 3000);
	assert_int_equal(l.calls, 1);
	assert_int_equal(l.st, OVL_OK);
	assert_true(l.owner_ok);
	/* The owner republishes with a higher sequence number: still accepted. */
	net_run_for(net, cfg.republish_ms + 1000);
	assert_true(net->p[10].pub_ok >= 3);
	assert_int_equal(net->p[10].pub_refused, 0);
	net_free(net);
}

static void test_forged_record(void **state)
{
	struct ovl_config cfg;
	struct net *net;
	struct lookup l;
	uint64_t forged = 0;

	(void)state;
	default_config(&cfg);
	net = build(32, &cfg, 6);
	net->p[7].forge = true;
	assert_int_equal(ovl_node_publish_name(net->p[7].node, "forged.example", NULL, 0, net->now),
	                 0);
	net_kick(net, 7);
	net_run_for(net, 2000);
	assert_int_equal(net->p[7].pub_refused, 1);
	for (int i = 0; i < 32; i++) {
		struct ovl_stats st;

		ovl_node_stats(net->p[i].node, &st);
		forged += st.dropped_forged;
	}
	assert_true(forged >= 1);
	memset(&l, 0, sizeof(l));
	l.net = net;
	l.expect = 7;
	assert_int_equal(
	        ovl_node_resolve(net->p[3].node, "forged.example", net->now, on_lookup, &l), 0);
	net_kick(net, 3);
	net_run_for(net, 6000);
	assert_int_equal(l.calls, 1);
	assert_int_equal(l.st, OVL_NOT_FOUND);
	net_free(net);
}

static void test_unknown_name(void **state)
{
	struct ovl_config cfg;
	struct net *net;
	struct lookup l[8];

	(void)state;
	default_config(&cfg);
	net = build(64, &cfg, 7);
	for (int i = 0; i < 8; i++) {
		char name[64];

		memset(&l[i], 0, sizeof(l[i]));
		l[i].net = net;
		l[i].expect = -1;
		snprintf(name, sizeof(name), "nobody%d.example", i);
		assert_int_equal(
		        ovl_node_resolve(net->p[i * 7].node, name, net->now, on_lookup, &l[i]), 0);
		net_kick(net, i * 7);
	}
	net_run_for(net, 6000);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(l[i].calls, 1);
		assert_int_equal(l[i].st, OVL_NOT_FOUND);
		/* A few round trips of 2 x 10 ms, not a timeout. */
		assert_true(l[i].elapsed < 300);
	}
	net_free(net);
}

static void test_ttl(void **state)
{
	struct ovl_config cfg, tight;
	struct net *net;
	struct lookup l[64];
	struct ovl_contact via[64];
	int ttl = 0, ok = 0, local = 0;

	(void)state;
	default_config(&cfg);
	net = net_new(65, 8);
	/* 64 ordinary nodes, then node 64 whose requests may take one hop. */
	for (int i = 0; i < 64; i++) {
		char name[64];

		peer_start(net, i, &cfg);
		snprintf(name, sizeof(name), NAME_FMT, i);
		assert_int_equal(ovl_node_publish_name(net->p[i].node, name, NULL, 0, net->now), 0);
		assert_int_equal(
		        ovl_node_join(net->p[i].node, i ? &net->p[0].c : NULL, i ? 1 : 0, net->now),
		        0);
		net_kick(net, i);
		net_run_for(net, 300);
	}
	tight = cfg;
	tight.max_hops = 1;
	peer_start(net, 64, &tight);
	for (int i = 0; i < 64; i++)
		via[i] = net->p[i].c;
	assert_int_equal(ovl_node_join(net->p[64].node, via, 64, net->now), 0);
	net_kick(net, 64);
	net_run_for(net, 3000);
	for (int i = 0; i < 64; i++)
		resolve(net, 64, i, &l[i]);
	net_run_for(net, 8000);
	for (int i = 0; i < 64; i++) {
		assert_int_equal(l[i].calls, 1);
		if (l[i].st == OVL_TTL) {
			ttl++;
		} else if (l[i].st == OVL_NOT_FOUND) {
			/* Closer to the name than any contact: it answered itself. */
			assert_int_equal(l[i].hops, 0);
			local++;
		} else {
			assert_int_equal(l[i].st, OVL_OK);
			assert_true(l[i].hops <= 1);
			ok++;
		}
	}
	print_message("max_hops=1: %d answered in one hop, %d TTL exceeded, %d locally\n", ok, ttl,
	              local);
	assert_true(ttl > 0);
	assert_true(ok > 0);
	net_free(net);
}

/* ---- bad input ---- */

static int input(struct net *net, int to, const struct ovl_contact *from, const uint8_t *msg,
                 size_t len)
{
	const char *reason = NULL;
	int e = ovl_node_input(net->p[to].node, from, msg, len, net->now, &reason);

	if (e < 0)
		assert_non_null(reason);
	return e;
}

static int expect_drop(int got, int want)
{
	assert_int_equal(got, want);
	return 1;
}

static int build_msg(uint8_t *buf, uint8_t type, const struct ovl_id *target,
                     const struct ovl_id *via, size_t nvia)
{
	struct ovl_msg_builder b;

	ovl_msg_begin(&b, buf, OVL_MSG_MAX, type, 0, 5, 99, target);
	for (size_t i = 0; i < nvia; i++)
		ovl_msg_add_via(&b, via[i].b, 1);
	return ovl_msg_finish(&b);
}

static void test_malformed_dropped(void **state)
{
	struct ovl_config cfg;
	struct net *net;
	struct ovl_stats before, after;
	struct ovl_contact stranger, liar;
	struct peer *x;
	uint8_t buf[OVL_MSG_MAX];
	uint64_t sent;
	size_t nb;
	int len, bad = 0;

	(void)state;
	default_config(&cfg);
	net = net_new(2, 9);
	peer_start(net, 0, &cfg);
	assert_int_equal(ovl_node_join(net->p[0].node, NULL, 0, net->now), 0);
	x = &net->p[0];
	stranger = net->p[1].c; /* a valid identity the node has never heard from */
	ovl_node_stats(x->node, &before);
	nb = ovl_node_neighbors(x->node);
	sent = x->sent_bytes;

	/* Garbage, truncation, trailing bytes. */
	memset(buf, 0xff, sizeof(buf));
	bad += expect_drop(input(net, 0, &stranger, buf, 100), -EBADMSG);
	bad += expect_drop(input(net, 0, &stranger, buf, 0), -EBADMSG);
	len = build_msg(buf, OVL_MSG_PING, &x->c.id, NULL, 0);
	bad += expect_drop(input(net, 0, &stranger, buf, (size_t)len - 1), -EBADMSG);
	bad += expect_drop(input(net, 0, &stranger, buf, (size_t)len + 1), -EBADMSG);
	/* Well-formed but wrong: a PING for someone else, a request whose via list
	 * does not end with the sender, a reply not addressed to us. */
	len = build_msg(buf, OVL_MSG_PING, &stranger.id, NULL, 0);
	bad += expect_drop(input(net, 0, &stranger, buf, (size_t)len), -EBADMSG);
	len = build_msg(buf, OVL_MSG_FIND, &stranger.id, &x->c.id, 1);
	bad += expect_drop(input(net, 0, &stranger, buf, (size_t)len), -EBADMSG);
	len = build_msg(buf, OVL_MSG_ERROR, &stranger.id, &stranger.id, 1);
	assert_true(len > 0);
	buf[len] = OVL_ERR_TTL;
	bad += expect_drop(input(net, 0, &stranger, buf, (size_t)len + 1), -EBADMSG);
	/* A sender whose ID is not its HIT's. */
	liar = stranger;
	liar.id.b[0] ^= 1;
	len = build_msg(buf, OVL_MSG_PING, &x->c.id, NULL, 0);
	bad += expect_drop(input(net, 0, &liar, buf, (size_t)len), -EPERM);

	ovl_node_stats(x->node, &after);
	assert_int_equal(after.dropped_malformed - before.dropped_malformed, bad);
	assert_int_equal(ovl_node_neighbors(x->node), nb);
	assert_int_equal(x->sent_bytes, sent);
	assert_int_equal(net->nheap, 0);
	assert_true(after.msgs_recv - before.msgs_recv <= 3); /* parsed, then refused */

	/* A valid PING from the stranger is answered and teaches us the stranger. */
	len = build_msg(buf, OVL_MSG_PING, &x->c.id, NULL, 0);
	assert_int_equal(input(net, 0, &stranger, buf, (size_t)len), 0);
	assert_int_equal(ovl_node_neighbors(x->node), nb + 1);
	assert_true(x->sent_bytes > sent);
	net_free(net);
}

static void test_flood_rate_limited(void **state)
{
	struct ovl_config cfg;
	struct net *net;
	uint8_t buf[OVL_MSG_MAX], junk[50];
	int len, refused = 0, accepted = 0, others = 0;
	struct ovl_stats st;

	(void)state;
	default_config(&cfg);
	net = net_new(8, 10);
	peer_start(net, 0, &cfg);
	assert_int_equal(ovl_node_join(net->p[0].node, NULL, 0, net->now), 0);
	len = build_msg(buf, OVL_MSG_PING, &net->p[0].c.id, NULL, 0);
	for (int i = 0; i < 5000; i++) {
		int e = input(net, 0, &net->p[1].c, buf, (size_t)len);

		if (e == -EBUSY)
			refused++;
		else if (e == 0)
			accepted++;
	}
	print_message("flood of 5000 PINGs in 1 ms: %d answered, %d refused\n", accepted, refused);
	assert_true(accepted >= 900 && accepted <= 1100);
	assert_int_equal(accepted + refused, 5000);
	ovl_node_stats(net->p[0].node, &st);
	assert_true(st.msgs_sent <= 1100);
	/* Other contacts are not affected (each has two candidate slots; two of
	 * four colliding with the flooder on both is out of reach). */
	for (int i = 2; i < 6; i++)
		others += input(net, 0, &net->p[i].c, buf, (size_t)len) == 0;
	assert_true(others >= 3);
	/* Malformed input exhausts a sender's allowance much faster. */
	memset(junk, 0xee, sizeof(junk));
	refused = 0;
	for (int i = 0; i < 100; i++)
		if (input(net, 0, &net->p[6].c, junk, sizeof(junk)) == -EBUSY)
			refused++;
	assert_true(refused >= 70);
	/* The allowance comes back with time. */
	net_run_for(net, 10000);
	assert_int_equal(input(net, 0, &net->p[1].c, buf, (size_t)len), 0);
	assert_int_equal(input(net, 0, &net->p[6].c, buf, (size_t)len), 0);
	net_free(net);
}

/* ---- HIP over the overlay, relays, API ---- */

static void test_route_hip(void **state)
{
	struct ovl_config cfg;
	struct net *net;
	uint8_t pkt[40];
	struct hit absent;
	unsigned total = 0;

	(void)state;
	default_config(&cfg);
	net = build(64, &cfg, 11);
	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 3);
	for (int k = 0; k < 10; k++) {
		int src = k * 5, dst = 63 - k * 3;

		pkt[0] = (uint8_t)k;
		assert_int_equal(ovl_node_route_hip(net->p[src].node, &net->p[dst].c.hit, pkt,
		                                    sizeof(pkt), NULL, net->now),
		                 0);
		net_kick(net, src);
		net_run_for(net, 1000);
		assert_int_equal(net->p[dst].hip_count, 1);
		assert_int_equal(net->p[dst].hip_len, sizeof(pkt));
		assert_memory_equal(net->p[dst].hip_pkt, pkt, sizeof(pkt));
		assert_true(peer_of_hit(net, &net->p[dst].hip_prev.hit) >= 0);
		net->p[dst].hip_count = 0;
	}
	/* A HIT nobody owns is delivered nowhere. */
	absent = net->p[5].c.hit;
	absent.b[8] ^= 0x5a;
	(void)ovl_node_route_hip(net->p[1].node, &absent, pkt, sizeof(pkt), NULL, net->now);
	net_kick(net, 1);
	net_run_for(net, 3000);
	for (int i = 0; i < 64; i++)
		total += net->p[i].hip_count;
	assert_int_equal(total, 0);
	assert_int_equal(ovl_node_route_hip(net->p[1].node, &net->p[1].c.hit, pkt, sizeof(pkt),
	                                    NULL, net->now),
	                 -EINVAL);
	assert_int_equal(
	        ovl_node_route_hip(net->p[1].node, &net->p[2].c.hit, pkt, 0, NULL, net->now),
	        -EINVAL);
	net_free(net);
}

/* not_via: a packet for a node we know directly still arrives, through
 * another node. */
static void test_route_hip_not_via(void **state)
{
	struct ovl_config cfg;
	struct net *net;
	uint8_t pkt[40] = {0x42};
	int direct = 0;

	(void)state;
	default_config(&cfg);
	net = build(64, &cfg, 12);
	for (int src = 0; src < 64; src += 7) {
		for (int dst = 1; dst < 64; dst += 9) {
			if (src == dst)
				continue;
			assert_int_equal(ovl_node_route_hip(net->p[src].node, &net->p[dst].c.hit,
			                                    pkt, sizeof(pkt), NULL, net->now),
			                 0);
			net_kick(net, src);
			net_run_for(net, 1000);
			assert_int_equal(net->p[dst].hip_count, 1);
			net->p[dst].hip_count = 0;
			if (peer_of_hit(net, &net->p[dst].hip_prev.hit) != src)
				continue;
			/* src reached dst directly: now not via dst itself. */
			direct++;
			assert_int_equal(ovl_node_route_hip(net->p[src].node, &net->p[dst].c.hit,
			                                    pkt, sizeof(pkt), &net->p[dst].c.hit,
			                                    net->now),
			                 0);
			net_kick(net, src);
			net_run_for(net, 3000);
			assert_int_equal(net->p[dst].hip_count, 1);
			assert_int_not_equal(peer_of_hit(net, &net->p[dst].hip_prev.hit), src);
			net->p[dst].hip_count = 0;
		}
	}
	assert_true(direct > 0);
	net_free(net);
}

struct relays {
	int calls;
	enum ovl_status st;
	size_t n;
	struct hit owners[OVL_RELAYS_MAX];
	char branches[OVL_RELAYS_MAX][OVL_NAME_MAX + 1];
};

static void on_relays(void *arg, enum ovl_status st, const struct ovl_record *recs, size_t n)
{
	struct relays *r = arg;

	r->calls++;
	r->st = st;
	r->n = n;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(recs[i].kind, OVL_RECORD_RELAY);
		assert_int_equal(recs[i].payload_len, 6);
		r->owners[i] = recs[i].owner;
		snprintf(r->branches[i], sizeof(r->branches[i]), "%s", recs[i].name);
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(hit_cmp(&r->owners[j], &recs[i].owner), 0);
	}
}

/* The branch at depth d on the path of the node with ID id, as publishers
 * and readers walk it. */
static void path_branch(const struct ovl_id *id, unsigned depth, char *out, size_t cap)
{
	size_t len;

	snprintf(out, cap, "relay:");
	for (unsigned d = 0; d < depth; d++) {
		len = strlen(out);
		out[len] = (d % 2 == 0 ? "abcdefgh" : "12345678")[id->b[d] & 7];
		out[len + 1] = '\0';
	}
}

/* What a reader walking its own path should find: every level's relays,
 * going one deeper only while the level is full. */
static size_t expected_relays(struct net *net, int reader, int npub, unsigned limit)
{
	char branch[OVL_NAME_MAX + 1];
	size_t total = 0;

	for (unsigned depth = 0; depth <= 6; depth++) {
		size_t level = 0;

		path_branch(&net->p[reader].c.id, depth, branch, sizeof(branch));
		for (int i = 0; i < npub; i++)
			level += !strcmp(net->p[i].relay_last, branch);
		total += level;
		if (level < limit)
			break;
	}
	return total;
}

static void test_relay_branches(void **state)
{
	struct ovl_config cfg;
	struct net *net;
	int at_top = 0, deeper = 0;

	(void)state;
	default_config(&cfg);
	cfg.relay_branch_limit = 2;
	net = build(32, &cfg, 12);
	for (int i = 0; i < 8; i++) {
		uint8_t loc[6] = {10, 0, 0, (uint8_t)i, 0x29, 0x04};

		assert_int_equal(ovl_node_publish_relay(net->p[i].node, loc, sizeof(loc), net->now),
		                 0);
		net_kick(net, i);
		net_run_for(net, 1000);
		assert_true(net->p[i].pub_ok >= 2);
		if (!strcmp(net->p[i].relay_last, "relay:"))
			at_top++;
		else
			deeper++;
		assert_true(ovl_relay_branch_valid(net->p[i].relay_last));
	}
	assert_int_equal(at_top, 2);
	assert_int_equal(deeper, 6);

	/* Readers find the outermost relays first, then those on their path. */
	for (int reader = 8; reader < 32; reader += 5) {
		struct relays r = {0};
		size_t want = expected_relays(net, reader, 8, 2);

		assert_int_equal(ovl_node_find_relays(net->p[reader].node, OVL_RELAYS_MAX, net->now,
		                                      on_relays, &r),
		                 0);
		assert_int_equal(r.calls, 0);
		net_kick(net, reader);
		net_run_for(net, 3000);
		assert_int_equal(r.calls, 1);
		assert_int_equal(r.st, OVL_OK);
		assert_int_equal(r.n, want);
		assert_true(r.n >= 2);
		assert_string_equal(r.branches[0], "relay:");
		assert_string_equal(r.branches[1], "relay:");
	}
	{
		struct relays r = {0};

		assert_int_equal(ovl_node_find_relays(net->p[9].node, 1, net->now, on_relays, &r),
		                 0);
		net_kick(net, 9);
		net_run_for(net, 3000);
		assert_int_equal(r.calls, 1);
		assert_int_equal(r.n, 1);
		assert_int_equal(ovl_node_find_relays(net->p[9].node, 0, net->now, on_relays, &r),
		                 -EINVAL);
	}
	net_free(net);
}

static void test_no_relays(void **state)
{
	struct ovl_config cfg;
	struct relays r = {0};
	struct net *net;

	(void)state;
	default_config(&cfg);
	net = build(16, &cfg, 14);
	assert_int_equal(ovl_node_find_relays(net->p[3].node, 4, net->now, on_relays, &r), 0);
	net_kick(net, 3);
	net_run_for(net, 3000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.st, OVL_NOT_FOUND);
	assert_int_equal(r.n, 0);
	/* A search still running when the node goes is freed with it (ASan). */
	assert_int_equal(ovl_node_find_relays(net->p[4].node, 4, net->now, on_relays, &r), 0);
	net_free(net);
}

static void test_rejoin_from_cache(void **state)
{
	struct ovl_config cfg;
	struct ovl_contact cache[32];
	struct net *net;
	struct lookup l;
	size_t n;

	(void)state;
	default_config(&cfg);
	net = build(48, &cfg, 13);
	n = ovl_node_contacts(net->p[40].node, cache, ARRAY_SIZE(cache));
	assert_true(n >= 8);
	/* Longest-lived first: node 0, the bootstrap, was its first contact. */
	assert_int_equal(peer_of_hit(net, &cache[0].hit), 0);
	/* Node 40 restarts with a fresh engine; node 0 is gone for good. */
	net->p[0].alive = false;
	ovl_node_free(net->p[40].node);
	net->p[40].node = NULL;
	net->p[40].pub_ok = 0;
	peer_start(net, 40, &cfg);
	assert_int_equal(ovl_node_publish_name(net->p[40].node, "n40.example", NULL, 0, net->now),
	                 0);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(memcmp(cache[i].hit.b, net->p[40].c.hit.b, HIT_LEN), 0);
	assert_int_equal(ovl_node_join(net->p[40].node, cache, n, net->now), 0);
	net_kick(net, 40);
	net_run_for(net, 5000);
	assert_true(ovl_node_joined(net->p[40].node));
	assert_true(net->p[40].pub_ok >= 1);
	resolve(net, 40, 17, &l);
	net_run_for(net, 6000);
	assert_int_equal(l.st, OVL_OK);
	resolve(net, 17, 40, &l);
	net_run_for(net, 6000);
	assert_int_equal(l.st, OVL_OK);
	assert_true(l.owner_ok);
	net_free(net);
}

static void test_api(void **state)
{
	struct ovl_config cfg, bad;
	struct net *net;
	struct ovl_node *node = NULL;
	struct ovl_ops ops = {.send = op_send, .sign = op_sign, .verify = op_verify};
	struct ovl_contact wrong;
	struct lookup l;

	(void)state;
	default_config(&cfg);
	assert_int_equal(cfg.k, 16);
	assert_int_equal(cfg.replicas, 5);
	net = net_new(2, 14);
	ops.ctx = &net->p[0];
	wrong = net->p[0].c;
	wrong.id.b[3] ^= 1;
	assert_int_equal(ovl_node_new(&wrong, FAKE_ALG, net->p[0].hi, 32, &cfg, &ops, 0, &node),
	                 -EINVAL);
	bad = cfg;
	bad.replicas = cfg.k + 1;
	assert_int_equal(
	        ovl_node_new(&net->p[0].c, FAKE_ALG, net->p[0].hi, 32, &bad, &ops, 0, &node),
	        -EINVAL);
	bad = cfg;
	bad.max_hops = OVL_VIA_MAX + 1;
	assert_int_equal(
	        ovl_node_new(&net->p[0].c, FAKE_ALG, net->p[0].hi, 32, &bad, &ops, 0, &node),
	        -EINVAL);
	ops.send = NULL;
	assert_int_equal(
	        ovl_node_new(&net->p[0].c, FAKE_ALG, net->p[0].hi, 32, &cfg, &ops, 0, &node),
	        -EINVAL);
	assert_null(node);

	/* A lone node answers itself, from the next tick, never from the call. */
	peer_start(net, 0, &cfg);
	assert_int_equal(ovl_node_resolve(net->p[0].node, "Upper.example", net->now, on_lookup, &l),
	                 -EINVAL);
	assert_int_equal(ovl_node_publish_name(net->p[0].node, "bad..name", NULL, 0, net->now),
	                 -EINVAL);
	assert_int_equal(ovl_node_publish_name(net->p[0].node, "solo.example", NULL, 0, net->now),
	                 0);
	assert_int_equal(ovl_node_join(net->p[0].node, NULL, 0, net->now), 0);
	assert_true(ovl_node_joined(net->p[0].node));
	net_kick(net, 0);
	net_run_for(net, 100);
	assert_true(net->p[0].pub_ok >= 1);
	memset(&l, 0, sizeof(l));
	l.net = net;
	l.expect = 0;
	assert_int_equal(ovl_node_resolve(net->p[0].node, "solo.example", net->now, on_lookup, &l),
	                 0);
	assert_int_equal(l.calls, 0);
	net_kick(net, 0);
	net_run_for(net, 10);
	assert_int_equal(l.calls, 1);
	assert_int_equal(l.st, OVL_OK);
	assert_int_equal(l.hops, 0);
	assert_true(l.owner_ok);
	/* Joining through ourselves, or a contact whose ID is not its HIT's. */
	assert_int_equal(ovl_node_join(net->p[0].node, &net->p[0].c, 1, net->now), -EINVAL);
	assert_int_equal(ovl_node_join(net->p[0].node, &wrong, 1, net->now), -EINVAL);
	/* Leaving: pending lookups end with TIMEOUT at the next tick; input is refused. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(ovl_node_resolve(net->p[0].node, "other.example", net->now, on_lookup, &l),
	                 0);
	assert_int_equal(ovl_node_leave(net->p[0].node, net->now), 0);
	assert_int_equal(ovl_node_leave(net->p[0].node, net->now), 0);
	assert_int_equal(l.calls, 0);
	ovl_node_tick(net->p[0].node, net->now);
	assert_int_equal(l.calls, 1);
	assert_int_equal(l.st, OVL_TIMEOUT);
	{
		uint8_t buf[OVL_MSG_MAX];
		int len = build_msg(buf, OVL_MSG_PING, &net->p[0].c.id, NULL, 0);

		assert_int_equal(input(net, 0, &net->p[1].c, buf, (size_t)len), -ESHUTDOWN);
	}
	assert_int_equal(ovl_node_resolve(net->p[0].node, "solo.example", net->now, on_lookup, &l),
	                 -ESHUTDOWN);
	net_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_api),
	        cmocka_unit_test(test_malformed_dropped),
	        cmocka_unit_test(test_flood_rate_limited),
	        cmocka_unit_test(test_resolve_64),
	        cmocka_unit_test(test_resolve_200),
	        cmocka_unit_test(test_burst_join),
	        cmocka_unit_test(test_leave_third),
	        cmocka_unit_test(test_silent_third),
	        cmocka_unit_test(test_first_come_first_served),
	        cmocka_unit_test(test_forged_record),
	        cmocka_unit_test(test_unknown_name),
	        cmocka_unit_test(test_ttl),
	        cmocka_unit_test(test_route_hip),
	        cmocka_unit_test(test_route_hip_not_via),
	        cmocka_unit_test(test_relay_branches),
	        cmocka_unit_test(test_no_relays),
	        cmocka_unit_test(test_rejoin_from_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
