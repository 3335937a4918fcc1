/* SPDX-License-Identifier: MIT */
/* mesh.c: the overlay engine on HIP associations: transport, bootstrap,
 * routing-table cache and record signatures with the Host Identity. */
#include "daemon/mesh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/log.h"
#include "crypto/identity.h"
#include "daemon/config.h"
#include "daemon/datapath.h"
#include "daemon/locator.h"
#include "hip/wire.h"
#include "net/resolver.h"
#include "overlay/record.h"
#include "net/udp.h"

#define MESH_QUEUE_PEERS    64   /* contacts waiting for a HIP association */
#define MESH_QUEUE_MSGS     8    /* messages held per such contact */
#define MESH_MSG_MAX        4096 /* larger overlay messages are refused */
#define MESH_BOOT_RETRY_MS  (30 * 1000)
#define MESH_CACHE_FIRST_MS (5 * 1000) /* soon after joining: a crash loses little */
#define MESH_CACHE_SAVE_MS  (60 * 1000)
#define MESH_CACHE_MAX      64
#define MESH_UDP_HDR        8
/* A direct I1 to a contact that has not answered this long is routed
 * through the overlay with ICE instead (the contact's address came from
 * other nodes: behind a NAT it filters us). Above the first I1
 * retransmission, well below a base exchange's worst case. */
#define MESH_DIRECT_PATIENCE_MS 2500

struct mesh_queued {
	uint8_t *msg;
	size_t len;
};

/* Messages for a contact whose HIP association is still being set up. */
struct mesh_pending {
	bool used;
	struct hit hit;
	struct mesh_queued q[MESH_QUEUE_MSGS];
	size_t n;
	uint64_t direct_since; /* a direct base exchange started then (0: none) */
};

struct mesh {
	struct mesh_io io;
	struct ovl_node *node;
	struct resolver *resolver;
	uv_timer_t ovl_timer, boot_timer, cache_timer, direct_timer;
	unsigned open_handles;
	bool stopping;
	bool left; /* idloc leave: no rejoining until idloc join */
	/* While a base exchange packet for this HIT is routed: not through its
	 * own association (see mesh_route_hip). */
	char fqdn[CONFIG_DOMAIN_MAX + CONFIG_LABEL_MAX + 2];
	char cache_path[CONFIG_PATH_MAX + 32];
	bool published, announced;
	struct mesh_pending pending[MESH_QUEUE_PEERS];
	struct ratelimit rl;
	uint8_t buf[MESH_UDP_HDR + MESH_MSG_MAX];
};

uint64_t mesh_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t loop_ms(const struct mesh *m)
{
	return uv_now(m->io.loop);
}

static void hip_changed(struct mesh *m)
{
	if (m->io.hip_changed)
		m->io.hip_changed(m->io.ctx);
}

/* ---- timers ---- */

static void on_ovl_timer(uv_timer_t *t);

static void ovl_rearm(struct mesh *m)
{
	uint64_t next, now;

	if (m->stopping || !m->node)
		return;
	next = ovl_node_next_timer(m->node);
	if (next == UINT64_MAX) {
		uv_timer_stop(&m->ovl_timer);
		return;
	}
	now = mesh_clock_ms();
	uv_timer_start(&m->ovl_timer, on_ovl_timer, next > now ? next - now : 0, 0);
}

static void on_ovl_timer(uv_timer_t *t)
{
	struct mesh *m = t->data;

	ovl_node_tick(m->node, mesh_clock_ms());
	ovl_rearm(m);
	hip_changed(m);
}

/* ---- transport: overlay messages as UDP inside ESP ---- */

static uint16_t inner_checksum(const struct hit *src, const struct hit *dst, const uint8_t *udp,
                               size_t len)
{
	uint32_t sum = 0;
	uint8_t ph[40];

	memcpy(ph, src->b, 16);
	memcpy(ph + 16, dst->b, 16);
	store_be32(ph + 32, (uint32_t)len);
	memset(ph + 36, 0, 3);
	ph[39] = IPPROTO_UDP;
	for (size_t i = 0; i < sizeof(ph); i += 2)
		sum += load_be16(ph + i);
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += load_be16(udp + i);
	if (len & 1)
		sum += (uint32_t)udp[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	return sum ? (uint16_t)sum : 0xffff;
}

static int send_now(struct mesh *m, const struct hit *to, const uint8_t *msg, size_t len)
{
	uint8_t *u = m->buf;
	int r;

	store_be16(u, MESH_PORT);
	store_be16(u + 2, MESH_PORT);
	store_be16(u + 4, (uint16_t)(MESH_UDP_HDR + len));
	store_be16(u + 6, 0);
	memcpy(u + MESH_UDP_HDR, msg, len);
	store_be16(u + 6, inner_checksum(identity_hit(m->io.id), to, u, MESH_UDP_HDR + len));
	r = datapath_send_to(m->io.dp, to, IPPROTO_UDP, u, MESH_UDP_HDR + len, loop_ms(m));
	if (r > 0)
		hip_changed(m);
	return r < 0 ? r : 0;
}

static struct mesh_pending *pending_find(struct mesh *m, const struct hit *hit, bool create)
{
	struct mesh_pending *free_slot = NULL;

	for (size_t i = 0; i < MESH_QUEUE_PEERS; i++) {
		struct mesh_pending *p = &m->pending[i];
		if (p->used && hit_cmp(&p->hit, hit) == 0)
			return p;
		if (!p->used && !free_slot)
			free_slot = p;
	}
	if (!create || !free_slot)
		return NULL;
	*free_slot = (struct mesh_pending){.used = true, .hit = *hit};
	return free_slot;
}

static void pending_drop(struct mesh_pending *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->q[i].msg);
	*p = (struct mesh_pending){0};
}

/* Sends what waited for hit; keeps it when the association has no path yet
 * (keyed through the overlay, its pipe still being set up). */
static void pending_flush(struct mesh *m, const struct hit *hit)
{
	struct mesh_pending *p = pending_find(m, hit, false);
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		if (send_now(m, hit, p->q[i].msg, p->q[i].len) == -ENOTCONN)
			break;
	if (i == 0 && p->n)
		return;
	for (size_t k = 0; k < i; k++)
		free(p->q[k].msg);
	memmove(p->q, p->q + i, (p->n - i) * sizeof(p->q[0]));
	p->n -= i;
	if (p->n == 0)
		pending_drop(p);
}

/* Direct exchanges without an answer in time go through a pipe instead. */
static void on_direct_timer(uv_timer_t *t)
{
	struct mesh *m = t->data;
	uint64_t now = loop_ms(m), next = UINT64_MAX;

	for (size_t i = 0; i < MESH_QUEUE_PEERS; i++) {
		struct mesh_pending *p = &m->pending[i];
		struct hip_assoc *a;

		if (!p->used || !p->direct_since)
			continue;
		if (now < p->direct_since + MESH_DIRECT_PATIENCE_MS) {
			if (p->direct_since + MESH_DIRECT_PATIENCE_MS < next)
				next = p->direct_since + MESH_DIRECT_PATIENCE_MS;
			continue;
		}
		p->direct_since = 0;
		a = hip_host_find(m->io.hip, &p->hit);
		if (a && hip_assoc_state(a) == HIP_STATE_I1_SENT &&
		    !locator_is_overlay(hip_assoc_locator(a)))
			(void)m->io.want_pipe(m->io.ctx, &p->hit);
	}
	if (next != UINT64_MAX)
		uv_timer_start(&m->direct_timer, on_direct_timer, next - now, 0);
}

/* A contact whose base exchange is itself routed through the overlay cannot
 * carry overlay messages until it is done: one of them may be that very
 * exchange's I1 or I2, which would wait for itself. */
static bool exchange_via_overlay(const struct mesh *m, const struct hit *hit)
{
	struct hip_assoc *a = hip_host_find(m->io.hip, hit);
	enum hip_state s = a ? hip_assoc_state(a) : HIP_STATE_UNASSOCIATED;

	return a && locator_is_overlay(hip_assoc_locator(a)) &&
	       (s == HIP_STATE_I1_SENT || s == HIP_STATE_I2_SENT);
}

static int enqueue(struct mesh *m, const struct ovl_contact *to, const uint8_t *msg, size_t len)
{
	struct mesh_pending *p;
	struct hip_locator loc = {.len = to->addrlen};
	char h[HIT_STRLEN];
	uint8_t *copy;
	int r;

	/* Refused, the engine takes another hop (and counts this one failed). */
	if (exchange_via_overlay(m, &to->hit))
		return -EHOSTUNREACH;
	p = pending_find(m, &to->hit, true);
	if (!p || p->n == MESH_QUEUE_MSGS) {
		log_ratelimited(
		        &m->rl, loop_ms(m), LOG_DEBUG,
		        "overlay message to %s dropped: no room while its association is set up",
		        hit_format(&to->hit, h));
		return -ENOBUFS;
	}
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, msg, len);
	p->q[p->n++] = (struct mesh_queued){.msg = copy, .len = len};
	if (p->n > 1 || !to->addrlen)
		return 0; /* the association was already asked for */
	memcpy(&loc.addr, &to->addr, to->addrlen);
	udp_addr_canonicalize(&loc.addr, &loc.len);
	r = hip_host_connect(m->io.hip, &to->hit, &loc, loop_ms(m), NULL);
	hip_changed(m);
	if (r == -EALREADY)
		return 0;
	if (r == 0 && m->io.want_pipe) {
		p->direct_since = loop_ms(m);
		if (!uv_is_active((uv_handle_t *)&m->direct_timer))
			uv_timer_start(&m->direct_timer, on_direct_timer, MESH_DIRECT_PATIENCE_MS,
			               0);
	}
	if (r < 0) {
		log_errno(LOG_DEBUG, r, "overlay contact %s: cannot start a base exchange",
		          hit_format(&to->hit, h));
		pending_drop(p); /* nothing will ever flush it */
	}
	return r;
}

static int ops_send(void *ctx, const struct ovl_contact *to, const uint8_t *msg, size_t len)
{
	struct mesh *m = ctx;
	int r;

	if (len > MESH_MSG_MAX)
		return -EMSGSIZE;
	r = send_now(m, &to->hit, msg, len);
	if (r != -ENOTCONN)
		return r;
	return enqueue(m, to, msg, len);
}

static int ops_sign(void *ctx, const uint8_t *data, size_t len, uint8_t *sig, size_t *siglen)
{
	struct mesh *m = ctx;

	return identity_sign(m->io.id, data, len, sig, siglen);
}

static int ops_verify(void *ctx, uint16_t alg, const uint8_t *hi, size_t hi_len,
                      const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen,
                      struct hit *ret_owner)
{
	struct hi_pub *pub;
	int r;

	(void)ctx;
	r = hi_pub_parse(alg, hi, hi_len, &pub);
	if (r < 0)
		return r;
	r = hi_pub_verify(pub, data, len, sig, siglen);
	if (r == 0)
		*ret_owner = *hi_pub_hit(pub);
	hi_pub_free(pub);
	return r;
}

static void contact_from_assoc(const struct hip_assoc *a, struct ovl_contact *c)
{
	const struct hip_locator *loc = hip_assoc_locator(a);

	memset(c, 0, sizeof(*c));
	c->hit = *hip_assoc_peer_hit(a);
	ovl_id_from_hit(&c->hit, &c->id);
	memcpy(&c->addr, &loc->addr, loc->len);
	c->addrlen = loc->len;
}

bool mesh_local(void *ctx, const struct hit *from, uint8_t nh, const uint8_t *payload, size_t len,
                uint64_t now)
{
	struct mesh *m = ctx;
	struct hip_assoc *a;
	struct ovl_contact c;
	const char *why = NULL;
	char h[HIT_STRLEN];
	int r;

	(void)now;
	if (nh != IPPROTO_UDP || len < MESH_UDP_HDR || load_be16(payload + 2) != MESH_PORT)
		return false;
	if (load_be16(payload + 4) != len || m->stopping)
		return true; /* ours, but malformed or too late: dropped */
	a = hip_host_find(m->io.hip, from);
	if (!a)
		return true;
	contact_from_assoc(a, &c);
	r = ovl_node_input(m->node, &c, payload + MESH_UDP_HDR, len - MESH_UDP_HDR, mesh_clock_ms(),
	                   &why);
	if (r < 0)
		log_ratelimited(&m->rl, loop_ms(m), LOG_INFO, "dropped overlay message from %s: %s",
		                hit_format(from, h), why ? why : strerror(-r));
	ovl_rearm(m);
	return true;
}

/* ---- joining: bootstrap and cache ---- */

/* Our name record, with our addresses as hints. */
static int publish_name(struct mesh *m)
{
	uint8_t hints[OVL_PAYLOAD_MAX];
	size_t n = m->io.name_hints ? m->io.name_hints(m->io.ctx, hints, sizeof(hints)) : 0;
	int r = ovl_node_publish_name(m->node, m->fqdn, n ? hints : NULL, n, mesh_clock_ms());

	if (r < 0)
		log_errno(LOG_WARNING, r, "publishing the name record for '%s' failed", m->fqdn);
	return r;
}

/* Joins through contacts (none: we are the first node). The engine
 * publishes our name record once the join has settled and keeps it fresh. */
static void join_via(struct mesh *m, const struct ovl_contact *c, size_t n)
{
	int r;

	r = ovl_node_join(m->node, c, n, mesh_clock_ms());
	if (r < 0) {
		log_errno(LOG_WARNING, r, "overlay join failed");
		return;
	}
	if (!m->published)
		m->published = publish_name(m) == 0;
	ovl_rearm(m);
}

void mesh_republish_name(struct mesh *m)
{
	if (m->stopping || !m->published)
		return;
	(void)publish_name(m);
	ovl_rearm(m);
}

static void on_published(void *arg, enum ovl_record_kind kind, const char *name, enum ovl_status st)
{
	struct mesh *m = arg;

	(void)kind;
	if (st == OVL_OK && !m->announced) {
		log_msg(LOG_NOTICE, "name '%s' registered in the overlay", name);
		m->announced = true;
	} else if (st == OVL_REFUSED) {
		log_msg(LOG_ERR, "name '%s' is registered to another Host Identity; refused", name);
	} else if (st != OVL_OK) {
		log_msg(LOG_INFO, "registering name '%s' did not complete, retrying", name);
	}
}

/* A HIP packet routed to us through the overlay (base exchange with a peer
 * we have no locator for): it comes "from the overlay", so the engine's
 * answers are routed back to the sender's HIT the same way. */
static void ops_hip(void *ctx, const struct ovl_contact *prev, const uint8_t *pkt, size_t len)
{
	struct mesh *m = ctx;
	struct hip_locator loc = locator_overlay();
	const char *why = NULL;
	char h[HIT_STRLEN];
	int r;

	r = hip_host_input(m->io.hip, pkt, len, &loc, loop_ms(m), &why);
	if (r < 0)
		log_ratelimited(&m->rl, loop_ms(m), LOG_INFO, "dropped HIP packet routed by %s: %s",
		                hit_format(&prev->hit, h), why ? why : strerror(-r));
	hip_changed(m);
}

static void connect_locator(struct mesh *m, const struct sockaddr_storage *ss, socklen_t len)
{
	struct hip_locator loc = {.len = len};
	char a[UDP_ADDRSTRLEN];
	int r;

	memcpy(&loc.addr, ss, len);
	udp_addr_canonicalize(&loc.addr, &loc.len);
	r = hip_host_connect(m->io.hip, NULL, &loc, loop_ms(m), NULL);
	if (r == -EALREADY)
		return;
	if (r < 0)
		log_errno(LOG_WARNING, r, "connecting to bootstrap peer %s failed",
		          udp_addr_format((const struct sockaddr *)&loc.addr, a));
	else
		log_msg(LOG_INFO, "connecting to bootstrap peer %s",
		        udp_addr_format((const struct sockaddr *)&loc.addr, a));
}

static void on_resolved(void *arg, int status, const struct sockaddr_storage *addrs, size_t n)
{
	struct mesh *m = arg;

	if (status < 0) {
		if (status != -ECANCELED)
			log_errno(LOG_WARNING, status, "resolving a bootstrap peer failed");
		return;
	}
	for (size_t i = 0; i < n && !m->stopping; i++)
		connect_locator(m, &addrs[i],
		                addrs[i].ss_family == AF_INET ? sizeof(struct sockaddr_in)
		                                              : sizeof(struct sockaddr_in6));
	hip_changed(m);
}

static void connect_bootstrap(struct mesh *m)
{
	const struct config *cfg = m->io.cfg;

	for (size_t i = 0; i < cfg->n_bootstrap; i++) {
		const struct config_endpoint *ep = &cfg->bootstrap[i];
		int r;

		if (ep->literal) {
			connect_locator(m, &ep->addr, ep->addrlen);
			continue;
		}
		r = resolver_lookup(m->resolver, ep->host, ep->port, on_resolved, m);
		if (r < 0)
			log_errno(LOG_WARNING, r, "resolving bootstrap peer '%s' failed", ep->host);
	}
	hip_changed(m);
}

static void on_boot_timer(uv_timer_t *t)
{
	struct mesh *m = t->data;

	if (!m->stopping && !m->left && !ovl_node_joined(m->node))
		connect_bootstrap(m);
}

/* Cache lines: "<HIT> <address> <port>". */
static size_t cache_load(struct mesh *m, struct ovl_contact *out, size_t cap)
{
	FILE *f = fopen(m->cache_path, "re");
	char line[256], hit[64], addr[64];
	unsigned port;
	size_t n = 0;

	if (!f)
		return 0;
	while (n < cap && fgets(line, sizeof(line), f)) {
		struct ovl_contact *c = &out[n];
		struct sockaddr_in *s4 = (struct sockaddr_in *)&c->addr;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&c->addr;

		memset(c, 0, sizeof(*c));
		if (line[0] == '#' || sscanf(line, "%63s %63s %u", hit, addr, &port) != 3 ||
		    port == 0 || port > 65535 || hit_parse(hit, &c->hit) < 0 ||
		    hit_cmp(&c->hit, identity_hit(m->io.id)) == 0)
			continue;
		if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			c->addrlen = sizeof(*s4);
		} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			c->addrlen = sizeof(*s6);
		} else {
			continue;
		}
		ovl_id_from_hit(&c->hit, &c->id);
		n++;
	}
	fclose(f);
	return n;
}

static int cache_save(struct mesh *m)
{
	struct ovl_contact c[MESH_CACHE_MAX];
	size_t n = ovl_node_contacts(m->node, c, MESH_CACHE_MAX);
	char tmp[sizeof(m->cache_path) + 16], h[HIT_STRLEN], a[INET6_ADDRSTRLEN];
	FILE *f;
	int fd, r = 0;

	if (!n)
		return 0; /* keep an older cache rather than an empty one */
	snprintf(tmp, sizeof(tmp), "%s.tmp", m->cache_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		return r;
	}
	fprintf(f, "# idloc overlay contacts, longest-lived first: HIT address port\n");
	for (size_t i = 0; i < n; i++) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&c[i].addr;
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&c[i].addr;
		bool v4 = c[i].addr.ss_family == AF_INET;

		/* Reached through the overlay (a pipe): no address to come back to. */
		if (c[i].addr.ss_family != AF_INET && c[i].addr.ss_family != AF_INET6)
			continue;
		if (!inet_ntop(v4 ? AF_INET : AF_INET6,
		               v4 ? (const void *)&s4->sin_addr : (const void *)&s6->sin6_addr, a,
		               sizeof(a)))
			continue;
		fprintf(f, "%s %s %u\n", hit_format(&c[i].hit, h), a,
		        ntohs(v4 ? s4->sin_port : s6->sin6_port));
	}
	if (fflush(f) != 0 || fsync(fd) != 0)
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, m->cache_path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static void on_cache_timer(uv_timer_t *t)
{
	struct mesh *m = t->data;
	int r = cache_save(m);

	if (r < 0)
		log_errno(LOG_WARNING, r, "saving '%s' failed", m->cache_path);
}

/* ---- engine events ---- */

void mesh_hip_event(struct mesh *m, struct hip_assoc *a, enum hip_event ev)
{
	const struct hit *hit = hip_assoc_peer_hit(a);
	struct ovl_contact c;
	struct ovl_id id;

	if (!m || !m->node || m->stopping || hit_is_zero(hit))
		return;
	switch (ev) {
	case HIP_EVENT_ESTABLISHED:
		pending_flush(m, hit);
		if (!ovl_node_joined(m->node) && !m->left) {
			contact_from_assoc(a, &c);
			join_via(m, &c, 1);
		}
		break;
	case HIP_EVENT_FAILED: {
		struct mesh_pending *p = pending_find(m, hit, false);

		/* A direct exchange that found nobody (a peer behind a NAT that
		 * filters us): what waits for it goes through a pipe instead,
		 * set up through the overlay with ICE. */
		if (p && !locator_is_overlay(hip_assoc_locator(a)) && m->io.want_pipe &&
		    m->io.want_pipe(m->io.ctx, hit) == 0)
			break;
		if (p)
			pending_drop(p);
		ovl_id_from_hit(hit, &id);
		ovl_node_contact_failed(m->node, &id, mesh_clock_ms());
		break;
	}
	default:
		break;
	}
	ovl_rearm(m);
}

/* ---- lifetime ---- */

int mesh_new(const struct mesh_io *io, struct mesh **ret)
{
	struct ovl_ops ops = {
	        .send = ops_send, .sign = ops_sign, .verify = ops_verify, .hip = ops_hip};
	struct ovl_contact self = {0};
	struct ovl_config oc;
	const uint8_t *hi;
	size_t hi_len;
	struct mesh *m;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->io = *io;
	m->rl = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	snprintf(m->fqdn, sizeof(m->fqdn), "%s.%s", io->cfg->name, io->cfg->domain);
	snprintf(m->cache_path, sizeof(m->cache_path), "%s/overlay.cache", io->cfg->state_dir);
	ops.ctx = m;
	self.hit = *identity_hit(io->id);
	ovl_id_from_hit(&self.hit, &self.id);
	hi = identity_hi(io->id, &hi_len);
	ovl_config_default(&oc);
	r = ovl_node_new(&self, identity_algorithm(io->id), hi, hi_len, &oc, &ops, mesh_clock_ms(),
	                 &m->node);
	if (r < 0)
		goto fail;
	ovl_node_set_publish_cb(m->node, on_published, m);
	r = resolver_new(io->loop, &m->resolver);
	if (r < 0)
		goto fail;
	uv_timer_init(io->loop, &m->ovl_timer);
	uv_timer_init(io->loop, &m->boot_timer);
	uv_timer_init(io->loop, &m->cache_timer);
	uv_timer_init(io->loop, &m->direct_timer);
	m->ovl_timer.data = m->boot_timer.data = m->cache_timer.data = m->direct_timer.data = m;
	m->open_handles = 4;
	*ret = m;
	return 0;
fail:
	m->node = ovl_node_free(m->node);
	free(m);
	return r;
}

int mesh_start(struct mesh *m)
{
	struct ovl_contact cached[MESH_CACHE_MAX];
	size_t n = cache_load(m, cached, MESH_CACHE_MAX);

	if (n)
		log_msg(LOG_INFO, "rejoining through %zu cached overlay contacts", n);
	if (n) {
		join_via(m, cached, n);
	} else if (!m->io.cfg->n_bootstrap) {
		log_msg(LOG_NOTICE, "no bootstrap peer: starting overlay '%s' as its first node",
		        m->io.cfg->domain);
		join_via(m, NULL, 0);
	}
	connect_bootstrap(m);
	uv_timer_start(&m->boot_timer, on_boot_timer, MESH_BOOT_RETRY_MS, MESH_BOOT_RETRY_MS);
	uv_timer_start(&m->cache_timer, on_cache_timer, MESH_CACHE_FIRST_MS, MESH_CACHE_SAVE_MS);
	ovl_rearm(m);
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct mesh *m = h->data;

	m->open_handles--;
}

void mesh_stop(struct mesh *m)
{
	int r;

	if (!m || m->stopping)
		return;
	r = cache_save(m);
	if (r < 0)
		log_errno(LOG_WARNING, r, "saving '%s' failed", m->cache_path);
	if (ovl_node_joined(m->node))
		(void)ovl_node_leave(m->node, mesh_clock_ms());
	m->stopping = true;
	for (size_t i = 0; i < MESH_QUEUE_PEERS; i++)
		if (m->pending[i].used)
			pending_drop(&m->pending[i]);
	uv_close((uv_handle_t *)&m->ovl_timer, on_closed);
	uv_close((uv_handle_t *)&m->boot_timer, on_closed);
	uv_close((uv_handle_t *)&m->direct_timer, on_closed);
	uv_close((uv_handle_t *)&m->cache_timer, on_closed);
	resolver_free(m->resolver);
	m->resolver = NULL;
}

struct mesh *mesh_free(struct mesh *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < MESH_QUEUE_PEERS; i++)
		if (m->pending[i].used)
			pending_drop(&m->pending[i]);
	m->node = ovl_node_free(m->node);
	free(m);
	return NULL;
}

/* ---- queries ---- */

bool mesh_joined(const struct mesh *m)
{
	return m && m->node && ovl_node_joined(m->node);
}

size_t mesh_neighbors(const struct mesh *m)
{
	return m && m->node ? ovl_node_neighbors(m->node) : 0;
}

const char *mesh_fqdn(const struct mesh *m)
{
	return m->fqdn;
}

int mesh_join(struct mesh *m)
{
	struct ovl_contact cached[MESH_CACHE_MAX];
	size_t n;

	if (m->stopping)
		return -ESHUTDOWN;
	m->left = false;
	n = ovl_node_contacts(m->node, cached, MESH_CACHE_MAX);
	if (!n)
		n = cache_load(m, cached, MESH_CACHE_MAX);
	join_via(m, cached, n);
	connect_bootstrap(m);
	return 0;
}

int mesh_leave(struct mesh *m)
{
	int r;

	if (m->stopping)
		return -ESHUTDOWN;
	r = cache_save(m);
	if (r < 0)
		log_errno(LOG_WARNING, r, "saving '%s' failed", m->cache_path);
	r = ovl_node_leave(m->node, mesh_clock_ms());
	m->left = true;
	ovl_rearm(m);
	return r;
}

void mesh_path_up(struct mesh *m, const struct hit *peer)
{
	if (!m || m->stopping)
		return;
	pending_flush(m, peer);
	ovl_rearm(m);
}

int mesh_route_hip(struct mesh *m, const uint8_t *pkt, size_t len)
{
	struct hit dst;
	int r;

	if (m->stopping)
		return -ESHUTDOWN;
	if (len < HIP_HDR_LEN)
		return -EINVAL;
	memcpy(dst.b, pkt + HIP_OFF_RECEIVER, sizeof(dst.b));
	/* A base exchange with a peer we have an association with means that
	 * association is being replaced (a restart, a move): its pipe is likely
	 * dead, so the packet takes the overlay's other nodes, never that
	 * peer's own link. */
	r = ovl_node_route_hip(m->node, &dst, pkt, len, hip_wire_is_bex(pkt, len) ? &dst : NULL,
	                       mesh_clock_ms());
	ovl_rearm(m);
	return r;
}

int mesh_resolve(struct mesh *m, const char *name, ovl_lookup_cb cb, void *arg)
{
	char fqdn[CONFIG_DOMAIN_MAX + 1];
	int r;

	if (m->stopping)
		return -ESHUTDOWN;
	if (strchr(name, '.'))
		r = snprintf(fqdn, sizeof(fqdn), "%s", name);
	else
		r = snprintf(fqdn, sizeof(fqdn), "%s.%s", name, m->io.cfg->domain);
	if (r < 0 || (size_t)r >= sizeof(fqdn))
		return -ENAMETOOLONG;
	r = ovl_node_resolve(m->node, fqdn, mesh_clock_ms(), cb, arg);
	ovl_rearm(m);
	return r;
}

int mesh_publish_relay(struct mesh *m, const uint8_t *payload, size_t len)
{
	int r;

	if (m->stopping)
		return -ESHUTDOWN;
	r = ovl_node_publish_relay(m->node, payload, len, mesh_clock_ms());
	ovl_rearm(m);
	return r;
}

int mesh_find_relays(struct mesh *m, size_t want, ovl_relays_cb cb, void *arg)
{
	int r;

	if (m->stopping)
		return -ESHUTDOWN;
	r = ovl_node_find_relays(m->node, want, mesh_clock_ms(), cb, arg);
	ovl_rearm(m);
	return r;
}

void mesh_stats(const struct mesh *m, struct ovl_stats *ret)
{
	ovl_node_stats(m->node, ret);
}
