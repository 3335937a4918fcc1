/* SPDX-License-Identifier: MIT */
/* log.h: leveled logging to stderr, with a rate limiter for input-driven messages. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
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

/* A copy of every line that passes the level, for a daemon that keeps its
 * recent lines or streams them to clients. msg is the message as written to
 * stderr, without the time, the level and the newline; time_ms is the wall
 * clock in ms since the epoch. A line the sink itself logs (directly or
 * through what it calls) goes to stderr only, so a sink cannot recurse. The
 * sink runs on the logging thread: idlocd logs from its loop's thread only. */
typedef void (*log_sink_fn)(void *ctx, uint64_t time_ms, int prio, const char *msg);
/* One sink at a time; fn NULL removes it. */
void log_set_sink(log_sink_fn fn, void *ctx);
/* "err", "warning", ... for prio's level (its low 3 bits). */
const char *log_level_name(int prio);

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

/* Keeps "error: <message>" in buf (size bytes: a status shown later) and
 * logs "<tag>: <message>" at prio. */
void log_keep_error(char *buf, size_t size, int prio, const char *tag, const char *fmt, ...)
        PRINTF_LIKE(5, 6);

bool ratelimit_allow(struct ratelimit *rl, uint64_t now_ms);
void log_ratelimited(struct ratelimit *rl, uint64_t now_ms, int prio, const char *fmt, ...)
        PRINTF_LIKE(4, 5);
