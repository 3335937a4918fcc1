/* SPDX-License-Identifier: MIT */
/* test_netcheck.c: the STUN codec against RFC 5769's sample messages and
 * broken ones, and whole checks on a loop against STUN servers faked on
 * 127.0.0.1 that report chosen mappings. */
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
#include "common/log.h"
#include "daemon/config.h"
#include "daemon/netcheck.h"

static const uint8_t sample_txid[NETCHECK_TXID_LEN] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                                       0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

/* RFC 5769 2.2: a Binding success response, IPv4, with SOFTWARE,
 * MESSAGE-INTEGRITY and FINGERPRINT. */
static const uint8_t sample_v4[] = {
        0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
        0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74,
        0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
        0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99,
        0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b,
        0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 2.3: the same with an IPv6 mapped address. */
static const uint8_t sample_v6[] = {
        0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
        0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74,
        0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02,
        0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5,
        0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6,
        0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
        0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

static const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *a = ss->ss_family == AF_INET
	                        ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
	                        : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
	uint16_t port =
	        ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
	                                       : ((const struct sockaddr_in6 *)ss)->sin6_port);
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(ss->ss_family, a, ip, sizeof(ip));
	snprintf(buf, len, "%s/%u", ip, port);
	return buf;
}

static void test_request(void **state)
{
	static const uint8_t want[] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7,
	                               0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};
	uint8_t req[NETCHECK_REQUEST_LEN];
	struct netcheck_stun_answer ans;

	netcheck_stun_request(sample_txid, req);
	assert_memory_equal(req, want, sizeof(want));
	/* A request is not an answer to itself. */
	assert_int_equal(netcheck_stun_parse(req, sizeof(req), sample_txid, &ans), -ENOMSG);
}

static void test_rfc5769(void **state)
{
	struct netcheck_stun_answer ans;
	uint8_t other[NETCHECK_TXID_LEN];
	char buf[80];

	assert_int_equal(netcheck_stun_parse(sample_v4, sizeof(sample_v4), sample_txid, &ans), 0);
	assert_true(ans.success);
	assert_false(ans.has_other);
	assert_string_equal(addr_str(&ans.mapped, buf, sizeof(buf)), "192.0.2.1/32853");
	assert_int_equal(netcheck_stun_parse(sample_v6, sizeof(sample_v6), sample_txid, &ans), 0);
	assert_string_equal(addr_str(&ans.mapped, buf, sizeof(buf)),
	                    "2001:db8:1234:5678:11:2233:4455:6677/32853");
	/* Another transaction's answer. */
	memcpy(other, sample_txid, sizeof(other));
	other[11] ^= 1;
	assert_int_equal(netcheck_stun_parse(sample_v4, sizeof(sample_v4), other, &ans), -ENOMSG);
}

/* sample_v4 with one byte changed at off. */
static int parse_mutated(size_t off, uint8_t value, size_t len)
{
	uint8_t m[sizeof(sample_v4)];
	struct netcheck_stun_answer ans;

	memcpy(m, sample_v4, sizeof(m));
	m[off] = value;
	return netcheck_stun_parse(m, len, sample_txid, &ans);
}

static void test_malformed(void **state)
{
	struct netcheck_stun_answer ans;

	/* A bit flipped anywhere under the fingerprint breaks it. (Flipped in
	 * the fingerprint's own type, it is an unknown optional attribute.) */
	for (size_t off = 0; off < sizeof(sample_v4) - 8; off++)
		if (off < 8 || off >= 20) /* the cookie and txid have own checks */
			assert_int_not_equal(
			        parse_mutated(off, sample_v4[off] ^ 0x40, sizeof(sample_v4)), 0);
	assert_int_equal(parse_mutated(sizeof(sample_v4) - 1, 0x97, sizeof(sample_v4)), -EBADMSG);
	/* Header: leading bits, cookie, length field, truncation. */
	assert_int_equal(parse_mutated(0, 0x41, sizeof(sample_v4)), -EBADMSG);
	assert_int_equal(parse_mutated(4, 0x22, sizeof(sample_v4)), -EBADMSG);
	assert_int_equal(parse_mutated(3, 0x40, sizeof(sample_v4)), -EBADMSG);
	for (size_t len = 0; len < sizeof(sample_v4); len++)
		assert_int_equal(netcheck_stun_parse(sample_v4, len, sample_txid, &ans), -EBADMSG);
}

/* A response built by hand: header, then attributes (type, length, value). */
struct msg {
	uint8_t b[256];
	size_t len;
};

static void msg_start(struct msg *m, uint16_t type)
{
	memset(m, 0, sizeof(*m));
	store_be16(m->b, type);
	store_be32(m->b + 4, 0x2112a442);
	memcpy(m->b + 8, sample_txid, NETCHECK_TXID_LEN);
	m->len = 20;
}

static void msg_attr(struct msg *m, uint16_t type, const void *v, uint16_t len)
{
	store_be16(m->b + m->len, type);
	store_be16(m->b + m->len + 2, len);
	memcpy(m->b + m->len + 4, v, len);
	m->len += 4 + ((len + 3u) & ~3u);
	store_be16(m->b + 2, (uint16_t)(m->len - 20));
}

static int msg_parse(const struct msg *m, struct netcheck_stun_answer *ans)
{
	return netcheck_stun_parse(m->b, m->len, sample_txid, ans);
}

static void test_attributes(void **state)
{
	static const uint8_t mapped[] = {0, 1, 0x27, 0x10, 198, 51, 100, 7};
	static const uint8_t other[] = {0, 1, 0x0d, 0x97, 198, 51, 100, 8};
	static const uint8_t err401[] = {0, 0, 4, 1, 'U', 'n', 'a', 'u'};
	static const uint8_t bad_family[] = {0, 3, 0x27, 0x10, 198, 51, 100, 7};
	struct netcheck_stun_answer ans;
	struct msg m;
	char buf[80];

	/* RFC 3489 servers: MAPPED-ADDRESS and CHANGED-ADDRESS. */
	msg_start(&m, 0x0101);
	msg_attr(&m, 0x0001, mapped, sizeof(mapped));
	msg_attr(&m, 0x0005, other, sizeof(other));
	msg_attr(&m, 0x8022, "x", 1); /* SOFTWARE: optional, unused */
	assert_int_equal(msg_parse(&m, &ans), 0);
	assert_string_equal(addr_str(&ans.mapped, buf, sizeof(buf)), "198.51.100.7/10000");
	assert_true(ans.has_other);
	assert_string_equal(addr_str(&ans.other, buf, sizeof(buf)), "198.51.100.8/3479");
	/* OTHER-ADDRESS wins over CHANGED-ADDRESS; the first of a type counts. */
	msg_start(&m, 0x0101);
	msg_attr(&m, 0x0001, mapped, sizeof(mapped));
	msg_attr(&m, 0x0001, other, sizeof(other));
	msg_attr(&m, 0x0005, mapped, sizeof(mapped));
	msg_attr(&m, 0x802c, other, sizeof(other));
	assert_int_equal(msg_parse(&m, &ans), 0);
	assert_string_equal(addr_str(&ans.mapped, buf, sizeof(buf)), "198.51.100.7/10000");
	assert_string_equal(addr_str(&ans.other, buf, sizeof(buf)), "198.51.100.8/3479");

	/* An error response, with and without its code. */
	msg_start(&m, 0x0111);
	msg_attr(&m, 0x0009, err401, sizeof(err401));
	assert_int_equal(msg_parse(&m, &ans), 0);
	assert_false(ans.success);
	assert_int_equal(ans.error, 401);
	msg_start(&m, 0x0111);
	assert_int_equal(msg_parse(&m, &ans), 0);
	assert_int_equal(ans.error, 0);

	/* A success without a mapped address, bad families and sizes, an
	 * unknown comprehension-required attribute, an attribute overrun,
	 * something after FINGERPRINT, an error code out of range. */
	msg_start(&m, 0x0101);
	assert_int_equal(msg_parse(&m, &ans), -EBADMSG);
	msg_start(&m, 0x0101);
	msg_attr(&m, 0x0020, bad_family, sizeof(bad_family));
	assert_int_equal(msg_parse(&m, &ans), -EBADMSG);
	msg_start(&m, 0x0101);
	msg_attr(&m, 0x0020, mapped, 6);
	assert_int_equal(msg_parse(&m, &ans), -EBADMSG);
	msg_start(&m, 0x0101);
	msg_attr(&m, 0x0001, mapped, sizeof(mapped));
	msg_attr(&m, 0x0042, "abcd", 4);
	assert_int_equal(msg_parse(&m, &ans), -EBADMSG);
	msg_start(&m, 0x0101);
	msg_attr(&m, 0x0001, mapped, sizeof(mapped));
	msg_attr(&m, 0x8042, "abcd", 4); /* optional: ignored */
	assert_int_equal(msg_parse(&m, &ans), 0);
	store_be16(m.b + 22, 200); /* the first attribute claims more than there is */
	assert_int_equal(msg_parse(&m, &ans), -EBADMSG);
	msg_start(&m, 0x0101);
	msg_attr(&m, 0x0001, mapped, sizeof(mapped));
	msg_attr(&m, 0x8028, "\0\0\0\0", 4);
	msg_attr(&m, 0x8022, "x", 1);
	assert_int_equal(msg_parse(&m, &ans), -EBADMSG);
	msg_start(&m, 0x0111);
	msg_attr(&m, 0x0009, (const uint8_t[]){0, 0, 7, 0}, 4);
	assert_int_equal(msg_parse(&m, &ans), -EBADMSG);
	/* Other methods and classes are not ours. */
	msg_start(&m, 0x0103); /* Allocate success */
	msg_attr(&m, 0x0020, mapped, sizeof(mapped));
	assert_int_equal(msg_parse(&m, &ans), -ENOMSG);
	msg_start(&m, 0x0011); /* Binding indication */
	assert_int_equal(msg_parse(&m, &ans), -ENOMSG);
}

/* ---- whole checks against fake servers ---- */

struct fake_server {
	uv_udp_t h;
	uint16_t port;
	const char *mapped;  /* "ip:port" to report, NULL: the real source */
	uint16_t other_port; /* OTHER-ADDRESS 127.0.0.1:other_port when set */
	bool error;          /* answer 401 */
	unsigned requests;
};

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char buf[1500];

	*b = uv_buf_init(buf, sizeof(buf));
}

static void xor_addr(uint8_t v[8], const struct sockaddr_in *sin)
{
	uint32_t a = ntohl(sin->sin_addr.s_addr) ^ 0x2112a442;

	v[0] = 0;
	v[1] = 1;
	store_be16(v + 2, ntohs(sin->sin_port) ^ 0x2112);
	store_be32(v + 4, a);
}

static void on_request(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                       unsigned flags)
{
	struct fake_server *s = h->data;
	struct sockaddr_in sin;
	struct msg m;
	uint8_t v[8];
	uv_buf_t out;

	if (n < 20 || !from)
		return;
	s->requests++;
	msg_start(&m, s->error ? 0x0111 : 0x0101);
	memcpy(m.b + 8, b->base + 8, NETCHECK_TXID_LEN);
	if (s->error) {
		msg_attr(&m, 0x0009, (const uint8_t[]){0, 0, 4, 1}, 4);
	} else {
		if (s->mapped)
			uv_ip4_addr(s->mapped, 40000, &sin);
		else
			memcpy(&sin, from, sizeof(sin));
		xor_addr(v, &sin);
		msg_attr(&m, 0x0020, v, sizeof(v));
		if (s->other_port) {
			uv_ip4_addr("127.0.0.1", s->other_port, &sin);
			v[2] = (uint8_t)(s->other_port >> 8);
			v[3] = (uint8_t)s->other_port;
			memcpy(v + 4, &sin.sin_addr, 4);
			msg_attr(&m, 0x802c, v, sizeof(v));
		}
	}
	out = uv_buf_init((char *)m.b, (unsigned)m.len);
	uv_udp_try_send(h, &out, 1, from);
}

static void server_start(uv_loop_t *loop, struct fake_server *s)
{
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	uv_ip4_addr("127.0.0.1", 0, &sin);
	assert_int_equal(uv_udp_init(loop, &s->h), 0);
	s->h.data = s;
	assert_int_equal(uv_udp_bind(&s->h, (struct sockaddr *)&sin, 0), 0);
	assert_int_equal(uv_udp_getsockname(&s->h, (struct sockaddr *)&ss, &len), 0);
	s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	assert_int_equal(uv_udp_recv_start(&s->h, on_alloc, on_request), 0);
}

struct result {
	bool done;
	int err;
	json_t *report;
	bool cancel;
};

static void on_done(void *arg, int err, json_t *report)
{
	struct result *r = arg;

	r->done = true;
	r->err = err;
	r->report = report;
}

static bool cancelled(void *arg)
{
	return ((struct result *)arg)->cancel;
}

static void add(struct config *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct config *cfg, const char *fmt, ...)
{
	char set[256], err[CONFIG_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(set, sizeof(set), fmt, ap);
	va_end(ap);
	if (config_set(cfg, set, err, sizeof(err)) < 0)
		fail_msg("%s: %s", set, err);
}

/* Runs a check of cfg while the servers answer; the loop ends with it. */
static json_t *run_check(uv_loop_t *loop, const struct config *cfg, struct result *res)
{
	memset(res, 0, sizeof(*res));
	assert_int_equal(netcheck_start(loop, cfg, on_done, cancelled, res), 0);
	assert_false(res->done); /* never from inside netcheck_start */
	while (!res->done)
		uv_run(loop, UV_RUN_ONCE);
	return res->report;
}

static const char *nat_of(const json_t *rep)
{
	return json_string_value(json_object_get(json_object_get(rep, "nat"), "mapping"));
}

static const json_t *entry(const json_t *rep, const char *list, size_t i)
{
	return json_array_get(json_object_get(rep, list), i);
}

static const char *field(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void close_servers(uv_loop_t *loop, struct fake_server *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		uv_close((uv_handle_t *)&s[i].h, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
}

static void test_check_mappings(void **state)
{
	struct fake_server s[3] = {
	        {.mapped = "203.0.113.5"}, {.mapped = "203.0.113.5"}, {.error = true}};
	static struct config cfg;
	struct result res;
	uv_loop_t loop;
	json_t *rep;
	char want[64], *dump;

	assert_int_equal(uv_loop_init(&loop), 0);
	for (size_t i = 0; i < 3; i++)
		server_start(&loop, &s[i]);

	/* Two servers see the same mapping; one relay answers (an error
	 * response still proves it is there), one is silent. */
	config_init(&cfg);
	add(&cfg, "ice.stun=127.0.0.1:%u", s[0].port);
	add(&cfg, "ice.stun=127.0.0.1:%u", s[1].port);
	add(&cfg, "ice.turn=turn://u:secret@127.0.0.1:%u", s[2].port);
	add(&cfg, "ice.turn=turn://u:secret@127.0.0.1:9");
	rep = run_check(&loop, &cfg, &res);
	assert_int_equal(res.err, 0);
	assert_non_null(rep);
	assert_string_equal(nat_of(rep), "endpoint-independent");
	assert_string_equal(field(entry(rep, "stun", 0), "mapped"), "203.0.113.5:40000");
	assert_string_equal(json_string_value(json_array_get(json_object_get(rep, "reflexive"), 0)),
	                    "203.0.113.5:40000");
	assert_int_equal(json_array_size(json_object_get(rep, "reflexive")), 1);
	snprintf(want, sizeof(want), "127.0.0.1:%u", s[2].port);
	assert_string_equal(field(entry(rep, "relays", 0), "server"), want);
	assert_true(json_is_true(json_object_get(entry(rep, "relays", 0), "reachable")));
	assert_true(json_is_number(json_object_get(entry(rep, "relays", 0), "rtt_ms")));
	assert_false(json_is_true(json_object_get(entry(rep, "relays", 1), "reachable")));
	assert_string_equal(field(entry(rep, "relays", 1), "error"), "no answer");
	/* Retransmissions went to the silent one only. */
	assert_int_equal(s[0].requests, 1);
	/* Credentials never show. */
	dump = json_dumps(rep, 0);
	assert_null(strstr(dump, "secret"));
	free(dump);
	json_decref(rep);

	/* Different mappings: endpoint-dependent. */
	s[1].mapped = "203.0.113.6";
	config_init(&cfg);
	add(&cfg, "ice.stun=127.0.0.1:%u", s[0].port);
	add(&cfg, "ice.stun=127.0.0.1:%u", s[1].port);
	rep = run_check(&loop, &cfg, &res);
	assert_string_equal(nat_of(rep), "endpoint-dependent");
	assert_int_equal(json_array_size(json_object_get(rep, "reflexive")), 2);
	assert_int_equal(json_array_size(json_object_get(rep, "relays")), 0);
	json_decref(rep);

	/* The real source address, one of ours: no NAT. */
	s[0].mapped = NULL;
	config_init(&cfg);
	add(&cfg, "ice.stun=127.0.0.1:%u", s[0].port);
	rep = run_check(&loop, &cfg, &res);
	assert_string_equal(nat_of(rep), "none");
	json_decref(rep);

	/* One server that names another address: that is the second probe. */
	s[0].mapped = "203.0.113.5";
	s[0].other_port = s[1].port;
	s[1].mapped = "203.0.113.5";
	config_init(&cfg);
	add(&cfg, "ice.stun=127.0.0.1:%u", s[0].port);
	rep = run_check(&loop, &cfg, &res);
	assert_string_equal(nat_of(rep), "endpoint-independent");
	assert_int_equal(json_array_size(json_object_get(rep, "stun")), 2);
	snprintf(want, sizeof(want), "127.0.0.1:%u", s[0].port);
	assert_string_equal(field(entry(rep, "stun", 1), "alternate_of"), want);
	json_decref(rep);

	/* Alone and without another address: unknown, and why. */
	s[0].other_port = 0;
	rep = run_check(&loop, &cfg, &res);
	assert_string_equal(nat_of(rep), "unknown");
	assert_non_null(strstr(field(json_object_get(rep, "nat"), "detail"), "second [ice] stun"));
	json_decref(rep);

	/* No STUN server at all. */
	config_init(&cfg);
	rep = run_check(&loop, &cfg, &res);
	assert_string_equal(nat_of(rep), "unknown");
	assert_string_equal(field(json_object_get(rep, "nat"), "detail"),
	                    "no STUN server configured ([ice] stun)");
	assert_true(json_is_array(json_object_get(rep, "local")));
	json_decref(rep);

	close_servers(&loop, s, 3);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_check_cancelled(void **state)
{
	static struct config cfg;
	struct result res;
	uv_loop_t loop;

	/* A server that never answers, and a client that went away: the check
	 * ends at its next tick, not after its budget. */
	assert_int_equal(uv_loop_init(&loop), 0);
	config_init(&cfg);
	add(&cfg, "ice.stun=127.0.0.1:9");
	memset(&res, 0, sizeof(res));
	assert_int_equal(netcheck_start(&loop, &cfg, on_done, cancelled, &res), 0);
	res.cancel = true;
	while (!res.done)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(res.err, -ECANCELED);
	assert_null(res.report);
	/* Its handles close while the loop runs. */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_request),        cmocka_unit_test(test_rfc5769),
	        cmocka_unit_test(test_malformed),      cmocka_unit_test(test_attributes),
	        cmocka_unit_test(test_check_mappings), cmocka_unit_test(test_check_cancelled),
	};

	log_set_level(LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
