/* SPDX-License-Identifier: MIT */
/* pipes.c: on-demand pipes: a base exchange through the overlay, then ICE. */
#include "daemon/pipes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/log.h"
#include "daemon/locator.h"
#include "net/ice.h"
#include "net/udp.h"

#define IDLE_CHECKS 4    /* idle checks per idle period */
#define TICK_MS     1000 /* deadlines and retries of pipes being set up */

struct queued {
	uint8_t *pkt;
	size_t len;
};

struct pipe {
	struct pipes *owner;
	struct hit peer;
	enum pipe_state state;
	struct ice *ice;
	struct ice_path path;
	struct queued q[PIPES_QUEUE_PEER];
	size_t nq;
	uint64_t tx_bytes, rx_bytes, drops;
	uint64_t last_active;
	uint64_t retry_at; /* FAILED: no new setup before */
	uint64_t backoff;
	uint64_t check_until; /* CHECKING: fail unless a pair is selected by then */
	size_t cands_sent;    /* local candidates the peer has from us */
	bool cands_due;       /* more were gathered; an UPDATE must take them */
};

struct pipes {
	struct pipes_config cfg;
	char stun_host[INET6_ADDRSTRLEN]; /* "" for none */
	uint16_t stun_port;
	char turn_host[PIPES_TURN_MAX][INET6_ADDRSTRLEN];
	struct ice_turn turn[PIPES_TURN_MAX];
	size_t n_turn;
	struct ice_turn peer_relay; /* found through the overlay; host NULL: none */
	char peer_relay_host[INET6_ADDRSTRLEN];
	char peer_relay_user[HIT_STRLEN], peer_relay_pass[HIP_RELAY_PWD_LEN + 1];
	struct pipes_io io;
	struct pipe **v; /* unordered; PIPES_MAX at most */
	size_t n, cap;
	size_t queued; /* packets over all pipes */
	uv_timer_t idle_timer, tick_timer;
	bool timer_running, ticking;
	unsigned open_timers;
	struct ratelimit rl;
};

/* ---- the table ---- */

static struct pipe *find(const struct pipes *p, const struct hit *peer)
{
	for (size_t i = 0; i < p->n; i++)
		if (hit_cmp(&p->v[i]->peer, peer) == 0)
			return p->v[i];
	return NULL;
}

static void queue_drop_all(struct pipes *p, struct pipe *x, bool answer)
{
	for (size_t i = 0; i < x->nq; i++) {
		if (answer && p->io.unreachable)
			p->io.unreachable(p->io.ctx, x->q[i].pkt, x->q[i].len);
		free(x->q[i].pkt);
	}
	p->queued -= x->nq;
	x->nq = 0;
}

static void agent_free(struct pipe *x)
{
	ice_free(x->ice);
	x->ice = NULL;
	memset(&x->path, 0, sizeof(x->path));
}

static void pipe_remove(struct pipes *p, struct pipe *x)
{
	queue_drop_all(p, x, false);
	agent_free(x);
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i] == x) {
			p->v[i] = p->v[--p->n];
			break;
		}
	}
	free(x);
}

static struct pipe *pipe_add(struct pipes *p, const struct hit *peer, uint64_t now)
{
	struct pipe *x;

	if (p->n == PIPES_MAX)
		return NULL;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct pipe **v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		p->v = v;
		p->cap = cap;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->owner = p;
	x->peer = *peer;
	x->state = PIPE_CONNECTING;
	x->last_active = now;
	p->v[p->n++] = x;
	return x;
}

/* ---- ICE ---- */

static void arm_tick(struct pipes *p);

/* Hands every queued packet to the data path. The queue is taken off the
 * pipe first: sending may queue again, or even remove the pipe. */
static void pipes_flush(struct pipes *p, struct pipe *x, bool remove)
{
	struct queued q[PIPES_QUEUE_PEER];
	size_t n = x->nq;

	memcpy(q, x->q, n * sizeof(q[0]));
	x->nq = 0;
	p->queued -= n;
	if (remove)
		pipe_remove(p, x);
	for (size_t i = 0; i < n; i++) {
		p->io.flush(p->io.ctx, q[i].pkt, q[i].len);
		free(q[i].pkt);
	}
}

static void on_ice_selected(void *ctx, const struct ice_path *path)
{
	struct pipe *x = ctx;
	struct pipes *p = x->owner;
	char h[HIT_STRLEN], a[UDP_ADDRSTRLEN];
	bool first = x->state != PIPE_UP;

	x->path = *path;
	x->state = PIPE_UP;
	log_msg(first ? LOG_NOTICE : LOG_INFO, "pipe to %s %s: %s path to %s",
	        hit_format(&x->peer, h), first ? "up" : "moved", path->type,
	        udp_addr_format((const struct sockaddr *)&path->remote, a));
	pipes_flush(p, x, false);
	if (first && p->io.up)
		p->io.up(p->io.ctx, &x->peer);
}

static void pipe_fail(struct pipes *p, struct pipe *x, const char *why, uint64_t now);
static void candidate_to_locator(const struct ice_candidate *c, struct hip_locator_entry *e);

/* Candidates gathered after the I2 or R2 went out (server-reflexive and
 * relayed ones wait for STUN and TURN answers) follow in an UPDATE. */
static void send_late_candidates(struct pipes *p, struct pipe *x, uint64_t now)
{
	struct hip_assoc *a = hip_host_find(p->io.hip, &x->peer);
	struct hip_locator_entry e[HIP_LOCATORS_MAX];
	struct ice_candidate c[HIP_LOCATORS_MAX];
	char h[HIT_STRLEN];
	size_t n;
	int r;

	if (!a || !x->ice)
		return;
	n = ice_local_candidates(x->ice, c, HIP_LOCATORS_MAX);
	if (n <= x->cands_sent) {
		x->cands_due = false;
		return;
	}
	for (size_t i = 0; i < n; i++)
		candidate_to_locator(&c[i], &e[i]);
	r = hip_host_send_candidates(p->io.hip, a, e, n, now);
	x->cands_due = r == -EBUSY || r == -ENOTCONN;
	if (r == 0) {
		log_msg(LOG_DEBUG, "pipe to %s: %zu more local candidates sent",
		        hit_format(&x->peer, h), n - x->cands_sent);
		x->cands_sent = n;
		p->io.hip_changed(p->io.ctx);
	} else if (!x->cands_due) {
		log_errno(LOG_WARNING, r, "pipe to %s: cannot send late candidates",
		          hit_format(&x->peer, h));
	}
}

static void on_ice_gathered(void *ctx)
{
	struct pipe *x = ctx;

	send_late_candidates(x->owner, x, uv_now(x->owner->io.loop));
}

static void on_ice_failed(void *ctx)
{
	struct pipe *x = ctx;
	struct pipes *p = x->owner;
	struct hip_assoc *a = hip_host_find(p->io.hip, &x->peer);

	pipe_fail(p, x, "ICE found no working path", uv_now(p->io.loop));
	if (a && hip_assoc_state(a) == HIP_STATE_ESTABLISHED)
		(void)hip_host_close(p->io.hip, a, uv_now(p->io.loop));
	p->io.hip_changed(p->io.ctx);
}

static void on_ice_recv(void *ctx, const uint8_t *data, size_t len)
{
	struct pipe *x = ctx;
	struct pipes *p = x->owner;

	x->rx_bytes += len;
	x->last_active = uv_now(p->io.loop);
	p->io.received(p->io.ctx, &x->peer, data, len);
}

/* The agent for x, created with the association's ICE credentials (known
 * once the exchange has KEYMAT) and gathering at once. */
static int agent_start(struct pipes *p, struct pipe *x, const struct hip_ice_params *ip)
{
	struct ice_turn turn[PIPES_TURN_MAX + 1];
	struct ice_prefix lsi = {.family = AF_INET, .len = p->cfg.lsi_prefix_len};
	const char *ifnames[1] = {p->cfg.tun_name};
	struct ice_config ic = {
	        .controlling = ip->controlling,
	        .ufrag = ip->local_ufrag,
	        .pwd = ip->local_pwd,
	        .stun_host = p->stun_host[0] ? p->stun_host : NULL,
	        .stun_port = p->stun_port,
	        .turn = turn,
	        .n_turn = p->n_turn,
	        .ignore_ifnames = ifnames,
	        .n_ignore_ifnames = p->cfg.tun_name ? 1 : 0,
	        .ignore_prefixes = &lsi,
	        .n_ignore_prefixes = 1,
	        .allow_loopback = p->cfg.allow_loopback,
	};
	/* Kept by the agent: it must outlive it. */
	static const struct ice_ops ops = {
	        .gathered = on_ice_gathered,
	        .selected = on_ice_selected,
	        .failed = on_ice_failed,
	        .recv = on_ice_recv,
	};
	int r;

	if (x->ice)
		return 0;
	memcpy(turn, p->turn, p->n_turn * sizeof(turn[0]));
	if (p->peer_relay.host)
		turn[ic.n_turn++] = p->peer_relay;
	store_be32(lsi.addr, p->cfg.lsi_prefix);
	r = ice_new(p->io.gloop, &ic, &ops, x, &x->ice);
	if (r == 0) {
		r = ice_gather(x->ice);
		if (r == -EALREADY)
			r = 0;
	}
	if (r < 0)
		agent_free(x);
	return r;
}

static void candidate_to_locator(const struct ice_candidate *c, struct hip_locator_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->kind = (uint8_t)c->kind;
	e->priority = c->priority;
	(void)udp_addr_to16((const struct sockaddr *)&c->addr, e->addr, &e->port);
}

static bool locator_to_candidate(const struct hip_locator_entry *e, struct ice_candidate *c)
{
	if (e->type != HIP_LOCATOR_TRANSPORT || e->protocol != IPPROTO_UDP || e->port == 0 ||
	    e->traffic == HIP_TRAFFIC_SIGNALING)
		return false;
	memset(c, 0, sizeof(*c));
	c->kind = (enum ice_kind)e->kind;
	c->priority = e->priority;
	udp_addr_from16(e->addr, e->port, &c->addr, &c->addrlen);
	return true;
}

/* The exchange is keyed: the peer's credentials and candidates start the
 * checks. */
static void ice_begin(struct pipes *p, struct pipe *x, const struct hip_ice_params *ip,
                      uint64_t now)
{
	struct ice_candidate c[HIP_LOCATORS_MAX];
	size_t n = 0;
	char h[HIT_STRLEN];
	int r;

	r = agent_start(p, x, ip);
	if (r == 0) {
		for (size_t i = 0; i < ip->ncands; i++)
			if (locator_to_candidate(&ip->cands[i], &c[n]))
				n++;
		r = ice_set_remote(x->ice, ip->remote_ufrag, ip->remote_pwd, c, n);
	}
	if (r < 0) {
		log_errno(LOG_WARNING, r, "pipe to %s: cannot start ICE", hit_format(&x->peer, h));
		pipe_fail(p, x, "ICE could not start", now);
		return;
	}
	x->state = PIPE_CHECKING;
	x->check_until = now + PIPES_CHECK_MAX;
	log_msg(LOG_DEBUG, "pipe to %s: ICE checks with %zu of %zu candidates (%s)",
	        hit_format(&x->peer, h), (size_t)r, ip->ncands,
	        ip->controlling ? "controlling" : "controlled");
	send_late_candidates(p, x, now);
	arm_tick(p);
}

/* The peer's late candidates join the checks. */
static void ice_more(struct pipes *p, struct pipe *x, const struct hip_ice_params *ip)
{
	struct ice_candidate c[HIP_LOCATORS_MAX];
	char h[HIT_STRLEN];
	size_t n = 0;
	int r;

	if (!x->ice || x->state == PIPE_FAILED)
		return;
	for (size_t i = 0; i < ip->ncands; i++)
		if (locator_to_candidate(&ip->cands[i], &c[n]))
			n++;
	r = ice_set_remote(x->ice, ip->remote_ufrag, ip->remote_pwd, c, n);
	if (r < 0)
		log_errno(LOG_WARNING, r, "pipe to %s: the peer's late candidates",
		          hit_format(&x->peer, h));
	else
		log_msg(LOG_DEBUG, "pipe to %s: %d of the peer's %zu candidates now checked",
		        hit_format(&x->peer, h), r, ip->ncands);
}

/* ---- setup, failure, idleness ---- */

static void pipe_fail(struct pipes *p, struct pipe *x, const char *why, uint64_t now)
{
	char h[HIT_STRLEN];

	x->backoff = x->backoff ? x->backoff * 2 : PIPES_BACKOFF_MIN;
	if (x->backoff > PIPES_BACKOFF_MAX)
		x->backoff = PIPES_BACKOFF_MAX;
	x->retry_at = now + x->backoff;
	x->state = PIPE_FAILED;
	log_ratelimited(&p->rl, now, LOG_NOTICE, "pipe to %s failed: %s; next try in %llu ms",
	                hit_format(&x->peer, h), why, (unsigned long long)x->backoff);
	queue_drop_all(p, x, true);
	agent_free(x);
}

static int setup(struct pipes *p, struct pipe *x, uint64_t now)
{
	struct hip_locator overlay = locator_overlay();
	struct hip_assoc *a;
	int r;

	x->state = PIPE_CONNECTING;
	r = hip_host_connect(p->io.hip, &x->peer, &overlay, now, &a);
	if (r == -EALREADY && hip_assoc_state(a) == HIP_STATE_I1_SENT &&
	    !locator_is_overlay(hip_assoc_locator(a))) {
		/* A direct I1 has no answer yet (the overlay learnt the peer's
		 * address from others: it may be behind a NAT); rather than wait
		 * out its retransmissions, route it. */
		r = hip_assoc_reroute(p->io.hip, a, &overlay, now);
		p->io.hip_changed(p->io.ctx);
		return r;
	}
	if (r == 0) {
		struct hip_locator direct;

		hip_assoc_want_ice(a);
		if (p->io.contact && p->io.contact(p->io.ctx, &x->peer, &direct) &&
		    hip_assoc_also_direct(p->io.hip, a, &direct) == 0) {
			char h[HIT_STRLEN], l[UDP_ADDRSTRLEN];

			log_msg(LOG_DEBUG, "pipe to %s: the I1 also goes straight to %s",
			        hit_format(&x->peer, h), locator_format(&direct, l));
		}
	}
	p->io.hip_changed(p->io.ctx);
	if (r == -EALREADY)
		return 0; /* an exchange runs already (perhaps the peer's) */
	return r;
}

static void arm_idle(struct pipes *p);

static struct pipe *get_or_start(struct pipes *p, const struct hit *peer, uint64_t now, int *err)
{
	struct pipe *x = find(p, peer);

	*err = 0;
	if (x && x->state == PIPE_FAILED) {
		if (now < x->retry_at) {
			*err = -EHOSTUNREACH;
			return x;
		}
		*err = setup(p, x, now);
		return x;
	}
	if (x)
		return x;
	x = pipe_add(p, peer, now);
	if (!x) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = setup(p, x, now);
	if (*err < 0) {
		pipe_remove(p, x);
		return NULL;
	}
	arm_idle(p);
	return x;
}

int pipes_queue(struct pipes *p, const struct hit *peer, const uint8_t *pkt, size_t len,
                uint64_t now)
{
	struct pipe *x;
	uint8_t *copy;
	int err;

	x = get_or_start(p, peer, now, &err);
	if (!x)
		return err;
	if (err < 0) {
		x->drops++;
		return err;
	}
	if (x->nq == PIPES_QUEUE_PEER || p->queued == PIPES_QUEUE_TOTAL) {
		x->drops++;
		return -ENOBUFS;
	}
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, pkt, len);
	x->q[x->nq++] = (struct queued){.pkt = copy, .len = len};
	p->queued++;
	x->last_active = now;
	return 0;
}

int pipes_connect(struct pipes *p, const struct hit *peer, uint64_t now)
{
	struct hip_assoc *a = hip_host_find(p->io.hip, peer);
	int err;

	/* A keyed association over a known address needs no pipe. */
	if (a && hip_assoc_state(a) == HIP_STATE_ESTABLISHED &&
	    !locator_is_overlay(hip_assoc_locator(a)))
		return 0;
	(void)get_or_start(p, peer, now, &err);
	return err;
}

int pipes_send(struct pipes *p, const struct hit *peer, const uint8_t *data, size_t len)
{
	struct pipe *x = find(p, peer);
	int r;

	if (!x || x->state != PIPE_UP)
		return -ENOTCONN;
	r = ice_send(x->ice, data, len);
	if (r == 0) {
		x->tx_bytes += len;
		x->last_active = uv_now(p->io.loop);
	}
	return r;
}

bool pipes_up(const struct pipes *p, const struct hit *peer)
{
	const struct pipe *x = find(p, peer);

	return x && x->state == PIPE_UP;
}

int pipes_info(const struct pipes *p, const struct hit *peer, struct pipe_info *ret)
{
	const struct pipe *x = find(p, peer);

	if (!x)
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	ret->state = x->state;
	if (x->state == PIPE_UP) {
		ret->path_type = x->path.type;
		ret->remote = x->path.remote;
		ret->remote_len = x->path.remote_len;
	}
	ret->tx_bytes = x->tx_bytes;
	ret->rx_bytes = x->rx_bytes;
	ret->drops = x->drops;
	ret->queued = x->nq;
	return 0;
}

static bool numeric(const char *host)
{
	uint8_t buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int pipes_set_servers(struct pipes *p, const char *stun_host, uint16_t stun_port,
                      const struct ice_turn *turn, size_t n_turn)
{
	if (n_turn > PIPES_TURN_MAX ||
	    (stun_host && (!numeric(stun_host) || strlen(stun_host) >= sizeof(p->stun_host))))
		return -EINVAL;
	for (size_t i = 0; i < n_turn; i++)
		if (!turn[i].host || !numeric(turn[i].host) ||
		    strlen(turn[i].host) >= sizeof(p->turn_host[i]))
			return -EINVAL;
	snprintf(p->stun_host, sizeof(p->stun_host), "%s", stun_host ? stun_host : "");
	p->stun_port = stun_port;
	for (size_t i = 0; i < n_turn; i++) {
		snprintf(p->turn_host[i], sizeof(p->turn_host[i]), "%s", turn[i].host);
		p->turn[i] = turn[i];
		p->turn[i].host = p->turn_host[i];
	}
	p->n_turn = n_turn;
	return 0;
}

int pipes_set_peer_relay(struct pipes *p, const char *host, uint16_t port, const char *user,
                         const char *pass)
{
	if (!host) {
		p->peer_relay.host = NULL;
		return 0;
	}
	if (!numeric(host) || strlen(host) >= sizeof(p->peer_relay_host) ||
	    strlen(user) >= sizeof(p->peer_relay_user) ||
	    strlen(pass) >= sizeof(p->peer_relay_pass))
		return -EINVAL;
	snprintf(p->peer_relay_host, sizeof(p->peer_relay_host), "%s", host);
	snprintf(p->peer_relay_user, sizeof(p->peer_relay_user), "%s", user);
	snprintf(p->peer_relay_pass, sizeof(p->peer_relay_pass), "%s", pass);
	p->peer_relay = (struct ice_turn){.host = p->peer_relay_host,
	                                  .port = port,
	                                  .user = p->peer_relay_user,
	                                  .pass = p->peer_relay_pass};
	return 0;
}

size_t pipes_list(const struct pipes *p, struct hit *out, size_t cap)
{
	size_t n = p->n < cap ? p->n : cap;

	for (size_t i = 0; i < n; i++)
		out[i] = p->v[i]->peer;
	return n;
}

size_t pipes_candidates(struct pipes *p, struct hip_assoc *a, struct hip_locator_entry *out,
                        size_t cap)
{
	const struct hit *peer = hip_assoc_peer_hit(a);
	struct ice_candidate c[HIP_LOCATORS_MAX];
	uint64_t now = uv_now(p->io.loop);
	struct pipe *x = find(p, peer);
	struct hip_ice_params ip;
	char h[HIT_STRLEN];
	size_t n;
	int r;

	/* As Responder this is the first we hear of the pipe. */
	if (!x) {
		x = pipe_add(p, peer, now);
		if (!x)
			return 0;
		arm_idle(p);
	}
	r = hip_assoc_ice(a, &ip);
	if (r == 0)
		r = agent_start(p, x, &ip);
	memzero(&ip, sizeof(ip));
	if (r < 0)
		return 0;
	if (cap > HIP_LOCATORS_MAX)
		cap = HIP_LOCATORS_MAX;
	n = ice_local_candidates(x->ice, c, cap);
	for (size_t i = 0; i < n; i++)
		candidate_to_locator(&c[i], &out[i]);
	x->cands_sent = n;
	log_msg(LOG_DEBUG, "pipe to %s: %zu local candidates for the exchange (%s)",
	        hit_format(peer, h), n, ice_state_name(ice_state(x->ice)));
	return n;
}

void pipes_moved(struct pipes *p, uint64_t now)
{
	struct hip_locator overlay = locator_overlay();
	struct hit peers[PIPES_MAX];
	size_t n = 0;
	char h[HIT_STRLEN];

	for (size_t i = 0; i < p->n; i++)
		if (p->v[i]->state == PIPE_UP || p->v[i]->state == PIPE_CHECKING)
			peers[n++] = p->v[i]->peer;
	/* Each reconnect removes its pipe (HIP_EVENT_CLOSED): walk a copy. */
	for (size_t i = 0; i < n; i++) {
		struct hip_assoc *a = hip_host_find(p->io.hip, &peers[i]);
		struct hip_ice_params ip;
		int r;

		if (!a || hip_assoc_ice(a, &ip) < 0)
			continue;
		memzero(&ip, sizeof(ip));
		r = hip_host_reconnect(p->io.hip, a, &overlay, now);
		if (r < 0)
			log_errno(LOG_WARNING, r, "pipe to %s: cannot set it up again",
			          hit_format(&peers[i], h));
		else
			log_msg(LOG_INFO, "pipe to %s: our addresses changed, setting it up again",
			        hit_format(&peers[i], h));
	}
	p->io.hip_changed(p->io.ctx);
}

void pipes_hip_event(struct pipes *p, struct hip_assoc *a, enum hip_event ev, uint64_t now)
{
	struct pipe *x = find(p, hip_assoc_peer_hit(a));
	struct hip_ice_params ip;

	if (!x)
		return;
	switch (ev) {
	case HIP_EVENT_ESTABLISHED:
		if (hip_assoc_ice(a, &ip) < 0) {
			/* Keyed without ICE (a direct exchange): no pipe needed;
			 * what waited goes over the association's address. */
			pipes_flush(p, x, true);
			return;
		}
		ice_begin(p, x, &ip, now);
		memzero(&ip, sizeof(ip));
		break;
	case HIP_EVENT_CANDIDATES:
		if (hip_assoc_ice(a, &ip) == 0)
			ice_more(p, x, &ip);
		memzero(&ip, sizeof(ip));
		break;
	case HIP_EVENT_REKEYED:
	case HIP_EVENT_MOVED:
		break;
	case HIP_EVENT_FAILED:
		pipe_fail(p, x, "the base exchange failed", now);
		break;
	case HIP_EVENT_CLOSED:
	case HIP_EVENT_DESTROYED:
		if (x->state != PIPE_FAILED)
			pipe_remove(p, x);
		break;
	}
}

/* ---- idle pipes ---- */

static void on_idle_timer(uv_timer_t *t)
{
	struct pipes *p = t->data;
	uint64_t now = uv_now(p->io.loop);
	char h[HIT_STRLEN];

	for (size_t i = 0; i < p->n;) {
		struct pipe *x = p->v[i];
		struct hip_assoc *a;

		if (x->state == PIPE_FAILED && now >= x->retry_at + PIPES_BACKOFF_MAX) {
			pipe_remove(p, x); /* forget old failures */
			continue;
		}
		if (x->state != PIPE_UP || now - x->last_active < p->cfg.idle_ms) {
			i++;
			continue;
		}
		log_msg(LOG_INFO, "pipe to %s idle for %llu s: closing", hit_format(&x->peer, h),
		        (unsigned long long)(p->cfg.idle_ms / 1000));
		a = hip_host_find(p->io.hip, &x->peer);
		pipe_remove(p, x);
		if (a)
			(void)hip_host_close(p->io.hip, a, now);
	}
	p->io.hip_changed(p->io.ctx);
	if (p->n == 0) {
		uv_timer_stop(&p->idle_timer);
		p->timer_running = false;
	}
}

/* ---- pipes being set up ---- */

static void on_tick(uv_timer_t *t)
{
	struct pipes *p = t->data;
	uint64_t now = uv_now(p->io.loop);
	bool busy = false;

	for (size_t i = 0; i < p->n;) {
		struct pipe *x = p->v[i];
		struct hip_assoc *a;

		if (x->state != PIPE_CHECKING) {
			i++;
			continue;
		}
		if (now < x->check_until) {
			if (x->cands_due)
				send_late_candidates(p, x, now);
			busy = true;
			i++;
			continue;
		}
		a = hip_host_find(p->io.hip, &x->peer);
		pipe_fail(p, x, "ICE selected no pair in time", now);
		if (a && hip_assoc_state(a) == HIP_STATE_ESTABLISHED)
			(void)hip_host_close(p->io.hip, a, now);
		p->io.hip_changed(p->io.ctx);
		i++;
	}
	if (!busy) {
		uv_timer_stop(&p->tick_timer);
		p->ticking = false;
	}
}

static void arm_tick(struct pipes *p)
{
	if (p->ticking)
		return;
	uv_timer_start(&p->tick_timer, on_tick, TICK_MS, TICK_MS);
	p->ticking = true;
}

static void arm_idle(struct pipes *p)
{
	uint64_t every = p->cfg.idle_ms ? p->cfg.idle_ms / IDLE_CHECKS : PIPES_BACKOFF_MAX;

	if (p->timer_running)
		return;
	if (every == 0)
		every = 1;
	uv_timer_start(&p->idle_timer, on_idle_timer, every, every);
	p->timer_running = true;
}

/* ---- life ---- */

int pipes_new(const struct pipes_config *cfg, const struct pipes_io *io, struct pipes **ret)
{
	struct pipes *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	p->io = *io;
	p->rl = (struct ratelimit)RATELIMIT_INIT(10000, 10);
	r = uv_timer_init(io->loop, &p->idle_timer);
	if (r < 0) {
		free(p);
		return -EIO;
	}
	p->open_timers = 1;
	p->idle_timer.data = p;
	uv_unref((uv_handle_t *)&p->idle_timer);
	r = uv_timer_init(io->loop, &p->tick_timer);
	if (r < 0) {
		pipes_free(p);
		return -EIO;
	}
	p->open_timers++;
	p->tick_timer.data = p;
	uv_unref((uv_handle_t *)&p->tick_timer);
	*ret = p;
	return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct pipes *p = h->data;

	if (--p->open_timers == 0)
		free(p);
}

struct pipes *pipes_free(struct pipes *p)
{
	if (!p)
		return NULL;
	while (p->n)
		pipe_remove(p, p->v[0]);
	memzero(p->peer_relay_pass, sizeof(p->peer_relay_pass));
	free(p->v);
	uv_close((uv_handle_t *)&p->idle_timer, on_timer_closed);
	if (p->open_timers == 2)
		uv_close((uv_handle_t *)&p->tick_timer, on_timer_closed);
	return NULL;
}
