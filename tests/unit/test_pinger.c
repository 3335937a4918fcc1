/* SPDX-License-Identifier: MIT */
/* test_pinger.c: Echo Requests and Replies, and ping requests on a real loop
 * with the overlay, the pipes and the data path faked. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "idloc/ctl.h"
#include "common/log.h"
#include "daemon/idmap.h"
#include "daemon/peers.h"
#include "daemon/pinger.h"

#define WAIT_MS  5000
#define SENT_MAX 64
#define LOOKUPS  32

static const struct hit own = {{0x20, 0x01, 0x00, 0x2a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}};
static const struct hit mars = {{0x20, 0x01, 0x00, 0x2a, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}};
static const struct hit other = {{0x20, 0x01, 0x00, 0x2a, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9}};

struct lookup {
	ovl_lookup_cb cb;
	void *arg;
	char fqdn[CTL_NAME_MAX + 1];
};

struct sent {
	struct hit dst;
	uint8_t msg[PINGER_ECHO_LEN];
	size_t len;
};

struct fake {
	uv_loop_t loop;
	struct pinger *p;
	struct idmap *idmap;
	struct peer peer;
	bool has_peer;
	/* the overlay */
	struct lookup lookups[LOOKUPS];
	size_t n_lookups;
	int resolve_err;
	/* the path */
	unsigned connects, path_after; /* the path is up once connect ran this often */
	bool path_up;
	int connect_err;
	struct sent sent[SENT_MAX];
	size_t n_sent;
	unsigned send_attempts;
	uint64_t now_ns;
	/* results */
	unsigned dones;
	int err;
	char name[CTL_NAME_MAX + 1];
	bool had_hit;
	struct hit hit;
	unsigned count, n_sent_res, received;
	double rtt[CTL_PING_COUNT_MAX];
	bool cancel;
};

/* ---- an independent Internet checksum over the IPv6 pseudo-header ---- */

static uint16_t ref_csum6(const struct hit *src, const struct hit *dst, const uint8_t *msg,
                          size_t len)
{
	uint8_t buf[40 + 256];
	uint32_t sum = 0;
	size_t n = 40 + len;

	assert_true(len <= 256);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, src->b, 16);
	memcpy(buf + 16, dst->b, 16);
	buf[34] = (uint8_t)(len >> 8);
	buf[35] = (uint8_t)len;
	buf[39] = 58;
	memcpy(buf + 40, msg, len);
	for (size_t i = 0; i < n; i += 2)
		sum += (uint32_t)(buf[i] << 8 | (i + 1 < n ? buf[i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* What the peer's kernel answers to an Echo Request. */
static size_t make_reply(const uint8_t *req, size_t len, const struct hit *from,
                         const struct hit *to, uint8_t *out)
{
	uint16_t c;

	memcpy(out, req, len);
	out[0] = 129;
	out[2] = out[3] = 0;
	c = ref_csum6(from, to, out, len);
	out[2] = (uint8_t)(c >> 8);
	out[3] = (uint8_t)c;
	return len;
}

/* ---- fakes behind pinger_ops ---- */

static struct fake *fake_of(const struct pinger_io *io)
{
	return io->ctx;
}

static int fake_resolve(const struct pinger_io *io, const char *fqdn, ovl_lookup_cb cb, void *arg)
{
	struct fake *f = fake_of(io);
	struct lookup *l;

	if (f->resolve_err)
		return f->resolve_err;
	assert_true(f->n_lookups < LOOKUPS);
	l = &f->lookups[f->n_lookups++];
	l->cb = cb;
	l->arg = arg;
	strcpy(l->fqdn, fqdn);
	return 0;
}

static int fake_connect(const struct pinger_io *io, const struct hit *peer, uint64_t now_ms)
{
	struct fake *f = fake_of(io);

	f->connects++;
	if (f->path_after && f->connects >= f->path_after)
		f->path_up = true;
	return f->connect_err;
}

static int fake_send(const struct pinger_io *io, const struct hit *dst, const uint8_t *icmp,
                     size_t len, uint64_t now_ms)
{
	struct fake *f = fake_of(io);
	struct sent *s;

	f->send_attempts++;
	if (!f->path_up)
		return -ENOTCONN;
	assert_true(f->n_sent < SENT_MAX);
	assert_int_equal(len, PINGER_ECHO_LEN);
	s = &f->sent[f->n_sent++];
	s->dst = *dst;
	memcpy(s->msg, icmp, len);
	s->len = len;
	return 0;
}

static struct peer *fake_peer(const struct pinger_io *io, const struct hit *hit)
{
	struct fake *f = fake_of(io);

	return f->has_peer && hit_cmp(hit, &f->peer.hit) == 0 ? &f->peer : NULL;
}

static uint64_t fake_clock(const struct pinger_io *io)
{
	return fake_of(io)->now_ns;
}

static const struct pinger_ops fake_ops = {
        .resolve = fake_resolve,
        .connect = fake_connect,
        .send = fake_send,
        .peer = fake_peer,
        .clock_ns = fake_clock,
};

static void on_done(void *arg, int err, const struct pinger_result *res)
{
	struct fake *f = arg;

	f->dones++;
	f->err = err;
	strcpy(f->name, res->name);
	f->had_hit = res->hit != NULL;
	if (res->hit)
		f->hit = *res->hit;
	f->count = res->count;
	f->n_sent_res = res->sent;
	f->received = res->received;
	for (unsigned i = 0; i < res->count; i++)
		f->rtt[i] = res->rtt_ms[i];
}

static bool is_cancelled(void *arg)
{
	return ((struct fake *)arg)->cancel;
}

/* ---- loop helpers ---- */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Turns the loop until cond holds; false after WAIT_MS. */
static bool run_until(struct fake *f, bool (*cond)(struct fake *, size_t), size_t arg)
{
	uint64_t end = mono_ms() + WAIT_MS;

	while (mono_ms() < end) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (cond(f, arg))
			return true;
		poll(NULL, 0, 1);
	}
	return false;
}

static bool done_n(struct fake *f, size_t n)
{
	return f->dones >= n;
}

static bool sent_n(struct fake *f, size_t n)
{
	return f->n_sent >= n;
}

static bool connects_n(struct fake *f, size_t n)
{
	return f->connects >= n;
}

/* ---- fixture ---- */

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct idmap_config ic = {.prefix = 0x64400000, .prefix_len = 10, .resolver = 0x64400035};
	struct pinger_io io;

	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(idmap_new(&ic, &own, "venus.example.internal", &f->idmap), 0);
	f->path_up = true;
	f->peer.hit = mars;
	f->peer.rtt_ms = -1;
	f->has_peer = true;
	f->now_ns = 1000000000;
	io = (struct pinger_io){
	        .loop = &f->loop, .idmap = f->idmap, .own = own, .ctx = f, .ops = &fake_ops};
	assert_int_equal(pinger_new(&io, &f->p), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	pinger_stop(f->p);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	f->p = pinger_free(f->p);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	idmap_free(f->idmap);
	free(f);
	return 0;
}

static int start(struct fake *f, unsigned count, unsigned interval_ms, unsigned timeout_ms)
{
	return pinger_start(f->p, &(struct pinger_request){.fqdn = "mars.example.internal",
	                                                   .count = count,
	                                                   .interval_ms = interval_ms,
	                                                   .timeout_ms = timeout_ms,
	                                                   .done = on_done,
	                                                   .cancelled = is_cancelled,
	                                                   .arg = f});
}

/* The overlay answers lookup i with the name record of mars (or of who). */
static void answer_lookup(struct fake *f, size_t i, enum ovl_status st, const struct hit *who)
{
	struct ovl_record rec = {
	        .kind = OVL_RECORD_NAME, .name = f->lookups[i].fqdn, .owner = *who};

	assert_true(i < f->n_lookups);
	f->lookups[i].cb(f->lookups[i].arg, st, st == OVL_OK ? &rec : NULL, 2, 30);
}

/* A reply from mars to an Echo Request we might have sent. */
static void forge_reply(uint16_t ident, uint16_t seq, const uint8_t cookie[PINGER_COOKIE_LEN],
                        uint8_t out[PINGER_ECHO_LEN])
{
	uint8_t req[PINGER_ECHO_LEN];

	pinger_echo_build(req, &own, &mars, ident, seq, cookie);
	make_reply(req, sizeof(req), &mars, &own, out);
}

/* The peer answers our i-th Echo Request after ms milliseconds. */
static bool reply_to(struct fake *f, size_t i, double ms)
{
	uint8_t rep[PINGER_ECHO_LEN];
	size_t n = make_reply(f->sent[i].msg, f->sent[i].len, &mars, &own, rep);

	f->now_ns += (uint64_t)(ms * 1e6);
	return pinger_input(f->p, &mars, 58, rep, n, 0);
}

/* ---- tests: the messages ---- */

static void test_echo_build(void **state)
{
	static const uint8_t cookie[PINGER_COOKIE_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t msg[PINGER_ECHO_LEN], copy[PINGER_ECHO_LEN];
	uint16_t c;

	assert_int_equal(pinger_echo_build(msg, &own, &mars, 0xbeef, 3, cookie), PINGER_ECHO_LEN);
	assert_int_equal(PINGER_ECHO_LEN, 64);
	assert_int_equal(msg[0], 128);
	assert_int_equal(msg[1], 0);
	assert_int_equal(msg[4] << 8 | msg[5], 0xbeef);
	assert_int_equal(msg[6] << 8 | msg[7], 3);
	assert_memory_equal(msg + 8, cookie, sizeof(cookie));
	/* The checksum, recomputed independently over the pseudo-header. */
	memcpy(copy, msg, sizeof(msg));
	copy[2] = copy[3] = 0;
	c = ref_csum6(&own, &mars, copy, sizeof(copy));
	assert_int_equal(msg[2] << 8 | msg[3], c);
	/* And it depends on the addresses. */
	assert_int_not_equal(ref_csum6(&own, &other, copy, sizeof(copy)), c);
	pinger_echo_build(copy, &own, &other, 0xbeef, 3, cookie);
	assert_memory_not_equal(copy, msg, 4);
	assert_memory_equal(copy + 4, msg + 4, sizeof(msg) - 4);
}

static void test_echo_parse(void **state)
{
	static const uint8_t cookie[PINGER_COOKIE_LEN] = {9, 9, 9, 9, 9, 9, 9, 9};
	uint8_t req[PINGER_ECHO_LEN], rep[PINGER_ECHO_LEN];
	struct pinger_echo e;

	pinger_echo_build(req, &own, &mars, 77, 1000, cookie);
	make_reply(req, sizeof(req), &mars, &own, rep);
	assert_int_equal(pinger_echo_parse(rep, sizeof(rep), &mars, &own, &e), 0);
	assert_int_equal(e.ident, 77);
	assert_int_equal(e.seq, 1000);
	assert_int_equal(e.data_len, PINGER_DATA_LEN);
	assert_memory_equal(e.data, cookie, sizeof(cookie));
	/* Sent by someone else, or to someone else: the checksum says no. */
	assert_int_equal(pinger_echo_parse(rep, sizeof(rep), &other, &own, &e), -EBADMSG);
	assert_int_equal(pinger_echo_parse(rep, sizeof(rep), &mars, &other, &e), -EBADMSG);
	/* Truncated, or one bit changed. */
	assert_int_equal(pinger_echo_parse(rep, sizeof(rep) - 1, &mars, &own, &e), -EBADMSG);
	assert_int_equal(pinger_echo_parse(rep, 7, &mars, &own, &e), -EBADMSG);
	rep[20] ^= 0x10;
	assert_int_equal(pinger_echo_parse(rep, sizeof(rep), &mars, &own, &e), -EBADMSG);
	/* The request itself, and other messages, are not replies. */
	assert_int_equal(pinger_echo_parse(req, sizeof(req), &own, &mars, &e), -ENOMSG);
	rep[0] = 1; /* destination unreachable */
	assert_int_equal(pinger_echo_parse(rep, sizeof(rep), &mars, &own, &e), -ENOMSG);
	rep[0] = 129;
	rep[1] = 1;
	assert_int_equal(pinger_echo_parse(rep, sizeof(rep), &mars, &own, &e), -ENOMSG);
	/* The minimal reply: a header without data. */
	memset(req, 0, 8);
	req[0] = 128;
	make_reply(req, 8, &mars, &own, rep);
	assert_int_equal(pinger_echo_parse(rep, 8, &mars, &own, &e), 0);
	assert_int_equal(e.data_len, 0);
}

/* ---- tests: requests ---- */

static void test_ping_all_replies(void **state)
{
	struct fake *f = *state;
	const struct idmap_entry *e;

	assert_int_equal(start(f, 3, 200, 1000), 0);
	assert_int_equal(pinger_running(f->p), 1);
	assert_int_equal(f->n_lookups, 1);
	assert_string_equal(f->lookups[0].fqdn, "mars.example.internal");
	/* Nothing goes before the overlay answers. */
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(f->send_attempts, 0);
	answer_lookup(f, 0, OVL_OK, &mars);
	/* The association is up: the first request goes at once. */
	assert_int_equal(f->n_sent, 1);
	e = idmap_by_name(f->idmap, "mars.example.internal");
	assert_non_null(e);
	assert_int_equal(hit_cmp(&e->hit, &mars), 0);

	assert_true(reply_to(f, 0, 0.5));
	assert_true(run_until(f, sent_n, 2));
	assert_true(reply_to(f, 1, 1.25));
	/* A duplicate is ours, but no second sample. */
	assert_true(reply_to(f, 1, 7));
	assert_true(run_until(f, sent_n, 3));
	assert_int_equal(f->dones, 0);
	assert_true(reply_to(f, 2, 12.5));
	/* The last reply ends the request at once, without the wait. */
	assert_int_equal(f->dones, 1);
	assert_int_equal(f->err, 0);
	assert_int_equal(pinger_running(f->p), 0);
	assert_string_equal(f->name, "mars.example.internal");
	assert_true(f->had_hit);
	assert_int_equal(hit_cmp(&f->hit, &mars), 0);
	assert_int_equal(f->count, 3);
	assert_int_equal(f->n_sent_res, 3);
	assert_int_equal(f->received, 3);
	assert_float_equal(f->rtt[0], 0.5, 1e-9);
	assert_float_equal(f->rtt[1], 1.25, 1e-9);
	assert_float_equal(f->rtt[2], 12.5, 1e-9);
	/* The last round trip is the peer's. */
	assert_float_equal(f->peer.rtt_ms, 12.5, 1e-9);

	/* Every request: to mars, one identifier, sequence numbers 1, 2, 3. */
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(hit_cmp(&f->sent[i].dst, &mars), 0);
		assert_int_equal(f->sent[i].msg[0], 128);
		assert_memory_equal(f->sent[i].msg + 4, f->sent[0].msg + 4, 2);
		assert_int_equal(f->sent[i].msg[6] << 8 | f->sent[i].msg[7], i + 1);
		assert_memory_equal(f->sent[i].msg + 8, f->sent[0].msg + 8, PINGER_COOKIE_LEN);
	}
	/* A late reply after the end goes on to the TUN. */
	assert_false(reply_to(f, 2, 1));
}

static void test_ping_interval(void **state)
{
	struct fake *f = *state;
	uint64_t t0;

	assert_int_equal(start(f, 3, 200, 100), 0);
	answer_lookup(f, 0, OVL_OK, &mars);
	t0 = mono_ms();
	assert_true(run_until(f, sent_n, 3));
	/* Two intervals between the first and the third. */
	assert_true(mono_ms() - t0 >= 395);
	assert_true(mono_ms() - t0 < 1500);
	assert_int_equal(f->dones, 0);
	/* No reply at all: the wait after the last is the timeout. */
	assert_true(run_until(f, done_n, 1));
	assert_true(mono_ms() - t0 >= 495);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->n_sent_res, 3);
	assert_int_equal(f->received, 0);
	for (int i = 0; i < 3; i++)
		assert_true(f->rtt[i] < 0);
	/* Nothing measured: the peer keeps "none". */
	assert_true(f->peer.rtt_ms < 0);
}

static void test_ping_lost(void **state)
{
	struct fake *f = *state;

	assert_int_equal(start(f, 2, 200, 300), 0);
	answer_lookup(f, 0, OVL_OK, &mars);
	assert_true(run_until(f, sent_n, 2));
	assert_true(reply_to(f, 1, 2));
	assert_true(run_until(f, done_n, 1));
	assert_int_equal(f->err, 0);
	assert_int_equal(f->n_sent_res, 2);
	assert_int_equal(f->received, 1);
	assert_true(f->rtt[0] < 0);
	assert_float_equal(f->rtt[1], 2, 1e-9);
}

static void test_ping_waits_for_path(void **state)
{
	struct fake *f = *state;

	f->path_up = false;
	f->path_after = 3;
	assert_int_equal(start(f, 1, 200, 2000), 0);
	answer_lookup(f, 0, OVL_OK, &mars);
	/* Tried at once, then asked for a pipe, then retried every 100 ms. */
	assert_int_equal(f->send_attempts, 1);
	assert_int_equal(f->connects, 1);
	assert_int_equal(f->n_sent, 0);
	assert_true(run_until(f, sent_n, 1));
	assert_int_equal(f->connects, 3);
	assert_int_equal(f->send_attempts, 4);
	/* The first request that went is sequence number 1. */
	assert_int_equal(f->sent[0].msg[7], 1);
	assert_true(reply_to(f, 0, 3));
	assert_int_equal(f->dones, 1);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->received, 1);
}

static void test_ping_no_path(void **state)
{
	struct fake *f = *state;
	uint64_t t0 = mono_ms();

	f->path_up = false;
	f->connect_err = -EHOSTUNREACH;
	assert_int_equal(start(f, 4, 200, 400), 0);
	answer_lookup(f, 0, OVL_OK, &mars);
	assert_true(run_until(f, done_n, 1));
	assert_int_equal(f->err, -EHOSTUNREACH);
	assert_true(mono_ms() - t0 >= 395);
	/* Retried about every 100 ms meanwhile. */
	assert_true(f->connects >= 3);
	assert_int_equal(f->n_sent_res, 0);
	assert_int_equal(f->received, 0);
}

static void test_path_lost_midway(void **state)
{
	struct fake *f = *state;

	assert_int_equal(start(f, 3, 200, 200), 0);
	answer_lookup(f, 0, OVL_OK, &mars);
	assert_int_equal(f->n_sent, 1);
	assert_true(reply_to(f, 0, 1));
	f->path_up = false;
	assert_true(run_until(f, connects_n, 1));
	/* The second could not go; the third does once the path is back. */
	f->path_up = true;
	assert_true(run_until(f, sent_n, 2));
	assert_int_equal(f->sent[1].msg[7], 3);
	assert_true(reply_to(f, 1, 1));
	assert_int_equal(f->dones, 1);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->n_sent_res, 2);
	assert_int_equal(f->received, 2);
	assert_true(f->rtt[0] >= 0);
	assert_true(f->rtt[1] < 0);
	assert_true(f->rtt[2] >= 0);
}

static void test_last_send_fails(void **state)
{
	struct fake *f = *state;
	uint64_t t0;

	assert_int_equal(start(f, 2, 200, 2000), 0);
	answer_lookup(f, 0, OVL_OK, &mars);
	t0 = mono_ms();
	assert_true(reply_to(f, 0, 1));
	f->path_up = false;
	/* The last could not go and every one sent is answered: no wait. */
	assert_true(run_until(f, done_n, 1));
	assert_true(mono_ms() - t0 < 1000);
	assert_int_equal(f->err, 0);
	assert_int_equal(f->n_sent_res, 1);
	assert_int_equal(f->received, 1);
	assert_true(f->rtt[1] < 0);
}

static void test_lookup_failures(void **state)
{
	struct fake *f = *state;

	assert_int_equal(start(f, 1, 200, 1000), 0);
	answer_lookup(f, 0, OVL_NOT_FOUND, &mars);
	assert_int_equal(f->dones, 1);
	assert_int_equal(f->err, -ENOENT);
	assert_false(f->had_hit);
	assert_string_equal(f->name, "mars.example.internal");

	assert_int_equal(start(f, 1, 200, 1000), 0);
	answer_lookup(f, 1, OVL_TIMEOUT, &mars);
	assert_int_equal(f->err, -ETIMEDOUT);

	/* Our own name. */
	assert_int_equal(start(f, 1, 200, 1000), 0);
	answer_lookup(f, 2, OVL_OK, &own);
	assert_int_equal(f->dones, 3);
	assert_int_equal(f->err, -ELOOP);
	assert_int_equal(f->send_attempts, 0);

	/* The overlay refuses at once: no request, no callback. */
	f->resolve_err = -ENOTCONN;
	assert_int_equal(start(f, 1, 200, 1000), -ENOTCONN);
	assert_int_equal(pinger_running(f->p), 0);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(f->dones, 3);
}

static void test_lookup_too_slow(void **state)
{
	struct fake *f = *state;

	assert_int_equal(start(f, 1, 200, 150), 0);
	assert_true(run_until(f, done_n, 1));
	assert_int_equal(f->err, -ETIMEDOUT);
	assert_int_equal(pinger_running(f->p), 0);
	/* The lookup's late answer finds the request gone (ASan: freed once). */
	answer_lookup(f, 0, OVL_OK, &mars);
	assert_int_equal(f->dones, 1);
	assert_int_equal(f->send_attempts, 0);
}

static void test_bad_arguments(void **state)
{
	struct fake *f = *state;
	struct pinger_request q = {.fqdn = "mars.example.internal", .done = on_done, .arg = f};

	q.count = CTL_PING_COUNT_MAX + 1;
	assert_int_equal(pinger_start(f->p, &q), -EINVAL);
	q.count = 1;
	q.interval_ms = CTL_PING_INTERVAL_MIN - 1;
	assert_int_equal(pinger_start(f->p, &q), -EINVAL);
	q.interval_ms = 0;
	q.timeout_ms = CTL_PING_TIMEOUT_MAX + 1;
	assert_int_equal(pinger_start(f->p, &q), -EINVAL);
	q.timeout_ms = 0;
	q.fqdn = "";
	assert_int_equal(pinger_start(f->p, &q), -EINVAL);
	q.fqdn = "mars.example.internal";
	q.done = NULL;
	assert_int_equal(pinger_start(f->p, &q), -EINVAL);
	assert_int_equal(f->n_lookups, 0);
	/* All defaults. */
	q.done = on_done;
	assert_int_equal(pinger_start(f->p, &q), 0);
	answer_lookup(f, 0, OVL_OK, &mars);
	assert_int_equal(f->n_sent, 1);
}

static void test_input_ignores_others(void **state)
{
	struct fake *f = *state;
	uint8_t rep[PINGER_ECHO_LEN] = {129}, req[PINGER_ECHO_LEN];
	uint8_t cookie[PINGER_COOKIE_LEN];
	uint16_t ident;

	assert_false(pinger_input(NULL, &mars, 58, rep, sizeof(rep), 0));
	assert_int_equal(start(f, 2, 200, 1000), 0);
	answer_lookup(f, 0, OVL_OK, &mars);
	assert_int_equal(f->n_sent, 1);
	ident = (uint16_t)(f->sent[0].msg[4] << 8 | f->sent[0].msg[5]);
	memcpy(cookie, f->sent[0].msg + 8, sizeof(cookie));
	make_reply(f->sent[0].msg, PINGER_ECHO_LEN, &mars, &own, rep);

	/* Not ICMPv6, too short, an Echo Request (the peer pinging us). */
	assert_false(pinger_input(f->p, &mars, 17, rep, sizeof(rep), 0));
	assert_false(pinger_input(f->p, &mars, 58, rep, 7, 0));
	assert_false(pinger_input(f->p, &mars, 58, f->sent[0].msg, PINGER_ECHO_LEN, 0));
	/* From another peer (its checksum right for it). */
	make_reply(f->sent[0].msg, PINGER_ECHO_LEN, &other, &own, req);
	assert_false(pinger_input(f->p, &other, 58, req, sizeof(req), 0));
	/* Another identifier: someone else's ping6 on this host. */
	forge_reply((uint16_t)(ident + 1), 1, cookie, req);
	assert_false(pinger_input(f->p, &mars, 58, req, sizeof(req), 0));
	/* Our identifier by chance, but not our cookie. */
	cookie[0] ^= 1;
	forge_reply(ident, 1, cookie, req);
	assert_false(pinger_input(f->p, &mars, 58, req, sizeof(req), 0));
	/* A broken checksum. */
	rep[3] ^= 1;
	assert_false(pinger_input(f->p, &mars, 58, rep, sizeof(rep), 0));
	rep[3] ^= 1;
	assert_int_equal(f->received, 0);
	assert_int_equal(f->dones, 0);

	/* Ours with a sequence number never sent: consumed, not counted. */
	memcpy(cookie, f->sent[0].msg + 8, sizeof(cookie));
	forge_reply(ident, 2, cookie, req);
	assert_true(pinger_input(f->p, &mars, 58, req, sizeof(req), 0));
	forge_reply(ident, 0, cookie, req);
	assert_true(pinger_input(f->p, &mars, 58, req, sizeof(req), 0));
	forge_reply(ident, 999, cookie, req);
	assert_true(pinger_input(f->p, &mars, 58, req, sizeof(req), 0));
	/* And the real one. */
	assert_true(pinger_input(f->p, &mars, 58, rep, sizeof(rep), 0));
	assert_true(run_until(f, sent_n, 2));
	assert_true(reply_to(f, 1, 1));
	assert_int_equal(f->dones, 1);
	assert_int_equal(f->received, 2);
}

static void test_concurrent_requests(void **state)
{
	struct fake *f = *state;
	uint16_t ids[PINGER_MAX];

	for (int i = 0; i < PINGER_MAX; i++)
		assert_int_equal(start(f, 1, 200, 1000), 0);
	assert_int_equal(start(f, 1, 200, 1000), -EBUSY);
	for (size_t i = 0; i < PINGER_MAX; i++) {
		answer_lookup(f, i, OVL_OK, &mars);
		assert_int_equal(f->n_sent, i + 1);
		ids[i] = (uint16_t)(f->sent[i].msg[4] << 8 | f->sent[i].msg[5]);
		for (size_t j = 0; j < i; j++) {
			assert_int_not_equal(ids[i], ids[j]);
			/* Every request its own cookie too. */
			assert_memory_not_equal(f->sent[i].msg + 8, f->sent[j].msg + 8,
			                        PINGER_COOKIE_LEN);
		}
	}
	/* Each reply ends its own request. */
	for (size_t i = PINGER_MAX; i-- > 0;) {
		assert_true(reply_to(f, i, 1));
		assert_int_equal(pinger_running(f->p), i);
	}
	assert_int_equal(f->dones, PINGER_MAX);
	/* A slot is free again. */
	assert_int_equal(start(f, 1, 200, 1000), 0);
}

static void test_cancelled(void **state)
{
	struct fake *f = *state;

	assert_int_equal(start(f, 5, 200, 1000), 0);
	answer_lookup(f, 0, OVL_OK, &mars);
	assert_int_equal(f->n_sent, 1);
	f->cancel = true;
	assert_true(run_until(f, done_n, 1));
	assert_int_equal(f->err, -ECANCELED);
	assert_int_equal(f->n_sent, 1);
}

static void test_stop(void **state)
{
	struct fake *f = *state;

	assert_int_equal(start(f, 5, 200, 1000), 0); /* pinging */
	assert_int_equal(start(f, 5, 200, 1000), 0); /* still looking up */
	answer_lookup(f, 0, OVL_OK, &mars);
	pinger_stop(f->p);
	assert_int_equal(f->dones, 2);
	assert_int_equal(f->err, -ESHUTDOWN);
	assert_int_equal(pinger_running(f->p), 0);
	assert_int_equal(start(f, 1, 200, 1000), -ESHUTDOWN);
	assert_false(reply_to(f, 0, 1));
	/* The lookup that was still running may answer before the overlay
	 * goes; the request it belonged to is gone. */
	answer_lookup(f, 1, OVL_OK, &mars);
	assert_int_equal(f->dones, 2);
	assert_int_equal(f->n_sent, 1);
}

static void test_free_with_lookup_pending(void **state)
{
	struct fake *f = *state;

	/* pinger_free without pinger_stop, and without the loop turning
	 * between: a lookup that never answers is freed with the pinger. */
	assert_int_equal(start(f, 5, 200, 1000), 0);
	f->p = pinger_free(f->p);
	assert_int_equal(f->dones, 1);
	assert_int_equal(f->err, -ESHUTDOWN);
	uv_run(&f->loop, UV_RUN_DEFAULT);
}

static void test_daemon_ops(void **state)
{
	struct fake *f = *state;
	struct pinger *p;
	struct pinger_io io = {.own = own};

	/* The daemon's own modules are the default; a loop is required. */
	assert_int_equal(pinger_new(&io, &p), -EINVAL);
	io.loop = &f->loop;
	assert_int_equal(pinger_new(&io, &p), 0);
	assert_int_equal(pinger_running(p), 0);
	assert_false(pinger_input(p, &mars, 58, (const uint8_t[8]){129}, 8, 0));
	pinger_stop(p);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	pinger_free(p);
	pinger_stop(NULL);
	assert_null(pinger_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_echo_build),
	        cmocka_unit_test(test_echo_parse),
	        cmocka_unit_test_setup_teardown(test_ping_all_replies, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_ping_interval, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_ping_lost, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_ping_waits_for_path, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_ping_no_path, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_path_lost_midway, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_last_send_fails, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_lookup_failures, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_lookup_too_slow, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_input_ignores_others, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_concurrent_requests, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cancelled, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_free_with_lookup_pending, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_daemon_ops, setup, teardown),
	};

	log_set_level(LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
