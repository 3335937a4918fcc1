/* SPDX-License-Identifier: MIT */
/* sim.h: the simulated overlay: nodes running the unchanged engine on one virtual clock. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap.h"
#include "net.h"
#include "options.h"
#include "overlay/node.h"
#include "rng.h"
#include "samples.h"
#include "signer.h"

/* The virtual clock starts at a plausible Unix time (2023-11-14) rather than
 * 0: the engine's clock is wall-clock ms in the daemon, and records carry
 * absolute expiry times. */
#define SIM_EPOCH_MS 1700000000000ull
#define SIM_NAME_MAX 32
#define SIM_NONE     UINT32_MAX

enum sim_event {
	EV_DELIVER,       /* ptr: struct packet */
	EV_TIMER,         /* node's engine timer */
	EV_JOIN,          /* one of the initial joins */
	EV_DEPART,        /* node's session ends */
	EV_ELIGIBLE,      /* node's name may now be looked up */
	EV_LOOKUP,        /* the next lookup of the measurement phase */
	EV_MEASURE_START, /* snapshot the traffic counters */
	EV_MEASURE_END,   /* add up the traffic counters */
	EV_PROGRESS,      /* --progress line */
	EV_KINDS,
};

struct sim;

/* One identity. It stays allocated for the whole run (packets and lookups
 * refer to it by index); its engine goes away when the session ends. */
struct sim_node {
	struct sim *sim;
	uint32_t idx;
	struct ovl_node *ovl; /* NULL once gone */
	struct ovl_ops ops;   /* ctx = this node; the engine may keep the pointer */
	struct ovl_contact self;
	uint8_t hi[SIGNER_HI_LEN];
	char name[SIM_NAME_MAX];
	uint64_t born, died;
	uint64_t timer_at;                  /* the node's pending EV_TIMER, UINT64_MAX if none */
	uint32_t live_pos;                  /* index in sim->live */
	uint32_t target_pos;                /* index in sim->targets, or SIM_NONE */
	struct ovl_stats base;              /* counters when the measurement window opened */
	uint32_t published, publish_failed; /* publication outcomes of its name */
};

enum lookup_state {
	LK_PENDING,
	LK_OK,
	LK_NOT_FOUND,
	LK_TIMEOUT,
	LK_REFUSED,
	LK_TTL,
	LK_WRONG,       /* OVL_OK with a record that is not the target's */
	LK_ERROR,       /* ovl_node_resolve itself failed */
	LK_NO_CALLBACK, /* still pending when the run ended */
	LK_ABORTED,     /* the originating node went away first: not counted */
	LK_STATES,
};

struct lookup {
	struct sim *sim;
	uint64_t start;
	uint32_t origin, target;
	enum lookup_state state;
};

/* Things that should not happen, or that explain a failure. */
struct sim_anomalies {
	uint64_t join_errors, publish_errors, leave_errors, resolve_errors;
	uint64_t send_errors, misaddressed, self_sends;
	uint64_t timer_stuck;      /* next timer still due right after a tick */
	uint64_t double_callbacks; /* a lookup called back twice */
	uint64_t elapsed_mismatch; /* callback's elapsed_ms differs from the clock */
	uint64_t no_origin, no_target;
	uint64_t eligible_unjoined; /* a node up for --target-age that never joined */
};

#define SIM_REASONS_MAX 32

struct sim {
	struct options opt;
	struct ovl_config cfg;
	struct heap heap;
	struct net net;
	struct rng rng; /* identities, sessions, choices */
	uint64_t now;
	uint64_t measure_start, measure_end, end;
	bool measuring;
	uint64_t mean_session_ms; /* 0 without churn */

	struct sim_node **nodes;
	uint32_t nnodes, cap_nodes;
	uint32_t *live, nlive;       /* nodes with an engine */
	uint32_t *targets, ntargets; /* live nodes up for --target-age */
	uint32_t freeing;            /* node whose engine is being freed, or SIM_NONE */
	uint32_t initial_joins;      /* of the N initial nodes, how many have started */

	struct lookup *lookups;
	uint32_t nlookups, cap_lookups;
	uint32_t lookups_scheduled; /* lookup events so far */
	uint64_t lookup_state_count[LK_STATES];
	struct samples hops, latency;

	/* Traffic inside the measurement window. */
	uint64_t window_bytes, window_maint_bytes;
	uint64_t window_node_ms;

	uint64_t publish_status_count[OVL_TTL + 1];
	uint64_t departures_graceful, departures_silent;
	uint64_t delivered, lost_offline;
	uint64_t events, events_by_kind[EV_KINDS];
	struct {
		const char *reason;
		uint64_t count;
	} input_errors[SIM_REASONS_MAX];
	struct sim_anomalies bad;
	double wall_s;
	/* --trace (trace.c; main.c plugs them in, so the mock test needs no
	 * engine parser): see every message sent, explain a failed lookup. */
	void (*trace_send)(struct sim *s, uint32_t from, uint32_t to, const uint8_t *msg,
	                   size_t len);
	void (*trace_failure)(const struct sim *s, const struct lookup *lk, int st, unsigned hops);
};

int sim_init(struct sim *s, const struct options *opt);
void sim_release(struct sim *s);
/* Runs the whole scenario. 0, or a negative error that stopped it. */
int sim_run(struct sim *s);

/* Engine glue (sim.c). */
int sim_node_start(struct sim *s, uint32_t *ret_idx);
void sim_node_stop(struct sim *s, uint32_t idx, bool graceful);
/* After any call into a node's engine: make sure its next timer is queued. */
int sim_node_rearm(struct sim *s, uint32_t idx, bool after_tick);
/* Opens and closes the traffic window (sim.c keeps the per-node baselines). */
void sim_window_open(struct sim *s);
void sim_window_close(struct sim *s);

/* Scenario (scenario.c). */
int scenario_start(struct sim *s);
int scenario_event(struct sim *s, const struct event *ev);
void scenario_finish(struct sim *s);
