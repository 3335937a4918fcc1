/* SPDX-License-Identifier: MIT */
/* bex.c: the HIPv2 base exchange and the association state machine
 * (RFC 7401 sections 4.4, 6.6-6.10), host management and timers. */
#include "hip/bex.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/cipher.h"
#include "crypto/dh.h"
#include "crypto/hash.h"
#include "crypto/identity.h"
#include "crypto/random.h"
#include "hip/engine.h"
#include "hip/msg.h"
#include "hip/params.h"
#include "hip/puzzle.h"

#define FAIL(why)                \
	do {                     \
		*reason = (why); \
		return -EBADMSG; \
	} while (0)

void hip_config_default(struct hip_config *cfg)
{
	*cfg = (struct hip_config){
	        .puzzle_k = 0,
	        .puzzle_lifetime = 37, /* 32 s */
	        .r1_refresh_ms = 10 * 60 * 1000,
	        .max_retransmits = 5,
	        .retransmit_ms = 1000,
	        .failed_hold_ms = 10 * 1000,
	        .closed_hold_ms = 15 * 1000,
	        .max_puzzle_tries = (uint64_t)1 << 26,
	};
}

static const char *const state_names[] = {
        [HIP_STATE_UNASSOCIATED] = "UNASSOCIATED",
        [HIP_STATE_I1_SENT] = "I1-SENT",
        [HIP_STATE_I2_SENT] = "I2-SENT",
        [HIP_STATE_R2_SENT] = "R2-SENT",
        [HIP_STATE_ESTABLISHED] = "ESTABLISHED",
        [HIP_STATE_CLOSING] = "CLOSING",
        [HIP_STATE_CLOSED] = "CLOSED",
        [HIP_STATE_E_FAILED] = "E-FAILED",
};

const char *hip_state_name(enum hip_state s)
{
	if ((size_t)s >= ARRAY_SIZE(state_names))
		return "INVALID";
	return state_names[s];
}

/* ---- host ---- */

int hip_host_new(const struct identity *id, const struct hip_config *cfg, const struct hip_ops *ops,
                 uint64_t now, struct hip_host **ret)
{
	struct hip_host *h;
	struct hip_host_id hid = {.algorithm = identity_algorithm(id)};
	int r;

	if (cfg->puzzle_k > HIP_MAX_PUZZLE_K)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->id = id;
	h->cfg = *cfg;
	h->ops = *ops;
	h->hit = *identity_hit(id);
	hid.hi = identity_hi(id, &hid.hilen);
	r = hip_host_id_tlv(&hid, h->host_id_tlv, sizeof(h->host_id_tlv));
	if (r < 0)
		goto fail;
	h->host_id_tlv_len = (size_t)r;
	r = r1_generation_new(h, 1, &h->gen[0]);
	if (r < 0)
		goto fail;
	h->r1_refresh_at = now + cfg->r1_refresh_ms;
	*ret = h;
	return 0;
fail:
	free(h);
	return r;
}

static void assoc_free(struct hip_assoc *a)
{
	a->peer_hi = hi_pub_free(a->peer_hi);
	memzero(a, sizeof(*a));
	free(a);
}

struct hip_host *hip_host_free(struct hip_host *h)
{
	if (!h)
		return NULL;
	while (h->assocs) {
		struct hip_assoc *a = h->assocs;
		h->assocs = a->next;
		hip_event(h, a, HIP_EVENT_DESTROYED);
		assoc_free(a);
	}
	r1_generation_done(&h->gen[0]);
	r1_generation_done(&h->gen[1]);
	memzero(h, sizeof(*h));
	free(h);
	return NULL;
}

int hip_send(struct hip_host *h, const struct hip_locator *to, const uint8_t *pkt, size_t len)
{
	return h->ops.send ? h->ops.send(h->ops.ctx, to, pkt, len) : 0;
}

void hip_event(struct hip_host *h, struct hip_assoc *a, enum hip_event ev)
{
	if (h->ops.event)
		h->ops.event(h->ops.ctx, a, ev);
}

struct hip_assoc *hip_host_find(const struct hip_host *h, const struct hit *peer)
{
	/* UNASSOCIATED entries are retired ones waiting for the next tick. */
	for (struct hip_assoc *a = h->assocs; a; a = a->next)
		if (!a->opportunistic && a->state != HIP_STATE_UNASSOCIATED &&
		    hit_cmp(&a->peer, peer) == 0)
			return a;
	return NULL;
}

static bool locator_eq(const struct hip_locator *x, const struct hip_locator *y)
{
	return x->len == y->len && memcmp(&x->addr, &y->addr, x->len) == 0;
}

static struct hip_assoc *find_opportunistic(const struct hip_host *h,
                                            const struct hip_locator *from)
{
	for (struct hip_assoc *a = h->assocs; a; a = a->next)
		if (a->opportunistic && locator_eq(&a->loc, from))
			return a;
	return NULL;
}

static bool assoc_active(const struct hip_assoc *a)
{
	return a->state != HIP_STATE_UNASSOCIATED && a->state != HIP_STATE_CLOSED &&
	       a->state != HIP_STATE_E_FAILED;
}

/* Any live association at that locator, whether or not its HIT is known. */
static struct hip_assoc *find_by_locator(const struct hip_host *h, const struct hip_locator *loc)
{
	for (struct hip_assoc *a = h->assocs; a; a = a->next)
		if (assoc_active(a) && locator_eq(&a->loc, loc))
			return a;
	return NULL;
}

void hip_host_foreach(const struct hip_host *h, void (*fn)(struct hip_assoc *a, void *ctx),
                      void *ctx)
{
	for (struct hip_assoc *a = h->assocs; a; a = a->next)
		fn(a, ctx);
}

size_t hip_host_count(const struct hip_host *h)
{
	size_t n = 0;
	for (struct hip_assoc *a = h->assocs; a; a = a->next)
		n++;
	return n;
}

/* ---- association basics ---- */

struct hip_assoc *hip_assoc_new(struct hip_host *h, const struct hit *peer,
                                const struct hip_locator *loc)
{
	struct hip_assoc *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->host = h;
	a->state = HIP_STATE_UNASSOCIATED;
	if (peer && !hit_is_zero(peer))
		a->peer = *peer;
	else
		a->opportunistic = true;
	a->loc = *loc;
	a->timer_at = UINT64_MAX;
	a->next = h->assocs;
	h->assocs = a;
	return a;
}

void hip_assoc_set_state(struct hip_assoc *a, enum hip_state s)
{
	a->state = s;
}

void hip_assoc_arm(struct hip_assoc *a, enum hip_pending p, uint64_t now)
{
	a->pending = p;
	a->retries = 0;
	a->rto = a->host->cfg.retransmit_ms;
	a->timer_at = now + a->rto;
}

void hip_assoc_disarm(struct hip_assoc *a)
{
	a->pending = HIP_PENDING_NONE;
	a->timer_at = UINT64_MAX;
	a->out_to_set = false;
}

void hip_assoc_forget_keys(struct hip_assoc *a)
{
	memzero(&a->km, sizeof(a->km));
	memzero(&a->keys, sizeof(a->keys));
	memzero(&a->esp, sizeof(a->esp));
	memzero(a->ice_key, sizeof(a->ice_key));
	a->have_ice_key = false;
	a->nat_mode = 0;
	a->npeer_cands = 0;
	a->npeer_locs = 0;
	a->keyed = false;
	/* A new exchange is a new association: its UPDATE IDs start afresh
	 * (the peer's would otherwise look like retransmissions). */
	a->update_id_in = 0;
	a->update_id_out = 0;
	a->have_update_in = false;
	a->rekey_new_spi = 0;
	a->verifying = false;
	a->readdressing = false;
}

void hip_assoc_want_ice(struct hip_assoc *a)
{
	a->want_ice = true;
}

int hip_assoc_ice(const struct hip_assoc *a, struct hip_ice_params *ret)
{
	int r;

	if (a->nat_mode != HIP_NAT_ICE_STUN)
		return -ENOENT;
	if (!a->have_ice_key)
		return -EAGAIN;
	ret->controlling = a->initiator;
	r = hip_ice_credentials(a->ice_key, sizeof(a->ice_key), &a->host->hit, ret->local_ufrag,
	                        ret->local_pwd);
	if (r == 0)
		r = hip_ice_credentials(a->ice_key, sizeof(a->ice_key), &a->peer, ret->remote_ufrag,
		                        ret->remote_pwd);
	if (r < 0)
		return r;
	memcpy(ret->cands, a->peer_cands, a->npeer_cands * sizeof(a->peer_cands[0]));
	ret->ncands = a->npeer_cands;
	return 0;
}

int hip_assoc_relay_password(const struct hip_assoc *a, bool client,
                             char pwd[HIP_RELAY_PWD_LEN + 1])
{
	static const char label[] = "idloc relay v1";
	uint8_t data[sizeof(label) - 1 + 2 * sizeof(struct hit)];
	const struct hit *c = client ? &a->host->hit : &a->peer;
	const struct hit *r = client ? &a->peer : &a->host->hit;
	uint8_t mac[HASH_MAX_LEN];
	int e;

	if (!a->keyed || a->keys.maclen == 0)
		return -EAGAIN;
	memcpy(data, label, sizeof(label) - 1);
	memcpy(data + sizeof(label) - 1, c->b, sizeof(c->b));
	memcpy(data + sizeof(label) - 1 + sizeof(c->b), r->b, sizeof(r->b));
	/* The integrity key of the client-to-relay direction: both ends have it. */
	e = hmac_compute(HASH_SHA256, client ? a->keys.mac_out : a->keys.mac_in, a->keys.maclen,
	                 data, sizeof(data), mac);
	if (e < 0)
		return e;
	hex_encode(mac, HIP_RELAY_PWD_LEN / 2, pwd);
	memzero(mac, sizeof(mac));
	return 0;
}

bool hip_assoc_peer_announced(const struct hip_assoc *a, bool *ret_listed)
{
	const struct sockaddr_storage *ss = &a->loc.addr;
	uint8_t addr[16] = {0};
	uint16_t port;

	if (a->npeer_locs == 0)
		return false;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &s4->sin_addr, 4);
		port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		memcpy(addr, &s6->sin6_addr, 16);
		port = ntohs(s6->sin6_port);
	} else {
		return false;
	}
	*ret_listed = false;
	for (size_t i = 0; i < a->npeer_locs; i++)
		*ret_listed |= memcmp(a->peer_locs[i].addr, addr, 16) == 0 &&
		               (a->peer_locs[i].port == 0 || a->peer_locs[i].port == port);
	return true;
}

bool hip_assoc_readdressing(const struct hip_assoc *a)
{
	return a->readdressing;
}

enum hip_state hip_assoc_state(const struct hip_assoc *a)
{
	return a->state;
}

const struct hit *hip_assoc_peer_hit(const struct hip_assoc *a)
{
	return &a->peer;
}

const struct hip_locator *hip_assoc_locator(const struct hip_assoc *a)
{
	return &a->loc;
}

int hip_assoc_esp_keys(const struct hip_assoc *a, struct hip_esp_keys *ret)
{
	if (!a->keyed || !a->esp.spi_out)
		return -EAGAIN;
	*ret = a->esp;
	return 0;
}

void hip_assoc_set_user(struct hip_assoc *a, void *user)
{
	a->user = user;
}

void *hip_assoc_user(const struct hip_assoc *a)
{
	return a->user;
}

uint16_t hip_unknown_critical(const struct hip_msg *m, const uint16_t *known, size_t n)
{
	for (size_t i = 0; i < m->nparams; i++) {
		uint16_t t = m->params[i].type;
		bool ok = false;

		if (!HIP_PARAM_CRITICAL(t))
			continue;
		for (size_t k = 0; k < n && !ok; k++)
			ok = known[k] == t;
		if (!ok)
			return t;
	}
	return 0;
}

static void send_unsupported_critical(struct hip_host *h, const struct hip_msg *m,
                                      const struct hip_locator *from, uint16_t type, uint64_t now)
{
	uint8_t data[2];

	store_be16(data, type);
	hip_send_notify(h, &m->sender, from, HIP_N_UNSUPPORTED_CRITICAL_PARAMETER_TYPE, data,
	                sizeof(data), now);
}

/* ---- I1 ---- */

static int send_i1(struct hip_host *h, struct hip_assoc *a)
{
	struct hip_builder b;
	struct hip_list8 groups = {.ids = {HIP_OUR_DH_GROUP}, .n = 1};
	int r;

	hip_builder_init(&b, a->out, sizeof(a->out), HIP_I1, &h->hit,
	                 a->opportunistic ? NULL : &a->peer);
	hip_list8_encode(&b, HIP_P_DH_GROUP_LIST, &groups);
	r = hip_builder_finish(&b);
	if (r < 0)
		return r;
	a->out_len = (size_t)r;
	return hip_send(h, &a->loc, a->out, a->out_len);
}

int hip_host_connect(struct hip_host *h, const struct hit *peer, const struct hip_locator *to,
                     uint64_t now, struct hip_assoc **ret)
{
	struct hip_assoc *a = NULL;
	int r;

	if (h->refusing)
		return -ENETDOWN;
	if (peer && !hit_is_zero(peer)) {
		if (hit_cmp(peer, &h->hit) == 0)
			return -EINVAL;
		a = hip_host_find(h, peer);
	} else {
		a = find_by_locator(h, to);
		if (!a)
			a = find_opportunistic(h, to);
	}
	if (a && assoc_active(a)) {
		if (ret)
			*ret = a;
		return -EALREADY;
	}
	if (!a) {
		a = hip_assoc_new(h, peer, to);
		if (!a)
			return -ENOMEM;
	}
	a->loc = *to;
	a->have_alt = false;
	hip_assoc_forget_keys(a);
	a->have_r1_counter = false;
	hip_assoc_set_state(a, HIP_STATE_I1_SENT);
	r = send_i1(h, a);
	hip_assoc_arm(a, HIP_PENDING_I1, now);
	if (ret)
		*ret = a;
	/* A send error is transient (no route yet); retransmission covers it. */
	return r < 0 && r != -EAGAIN && r != -ENETUNREACH && r != -EHOSTUNREACH ? r : 0;
}

int hip_host_reconnect(struct hip_host *h, struct hip_assoc *a, const struct hip_locator *to,
                       uint64_t now)
{
	int r;

	if (h->refusing)
		return -ENETDOWN;
	if (a->state != HIP_STATE_ESTABLISHED && a->state != HIP_STATE_R2_SENT)
		return -ENOTCONN;
	/* The old SAs and everything built on them go first. */
	hip_event(h, a, HIP_EVENT_CLOSED);
	a->loc = *to;
	a->want_ice = true;
	a->have_alt = false;
	hip_assoc_forget_keys(a);
	a->have_r1_counter = false;
	hip_assoc_set_state(a, HIP_STATE_I1_SENT);
	r = send_i1(h, a);
	hip_assoc_arm(a, HIP_PENDING_I1, now);
	return r < 0 && r != -EAGAIN && r != -ENETUNREACH && r != -EHOSTUNREACH ? r : 0;
}

int hip_assoc_also_direct(struct hip_host *h, struct hip_assoc *a, const struct hip_locator *direct)
{
	int r;

	if (a->state != HIP_STATE_I1_SENT)
		return -EBUSY;
	a->alt = *direct;
	a->have_alt = true;
	r = hip_send(h, &a->alt, a->out, a->out_len);
	return r < 0 && r != -EAGAIN && r != -ENETUNREACH && r != -EHOSTUNREACH ? r : 0;
}

static bool loc_eq(const struct hip_locator *x, const struct hip_locator *y)
{
	return x->len == y->len && memcmp(&x->addr, &y->addr, x->len) == 0;
}

void hip_host_set_accepting(struct hip_host *h, bool accepting)
{
	h->refusing = !accepting;
}

int hip_assoc_reroute(struct hip_host *h, struct hip_assoc *a, const struct hip_locator *to,
                      uint64_t now)
{
	int r;

	if (a->state != HIP_STATE_I1_SENT)
		return -EBUSY;
	/* The direct locator leaves the race: it is what others saw of the
	 * peer (behind a NAT its router's mapping), and an R1 from there would
	 * make a direct association that looks like a host path. */
	a->have_alt = false;
	a->loc = *to;
	a->want_ice = true;
	r = send_i1(h, a);
	hip_assoc_arm(a, HIP_PENDING_I1, now);
	return r < 0 && r != -EAGAIN && r != -ENETUNREACH && r != -EHOSTUNREACH ? r : 0;
}

static int handle_i1(struct hip_host *h, const struct hip_msg *m, const struct hip_locator *from,
                     uint64_t now, const char **reason)
{
	static const uint16_t known[] = {HIP_P_DH_GROUP_LIST};
	struct hip_assoc *a = hip_host_find(h, &m->sender);
	uint8_t r1[HIP_MAX_PACKET];
	uint16_t unknown = hip_unknown_critical(m, known, ARRAY_SIZE(known));
	int r;

	if (h->refusing)
		FAIL("I1 refused: this host takes no new associations (it left)");
	if (unknown) {
		send_unsupported_critical(h, m, from, unknown, now);
		FAIL("I1 with an unsupported critical parameter");
	}
	if (!hip_msg_find(m, HIP_P_DH_GROUP_LIST))
		FAIL("I1 without DH_GROUP_LIST");
	/* Simultaneous initiation: the host with the greater HIT acts as Responder. */
	if (a && a->state == HIP_STATE_I1_SENT && hit_cmp(&h->hit, &m->sender) < 0) {
		*reason = "simultaneous I1: the peer has the greater HIT and answers ours";
		return -EALREADY;
	}
	r = r1_build(h, &m->sender, from, r1, sizeof(r1));
	if (r < 0)
		FAIL("cannot build R1");
	hip_send(h, from, r1, (size_t)r);
	return 0;
}

/* Replaces any other association with the same peer HIT: it is closed for the
 * caller (its SAs go) and destroyed at the next tick. */
static void retire_others(struct hip_host *h, struct hip_assoc *keep, const struct hit *peer)
{
	for (struct hip_assoc *o = h->assocs; o; o = o->next) {
		if (o == keep || o->opportunistic || hit_cmp(&o->peer, peer) != 0 ||
		    o->state == HIP_STATE_UNASSOCIATED)
			continue;
		if (o->keyed && (o->state == HIP_STATE_ESTABLISHED ||
		                 o->state == HIP_STATE_R2_SENT || o->state == HIP_STATE_CLOSING))
			hip_event(h, o, HIP_EVENT_CLOSED);
		hip_assoc_disarm(o);
		hip_assoc_forget_keys(o);
		hip_assoc_set_state(o, HIP_STATE_UNASSOCIATED);
		o->timer_at = 0;
	}
}

/* ---- R1 ---- */

struct r1_choice {
	uint16_t cipher;
	uint16_t nat_mode; /* 0 when the R1 offers none */
	struct hip_puzzle pz;
	struct hip_dh dh;
	uint64_t counter;
	bool have_counter;
};

static bool list8_has(const struct hip_list8 *l, uint8_t v)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->ids[i] == v)
			return true;
	return false;
}

static bool list16_has(const struct hip_list16 *l, uint16_t v)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->ids[i] == v)
			return true;
	return false;
}

/* RFC 5770 section 4.3: ICE when we want it and it is offered, else plain
 * UDP encapsulation; an R1 without the parameter chooses nothing. */
static int nat_mode_choose(const struct hip_msg *m, bool want_ice, uint16_t *ret,
                           const char **reason)
{
	const struct hip_param *p = hip_msg_find(m, HIP_P_NAT_TRAVERSAL_MODE);
	uint16_t modes[HIP_NAT_MODES_MAX];
	bool ice = false, udp = false;
	size_t n;

	*ret = 0;
	if (!p)
		return 0;
	if (hip_nat_mode_decode(p, modes, ARRAY_SIZE(modes), &n) < 0)
		FAIL("R1 NAT_TRAVERSAL_MODE malformed");
	for (size_t i = 0; i < n; i++) {
		ice |= modes[i] == HIP_NAT_ICE_STUN;
		udp |= modes[i] == HIP_NAT_UDP;
	}
	if (want_ice && ice)
		*ret = HIP_NAT_ICE_STUN;
	else if (udp)
		*ret = HIP_NAT_UDP;
	else if (ice)
		*ret = HIP_NAT_ICE_STUN;
	else
		FAIL("R1 offers no NAT traversal mode we speak");
	return 0;
}

static int r1_negotiate(struct hip_host *h, const struct hip_msg *m, struct r1_choice *c,
                        bool want_ice, const struct hip_locator *from, uint64_t now,
                        const char **reason)
{
	const struct hip_param *p;
	struct hip_list8 groups, suites;
	struct hip_list16 ciphers, tfs, esps;
	uint16_t notify = 0;

	if (hip_list8_decode(hip_msg_find(m, HIP_P_DH_GROUP_LIST), &groups) < 0 ||
	    hip_dh_decode(hip_msg_find(m, HIP_P_DIFFIE_HELLMAN), &c->dh) < 0 ||
	    hip_list16_decode(hip_msg_find(m, HIP_P_HIP_CIPHER), &ciphers) < 0 ||
	    hip_list8_decode(hip_msg_find(m, HIP_P_HIT_SUITE_LIST), &suites) < 0 ||
	    hip_list16_decode(hip_msg_find(m, HIP_P_TRANSPORT_FORMAT_LIST), &tfs) < 0 ||
	    hip_list16_decode(hip_msg_find(m, HIP_P_ESP_TRANSFORM), &esps) < 0 ||
	    hip_puzzle_decode(hip_msg_find(m, HIP_P_PUZZLE), HIP_RHASH_LEN, &c->pz) < 0)
		FAIL("R1 with a missing or malformed parameter");
	p = hip_msg_find(m, HIP_P_R1_COUNTER);
	c->have_counter = p && hip_r1_counter_decode(p, &c->counter) == 0;

	/* Downgrade protection (section 4.1.4): the Responder must have chosen its
	 * most preferred group among those we offered, and its list is signed. */
	c->cipher = 0;
	for (size_t i = 0; i < ciphers.n && !c->cipher; i++)
		if (hip_cipher_key_len(ciphers.ids[i]))
			c->cipher = ciphers.ids[i];
	if (c->dh.group != HIP_OUR_DH_GROUP || groups.n == 0 || groups.ids[0] != HIP_OUR_DH_GROUP)
		notify = HIP_N_NO_DH_PROPOSAL_CHOSEN;
	else if (!list8_has(&suites, HIP_OUR_HIT_SUITE))
		notify = HIP_N_UNSUPPORTED_HIT_SUITE;
	else if (!c->cipher)
		notify = HIP_N_NO_HIP_PROPOSAL_CHOSEN;
	else if (!list16_has(&tfs, HIP_P_ESP_TRANSFORM) || !list16_has(&esps, HIP_ESP_SUITE))
		notify = HIP_N_NO_ESP_PROPOSAL_CHOSEN;
	if (notify) {
		hip_send_notify(h, &m->sender, from, notify, NULL, 0, now);
		FAIL("R1 offers nothing we support");
	}
	if (c->pz.k > HIP_MAX_PUZZLE_K)
		FAIL("R1 puzzle too difficult");
	return nat_mode_choose(m, want_ice, &c->nat_mode, reason);
}

/* Our candidates as type-2 locators for an I2 or R2 in ICE mode. */
static size_t our_candidates(struct hip_host *h, struct hip_assoc *a, struct hip_locator_entry *out)
{
	size_t n;

	if (a->nat_mode != HIP_NAT_ICE_STUN || !h->ops.candidates)
		return 0;
	n = h->ops.candidates(h->ops.ctx, a, out, HIP_LOCATORS_MAX);
	if (n > HIP_LOCATORS_MAX)
		n = HIP_LOCATORS_MAX;
	hip_candidates_finish(a, out, n);
	return n;
}

void hip_candidates_finish(const struct hip_assoc *a, struct hip_locator_entry *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		c[i].type = HIP_LOCATOR_TRANSPORT;
		c[i].traffic = HIP_TRAFFIC_BOTH;
		c[i].protocol = IPPROTO_UDP;
		c[i].spi = a->esp.spi_in;
		if (c[i].lifetime == 0)
			c[i].lifetime = HIP_LOCATOR_LIFETIME_S;
	}
}

/* The peer's candidates, when its packet carries a LOCATOR_SET. */
static int peer_candidates(const struct hip_msg *m, struct hip_locator_entry *out, size_t *ret_n)
{
	const struct hip_param *p = hip_msg_find(m, HIP_P_LOCATOR_SET);

	*ret_n = 0;
	if (!p)
		return 0;
	return hip_locator_set_decode(p, out, HIP_LOCATORS_MAX, ret_n);
}

static int build_i2(struct hip_host *h, struct hip_assoc *a, const struct r1_choice *c,
                    const uint8_t *j, const uint8_t *dhpub, size_t dhpublen)
{
	struct hip_builder b;
	struct hip_esp_info ei = {.keymat_index = a->keys.esp_keymat_index,
	                          .new_spi = a->esp.spi_in};
	struct hip_solution sol = {.k = c->pz.k, .ilen = HIP_RHASH_LEN};
	struct hip_dh dh = {.group = HIP_OUR_DH_GROUP, .pub = dhpub, .publen = dhpublen};
	struct hip_list16 cipher = {.ids = {c->cipher}, .n = 1};
	struct hip_list16 tf = {.ids = {HIP_P_ESP_TRANSFORM}, .n = 1};
	struct hip_list16 esp = {.ids = {HIP_ESP_SUITE}, .n = 1};
	struct hip_locator_entry cands[HIP_LOCATORS_MAX];
	size_t ncands = our_candidates(h, a, cands);
	int r;

	memcpy(sol.opaque, c->pz.opaque, 2);
	memcpy(sol.i, c->pz.i, HIP_RHASH_LEN);
	memcpy(sol.j, j, HIP_RHASH_LEN);
	hip_builder_init(&b, a->out, sizeof(a->out), HIP_I2, &h->hit, &a->peer);
	hip_esp_info_encode(&b, &ei);
	if (c->have_counter)
		hip_r1_counter_encode(&b, c->counter);
	if (ncands)
		hip_locator_set_encode(&b, cands, ncands);
	hip_solution_encode(&b, &sol);
	hip_dh_encode(&b, &dh);
	hip_list16_encode(&b, HIP_P_HIP_CIPHER, &cipher);
	if (c->nat_mode)
		hip_nat_mode_encode(&b, &c->nat_mode, 1);
	hip_builder_param_copy(&b, HIP_P_HOST_ID, h->host_id_tlv + 4,
	                       load_be16(h->host_id_tlv + 2));
	hip_list16_encode(&b, HIP_P_TRANSPORT_FORMAT_LIST, &tf);
	hip_list16_encode(&b, HIP_P_ESP_TRANSFORM, &esp);
	hip_builder_mac(&b, HIP_P_HIP_MAC, HIP_RHASH, a->keys.mac_out, a->keys.maclen, NULL, 0);
	hip_builder_sign(&b, HIP_P_HIP_SIGNATURE, h->id);
	r = hip_builder_finish(&b);
	if (r < 0)
		return r;
	a->out_len = (size_t)r;
	return 0;
}

/* Verifies the Responder's HOST_ID against the HIT it claims. */
static int peer_identity(const struct hip_msg *m, const struct hip_param *p, struct hi_pub **ret,
                         const char **reason)
{
	struct hip_host_id hid;
	struct hi_pub *pub;

	if (!p || hip_host_id_decode(p, &hid) < 0)
		FAIL("missing or malformed HOST_ID");
	if (hi_pub_parse(hid.algorithm, hid.hi, hid.hilen, &pub) < 0)
		FAIL("unsupported or invalid Host Identity");
	if (hit_cmp(hi_pub_hit(pub), &m->sender) != 0) {
		hi_pub_free(pub);
		FAIL("sender HIT does not match its Host Identity");
	}
	*ret = pub;
	return 0;
}

/* In ICE mode, 32 bytes right after the first two ESP keys. The Initiator
 * draws it as soon as it has KEYMAT (R1), so its candidates can go into the
 * I2 with the credentials known; the Responder when the I2 keys it. */
static int ice_key_draw(struct hip_assoc *a)
{
	size_t at = (size_t)a->keys.esp_keymat_index + 2 * ESP_KEYMAT_LEN;

	if (at + HIP_ICE_KEY_LEN > a->km.len)
		return -ERANGE;
	memcpy(a->ice_key, a->km.bytes + at, HIP_ICE_KEY_LEN);
	a->have_ice_key = true;
	return 0;
}

static int handle_r1(struct hip_host *h, const struct hip_msg *m, const struct hip_locator *from,
                     uint64_t now, const char **reason)
{
	static const uint16_t known[] = {HIP_P_R1_COUNTER,
	                                 HIP_P_PUZZLE,
	                                 HIP_P_DH_GROUP_LIST,
	                                 HIP_P_DIFFIE_HELLMAN,
	                                 HIP_P_HIP_CIPHER,
	                                 HIP_P_NAT_TRAVERSAL_MODE,
	                                 HIP_P_HOST_ID,
	                                 HIP_P_HIT_SUITE_LIST,
	                                 HIP_P_ECHO_REQUEST_SIGNED,
	                                 HIP_P_TRANSPORT_FORMAT_LIST,
	                                 HIP_P_ESP_TRANSFORM,
	                                 HIP_P_HIP_SIGNATURE_2,
	                                 HIP_P_ECHO_REQUEST_UNSIGNED};
	struct hip_assoc *a = hip_host_find(h, &m->sender);
	const struct hip_param *hid = hip_msg_find(m, HIP_P_HOST_ID);
	struct r1_choice c;
	struct hi_pub *pub = NULL;
	struct dh *dh = NULL;
	uint8_t j[HIP_RHASH_LEN], kij[DH_MAX_SECRET_LEN], pub_out[DH_MAX_PUB_LEN];
	uint8_t digest[HASH_MAX_LEN];
	uint16_t unknown;
	size_t enclen;
	int r, n;

	/* An old association with this HIT (closed, failed) must not hide the
	 * opportunistic exchange we are running with the same peer now. */
	if (!a || (a->state != HIP_STATE_I1_SENT && a->state != HIP_STATE_I2_SENT))
		a = find_opportunistic(h, from);
	if (!a || (a->state != HIP_STATE_I1_SENT && a->state != HIP_STATE_I2_SENT))
		FAIL("unexpected R1");
	if (hit_cmp(&m->receiver, &h->hit) != 0)
		FAIL("R1 not addressed to our HIT");
	/* Once an I2 is out, the R1 that the other copy of our I1 brought back
	 * (another path, another puzzle) must not start a second I2. */
	if (a->state == HIP_STATE_I2_SENT && from && !loc_eq(from, &a->loc))
		FAIL("R1 from another path than our I2's");
	unknown = hip_unknown_critical(m, known, ARRAY_SIZE(known));
	if (unknown) {
		send_unsupported_critical(h, m, from, unknown, now);
		FAIL("R1 with an unsupported critical parameter");
	}
	if (peer_identity(m, hid, &pub, reason) < 0)
		return -EBADMSG;
	if (hip_msg_verify_sig(m, HIP_P_HIP_SIGNATURE_2, pub) < 0) {
		hi_pub_free(pub);
		FAIL("R1 signature invalid");
	}
	/* The direct I1 got through first: a direct association, no ICE. */
	if (a->state == HIP_STATE_I1_SENT && a->have_alt && from && loc_eq(from, &a->alt)) {
		a->loc = a->alt;
		a->want_ice = false;
	}
	if (r1_negotiate(h, m, &c, a->want_ice, from, now, reason) < 0) {
		hi_pub_free(pub);
		return -EBADMSG;
	}
	if (a->have_r1_counter && c.have_counter && c.counter < a->r1_counter) {
		hi_pub_free(pub);
		FAIL("R1 from an older generation");
	}
	/* In I2-SENT an identical R1 changes nothing; a different one (its puzzle is
	 * outside the signature) is answered again, as section 4.4.2 asks. */
	if (hash_digest(HIP_RHASH, m->raw, m->len, digest) < 0) {
		hi_pub_free(pub);
		return -EIO;
	}
	if (a->state == HIP_STATE_I2_SENT && memcmp(digest, a->r1_digest, HIP_RHASH_LEN) == 0) {
		hi_pub_free(pub);
		*reason = "duplicate R1";
		return -EALREADY;
	}

	r = puzzle_solve(HIP_RHASH, c.pz.i, HIP_RHASH_LEN, &h->hit, &m->sender, c.pz.k,
	                 h->cfg.max_puzzle_tries, j);
	if (r < 0)
		goto fail_puzzle;
	r = dh_generate(HIP_OUR_DH_GROUP, &dh);
	if (r < 0)
		goto fail;
	n = dh_shared(dh, c.dh.pub, c.dh.publen, kij, sizeof(kij));
	r = dh_public(dh, pub_out, sizeof(pub_out));
	dh = dh_free(dh);
	if (n < 0) {
		hi_pub_free(pub);
		FAIL("R1 Diffie-Hellman public value invalid");
	}
	if (r < 0)
		goto fail;

	/* Commit: from here on the association belongs to this Responder. */
	if (a->opportunistic)
		retire_others(h, a, &m->sender);
	a->peer = m->sender;
	a->opportunistic = false;
	hi_pub_free(a->peer_hi);
	a->peer_hi = pub;
	a->peer_host_id_tlv_len = 4u + hid->len + (8u - (hid->len + 4u) % 8u) % 8u;
	memcpy(a->peer_host_id_tlv, m->raw + hid->offset, a->peer_host_id_tlv_len);
	a->r1_counter = c.counter;
	a->have_r1_counter = c.have_counter;
	memcpy(a->r1_digest, digest, HIP_RHASH_LEN);
	a->cipher = c.cipher;
	a->nat_mode = c.nat_mode;
	a->initiator = true;
	enclen = hip_cipher_key_len(c.cipher);
	r = hip_keymat_derive(&a->km, HIP_RHASH, kij, (size_t)n, c.pz.i, j, HIP_RHASH_LEN, &h->hit,
	                      &m->sender);
	memzero(kij, sizeof(kij));
	if (r < 0)
		return r;
	r = hip_keys_draw(&a->km, enclen, HIP_RHASH_LEN, &h->hit, &a->peer, &a->keys);
	if (r == 0 && a->nat_mode == HIP_NAT_ICE_STUN)
		r = ice_key_draw(a);
	if (r < 0)
		return r;
	a->keyed = true;
	a->esp = (struct hip_esp_keys){.suite = HIP_ESP_SUITE, .spi_in = esp_spi_random()};
	r = build_i2(h, a, &c, j, pub_out, DH_P256_PUB_LEN);
	if (r < 0)
		return r;
	hip_assoc_set_state(a, HIP_STATE_I2_SENT);
	a->have_alt = false;
	hip_send(h, &a->loc, a->out, a->out_len);
	hip_assoc_arm(a, HIP_PENDING_I2, now);
	return 0;

fail_puzzle:
	hi_pub_free(pub);
	FAIL("could not solve the R1 puzzle in time");
fail:
	hi_pub_free(pub);
	return r;
}

/* ---- I2 ---- */

struct i2_result {
	uint16_t nat_mode;
	struct hip_locator_entry cands[HIP_LOCATORS_MAX];
	size_t ncands;
	struct hi_pub *pub;
	struct hip_keymat km;
	struct hip_keys keys;
	uint16_t cipher;
	uint32_t peer_spi;
};

static void i2_result_done(struct i2_result *x)
{
	x->pub = hi_pub_free(x->pub);
	memzero(x, sizeof(*x));
}

/* The Initiator's HOST_ID, in the clear or inside ENCRYPTED (AES-CBC with the
 * Initiator's HIP encryption key; RFC 7401 section 5.2.18). */
static int i2_host_id(const struct hip_msg *m, const struct i2_result *x, struct hi_pub **ret,
                      const char **reason)
{
	const struct hip_param *p = hip_msg_find(m, HIP_P_HOST_ID);
	const struct hip_param *e = hip_msg_find(m, HIP_P_ENCRYPTED);
	uint8_t plain[HIP_MAX_PACKET];
	struct hip_param inner;
	size_t clen;
	int r;

	if (p || !e)
		return peer_identity(m, p, ret, reason);
	if (x->cipher == HIP_CIPHER_NULL || e->len < 4 + CBC_BLOCK + CBC_BLOCK)
		FAIL("malformed ENCRYPTED");
	clen = e->len - 4 - CBC_BLOCK;
	clen -= clen % CBC_BLOCK;
	if (cbc_decrypt(x->keys.enc_in, x->keys.enclen, e->val + 4, e->val + 4 + CBC_BLOCK, clen,
	                plain) < 0)
		FAIL("cannot decrypt ENCRYPTED");
	if (clen < 4)
		FAIL("malformed ENCRYPTED");
	inner = (struct hip_param){
	        .type = load_be16(plain), .len = load_be16(plain + 2), .val = plain + 4};
	if (inner.type != HIP_P_HOST_ID || inner.len > clen - 4)
		FAIL("ENCRYPTED does not hold a HOST_ID");
	r = peer_identity(m, &inner, ret, reason);
	memzero(plain, sizeof(plain));
	return r;
}

static int i2_verify(struct hip_host *h, const struct hip_msg *m, const struct hip_locator *from,
                     struct i2_result *x, uint64_t now, const char **reason)
{
	struct hip_solution sol;
	struct hip_dh dh;
	struct hip_list16 cipher, tfs, esps;
	struct hip_esp_info ei;
	const struct r1_gen *g;
	const struct hip_param *p;
	uint8_t kij[DH_MAX_SECRET_LEN];
	uint64_t counter;
	int n, r;

	if (hip_solution_decode(hip_msg_find(m, HIP_P_SOLUTION), HIP_RHASH_LEN, &sol) < 0)
		FAIL("I2 without a valid SOLUTION");
	r = r1_check_solution(h, &m->sender, from, sol.opaque, sol.i, sol.j, sol.k, &g);
	if (r == -ESTALE)
		FAIL("I2 answers an R1 generation we no longer have");
	if (r < 0)
		FAIL("I2 puzzle solution wrong");
	p = hip_msg_find(m, HIP_P_R1_COUNTER);
	if (p && (hip_r1_counter_decode(p, &counter) < 0 || counter != g->counter))
		FAIL("I2 R1_COUNTER does not match");
	if (hip_esp_info_decode(hip_msg_find(m, HIP_P_ESP_INFO), &ei) < 0 ||
	    hip_dh_decode(hip_msg_find(m, HIP_P_DIFFIE_HELLMAN), &dh) < 0 ||
	    hip_list16_decode(hip_msg_find(m, HIP_P_HIP_CIPHER), &cipher) < 0 ||
	    hip_list16_decode(hip_msg_find(m, HIP_P_TRANSPORT_FORMAT_LIST), &tfs) < 0 ||
	    hip_list16_decode(hip_msg_find(m, HIP_P_ESP_TRANSFORM), &esps) < 0 ||
	    !hip_msg_find(m, HIP_P_HIP_MAC) || !hip_msg_find(m, HIP_P_HIP_SIGNATURE))
		FAIL("I2 with a missing or malformed parameter");
	if (dh.group != HIP_OUR_DH_GROUP) {
		hip_send_notify(h, &m->sender, from, HIP_N_INVALID_DH_CHOSEN, NULL, 0, now);
		FAIL("I2 uses a DH group we did not offer");
	}
	if (cipher.n != 1 || !hip_cipher_key_len(cipher.ids[0])) {
		hip_send_notify(h, &m->sender, from, HIP_N_INVALID_HIP_CIPHER_CHOSEN, NULL, 0, now);
		FAIL("I2 chose a HIP cipher we did not offer");
	}
	if (esps.n != 1 || esps.ids[0] != HIP_ESP_SUITE || !list16_has(&tfs, HIP_P_ESP_TRANSFORM)) {
		hip_send_notify(h, &m->sender, from, HIP_N_INVALID_ESP_TRANSFORM_CHOSEN, NULL, 0,
		                now);
		FAIL("I2 chose an ESP transform we did not offer");
	}
	n = dh_shared(g->dh, dh.pub, dh.publen, kij, sizeof(kij));
	if (n < 0)
		FAIL("I2 Diffie-Hellman public value invalid");
	x->cipher = cipher.ids[0];
	r = hip_keymat_derive(&x->km, HIP_RHASH, kij, (size_t)n, sol.i, sol.j, HIP_RHASH_LEN,
	                      &m->sender, &h->hit);
	memzero(kij, sizeof(kij));
	if (r < 0)
		return r;
	r = hip_keys_draw(&x->km, hip_cipher_key_len(x->cipher), HIP_RHASH_LEN, &h->hit, &m->sender,
	                  &x->keys);
	if (r < 0)
		return r;
	if (hip_msg_verify_mac(m, HIP_P_HIP_MAC, HIP_RHASH, x->keys.mac_in, x->keys.maclen, NULL,
	                       0) < 0) {
		hip_send_notify(h, &m->sender, from, HIP_N_HIP_MAC_FAILED, NULL, 0, now);
		FAIL("I2 HIP_MAC invalid");
	}
	if (i2_host_id(m, x, &x->pub, reason) < 0) {
		hip_send_notify(h, &m->sender, from, HIP_N_INVALID_HIT, NULL, 0, now);
		return -EBADMSG;
	}
	if (hip_msg_verify_sig(m, HIP_P_HIP_SIGNATURE, x->pub) < 0) {
		hip_send_notify(h, &m->sender, from, HIP_N_AUTHENTICATION_FAILED, NULL, 0, now);
		FAIL("I2 signature invalid");
	}
	if (ei.keymat_index != x->keys.esp_keymat_index || ei.old_spi != 0 || ei.new_spi == 0)
		FAIL("I2 ESP_INFO inconsistent");
	x->peer_spi = ei.new_spi;
	return 0;
}

/* The I2's NAT_TRAVERSAL_MODE must pick one mode our R1 offered (RFC 5770
 * section 4.3); in ICE mode its LOCATOR_SET carries the candidates. */
static int i2_nat(const struct hip_host *h, const struct hip_msg *m, struct i2_result *x,
                  const char **reason)
{
	const struct hip_param *p = hip_msg_find(m, HIP_P_NAT_TRAVERSAL_MODE);
	size_t n;

	if (p) {
		if (hip_nat_mode_decode(p, &x->nat_mode, 1, &n) < 0 || n != 1)
			FAIL("I2 NAT_TRAVERSAL_MODE malformed");
		if (!h->cfg.offer_ice ||
		    (x->nat_mode != HIP_NAT_ICE_STUN && x->nat_mode != HIP_NAT_UDP))
			FAIL("I2 chose a NAT traversal mode we did not offer");
	}
	if (peer_candidates(m, x->cands, &x->ncands) < 0)
		FAIL("I2 LOCATOR_SET malformed or unsupported");
	return 0;
}

static int build_r2(struct hip_host *h, struct hip_assoc *a)
{
	struct hip_builder b;
	struct hip_esp_info ei = {.keymat_index = a->keys.esp_keymat_index,
	                          .new_spi = a->esp.spi_in};
	int r;

	struct hip_locator_entry cands[HIP_LOCATORS_MAX];
	size_t ncands = our_candidates(h, a, cands);

	hip_builder_init(&b, a->r2, sizeof(a->r2), HIP_R2, &h->hit, &a->peer);
	hip_esp_info_encode(&b, &ei);
	if (ncands)
		hip_locator_set_encode(&b, cands, ncands);
	hip_builder_mac(&b, HIP_P_HIP_MAC_2, HIP_RHASH, a->keys.mac_out, a->keys.maclen,
	                h->host_id_tlv, h->host_id_tlv_len);
	hip_builder_sign(&b, HIP_P_HIP_SIGNATURE, h->id);
	r = hip_builder_finish(&b);
	if (r < 0)
		return r;
	a->r2_len = (size_t)r;
	return 0;
}

static int install_esp_keys(struct hip_host *h, struct hip_assoc *a, size_t index)
{
	int r = hip_esp_keys_draw(&a->km, index, ESP_KEYMAT_LEN, &h->hit, &a->peer, a->esp.key_out,
	                          a->esp.key_in);
	if (r < 0)
		return r;
	a->esp.keylen = ESP_KEYMAT_LEN;
	a->esp_index = index + 2 * ESP_KEYMAT_LEN;
	/* ICE's key comes next; later rekeys draw after it. */
	if (a->nat_mode == HIP_NAT_ICE_STUN) {
		r = ice_key_draw(a);
		a->esp_index += HIP_ICE_KEY_LEN;
	}
	return r;
}

static int handle_i2(struct hip_host *h, const struct hip_msg *m, const struct hip_locator *from,
                     uint64_t now, const char **reason)
{
	static const uint16_t known[] = {HIP_P_ESP_INFO,
	                                 HIP_P_R1_COUNTER,
	                                 HIP_P_LOCATOR_SET,
	                                 HIP_P_SOLUTION,
	                                 HIP_P_DIFFIE_HELLMAN,
	                                 HIP_P_HIP_CIPHER,
	                                 HIP_P_NAT_TRAVERSAL_MODE,
	                                 HIP_P_ENCRYPTED,
	                                 HIP_P_HOST_ID,
	                                 HIP_P_ECHO_RESPONSE_SIGNED,
	                                 HIP_P_TRANSPORT_FORMAT_LIST,
	                                 HIP_P_ESP_TRANSFORM,
	                                 HIP_P_HIP_MAC,
	                                 HIP_P_HIP_SIGNATURE,
	                                 HIP_P_ECHO_RESPONSE_UNSIGNED};
	struct hip_assoc *a = hip_host_find(h, &m->sender);
	uint8_t digest[HASH_MAX_LEN];
	struct i2_result x = {0};
	uint16_t unknown;
	bool was_keyed;
	int r;

	if (h->refusing)
		FAIL("I2 refused: this host takes no new associations (it left)");
	if (hit_cmp(&m->receiver, &h->hit) != 0)
		FAIL("I2 not addressed to our HIT");
	if (hash_digest(HIP_RHASH, m->raw, m->len, digest) < 0)
		return -EIO;
	if (a && a->state == HIP_STATE_R2_SENT &&
	    memcmp(digest, a->i2_digest, HIP_RHASH_LEN) == 0) {
		hip_send(h, from, a->r2, a->r2_len);
		return 0;
	}
	if (a && a->state == HIP_STATE_I2_SENT && hit_cmp(&h->hit, &m->sender) < 0) {
		*reason = "simultaneous I2: the peer has the greater HIT and answers ours";
		return -EALREADY;
	}
	unknown = hip_unknown_critical(m, known, ARRAY_SIZE(known));
	if (unknown) {
		send_unsupported_critical(h, m, from, unknown, now);
		FAIL("I2 with an unsupported critical parameter");
	}
	r = i2_verify(h, m, from, &x, now, reason);
	if (r < 0) {
		i2_result_done(&x);
		return r;
	}
	if (i2_nat(h, m, &x, reason) < 0) {
		i2_result_done(&x);
		return -EBADMSG;
	}

	/* Valid I2: it replaces whatever we had with this peer (section 4.4.2). */
	if (!a) {
		a = hip_assoc_new(h, &m->sender, from);
		if (!a) {
			i2_result_done(&x);
			return -ENOMEM;
		}
	}
	was_keyed =
	        a->keyed && (a->state == HIP_STATE_ESTABLISHED || a->state == HIP_STATE_R2_SENT);
	if (was_keyed)
		hip_event(h, a, HIP_EVENT_CLOSED);
	hip_assoc_forget_keys(a);
	a->loc = *from;
	hi_pub_free(a->peer_hi);
	a->peer_hi = x.pub;
	x.pub = NULL;
	a->km = x.km;
	a->keys = x.keys;
	a->cipher = x.cipher;
	a->nat_mode = x.nat_mode;
	a->initiator = false;
	memcpy(a->peer_cands, x.cands, sizeof(x.cands));
	a->npeer_cands = x.ncands;
	a->keyed = true;
	a->have_update_in = false;
	a->update_id_out = 0;
	a->esp = (struct hip_esp_keys){
	        .suite = HIP_ESP_SUITE, .spi_in = esp_spi_random(), .spi_out = x.peer_spi};
	i2_result_done(&x);
	r = install_esp_keys(h, a, a->keys.esp_keymat_index);
	if (r < 0)
		return r;
	r = build_r2(h, a);
	if (r < 0)
		return r;
	memcpy(a->i2_digest, digest, HIP_RHASH_LEN);
	hip_send(h, from, a->r2, a->r2_len);
	hip_assoc_set_state(a, HIP_STATE_R2_SENT);
	hip_assoc_disarm(a);
	/* R2-SENT turns into ESTABLISHED on the first authenticated packet from the
	 * peer or after this hold time (section 4.4.2). */
	a->timer_at = now + 4 * h->cfg.retransmit_ms;
	hip_event(h, a, HIP_EVENT_ESTABLISHED);
	return 0;
}

/* ---- R2 ---- */

static int handle_r2(struct hip_host *h, const struct hip_msg *m, uint64_t now, const char **reason)
{
	static const uint16_t known[] = {HIP_P_ESP_INFO, HIP_P_LOCATOR_SET, HIP_P_HIP_MAC_2,
	                                 HIP_P_HIP_SIGNATURE};
	struct hip_assoc *a = hip_host_find(h, &m->sender);
	struct hip_locator_entry cands[HIP_LOCATORS_MAX];
	struct hip_esp_info ei;
	size_t ncands;
	int r;

	if (!a || a->state != HIP_STATE_I2_SENT)
		FAIL("unexpected R2");
	if (hit_cmp(&m->receiver, &h->hit) != 0)
		FAIL("R2 not addressed to our HIT");
	if (hip_unknown_critical(m, known, ARRAY_SIZE(known)))
		FAIL("R2 with an unsupported critical parameter");
	if (hip_msg_verify_mac(m, HIP_P_HIP_MAC_2, HIP_RHASH, a->keys.mac_in, a->keys.maclen,
	                       a->peer_host_id_tlv, a->peer_host_id_tlv_len) < 0)
		FAIL("R2 HIP_MAC_2 invalid");
	if (hip_msg_verify_sig(m, HIP_P_HIP_SIGNATURE, a->peer_hi) < 0)
		FAIL("R2 signature invalid");
	if (hip_esp_info_decode(hip_msg_find(m, HIP_P_ESP_INFO), &ei) < 0 ||
	    ei.keymat_index != a->keys.esp_keymat_index || ei.old_spi != 0 || ei.new_spi == 0)
		FAIL("R2 ESP_INFO missing or inconsistent");
	if (peer_candidates(m, cands, &ncands) < 0)
		FAIL("R2 LOCATOR_SET malformed or unsupported");
	memcpy(a->peer_cands, cands, sizeof(cands));
	a->npeer_cands = ncands;
	a->esp.spi_out = ei.new_spi;
	r = install_esp_keys(h, a, a->keys.esp_keymat_index);
	if (r < 0)
		return r;
	hip_assoc_disarm(a);
	hip_assoc_set_state(a, HIP_STATE_ESTABLISHED);
	(void)now;
	hip_event(h, a, HIP_EVENT_ESTABLISHED);
	return 0;
}

/* ---- dispatch ---- */

int hip_host_input(struct hip_host *h, const uint8_t *pkt, size_t len,
                   const struct hip_locator *from, uint64_t now, const char **ret_reason)
{
	const char *dummy;
	const char **reason = ret_reason ? ret_reason : &dummy;
	struct hip_msg m;
	struct hip_assoc *a;

	*reason = NULL;
	if (hip_msg_parse(pkt, len, &m) < 0)
		FAIL("malformed HIP packet");
	/* Every transport we use is UDP-encapsulated (RFC 5770/9028), where the
	 * checksum covers nothing a NAT leaves intact and MUST be zero. */
	if (m.checksum != 0)
		FAIL("nonzero HIP checksum on a UDP-encapsulated packet");
	if (!hit_is_orchid(&m.sender) || hit_cmp(&m.sender, &h->hit) == 0)
		FAIL("sender HIT invalid");
	if (m.type != HIP_I1 && hit_cmp(&m.receiver, &h->hit) != 0)
		FAIL("packet not addressed to our HIT");
	if (m.type == HIP_I1 && !hit_is_zero(&m.receiver) && hit_cmp(&m.receiver, &h->hit) != 0)
		FAIL("I1 not addressed to our HIT");

	switch (m.type) {
	case HIP_I1:
		return handle_i1(h, &m, from, now, reason);
	case HIP_R1:
		return handle_r1(h, &m, from, now, reason);
	case HIP_I2:
		return handle_i2(h, &m, from, now, reason);
	case HIP_R2:
		return handle_r2(h, &m, now, reason);
	default:
		break;
	}
	a = hip_host_find(h, &m.sender);
	if (!a || !a->keyed)
		FAIL("no association with the sender");
	switch (m.type) {
	case HIP_UPDATE:
		return hip_handle_update(h, a, &m, from, now, reason);
	case HIP_NOTIFY:
		return hip_handle_notify(h, a, &m, reason);
	case HIP_CLOSE:
		return hip_handle_close(h, a, &m, now, reason);
	case HIP_CLOSE_ACK:
		return hip_handle_close_ack(h, a, &m, now, reason);
	default:
		FAIL("unsupported packet type");
	}
}

/* ---- timers ---- */

uint64_t hip_host_next_timer(const struct hip_host *h)
{
	uint64_t t = h->r1_refresh_at;

	for (const struct hip_assoc *a = h->assocs; a; a = a->next)
		if (a->timer_at < t)
			t = a->timer_at;
	return t;
}

static bool retransmit(struct hip_host *h, struct hip_assoc *a, uint64_t now)
{
	if (a->retries >= h->cfg.max_retransmits)
		return false;
	a->retries++;
	a->rto *= 2;
	a->timer_at = now + a->rto;
	hip_send(h, a->out_to_set ? &a->out_to : &a->loc, a->out, a->out_len);
	if (a->have_alt && a->state == HIP_STATE_I1_SENT)
		hip_send(h, &a->alt, a->out, a->out_len);
	return true;
}

/* Returns true when the association must be destroyed. */
static bool assoc_expire(struct hip_host *h, struct hip_assoc *a, uint64_t now)
{
	switch (a->pending) {
	case HIP_PENDING_I1:
	case HIP_PENDING_I2:
		if (retransmit(h, a, now))
			return false;
		hip_assoc_disarm(a);
		hip_assoc_forget_keys(a);
		hip_assoc_set_state(a, HIP_STATE_E_FAILED);
		a->timer_at = now + h->cfg.failed_hold_ms;
		hip_event(h, a, HIP_EVENT_FAILED);
		return false;
	case HIP_PENDING_UPDATE:
		if (retransmit(h, a, now))
			return false;
		/* The rekey failed; the current SAs stay until the sequence runs out.
		 * An address that did not answer its echo is not taken. */
		hip_assoc_disarm(a);
		a->rekey_new_spi = 0;
		a->verifying = false;
		a->readdressing = false;
		return false;
	case HIP_PENDING_CLOSE:
		if (retransmit(h, a, now))
			return false;
		hip_assoc_disarm(a);
		hip_assoc_set_state(a, HIP_STATE_CLOSED);
		hip_event(h, a, HIP_EVENT_CLOSED);
		return true;
	case HIP_PENDING_NONE:
		break;
	}
	switch (a->state) {
	case HIP_STATE_R2_SENT:
		hip_assoc_set_state(a, HIP_STATE_ESTABLISHED);
		a->timer_at = UINT64_MAX;
		return false;
	case HIP_STATE_CLOSED:
	case HIP_STATE_E_FAILED:
	case HIP_STATE_UNASSOCIATED:
		return true;
	default:
		a->timer_at = UINT64_MAX;
		return false;
	}
}

void hip_host_tick(struct hip_host *h, uint64_t now)
{
	struct hip_assoc **pp = &h->assocs;

	if (now >= h->r1_refresh_at) {
		/* On failure keep serving the current generation and retry later. */
		(void)r1_refresh(h);
		h->r1_refresh_at = now + h->cfg.r1_refresh_ms;
	}
	while (*pp) {
		struct hip_assoc *a = *pp;

		if (a->timer_at > now || !assoc_expire(h, a, now)) {
			pp = &a->next;
			continue;
		}
		*pp = a->next;
		hip_event(h, a, HIP_EVENT_DESTROYED);
		assoc_free(a);
	}
}

void hip_assoc_esp_received(struct hip_assoc *a)
{
	if (a->state == HIP_STATE_R2_SENT && a->pending == HIP_PENDING_NONE) {
		hip_assoc_set_state(a, HIP_STATE_ESTABLISHED);
		a->timer_at = UINT64_MAX;
	}
}
