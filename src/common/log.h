/* SPDX-License-Identifier: MIT */
/* log.h: leveled logging to stderr, with a rate limiter for input-driven messages. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

void log_set_level(int prio);
int log_get_level(void);
/* Accepts err, warning, notice, info, debug. */
int log_level_parse(const char *s, int *ret);
void log_msg(int prio, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Logs with strerror(-err) appended and returns err, for `return log_errno(...)`. */
int log_errno(int prio, int err, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* At most `burst` messages per `interval_ms`; the count of suppressed lines is
 * reported with the next message that gets through. Bad input from the network
 * must never be able to flood the log. */
struct ratelimit {
	uint64_t interval_ms;
	unsigned burst;
	uint64_t window_start;
	unsigned count;
	unsigned suppressed;
};

#define RATELIMIT_INIT(interval, b)                     \
	{                                               \
		.interval_ms = (interval), .burst = (b) \
	}

bool ratelimit_allow(struct ratelimit *rl, uint64_t now_ms);
void log_ratelimited(struct ratelimit *rl, uint64_t now_ms, int prio, const char *fmt, ...)
        PRINTF_LIKE(4, 5);
