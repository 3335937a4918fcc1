/* SPDX-License-Identifier: MIT */
/* test_turn_nice.c: libnice (through the project's ICE wrapper, src/net/ice.h) uses
 * idloc's TURN server: two agents on one libuv loop gather relayed candidates from
 * the server on 127.0.0.1, are told only each other's relayed candidates, connect
 * on a relay path, and exchange datagrams both ways through the server, whose
 * counters must show them. Everything stays on 127.0.0.1. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "net/gloop.h"
#include "net/ice.h"
#include "relay/stun.h"
#include "relay/turn.h"

#define REALM       "nice.test"
#define TURN_USER   "nice-peer"
#define TURN_PASS   "nice-peer-password"
#define WATCHDOG_MS 20000
#define N_DGRAMS    500
#define DGRAM_LEN   1000
#define WINDOW      32 /* datagrams in flight each way */

struct agent {
	const char *name;
	struct ice *ice;
	struct agent *other;
	struct env *env;
	const char *ufrag, *pwd;
	bool gathered, selected;
	struct ice_path path;
	uint32_t sent, received, bad;
};

struct env {
	uv_loop_t loop;
	struct gloop *g;
	struct turn_server *turn;
	uv_timer_t watchdog;
	uv_idle_t pump;
	bool timed_out, failed;
	struct agent a, b;
	uint8_t key[STUN_KEY_LEN];
};

static int failures;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                              \
		}                                                                                \
	} while (0)

static int key_fn(void *arg, const char *user, uint8_t key[16])
{
	struct env *e = arg;

	if (strcmp(user, TURN_USER) != 0)
		return -ENOENT;
	memcpy(key, e->key, STUN_KEY_LEN);
	return 0;
}

static void on_watchdog(uv_timer_t *t)
{
	struct env *e = t->data;

	e->timed_out = true;
	uv_stop(&e->loop);
}

/* Hands each side the other's relayed candidates only, so the path must use
 * the TURN server. */
static bool give_relayed(struct agent *to, struct agent *from)
{
	struct ice_candidate all[ICE_MAX_CANDIDATES], relayed[ICE_MAX_CANDIDATES];
	size_t n = ice_local_candidates(from->ice, all, ICE_MAX_CANDIDATES), m = 0;

	for (size_t i = 0; i < n; i++)
		if (all[i].kind == ICE_KIND_RELAY)
			relayed[m++] = all[i];
	fprintf(stderr, "%s: %zu candidates, %zu relayed\n", from->name, n, m);
	if (m == 0)
		return false;
	return ice_set_remote(to->ice, from->ufrag, from->pwd, relayed, m) == (int)m;
}

static void on_gathered(void *ctx)
{
	struct agent *p = ctx;
	struct env *e = p->env;

	p->gathered = true;
	if (!e->a.gathered || !e->b.gathered)
		return;
	if (!give_relayed(&e->a, &e->b) || !give_relayed(&e->b, &e->a)) {
		e->failed = true;
		uv_stop(&e->loop);
	}
}

static void on_selected(void *ctx, const struct ice_path *path)
{
	struct agent *p = ctx;

	p->selected = true;
	p->path = *path;
	if (p->other->selected)
		uv_stop(&p->env->loop);
}

static void on_failed(void *ctx)
{
	struct agent *p = ctx;

	fprintf(stderr, "%s: ICE failed\n", p->name);
	p->env->failed = true;
	uv_stop(&p->env->loop);
}

static void fill(uint8_t *b, uint32_t seq)
{
	for (size_t i = 0; i < DGRAM_LEN; i++)
		b[i] = (uint8_t)(seq * 7 + i);
	memcpy(b, &seq, sizeof(seq));
}

static void on_recv(void *ctx, const uint8_t *data, size_t len)
{
	struct agent *p = ctx;
	uint8_t want[DGRAM_LEN];
	uint32_t seq;

	if (len != DGRAM_LEN) {
		p->bad++;
		return;
	}
	memcpy(&seq, data, sizeof(seq));
	fill(want, seq);
	if (seq >= N_DGRAMS || memcmp(want, data, len) != 0)
		p->bad++;
	else
		p->received++;
}

static const struct ice_ops ops = {
        .gathered = on_gathered,
        .selected = on_selected,
        .failed = on_failed,
        .recv = on_recv,
};

/* Keeps at most WINDOW datagrams in flight each way. */
static void on_pump(uv_idle_t *h)
{
	struct env *e = h->data;
	struct agent *ps[2] = {&e->a, &e->b};
	uint8_t buf[DGRAM_LEN];

	for (int i = 0; i < 2; i++) {
		struct agent *p = ps[i];

		while (p->sent < N_DGRAMS && p->sent - p->other->received < WINDOW) {
			fill(buf, p->sent);
			if (ice_send(p->ice, buf, sizeof(buf)) < 0)
				break;
			p->sent++;
		}
	}
	if (e->a.received == N_DGRAMS && e->b.received == N_DGRAMS)
		uv_stop(&e->loop);
}

static int start_turn(struct env *e, struct sockaddr_storage *addr)
{
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct turn_config cfg;
	int r = stun_long_term_key(TURN_USER, REALM, TURN_PASS, e->key);

	turn_config_init(&cfg, REALM);
	if (r == 0)
		r = turn_server_new(&e->loop, &cfg, (struct sockaddr *)&lo, (struct sockaddr *)&lo,
		                    key_fn, e, &e->turn);
	if (r == 0)
		r = turn_server_address(e->turn, addr);
	return r;
}

static int start_agent(struct env *e, struct agent *p, bool controlling,
                       const struct ice_turn *turn)
{
	static struct sockaddr_storage lo;
	struct ice_config c = {
	        .controlling = controlling,
	        .ufrag = p->ufrag,
	        .pwd = p->pwd,
	        .turn = turn,
	        .n_turn = 1,
	        .local_addrs = &lo,
	        .n_local_addrs = 1,
	        .allow_loopback = true,
	};
	struct sockaddr_in *sin = (struct sockaddr_in *)&lo;

	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return ice_new(e->g, &c, &ops, p, &p->ice);
}

static void check_relay_path(const struct agent *p, const struct sockaddr_storage *server)
{
	struct ice_path now;

	CHECK(ice_selected_path(p->ice, &now) == 0);
	fprintf(stderr, "%s: path %s (local %s, remote %s)\n", p->name, now.type,
	        ice_kind_name(now.local_kind), ice_kind_name(now.remote_kind));
	CHECK(strcmp(now.type, "relay") == 0);
	/* The remote end is the other side's relayed address: on the server's
	 * IP, not its listening port. */
	CHECK(now.remote_kind == ICE_KIND_RELAY || now.local_kind == ICE_KIND_RELAY);
	CHECK(now.remote.ss_family == AF_INET);
	CHECK(((struct sockaddr_in *)&now.remote)->sin_addr.s_addr ==
	      ((const struct sockaddr_in *)server)->sin_addr.s_addr);
}

static void run(struct env *e)
{
	uv_run(&e->loop, UV_RUN_DEFAULT);
}

static void on_turn_closed(void *arg)
{
	*(bool *)arg = true;
}

static int teardown(struct env *e)
{
	bool closed = false;

	ice_free(e->a.ice);
	ice_free(e->b.ice);
	gloop_free(e->g);
	turn_server_close(e->turn, on_turn_closed, &closed);
	uv_close((uv_handle_t *)&e->watchdog, NULL);
	uv_close((uv_handle_t *)&e->pump, NULL);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	CHECK(closed);
	CHECK(uv_loop_close(&e->loop) == 0);
	return failures;
}

int main(void)
{
	static struct env e;
	struct sockaddr_storage server;
	struct ice_turn turn = {.host = "127.0.0.1", .user = TURN_USER, .pass = TURN_PASS};
	struct turn_stats st, before;

	if (getenv("IDLOC_DEBUG"))
		log_set_level(LOG_DEBUG);
	e.a = (struct agent){.name = "a",
	                     .env = &e,
	                     .other = &e.b,
	                     .ufrag = "AAAAturn",
	                     .pwd = "aPasswordOfTwentyTwoChars"};
	e.b = (struct agent){.name = "b",
	                     .env = &e,
	                     .other = &e.a,
	                     .ufrag = "BBBBturn",
	                     .pwd = "bPasswordOfTwentyTwoChars"};
	if (uv_loop_init(&e.loop) != 0 || gloop_new(&e.loop, &e.g) != 0 ||
	    start_turn(&e, &server) != 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	uv_timer_init(&e.loop, &e.watchdog);
	e.watchdog.data = &e;
	uv_timer_start(&e.watchdog, on_watchdog, WATCHDOG_MS, 0);
	uv_unref((uv_handle_t *)&e.watchdog);
	uv_idle_init(&e.loop, &e.pump);
	e.pump.data = &e;
	turn.port = ntohs(((struct sockaddr_in *)&server)->sin_port);
	CHECK(start_agent(&e, &e.a, true, &turn) == 0);
	CHECK(start_agent(&e, &e.b, false, &turn) == 0);
	if (failures)
		return teardown(&e) ? 1 : 0;
	CHECK(ice_gather(e.a.ice) == 0);
	CHECK(ice_gather(e.b.ice) == 0);

	/* Gathering (Allocate through the 401 challenge), then the checks. */
	run(&e);
	CHECK(!e.timed_out);
	CHECK(!e.failed);
	CHECK(e.a.selected && e.b.selected);
	turn_server_stats(e.turn, &before);
	CHECK(before.allocations == 2);
	CHECK(before.refused_auth == 0);
	if (e.a.selected && e.b.selected) {
		check_relay_path(&e.a, &server);
		check_relay_path(&e.b, &server);
		/* Traffic both ways, every datagram through the server. */
		uv_idle_start(&e.pump, on_pump);
		run(&e);
		uv_idle_stop(&e.pump);
		CHECK(!e.timed_out);
		fprintf(stderr, "a received %u, b received %u (bad %u, %u)\n", e.a.received,
		        e.b.received, e.a.bad, e.b.bad);
		CHECK(e.a.received == N_DGRAMS && e.b.received == N_DGRAMS);
		CHECK(e.a.bad == 0 && e.b.bad == 0);
		turn_server_stats(e.turn, &st);
		fprintf(stderr, "server relayed %llu bytes\n",
		        (unsigned long long)(st.relayed_bytes - before.relayed_bytes));
		/* Each datagram crosses the server at least once (host to relay)
		 * and at most twice (relay to relay). */
		CHECK(st.relayed_bytes - before.relayed_bytes >= 2ull * N_DGRAMS * DGRAM_LEN);
	}
	if (teardown(&e)) {
		fprintf(stderr, "FAIL: %d checks failed\n", failures);
		return 1;
	}
	printf("PASS: libnice relayed %u datagrams each way through the TURN server\n", N_DGRAMS);
	return 0;
}
