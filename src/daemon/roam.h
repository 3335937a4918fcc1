/* SPDX-License-Identifier: MIT */
/* roam.h: following our own address changes (mobility, RFC 8046).
 *
 * When an interface gains or loses an address, every association that runs
 * over a direct address announces our current locators in a HIP UPDATE
 * (hip_host_readdress); the peer checks the new source address with an echo
 * and follows us, and the associations, their SAs and the connections
 * inside them carry on. Notifications come over rtnetlink and are batched
 * for a moment, since one move brings several. */
#pragma once

#include <stdint.h>
#include <uv.h>

struct hip_host;
struct roam;

struct roam_io {
	uv_loop_t *loop;
	struct hip_host *hip;
	const char *tun_name; /* our TUN: its addresses are identifiers, not locators */
	uint16_t port;        /* our HIP/ESP UDP port, announced with each address */
	void (*hip_changed)(void *ctx);
	/* Optional: our set of addresses changed (after the direct associations
	 * were told): pipes, whose ICE paths hang on those addresses, follow. */
	void (*moved)(void *ctx);
	void *ctx;
};

int roam_start(const struct roam_io *io, struct roam **ret);
/* Closes the handles; the memory goes once libuv has closed them. NULL-safe. */
void roam_stop(struct roam *r);
