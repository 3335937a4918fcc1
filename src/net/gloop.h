/* SPDX-License-Identifier: MIT */
/* gloop.h: one GLib main context driven from the libuv loop on the same thread.
 *
 * libnice needs a GMainContext; the daemon runs libuv. gloop owns a private
 * context, acquires it for the calling thread (libnice's fast receive path
 * depends on that) and maps it onto libuv: GLib's fds become persistent
 * uv_poll_t handles, GLib's timeout a uv_timer_t, and a uv_prepare_t /
 * uv_check_t pair runs prepare/query and check/dispatch around libuv's poll.
 * Only gloop.c and ice.c include GLib headers. See docs/ice.md. */
#pragma once

#include <uv.h>

struct gloop;
struct _GMainContext; /* GMainContext, without pulling in glib.h */

/* Creates the context and acquires it for the calling thread, which must be
 * the thread that runs `loop`. The bridge's handles keep the loop alive until
 * gloop_free. 0 or negative errno. */
int gloop_new(uv_loop_t *loop, struct gloop **ret);

/* Stops driving the context, releases it and closes the libuv handles; the
 * memory goes once libuv has closed them, so keep running the loop (uv_run
 * returns once nothing else is active). Everything attached to the context
 * (libnice agents included) must be gone first: nothing dispatches it
 * afterwards. Safe from inside a GLib callback of this context: the work is
 * then finished when the dispatch returns. NULL-safe. */
void gloop_free(struct gloop *g);

/* The context to hand to libnice and to attach sources to. g_idle_add and
 * g_timeout_add use GLib's global default context, which nobody drives: attach
 * sources to this one explicitly. */
struct _GMainContext *gloop_context(struct gloop *g);

/* begin and end run around each GLib dispatch that has work (both optional):
 * the daemon batches what libnice delivers in one dispatch, as it batches a
 * burst read from its own socket. */
void gloop_set_dispatch_hooks(struct gloop *g, void (*begin)(void *ctx), void (*end)(void *ctx),
                              void *ctx);

/* Stops watching every fd now, while the fd numbers are still valid. Call it
 * before closing, outside a dispatch, fds that GLib watches (freeing a libnice
 * agent or stream does that). A poll that is stopped only after its fd was
 * closed leaves the number claimed in libuv until the next iteration, and if
 * the socket was dup()ed its epoll registration can never be removed, which
 * makes libuv spin (platform-notes, libnice pitfall 4). Polls for the fds GLib
 * still lists come back at the next iteration. */
void gloop_release_fds(struct gloop *g);
