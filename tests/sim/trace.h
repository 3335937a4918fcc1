/* SPDX-License-Identifier: MIT */
/* trace.h: --trace: explains failed lookups and publications, for engine developers. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

/* Looks at one message on its way (only with --trace): NOT_FOUND answers
 * are remembered, so a failed lookup can say who answered it. */
void trace_send(struct sim *s, uint32_t from, uint32_t to, const uint8_t *msg, size_t len);
/* One line for a failed lookup (st: its ovl_status, or -1 for a wrong
 * record): origin, target, key, the live nodes truly closest to the key,
 * and every NOT_FOUND answered for the key since the lookup started, with
 * the path the request took. */
void trace_failure(const struct sim *s, const struct lookup *lk, int st, unsigned hops);
