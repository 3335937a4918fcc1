/* SPDX-License-Identifier: MIT */
/* test_turn_server.c: the TURN server on a libuv loop on 127.0.0.1, driven by a client
 * written with the codec and by plain UDP sockets as peers: the 401 challenge,
 * Allocate, permissions, Send and Data indications, channels both ways, quotas,
 * refused credentials, refresh, expiry, rate limiting, and bad requests; the
 * batched data path: many datagrams per receive for several allocations and
 * peers, UDP_GRO runs split into datagrams and equal datagrams sent as
 * UDP_SEGMENT runs. Everything stays on loopback (127.0.0.1, and 127.0.0.2
 * for a second peer IP). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "net/udp.h"
#include "relay/stun.h"
#include "relay/turn.h"

#define REALM "relay.test"

static uv_loop_t loop;
static struct turn_server *server;
static struct sockaddr_storage server_addr;
static unsigned key_calls;
static bool closed;

struct client {
	int fd;
	struct sockaddr_storage addr;
	const char *user, *pass;
	char nonce[128];
	uint8_t key[STUN_KEY_LEN];
	uint8_t txid[STUN_TXID_LEN];
	uint8_t resp[2048];
	size_t resp_len;
	struct stun_msg msg; /* the last response */
};

static int key_fn(void *arg, const char *user, uint8_t key[16])
{
	static const char *const users[][2] = {{"alice", "alice-pw"}, {"bob", "bob-pw"}};

	key_calls++;
	for (size_t i = 0; i < ARRAY_SIZE(users); i++)
		if (strcmp(user, users[i][0]) == 0)
			return stun_long_term_key(user, REALM, users[i][1], key);
	return -ENOENT;
}

/* ---- sockets and the loop ---- */

static int udp_socket(const char *ip, struct sockaddr_storage *ret)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(*ret);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)ret, &len), 0);
	return fd;
}

/* Runs the loop until fd is readable; false after timeout_ms. */
static bool pump_until_readable(int fd, int timeout_ms)
{
	for (int i = 0; i < timeout_ms; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		uv_run(&loop, UV_RUN_NOWAIT);
		if (poll(&p, 1, 1) == 1)
			return true;
	}
	return false;
}

static void pump(int ms)
{
	for (int i = 0; i < ms; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
}

/* The next datagram on fd within a second, or -1. */
static ssize_t receive(int fd, uint8_t *buf, size_t cap, struct sockaddr_storage *from)
{
	socklen_t flen = sizeof(*from);

	if (!pump_until_readable(fd, 1000))
		return -1;
	return recvfrom(fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)from, &flen);
}

/* Counts what arrives on fd while the loop runs for ms. */
static unsigned drain(int fd, int ms)
{
	uint8_t buf[2048];
	unsigned n = 0;

	pump(ms);
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

static void send_to(int fd, const void *buf, size_t len, const struct sockaddr_storage *to)
{
	assert_int_equal(sendto(fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to)),
	                 (ssize_t)len);
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *x = (const struct sockaddr_in *)a;
	const struct sockaddr_in *y = (const struct sockaddr_in *)b;

	return x->sin_family == y->sin_family && x->sin_port == y->sin_port &&
	       x->sin_addr.s_addr == y->sin_addr.s_addr;
}

/* ---- the server ---- */

static void server_start(const struct turn_config *cfg)
{
	struct sockaddr_in listen = {.sin_family = AF_INET}, relay = {.sin_family = AF_INET};

	assert_int_equal(uv_loop_init(&loop), 0);
	inet_pton(AF_INET, "127.0.0.1", &listen.sin_addr);
	relay.sin_addr = listen.sin_addr;
	key_calls = 0;
	assert_int_equal(turn_server_new(&loop, cfg, (struct sockaddr *)&listen,
	                                 (struct sockaddr *)&relay, key_fn, NULL, &server),
	                 0);
	assert_int_equal(turn_server_address(server, &server_addr), 0);
	assert_int_not_equal(((struct sockaddr_in *)&server_addr)->sin_port, 0);
}

static void on_closed(void *arg)
{
	*(bool *)arg = true;
}

static void server_stop(void)
{
	closed = false;
	turn_server_close(server, on_closed, &closed);
	/* Never from inside the call. */
	assert_false(closed);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_true(closed);
	assert_int_equal(uv_loop_close(&loop), 0);
	server = NULL;
}

static void default_config(struct turn_config *cfg)
{
	turn_config_init(cfg, REALM);
}

static struct turn_stats stats(void)
{
	struct turn_stats st;

	turn_server_stats(server, &st);
	return st;
}

/* ---- the client ---- */

static void client_init(struct client *c, const char *user, const char *pass)
{
	memset(c, 0, sizeof(*c));
	c->fd = udp_socket("127.0.0.1", &c->addr);
	c->user = user;
	c->pass = pass;
	assert_int_equal(stun_long_term_key(user, REALM, pass, c->key), 0);
}

static void client_free(struct client *c)
{
	close(c->fd);
}

/* Builds into buf: the caller's attributes come through add(). */
struct req_buf {
	uint8_t b[1024];
	struct stun_builder sb;
};

static void rq_begin(struct client *c, struct req_buf *r, uint16_t method, enum stun_class cls)
{
	static uint32_t counter;

	store_be32(c->txid, ++counter);
	memcpy(c->txid + 4, "turn-tst", 8);
	stun_build_init(&r->sb, r->b, sizeof(r->b), method, cls, c->txid);
}

/* Adds the credentials and sends; returns the length sent. */
static size_t rq_send(struct client *c, struct req_buf *r, bool sign, bool fingerprint)
{
	size_t len;

	if (sign) {
		stun_put(&r->sb, STUN_ATTR_USERNAME, c->user, strlen(c->user));
		stun_put(&r->sb, STUN_ATTR_REALM, REALM, strlen(REALM));
		stun_put(&r->sb, STUN_ATTR_NONCE, c->nonce, strlen(c->nonce));
		stun_put_integrity(&r->sb, c->key, sizeof(c->key));
	}
	if (fingerprint)
		stun_put_fingerprint(&r->sb);
	assert_int_equal(stun_build_finish(&r->sb, &len), 0);
	send_to(c->fd, r->b, len, &server_addr);
	return len;
}

/* Waits for the response to the last request and returns its class; the
 * message is in c->msg. */
static enum stun_class rq_wait(struct client *c)
{
	struct sockaddr_storage from;
	ssize_t n;

	for (;;) {
		n = receive(c->fd, c->resp, sizeof(c->resp), &from);
		assert_true(n > 0);
		assert_true(same_addr(&from, &server_addr));
		c->resp_len = (size_t)n;
		assert_int_equal(stun_parse(c->resp, c->resp_len, &c->msg), 0);
		/* Data indications may come in between. */
		if (memcmp(c->msg.txid, c->txid, STUN_TXID_LEN) == 0)
			break;
	}
	return c->msg.cls;
}

static unsigned error_code(const struct client *c)
{
	const struct stun_attr *a = stun_find(&c->msg, STUN_ATTR_ERROR_CODE);
	unsigned code = 0;

	assert_non_null(a);
	assert_int_equal(stun_attr_error(a, &code), 0);
	return code;
}

/* The response is an error with this code; signed by the server when
 * `signed_` (authenticated requests), otherwise not. */
static void expect_error(struct client *c, unsigned code, bool signed_)
{
	assert_int_equal(rq_wait(c), STUN_ERROR);
	assert_int_equal(error_code(c), code);
	if (signed_)
		assert_int_equal(stun_check_integrity(&c->msg, c->key, sizeof(c->key)), 0);
	else
		assert_int_equal(c->msg.integrity_off, 0);
}

static void expect_success(struct client *c)
{
	enum stun_class cls = rq_wait(c);

	if (cls == STUN_ERROR)
		fail_msg("error %u", error_code(c));
	assert_int_equal(cls, STUN_SUCCESS);
	assert_int_equal(stun_check_integrity(&c->msg, c->key, sizeof(c->key)), 0);
}

/* Takes the nonce of a 401 or 438. */
static void take_nonce(struct client *c)
{
	const struct stun_attr *realm = stun_find(&c->msg, STUN_ATTR_REALM);
	const struct stun_attr *nonce = stun_find(&c->msg, STUN_ATTR_NONCE);

	assert_non_null(realm);
	assert_non_null(nonce);
	assert_int_equal(realm->len, strlen(REALM));
	assert_memory_equal(realm->value, REALM, realm->len);
	assert_true(nonce->len < sizeof(c->nonce));
	memcpy(c->nonce, nonce->value, nonce->len);
	c->nonce[nonce->len] = 0;
}

static void put_transport(struct req_buf *r, uint8_t proto)
{
	uint8_t v[4] = {proto};

	stun_put(&r->sb, STUN_ATTR_REQUESTED_TRANSPORT, v, sizeof(v));
}

/* The first, unauthenticated Allocate: 401 with REALM and NONCE. */
static void challenge(struct client *c)
{
	struct req_buf r;

	rq_begin(c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	rq_send(c, &r, false, true);
	expect_error(c, STUN_ERR_UNAUTHENTICATED, false);
	take_nonce(c);
}

/* The authenticated Allocate; returns the relayed address. */
static void allocate(struct client *c, struct sockaddr_storage *relayed)
{
	struct sockaddr_storage mapped;
	struct req_buf r;
	uint32_t lifetime;

	challenge(c);
	rq_begin(c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	rq_send(c, &r, true, true);
	expect_success(c);
	assert_true(c->msg.fingerprint);
	assert_int_equal(stun_attr_addr(stun_find(&c->msg, STUN_ATTR_XOR_RELAYED_ADDRESS), true,
	                                c->msg.txid, relayed),
	                 0);
	assert_int_equal(stun_attr_addr(stun_find(&c->msg, STUN_ATTR_XOR_MAPPED_ADDRESS), true,
	                                c->msg.txid, &mapped),
	                 0);
	assert_true(same_addr(&mapped, &c->addr));
	assert_int_equal(stun_attr_u32(stun_find(&c->msg, STUN_ATTR_LIFETIME), &lifetime), 0);
	assert_true(lifetime > 0);
}

static void put_peer(struct req_buf *r, const struct sockaddr_storage *peer)
{
	stun_put_addr(&r->sb, STUN_ATTR_XOR_PEER_ADDRESS, (const struct sockaddr *)peer, true);
}

static void permit(struct client *c, const struct sockaddr_storage *peer)
{
	struct req_buf r;

	rq_begin(c, &r, STUN_CREATE_PERMISSION, STUN_REQUEST);
	put_peer(&r, peer);
	rq_send(c, &r, true, false);
	expect_success(c);
}

static void send_indication(struct client *c, const struct sockaddr_storage *peer, const void *data,
                            size_t len)
{
	struct req_buf r;

	rq_begin(c, &r, STUN_SEND, STUN_INDICATION);
	put_peer(&r, peer);
	stun_put(&r.sb, STUN_ATTR_DATA, data, len);
	rq_send(c, &r, false, false);
}

static void channel_bind(struct client *c, uint16_t number, const struct sockaddr_storage *peer)
{
	struct req_buf r;
	uint8_t v[4] = {0};

	store_be16(v, number);
	rq_begin(c, &r, STUN_CHANNEL_BIND, STUN_REQUEST);
	stun_put(&r.sb, STUN_ATTR_CHANNEL_NUMBER, v, sizeof(v));
	put_peer(&r, peer);
	rq_send(c, &r, true, false);
}

static void refresh(struct client *c, uint32_t lifetime)
{
	struct req_buf r;

	rq_begin(c, &r, STUN_REFRESH, STUN_REQUEST);
	stun_put_u32(&r.sb, STUN_ATTR_LIFETIME, lifetime);
	rq_send(c, &r, true, false);
}

static void set_ip(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
}

/* ---- tests ---- */

static void test_binding(void **state)
{
	struct turn_config cfg;
	struct sockaddr_storage mapped;
	struct client c;
	struct req_buf r;
	uint16_t unknown;

	default_config(&cfg);
	server_start(&cfg);
	client_init(&c, "alice", "alice-pw");
	/* A plain STUN server: no credentials needed. */
	rq_begin(&c, &r, STUN_BINDING, STUN_REQUEST);
	rq_send(&c, &r, false, true);
	assert_int_equal(rq_wait(&c), STUN_SUCCESS);
	assert_true(c.msg.fingerprint);
	assert_int_equal(c.msg.integrity_off, 0);
	assert_int_equal(stun_attr_addr(stun_find(&c.msg, STUN_ATTR_XOR_MAPPED_ADDRESS), true,
	                                c.msg.txid, &mapped),
	                 0);
	assert_true(same_addr(&mapped, &c.addr));
	/* Without FINGERPRINT, none comes back. */
	rq_begin(&c, &r, STUN_BINDING, STUN_REQUEST);
	rq_send(&c, &r, false, false);
	assert_int_equal(rq_wait(&c), STUN_SUCCESS);
	assert_false(c.msg.fingerprint);
	/* An unknown comprehension-required attribute: 420 naming it. */
	rq_begin(&c, &r, STUN_BINDING, STUN_REQUEST);
	stun_put(&r.sb, 0x7777, "x", 1);
	stun_put(&r.sb, 0xc001, "optional", 8);
	rq_send(&c, &r, false, false);
	expect_error(&c, STUN_ERR_UNKNOWN_ATTRIBUTE, false);
	assert_int_equal(stun_find(&c.msg, STUN_ATTR_UNKNOWN_ATTRIBUTES)->len, 2);
	unknown = load_be16(stun_find(&c.msg, STUN_ATTR_UNKNOWN_ATTRIBUTES)->value);
	assert_int_equal(unknown, 0x7777);
	/* Indications and responses get nothing. */
	rq_begin(&c, &r, STUN_BINDING, STUN_INDICATION);
	rq_send(&c, &r, false, false);
	rq_begin(&c, &r, STUN_BINDING, STUN_SUCCESS);
	rq_send(&c, &r, false, false);
	assert_int_equal(drain(c.fd, 50), 0);
	/* An unknown method: 400. */
	rq_begin(&c, &r, 0x0123, STUN_REQUEST);
	rq_send(&c, &r, false, false);
	expect_error(&c, STUN_ERR_BAD_REQUEST, false);
	client_free(&c);
	server_stop();
}

/* 401, Allocate, CreatePermission, Send, the peer's answer as a Data indication. */
static void test_allocate_send_data(void **state)
{
	struct sockaddr_storage relayed, again, peer_addr, peer2_addr, from, got;
	uint8_t buf[2048], txid[STUN_TXID_LEN];
	struct turn_config cfg;
	struct stun_msg m;
	struct client c;
	struct req_buf r;
	int peer, peer2;
	ssize_t n;

	default_config(&cfg);
	server_start(&cfg);
	client_init(&c, "alice", "alice-pw");
	peer = udp_socket("127.0.0.1", &peer_addr);
	peer2 = udp_socket("127.0.0.2", &peer2_addr);
	allocate(&c, &relayed);
	assert_int_equal(stats().allocations, 1);
	assert_int_equal(relayed.ss_family, AF_INET);
	assert_int_equal(((struct sockaddr_in *)&relayed)->sin_addr.s_addr, htonl(0x7f000001));
	/* A retransmission of the Allocate gets the same answer. */
	memcpy(txid, c.txid, sizeof(txid));
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	memcpy(r.b + 8, txid, sizeof(txid));
	memcpy(c.txid, txid, sizeof(txid));
	put_transport(&r, 17);
	rq_send(&c, &r, true, false);
	expect_success(&c);
	assert_int_equal(stun_attr_addr(stun_find(&c.msg, STUN_ATTR_XOR_RELAYED_ADDRESS), true,
	                                c.msg.txid, &again),
	                 0);
	assert_true(same_addr(&again, &relayed));
	/* Another Allocate on the same 5-tuple: 437. */
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	rq_send(&c, &r, true, false);
	expect_error(&c, STUN_ERR_ALLOCATION_MISMATCH, true);
	assert_int_equal(stats().allocations, 1);

	/* No permission yet: nothing goes through. */
	send_indication(&c, &peer_addr, "early", 5);
	assert_int_equal(drain(peer, 50), 0);
	permit(&c, &peer_addr);
	send_indication(&c, &peer_addr, "hello", 5);
	n = receive(peer, buf, sizeof(buf), &from);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_true(same_addr(&from, &relayed));
	/* The peer answers: a Data indication. */
	send_to(peer, "world!", 6, &relayed);
	n = receive(c.fd, buf, sizeof(buf), &from);
	assert_true(n > 0);
	assert_int_equal(stun_parse(buf, (size_t)n, &m), 0);
	assert_int_equal(m.method, STUN_DATA);
	assert_int_equal(m.cls, STUN_INDICATION);
	assert_int_equal(
	        stun_attr_addr(stun_find(&m, STUN_ATTR_XOR_PEER_ADDRESS), true, m.txid, &got), 0);
	assert_true(same_addr(&got, &peer_addr));
	assert_int_equal(stun_find(&m, STUN_ATTR_DATA)->len, 6);
	assert_memory_equal(stun_find(&m, STUN_ATTR_DATA)->value, "world!", 6);
	/* Permissions are per IP address: another port of the same IP passes,
	 * another IP does not, either way. */
	send_to(peer2, "blocked", 7, &relayed);
	send_indication(&c, &peer2_addr, "blocked", 7);
	assert_int_equal(drain(c.fd, 50), 0);
	assert_int_equal(drain(peer2, 1), 0);
	assert_int_equal(stats().relayed_bytes, 11);
	/* A Send indication without DATA, or to a peer of another family, is dropped. */
	rq_begin(&c, &r, STUN_SEND, STUN_INDICATION);
	put_peer(&r, &peer_addr);
	rq_send(&c, &r, false, false);
	assert_int_equal(drain(peer, 50), 0);
	close(peer);
	close(peer2);
	client_free(&c);
	server_stop();
}

static void recv_channel_data(int fd, uint16_t want_channel, const char *want)
{
	struct sockaddr_storage from;
	uint8_t buf[2048];
	const uint8_t *data;
	uint16_t ch;
	size_t dlen;
	ssize_t n = receive(fd, buf, sizeof(buf), &from);

	assert_true(n > 0);
	assert_true(stun_is_channel_data(buf, (size_t)n));
	assert_int_equal(stun_channel_data_parse(buf, (size_t)n, &ch, &data, &dlen), 0);
	assert_int_equal(ch, want_channel);
	assert_int_equal(dlen, strlen(want));
	assert_memory_equal(data, want, dlen);
}

static void test_channels(void **state)
{
	struct sockaddr_storage relayed, peer_addr, other_addr, from;
	uint8_t buf[64];
	struct turn_config cfg;
	struct client c;
	int peer, other;
	ssize_t n;

	default_config(&cfg);
	server_start(&cfg);
	client_init(&c, "alice", "alice-pw");
	peer = udp_socket("127.0.0.1", &peer_addr);
	other = udp_socket("127.0.0.2", &other_addr);
	allocate(&c, &relayed);
	/* ChannelBind installs the permission too. */
	channel_bind(&c, 0x4001, &peer_addr);
	expect_success(&c);
	assert_int_equal(stun_channel_data_header(buf, 0x4001, 4), 0);
	memcpy(buf + 4, "ping", 4);
	send_to(c.fd, buf, 8, &server_addr);
	n = receive(peer, buf, sizeof(buf), &from);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "ping", 4);
	assert_true(same_addr(&from, &relayed));
	/* The peer's answer comes back as ChannelData, unpadded. */
	send_to(peer, "pong!", 5, &relayed);
	recv_channel_data(c.fd, 0x4001, "pong!");
	/* Padded ChannelData is accepted. */
	assert_int_equal(stun_channel_data_header(buf, 0x4001, 3), 0);
	memcpy(buf + 4, "abc\0", 4);
	send_to(c.fd, buf, 8, &server_addr);
	n = receive(peer, buf, sizeof(buf), &from);
	assert_int_equal(n, 3);
	/* A channel that is not bound: dropped. */
	assert_int_equal(stun_channel_data_header(buf, 0x4002, 4), 0);
	send_to(c.fd, buf, 8, &server_addr);
	assert_int_equal(drain(peer, 50), 0);
	/* One peer per channel, one channel per peer, numbers in range. */
	channel_bind(&c, 0x4001, &other_addr);
	expect_error(&c, STUN_ERR_BAD_REQUEST, true);
	channel_bind(&c, 0x4002, &peer_addr);
	expect_error(&c, STUN_ERR_BAD_REQUEST, true);
	channel_bind(&c, 0x3fff, &other_addr);
	expect_error(&c, STUN_ERR_BAD_REQUEST, true);
	channel_bind(&c, 0x8000, &other_addr);
	expect_error(&c, STUN_ERR_BAD_REQUEST, true);
	/* Binding it again refreshes it. */
	channel_bind(&c, 0x4001, &peer_addr);
	expect_success(&c);
	/* A second channel to another peer; its data goes to that peer only. */
	channel_bind(&c, 0x63b5, &other_addr);
	expect_success(&c);
	send_to(other, "x2", 2, &relayed);
	recv_channel_data(c.fd, 0x63b5, "x2");
	assert_int_equal(stats().relayed_bytes, 4 + 5 + 3 + 2);
	close(peer);
	close(other);
	client_free(&c);
	server_stop();
}

static void test_quota(void **state)
{
	struct sockaddr_storage relayed;
	struct client a1, a2, a3, b1, b2;
	struct turn_config cfg;
	struct req_buf r;

	default_config(&cfg);
	cfg.max_allocs_per_user = 2;
	cfg.max_allocs_total = 3;
	server_start(&cfg);
	client_init(&a1, "alice", "alice-pw");
	client_init(&a2, "alice", "alice-pw");
	client_init(&a3, "alice", "alice-pw");
	client_init(&b1, "bob", "bob-pw");
	client_init(&b2, "bob", "bob-pw");
	allocate(&a1, &relayed);
	allocate(&a2, &relayed);
	/* The user's quota: 486. */
	challenge(&a3);
	rq_begin(&a3, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	rq_send(&a3, &r, true, false);
	expect_error(&a3, STUN_ERR_QUOTA, true);
	assert_int_equal(stats().refused_quota, 1);
	allocate(&b1, &relayed);
	/* The server's capacity: 508. */
	challenge(&b2);
	rq_begin(&b2, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	rq_send(&b2, &r, true, false);
	expect_error(&b2, STUN_ERR_INSUFFICIENT_CAPACITY, true);
	assert_int_equal(stats().refused_quota, 2);
	assert_int_equal(stats().allocations, 3);
	/* Freeing one makes room again. */
	refresh(&a1, 0);
	expect_success(&a1);
	rq_begin(&a3, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	rq_send(&a3, &r, true, false);
	expect_success(&a3);
	assert_int_equal(stats().allocations, 3);
	client_free(&a1);
	client_free(&a2);
	client_free(&a3);
	client_free(&b1);
	client_free(&b2);
	server_stop();
}

static void test_unknown_user(void **state)
{
	struct turn_config cfg;
	struct client c;
	struct req_buf r;
	unsigned calls;

	default_config(&cfg);
	server_start(&cfg);
	client_init(&c, "mallory", "whatever");
	challenge(&c);
	calls = key_calls;
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	rq_send(&c, &r, true, false);
	/* The same answer as a wrong password. */
	expect_error(&c, STUN_ERR_UNAUTHENTICATED, false);
	take_nonce(&c);
	assert_int_equal(key_calls, calls + 1);
	assert_int_equal(stats().refused_auth, 1);
	assert_int_equal(stats().allocations, 0);
	client_free(&c);
	server_stop();
}

static void test_bad_credentials(void **state)
{
	struct sockaddr_storage relayed;
	struct turn_config cfg;
	struct client c, d;
	struct req_buf r;
	size_t len;

	default_config(&cfg);
	server_start(&cfg);
	client_init(&c, "alice", "wrong");
	challenge(&c);
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	rq_send(&c, &r, true, false);
	expect_error(&c, STUN_ERR_UNAUTHENTICATED, false);
	assert_int_equal(stats().refused_auth, 1);
	/* The right key, but the message altered after signing. */
	assert_int_equal(stun_long_term_key("alice", REALM, "alice-pw", c.key), 0);
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	stun_put(&r.sb, STUN_ATTR_USERNAME, "alice", 5);
	stun_put(&r.sb, STUN_ATTR_REALM, REALM, strlen(REALM));
	stun_put(&r.sb, STUN_ATTR_NONCE, c.nonce, strlen(c.nonce));
	stun_put_integrity(&r.sb, c.key, sizeof(c.key));
	assert_int_equal(stun_build_finish(&r.sb, &len), 0);
	r.b[STUN_HEADER_LEN + 4] = 6; /* the transport, under the MAC */
	send_to(c.fd, r.b, len, &server_addr);
	expect_error(&c, STUN_ERR_UNAUTHENTICATED, false);
	assert_int_equal(stats().refused_auth, 2);
	/* Another realm. */
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	stun_put(&r.sb, STUN_ATTR_USERNAME, "alice", 5);
	stun_put(&r.sb, STUN_ATTR_REALM, "other.test", 10);
	stun_put(&r.sb, STUN_ATTR_NONCE, c.nonce, strlen(c.nonce));
	stun_put_integrity(&r.sb, c.key, sizeof(c.key));
	rq_send(&c, &r, false, false);
	expect_error(&c, STUN_ERR_UNAUTHENTICATED, false);
	assert_int_equal(stats().refused_auth, 3);
	/* MESSAGE-INTEGRITY without NONCE: 400. */
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	stun_put(&r.sb, STUN_ATTR_USERNAME, "alice", 5);
	stun_put(&r.sb, STUN_ATTR_REALM, REALM, strlen(REALM));
	stun_put_integrity(&r.sb, c.key, sizeof(c.key));
	rq_send(&c, &r, false, false);
	expect_error(&c, STUN_ERR_BAD_REQUEST, false);
	/* A nonce that is not ours: 438 with a fresh one, which then works. */
	strcpy(c.nonce, "00000000000000000000000000000000");
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	rq_send(&c, &r, true, false);
	expect_error(&c, STUN_ERR_STALE_NONCE, false);
	take_nonce(&c);
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	rq_send(&c, &r, true, false);
	expect_success(&c);
	assert_int_equal(stun_attr_addr(stun_find(&c.msg, STUN_ATTR_XOR_RELAYED_ADDRESS), true,
	                                c.msg.txid, &relayed),
	                 0);
	/* A nonce is bound to the client's address: another client cannot use it. */
	client_init(&d, "alice", "alice-pw");
	strcpy(d.nonce, c.nonce);
	rq_begin(&d, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	rq_send(&d, &r, true, false);
	expect_error(&d, STUN_ERR_STALE_NONCE, false);
	/* bob cannot touch alice's allocation: 441. */
	assert_int_equal(stun_long_term_key("bob", REALM, "bob-pw", c.key), 0);
	c.user = "bob";
	refresh(&c, 600);
	expect_error(&c, STUN_ERR_WRONG_CREDENTIALS, true);
	assert_int_equal(stats().allocations, 1);
	client_free(&c);
	client_free(&d);
	server_stop();
}

static void test_refresh(void **state)
{
	struct sockaddr_storage relayed, peer_addr;
	struct turn_config cfg;
	struct client c;
	uint32_t lifetime;
	int peer;

	default_config(&cfg);
	server_start(&cfg);
	client_init(&c, "alice", "alice-pw");
	peer = udp_socket("127.0.0.1", &peer_addr);
	allocate(&c, &relayed);
	assert_int_equal(stun_attr_u32(stun_find(&c.msg, STUN_ATTR_LIFETIME), &lifetime), 0);
	assert_int_equal(lifetime, 600);
	refresh(&c, 1200);
	expect_success(&c);
	assert_int_equal(stun_attr_u32(stun_find(&c.msg, STUN_ATTR_LIFETIME), &lifetime), 0);
	assert_int_equal(lifetime, 1200);
	/* Capped at the maximum; never below the default. */
	refresh(&c, 100000);
	expect_success(&c);
	assert_int_equal(stun_attr_u32(stun_find(&c.msg, STUN_ATTR_LIFETIME), &lifetime), 0);
	assert_int_equal(lifetime, 3600);
	refresh(&c, 5);
	expect_success(&c);
	assert_int_equal(stun_attr_u32(stun_find(&c.msg, STUN_ATTR_LIFETIME), &lifetime), 0);
	assert_int_equal(lifetime, 600);
	permit(&c, &peer_addr);
	/* Lifetime 0 deletes the allocation and its relayed socket. */
	refresh(&c, 0);
	expect_success(&c);
	assert_int_equal(stun_attr_u32(stun_find(&c.msg, STUN_ATTR_LIFETIME), &lifetime), 0);
	assert_int_equal(lifetime, 0);
	assert_int_equal(stats().allocations, 0);
	send_to(peer, "late", 4, &relayed);
	assert_int_equal(drain(c.fd, 50), 0);
	send_indication(&c, &peer_addr, "late", 4);
	assert_int_equal(drain(peer, 50), 0);
	/* Nothing left to refresh: 437. */
	refresh(&c, 600);
	expect_error(&c, STUN_ERR_ALLOCATION_MISMATCH, true);
	close(peer);
	client_free(&c);
	server_stop();
}

static void test_expiry(void **state)
{
	struct sockaddr_storage relayed;
	struct turn_config cfg;
	struct client c;
	uint32_t lifetime;

	default_config(&cfg);
	cfg.max_lifetime_s = 1;
	server_start(&cfg);
	client_init(&c, "alice", "alice-pw");
	allocate(&c, &relayed);
	assert_int_equal(stun_attr_u32(stun_find(&c.msg, STUN_ATTR_LIFETIME), &lifetime), 0);
	assert_int_equal(lifetime, 1);
	assert_int_equal(stats().allocations, 1);
	/* The sweep runs every second. */
	pump(2200);
	assert_int_equal(stats().allocations, 0);
	client_free(&c);
	server_stop();
}

/* Both directions count against one bucket per user. */
static void test_rate_limit(void **state)
{
	struct sockaddr_storage relayed, peer_addr;
	uint8_t payload[500] = {0};
	struct turn_config cfg;
	struct client c;
	unsigned got;
	int peer;

	default_config(&cfg);
	cfg.bytes_per_s_per_user = 2000;
	server_start(&cfg);
	client_init(&c, "alice", "alice-pw");
	peer = udp_socket("127.0.0.1", &peer_addr);
	allocate(&c, &relayed);
	permit(&c, &peer_addr);
	for (int i = 0; i < 20; i++) {
		send_indication(&c, &peer_addr, payload, sizeof(payload));
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	got = drain(peer, 50);
	/* A second's worth (4) and what trickled in meanwhile (2 bytes a ms;
	 * the bound leaves room for a slow machine). */
	assert_true(got >= 4 && got <= 12);
	for (int i = 0; i < 20; i++)
		send_to(peer, payload, sizeof(payload), &relayed);
	assert_true(drain(c.fd, 50) <= 6);
	assert_true(stats().dropped_rate >= 20);
	assert_true(stats().relayed_bytes <= 20 * sizeof(payload));
	close(peer);
	client_free(&c);
	server_stop();
}

static void test_allocate_refusals(void **state)
{
	struct sockaddr_storage relayed;
	struct turn_config cfg;
	struct client c;
	struct req_buf r;
	uint8_t family[4] = {0x02};

	default_config(&cfg);
	server_start(&cfg);
	client_init(&c, "alice", "alice-pw");
	challenge(&c);
	/* TCP: 442. */
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 6);
	rq_send(&c, &r, true, false);
	expect_error(&c, STUN_ERR_UNSUPPORTED_TRANSPORT, true);
	/* No REQUESTED-TRANSPORT: 400. */
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	rq_send(&c, &r, true, false);
	expect_error(&c, STUN_ERR_BAD_REQUEST, true);
	/* IPv6 from an IPv4 relay: 440. */
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	stun_put(&r.sb, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, family, sizeof(family));
	rq_send(&c, &r, true, false);
	expect_error(&c, STUN_ERR_ADDRESS_FAMILY, true);
	/* DONT-FRAGMENT is not in this subset: 420, signed. */
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	stun_put(&r.sb, STUN_ATTR_DONT_FRAGMENT, NULL, 0);
	stun_put(&r.sb, 0x0031, "unknown", 7);
	rq_send(&c, &r, true, true);
	expect_error(&c, STUN_ERR_UNKNOWN_ATTRIBUTE, true);
	assert_true(c.msg.fingerprint);
	assert_int_equal(stun_find(&c.msg, STUN_ATTR_UNKNOWN_ATTRIBUTES)->len, 4);
	assert_memory_equal(stun_find(&c.msg, STUN_ATTR_UNKNOWN_ATTRIBUTES)->value,
	                    "\x00\x1a\x00\x31", 4);
	/* Nothing is reserved: no next port, no token. */
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	stun_put(&r.sb, STUN_ATTR_EVEN_PORT, "\x80", 1);
	rq_send(&c, &r, true, false);
	expect_error(&c, STUN_ERR_INSUFFICIENT_CAPACITY, true);
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	stun_put(&r.sb, STUN_ATTR_RESERVATION_TOKEN, "12345678", 8);
	rq_send(&c, &r, true, false);
	expect_error(&c, STUN_ERR_INSUFFICIENT_CAPACITY, true);
	/* Both at once: 400. */
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	stun_put(&r.sb, STUN_ATTR_EVEN_PORT, "\x00", 1);
	stun_put(&r.sb, STUN_ATTR_RESERVATION_TOKEN, "12345678", 8);
	rq_send(&c, &r, true, false);
	expect_error(&c, STUN_ERR_BAD_REQUEST, true);
	/* Requests about an allocation that does not exist: 437. */
	rq_begin(&c, &r, STUN_CREATE_PERMISSION, STUN_REQUEST);
	rq_send(&c, &r, true, false);
	expect_error(&c, STUN_ERR_ALLOCATION_MISMATCH, true);
	assert_int_equal(stats().allocations, 0);
	/* EVEN-PORT without a reservation: an even relayed port. */
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	put_transport(&r, 17);
	stun_put(&r.sb, STUN_ATTR_EVEN_PORT, "\x00", 1);
	rq_send(&c, &r, true, false);
	expect_success(&c);
	assert_int_equal(stun_attr_addr(stun_find(&c.msg, STUN_ATTR_XOR_RELAYED_ADDRESS), true,
	                                c.msg.txid, &relayed),
	                 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)&relayed)->sin_port) % 2, 0);
	client_free(&c);
	server_stop();
}

static void test_peer_refusals(void **state)
{
	static const char *const forbidden[] = {"0.0.0.0", "224.0.0.1", "255.255.255.255",
	                                        "10.1.2.3"};
	struct turn_prefix deny = {.family = AF_INET, .addr = {10}, .len = 8};
	struct sockaddr_storage relayed, peer;
	struct sockaddr_in6 six = {.sin6_family = AF_INET6, .sin6_port = htons(9)};
	struct turn_config cfg;
	struct client c;
	struct req_buf r;

	default_config(&cfg);
	cfg.deny = &deny;
	cfg.n_deny = 1;
	cfg.max_permissions = 2;
	server_start(&cfg);
	client_init(&c, "alice", "alice-pw");
	allocate(&c, &relayed);
	for (size_t i = 0; i < ARRAY_SIZE(forbidden); i++) {
		set_ip(&peer, forbidden[i], 9);
		rq_begin(&c, &r, STUN_CREATE_PERMISSION, STUN_REQUEST);
		put_peer(&r, &peer);
		rq_send(&c, &r, true, false);
		expect_error(&c, STUN_ERR_FORBIDDEN, true);
	}
	/* The prefix is a prefix: its neighbour passes. */
	set_ip(&peer, "11.1.2.3", 9);
	permit(&c, &peer);
	/* An IPv6 peer for an IPv4 relay: 443. */
	inet_pton(AF_INET6, "2001:db8::1", &six.sin6_addr);
	rq_begin(&c, &r, STUN_CREATE_PERMISSION, STUN_REQUEST);
	stun_put_addr(&r.sb, STUN_ATTR_XOR_PEER_ADDRESS, (struct sockaddr *)&six, true);
	rq_send(&c, &r, true, false);
	expect_error(&c, STUN_ERR_PEER_ADDRESS_FAMILY, true);
	/* No peer at all: 400. */
	rq_begin(&c, &r, STUN_CREATE_PERMISSION, STUN_REQUEST);
	rq_send(&c, &r, true, false);
	expect_error(&c, STUN_ERR_BAD_REQUEST, true);
	/* Two slots: one is used, two more do not fit, and neither is installed. */
	rq_begin(&c, &r, STUN_CREATE_PERMISSION, STUN_REQUEST);
	set_ip(&peer, "192.0.2.1", 9);
	put_peer(&r, &peer);
	set_ip(&peer, "192.0.2.2", 9);
	put_peer(&r, &peer);
	rq_send(&c, &r, true, false);
	expect_error(&c, STUN_ERR_INSUFFICIENT_CAPACITY, true);
	/* One does, also twice in one request. */
	rq_begin(&c, &r, STUN_CREATE_PERMISSION, STUN_REQUEST);
	put_peer(&r, &peer);
	put_peer(&r, &peer);
	rq_send(&c, &r, true, false);
	expect_success(&c);
	client_free(&c);
	server_stop();
}

static void test_malformed(void **state)
{
	struct turn_config cfg;
	struct client c;
	struct req_buf r;
	size_t len;

	default_config(&cfg);
	server_start(&cfg);
	client_init(&c, "alice", "alice-pw");
	/* A sound header over a broken attribute: 400 with our transaction id. */
	rq_begin(&c, &r, STUN_ALLOCATE, STUN_REQUEST);
	stun_put(&r.sb, STUN_ATTR_SOFTWARE, "abcd", 4);
	assert_int_equal(stun_build_finish(&r.sb, &len), 0);
	store_be16(r.b + STUN_HEADER_LEN + 2, 40);
	send_to(c.fd, r.b, len, &server_addr);
	expect_error(&c, STUN_ERR_BAD_REQUEST, false);
	/* Broken indications and garbage: nothing. */
	store_be16(r.b, stun_type(STUN_SEND, STUN_INDICATION));
	send_to(c.fd, r.b, len, &server_addr);
	send_to(c.fd, "\x01\x02\x03", 3, &server_addr);
	send_to(c.fd, "\x40\x00\x00\x10", 4, &server_addr);
	assert_int_equal(drain(c.fd, 50), 0);
	/* The server still answers. */
	rq_begin(&c, &r, STUN_BINDING, STUN_REQUEST);
	rq_send(&c, &r, false, false);
	assert_int_equal(rq_wait(&c), STUN_SUCCESS);
	client_free(&c);
	server_stop();
}

static void test_bad_config(void **state)
{
	struct sockaddr_in lo = {.sin_family = AF_INET}, any = {.sin_family = AF_INET};
	struct turn_prefix bad = {.family = AF_INET, .len = 33};
	struct turn_server *s = NULL, *s2 = NULL;
	struct turn_config cfg;

	assert_int_equal(uv_loop_init(&loop), 0);
	inet_pton(AF_INET, "127.0.0.1", &lo.sin_addr);
	default_config(&cfg);
	/* A wildcard cannot be announced. */
	assert_int_equal(turn_server_new(&loop, &cfg, (struct sockaddr *)&lo,
	                                 (struct sockaddr *)&any, key_fn, NULL, &s),
	                 -EINVAL);
	cfg.realm = "";
	assert_int_equal(turn_server_new(&loop, &cfg, (struct sockaddr *)&lo,
	                                 (struct sockaddr *)&lo, key_fn, NULL, &s),
	                 -EINVAL);
	default_config(&cfg);
	cfg.max_permissions = 0;
	assert_int_equal(turn_server_new(&loop, &cfg, (struct sockaddr *)&lo,
	                                 (struct sockaddr *)&lo, key_fn, NULL, &s),
	                 -EINVAL);
	default_config(&cfg);
	cfg.deny = &bad;
	cfg.n_deny = 1;
	assert_int_equal(turn_server_new(&loop, &cfg, (struct sockaddr *)&lo,
	                                 (struct sockaddr *)&lo, key_fn, NULL, &s),
	                 -EINVAL);
	default_config(&cfg);
	assert_int_equal(turn_server_new(&loop, &cfg, (struct sockaddr *)&lo,
	                                 (struct sockaddr *)&lo, NULL, NULL, &s),
	                 -EINVAL);
	/* A port in use: the error, and the half-made server goes with the loop. */
	assert_int_equal(turn_server_new(&loop, &cfg, (struct sockaddr *)&lo,
	                                 (struct sockaddr *)&lo, key_fn, NULL, &s),
	                 0);
	assert_int_equal(turn_server_address(s, &server_addr), 0);
	assert_int_equal(turn_server_new(&loop, &cfg, (struct sockaddr *)&server_addr,
	                                 (struct sockaddr *)&lo, key_fn, NULL, &s2),
	                 -EADDRINUSE);
	assert_null(s2);
	turn_server_close(s, NULL, NULL);
	turn_server_close(NULL, NULL, NULL);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- the batched data path ---- */

/* ChannelData on channel with len bytes of payload: the datagram's index
 * and then a pattern from it. Returns the datagram's length. */
static size_t cd_make(uint8_t *buf, uint16_t channel, uint8_t index, size_t len)
{
	assert_int_equal(stun_channel_data_header(buf, channel, len), 0);
	for (size_t i = 0; i < len; i++)
		buf[STUN_CHANNEL_HEADER_LEN + i] = (uint8_t)(index + i);
	return STUN_CHANNEL_HEADER_LEN + len;
}

static bool payload_is(const uint8_t *p, size_t len, uint8_t index, size_t want_len)
{
	if (len != want_len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(index + i))
			return false;
	return true;
}

/* The next datagram from the relay on a peer socket, within a second: its
 * payload must be datagram `index` of want_len bytes, from relayed. */
static void peer_expect(int fd, const struct sockaddr_storage *relayed, uint8_t index,
                        size_t want_len)
{
	struct sockaddr_storage from;
	uint8_t buf[2048];
	ssize_t n = receive(fd, buf, sizeof(buf), &from);

	assert_true(n >= 0);
	assert_true(same_addr(&from, relayed));
	if (!payload_is(buf, (size_t)n, index, want_len))
		fail_msg("datagram %u: %zd bytes, want %zu", index, n, want_len);
}

/* Sends len bytes as seg-byte datagrams (the last may be shorter) through
 * the daemon's send queue, which makes them one UDP_SEGMENT run. */
static void gso_send(int fd, const uint8_t *buf, size_t len, uint16_t seg,
                     const struct sockaddr_storage *to)
{
	static struct udp_tx tx;
	struct udp_sock sock = {.fd = fd, .family = AF_INET, .gso = true};
	int err;

	udp_tx_init(&tx, true);
	for (size_t off = 0, n; off < len; off += n) {
		n = len - off < seg ? len - off : seg;
		memcpy(udp_tx_room(&tx, n), buf + off, n);
		assert_int_equal(udp_tx_push(&tx, &sock, (const struct sockaddr *)to,
		                             sizeof(struct sockaddr_in), n),
		                 0);
	}
	assert_int_equal(udp_tx_flush(&tx, &sock, &err), 0);
	assert_int_equal(tx.runs, 1);
}

/* Receives on a socket with UDP_GRO on: returns the length and in *seg the
 * size of each datagram of a run (0: one datagram). */
static size_t gro_receive(int fd, uint8_t *buf, size_t cap, uint16_t *seg)
{
	_Alignas(struct cmsghdr) uint8_t ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr m = {.msg_iov = &iov,
	                   .msg_iovlen = 1,
	                   .msg_control = ctl,
	                   .msg_controllen = sizeof(ctl)};
	ssize_t n;

	assert_true(pump_until_readable(fd, 1000));
	n = recvmsg(fd, &m, MSG_DONTWAIT);
	assert_true(n > 0);
	*seg = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		int v;

		if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			*seg = (uint16_t)v;
		}
	}
	return (size_t)n;
}

/* Two clients, three peers, every datagram queued before the loop runs, so
 * the server takes them in one receive batch and sends them through one
 * queue, switching sockets as the allocations alternate. A ChannelData whose
 * length overruns the datagram and one on an unbound channel, in the middle,
 * are dropped alone. Then the other way. */
static void test_batch_mixed(void **state)
{
	struct sockaddr_storage rel1, rel2, p_addr[3];
	struct turn_config cfg;
	struct client c1, c2;
	uint8_t buf[256];
	int p[3];
	size_t bytes = 0;

	default_config(&cfg);
	server_start(&cfg);
	client_init(&c1, "alice", "alice-pw");
	client_init(&c2, "bob", "bob-pw");
	for (int i = 0; i < 3; i++)
		p[i] = udp_socket("127.0.0.1", &p_addr[i]);
	allocate(&c1, &rel1);
	allocate(&c2, &rel2);
	channel_bind(&c1, 0x4000, &p_addr[0]);
	expect_success(&c1);
	channel_bind(&c1, 0x4001, &p_addr[1]);
	expect_success(&c1);
	channel_bind(&c2, 0x4000, &p_addr[2]);
	expect_success(&c2);
	/* Datagram i: c1 to peer 0 and 1 by turns, every third from c2 to
	 * peer 2; sizes vary so runs start and end. */
	for (uint8_t i = 0; i < 24; i++) {
		size_t len = 40 + (i % 4) * 20;

		if (i % 3 == 2)
			send_to(c2.fd, buf, cd_make(buf, 0x4000, i, len), &server_addr);
		else
			send_to(c1.fd, buf, cd_make(buf, 0x4000 + i % 2, i, len), &server_addr);
		bytes += len;
		if (i == 10) {
			cd_make(buf, 0x4000, 99, 30);
			store_be16(buf + 2, 31);
			send_to(c1.fd, buf, STUN_CHANNEL_HEADER_LEN + 30, &server_addr);
			send_to(c1.fd, buf, cd_make(buf, 0x4009, 98, 30), &server_addr);
		}
	}
	for (uint8_t i = 0; i < 24; i++) {
		size_t len = 40 + (i % 4) * 20;

		if (i % 3 == 2)
			peer_expect(p[2], &rel2, i, len);
		else
			peer_expect(p[i % 2], &rel1, i, len);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(drain(p[i], 20), 0);
	/* Back: each peer's datagrams as ChannelData on its own channel. */
	for (uint8_t i = 0; i < 12; i++) {
		memset(buf, i, 50);
		send_to(p[i % 3], buf, 50, i % 3 == 2 ? &rel2 : &rel1);
		bytes += 50;
	}
	for (uint8_t i = 0; i < 12; i++) {
		struct sockaddr_storage from;
		struct client *c = i % 3 == 2 ? &c2 : &c1;
		uint16_t ch = i % 3 == 2 ? 0x4000 : 0x4000 + i % 3;
		const uint8_t *data;
		size_t dlen;
		uint16_t got;
		ssize_t n = receive(c->fd, buf, sizeof(buf), &from);

		assert_true(n > 0);
		assert_int_equal(stun_channel_data_parse(buf, (size_t)n, &got, &data, &dlen), 0);
		assert_int_equal(got, ch);
		assert_int_equal(dlen, 50);
		assert_int_equal(data[0], i);
	}
	assert_int_equal(stats().relayed_bytes, bytes);
	for (int i = 0; i < 3; i++)
		close(p[i]);
	client_free(&c1);
	client_free(&c2);
	server_stop();
}

/* A UDP_SEGMENT run from the client reaches the server's GRO socket whole:
 * split into its datagrams, with a bad one and one on an unbound channel
 * in the middle dropped alone. A run from a peer comes back to a client
 * with UDP_GRO on as one run of ChannelData, one equal datagram each (the
 * last shorter): the server sent it as a UDP_SEGMENT run; likewise Data
 * indications for a peer without a channel. */
static void test_batch_runs(void **state)
{
	enum { SEG = 100, N = 8, LAST = 60 };
	struct sockaddr_storage relayed, peer_addr, other_addr;
	uint8_t buf[N * (SEG + 64)], out[N * (SEG + 64)];
	struct turn_config cfg;
	struct client c;
	int peer, other, on = 1;
	size_t len = 0, n;
	uint16_t seg;

	default_config(&cfg);
	server_start(&cfg);
	client_init(&c, "alice", "alice-pw");
	peer = udp_socket("127.0.0.1", &peer_addr);
	other = udp_socket("127.0.0.1", &other_addr);
	allocate(&c, &relayed);
	channel_bind(&c, 0x4000, &peer_addr);
	expect_success(&c);
	permit(&c, &other_addr);
	for (uint8_t i = 0; i < N; i++)
		len += cd_make(buf + len, i == 5 ? 0x4009 : 0x4000, i, i == N - 1 ? LAST : SEG);
	/* Datagram 3 announces more than it holds. */
	store_be16(buf + 3 * (SEG + STUN_CHANNEL_HEADER_LEN) + 2, SEG + 1);
	gso_send(c.fd, buf, len, SEG + STUN_CHANNEL_HEADER_LEN, &server_addr);
	for (uint8_t i = 0; i < N; i++)
		if (i != 3 && i != 5)
			peer_expect(peer, &relayed, i, i == N - 1 ? LAST : SEG);
	assert_int_equal(drain(peer, 20), 0);

	assert_int_equal(setsockopt(c.fd, IPPROTO_UDP, UDP_GRO, &on, sizeof(on)), 0);
	len = 0;
	for (uint8_t i = 0; i < N; i++) {
		size_t l = i == N - 1 ? LAST : SEG;

		for (size_t k = 0; k < l; k++)
			buf[len + k] = (uint8_t)(i + k);
		len += l;
	}
	gso_send(peer, buf, len, SEG, &relayed);
	n = gro_receive(c.fd, out, sizeof(out), &seg);
	assert_int_equal(seg, SEG + STUN_CHANNEL_HEADER_LEN);
	assert_int_equal(n, len + N * STUN_CHANNEL_HEADER_LEN);
	for (uint8_t i = 0; i < N; i++) {
		const uint8_t *data;
		size_t off = (size_t)i * seg, dlen;
		uint16_t ch;

		assert_int_equal(stun_channel_data_parse(out + off, n - off < seg ? n - off : seg,
		                                         &ch, &data, &dlen),
		                 0);
		assert_int_equal(ch, 0x4000);
		assert_true(payload_is(data, dlen, i, i == N - 1 ? LAST : SEG));
	}
	/* No channel: Data indications, equal too. */
	for (uint8_t i = 0; i < 3; i++) {
		memset(buf, i, SEG);
		send_to(other, buf, SEG, &relayed);
	}
	for (size_t got = 0; got < 3;) {
		n = gro_receive(c.fd, out, sizeof(out), &seg);
		if (!seg)
			seg = (uint16_t)n;
		for (size_t off = 0; off < n; off += seg, got++) {
			struct stun_msg m;
			const struct stun_attr *d;

			assert_int_equal(stun_parse(out + off, seg, &m), 0);
			assert_int_equal(m.method, STUN_DATA);
			assert_int_equal(m.cls, STUN_INDICATION);
			d = stun_find(&m, STUN_ATTR_DATA);
			assert_non_null(d);
			assert_int_equal(d->len, SEG);
			assert_int_equal(d->value[0], got);
		}
	}
	close(peer);
	close(other);
	client_free(&c);
	server_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_binding),       cmocka_unit_test(test_allocate_send_data),
	        cmocka_unit_test(test_channels),      cmocka_unit_test(test_quota),
	        cmocka_unit_test(test_unknown_user),  cmocka_unit_test(test_bad_credentials),
	        cmocka_unit_test(test_refresh),       cmocka_unit_test(test_expiry),
	        cmocka_unit_test(test_rate_limit),    cmocka_unit_test(test_allocate_refusals),
	        cmocka_unit_test(test_peer_refusals), cmocka_unit_test(test_malformed),
	        cmocka_unit_test(test_bad_config),    cmocka_unit_test(test_batch_mixed),
	        cmocka_unit_test(test_batch_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
