/* SPDX-License-Identifier: MIT */
/* test_ice.c: two libnice agents (controlling and controlled) on one libuv
 * loop through gloop, on 127.0.0.1 only: candidates exchanged in-process,
 * a selected pair, thousands of datagrams both ways, an ICE restart, a
 * failure within a bounded time, freeing from inside callbacks, and the
 * input checks. Nothing is ever sent to an address other than loopback: the
 * agents gather on 127.0.0.1 only and no STUN/TURN server is configured. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net/gloop.h"
#include "net/ice.h"

#define WATCHDOG_MS 15000
#define N_DGRAMS    3000
#define DGRAM_LEN   1200
#define WINDOW      64 /* datagrams in flight per direction */

struct peer {
	const char *name;
	struct ice *ice;
	struct peer *other;
	struct env *env;
	char ufrag[16], pwd[40];
	int gathered, selected, failed;
	struct ice_path path;
	/* traffic */
	uint32_t sent, received, bad;
	uint8_t seen[N_DGRAMS];
	bool free_on_recv, free_on_failed, free_on_gathered;
	uint64_t failed_at;
};

struct env {
	uv_loop_t loop;
	struct gloop *g;
	uv_timer_t watchdog;
	uv_idle_t pump;
	bool timed_out;
	bool exchange; /* hand candidates over once both gathered */
	struct peer a, b;
};

static void on_watchdog(uv_timer_t *t)
{
	struct env *e = t->data;

	e->timed_out = true;
	uv_stop(&e->loop);
}

static void set_loopback(struct sockaddr_storage *ss)
{
	struct sockaddr_in *s = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin_family = AF_INET;
	s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static struct sockaddr_storage lo_addr;

static struct ice_config base_config(struct peer *p, bool controlling)
{
	struct ice_config c = {
	        .controlling = controlling,
	        .ufrag = p->ufrag,
	        .pwd = p->pwd,
	        .local_addrs = &lo_addr,
	        .n_local_addrs = 1,
	        .allow_loopback = true,
	        .stun_initial_timeout_ms = 100,
	        .stun_max_retransmissions = 2,
	        .idle_timeout_ms = 500,
	};

	set_loopback(&lo_addr);
	return c;
}

/* ---- callbacks ---- */

static void exchange(struct env *e)
{
	struct ice_candidate ca[8], cb[8];
	size_t na, nb;

	na = ice_local_candidates(e->a.ice, ca, 8);
	nb = ice_local_candidates(e->b.ice, cb, 8);
	assert_true(na >= 1);
	assert_true(nb >= 1);
	assert_int_equal(ice_set_remote(e->a.ice, e->b.ufrag, e->b.pwd, cb, nb), (int)nb);
	assert_int_equal(ice_set_remote(e->b.ice, e->a.ufrag, e->a.pwd, ca, na), (int)na);
}

static void on_gathered(void *ctx)
{
	struct peer *p = ctx;
	struct env *e = p->env;

	p->gathered++;
	if (p->free_on_gathered) {
		ice_free(p->ice);
		p->ice = NULL;
		uv_stop(&e->loop);
		return;
	}
	if (e->exchange && e->a.gathered == e->b.gathered)
		exchange(e);
}

static void on_selected(void *ctx, const struct ice_path *path)
{
	struct peer *p = ctx;

	p->selected++;
	p->path = *path;
	if (p->other->selected && p->selected == p->other->selected)
		uv_stop(&p->env->loop);
}

static void on_failed(void *ctx)
{
	struct peer *p = ctx;

	p->failed++;
	p->failed_at = uv_hrtime();
	if (p->free_on_failed) {
		ice_free(p->ice);
		p->ice = NULL;
	}
	uv_stop(&p->env->loop);
}

static void fill(uint8_t *b, uint32_t seq)
{
	b[0] = (uint8_t)(seq >> 24);
	b[1] = (uint8_t)(seq >> 16);
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	for (size_t i = 4; i < DGRAM_LEN; i++)
		b[i] = (uint8_t)(seq * 31 + i);
}

static void on_recv(void *ctx, const uint8_t *data, size_t len)
{
	struct peer *p = ctx;
	uint8_t want[DGRAM_LEN];
	uint32_t seq;

	if (p->free_on_recv) {
		p->received++;
		ice_free(p->ice);
		p->ice = NULL;
		uv_stop(&p->env->loop);
		return;
	}
	if (len != DGRAM_LEN) {
		p->bad++;
		return;
	}
	seq = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
	fill(want, seq);
	if (seq >= N_DGRAMS || p->seen[seq] || memcmp(want, data, len) != 0) {
		p->bad++;
		return;
	}
	p->seen[seq] = 1;
	p->received++;
}

static const struct ice_ops ops = {
        .gathered = on_gathered,
        .selected = on_selected,
        .failed = on_failed,
        .recv = on_recv,
};

/* ---- setup ---- */

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(uv_loop_init(&e->loop), 0);
	assert_int_equal(gloop_new(&e->loop, &e->g), 0);
	uv_timer_init(&e->loop, &e->watchdog);
	e->watchdog.data = e;
	uv_timer_start(&e->watchdog, on_watchdog, WATCHDOG_MS, 0);
	uv_unref((uv_handle_t *)&e->watchdog);
	uv_idle_init(&e->loop, &e->pump);
	e->pump.data = e;
	e->a = (struct peer){.name = "a", .env = e, .other = &e->b};
	e->b = (struct peer){.name = "b", .env = e, .other = &e->a};
	snprintf(e->a.ufrag, sizeof(e->a.ufrag), "AAAAufrag");
	snprintf(e->a.pwd, sizeof(e->a.pwd), "aPasswordOfTwentyTwoChars+/");
	snprintf(e->b.ufrag, sizeof(e->b.ufrag), "BBBBufrag");
	snprintf(e->b.pwd, sizeof(e->b.pwd), "bPasswordOfTwentyTwoChars+/");
}

static void env_done(struct env *e)
{
	ice_free(e->a.ice);
	ice_free(e->b.ice);
	gloop_free(e->g);
	uv_close((uv_handle_t *)&e->watchdog, NULL);
	uv_close((uv_handle_t *)&e->pump, NULL);
	assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&e->loop), 0);
}

static void run(struct env *e)
{
	assert_true(uv_run(&e->loop, UV_RUN_DEFAULT) >= 0);
	assert_false(e->timed_out);
}

static void make_pair(struct env *e)
{
	struct ice_config ca = base_config(&e->a, true);
	struct ice_config cb = base_config(&e->b, false);

	assert_int_equal(ice_new(e->g, &ca, &ops, &e->a, &e->a.ice), 0);
	assert_int_equal(ice_new(e->g, &cb, &ops, &e->b, &e->b.ice), 0);
	assert_int_equal(ice_state(e->a.ice), ICE_STATE_NEW);
}

static void connect_pair(struct env *e)
{
	e->exchange = true;
	assert_int_equal(ice_gather(e->a.ice), 0);
	assert_int_equal(ice_gather(e->b.ice), 0);
	run(e);
	assert_true(e->a.selected >= 1);
	assert_true(e->b.selected >= 1);
	assert_int_equal(ice_state(e->a.ice), ICE_STATE_CONNECTED);
	assert_int_equal(ice_state(e->b.ice), ICE_STATE_CONNECTED);
}

static void check_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

	assert_int_equal(ss->ss_family, AF_INET);
	assert_int_equal(ntohl(s->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_not_equal(s->sin_port, 0);
}

static void check_path(struct peer *p)
{
	struct ice_path now;
	struct ice_candidate theirs[8];
	size_t n;

	assert_int_equal(ice_selected_path(p->ice, &now), 0);
	assert_string_equal(now.type, "host");
	assert_int_equal(now.local_kind, ICE_KIND_HOST);
	assert_int_equal(now.remote_kind, ICE_KIND_HOST);
	assert_int_equal(now.local_len, sizeof(struct sockaddr_in));
	check_loopback(&now.local);
	check_loopback(&now.remote);
	assert_memory_equal(&now.remote, &p->path.remote, sizeof(struct sockaddr_in));
	/* The remote end of the path is the other side's host candidate. */
	n = ice_local_candidates(p->other->ice, theirs, 8);
	assert_int_equal(n, 1);
	assert_memory_equal(&theirs[0].addr, &now.remote, sizeof(struct sockaddr_in));
}

/* ---- traffic ---- */

static bool send_one(struct peer *p)
{
	uint8_t b[DGRAM_LEN];
	int r;

	fill(b, p->sent);
	r = ice_send(p->ice, b, sizeof(b));
	if (r == -EAGAIN)
		return false;
	assert_int_equal(r, 0);
	p->sent++;
	return true;
}

/* Keeps at most WINDOW datagrams in flight each way, so the receive buffers
 * never overflow and every datagram must arrive. */
static void on_pump(uv_idle_t *h)
{
	struct env *e = h->data;
	struct peer *ps[2] = {&e->a, &e->b};

	for (int i = 0; i < 2; i++) {
		struct peer *p = ps[i];

		while (p->sent < N_DGRAMS && p->sent - p->other->received < WINDOW)
			if (!send_one(p))
				break;
	}
	if (e->a.received + e->a.bad == N_DGRAMS && e->b.received + e->b.bad == N_DGRAMS)
		uv_stop(&e->loop);
}

/* ---- tests ---- */

static void test_connect_and_exchange(void **state)
{
	struct env e;
	struct ice_candidate c[8];
	size_t n;

	(void)state;
	env_init(&e);
	make_pair(&e);
	connect_pair(&e);

	n = ice_local_candidates(e.a.ice, c, 8);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].kind, ICE_KIND_HOST);
	assert_true(c[0].priority > 0);
	assert_int_equal(c[0].addrlen, sizeof(struct sockaddr_in));
	check_loopback(&c[0].addr);
	check_path(&e.a);
	check_path(&e.b);

	uv_idle_start(&e.pump, on_pump);
	run(&e);
	uv_idle_stop(&e.pump);
	assert_int_equal(e.a.sent, N_DGRAMS);
	assert_int_equal(e.b.sent, N_DGRAMS);
	assert_int_equal(e.a.bad, 0);
	assert_int_equal(e.b.bad, 0);
	assert_int_equal(e.a.received, N_DGRAMS);
	assert_int_equal(e.b.received, N_DGRAMS);
	assert_int_equal(e.a.failed + e.b.failed, 0);
	env_done(&e);
}

static void test_restart(void **state)
{
	struct env e;
	struct ice_candidate before, after;

	(void)state;
	env_init(&e);
	make_pair(&e);
	connect_pair(&e);
	assert_int_equal(ice_local_candidates(e.a.ice, &before, 1), 1);

	/* New credentials on both sides, as HIP would derive after an UPDATE. */
	snprintf(e.a.ufrag, sizeof(e.a.ufrag), "AAAAagain");
	snprintf(e.b.ufrag, sizeof(e.b.ufrag), "BBBBagain");
	e.a.selected = e.b.selected = 0;
	assert_int_equal(ice_restart(e.a.ice, e.a.ufrag, e.a.pwd), 0);
	assert_int_equal(ice_send(e.a.ice, (const uint8_t *)"x", 1), -ENOTCONN);
	assert_int_equal(ice_restart(e.b.ice, e.b.ufrag, e.b.pwd), 0);
	run(&e);
	assert_int_equal(e.a.gathered, 2);
	assert_int_equal(e.b.gathered, 2);
	assert_true(e.a.selected >= 1 && e.b.selected >= 1);
	assert_int_equal(ice_local_candidates(e.a.ice, &after, 1), 1);
	check_loopback(&after.addr);
	check_path(&e.a);

	uv_idle_start(&e.pump, on_pump);
	run(&e);
	assert_int_equal(e.a.received, N_DGRAMS);
	assert_int_equal(e.b.received, N_DGRAMS);
	assert_int_equal(e.a.bad + e.b.bad, 0);
	env_done(&e);
}

/* A UDP port on loopback that nobody listens on (bound, then closed). */
static uint16_t dead_port(void)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(s);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&s, sizeof(s)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&s, &len), 0);
	close(fd);
	return ntohs(s.sin_port);
}

static void test_failure(void **state)
{
	struct env e;
	struct ice_config c;
	struct ice_candidate dead = {.kind = ICE_KIND_HOST, .priority = 2130706431};
	struct sockaddr_in *s = (struct sockaddr_in *)&dead.addr;
	uint64_t start;

	(void)state;
	env_init(&e);
	c = base_config(&e.a, true);
	e.a.free_on_failed = true; /* ice_free from inside ops->failed */
	assert_int_equal(ice_new(e.g, &c, &ops, &e.a, &e.a.ice), 0);
	assert_int_equal(ice_gather(e.a.ice), 0);
	s->sin_family = AF_INET;
	s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->sin_port = htons(dead_port());
	dead.addrlen = sizeof(*s);
	start = uv_hrtime();
	assert_int_equal(ice_set_remote(e.a.ice, e.b.ufrag, e.b.pwd, &dead, 1), 1);
	run(&e);
	assert_int_equal(e.a.failed, 1);
	assert_null(e.a.ice);
	/* 100 ms RTO, 2 retransmissions, 0.5 s idle timeout: about 1.5 s. */
	assert_true(e.a.failed_at - start < 10 * 1000000000ull);
	print_message("ice failure reported after %llu ms\n",
	              (unsigned long long)((e.a.failed_at - start) / 1000000));
	env_done(&e);
}

static void test_free_in_callbacks(void **state)
{
	struct env e;
	struct ice_config c;
	struct peer lone = {.name = "lone", .free_on_gathered = true};

	(void)state;
	env_init(&e);
	make_pair(&e);
	connect_pair(&e);
	/* b frees itself inside its receive callback. */
	e.b.free_on_recv = true;
	assert_int_equal(ice_send(e.a.ice, (const uint8_t *)"bye", 3), 0);
	run(&e);
	assert_null(e.b.ice);
	assert_int_equal(e.b.received, 1);
	assert_int_equal(ice_state(e.a.ice), ICE_STATE_CONNECTED);

	/* A third one frees itself when gathering completes, which libnice may
	 * report from inside ice_gather. */
	lone.env = &e;
	lone.other = &e.a;
	snprintf(lone.ufrag, sizeof(lone.ufrag), "lonely");
	snprintf(lone.pwd, sizeof(lone.pwd), "aLonelyPasswordOf22Chars");
	c = base_config(&lone, true);
	assert_int_equal(ice_new(e.g, &c, &ops, &lone, &lone.ice), 0);
	assert_int_equal(ice_gather(lone.ice), 0);
	if (lone.ice)
		run(&e);
	else /* freed inside ice_gather: clear the uv_stop it left pending */
		assert_true(uv_run(&e.loop, UV_RUN_NOWAIT) >= 0);
	assert_null(lone.ice);
	assert_int_equal(lone.gathered, 1);
	env_done(&e);
}

static void test_credentials(void **state)
{
	char long_one[ICE_CRED_MAX + 2];

	(void)state;
	assert_int_equal(ice_cred_check("abc", ICE_UFRAG_MIN), -EINVAL);
	assert_int_equal(ice_cred_check("abcd", ICE_UFRAG_MIN), 0);
	assert_int_equal(ice_cred_check("ab+/", ICE_UFRAG_MIN), 0);
	assert_int_equal(ice_cred_check("ab:d", ICE_UFRAG_MIN), -EINVAL);
	assert_int_equal(ice_cred_check("ab d", ICE_UFRAG_MIN), -EINVAL);
	assert_int_equal(ice_cred_check(NULL, ICE_UFRAG_MIN), -EINVAL);
	assert_int_equal(ice_cred_check("123456789012345678901", ICE_PWD_MIN), -EINVAL);
	assert_int_equal(ice_cred_check("1234567890123456789012", ICE_PWD_MIN), 0);
	memset(long_one, 'x', ICE_CRED_MAX);
	long_one[ICE_CRED_MAX] = '\0';
	assert_int_equal(ice_cred_check(long_one, ICE_PWD_MIN), 0);
	long_one[ICE_CRED_MAX] = 'x';
	long_one[ICE_CRED_MAX + 1] = '\0';
	assert_int_equal(ice_cred_check(long_one, ICE_PWD_MIN), -EINVAL);
	assert_string_equal(ice_kind_name(ICE_KIND_SRFLX), "srflx");
	assert_string_equal(ice_kind_name((enum ice_kind)9), "?");
	assert_string_equal(ice_state_name(ICE_STATE_CONNECTED), "connected");
}

static void test_bad_config(void **state)
{
	struct env e;
	struct ice_config c;
	struct ice *ice = NULL;
	struct ice_turn turn = {.host = "turn.example.org", .port = 3478, .user = "u", .pass = "p"};
	struct ice_prefix bad_prefix = {.family = AF_INET, .len = 33};
	const char *long_if[] = {"an-interface-name-too-long"};

	(void)state;
	env_init(&e);
	c = base_config(&e.a, true);
	c.ufrag = "abc";
	assert_int_equal(ice_new(e.g, &c, &ops, &e.a, &ice), -EINVAL);
	c = base_config(&e.a, true);
	c.pwd = "short";
	assert_int_equal(ice_new(e.g, &c, &ops, &e.a, &ice), -EINVAL);
	c = base_config(&e.a, true);
	c.stun_host = "stun.example.org"; /* names are resolved by the caller */
	assert_int_equal(ice_new(e.g, &c, &ops, &e.a, &ice), -EINVAL);
	c = base_config(&e.a, true);
	c.turn = &turn;
	c.n_turn = 1;
	assert_int_equal(ice_new(e.g, &c, &ops, &e.a, &ice), -EINVAL);
	c = base_config(&e.a, true);
	c.port_min = 5000;
	c.port_max = 4000;
	assert_int_equal(ice_new(e.g, &c, &ops, &e.a, &ice), -EINVAL);
	c = base_config(&e.a, true);
	c.ignore_prefixes = &bad_prefix;
	c.n_ignore_prefixes = 1;
	assert_int_equal(ice_new(e.g, &c, &ops, &e.a, &ice), -EINVAL);
	c = base_config(&e.a, true);
	c.ignore_ifnames = long_if;
	c.n_ignore_ifnames = 1;
	assert_int_equal(ice_new(e.g, &c, &ops, &e.a, &ice), -EINVAL);
	c = base_config(&e.a, true);
	c.n_local_addrs = 2;
	c.local_addrs = NULL;
	assert_int_equal(ice_new(e.g, &c, &ops, &e.a, &ice), -EINVAL);
	assert_null(ice);

	/* A valid config with servers and a port range builds (and sends
	 * nothing until it gathers). */
	turn.host = "192.0.2.1";
	c = base_config(&e.a, true);
	c.stun_host = "192.0.2.2";
	c.turn = &turn;
	c.n_turn = 1;
	c.port_min = 40000;
	c.port_max = 40100;
	assert_int_equal(ice_new(e.g, &c, &ops, &e.a, &ice), 0);
	ice_free(ice);
	env_done(&e);
}

/* Loopback excluded (no allow_loopback): nothing to gather on. */
static void test_no_usable_address(void **state)
{
	struct env e;
	struct ice_config c;
	struct ice_prefix lo_prefix = {.family = AF_INET, .addr = {127}, .len = 8};

	(void)state;
	env_init(&e);
	c = base_config(&e.a, true);
	c.allow_loopback = false;
	assert_int_equal(ice_new(e.g, &c, &ops, &e.a, &e.a.ice), 0);
	assert_int_equal(ice_gather(e.a.ice), -EADDRNOTAVAIL);
	ice_free(e.a.ice);
	/* Or excluded by a prefix. */
	c = base_config(&e.a, true);
	c.ignore_prefixes = &lo_prefix;
	c.n_ignore_prefixes = 1;
	assert_int_equal(ice_new(e.g, &c, &ops, &e.a, &e.a.ice), 0);
	assert_int_equal(ice_gather(e.a.ice), -EADDRNOTAVAIL);
	env_done(&e);
}

/* Without a configured list the host addresses come from the interfaces
 * (what the daemon does): loopback, allowed here, must be among them. Host
 * gathering sends nothing, so binding on the machine's other addresses is
 * harmless. */
static void test_gather_from_interfaces(void **state)
{
	struct env e;
	struct ice_config c;
	struct ice_candidate got[32];
	bool lo = false;
	size_t n;

	(void)state;
	env_init(&e);
	c = base_config(&e.a, true);
	c.local_addrs = NULL;
	c.n_local_addrs = 0;
	assert_int_equal(ice_new(e.g, &c, &ops, &e.a, &e.a.ice), 0);
	assert_int_equal(ice_gather(e.a.ice), 0);
	for (int i = 0; i < 200 && ice_state(e.a.ice) != ICE_STATE_GATHERED; i++)
		assert_true(uv_run(&e.loop, UV_RUN_NOWAIT) >= 0);
	n = ice_local_candidates(e.a.ice, got, 32);
	for (size_t i = 0; i < n; i++) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&got[i].addr;

		lo |= got[i].addr.ss_family == AF_INET &&
		      s->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
	}
	assert_true(lo);
	env_done(&e);
}

static void put4(struct ice_candidate *c, const char *ip, uint16_t port)
{
	struct sockaddr_in *s = (struct sockaddr_in *)&c->addr;

	memset(c, 0, sizeof(*c));
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &s->sin_addr), 1);
	c->addrlen = sizeof(*s);
	c->priority = 2130706431;
}

static void put6(struct ice_candidate *c, const char *ip, uint16_t port)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&c->addr;

	memset(c, 0, sizeof(*c));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &s->sin6_addr), 1);
	c->addrlen = sizeof(*s);
	c->priority = 2130706431;
}

/* Remote candidates the filters must drop. The agent gathers on 127.0.0.1
 * only, so even a filter bug could not send anything off the machine (a
 * socket bound to loopback cannot reach other addresses). */
static void test_remote_filter(void **state)
{
	struct env e;
	struct ice_config c;
	struct ice_candidate r[16];
	struct ice_prefix lsi = {.family = AF_INET, .addr = {100, 64}, .len = 10};
	size_t n = 0;

	(void)state;
	env_init(&e);
	c = base_config(&e.a, true);
	c.ignore_prefixes = &lsi;
	c.n_ignore_prefixes = 1;
	assert_int_equal(ice_new(e.g, &c, &ops, &e.a, &e.a.ice), 0);
	assert_int_equal(ice_set_remote(e.a.ice, e.b.ufrag, e.b.pwd, NULL, 0), -EINVAL);
	assert_int_equal(ice_gather(e.a.ice), 0);
	assert_int_equal(ice_gather(e.a.ice), -EALREADY);

	put4(&r[n++], "100.64.0.7", 10500);      /* an LSI (ignored prefix) */
	put4(&r[n++], "224.0.0.1", 10500);       /* multicast */
	put4(&r[n++], "0.0.0.0", 10500);         /* unspecified */
	put4(&r[n++], "255.255.255.255", 10500); /* broadcast */
	put4(&r[n++], "127.0.0.1", 0);           /* port 0 */
	put6(&r[n++], "2001:20::1", 10500);      /* a HIT */
	put6(&r[n++], "2001:2f:ffff::1", 10500); /* still ORCHID */
	put6(&r[n++], "fe80::1", 10500);         /* link-local */
	put6(&r[n++], "ff02::1", 10500);         /* multicast */
	put6(&r[n++], "::", 10500);              /* unspecified */
	put4(&r[n], "127.0.0.1", 10500);         /* priority 0 */
	r[n++].priority = 0;
	put4(&r[n], "127.0.0.1", 10500); /* unknown kind */
	r[n++].kind = (enum ice_kind)4;
	put4(&r[n], "127.0.0.1", 10500); /* truncated length */
	r[n++].addrlen = 4;
	put4(&r[n], "127.0.0.1", 10500); /* not IP */
	r[n++].addr.ss_family = AF_UNIX;
	assert_int_equal(ice_set_remote(e.a.ice, e.b.ufrag, e.b.pwd, r, n), 0);

	/* Bad credentials, too many candidates. */
	assert_int_equal(ice_set_remote(e.a.ice, "abc", e.b.pwd, r, 1), -EINVAL);
	assert_int_equal(ice_set_remote(e.a.ice, e.b.ufrag, "short", r, 1), -EINVAL);
	assert_int_equal(ice_set_remote(e.a.ice, e.b.ufrag, e.b.pwd, r, ICE_MAX_CANDIDATES + 1),
	                 -EINVAL);

	/* Accepted: loopback (allowed here), also written IPv4-mapped, and a
	 * global IPv6 address outside the HIT prefix (no pair forms: the
	 * agent has no IPv6 address). */
	n = 0;
	put4(&r[n++], "127.0.0.1", dead_port());
	put6(&r[n++], "::ffff:127.0.0.1", dead_port());
	put6(&r[n++], "2001:30::1", 10500);
	assert_int_equal(ice_set_remote(e.a.ice, e.b.ufrag, e.b.pwd, r, n), 3);
	assert_int_equal(ice_send(e.a.ice, (const uint8_t *)"x", 1), -ENOTCONN);
	assert_int_equal(ice_selected_path(e.a.ice, &(struct ice_path){0}), -ENOTCONN);
	env_done(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_credentials),
	        cmocka_unit_test(test_bad_config),
	        cmocka_unit_test(test_no_usable_address),
	        cmocka_unit_test(test_remote_filter),
	        cmocka_unit_test(test_gather_from_interfaces),
	        cmocka_unit_test(test_connect_and_exchange),
	        cmocka_unit_test(test_restart),
	        cmocka_unit_test(test_free_in_callbacks),
	        cmocka_unit_test(test_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
