/* SPDX-License-Identifier: MIT */
/* node.c: the overlay engine: recursive hop-by-hop routing over a Kademlia
 * table, replicated owner-signed records, and the upkeep that keeps both
 * alive under churn. Design, wire format and timers: docs/overlay.md. */
#include "overlay/node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/random.h"
#include "overlay/id.h"
#include "overlay/msg.h"
#include "overlay/record.h"
#include "overlay/route.h"
#include "overlay/store.h"
#include "overlay/table.h"

#define TXN_MAX         4096 /* pending transactions; beyond, requests are not accepted */
#define RL_SLOTS        64   /* rate limiter slots, shared by hash of the sender's ID */
#define RL_UNIT         1000 /* one message, in limiter units */
#define RL_RATE         200  /* messages per second a contact may sustain */
#define RL_BURST        1000 /* messages a contact may send in a burst */
#define RL_MALFORMED    50   /* extra cost of a malformed message */
#define OWN_MAX         16   /* records we publish ourselves */
#define RELAY_DEPTH_MAX 6    /* relay branch levels below "relay:" */
#define EXPIRE_EVERY_MS 60000
#define MAINT_GAP_MAX   1000 /* maintenance runs at most this often (ms) */
#define PINGED_RING     32   /* contacts from replies pinged lately */

enum purpose {
	P_RESOLVE = 1,
	P_JOIN,
	P_REFRESH,
	P_PUBLISH_NAME,
	P_PUBLISH_RELAY,
	P_HIP,
	P_RELAYS,
};

/* A reader's relay search: one GET per branch level, outermost first, along
 * our own path down (where a relay with our ID would publish), until enough
 * relays are found or a level is not full (nobody published deeper). */
struct relay_search {
	ovl_relays_cb cb;
	void *arg;
	size_t want;
	unsigned depth;
	char branch[sizeof(OVL_RELAY_PREFIX) + RELAY_DEPTH_MAX];
	bool deeper; /* the level just read was full */
	size_t n;
	uint8_t *raw[OVL_RELAYS_MAX];
	size_t raw_len[OVL_RELAYS_MAX];
};

static void relays_free(struct relay_search *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->raw[i]);
	free(s);
}

struct own_rec {
	enum ovl_record_kind kind;
	char name[OVL_NAME_MAX + 1];
	uint8_t payload[OVL_PAYLOAD_MAX];
	size_t payload_len;
	uint64_t seq;
	uint64_t next_publish; /* 0: when we join */
	unsigned depth;        /* relay records: branch level */
	bool published;        /* republications count as maintenance */
	unsigned settle;       /* early republications done since joining */
};

/* A record published while the overlay forms around us (our join, nodes
 * joining near its key) may land on nodes that are no longer the closest a
 * moment later; republishing soon after, then at the normal period, puts it
 * where lookups go long before republish_ms. */
static const uint64_t settle_ms[] = {15 * 1000, 60 * 1000};

/* A join's FIND ends at whoever its first hops believe is closest to us, and
 * while many nodes join at once that can be a node with a nearly empty table:
 * we then miss our real neighbours, answer as responsible for keys they are
 * closer to, and they never learn us. Looking up our own ID again, through the
 * contacts the join found, once they have answered our PINGs and again when
 * the neighbours have settled their own tables, brings us to the nodes
 * nearest our ID and teaches them us (they then hand over records). Offsets
 * from the join, before the early republications above. */
static const uint64_t self_settle_ms[] = {10 * 1000, 45 * 1000};

struct limiter {
	struct ovl_id id;
	uint64_t last;
	int64_t tokens;
	bool used;
};

struct ovl_node {
	struct ovl_config cfg;
	struct ovl_ops ops;
	struct ovl_contact self;
	uint16_t hi_alg;
	uint8_t *hi;
	size_t hi_len;
	struct ovl_table *table;
	struct ovl_store *store;
	struct ovl_route *route;
	struct ovl_stats stats;
	uint64_t rng;
	uint64_t rl_seed;
	bool joined;
	bool joining;
	bool join_wanted;
	bool left;
	uint64_t joined_at;
	uint64_t maint_next;
	uint64_t expire_next;
	uint64_t join_retry_at;
	uint64_t self_refresh_at;
	unsigned self_round; /* settling lookups of our own ID done since joining */
	struct own_rec *own;
	size_t nown;
	ovl_publish_cb pub_cb;
	void *pub_arg;
	struct ovl_id pinged[PINGED_RING];
	unsigned pinged_pos;
	struct limiter rl[RL_SLOTS];
};

void ovl_config_default(struct ovl_config *cfg)
{
	*cfg = (struct ovl_config){
	        .k = 16,
	        .replicas = 5,
	        .alpha = 1,
	        .max_hops = 16,
	        .hop_timeout_ms = 1000,
	        .lookup_timeout_ms = 5000,
	        .ping_interval_ms = 60 * 1000,
	        .refresh_ms = 15 * 60 * 1000,
	        .republish_ms = 10 * 60 * 1000,
	        .record_lifetime_ms = 30 * 60 * 1000,
	        .quota_bytes_per_owner = 64 * 1024,
	        .quota_records_per_owner = 32,
	        .max_store_bytes = 16 * 1024 * 1024,
	        .relay_branch_limit = 8,
	};
}

/* ---- small helpers ---- */

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

static int drop(const char **reason, int err, const char *why)
{
	*reason = why;
	return err;
}

static void maint_at(struct ovl_node *n, uint64_t when)
{
	n->maint_next = min64(n->maint_next, when);
}

/* splitmix64: transaction ids need to be distinct, not secret (a reply is
 * only accepted from a hop the request was sent to). */
static uint64_t rng_next(struct ovl_node *n)
{
	return mix64(n->rng += 0x9e3779b97f4a7c15ull);
}

static uint64_t new_txid(struct ovl_node *n)
{
	uint64_t id;

	do
		id = rng_next(n);
	while (id == 0 || ovl_route_find(n->route, id));
	return id;
}

/* ---- sending ---- */

static int send_raw(struct ovl_node *n, const struct ovl_contact *to, const uint8_t *msg,
                    size_t len)
{
	int e = n->ops.send(n->ops.ctx, to, msg, len);

	if (e < 0)
		return e;
	n->stats.msgs_sent++;
	n->stats.bytes_sent += len;
	if (msg[2] & OVL_MSG_F_MAINT)
		n->stats.maintenance_bytes_sent += len;
	return 0;
}

static int send_entry(struct ovl_node *n, const struct ovl_entry *e, const uint8_t *msg, size_t len)
{
	struct ovl_contact c;

	ovl_entry_contact(e, &c);
	return send_raw(n, &c, msg, len);
}

/* PING, PONG, HOP_ACK, LEAVE: a bare header. */
static int send_bare(struct ovl_node *n, const struct ovl_contact *to, uint8_t type, uint8_t flags,
                     uint64_t txid, const struct ovl_id *target)
{
	uint8_t buf[OVL_MSG_HDR_LEN];
	struct ovl_msg_builder b;
	int len;

	ovl_msg_begin(&b, buf, sizeof(buf), type, flags, 0, txid, target);
	len = ovl_msg_finish(&b);
	if (len < 0)
		return len;
	return send_raw(n, to, buf, (size_t)len);
}

static int send_store(struct ovl_node *n, const struct ovl_contact *to, const struct ovl_id *key,
                      const uint8_t *rec, size_t len)
{
	uint8_t buf[OVL_MSG_HDR_LEN + 2 + OVL_RECORD_MAX];
	struct ovl_msg_builder b;
	int mlen;

	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_STORE, OVL_MSG_F_MAINT, 0, rng_next(n), key);
	ovl_msg_add_blob(&b, rec, len);
	mlen = ovl_msg_finish(&b);
	if (mlen < 0)
		return mlen;
	return send_raw(n, to, buf, (size_t)mlen);
}

/* ---- rate limiting: a token bucket per sender, in RL_SLOTS shared slots ---- */

static void rl_refill(struct limiter *l, uint64_t now)
{
	uint64_t dt = since(now, l->last);
	const int64_t cap = (int64_t)RL_BURST * RL_UNIT;

	/* Bounded before multiplying: a long silence only refills to the cap. */
	if (dt > (uint64_t)cap)
		dt = (uint64_t)cap;
	l->tokens += (int64_t)dt * RL_RATE * RL_UNIT / 1000;
	if (l->tokens > cap)
		l->tokens = cap;
	if (now > l->last)
		l->last = now;
}

static bool rl_full(const struct limiter *l)
{
	return l->tokens >= (int64_t)RL_BURST * RL_UNIT;
}

/* Two candidate slots per sender (by a keyed hash): a flooder can spoil the
 * standing of a contact that collides with it on both, rarely, and never of
 * one it chose, since it cannot know the key. */
static struct limiter *rl_slot(struct ovl_node *n, const struct ovl_id *id, uint64_t now)
{
	uint64_t h = ovl_id_hash(id, n->rl_seed);
	struct limiter *a = &n->rl[h % RL_SLOTS], *b = &n->rl[(h >> 32) % RL_SLOTS], *l;

	rl_refill(a, now);
	rl_refill(b, now);
	if (a->used && ovl_id_eq(&a->id, id))
		return a;
	if (b->used && ovl_id_eq(&b->id, id))
		return b;
	/* A slot changes hands once its holder is back to a full allowance;
	 * otherwise the sender shares the better of the two. */
	if (!a->used || rl_full(a))
		l = a;
	else if (!b->used || rl_full(b))
		l = b;
	else
		return a->tokens >= b->tokens ? a : b;
	l->used = true;
	l->id = *id;
	l->tokens = (int64_t)RL_BURST * RL_UNIT;
	l->last = now;
	return l;
}

static bool rl_admit(struct ovl_node *n, const struct ovl_id *id, uint64_t now)
{
	struct limiter *l = rl_slot(n, id, now);

	if (l->tokens < RL_UNIT)
		return false;
	l->tokens -= RL_UNIT;
	return true;
}

static void rl_penalize(struct ovl_node *n, const struct ovl_id *id, uint64_t now)
{
	struct limiter *l = rl_slot(n, id, now);
	const int64_t floor = -(int64_t)RL_BURST * RL_UNIT;

	l->tokens -= (int64_t)RL_MALFORMED * RL_UNIT;
	if (l->tokens < floor)
		l->tokens = floor;
}

/* ---- transactions ---- */

static void txn_free(struct ovl_txn *t)
{
	if (!t)
		return;
	free(t->msg);
	free(t->name);
	free(t);
}

static void txn_destroy(struct ovl_node *n, struct ovl_txn *t)
{
	ovl_route_remove(n->route, t);
	txn_free(t);
}

static void reschedule(struct ovl_node *n, struct ovl_txn *t)
{
	ovl_route_schedule(n->route, t, ovl_txn_wake(t));
}

static unsigned live_paths(const struct ovl_txn *t)
{
	unsigned c = 0;

	for (size_t i = 0; i < t->npaths; i++)
		c += t->paths[i].live;
	return c;
}

static void add_path(struct ovl_txn *t, const struct ovl_id *next, uint64_t ack_deadline)
{
	struct ovl_path *p = NULL;

	for (size_t i = 0; i < t->npaths && !p; i++)
		if (!t->paths[i].live)
			p = &t->paths[i];
	if (!p) {
		if (t->npaths == OVL_PATHS_MAX)
			return;
		p = &t->paths[t->npaths++];
	}
	p->next = *next;
	p->ack_deadline = ack_deadline;
	p->live = true;
}

static size_t txn_nvia(const struct ovl_txn *t)
{
	return t->msg[28];
}

static const uint8_t *txn_via(const struct ovl_txn *t, size_t i)
{
	return t->msg + OVL_MSG_HDR_LEN + i * OVL_ID_LEN;
}

static bool txn_via_has(const struct ovl_txn *t, const struct ovl_id *id)
{
	for (size_t i = 0; i < txn_nvia(t); i++)
		if (memcmp(txn_via(t, i), id->b, OVL_ID_LEN) == 0)
			return true;
	return false;
}

/* Next hops exclude the hops already tried, the nodes the request passed
 * and the node the origin avoids. */
static bool skip_txn(void *arg, const struct ovl_entry *e)
{
	const struct ovl_txn *t = arg;

	return ovl_txn_tried(t, &e->id) || txn_via_has(t, &e->id) ||
	       (t->has_avoid && ovl_id_eq(&t->avoid, &e->id));
}

/* ---- replies ---- */

/* A reply retraces the request's via list; ttl carries the hops it took. */
static void reply_begin(struct ovl_node *n, const struct ovl_txn *t, struct ovl_msg_builder *b,
                        uint8_t *buf, size_t cap, uint8_t type)
{
	bool local = t->role == OVL_TXN_ORIGIN;
	uint8_t hops = local ? 0 : (uint8_t)txn_nvia(t);

	ovl_msg_begin(b, buf, cap, type, t->flags & OVL_MSG_F_MAINT, hops, t->txid, &t->target);
	if (local)
		ovl_msg_add_via(b, n->self.id.b, 1);
	else
		ovl_msg_add_via(b, txn_via(t, 0), txn_nvia(t));
}

static void origin_complete(struct ovl_node *n, struct ovl_txn *t, const struct ovl_msg *m,
                            uint64_t now);
static void origin_end(struct ovl_node *n, struct ovl_txn *t, enum ovl_status st,
                       const struct ovl_record *rec, unsigned hops, uint64_t now);

/* Sends the reply to the previous hop, or completes our own request with it.
 * Consumes t. */
static void reply_send(struct ovl_node *n, struct ovl_txn *t, struct ovl_msg_builder *b,
                       uint64_t now)
{
	int len = ovl_msg_finish(b);
	struct ovl_msg m;

	if (t->role == OVL_TXN_ORIGIN) {
		if (len >= 0 && ovl_msg_parse(b->buf, (size_t)len, &m) == 0)
			origin_complete(n, t, &m, now);
		else
			origin_end(n, t, OVL_TIMEOUT, NULL, 0, now);
		return;
	}
	if (len >= 0 && t->has_prev)
		(void)send_entry(n, &t->prev, b->buf, (size_t)len);
	txn_destroy(n, t);
}

static void reply_ttl(struct ovl_node *n, struct ovl_txn *t, uint64_t now)
{
	uint8_t buf[OVL_MSG_HDR_LEN + OVL_VIA_MAX * OVL_ID_LEN + 1];
	struct ovl_msg_builder b;

	reply_begin(n, t, &b, buf, sizeof(buf), OVL_MSG_ERROR);
	ovl_msg_add_u8(&b, OVL_ERR_TTL);
	reply_send(n, t, &b, now);
}

/* ---- answering as the responsible node ---- */

struct skip_one {
	struct ovl_id id;
};

static bool skip_id(void *arg, const struct ovl_entry *e)
{
	const struct skip_one *s = arg;

	return ovl_id_eq(&s->id, &e->id);
}

static void answer_find(struct ovl_node *n, struct ovl_txn *t, uint64_t now)
{
	const struct ovl_entry *cl[OVL_MSG_CONTACTS_MAX];
	uint8_t buf[OVL_MSG_MAX];
	struct ovl_msg_builder b;
	struct skip_one origin;
	size_t want = n->cfg.k < OVL_MSG_CONTACTS_MAX ? n->cfg.k : OVL_MSG_CONTACTS_MAX;
	size_t got;

	memcpy(origin.id.b, txn_via(t, 0), OVL_ID_LEN);
	reply_begin(n, t, &b, buf, sizeof(buf), OVL_MSG_FIND_REPLY);
	ovl_msg_begin_list(&b);
	ovl_msg_add_contact(&b, &n->self);
	got = ovl_table_closest(n->table, &t->target, skip_id, &origin, cl, want - 1);
	for (size_t i = 0; i < got; i++) {
		struct ovl_contact c;

		ovl_entry_contact(cl[i], &c);
		ovl_msg_add_contact(&b, &c);
	}
	reply_send(n, t, &b, now);
}

static void get_reply_not_found(struct ovl_node *n, struct ovl_txn *t, uint64_t now)
{
	uint8_t buf[OVL_MSG_HDR_LEN + OVL_VIA_MAX * OVL_ID_LEN + 2];
	struct ovl_msg_builder b;

	reply_begin(n, t, &b, buf, sizeof(buf), OVL_MSG_GET_REPLY);
	ovl_msg_add_u8(&b, OVL_GET_NOT_FOUND);
	ovl_msg_begin_list(&b);
	reply_send(n, t, &b, now);
}

/* Appends the live records under key; returns how many. */
static size_t add_stored(struct ovl_node *n, struct ovl_msg_builder *b, const struct ovl_id *key,
                         uint64_t now)
{
	size_t count = 0, len;
	const uint8_t *rec;

	ovl_msg_add_u8(b, OVL_GET_FOUND);
	ovl_msg_begin_list(b);
	for (size_t i = 0; count < OVL_MSG_RECORDS_MAX; i++) {
		rec = ovl_store_get(n->store, key, i, &len, now);
		if (!rec || !ovl_msg_fits(b, len))
			break;
		ovl_msg_add_record(b, rec, len);
		count++;
	}
	return count;
}

/* The responsible node lacks the record: it may be new, or the nodes before it
 * died. Its nearest contacts are the other replicas; ask them directly. */
static bool ask_replicas(struct ovl_node *n, struct ovl_txn *t, uint64_t now)
{
	const struct ovl_entry *cl[OVL_TABLE_K_MAX];
	uint8_t buf[OVL_MSG_HDR_LEN + OVL_ID_LEN];
	struct ovl_msg_builder b;
	size_t want = n->cfg.replicas - 1, got;
	int len;

	if (t->asked || want == 0)
		return false;
	got = ovl_table_closest(n->table, &t->target, skip_txn, t, cl, want);
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_GET, OVL_MSG_F_DIRECT, 1, t->txid, &t->target);
	ovl_msg_add_via(&b, n->self.id.b, 1);
	len = ovl_msg_finish(&b);
	if (len < 0)
		return false;
	t->pending = 0;
	for (size_t i = 0; i < got; i++) {
		if (cl[i]->fails > 0 || t->ntried >= OVL_TRIED_MAX)
			continue;
		if (send_entry(n, cl[i], buf, (size_t)len) < 0)
			continue;
		ovl_txn_add_tried(t, &cl[i]->id);
		t->pending++;
	}
	if (t->pending == 0)
		return false;
	t->asked = true;
	t->npaths = 0;
	t->deadline = now + n->cfg.hop_timeout_ms;
	reschedule(n, t);
	return true;
}

static void answer_get(struct ovl_node *n, struct ovl_txn *t, uint64_t now)
{
	uint8_t buf[OVL_MSG_MAX];
	struct ovl_msg_builder b;

	reply_begin(n, t, &b, buf, sizeof(buf), OVL_MSG_GET_REPLY);
	if (add_stored(n, &b, &t->target, now) > 0) {
		reply_send(n, t, &b, now);
		return;
	}
	if (ask_replicas(n, t, now))
		return;
	get_reply_not_found(n, t, now);
}

static void replicate(struct ovl_node *n, const struct ovl_id *key, const uint8_t *rec, size_t len)
{
	const struct ovl_entry *cl[OVL_TABLE_K_MAX];
	size_t got = ovl_table_closest(n->table, key, NULL, NULL, cl, n->cfg.replicas - 1);

	for (size_t i = 0; i < got; i++) {
		struct ovl_contact c;

		ovl_entry_contact(cl[i], &c);
		(void)send_store(n, &c, key, rec, len);
	}
}

static uint8_t put_reason(int err)
{
	switch (err) {
	case -EEXIST:
		return OVL_PUT_R_OWNED;
	case -ESTALE:
		return OVL_PUT_R_STALE;
	case -EDQUOT:
		return OVL_PUT_R_QUOTA;
	case -ENOSPC:
		return OVL_PUT_R_FULL;
	default:
		return OVL_PUT_R_INVALID;
	}
}

/* Verifies and stores a record for key; returns the store's verdict. A PUT
 * that conflicts with a stored name (another owner, an old sequence) is a
 * forgery attempt; a replica push that does is only late. */
static int store_record(struct ovl_node *n, const struct ovl_id *key, const uint8_t *buf,
                        size_t len, bool from_put, uint64_t now)
{
	struct ovl_record rec;
	int e = ovl_record_verify(buf, len, &n->ops, now, &rec);

	if (e < 0) {
		if (e != -ENOMEM)
			n->stats.dropped_forged++;
		return e;
	}
	if (!ovl_id_eq(&rec.key, key)) {
		n->stats.dropped_forged++;
		return -EKEYREJECTED;
	}
	e = ovl_store_put(n->store, buf, len, &rec, now);
	if (from_put && (e == -EEXIST || e == -ESTALE))
		n->stats.dropped_forged++;
	return e;
}

static void answer_put(struct ovl_node *n, struct ovl_txn *t, uint64_t now)
{
	uint8_t buf[OVL_MSG_HDR_LEN + OVL_VIA_MAX * OVL_ID_LEN + 2];
	struct ovl_msg_builder b;
	struct ovl_msg m;
	int e;

	if (ovl_msg_parse(t->msg, t->msg_len, &m) < 0) {
		if (t->role == OVL_TXN_ORIGIN)
			origin_end(n, t, OVL_TIMEOUT, NULL, 0, now);
		else
			txn_destroy(n, t);
		return;
	}
	e = store_record(n, &t->target, m.data, m.data_len, true, now);
	if (e == 1)
		replicate(n, &t->target, m.data, m.data_len);
	reply_begin(n, t, &b, buf, sizeof(buf), OVL_MSG_PUT_REPLY);
	ovl_msg_add_u8(&b, e >= 0 ? OVL_PUT_OK : OVL_PUT_REFUSED);
	ovl_msg_add_u8(&b, e >= 0 ? OVL_PUT_R_NONE : put_reason(e));
	reply_send(n, t, &b, now);
}

static void answer_hip(struct ovl_node *n, struct ovl_txn *t, uint64_t now)
{
	struct ovl_contact prev;
	struct ovl_msg m;

	/* Only the owner of the HIT takes it; the node merely closest to an
	 * absent HIT drops it (the HIP engine retransmits or gives up). */
	if (t->has_prev && ovl_id_eq(&t->target, &n->self.id) && n->ops.hip &&
	    ovl_msg_parse(t->msg, t->msg_len, &m) == 0) {
		ovl_entry_contact(&t->prev, &prev);
		n->ops.hip(n->ops.ctx, &prev, m.data, m.data_len);
	}
	if (t->role == OVL_TXN_ORIGIN)
		origin_end(n, t, OVL_NOT_FOUND, NULL, 0, now);
	else
		txn_destroy(n, t);
}

/* Consumes t (or keeps it while replicas are asked). */
static void answer(struct ovl_node *n, struct ovl_txn *t, uint64_t now)
{
	switch (t->type) {
	case OVL_MSG_FIND:
		answer_find(n, t, now);
		break;
	case OVL_MSG_GET:
		answer_get(n, t, now);
		break;
	case OVL_MSG_PUT:
		answer_put(n, t, now);
		break;
	default:
		answer_hip(n, t, now);
		break;
	}
}

/* ---- forwarding ---- */

static int send_forward(struct ovl_node *n, struct ovl_txn *t, const struct ovl_entry *to)
{
	uint8_t out[OVL_MSG_MAX];
	struct ovl_msg m;
	int len;

	if (t->role == OVL_TXN_ORIGIN)
		return send_entry(n, to, t->msg, t->msg_len);
	if (ovl_msg_parse(t->msg, t->msg_len, &m) < 0)
		return -EINVAL;
	len = ovl_msg_forward(t->msg, t->msg_len, &m, &n->self.id, (uint8_t)(t->msg[3] - 1), out,
	                      sizeof(out));
	if (len < 0)
		return len;
	return send_entry(n, to, out, (size_t)len);
}

/* Keeps the request moving: sends it to the best untried next hop(s) until
 * enough are in flight; when none is left, this node is responsible.
 * Consumes t when it answers. */
static void advance(struct ovl_node *n, struct ovl_txn *t, uint64_t now)
{
	bool origin = t->role == OVL_TXN_ORIGIN;
	unsigned want = origin ? n->cfg.alpha : 1;
	/* Our own FIND may start at a contact farther from the target than we
	 * are: a refresh of a bucket we know nobody in, or our own ID at join.
	 * A routed HIP packet must reach the HIT's owner itself, not merely the
	 * node closest to it we know: when nobody closer is known, the nodes
	 * around the target (which know its owner) are tried, the via list
	 * keeping the walk from coming back and the TTL bounding it. */
	bool closer_only = !((origin && t->type == OVL_MSG_FIND) || t->type == OVL_MSG_HIP);
	const struct ovl_entry *e;
	struct ovl_id id;

	if (!origin && t->type == OVL_MSG_HIP && ovl_id_eq(&t->target, &n->self.id)) {
		answer(n, t, now); /* ours: the walk ends here */
		return;
	}
	while (live_paths(t) < want && t->ntried < OVL_TRIED_MAX) {
		e = ovl_table_next_hop(n->table, &t->target, closer_only, skip_txn, t);
		if (!e)
			break;
		/* Out of hops, or (from a sender that ignores max_hops) out of
		 * via list. */
		if (!origin && (t->msg[3] <= 1 || txn_nvia(t) >= OVL_VIA_MAX)) {
			reply_ttl(n, t, now);
			return;
		}
		id = e->id;
		ovl_txn_add_tried(t, &id);
		if (send_forward(n, t, e) < 0) {
			ovl_table_fail(n->table, &id);
			continue;
		}
		add_path(t, &id, now + n->cfg.hop_timeout_ms);
	}
	if (live_paths(t) > 0) {
		reschedule(n, t);
		return;
	}
	if (origin) {
		/* Answering ourselves now would run the callback from inside the
		 * call that started the request. */
		t->deferred = true;
		ovl_route_schedule(n->route, t, now);
		return;
	}
	answer(n, t, now);
}

/* ---- our own requests ---- */

static struct ovl_txn *origin_new(struct ovl_node *n, uint8_t purpose, uint8_t type, uint8_t flags,
                                  const struct ovl_id *target, const uint8_t *body, size_t body_len,
                                  uint64_t now)
{
	uint8_t buf[OVL_MSG_MAX];
	struct ovl_msg_builder b;
	struct ovl_txn *t;
	int len;

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->role = OVL_TXN_ORIGIN;
	t->purpose = purpose;
	t->type = type;
	t->flags = flags;
	t->target = *target;
	t->started = now;
	t->attempt = 1;
	t->deadline = now + n->cfg.lookup_timeout_ms / 2;
	t->txid = new_txid(n);
	ovl_msg_begin(&b, buf, sizeof(buf), type, flags, (uint8_t)n->cfg.max_hops, t->txid, target);
	ovl_msg_add_via(&b, n->self.id.b, 1);
	if (body)
		ovl_msg_add_blob(&b, body, body_len);
	len = ovl_msg_finish(&b);
	if (len < 0 || !(t->msg = malloc((size_t)len))) {
		free(t);
		return NULL;
	}
	memcpy(t->msg, buf, (size_t)len);
	t->msg_len = (size_t)len;
	return t;
}

static int origin_start(struct ovl_node *n, struct ovl_txn *t, uint64_t now)
{
	int e;

	t->wake = UINT64_MAX;
	e = ovl_route_insert(n->route, t);
	if (e < 0) {
		txn_free(t);
		return e;
	}
	ovl_table_touch(n->table, &t->target, now);
	advance(n, t, now);
	return 0;
}

/* A second try through first hops the first one did not use, under a new
 * transaction id so no state left on the first path can swallow it. */
static void origin_retry(struct ovl_node *n, struct ovl_txn *t, enum ovl_status st, uint64_t now)
{
	uint64_t txid;

	if (t->attempt >= 2 || t->started + n->cfg.lookup_timeout_ms <= now) {
		origin_end(n, t, st, NULL, 0, now);
		return;
	}
	txid = new_txid(n);
	if (ovl_route_rekey(n->route, t, txid) < 0) {
		origin_end(n, t, st, NULL, 0, now);
		return;
	}
	store_be64(t->msg + 4, txid);
	t->attempt = 2;
	t->npaths = 0;
	t->asked = false;
	t->pending = 0;
	t->deferred = false;
	t->deadline = t->started + n->cfg.lookup_timeout_ms;
	advance(n, t, now);
}

static struct own_rec *own_find(struct ovl_node *n, enum ovl_record_kind kind, const char *name)
{
	for (size_t i = 0; i < n->nown; i++)
		if (n->own[i].kind == kind &&
		    (kind == OVL_RECORD_RELAY || !strcmp(n->own[i].name, name)))
			return &n->own[i];
	return NULL;
}

static int publish_one(struct ovl_node *n, struct own_rec *o, uint64_t now);

/* Appends the branch character of level depth on our own path: a letter
 * a..h from ID byte 0, a digit 1..8 from byte 1, and so on (seed 5.2). The
 * branch buffer has room for RELAY_DEPTH_MAX more characters. */
static void relay_branch_down(const struct ovl_node *n, char *branch, unsigned depth)
{
	size_t len = strlen(branch);

	branch[len] = (depth % 2 == 0 ? "abcdefgh" : "12345678")[n->self.id.b[depth] & 7];
	branch[len + 1] = '\0';
}

static void publish_outcome(struct ovl_node *n, enum ovl_record_kind kind, const char *name,
                            enum ovl_status st, uint8_t reason, uint64_t now)
{
	struct own_rec *o = own_find(n, kind, name);

	if (!o || strcmp(o->name, name) != 0)
		return; /* an answer for a branch or record we no longer publish */
	if (kind == OVL_RECORD_RELAY && st == OVL_REFUSED && reason == OVL_PUT_R_FULL &&
	    o->depth < RELAY_DEPTH_MAX) {
		/* The branch is full: one level deeper, on our own path down. */
		relay_branch_down(n, o->name, o->depth);
		o->depth++;
		(void)publish_one(n, o, now);
		return;
	}
	if (st != OVL_OK) {
		/* A lost request is worth retrying soon; a refusal is not. */
		bool lost = st == OVL_TIMEOUT || st == OVL_TTL;
		o->next_publish =
		        now + (lost ? n->cfg.lookup_timeout_ms : n->cfg.republish_ms / 10) + 1;
		maint_at(n, o->next_publish);
	}
	if (n->pub_cb)
		n->pub_cb(n->pub_arg, kind, name, st);
}

/* Ends our own request with a final outcome. Consumes t. */
static void relays_next(struct ovl_node *n, struct relay_search *s, enum ovl_status st,
                        uint64_t now);

static void origin_end(struct ovl_node *n, struct ovl_txn *t, enum ovl_status st,
                       const struct ovl_record *rec, unsigned hops, uint64_t now)
{
	uint64_t elapsed = since(now, t->started);
	char name[OVL_NAME_MAX + 1] = "";
	ovl_lookup_cb cb = t->cb;
	void *arg = t->arg;
	uint8_t purpose = t->purpose, reason = t->code;

	if (t->name)
		snprintf(name, sizeof(name), "%s", t->name);
	/* Out of the registry before any callback, which may start new work. */
	txn_destroy(n, t);
	switch (purpose) {
	case P_RESOLVE:
		if (st == OVL_OK)
			n->stats.lookups_ok++;
		else
			n->stats.lookups_failed++;
		cb(arg, st, rec, hops, elapsed);
		break;
	case P_JOIN:
		n->joining = false;
		if (!n->joined) {
			n->join_retry_at = now + n->cfg.lookup_timeout_ms;
			maint_at(n, n->join_retry_at);
		}
		break;
	case P_PUBLISH_NAME:
	case P_PUBLISH_RELAY:
		publish_outcome(n, purpose == P_PUBLISH_NAME ? OVL_RECORD_NAME : OVL_RECORD_RELAY,
		                name, st, reason, now);
		break;
	case P_RELAYS:
		relays_next(n, arg, st, now);
		break;
	default:
		break;
	}
}

static bool recently_pinged(struct ovl_node *n, const struct ovl_id *id)
{
	for (size_t i = 0; i < PINGED_RING; i++)
		if (ovl_id_eq(&n->pinged[i], id))
			return true;
	return false;
}

static int ping_contact(struct ovl_node *n, const struct ovl_contact *c, uint64_t now,
                        uint64_t *ret_txid)
{
	struct ovl_txn *t = calloc(1, sizeof(*t));
	int e;

	if (!t)
		return -ENOMEM;
	t->role = OVL_TXN_PING;
	t->txid = new_txid(n);
	t->target = c->id;
	t->started = now;
	t->deadline = now + n->cfg.hop_timeout_ms;
	t->wake = t->deadline;
	e = ovl_route_insert(n->route, t);
	if (e < 0) {
		txn_free(t);
		return e;
	}
	n->pinged[n->pinged_pos++ % PINGED_RING] = c->id;
	e = send_bare(n, c, OVL_MSG_PING, OVL_MSG_F_MAINT, t->txid, &c->id);
	if (e < 0) {
		txn_destroy(n, t);
		return e;
	}
	if (ret_txid)
		*ret_txid = t->txid;
	return 0;
}

static void ping_entry(struct ovl_node *n, struct ovl_entry *e, uint64_t now)
{
	struct ovl_contact c;
	uint64_t txid;

	ovl_entry_contact(e, &c);
	if (ping_contact(n, &c, now, &txid) == 0)
		e->ping_txid = txid;
}

/* Contacts a FIND_REPLY names: those that would get a place in our table are
 * pinged; the PONG adds them, and the PING lets them learn us. */
static void ping_new_contacts(struct ovl_node *n, const struct ovl_msg *m, uint64_t now)
{
	struct reader r = reader_init(m->data, m->data_len);
	struct ovl_contact c;

	for (size_t i = 0; i < m->count; i++) {
		if (ovl_msg_next_contact(&r, &c) < 0)
			return;
		if (ovl_id_eq(&c.id, &n->self.id) || ovl_table_find(n->table, &c.id) ||
		    ovl_table_bucket_full(n->table, ovl_id_prefix_len(&n->self.id, &c.id)) ||
		    recently_pinged(n, &c.id))
			continue;
		(void)ping_contact(n, &c, now, NULL);
	}
}

static void start_refresh(struct ovl_node *n, const struct ovl_id *target, uint64_t now)
{
	struct ovl_txn *t;

	t = origin_new(n, P_REFRESH, OVL_MSG_FIND, OVL_MSG_F_MAINT, target, NULL, 0, now);
	if (t)
		(void)origin_start(n, t, now);
	else
		ovl_table_touch(n->table, target, now);
}

static void refresh_bucket(struct ovl_node *n, unsigned i, uint64_t now)
{
	struct ovl_id target;

	if (ovl_id_random_in_bucket(&n->self.id, i, &target) < 0) {
		/* No randomness now: count the bucket as refreshed, try next time. */
		target = n->self.id;
		target.b[i / 8] ^= (uint8_t)(0x80u >> (i % 8));
		ovl_table_touch(n->table, &target, now);
		return;
	}
	start_refresh(n, &target, now);
}

static void publish_all(struct ovl_node *n, uint64_t now)
{
	for (size_t i = 0; i < n->nown; i++)
		(void)publish_one(n, &n->own[i], now);
}

/* The longest prefix a contact of a FIND_REPLY shares with our ID; *ret_new
 * tells whether the reply names a contact our table lacks. */
static unsigned reply_nearest(const struct ovl_node *n, const struct ovl_msg *m, bool *ret_new)
{
	struct reader r = reader_init(m->data, m->data_len);
	struct ovl_contact c;
	unsigned nearest = 0;

	*ret_new = false;
	for (size_t i = 0; i < m->count && ovl_msg_next_contact(&r, &c) == 0; i++) {
		if (ovl_id_eq(&c.id, &n->self.id))
			continue;
		nearest = (unsigned)max64(nearest, ovl_id_prefix_len(&n->self.id, &c.id));
		if (!ovl_table_find(n->table, &c.id))
			*ret_new = true;
	}
	return nearest;
}

/* Kademlia's join: refresh every bucket farther than the nearest neighbour. */
static void refresh_below(struct ovl_node *n, unsigned nearest, uint64_t now)
{
	for (unsigned i = 0; i < nearest && i < OVL_ID_BITS; i++)
		if (!ovl_table_bucket_full(n->table, i))
			refresh_bucket(n, i, now);
}

/* When to look up our own ID next: the settling rounds after a join (the
 * first once the contacts the join found have answered our PINGs), then
 * every refresh_ms. Advances n->self_round past the rounds already due. */
static uint64_t self_lookup_next(struct ovl_node *n, uint64_t now)
{
	while (n->self_round <= ARRAY_SIZE(self_settle_ms)) {
		uint64_t at =
		        n->joined_at + (n->self_round == 0 ? n->cfg.hop_timeout_ms
		                                           : self_settle_ms[n->self_round - 1]);

		n->self_round++;
		if (at >= n->joined_at + n->cfg.refresh_ms)
			break;
		if (at > now)
			return at;
	}
	n->self_round = (unsigned)ARRAY_SIZE(self_settle_ms) + 1;
	return now + n->cfg.refresh_ms;
}

/* A lookup of our own ID came back: meet the nodes it found and, if they are
 * news to us, the regions between them and us as at a join. */
static void self_lookup_done(struct ovl_node *n, const struct ovl_msg *m, uint64_t now)
{
	bool news;
	unsigned nearest = reply_nearest(n, m, &news);

	ping_new_contacts(n, m, now);
	if (news)
		refresh_below(n, (unsigned)max64(nearest, ovl_table_depth(n->table)), now);
}

static void join_done(struct ovl_node *n, struct ovl_txn *t, const struct ovl_msg *m, uint64_t now)
{
	unsigned nearest;
	bool news;

	/* Answered by ourselves: no contact carried the lookup anywhere. */
	if (m->type != OVL_MSG_FIND_REPLY || m->ttl == 0) {
		origin_end(n, t, OVL_TIMEOUT, NULL, 0, now);
		return;
	}
	nearest = reply_nearest(n, m, &news);
	ping_new_contacts(n, m, now);
	n->joined = true;
	n->joined_at = now;
	n->self_round = 0;
	n->self_refresh_at = self_lookup_next(n, now);
	origin_end(n, t, OVL_OK, NULL, m->ttl, now);
	maint_at(n, n->self_refresh_at);
	refresh_below(n, nearest, now);
	/* Publish once the neighbours just pinged are in the table: a PUT routed
	 * now would stop at whoever we knew before and miss the nodes
	 * responsible for the key, which learn us all at once and so never see
	 * themselves as the one to hand the record over. */
	for (size_t i = 0; i < n->nown; i++) {
		n->own[i].settle = 0;
		if (n->own[i].next_publish == 0)
			n->own[i].next_publish = now + 2 * n->cfg.hop_timeout_ms;
	}
	maint_at(n, now + 2 * n->cfg.hop_timeout_ms);
}

static void resolve_done(struct ovl_node *n, struct ovl_txn *t, const struct ovl_msg *m,
                         uint64_t now)
{
	struct reader r = reader_init(m->data, m->data_len);
	struct ovl_record rec;
	const uint8_t *buf;
	size_t len;

	if (m->type == OVL_MSG_ERROR) {
		origin_end(n, t, OVL_TTL, NULL, m->ttl, now);
		return;
	}
	if (m->status == OVL_GET_NOT_FOUND) {
		origin_end(n, t, OVL_NOT_FOUND, NULL, m->ttl, now);
		return;
	}
	for (size_t i = 0; i < m->count && ovl_msg_next_record(&r, &buf, &len) == 0; i++) {
		if (ovl_record_verify(buf, len, &n->ops, now, &rec) == 0 &&
		    rec.kind == OVL_RECORD_NAME && !strcmp(rec.name, t->name)) {
			origin_end(n, t, OVL_OK, &rec, m->ttl, now);
			return;
		}
		n->stats.dropped_forged++;
	}
	/* Only forgeries: ask again through other hops. */
	origin_retry(n, t, OVL_NOT_FOUND, now);
}

static bool relay_seen(const struct relay_search *s, const struct ovl_record *rec,
                       const struct ovl_ops *ops, uint64_t now)
{
	struct ovl_record have;

	for (size_t i = 0; i < s->n; i++)
		if (ovl_record_verify(s->raw[i], s->raw_len[i], ops, now, &have) == 0 &&
		    hit_cmp(&have.owner, &rec->owner) == 0)
			return true;
	return false;
}

/* Keeps the verified relay records of one branch level (copies: the reply
 * buffer goes away) and notes whether the level was full. */
static void relays_collect(struct ovl_node *n, struct ovl_txn *t, const struct ovl_msg *m,
                           uint64_t now)
{
	struct relay_search *s = t->arg;
	struct reader r = reader_init(m->data, m->data_len);
	struct ovl_record rec;
	const uint8_t *buf;
	size_t len, level = 0;

	s->deeper = false;
	if (m->type != OVL_MSG_GET_REPLY || m->status != OVL_GET_FOUND)
		return;
	for (size_t i = 0; i < m->count && ovl_msg_next_record(&r, &buf, &len) == 0; i++) {
		if (ovl_record_verify(buf, len, &n->ops, now, &rec) < 0 ||
		    rec.kind != OVL_RECORD_RELAY || strcmp(rec.name, s->branch) != 0) {
			n->stats.dropped_forged++;
			continue;
		}
		level++;
		if (s->n == OVL_RELAYS_MAX || relay_seen(s, &rec, &n->ops, now))
			continue;
		s->raw[s->n] = malloc(len);
		if (!s->raw[s->n])
			continue;
		memcpy(s->raw[s->n], buf, len);
		s->raw_len[s->n++] = len;
	}
	s->deeper = level >= n->cfg.relay_branch_limit && n->cfg.relay_branch_limit > 0;
}

/* A reply (or our own answer) to a request we originated. Consumes t. */
static void origin_complete(struct ovl_node *n, struct ovl_txn *t, const struct ovl_msg *m,
                            uint64_t now)
{
	switch (t->purpose) {
	case P_RESOLVE:
		resolve_done(n, t, m, now);
		break;
	case P_RELAYS:
		relays_collect(n, t, m, now);
		origin_end(n, t, OVL_OK, NULL, m->ttl, now);
		break;
	case P_JOIN:
		join_done(n, t, m, now);
		break;
	case P_REFRESH:
		if (m->type == OVL_MSG_FIND_REPLY && ovl_id_eq(&t->target, &n->self.id))
			self_lookup_done(n, m, now);
		else if (m->type == OVL_MSG_FIND_REPLY)
			ping_new_contacts(n, m, now);
		origin_end(n, t, OVL_OK, NULL, m->ttl, now);
		break;
	case P_PUBLISH_NAME:
	case P_PUBLISH_RELAY:
		if (m->type == OVL_MSG_ERROR) {
			origin_end(n, t, OVL_TTL, NULL, m->ttl, now);
		} else {
			t->code = m->code;
			origin_end(n, t, m->status == OVL_PUT_OK ? OVL_OK : OVL_REFUSED, NULL,
			           m->ttl, now);
		}
		break;
	default:
		origin_end(n, t, OVL_OK, NULL, m->ttl, now);
		break;
	}
}

/* ---- publishing ---- */

static int publish_one(struct ovl_node *n, struct own_rec *o, uint64_t now)
{
	uint8_t rec[OVL_RECORD_MAX];
	struct ovl_record r = {0};
	struct ovl_id key;
	struct ovl_txn *t;
	bool relay = o->kind == OVL_RECORD_RELAY;
	int len;

	o->seq = max64(o->seq + 1, now);
	r.kind = o->kind;
	r.name = o->name;
	r.hi_algorithm = n->hi_alg;
	r.hi = n->hi;
	r.hi_len = n->hi_len;
	r.seq = o->seq;
	r.expires = now + n->cfg.record_lifetime_ms;
	r.payload = o->payload_len ? o->payload : NULL;
	r.payload_len = o->payload_len;
	len = ovl_record_build(&r, &n->ops, rec, sizeof(rec));
	if (len < 0)
		return len;
	if (relay)
		ovl_key_for_relay(o->name, &key);
	else
		ovl_key_for_name(o->name, &key);
	t = origin_new(n, relay ? P_PUBLISH_RELAY : P_PUBLISH_NAME, OVL_MSG_PUT,
	               o->published ? OVL_MSG_F_MAINT : 0, &key, rec, (size_t)len, now);
	if (!t || !(t->name = strdup(o->name))) {
		txn_free(t);
		return -ENOMEM;
	}
	o->published = true;
	o->next_publish = now + n->cfg.republish_ms;
	if (o->settle < sizeof(settle_ms) / sizeof(settle_ms[0]) &&
	    settle_ms[o->settle] < n->cfg.republish_ms)
		o->next_publish = now + settle_ms[o->settle++];
	maint_at(n, o->next_publish);
	return origin_start(n, t, now);
}

static struct own_rec *own_add(struct ovl_node *n, enum ovl_record_kind kind, const char *name)
{
	struct own_rec *o = own_find(n, kind, name), *v;

	if (o)
		return o;
	if (n->nown == OWN_MAX)
		return NULL;
	v = realloc(n->own, (n->nown + 1) * sizeof(*v));
	if (!v)
		return NULL;
	n->own = v;
	o = &v[n->nown++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	snprintf(o->name, sizeof(o->name), "%s", name);
	return o;
}

static int own_publish(struct ovl_node *n, struct own_rec *o, const uint8_t *payload, size_t len,
                       uint64_t now)
{
	if (len)
		memcpy(o->payload, payload, len);
	o->payload_len = len;
	o->next_publish = 0;
	o->settle = 0;
	if (!n->joined)
		return 0; /* published when the join completes */
	return publish_one(n, o, now);
}

int ovl_node_publish_name(struct ovl_node *n, const char *fqdn, const uint8_t *hints,
                          size_t hints_len, uint64_t now)
{
	struct own_rec *o;

	if (!n || !fqdn || !ovl_name_valid(fqdn) || hints_len > OVL_PAYLOAD_MAX ||
	    (hints_len && !hints))
		return -EINVAL;
	o = own_add(n, OVL_RECORD_NAME, fqdn);
	if (!o)
		return n->nown == OWN_MAX ? -ENOSPC : -ENOMEM;
	return own_publish(n, o, hints, hints_len, now);
}

int ovl_node_publish_relay(struct ovl_node *n, const uint8_t *locator, size_t len, uint64_t now)
{
	struct own_rec *o;

	if (!n || len > OVL_PAYLOAD_MAX || (len && !locator))
		return -EINVAL;
	o = own_add(n, OVL_RECORD_RELAY, OVL_RELAY_PREFIX);
	if (!o)
		return n->nown == OWN_MAX ? -ENOSPC : -ENOMEM;
	return own_publish(n, o, locator, len, now);
}

void ovl_node_set_publish_cb(struct ovl_node *n, ovl_publish_cb cb, void *arg)
{
	n->pub_cb = cb;
	n->pub_arg = arg;
}

/* ---- handover ---- */

struct handover {
	struct ovl_node *n;
	const struct ovl_contact *c;
};

/* A new contact c: records for which we were the responsible node and c now
 * belongs to the replica set go to c. Only the node that was responsible
 * sends, so c does not get the same record from every replica. */
static bool handover_one(void *arg, const struct ovl_id *key, const uint8_t *buf, size_t len)
{
	const struct handover *h = arg;
	struct ovl_node *n = h->n;
	const struct ovl_entry *cl[OVL_TABLE_K_MAX];
	size_t got = ovl_table_closest(n->table, key, NULL, NULL, cl, n->cfg.replicas);
	bool c_closer = ovl_id_closer(key, &h->c->id, &n->self.id) < 0;
	size_t closer = ovl_table_count_closer(n->table, key);

	if (closer != (c_closer ? 1u : 0u))
		return true;
	for (size_t i = 0; i < got; i++) {
		if (!ovl_id_eq(&cl[i]->id, &h->c->id))
			continue;
		if (i + !c_closer < n->cfg.replicas)
			(void)send_store(n, h->c, key, buf, len);
		break;
	}
	return true;
}

static void learn(struct ovl_node *n, const struct ovl_contact *from, uint64_t now)
{
	struct ovl_entry *oldest = NULL;
	int r = ovl_table_seen(n->table, from, now, &oldest);

	if (r == OVL_SEEN_ADDED) {
		struct handover h = {.n = n, .c = from};

		maint_at(n, now + n->cfg.ping_interval_ms);
		if (ovl_store_count(n->store) > 0)
			ovl_store_foreach(n->store, now, handover_one, &h);
	} else if (r == OVL_SEEN_CACHED && oldest && !oldest->ping_txid &&
	           since(now, oldest->last_seen) >= n->cfg.ping_interval_ms / 2) {
		/* A full bucket keeps its old contacts while they answer. */
		ping_entry(n, oldest, now);
	}
}

/* ---- input ---- */

static int on_ping(struct ovl_node *n, const struct ovl_contact *from, const struct ovl_msg *m,
                   const char **reason)
{
	if (!ovl_id_eq(&m->target, &n->self.id))
		return drop(reason, -EBADMSG, "PING for another node");
	(void)send_bare(n, from, OVL_MSG_PONG, OVL_MSG_F_MAINT, m->txid, &from->id);
	return 0;
}

static int on_pong(struct ovl_node *n, const struct ovl_contact *from, const struct ovl_msg *m,
                   const char **reason)
{
	struct ovl_txn *t = ovl_route_find(n->route, m->txid);

	if (!t || t->role != OVL_TXN_PING || !ovl_id_eq(&t->target, &from->id))
		return drop(reason, -ENOENT, "PONG without a PING");
	txn_destroy(n, t);
	return 0;
}

static int on_hop_ack(struct ovl_node *n, const struct ovl_contact *from, const struct ovl_msg *m,
                      const char **reason)
{
	struct ovl_txn *t = ovl_route_find(n->route, m->txid);
	struct ovl_path *p;

	if (!t || t->role == OVL_TXN_PING)
		return drop(reason, -ENOENT, "acknowledgement for an unknown request");
	p = ovl_txn_path(t, &from->id);
	if (!p || p->ack_deadline == 0)
		return drop(reason, -ENOENT, "unexpected acknowledgement");
	p->ack_deadline = 0;
	if (t->type == OVL_MSG_HIP) {
		txn_destroy(n, t); /* no reply comes for a routed HIP packet */
		return 0;
	}
	reschedule(n, t);
	return 0;
}

static int on_store(struct ovl_node *n, const struct ovl_msg *m, uint64_t now, const char **reason)
{
	int e;

	/* A replica push for a key we are far from is not ours to keep. */
	if (ovl_table_count_closer(n->table, &m->target) > n->cfg.replicas)
		return drop(reason, -ERANGE, "STORE for a key we are not responsible for");
	e = store_record(n, &m->target, m->data, m->data_len, false, now);
	if (e < 0)
		return drop(reason, e, "record in STORE refused");
	return 0;
}

static int answer_direct_get(struct ovl_node *n, const struct ovl_contact *from,
                             const struct ovl_msg *m, uint64_t now, const char **reason)
{
	uint8_t buf[OVL_MSG_MAX];
	struct ovl_msg_builder b;
	int len;

	if (m->nvia != 1)
		return drop(reason, -EBADMSG, "direct GET with a via list");
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_GET_REPLY, m->flags & OVL_MSG_F_MAINT, 1,
	              m->txid, &m->target);
	ovl_msg_add_via(&b, m->via, 1);
	if (add_stored(n, &b, &m->target, now) == 0) {
		ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_GET_REPLY, m->flags & OVL_MSG_F_MAINT,
		              1, m->txid, &m->target);
		ovl_msg_add_via(&b, m->via, 1);
		ovl_msg_add_u8(&b, OVL_GET_NOT_FOUND);
		ovl_msg_begin_list(&b);
	}
	len = ovl_msg_finish(&b);
	if (len < 0)
		return drop(reason, len, "cannot build the reply");
	len = send_raw(n, from, buf, (size_t)len);
	return len < 0 ? drop(reason, len, "cannot send the reply") : 0;
}

static int on_request(struct ovl_node *n, const struct ovl_contact *from, const uint8_t *msg,
                      size_t len, const struct ovl_msg *m, uint64_t now, const char **reason)
{
	struct ovl_txn *t;
	struct ovl_id last;
	int e;

	ovl_msg_via(m, m->nvia - 1, &last);
	if (!ovl_id_eq(&last, &from->id))
		return drop(reason, -EBADMSG, "via list does not end with the sender");
	if (m->flags & OVL_MSG_F_DIRECT)
		return answer_direct_get(n, from, m, now, reason);
	if (ovl_route_count(n->route) >= TXN_MAX)
		return drop(reason, -EBUSY, "too many pending requests");
	(void)send_bare(n, from, OVL_MSG_HOP_ACK, m->flags & OVL_MSG_F_MAINT, m->txid, &m->target);
	if (ovl_msg_via_has(m, &n->self.id))
		return drop(reason, -ELOOP, "routing loop");
	if (ovl_route_find(n->route, m->txid))
		return drop(reason, -EALREADY, "duplicate request");
	t = calloc(1, sizeof(*t));
	if (!t || !(t->msg = malloc(len))) {
		free(t);
		return drop(reason, -ENOMEM, "out of memory");
	}
	memcpy(t->msg, msg, len);
	t->msg_len = len;
	t->txid = m->txid;
	t->role = OVL_TXN_FORWARD;
	t->type = m->type;
	t->flags = m->flags;
	t->target = m->target;
	t->started = now;
	t->deadline = now + n->cfg.lookup_timeout_ms;
	t->wake = UINT64_MAX;
	ovl_loc_from_contact(from, &t->prev.loc);
	t->prev.id = from->id;
	t->prev.hit = from->hit;
	t->has_prev = true;
	e = ovl_route_insert(n->route, t);
	if (e < 0) {
		txn_free(t);
		return drop(reason, e, "cannot track the request");
	}
	advance(n, t, now);
	return 0;
}

static bool reply_matches(uint8_t req, uint8_t rep)
{
	return rep == OVL_MSG_ERROR || (req == OVL_MSG_FIND && rep == OVL_MSG_FIND_REPLY) ||
	       (req == OVL_MSG_GET && rep == OVL_MSG_GET_REPLY) ||
	       (req == OVL_MSG_PUT && rep == OVL_MSG_PUT_REPLY);
}

static bool contacts_valid(const struct ovl_msg *m)
{
	struct reader r = reader_init(m->data, m->data_len);
	struct ovl_contact c;
	struct ovl_id id;

	for (size_t i = 0; i < m->count; i++) {
		if (ovl_msg_next_contact(&r, &c) < 0)
			return false;
		ovl_id_from_hit(&c.hit, &id);
		if (!ovl_id_eq(&id, &c.id))
			return false;
	}
	return true;
}

/* A replica answered the responsible node's direct GET. */
static int on_replica_reply(struct ovl_node *n, struct ovl_txn *t, const struct ovl_msg *m,
                            uint64_t now)
{
	struct reader r = reader_init(m->data, m->data_len);
	uint8_t buf[OVL_MSG_MAX];
	struct ovl_msg_builder b;
	const uint8_t *rec;
	size_t len;

	if (m->status != OVL_GET_FOUND) {
		if (t->pending > 0 && --t->pending == 0)
			get_reply_not_found(n, t, now);
		return 0;
	}
	reply_begin(n, t, &b, buf, sizeof(buf), OVL_MSG_GET_REPLY);
	ovl_msg_add_u8(&b, OVL_GET_FOUND);
	ovl_msg_begin_list(&b);
	for (size_t i = 0; i < m->count && ovl_msg_next_record(&r, &rec, &len) == 0; i++) {
		/* We are responsible for the key: keep a copy (repair). */
		(void)store_record(n, &t->target, rec, len, false, now);
		if (ovl_msg_fits(&b, len))
			ovl_msg_add_record(&b, rec, len);
	}
	reply_send(n, t, &b, now);
	return 0;
}

static int on_reply(struct ovl_node *n, const struct ovl_contact *from, const uint8_t *msg,
                    size_t len, const struct ovl_msg *m, uint64_t now, const char **reason)
{
	uint8_t out[OVL_MSG_MAX];
	struct ovl_txn *t;
	struct ovl_id id;
	int olen;

	ovl_msg_via(m, m->nvia - 1, &id);
	if (!ovl_id_eq(&id, &n->self.id))
		return drop(reason, -EBADMSG, "reply not addressed to us");
	t = ovl_route_find(n->route, m->txid);
	if (!t || t->role == OVL_TXN_PING || t->done)
		return drop(reason, -ENOENT, "reply to an unknown request");
	if (!ovl_txn_tried(t, &from->id))
		return drop(reason, -EPERM, "reply from a hop the request did not take");
	if (!reply_matches(t->type, m->type))
		return drop(reason, -EBADMSG, "reply does not match the request");
	if (t->asked && m->type == OVL_MSG_GET_REPLY && m->nvia == 1)
		return on_replica_reply(n, t, m, now);
	if (t->role == OVL_TXN_ORIGIN) {
		if (m->nvia != 1)
			return drop(reason, -EBADMSG, "reply path longer than the request's");
		if (m->type == OVL_MSG_FIND_REPLY && !contacts_valid(m))
			return drop(reason, -EBADMSG, "contact ID does not match its HIT");
		origin_complete(n, t, m, now);
		return 0;
	}
	if (m->nvia < 2)
		return drop(reason, -EBADMSG, "reply path too short");
	ovl_msg_via(m, m->nvia - 2, &id);
	if (!ovl_id_eq(&id, &t->prev.id))
		return drop(reason, -EBADMSG, "reply path differs from the request's");
	olen = ovl_msg_pop_via(msg, len, m, out, sizeof(out));
	if (olen >= 0)
		(void)send_entry(n, &t->prev, out, (size_t)olen);
	txn_destroy(n, t);
	return 0;
}

static int dispatch(struct ovl_node *n, const struct ovl_contact *from, const uint8_t *msg,
                    size_t len, const struct ovl_msg *m, uint64_t now, const char **reason)
{
	switch (m->type) {
	case OVL_MSG_PING:
		return on_ping(n, from, m, reason);
	case OVL_MSG_PONG:
		return on_pong(n, from, m, reason);
	case OVL_MSG_HOP_ACK:
		return on_hop_ack(n, from, m, reason);
	case OVL_MSG_STORE:
		return on_store(n, m, now, reason);
	case OVL_MSG_LEAVE:
		ovl_table_remove(n->table, &from->id);
		return 0;
	default:
		if (ovl_msg_class(m->type) == OVL_CLASS_REQUEST)
			return on_request(n, from, msg, len, m, now, reason);
		return on_reply(n, from, msg, len, m, now, reason);
	}
}

int ovl_node_input(struct ovl_node *n, const struct ovl_contact *from, const uint8_t *msg,
                   size_t len, uint64_t now, const char **ret_reason)
{
	const char *unused;
	const char **reason = ret_reason ? ret_reason : &unused;
	struct ovl_msg m;
	struct ovl_id id;
	int e;

	*reason = NULL;
	if (!n || !from || (!msg && len))
		return drop(reason, -EINVAL, "invalid arguments");
	if (n->left)
		return drop(reason, -ESHUTDOWN, "node has left the overlay");
	ovl_id_from_hit(&from->hit, &id);
	if (!ovl_id_eq(&id, &from->id)) {
		n->stats.dropped_malformed++;
		return drop(reason, -EPERM, "contact ID does not match its HIT");
	}
	if (ovl_id_eq(&id, &n->self.id))
		return drop(reason, -EINVAL, "message from our own ID");
	if (!rl_admit(n, &id, now))
		return drop(reason, -EBUSY, "sender rate-limited");
	e = ovl_msg_parse(msg, len, &m);
	if (e < 0) {
		n->stats.dropped_malformed++;
		rl_penalize(n, &id, now);
		return drop(reason, e, "malformed message");
	}
	n->stats.msgs_recv++;
	n->stats.bytes_recv += len;
	e = dispatch(n, from, msg, len, &m, now, reason);
	if (e == -EBADMSG) {
		n->stats.dropped_malformed++;
		rl_penalize(n, &id, now);
		return e;
	}
	if (m.type != OVL_MSG_LEAVE)
		learn(n, from, now);
	return e;
}

/* ---- timers ---- */

static void ping_timeout(struct ovl_node *n, struct ovl_txn *t, uint64_t now)
{
	struct ovl_entry *e = ovl_table_find(n->table, &t->target);

	if (e && e->ping_txid == t->txid) {
		ovl_table_fail(n->table, &t->target);
		maint_at(n, now); /* the second ping goes out at once */
	}
	txn_destroy(n, t);
}

/* Consumes t or schedules it later than now. */
static void txn_wake(struct ovl_node *n, struct ovl_txn *t, uint64_t now)
{
	bool lost = false;

	if (t->role == OVL_TXN_PING) {
		ping_timeout(n, t, now);
		return;
	}
	if (t->done) {
		origin_end(n, t, (enum ovl_status)t->status, NULL, 0, now);
		return;
	}
	if (t->deferred) {
		t->deferred = false;
		answer(n, t, now);
		return;
	}
	if (t->asked && now >= t->deadline) {
		t->pending = 0;
		get_reply_not_found(n, t, now);
		return;
	}
	for (size_t i = 0; i < t->npaths; i++) {
		struct ovl_path *p = &t->paths[i];

		if (!p->live || !p->ack_deadline || p->ack_deadline > now)
			continue;
		p->live = false;
		lost = true;
		ovl_table_fail(n->table, &p->next);
	}
	if (now >= t->deadline) {
		if (t->role == OVL_TXN_ORIGIN)
			origin_retry(n, t, OVL_TIMEOUT, now);
		else
			txn_destroy(n, t);
		return;
	}
	if (lost) {
		advance(n, t, now);
		return;
	}
	reschedule(n, t);
	if (t->wake <= now) /* nothing left to wait for: cannot happen, but never spin */
		ovl_route_schedule(n->route, t, t->deadline > now ? t->deadline : now + 1);
}

/* Pings contacts idle for ping_interval; returns when the next one is due. */
static uint64_t ping_scan(struct ovl_node *n, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	unsigned depth = ovl_table_depth(n->table);

	for (unsigned i = 0; i < depth; i++) {
		size_t cnt;
		struct ovl_entry *e = ovl_table_bucket(n->table, i, &cnt);

		for (size_t j = 0; j < cnt; j++) {
			uint64_t due = e[j].last_seen + n->cfg.ping_interval_ms;

			if (e[j].ping_txid)
				continue;
			if (due > now) {
				next = min64(next, due);
				break; /* least recently seen first: the rest are fresher */
			}
			ping_entry(n, &e[j], now);
		}
	}
	return next;
}

static uint64_t refresh_scan(struct ovl_node *n, uint64_t now)
{
	unsigned depth = ovl_table_depth(n->table);
	uint64_t next = UINT64_MAX, due;

	for (unsigned i = 0; i < depth; i++) {
		if (ovl_table_bucket_full(n->table, i))
			continue;
		due = max64(ovl_table_bucket_touched(n->table, i), n->joined_at) +
		      n->cfg.refresh_ms;
		if (due <= now) {
			refresh_bucket(n, i, now);
			due = now + n->cfg.refresh_ms;
		}
		next = min64(next, due);
	}
	/* Our own neighbourhood, which decides what we are responsible for. */
	if (n->self_refresh_at <= now) {
		start_refresh(n, &n->self.id, now);
		n->self_refresh_at = self_lookup_next(n, now);
	}
	return min64(next, n->self_refresh_at);
}

static uint64_t republish_scan(struct ovl_node *n, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < n->nown; i++) {
		struct own_rec *o = &n->own[i];

		if (o->next_publish == 0 || o->next_publish <= now)
			(void)publish_one(n, o, now);
		next = min64(next, o->next_publish);
	}
	return next;
}

static void start_join(struct ovl_node *n, uint64_t now)
{
	struct ovl_txn *t;

	t = origin_new(n, P_JOIN, OVL_MSG_FIND, OVL_MSG_F_MAINT, &n->self.id, NULL, 0, now);
	if (!t) {
		n->join_retry_at = now + n->cfg.lookup_timeout_ms;
		return;
	}
	n->joining = true;
	if (origin_start(n, t, now) < 0) {
		n->joining = false;
		n->join_retry_at = now + n->cfg.lookup_timeout_ms;
	}
}

static uint64_t maint_gap(const struct ovl_node *n)
{
	uint64_t gap = n->cfg.ping_interval_ms / 8;

	return gap < 1 ? 1 : gap > MAINT_GAP_MAX ? MAINT_GAP_MAX : gap;
}

static void maintenance(struct ovl_node *n, uint64_t now)
{
	uint64_t next;

	n->maint_next = UINT64_MAX;
	next = ping_scan(n, now);
	if (n->joined) {
		next = min64(next, refresh_scan(n, now));
		next = min64(next, republish_scan(n, now));
	}
	if (now >= n->expire_next) {
		ovl_store_expire(n->store, now);
		n->expire_next = now + EXPIRE_EVERY_MS;
	}
	next = min64(next, n->expire_next);
	if (!n->joined && !n->joining && n->join_wanted && ovl_table_size(n->table) > 0) {
		if (now >= n->join_retry_at)
			start_join(n, now);
		else
			next = min64(next, n->join_retry_at);
	}
	/* Work started above may have asked for an earlier run: keep it. */
	n->maint_next = min64(n->maint_next, max64(next, now + maint_gap(n)));
}

uint64_t ovl_node_next_timer(const struct ovl_node *n)
{
	uint64_t t = ovl_route_next_wake(n->route);

	if (!n->left)
		t = min64(t, n->maint_next);
	return t;
}

static void run_due(struct ovl_node *n, uint64_t now)
{
	struct ovl_txn *t;

	while ((t = ovl_route_due(n->route, now)))
		txn_wake(n, t, now);
}

void ovl_node_tick(struct ovl_node *n, uint64_t now)
{
	run_due(n, now);
	if (!n->left && now >= n->maint_next) {
		maintenance(n, now);
		/* Requests maintenance started that we answer ourselves. */
		run_due(n, now);
	}
}

/* ---- life cycle ---- */

static int check_config(const struct ovl_config *c)
{
	if (c->k == 0 || c->k > OVL_TABLE_K_MAX || c->replicas == 0 || c->replicas > c->k ||
	    c->alpha == 0 || c->alpha > OVL_PATHS_MAX || c->max_hops == 0 ||
	    c->max_hops > OVL_VIA_MAX || c->hop_timeout_ms == 0 || c->lookup_timeout_ms < 2 ||
	    c->ping_interval_ms == 0 || c->refresh_ms == 0 || c->republish_ms == 0 ||
	    c->record_lifetime_ms == 0 || c->record_lifetime_ms > OVL_MAX_LIFETIME_MS)
		return -EINVAL;
	return 0;
}

int ovl_node_new(const struct ovl_contact *self, uint16_t hi_algorithm, const uint8_t *hi,
                 size_t hi_len, const struct ovl_config *cfg, const struct ovl_ops *ops,
                 uint64_t now, struct ovl_node **ret)
{
	struct ovl_node *n;
	struct ovl_id id;
	uint64_t seed[2] = {0, 0};
	int e;

	if (!self || !hi || hi_len == 0 || hi_len > OVL_RECORD_MAX || !cfg || !ops || !ops->send ||
	    !ops->sign || !ops->verify || !ret)
		return -EINVAL;
	ovl_id_from_hit(&self->hit, &id);
	if (!ovl_id_eq(&id, &self->id) || check_config(cfg) < 0)
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->cfg = *cfg;
	n->ops = *ops;
	n->self = *self;
	n->hi_alg = hi_algorithm;
	/* The transaction ids follow from our ID and start time, so a run of
	 * the simulator replays; hash seeds come from the RNG. */
	n->rng = load_be64(id.b) ^ load_be64(id.b + 8) ^ now;
	if (crypto_random(seed, sizeof(seed)) < 0) {
		seed[0] = rng_next(n);
		seed[1] = rng_next(n);
	}
	n->rl_seed = seed[0];
	n->maint_next = now + maint_gap(n);
	n->expire_next = now + EXPIRE_EVERY_MS;
	n->hi = malloc(hi_len);
	e = n->hi ? 0 : -ENOMEM;
	if (e == 0)
		e = ovl_table_new(&id, cfg->k, &n->table);
	if (e == 0)
		e = ovl_store_new(cfg, &n->store);
	if (e == 0)
		e = ovl_route_new(seed[1], &n->route);
	if (e < 0) {
		ovl_node_free(n);
		return e;
	}
	memcpy(n->hi, hi, hi_len);
	n->hi_len = hi_len;
	*ret = n;
	return 0;
}

/* Transactions still running when the node goes: a relay search belongs to
 * its transaction until the transaction ends. */
static void txn_free_at_exit(struct ovl_txn *t)
{
	if (t->purpose == P_RELAYS && t->arg)
		relays_free(t->arg);
	txn_free(t);
}

struct ovl_node *ovl_node_free(struct ovl_node *n)
{
	if (!n)
		return NULL;
	ovl_route_free(n->route, txn_free_at_exit);
	ovl_store_free(n->store);
	ovl_table_free(n->table);
	free(n->hi);
	free(n->own);
	free(n);
	return NULL;
}

int ovl_node_join(struct ovl_node *n, const struct ovl_contact *via, size_t nvia, uint64_t now)
{
	struct ovl_id id;

	if (!n || (nvia && !via))
		return -EINVAL;
	for (size_t i = 0; i < nvia; i++) {
		ovl_id_from_hit(&via[i].hit, &id);
		if (!ovl_id_eq(&id, &via[i].id) || ovl_id_eq(&id, &n->self.id))
			return -EINVAL;
	}
	n->left = false;
	n->join_wanted = true;
	for (size_t i = 0; i < nvia; i++)
		(void)ovl_table_seen(n->table, &via[i], now, NULL);
	maint_at(n, now + maint_gap(n));
	if (ovl_table_size(n->table) == 0) {
		/* Nobody to join: we are the first node of a new overlay. */
		n->joined = true;
		n->joined_at = now;
		n->self_round = (unsigned)ARRAY_SIZE(self_settle_ms) + 1;
		n->self_refresh_at = now + n->cfg.refresh_ms;
		publish_all(n, now);
		return 0;
	}
	if (!n->joining)
		start_join(n, now);
	return 0;
}

static bool leave_one(void *arg, const struct ovl_id *key, const uint8_t *buf, size_t len)
{
	struct ovl_node *n = arg;
	const struct ovl_entry *cl[OVL_TABLE_K_MAX];
	size_t got = ovl_table_closest(n->table, key, NULL, NULL, cl, n->cfg.replicas);
	struct ovl_contact c;

	/* The nearest one takes over; the one that moves into the replica set
	 * in our place gets a copy too. */
	for (size_t i = 0; i < got; i++) {
		if (i != 0 && i != n->cfg.replicas - 1)
			continue;
		ovl_entry_contact(cl[i], &c);
		(void)send_store(n, &c, key, buf, len);
	}
	return true;
}

int ovl_node_leave(struct ovl_node *n, uint64_t now)
{
	size_t cnt = ovl_table_size(n->table), got;
	const struct ovl_entry **all;
	struct ovl_txn **pend;
	size_t npend = ovl_route_count(n->route);

	if (n->left)
		return 0;
	ovl_store_foreach(n->store, now, leave_one, n);
	all = calloc(cnt ? cnt : 1, sizeof(*all));
	pend = calloc(npend ? npend : 1, sizeof(*pend));
	if (!all || !pend) {
		free(all);
		free(pend);
		return -ENOMEM;
	}
	got = ovl_table_all(n->table, all, cnt);
	for (size_t i = 0; i < got; i++) {
		struct ovl_contact c;

		ovl_entry_contact(all[i], &c);
		(void)send_bare(n, &c, OVL_MSG_LEAVE, OVL_MSG_F_MAINT, rng_next(n), &c.id);
	}
	/* Our own requests still owe their callbacks: TIMEOUT, at the next tick. */
	for (size_t i = 0; i < npend; i++)
		pend[i] = ovl_route_at(n->route, i);
	for (size_t i = 0; i < npend; i++) {
		struct ovl_txn *t = pend[i];

		if (t->role == OVL_TXN_ORIGIN) {
			t->done = true;
			t->status = OVL_TIMEOUT;
			ovl_route_schedule(n->route, t, now);
		} else {
			txn_destroy(n, t);
		}
	}
	free(all);
	free(pend);
	n->joined = false;
	n->joining = false;
	n->join_wanted = false;
	n->left = true;
	return 0;
}

bool ovl_node_joined(const struct ovl_node *n)
{
	return n->joined;
}

size_t ovl_node_neighbors(const struct ovl_node *n)
{
	return ovl_table_size(n->table);
}

static int cmp_first_seen(const void *a, const void *b)
{
	const struct ovl_entry *x = *(const struct ovl_entry *const *)a;
	const struct ovl_entry *y = *(const struct ovl_entry *const *)b;

	if (x->first_seen != y->first_seen)
		return x->first_seen < y->first_seen ? -1 : 1;
	return ovl_id_cmp(&x->id, &y->id);
}

size_t ovl_node_contacts(const struct ovl_node *n, struct ovl_contact *out, size_t cap)
{
	size_t cnt = ovl_table_size(n->table), got;
	const struct ovl_entry **all;

	if (cnt == 0 || cap == 0)
		return 0;
	all = calloc(cnt, sizeof(*all));
	if (!all)
		return 0;
	got = ovl_table_all(n->table, all, cnt);
	qsort(all, got, sizeof(*all), cmp_first_seen);
	if (got > cap)
		got = cap;
	for (size_t i = 0; i < got; i++)
		ovl_entry_contact(all[i], &out[i]);
	free(all);
	return got;
}

void ovl_node_contact_failed(struct ovl_node *n, const struct ovl_id *id, uint64_t now)
{
	if (ovl_table_find(n->table, id)) {
		ovl_table_fail(n->table, id);
		maint_at(n, now);
	}
}

int ovl_node_resolve(struct ovl_node *n, const char *fqdn, uint64_t now, ovl_lookup_cb cb,
                     void *arg)
{
	struct ovl_txn *t;
	struct ovl_id key;

	if (!n || !fqdn || !cb || !ovl_name_valid(fqdn))
		return -EINVAL;
	if (n->left)
		return -ESHUTDOWN;
	ovl_key_for_name(fqdn, &key);
	t = origin_new(n, P_RESOLVE, OVL_MSG_GET, 0, &key, NULL, 0, now);
	if (!t || !(t->name = strdup(fqdn))) {
		txn_free(t);
		return -ENOMEM;
	}
	t->cb = cb;
	t->arg = arg;
	n->stats.lookups++;
	return origin_start(n, t, now);
}

static int relays_ask(struct ovl_node *n, struct relay_search *s, uint64_t now)
{
	struct ovl_txn *t;
	struct ovl_id key;

	ovl_key_for_relay(s->branch, &key);
	t = origin_new(n, P_RELAYS, OVL_MSG_GET, 0, &key, NULL, 0, now);
	if (!t || !(t->name = strdup(s->branch))) {
		txn_free(t);
		return -ENOMEM;
	}
	t->arg = s;
	return origin_start(n, t, now); /* on failure s stays the caller's */
}

/* After one level: deeper while it was full and we want more, else deliver. */
static void relays_next(struct ovl_node *n, struct relay_search *s, enum ovl_status st,
                        uint64_t now)
{
	struct ovl_record recs[OVL_RELAYS_MAX];
	size_t got = 0;

	if (st == OVL_OK && s->deeper && s->n < s->want && s->depth < RELAY_DEPTH_MAX) {
		relay_branch_down(n, s->branch, s->depth++);
		if (relays_ask(n, s, now) == 0)
			return;
	}
	/* The records point into s->raw, which lives until after the callback. */
	for (size_t i = 0; i < s->n && got < s->want; i++)
		if (ovl_record_verify(s->raw[i], s->raw_len[i], &n->ops, now, &recs[got]) == 0)
			got++;
	s->cb(s->arg, got ? OVL_OK : (st == OVL_OK ? OVL_NOT_FOUND : st), got ? recs : NULL, got);
	relays_free(s);
}

int ovl_node_find_relays(struct ovl_node *n, size_t want, uint64_t now, ovl_relays_cb cb, void *arg)
{
	struct relay_search *s;
	int r;

	if (!n || !cb || want == 0 || want > OVL_RELAYS_MAX)
		return -EINVAL;
	if (n->left)
		return -ESHUTDOWN;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct relay_search){.cb = cb, .arg = arg, .want = want};
	snprintf(s->branch, sizeof(s->branch), "%s", OVL_RELAY_PREFIX);
	r = relays_ask(n, s, now);
	if (r < 0)
		relays_free(s);
	return r;
}

int ovl_node_route_hip(struct ovl_node *n, const struct hit *dst, const uint8_t *pkt, size_t len,
                       const struct hit *not_via, uint64_t now)
{
	struct ovl_txn *t;
	struct ovl_id target;

	if (!n || !dst || !pkt || len == 0 || len > OVL_HIP_MAX)
		return -EINVAL;
	if (n->left)
		return -ESHUTDOWN;
	ovl_id_from_hit(dst, &target);
	if (ovl_id_eq(&target, &n->self.id))
		return -EINVAL;
	if (!ovl_table_next_hop(n->table, &target, false, NULL, NULL))
		return -EHOSTUNREACH; /* we know nobody at all */
	t = origin_new(n, P_HIP, OVL_MSG_HIP, 0, &target, pkt, len, now);
	if (!t)
		return -ENOMEM;
	if (not_via) {
		t->has_avoid = true;
		ovl_id_from_hit(not_via, &t->avoid);
	}
	return origin_start(n, t, now);
}

void ovl_node_stats(const struct ovl_node *n, struct ovl_stats *ret)
{
	*ret = n->stats;
	ret->records_stored = ovl_store_count(n->store);
	ret->store_bytes = ovl_store_bytes(n->store);
}
