/* SPDX-License-Identifier: MIT */
/* dnsserver.c: idlocd's DNS server on the TUN packet path. */
#include "daemon/dnsserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/log.h"
#include "daemon/config.h"
#include "daemon/idmap.h"
#include "daemon/mesh.h"
#include "dns/forward.h"
#include "dns/responder.h"
#include "dns/wire.h"
#include "net/tun.h"
#include "overlay/node.h"

#define PENDING_MAX  256 /* names being looked up at once */
#define CLIENTS_MAX  16  /* queries waiting for one name */
#define CACHE_SIZE   256 /* recent answers, by name */
#define FORWARDS_MAX 256 /* queries at the upstream servers at once */
#define PKT_MAX      (60 + 8 + DNS_MSG_MAX)

struct client {
	struct dns_udp_addr addr;
	struct dns_query q;
};

/* One overlay lookup and the queries waiting for it. */
struct pending {
	struct dnsserver *s;
	struct pending *next;
	char name[DNS_NAME_MAX + 1];
	struct client c[CLIENTS_MAX];
	size_t n;
};

struct cached {
	char name[DNS_NAME_MAX + 1];
	enum dns_lookup_outcome outcome;
	struct hit hit;
	uint64_t expires;
};

struct forward {
	struct dnsserver *s;
	struct dns_udp_addr addr;
};

struct dnsserver {
	struct dnsserver_io io;
	struct dns_responder resp;
	struct dns_forward *fwd; /* NULL: refuse names outside our zones */
	struct pending *pending;
	size_t npending, nforwards;
	struct cached cache[CACHE_SIZE];
	struct dnsserver_stats stats;
	uint8_t msg[DNS_MSG_MAX];
	uint8_t pkt[PKT_MAX];
};

/* ---- replies into the TUN ---- */

static void send_reply(struct dnsserver *s, const struct dns_udp_addr *addr, const uint8_t *msg,
                       size_t len)
{
	int n = dns_udp_reply(addr, msg, len, s->pkt, sizeof(s->pkt));

	if (n < 0 || tun_write(s->io.tun, s->pkt, (size_t)n) < 0)
		s->stats.dropped++;
}

/* ---- the cache ---- */

static struct cached *cache_slot(struct dnsserver *s, const char *name)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return &s->cache[mix64(h) % CACHE_SIZE];
}

static const struct cached *cache_get(struct dnsserver *s, const char *name, uint64_t now)
{
	const struct cached *c = cache_slot(s, name);

	return c->expires > now && strcmp(c->name, name) == 0 ? c : NULL;
}

static void cache_put(struct dnsserver *s, const char *name, enum dns_lookup_outcome o,
                      const struct hit *hit, uint64_t now)
{
	struct cached *c = cache_slot(s, name);
	uint32_t ttl = s->resp.ttl;

	if (o == DNS_LOOKUP_FAILED)
		return; /* a timeout is worth asking again at once */
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->outcome = o;
	if (hit)
		c->hit = *hit;
	c->expires = now + (uint64_t)ttl * 1000;
}

/* ---- answers from lookups ---- */

/* Found: the name's HIT gets its LSI (and the name) in the identifier map. */
static enum dns_lookup_outcome bind_name(struct dnsserver *s, const char *name,
                                         const struct hit *hit, uint32_t *lsi)
{
	const struct idmap_entry *e;
	char h[HIT_STRLEN];
	int r = idmap_add(s->io.idmap, hit, name, &e);

	if (r < 0) {
		log_errno(LOG_WARNING, r, "DNS: no LSI for %s (%s)", name, hit_format(hit, h));
		return DNS_LOOKUP_FAILED;
	}
	if (r & IDMAP_COLLISION)
		log_msg(LOG_NOTICE,
		        "LSI of %s collides with another peer's here: using a local one", name);
	*lsi = e->lsi;
	return DNS_LOOKUP_FOUND;
}

static void answer_client(struct dnsserver *s, const struct client *c, enum dns_lookup_outcome o,
                          const struct hit *hit, uint32_t lsi)
{
	int n = dns_responder_answer(&s->resp, &c->q, o, hit, lsi, s->msg, sizeof(s->msg));

	if (n > 0)
		send_reply(s, &c->addr, s->msg, (size_t)n);
}

static void pending_unlink(struct dnsserver *s, struct pending *p)
{
	for (struct pending **pp = &s->pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			s->npending--;
			return;
		}
	}
}

static void on_lookup(void *arg, enum ovl_status st, const struct ovl_record *rec, unsigned hops,
                      uint64_t elapsed)
{
	struct pending *p = arg;
	struct dnsserver *s = p->s;
	enum dns_lookup_outcome o;
	uint64_t now = uv_now(s->io.loop);
	uint32_t lsi = 0;

	(void)hops;
	(void)elapsed;
	pending_unlink(s, p);
	if (st == OVL_OK && rec)
		o = bind_name(s, p->name, &rec->owner, &lsi);
	else
		o = st == OVL_NOT_FOUND ? DNS_LOOKUP_NOT_FOUND : DNS_LOOKUP_FAILED;
	cache_put(s, p->name, o, o == DNS_LOOKUP_FOUND ? &rec->owner : NULL, now);
	for (size_t i = 0; i < p->n; i++)
		answer_client(s, &p->c[i], o, o == DNS_LOOKUP_FOUND ? &rec->owner : NULL, lsi);
	if (o == DNS_LOOKUP_FOUND && s->io.resolved)
		s->io.resolved(s->io.ctx, &rec->owner, rec->payload, rec->payload_len);
	free(p);
}

static bool client_known(const struct pending *p, const struct client *c)
{
	for (size_t i = 0; i < p->n; i++)
		if (dns_query_same(&p->c[i].q, &c->q) &&
		    memcmp(&p->c[i].addr, &c->addr, sizeof(c->addr)) == 0)
			return true;
	return false;
}

/* Joins the lookup already running for the name, or starts one. */
static void lookup(struct dnsserver *s, const struct client *c, const char *name, uint64_t now)
{
	const struct cached *hit = cache_get(s, name, now);
	struct pending *p;
	uint32_t lsi = 0;
	int r;

	if (hit) {
		enum dns_lookup_outcome o = hit->outcome;

		s->stats.cache_hits++;
		if (o == DNS_LOOKUP_FOUND)
			o = bind_name(s, name, &hit->hit, &lsi);
		answer_client(s, c, o, &hit->hit, lsi);
		return;
	}
	for (p = s->pending; p; p = p->next) {
		if (strcmp(p->name, name) != 0)
			continue;
		s->stats.lookups_joined++;
		if (!client_known(p, c) && p->n < CLIENTS_MAX)
			p->c[p->n++] = *c;
		return;
	}
	if (s->npending == PENDING_MAX || !(p = calloc(1, sizeof(*p)))) {
		answer_client(s, c, DNS_LOOKUP_FAILED, NULL, 0);
		return;
	}
	p->s = s;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->c[p->n++] = *c;
	r = mesh_resolve(s->io.mesh, name, on_lookup, p);
	if (r < 0) {
		answer_client(s, c, DNS_LOOKUP_FAILED, NULL, 0);
		free(p);
		return;
	}
	s->stats.lookups++;
	p->next = s->pending;
	s->pending = p;
	s->npending++;
}

/* ---- forwarding ---- */

static void on_forwarded(void *arg, int status, const uint8_t *reply, size_t len)
{
	struct forward *f = arg;

	f->s->nforwards--;
	if (reply)
		send_reply(f->s, &f->addr, reply, len);
	free(f);
}

static void forward(struct dnsserver *s, const struct client *c, const uint8_t *msg, size_t len)
{
	struct forward *f;
	int n;

	if (s->fwd && s->nforwards < FORWARDS_MAX && (f = malloc(sizeof(*f)))) {
		f->s = s;
		f->addr = c->addr;
		s->nforwards++;
		if (dns_forward_query(s->fwd, &c->q, msg, len, on_forwarded, f) == 0) {
			s->stats.forwarded++;
			return;
		}
		s->nforwards--;
		free(f);
	}
	n = dns_build_error(&c->q, s->fwd ? DNS_RCODE_SERVFAIL : DNS_RCODE_REFUSED, s->msg,
	                    sizeof(s->msg));
	if (n > 0)
		send_reply(s, &c->addr, s->msg, (size_t)n);
}

/* ---- queries ---- */

bool dnsserver_packet(void *ctx, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct dnsserver *s = ctx;
	struct dns_lookup name;
	struct client c;
	const uint8_t *msg;
	size_t mlen, out_len;
	int r;

	r = dns_udp_match(pkt, len, s->io.cfg->dns_address, NULL, &c.addr, &msg, &mlen);
	if (r == 0)
		return false;
	s->stats.queries++;
	if (r < 0) {
		s->stats.dropped++;
		return true;
	}
	r = dns_responder_handle(&s->resp, msg, mlen, &c.q, &name, s->msg, sizeof(s->msg),
	                         &out_len);
	switch (r) {
	case DNS_ACTION_REPLY:
		s->stats.answered_local++;
		send_reply(s, &c.addr, s->msg, out_len);
		break;
	case DNS_ACTION_LOOKUP:
		lookup(s, &c, name.name, now);
		break;
	case DNS_ACTION_FORWARD:
		forward(s, &c, msg, mlen);
		break;
	default:
		s->stats.dropped++;
		break;
	}
	return true;
}

/* ---- life ---- */

/* PTR names: the peers we know from the identifier map. */
static int ptr_name(void *arg, int family, const uint8_t *addr, char name[DNS_NAME_MAX + 1])
{
	const struct dnsserver *s = arg;
	const struct idmap_entry *e;
	struct hit h;

	if (family == AF_INET) {
		e = idmap_by_lsi(s->io.idmap, load_be32(addr));
	} else {
		memcpy(h.b, addr, sizeof(h.b));
		e = idmap_by_hit(s->io.idmap, &h);
	}
	if (!e || !e->name[0])
		return -ENOENT;
	snprintf(name, DNS_NAME_MAX + 1, "%s", e->name);
	return 0;
}

/* dns.upstream as the forwarder's server list (NULL for auto). */
static const char *upstream_list(const struct config *cfg, char *buf, size_t cap)
{
	size_t off = 0;

	if (cfg->upstream == CONFIG_UPSTREAM_AUTO)
		return NULL;
	buf[0] = '\0';
	for (size_t i = 0; i < cfg->n_upstream && off < cap; i++) {
		const struct config_endpoint *e = &cfg->upstream_servers[i];
		bool v6 = strchr(e->host, ':') != NULL;
		int n = snprintf(buf + off, cap - off, "%s%s%s%s:%u", off ? "," : "", v6 ? "[" : "",
		                 e->host, v6 ? "]" : "", e->port);

		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

static int start_forwarder(struct dnsserver *s)
{
	const struct config *cfg = s->io.cfg;
	char list[DNS_FORWARD_CSV_MAX];
	struct dns_forward_config fc = {
	        .resolver_addr = cfg->dns_address,
	        .lsi_prefix = cfg->lsi_prefix,
	        .lsi_prefix_len = cfg->lsi_prefix_len,
	};
	int r;

	if (cfg->upstream == CONFIG_UPSTREAM_NONE) {
		log_msg(LOG_INFO, "DNS: no upstream servers (dns.upstream = none): other names are "
		                  "refused");
		return 0;
	}
	fc.servers = upstream_list(cfg, list, sizeof(list));
	r = dns_forward_new(s->io.loop, &fc, &s->fwd);
	if (r == -ENOENT) {
		log_msg(LOG_NOTICE, "DNS: no usable upstream server: names outside %s are refused",
		        cfg->domain);
		return 0;
	}
	if (r < 0)
		return log_errno(LOG_ERR, r, "DNS: upstream forwarding setup failed");
	log_msg(LOG_NOTICE, "DNS: forwarding other names to %s", dns_forward_servers(s->fwd));
	return 0;
}

int dnsserver_new(const struct dnsserver_io *io, struct dnsserver **ret)
{
	struct dnsserver *s = calloc(1, sizeof(*s));
	const struct idmap_entry *self = idmap_self(io->idmap);
	struct dns_responder_config rc = {
	        .domain = io->cfg->domain,
	        .own_name = io->cfg->name,
	        .own_hit = io->own_hit,
	        .own_lsi = self->lsi,
	        .lsi_prefix = io->cfg->lsi_prefix,
	        .lsi_prefix_len = io->cfg->lsi_prefix_len,
	        .ptr_name = ptr_name,
	};
	int r;

	if (!s)
		return -ENOMEM;
	s->io = *io;
	r = start_forwarder(s);
	if (r < 0) {
		free(s);
		return r;
	}
	rc.has_upstream = s->fwd != NULL;
	rc.ptr_arg = s;
	r = dns_responder_init(&s->resp, &rc);
	if (r < 0) {
		log_errno(LOG_ERR, r, "DNS responder for %s", io->cfg->domain);
		dns_forward_free(s->fwd);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void dnsserver_stop(struct dnsserver *s)
{
	if (!s)
		return;
	dns_forward_free(s->fwd);
	s->fwd = NULL;
}

struct dnsserver *dnsserver_free(struct dnsserver *s)
{
	if (!s)
		return NULL;
	dnsserver_stop(s);
	while (s->pending) {
		struct pending *p = s->pending;

		s->pending = p->next;
		free(p);
	}
	free(s);
	return NULL;
}

void dnsserver_stats(const struct dnsserver *s, struct dnsserver_stats *ret)
{
	*ret = s->stats;
}
