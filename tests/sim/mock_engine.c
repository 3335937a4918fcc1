/* SPDX-License-Identifier: MIT */
/* mock_engine.c: a stand-in for the overlay engine with exactly known behaviour,
 * so test_sim_mock can check the simulator's clock, network, churn and
 * accounting against numbers worked out by hand.
 *
 * Every node knows every published name (a global table): a lookup is one
 * query straight to the owner and one answer, so it takes 2 x latency and 1
 * hop. A joined node sends a MOCK_PING_LEN-byte maintenance ping to its first
 * bootstrap contact every MOCK_PING_MS. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "mock_engine.h"

#define MOCK_PENDING_MAX 64

struct pending {
	bool used;
	uint64_t txid, start, deadline;
	enum ovl_status st; /* what the deadline reports */
	ovl_lookup_cb cb;
	void *arg;
};

struct ovl_node {
	struct ovl_contact self;
	struct ovl_ops ops;
	struct ovl_config cfg;
	struct ovl_stats st;
	struct ovl_contact via;
	bool has_via, joined;
	uint64_t next_ping;
	uint64_t next_txid;
	char name[OVL_NAME_MAX_MOCK];
	struct pending pending[MOCK_PENDING_MAX];
};

/* The global name table: every node sees it, which no real overlay can. */
static struct {
	char name[OVL_NAME_MAX_MOCK];
	struct ovl_contact owner;
} * names;
static size_t nnames, cap_names;

struct mock_counters mock_counters;

void mock_reset(void)
{
	free(names);
	names = NULL;
	nnames = cap_names = 0;
	memset(&mock_counters, 0, sizeof(mock_counters));
}

void ovl_config_default(struct ovl_config *cfg)
{
	*cfg = (struct ovl_config){.k = 16, .lookup_timeout_ms = 5000, .max_hops = 16};
}

void ovl_id_from_hit(const struct hit *hit, struct ovl_id *ret)
{
	memcpy(ret->b, hit->b, OVL_ID_LEN);
}

void ovl_key_for_name(const char *fqdn, struct ovl_id *ret)
{
	size_t len = strlen(fqdn);

	memset(ret, 0, sizeof(*ret));
	memcpy(ret->b, fqdn, len < OVL_ID_LEN ? len : OVL_ID_LEN);
}

int ovl_node_new(const struct ovl_contact *self, uint16_t hi_algorithm, const uint8_t *hi,
                 size_t hi_len, const struct ovl_config *cfg, const struct ovl_ops *ops,
                 uint64_t now, struct ovl_node **ret)
{
	struct ovl_node *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->self = *self;
	n->ops = *ops;
	n->cfg = *cfg;
	n->next_ping = UINT64_MAX;
	*ret = n;
	return 0;
}

static void unpublish(const struct ovl_node *n)
{
	for (size_t i = 0; i < nnames; i++) {
		if (strcmp(names[i].name, n->name) == 0) {
			names[i] = names[--nnames];
			return;
		}
	}
}

struct ovl_node *ovl_node_free(struct ovl_node *n)
{
	if (n) {
		unpublish(n);
		free(n);
	}
	return NULL;
}

static void mock_send(struct ovl_node *n, const struct ovl_contact *to, const uint8_t *msg,
                      size_t len, bool maint)
{
	n->st.msgs_sent++;
	n->st.bytes_sent += len;
	if (maint)
		n->st.maintenance_bytes_sent += len;
	if (n->ops.send(n->ops.ctx, to, msg, len) < 0)
		mock_counters.send_errors++;
}

int ovl_node_input(struct ovl_node *n, const struct ovl_contact *from, const uint8_t *msg,
                   size_t len, uint64_t now, const char **ret_reason)
{
	uint8_t reply[10];
	uint64_t txid;

	n->st.msgs_recv++;
	n->st.bytes_recv += len;
	if (len < 1) {
		*ret_reason = "empty";
		return -EBADMSG;
	}
	switch (msg[0]) {
	case 'P':
	case 'L':
		return 0;
	case 'Q':
		if (len != 9)
			break;
		reply[0] = 'A';
		memcpy(reply + 1, msg + 1, 8);
		mock_send(n, from, reply, 9, false);
		return 0;
	case 'A':
		if (len != 9)
			break;
		txid = load_be64(msg + 1);
		for (size_t i = 0; i < MOCK_PENDING_MAX; i++) {
			struct pending *p = &n->pending[i];
			struct ovl_record rec = {.kind = OVL_RECORD_NAME, .owner = from->hit};
			char name[OVL_NAME_MAX_MOCK];

			if (!p->used || p->txid != txid)
				continue;
			/* The owner's name: the mock names nodes like the simulator. */
			for (size_t j = 0; j < nnames; j++)
				if (memcmp(&names[j].owner.hit, &from->hit, sizeof(from->hit)) == 0)
					rec.name = strcpy(name, names[j].name);
			p->used = false;
			n->st.lookups_ok++;
			p->cb(p->arg, OVL_OK, &rec, 1, now - p->start);
			return 0;
		}
		return 0;
	}
	*ret_reason = "unknown message";
	return -EBADMSG;
}

uint64_t ovl_node_next_timer(const struct ovl_node *n)
{
	uint64_t t = n->next_ping;

	for (size_t i = 0; i < MOCK_PENDING_MAX; i++)
		if (n->pending[i].used && n->pending[i].deadline < t)
			t = n->pending[i].deadline;
	return t;
}

void ovl_node_tick(struct ovl_node *n, uint64_t now)
{
	uint8_t ping[MOCK_PING_LEN] = {'P'};

	mock_counters.ticks++;
	if (now >= n->next_ping) {
		mock_send(n, &n->via, ping, sizeof(ping), true);
		n->next_ping = now + MOCK_PING_MS;
	}
	for (size_t i = 0; i < MOCK_PENDING_MAX; i++) {
		struct pending *p = &n->pending[i];

		if (!p->used || p->deadline > now)
			continue;
		p->used = false;
		n->st.lookups_failed++;
		p->cb(p->arg, p->st, NULL, 0, now - p->start);
	}
}

int ovl_node_join(struct ovl_node *n, const struct ovl_contact *via, size_t nvia, uint64_t now)
{
	uint8_t ping[MOCK_PING_LEN] = {'P'};

	n->joined = true;
	if (nvia == 0)
		return 0; /* the first node: nobody to ping */
	mock_counters.joins++;
	n->via = via[0];
	n->has_via = true;
	n->joined = true;
	mock_send(n, &n->via, ping, sizeof(ping), true);
	n->next_ping = now + MOCK_PING_MS;
	return 0;
}

int ovl_node_leave(struct ovl_node *n, uint64_t now)
{
	uint8_t bye[MOCK_PING_LEN] = {'L'};

	mock_counters.leaves++;
	if (n->has_via)
		mock_send(n, &n->via, bye, sizeof(bye), true);
	return 0;
}

void ovl_node_set_publish_cb(struct ovl_node *n, ovl_publish_cb cb, void *arg)
{
	/* The mock's publications always succeed and are never reported. */
}

bool ovl_node_joined(const struct ovl_node *n)
{
	return n->joined;
}

int ovl_node_publish_name(struct ovl_node *n, const char *fqdn, const uint8_t *hints,
                          size_t hints_len, uint64_t now)
{
	if (strlen(fqdn) >= OVL_NAME_MAX_MOCK)
		return -EINVAL;
	if (nnames == cap_names) {
		size_t cap = cap_names ? 2 * cap_names : 256;
		void *p = realloc(names, cap * sizeof(*names));

		if (!p)
			return -ENOMEM;
		names = p;
		cap_names = cap;
	}
	strcpy(n->name, fqdn);
	strcpy(names[nnames].name, fqdn);
	names[nnames++].owner = n->self;
	return 0;
}

int ovl_node_resolve(struct ovl_node *n, const char *fqdn, uint64_t now, ovl_lookup_cb cb,
                     void *arg)
{
	uint8_t q[9] = {'Q'};
	struct pending *p = NULL;

	for (size_t i = 0; i < MOCK_PENDING_MAX && !p; i++)
		if (!n->pending[i].used)
			p = &n->pending[i];
	if (!p)
		return -ENOBUFS;
	*p = (struct pending){.used = true,
	                      .txid = ++n->next_txid,
	                      .start = now,
	                      .deadline = now + n->cfg.lookup_timeout_ms,
	                      .st = OVL_TIMEOUT,
	                      .cb = cb,
	                      .arg = arg};
	n->st.lookups++;
	for (size_t i = 0; i < nnames; i++) {
		if (strcmp(names[i].name, fqdn) == 0) {
			store_be64(q + 1, p->txid);
			mock_send(n, &names[i].owner, q, sizeof(q), false);
			return 0;
		}
	}
	/* Answered from the next tick, never from this call. */
	p->deadline = now;
	p->st = OVL_NOT_FOUND;
	return 0;
}

void ovl_node_stats(const struct ovl_node *n, struct ovl_stats *ret)
{
	*ret = n->st;
}
