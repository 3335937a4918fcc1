/* SPDX-License-Identifier: MIT */
/* relays.c: peer relays: serving a TURN relay to overlay peers, and finding
 * and using one through the overlay. */
#include "daemon/relays.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/log.h"
#include "daemon/config.h"
#include "daemon/locator.h"
#include "daemon/mesh.h"
#include "daemon/pipes.h"
#include "net/udp.h"
#include "relay/stun.h"
#include "relay/turn.h"

#define TICK_MS         2000
#define RETRY_MS        20000 /* after a failed search or a lost relay */
#define WANT_RELAYS     4
#define PAYLOAD_VERSION 1
/* version(1) | reserved(1) | HIP port(2) | TURN port(2) | address(16, IPv4-mapped) */
#define PAYLOAD_LEN           22
#define USERNAME_LEN          (2 * sizeof(struct hit))
#define ORCHID_PREFIX_LEN     28
#define RELAY_LIFETIME_S      180
#define RELAY_ALLOCS_PER_PEER 8

struct relays {
	struct relays_io io;
	struct hit self;
	uv_timer_t timer;
	unsigned open_handles;
	bool stopping;
	/* serving */
	struct turn_server *turn;
	uint8_t payload[PAYLOAD_LEN];
	bool published;
	/* using */
	bool searching;
	bool have_relay; /* chosen; ready once the association is up */
	bool ready;
	struct hit relay;
	char relay_host[INET6_ADDRSTRLEN];
	uint16_t relay_turn_port;
	uint64_t retry_at;
};

static uint64_t now_ms(const struct relays *r)
{
	return uv_now(r->io.loop);
}

/* The TURN username of a client: its HIT as 32 lowercase hex digits. */
static void username_of(const struct hit *h, char out[USERNAME_LEN + 1])
{
	hex_encode(h->b, sizeof(h->b), out);
}

static int username_parse(const char *s, struct hit *ret)
{
	return hex_decode(s, strlen(s), ret->b, sizeof(ret->b));
}

/* ---- serving ---- */

/* Only a host with an association with us (it proved its Host Identity in a
 * base exchange) has a key; everyone else gets the same 401. */
static int key_for(void *arg, const char *username, uint8_t key[STUN_KEY_LEN])
{
	struct relays *r = arg;
	char pwd[HIP_RELAY_PWD_LEN + 1];
	struct hip_assoc *a;
	struct hit client;
	int e;

	if (username_parse(username, &client) < 0)
		return -ENOENT;
	a = hip_host_find(r->io.hip, &client);
	if (!a || (hip_assoc_state(a) != HIP_STATE_ESTABLISHED &&
	           hip_assoc_state(a) != HIP_STATE_R2_SENT))
		return -ENOENT;
	if (hip_assoc_relay_password(a, false, pwd) < 0)
		return -ENOENT;
	e = stun_long_term_key(username, r->io.cfg->domain, pwd, key);
	memzero(pwd, sizeof(pwd));
	return e;
}

static bool ipv4_public(const uint8_t a[4])
{
	return !(a[0] == 10 || a[0] == 127 || a[0] == 0 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	         (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
	         (a[0] == 100 && (a[1] & 0xc0) == 64) || a[0] >= 224);
}

/* The address to relay on: the host's first IPv4 address (public ones only
 * unless serve = yes). */
static int pick_address(const struct relays *r, struct sockaddr_in *ret)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	struct hip_locator_entry e[HIP_LOCATORS_MAX];
	size_t n = locator_host_entries(r->io.tun_name, 0, e, HIP_LOCATORS_MAX);
	bool any = r->io.cfg->relay_serve == CONFIG_RELAY_YES;

	for (size_t i = 0; i < n; i++) {
		if (memcmp(e[i].addr, mapped, sizeof(mapped)) != 0 ||
		    (!any && !ipv4_public(e[i].addr + 12)))
			continue;
		memset(ret, 0, sizeof(*ret));
		ret->sin_family = AF_INET;
		memcpy(&ret->sin_addr, e[i].addr + 12, 4);
		return 0;
	}
	return -EADDRNOTAVAIL;
}

static int serve(struct relays *r)
{
	static const uint8_t orchid[16] = {0x20, 0x01, 0x00, 0x20};
	const struct config *cfg = r->io.cfg;
	struct turn_prefix deny[2] = {
	        {.family = AF_INET, .len = cfg->lsi_prefix_len},
	        {.family = AF_INET6, .len = ORCHID_PREFIX_LEN},
	};
	struct sockaddr_in listen, relay;
	struct turn_config tc;
	char a[INET_ADDRSTRLEN];
	int e = pick_address(r, &listen);

	if (e < 0)
		return e;
	store_be32(deny[0].addr, cfg->lsi_prefix);
	memcpy(deny[1].addr, orchid, sizeof(orchid));
	turn_config_init(&tc, cfg->domain);
	/* libnice frees an agent without deallocating (docs/relay.md): a short
	 * lifetime returns the allocations of closed pipes to the quota soon;
	 * libnice refreshes live ones a minute before they expire. */
	tc.max_lifetime_s = RELAY_LIFETIME_S;
	tc.max_allocs_per_user = RELAY_ALLOCS_PER_PEER;
	tc.bytes_per_s_per_user = (uint64_t)cfg->relay_rate * 125000; /* Mbit/s; 0: none */
	tc.deny = deny;
	tc.n_deny = ARRAY_SIZE(deny);
	relay = listen;
	listen.sin_port = htons(cfg->relay_port);
	e = turn_server_new(r->io.loop, &tc, (const struct sockaddr *)&listen,
	                    (const struct sockaddr *)&relay, key_for, r, &r->turn);
	if (e < 0)
		return e;
	r->payload[0] = PAYLOAD_VERSION;
	store_be16(r->payload + 2, cfg->port);
	store_be16(r->payload + 4, cfg->relay_port);
	r->payload[16] = r->payload[17] = 0xff;
	memcpy(r->payload + 18, &listen.sin_addr, 4);
	log_msg(LOG_NOTICE, "relaying for overlay peers on %s:%u (TURN)",
	        inet_ntop(AF_INET, &listen.sin_addr, a, sizeof(a)), cfg->relay_port);
	return 0;
}

static void publish(struct relays *r)
{
	int e;

	if (!r->turn || r->published || !mesh_joined(r->io.mesh))
		return;
	e = mesh_publish_relay(r->io.mesh, r->payload, sizeof(r->payload));
	if (e < 0) {
		log_errno(LOG_WARNING, e, "publishing our relay record failed");
		return;
	}
	r->published = true;
}

/* ---- using ---- */

static void relay_lost(struct relays *r, const char *why)
{
	char h[HIT_STRLEN];

	if (r->ready)
		(void)pipes_set_peer_relay(r->io.pipes, NULL, 0, NULL, NULL);
	log_msg(LOG_INFO, "relay %s: %s", hit_format(&r->relay, h), why);
	r->have_relay = r->ready = false;
	r->retry_at = now_ms(r) + RETRY_MS;
}

/* The association with the relay is up: its credentials go to the pipes. */
static void relay_ready(struct relays *r, const struct hip_assoc *a)
{
	char user[USERNAME_LEN + 1], pwd[HIP_RELAY_PWD_LEN + 1], h[HIT_STRLEN];
	int e = hip_assoc_relay_password(a, true, pwd);

	username_of(&r->self, user);
	if (e == 0)
		e = pipes_set_peer_relay(r->io.pipes, r->relay_host, r->relay_turn_port, user, pwd);
	memzero(pwd, sizeof(pwd));
	if (e < 0) {
		relay_lost(r, "its credentials cannot be used");
		return;
	}
	r->ready = true;
	log_msg(LOG_NOTICE, "using relay %s at %s:%u", hit_format(&r->relay, h), r->relay_host,
	        r->relay_turn_port);
}

static bool payload_parse(const uint8_t *p, size_t len, struct hip_locator *hip, char *host,
                          uint16_t *turn_port)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&hip->addr;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&hip->addr;

	if (len < PAYLOAD_LEN || p[0] != PAYLOAD_VERSION || load_be16(p + 2) == 0 ||
	    load_be16(p + 4) == 0)
		return false;
	memset(hip, 0, sizeof(*hip));
	udp_addr_from16(p + 6, load_be16(p + 2), &hip->addr, &hip->len);
	if (hip->addr.ss_family == AF_INET)
		inet_ntop(AF_INET, &s4->sin_addr, host, INET6_ADDRSTRLEN);
	else
		inet_ntop(AF_INET6, &s6->sin6_addr, host, INET6_ADDRSTRLEN);
	*turn_port = load_be16(p + 4);
	return true;
}

static void choose(struct relays *r, const struct ovl_record *rec)
{
	struct hip_locator loc;
	struct hip_assoc *a = NULL;
	char h[HIT_STRLEN];
	int e;

	if (!payload_parse(rec->payload, rec->payload_len, &loc, r->relay_host,
	                   &r->relay_turn_port))
		return;
	r->relay = rec->owner;
	r->have_relay = true;
	log_msg(LOG_INFO, "relay %s found at %s:%u: associating", hit_format(&r->relay, h),
	        r->relay_host, r->relay_turn_port);
	e = hip_host_connect(r->io.hip, &r->relay, &loc, now_ms(r), &a);
	r->io.hip_changed(r->io.ctx);
	if (e == -EALREADY && a && hip_assoc_state(a) == HIP_STATE_ESTABLISHED)
		relay_ready(r, a);
	else if (e < 0 && e != -EALREADY)
		relay_lost(r, "no base exchange possible");
}

static void on_found(void *arg, enum ovl_status st, const struct ovl_record *recs, size_t n)
{
	struct relays *r = arg;

	r->searching = false;
	if (r->stopping)
		return;
	for (size_t i = 0; st == OVL_OK && i < n && !r->have_relay; i++)
		if (hit_cmp(&recs[i].owner, &r->self) != 0)
			choose(r, &recs[i]);
	if (!r->have_relay)
		r->retry_at = now_ms(r) + RETRY_MS;
}

static void search(struct relays *r)
{
	int e;

	if (!r->io.pipes || r->io.cfg->n_turn || r->have_relay || r->searching ||
	    now_ms(r) < r->retry_at || !mesh_joined(r->io.mesh))
		return;
	e = mesh_find_relays(r->io.mesh, WANT_RELAYS, on_found, r);
	if (e < 0) {
		r->retry_at = now_ms(r) + RETRY_MS;
		return;
	}
	r->searching = true;
}

void relays_hip_event(struct relays *r, struct hip_assoc *a, enum hip_event ev)
{
	if (!r || r->stopping || !r->have_relay || hit_cmp(hip_assoc_peer_hit(a), &r->relay) != 0)
		return;
	switch (ev) {
	case HIP_EVENT_ESTABLISHED:
		relay_ready(r, a); /* again after a new exchange: a new password */
		break;
	case HIP_EVENT_FAILED:
		relay_lost(r, "the base exchange failed");
		break;
	case HIP_EVENT_CLOSED:
	case HIP_EVENT_DESTROYED:
		relay_lost(r, "the association ended");
		break;
	default:
		break;
	}
}

/* ---- life ---- */

static void on_tick(uv_timer_t *t)
{
	struct relays *r = t->data;

	publish(r);
	search(r);
}

int relays_start(const struct relays_io *io, struct relays **ret)
{
	struct relays *r = calloc(1, sizeof(*r));
	int e;

	if (!r)
		return -ENOMEM;
	r->io = *io;
	r->self = io->self;
	if (io->cfg->relay_serve != CONFIG_RELAY_NO) {
		e = serve(r);
		if (e < 0 && io->cfg->relay_serve == CONFIG_RELAY_YES) {
			log_errno(LOG_ERR, e, "cannot serve as a relay (relay.serve = yes)");
			free(r);
			return e;
		}
		if (e < 0)
			log_errno(LOG_INFO, e, "not serving as a relay");
	}
	e = uv_timer_init(io->loop, &r->timer);
	if (e < 0) {
		turn_server_close(r->turn, NULL, NULL);
		free(r);
		return -EIO;
	}
	r->timer.data = r;
	r->open_handles = 1;
	uv_timer_start(&r->timer, on_tick, TICK_MS, TICK_MS);
	*ret = r;
	return 0;
}

static void maybe_free(struct relays *r)
{
	if (--r->open_handles == 0)
		free(r);
}

static void on_timer_closed(uv_handle_t *h)
{
	maybe_free(h->data);
}

static void on_turn_closed(void *arg)
{
	maybe_free(arg);
}

void relays_stop(struct relays *r)
{
	if (!r || r->stopping)
		return;
	r->stopping = true;
	if (r->turn) {
		r->open_handles++;
		turn_server_close(r->turn, on_turn_closed, r);
		r->turn = NULL;
	}
	uv_close((uv_handle_t *)&r->timer, on_timer_closed);
}

void relays_status(const struct relays *r, struct relays_status *ret)
{
	struct sockaddr_storage ss;
	char a[UDP_ADDRSTRLEN];

	memset(ret, 0, sizeof(*ret));
	if (!r)
		return;
	if (r->turn && turn_server_address(r->turn, &ss) == 0)
		snprintf(ret->serving, sizeof(ret->serving), "%s",
		         udp_addr_format((const struct sockaddr *)&ss, a));
	if (r->ready)
		snprintf(ret->using, sizeof(ret->using), "%s:%u", r->relay_host,
		         r->relay_turn_port);
}
