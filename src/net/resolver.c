/* SPDX-License-Identifier: MIT */
/* resolver.c: c-ares driven by libuv: a uv_poll_t per c-ares socket (from the
 * socket state callback) and one uv_timer_t armed from ares_timeout(). */
#include "net/resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define RESOLVER_TIMEOUT_MS 2000
#define RESOLVER_TRIES      3
#define RESOLVER_MAX_SOCKS  16
#define RESOLVER_RELAY_MAX  4096 /* the largest UDP answer a relay takes */

struct resolver_sock {
	uv_poll_t poll;
	struct resolver *r;
	ares_socket_t fd;
	bool used;
};

struct resolver {
	uv_loop_t *loop;
	ares_channel chan;
	uv_timer_t timer;
	struct resolver_sock socks[RESOLVER_MAX_SOCKS];
	unsigned closing; /* handles still closing */
	bool freeing;
};

struct resolver_query {
	struct resolver *r;
	uint16_t port;
	resolver_cb cb;
	void *arg;
};

static void maybe_release(struct resolver *r)
{
	if (r->freeing && r->closing == 0)
		free(r);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct resolver *r = h->data;

	r->closing--;
	maybe_release(r);
}

static void on_sock_closed(uv_handle_t *h)
{
	struct resolver_sock *s = h->data;
	struct resolver *r = s->r;

	r->closing--;
	maybe_release(r);
}

static void on_timer(uv_timer_t *t);

static void rearm_timer(struct resolver *r)
{
	struct timeval tv, *t;

	if (r->freeing)
		return;
	t = ares_timeout(r->chan, NULL, &tv);
	if (!t) {
		uv_timer_stop(&r->timer);
		return;
	}
	uv_timer_start(&r->timer, on_timer,
	               (uint64_t)t->tv_sec * 1000 + (uint64_t)t->tv_usec / 1000, 0);
}

static void on_timer(uv_timer_t *t)
{
	struct resolver *r = t->data;

	ares_process_fd(r->chan, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm_timer(r);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct resolver_sock *s = p->data;
	struct resolver *r = s->r;
	ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;

	/* On error let c-ares read the socket and notice the failure itself. */
	if (status < 0 || (events & UV_READABLE))
		rfd = s->fd;
	if (status == 0 && (events & UV_WRITABLE))
		wfd = s->fd;
	ares_process_fd(r->chan, rfd, wfd);
	rearm_timer(r);
}

static struct resolver_sock *sock_find(struct resolver *r, ares_socket_t fd)
{
	for (size_t i = 0; i < RESOLVER_MAX_SOCKS; i++)
		if (r->socks[i].used && r->socks[i].fd == fd)
			return &r->socks[i];
	return NULL;
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolver *r = data;
	struct resolver_sock *s = sock_find(r, fd);
	int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);

	if (!events) {
		/* c-ares is about to close the fd: stop polling it while the number
		 * is still valid (platform-notes section 4). */
		if (s) {
			s->used = false;
			r->closing++;
			uv_close((uv_handle_t *)&s->poll, on_sock_closed);
		}
		return;
	}
	if (!s) {
		for (size_t i = 0; i < RESOLVER_MAX_SOCKS && !s; i++)
			if (!r->socks[i].used && !uv_is_closing((uv_handle_t *)&r->socks[i].poll))
				s = &r->socks[i];
		if (!s || uv_poll_init_socket(r->loop, &s->poll, fd) != 0)
			return; /* c-ares times the query out; nothing else to do */
		s->used = true;
		s->fd = fd;
		s->r = r;
		s->poll.data = s;
	}
	uv_poll_start(&s->poll, events, on_poll);
}

static int create(uv_loop_t *loop, struct ares_options *opts, int optmask, struct resolver **ret)
{
	struct resolver *r;
	int e;

	e = ares_library_init(ARES_LIB_INIT_ALL);
	if (e != ARES_SUCCESS)
		return -EIO;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->loop = loop;
	opts->sock_state_cb = on_sock_state;
	opts->sock_state_cb_data = r;
	e = ares_init_options(&r->chan, opts, optmask | ARES_OPT_SOCK_STATE_CB);
	if (e != ARES_SUCCESS) {
		free(r);
		return e == ARES_ENOMEM ? -ENOMEM : -EIO;
	}
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	*ret = r;
	return 0;
}

int resolver_new(uv_loop_t *loop, struct resolver **ret)
{
	struct ares_options opts = {
	        .timeout = RESOLVER_TIMEOUT_MS,
	        .tries = RESOLVER_TRIES,
	};

	return create(loop, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES, ret);
}

int resolver_new_relay(uv_loop_t *loop, unsigned timeout_ms, unsigned tries, struct resolver **ret)
{
	/* ARES_FLAG_EDNS only changes queries c-ares writes itself, which a
	 * relay never does; what it buys here is the receive size: without it
	 * c-ares cuts UDP answers at 512 bytes. */
	struct ares_options opts = {
	        .flags = ARES_FLAG_IGNTC | ARES_FLAG_NOSEARCH | ARES_FLAG_EDNS,
	        .timeout = (int)timeout_ms,
	        .tries = (int)tries,
	        .ednspsz = RESOLVER_RELAY_MAX,
	};

	if (timeout_ms == 0 || timeout_ms > 60000 || tries == 0 || tries > 10)
		return -EINVAL;
	return create(loop, &opts,
	              ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_EDNSPSZ, ret);
}

void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	/* Runs pending callbacks with ARES_EDESTRUCTION and closes the sockets,
	 * which reports (0, 0) for each through on_sock_state. */
	ares_destroy(r->chan);
	r->freeing = true;
	r->closing++;
	uv_close((uv_handle_t *)&r->timer, on_timer_closed);
	for (size_t i = 0; i < RESOLVER_MAX_SOCKS; i++) {
		if (!r->socks[i].used)
			continue;
		r->socks[i].used = false;
		r->closing++;
		uv_close((uv_handle_t *)&r->socks[i].poll, on_sock_closed);
	}
	maybe_release(r);
}

int resolver_set_servers(struct resolver *r, const char *csv)
{
	int e = ares_set_servers_ports_csv(r->chan, csv);

	return e == ARES_SUCCESS ? 0 : e == ARES_ENOMEM ? -ENOMEM : -EINVAL;
}

static int map_status(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return 0;
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
	case ARES_ENONAME:
		return -ENOENT;
	case ARES_ETIMEOUT:
		return -ETIMEDOUT;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		return -ECANCELED;
	case ARES_ENOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct resolver_query *q = arg;
	struct sockaddr_storage addrs[RESOLVER_MAX_ADDRS];
	size_t n = 0;

	(void)timeouts;
	for (struct ares_addrinfo_node *a = res ? res->nodes : NULL; a && n < RESOLVER_MAX_ADDRS;
	     a = a->ai_next) {
		if (a->ai_family == AF_INET && a->ai_addrlen >= sizeof(struct sockaddr_in)) {
			struct sockaddr_in *s = (struct sockaddr_in *)&addrs[n];
			memset(&addrs[n], 0, sizeof(addrs[n]));
			memcpy(s, a->ai_addr, sizeof(*s));
			s->sin_port = htons(q->port);
			n++;
		} else if (a->ai_family == AF_INET6 &&
		           a->ai_addrlen >= sizeof(struct sockaddr_in6)) {
			struct sockaddr_in6 *s = (struct sockaddr_in6 *)&addrs[n];
			memset(&addrs[n], 0, sizeof(addrs[n]));
			memcpy(s, a->ai_addr, sizeof(*s));
			s->sin6_port = htons(q->port);
			n++;
		}
	}
	if (res)
		ares_freeaddrinfo(res);
	if (status == ARES_SUCCESS && n == 0)
		status = ARES_ENODATA;
	q->cb(q->arg, map_status(status), addrs, status == ARES_SUCCESS ? n : 0);
	free(q);
}

static bool literal(const char *host, uint16_t port, struct sockaddr_storage *ret)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ret;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ret;

	memset(ret, 0, sizeof(*ret));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return true;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		return true;
	}
	return false;
}

int resolver_lookup(struct resolver *r, const char *host, uint16_t port, resolver_cb cb, void *arg)
{
	struct ares_addrinfo_hints hints = {.ai_family = AF_UNSPEC};
	struct sockaddr_storage one;
	struct resolver_query *q;

	if (r->freeing)
		return -ECANCELED;
	/* A literal address needs no DNS; c-ares would still query for it. */
	if (literal(host, port, &one)) {
		cb(arg, 0, &one, 1);
		return 0;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	*q = (struct resolver_query){.r = r, .port = port, .cb = cb, .arg = arg};
	ares_getaddrinfo(r->chan, host, NULL, &hints, on_addrinfo, q);
	rearm_timer(r);
	return 0;
}

struct resolver_raw {
	resolver_send_cb cb;
	void *arg;
};

static int map_send_status(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return 0;
	case ARES_ETIMEOUT:
		return -ETIMEDOUT;
	case ARES_ECONNREFUSED:
		return -ECONNREFUSED;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		return -ECANCELED;
	case ARES_ENOMEM:
		return -ENOMEM;
	case ARES_EBADQUERY:
		return -EINVAL;
	default: /* ESERVFAIL, EREFUSED, ENOTIMP from every server */
		return -EIO;
	}
}

static void on_send(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct resolver_raw *q = arg;
	int e = map_send_status(status);

	(void)timeouts;
	if (e == 0 && (!abuf || alen <= 0))
		e = -EIO;
	q->cb(q->arg, e, e == 0 ? abuf : NULL, e == 0 ? (size_t)alen : 0);
	free(q);
}

int resolver_send(struct resolver *r, const uint8_t *query, size_t len, resolver_send_cb cb,
                  void *arg)
{
	struct resolver_raw *q;

	if (r->freeing)
		return -ECANCELED;
	if (len < 12 || len > UINT16_MAX)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	*q = (struct resolver_raw){.cb = cb, .arg = arg};
	ares_send(r->chan, query, (int)len, on_send, q);
	rearm_timer(r);
	return 0;
}
