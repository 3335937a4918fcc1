/* SPDX-License-Identifier: MIT */
/* glibmod_entry.c: the entry point of idloc-glib.so (see glibmod.h). */
#include "daemon/glibmod.h"

#include "net/gloop.h"

/* The table speaks of struct glibmod_gloop, which is this side's struct
 * gloop: the few functions that take one are wrapped rather than cast. */
static struct gloop *real(struct glibmod_gloop *g)
{
	return (struct gloop *)g;
}

static int m_gloop_new(uv_loop_t *loop, struct glibmod_gloop **ret)
{
	struct gloop *g;
	int r = gloop_new(loop, &g);

	*ret = r == 0 ? (struct glibmod_gloop *)g : NULL;
	return r;
}

static void m_gloop_free(struct glibmod_gloop *g)
{
	gloop_free(real(g));
}

static void m_gloop_set_dispatch_hooks(struct glibmod_gloop *g, void (*begin)(void *ctx),
                                       void (*end)(void *ctx), void *ctx)
{
	gloop_set_dispatch_hooks(real(g), begin, end, ctx);
}

static void m_gloop_release_fds(struct glibmod_gloop *g)
{
	gloop_release_fds(real(g));
}

static struct _GMainContext *m_gloop_context(struct glibmod_gloop *g)
{
	return gloop_context(real(g));
}

static int m_ice_new(struct glibmod_gloop *g, const struct ice_config *cfg,
                     const struct ice_ops *ops, void *ctx, struct ice **ret)
{
	return ice_new(real(g), cfg, ops, ctx, ret);
}

static const struct glibmod_api api = {
        .size = sizeof(struct glibmod_api),
        .version = IDLOC_VERSION,
        .gloop_new = m_gloop_new,
        .gloop_free = m_gloop_free,
        .gloop_set_dispatch_hooks = m_gloop_set_dispatch_hooks,
        .gloop_release_fds = m_gloop_release_fds,
        .gloop_context = m_gloop_context,
        .ice_new = m_ice_new,
        .ice_free = ice_free,
        .ice_gather = ice_gather,
        .ice_local_candidates = ice_local_candidates,
        .ice_set_remote = ice_set_remote,
        .ice_send = ice_send,
        .ice_restart = ice_restart,
        .ice_state = ice_state,
        .ice_state_name = ice_state_name,
        .ice_selected_path = ice_selected_path,
        .ice_kind_name = ice_kind_name,
        .ice_cred_check = ice_cred_check,
        .resolved_new = resolved_new,
        .resolved_running = resolved_running,
        .resolved_watch = resolved_watch,
        .resolved_status = resolved_status,
        .resolved_free = resolved_free,
};

/* The one symbol the module exports. */
__attribute__((visibility("default"))) const struct glibmod_api *idloc_glibmod_v1(void);

const struct glibmod_api *idloc_glibmod_v1(void)
{
	return &api;
}
