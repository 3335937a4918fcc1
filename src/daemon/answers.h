/* SPDX-License-Identifier: MIT */
/* answers.h: what idlocd answers on its control socket (status, peers, id,
 * resolve, join, leave, ping), from the daemon's state. Fields: docs/control.md. */
#pragma once

#include <stdint.h>

#include "daemon/ctl.h"

struct config;
struct hip_host;
struct identity;
struct idmap;
struct mesh;
struct peers;
struct pinger;
struct pipes;

struct answers {
	const struct config *cfg;
	const struct identity *id;
	struct hip_host *hip;
	struct peers *peers;
	struct idmap *idmap;
	struct pipes *pipes; /* may be NULL */
	struct mesh *mesh;
	struct pinger *pinger; /* NULL: ping answers "not supported" */
	uint64_t started_s;    /* wall clock, for uptime */
};

/* Handlers whose ctx is a; a must outlive the control server. */
void answers_handlers(struct answers *a, struct ctl_handlers *ret);
