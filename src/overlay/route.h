/* SPDX-License-Identifier: MIT */
/* route.h: the engine's pending transactions: routed requests it originated
 * or forwards (awaiting hop acks and replies), replica queries and liveness
 * pings, found by transaction id in O(1) and woken in deadline order from a
 * binary heap, so no per-message work scans them all. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "overlay/node.h"
#include "overlay/table.h"

#define OVL_PATHS_MAX 4 /* parallel first hops (alpha) */
#define OVL_TRIED_MAX 8 /* next hops tried for one request before we answer ourselves */

enum ovl_txn_role {
	OVL_TXN_ORIGIN,  /* our own request: a callback waits for the reply */
	OVL_TXN_FORWARD, /* a request we passed on: relays the reply back */
	OVL_TXN_PING,    /* liveness check of one contact */
};

/* One hop a request was sent to. */
struct ovl_path {
	struct ovl_id next;
	uint64_t ack_deadline; /* 0 once acknowledged (or given up) */
	bool live;
};

struct ovl_txn {
	uint64_t txid;
	uint8_t role;    /* enum ovl_txn_role */
	uint8_t purpose; /* origin: what completes it (node.c) */
	uint8_t type;    /* request message type */
	uint8_t flags;   /* request message flags */
	uint8_t attempt; /* origin: 1, then 2 for the retry via another first hop */
	bool done;       /* origin: result ready, deliver at the next wake */
	bool deferred;   /* origin: no hop closer than us: answer it at the next wake */
	bool asked;      /* GET we are responsible for: replicas were asked */
	struct ovl_id target;
	uint64_t started;
	uint64_t deadline; /* the whole transaction's */
	/* The request as this node received it (forward), or as if received
	 * with an empty via list (origin): what gets sent on, or answered. */
	uint8_t *msg;
	size_t msg_len;
	struct ovl_entry prev; /* forward: where the reply goes */
	bool has_prev;
	struct ovl_path paths[OVL_PATHS_MAX];
	uint8_t npaths;
	struct ovl_id tried[OVL_TRIED_MAX];
	uint8_t ntried;
	/* origin: a node never taken as a hop (e.g. a peer whose own link is
	 * suspect); it may still be reached through others. */
	struct ovl_id avoid;
	bool has_avoid;
	/* origin */
	ovl_lookup_cb cb;
	void *arg;
	char *name;     /* the fqdn or relay branch concerned */
	uint8_t status; /* enum ovl_status once done */
	uint8_t code;   /* PUT_REPLY reason */
	unsigned hops;
	uint8_t pending; /* replicas asked that have not answered yet */
	/* registry */
	uint64_t wake;
	size_t heap_idx;
	struct ovl_txn *hnext;
};

struct ovl_route;

/* seed keys the hash of transaction ids (peers choose the ids they send). */
int ovl_route_new(uint64_t seed, struct ovl_route **ret);
/* Frees the registry and, through txn_free, every transaction still in it. */
struct ovl_route *ovl_route_free(struct ovl_route *r, void (*txn_free)(struct ovl_txn *));

/* Registers t under t->txid with wake time t->wake. -EEXIST, -ENOMEM. */
int ovl_route_insert(struct ovl_route *r, struct ovl_txn *t);
struct ovl_txn *ovl_route_find(const struct ovl_route *r, uint64_t txid);
/* Unregisters t (the caller frees it). */
void ovl_route_remove(struct ovl_route *r, struct ovl_txn *t);
/* Moves t to a new txid (a retry must not meet state left by the first try). */
int ovl_route_rekey(struct ovl_route *r, struct ovl_txn *t, uint64_t txid);
/* Sets when t wants ovl_route_due to return it (UINT64_MAX: never). */
void ovl_route_schedule(struct ovl_route *r, struct ovl_txn *t, uint64_t wake);
/* The earliest transaction with wake <= now, or NULL. */
struct ovl_txn *ovl_route_due(const struct ovl_route *r, uint64_t now);
uint64_t ovl_route_next_wake(const struct ovl_route *r);
size_t ovl_route_count(const struct ovl_route *r);
/* The i-th transaction in no particular order (i < ovl_route_count). */
struct ovl_txn *ovl_route_at(const struct ovl_route *r, size_t i);

/* Wake time implied by t's outstanding hop acks and its deadline. */
uint64_t ovl_txn_wake(const struct ovl_txn *t);
bool ovl_txn_tried(const struct ovl_txn *t, const struct ovl_id *id);
void ovl_txn_add_tried(struct ovl_txn *t, const struct ovl_id *id);
/* The live path to id, or NULL. */
struct ovl_path *ovl_txn_path(struct ovl_txn *t, const struct ovl_id *id);
