/* SPDX-License-Identifier: MIT */
/* iceconf.c: the [ice] STUN and TURN servers, resolved for the ICE agents. */
#include "daemon/iceconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/config.h"
#include "daemon/pipes.h"
#include "net/ice.h"
#include "net/resolver.h"

/* One server from the config and, once known, its numeric address. */
struct server {
	struct iceconf *owner;
	const struct config_endpoint *ep;
	char numeric[INET6_ADDRSTRLEN]; /* "" until resolved */
	const struct config_turn *turn; /* NULL for STUN */
};

struct iceconf {
	const struct config *cfg;
	struct pipes *pipes;
	struct resolver *resolver; /* only while names are being resolved */
	struct server stun[CONFIG_MAX_ICE];
	struct server turn[CONFIG_MAX_ICE];
	size_t n_stun, n_turn;
	bool stopped;
};

static int numeric_of(const struct sockaddr_storage *ss, char out[INET6_ADDRSTRLEN])
{
	const void *a = ss->ss_family == AF_INET
	                        ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
	                        : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		return -EAFNOSUPPORT;
	return inet_ntop(ss->ss_family, a, out, INET6_ADDRSTRLEN) ? 0 : -EINVAL;
}

/* Hands what is resolved so far to the pipes. */
static void apply(struct iceconf *c)
{
	struct ice_turn t[PIPES_TURN_MAX];
	const struct server *stun = NULL;
	size_t n = 0;
	int r;

	for (size_t i = 0; i < c->n_stun && !stun; i++)
		if (c->stun[i].numeric[0])
			stun = &c->stun[i];
	for (size_t i = 0; i < c->n_turn && n < PIPES_TURN_MAX; i++) {
		if (!c->turn[i].numeric[0])
			continue;
		t[n++] = (struct ice_turn){.host = c->turn[i].numeric,
		                           .port = c->turn[i].ep->port,
		                           .user = c->turn[i].turn->user,
		                           .pass = c->turn[i].turn->password};
	}
	r = pipes_set_servers(c->pipes, stun ? stun->numeric : NULL, stun ? stun->ep->port : 0, t,
	                      n);
	if (r < 0)
		log_errno(LOG_WARNING, r, "ICE servers not taken");
}

static void on_resolved(void *arg, int status, const struct sockaddr_storage *addrs, size_t n)
{
	struct server *s = arg;
	struct iceconf *c = s->owner;

	if (c->stopped)
		return;
	if (status < 0 || n == 0 || numeric_of(&addrs[0], s->numeric) < 0) {
		log_msg(LOG_WARNING, "[ice] %s server '%s' does not resolve: not used",
		        s->turn ? "TURN" : "STUN", s->ep->host);
		return;
	}
	log_msg(LOG_INFO, "[ice] %s server %s is %s", s->turn ? "TURN" : "STUN", s->ep->host,
	        s->numeric);
	apply(c);
}

int iceconf_start(uv_loop_t *loop, const struct config *cfg, struct pipes *pipes,
                  struct iceconf **ret)
{
	struct iceconf *c = calloc(1, sizeof(*c));
	bool names = false;
	int r;

	if (!c)
		return -ENOMEM;
	c->cfg = cfg;
	c->pipes = pipes;
	for (size_t i = 0; i < cfg->n_stun; i++) {
		c->stun[c->n_stun] = (struct server){.owner = c, .ep = &cfg->stun[i]};
		names |= !cfg->stun[i].literal;
		if (cfg->stun[i].literal &&
		    numeric_of(&cfg->stun[i].addr, c->stun[c->n_stun].numeric) < 0)
			continue;
		c->n_stun++;
	}
	for (size_t i = 0; i < cfg->n_turn; i++) {
		const struct config_endpoint *ep = &cfg->turn[i].server;

		c->turn[c->n_turn] = (struct server){.owner = c, .ep = ep, .turn = &cfg->turn[i]};
		names |= !ep->literal;
		if (ep->literal && numeric_of(&ep->addr, c->turn[c->n_turn].numeric) < 0)
			continue;
		c->n_turn++;
	}
	apply(c);
	if (names) {
		r = resolver_new(loop, &c->resolver);
		if (r < 0) {
			log_errno(LOG_WARNING, r, "[ice] server names cannot be resolved");
		} else {
			for (size_t i = 0; i < c->n_stun + c->n_turn; i++) {
				struct server *s =
				        i < c->n_stun ? &c->stun[i] : &c->turn[i - c->n_stun];

				if (s->ep->literal)
					continue;
				if (resolver_lookup(c->resolver, s->ep->host, s->ep->port,
				                    on_resolved, s) < 0)
					log_msg(LOG_WARNING, "[ice] cannot resolve '%s'",
					        s->ep->host);
			}
		}
	}
	*ret = c;
	return 0;
}

void iceconf_stop(struct iceconf *c)
{
	if (!c || c->stopped)
		return;
	c->stopped = true;
	resolver_free(c->resolver); /* pending lookups end with an error */
	c->resolver = NULL;
}

struct iceconf *iceconf_free(struct iceconf *c)
{
	if (!c)
		return NULL;
	iceconf_stop(c);
	free(c);
	return NULL;
}
