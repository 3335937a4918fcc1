/* SPDX-License-Identifier: MIT */
/* trace.c: diagnosis of failed lookups: who answered NOT_FOUND, and who should have.
 *
 * Reads the engine's messages with its own parser (overlay/msg.h) but never
 * changes them. Costs nothing without --trace. */
#include <stdio.h>
#include <string.h>

#include "overlay/msg.h"
#include "trace.h"

#define TRACE_CLOSEST 3
#define TRACE_RING    4096 /* NOT_FOUND answers remembered */
#define TRACE_PATH    8    /* via entries kept per answer */

/* A GET_REPLY saying NOT_FOUND, as its responder (or a replica) sent it. */
struct answer {
	uint64_t at;
	struct ovl_id key;
	uint32_t from, to;
	uint8_t hops;  /* the request's hop count (the reply's TTL field) */
	uint8_t npath; /* via entries kept: the request's path, originator first */
	uint8_t path[TRACE_PATH][OVL_ID_LEN];
};

static struct answer ring[TRACE_RING];
static size_t ring_next, ring_len;

static const char *const status_names[] = {
        [OVL_OK] = "ok",           [OVL_NOT_FOUND] = "not-found",
        [OVL_TIMEOUT] = "timeout", [OVL_REFUSED] = "refused",
        [OVL_TTL] = "ttl",
};

void trace_send(struct sim *s, uint32_t from, uint32_t to, const uint8_t *msg, size_t len)
{
	struct answer *a;
	struct ovl_msg m;

	if (ovl_msg_parse(msg, len, &m) < 0 || m.type != OVL_MSG_GET_REPLY ||
	    m.status != OVL_GET_NOT_FOUND)
		return;
	/* Hop by hop back, the via list shrinks: only the first sending
	 * (as many entries as the request took hops) is the answer itself. */
	if (m.nvia != m.ttl)
		return;
	a = &ring[ring_next];
	ring_next = (ring_next + 1) % TRACE_RING;
	if (ring_len < TRACE_RING)
		ring_len++;
	a->at = s->now;
	a->key = m.target;
	a->from = from;
	a->to = to;
	a->hops = m.ttl;
	a->npath = (uint8_t)(m.nvia < TRACE_PATH ? m.nvia : TRACE_PATH);
	memcpy(a->path, m.via, (size_t)a->npath * OVL_ID_LEN);
}

static bool closer(const struct ovl_id *key, const struct ovl_id *a, const struct ovl_id *b)
{
	for (size_t i = 0; i < OVL_ID_LEN; i++) {
		uint8_t da = a->b[i] ^ key->b[i], db = b->b[i] ^ key->b[i];

		if (da != db)
			return da < db;
	}
	return false;
}

/* The TRACE_CLOSEST live nodes nearest to key, nearest first. O(N). */
static size_t closest_live(const struct sim *s, const struct ovl_id *key,
                           uint32_t out[TRACE_CLOSEST])
{
	size_t n = 0;

	for (uint32_t i = 0; i < s->nlive; i++) {
		uint32_t idx = s->live[i];
		size_t j = n < TRACE_CLOSEST ? n++ : TRACE_CLOSEST;

		/* Insertion into a short sorted list. */
		while (j > 0 &&
		       closer(key, &s->nodes[idx]->self.id, &s->nodes[out[j - 1]]->self.id)) {
			if (j < TRACE_CLOSEST)
				out[j] = out[j - 1];
			j--;
		}
		if (j < TRACE_CLOSEST)
			out[j] = idx;
	}
	return n;
}

/* The node with this ID, or SIM_NONE. O(N). */
static uint32_t node_of(const struct sim *s, const uint8_t id[OVL_ID_LEN])
{
	for (uint32_t i = 0; i < s->nnodes; i++)
		if (memcmp(s->nodes[i]->self.id.b, id, OVL_ID_LEN) == 0)
			return i;
	return SIM_NONE;
}

static const char *status_name(int st)
{
	if (st < 0 || (size_t)st >= sizeof(status_names) / sizeof(status_names[0]) ||
	    !status_names[st])
		return "wrong-record";
	return status_names[st];
}

/* Rank of node idx by distance to key among the live nodes (0 = closest). O(N). */
static uint32_t rank_of(const struct sim *s, const struct ovl_id *key, uint32_t idx)
{
	uint32_t rank = 0;

	for (uint32_t i = 0; i < s->nlive; i++)
		rank += closer(key, &s->nodes[s->live[i]]->self.id, &s->nodes[idx]->self.id);
	return rank;
}

static void print_answers(const struct sim *s, const struct lookup *lk, const struct ovl_id *key)
{
	for (size_t i = 0; i < ring_len; i++) {
		const struct answer *a =
		        &ring[(ring_next + TRACE_RING - ring_len + i) % TRACE_RING];

		if (a->at < lk->start || memcmp(&a->key, key, sizeof(*key)) != 0)
			continue;
		fprintf(stderr,
		        "\n  NOT_FOUND from n%u (rank %u by distance among live nodes) to n%u, "
		        "path",
		        a->from, rank_of(s, key, a->from), a->to);
		for (size_t j = 0; j < a->npath; j++)
			fprintf(stderr, " n%u", node_of(s, a->path[j]));
		fprintf(stderr, " (%u hops)", a->hops);
	}
}

void trace_failure(const struct sim *s, const struct lookup *lk, int st, unsigned hops)
{
	const struct sim_node *o = s->nodes[lk->origin], *t = s->nodes[lk->target];
	char key[2 * OVL_ID_LEN + 1];
	uint32_t near[TRACE_CLOSEST];
	struct ovl_id id;
	size_t n;

	ovl_key_for_name(t->name, &id);
	for (size_t i = 0; i < OVL_ID_LEN; i++)
		snprintf(key + 2 * i, 3, "%02x", id.b[i]);
	fprintf(stderr,
	        "lookup failed: t=%.3fs origin=n%u (up %.0fs) target=%s key=%s (up %.0fs%s) "
	        "publications ok=%u failed=%u status=%s hops=%u took=%llums;",
	        (double)(lk->start - SIM_EPOCH_MS) / 1000.0, lk->origin,
	        (double)(lk->start - o->born) / 1000.0, t->name, key,
	        (double)(lk->start - t->born) / 1000.0, t->ovl ? "" : ", gone since", t->published,
	        t->publish_failed, status_name(st), hops, (unsigned long long)(s->now - lk->start));
	n = closest_live(s, &id, near);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s n%u (up %.0fs)", i ? "," : " closest live:", near[i],
		        (double)(s->now - s->nodes[near[i]]->born) / 1000.0);
	print_answers(s, lk, &id);
	fputc('\n', stderr);
}
