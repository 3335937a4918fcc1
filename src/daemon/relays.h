/* SPDX-License-Identifier: MIT */
/* relays.h: peer relays (docs/relay.md "In the daemon").
 *
 * Serving: a host with a public address ([relay] serve) runs a TURN server
 * (src/relay) on [relay] port and publishes a relay record under the
 * hierarchical relay keys. A client's TURN username is its HIT (32 hex
 * digits) and its password is derived from the HIP association the two
 * hosts share (hip_assoc_relay_password): only a host that completed a
 * base exchange with the relay, i.e. proved its Host Identity, can
 * allocate, and no credential ever travels.
 *
 * Using: a joined host without configured TURN servers looks for relays in
 * the overlay (outermost branch first), opens a base exchange with the first
 * one that is not itself, and hands it to the pipes as a TURN server once
 * the association is up. Losing the association drops the relay and the
 * search starts again after a while. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/hit.h"
#include "hip/bex.h"

struct config;
struct mesh;
struct pipes;
struct relays;

struct relays_io {
	uv_loop_t *loop;
	const struct config *cfg;
	struct hip_host *hip;
	struct mesh *mesh;
	struct pipes *pipes; /* NULL: no pipes, nothing to use relays for */
	struct hit self;     /* our HIT */
	const char *tun_name;
	/* The HIP engine may have new timers (a connect). */
	void (*hip_changed)(void *ctx);
	void *ctx;
};

/* Starts serving (when configured) and the relay search. 0 or -errno (a relay
 * that cannot serve is an error only with serve = yes). */
int relays_start(const struct relays_io *io, struct relays **ret);
/* Stops the server and the timers; frees once the handles are closed. */
void relays_stop(struct relays *r);
/* From the HIP engine's event callback. */
void relays_hip_event(struct relays *r, struct hip_assoc *a, enum hip_event ev);
/* For idloc status: the relay this host serves on and the one it uses
 * ("ip:port", "" for none). */
struct relays_status {
	char serving[64];
	char using[64];
};
void relays_status(const struct relays *r, struct relays_status *ret);
