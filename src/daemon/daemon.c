/* SPDX-License-Identifier: MIT */
/* daemon.c: idlocd's event loop: the startup ladder, the HIP engine's glue to
 * the peer table and the key log, and graceful shutdown.
 *
 *   UDP --zero marker--> HIP engine --events--> peers (SAs), key log
 *
 * The packets themselves go through datapath.c, which this file hands the
 * TUN and UDP fds' readiness to. One libuv loop, no threads; the engine is
 * driven with uv_now() as its clock and one timer armed from
 * hip_host_next_timer(). */
#include "daemon/daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "idloc/ctl.h"
#include "common/bytes.h"
#include "common/hit.h"
#include "common/log.h"
#include "crypto/identity.h"
#include "daemon/answers.h"
#include "daemon/config.h"
#include "daemon/ctl.h"
#include "daemon/datapath.h"
#include "daemon/dnsconf.h"
#include "daemon/dnsserver.h"
#include "daemon/iceconf.h"
#include "daemon/hints.h"
#include "daemon/idmap.h"
#include "daemon/keylog.h"
#include "daemon/locator.h"
#include "daemon/mesh.h"
#include "daemon/peers.h"
#include "daemon/pinger.h"
#include "daemon/pipes.h"
#include "daemon/privs.h"
#include "daemon/relays.h"
#include "daemon/roam.h"
#include "hip/bex.h"
#include "hip/wire.h"
#include "net/gloop.h"
#include "net/netlink.h"
#include "net/tun.h"
#include "net/udp.h"

static const uint8_t orchid_prefix[16] = {0x20, 0x01, 0x00, 0x20};
#define ORCHID_PLEN     28
#define DAEMON_KEY_FILE "host.key" /* in the state directory */

enum {
	H_SIGINT = 1U << 0,
	H_SIGTERM = 1U << 1,
	H_UDP = 1U << 2,
	H_TUN = 1U << 3,
	H_HIP_TIMER = 1U << 4,
	H_STOP_TIMER = 1U << 6,
	H_KEEPALIVE_TIMER = 1U << 7,
	H_PIPE_TIMER = 1U << 8,
};

struct daemon {
	struct config cfg;
	uv_loop_t loop;
	bool loop_ready;
	unsigned handles; /* H_* of initialised handles */
	uv_signal_t sigint, sigterm;
	uv_poll_t udp_poll, tun_poll;
	uv_timer_t hip_timer, stop_timer, keepalive_timer, pipe_timer;
	struct hit want_pipe[16]; /* overlay contacts to reach through pipes */
	size_t n_want_pipe;
	struct hit announce[16]; /* new direct associations to tell our addresses */
	size_t n_announce;
	bool stopping;
	bool left; /* idloc leave: no associations, routes unreachable, no keepalives */

	struct identity *id;
	struct hit hit;
	struct keylog *keylog;
	struct tun tun;
	struct udp_sock udp;
	struct udp_batch batch;
	struct hip_host *hip;
	struct peers *peers;
	struct idmap *idmap;
	struct gloop *gloop;
	struct pipes *pipes;
	struct iceconf *iceconf;
	struct mesh *mesh;
	struct dnsserver *dns;
	struct dnsconf *dnsconf;   /* the system resolver pointed at us */
	struct roam *roam;         /* our address changes, told to the peers */
	struct relays *relays;     /* peer relays: serving one, using one */
	struct hints_cache *hints; /* peers' addresses from their name records */
	struct pinger *pinger;
	struct ctl *ctl;
	struct answers answers;
	struct answers_log *log; /* the last lines logged, for idloc log */
	struct datapath dp;
	struct ratelimit rl_route;
	uint8_t hip_buf[4 + HIP_MAX_PACKET]; /* zero marker + HIP, on a pipe */
};

static uint64_t now_ms(struct daemon *d)
{
	return uv_now(&d->loop);
}

/* The peer's HIT, or its locator while an opportunistic exchange has not
 * told us the HIT yet. */
static const char *assoc_name(struct hip_assoc *a, char buf[UDP_ADDRSTRLEN])
{
	const struct hit *h = hip_assoc_peer_hit(a);

	if (hit_is_zero(h))
		return locator_format(hip_assoc_locator(a), buf);
	return hit_format(h, buf);
}

/* ---- identity and state directory ---- */

int daemon_load_identity(const struct config *cfg, struct identity **ret, char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + 16];
	struct stat st;
	int r;

	if (mkdir(cfg->state_dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "state directory '%s': cannot create: %s", cfg->state_dir,
		         strerror(-r));
		return r;
	}
	if (stat(cfg->state_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state directory '%s': not a directory", cfg->state_dir);
		return -ENOTDIR;
	}
	snprintf(path, sizeof(path), "%s/" DAEMON_KEY_FILE, cfg->state_dir);
	return identity_load_or_create(path, ret, err, errlen);
}

/* ---- HIP engine glue ---- */

static void on_hip_timer(uv_timer_t *t);

static void hip_rearm(struct daemon *d)
{
	uint64_t next, now = now_ms(d);

	if (!(d->handles & H_HIP_TIMER) || !d->hip)
		return;
	next = hip_host_next_timer(d->hip);
	if (next == UINT64_MAX) {
		uv_timer_stop(&d->hip_timer);
		return;
	}
	uv_timer_start(&d->hip_timer, on_hip_timer, next > now ? next - now : 0, 0);
}

static int ops_send(void *ctx, const struct hip_locator *to, const uint8_t *pkt, size_t len)
{
	struct daemon *d = ctx;
	char h[HIT_STRLEN];
	int r;

	if (!locator_is_overlay(to))
		return datapath_send_hip(&d->dp, to, pkt, len, now_ms(d));
	if (len < HIP_HDR_LEN || len > HIP_MAX_PACKET)
		return -EINVAL;
	/* The association's pipe once ICE has one, else hop by hop. Base
	 * exchange packets never take the pipe: an exchange over an association
	 * that has one replaces it after a restart or a move, when the pipe's
	 * path is likely gone. */
	if (d->pipes && !hip_wire_is_bex(pkt, len) &&
	    pipes_up(d->pipes, (const struct hit *)(pkt + HIP_OFF_RECEIVER))) {
		memset(d->hip_buf, 0, 4);
		memcpy(d->hip_buf + 4, pkt, len);
		r = pipes_send(d->pipes, (const struct hit *)(pkt + HIP_OFF_RECEIVER), d->hip_buf,
		               len + 4);
		if (r == 0)
			return 0;
	}
	r = mesh_route_hip(d->mesh, pkt, len);
	if (r < 0) {
		struct hit dst;

		memcpy(dst.b, pkt + HIP_OFF_RECEIVER, sizeof(dst.b));
		log_ratelimited(&d->rl_route, now_ms(d), LOG_INFO,
		                "cannot route a HIP packet to %s through the overlay: %s",
		                hit_format(&dst, h), strerror(-r));
	}
	return r;
}

static void keylog_sas(struct daemon *d, const struct hip_esp_keys *k)
{
	int r;

	if (!d->keylog)
		return;
	r = keylog_write(d->keylog, k->spi_in, k->key_in, k->keylen);
	if (r == 0)
		r = keylog_write(d->keylog, k->spi_out, k->key_out, k->keylen);
	if (r < 0)
		log_errno(LOG_WARNING, r, "writing key log '%s' failed, ignoring", d->cfg.key_log);
}

static void on_established(struct daemon *d, struct hip_assoc *a)
{
	struct peer *p = hip_assoc_user(a);
	struct hip_esp_keys k;
	char h[HIT_STRLEN], l[UDP_ADDRSTRLEN];
	int r;

	if (p) {
		/* Keyed again (the peer restarted): the old SAs are void. */
		peers_remove(d->peers, p);
		hip_assoc_set_user(a, NULL);
	}
	r = hip_assoc_esp_keys(a, &k);
	if (r == 0)
		r = peers_add(d->peers, a, hip_assoc_peer_hit(a), &k, now_ms(d), &p);
	if (r < 0) {
		memzero(&k, sizeof(k));
		log_errno(LOG_ERR, r, "HIP association with %s: cannot install ESP SAs",
		          hit_format(hip_assoc_peer_hit(a), h));
		return;
	}
	hip_assoc_set_user(a, p);
	/* Every peer we have keys with is reachable by its LSI too. */
	r = idmap_add(d->idmap, &p->hit, NULL, NULL);
	if (r > 0 && (r & IDMAP_COLLISION))
		log_msg(LOG_NOTICE,
		        "LSI of %s collides with another peer's here: using a local one",
		        hit_format(&p->hit, h));
	log_msg(LOG_NOTICE,
	        "HIP association with %s at %s established (ESP SPI in 0x%08x out 0x%08x)",
	        hit_format(&p->hit, h), locator_format(hip_assoc_locator(a), l), k.spi_in,
	        k.spi_out);
	keylog_sas(d, &k);
	memzero(&k, sizeof(k));
}

static void on_rekeyed(struct daemon *d, struct hip_assoc *a)
{
	struct peer *p = hip_assoc_user(a);
	struct hip_esp_keys k;
	char h[HIT_STRLEN];
	int r;

	if (!p) {
		on_established(d, a);
		return;
	}
	r = hip_assoc_esp_keys(a, &k);
	if (r == 0)
		r = peers_rekey(d->peers, p, &k, now_ms(d));
	if (r < 0) {
		memzero(&k, sizeof(k));
		log_errno(LOG_ERR, r, "HIP association with %s: cannot install the new ESP SAs",
		          hit_format(&p->hit, h));
		return;
	}
	log_msg(LOG_NOTICE, "HIP association with %s rekeyed (ESP SPI in 0x%08x out 0x%08x)",
	        hit_format(&p->hit, h), k.spi_in, k.spi_out);
	keylog_sas(d, &k);
	memzero(&k, sizeof(k));
}

static void drop_peer(struct daemon *d, struct hip_assoc *a)
{
	struct peer *p = hip_assoc_user(a);

	if (p)
		peers_remove(d->peers, p);
	hip_assoc_set_user(a, NULL);
}

static void on_pipe_timer(uv_timer_t *t);

/* A new direct association: the peer learns our own addresses (an RFC 8046
 * UPDATE from where we are; nothing to verify when nothing moved), so it
 * can tell a host path from one through our NAT (idloc peers). */
static void announce_addresses(struct daemon *d, struct hip_assoc *a)
{
	struct hip_locator_entry e[HIP_LOCATORS_MAX];
	size_t n;

	if (locator_is_overlay(hip_assoc_locator(a)))
		return;
	n = locator_host_entries(d->tun.name, d->udp.port, e, HIP_LOCATORS_MAX);
	if (n)
		(void)hip_host_readdress(d->hip, a, e, n, now_ms(d));
}

static void ops_event(void *ctx, struct hip_assoc *a, enum hip_event ev)
{
	struct daemon *d = ctx;
	char n[UDP_ADDRSTRLEN];

	switch (ev) {
	case HIP_EVENT_ESTABLISHED:
		on_established(d, a);
		/* Not from inside the engine: at the next turn of the loop. */
		if ((d->handles & H_PIPE_TIMER) && d->n_announce < ARRAY_SIZE(d->announce) &&
		    !locator_is_overlay(hip_assoc_locator(a))) {
			d->announce[d->n_announce++] = *hip_assoc_peer_hit(a);
			uv_timer_start(&d->pipe_timer, on_pipe_timer, 0, 0);
		}
		break;
	case HIP_EVENT_REKEYED:
		on_rekeyed(d, a);
		break;
	case HIP_EVENT_CLOSED:
		drop_peer(d, a);
		log_msg(LOG_NOTICE, "HIP association with %s closed", assoc_name(a, n));
		break;
	case HIP_EVENT_FAILED:
		drop_peer(d, a);
		log_msg(LOG_NOTICE, "HIP association with %s failed", assoc_name(a, n));
		break;
	case HIP_EVENT_DESTROYED:
		drop_peer(d, a);
		break;
	case HIP_EVENT_MOVED: {
		char l[UDP_ADDRSTRLEN];

		log_msg(LOG_NOTICE, "HIP association with %s moved to %s (address verified)",
		        assoc_name(a, n), locator_format(hip_assoc_locator(a), l));
		break;
	}
	case HIP_EVENT_CANDIDATES:
		break;
	}
	if (d->pipes)
		pipes_hip_event(d->pipes, a, ev, now_ms(d));
	mesh_hip_event(d->mesh, a, ev);
	relays_hip_event(d->relays, a, ev);
}

static size_t ops_candidates(void *ctx, struct hip_assoc *a, struct hip_locator_entry *out,
                             size_t cap)
{
	struct daemon *d = ctx;

	return d->pipes ? pipes_candidates(d->pipes, a, out, cap) : 0;
}

static void check_stopped(struct daemon *d);

static void on_hip_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;

	hip_host_tick(d->hip, now_ms(d));
	hip_rearm(d);
	if (d->stopping)
		check_stopped(d);
}

static void on_keepalive_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;

	if (!d->stopping && !d->left && datapath_keepalive(&d->dp, d->cfg.keepalive_ms, now_ms(d)))
		hip_rearm(d);
}

/* ---- the data path's fds ---- */

static void on_tun(uv_poll_t *h, int status, int events)
{
	struct daemon *d = h->data;

	if (datapath_on_tun(&d->dp, status, now_ms(d)))
		hip_rearm(d);
}

static void on_udp(uv_poll_t *h, int status, int events)
{
	struct daemon *d = h->data;

	if (!datapath_on_udp(&d->dp, status, now_ms(d)))
		return;
	hip_rearm(d);
	if (d->stopping)
		check_stopped(d);
}

/* ---- shutdown ---- */

static void on_close(uv_handle_t *h)
{
	(void)h;
}

static void stop_pipes(struct daemon *d);

/* The system resolver stops using us (synchronously: we are exiting). */
static void stop_dnsconf(struct daemon *d)
{
	d->answers.dnsconf = NULL;
	dnsconf_stop(d->dnsconf);
	d->dnsconf = NULL;
}

static void close_handles(struct daemon *d)
{
	roam_stop(d->roam);
	d->roam = NULL;
	relays_stop(d->relays);
	d->relays = NULL;
	struct {
		unsigned bit;
		uv_handle_t *h;
	} hs[] = {
	        {H_SIGINT, (uv_handle_t *)&d->sigint},
	        {H_SIGTERM, (uv_handle_t *)&d->sigterm},
	        {H_UDP, (uv_handle_t *)&d->udp_poll},
	        {H_TUN, (uv_handle_t *)&d->tun_poll},
	        {H_HIP_TIMER, (uv_handle_t *)&d->hip_timer},
	        {H_STOP_TIMER, (uv_handle_t *)&d->stop_timer},
	        {H_KEEPALIVE_TIMER, (uv_handle_t *)&d->keepalive_timer},
	        {H_PIPE_TIMER, (uv_handle_t *)&d->pipe_timer},
	};

	for (size_t i = 0; i < ARRAY_SIZE(hs); i++) {
		if ((d->handles & hs[i].bit) && !uv_is_closing(hs[i].h))
			uv_close(hs[i].h, on_close);
	}
	d->handles = 0;
	stop_pipes(d);
	dnsserver_stop(d->dns);
	d->dp.io.dns = NULL;
}

static void count_closing(struct hip_assoc *a, void *ctx)
{
	if (hip_assoc_state(a) == HIP_STATE_CLOSING)
		(*(size_t *)ctx)++;
}

static void check_stopped(struct daemon *d)
{
	size_t closing = 0;

	if (!d->handles)
		return;
	hip_host_foreach(d->hip, count_closing, &closing);
	if (closing == 0)
		close_handles(d);
}

static void on_stop_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;

	log_msg(LOG_INFO, "not every peer answered CLOSE within %d ms, stopping anyway",
	        DAEMON_CLOSE_WAIT_MS);
	close_handles(d);
}

struct close_list {
	struct hip_assoc **a;
	size_t n, cap;
};

static void collect_open(struct hip_assoc *a, void *ctx)
{
	struct close_list *l = ctx;
	enum hip_state s = hip_assoc_state(a);

	if ((s == HIP_STATE_ESTABLISHED || s == HIP_STATE_R2_SENT) && l->n < l->cap)
		l->a[l->n++] = a;
}

/* Sends CLOSE on every open association: the peers drop theirs at once. */
static void close_all(struct daemon *d)
{
	struct close_list l = {.cap = hip_host_count(d->hip)};
	uint64_t now = now_ms(d);
	char n[UDP_ADDRSTRLEN];

	/* hip_host_foreach callbacks must not change the association list, so
	 * collect first, then close. */
	l.a = l.cap ? calloc(l.cap, sizeof(*l.a)) : NULL;
	if (l.a)
		hip_host_foreach(d->hip, collect_open, &l);
	for (size_t i = 0; i < l.n; i++) {
		int r = hip_host_close(d->hip, l.a[i], now);
		if (r < 0)
			log_errno(LOG_WARNING, r, "closing HIP association with %s failed",
			          assoc_name(l.a[i], n));
	}
	free(l.a);
	hip_rearm(d);
}

static void begin_shutdown(struct daemon *d)
{
	log_msg(LOG_NOTICE, "shutting down");
	d->stopping = true;
	uv_poll_stop(&d->tun_poll);
	ctl_stop(d->ctl);
	d->ctl = NULL;
	stop_dnsconf(d); /* nobody answers DNS on the TUN from now on */
	pinger_stop(d->pinger);
	mesh_stop(d->mesh);
	close_all(d);
	uv_timer_start(&d->stop_timer, on_stop_timer, DAEMON_CLOSE_WAIT_MS, 0);
	check_stopped(d);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (d->stopping) {
		log_msg(LOG_NOTICE, "second signal, stopping now");
		close_handles(d);
		return;
	}
	begin_shutdown(d);
}

/* ---- startup ladder ---- */

/* The routes into the TUN: the ORCHID prefix (source: our HIT), the LSI
 * prefix (source: our LSI) and the resolver address when outside it. */
struct tun_route {
	int family;
	uint8_t prefix[16];
	unsigned plen;
	uint8_t src[16];
};

static size_t tun_routes(const struct daemon *d, struct tun_route out[3])
{
	uint32_t mask = d->cfg.lsi_prefix_len ? ~UINT32_C(0) << (32 - d->cfg.lsi_prefix_len) : 0;
	size_t n = 0;

	out[n] = (struct tun_route){.family = AF_INET6, .plen = ORCHID_PLEN};
	memcpy(out[n].prefix, orchid_prefix, sizeof(orchid_prefix));
	memcpy(out[n++].src, d->hit.b, sizeof(d->hit.b));
	out[n] = (struct tun_route){.family = AF_INET, .plen = d->cfg.lsi_prefix_len};
	store_be32(out[n].prefix, d->cfg.lsi_prefix);
	store_be32(out[n++].src, idmap_self(d->idmap)->lsi);
	if ((d->cfg.dns_address & mask) != d->cfg.lsi_prefix) {
		out[n] = out[n - 1];
		out[n].plen = 32;
		store_be32(out[n++].prefix, d->cfg.dns_address);
	}
	return n;
}

static int route_add(struct daemon *d, struct netlink *nl, const struct tun_route *t)
{
	char a[INET6_ADDRSTRLEN];
	int r = netlink_route_add(nl, d->tun.ifindex, t->family, t->prefix, t->plen, t->src);

	if (r < 0)
		log_msg(LOG_ERR, "netlink: adding route %s/%u dev %s failed: %s%s",
		        inet_ntop(t->family, t->prefix, a, sizeof(a)), t->plen, d->tun.name,
		        strerror(-r),
		        r == -EEXIST ? " (another idlocd in this network namespace?)" : "");
	return r;
}

/* Left: each route into the TUN becomes an unreachable one, so nothing for
 * an LSI or a HIT can leave through another route in plaintext; joined: back
 * through the TUN. */
static int routes_set(struct daemon *d, bool through_tun)
{
	struct tun_route t[3];
	size_t n = tun_routes(d, t);
	struct netlink *nl;
	int r = netlink_open(&nl);

	if (r < 0)
		return log_errno(LOG_ERR, r, "netlink: cannot open a NETLINK_ROUTE socket");
	for (size_t i = 0; i < n && r >= 0; i++) {
		r = netlink_route_del(nl, through_tun ? 0 : d->tun.ifindex, t[i].family,
		                      t[i].prefix, t[i].plen);
		if (r == -ESRCH)
			r = 0;
		if (r == 0)
			r = through_tun ? route_add(d, nl, &t[i])
			                : netlink_route_add_unreachable(nl, t[i].family,
			                                                t[i].prefix, t[i].plen);
	}
	netlink_free(nl);
	if (r < 0)
		log_errno(LOG_ERR, r, "netlink: changing the routes of %s failed", d->tun.name);
	return r;
}

/* The own LSI on the TUN, and the LSI prefix through it with the own LSI as
 * source. The resolver address is routed to the TUN, not assigned to it: a
 * local address would take queries to the loopback, where nothing listens,
 * while a routed one brings them into the TUN, where the DNS server answers
 * them (docs/datapath.md "Addresses and routes"). */
static int configure_tun4(struct daemon *d, struct netlink *nl)
{
	uint8_t lsi[4];
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	struct in_addr res = {.s_addr = htonl(d->cfg.dns_address)};
	int r;

	store_be32(lsi, idmap_self(d->idmap)->lsi);
	inet_ntop(AF_INET, lsi, a, sizeof(a));
	r = netlink_addr_add(nl, d->tun.ifindex, AF_INET, lsi, 32);
	if (r < 0)
		return log_errno(LOG_ERR, r, "netlink: adding address %s/32 to %s failed", a,
		                 d->tun.name);
	log_msg(LOG_NOTICE, "LSI %s on %s, resolver %s", a, d->tun.name,
	        inet_ntop(AF_INET, &res, b, sizeof(b)));
	return 0;
}

static int configure_tun(struct daemon *d)
{
	struct netlink *nl;
	char h[HIT_STRLEN];
	int r;

	r = netlink_open(&nl);
	if (r < 0)
		return log_errno(LOG_ERR, r, "netlink: cannot open a NETLINK_ROUTE socket");
	r = netlink_link_set_mtu(nl, d->tun.ifindex, d->cfg.mtu);
	if (r < 0) {
		log_errno(LOG_ERR, r, "netlink: setting MTU %u on %s failed", d->cfg.mtu,
		          d->tun.name);
		goto out;
	}
	/* Up before the address: IPv6 drops addresses of a link that is down. */
	r = netlink_link_set_up(nl, d->tun.ifindex);
	if (r < 0) {
		log_errno(LOG_ERR, r, "netlink: bringing %s up failed", d->tun.name);
		goto out;
	}
	r = netlink_addr_add(nl, d->tun.ifindex, AF_INET6, d->hit.b, 128);
	if (r < 0) {
		log_errno(LOG_ERR, r, "netlink: adding address %s/128 to %s failed",
		          hit_format(&d->hit, h), d->tun.name);
		goto out;
	}
	r = configure_tun4(d, nl);
	if (r == 0) {
		struct tun_route t[3];
		size_t n = tun_routes(d, t);

		for (size_t i = 0; i < n && r == 0; i++)
			r = route_add(d, nl, &t[i]);
	}
out:
	netlink_free(nl);
	return r;
}

static int start_handles(struct daemon *d)
{
	int r;

	d->sigint.data = d->sigterm.data = d;
	d->udp_poll.data = d->tun_poll.data = d;
	d->hip_timer.data = d->stop_timer.data = d->keepalive_timer.data = d->pipe_timer.data = d;
	if ((r = uv_signal_init(&d->loop, &d->sigint)) < 0)
		goto fail;
	d->handles |= H_SIGINT;
	if ((r = uv_signal_init(&d->loop, &d->sigterm)) < 0)
		goto fail;
	d->handles |= H_SIGTERM;
	if ((r = uv_poll_init(&d->loop, &d->udp_poll, d->udp.fd)) < 0)
		goto fail;
	d->handles |= H_UDP;
	if ((r = uv_poll_init(&d->loop, &d->tun_poll, d->tun.fd)) < 0)
		goto fail;
	d->handles |= H_TUN;
	if ((r = uv_timer_init(&d->loop, &d->hip_timer)) < 0)
		goto fail;
	d->handles |= H_HIP_TIMER;
	if ((r = uv_timer_init(&d->loop, &d->stop_timer)) < 0)
		goto fail;
	d->handles |= H_STOP_TIMER;
	if ((r = uv_timer_init(&d->loop, &d->keepalive_timer)) < 0)
		goto fail;
	d->handles |= H_KEEPALIVE_TIMER;
	if ((r = uv_timer_init(&d->loop, &d->pipe_timer)) < 0)
		goto fail;
	d->handles |= H_PIPE_TIMER;
	/* A third of the interval: no peer goes more than 4/3 of it unheard. */
	if ((r = uv_timer_start(&d->keepalive_timer, on_keepalive_timer, d->cfg.keepalive_ms / 3,
	                        d->cfg.keepalive_ms / 3)) < 0)
		goto fail;
	if ((r = uv_signal_start(&d->sigint, on_signal, SIGINT)) < 0 ||
	    (r = uv_signal_start(&d->sigterm, on_signal, SIGTERM)) < 0 ||
	    (r = uv_poll_start(&d->udp_poll, UV_READABLE, on_udp)) < 0 ||
	    (r = uv_poll_start(&d->tun_poll, UV_READABLE, on_tun)) < 0)
		goto fail;
	return 0;
fail:
	log_msg(LOG_ERR, "event loop setup failed: %s", uv_strerror(r));
	close_handles(d);
	uv_run(&d->loop, UV_RUN_DEFAULT); /* completes the closes */
	return -EIO;
}

static int open_keylog(struct daemon *d)
{
	int r;

	if (!d->cfg.key_log[0])
		return 0;
	r = keylog_open(d->cfg.key_log, &d->keylog);
	if (r < 0)
		return log_errno(LOG_ERR, r, "[debug] key-log '%s': cannot open", d->cfg.key_log);
	log_msg(LOG_WARNING,
	        "[debug] key-log is set: ESP session keys are being exported to '%s'; "
	        "anyone who can read it can decrypt the traffic",
	        d->cfg.key_log);
	return 0;
}

/* HIT <-> LSI <-> name, with our own entry first. */
static int start_idmap(struct daemon *d)
{
	struct idmap_config ic = {
	        .prefix = d->cfg.lsi_prefix,
	        .prefix_len = d->cfg.lsi_prefix_len,
	        .resolver = d->cfg.dns_address,
	};
	char fqdn[CONFIG_LABEL_MAX + CONFIG_DOMAIN_MAX + 2];
	int r;

	snprintf(fqdn, sizeof(fqdn), "%s.%s", d->cfg.name, d->cfg.domain);
	r = idmap_new(&ic, &d->hit, fqdn, &d->idmap);
	if (r < 0)
		return log_errno(LOG_ERR, r, "identifier map for %s/%u", "tun.lsi-prefix",
		                 d->cfg.lsi_prefix_len);
	return 0;
}

/* On failure nothing is left open. */
static int open_tun(struct daemon *d)
{
	int r = tun_open(d->cfg.device, datapath_offloads() & DATAPATH_OFFLOAD_TUN, &d->tun);

	if (r < 0) {
		log_msg(LOG_ERR, "cannot open TUN device '%s': %s%s", d->cfg.device, strerror(-r),
		        r == -EPERM || r == -EACCES ? " (needs CAP_NET_ADMIN and /dev/net/tun)"
		        : r == -EBUSY               ? " (in use by another process)"
		                                    : "");
		return r;
	}
	r = configure_tun(d);
	if (r < 0) {
		tun_close(&d->tun);
		return r;
	}
	log_msg(LOG_NOTICE, "TUN %s up, MTU %u", d->tun.name, d->cfg.mtu);
	return 0;
}

/* On failure nothing is left open. */
static int open_udp(struct daemon *d)
{
	int r = udp_open(d->cfg.port, &d->udp);

	if (r < 0)
		return log_errno(LOG_ERR, r, "cannot bind UDP port %u", d->cfg.port);
	r = udp_batch_init(&d->batch);
	if (r < 0) {
		log_errno(LOG_ERR, r, "UDP receive buffers");
		udp_batch_done(&d->batch);
		udp_close(&d->udp);
		return r;
	}
	log_msg(LOG_NOTICE, "listening on UDP port %u%s", d->udp.port,
	        d->udp.family == AF_INET ? " (IPv4 only)" : "");
	return 0;
}

/* The engine, and the data path that feeds it, before anything can make it
 * send. */
static int start_engine(struct daemon *d)
{
	struct hip_ops ops = {
	        .ctx = d, .send = ops_send, .event = ops_event, .candidates = ops_candidates};
	struct hip_config hc;
	struct datapath_io io;
	int r;

	hip_config_default(&hc);
	hc.puzzle_k = (uint8_t)d->cfg.puzzle_difficulty;
	hc.retransmit_ms = d->cfg.retransmit_ms;
	hc.max_retransmits = d->cfg.max_retransmits;
	hc.offer_ice = true;
	r = hip_host_new(d->id, &hc, &ops, now_ms(d), &d->hip);
	if (r < 0)
		return log_errno(LOG_ERR, r, "HIP engine setup failed");
	io = (struct datapath_io){
	        .tun = &d->tun,
	        .udp = &d->udp,
	        .batch = &d->batch,
	        .hip = d->hip,
	        .peers = d->peers,
	        .hit = d->hit,
	        .idmap = d->idmap,
	        .mtu = d->cfg.mtu,
	        .resolver = d->cfg.dns_address,
	};
	datapath_init(&d->dp, &io);
	return 0;
}

/* ---- pipes: the ICE side of the data path ---- */

static void pipe_flush(void *ctx, const uint8_t *pkt, size_t len)
{
	struct daemon *d = ctx;

	if (datapath_tun_packet(&d->dp, pkt, len, now_ms(d)))
		hip_rearm(d);
}

static void pipe_unreachable(void *ctx, const uint8_t *pkt, size_t len)
{
	struct daemon *d = ctx;

	datapath_unreachable(&d->dp, pkt, len, now_ms(d));
}

static void pipe_received(void *ctx, const struct hit *peer, const uint8_t *data, size_t len)
{
	struct daemon *d = ctx;

	datapath_pipe_input(&d->dp, peer, data, len, now_ms(d));
	hip_rearm(d);
}

static void pipe_hip_changed(void *ctx)
{
	hip_rearm(ctx);
}

static void pipe_up(void *ctx, const struct hit *peer)
{
	struct daemon *d = ctx;

	mesh_path_up(d->mesh, peer);
	hip_rearm(d);
}

static void on_pipe_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;
	char h[HIT_STRLEN];

	for (size_t i = 0; i < d->n_want_pipe; i++) {
		int r = d->pipes ? pipes_connect(d->pipes, &d->want_pipe[i], now_ms(d)) : -ENOTSUP;

		if (r < 0 && r != -EHOSTUNREACH)
			log_errno(LOG_INFO, r, "pipe to %s: cannot start",
			          hit_format(&d->want_pipe[i], h));
	}
	d->n_want_pipe = 0;
	for (size_t i = 0; i < d->n_announce; i++) {
		struct hip_assoc *a = hip_host_find(d->hip, &d->announce[i]);

		if (a)
			announce_addresses(d, a);
	}
	d->n_announce = 0;
	hip_rearm(d);
}

/* The overlay could not reach a contact directly: a pipe through it. Not
 * from inside the engine's event callback that reports the failure: at the
 * next turn of the loop. */
static int mesh_want_pipe(void *ctx, const struct hit *peer)
{
	struct daemon *d = ctx;

	if (!d->pipes || !(d->handles & H_PIPE_TIMER))
		return -ENOTSUP;
	if (d->n_want_pipe == ARRAY_SIZE(d->want_pipe))
		return -EBUSY;
	d->want_pipe[d->n_want_pipe++] = *peer;
	uv_timer_start(&d->pipe_timer, on_pipe_timer, 0, 0);
	return 0;
}

/* libnice's GLib context on our loop, and the pipes that use it. */
/* Where a direct I1 may reach peer: the first address hint of its name
 * record, one of the peer's own addresses. Not the routing table's address
 * for it: that is what others saw, behind a NAT its router's mapping, and a
 * direct I1 there can open a path on the daemon ports that looks like a
 * host path (docs/nat.md); the pipe's ICE reports such paths for what they
 * are (srflx, prflx). */
static bool pipe_contact(void *ctx, const struct hit *peer, struct hip_locator *ret)
{
	struct daemon *d = ctx;

	return hints_cache_get(d->hints, peer, ret, now_ms(d));
}

/* Our name record's address hints: the host's addresses, our port. */
static size_t name_hints(void *ctx, uint8_t *buf, size_t cap)
{
	struct daemon *d = ctx;
	struct hip_locator_entry e[HIP_LOCATORS_MAX];
	size_t n = locator_host_entries(d->tun.name, d->udp.port, e, HIP_LOCATORS_MAX);
	uint8_t out[HINTS_BUF];
	size_t len = hints_encode(e, n, out);

	if (len > cap || n == 0)
		return 0;
	memcpy(buf, out, len);
	return len;
}

static void pipe_burst_begin(void *ctx)
{
	struct daemon *d = ctx;

	datapath_pipe_burst(&d->dp, true);
}

static void pipe_burst_end(void *ctx)
{
	struct daemon *d = ctx;

	datapath_pipe_burst(&d->dp, false);
}

static int start_pipes(struct daemon *d)
{
	struct pipes_config pc = {
	        .idle_ms = d->cfg.idle_timeout_ms,
	        .tun_name = d->tun.name,
	        .lsi_prefix = d->cfg.lsi_prefix,
	        .lsi_prefix_len = d->cfg.lsi_prefix_len,
	};
	struct pipes_io io = {
	        .loop = &d->loop,
	        .hip = d->hip,
	        .ctx = d,
	        .hip_changed = pipe_hip_changed,
	        .flush = pipe_flush,
	        .unreachable = pipe_unreachable,
	        .received = pipe_received,
	        .up = pipe_up,
	        .contact = pipe_contact,
	};
	int r = hints_cache_new(&d->hints);

	if (r == 0)
		r = gloop_new(&d->loop, &d->gloop);
	if (r < 0) {
		d->hints = hints_cache_free(d->hints);
		return log_errno(LOG_ERR, r, "GLib main context for ICE");
	}
	gloop_set_dispatch_hooks(d->gloop, pipe_burst_begin, pipe_burst_end, d);
	io.gloop = d->gloop;
	r = pipes_new(&pc, &io, &d->pipes);
	if (r == 0)
		r = iceconf_start(&d->loop, &d->cfg, d->pipes, &d->iceconf);
	if (r < 0) {
		d->pipes = pipes_free(d->pipes);
		gloop_free(d->gloop);
		d->gloop = NULL;
		return log_errno(LOG_ERR, r, "pipes setup failed");
	}
	d->dp.io.pipes = d->pipes;
	return 0;
}

/* ICE agents before the context they run on; both finish closing their
 * libuv handles while the loop runs on. */
static void stop_pipes(struct daemon *d)
{
	stop_dnsconf(d); /* every shutdown and error path passes here */
	d->dp.io.pipes = NULL;
	d->iceconf = iceconf_free(d->iceconf);
	d->pipes = pipes_free(d->pipes);
	gloop_free(d->gloop);
	d->gloop = NULL;
	d->hints = hints_cache_free(d->hints);
}

static void mesh_hip_changed(void *ctx)
{
	hip_rearm(ctx);
}

/* Decrypted payloads for the daemon itself: replies to our echo requests,
 * overlay messages; the rest goes on to the TUN. */
static bool local_input(void *ctx, const struct hit *from, uint8_t nh, const uint8_t *payload,
                        size_t len, uint64_t now)
{
	struct daemon *d = ctx;

	return pinger_input(d->pinger, from, nh, payload, len, now) ||
	       mesh_local(d->mesh, from, nh, payload, len, now);
}

/* The overlay on top of the engine; its messages come in through the data
 * path's local delivery hook. */
static int start_mesh(struct daemon *d)
{
	struct mesh_io io = {
	        .loop = &d->loop,
	        .cfg = &d->cfg,
	        .id = d->id,
	        .hip = d->hip,
	        .dp = &d->dp,
	        .hip_changed = mesh_hip_changed,
	        .want_pipe = mesh_want_pipe,
	        .name_hints = name_hints,
	        .ctx = d,
	};
	int r = mesh_new(&io, &d->mesh);

	if (r < 0)
		return log_errno(LOG_ERR, r, "overlay setup failed");
	d->dp.io.local = local_input;
	d->dp.io.local_ctx = d;
	return 0;
}

/* `idloc ping`: echo requests through the associations. */
static int start_pinger(struct daemon *d)
{
	struct pinger_io io = {
	        .loop = &d->loop,
	        .mesh = d->mesh,
	        .dp = &d->dp,
	        .pipes = d->pipes,
	        .hip = d->hip,
	        .idmap = d->idmap,
	        .own = d->hit,
	        .hip_changed = mesh_hip_changed,
	        .ctx = d,
	};
	int r = pinger_new(&io, &d->pinger);

	if (r < 0)
		return log_errno(LOG_ERR, r, "ping setup failed");
	return 0;
}

static void dns_resolved(void *ctx, const struct hit *peer, const uint8_t *hints, size_t len)
{
	struct daemon *d = ctx;
	char h[HIT_STRLEN];
	int r;

	if (!d->pipes)
		return;
	hints_cache_put(d->hints, peer, hints, len, now_ms(d));
	r = pipes_connect(d->pipes, peer, now_ms(d));
	if (r < 0 && r != -EHOSTUNREACH)
		log_errno(LOG_INFO, r, "pipe to %s: cannot start", hit_format(peer, h));
	hip_rearm(d);
}

/* Before the privileges go: cleans up after a crashed run and opens what
 * only root may open; dnsconf_start does the rest after the drop (it starts
 * GLib threads, which would keep root's capabilities). Never fatal. */
static void open_dnsconf(struct daemon *d)
{
	struct dnsconf_config c = {
	        .mode = d->cfg.dns_configure,
	        .ifindex = d->tun.ifindex,
	        .ifname = d->tun.name,
	        .resolver = d->cfg.dns_address,
	        .domain = d->cfg.domain,
	        .state_dir = d->cfg.state_dir,
	};
	int r = dnsconf_open(&c, &d->dnsconf);

	if (r < 0)
		log_errno(LOG_WARNING, r, "DNS: the system resolver is left alone");
}

/* The DNS server on the TUN; it logs its own failures. */
static int start_dns(struct daemon *d)
{
	struct dnsserver_io io = {
	        .loop = &d->loop,
	        .cfg = &d->cfg,
	        .mesh = d->mesh,
	        .idmap = d->idmap,
	        .tun = &d->tun,
	        .own_hit = d->hit,
	        .ctx = d,
	        .resolved = dns_resolved,
	};
	int r = dnsserver_new(&io, &d->dns);

	if (r < 0)
		return r;
	d->dp.io.dns = dnsserver_packet;
	d->dp.io.dns_ctx = d->dns;
	return 0;
}

static void roam_moved(void *ctx)
{
	struct daemon *d = ctx;

	if (d->stopping || d->left)
		return;
	mesh_republish_name(d->mesh); /* new address hints */
	if (d->pipes)
		pipes_moved(d->pipes, now_ms(d));
}

/* Mobility: our address changes are told to the peers. Without rtnetlink
 * notifications the daemon still works, it only does not follow moves. */
static void start_roam(struct daemon *d)
{
	struct roam_io io = {
	        .loop = &d->loop,
	        .hip = d->hip,
	        .tun_name = d->tun.name,
	        .port = d->udp.port,
	        .hip_changed = mesh_hip_changed,
	        .moved = roam_moved,
	        .ctx = d,
	};
	int r = roam_start(&io, &d->roam);

	if (r < 0)
		log_errno(LOG_WARNING, r, "address changes will not be followed");
}

/* Peer relays (docs/relay.md): before the privileges go, for [relay] port. */
static int start_relays(struct daemon *d)
{
	struct relays_io io = {
	        .loop = &d->loop,
	        .cfg = &d->cfg,
	        .hip = d->hip,
	        .mesh = d->mesh,
	        .pipes = d->pipes,
	        .self = d->hit,
	        .tun_name = d->tun.name,
	        .hip_changed = mesh_hip_changed,
	        .ctx = d,
	};

	return relays_start(&io, &d->relays);
}

/* idloc down: its answer is on the way; stop as on SIGTERM. */
static void ctl_shutdown(void *arg)
{
	struct daemon *d = arg;

	if (!d->stopping)
		begin_shutdown(d);
}

/* idloc leave: the overlay hands our records over and says goodbye, every
 * association gets a CLOSE, no new ones are taken, the routes into the TUN
 * become unreachable and keepalives stop, until idloc join. */
static int ctl_leave(void *arg)
{
	struct daemon *d = arg;
	int r;

	if (d->left)
		return 0;
	r = mesh_leave(d->mesh);
	if (r < 0 && r != -ENOTCONN)
		return r;
	hip_host_set_accepting(d->hip, false);
	close_all(d);
	d->left = true;
	r = routes_set(d, false);
	log_msg(LOG_NOTICE, "left the overlay: associations closed, routes unreachable");
	return r;
}

static int ctl_join(void *arg)
{
	struct daemon *d = arg;
	int r;

	if (d->left) {
		r = routes_set(d, true);
		if (r < 0)
			return r;
		hip_host_set_accepting(d->hip, true);
		d->left = false;
		log_msg(LOG_NOTICE, "joining the overlay again");
	}
	return mesh_join(d->mesh);
}

/* The control socket; ctl_start logs its own failures. */
static int start_ctl(struct daemon *d)
{
	struct ctl_handlers h;
	struct ctl_options o;

	d->answers = (struct answers){
	        .cfg = &d->cfg,
	        .id = d->id,
	        .hip = d->hip,
	        .peers = d->peers,
	        .idmap = d->idmap,
	        .pipes = d->pipes,
	        .relays = d->relays,
	        .mesh = d->mesh,
	        .pinger = d->pinger,
	        .dnsconf = d->dnsconf,
	        .started_s = mesh_clock_ms() / 1000,
	        .loop = &d->loop,
	        .log = d->log,
	        .shutdown = ctl_shutdown,
	        .shutdown_arg = d,
	        .leave = ctl_leave,
	        .join = ctl_join,
	};
	answers_handlers(&d->answers, &h);
	ctl_options_init(&o, d->cfg.control);
	o.domain = d->cfg.domain;
	return ctl_start(&d->loop, &o, &h, &d->ctl);
}

/* After start-up: the TUN, the sockets and the state directory are open, so
 * root (if we are) becomes [peer] user, and only CAP_NET_ADMIN is kept. What
 * the daemon writes later (the contact cache, the control socket's removal)
 * is handed to the user first. */
static int drop_privileges(struct daemon *d)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	char cache[CONFIG_PATH_MAX + 32], key[CONFIG_PATH_MAX + 32];
	char dir[CONFIG_SUN_PATH_MAX + 1], *slash;
	int r;

	if (d->cfg.user[0]) {
		r = privs_lookup(d->cfg.user, &uid, &gid);
		if (r < 0)
			return log_errno(LOG_ERR, r, "[peer] user '%s'", d->cfg.user);
		snprintf(cache, sizeof(cache), "%s/overlay.cache", d->cfg.state_dir);
		/* The key too: a later start as the user itself must read it. */
		snprintf(key, sizeof(key), "%s/" DAEMON_KEY_FILE, d->cfg.state_dir);
		snprintf(dir, sizeof(dir), "%s", d->cfg.control);
		slash = strrchr(dir, '/');
		if (slash && slash != dir)
			*slash = '\0';
		r = privs_hand_over(d->cfg.state_dir, uid, gid);
		if (r == 0 && access(cache, F_OK) == 0)
			r = privs_hand_over(cache, uid, gid);
		if (r == 0 && access(key, F_OK) == 0)
			r = privs_hand_over(key, uid, gid);
		if (r == 0)
			r = privs_hand_over(d->cfg.control, uid, gid);
		if (r == 0 && slash && slash != dir)
			r = privs_hand_over(dir, uid, gid);
		if (r < 0)
			return log_errno(LOG_ERR, r, "handing the state over to '%s'", d->cfg.user);
	}
	r = privs_drop(uid, gid);
	if (r < 0)
		return log_errno(LOG_ERR, r, "dropping privileges");
	log_msg(LOG_INFO, "running as uid %ld with CAP_NET_ADMIN only", (long)geteuid());
	return 0;
}

int daemon_new(const struct config *cfg, struct daemon **ret)
{
	struct daemon *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	d->rl_route = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	d->tun.fd = -1;
	d->udp.fd = -1;
	r = uv_loop_init(&d->loop);
	if (r < 0) {
		free(d);
		return -EIO;
	}
	d->loop_ready = true;
	r = answers_log_new(CTL_LOG_KEEP, &d->log);
	if (r < 0) {
		uv_loop_close(&d->loop);
		free(d);
		return r;
	}
	*ret = d;
	return 0;
}

int daemon_start(struct daemon *d)
{
	char err[CONFIG_ERR_MAX + CONFIG_PATH_MAX];
	char h[HIT_STRLEN];
	int r;

	r = daemon_load_identity(&d->cfg, &d->id, err, sizeof(err));
	if (r < 0) {
		log_msg(LOG_ERR, "%s", err);
		return r;
	}
	d->hit = *identity_hit(d->id);
	log_msg(LOG_NOTICE, "idlocd %s starting, HIT %s", IDLOC_VERSION, hit_format(&d->hit, h));

	r = open_keylog(d);
	if (r < 0)
		goto err_identity;
	r = start_idmap(d);
	if (r < 0)
		goto err_keylog;
	r = open_tun(d);
	if (r < 0)
		goto err_keylog;
	r = open_udp(d);
	if (r < 0)
		goto err_tun;
	r = peers_new(&d->peers);
	if (r < 0)
		goto err_udp;
	r = start_engine(d);
	if (r < 0)
		goto err_peers;
	r = start_pipes(d);
	if (r < 0)
		goto err_hip;
	r = start_mesh(d);
	if (r < 0)
		goto err_pipes;
	r = start_pinger(d);
	if (r < 0)
		goto err_mesh;
	open_dnsconf(d); /* before the forwarder reads resolv.conf */
	r = start_dns(d);
	if (r < 0)
		goto err_mesh;
	r = start_handles(d);
	if (r < 0)
		goto err_mesh;
	r = mesh_start(d->mesh);
	if (r < 0)
		goto err_handles;
	r = start_relays(d);
	if (r < 0)
		goto err_handles;
	r = start_ctl(d);
	if (r < 0)
		goto err_handles;
	r = drop_privileges(d);
	if (r < 0)
		goto err_ctl;
	(void)dnsconf_start(d->dnsconf, &d->loop); /* after the drop: it starts threads */
	start_roam(d);
	hip_rearm(d);
	return 0;

err_ctl:
	ctl_stop(d->ctl);
	d->ctl = NULL;
err_handles:
	pinger_stop(d->pinger);
	mesh_stop(d->mesh);
	close_handles(d);
	uv_run(&d->loop, UV_RUN_DEFAULT); /* completes the closes */
err_mesh:
	dnsserver_stop(d->dns);
	d->mesh = mesh_free(d->mesh);
	d->pinger = pinger_free(d->pinger);
	d->dns = dnsserver_free(d->dns);
err_pipes:
	stop_pipes(d);
	uv_run(&d->loop, UV_RUN_DEFAULT); /* completes the closes */
err_hip:
	d->hip = hip_host_free(d->hip);
err_peers:
	d->peers = peers_free(d->peers);
err_udp:
	udp_batch_done(&d->batch);
	udp_close(&d->udp);
err_tun:
	/* Not persistent: closing the fd deletes the device, address and route. */
	tun_close(&d->tun);
err_keylog:
	d->idmap = idmap_free(d->idmap);
	d->keylog = keylog_free(d->keylog);
err_identity:
	d->id = identity_free(d->id);
	return r;
}

int daemon_run(struct daemon *d)
{
	int r;

	uv_run(&d->loop, UV_RUN_DEFAULT);
	/* Everything below runs with the handles closed. */
	datapath_done(&d->dp); /* the crypto worker goes before the SAs it reads */
	d->mesh = mesh_free(d->mesh);
	d->pinger = pinger_free(d->pinger);
	d->dns = dnsserver_free(d->dns); /* after the overlay: no lookup can end now */
	d->hip = hip_host_free(d->hip);  /* DESTROYED events drop the peers */
	d->peers = peers_free(d->peers);
	udp_batch_done(&d->batch);
	udp_close(&d->udp);
	tun_close(&d->tun);
	d->idmap = idmap_free(d->idmap);
	d->keylog = keylog_free(d->keylog);
	d->id = identity_free(d->id);
	r = uv_loop_close(&d->loop);
	d->loop_ready = false;
	if (r < 0) {
		log_msg(LOG_ERR, "event loop did not close cleanly: %s", uv_strerror(r));
		return -EBUSY;
	}
	log_msg(LOG_NOTICE, "stopped");
	return 0;
}

struct daemon *daemon_free(struct daemon *d)
{
	if (!d)
		return NULL;
	if (d->loop_ready) {
		ctl_stop(d->ctl);
		d->ctl = NULL;
		pinger_stop(d->pinger);
		mesh_stop(d->mesh);
		close_handles(d);
		uv_run(&d->loop, UV_RUN_DEFAULT);
		datapath_done(&d->dp);
		(void)uv_loop_close(&d->loop);
	}
	d->mesh = mesh_free(d->mesh);
	d->pinger = pinger_free(d->pinger);
	d->dns = dnsserver_free(d->dns);
	d->hip = hip_host_free(d->hip);
	d->peers = peers_free(d->peers);
	udp_batch_done(&d->batch);
	udp_close(&d->udp);
	tun_close(&d->tun);
	d->idmap = idmap_free(d->idmap);
	d->keylog = keylog_free(d->keylog);
	d->id = identity_free(d->id);
	d->log = answers_log_free(d->log);
	memzero(d, sizeof(*d));
	free(d);
	return NULL;
}
