/* SPDX-License-Identifier: MIT */
/* answers.c: the daemon's answers to control requests. */
#include "daemon/answers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idloc/ctl.h"
#include "common/ctl_proto.h"
#include "common/hit.h"
#include "common/log.h"
#include "crypto/identity.h"
#include "daemon/config.h"
#include "daemon/dnsconf.h"
#include "daemon/hints.h"
#include "daemon/idmap.h"
#include "daemon/locator.h"
#include "daemon/mesh.h"
#include "daemon/netcheck.h"
#include "daemon/peers.h"
#include "daemon/pinger.h"
#include "daemon/pipes.h"
#include "daemon/relays.h"
#include "hip/bex.h"
#include "net/udp.h"
#include "overlay/node.h"

static uint64_t wall_s(void)
{
	return (uint64_t)time(NULL);
}

static json_t *hit_json(const struct hit *h)
{
	char s[HIT_STRLEN];

	return json_string(hit_format(h, s));
}

static json_t *ipv4_json(uint32_t host_order)
{
	struct in_addr in = {.s_addr = htonl(host_order)};
	char s[INET_ADDRSTRLEN];

	return json_string(inet_ntop(AF_INET, &in, s, sizeof(s)) ? s : "");
}

static int set(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
}

static json_t *str_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

/* {serving, using}: "ip:port" of the relay we serve and of the one we use. */
static json_t *relay_json(const struct relays *rl)
{
	struct relays_status st;
	json_t *o = json_object();

	if (!o)
		return NULL;
	relays_status(rl, &st);
	if (set(o, "serving", str_or_null(st.serving)) | set(o, "using", str_or_null(st.using))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int answer_status(void *ctx, json_t *result)
{
	struct answers *a = ctx;
	json_t *ovl = json_object(), *dns = json_object();
	int r = 0;

	if (!ovl || !dns) {
		json_decref(ovl);
		json_decref(dns);
		return -ENOMEM;
	}
	r |= set(result, "name", json_string(a->cfg->name));
	r |= set(result, "fqdn", json_string(mesh_fqdn(a->mesh)));
	r |= set(result, "hit", hit_json(identity_hit(a->id)));
	r |= set(result, "lsi", ipv4_json(idmap_self(a->idmap)->lsi));
	r |= set(result, "resolver", ipv4_json(a->cfg->dns_address));
	r |= set(result, "version", json_string(IDLOC_VERSION));
	r |= set(result, "uptime_s", json_integer((json_int_t)(wall_s() - a->started_s)));
	r |= set(ovl, "domain", json_string(a->cfg->domain));
	r |= set(ovl, "joined", json_boolean(mesh_joined(a->mesh)));
	r |= set(ovl, "neighbors", json_integer((json_int_t)mesh_neighbors(a->mesh)));
	r |= set(result, "overlay", ovl);
	r |= set(result, "relay", relay_json(a->relays));
	r |= set(dns, "configure",
	         json_string(config_dns_configure_to_string(a->cfg->dns_configure)));
	r |= set(dns, "configured", json_string(dnsconf_status(a->dnsconf)));
	r |= set(result, "dns", dns);
	return r ? -ENOMEM : 0;
}

static const char *pipe_state_name(enum pipe_state s)
{
	switch (s) {
	case PIPE_CONNECTING:
		return "CONNECTING";
	case PIPE_CHECKING:
		return "CHECKING";
	case PIPE_UP:
		return "ESTABLISHED";
	case PIPE_FAILED:
		return "FAILED";
	}
	return "?";
}

static json_t *sockaddr_json(const struct sockaddr_storage *ss)
{
	char l[UDP_ADDRSTRLEN];

	return json_string(udp_addr_format((const struct sockaddr *)ss, l));
}

/* The path a peer's ESP takes: the association's own address (overlay
 * links), or its pipe; {type, remote}, nulls while unknown. */
/* A direct association's path: "host" unless the peer announced its own
 * addresses and ours is not among them: then the peer is behind a NAT and we
 * reach it at the mapping its packets came from, "prflx" in ICE's words. */
static const char *direct_type(const struct hip_assoc *as)
{
	bool listed = true;

	return as && hip_assoc_peer_announced(as, &listed) && !listed ? "prflx" : "host";
}

static json_t *path_json(const struct hip_assoc *as, const struct hip_locator *loc,
                         const struct pipe_info *pi)
{
	json_t *path = json_object();
	int r = 0;

	if (!path)
		return NULL;
	if (loc && !locator_is_overlay(loc)) {
		r |= set(path, "type", json_string(direct_type(as)));
		r |= set(path, "remote", sockaddr_json(&loc->addr));
	} else if (pi && pi->path_type) {
		r |= set(path, "type", json_string(pi->path_type));
		r |= set(path, "remote", sockaddr_json(&pi->remote));
	} else {
		r |= set(path, "type", json_null());
		r |= set(path, "remote", json_null());
	}
	if (r) {
		json_decref(path);
		return NULL;
	}
	return path;
}

static json_t *peer_path_json(const struct answers *a, const struct hit *hit)
{
	struct hip_assoc *as = hip_host_find(a->hip, hit);
	struct pipe_info pi;
	bool piped = a->pipes && pipes_info(a->pipes, hit, &pi) == 0;

	return path_json(as, as ? hip_assoc_locator(as) : NULL, piped ? &pi : NULL);
}

/* One peer: its identifiers, the association's state and its path. */
static json_t *peer_json(const struct answers *a, const struct hit *hit)
{
	const struct idmap_entry *e = idmap_by_hit(a->idmap, hit);
	struct hip_assoc *as = hip_host_find(a->hip, hit);
	struct peer *p = as ? hip_assoc_user(as) : NULL;
	const struct hip_locator *loc = as ? hip_assoc_locator(as) : NULL;
	json_t *o = json_object();
	struct pipe_info pi;
	bool piped = a->pipes && pipes_info(a->pipes, hit, &pi) == 0;
	const char *state = as ? hip_state_name(hip_assoc_state(as)) : "UNASSOCIATED";
	int r = 0;

	if (!o)
		return NULL;
	if (piped && (!loc || locator_is_overlay(loc)))
		state = pipe_state_name(pi.state);
	r |= set(o, "name", e && e->name[0] ? json_string(e->name) : json_null());
	r |= set(o, "hit", hit_json(hit));
	r |= set(o, "lsi", e ? ipv4_json(e->lsi) : json_null());
	r |= set(o, "state", json_string(state));
	r |= set(o, "path", path_json(as, loc, piped ? &pi : NULL));
	r |= set(o, "rtt_ms", p && p->rtt_ms >= 0 ? json_real(p->rtt_ms) : json_null());
	r |= set(o, "tx_bytes", json_integer(p ? (json_int_t)p->out.bytes : 0));
	r |= set(o, "rx_bytes",
	         json_integer(p ? (json_int_t)(p->in.bytes + (p->has_prev ? p->in_prev.bytes : 0))
	                        : 0));
	r |= set(o, "drops", json_integer(piped ? (json_int_t)pi.drops : 0));
	r |= set(o, "queued", json_integer(piped ? (json_int_t)pi.queued : 0));
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static bool listed(const struct hit *list, size_t n, const struct hit *h)
{
	for (size_t i = 0; i < n; i++)
		if (hit_cmp(&list[i], h) == 0)
			return true;
	return false;
}

static int answer_peers(void *ctx, json_t *result)
{
	struct answers *a = ctx;
	size_t np = peers_count(a->peers), cap = np + PIPES_MAX, n = 0;
	struct hit *hits = calloc(cap, sizeof(*hits));
	json_t *list = json_array();
	int r = -ENOMEM;

	if (!hits || !list)
		goto out;
	/* Keyed peers, then pipes still being set up (or failed). */
	for (size_t i = 0; i < np; i++)
		hits[n++] = peers_get(a->peers, i)->hit;
	if (a->pipes) {
		struct hit *more = hits + n;
		size_t m = pipes_list(a->pipes, more, cap - n);

		for (size_t i = 0; i < m; i++)
			if (!listed(hits, n, &more[i]))
				hits[n++] = more[i];
	}
	for (size_t i = 0; i < n; i++) {
		json_t *o = peer_json(a, &hits[i]);
		if (!o || json_array_append_new(list, o) < 0)
			goto out;
	}
	r = set(result, "peers", list);
	list = NULL;
out:
	json_decref(list);
	free(hits);
	return r;
}

static int answer_id(void *ctx, json_t *result)
{
	struct answers *a = ctx;
	int r = 0;

	r |= set(result, "hit", hit_json(identity_hit(a->id)));
	r |= set(result, "hi_algorithm",
	         identity_algorithm(a->id) == HI_ALG_ECDSA
	                 ? json_string("ECDSA P-256")
	                 : json_integer(identity_algorithm(a->id)));
	r |= set(result, "fqdn", json_string(mesh_fqdn(a->mesh)));
	return r ? -ENOMEM : 0;
}

static int status_errno(enum ovl_status st)
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

/* The record's address hints as "ip:port" strings (none when absent or
 * malformed: they are only hints). */
static json_t *addresses_json(const uint8_t *payload, size_t len)
{
	struct hip_locator l[HINTS_MAX];
	json_t *a = json_array();
	char buf[UDP_ADDRSTRLEN];
	size_t n = 0;

	if (!a || hints_decode(payload, len, l, HINTS_MAX, &n) < 0)
		return a;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(a, json_string(locator_format(&l[i], buf))) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static void on_resolved(void *arg, enum ovl_status st, const struct ovl_record *rec, unsigned hops,
                        uint64_t elapsed_ms)
{
	struct ctl_reply *reply = arg;
	uint64_t now;
	json_t *res;
	int r = 0;

	if (st != OVL_OK || !rec) {
		log_msg(LOG_DEBUG, "overlay lookup ended: status %d after %u hops, %llu ms",
		        (int)st, hops, (unsigned long long)elapsed_ms);
		ctl_reply_errno(reply, st == OVL_OK ? -EIO : status_errno(st));
		return;
	}
	res = json_object();
	if (!res) {
		ctl_reply_errno(reply, -ENOMEM);
		return;
	}
	r |= set(res, "name", json_string(rec->name));
	r |= set(res, "hit", hit_json(&rec->owner));
	r |= set(res, "owner", hit_json(&rec->owner));
	r |= set(res, "seq", json_integer((json_int_t)rec->seq));
	now = mesh_clock_ms();
	r |= set(res, "expires_in_s",
	         json_integer(rec->expires > now ? (json_int_t)((rec->expires - now) / 1000) : 0));
	/* Relays are found through relay records, not name records. */
	r |= set(res, "relay_hints", json_array());
	r |= set(res, "addresses", addresses_json(rec->payload, rec->payload_len));
	r |= set(res, "hops", json_integer(hops));
	if (r) {
		json_decref(res);
		ctl_reply_errno(reply, -ENOMEM);
		return;
	}
	ctl_reply_send(reply, res);
}

static int answer_resolve(void *ctx, const char *fqdn, struct ctl_reply *reply)
{
	struct answers *a = ctx;

	return mesh_resolve(a->mesh, fqdn, on_resolved, reply);
}

static void reply_joined(struct answers *a, struct ctl_reply *reply)
{
	json_t *res = json_object();

	if (!res || set(res, "joined", json_boolean(mesh_joined(a->mesh))) < 0) {
		json_decref(res);
		ctl_reply_errno(reply, -ENOMEM);
		return;
	}
	ctl_reply_send(reply, res);
}

static int answer_join(void *ctx, struct ctl_reply *reply)
{
	struct answers *a = ctx;
	int r = a->join ? a->join(a->shutdown_arg) : mesh_join(a->mesh);

	if (r < 0)
		return r;
	reply_joined(a, reply);
	return 0;
}

static int answer_leave(void *ctx, struct ctl_reply *reply)
{
	struct answers *a = ctx;
	int r = a->leave ? a->leave(a->shutdown_arg) : mesh_leave(a->mesh);

	if (r < 0)
		return r;
	reply_joined(a, reply);
	return 0;
}

/* A ping owed to a client. */
struct ping_job {
	struct answers *a;
	struct ctl_reply *reply;
};

static bool ping_cancelled(void *arg)
{
	const struct ping_job *j = arg;

	return ctl_reply_cancelled(j->reply);
}

/* Milliseconds (>= 0) to the microsecond: what a person or a script can use. */
static json_t *ms_json(double ms)
{
	return json_real((double)(uint64_t)(ms * 1000 + 0.5) / 1000);
}

/* rtt_ms (one entry per sequence number, null for none) and its summary. */
static int rtt_json(json_t *res, const struct pinger_result *pr)
{
	json_t *list = json_array();
	double min = 0, max = 0, sum = 0;
	unsigned n = 0;
	int r = 0;

	if (!list)
		return -ENOMEM;
	for (unsigned i = 0; i < pr->count; i++) {
		double v = pr->rtt_ms[i];
		if (v >= 0) {
			min = n == 0 || v < min ? v : min;
			max = n == 0 || v > max ? v : max;
			sum += v;
			n++;
		}
		if (json_array_append_new(list, v >= 0 ? ms_json(v) : json_null()) < 0)
			r = -ENOMEM;
	}
	r |= set(res, "rtt_ms", list);
	r |= set(res, "rtt_min", n ? ms_json(min) : json_null());
	r |= set(res, "rtt_avg", n ? ms_json(sum / n) : json_null());
	r |= set(res, "rtt_max", n ? ms_json(max) : json_null());
	return r ? -ENOMEM : 0;
}

static json_t *ping_json(const struct answers *a, const struct pinger_result *pr)
{
	const struct idmap_entry *e = idmap_by_hit(a->idmap, pr->hit);
	json_t *res = json_object();
	int r = 0;

	if (!res)
		return NULL;
	r |= set(res, "name", json_string(pr->name));
	r |= set(res, "hit", hit_json(pr->hit));
	r |= set(res, "lsi", e ? ipv4_json(e->lsi) : json_null());
	r |= set(res, "path", peer_path_json(a, pr->hit));
	r |= set(res, "sent", json_integer(pr->sent));
	r |= set(res, "received", json_integer(pr->received));
	r |= rtt_json(res, pr);
	if (r) {
		json_decref(res);
		return NULL;
	}
	return res;
}

static void on_ping_done(void *arg, int err, const struct pinger_result *pr)
{
	struct ping_job *j = arg;
	struct ctl_reply *reply = j->reply;
	struct answers *a = j->a;
	char msg[CTL_ERROR_MAX];
	json_t *res;

	free(j);
	if (err == -EHOSTUNREACH || err == -ELOOP) {
		snprintf(msg, sizeof(msg), err == -ELOOP ? "%s is this host" : "no path to %s",
		         pr->name);
		ctl_reply_error(reply, msg);
		return;
	}
	if (err < 0 || !pr->hit) {
		ctl_reply_errno(reply, err < 0 ? err : -EIO);
		return;
	}
	res = ping_json(a, pr);
	if (!res) {
		ctl_reply_errno(reply, -ENOMEM);
		return;
	}
	ctl_reply_send(reply, res);
}

static int answer_ping(void *ctx, const struct ctl_ping *ping, struct ctl_reply *reply)
{
	struct answers *a = ctx;
	struct ping_job *j;
	int r;

	if (!a->pinger)
		return -ENOTSUP;
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	*j = (struct ping_job){.a = a, .reply = reply};
	r = pinger_start(a->pinger, &(const struct pinger_request){
	                                    .fqdn = ping->fqdn,
	                                    .count = ping->count,
	                                    .interval_ms = ping->interval_ms,
	                                    .timeout_ms = ping->timeout_ms,
	                                    .done = on_ping_done,
	                                    .cancelled = ping_cancelled,
	                                    .arg = j,
	                            });
	if (r < 0)
		free(j);
	return r;
}

/* ---- log ---- */

/* Bytes of one kept message, and of the lines one answer carries (an
 * answer line must stay under CTL_RESPONSE_MAX once escaped). */
#define LOG_MSG_MAX    1200
#define LOG_ANSWER_MAX (CTL_RESPONSE_MAX / 2)
/* netcheck runs at once at most. */
#define NETCHECK_MAX 4

struct log_line {
	uint64_t time_ms;
	int prio;
	char *msg; /* NULL: none yet */
};

struct answers_log {
	struct log_line *ring;
	size_t keep, next, count;
	struct ctl_stream *streams[CTL_STREAM_MAX];
	size_t n_streams;
};

static json_t *line_json(const char *event, uint64_t time_ms, int prio, const char *msg)
{
	if (event)
		return json_pack("{s:s, s:I, s:s, s:s}", "event", event, "time_ms",
		                 (json_int_t)time_ms, "level", log_level_name(prio), "msg", msg);
	return json_pack("{s:I, s:s, s:s}", "time_ms", (json_int_t)time_ms, "level",
	                 log_level_name(prio), "msg", msg);
}

static void log_sink(void *ctx, uint64_t time_ms, int prio, const char *msg)
{
	struct answers_log *l = ctx;
	struct log_line *slot = &l->ring[l->next];
	char clean[LOG_MSG_MAX], *copy;
	json_t *ev;

	ctl_proto_text_clean(msg, clean, sizeof(clean));
	copy = strdup(clean);
	if (!copy)
		return; /* not kept; the line still went to stderr */
	free(slot->msg);
	*slot = (struct log_line){.time_ms = time_ms, .prio = prio, .msg = copy};
	l->next = (l->next + 1) % l->keep;
	if (l->count < l->keep)
		l->count++;
	if (l->n_streams == 0)
		return;
	ev = line_json("log", time_ms, prio, clean);
	/* A stream that lags loses the line and is told so later; one that
	 * failed goes away from the loop, through on_stream_closed. */
	for (size_t i = 0; ev && i < l->n_streams; i++)
		(void)ctl_stream_send(l->streams[i], ev);
	json_decref(ev);
}

/* The last n lines kept, oldest first, as many as fit one answer. */
static json_t *log_lines_json(const struct answers_log *l, unsigned n)
{
	json_t *list = json_array(), *res;
	size_t take = 0, bytes = 0, first;

	if (!list)
		return NULL;
	while (take < n && take < l->count) {
		const struct log_line *ln = &l->ring[(l->next + l->keep - 1 - take) % l->keep];
		size_t cost = 2 * strlen(ln->msg) + 64;
		if (bytes + cost > LOG_ANSWER_MAX)
			break;
		bytes += cost;
		take++;
	}
	first = (l->next + l->keep - take) % l->keep;
	for (size_t i = 0; i < take; i++) {
		const struct log_line *ln = &l->ring[(first + i) % l->keep];
		if (json_array_append_new(list, line_json(NULL, ln->time_ms, ln->prio, ln->msg)) <
		    0) {
			json_decref(list);
			return NULL;
		}
	}
	res = json_object();
	if (!res || json_object_set_new(res, "lines", list) < 0) {
		json_decref(res);
		return NULL;
	}
	return res;
}

static void on_stream_closed(void *arg, struct ctl_stream *s)
{
	struct answers_log *l = arg;

	for (size_t i = 0; i < l->n_streams; i++) {
		if (l->streams[i] == s) {
			l->streams[i] = l->streams[--l->n_streams];
			return;
		}
	}
}

static int answer_log(void *ctx, const struct ctl_log *req, struct ctl_reply *reply)
{
	struct answers *a = ctx;
	struct answers_log *l = a->log;
	struct ctl_stream *s;
	json_t *res;

	if (!l)
		return -ENOTSUP;
	if (req->follow && l->n_streams >= CTL_STREAM_MAX)
		return -EBUSY;
	res = log_lines_json(l, req->lines);
	if (!res)
		return -ENOMEM;
	if (!req->follow) {
		ctl_reply_send(reply, res);
		return 0;
	}
	s = ctl_reply_stream(reply, res, on_stream_closed, l);
	if (s)
		l->streams[l->n_streams++] = s;
	return 0;
}

int answers_log_new(size_t keep, struct answers_log **ret)
{
	struct answers_log *l;

	if (keep == 0)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->ring = calloc(keep, sizeof(*l->ring));
	if (!l->ring) {
		free(l);
		return -ENOMEM;
	}
	l->keep = keep;
	log_set_sink(log_sink, l);
	*ret = l;
	return 0;
}

struct answers_log *answers_log_free(struct answers_log *l)
{
	if (!l)
		return NULL;
	log_set_sink(NULL, NULL);
	for (size_t i = 0; i < l->n_streams; i++)
		ctl_stream_end(l->streams[i]);
	for (size_t i = 0; i < l->keep; i++)
		free(l->ring[i].msg);
	free(l->ring);
	free(l);
	return NULL;
}

/* ---- netcheck and shutdown ---- */

struct netcheck_job {
	struct answers *a;
	struct ctl_reply *reply;
};

static bool netcheck_cancelled(void *arg)
{
	const struct netcheck_job *j = arg;

	return ctl_reply_cancelled(j->reply);
}

static void on_netcheck_done(void *arg, int err, json_t *report)
{
	struct netcheck_job *j = arg;

	j->a->netchecks--;
	if (err < 0)
		ctl_reply_errno(j->reply, err);
	else
		ctl_reply_send(j->reply, report);
	free(j);
}

static int answer_netcheck(void *ctx, struct ctl_reply *reply)
{
	struct answers *a = ctx;
	struct netcheck_job *j;
	int r;

	if (!a->loop)
		return -ENOTSUP;
	if (a->netchecks >= NETCHECK_MAX)
		return -EBUSY;
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	*j = (struct netcheck_job){.a = a, .reply = reply};
	r = netcheck_start(a->loop, a->cfg, on_netcheck_done, netcheck_cancelled, j);
	if (r < 0) {
		free(j);
		return r;
	}
	a->netchecks++;
	return 0;
}

static void answer_shutdown(void *ctx)
{
	struct answers *a = ctx;

	a->shutdown(a->shutdown_arg);
}

void answers_handlers(struct answers *a, struct ctl_handlers *ret)
{
	*ret = (struct ctl_handlers){
	        .ctx = a,
	        .status = answer_status,
	        .peers = answer_peers,
	        .id = answer_id,
	        .resolve = answer_resolve,
	        .join = answer_join,
	        .leave = answer_leave,
	        .ping = answer_ping,
	        .log = answer_log,
	        .netcheck = answer_netcheck,
	        .shutdown = a->shutdown ? answer_shutdown : NULL,
	};
}
