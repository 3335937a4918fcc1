/* SPDX-License-Identifier: MIT */
/* daemon.h: idlocd's event loop: the startup ladder, the HIP engine's glue to
 * the peer table and the key log, and graceful shutdown. */
#pragma once

#include <stddef.h>

struct config;
struct daemon;
struct identity;

/* How long a graceful shutdown waits for CLOSE_ACKs (ms). */
#define DAEMON_CLOSE_WAIT_MS 3000

/* Creates the state directory (0700) if missing and loads or creates the host
 * identity in it ("host.key"). On failure writes one line into err. Used by
 * the startup ladder and by idlocd --print-hit. */
int daemon_load_identity(const struct config *cfg, struct identity **ret, char *err, size_t errlen);

/* cfg is copied. */
int daemon_new(const struct config *cfg, struct daemon **ret);
/* Runs the startup ladder; on failure it has logged one line and unwound
 * every step already taken. */
int daemon_start(struct daemon *d);
/* Runs the loop until SIGINT/SIGTERM and the graceful shutdown completed.
 * 0, or -EBUSY if the loop could not be closed cleanly. */
int daemon_run(struct daemon *d);
struct daemon *daemon_free(struct daemon *d);
