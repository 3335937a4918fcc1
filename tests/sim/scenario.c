/* SPDX-License-Identifier: MIT */
/* scenario.c: joins, sessions and departures, lookups, and the measurement window.
 *
 * N nodes join one after another over the first half of the warm-up, each
 * through --bootstrap random live nodes, and publish their name. With churn,
 * every session lasts an exponential time of the given median; then the node
 * leaves (gracefully with probability --graceful, otherwise silently) and a
 * node with a fresh identity joins at once, so N stays constant. During the
 * measurement phase a lookup starts every 1/R seconds from a random joined
 * node, for the name of a random other node that has been up for
 * --target-age. Only the window's traffic is counted. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define MINUTE_MS       60000ull
#define DRAIN_MARGIN_MS 10000ull /* after the lookup timeout, so every callback arrives */
#define ORIGIN_TRIES    32

static uint64_t rel_min(const struct sim *s)
{
	return (s->now - SIM_EPOCH_MS) / MINUTE_MS;
}

static size_t pick_bootstrap(struct sim *s, struct ovl_contact *via, size_t cap)
{
	size_t n = 0;

	for (size_t tries = 0; tries < 4 * cap && n < cap && s->nlive > 0; tries++) {
		uint32_t idx = s->live[rng_below(&s->rng, s->nlive)];
		bool dup = false;

		for (size_t i = 0; i < n; i++)
			dup |= memcmp(&via[i].hit, &s->nodes[idx]->self.hit, sizeof(via[i].hit)) ==
			       0;
		if (!dup)
			via[n++] = s->nodes[idx]->self;
	}
	return n;
}

/* A new node: joins through random live nodes and publishes its name. */
static int spawn(struct sim *s)
{
	struct ovl_contact via[64];
	struct sim_node *n;
	size_t nvia;
	uint32_t idx;
	int r;

	nvia = pick_bootstrap(s, via, s->opt.bootstrap < 64 ? s->opt.bootstrap : 64);
	r = sim_node_start(s, &idx);
	if (r < 0)
		return r;
	n = s->nodes[idx];
	/* The very first node joins through nobody: it starts the overlay. */
	if (ovl_node_join(n->ovl, via, nvia, s->now) < 0)
		s->bad.join_errors++;
	if (ovl_node_publish_name(n->ovl, n->name, NULL, 0, s->now) < 0)
		s->bad.publish_errors++;
	r = sim_node_rearm(s, idx, false);
	if (r == 0 && s->mean_session_ms)
		r = heap_push(&s->heap, s->now + rng_exp_ms(&s->rng, (double)s->mean_session_ms),
		              EV_DEPART, idx, NULL);
	if (r == 0)
		r = heap_push(&s->heap, s->now + s->opt.target_age_ms, EV_ELIGIBLE, idx, NULL);
	return r;
}

static int on_join(struct sim *s)
{
	uint64_t spread = s->opt.warmup_ms / 2;
	int r;

	r = spawn(s);
	if (r < 0)
		return r;
	s->initial_joins++;
	if (s->initial_joins >= s->opt.nodes)
		return 0;
	return heap_push(&s->heap, SIM_EPOCH_MS + spread * s->initial_joins / s->opt.nodes, EV_JOIN,
	                 SIM_NONE, NULL);
}

static int on_depart(struct sim *s, uint32_t idx)
{
	bool graceful;

	if (!s->nodes[idx]->ovl)
		return 0;
	graceful = rng_unit(&s->rng) < s->opt.graceful;
	if (graceful)
		s->departures_graceful++;
	else
		s->departures_silent++;
	sim_node_stop(s, idx, graceful);
	return spawn(s);
}

static void on_eligible(struct sim *s, uint32_t idx)
{
	struct sim_node *n = s->nodes[idx];

	if (!n->ovl)
		return;
	if (!ovl_node_joined(n->ovl))
		s->bad.eligible_unjoined++;
	n->target_pos = s->ntargets;
	s->targets[s->ntargets++] = idx;
}

static void lookup_done(void *arg, enum ovl_status st, const struct ovl_record *rec, unsigned hops,
                        uint64_t elapsed_ms)
{
	struct lookup *lk = arg;
	struct sim *s = lk->sim;
	const struct sim_node *target = s->nodes[lk->target];
	uint64_t took = s->now - lk->start;

	if (lk->state != LK_PENDING) {
		s->bad.double_callbacks++;
		return;
	}
	if (s->freeing == lk->origin) {
		lk->state = LK_ABORTED;
		return;
	}
	if (elapsed_ms != took)
		s->bad.elapsed_mismatch++;
	if (s->trace_failure && st != OVL_OK)
		s->trace_failure(s, lk, (int)st, hops);
	switch (st) {
	case OVL_OK:
		if (!rec || rec->kind != OVL_RECORD_NAME || !rec->name ||
		    strcmp(rec->name, target->name) != 0 ||
		    memcmp(&rec->owner, &target->self.hit, sizeof(rec->owner)) != 0) {
			lk->state = LK_WRONG;
			if (s->trace_failure)
				s->trace_failure(s, lk, -1, hops);
			return;
		}
		lk->state = LK_OK;
		/* Out of memory only loses a sample; the count stays right. */
		(void)samples_add(&s->hops, hops);
		(void)samples_add(&s->latency, took);
		return;
	case OVL_NOT_FOUND:
		lk->state = LK_NOT_FOUND;
		return;
	case OVL_TIMEOUT:
		lk->state = LK_TIMEOUT;
		return;
	case OVL_REFUSED:
		lk->state = LK_REFUSED;
		return;
	case OVL_TTL:
		lk->state = LK_TTL;
		return;
	}
	lk->state = LK_WRONG;
}

static uint32_t pick_origin(struct sim *s, uint32_t target)
{
	for (int i = 0; i < ORIGIN_TRIES; i++) {
		uint32_t idx = s->live[rng_below(&s->rng, s->nlive)];

		if (idx != target && ovl_node_joined(s->nodes[idx]->ovl))
			return idx;
	}
	return SIM_NONE;
}

static int schedule_next_lookup(struct sim *s)
{
	uint64_t at = s->measure_start +
	              (uint64_t)((double)s->lookups_scheduled * 1000.0 / s->opt.lookups_per_s);

	if (at >= s->measure_end)
		return 0;
	return heap_push(&s->heap, at, EV_LOOKUP, SIM_NONE, NULL);
}

static int on_lookup(struct sim *s)
{
	struct lookup *lk;
	uint32_t target, origin;

	s->lookups_scheduled++;
	if (s->ntargets == 0 || s->nlive < 2) {
		s->bad.no_target++;
		return schedule_next_lookup(s);
	}
	target = s->targets[rng_below(&s->rng, s->ntargets)];
	origin = pick_origin(s, target);
	if (origin == SIM_NONE || s->nlookups == s->cap_lookups) {
		s->bad.no_origin++;
		return schedule_next_lookup(s);
	}
	lk = &s->lookups[s->nlookups++];
	*lk = (struct lookup){
	        .sim = s, .start = s->now, .origin = origin, .target = target, .state = LK_PENDING};
	if (ovl_node_resolve(s->nodes[origin]->ovl, s->nodes[target]->name, s->now, lookup_done,
	                     lk) < 0) {
		s->bad.resolve_errors++;
		lk->state = LK_ERROR;
	}
	if (sim_node_rearm(s, origin, false) < 0)
		return -ENOMEM;
	return schedule_next_lookup(s);
}

static void progress(struct sim *s)
{
	uint32_t joined = 0, ok = 0;

	for (uint32_t i = 0; i < s->nlive; i++)
		joined += ovl_node_joined(s->nodes[s->live[i]]->ovl);
	for (uint32_t i = 0; i < s->nlookups; i++)
		ok += s->lookups[i].state == LK_OK;
	fprintf(stderr,
	        "t=%3llu min live=%u joined=%u identities=%u lookups=%u ok=%u events=%llu "
	        "queue=%zu delivered=%llu lost=%llu\n",
	        (unsigned long long)rel_min(s), s->nlive, joined, s->nnodes, s->nlookups, ok,
	        (unsigned long long)s->events, s->heap.len, (unsigned long long)s->delivered,
	        (unsigned long long)(s->lost_offline + s->net.stats.lost));
}

int scenario_start(struct sim *s)
{
	const struct options *o = &s->opt;
	double n_lookups = ceil((double)o->duration_ms / 1000.0 * o->lookups_per_s);
	int r;

	s->measure_start = SIM_EPOCH_MS + o->warmup_ms;
	s->measure_end = s->measure_start + o->duration_ms;
	s->end = s->measure_end + s->cfg.lookup_timeout_ms + DRAIN_MARGIN_MS;
	/* Exponential: median = mean * ln 2. */
	s->mean_session_ms =
	        o->churn_median_ms ? (uint64_t)llround((double)o->churn_median_ms / log(2.0)) : 0;
	if (n_lookups > 1e8)
		return -E2BIG;
	s->cap_lookups = (uint32_t)n_lookups + 1;
	s->lookups = calloc(s->cap_lookups, sizeof(*s->lookups));
	if (!s->lookups)
		return -ENOMEM;
	r = heap_push(&s->heap, SIM_EPOCH_MS, EV_JOIN, SIM_NONE, NULL);
	if (r == 0)
		r = heap_push(&s->heap, s->measure_start, EV_MEASURE_START, SIM_NONE, NULL);
	if (r == 0)
		r = heap_push(&s->heap, s->measure_start, EV_LOOKUP, SIM_NONE, NULL);
	if (r == 0)
		r = heap_push(&s->heap, s->measure_end, EV_MEASURE_END, SIM_NONE, NULL);
	if (r == 0 && o->progress)
		r = heap_push(&s->heap, SIM_EPOCH_MS + MINUTE_MS, EV_PROGRESS, SIM_NONE, NULL);
	return r;
}

int scenario_event(struct sim *s, const struct event *ev)
{
	switch (ev->kind) {
	case EV_JOIN:
		return on_join(s);
	case EV_DEPART:
		return on_depart(s, ev->node);
	case EV_ELIGIBLE:
		on_eligible(s, ev->node);
		return 0;
	case EV_LOOKUP:
		return on_lookup(s);
	case EV_MEASURE_START:
		sim_window_open(s);
		return 0;
	case EV_MEASURE_END:
		sim_window_close(s);
		return 0;
	case EV_PROGRESS:
		progress(s);
		return heap_push(&s->heap, s->now + MINUTE_MS, EV_PROGRESS, SIM_NONE, NULL);
	default:
		return -EINVAL;
	}
}

void scenario_finish(struct sim *s)
{
	for (uint32_t i = 0; i < s->nlookups; i++) {
		struct lookup *lk = &s->lookups[i];

		const struct sim_node *o = s->nodes[lk->origin];

		/* Pending after its origin left is fine, unless the engine
		 * should have called back before that. */
		if (lk->state == LK_PENDING)
			lk->state = !o->ovl && o->died - lk->start <= s->cfg.lookup_timeout_ms
			                    ? LK_ABORTED
			                    : LK_NO_CALLBACK;
		s->lookup_state_count[lk->state]++;
	}
}
