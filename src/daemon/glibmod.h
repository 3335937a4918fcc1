/* SPDX-License-Identifier: MIT */
/* glibmod.h: the daemon's GLib-based parts, built as a module that idlocd
 * loads on first use.
 *
 * libnice (ICE) and GDBus (systemd-resolved) bring GLib, GIO, GnuTLS,
 * libsoup, ICU and some thirty more libraries; linked into idlocd they cost
 * about 8 MiB of resident memory in every daemon, also in the many that never
 * need a pipe through a NAT or talk to resolved (docs/performance.md,
 * "Memory"). So idlocd does not link them: the module idloc-glib.so holds
 * gloop.c, ice.c and resolved.c, and glibmod.c implements gloop.h, ice.h and
 * resolved.h in idlocd by loading the module the first time an ICE agent or
 * the resolved client is wanted (a gloop is only a promise until then).
 * Unit tests link the three files directly instead.
 *
 * The module finds the daemon's log (log.h) and the other common helpers in
 * idlocd itself, which exports its symbols for that; its own symbols are
 * hidden but for the entry point. The module's version must be idlocd's. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/resolved.h"
#include "net/ice.h"

#define GLIBMOD_FILE  "idloc-glib.so"    /* found through idlocd's RUNPATH */
#define GLIBMOD_ENTRY "idloc_glibmod_v1" /* const struct glibmod_api *(void) */

/* The module's own gloop, which glibmod.c's struct gloop wraps. */
struct glibmod_gloop;

struct glibmod_api {
	size_t size; /* sizeof(struct glibmod_api) when the module was built */
	const char *version;

	int (*gloop_new)(uv_loop_t *loop, struct glibmod_gloop **ret);
	void (*gloop_free)(struct glibmod_gloop *g);
	void (*gloop_set_dispatch_hooks)(struct glibmod_gloop *g, void (*begin)(void *ctx),
	                                 void (*end)(void *ctx), void *ctx);
	void (*gloop_release_fds)(struct glibmod_gloop *g);
	struct _GMainContext *(*gloop_context)(struct glibmod_gloop *g);

	int (*ice_new)(struct glibmod_gloop *g, const struct ice_config *cfg,
	               const struct ice_ops *ops, void *ctx, struct ice **ret);
	void (*ice_free)(struct ice *ice);
	int (*ice_gather)(struct ice *ice);
	size_t (*ice_local_candidates)(const struct ice *ice, struct ice_candidate *out,
	                               size_t cap);
	int (*ice_set_remote)(struct ice *ice, const char *ufrag, const char *pwd,
	                      const struct ice_candidate *cands, size_t n);
	int (*ice_send)(struct ice *ice, const uint8_t *data, size_t len);
	int (*ice_restart)(struct ice *ice, const char *ufrag, const char *pwd);
	enum ice_state (*ice_state)(const struct ice *ice);
	const char *(*ice_state_name)(enum ice_state s);
	int (*ice_selected_path)(const struct ice *ice, struct ice_path *ret);
	const char *(*ice_kind_name)(enum ice_kind k);
	int (*ice_cred_check)(const char *s, size_t min);

	int (*resolved_new)(uv_loop_t *loop, const struct resolved_link *link, int prio, char *err,
	                    size_t errlen, struct resolved **ret);
	int (*resolved_running)(struct resolved *rs);
	void (*resolved_watch)(struct resolved *rs);
	const char *(*resolved_status)(const struct resolved *rs);
	void (*resolved_free)(struct resolved *rs);
};

/* Loads the module once; later calls return the same table. NULL when it
 * cannot be loaded (logged once, with the reason). */
const struct glibmod_api *glibmod_load(void);

/* Whether the module is loaded (for idloc status and the tests). */
int glibmod_loaded(void);
