/* SPDX-License-Identifier: MIT */
/* netcheck.c: STUN Binding probes of the [ice] servers, and the report. */
#include "daemon/netcheck.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/bytes.h"
#include "daemon/config.h"
#include "net/resolver.h"
#include "net/udp.h"

#define STUN_HEADER          20
#define STUN_COOKIE          0x2112a442u
#define STUN_BINDING_REQUEST 0x0001
#define STUN_BINDING_SUCCESS 0x0101
#define STUN_BINDING_ERROR   0x0111
#define STUN_FINGERPRINT_XOR 0x5354554eu

#define ATTR_MAPPED_ADDRESS     0x0001
#define ATTR_CHANGED_ADDRESS    0x0005
#define ATTR_MESSAGE_INTEGRITY  0x0008
#define ATTR_ERROR_CODE         0x0009
#define ATTR_XOR_MAPPED_ADDRESS 0x0020
#define ATTR_FINGERPRINT        0x8028
#define ATTR_OTHER_ADDRESS      0x802c

/* Name resolution gets this long before the probe counts as failed. */
#define RESOLVE_MS 5000
#define TICK_MS    50
#define MAX_PROBES (2 * CONFIG_MAX_ICE + 2)

/* ---- the codec ---- */

void netcheck_stun_request(const uint8_t txid[NETCHECK_TXID_LEN], uint8_t out[NETCHECK_REQUEST_LEN])
{
	store_be16(out, STUN_BINDING_REQUEST);
	store_be16(out + 2, 0);
	store_be32(out + 4, STUN_COOKIE);
	memcpy(out + 8, txid, NETCHECK_TXID_LEN);
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

/* Comprehension-required attributes (below 0x8000) a Binding response may
 * carry that we know, whether or not we use them (RFC 3489, 5389, 5780, 8489). */
static bool known_required(uint16_t type)
{
	return (type >= 0x0001 && type <= 0x000b) || type == 0x0014 || type == 0x0015 ||
	       type == 0x001c || type == 0x001d || type == 0x001e || type == 0x0020 ||
	       type == 0x0026 || type == 0x0027;
}

/* MAPPED-ADDRESS and its kin; xor for XOR-MAPPED-ADDRESS, whose key is the
 * magic cookie and the transaction id that follow it in header. */
static int parse_address(const uint8_t *v, size_t len, bool xor, const uint8_t *header,
                         struct sockaddr_storage *ss)
{
	uint16_t port;

	if (len < 4)
		return -EBADMSG;
	port = load_be16(v + 2);
	if (xor)
		port ^= (uint16_t)(STUN_COOKIE >> 16);
	memset(ss, 0, sizeof(*ss));
	if (v[1] == 0x01 && len == 8) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		uint8_t *a = (uint8_t *)&sin->sin_addr;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		for (size_t i = 0; i < 4; i++)
			a[i] = v[4 + i] ^ (xor? header[4 + i] : 0);
		return 0;
	}
	if (v[1] == 0x02 && len == 20) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		uint8_t *a = sin6->sin6_addr.s6_addr;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		for (size_t i = 0; i < 16; i++)
			a[i] = v[4 + i] ^ (xor? header[4 + i] : 0);
		return 0;
	}
	return -EBADMSG;
}

static int parse_error_code(const uint8_t *v, size_t len, unsigned *ret)
{
	unsigned cls, num;

	if (len < 4)
		return -EBADMSG;
	cls = v[2] & 0x07;
	num = v[3];
	if (cls < 3 || cls > 6 || num > 99)
		return -EBADMSG;
	*ret = cls * 100 + num;
	return 0;
}

struct attrs {
	bool xor_mapped, mapped, other, changed, error, integrity;
	struct sockaddr_storage xor_addr, mapped_addr, other_addr, changed_addr;
	unsigned error_code;
};

/* One attribute; the first of each type counts, as RFC 5389 says. */
static int take_attr(const uint8_t *msg, uint16_t type, const uint8_t *v, size_t len,
                     struct attrs *a)
{
	/* After MESSAGE-INTEGRITY only FINGERPRINT may be used. */
	if (a->integrity)
		return 0;
	switch (type) {
	case ATTR_XOR_MAPPED_ADDRESS:
		if (a->xor_mapped)
			return 0;
		a->xor_mapped = true;
		return parse_address(v, len, true, msg, &a->xor_addr);
	case ATTR_MAPPED_ADDRESS:
		if (a->mapped)
			return 0;
		a->mapped = true;
		return parse_address(v, len, false, msg, &a->mapped_addr);
	case ATTR_OTHER_ADDRESS:
		if (a->other)
			return 0;
		a->other = true;
		return parse_address(v, len, false, msg, &a->other_addr);
	case ATTR_CHANGED_ADDRESS:
		if (a->changed)
			return 0;
		a->changed = true;
		return parse_address(v, len, false, msg, &a->changed_addr);
	case ATTR_ERROR_CODE:
		if (a->error)
			return 0;
		a->error = true;
		return parse_error_code(v, len, &a->error_code);
	case ATTR_MESSAGE_INTEGRITY:
		a->integrity = true;
		return 0;
	default:
		return type < 0x8000 && !known_required(type) ? -EBADMSG : 0;
	}
}

static int parse_attrs(const uint8_t *buf, size_t len, struct attrs *a)
{
	size_t off = STUN_HEADER;

	while (off < len) {
		uint16_t type, alen;
		size_t padded;
		int r;

		if (len - off < 4)
			return -EBADMSG;
		type = load_be16(buf + off);
		alen = load_be16(buf + off + 2);
		padded = ((size_t)alen + 3) & ~(size_t)3;
		if (padded > len - off - 4)
			return -EBADMSG;
		if (type == ATTR_FINGERPRINT) {
			/* Last, over everything before it. */
			if (alen != 4 || off + 8 != len ||
			    load_be32(buf + off + 4) != (crc32(buf, off) ^ STUN_FINGERPRINT_XOR))
				return -EBADMSG;
		} else {
			r = take_attr(buf, type, buf + off + 4, alen, a);
			if (r < 0)
				return r;
		}
		off += 4 + padded;
	}
	return 0;
}

int netcheck_stun_parse(const uint8_t *buf, size_t len, const uint8_t txid[NETCHECK_TXID_LEN],
                        struct netcheck_stun_answer *ret)
{
	struct attrs a = {.xor_mapped = false};
	uint16_t type;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (len < STUN_HEADER || (buf[0] & 0xc0) || load_be32(buf + 4) != STUN_COOKIE ||
	    load_be16(buf + 2) != len - STUN_HEADER || (len & 3))
		return -EBADMSG;
	r = parse_attrs(buf, len, &a);
	if (r < 0)
		return r;
	type = load_be16(buf);
	if ((type != STUN_BINDING_SUCCESS && type != STUN_BINDING_ERROR) ||
	    memcmp(buf + 8, txid, NETCHECK_TXID_LEN) != 0)
		return -ENOMSG;
	ret->success = type == STUN_BINDING_SUCCESS;
	if (ret->success) {
		if (!a.xor_mapped && !a.mapped)
			return -EBADMSG;
		ret->mapped = a.xor_mapped ? a.xor_addr : a.mapped_addr;
	} else {
		ret->error = a.error ? a.error_code : 0;
	}
	if (a.other || a.changed) {
		ret->has_other = true;
		ret->other = a.other ? a.other_addr : a.changed_addr;
	}
	return 0;
}

/* ---- the check ---- */

enum probe_kind {
	PROBE_STUN,
	PROBE_TURN,
	PROBE_ALT, /* the OTHER-ADDRESS of a STUN server */
};

enum probe_state {
	PROBE_RESOLVING,
	PROBE_SENDING,
	PROBE_ANSWERED,
	PROBE_FAILED,
};

struct netcheck;

struct probe {
	struct netcheck *nc;
	enum probe_kind kind;
	enum probe_state state;
	char label[CONFIG_DOMAIN_MAX + 16]; /* the server as configured */
	int alt_of;                         /* PROBE_ALT: index of its STUN probe */
	struct sockaddr_storage addr;
	uint8_t txid[NETCHECK_TXID_LEN];
	unsigned sends;
	uint64_t first_ms; /* loop time of the first request */
	uint64_t last_ns;  /* hrtime of the latest request */
	double rtt_ms;
	struct netcheck_stun_answer ans;
	char error[128];
};

struct sock {
	uv_udp_t h;
	bool open;
	bool failed;
	char error[96];
};

struct netcheck {
	uv_loop_t *loop;
	uv_timer_t timer;
	struct sock sock[2]; /* IPv4, IPv6 */
	struct resolver *resolver;
	unsigned open_handles;
	struct probe probe[MAX_PROBES];
	size_t n;
	uint64_t start_ms;
	bool alt_added, finished;
	char device[CONFIG_IFNAME_MAX + 1];
	netcheck_done_fn done;
	netcheck_cancelled_fn cancelled;
	void *arg;
	uint8_t rbuf[1500];
};

static const unsigned send_at_ms[] = {0, 250, 750, 1750};

static void on_handle_closed(uv_handle_t *h)
{
	struct netcheck *nc = h->data;

	if (--nc->open_handles == 0)
		free(nc);
}

static int family_index(int family)
{
	return family == AF_INET6 ? 1 : 0;
}

static void probe_fail(struct probe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void probe_fail(struct probe *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	p->state = PROBE_FAILED;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct netcheck *nc = h->data;

	*b = uv_buf_init((char *)nc->rbuf, sizeof(nc->rbuf));
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *b, const struct sockaddr *from,
                    unsigned flags)
{
	struct netcheck *nc = h->data;
	const uint8_t *buf = (const uint8_t *)b->base;

	if (nc->finished || nread < STUN_HEADER || !from || (flags & UV_UDP_PARTIAL))
		return;
	for (size_t i = 0; i < nc->n; i++) {
		struct probe *p = &nc->probe[i];
		if (p->state != PROBE_SENDING || memcmp(buf + 8, p->txid, NETCHECK_TXID_LEN) != 0)
			continue;
		/* Anything malformed is ignored: a retransmission may still
		 * bring a good answer. */
		if (netcheck_stun_parse(buf, (size_t)nread, p->txid, &p->ans) < 0)
			return;
		p->rtt_ms = (double)(uv_hrtime() - p->last_ns) / 1e6;
		p->state = PROBE_ANSWERED;
		if (!p->ans.success && p->kind != PROBE_TURN)
			snprintf(p->error, sizeof(p->error), "error response %u", p->ans.error);
		return;
	}
}

/* The socket of family, opened on first use: an ephemeral port on every
 * address. NULL with why in the socket's error. */
static uv_udp_t *sock_for(struct netcheck *nc, int family)
{
	struct sock *s = &nc->sock[family_index(family)];
	struct sockaddr_storage any = {.ss_family = (sa_family_t)family};
	int r;

	if (s->open)
		return &s->h;
	if (s->failed)
		return NULL;
	r = uv_udp_init_ex(nc->loop, &s->h, (unsigned)family);
	if (r < 0) {
		s->failed = true;
		snprintf(s->error, sizeof(s->error), "no %s socket: %s",
		         family == AF_INET ? "IPv4" : "IPv6", uv_strerror(r));
		return NULL;
	}
	s->h.data = nc;
	s->open = true;
	nc->open_handles++;
	r = uv_udp_bind(&s->h, (const struct sockaddr *)&any,
	                family == AF_INET6 ? UV_UDP_IPV6ONLY : 0);
	if (r == 0)
		r = uv_udp_recv_start(&s->h, on_alloc, on_recv);
	if (r < 0) {
		s->failed = true;
		snprintf(s->error, sizeof(s->error), "no %s socket: %s",
		         family == AF_INET ? "IPv4" : "IPv6", uv_strerror(r));
		return NULL;
	}
	return &s->h;
}

static void probe_send(struct netcheck *nc, struct probe *p)
{
	uint8_t req[NETCHECK_REQUEST_LEN];
	uv_buf_t b = uv_buf_init((char *)req, sizeof(req));
	uv_udp_t *h = sock_for(nc, p->addr.ss_family);
	int r;

	if (!h) {
		probe_fail(p, "%s", nc->sock[family_index(p->addr.ss_family)].error);
		return;
	}
	netcheck_stun_request(p->txid, req);
	r = uv_udp_try_send(h, &b, 1, (const struct sockaddr *)&p->addr);
	p->sends++;
	p->last_ns = uv_hrtime();
	/* A full socket buffer is a lost request; the schedule retries. */
	if (r < 0 && r != UV_EAGAIN && r != UV_ENOBUFS)
		probe_fail(p, "cannot send: %s", uv_strerror(r));
}

static void probe_go(struct probe *p, const struct sockaddr_storage *addr)
{
	p->addr = *addr;
	p->state = PROBE_SENDING;
	p->first_ms = uv_now(p->nc->loop);
	if (getrandom(p->txid, sizeof(p->txid), 0) != (ssize_t)sizeof(p->txid)) {
		probe_fail(p, "no random transaction id");
		return;
	}
	probe_send(p->nc, p);
}

static void on_resolved(void *arg, int status, const struct sockaddr_storage *addrs, size_t n)
{
	struct probe *p = arg;
	size_t pick = 0;

	if (p->nc->finished || p->state != PROBE_RESOLVING)
		return;
	if (status < 0 || n == 0) {
		probe_fail(p, status == -ETIMEDOUT ? "name lookup timed out" : "does not resolve");
		return;
	}
	/* IPv4 first: it is where NATs are. */
	for (size_t i = 0; i < n; i++) {
		if (addrs[i].ss_family == AF_INET) {
			pick = i;
			break;
		}
	}
	probe_go(p, &addrs[pick]);
}

static bool all_done(const struct netcheck *nc)
{
	for (size_t i = 0; i < nc->n; i++)
		if (nc->probe[i].state == PROBE_RESOLVING || nc->probe[i].state == PROBE_SENDING)
			return false;
	return true;
}

static bool mapped(const struct probe *p)
{
	return (p->kind == PROBE_STUN || p->kind == PROBE_ALT) && p->state == PROBE_ANSWERED &&
	       p->ans.success;
}

/* The single STUN server of family that answered, when it is the only one;
 * -1 otherwise. */
static int lone_server(const struct netcheck *nc, int family)
{
	int lone = -1;

	for (size_t i = 0; i < nc->n; i++) {
		const struct probe *p = &nc->probe[i];
		if (!mapped(p) || p->addr.ss_family != family)
			continue;
		if (lone >= 0 && !same_addr(&nc->probe[lone].addr, &p->addr))
			return -1;
		if (lone < 0)
			lone = (int)i;
	}
	return lone;
}

/* With one STUN server per family, its OTHER-ADDRESS is the second. */
static bool add_alternates(struct netcheck *nc)
{
	static const int families[] = {AF_INET, AF_INET6};
	bool added = false;

	nc->alt_added = true;
	for (size_t f = 0; f < ARRAY_SIZE(families) && nc->n < MAX_PROBES; f++) {
		int i = lone_server(nc, families[f]);
		const struct probe *s = i >= 0 ? &nc->probe[i] : NULL;
		struct probe *p;
		char a[UDP_ADDRSTRLEN];

		if (!s || !s->ans.has_other || s->ans.other.ss_family != families[f] ||
		    same_addr(&s->ans.other, &s->addr))
			continue;
		p = &nc->probe[nc->n++];
		*p = (struct probe){.nc = nc, .kind = PROBE_ALT, .alt_of = i};
		snprintf(p->label, sizeof(p->label), "%s",
		         udp_addr_format((const struct sockaddr *)&s->ans.other, a));
		probe_go(p, &s->ans.other);
		added = true;
	}
	return added;
}

static void close_all(struct netcheck *nc)
{
	resolver_free(nc->resolver); /* pending lookups end, ignored */
	nc->resolver = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(nc->sock); i++)
		if (nc->sock[i].open)
			uv_close((uv_handle_t *)&nc->sock[i].h, on_handle_closed);
	uv_close((uv_handle_t *)&nc->timer, on_handle_closed);
}

static json_t *build_report(struct netcheck *nc);

static void finish(struct netcheck *nc, int err)
{
	json_t *report = NULL;

	nc->finished = true;
	if (err == 0) {
		report = build_report(nc);
		if (!report)
			err = -ENOMEM;
	}
	nc->done(nc->arg, err, report);
	close_all(nc);
}

static void on_tick(uv_timer_t *t)
{
	struct netcheck *nc = t->data;
	uint64_t now = uv_now(nc->loop);

	if (nc->cancelled && nc->cancelled(nc->arg)) {
		finish(nc, -ECANCELED);
		return;
	}
	for (size_t i = 0; i < nc->n; i++) {
		struct probe *p = &nc->probe[i];
		if (p->state == PROBE_RESOLVING && now - nc->start_ms >= RESOLVE_MS) {
			probe_fail(p, "name lookup timed out");
		} else if (p->state == PROBE_SENDING) {
			uint64_t elapsed = now - p->first_ms;
			if (elapsed >= NETCHECK_GIVE_UP_MS)
				probe_fail(p, "no answer");
			else if (p->sends < ARRAY_SIZE(send_at_ms) &&
			         elapsed >= send_at_ms[p->sends])
				probe_send(nc, p);
		}
	}
	if (all_done(nc) && (nc->alt_added || !add_alternates(nc)))
		finish(nc, 0);
}

static void add_server(struct netcheck *nc, enum probe_kind kind, const struct config_endpoint *ep)
{
	struct probe *p = &nc->probe[nc->n++];
	int r;

	*p = (struct probe){.nc = nc, .kind = kind, .alt_of = -1, .state = PROBE_RESOLVING};
	config_endpoint_format(ep, p->label, sizeof(p->label));
	if (ep->literal) {
		probe_go(p, &ep->addr);
		return;
	}
	if (!nc->resolver) {
		r = resolver_new(nc->loop, &nc->resolver);
		if (r < 0) {
			probe_fail(p, "cannot resolve names: %s", strerror(-r));
			return;
		}
	}
	r = resolver_lookup(nc->resolver, ep->host, ep->port, on_resolved, p);
	if (r < 0)
		probe_fail(p, "cannot resolve: %s", strerror(-r));
}

int netcheck_start(uv_loop_t *loop, const struct config *cfg, netcheck_done_fn done,
                   netcheck_cancelled_fn cancelled, void *arg)
{
	struct netcheck *nc = calloc(1, sizeof(*nc));

	if (!nc)
		return -ENOMEM;
	nc->loop = loop;
	nc->done = done;
	nc->cancelled = cancelled;
	nc->arg = arg;
	nc->start_ms = uv_now(loop);
	snprintf(nc->device, sizeof(nc->device), "%s", cfg->device);
	if (uv_timer_init(loop, &nc->timer) < 0) {
		free(nc);
		return -EIO;
	}
	nc->timer.data = nc;
	nc->open_handles = 1;
	/* The first tick comes from the loop: done never runs from in here. */
	if (uv_timer_start(&nc->timer, on_tick, 0, TICK_MS) < 0) {
		uv_close((uv_handle_t *)&nc->timer, on_handle_closed);
		return -EIO;
	}
	for (size_t i = 0; i < cfg->n_stun; i++)
		add_server(nc, PROBE_STUN, &cfg->stun[i]);
	for (size_t i = 0; i < cfg->n_turn; i++)
		add_server(nc, PROBE_TURN, &cfg->turn[i].server);
	return 0;
}

/* ---- the report ---- */

static int set(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *addr_json(const struct sockaddr_storage *ss)
{
	char a[UDP_ADDRSTRLEN];

	return json_string(udp_addr_format((const struct sockaddr *)ss, a));
}

static json_t *ms_json(double ms)
{
	return json_real((double)(uint64_t)(ms * 1000 + 0.5) / 1000);
}

static bool is_link_local6(const struct sockaddr *sa)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	return sa->sa_family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr);
}

/* This host's addresses: up, not loopback, not the TUN, not IPv6 link-local.
 * When probe_of is set, also whether one of them (any interface) equals it. */
static json_t *local_json(const struct netcheck *nc, const struct sockaddr_storage *probe_of,
                          bool *is_local)
{
	struct ifaddrs *ifs, *i;
	json_t *list = json_array();
	char a[INET6_ADDRSTRLEN];

	if (!list)
		return NULL;
	if (getifaddrs(&ifs) < 0)
		return list; /* an empty list: nothing known */
	for (i = ifs; i; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;
		const void *bin;
		json_t *o;

		if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
			continue;
		bin = sa->sa_family == AF_INET
		              ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
		              : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (probe_of && probe_of->ss_family == sa->sa_family) {
			const void *pbin =
			        sa->sa_family == AF_INET
			                ? (const void *)&((const struct sockaddr_in *)probe_of)
			                          ->sin_addr
			                : (const void *)&((const struct sockaddr_in6 *)probe_of)
			                          ->sin6_addr;
			if (memcmp(bin, pbin, sa->sa_family == AF_INET ? 4 : 16) == 0)
				*is_local = true;
		}
		if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK) ||
		    strcmp(i->ifa_name, nc->device) == 0 || is_link_local6(sa) ||
		    !inet_ntop(sa->sa_family, bin, a, sizeof(a)))
			continue;
		o = json_pack("{s:s, s:s}", "interface", i->ifa_name, "address", a);
		if (!o || json_array_append_new(list, o) < 0) {
			json_decref(list);
			list = NULL;
			break;
		}
	}
	freeifaddrs(ifs);
	return list;
}

static json_t *probe_json(const struct netcheck *nc, const struct probe *p)
{
	json_t *o = json_object();
	bool answered = p->state == PROBE_ANSWERED;
	int r = 0;

	if (!o)
		return NULL;
	r |= set(o, "server", json_string(p->label));
	r |= set(o, "address", p->addr.ss_family == AF_UNSPEC ? json_null() : addr_json(&p->addr));
	if (p->kind == PROBE_TURN) {
		r |= set(o, "reachable", json_boolean(answered));
	} else {
		r |= set(o, "mapped", mapped(p) ? addr_json(&p->ans.mapped) : json_null());
		r |= set(o, "alternate_of",
		         p->kind == PROBE_ALT ? json_string(nc->probe[p->alt_of].label)
		                              : json_null());
	}
	r |= set(o, "rtt_ms", answered ? ms_json(p->rtt_ms) : json_null());
	r |= set(o, "error", str_or_null(p->error));
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static uint16_t sock_port(const struct netcheck *nc, int family)
{
	const struct sock *s = &nc->sock[family_index(family)];
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	if (!s->open || uv_udp_getsockname(&s->h, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	return ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                               : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
	                                      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

struct verdict {
	const char *mapping;
	char detail[1024];
};

/* The first two answers of family from different servers, for comparing. */
static int two_servers(const struct netcheck *nc, int family, const struct probe **a,
                       const struct probe **b)
{
	*a = *b = NULL;
	for (size_t i = 0; i < nc->n; i++) {
		const struct probe *p = &nc->probe[i];
		if (!mapped(p) || p->addr.ss_family != family)
			continue;
		if (!*a) {
			*a = p;
		} else if (!same_addr(&(*a)->addr, &p->addr)) {
			*b = p;
			/* A different mapping settles it; keep looking for one. */
			if (!same_addr(&(*a)->ans.mapped, &p->ans.mapped))
				return 2;
		}
	}
	return *b ? 2 : *a ? 1 : 0;
}

static void classify(const struct netcheck *nc, struct verdict *v)
{
	const struct probe *a, *b;
	char x[UDP_ADDRSTRLEN], y[UDP_ADDRSTRLEN];
	int family = AF_INET, n;
	bool local = false;
	json_t *dummy;

	v->mapping = "unknown";
	if (nc->n == 0 || nc->probe[0].kind != PROBE_STUN) {
		snprintf(v->detail, sizeof(v->detail), "no STUN server configured ([ice] stun)");
		return;
	}
	n = two_servers(nc, AF_INET, &a, &b);
	if (n == 0) {
		family = AF_INET6;
		n = two_servers(nc, AF_INET6, &a, &b);
	}
	if (n == 0) {
		snprintf(v->detail, sizeof(v->detail), "no STUN server answered");
		return;
	}
	dummy = local_json(nc, &a->ans.mapped, &local);
	json_decref(dummy);
	if (local && port_of(&a->ans.mapped) == sock_port(nc, family)) {
		v->mapping = "none";
		snprintf(v->detail, sizeof(v->detail),
		         "%s sees this host's own address %s: no NAT on the path", a->label,
		         udp_addr_format((const struct sockaddr *)&a->ans.mapped, x));
		return;
	}
	if (n == 1) {
		snprintf(v->detail, sizeof(v->detail),
		         "only %s answered and it named no other address: a second [ice] stun "
		         "server tells whether the mapping depends on the destination",
		         a->label);
		return;
	}
	udp_addr_format((const struct sockaddr *)&a->ans.mapped, x);
	udp_addr_format((const struct sockaddr *)&b->ans.mapped, y);
	if (same_addr(&a->ans.mapped, &b->ans.mapped)) {
		v->mapping = "endpoint-independent";
		snprintf(v->detail, sizeof(v->detail), "%s and %s both see %s", a->label, b->label,
		         x);
	} else {
		v->mapping = "endpoint-dependent";
		snprintf(v->detail, sizeof(v->detail),
		         "%s sees %s but %s sees %s: a new mapping per destination (a symmetric "
		         "NAT); direct paths need the peer's NAT to be endpoint-independent, or a "
		         "relay",
		         a->label, x, b->label, y);
	}
}

/* The mapped addresses seen, each once. */
static json_t *reflexive_json(const struct netcheck *nc)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < nc->n; i++) {
		const struct probe *p = &nc->probe[i];
		bool seen = false;
		if (!mapped(p))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = mapped(&nc->probe[j]) &&
			       same_addr(&nc->probe[j].ans.mapped, &p->ans.mapped);
		if (!seen && json_array_append_new(list, addr_json(&p->ans.mapped)) < 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return list;
}

static json_t *build_report(struct netcheck *nc)
{
	json_t *rep = json_object(), *stun = json_array(), *relays = json_array();
	struct verdict v;
	int r = 0;

	if (!rep || !stun || !relays) {
		json_decref(rep);
		json_decref(stun);
		json_decref(relays);
		return NULL;
	}
	for (size_t i = 0; i < nc->n; i++) {
		json_t *o = probe_json(nc, &nc->probe[i]);
		if (!o ||
		    json_array_append_new(nc->probe[i].kind == PROBE_TURN ? relays : stun, o) < 0)
			r = -ENOMEM;
	}
	classify(nc, &v);
	r |= set(rep, "local", local_json(nc, NULL, NULL));
	r |= set(rep, "stun", stun);
	r |= set(rep, "reflexive", reflexive_json(nc));
	r |= set(rep, "nat", json_pack("{s:s, s:s}", "mapping", v.mapping, "detail", v.detail));
	r |= set(rep, "relays", relays);
	if (r) {
		json_decref(rep);
		return NULL;
	}
	return rep;
}
