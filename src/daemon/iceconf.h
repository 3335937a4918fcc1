/* SPDX-License-Identifier: MIT */
/* iceconf.h: the [ice] STUN and TURN servers, as the ICE agents need them.
 *
 * libnice takes numeric addresses only (it would resolve names on a thread
 * pool of its own): literal addresses from the config are handed to the
 * pipes at once, host names are resolved with c-ares on the daemon's loop
 * and handed over when the answers come. libnice uses one STUN server: the
 * first one that resolves. */
#pragma once

#include <uv.h>

struct config;
struct iceconf;
struct pipes;

/* pipes and cfg are borrowed and must outlive the iceconf. */
int iceconf_start(uv_loop_t *loop, const struct config *cfg, struct pipes *pipes,
                  struct iceconf **ret);
/* Cancels lookups (their handles close while the loop runs) and forgets
 * the pipes. NULL-safe. */
void iceconf_stop(struct iceconf *c);
struct iceconf *iceconf_free(struct iceconf *c);
