/* SPDX-License-Identifier: MIT */
/* view.c: the tray's labels, icon and peer list from `status` and `peers` answers. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctl_proto.h"
#include "tray/view.h"

static void text(char out[VIEW_TEXT_MAX], const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Labels are cut at VIEW_TEXT_MAX; every string in them was checked to be
 * short (a name, an address) except an error message, which may be cut. */
static void text(char out[VIEW_TEXT_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, VIEW_TEXT_MAX, fmt, ap);
	va_end(ap);
}

static void clear_self(struct view *v)
{
	v->self[0] = v->fqdn[0] = v->lsi[0] = v->hit[0] = v->domain[0] = '\0';
	v->npeers = v->more_peers = 0;
}

void view_set_down(struct view *v, bool not_running, const char *why)
{
	v->state = VIEW_DOWN;
	clear_self(v);
	text(v->headline, "%s", not_running ? "Daemon not running" : "Cannot reach the daemon");
	text(v->detail, "%s", why ? why : "");
}

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A name from the daemon, checked the way the control protocol checks names,
 * so a label or a URL never carries anything but [a-z0-9.-]. */
static bool name_ok(const char *s, char out[CTL_NAME_MAX + 1])
{
	return s && ctl_proto_name_normalize(s, out) == 0;
}

static bool addr_ok(int af, const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return s && inet_pton(af, s, buf) == 1;
}

/* A state or path type: "ESTABLISHED", "I1-SENT", "srflx". */
static bool word_ok(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

	return n > 0 && n <= 32 && s[n] == '\0';
}

static int self_from_status(struct view *v, const json_t *status, bool *joined,
                            long long *neighbors)
{
	const json_t *ovl = json_object_get(status, "overlay");
	const json_t *lsi = json_object_get(status, "lsi");
	const json_t *j = json_object_get(ovl, "joined");
	const json_t *n = json_object_get(ovl, "neighbors");
	char name[CTL_NAME_MAX + 1], fqdn[CTL_NAME_MAX + 1], domain[CTL_NAME_MAX + 1];
	const char *hit = str(status, "hit");

	if (!name_ok(str(status, "name"), name) || !name_ok(str(status, "fqdn"), fqdn) ||
	    !name_ok(str(ovl, "domain"), domain) || !addr_ok(AF_INET6, hit) ||
	    !json_is_boolean(j) || !json_is_integer(n) ||
	    !(json_is_null(lsi) || addr_ok(AF_INET, json_string_value(lsi))))
		return -EBADMSG;
	*joined = json_is_true(j);
	*neighbors = json_integer_value(n);
	text(v->self, "This device: %s (%s)", name, fqdn);
	text(v->fqdn, "%s", fqdn);
	text(v->domain, "%s", domain);
	text(v->hit, "%s", hit);
	text(v->lsi, "%s", json_is_null(lsi) ? "" : json_string_value(lsi));
	return 0;
}

int view_set_status(struct view *v, const json_t *status, bool left)
{
	long long neighbors = 0;
	bool joined = false;

	clear_self(v);
	if (!json_is_object(status) || self_from_status(v, status, &joined, &neighbors) < 0) {
		view_set_down(v, false, "unexpected answer from the daemon");
		return -EBADMSG;
	}
	if (joined) {
		v->state = VIEW_JOINED;
		text(v->headline, "Connected to %s", v->domain);
		text(v->detail, "%lld overlay neighbor%s", neighbors, neighbors == 1 ? "" : "s");
	} else if (left) {
		v->state = VIEW_DISCONNECTED;
		text(v->headline, "Disconnected from %s", v->domain);
		text(v->detail, "%s", "");
	} else {
		v->state = VIEW_CONNECTING;
		text(v->headline, "Connecting to %s\u2026", v->domain);
		text(v->detail, "%s", "");
	}
	return 0;
}

/* "venus.example.internal: ESTABLISHED, host, 0.4 ms" and what to copy and open. */
static int peer_from_json(const struct view *v, const json_t *p, struct view_peer *out)
{
	const json_t *jname = json_object_get(p, "name"), *path = json_object_get(p, "path");
	const json_t *jtype = json_object_get(path, "type"), *rtt = json_object_get(p, "rtt_ms");
	const char *hit = str(p, "hit"), *state = str(p, "state");
	char name[CTL_NAME_MAX + 1], fqdn[CTL_NAME_MAX + 1], rtt_s[32] = "";
	const char *type;

	if (!json_is_object(p) || !addr_ok(AF_INET6, hit) || !state ||
	    !(json_is_null(jname) || name_ok(json_string_value(jname), name)) ||
	    !json_is_object(path) || !(json_is_null(jtype) || json_is_string(jtype)) ||
	    !(json_is_null(rtt) || json_is_number(rtt)))
		return -EBADMSG;
	type = json_is_null(jtype) ? "no path yet" : json_string_value(jtype);
	if (!word_ok(state) || !(json_is_null(jtype) || word_ok(type)))
		return -EBADMSG;
	if (json_is_number(rtt))
		snprintf(rtt_s, sizeof(rtt_s), ", %.1f ms", json_number_value(rtt));
	if (json_is_null(jname)) {
		text(out->copy, "%s", hit);
		text(out->url, "http://[%s]/", hit);
	} else {
		if (ctl_proto_name_qualify(name, v->domain, fqdn) < 0)
			return -EBADMSG;
		text(out->copy, "%s", fqdn);
		text(out->url, "http://%s/", fqdn);
	}
	text(out->label, "%s: %s, %s%s", out->copy, state, type, rtt_s);
	return 0;
}

static int peer_cmp(const void *a, const void *b)
{
	return strcmp(((const struct view_peer *)a)->label, ((const struct view_peer *)b)->label);
}

int view_set_peers(struct view *v, const json_t *peers)
{
	const json_t *p;
	size_t i;

	v->npeers = v->more_peers = 0;
	if (!json_is_array(peers))
		return -EBADMSG;
	json_array_foreach(peers, i, p)
	{
		if (v->npeers == VIEW_PEERS_MAX) {
			v->more_peers++;
			continue;
		}
		if (peer_from_json(v, p, &v->peers[v->npeers]) < 0) {
			v->npeers = v->more_peers = 0;
			return -EBADMSG;
		}
		v->npeers++;
	}
	qsort(v->peers, v->npeers, sizeof(v->peers[0]), peer_cmp);
	return 0;
}

const char *view_icon_name(enum view_state state)
{
	switch (state) {
	case VIEW_JOINED:
		return "idloc-joined";
	case VIEW_CONNECTING:
		return "idloc-connecting";
	case VIEW_DISCONNECTED:
		return "idloc-disconnected";
	case VIEW_DOWN:
		break;
	}
	return "idloc-down";
}

const char *view_icon_description(enum view_state state)
{
	switch (state) {
	case VIEW_JOINED:
		return "idloc: connected";
	case VIEW_CONNECTING:
		return "idloc: connecting";
	case VIEW_DISCONNECTED:
		return "idloc: disconnected";
	case VIEW_DOWN:
		break;
	}
	return "idloc: daemon not running";
}

bool view_toggle_joins(enum view_state state)
{
	return state == VIEW_DISCONNECTED || state == VIEW_DOWN;
}

const char *view_toggle_label(enum view_state state)
{
	return view_toggle_joins(state) ? "Connect" : "Disconnect";
}

bool view_peers_equal(const struct view *a, const struct view *b)
{
	if (a->npeers != b->npeers || a->more_peers != b->more_peers)
		return false;
	for (size_t i = 0; i < a->npeers; i++)
		if (strcmp(a->peers[i].label, b->peers[i].label) != 0 ||
		    strcmp(a->peers[i].url, b->peers[i].url) != 0)
			return false;
	return true;
}
