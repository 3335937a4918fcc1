/* SPDX-License-Identifier: MIT */
/* resolved.h: idlocd's link in systemd-resolved, over D-Bus: the overlay
 * domain goes to idlocd's resolver on the TUN link, and only it (a
 * routing-only domain, no default route), configured again whenever resolved
 * reappears on the bus, and reverted at the end.
 *
 * GDBus runs on a GLib context of this module's own driven by the caller's
 * libuv loop (a gloop); its calls are asynchronous except for the first
 * question (resolved_running) and the revert at the end. This is one of the
 * two GLib users of the daemon (the ICE code is the other); idlocd loads both
 * from a module on first use (glibmod.h). Used by dnsconf.c. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define RESOLVED_ERROR_MAX 320

struct resolved;

struct resolved_link {
	int ifindex;
	const char *ifname;
	uint32_t resolver; /* idlocd's resolver, IPv4, host byte order */
	const char *domain;
};

/* Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS, else the standard
 * socket) with a connection of its own. prio: how loud a missing bus is
 * logged. 0, or a negative errno with the reason in err ("error: ...",
 * errlen bytes at most); -ENOTCONN when there is no bus. */
int resolved_new(uv_loop_t *loop, const struct resolved_link *link, int prio, char *err,
                 size_t errlen, struct resolved **ret);

/* Whether org.freedesktop.resolve1 has an owner now: 1 or 0, -1 when the
 * bus could not say. Blocks for at most a few seconds. */
int resolved_running(struct resolved *rs);

/* Configures the link now and whenever resolved comes back. */
void resolved_watch(struct resolved *rs);

/* "error: ..." (the last refusal, or the lost bus), "waiting for
 * systemd-resolved", "applying" or "resolved". */
const char *resolved_status(const struct resolved *rs);

/* Reverts the link if this run configured it, closes the connection and
 * runs what GDBus still has for our context. NULL-safe. */
void resolved_free(struct resolved *rs);
