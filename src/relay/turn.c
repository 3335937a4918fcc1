/* SPDX-License-Identifier: MIT */
/* turn.c: the TURN server: allocations, permissions, channels and relaying on libuv. */
#include "relay/turn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/log.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "net/udp.h"
#include "relay/stun.h"

#define DEFAULT_LIFETIME_S 600             /* RFC 8656 section 7.2 */
#define PERMISSION_MS      (300 * 1000ull) /* RFC 8656 section 9 */
#define CHANNEL_MS         (600 * 1000ull) /* RFC 8656 section 11 */
#define NONCE_MS           (600 * 1000ull) /* then 438 (RFC 8489 section 9.2.4) */
#define SWEEP_MS           1000
#define MAX_PERMISSIONS    1024 /* cap on the config, so a typo cannot eat memory */
#define UDP_PROTOCOL       17   /* REQUESTED-TRANSPORT (RFC 8656 section 18.8) */
#define EVEN_PORT_TRIES    32   /* binds until the port is even; each try is a coin toss */

#define NONCE_TS_LEN  8
#define NONCE_MAC_LEN 8
#define NONCE_LEN     (2 * (NONCE_TS_LEN + NONCE_MAC_LEN)) /* hex */

/* A Data indication around a peer's datagram: STUN header, XOR-PEER-ADDRESS
 * (IPv6 at most) and DATA's attribute header before it, DATA's padding after. */
#define DATA_IND_HEAD (STUN_HEADER_LEN + 4 + 20 + 4)
#define DATA_IND_PAD  3
#define TX_LEN        1024 /* responses: the largest is a 401 with a 255-byte realm */
/* Receive batches per wake-up of one socket before the loop serves others. */
#define RX_ROUNDS 8

struct turn_perm {
	uint8_t ip[16];
	uint64_t expires; /* ms, loop time; 0: free slot */
};

struct turn_chan {
	uint16_t number;
	struct sockaddr_storage peer;
	uint64_t expires;
};

struct turn_user {
	struct turn_user *next;
	unsigned n_allocs;
	uint64_t tokens; /* bytes the user may still relay now */
	uint64_t refill_ms;
	char name[];
};

struct turn_alloc {
	struct turn_server *s;
	struct turn_alloc *hnext; /* bucket chain */
	struct turn_user *user;
	struct sockaddr_storage client;
	uint8_t txid[STUN_TXID_LEN]; /* of the Allocate, to answer its retransmissions */
	uint64_t expires;
	uv_poll_t poll;
	struct udp_sock sock; /* the relayed socket */
	struct sockaddr_storage relayed;
	struct turn_perm *perms;
	struct turn_chan *chans;
};

struct turn_server {
	uv_loop_t *loop;
	struct turn_config cfg;
	char realm[TURN_REALM_MAX + 1];
	struct turn_prefix *deny;
	uv_poll_t poll;
	struct udp_sock sock; /* the listening socket */
	uv_timer_t sweep;
	struct sockaddr_storage relay_addr;
	turn_key_fn key;
	void *key_arg;
	uint8_t secret[32]; /* keys the nonces */
	uint64_t txid_seed, txid_count;
	struct turn_alloc **buckets;
	size_t n_buckets;
	struct turn_user *users;
	struct turn_stats stats;
	struct ratelimit rl;
	unsigned pending_closes;
	bool closing;
	void (*done)(void *);
	void *done_arg;
	uint8_t tx[TX_LEN];
	/* The data path: one receive batch and one send queue for every
	 * socket (callbacks never nest). The queue holds the datagrams of one
	 * socket, txq_sock, at a time. */
	struct udp_batch rx;
	struct udp_tx *txq;
	const struct udp_sock *txq_sock;
};

/* One request being answered. */
struct req {
	struct turn_server *s;
	const struct stun_msg *m;
	const struct sockaddr_storage *from;
	bool authed; /* answers are then signed with key */
	uint8_t key[STUN_KEY_LEN];
	char user[STUN_USERNAME_MAX + 1];
};

/* The comprehension-required attributes this server understands. Others in
 * a request get 420 (RFC 8489 section 6.3.1); notably DONT-FRAGMENT, which
 * RFC 8656 section 7.2 allows a server to treat so. */
static const uint16_t known_attrs[] = {
        STUN_ATTR_USERNAME,
        STUN_ATTR_MESSAGE_INTEGRITY,
        STUN_ATTR_REALM,
        STUN_ATTR_NONCE,
        STUN_ATTR_LIFETIME,
        STUN_ATTR_XOR_PEER_ADDRESS,
        STUN_ATTR_DATA,
        STUN_ATTR_REQUESTED_TRANSPORT,
        STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
        STUN_ATTR_CHANNEL_NUMBER,
        STUN_ATTR_EVEN_PORT,
        STUN_ATTR_RESERVATION_TOKEN,
        0x0024, /* PRIORITY and USE-CANDIDATE (RFC 8445), from ICE agents */
        0x0025, /* that use the relay as their STUN server */
};

static uint64_t now_ms(const struct turn_server *s)
{
	return uv_now(s->loop);
}

/* ---- addresses ---- */

static size_t ip_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static const uint8_t *ip_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
	return ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static socklen_t sa_len(int family)
{
	return family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* Copies an AF_INET or AF_INET6 address; -EAFNOSUPPORT otherwise. */
static int addr_copy(struct sockaddr_storage *dst, const struct sockaddr *src)
{
	if (src->sa_family != AF_INET && src->sa_family != AF_INET6)
		return -EAFNOSUPPORT;
	memset(dst, 0, sizeof(*dst));
	memcpy(dst, src, sa_len(src->sa_family));
	return 0;
}

static bool addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return a->ss_family == b->ss_family && port_of(a) == port_of(b) &&
	       memcmp(ip_of(a), ip_of(b), ip_len(a->ss_family)) == 0;
}

static bool prefix_match(const uint8_t *ip, const uint8_t *prefix, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(ip, prefix, whole) != 0)
		return false;
	return rest == 0 || ((ip[whole] ^ prefix[whole]) & (0xff00u >> rest) & 0xff) == 0;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	static const uint8_t lo6[16] = {[15] = 1};

	if (ss->ss_family == AF_INET)
		return ip_of(ss)[0] == 127;
	return memcmp(ip_of(ss), lo6, 16) == 0;
}

/* Addresses a relay never sends to (RFC 8656 section 21.2.3 lets a server
 * restrict peers): unspecified, multicast and broadcast, IPv4-mapped IPv6
 * (IPv4 in disguise), loopback unless the relay itself is on loopback (the
 * relay host's local services), and the configured prefixes. */
static bool peer_allowed(const struct turn_server *s, const struct sockaddr_storage *peer)
{
	static const uint8_t zero[16], mapped[12] = {[10] = 0xff, [11] = 0xff};
	const uint8_t *ip = ip_of(peer);
	size_t n = ip_len(peer->ss_family);

	if (memcmp(ip, zero, n) == 0)
		return false;
	if (peer->ss_family == AF_INET) {
		if (ip[0] == 0 || ip[0] >= 224)
			return false;
	} else if (ip[0] == 0xff || memcmp(ip, mapped, sizeof(mapped)) == 0) {
		return false;
	}
	if (is_loopback(peer) && !is_loopback(&s->relay_addr))
		return false;
	for (size_t i = 0; i < s->cfg.n_deny; i++)
		if (s->deny[i].family == peer->ss_family &&
		    prefix_match(ip, s->deny[i].addr, s->deny[i].len))
			return false;
	return true;
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(ss->ss_family, ip_of(ss), ip, sizeof(ip));
	snprintf(buf, len, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port_of(ss));
	return buf;
}

/* ---- allocations by client address ---- */

static size_t bucket_of(const struct turn_server *s, const struct sockaddr_storage *ss)
{
	const uint8_t *ip = ip_of(ss);
	uint64_t h = (uint64_t)port_of(ss) << 8 | ss->ss_family;

	for (size_t i = 0; i < ip_len(ss->ss_family); i += 4)
		h = mix64(h ^ load_be32(ip + i));
	return (size_t)(h & (s->n_buckets - 1));
}

static void alloc_delete(struct turn_alloc *a);

/* The live allocation of a client; an expired one is deleted on the way. */
static struct turn_alloc *alloc_find(struct turn_server *s, const struct sockaddr_storage *from)
{
	struct turn_alloc *a;

	for (a = s->buckets[bucket_of(s, from)]; a; a = a->hnext)
		if (addr_equal(&a->client, from))
			break;
	if (a && a->expires <= now_ms(s)) {
		alloc_delete(a);
		return NULL;
	}
	return a;
}

static void alloc_unlink(struct turn_alloc *a)
{
	struct turn_alloc **pp = &a->s->buckets[bucket_of(a->s, &a->client)];

	while (*pp != a)
		pp = &(*pp)->hnext;
	*pp = a->hnext;
}

/* ---- users: quota and rate ---- */

static struct turn_user *user_find(struct turn_server *s, const char *name)
{
	for (struct turn_user *u = s->users; u; u = u->next)
		if (strcmp(u->name, name) == 0)
			return u;
	return NULL;
}

static struct turn_user *user_get(struct turn_server *s, const char *name)
{
	struct turn_user *u = user_find(s, name);
	size_t n;

	if (u)
		return u;
	n = strlen(name) + 1;
	u = calloc(1, sizeof(*u) + n);
	if (!u)
		return NULL;
	memcpy(u->name, name, n);
	u->tokens = s->cfg.bytes_per_s_per_user;
	u->refill_ms = now_ms(s);
	u->next = s->users;
	s->users = u;
	return u;
}

static void user_put(struct turn_server *s, struct turn_user *u)
{
	struct turn_user **pp = &s->users;

	if (--u->n_allocs > 0)
		return;
	while (*pp != u)
		pp = &(*pp)->next;
	*pp = u->next;
	free(u);
}

/* A token bucket per user holding at most one second of traffic. */
static bool rate_allow(struct turn_server *s, struct turn_user *u, size_t len)
{
	uint64_t rate = s->cfg.bytes_per_s_per_user, now = now_ms(s), elapsed, add;

	if (rate == 0)
		return true;
	elapsed = now - u->refill_ms;
	add = elapsed >= 1000 ? rate : rate / 1000 * elapsed + rate % 1000 * elapsed / 1000;
	/* Time that bought no whole byte yet stays on the clock. */
	if (add > 0) {
		u->tokens = u->tokens + add > rate ? rate : u->tokens + add;
		u->refill_ms = now;
	}
	if (u->tokens < len) {
		s->stats.dropped_rate++;
		return false;
	}
	u->tokens -= len;
	return true;
}

/* ---- permissions and channels ---- */

static struct turn_perm *perm_find(struct turn_alloc *a, const uint8_t *ip, uint64_t now)
{
	size_t n = ip_len(a->relayed.ss_family);

	for (unsigned i = 0; i < a->s->cfg.max_permissions; i++)
		if (a->perms[i].expires > now && memcmp(a->perms[i].ip, ip, n) == 0)
			return &a->perms[i];
	return NULL;
}

static struct turn_perm *perm_free_slot(struct turn_alloc *a, uint64_t now)
{
	for (unsigned i = 0; i < a->s->cfg.max_permissions; i++)
		if (a->perms[i].expires <= now)
			return &a->perms[i];
	return NULL;
}

/* RFC 8656 section 9: installs or refreshes; the caller checked for room. */
static void perm_install(struct turn_alloc *a, const uint8_t *ip, uint64_t now)
{
	struct turn_perm *p = perm_find(a, ip, now);

	if (!p)
		p = perm_free_slot(a, now);
	memcpy(p->ip, ip, ip_len(a->relayed.ss_family));
	p->expires = now + PERMISSION_MS;
}

static struct turn_chan *chan_by_number(struct turn_alloc *a, uint16_t number, uint64_t now)
{
	for (unsigned i = 0; i < a->s->cfg.max_permissions; i++)
		if (a->chans[i].expires > now && a->chans[i].number == number)
			return &a->chans[i];
	return NULL;
}

static struct turn_chan *chan_by_peer(struct turn_alloc *a, const struct sockaddr_storage *peer,
                                      uint64_t now)
{
	for (unsigned i = 0; i < a->s->cfg.max_permissions; i++)
		if (a->chans[i].expires > now && addr_equal(&a->chans[i].peer, peer))
			return &a->chans[i];
	return NULL;
}

static struct turn_chan *chan_free_slot(struct turn_alloc *a, uint64_t now)
{
	for (unsigned i = 0; i < a->s->cfg.max_permissions; i++)
		if (a->chans[i].expires <= now)
			return &a->chans[i];
	return NULL;
}

/* ---- sending ---- */

/* Answers go out at once from the listening socket; relayed data goes
 * through the queue. */
static void send_to(struct turn_server *s, const uint8_t *data, size_t len,
                    const struct sockaddr_storage *to)
{
	ssize_t r;

	do
		r = sendto(s->sock.fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		           (const struct sockaddr *)to, sa_len(to->ss_family));
	while (r < 0 && errno == EINTR);
	/* A full socket buffer drops the datagram, as the network would. */
	if (r < 0)
		log_ratelimited(&s->rl, now_ms(s), LOG_DEBUG, "turn: send: %s", strerror(errno));
}

static void txq_flush(struct turn_server *s)
{
	unsigned dropped;
	int err;

	if (s->txq->n == 0)
		return;
	dropped = udp_tx_flush(s->txq, s->txq_sock, &err);
	if (dropped)
		log_ratelimited(&s->rl, now_ms(s), LOG_DEBUG, "turn: %u datagrams dropped: %s",
		                dropped, strerror(-err));
}

/* Where the next datagram for sock, at most cap bytes, is to be written;
 * NULL if it cannot be queued. */
static uint8_t *txq_room(struct turn_server *s, const struct udp_sock *sock, size_t cap)
{
	uint8_t *p;

	if (s->txq_sock != sock) {
		txq_flush(s);
		s->txq_sock = sock;
	}
	p = udp_tx_room(s->txq, cap);
	if (!p) {
		txq_flush(s);
		p = udp_tx_room(s->txq, cap);
	}
	return p;
}

/* Queues the len bytes written at txq_room for to. */
static bool txq_push(struct turn_server *s, const struct sockaddr_storage *to, size_t len)
{
	int r = udp_tx_push(s->txq, s->txq_sock, (const struct sockaddr *)to, sa_len(to->ss_family),
	                    len);

	if (r < 0)
		log_ratelimited(&s->rl, now_ms(s), LOG_DEBUG, "turn: send: %s", strerror(-r));
	return r == 0;
}

static const char *reason_of(unsigned code)
{
	switch (code) {
	case STUN_ERR_BAD_REQUEST:
		return "Bad Request";
	case STUN_ERR_UNAUTHENTICATED:
		return "Unauthenticated";
	case STUN_ERR_FORBIDDEN:
		return "Forbidden";
	case STUN_ERR_UNKNOWN_ATTRIBUTE:
		return "Unknown Attribute";
	case STUN_ERR_ALLOCATION_MISMATCH:
		return "Allocation Mismatch";
	case STUN_ERR_STALE_NONCE:
		return "Stale Nonce";
	case STUN_ERR_ADDRESS_FAMILY:
		return "Address Family not Supported";
	case STUN_ERR_WRONG_CREDENTIALS:
		return "Wrong Credentials";
	case STUN_ERR_UNSUPPORTED_TRANSPORT:
		return "Unsupported Transport Protocol";
	case STUN_ERR_PEER_ADDRESS_FAMILY:
		return "Peer Address Family Mismatch";
	case STUN_ERR_QUOTA:
		return "Allocation Quota Reached";
	case STUN_ERR_INSUFFICIENT_CAPACITY:
		return "Insufficient Capacity";
	default:
		return "Server Error";
	}
}

static void reply_begin(struct req *q, enum stun_class cls, struct stun_builder *b)
{
	stun_build_init(b, q->s->tx, sizeof(q->s->tx), q->m->method, cls, q->m->txid);
}

/* Signs an answer to an authenticated request (RFC 8489 section 9.2.4) and
 * adds FINGERPRINT when the request had one, then sends it. */
static void reply_end(struct req *q, struct stun_builder *b)
{
	size_t len;
	int r;

	if (q->authed)
		stun_put_integrity(b, q->key, sizeof(q->key));
	if (q->m->fingerprint)
		stun_put_fingerprint(b);
	r = stun_build_finish(b, &len);
	if (r < 0) {
		log_ratelimited(&q->s->rl, now_ms(q->s), LOG_DEBUG, "turn: answer: %s",
		                strerror(-r));
		return;
	}
	send_to(q->s, q->s->tx, len, q->from);
}

static void reply_error(struct req *q, unsigned code)
{
	struct stun_builder b;

	reply_begin(q, STUN_ERROR, &b);
	stun_put_error(&b, code, reason_of(code));
	reply_end(q, &b);
}

/* ---- nonces: the time they were issued and a MAC over it and the client ---- */

static int nonce_mac(const struct turn_server *s, const uint8_t ts[NONCE_TS_LEN],
                     const struct sockaddr_storage *from, uint8_t out[NONCE_MAC_LEN])
{
	uint8_t in[NONCE_TS_LEN + 2 + 2 + 16] = {0}, mac[HASH_MAX_LEN];
	int r;

	memcpy(in, ts, NONCE_TS_LEN);
	store_be16(in + NONCE_TS_LEN, from->ss_family);
	store_be16(in + NONCE_TS_LEN + 2, port_of(from));
	memcpy(in + NONCE_TS_LEN + 4, ip_of(from), ip_len(from->ss_family));
	r = hmac_compute(HASH_SHA256, s->secret, sizeof(s->secret), in, sizeof(in), mac);
	if (r == 0)
		memcpy(out, mac, NONCE_MAC_LEN);
	return r;
}

static int nonce_make(const struct turn_server *s, const struct sockaddr_storage *from,
                      char out[NONCE_LEN + 1])
{
	uint8_t raw[NONCE_TS_LEN + NONCE_MAC_LEN];
	int r;

	store_be64(raw, now_ms(s));
	r = nonce_mac(s, raw, from, raw + NONCE_TS_LEN);
	if (r < 0)
		return r;
	hex_encode(raw, sizeof(raw), out);
	return 0;
}

/* True when the nonce is one of ours, for this client, and fresh. */
static bool nonce_valid(const struct turn_server *s, const struct stun_attr *a,
                        const struct sockaddr_storage *from)
{
	uint8_t raw[NONCE_TS_LEN + NONCE_MAC_LEN], mac[NONCE_MAC_LEN];
	uint64_t ts, now = now_ms(s);

	if (hex_decode((const char *)a->value, a->len, raw, sizeof(raw)) < 0)
		return false;
	if (nonce_mac(s, raw, from, mac) < 0 || memcmp_ct(mac, raw + NONCE_TS_LEN, sizeof(mac)))
		return false;
	ts = load_be64(raw);
	return ts <= now && now - ts < NONCE_MS;
}

/* 401 or 438 with REALM and NONCE, unsigned (RFC 8489 section 9.2.4). */
static void reply_challenge(struct req *q, unsigned code)
{
	char nonce[NONCE_LEN + 1];
	struct stun_builder b;
	int r = nonce_make(q->s, q->from, nonce);

	if (r < 0) {
		log_ratelimited(&q->s->rl, now_ms(q->s), LOG_DEBUG, "turn: nonce: %s",
		                strerror(-r));
		return;
	}
	reply_begin(q, STUN_ERROR, &b);
	stun_put_error(&b, code, reason_of(code));
	stun_put(&b, STUN_ATTR_REALM, q->s->realm, strlen(q->s->realm));
	stun_put(&b, STUN_ATTR_NONCE, nonce, NONCE_LEN);
	reply_end(q, &b);
}

/* ---- authentication (RFC 8489 section 9.2.4, long-term credentials) ---- */

static void refuse_auth(struct req *q, const char *why)
{
	q->s->stats.refused_auth++;
	log_ratelimited(&q->s->rl, now_ms(q->s), LOG_DEBUG, "turn: refused '%s': %s", q->user, why);
	reply_challenge(q, STUN_ERR_UNAUTHENTICATED);
}

static bool username_copy(struct req *q, const struct stun_attr *a)
{
	if (a->len == 0 || a->len > STUN_USERNAME_MAX || memchr(a->value, 0, a->len))
		return false;
	memcpy(q->user, a->value, a->len);
	q->user[a->len] = 0;
	return true;
}

/* 0 when the request is authenticated (q->key and q->user set); otherwise
 * the answer is sent and a negative errno returned. */
static int authenticate(struct req *q)
{
	const struct stun_attr *user = stun_find(q->m, STUN_ATTR_USERNAME);
	const struct stun_attr *realm = stun_find(q->m, STUN_ATTR_REALM);
	const struct stun_attr *nonce = stun_find(q->m, STUN_ATTR_NONCE);
	size_t rlen = strlen(q->s->realm);
	int r;

	if (!q->m->integrity_off) {
		reply_challenge(q, STUN_ERR_UNAUTHENTICATED);
		return -EACCES;
	}
	if (!user || !realm || !nonce) {
		reply_error(q, STUN_ERR_BAD_REQUEST);
		return -EBADMSG;
	}
	if (!username_copy(q, user)) {
		refuse_auth(q, "bad username");
		return -EACCES;
	}
	if (realm->len != rlen || memcmp(realm->value, q->s->realm, rlen) != 0) {
		refuse_auth(q, "other realm");
		return -EACCES;
	}
	r = q->s->key(q->s->key_arg, q->user, q->key);
	if (r == -ENOENT) {
		/* The same answer as a bad password: who may relay stays private. */
		refuse_auth(q, "unknown user");
		return r;
	}
	if (r < 0) {
		reply_error(q, STUN_ERR_SERVER_ERROR);
		return r;
	}
	r = stun_check_integrity(q->m, q->key, sizeof(q->key));
	if (r == -EACCES) {
		refuse_auth(q, "bad integrity");
		return r;
	}
	if (r < 0) {
		reply_error(q, STUN_ERR_SERVER_ERROR);
		return r;
	}
	if (!nonce_valid(q->s, nonce, q->from)) {
		reply_challenge(q, STUN_ERR_STALE_NONCE);
		return -ESTALE;
	}
	q->authed = true;
	return 0;
}

/* ---- allocations ---- */

static void server_maybe_done(struct turn_server *s);
static void alloc_free(struct turn_alloc *a);

static void alloc_closed(uv_handle_t *h)
{
	struct turn_alloc *a = h->data;
	struct turn_server *s = a->s;

	udp_close(&a->sock);
	alloc_free(a);
	s->pending_closes--;
	server_maybe_done(s);
}

/* Unlinks and releases everything but the memory and the socket, which go
 * once libuv has closed the poll handle. */
static void alloc_delete(struct turn_alloc *a)
{
	struct turn_server *s = a->s;
	char buf[64];

	log_ratelimited(&s->rl, now_ms(s), LOG_DEBUG, "turn: allocation of %s for '%s' gone",
	                addr_str(&a->client, buf, sizeof(buf)), a->user->name);
	/* What the allocation queued still leaves, as if already sent. */
	if (s->txq_sock == &a->sock) {
		txq_flush(s);
		s->txq_sock = NULL;
	}
	alloc_unlink(a);
	user_put(s, a->user);
	s->stats.allocations--;
	s->pending_closes++;
	uv_close((uv_handle_t *)&a->poll, alloc_closed);
}

/* RFC 8656 sections 11.6 and 10.3: ChannelData when the peer has a channel
 * (c), a Data indication otherwise, built around a copy of the data in the
 * send queue. */
static void relay_to_client(struct turn_alloc *a, const uint8_t *data, size_t len,
                            const struct sockaddr_storage *peer, const struct turn_chan *c)
{
	struct turn_server *s = a->s;
	uint8_t txid[STUN_TXID_LEN], *p, *value;
	struct stun_builder b;
	size_t mlen;

	if (!rate_allow(s, a->user, len))
		return;
	p = txq_room(s, &s->sock, DATA_IND_HEAD + len + DATA_IND_PAD);
	if (!p)
		return;
	if (c) {
		/* No padding: it is optional over UDP (RFC 8656 section 12.5),
		 * so equal datagrams stay equal and travel as one GSO run. */
		if (stun_channel_data_header(p, c->number, len) < 0)
			return;
		memcpy(p + STUN_CHANNEL_HEADER_LEN, data, len);
		mlen = STUN_CHANNEL_HEADER_LEN + len;
	} else {
		/* Indications need unique transaction ids, not secret ones. */
		store_be64(txid, mix64(s->txid_seed + ++s->txid_count));
		store_be32(txid + 8, (uint32_t)s->txid_count);
		stun_build_init(&b, p, DATA_IND_HEAD + len + DATA_IND_PAD, STUN_DATA,
		                STUN_INDICATION, txid);
		stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, (const struct sockaddr *)peer, true);
		value = stun_reserve(&b, STUN_ATTR_DATA, len);
		if (!value || stun_build_finish(&b, &mlen) < 0)
			return;
		memcpy(value, data, len);
	}
	if (txq_push(s, &a->client, mlen))
		s->stats.relayed_bytes += len;
}

static void relay_to_peer(struct turn_alloc *a, const uint8_t *data, size_t len,
                          const struct sockaddr_storage *peer)
{
	struct turn_server *s = a->s;
	uint8_t *p;

	if (!rate_allow(s, a->user, len))
		return;
	p = txq_room(s, &a->sock, len);
	if (!p)
		return;
	memcpy(p, data, len);
	if (txq_push(s, peer, len))
		s->stats.relayed_bytes += len;
}

/* One receive slot of a relayed socket: a datagram, or a UDP_GRO run of
 * datagrams from one peer, each relayed to the client on its own. */
static void relay_slot(struct turn_alloc *a, const struct udp_dgram *d)
{
	struct turn_server *s = a->s;
	size_t seg = d->seg ? d->seg : d->len, off = 0, n;
	uint64_t now = now_ms(s);
	const struct turn_chan *c;

	/* RFC 8656 section 10.3: only peers with a permission get through. A
	 * run has one sender and the clock stands still in a callback, so one
	 * check holds for each of its datagrams. */
	if (d->truncated || d->from.ss_family != a->relayed.ss_family ||
	    !perm_find(a, ip_of(&d->from), now))
		return;
	c = chan_by_peer(a, &d->from, now);
	do {
		n = d->len - off < seg ? d->len - off : seg;
		relay_to_client(a, d->data + off, n, &d->from, c);
		off += n;
	} while (off < d->len);
}

static void relay_readable(uv_poll_t *h, int status, int events)
{
	struct turn_alloc *a = h->data;
	struct turn_server *s = a->s;

	(void)events;
	if (status < 0) {
		log_ratelimited(&s->rl, now_ms(s), LOG_DEBUG, "turn: relay poll: %s",
		                uv_strerror(status));
		return;
	}
	for (int round = 0; round < RX_ROUNDS; round++) {
		int n = udp_recv_batch(&a->sock, &s->rx);

		if (n < 0)
			log_ratelimited(&s->rl, now_ms(s), LOG_DEBUG, "turn: relay receive: %s",
			                strerror(-n));
		for (int i = 0; i < n; i++)
			relay_slot(a, &s->rx.d[i]);
		txq_flush(s);
		if (n < UDP_BATCH)
			break;
	}
}

/* A non-blocking UDP socket bound to addr, IPv6-only for IPv6 (a dual-stack
 * socket would show IPv4 clients as ::ffff:a.b.c.d), with the daemon's
 * buffers and offloads (UDP_GRO, UDP_SEGMENT); its address in *ret. */
static int sock_open(const struct sockaddr_storage *addr, struct udp_sock *sock,
                     struct sockaddr_storage *ret)
{
	int fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*ret);
	int one = 1, r;

	if (fd < 0)
		return -errno;
	if ((addr->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (const struct sockaddr *)addr, sa_len(addr->ss_family)) < 0 ||
	    getsockname(fd, (struct sockaddr *)ret, &len) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	udp_adopt(fd, addr->ss_family, port_of(ret), sock);
	return 0;
}

/* A socket on the relay address, its port even when asked (RFC 8656
 * section 7.2, EVEN-PORT): the kernel picks ports at random, so a few tries
 * find one. */
static int relay_socket(const struct sockaddr_storage *bind_addr, bool even, struct udp_sock *sock,
                        struct sockaddr_storage *ret)
{
	for (int i = 0; i < EVEN_PORT_TRIES; i++) {
		int r = sock_open(bind_addr, sock, ret);

		if (r < 0)
			return r;
		if (!even || port_of(ret) % 2 == 0)
			return 0;
		udp_close(sock);
	}
	return -EADDRNOTAVAIL;
}

static void alloc_free(struct turn_alloc *a)
{
	free(a->perms);
	free(a->chans);
	free(a);
}

/* The relayed socket and its poll handle, reading. On failure nothing is
 * left open, or the handle is closing (and a goes with it): *closing. */
static int relay_start(struct turn_alloc *a, bool even, bool *closing)
{
	struct turn_server *s = a->s;
	int r = relay_socket(&s->relay_addr, even, &a->sock, &a->relayed);

	*closing = false;
	if (r < 0)
		return r;
	r = uv_poll_init(s->loop, &a->poll, a->sock.fd);
	if (r < 0) {
		udp_close(&a->sock);
		return r;
	}
	a->poll.data = a;
	r = uv_poll_start(&a->poll, UV_READABLE, relay_readable);
	if (r < 0) {
		*closing = true;
		s->pending_closes++;
		uv_close((uv_handle_t *)&a->poll, alloc_closed);
	}
	return r;
}

/* Creates the allocation with its relayed socket. */
static int alloc_new(struct req *q, bool even, uint64_t lifetime_ms, struct turn_alloc **ret)
{
	struct turn_server *s = q->s;
	unsigned n = s->cfg.max_permissions;
	struct turn_alloc *a = calloc(1, sizeof(*a));
	struct turn_user *u;
	bool closing;
	size_t b;
	int r;

	if (a) {
		a->s = s;
		a->sock.fd = -1;
		a->perms = calloc(n, sizeof(*a->perms));
		a->chans = calloc(n, sizeof(*a->chans));
	}
	if (!a || !a->perms || !a->chans) {
		if (a)
			alloc_free(a);
		return -ENOMEM;
	}
	r = relay_start(a, even, &closing);
	u = r < 0 ? NULL : user_get(s, q->user);
	if (r == 0 && !u) {
		r = -ENOMEM;
		closing = true;
		s->pending_closes++;
		uv_close((uv_handle_t *)&a->poll, alloc_closed);
	}
	if (r < 0) {
		if (!closing)
			alloc_free(a);
		return r;
	}
	u->n_allocs++;
	a->user = u;
	a->client = *q->from;
	memcpy(a->txid, q->m->txid, STUN_TXID_LEN);
	a->expires = now_ms(s) + lifetime_ms;
	b = bucket_of(s, &a->client);
	a->hnext = s->buckets[b];
	s->buckets[b] = a;
	s->stats.allocations++;
	*ret = a;
	return 0;
}

/* RFC 8656 sections 7.2 and 7.3: the default unless more is asked, never
 * more than the maximum. 0 (only meaningful in a Refresh) stays 0. -EBADMSG
 * for a malformed LIFETIME. */
static int lifetime_of(const struct req *q, uint64_t *ret_ms)
{
	const struct stun_attr *a = stun_find(q->m, STUN_ATTR_LIFETIME);
	uint32_t max = q->s->cfg.max_lifetime_s,
	         def = max < DEFAULT_LIFETIME_S ? max : DEFAULT_LIFETIME_S;
	uint32_t want = def;

	if (a && stun_attr_u32(a, &want) < 0)
		return -EBADMSG;
	if (want != 0)
		want = want < def ? def : want > max ? max : want;
	*ret_ms = (uint64_t)want * 1000;
	return 0;
}

static void reply_allocated(struct req *q, const struct turn_alloc *a)
{
	struct stun_builder b;
	uint64_t left = a->expires - now_ms(q->s);

	reply_begin(q, STUN_SUCCESS, &b);
	stun_put_addr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, (const struct sockaddr *)&a->relayed,
	              true);
	stun_put_u32(&b, STUN_ATTR_LIFETIME, (uint32_t)((left + 999) / 1000));
	stun_put_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, (const struct sockaddr *)q->from, true);
	reply_end(q, &b);
}

/* REQUESTED-ADDRESS-FAMILY (RFC 8656 section 18.7): 0 and the family, 0 and
 * AF_UNSPEC when absent, -EBADMSG when malformed, -EAFNOSUPPORT for an
 * unknown family. */
static int requested_family(const struct stun_msg *m, int *ret)
{
	const struct stun_attr *a = stun_find(m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY);

	*ret = AF_UNSPEC;
	if (!a)
		return 0;
	if (a->len != 4)
		return -EBADMSG;
	if (a->value[0] != 0x01 && a->value[0] != 0x02)
		return -EAFNOSUPPORT;
	*ret = a->value[0] == 0x01 ? AF_INET : AF_INET6;
	return 0;
}

/* EVEN-PORT and RESERVATION-TOKEN (RFC 8656 section 7.2): 0 or the error
 * code; *even when the port must be even. */
static unsigned port_check(const struct stun_msg *m, bool *even)
{
	const struct stun_attr *ep = stun_find(m, STUN_ATTR_EVEN_PORT);
	const struct stun_attr *token = stun_find(m, STUN_ATTR_RESERVATION_TOKEN);

	*even = ep != NULL;
	if ((ep && (token || ep->len != 1)) ||
	    (token && stun_find(m, STUN_ATTR_REQUESTED_ADDRESS_FAMILY)))
		return STUN_ERR_BAD_REQUEST;
	/* Nothing is ever reserved here: no token is valid, and a request to
	 * reserve the next port (the R bit) cannot be met. */
	if (token || (ep && (ep->value[0] & 0x80)))
		return STUN_ERR_INSUFFICIENT_CAPACITY;
	return 0;
}

/* The checks of RFC 8656 section 7.2 before anything is created: 0 or the
 * error code to answer. */
static unsigned allocate_check(struct req *q, bool *even)
{
	const struct stun_attr *t = stun_find(q->m, STUN_ATTR_REQUESTED_TRANSPORT);
	struct turn_user *u = user_find(q->s, q->user);
	unsigned code;
	int fam, r;

	if (!t || t->len != 4)
		return STUN_ERR_BAD_REQUEST;
	if (t->value[0] != UDP_PROTOCOL)
		return STUN_ERR_UNSUPPORTED_TRANSPORT;
	code = port_check(q->m, even);
	if (code)
		return code;
	r = requested_family(q->m, &fam);
	if (r == -EBADMSG)
		return STUN_ERR_BAD_REQUEST;
	/* Without the attribute the relay's own family is used, also when it is
	 * IPv6: RFC 6156's IPv4 default would leave IPv6 relays unusable to
	 * clients that never ask (libnice). */
	if (r < 0 || (fam != AF_UNSPEC && fam != q->s->relay_addr.ss_family))
		return STUN_ERR_ADDRESS_FAMILY;
	if (u && u->n_allocs >= q->s->cfg.max_allocs_per_user) {
		q->s->stats.refused_quota++;
		return STUN_ERR_QUOTA;
	}
	if (q->s->stats.allocations >= q->s->cfg.max_allocs_total) {
		q->s->stats.refused_quota++;
		return STUN_ERR_INSUFFICIENT_CAPACITY;
	}
	return 0;
}

static void handle_allocate(struct req *q)
{
	struct turn_alloc *a = alloc_find(q->s, q->from);
	char client[64], relayed[64];
	uint64_t lifetime;
	unsigned code;
	bool even;
	int r;

	if (a) {
		/* RFC 8656 section 7.2: a retransmission of the Allocate that
		 * made it is answered again; anything else is a mismatch. */
		if (memcmp(a->txid, q->m->txid, STUN_TXID_LEN) == 0 &&
		    strcmp(a->user->name, q->user) == 0)
			reply_allocated(q, a);
		else
			reply_error(q, STUN_ERR_ALLOCATION_MISMATCH);
		return;
	}
	code = allocate_check(q, &even);
	if (!code && lifetime_of(q, &lifetime) < 0)
		code = STUN_ERR_BAD_REQUEST;
	if (code) {
		reply_error(q, code);
		return;
	}
	r = alloc_new(q, even, lifetime, &a);
	if (r < 0) {
		log_ratelimited(&q->s->rl, now_ms(q->s), LOG_DEBUG, "turn: relayed socket: %s",
		                strerror(-r));
		reply_error(q,
		            r == -ENOMEM ? STUN_ERR_SERVER_ERROR : STUN_ERR_INSUFFICIENT_CAPACITY);
		return;
	}
	log_ratelimited(&q->s->rl, now_ms(q->s), LOG_DEBUG,
	                "turn: allocation for '%s' at %s, relayed %s", q->user,
	                addr_str(&a->client, client, sizeof(client)),
	                addr_str(&a->relayed, relayed, sizeof(relayed)));
	reply_allocated(q, a);
}

/* The allocation a non-Allocate request is about: RFC 8656 section 5, the
 * 5-tuple's, and only for the user who made it. NULL once answered. */
static struct turn_alloc *alloc_of_request(struct req *q)
{
	struct turn_alloc *a = alloc_find(q->s, q->from);

	if (!a) {
		reply_error(q, STUN_ERR_ALLOCATION_MISMATCH);
		return NULL;
	}
	if (strcmp(a->user->name, q->user) != 0) {
		q->s->stats.refused_auth++;
		reply_error(q, STUN_ERR_WRONG_CREDENTIALS);
		return NULL;
	}
	return a;
}

static void handle_refresh(struct req *q)
{
	struct turn_alloc *a = alloc_of_request(q);
	struct stun_builder b;
	uint64_t lifetime;
	int fam;

	if (!a)
		return;
	if (requested_family(q->m, &fam) < 0 || lifetime_of(q, &lifetime) < 0) {
		reply_error(q, STUN_ERR_BAD_REQUEST);
		return;
	}
	if (fam != AF_UNSPEC && fam != a->relayed.ss_family) {
		reply_error(q, STUN_ERR_PEER_ADDRESS_FAMILY);
		return;
	}
	/* RFC 8656 section 7.3: lifetime 0 deletes the allocation. */
	if (lifetime == 0)
		alloc_delete(a);
	else
		a->expires = now_ms(q->s) + lifetime;
	reply_begin(q, STUN_SUCCESS, &b);
	stun_put_u32(&b, STUN_ATTR_LIFETIME, (uint32_t)(lifetime / 1000));
	reply_end(q, &b);
}

/* An XOR-PEER-ADDRESS checked for this allocation: 0 or the error code. */
static unsigned peer_check(struct req *q, const struct turn_alloc *a, const struct stun_attr *attr,
                           struct sockaddr_storage *peer)
{
	if (stun_attr_addr(attr, true, q->m->txid, peer) < 0)
		return STUN_ERR_BAD_REQUEST;
	if (peer->ss_family != a->relayed.ss_family)
		return STUN_ERR_PEER_ADDRESS_FAMILY;
	if (!peer_allowed(q->s, peer))
		return STUN_ERR_FORBIDDEN;
	return 0;
}

/* How many of the request's peers need a new permission slot. */
static unsigned perms_needed(struct turn_alloc *a, const struct sockaddr_storage *peers, size_t n,
                             uint64_t now)
{
	unsigned need = 0;

	for (size_t i = 0; i < n; i++) {
		bool dup = perm_find(a, ip_of(&peers[i]), now) != NULL;

		for (size_t j = 0; j < i && !dup; j++)
			dup = memcmp(ip_of(&peers[i]), ip_of(&peers[j]),
			             ip_len(peers[i].ss_family)) == 0;
		need += !dup;
	}
	return need;
}

static unsigned perms_free(struct turn_alloc *a, uint64_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < a->s->cfg.max_permissions; i++)
		n += a->perms[i].expires <= now;
	return n;
}

static void handle_create_permission(struct req *q)
{
	struct turn_alloc *a = alloc_of_request(q);
	struct sockaddr_storage peers[STUN_MAX_ATTRS];
	uint64_t now = now_ms(q->s);
	struct stun_builder b;
	size_t n = 0;

	if (!a)
		return;
	/* RFC 8656 section 9.2: every XOR-PEER-ADDRESS must pass, or none is
	 * installed. */
	for (size_t i = 0; i < q->m->n_attrs; i++) {
		unsigned code;

		if (q->m->attrs[i].type != STUN_ATTR_XOR_PEER_ADDRESS)
			continue;
		code = peer_check(q, a, &q->m->attrs[i], &peers[n]);
		if (code) {
			reply_error(q, code);
			return;
		}
		n++;
	}
	if (n == 0) {
		reply_error(q, STUN_ERR_BAD_REQUEST);
		return;
	}
	if (perms_needed(a, peers, n, now) > perms_free(a, now)) {
		reply_error(q, STUN_ERR_INSUFFICIENT_CAPACITY);
		return;
	}
	for (size_t i = 0; i < n; i++)
		perm_install(a, ip_of(&peers[i]), now);
	reply_begin(q, STUN_SUCCESS, &b);
	reply_end(q, &b);
}

/* RFC 8656 section 11.2: 0 or the error code; *slot is where the binding goes. */
static unsigned channel_check(struct req *q, struct turn_alloc *a, struct sockaddr_storage *peer,
                              uint16_t *number, struct turn_chan **slot)
{
	const struct stun_attr *ch = stun_find(q->m, STUN_ATTR_CHANNEL_NUMBER);
	const struct stun_attr *pa = stun_find(q->m, STUN_ATTR_XOR_PEER_ADDRESS);
	uint64_t now = now_ms(q->s);
	struct turn_chan *by_number, *by_peer;
	unsigned code;

	if (!ch || ch->len != 4 || !pa)
		return STUN_ERR_BAD_REQUEST;
	*number = load_be16(ch->value);
	if (*number < STUN_CHANNEL_MIN || *number > STUN_CHANNEL_MAX)
		return STUN_ERR_BAD_REQUEST;
	code = peer_check(q, a, pa, peer);
	if (code)
		return code;
	by_number = chan_by_number(a, *number, now);
	by_peer = chan_by_peer(a, peer, now);
	/* A channel is bound to one peer and a peer to one channel. */
	if (by_number != by_peer)
		return STUN_ERR_BAD_REQUEST;
	*slot = by_number ? by_number : chan_free_slot(a, now);
	if (!*slot || (!perm_find(a, ip_of(peer), now) && !perm_free_slot(a, now)))
		return STUN_ERR_INSUFFICIENT_CAPACITY;
	return 0;
}

static void handle_channel_bind(struct req *q)
{
	struct turn_alloc *a = alloc_of_request(q);
	struct sockaddr_storage peer;
	struct turn_chan *slot;
	struct stun_builder b;
	uint16_t number;
	unsigned code;
	uint64_t now;

	if (!a)
		return;
	code = channel_check(q, a, &peer, &number, &slot);
	if (code) {
		reply_error(q, code);
		return;
	}
	/* Binding a channel installs or refreshes its peer's permission. */
	now = now_ms(q->s);
	slot->number = number;
	slot->peer = peer;
	slot->expires = now + CHANNEL_MS;
	perm_install(a, ip_of(&peer), now);
	reply_begin(q, STUN_SUCCESS, &b);
	reply_end(q, &b);
}

static void handle_binding(struct req *q)
{
	struct stun_builder b;

	/* RFC 8489 section 6.3.1: the reflexive address, no authentication. */
	reply_begin(q, STUN_SUCCESS, &b);
	stun_put_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, (const struct sockaddr *)q->from, true);
	reply_end(q, &b);
}

/* 420 listing the attributes not understood; true if it was sent. */
static bool refuse_unknown(struct req *q)
{
	uint16_t unknown[STUN_MAX_ATTRS];
	size_t n = stun_unknown_required(q->m, known_attrs, ARRAY_SIZE(known_attrs), unknown,
	                                 ARRAY_SIZE(unknown));
	struct stun_builder b;

	if (n == 0)
		return false;
	reply_begin(q, STUN_ERROR, &b);
	stun_put_error(&b, STUN_ERR_UNKNOWN_ATTRIBUTE, reason_of(STUN_ERR_UNKNOWN_ATTRIBUTE));
	stun_put_unknown(&b, unknown, n);
	reply_end(q, &b);
	return true;
}

static void handle_request(struct turn_server *s, const struct stun_msg *m,
                           const struct sockaddr_storage *from)
{
	struct req q = {.s = s, .m = m, .from = from};

	if (m->method == STUN_BINDING) {
		if (!refuse_unknown(&q))
			handle_binding(&q);
		return;
	}
	if (m->method != STUN_ALLOCATE && m->method != STUN_REFRESH &&
	    m->method != STUN_CREATE_PERMISSION && m->method != STUN_CHANNEL_BIND) {
		reply_error(&q, STUN_ERR_BAD_REQUEST);
		return;
	}
	/* RFC 5389 section 7.3: authentication comes before the unknown
	 * attribute check, and the 420 is then signed. */
	if (authenticate(&q) < 0 || refuse_unknown(&q))
		goto out;
	switch (m->method) {
	case STUN_ALLOCATE:
		handle_allocate(&q);
		break;
	case STUN_REFRESH:
		handle_refresh(&q);
		break;
	case STUN_CREATE_PERMISSION:
		handle_create_permission(&q);
		break;
	default:
		handle_channel_bind(&q);
		break;
	}
out:
	memzero(q.key, sizeof(q.key));
}

/* RFC 8656 section 10.2: anything wrong with a Send indication drops it. */
static void handle_send(struct turn_server *s, const struct stun_msg *m,
                        const struct sockaddr_storage *from)
{
	const struct stun_attr *pa = stun_find(m, STUN_ATTR_XOR_PEER_ADDRESS);
	const struct stun_attr *data = stun_find(m, STUN_ATTR_DATA);
	struct turn_alloc *a = alloc_find(s, from);
	struct sockaddr_storage peer;
	uint16_t unknown;

	if (!a || !pa || !data ||
	    stun_unknown_required(m, known_attrs, ARRAY_SIZE(known_attrs), &unknown, 1) ||
	    stun_attr_addr(pa, true, m->txid, &peer) < 0 ||
	    peer.ss_family != a->relayed.ss_family || !peer_allowed(s, &peer) ||
	    !perm_find(a, ip_of(&peer), now_ms(s)))
		return;
	relay_to_peer(a, data->value, data->len, &peer);
}

/* RFC 8656 section 11.5: data on a bound channel goes to its peer, if the
 * permission still stands; anything else is dropped. */
static void handle_channel_data(struct turn_server *s, const uint8_t *buf, size_t len,
                                const struct sockaddr_storage *from)
{
	struct turn_alloc *a = alloc_find(s, from);
	const uint8_t *data;
	struct turn_chan *c;
	size_t dlen;
	uint16_t number;
	uint64_t now = now_ms(s);

	if (!a || stun_channel_data_parse(buf, len, &number, &data, &dlen) < 0)
		return;
	c = chan_by_number(a, number, now);
	if (!c || !perm_find(a, ip_of(&c->peer), now))
		return;
	relay_to_peer(a, data, dlen, &c->peer);
}

/* A request whose header is sound but whose body is not gets 400 (RFC 8489
 * section 6.3); anything else that does not parse is dropped. */
static void reply_malformed(struct turn_server *s, const uint8_t *buf, size_t len,
                            const struct sockaddr_storage *from)
{
	struct stun_msg m = {.buf = buf, .len = len};
	struct req q = {.s = s, .m = &m, .from = from};

	if (!stun_looks_like(buf, len))
		return;
	stun_type_split(load_be16(buf), &m.method, &m.cls);
	if (m.cls != STUN_REQUEST)
		return;
	memcpy(m.txid, buf + 8, STUN_TXID_LEN);
	reply_error(&q, STUN_ERR_BAD_REQUEST);
}

/* One datagram from a client. */
static void input(struct turn_server *s, const uint8_t *buf, size_t len,
                  const struct sockaddr_storage *from)
{
	struct stun_msg m;

	if (stun_is_channel_data(buf, len)) {
		handle_channel_data(s, buf, len, from);
		return;
	}
	if (stun_parse(buf, len, &m) < 0) {
		log_ratelimited(&s->rl, now_ms(s), LOG_DEBUG, "turn: malformed message, %zu bytes",
		                len);
		reply_malformed(s, buf, len, from);
		return;
	}
	if (m.cls == STUN_REQUEST)
		handle_request(s, &m, from);
	else if (m.cls == STUN_INDICATION && m.method == STUN_SEND)
		handle_send(s, &m, from);
	/* Binding indications are keepalives; responses are not for us. */
}

void turn_server_input(struct turn_server *s, const uint8_t *buf, size_t len,
                       const struct sockaddr *from)
{
	struct sockaddr_storage ss;

	if (s->closing || addr_copy(&ss, from) < 0)
		return;
	input(s, buf, len, &ss);
	txq_flush(s);
}

/* ---- the listening socket and the sweep ---- */

/* One receive slot: a datagram, or a UDP_GRO run of datagrams of one
 * client, each handled on its own (a bad one is dropped alone). */
static void sock_slot(struct turn_server *s, const struct udp_dgram *d)
{
	size_t seg = d->seg ? d->seg : d->len, off = 0, n;

	if (d->truncated || (d->from.ss_family != AF_INET && d->from.ss_family != AF_INET6))
		return;
	do {
		n = d->len - off < seg ? d->len - off : seg;
		input(s, d->data + off, n, &d->from);
		off += n;
	} while (off < d->len && !s->closing);
}

static void sock_readable(uv_poll_t *h, int status, int events)
{
	struct turn_server *s = h->data;

	(void)events;
	if (status < 0) {
		log_ratelimited(&s->rl, now_ms(s), LOG_DEBUG, "turn: poll: %s",
		                uv_strerror(status));
		return;
	}
	for (int round = 0; round < RX_ROUNDS && !s->closing; round++) {
		int n = udp_recv_batch(&s->sock, &s->rx);

		if (n < 0)
			log_ratelimited(&s->rl, now_ms(s), LOG_DEBUG, "turn: receive: %s",
			                strerror(-n));
		for (int i = 0; i < n && !s->closing; i++)
			sock_slot(s, &s->rx.d[i]);
		txq_flush(s);
		if (n < UDP_BATCH)
			break;
	}
}

static void sweep(uv_timer_t *t)
{
	struct turn_server *s = t->data;
	uint64_t now = now_ms(s);

	for (size_t i = 0; i < s->n_buckets; i++) {
		struct turn_alloc *a = s->buckets[i], *next;

		for (; a; a = next) {
			next = a->hnext;
			if (a->expires <= now)
				alloc_delete(a);
		}
	}
}

/* ---- lifetime of the server ---- */

void turn_config_init(struct turn_config *cfg, const char *realm)
{
	*cfg = (struct turn_config){
	        .realm = realm,
	        .max_allocs_total = TURN_DEFAULT_MAX_ALLOCS,
	        .max_allocs_per_user = TURN_DEFAULT_MAX_ALLOCS_PER_USER,
	        .bytes_per_s_per_user = TURN_DEFAULT_BYTES_PER_S,
	        .max_lifetime_s = TURN_DEFAULT_MAX_LIFETIME_S,
	        .max_permissions = TURN_DEFAULT_MAX_PERMISSIONS,
	};
}

static bool config_valid(const struct turn_config *cfg)
{
	size_t rlen = cfg->realm ? strlen(cfg->realm) : 0;

	if (rlen == 0 || rlen > TURN_REALM_MAX || cfg->max_allocs_total == 0 ||
	    cfg->max_allocs_per_user == 0 || cfg->max_lifetime_s == 0 ||
	    cfg->max_permissions == 0 || cfg->max_permissions > MAX_PERMISSIONS ||
	    (cfg->n_deny && !cfg->deny))
		return false;
	/* The token bucket multiplies the rate by up to 1000 ms. */
	if (cfg->bytes_per_s_per_user > UINT64_MAX / 1000)
		return false;
	for (size_t i = 0; i < cfg->n_deny; i++) {
		const struct turn_prefix *p = &cfg->deny[i];
		if ((p->family != AF_INET || p->len > 32) &&
		    (p->family != AF_INET6 || p->len > 128))
			return false;
	}
	return true;
}

/* The relayed address must be one that clients can be told. */
static int relay_addr_set(struct turn_server *s, const struct sockaddr *sa)
{
	static const uint8_t zero[16];
	struct sockaddr_storage *ss = &s->relay_addr;

	if (addr_copy(ss, sa) < 0 || memcmp(ip_of(ss), zero, ip_len(ss->ss_family)) == 0)
		return -EINVAL;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)ss)->sin6_port = 0;
	return 0;
}

static void server_free(struct turn_server *s)
{
	void (*done)(void *) = s->done;
	void *arg = s->done_arg;

	udp_close(&s->sock);
	udp_batch_done(&s->rx);
	free(s->txq);
	free(s->buckets);
	free(s->deny);
	memzero(s->secret, sizeof(s->secret));
	free(s);
	if (done)
		done(arg);
}

static void server_maybe_done(struct turn_server *s)
{
	if (s->closing && s->pending_closes == 0)
		server_free(s);
}

static void server_handle_closed(uv_handle_t *h)
{
	struct turn_server *s = h->data;

	s->pending_closes--;
	server_maybe_done(s);
}

static int server_setup(struct turn_server *s, const struct turn_config *cfg)
{
	size_t rlen = strlen(cfg->realm);
	int r;

	s->cfg = *cfg;
	memcpy(s->realm, cfg->realm, rlen + 1);
	s->cfg.realm = s->realm;
	if (cfg->n_deny) {
		s->deny = calloc(cfg->n_deny, sizeof(*s->deny));
		if (!s->deny)
			return -ENOMEM;
		memcpy(s->deny, cfg->deny, cfg->n_deny * sizeof(*s->deny));
	}
	s->cfg.deny = s->deny;
	/* At least two buckets per allocation, a power of two. */
	for (s->n_buckets = 16; s->n_buckets < 2 * (size_t)cfg->max_allocs_total;)
		s->n_buckets *= 2;
	s->buckets = calloc(s->n_buckets, sizeof(*s->buckets));
	/* Pages of the batch and queue buffers are touched only when used. */
	s->txq = malloc(sizeof(*s->txq));
	if (!s->buckets || !s->txq || udp_batch_init(&s->rx) < 0)
		return -ENOMEM;
	r = crypto_random(s->secret, sizeof(s->secret));
	if (r == 0)
		r = crypto_random(&s->txid_seed, sizeof(s->txid_seed));
	return r;
}

/* The listening socket, not yet polled. */
static int server_bind(struct turn_server *s, const struct sockaddr *listen)
{
	struct sockaddr_storage ss, bound;
	int r = addr_copy(&ss, listen);

	if (r == 0)
		r = sock_open(&ss, &s->sock, &bound);
	if (r == 0)
		udp_tx_init(s->txq, s->sock.gso);
	return r;
}

int turn_server_new(uv_loop_t *loop, const struct turn_config *cfg, const struct sockaddr *listen,
                    const struct sockaddr *relay_addr, turn_key_fn key, void *arg,
                    struct turn_server **ret)
{
	struct turn_server *s;
	int r;

	if (!loop || !cfg || !listen || !relay_addr || !key || !ret || !config_valid(cfg) ||
	    (listen->sa_family != AF_INET && listen->sa_family != AF_INET6))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->key = key;
	s->key_arg = arg;
	s->sock.fd = -1;
	s->rl = (struct ratelimit)RATELIMIT_INIT(10000, 10);
	r = relay_addr_set(s, relay_addr);
	if (r == 0)
		r = server_setup(s, cfg);
	if (r == 0)
		r = server_bind(s, listen);
	/* A failed init registers no handle. */
	if (r == 0)
		r = uv_poll_init(loop, &s->poll, s->sock.fd);
	if (r < 0) {
		server_free(s);
		return r;
	}
	s->poll.data = s;
	s->sweep.data = s;
	r = uv_timer_init(loop, &s->sweep);
	if (r < 0) {
		s->closing = true;
		s->pending_closes = 1;
		uv_close((uv_handle_t *)&s->poll, server_handle_closed);
		return r;
	}
	r = uv_poll_start(&s->poll, UV_READABLE, sock_readable);
	if (r == 0)
		r = uv_timer_start(&s->sweep, sweep, SWEEP_MS, SWEEP_MS);
	if (r < 0) {
		/* The handles close on the loop; the memory goes with them. */
		turn_server_close(s, NULL, NULL);
		return r;
	}
	*ret = s;
	return 0;
}

void turn_server_close(struct turn_server *s, void (*done)(void *), void *arg)
{
	if (!s || s->closing)
		return;
	for (size_t i = 0; i < s->n_buckets; i++)
		while (s->buckets[i])
			alloc_delete(s->buckets[i]);
	txq_flush(s);
	s->closing = true;
	s->done = done;
	s->done_arg = arg;
	s->pending_closes += 2;
	uv_close((uv_handle_t *)&s->poll, server_handle_closed);
	uv_close((uv_handle_t *)&s->sweep, server_handle_closed);
}

int turn_server_address(const struct turn_server *s, struct sockaddr_storage *ret)
{
	socklen_t len = sizeof(*ret);

	return getsockname(s->sock.fd, (struct sockaddr *)ret, &len) < 0 ? -errno : 0;
}

void turn_server_stats(const struct turn_server *s, struct turn_stats *ret)
{
	*ret = s->stats;
}
