/* SPDX-License-Identifier: MIT */
/* sim.c: the event loop and the glue between the engine and the simulated network. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "random.h"
#include "sim.h"

/* The random streams: one per purpose (see rng_seed). */
#define STREAM_SCENARIO 1

static double wall_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sim_init(struct sim *s, const struct options *opt)
{
	*s = (struct sim){.opt = *opt, .now = SIM_EPOCH_MS, .freeing = SIM_NONE};
	random_seed(opt->seed);
	rng_seed(&s->rng, opt->seed, STREAM_SCENARIO);
	ovl_config_default(&s->cfg);
	heap_init(&s->heap);
	net_init(&s->net, &s->heap, EV_DELIVER, opt->latency_ms, opt->jitter_ms, opt->loss,
	         opt->seed);
	samples_init(&s->hops);
	samples_init(&s->latency);
	s->live = calloc(opt->nodes, sizeof(*s->live));
	s->targets = calloc(opt->nodes, sizeof(*s->targets));
	if (!s->live || !s->targets)
		return -ENOMEM;
	return 0;
}

void sim_release(struct sim *s)
{
	struct event ev;

	while (heap_pop(&s->heap, &ev))
		if (ev.kind == EV_DELIVER)
			free(ev.ptr);
	heap_release(&s->heap);
	for (uint32_t i = 0; i < s->nnodes; i++) {
		ovl_node_free(s->nodes[i]->ovl);
		free(s->nodes[i]);
	}
	free(s->nodes);
	free(s->live);
	free(s->targets);
	free(s->lookups);
	samples_release(&s->hops);
	samples_release(&s->latency);
}

static int op_send(void *ctx, const struct ovl_contact *to, const uint8_t *msg, size_t len)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	uint32_t dst;
	int r;

	/* A locator that names nobody, or a HIT that is not the one living at
	 * that locator, would fail at the HIP layer: the message is lost. */
	if (net_addr_node(&to->addr, to->addrlen, &dst) < 0 || dst >= s->nnodes ||
	    memcmp(&s->nodes[dst]->self.hit, &to->hit, sizeof(to->hit)) != 0) {
		s->bad.misaddressed++;
		return 0;
	}
	if (dst == n->idx)
		s->bad.self_sends++;
	if (s->trace_send)
		s->trace_send(s, n->idx, dst, msg, len);
	r = net_send(&s->net, s->now, n->idx, dst, msg, len);
	if (r < 0)
		s->bad.send_errors++;
	return r;
}

static int op_sign(void *ctx, const uint8_t *data, size_t len, uint8_t *sig, size_t *siglen)
{
	struct sim_node *n = ctx;

	return signer_sign(n->hi, sizeof(n->hi), data, len, sig, siglen);
}

static int op_verify(void *ctx, uint16_t hi_algorithm, const uint8_t *hi, size_t hi_len,
                     const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen,
                     struct hit *ret_owner)
{
	return signer_verify(hi_algorithm, hi, hi_len, data, len, sig, siglen, ret_owner);
}

static void on_publish(void *arg, enum ovl_record_kind kind, const char *name, enum ovl_status st)
{
	struct sim_node *n = arg;
	struct sim *s = n->sim;

	if ((unsigned)st <= OVL_TTL)
		s->publish_status_count[st]++;
	if (st == OVL_OK) {
		n->published++;
		return;
	}
	n->publish_failed++;
	if (s->opt.trace)
		fprintf(stderr, "publish failed: t=%.3fs node=n%u (up %.0fs) name=%s status=%d\n",
		        (double)(s->now - SIM_EPOCH_MS) / 1000.0, n->idx,
		        (double)(s->now - n->born) / 1000.0, name, (int)st);
}

int sim_node_rearm(struct sim *s, uint32_t idx, bool after_tick)
{
	struct sim_node *n = s->nodes[idx];
	uint64_t t;
	int r;

	if (!n->ovl)
		return 0;
	t = ovl_node_next_timer(n->ovl);
	if (t == UINT64_MAX)
		return 0;
	if (t <= s->now) {
		/* Due now. Right after a tick that would spin the clock in
		 * place, so it waits a millisecond (and is reported). */
		if (after_tick)
			s->bad.timer_stuck++;
		t = after_tick ? s->now + 1 : s->now;
	}
	if (t >= n->timer_at)
		return 0; /* the pending, earlier event will look again */
	r = heap_push(&s->heap, t, EV_TIMER, idx, NULL);
	if (r < 0)
		return r;
	n->timer_at = t;
	return 0;
}

static int on_timer(struct sim *s, const struct event *ev)
{
	struct sim_node *n = s->nodes[ev->node];

	if (!n->ovl || ev->at != n->timer_at)
		return 0; /* gone, or superseded by an earlier event */
	n->timer_at = UINT64_MAX;
	if (ovl_node_next_timer(n->ovl) > s->now)
		return sim_node_rearm(s, ev->node, false);
	ovl_node_tick(n->ovl, s->now);
	return sim_node_rearm(s, ev->node, true);
}

static void count_input_error(struct sim *s, const char *reason)
{
	if (!reason)
		reason = "(no reason)";
	for (size_t i = 0; i < SIM_REASONS_MAX; i++) {
		if (!s->input_errors[i].reason) {
			s->input_errors[i].reason = reason;
			s->input_errors[i].count = 1;
			return;
		}
		if (strcmp(s->input_errors[i].reason, reason) == 0) {
			s->input_errors[i].count++;
			return;
		}
	}
	s->input_errors[SIM_REASONS_MAX - 1].count++;
}

static int on_deliver(struct sim *s, const struct event *ev)
{
	struct packet *p = ev->ptr;
	struct sim_node *to = s->nodes[p->to];
	const char *reason = NULL;
	int r = 0;

	if (to->ovl) {
		s->delivered++;
		if (ovl_node_input(to->ovl, &s->nodes[p->from]->self, p->data, p->len, s->now,
		                   &reason) < 0)
			count_input_error(s, reason);
		r = sim_node_rearm(s, p->to, false);
	} else {
		s->lost_offline++;
	}
	free(p);
	return r;
}

static int grow_nodes(struct sim *s)
{
	uint32_t cap = s->cap_nodes ? s->cap_nodes * 2 : s->opt.nodes + 1024;
	struct sim_node **nodes;

	if (cap > NET_MAX_NODES)
		return -ENOSPC;
	nodes = realloc(s->nodes, cap * sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	s->nodes = nodes;
	s->cap_nodes = cap;
	return 0;
}

static void live_add(struct sim *s, uint32_t idx)
{
	s->nodes[idx]->live_pos = s->nlive;
	s->live[s->nlive++] = idx;
}

static void set_remove(uint32_t *set, uint32_t *len, struct sim_node **nodes, uint32_t pos,
                       bool live)
{
	uint32_t moved = set[--*len];

	set[pos] = moved;
	if (live)
		nodes[moved]->live_pos = pos;
	else
		nodes[moved]->target_pos = pos;
}

int sim_node_start(struct sim *s, uint32_t *ret_idx)
{
	struct sim_node *n;
	uint32_t idx = s->nnodes;
	int r;

	if (s->nlive >= s->opt.nodes)
		return -ENOSPC;
	if (idx == s->cap_nodes) {
		r = grow_nodes(s);
		if (r < 0)
			return r;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->sim = s;
	n->idx = idx;
	n->born = s->now;
	n->timer_at = UINT64_MAX;
	n->target_pos = SIM_NONE;
	n->ops = (struct ovl_ops){.ctx = n, .send = op_send, .sign = op_sign, .verify = op_verify};
	signer_identity(&s->rng, n->hi, &n->self.hit);
	ovl_id_from_hit(&n->self.hit, &n->self.id);
	net_addr(idx, &n->self.addr, &n->self.addrlen);
	snprintf(n->name, sizeof(n->name), "n%u.sim.internal", idx);
	r = ovl_node_new(&n->self, SIGNER_HI_ALGORITHM, n->hi, sizeof(n->hi), &s->cfg, &n->ops,
	                 s->now, &n->ovl);
	if (r < 0) {
		free(n);
		return r;
	}
	ovl_node_set_publish_cb(n->ovl, on_publish, n);
	s->nodes[s->nnodes++] = n;
	live_add(s, idx);
	*ret_idx = idx;
	return 0;
}

/* Adds what the node sent inside the measurement window to the totals. */
static void window_account(struct sim *s, struct sim_node *n)
{
	struct ovl_stats st;
	uint64_t from = n->born > s->measure_start ? n->born : s->measure_start;

	ovl_node_stats(n->ovl, &st);
	s->window_bytes += st.bytes_sent - n->base.bytes_sent;
	s->window_maint_bytes += st.maintenance_bytes_sent - n->base.maintenance_bytes_sent;
	s->window_node_ms += s->now - from;
}

void sim_window_open(struct sim *s)
{
	for (uint32_t i = 0; i < s->nlive; i++) {
		struct sim_node *n = s->nodes[s->live[i]];

		ovl_node_stats(n->ovl, &n->base);
	}
	s->measuring = true;
}

void sim_window_close(struct sim *s)
{
	for (uint32_t i = 0; i < s->nlive; i++)
		window_account(s, s->nodes[s->live[i]]);
	s->measuring = false;
}

void sim_node_stop(struct sim *s, uint32_t idx, bool graceful)
{
	struct sim_node *n = s->nodes[idx];

	if (!n->ovl)
		return;
	if (graceful && ovl_node_leave(n->ovl, s->now) < 0)
		s->bad.leave_errors++;
	if (s->measuring)
		window_account(s, n);
	/* Lookups this node started end here: the callback, if the engine
	 * makes one while freeing, must not count as an answer. */
	s->freeing = idx;
	n->ovl = ovl_node_free(n->ovl);
	s->freeing = SIM_NONE;
	n->died = s->now;
	set_remove(s->live, &s->nlive, s->nodes, n->live_pos, true);
	if (n->target_pos != SIM_NONE) {
		set_remove(s->targets, &s->ntargets, s->nodes, n->target_pos, false);
		n->target_pos = SIM_NONE;
	}
}

static int dispatch(struct sim *s, const struct event *ev)
{
	switch (ev->kind) {
	case EV_DELIVER:
		return on_deliver(s, ev);
	case EV_TIMER:
		return on_timer(s, ev);
	default:
		return scenario_event(s, ev);
	}
}

int sim_run(struct sim *s)
{
	double t0 = wall_clock();
	const struct event *top;
	struct event ev;
	int r;

	r = scenario_start(s);
	while (r == 0 && (top = heap_peek(&s->heap)) && top->at <= s->end) {
		heap_pop(&s->heap, &ev);
		s->now = ev.at;
		s->events++;
		s->events_by_kind[ev.kind]++;
		r = dispatch(s, &ev);
	}
	if (r == 0)
		scenario_finish(s);
	s->wall_s = wall_clock() - t0;
	return r;
}
