/* SPDX-License-Identifier: MIT */
/* test_dns_forward.c: upstream selection (resolv.conf, lists, loop
 * avoidance) and relaying through c-ares to a fake DNS server this test runs
 * on 127.0.0.1 (libuv UDP). Nothing is sent anywhere else. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bytes.h"
#include "dns/forward.h"

#define RESOLVER4 0x64400035u /* 100.64.0.53 */
#define LSI_PFX   0x64400000u /* 100.64.0.0/10 */

/* ---- upstream selection ---- */

static struct dns_forward_config base_cfg(void)
{
	return (struct dns_forward_config){
	        .resolver_addr = RESOLVER4,
	        .lsi_prefix = LSI_PFX,
	        .lsi_prefix_len = 10,
	};
}

static void test_resolv_conf(void **state)
{
	struct dns_forward_config cfg = base_cfg();
	char csv[DNS_FORWARD_CSV_MAX];
	static const char text[] = "# generated\n"
	                           "search example.org\n"
	                           "nameserver 100.64.0.53\n" /* ourselves */
	                           "nameserver 100.100.1.1\n" /* inside the LSI prefix */
	                           "nameserver\t192.168.1.1  # the router\n"
	                           "  nameserver 2001:db8::53\n"
	                           "nameserver 2001:20::1\n"   /* a HIT */
	                           "nameserver fe80::1%eth0\n" /* scoped */
	                           "nameserver 192.168.1.1\n"  /* duplicate */
	                           "nameserver ::ffff:100.64.0.53\n"
	                           "nameserver 0.0.0.0\n"
	                           "nameserver not-an-address\n"
	                           "nameservers 10.0.0.1\n"
	                           ";nameserver 10.0.0.2\n"
	                           "nameserver 127.0.0.53";

	(void)state;
	assert_int_equal(dns_forward_upstreams(&cfg, text, csv, sizeof(csv)), 3);
	assert_string_equal(csv, "192.168.1.1:53,[2001:db8::53]:53,127.0.0.53:53");
	assert_int_equal(dns_forward_upstreams(&cfg, "nameserver 100.64.0.53\n", csv, sizeof(csv)),
	                 0);
	assert_string_equal(csv, "");
	assert_int_equal(dns_forward_upstreams(&cfg, "", csv, sizeof(csv)), 0);
	assert_int_equal(dns_forward_upstreams(&cfg, NULL, csv, sizeof(csv)), 0);
	assert_int_equal(dns_forward_upstreams(&cfg, text, csv, 10), -ENOSPC);
}

static void test_list(void **state)
{
	struct dns_forward_config cfg = base_cfg();
	char csv[DNS_FORWARD_CSV_MAX];

	(void)state;
	cfg.servers = "9.9.9.9, 1.1.1.1:5353,[2001:db8::1]:54, 2001:db8::2,100.64.0.53:53";
	assert_int_equal(dns_forward_upstreams(&cfg, "nameserver 8.8.8.8", csv, sizeof(csv)), 4);
	assert_string_equal(csv, "9.9.9.9:53,1.1.1.1:5353,[2001:db8::1]:54,[2001:db8::2]:53");
	cfg.servers = "100.64.0.53,100.127.255.255:53";
	assert_int_equal(dns_forward_upstreams(&cfg, NULL, csv, sizeof(csv)), 0);
	cfg.servers = "";
	assert_int_equal(dns_forward_upstreams(&cfg, NULL, csv, sizeof(csv)), 0);

	static const char *bad[] = {
	        "9.9.9.9:0",        "9.9.9.9:65536",   "9.9.9.9:x",       "host.example",
	        "[9.9.9.9]:53",     "2001:db8::1:53:", "[2001:db8::1]53", "[2001:db8::1",
	        "1.2.3.4,,5.6.7.8", "2001:db8::1]:53"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.servers = bad[i];
		assert_int_equal(dns_forward_upstreams(&cfg, NULL, csv, sizeof(csv)), -EINVAL);
	}
	cfg.servers = "1.0.0.1,1.0.0.2,1.0.0.3,1.0.0.4,1.0.0.5,1.0.0.6,1.0.0.7,1.0.0.8,1.0.0.9";
	assert_int_equal(dns_forward_upstreams(&cfg, NULL, csv, sizeof(csv)), -ENOSPC);
}

static void test_new_without_upstream(void **state)
{
	struct dns_forward_config cfg = base_cfg();
	char path[] = "/tmp/idloc-test-resolv-XXXXXX";
	struct dns_forward *f = NULL;
	uv_loop_t loop;
	int fd;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write(fd, "nameserver 100.64.0.53\n", 23) == 23);
	close(fd);
	cfg.resolv_conf = path;
	assert_int_equal(dns_forward_new(&loop, &cfg, &f), -ENOENT);
	cfg.resolv_conf = "/nonexistent/resolv.conf";
	assert_int_equal(dns_forward_new(&loop, &cfg, &f), -ENOENT);
	cfg.servers = "100.64.0.53";
	assert_int_equal(dns_forward_new(&loop, &cfg, &f), -ENOENT);
	cfg.servers = "not-an-address";
	assert_int_equal(dns_forward_new(&loop, &cfg, &f), -EINVAL);
	/* auto, with a server: created (no query is sent). */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_true(write(fd, "nameserver 127.0.0.1\n", 21) == 21);
	close(fd);
	cfg.servers = NULL;
	cfg.resolv_conf = path;
	assert_int_equal(dns_forward_new(&loop, &cfg, &f), 0);
	assert_string_equal(dns_forward_servers(f), "127.0.0.1:53");
	dns_forward_free(f);
	dns_forward_free(NULL);
	unlink(path);
	assert_true(uv_run(&loop, UV_RUN_DEFAULT) >= 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- a fake upstream on 127.0.0.1 ---- */

enum fake_mode {
	FAKE_ANSWER,   /* NOERROR with one A record */
	FAKE_NXDOMAIN, /* NXDOMAIN, no records */
	FAKE_SERVFAIL,
	FAKE_SILENT,
	FAKE_BIG,     /* NOERROR with a TXT making the reply big_len bytes, TC clear */
	FAKE_TC,      /* a small reply with TC set */
	FAKE_GARBLED, /* claims two answers, carries one */
};

struct fake {
	uv_udp_t udp;
	uint16_t port;
	enum fake_mode mode;
	size_t big_len;
	int received;
	uint8_t query[600];
	size_t query_len;
	uint8_t reply[4096];
	size_t reply_len;
};

struct outcome {
	int calls;
	int status;
	uint8_t reply[4096];
	size_t len;
	bool null_reply;
	uv_loop_t *loop;
};

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static uint8_t mem[65536];

	(void)h;
	(void)suggested;
	*buf = uv_buf_init((char *)mem, sizeof(mem));
}

static void sent_cb(uv_udp_send_t *req, int status)
{
	(void)status;
	free(req);
}

/* The fake's answer: header, the question copied, then records. */
static size_t fake_answer(struct fake *fk, const uint8_t *q, size_t qlen)
{
	size_t qend = 12, o;
	uint16_t rc = 0, flags;
	uint8_t *r = fk->reply;

	while (qend < qlen && q[qend] != 0)
		qend += 1 + q[qend];
	qend += 1 + 4;
	assert_true(qend <= qlen);
	memcpy(r, q, qend);
	if (fk->mode == FAKE_NXDOMAIN)
		rc = 3;
	if (fk->mode == FAKE_SERVFAIL)
		rc = 2;
	flags = (uint16_t)(0x8000 | (load_be16(q + 2) & 0x0100) | 0x0080 | rc);
	if (fk->mode == FAKE_TC)
		flags |= 0x0200;
	store_be16(r + 2, flags);
	store_be16(r + 6, 0);
	store_be16(r + 8, 0);
	store_be16(r + 10, 0);
	o = qend;
	if (fk->mode == FAKE_ANSWER || fk->mode == FAKE_GARBLED) {
		static const uint8_t a[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
		memcpy(r + o, a, sizeof(a));
		o += sizeof(a);
		store_be16(r + 6, fk->mode == FAKE_GARBLED ? 2 : 1);
	} else if (fk->mode == FAKE_BIG) {
		size_t rdlen = fk->big_len - o - 12;
		static const uint8_t t[] = {0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60};
		memcpy(r + o, t, sizeof(t));
		store_be16(r + o + 10, (uint16_t)rdlen);
		/* TXT strings of up to 255 bytes. */
		for (size_t left = rdlen, p = o + 12; left > 0;) {
			size_t s = left - 1 > 255 ? 255 : left - 1;
			r[p] = (uint8_t)s;
			memset(r + p + 1, 'x', s);
			p += 1 + s;
			left -= 1 + s;
		}
		o += 12 + rdlen;
		store_be16(r + 6, 1);
	}
	return o;
}

static void fake_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                      unsigned flags)
{
	struct fake *fk = h->data;
	uv_udp_send_t *req;
	uv_buf_t b;

	(void)flags;
	if (n <= 0 || !from)
		return;
	fk->received++;
	assert_true((size_t)n <= sizeof(fk->query));
	memcpy(fk->query, buf->base, (size_t)n);
	fk->query_len = (size_t)n;
	if (fk->mode == FAKE_SILENT)
		return;
	fk->reply_len = fake_answer(fk, fk->query, fk->query_len);
	req = malloc(sizeof(*req));
	assert_non_null(req);
	b = uv_buf_init((char *)fk->reply, (unsigned)fk->reply_len);
	assert_int_equal(uv_udp_send(req, h, &b, 1, from, sent_cb), 0);
}

static void fake_start(uv_loop_t *loop, struct fake *fk, enum fake_mode mode)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	memset(fk, 0, sizeof(*fk));
	fk->mode = mode;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(uv_udp_init(loop, &fk->udp), 0);
	fk->udp.data = fk;
	assert_int_equal(uv_udp_bind(&fk->udp, (const struct sockaddr *)&sin, 0), 0);
	assert_int_equal(uv_udp_getsockname(&fk->udp, (struct sockaddr *)&ss, &len), 0);
	fk->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	assert_int_equal(uv_udp_recv_start(&fk->udp, alloc_cb, fake_recv), 0);
}

static void on_reply(void *arg, int status, const uint8_t *reply, size_t len)
{
	struct outcome *o = arg;

	o->calls++;
	o->status = status;
	o->null_reply = reply == NULL;
	if (reply) {
		assert_true(len <= sizeof(o->reply));
		memcpy(o->reply, reply, len);
	}
	o->len = len;
	/* Cancellation runs inside dns_forward_free, outside uv_run. */
	if (status != -ECANCELED)
		uv_stop(o->loop);
}

static size_t make_query(uint8_t *b, uint16_t id, const char *name, uint16_t type, int edns)
{
	size_t o = 12;

	memset(b, 0, 12);
	store_be16(b, id);
	store_be16(b + 2, 0x0100);
	store_be16(b + 4, 1);
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		b[o++] = (uint8_t)l;
		memcpy(b + o, name, l);
		o += l;
		name += l + (dot ? 1 : 0);
	}
	b[o++] = 0;
	store_be16(b + o, type);
	store_be16(b + o + 2, 1);
	o += 4;
	if (edns) {
		/* OPT with a client cookie. */
		static const uint8_t opt[] = {0,  0, 41, 0, 0, 0, 0, 0, 0, 0, 12, 0,
		                              10, 0, 8,  1, 2, 3, 4, 5, 6, 7, 8};
		memcpy(b + o, opt, sizeof(opt));
		store_be16(b + o + 3, (uint16_t)edns);
		store_be16(b + 10, 1);
		o += sizeof(opt);
	}
	return o;
}

struct rig {
	uv_loop_t loop;
	struct fake fake;
	struct dns_forward *fwd;
	struct outcome out;
	uint8_t query[600];
	size_t query_len;
	struct dns_query q;
};

static void rig_start(struct rig *r, enum fake_mode mode, unsigned timeout_ms, unsigned tries)
{
	struct dns_forward_config cfg = base_cfg();
	char servers[64];

	memset(r, 0, sizeof(*r));
	assert_int_equal(uv_loop_init(&r->loop), 0);
	fake_start(&r->loop, &r->fake, mode);
	snprintf(servers, sizeof(servers), "127.0.0.1:%u", r->fake.port);
	cfg.servers = servers;
	cfg.timeout_ms = timeout_ms;
	cfg.tries = tries;
	assert_int_equal(dns_forward_new(&r->loop, &cfg, &r->fwd), 0);
	assert_string_equal(dns_forward_servers(r->fwd), servers);
	r->out.loop = &r->loop;
}

static void rig_ask(struct rig *r, uint16_t id, const char *name, uint16_t type, int edns)
{
	r->query_len = make_query(r->query, id, name, type, edns);
	assert_int_equal(dns_query_parse(r->query, r->query_len, &r->q), 0);
	assert_int_equal(
	        dns_forward_query(r->fwd, &r->q, r->query, r->query_len, on_reply, &r->out), 0);
	assert_true(uv_run(&r->loop, UV_RUN_DEFAULT) >= 0);
	assert_int_equal(r->out.calls, 1);
}

static void close_cb(uv_handle_t *h)
{
	(void)h;
}

static void rig_stop(struct rig *r)
{
	dns_forward_free(r->fwd);
	uv_close((uv_handle_t *)&r->fake.udp, close_cb);
	assert_true(uv_run(&r->loop, UV_RUN_DEFAULT) >= 0);
	assert_int_equal(uv_loop_close(&r->loop), 0);
}

/* The upstream's answer comes back byte for byte, with our client's ID. */
static void test_relay(void **state)
{
	static struct rig r;

	(void)state;
	rig_start(&r, FAKE_ANSWER, 0, 0);
	rig_ask(&r, 0xabcd, "www.example.org", 1, 0);
	assert_int_equal(r.out.status, 0);
	assert_int_equal(r.fake.received, 1);
	/* c-ares forwards the query unchanged but for the ID... */
	assert_int_equal(r.fake.query_len, r.query_len);
	assert_memory_equal(r.fake.query + 2, r.query + 2, r.query_len - 2);
	/* ...and the reply gets the client's ID back. */
	assert_int_equal(r.out.len, r.fake.reply_len);
	assert_int_equal(load_be16(r.out.reply), 0xabcd);
	assert_memory_equal(r.out.reply + 2, r.fake.reply + 2, r.out.len - 2);
	assert_int_equal(load_be16(r.out.reply + 6), 1);
	rig_stop(&r);
}

/* EDNS options (a cookie) reach the upstream untouched. */
static void test_relay_edns(void **state)
{
	static struct rig r;

	(void)state;
	rig_start(&r, FAKE_ANSWER, 0, 0);
	rig_ask(&r, 0x0102, "www.example.org", 28, 1232);
	assert_int_equal(r.out.status, 0);
	assert_int_equal(r.fake.query_len, r.query_len);
	assert_memory_equal(r.fake.query + 2, r.query + 2, r.query_len - 2);
	assert_int_equal(load_be16(r.out.reply), 0x0102);
	rig_stop(&r);
}

static void test_relay_nxdomain(void **state)
{
	static struct rig r;

	(void)state;
	rig_start(&r, FAKE_NXDOMAIN, 0, 0);
	rig_ask(&r, 7, "nothing.example.org", 1, 0);
	assert_int_equal(r.out.status, 0);
	assert_int_equal(load_be16(r.out.reply + 2) & 0xf, DNS_RCODE_NXDOMAIN);
	assert_int_equal(load_be16(r.out.reply), 7);
	rig_stop(&r);
}

static void expect_servfail(const struct rig *r, uint16_t id)
{
	assert_true(r->out.status < 0);
	assert_false(r->out.null_reply);
	assert_int_equal(load_be16(r->out.reply), id);
	assert_int_equal(load_be16(r->out.reply + 2) & 0x800f, 0x8000 | DNS_RCODE_SERVFAIL);
	assert_int_equal(load_be16(r->out.reply + 4), 1);
	/* The question is echoed. */
	assert_memory_equal(r->out.reply + 12, r->query + 12, r->q.qname_len + 4);
}

static void test_upstream_servfail(void **state)
{
	static struct rig r;

	(void)state;
	rig_start(&r, FAKE_SERVFAIL, 200, 1);
	rig_ask(&r, 0x5555, "broken.example.org", 1, 0);
	expect_servfail(&r, 0x5555);
	assert_true(r.fake.received >= 1);
	rig_stop(&r);
}

static void test_timeout(void **state)
{
	static struct rig r;
	uint64_t t0;

	(void)state;
	rig_start(&r, FAKE_SILENT, 100, 2);
	t0 = uv_hrtime();
	rig_ask(&r, 0x6666, "slow.example.org", 1, 1232);
	assert_int_equal(r.out.status, -ETIMEDOUT);
	expect_servfail(&r, 0x6666);
	assert_true(r.fake.received >= 2); /* retried */
	assert_true(uv_hrtime() - t0 < 5000000000ull);
	/* The SERVFAIL carries an OPT like any reply to an EDNS query. */
	assert_int_equal(load_be16(r.out.reply + 10), 1);
	rig_stop(&r);
}

/* An upstream that ignores the client's limit: the client gets TC from us. */
static void test_too_big_for_client(void **state)
{
	static struct rig r;

	(void)state;
	rig_start(&r, FAKE_BIG, 0, 0);
	r.fake.big_len = 800;
	rig_ask(&r, 0x7777, "big.example.org", 16, 0);
	assert_int_equal(r.out.status, 0);
	assert_int_equal(r.fake.reply_len, 800);
	assert_true(r.out.len <= 512);
	assert_int_equal(load_be16(r.out.reply), 0x7777);
	assert_true(load_be16(r.out.reply + 2) & DNS_FLAG_TC);
	assert_int_equal(load_be16(r.out.reply + 6), 0);
	rig_stop(&r);

	/* With EDNS 1232 the same 800 bytes reach the client whole: c-ares does
	 * not switch to TCP for a UDP answer over 512. */
	rig_start(&r, FAKE_BIG, 0, 0);
	r.fake.big_len = 800;
	rig_ask(&r, 0x7778, "big.example.org", 16, 1232);
	assert_int_equal(r.out.status, 0);
	assert_int_equal(r.out.len, 800);
	assert_false(load_be16(r.out.reply + 2) & DNS_FLAG_TC);
	assert_memory_equal(r.out.reply + 2, r.fake.reply + 2, 798);
	rig_stop(&r);
}

/* A client's EDNS size above what we can take in is lowered on the way up. */
static void test_clamp_edns_size(void **state)
{
	static struct rig r;
	size_t opt;

	(void)state;
	rig_start(&r, FAKE_ANSWER, 0, 0);
	rig_ask(&r, 0x0bad, "www.example.org", 1, 65000);
	assert_int_equal(r.out.status, 0);
	opt = r.q.opt_off;
	assert_int_equal(load_be16(r.query + opt + 3), 65000); /* the caller's copy is kept */
	assert_int_equal(load_be16(r.fake.query + opt + 3), DNS_MSG_MAX);
	assert_memory_equal(r.fake.query + 2, r.query + 2, opt + 3 - 2);
	rig_stop(&r);
}

static void test_garbled_answer(void **state)
{
	static struct rig r;

	(void)state;
	rig_start(&r, FAKE_GARBLED, 0, 0);
	rig_ask(&r, 0x0bad, "www.example.org", 1, 0);
	assert_int_equal(r.out.status, -EBADMSG);
	expect_servfail(&r, 0x0bad);
	rig_stop(&r);
}

/* A truncated upstream answer is relayed as it is: the client retries over
 * TCP on its own. */
static void test_upstream_tc(void **state)
{
	static struct rig r;

	(void)state;
	rig_start(&r, FAKE_TC, 0, 0);
	rig_ask(&r, 0x8888, "tc.example.org", 16, 0);
	assert_int_equal(r.out.status, 0);
	assert_int_equal(r.fake.received, 1);
	assert_true(load_be16(r.out.reply + 2) & DNS_FLAG_TC);
	assert_int_equal(load_be16(r.out.reply), 0x8888);
	rig_stop(&r);
}

/* Retransmissions forwarded twice each get their own answer. */
static void test_two_in_flight(void **state)
{
	static struct rig r;
	static struct outcome second;

	(void)state;
	rig_start(&r, FAKE_ANSWER, 0, 0);
	second.loop = &r.loop;
	r.query_len = make_query(r.query, 0x1111, "www.example.org", 1, 0);
	assert_int_equal(dns_query_parse(r.query, r.query_len, &r.q), 0);
	assert_int_equal(dns_forward_query(r.fwd, &r.q, r.query, r.query_len, on_reply, &r.out), 0);
	assert_int_equal(dns_forward_query(r.fwd, &r.q, r.query, r.query_len, on_reply, &second),
	                 0);
	while (r.out.calls + second.calls < 2)
		assert_true(uv_run(&r.loop, UV_RUN_DEFAULT) >= 0);
	assert_int_equal(r.out.status, 0);
	assert_int_equal(second.status, 0);
	assert_int_equal(load_be16(r.out.reply), 0x1111);
	assert_int_equal(load_be16(second.reply), 0x1111);
	rig_stop(&r);
}

static void test_free_cancels(void **state)
{
	static struct rig r;

	(void)state;
	rig_start(&r, FAKE_SILENT, 1000, 2);
	r.query_len = make_query(r.query, 0x9999, "pending.example.org", 1, 0);
	assert_int_equal(dns_query_parse(r.query, r.query_len, &r.q), 0);
	assert_int_equal(dns_forward_query(r.fwd, &r.q, r.query, r.query_len, on_reply, &r.out), 0);
	dns_forward_free(r.fwd);
	assert_int_equal(r.out.calls, 1);
	assert_int_equal(r.out.status, -ECANCELED);
	assert_true(r.out.null_reply);
	uv_close((uv_handle_t *)&r.fake.udp, close_cb);
	assert_true(uv_run(&r.loop, UV_RUN_DEFAULT) >= 0);
	assert_int_equal(uv_loop_close(&r.loop), 0);
}

/* A closed port on loopback: SERVFAIL without waiting for every timeout. */
static void test_unreachable(void **state)
{
	struct dns_forward_config cfg = base_cfg();
	static struct rig r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(uv_loop_init(&r.loop), 0);
	r.out.loop = &r.loop;
	cfg.servers = "127.0.0.1:9";
	cfg.timeout_ms = 300;
	cfg.tries = 1;
	assert_int_equal(dns_forward_new(&r.loop, &cfg, &r.fwd), 0);
	r.query_len = make_query(r.query, 0x4321, "x.example.org", 1, 0);
	assert_int_equal(dns_query_parse(r.query, r.query_len, &r.q), 0);
	assert_int_equal(dns_forward_query(r.fwd, &r.q, r.query, r.query_len, on_reply, &r.out), 0);
	assert_true(uv_run(&r.loop, UV_RUN_DEFAULT) >= 0);
	assert_int_equal(r.out.calls, 1);
	expect_servfail(&r, 0x4321);
	dns_forward_free(r.fwd);
	assert_true(uv_run(&r.loop, UV_RUN_DEFAULT) >= 0);
	assert_int_equal(uv_loop_close(&r.loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_resolv_conf),          cmocka_unit_test(test_list),
	        cmocka_unit_test(test_new_without_upstream), cmocka_unit_test(test_relay),
	        cmocka_unit_test(test_relay_edns),           cmocka_unit_test(test_relay_nxdomain),
	        cmocka_unit_test(test_upstream_servfail),    cmocka_unit_test(test_timeout),
	        cmocka_unit_test(test_too_big_for_client),   cmocka_unit_test(test_upstream_tc),
	        cmocka_unit_test(test_clamp_edns_size),      cmocka_unit_test(test_garbled_answer),
	        cmocka_unit_test(test_two_in_flight),        cmocka_unit_test(test_free_cancels),
	        cmocka_unit_test(test_unreachable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
