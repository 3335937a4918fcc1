/* SPDX-License-Identifier: MIT */
/* forward.c: upstream server selection and query relaying through c-ares. */
#include "dns/forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bytes.h"
#include "net/resolver.h"

#define RESOLV_CONF     "/etc/resolv.conf"
#define RESOLV_CONF_MAX (64 * 1024)

struct dns_forward {
	struct resolver *res;
	char csv[DNS_FORWARD_CSV_MAX];
};

struct pending {
	struct dns_query q;
	dns_forward_cb cb;
	void *arg;
	uint8_t msg[]; /* the query as sent */
};

struct server {
	int family;
	uint8_t addr[16];
	uint16_t port;
};

/* ---- server lists ---- */

static int parse_port(const char *s, size_t n, uint16_t *port)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > UINT16_MAX)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* 0 with *srv set, 1 for an address we do not use (scoped), -EINVAL. */
static int parse_addr(const char *s, size_t n, struct server *srv)
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (n == 0 || n >= sizeof(buf))
		return memchr(s, '%', n) ? 1 : -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strchr(buf, '%'))
		return 1; /* c-ares' csv takes no interface scope */
	if (inet_pton(AF_INET, buf, srv->addr) == 1) {
		srv->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, srv->addr) == 1) {
		srv->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/* "a.b.c.d", "a.b.c.d:port", "v6", "[v6]", "[v6]:port". */
static int parse_server(const char *s, size_t n, struct server *srv)
{
	const char *colon;
	int e;

	srv->port = DNS_PORT;
	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		size_t rest;
		if (!close)
			return -EINVAL;
		e = parse_addr(s + 1, (size_t)(close - s - 1), srv);
		if (e != 0)
			return e;
		if (srv->family != AF_INET6)
			return -EINVAL;
		rest = n - (size_t)(close - s) - 1;
		if (rest == 0)
			return 0;
		if (close[1] != ':')
			return -EINVAL;
		return parse_port(close + 2, rest - 1, &srv->port);
	}
	colon = memchr(s, ':', n);
	if (colon && !memchr(colon + 1, ':', n - (size_t)(colon - s) - 1)) {
		e = parse_addr(s, (size_t)(colon - s), srv);
		if (e != 0)
			return e;
		if (srv->family != AF_INET)
			return -EINVAL;
		return parse_port(colon + 1, n - (size_t)(colon - s) - 1, &srv->port);
	}
	return parse_addr(s, n, srv);
}

static bool in_prefix4(uint32_t a, uint32_t prefix, uint8_t plen)
{
	uint32_t mask = plen ? ~0u << (32 - plen) : 0;

	return (a & mask) == (prefix & mask);
}

/* Would a query sent there come back to us (or go nowhere)? */
static bool loops(const struct dns_forward_config *cfg, const struct server *srv)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t zero[16];
	const uint8_t *v4 = NULL;

	if (srv->family == AF_INET)
		v4 = srv->addr;
	else if (memcmp(srv->addr, mapped, sizeof(mapped)) == 0)
		v4 = srv->addr + 12;
	if (v4) {
		uint32_t a = load_be32(v4);
		return a == 0 || a == cfg->resolver_addr ||
		       in_prefix4(a, cfg->lsi_prefix, cfg->lsi_prefix_len);
	}
	/* :: and the HIT prefix 2001:20::/28, which the TUN carries. */
	return memcmp(srv->addr, zero, 16) == 0 ||
	       (load_be32(srv->addr) & 0xfffffff0u) == 0x20010020u;
}

struct server_list {
	struct server s[DNS_FORWARD_MAX_SERVERS];
	size_t n;
};

static int add_server(const struct dns_forward_config *cfg, struct server_list *l,
                      const struct server *srv)
{
	if (loops(cfg, srv))
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->s[i].family == srv->family && l->s[i].port == srv->port &&
		    memcmp(l->s[i].addr, srv->addr, 16) == 0)
			return 0;
	if (l->n == DNS_FORWARD_MAX_SERVERS)
		return -ENOSPC;
	l->s[l->n++] = *srv;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int from_list(const struct dns_forward_config *cfg, struct server_list *l)
{
	const char *p = cfg->servers;

	while (*p) {
		size_t n = strcspn(p, ",");
		const char *s = p, *end = p + n;
		struct server srv = {0};
		int e;
		while (s < end && is_space(*s))
			s++;
		while (end > s && is_space(end[-1]))
			end--;
		e = parse_server(s, (size_t)(end - s), &srv);
		if (e < 0)
			return e;
		if (e == 0 && (e = add_server(cfg, l, &srv)) < 0)
			return e;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* The address of a "nameserver" line, or NULL; *n is its length. */
static const char *nameserver(const char *s, const char *end, size_t *n)
{
	const char *tok;

	while (s < end && is_space(*s))
		s++;
	if ((size_t)(end - s) < 11 || memcmp(s, "nameserver", 10) != 0 || !is_space(s[10]))
		return NULL;
	s += 11;
	while (s < end && is_space(*s))
		s++;
	tok = s;
	while (s < end && !is_space(*s) && *s != '#' && *s != ';')
		s++;
	*n = (size_t)(s - tok);
	return tok;
}

static int from_resolv_conf(const struct dns_forward_config *cfg, const char *text,
                            struct server_list *l)
{
	const char *p = text;

	while (*p) {
		size_t len = strcspn(p, "\n"), n;
		const char *tok = nameserver(p, p + len, &n);
		struct server srv = {.port = DNS_PORT};
		int e;

		p += len + (p[len] == '\n');
		/* resolv.conf takes a bare address; anything else is skipped as
		 * the C library would skip it. */
		if (!tok || parse_addr(tok, n, &srv) != 0)
			continue;
		e = add_server(cfg, l, &srv);
		if (e < 0)
			return e;
	}
	return 0;
}

static int format_list(const struct server_list *l, char *csv, size_t cap)
{
	size_t o = 0;

	if (cap == 0)
		return -ENOSPC;
	csv[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		char a[INET6_ADDRSTRLEN];
		int n;
		inet_ntop(l->s[i].family, l->s[i].addr, a, sizeof(a));
		n = snprintf(csv + o, cap - o, l->s[i].family == AF_INET ? "%s%s:%u" : "%s[%s]:%u",
		             i ? "," : "", a, l->s[i].port);
		if (n < 0 || (size_t)n >= cap - o)
			return -ENOSPC;
		o += (size_t)n;
	}
	return (int)l->n;
}

int dns_forward_upstreams(const struct dns_forward_config *cfg, const char *resolv_conf_text,
                          char *csv, size_t cap)
{
	struct server_list l = {.n = 0};
	int e;

	if (cfg->lsi_prefix_len > 32)
		return -EINVAL;
	if (cfg->servers)
		e = from_list(cfg, &l);
	else
		e = from_resolv_conf(cfg, resolv_conf_text ? resolv_conf_text : "", &l);
	if (e < 0)
		return e;
	return format_list(&l, csv, cap);
}

/* ---- relaying ---- */

static int read_text(const char *path, char *buf, size_t cap)
{
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (got + 1 < cap) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return 0;
}

int dns_forward_new(uv_loop_t *loop, const struct dns_forward_config *cfg, struct dns_forward **ret)
{
	struct dns_forward *f;
	char *text = NULL;
	int n, e;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	if (!cfg->servers) {
		text = malloc(RESOLV_CONF_MAX);
		if (!text) {
			free(f);
			return -ENOMEM;
		}
		/* A missing resolv.conf only means no upstream. */
		if (read_text(cfg->resolv_conf ? cfg->resolv_conf : RESOLV_CONF, text,
		              RESOLV_CONF_MAX) < 0)
			text[0] = '\0';
	}
	n = dns_forward_upstreams(cfg, text, f->csv, sizeof(f->csv));
	free(text);
	e = n < 0 ? n : n == 0 ? -ENOENT : 0;
	if (e == 0)
		e = resolver_new_relay(loop,
		                       cfg->timeout_ms ? cfg->timeout_ms : DNS_FORWARD_TIMEOUT_MS,
		                       cfg->tries ? cfg->tries : DNS_FORWARD_TRIES, &f->res);
	if (e == 0) {
		e = resolver_set_servers(f->res, f->csv);
		if (e < 0)
			resolver_free(f->res);
	}
	if (e < 0) {
		free(f);
		return e;
	}
	*ret = f;
	return 0;
}

void dns_forward_free(struct dns_forward *f)
{
	if (!f)
		return;
	resolver_free(f->res);
	free(f);
}

const char *dns_forward_servers(const struct dns_forward *f)
{
	return f->csv;
}

static void on_answer(void *arg, int status, const uint8_t *answer, size_t len)
{
	struct pending *p = arg;
	uint8_t buf[DNS_MSG_MAX];
	size_t limit = dns_reply_limit(&p->q, sizeof(buf));
	int n;

	if (status == -ECANCELED) {
		p->cb(p->arg, status, NULL, 0);
		free(p);
		return;
	}
	/* c-ares matched the question; the rest must be whole, as c-ares may
	 * hand over a datagram cut at its receive size. */
	if (status == 0 && dns_response_check(answer, len) < 0)
		status = -EBADMSG;
	if (status < 0)
		n = dns_build_error(&p->q, DNS_RCODE_SERVFAIL, buf, sizeof(buf));
	else if (len > limit)
		n = dns_build_truncated(&p->q, buf, sizeof(buf));
	else {
		memcpy(buf, answer, len);
		store_be16(buf, p->q.id); /* c-ares sent its own ID */
		n = (int)len;
	}
	if (n < 0)
		p->cb(p->arg, n, NULL, 0);
	else
		p->cb(p->arg, status, buf, (size_t)n);
	free(p);
}

int dns_forward_query(struct dns_forward *f, const struct dns_query *q, const uint8_t *msg,
                      size_t len, dns_forward_cb cb, void *arg)
{
	struct pending *p;
	int e;

	if (len < DNS_HDR_LEN || !q->has_question)
		return -EINVAL;
	if (len > DNS_MSG_MAX)
		return -EINVAL;
	p = malloc(sizeof(*p) + len);
	if (!p)
		return -ENOMEM;
	*p = (struct pending){.q = *q, .cb = cb, .arg = arg};
	memcpy(p->msg, msg, len);
	/* Ask upstream for no more than we can take in (c-ares reads at most
	 * DNS_MSG_MAX); the client's own limit is applied to the answer. */
	if (q->edns && q->udp_size > DNS_MSG_MAX && q->opt_off + 5 <= len)
		store_be16(p->msg + q->opt_off + 3, DNS_MSG_MAX);
	e = resolver_send(f->res, p->msg, len, on_answer, p);
	if (e < 0)
		free(p);
	return e;
}
