/* SPDX-License-Identifier: MIT */
/* call.h: one request to idlocd's control socket from the GLib main loop.
 *
 * The CLI's client (src/cli/client.c) blocks; a tray must not, or a daemon
 * that hangs would freeze the desktop's menu. A call connects without
 * blocking, writes the request and reads the one-line answer from fd
 * watches on the thread-default main context, and ends with a deadline.
 * Framing and parsing are the shared codec's (src/common/ctl_proto.h). */
#pragma once

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>

#include "common/ctl_proto.h"

#define CALL_ERR_MAX (CTL_ERROR_MAX + 256)

/* r is 0 with the answer's result (borrowed: json_incref it to keep it);
 * -EREMOTEIO with the daemon's error message in err; another negative errno
 * with a one-line reason in err: -ENOENT or -ECONNREFUSED when no daemon
 * listens on the socket, -EACCES when we may not connect, -ETIMEDOUT. */
typedef void (*call_done_fn)(void *data, int r, const json_t *result, const char *err);

/* Starts the request. done is called exactly once, always from the main
 * loop and never before call_start returns. The call cannot be cancelled:
 * the deadline bounds it, so data must outlive timeout_ms. */
void call_start(const char *path, const struct ctl_request *req, unsigned timeout_ms,
                call_done_fn done, void *data);

/* Whether a failed call means no daemon is listening (rather than one that
 * refused us or misbehaved). */
static inline bool call_no_daemon(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED || r == -ENOTDIR;
}
