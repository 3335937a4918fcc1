/* SPDX-License-Identifier: MIT */
/* answers.h: what idlocd answers on its control socket (status, peers, id,
 * resolve, join, leave, ping, shutdown, log, netcheck), from the daemon's
 * state. Fields: docs/control.md. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/ctl.h"

struct config;
struct hip_host;
struct identity;
struct dnsconf;
struct idmap;
struct mesh;
struct peers;
struct pinger;
struct pipes;
struct relays;

struct answers_log;

struct answers {
	const struct config *cfg;
	const struct identity *id;
	struct hip_host *hip;
	struct peers *peers;
	struct idmap *idmap;
	struct pipes *pipes;           /* may be NULL */
	const struct relays *relays;   /* may be NULL */
	const struct dnsconf *dnsconf; /* NULL: dns.configured says "none" */
	struct mesh *mesh;
	struct pinger *pinger;   /* NULL: ping answers "not supported" */
	uint64_t started_s;      /* wall clock, for uptime */
	uv_loop_t *loop;         /* runs netcheck; NULL: it answers "not supported" */
	struct answers_log *log; /* NULL: log answers "not supported" */
	/* Begins the daemon's graceful stop, once the answer to shutdown is out.
	 * NULL: shutdown answers "not supported". */
	void (*shutdown)(void *arg);
	void *shutdown_arg;
	/* idloc leave / join for the whole daemon (associations, routes), with
	 * shutdown_arg; NULL: only the overlay leaves and joins. 0 or -errno. */
	int (*leave)(void *arg);
	int (*join)(void *arg);
	unsigned netchecks; /* running now; starts at 0 */
};

/* Handlers whose ctx is a; a must outlive the control server. */
void answers_handlers(struct answers *a, struct ctl_handlers *ret);

/* From now on keeps the last keep lines the process logs (log_set_sink),
 * for log, and streams new lines to the clients of log -f. */
int answers_log_new(size_t keep, struct answers_log **ret);
/* Unhooks from the log and ends the streams still open. NULL-safe; NULL. */
struct answers_log *answers_log_free(struct answers_log *l);
