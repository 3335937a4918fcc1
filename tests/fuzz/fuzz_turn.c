/* SPDX-License-Identifier: MIT */
/* fuzz_turn.c: the STUN/TURN codec and the TURN server on arbitrary bytes.
 *
 * The codec: the whole input is parsed as a STUN message and as ChannelData;
 * what parses is decoded attribute by attribute, and rebuilt with the builder,
 * which must give back the same attributes.
 *
 * The server: a fresh one on a loop on 127.0.0.1 per input, fed records
 * [kind:1][len:2 big-endian][bytes]. Kind 0 is a datagram from the client,
 * 1 the same after the harness signs it (USERNAME, REALM, a valid NONCE and
 * MESSAGE-INTEGRITY replaced, so requests get past authentication), 2 a
 * datagram from a peer to the client's relayed address, 3 a datagram from a
 * second client (only the kind's low two bits count). With bit 2 set and
 * bit 0 clear, 0 and 2 go through the sockets instead, as one UDP_SEGMENT
 * run of datagrams of len / (2 + the kind's bits 3-5) bytes, which the
 * server's UDP_GRO sockets take whole and split again. When the first byte
 * is odd, the client first holds an allocation with a permission and
 * channel 0x4000 for the peer, so data paths are reached at once. Nothing
 * may crash, leak or hang. Everything stays on 127.0.0.1. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/bytes.h"
#include "relay/stun.h"
#include "relay/turn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REALM    "fuzz.test"
#define USER     "fuzz"
#define PASSWORD "fuzz-password"
#define MAX_MSG  65536

static const uint8_t fixed_key[STUN_KEY_LEN] = {0x5a};

/* ---- the codec ---- */

static void check_attr(const struct stun_msg *m, const struct stun_attr *a)
{
	struct sockaddr_storage ss;
	unsigned code;
	uint32_t v;

	if (a->value < m->buf || a->value + a->len > m->buf + m->len)
		abort();
	for (int xor = 0; xor < 2; xor ++)
		if (stun_attr_addr(a, xor, m->txid, &ss) == 0 && ss.ss_family != AF_INET &&
		    ss.ss_family != AF_INET6)
			abort();
	if (stun_attr_error(a, &code) == 0 && (code < 300 || code > 699))
		abort();
	if (stun_attr_u32(a, &v) == 0 && a->len != 4)
		abort();
}

/* Rebuilt from its attributes, a message parses to the same attributes. */
static void check_rebuild(const struct stun_msg *m)
{
	static uint8_t out[MAX_MSG + 256];
	struct stun_builder b;
	struct stun_msg again;
	size_t len;

	stun_build_init(&b, out, sizeof(out), m->method, m->cls, m->txid);
	for (size_t i = 0; i < m->n_attrs; i++)
		if (m->attrs[i].type != STUN_ATTR_MESSAGE_INTEGRITY)
			stun_put(&b, m->attrs[i].type, m->attrs[i].value, m->attrs[i].len);
	if (m->integrity_off)
		stun_put_integrity(&b, fixed_key, sizeof(fixed_key));
	if (m->fingerprint)
		stun_put_fingerprint(&b);
	if (stun_build_finish(&b, &len) < 0)
		return;
	if (stun_parse(out, len, &again) != 0 || again.n_attrs != m->n_attrs ||
	    again.method != m->method || again.cls != m->cls || again.fingerprint != m->fingerprint)
		abort();
	/* The same attributes in the same order; MESSAGE-INTEGRITY, last of
	 * those indexed in both, has a new key. */
	for (size_t i = 0; i < m->n_attrs; i++)
		if (again.attrs[i].type != m->attrs[i].type ||
		    again.attrs[i].len != m->attrs[i].len ||
		    (m->attrs[i].type != STUN_ATTR_MESSAGE_INTEGRITY &&
		     memcmp(again.attrs[i].value, m->attrs[i].value, m->attrs[i].len) != 0))
			abort();
	if (m->integrity_off && stun_check_integrity(&again, fixed_key, sizeof(fixed_key)) != 0)
		abort();
}

static void fuzz_codec(const uint8_t *data, size_t size)
{
	uint16_t unknown[STUN_MAX_ATTRS], channel;
	const uint8_t *payload;
	struct stun_msg m;
	size_t plen;
	int r;

	r = stun_parse(data, size, &m);
	if (r == 0) {
		for (size_t i = 0; i < m.n_attrs; i++)
			check_attr(&m, &m.attrs[i]);
		r = stun_check_integrity(&m, fixed_key, sizeof(fixed_key));
		if (r != 0 && r != -EACCES && r != -ENODATA)
			abort();
		if (stun_unknown_required(&m, NULL, 0, unknown, ARRAY_SIZE(unknown)) > m.n_attrs)
			abort();
		check_rebuild(&m);
	} else if (r != -EBADMSG) {
		abort();
	}
	r = stun_channel_data_parse(data, size, &channel, &payload, &plen);
	if (r == 0 && (plen > size - STUN_CHANNEL_HEADER_LEN || !stun_is_channel_data(data, size)))
		abort();
}

/* ---- the server ---- */

struct harness {
	uv_loop_t loop;
	int client, client2, peer;
	struct sockaddr_storage client_addr, client2_addr, peer_addr, relayed;
	bool have_relayed;
	char nonce[256];
	uint8_t key[STUN_KEY_LEN];
	uint32_t txid_count;
	struct turn_server *s;
};

static struct harness h;

static int key_fn(void *arg, const char *user, uint8_t key[16])
{
	if (strcmp(user, USER) != 0)
		return -ENOENT;
	memcpy(key, h.key, STUN_KEY_LEN);
	return 0;
}

static int udp_socket(struct sockaddr_storage *ret)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(*ret);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)ret, &len) < 0)
		abort();
	return fd;
}

static void harness_init(void)
{
	if (h.client)
		return;
	if (uv_loop_init(&h.loop) != 0 || stun_long_term_key(USER, REALM, PASSWORD, h.key) != 0)
		abort();
	h.client = udp_socket(&h.client_addr);
	h.client2 = udp_socket(&h.client2_addr);
	h.peer = udp_socket(&h.peer_addr);
}

/* Reads what the server sent the client: the nonce of a 401/438 and the
 * relayed address of an Allocate success are remembered. */
static void drain_client(void)
{
	static uint8_t buf[MAX_MSG];
	const struct stun_attr *a;
	struct stun_msg m;
	ssize_t n;

	while ((n = recv(h.client, buf, sizeof(buf), 0)) >= 0) {
		if (stun_parse(buf, (size_t)n, &m) != 0)
			continue;
		a = stun_find(&m, STUN_ATTR_NONCE);
		if (a && a->len < sizeof(h.nonce)) {
			memcpy(h.nonce, a->value, a->len);
			h.nonce[a->len] = 0;
		}
		a = stun_find(&m, STUN_ATTR_XOR_RELAYED_ADDRESS);
		if (a && m.cls == STUN_SUCCESS && stun_attr_addr(a, true, m.txid, &h.relayed) == 0)
			h.have_relayed = true;
	}
	while (recv(h.client2, buf, sizeof(buf), 0) >= 0 || recv(h.peer, buf, sizeof(buf), 0) >= 0)
		;
}

static void step(void)
{
	uv_run(&h.loop, UV_RUN_NOWAIT);
	drain_client();
}

static void input(const uint8_t *buf, size_t len, const struct sockaddr_storage *from)
{
	turn_server_input(h.s, buf, len, (const struct sockaddr *)from);
	step();
}

/* buf as one UDP_SEGMENT run of seg-byte datagrams from fd to `to`; what the
 * kernel refuses (too many segments, a run of one) is not sent. */
static void send_run(int fd, const uint8_t *buf, size_t len, uint16_t seg,
                     const struct sockaddr_storage *to)
{
	_Alignas(struct cmsghdr) uint8_t ctl[CMSG_SPACE(sizeof(seg))] = {0};
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr m = {.msg_name = (void *)to,
	                   .msg_namelen = sizeof(struct sockaddr_in),
	                   .msg_iov = &iov,
	                   .msg_iovlen = 1,
	                   .msg_control = ctl,
	                   .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = IPPROTO_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	(void)sendmsg(fd, &m, 0);
	step();
}

/* The message in buf with the credentials replaced and signed; its length,
 * or 0 when buf is not a STUN message. */
static size_t sign(const uint8_t *buf, size_t len, uint8_t *out, size_t cap)
{
	struct stun_builder b;
	struct stun_msg m;
	size_t olen;

	if (stun_parse(buf, len, &m) != 0)
		return 0;
	stun_build_init(&b, out, cap, m.method, m.cls, m.txid);
	for (size_t i = 0; i < m.n_attrs; i++) {
		uint16_t t = m.attrs[i].type;
		if (t != STUN_ATTR_USERNAME && t != STUN_ATTR_REALM && t != STUN_ATTR_NONCE &&
		    t != STUN_ATTR_MESSAGE_INTEGRITY)
			stun_put(&b, t, m.attrs[i].value, m.attrs[i].len);
	}
	stun_put(&b, STUN_ATTR_USERNAME, USER, strlen(USER));
	stun_put(&b, STUN_ATTR_REALM, REALM, strlen(REALM));
	stun_put(&b, STUN_ATTR_NONCE, h.nonce, strlen(h.nonce));
	stun_put_integrity(&b, h.key, sizeof(h.key));
	if (m.fingerprint)
		stun_put_fingerprint(&b);
	return stun_build_finish(&b, &olen) == 0 ? olen : 0;
}

/* A signed request of the harness's own: an Allocate, or a request about the
 * peer; attr_value, when not NULL, adds one more attribute. */
static void request(uint16_t method, const void *attr_value, uint16_t attr_type, size_t attr_len)
{
	uint8_t raw[256], out[512];
	struct stun_builder b;
	uint8_t txid[STUN_TXID_LEN] = {0};
	size_t len;

	store_be32(txid, ++h.txid_count);
	stun_build_init(&b, raw, sizeof(raw), method, STUN_REQUEST, txid);
	if (attr_value)
		stun_put(&b, attr_type, attr_value, attr_len);
	if (method == STUN_ALLOCATE)
		stun_put_u32(&b, STUN_ATTR_REQUESTED_TRANSPORT, 17u << 24);
	if (method != STUN_ALLOCATE)
		stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, (struct sockaddr *)&h.peer_addr,
		              true);
	if (stun_build_finish(&b, &len) != 0)
		abort();
	len = sign(raw, len, out, sizeof(out));
	if (len == 0)
		abort();
	input(out, len, &h.client_addr);
}

/* An allocation with a permission and channel 0x4000 for the peer. */
static void preamble(void)
{
	uint8_t channel[4] = {0x40, 0x00};

	request(STUN_ALLOCATE, NULL, 0, 0);
	request(STUN_CREATE_PERMISSION, NULL, 0, 0);
	request(STUN_CHANNEL_BIND, channel, STUN_ATTR_CHANNEL_NUMBER, sizeof(channel));
}

static void on_closed(void *arg)
{
	*(bool *)arg = true;
}

static void fuzz_server(const uint8_t *data, size_t size)
{
	static const uint8_t hello[STUN_TXID_LEN] = {'f', 'u', 'z', 'z'};
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct turn_config cfg;
	uint8_t first[64], signed_buf[MAX_MSG + 512];
	struct stun_builder b;
	struct sockaddr_storage server;
	bool closed = false;
	struct reader r = reader_init(data, size);
	size_t len;

	harness_init();
	turn_config_init(&cfg, REALM);
	cfg.max_allocs_per_user = 2;
	cfg.max_permissions = 4;
	if (turn_server_new(&h.loop, &cfg, (struct sockaddr *)&lo, (struct sockaddr *)&lo, key_fn,
	                    NULL, &h.s) != 0 ||
	    turn_server_address(h.s, &server) != 0)
		abort();
	h.have_relayed = false;
	h.nonce[0] = 0;
	/* The 401 brings a nonce. */
	stun_build_init(&b, first, sizeof(first), STUN_ALLOCATE, STUN_REQUEST, hello);
	if (stun_build_finish(&b, &len) != 0)
		abort();
	input(first, len, &h.client_addr);
	if (size > 0 && (data[0] & 1))
		preamble();
	while (reader_left(&r) >= 3) {
		const uint8_t *rec;
		uint8_t kind;
		uint16_t rlen;

		if (reader_u8(&r, &kind) < 0 || reader_be16(&r, &rlen) < 0)
			break;
		rlen = (uint16_t)(rlen < reader_left(&r) ? rlen : reader_left(&r));
		if (reader_take(&r, rlen, &rec) < 0)
			break;
		if ((kind & 5) == 4) {
			uint16_t seg = (uint16_t)(rlen / (2 + (kind >> 3 & 7)));

			if (seg == 0)
				continue;
			if (!(kind & 2))
				send_run(h.client, rec, rlen, seg, &server);
			else if (h.have_relayed)
				send_run(h.peer, rec, rlen, seg, &h.relayed);
			continue;
		}
		switch (kind & 3) {
		case 0:
			input(rec, rlen, &h.client_addr);
			break;
		case 1:
			len = sign(rec, rlen, signed_buf, sizeof(signed_buf));
			input(len ? signed_buf : rec, len ? len : rlen, &h.client_addr);
			break;
		case 2:
			if (h.have_relayed)
				sendto(h.peer, rec, rlen, 0, (struct sockaddr *)&h.relayed,
				       sizeof(struct sockaddr_in));
			step();
			break;
		default:
			input(rec, rlen, &h.client2_addr);
			break;
		}
	}
	turn_server_close(h.s, on_closed, &closed);
	while (!closed)
		uv_run(&h.loop, UV_RUN_ONCE);
	drain_client();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so ASan sees any read past the end. */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fuzz_codec(copy, size);
	fuzz_server(copy, size);
	free(copy);
	return 0;
}
