/* SPDX-License-Identifier: MIT */
/* dnsconf.h: points the host's resolver at idlocd for the overlay domain.
 *
 * With systemd-resolved on the system bus, the TUN link gets idlocd's
 * resolver address as its DNS server and the overlay domain as a
 * routing-only domain (`~example.internal`), with DefaultRoute off, over
 * D-Bus (resolved.h, which idlocd loads with the GLib module on first use);
 * the link is configured again whenever resolved restarts and reverted at
 * stop. Without resolved, `nameserver <resolver>`
 * goes at the top of /etc/resolv.conf, under a marker line, and is removed
 * at stop or, after a crash, at the next start. Every failure is logged and
 * shown by dnsconf_status(), never fatal: the overlay still works by
 * address. Behaviour and decisions: docs/dns.md, "System DNS integration". */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/config.h"

#define DNSCONF_RESOLV_CONF  "/etc/resolv.conf"
#define DNSCONF_BACKUP_NAME  "resolv.conf.backup" /* in the state directory */
#define DNSCONF_MARKER_START "# added by idlocd"
#define DNSCONF_FILE_MAX     65536 /* a larger resolv.conf is left alone */

struct dnsconf;

struct dnsconf_config {
	enum config_dns_configure mode;
	int ifindex;        /* the TUN's */
	const char *ifname; /* for messages */
	uint32_t resolver;  /* IPv4, host byte order */
	const char *domain; /* the overlay domain: lowercase, no trailing dot */
	/* NULL: DNSCONF_RESOLV_CONF. Tests point it at a file of their own. */
	const char *resolv_conf;
	const char *state_dir; /* holds DNSCONF_BACKUP_NAME */
};

/* Removes what an earlier run of this instance (same state_dir) left in
 * resolv_conf (NULL: DNSCONF_RESOLV_CONF) when it did not stop cleanly: the
 * marker line naming our backup and the nameserver line after it, then the
 * backup. Idempotent; dnsconf_open runs it. 1 when it changed the file, 0
 * when there was nothing to do, negative errno (logged) on failure. */
int dnsconf_cleanup(const char *resolv_conf, const char *state_dir);

/* The privileged half, before the daemon drops its privileges: cleans up
 * after a crashed run (dnsconf_cleanup) and, for `auto`, opens resolv.conf for
 * writing; the descriptor serves until dnsconf_stop. Starts no thread and
 * touches no bus. Call it before anything reads resolv.conf for upstream
 * servers. -EINVAL (bad arguments) or -ENOMEM, with *ret NULL; everything else
 * is logged and shown by dnsconf_status. */
int dnsconf_open(const struct dnsconf_config *cfg, struct dnsconf **ret);

/* The rest, after the privileges are dropped: GLib starts its D-Bus worker
 * threads here, and capset(2) changes only the calling thread, so threads made
 * earlier would keep every capability. Connects to the system bus (its own
 * connection; DBUS_SYSTEM_BUS_ADDRESS is honoured), decides what `auto` means
 * (once, here), adds the resolv.conf line through the descriptor from
 * dnsconf_open or starts watching resolved (resolved.h: asynchronous calls on
 * a GLib context of its own driven by loop, the caller's thread).
 * loop may be NULL with mode `none`. 0, or -EINVAL (no loop, started twice);
 * configuration failures are logged and shown by dnsconf_status, never
 * returned. */
int dnsconf_start(struct dnsconf *dc, uv_loop_t *loop);

/* Reverts synchronously (RevertLink, which waits up to 2 s for resolved; or
 * the resolv.conf line), runs the GLib callbacks still queued for the
 * resolved client, frees it and starts closing its libuv handles (keep running the
 * loop, as after gloop_free). Also for a dc that was opened but never
 * started. NULL-safe. */
void dnsconf_stop(struct dnsconf *dc);

/* For `idloc status`: "none", "resolved", "resolv.conf", "applying" (resolved
 * calls in flight), "waiting for systemd-resolved", or "error: <why>".
 * NULL gives "none". Valid until dc changes: the next turn of the loop or
 * dnsconf_stop. */
const char *dnsconf_status(const struct dnsconf *dc);

/* The resolv.conf text with our two lines in front: the marker (naming
 * domain and backup, the state directory's backup path, which identifies this
 * instance) and `nameserver <resolver>`. Pure; *ret is malloc'd and NUL
 * terminated. 0, -EINVAL or -ENOMEM. */
int dnsconf_resolv_insert(const char *text, size_t len, uint32_t resolver, const char *domain,
                          const char *backup, char **ret, size_t *ret_len);
/* The text without the marker lines naming backup and the nameserver line
 * right after each: the exact inverse of dnsconf_resolv_insert, so other
 * programs' changes survive. Pure; *ret is malloc'd and NUL terminated.
 * Returns the number of marker lines removed, or -EINVAL / -ENOMEM. */
int dnsconf_resolv_strip(const char *text, size_t len, const char *backup, char **ret,
                         size_t *ret_len);
