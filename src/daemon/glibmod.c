/* SPDX-License-Identifier: MIT */
/* glibmod.c: gloop.h, ice.h and resolved.h for idlocd, through the module
 * loaded on first use (see glibmod.h). */
#include "daemon/glibmod.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "net/gloop.h"

static const struct glibmod_api *loaded;
static bool load_failed;

static const struct glibmod_api *load(void)
{
	const struct glibmod_api *(*entry)(void);
	const struct glibmod_api *api;
	/* RTLD_NOW: a module that does not fit fails here, not at some later
	 * call. Never closed: GLib cannot be unloaded. */
	void *h = dlopen(GLIBMOD_FILE, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		log_msg(LOG_ERR, "cannot load %s (ICE and systemd-resolved): %s", GLIBMOD_FILE,
		        dlerror());
		return NULL;
	}
	*(void **)&entry = dlsym(h, GLIBMOD_ENTRY);
	api = entry ? entry() : NULL;
	if (!api || api->size != sizeof(*api) || strcmp(api->version, IDLOC_VERSION) != 0) {
		log_msg(LOG_ERR, "%s is not the module of idlocd %s (version %s)", GLIBMOD_FILE,
		        IDLOC_VERSION, api ? api->version : "unknown");
		return NULL;
	}
	log_msg(LOG_INFO, "loaded %s", GLIBMOD_FILE);
	return api;
}

const struct glibmod_api *glibmod_load(void)
{
	if (!loaded && !load_failed) {
		loaded = load();
		load_failed = !loaded;
	}
	return loaded;
}

int glibmod_loaded(void)
{
	return loaded != NULL;
}

/* ---- gloop.h: the context is made when the first agent needs it ---- */

struct gloop {
	uv_loop_t *loop;
	struct glibmod_gloop *real;
	void (*begin)(void *ctx), (*end)(void *ctx);
	void *hook_ctx;
};

int gloop_new(uv_loop_t *loop, struct gloop **ret)
{
	struct gloop *g = calloc(1, sizeof(*g));

	*ret = NULL;
	if (!g)
		return -ENOMEM;
	g->loop = loop;
	*ret = g;
	return 0;
}

static int realize(struct gloop *g, const struct glibmod_api **ret)
{
	const struct glibmod_api *api = glibmod_load();
	int r;

	*ret = api;
	if (!api)
		return -ELIBACC;
	if (g->real)
		return 0;
	r = api->gloop_new(g->loop, &g->real);
	if (r == 0)
		api->gloop_set_dispatch_hooks(g->real, g->begin, g->end, g->hook_ctx);
	return r;
}

void gloop_free(struct gloop *g)
{
	if (!g)
		return;
	if (g->real)
		loaded->gloop_free(g->real);
	free(g);
}

struct _GMainContext *gloop_context(struct gloop *g)
{
	const struct glibmod_api *api;

	return realize(g, &api) == 0 ? api->gloop_context(g->real) : NULL;
}

void gloop_set_dispatch_hooks(struct gloop *g, void (*begin)(void *ctx), void (*end)(void *ctx),
                              void *ctx)
{
	g->begin = begin;
	g->end = end;
	g->hook_ctx = ctx;
	if (g->real)
		loaded->gloop_set_dispatch_hooks(g->real, begin, end, ctx);
}

void gloop_release_fds(struct gloop *g)
{
	if (g->real)
		loaded->gloop_release_fds(g->real);
}

/* ---- ice.h: an agent exists only once the module is loaded ---- */

int ice_new(struct gloop *g, const struct ice_config *cfg, const struct ice_ops *ops, void *ctx,
            struct ice **ret)
{
	const struct glibmod_api *api;
	int r = realize(g, &api);

	*ret = NULL;
	return r < 0 ? r : api->ice_new(g->real, cfg, ops, ctx, ret);
}

void ice_free(struct ice *ice)
{
	if (ice)
		loaded->ice_free(ice);
}

int ice_gather(struct ice *ice)
{
	return loaded->ice_gather(ice);
}

size_t ice_local_candidates(const struct ice *ice, struct ice_candidate *out, size_t cap)
{
	return loaded->ice_local_candidates(ice, out, cap);
}

int ice_set_remote(struct ice *ice, const char *ufrag, const char *pwd,
                   const struct ice_candidate *cands, size_t n)
{
	return loaded->ice_set_remote(ice, ufrag, pwd, cands, n);
}

int ice_send(struct ice *ice, const uint8_t *data, size_t len)
{
	return loaded->ice_send(ice, data, len);
}

int ice_restart(struct ice *ice, const char *ufrag, const char *pwd)
{
	return loaded->ice_restart(ice, ufrag, pwd);
}

enum ice_state ice_state(const struct ice *ice)
{
	return loaded->ice_state(ice);
}

int ice_selected_path(const struct ice *ice, struct ice_path *ret)
{
	return loaded->ice_selected_path(ice, ret);
}

/* The three pure helpers load the module if it is not there yet (no caller
 * in idlocd asks before an agent exists). */
const char *ice_state_name(enum ice_state s)
{
	const struct glibmod_api *api = glibmod_load();

	return api ? api->ice_state_name(s) : "?";
}

const char *ice_kind_name(enum ice_kind k)
{
	const struct glibmod_api *api = glibmod_load();

	return api ? api->ice_kind_name(k) : "?";
}

int ice_cred_check(const char *s, size_t min)
{
	const struct glibmod_api *api = glibmod_load();

	return api ? api->ice_cred_check(s, min) : -ELIBACC;
}

/* ---- resolved.h ---- */

int resolved_new(uv_loop_t *loop, const struct resolved_link *link, int prio, char *err,
                 size_t errlen, struct resolved **ret)
{
	const struct glibmod_api *api = glibmod_load();

	*ret = NULL;
	if (!api) {
		snprintf(err, errlen, "error: cannot load %s", GLIBMOD_FILE);
		return -ELIBACC;
	}
	return api->resolved_new(loop, link, prio, err, errlen, ret);
}

int resolved_running(struct resolved *rs)
{
	return loaded->resolved_running(rs);
}

void resolved_watch(struct resolved *rs)
{
	loaded->resolved_watch(rs);
}

const char *resolved_status(const struct resolved *rs)
{
	return loaded->resolved_status(rs);
}

void resolved_free(struct resolved *rs)
{
	if (rs)
		loaded->resolved_free(rs);
}
