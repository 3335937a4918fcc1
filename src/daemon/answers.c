/* SPDX-License-Identifier: MIT */
/* answers.c: the daemon's answers to control requests. */
#include "daemon/answers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/hit.h"
#include "common/log.h"
#include "crypto/identity.h"
#include "daemon/config.h"
#include "daemon/mesh.h"
#include "daemon/peers.h"
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

static int answer_status(void *ctx, json_t *result)
{
	struct answers *a = ctx;
	json_t *ovl = json_object();
	int r = 0;

	r |= set(result, "name", json_string(a->cfg->name));
	r |= set(result, "fqdn", json_string(mesh_fqdn(a->mesh)));
	r |= set(result, "hit", hit_json(identity_hit(a->id)));
	/* LSIs arrive with the data-path milestone. */
	r |= set(result, "lsi", json_null());
	r |= set(result, "resolver", ipv4_json(a->cfg->dns_address));
	r |= set(result, "version", json_string(IDLOC_VERSION));
	r |= set(result, "uptime_s", json_integer((json_int_t)(wall_s() - a->started_s)));
	r |= set(ovl, "domain", json_string(a->cfg->domain));
	r |= set(ovl, "joined", json_boolean(mesh_joined(a->mesh)));
	r |= set(ovl, "neighbors", json_integer((json_int_t)mesh_neighbors(a->mesh)));
	if (!ovl)
		return -ENOMEM;
	r |= set(result, "overlay", ovl);
	return r ? -ENOMEM : 0;
}

static json_t *peer_json(const struct peer *p)
{
	const struct hip_locator *loc = p->assoc ? hip_assoc_locator(p->assoc) : NULL;
	json_t *o = json_object(), *path = json_object();
	char l[UDP_ADDRSTRLEN];
	int r = 0;

	if (!o || !path) {
		json_decref(o);
		json_decref(path);
		return NULL;
	}
	r |= set(o, "name", json_null());
	r |= set(o, "hit", hit_json(&p->hit));
	r |= set(o, "lsi", json_null());
	r |= set(
	        o, "state",
	        json_string(p->assoc ? hip_state_name(hip_assoc_state(p->assoc)) : "UNASSOCIATED"));
	/* Direct UDP between host addresses until ICE arrives. */
	r |= set(path, "type", json_string("host"));
	r |= set(path, "remote",
	         loc ? json_string(udp_addr_format((const struct sockaddr *)&loc->addr, l))
	             : json_null());
	r |= set(o, "path", path);
	r |= set(o, "rtt_ms", json_null());
	r |= set(o, "tx_bytes", json_integer((json_int_t)p->out.bytes));
	r |= set(o, "rx_bytes",
	         json_integer((json_int_t)(p->in.bytes + (p->has_prev ? p->in_prev.bytes : 0))));
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int answer_peers(void *ctx, json_t *result)
{
	struct answers *a = ctx;
	json_t *list = json_array();

	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < peers_count(a->peers); i++) {
		json_t *o = peer_json(peers_get(a->peers, i));
		if (!o || json_array_append_new(list, o) < 0) {
			json_decref(list);
			return -ENOMEM;
		}
	}
	return set(result, "peers", list);
}

static int answer_id(void *ctx, json_t *result)
{
	struct answers *a = ctx;
	int r = 0;

	r |= set(result, "hit", hit_json(identity_hit(a->id)));
	r |= set(result, "hi_algorithm", json_integer(identity_algorithm(a->id)));
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
	/* Relay hints: opaque until the relay milestone defines their format. */
	r |= set(res, "relay_hints", json_array());
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
	int r = mesh_join(a->mesh);

	if (r < 0)
		return r;
	reply_joined(a, reply);
	return 0;
}

static int answer_leave(void *ctx, struct ctl_reply *reply)
{
	struct answers *a = ctx;
	int r = mesh_leave(a->mesh);

	if (r < 0)
		return r;
	reply_joined(a, reply);
	return 0;
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
	};
}
