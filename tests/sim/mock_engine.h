/* SPDX-License-Identifier: MIT */
/* mock_engine.h: what test_sim_mock needs to know about the mock engine. */
#pragma once

#include <stdint.h>

#include "overlay/node.h"

#define MOCK_PING_MS      10000
#define MOCK_PING_LEN     100
#define OVL_NAME_MAX_MOCK 64

struct mock_counters {
	uint64_t joins, leaves, ticks, send_errors;
};
extern struct mock_counters mock_counters;

/* Forgets every published name (between runs). */
void mock_reset(void);
