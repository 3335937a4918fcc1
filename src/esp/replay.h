/* SPDX-License-Identifier: MIT */
/* replay.h: the ESP anti-replay sliding window (RFC 4303 section 3.4.3), 2048 packets. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_WINDOW_BITS 2048

struct replay_window {
	uint64_t top; /* highest sequence number accepted; 0 = none yet */
	uint64_t bits[REPLAY_WINDOW_BITS / 64];
};

void replay_init(struct replay_window *w);
/* Read-only check before authentication: 0 if seq may be new,
 * -EALREADY if seen, -ERANGE if left of the window or zero. */
int replay_check(const struct replay_window *w, uint64_t seq);
/* Marks seq seen; call only after the ICV verified. Same returns as check. */
int replay_update(struct replay_window *w, uint64_t seq);
