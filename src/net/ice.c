/* SPDX-License-Identifier: MIT */
/* ice.c: a libnice agent per peer association: one stream, one UDP component,
 * RFC 5245 mode, credentials from the caller, candidates filtered so our own
 * TUN's addresses never take part. */
#include "net/ice.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <nice/agent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/bytes.h"
#include "common/hit.h"
#include "net/gloop.h"

#define ICE_COMPONENT 1
#define ICE_MAX_LOCAL 64 /* local addresses handed to libnice */

struct ice_relay {
	char host[INET6_ADDRSTRLEN];
	uint16_t port;
	char *user, *pass;
};

struct ice {
	struct gloop *g;
	GMainContext *ctx;
	NiceAgent *agent;
	guint sid;
	const struct ice_ops *ops;
	void *cbctx;
	enum ice_state state;
	bool gathered;
	bool remote_set;
	bool have_path;
	struct ice_path path;
	/* A selected pair without TURN: its socket, to send on directly (libnice
	 * only reads it); NULL for a relayed pair, which needs libnice's framing. */
	GSocket *direct;
	unsigned busy; /* inside an API call that can run callbacks */
	bool doomed;   /* ice_free ran during such a call */

	/* The configuration, copied. */
	bool controlling, allow_loopback;
	bool has_stun;
	char stun_host[INET6_ADDRSTRLEN];
	uint16_t stun_port;
	struct ice_relay *turn;
	size_t n_turn;
	uint16_t port_min, port_max;
	struct sockaddr_storage *local_addrs;
	size_t n_local_addrs;
	char (*ifnames)[IFNAMSIZ];
	size_t n_ifnames;
	struct ice_prefix *prefixes;
	size_t n_prefixes;
	unsigned rto_ms, retransmissions, idle_ms;
};

_Static_assert(ICE_KIND_HOST == (int)NICE_CANDIDATE_TYPE_HOST &&
                       ICE_KIND_SRFLX == (int)NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE &&
                       ICE_KIND_PRFLX == (int)NICE_CANDIDATE_TYPE_PEER_REFLEXIVE &&
                       ICE_KIND_RELAY == (int)NICE_CANDIDATE_TYPE_RELAYED,
               "RFC 5770 kinds and libnice candidate types share one numbering");

static const char *const kind_names[] = {"host", "srflx", "prflx", "relay"};

const char *ice_kind_name(enum ice_kind k)
{
	return (unsigned)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

const char *ice_state_name(enum ice_state s)
{
	static const char *const names[] = {"new",      "gathering", "gathered",
	                                    "checking", "connected", "failed"};

	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}

int ice_cred_check(const char *s, size_t min)
{
	size_t n;

	if (!s)
		return -EINVAL;
	n = strnlen(s, ICE_CRED_MAX + 1);
	if (n < min || n > ICE_CRED_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/'))
			return -EINVAL;
	}
	return 0;
}

/* ---- address filters ---- */

static bool prefix_match(const uint8_t *a, const uint8_t *p, unsigned len)
{
	unsigned bytes = len / 8, bits = len % 8;

	if (memcmp(a, p, bytes) != 0)
		return false;
	if (!bits)
		return true;
	return ((a[bytes] ^ p[bytes]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

static bool v4_excluded(const struct ice *ice, const uint8_t a[4])
{
	if (a[0] == 0 || a[0] >= 224)
		return true; /* "this network", multicast, reserved, broadcast */
	if (a[0] == 127 && !ice->allow_loopback)
		return true;
	return false;
}

static bool v6_excluded(const struct ice *ice, const uint8_t a[16])
{
	static const uint8_t unspecified[16], loopback[16] = {[15] = 1};
	struct hit h;

	if (memcmp(a, unspecified, 16) == 0 || a[0] == 0xff)
		return true;
	if (memcmp(a, loopback, 16) == 0 && !ice->allow_loopback)
		return true;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return true; /* link-local: needs a scope, never crosses a router */
	memcpy(h.b, a, sizeof(h.b));
	return hit_is_orchid(&h); /* our own TUN's HIT, or a peer's */
}

/* True when the address must not be a candidate (local or remote). sa is
 * canonical: IPv4 is AF_INET, never IPv4-mapped. */
static bool addr_excluded(const struct ice *ice, const struct sockaddr *sa)
{
	const uint8_t *a;
	int family = sa->sa_family;

	if (family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		if (v4_excluded(ice, a))
			return true;
	} else if (family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (v6_excluded(ice, a))
			return true;
	} else {
		return true;
	}
	for (size_t i = 0; i < ice->n_prefixes; i++)
		if (ice->prefixes[i].family == family &&
		    prefix_match(a, ice->prefixes[i].addr, ice->prefixes[i].len))
			return true;
	return false;
}

/* Validates and canonicalises an address with its length: IPv4-mapped IPv6
 * becomes AF_INET. -EINVAL for anything that is not IPv4 or IPv6. */
static int addr_canonical(const struct sockaddr_storage *in, socklen_t len,
                          struct sockaddr_storage *out, socklen_t *out_len)
{
	memset(out, 0, sizeof(*out));
	if (in->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)in;
		struct sockaddr_in *d = (struct sockaddr_in *)out;

		d->sin_family = AF_INET;
		d->sin_port = s->sin_port;
		d->sin_addr = s->sin_addr;
		*out_len = sizeof(*d);
		return 0;
	}
	if (in->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)in;

		if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) {
			struct sockaddr_in *d = (struct sockaddr_in *)out;

			d->sin_family = AF_INET;
			d->sin_port = s->sin6_port;
			memcpy(&d->sin_addr, s->sin6_addr.s6_addr + 12, 4);
			*out_len = sizeof(*d);
		} else {
			struct sockaddr_in6 *d = (struct sockaddr_in6 *)out;

			d->sin6_family = AF_INET6;
			d->sin6_port = s->sin6_port;
			d->sin6_addr = s->sin6_addr;
			*out_len = sizeof(*d);
		}
		return 0;
	}
	return -EINVAL;
}

static uint16_t addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static socklen_t family_len(int family)
{
	return family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* ---- configuration copy ---- */

static bool numeric_addr(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	return s && (inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1);
}

static void conf_release(struct ice *ice)
{
	for (size_t i = 0; i < ice->n_turn; i++) {
		if (ice->turn[i].pass) {
			memzero(ice->turn[i].pass, strlen(ice->turn[i].pass));
			free(ice->turn[i].pass);
		}
		free(ice->turn[i].user);
	}
	free(ice->turn);
	free(ice->local_addrs);
	free(ice->ifnames);
	free(ice->prefixes);
}

static int conf_copy_turn(struct ice *ice, const struct ice_config *cfg)
{
	if (!cfg->n_turn)
		return 0;
	if (!cfg->turn)
		return -EINVAL;
	ice->turn = calloc(cfg->n_turn, sizeof(*ice->turn));
	if (!ice->turn)
		return -ENOMEM;
	ice->n_turn = cfg->n_turn;
	for (size_t i = 0; i < cfg->n_turn; i++) {
		const struct ice_turn *t = &cfg->turn[i];

		if (!numeric_addr(t->host) || !t->port || !t->user || !t->pass)
			return -EINVAL;
		snprintf(ice->turn[i].host, sizeof(ice->turn[i].host), "%s", t->host);
		ice->turn[i].port = t->port;
		ice->turn[i].user = strdup(t->user);
		ice->turn[i].pass = strdup(t->pass);
		if (!ice->turn[i].user || !ice->turn[i].pass)
			return -ENOMEM;
	}
	return 0;
}

static int conf_copy_lists(struct ice *ice, const struct ice_config *cfg)
{
	if ((cfg->n_local_addrs && !cfg->local_addrs) ||
	    (cfg->n_ignore_ifnames && !cfg->ignore_ifnames) ||
	    (cfg->n_ignore_prefixes && !cfg->ignore_prefixes) || cfg->n_local_addrs > ICE_MAX_LOCAL)
		return -EINVAL;
	if (cfg->n_local_addrs) {
		ice->local_addrs = calloc(cfg->n_local_addrs, sizeof(*ice->local_addrs));
		if (!ice->local_addrs)
			return -ENOMEM;
		for (size_t i = 0; i < cfg->n_local_addrs; i++) {
			socklen_t len;

			if (addr_canonical(&cfg->local_addrs[i], sizeof(cfg->local_addrs[i]),
			                   &ice->local_addrs[i], &len) < 0)
				return -EINVAL;
		}
		ice->n_local_addrs = cfg->n_local_addrs;
	}
	if (cfg->n_ignore_ifnames) {
		ice->ifnames = calloc(cfg->n_ignore_ifnames, sizeof(*ice->ifnames));
		if (!ice->ifnames)
			return -ENOMEM;
		for (size_t i = 0; i < cfg->n_ignore_ifnames; i++) {
			const char *n = cfg->ignore_ifnames[i];

			if (!n || !*n || strlen(n) >= IFNAMSIZ)
				return -EINVAL;
			memcpy(ice->ifnames[i], n, strlen(n) + 1);
		}
		ice->n_ifnames = cfg->n_ignore_ifnames;
	}
	if (cfg->n_ignore_prefixes) {
		ice->prefixes = calloc(cfg->n_ignore_prefixes, sizeof(*ice->prefixes));
		if (!ice->prefixes)
			return -ENOMEM;
		for (size_t i = 0; i < cfg->n_ignore_prefixes; i++) {
			const struct ice_prefix *p = &cfg->ignore_prefixes[i];

			if (!((p->family == AF_INET && p->len <= 32) ||
			      (p->family == AF_INET6 && p->len <= 128)))
				return -EINVAL;
			ice->prefixes[i] = *p;
		}
		ice->n_prefixes = cfg->n_ignore_prefixes;
	}
	return 0;
}

static int conf_copy(struct ice *ice, const struct ice_config *cfg)
{
	int e;

	ice->controlling = cfg->controlling;
	ice->allow_loopback = cfg->allow_loopback;
	if (cfg->stun_host) {
		if (!numeric_addr(cfg->stun_host))
			return -EINVAL;
		ice->has_stun = true;
		snprintf(ice->stun_host, sizeof(ice->stun_host), "%s", cfg->stun_host);
		ice->stun_port = cfg->stun_port ? cfg->stun_port : 3478;
	}
	if ((cfg->port_min || cfg->port_max) &&
	    (!cfg->port_min || !cfg->port_max || cfg->port_min > cfg->port_max))
		return -EINVAL;
	ice->port_min = cfg->port_min;
	ice->port_max = cfg->port_max;
	ice->rto_ms = cfg->stun_initial_timeout_ms;
	ice->retransmissions = cfg->stun_max_retransmissions;
	ice->idle_ms = cfg->idle_timeout_ms;
	e = conf_copy_turn(ice, cfg);
	if (e < 0)
		return e;
	return conf_copy_lists(ice, cfg);
}

/* ---- libnice callbacks ---- */

static void fill_path(struct ice_path *p, const NiceCandidate *l, const NiceCandidate *r)
{
	memset(p, 0, sizeof(*p));
	nice_address_copy_to_sockaddr(&l->addr, (struct sockaddr *)&p->local);
	nice_address_copy_to_sockaddr(&r->addr, (struct sockaddr *)&p->remote);
	p->local_len = family_len(p->local.ss_family);
	p->remote_len = family_len(p->remote.ss_family);
	p->local_kind = (enum ice_kind)l->type;
	p->remote_kind = (enum ice_kind)r->type;
	if (l->type == NICE_CANDIDATE_TYPE_RELAYED || r->type == NICE_CANDIDATE_TYPE_RELAYED)
		p->type = ice_kind_name(ICE_KIND_RELAY);
	else
		p->type = ice_kind_name(p->remote_kind);
}

/* libnice's sockets keep the system's default buffers (about 200 kB): a
 * burst of ESP overflows them and TCP inside sees loss. The selected pair's
 * socket gets the daemon socket's size; FORCE needs CAP_NET_ADMIN, which
 * the daemon keeps, else the sysctl limits apply. */
static void take_socket(struct ice *ice, bool relayed)
{
	static const int size = ICE_SOCKET_BUFFER;
	GSocket *gs = nice_agent_get_selected_socket(ice->agent, ice->sid, ICE_COMPONENT);
	int fd;

	if (ice->direct)
		g_object_unref(ice->direct);
	ice->direct = NULL;
	if (!gs)
		return;
	fd = g_socket_get_fd(gs);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (relayed)
		g_object_unref(gs);
	else
		ice->direct = gs;
}

/* Every handler calls into ops as its last action: the callback may free the
 * ice. The path goes out as a copy for the same reason. */
static void report_selected(struct ice *ice, const NiceCandidate *l, const NiceCandidate *r)
{
	struct ice_path path;

	take_socket(ice, l->type == NICE_CANDIDATE_TYPE_RELAYED);
	fill_path(&ice->path, l, r);
	ice->have_path = true;
	ice->state = ICE_STATE_CONNECTED;
	path = ice->path;
	if (ice->ops->selected)
		ice->ops->selected(ice->cbctx, &path);
}

static void on_gathering_done(NiceAgent *agent, guint sid, gpointer data)
{
	struct ice *ice = data;

	(void)agent;
	if (sid != ice->sid || ice->gathered)
		return;
	ice->gathered = true;
	if (ice->state == ICE_STATE_GATHERING)
		ice->state = ice->remote_set ? ICE_STATE_CHECKING : ICE_STATE_GATHERED;
	if (ice->ops->gathered)
		ice->ops->gathered(ice->cbctx);
}

static void on_selected_pair(NiceAgent *agent, guint sid, guint cid, NiceCandidate *l,
                             NiceCandidate *r, gpointer data)
{
	struct ice *ice = data;

	(void)agent;
	if (sid != ice->sid || cid != ICE_COMPONENT || !l || !r)
		return;
	report_selected(ice, l, r);
}

static void on_component_state(NiceAgent *agent, guint sid, guint cid, guint state, gpointer data)
{
	struct ice *ice = data;
	NiceCandidate *l, *r;

	if (sid != ice->sid || cid != ICE_COMPONENT)
		return;
	if (state == NICE_COMPONENT_STATE_FAILED) {
		if (ice->state == ICE_STATE_FAILED)
			return;
		ice->state = ICE_STATE_FAILED;
		ice->have_path = false;
		if (ice->ops->failed)
			ice->ops->failed(ice->cbctx);
		return;
	}
	/* A pair that comes back after a failure is reported again; in the
	 * normal order new-selected-pair has already done it. */
	if ((state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY) &&
	    ice->state != ICE_STATE_CONNECTED &&
	    nice_agent_get_selected_pair(agent, sid, cid, &l, &r))
		report_selected(ice, l, r);
}

static void on_recv(NiceAgent *agent, guint sid, guint cid, guint len, gchar *buf, gpointer data)
{
	struct ice *ice = data;

	(void)agent;
	(void)sid;
	(void)cid;
	if (ice->ops->recv)
		ice->ops->recv(ice->cbctx, (const uint8_t *)buf, len);
}

/* ---- the agent ---- */

static void agent_drop(struct ice *ice)
{
	if (!ice->agent)
		return;
	g_signal_handlers_disconnect_by_data(ice->agent, ice);
	if (ice->direct)
		g_object_unref(ice->direct);
	ice->direct = NULL;
	/* The sockets close below: their polls must stop while the fd numbers
	 * are still theirs (platform-notes, libnice pitfall 4). */
	gloop_release_fds(ice->g);
	nice_agent_remove_stream(ice->agent, ice->sid);
	g_object_unref(ice->agent);
	ice->agent = NULL;
	ice->sid = 0;
	ice->gathered = false;
	ice->remote_set = false;
	ice->have_path = false;
}

static int agent_apply_servers(struct ice *ice)
{
	if (ice->has_stun)
		g_object_set(ice->agent, "stun-server", ice->stun_host, "stun-server-port",
		             (guint)ice->stun_port, NULL);
	if (ice->port_min)
		nice_agent_set_port_range(ice->agent, ice->sid, ICE_COMPONENT, ice->port_min,
		                          ice->port_max);
	for (size_t i = 0; i < ice->n_turn; i++)
		if (!nice_agent_set_relay_info(ice->agent, ice->sid, ICE_COMPONENT,
		                               ice->turn[i].host, ice->turn[i].port,
		                               ice->turn[i].user, ice->turn[i].pass,
		                               NICE_RELAY_TYPE_TURN_UDP))
			return -EINVAL;
	return 0;
}

static int agent_make(struct ice *ice, const char *ufrag, const char *pwd)
{
	int e;

	ice->agent =
	        nice_agent_new_full(ice->ctx, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_NONE);
	if (!ice->agent)
		return -ENOMEM;
	/* UDP only, no UPnP (it would multicast SSDP on the LAN). Keepalives as
	 * binding requests that need answers, so a dead pair ends in FAILED;
	 * libnice's default (indications) never notices. */
	g_object_set(ice->agent, "controlling-mode", (gboolean)ice->controlling, "ice-tcp", FALSE,
	             "ice-udp", TRUE, "upnp", FALSE, "keepalive-conncheck", TRUE, NULL);
	if (ice->rto_ms)
		g_object_set(ice->agent, "stun-initial-timeout", (guint)ice->rto_ms, NULL);
	if (ice->retransmissions)
		g_object_set(ice->agent, "stun-max-retransmissions", (guint)ice->retransmissions,
		             NULL);
	if (ice->idle_ms)
		g_object_set(ice->agent, "idle-timeout", (guint)ice->idle_ms, NULL);
	ice->sid = nice_agent_add_stream(ice->agent, 1);
	if (!ice->sid) {
		g_object_unref(ice->agent);
		ice->agent = NULL;
		return -ENOMEM;
	}
	g_signal_connect(ice->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done),
	                 ice);
	g_signal_connect(ice->agent, "new-selected-pair-full", G_CALLBACK(on_selected_pair), ice);
	g_signal_connect(ice->agent, "component-state-changed", G_CALLBACK(on_component_state),
	                 ice);
	e = -EINVAL;
	if (!nice_agent_set_local_credentials(ice->agent, ice->sid, ufrag, pwd))
		goto fail;
	e = agent_apply_servers(ice);
	if (e < 0)
		goto fail;
	/* Before gathering: until then the socket sources live in a private
	 * context nobody iterates (platform-notes, libnice pitfall 1). */
	e = -EIO;
	if (!nice_agent_attach_recv(ice->agent, ice->sid, ICE_COMPONENT, ice->ctx, on_recv, ice))
		goto fail;
	ice->state = ICE_STATE_NEW;
	return 0;
fail:
	agent_drop(ice);
	return e;
}

static void destroy(struct ice *ice)
{
	agent_drop(ice);
	conf_release(ice);
	free(ice);
}

/* API calls that can run callbacks hold the ice: an ice_free from inside such
 * a callback is finished when the call returns. */
static void hold(struct ice *ice)
{
	ice->busy++;
}

/* False when the ice is gone. */
static bool unhold(struct ice *ice)
{
	if (--ice->busy == 0 && ice->doomed) {
		destroy(ice);
		return false;
	}
	return true;
}

int ice_new(struct gloop *g, const struct ice_config *cfg, const struct ice_ops *ops, void *ctx,
            struct ice **ret)
{
	struct ice *ice;
	int e;

	if (!g || !cfg || !ops || !ret || ice_cred_check(cfg->ufrag, ICE_UFRAG_MIN) < 0 ||
	    ice_cred_check(cfg->pwd, ICE_PWD_MIN) < 0)
		return -EINVAL;
	ice = calloc(1, sizeof(*ice));
	if (!ice)
		return -ENOMEM;
	ice->g = g;
	ice->ctx = gloop_context(g);
	ice->ops = ops;
	ice->cbctx = ctx;
	e = conf_copy(ice, cfg);
	if (e == 0)
		e = agent_make(ice, cfg->ufrag, cfg->pwd);
	if (e < 0) {
		destroy(ice);
		return e;
	}
	*ret = ice;
	return 0;
}

void ice_free(struct ice *ice)
{
	static const struct ice_ops silent;

	if (!ice)
		return;
	if (ice->busy) {
		ice->doomed = true;
		ice->ops = &silent;
		return;
	}
	destroy(ice);
}

/* ---- gathering ---- */

static bool ifname_ignored(const struct ice *ice, const char *name)
{
	for (size_t i = 0; i < ice->n_ifnames; i++)
		if (strcmp(ice->ifnames[i], name) == 0)
			return true;
	return false;
}

static bool seen(const struct sockaddr_storage *list, size_t n, const struct sockaddr_storage *a)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i].ss_family != a->ss_family)
			continue;
		if (a->ss_family == AF_INET &&
		    ((const struct sockaddr_in *)&list[i])->sin_addr.s_addr ==
		            ((const struct sockaddr_in *)a)->sin_addr.s_addr)
			return true;
		if (a->ss_family == AF_INET6 &&
		    memcmp(&((const struct sockaddr_in6 *)&list[i])->sin6_addr,
		           &((const struct sockaddr_in6 *)a)->sin6_addr, 16) == 0)
			return true;
	}
	return false;
}

/* The host addresses to gather on: the configured list, or every address of
 * every interface that is up, minus the exclusions. */
static int local_addresses(const struct ice *ice, struct sockaddr_storage *out, size_t cap,
                           size_t *n)
{
	struct ifaddrs *ifa, *i;

	*n = 0;
	if (ice->n_local_addrs) {
		for (size_t k = 0; k < ice->n_local_addrs && *n < cap; k++) {
			const struct sockaddr_storage *a = &ice->local_addrs[k];

			if (!addr_excluded(ice, (const struct sockaddr *)a) && !seen(out, *n, a))
				out[(*n)++] = *a;
		}
		return 0;
	}
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i && *n < cap; i = i->ifa_next) {
		struct sockaddr_storage raw, a;
		socklen_t len;

		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || ifname_ignored(ice, i->ifa_name))
			continue;
		if ((i->ifa_flags & IFF_LOOPBACK) && !ice->allow_loopback)
			continue;
		if (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6)
			continue;
		/* addr_canonical clears its output first: not in place. */
		memset(&raw, 0, sizeof(raw));
		memcpy(&raw, i->ifa_addr, family_len(i->ifa_addr->sa_family));
		if (addr_canonical(&raw, family_len(raw.ss_family), &a, &len) < 0)
			continue;
		if (!addr_excluded(ice, (const struct sockaddr *)&a) && !seen(out, *n, &a))
			out[(*n)++] = a;
	}
	freeifaddrs(ifa);
	return 0;
}

static int gather(struct ice *ice)
{
	struct sockaddr_storage addrs[ICE_MAX_LOCAL];
	size_t n;
	int e;

	if (ice->state != ICE_STATE_NEW || !ice->agent)
		return -EALREADY;
	e = local_addresses(ice, addrs, ARRAY_SIZE(addrs), &n);
	if (e < 0)
		return e;
	if (!n)
		return -EADDRNOTAVAIL; /* libnice would pick every interface itself */
	for (size_t i = 0; i < n; i++) {
		NiceAddress na;

		nice_address_init(&na);
		nice_address_set_from_sockaddr(&na, (const struct sockaddr *)&addrs[i]);
		nice_address_set_port(&na, 0);
		if (!nice_agent_add_local_address(ice->agent, &na))
			return -EINVAL;
	}
	ice->state = ICE_STATE_GATHERING;
	if (!nice_agent_gather_candidates(ice->agent, ice->sid)) {
		ice->state = ICE_STATE_NEW;
		return -EADDRINUSE; /* no socket could be bound (port range) */
	}
	return 0;
}

int ice_gather(struct ice *ice)
{
	int e;

	hold(ice);
	e = gather(ice);
	unhold(ice);
	return e;
}

/* Keeps the cap best candidates in out[0..*k), best first. */
static void insert_sorted(struct ice_candidate *out, size_t cap, size_t *k,
                          const struct ice_candidate *c)
{
	size_t pos = *k;

	while (pos > 0 && out[pos - 1].priority < c->priority)
		pos--;
	if (pos >= cap)
		return;
	if (*k < cap)
		(*k)++;
	memmove(&out[pos + 1], &out[pos], (*k - 1 - pos) * sizeof(*out));
	out[pos] = *c;
}

size_t ice_local_candidates(const struct ice *ice, struct ice_candidate *out, size_t cap)
{
	GSList *list, *l;
	size_t k = 0;

	if (!ice->gathered || !cap)
		return 0;
	list = nice_agent_get_local_candidates(ice->agent, ice->sid, ICE_COMPONENT);
	for (l = list; l; l = l->next) {
		const NiceCandidate *nc = l->data;
		struct ice_candidate c;

		if (nc->transport != NICE_CANDIDATE_TRANSPORT_UDP ||
		    (unsigned)nc->type > ICE_KIND_RELAY)
			continue;
		memset(&c, 0, sizeof(c));
		c.kind = (enum ice_kind)nc->type;
		nice_address_copy_to_sockaddr(&nc->addr, (struct sockaddr *)&c.addr);
		c.addrlen = family_len(c.addr.ss_family);
		c.priority = nc->priority;
		insert_sorted(out, cap, &k, &c);
	}
	g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
	return k;
}

/* ---- remote side ---- */

/* RFC 5770 LOCATOR entries carry no foundation. ICE uses foundations to
 * freeze pairs that probably share a fate: same type, same base, same
 * server. The receiver cannot see the base, so the closest stand-in is the
 * kind and the IP address (not the port): deterministic, and the same on
 * every call for the same candidate. */
static void remote_foundation(const struct ice_candidate *c,
                              char out[NICE_CANDIDATE_MAX_FOUNDATION])
{
	uint8_t b[16] = {0};
	uint64_t h;

	if (c->addr.ss_family == AF_INET)
		memcpy(b, &((const struct sockaddr_in *)&c->addr)->sin_addr, 4);
	else
		memcpy(b, &((const struct sockaddr_in6 *)&c->addr)->sin6_addr, 16);
	h = mix64(((uint64_t)c->addr.ss_family << 8) | (uint64_t)c->kind);
	h = mix64(h ^ load_be64(b));
	h = mix64(h ^ load_be64(b + 8));
	snprintf(out, NICE_CANDIDATE_MAX_FOUNDATION, "%u%012" PRIx64, (unsigned)c->kind,
	         (uint64_t)(h & 0xffffffffffffull));
}

static NiceCandidate *remote_candidate(const struct ice *ice, const struct ice_candidate *in)
{
	struct ice_candidate c;
	NiceCandidate *nc;

	if ((unsigned)in->kind > ICE_KIND_RELAY || !in->priority)
		return NULL;
	c = *in;
	if (addr_canonical(&in->addr, in->addrlen, &c.addr, &c.addrlen) < 0)
		return NULL;
	if (!addr_port(&c.addr) || addr_excluded(ice, (const struct sockaddr *)&c.addr))
		return NULL;
	nc = nice_candidate_new((NiceCandidateType)c.kind);
	if (!nc)
		return NULL;
	nc->transport = NICE_CANDIDATE_TRANSPORT_UDP;
	nc->stream_id = ice->sid;
	nc->component_id = ICE_COMPONENT;
	nc->priority = c.priority;
	nice_address_set_from_sockaddr(&nc->addr, (const struct sockaddr *)&c.addr);
	remote_foundation(&c, nc->foundation);
	return nc;
}

static int set_remote(struct ice *ice, const char *ufrag, const char *pwd,
                      const struct ice_candidate *cands, size_t n)
{
	GSList *list = NULL;
	int used = 0;

	if (!ice->agent || ice->state == ICE_STATE_NEW)
		return -EINVAL; /* gather first: the checks need local candidates */
	if (ice_cred_check(ufrag, ICE_UFRAG_MIN) < 0 || ice_cred_check(pwd, ICE_PWD_MIN) < 0 ||
	    n > ICE_MAX_CANDIDATES || (n && !cands))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		NiceCandidate *nc = remote_candidate(ice, &cands[i]);

		if (nc)
			list = g_slist_prepend(list, nc);
	}
	if (!nice_agent_set_remote_credentials(ice->agent, ice->sid, ufrag, pwd)) {
		g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
		return -EINVAL;
	}
	ice->remote_set = true;
	if (ice->gathered && ice->state == ICE_STATE_GATHERED)
		ice->state = ICE_STATE_CHECKING;
	if (list) {
		list = g_slist_reverse(list);
		used = nice_agent_set_remote_candidates(ice->agent, ice->sid, ICE_COMPONENT, list);
		g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
		if (used < 0)
			return -EIO;
	}
	return used;
}

int ice_set_remote(struct ice *ice, const char *ufrag, const char *pwd,
                   const struct ice_candidate *cands, size_t n)
{
	int e;

	hold(ice);
	e = set_remote(ice, ufrag, pwd, cands, n);
	unhold(ice);
	return e;
}

/* ---- data ---- */

int ice_send(struct ice *ice, const uint8_t *data, size_t len)
{
	GOutputVector v = {.buffer = data, .size = len};
	NiceOutputMessage m = {.buffers = &v, .n_buffers = 1};
	GError *err = NULL;
	gint n;
	int e;

	if (ice->state != ICE_STATE_CONNECTED)
		return -ENOTCONN;
	if (ice->direct) {
		/* Sending on libnice's socket is safe; reading it is libnice's. */
		ssize_t w =
		        sendto(g_socket_get_fd(ice->direct), data, len, MSG_DONTWAIT,
		               (const struct sockaddr *)&ice->path.remote, ice->path.remote_len);

		if (w == (ssize_t)len)
			return 0;
		if (w < 0 && errno == EAGAIN) /* EWOULDBLOCK on Linux */
			return -EAGAIN;
		return w < 0 && errno == EMSGSIZE ? -EMSGSIZE : -EIO;
	}
	n = nice_agent_send_messages_nonblocking(ice->agent, ice->sid, ICE_COMPONENT, &m, 1, NULL,
	                                         &err);
	if (n == 1)
		return 0;
	if (n == 0)
		return -EAGAIN;
	if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
		e = -EAGAIN;
	else if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
		e = -ENOTCONN;
	else if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE))
		e = -EMSGSIZE;
	else
		e = -EIO;
	g_clear_error(&err);
	return e;
}

/* ---- restart and status ---- */

int ice_restart(struct ice *ice, const char *ufrag, const char *pwd)
{
	int e;

	if (ice_cred_check(ufrag, ICE_UFRAG_MIN) < 0 || ice_cred_check(pwd, ICE_PWD_MIN) < 0)
		return -EINVAL;
	hold(ice);
	agent_drop(ice);
	e = agent_make(ice, ufrag, pwd);
	if (e == 0)
		e = gather(ice);
	if (e < 0)
		ice->state = ICE_STATE_FAILED;
	unhold(ice);
	return e;
}

enum ice_state ice_state(const struct ice *ice)
{
	return ice->state;
}

int ice_selected_path(const struct ice *ice, struct ice_path *ret)
{
	if (ice->state != ICE_STATE_CONNECTED || !ice->have_path)
		return -ENOTCONN;
	*ret = ice->path;
	return 0;
}
