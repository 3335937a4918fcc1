/* SPDX-License-Identifier: MIT */
/* pinger.c: ICMPv6 Echo Requests through HIP associations and their round trips. */
#include "daemon/pinger.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "idloc/ctl.h"
#include "common/bytes.h"
#include "common/csum.h"
#include "common/log.h"
#include "crypto/random.h"
#include "daemon/datapath.h"
#include "daemon/idmap.h"
#include "daemon/mesh.h"
#include "daemon/peers.h"
#include "daemon/pipes.h"
#include "hip/bex.h"

#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY   129
#define ICMP6_HDR_LEN      8

/* rtt_ms values besides a sample. */
#define RTT_NOT_SENT (-2.0)
#define RTT_WAITING  (-1.0)

enum req_state {
	REQ_RESOLVING,  /* the overlay lookup runs */
	REQ_CONNECTING, /* no usable path yet: the first Echo Request is retried */
	REQ_PINGING,    /* one Echo Request per interval */
	REQ_DRAINING,   /* all sent: the last replies may still come */
};

struct req {
	struct pinger *p;
	struct req *next_zombie;
	enum req_state state;
	bool resolving; /* the lookup's callback is still owed to this request */
	bool finished;
	char fqdn[CTL_NAME_MAX + 1];
	struct hit hit;
	bool have_hit;
	uint16_t ident;
	uint8_t cookie[PINGER_COOKIE_LEN];
	unsigned count, interval_ms, timeout_ms;
	unsigned next; /* index of the next Echo Request: its sequence number - 1 */
	unsigned sent, received;
	uint64_t deadline_ms; /* the setup deadline, then the end of the wait for replies */
	uint64_t first_ms;    /* when the first Echo Request went */
	uint64_t due_ms;      /* when the timer steps this request next */
	pinger_done_fn done;
	bool (*cancelled)(void *arg);
	void *arg;
	uint64_t *sent_ns; /* per sequence number */
	double *rtt_ms;    /* per sequence number: a sample, RTT_WAITING or RTT_NOT_SENT */
};

struct pinger {
	struct pinger_io io;
	struct pinger_ops ops; /* io.ops completed with the daemon's modules */
	uv_timer_t timer;
	bool stopped, timer_closed, freed;
	uint16_t next_ident;
	struct req *reqs[PINGER_MAX];
	size_t n;
	struct req *zombies; /* finished while their lookup still runs */
};

/* ---- the ICMPv6 messages ---- */

static uint16_t icmp6_csum(const uint8_t *msg, size_t len, const struct hit *src,
                           const struct hit *dst)
{
	uint32_t sum = csum_pseudo6(src->b, dst->b, PINGER_NEXT_HEADER, (uint32_t)len);

	return csum_fold(csum_add(sum, msg, len));
}

size_t pinger_echo_build(uint8_t out[PINGER_ECHO_LEN], const struct hit *src, const struct hit *dst,
                         uint16_t ident, uint16_t seq, const uint8_t cookie[PINGER_COOKIE_LEN])
{
	out[0] = ICMP6_ECHO_REQUEST;
	out[1] = 0;
	store_be16(out + 2, 0);
	store_be16(out + 4, ident);
	store_be16(out + 6, seq);
	memcpy(out + ICMP6_HDR_LEN, cookie, PINGER_COOKIE_LEN);
	for (size_t i = ICMP6_HDR_LEN + PINGER_COOKIE_LEN; i < PINGER_ECHO_LEN; i++)
		out[i] = (uint8_t)i;
	store_be16(out + 2, icmp6_csum(out, PINGER_ECHO_LEN, src, dst));
	return PINGER_ECHO_LEN;
}

int pinger_echo_parse(const uint8_t *icmp, size_t len, const struct hit *src, const struct hit *dst,
                      struct pinger_echo *ret)
{
	if (len < ICMP6_HDR_LEN)
		return -EBADMSG;
	if (icmp[0] != ICMP6_ECHO_REPLY || icmp[1] != 0)
		return -ENOMSG;
	/* A correct checksum sums to zero with the pseudo-header. */
	if (icmp6_csum(icmp, len, src, dst) != 0)
		return -EBADMSG;
	ret->ident = load_be16(icmp + 4);
	ret->seq = load_be16(icmp + 6);
	ret->data = icmp + ICMP6_HDR_LEN;
	ret->data_len = len - ICMP6_HDR_LEN;
	return 0;
}

/* ---- the daemon's modules, behind pinger_ops ---- */

static void hip_changed(const struct pinger_io *io)
{
	if (io->hip_changed)
		io->hip_changed(io->ctx);
}

static int real_resolve(const struct pinger_io *io, const char *fqdn, ovl_lookup_cb cb, void *arg)
{
	return mesh_resolve(io->mesh, fqdn, cb, arg);
}

static int real_connect(const struct pinger_io *io, const struct hit *peer, uint64_t now_ms)
{
	int r;

	if (!io->pipes)
		return -ENOTCONN;
	r = pipes_connect(io->pipes, peer, now_ms);
	hip_changed(io);
	return r;
}

static int real_send(const struct pinger_io *io, const struct hit *dst, const uint8_t *icmp,
                     size_t len, uint64_t now_ms)
{
	int r = datapath_send_to(io->dp, dst, PINGER_NEXT_HEADER, icmp, len, now_ms);

	if (r > 0) {
		hip_changed(io); /* the send asked for a rekey */
		r = 0;
	}
	return r;
}

static struct peer *real_peer(const struct pinger_io *io, const struct hit *hit)
{
	struct hip_assoc *a = hip_host_find(io->hip, hit);

	return a ? hip_assoc_user(a) : NULL;
}

static uint64_t real_clock(const struct pinger_io *io)
{
	return uv_hrtime();
}

static void ops_complete(struct pinger_ops *ops, const struct pinger_ops *given)
{
	static const struct pinger_ops real = {
	        .resolve = real_resolve,
	        .connect = real_connect,
	        .send = real_send,
	        .peer = real_peer,
	        .clock_ns = real_clock,
	};
	const struct pinger_ops none = {0};

	if (!given)
		given = &none;
	ops->resolve = given->resolve ? given->resolve : real.resolve;
	ops->connect = given->connect ? given->connect : real.connect;
	ops->send = given->send ? given->send : real.send;
	ops->peer = given->peer ? given->peer : real.peer;
	ops->clock_ns = given->clock_ns ? given->clock_ns : real.clock_ns;
}

/* ---- requests ---- */

static uint64_t now_ms(const struct pinger *p)
{
	return uv_now(p->io.loop);
}

static void req_free(struct req *r)
{
	free(r->sent_ns);
	free(r->rtt_ms);
	free(r);
}

static void on_timer(uv_timer_t *t);

/* The timer at the earliest step any request is due for. */
static void arm(struct pinger *p)
{
	uint64_t due = UINT64_MAX, now = now_ms(p);

	if (p->stopped)
		return;
	for (size_t i = 0; i < p->n; i++)
		if (p->reqs[i]->due_ms < due)
			due = p->reqs[i]->due_ms;
	if (due == UINT64_MAX) {
		uv_timer_stop(&p->timer);
		return;
	}
	uv_timer_start(&p->timer, on_timer, due > now ? due - now : 0, 0);
}

static void unlist(struct pinger *p, struct req *r)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->reqs[i] == r) {
			p->reqs[i] = p->reqs[--p->n];
			p->reqs[p->n] = NULL;
			return;
		}
	}
}

static void finish(struct req *r, int err)
{
	struct pinger *p = r->p;
	struct pinger_result res = {
	        .name = r->fqdn,
	        .hit = r->have_hit ? &r->hit : NULL,
	        .count = r->count,
	        .sent = r->sent,
	        .received = r->received,
	        .rtt_ms = r->rtt_ms,
	};

	unlist(p, r);
	r->finished = true;
	log_msg(LOG_DEBUG, "ping %s: %u sent, %u received%s%s", r->fqdn, r->sent, r->received,
	        err < 0 ? ": " : "", err < 0 ? strerror(-err) : "");
	/* done may start another request: the slot is free already. */
	r->done(r->arg, err, &res);
	if (r->resolving) {
		r->next_zombie = p->zombies;
		p->zombies = r;
	} else {
		req_free(r);
	}
}

static void kick_connect(struct req *r, uint64_t now)
{
	int e = r->p->ops.connect(&r->p->io, &r->hit, now);
	char h[HIT_STRLEN];

	if (e < 0 && e != -EHOSTUNREACH && e != -ENOTCONN)
		log_errno(LOG_DEBUG, e, "ping %s: pipe to %s", r->fqdn, hit_format(&r->hit, h));
}

/* Sends the Echo Request with sequence number r->next + 1. */
static int send_next(struct req *r, uint64_t now)
{
	struct pinger *p = r->p;
	uint8_t msg[PINGER_ECHO_LEN];
	unsigned i = r->next;
	int e;

	pinger_echo_build(msg, &p->io.own, &r->hit, r->ident, (uint16_t)(i + 1), r->cookie);
	r->sent_ns[i] = p->ops.clock_ns(&p->io);
	r->rtt_ms[i] = RTT_WAITING;
	e = p->ops.send(&p->io, &r->hit, msg, sizeof(msg), now);
	if (e < 0) {
		r->rtt_ms[i] = RTT_NOT_SENT;
		return e;
	}
	r->sent++;
	r->next++;
	return 0;
}

/* After an Echo Request went (or could not): the next one, or the wait for
 * the last replies. */
static void schedule(struct req *r, uint64_t now)
{
	if (r->next < r->count) {
		r->state = REQ_PINGING;
		r->due_ms = r->first_ms + (uint64_t)r->next * r->interval_ms;
		return;
	}
	r->state = REQ_DRAINING;
	r->deadline_ms = now + r->timeout_ms;
	r->due_ms = r->deadline_ms;
	if (r->received == r->sent)
		finish(r, 0);
}

static void step_connecting(struct req *r, uint64_t now)
{
	int e = send_next(r, now);

	if (e == 0) {
		r->first_ms = now;
		schedule(r, now);
		return;
	}
	if (now >= r->deadline_ms) {
		log_msg(LOG_INFO, "ping %s: no path within %u ms", r->fqdn, r->timeout_ms);
		finish(r, -EHOSTUNREACH);
		return;
	}
	kick_connect(r, now);
	r->due_ms = now + PINGER_RETRY_MS < r->deadline_ms ? now + PINGER_RETRY_MS : r->deadline_ms;
}

static void step_pinging(struct req *r, uint64_t now)
{
	if (send_next(r, now) < 0) {
		/* The path went away: this one is lost, the pipe is asked for again. */
		r->next++;
		kick_connect(r, now);
	}
	schedule(r, now);
}

static void step(struct req *r, uint64_t now)
{
	if (r->cancelled && r->cancelled(r->arg)) {
		finish(r, -ECANCELED);
		return;
	}
	switch (r->state) {
	case REQ_RESOLVING:
		log_msg(LOG_INFO, "ping %s: lookup not done within %u ms", r->fqdn, r->timeout_ms);
		finish(r, -ETIMEDOUT);
		break;
	case REQ_CONNECTING:
		step_connecting(r, now);
		break;
	case REQ_PINGING:
		step_pinging(r, now);
		break;
	case REQ_DRAINING:
		finish(r, 0);
		break;
	}
}

static void on_timer(uv_timer_t *t)
{
	struct pinger *p = t->data;
	uint64_t now = now_ms(p);

	/* Downwards: finishing one moves the last into its slot, which has
	 * been seen already (or was started by a done callback just now). */
	for (size_t i = p->n; i-- > 0;) {
		if (i < p->n && p->reqs[i]->due_ms <= now)
			step(p->reqs[i], now);
	}
	arm(p);
}

static int lookup_errno(enum ovl_status st)
{
	switch (st) {
	case OVL_OK:
		return 0;
	case OVL_NOT_FOUND:
		return -ENOENT;
	case OVL_TIMEOUT:
		return -ETIMEDOUT;
	case OVL_REFUSED:
		return -EPERM;
	case OVL_TTL:
		return -EHOSTUNREACH;
	}
	return -EIO;
}

/* The peer in the idmap, so the name, its HIT and its LSI agree everywhere. */
static int enter_peer(struct req *r, const char *name)
{
	const struct pinger_io *io = &r->p->io;
	char h[HIT_STRLEN];
	int e;

	if (!io->idmap)
		return 0;
	e = idmap_add(io->idmap, &r->hit, name, NULL);
	if (e > 0 && (e & IDMAP_COLLISION))
		log_msg(LOG_NOTICE,
		        "LSI of %s collides with another peer's here: using a local one",
		        hit_format(&r->hit, h));
	return e < 0 ? e : 0;
}

static void on_resolved(void *arg, enum ovl_status st, const struct ovl_record *rec, unsigned hops,
                        uint64_t elapsed_ms)
{
	struct req *r = arg, **z;
	struct pinger *p = r->p;
	int e;

	r->resolving = false;
	if (r->finished) {
		for (z = &p->zombies; *z; z = &(*z)->next_zombie) {
			if (*z == r) {
				*z = r->next_zombie;
				break;
			}
		}
		req_free(r);
		return;
	}
	if (st != OVL_OK || !rec) {
		finish(r, st == OVL_OK ? -EIO : lookup_errno(st));
		arm(p);
		return;
	}
	r->hit = rec->owner;
	r->have_hit = true;
	if (hit_cmp(&r->hit, &p->io.own) == 0) {
		finish(r, -ELOOP);
		arm(p);
		return;
	}
	e = enter_peer(r, rec->name ? rec->name : r->fqdn);
	if (e < 0) {
		finish(r, e);
		arm(p);
		return;
	}
	r->state = REQ_CONNECTING;
	step(r, now_ms(p));
	arm(p);
}

static bool ident_used(const struct pinger *p, uint16_t ident)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->reqs[i]->ident == ident)
			return true;
	return false;
}

static unsigned or_default(unsigned v, unsigned dflt)
{
	return v ? v : dflt;
}

static int req_new(struct pinger *p, const struct pinger_request *q, struct req **ret)
{
	struct req *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->p = p;
	r->count = or_default(q->count, CTL_PING_COUNT_DEFAULT);
	r->interval_ms = or_default(q->interval_ms, CTL_PING_INTERVAL_DEFAULT);
	r->timeout_ms = or_default(q->timeout_ms, CTL_PING_TIMEOUT_DEFAULT);
	if (r->count > CTL_PING_COUNT_MAX || r->interval_ms < CTL_PING_INTERVAL_MIN ||
	    r->interval_ms > CTL_PING_INTERVAL_MAX || r->timeout_ms < CTL_PING_TIMEOUT_MIN ||
	    r->timeout_ms > CTL_PING_TIMEOUT_MAX) {
		free(r);
		return -EINVAL;
	}
	r->sent_ns = calloc(r->count, sizeof(*r->sent_ns));
	r->rtt_ms = malloc(r->count * sizeof(*r->rtt_ms));
	if (!r->sent_ns || !r->rtt_ms) {
		req_free(r);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < r->count; i++)
		r->rtt_ms[i] = RTT_NOT_SENT;
	if (crypto_random(r->cookie, sizeof(r->cookie)) < 0) {
		req_free(r);
		return -EIO;
	}
	strcpy(r->fqdn, q->fqdn);
	r->done = q->done;
	r->cancelled = q->cancelled;
	r->arg = q->arg;
	*ret = r;
	return 0;
}

int pinger_start(struct pinger *p, const struct pinger_request *q)
{
	struct req *r;
	int e;

	if (!p || !q || !q->fqdn || !q->fqdn[0] || strlen(q->fqdn) > CTL_NAME_MAX || !q->done)
		return -EINVAL;
	if (p->stopped)
		return -ESHUTDOWN;
	if (p->n == PINGER_MAX)
		return -EBUSY;
	e = req_new(p, q, &r);
	if (e < 0)
		return e;
	do
		r->ident = p->next_ident++;
	while (ident_used(p, r->ident));
	r->state = REQ_RESOLVING;
	r->deadline_ms = now_ms(p) + r->timeout_ms;
	r->due_ms = r->deadline_ms;
	r->resolving = true;
	/* Listed first, so the request is whole even for a lookup that answers
	 * at once; the callback must not come from this call when it fails. */
	p->reqs[p->n++] = r;
	e = p->ops.resolve(&p->io, r->fqdn, on_resolved, r);
	if (e < 0) {
		unlist(p, r);
		req_free(r);
		return e;
	}
	arm(p);
	return 0;
}

size_t pinger_running(const struct pinger *p)
{
	return p ? p->n : 0;
}

static struct req *find_ident(const struct pinger *p, uint16_t ident)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->reqs[i]->ident == ident)
			return p->reqs[i];
	return NULL;
}

/* A reply to r's Echo Request seq: one round trip. */
static void got_reply(struct req *r, uint16_t seq)
{
	struct pinger *p = r->p;
	uint64_t t = p->ops.clock_ns(&p->io);
	unsigned i = (unsigned)seq - 1;
	struct peer *peer;
	double rtt;

	/* A duplicate, or a sequence number we never sent: ours, but no sample. */
	if (seq == 0 || i >= r->count || r->rtt_ms[i] != RTT_WAITING)
		return;
	rtt = t > r->sent_ns[i] ? (double)(t - r->sent_ns[i]) / 1e6 : 0;
	r->rtt_ms[i] = rtt;
	r->received++;
	peer = p->ops.peer(&p->io, &r->hit);
	if (peer)
		peer->rtt_ms = rtt;
	if (r->state == REQ_DRAINING && r->received == r->sent) {
		finish(r, 0);
		arm(p);
	}
}

bool pinger_input(void *ctx, const struct hit *from, uint8_t next_header, const uint8_t *payload,
                  size_t len, uint64_t now)
{
	struct pinger *p = ctx;
	struct pinger_echo e;
	struct req *r;

	if (!p || p->stopped || next_header != PINGER_NEXT_HEADER || len < ICMP6_HDR_LEN ||
	    payload[0] != ICMP6_ECHO_REPLY)
		return false;
	r = find_ident(p, load_be16(payload + 4));
	if (!r || !r->have_hit || hit_cmp(from, &r->hit) != 0)
		return false;
	if (pinger_echo_parse(payload, len, from, &p->io.own, &e) < 0 ||
	    e.data_len < PINGER_COOKIE_LEN || memcmp(e.data, r->cookie, PINGER_COOKIE_LEN) != 0)
		return false;
	got_reply(r, e.seq);
	return true;
}

/* ---- lifetime ---- */

int pinger_new(const struct pinger_io *io, struct pinger **ret)
{
	struct pinger *p;

	if (!io || !io->loop)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->io = *io;
	ops_complete(&p->ops, io->ops);
	p->io.ops = NULL;
	/* Identifiers start somewhere else on every run, so a late reply to a
	 * previous daemon's request cannot pass for one of ours; the cookie
	 * makes sure of it. */
	if (crypto_random(&p->next_ident, sizeof(p->next_ident)) < 0) {
		free(p);
		return -EIO;
	}
	uv_timer_init(io->loop, &p->timer);
	p->timer.data = p;
	*ret = p;
	return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct pinger *p = h->data;

	p->timer_closed = true;
	if (p->freed)
		free(p);
}

void pinger_stop(struct pinger *p)
{
	if (!p || p->stopped)
		return;
	p->stopped = true;
	while (p->n > 0)
		finish(p->reqs[p->n - 1], -ESHUTDOWN);
	uv_close((uv_handle_t *)&p->timer, on_timer_closed);
}

struct pinger *pinger_free(struct pinger *p)
{
	if (!p)
		return NULL;
	pinger_stop(p);
	while (p->zombies) {
		struct req *r = p->zombies;
		p->zombies = r->next_zombie;
		req_free(r);
	}
	p->freed = true;
	/* Freed by the timer's close callback if the loop has not run it yet. */
	if (p->timer_closed)
		free(p);
	return NULL;
}
