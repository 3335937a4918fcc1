/* SPDX-License-Identifier: MIT */
/* mesh.h: idlocd's attachment to the overlay. Overlay messages travel inside
 * ESP as UDP datagrams between the two HITs (port 10500), so the transport
 * authenticates every sender; an overlay contact without a HIP association
 * gets one (its messages wait in a small queue meanwhile). Bootstrap peers are
 * literal addresses or names resolved with c-ares; the contacts are kept in
 * state-dir/overlay.cache so a restarted daemon rejoins without them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hip/bex.h"
#include "overlay/node.h"

struct config;
struct datapath;
struct identity;
struct mesh;

#define MESH_PORT 10500 /* inner UDP port of overlay messages */

struct mesh_io {
	uv_loop_t *loop;
	const struct config *cfg;
	const struct identity *id;
	struct hip_host *hip;
	struct datapath *dp;
	/* The HIP engine's timers may have changed (connects, sends). */
	void (*hip_changed)(void *ctx);
	/* Optional: asks for a pipe to peer (a direct base exchange failed);
	 * 0 when one is being set up: mesh_path_up follows when it is up. */
	int (*want_pipe)(void *ctx, const struct hit *peer);
	/* Optional: the address hints our name record carries (hints.h);
	 * returns their length, 0 for none. */
	size_t (*name_hints)(void *ctx, uint8_t *buf, size_t cap);
	void *ctx;
};

int mesh_new(const struct mesh_io *io, struct mesh **ret);
/* Loads the cache, starts resolving and contacting bootstrap peers. */
int mesh_start(struct mesh *m);
/* Hands our records over, says goodbye, saves the cache and closes the
 * handles; the loop finishes the closes, then mesh_free. */
void mesh_stop(struct mesh *m);
struct mesh *mesh_free(struct mesh *m);

/* From the HIP engine's event callback. */
void mesh_hip_event(struct mesh *m, struct hip_assoc *a, enum hip_event ev);
/* The data path's local delivery hook (datapath_local_fn). */
bool mesh_local(void *ctx, const struct hit *from, uint8_t next_header, const uint8_t *payload,
                size_t len, uint64_t now);

/* The overlay engine's clock: the wall clock in ms, because record expiry
 * times travel between machines (docs/overlay.md). */
uint64_t mesh_clock_ms(void);
bool mesh_joined(const struct mesh *m);
size_t mesh_neighbors(const struct mesh *m);
const char *mesh_fqdn(const struct mesh *m);
/* Joins again (bootstrap peers and cache); leaves the overlay without stopping. */
int mesh_join(struct mesh *m);
int mesh_leave(struct mesh *m);
/* Resolves a name: a single label gets the overlay domain appended. */
/* Publishes our name record again with the current address hints (our
 * addresses changed). */
void mesh_republish_name(struct mesh *m);
/* Publishes (and keeps republishing) our relay record (docs/relay.md). */
int mesh_publish_relay(struct mesh *m, const uint8_t *payload, size_t len);
/* Finds up to want relay records (ovl_node_find_relays). */
int mesh_find_relays(struct mesh *m, size_t want, ovl_relays_cb cb, void *arg);
/* The pipe to peer is up: overlay messages that waited for it go now. */
void mesh_path_up(struct mesh *m, const struct hit *peer);
/* Routes a HIP packet hop by hop to its Receiver HIT (the overlay locator). */
int mesh_route_hip(struct mesh *m, const uint8_t *pkt, size_t len);
int mesh_resolve(struct mesh *m, const char *name, ovl_lookup_cb cb, void *arg);
void mesh_stats(const struct mesh *m, struct ovl_stats *ret);
