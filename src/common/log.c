/* SPDX-License-Identifier: MIT */
/* log.c: stderr logging with levels and rate limiting. */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int log_level = LOG_INFO;
static log_sink_fn sink_fn;
static void *sink_ctx;
static bool in_sink;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",     [LOG_CRIT] = "crit",
        [LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

void log_set_level(int prio)
{
	log_level = prio;
}

void log_set_sink(log_sink_fn fn, void *ctx)
{
	sink_fn = fn;
	sink_ctx = ctx;
}

const char *log_level_name(int prio)
{
	return level_names[prio & 7];
}

int log_get_level(void)
{
	return log_level;
}

int log_level_parse(const char *s, int *ret)
{
	for (int i = LOG_ERR; i <= LOG_DEBUG; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*ret = i;
			return 0;
		}
	}
	if (strcasecmp(s, "error") == 0) {
		*ret = LOG_ERR;
		return 0;
	}
	return -EINVAL;
}

static void to_sink(const struct timespec *ts, int prio, const char *line, const char *suffix)
{
	char msg[1024 + 128];

	snprintf(msg, sizeof(msg), "%s%s", line, suffix ? suffix : "");
	in_sink = true;
	sink_fn(sink_ctx, (uint64_t)ts->tv_sec * 1000 + (uint64_t)ts->tv_nsec / 1000000, prio, msg);
	in_sink = false;
}

PRINTF_LIKE(3, 0)
static void log_vmsg(int prio, const char *suffix, const char *fmt, va_list ap)
{
	struct timespec ts;
	char line[1024];

	if (prio > log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "%lld.%03ld %s: %s%s\n", (long long)ts.tv_sec, ts.tv_nsec / 1000000,
	        level_names[prio & 7], line, suffix ? suffix : "");
	if (sink_fn && !in_sink)
		to_sink(&ts, prio, line, suffix);
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(prio, NULL, fmt, ap);
	va_end(ap);
}

int log_errno(int prio, int err, const char *fmt, ...)
{
	char suffix[128];
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(err < 0 ? -err : err));
	va_start(ap, fmt);
	log_vmsg(prio, suffix, fmt, ap);
	va_end(ap);
	return err;
}

void log_keep_error(char *buf, size_t size, int prio, const char *tag, const char *fmt, ...)
{
	static const char head[] = "error: ";
	va_list ap;

	if (size <= sizeof(head))
		return;
	memcpy(buf, head, sizeof(head));
	va_start(ap, fmt);
	vsnprintf(buf + sizeof(head) - 1, size - (sizeof(head) - 1), fmt, ap);
	va_end(ap);
	log_msg(prio, "%s: %s", tag, buf + sizeof(head) - 1);
}

bool ratelimit_allow(struct ratelimit *rl, uint64_t now_ms)
{
	if (now_ms - rl->window_start >= rl->interval_ms || now_ms < rl->window_start) {
		rl->window_start = now_ms;
		rl->count = 0;
	}
	if (rl->count < rl->burst) {
		rl->count++;
		return true;
	}
	rl->suppressed++;
	return false;
}

void log_ratelimited(struct ratelimit *rl, uint64_t now_ms, int prio, const char *fmt, ...)
{
	char suffix[64] = "";
	va_list ap;

	if (prio > log_level || !ratelimit_allow(rl, now_ms))
		return;
	if (rl->suppressed) {
		snprintf(suffix, sizeof(suffix), " (%u similar messages suppressed)",
		         rl->suppressed);
		rl->suppressed = 0;
	}
	va_start(ap, fmt);
	log_vmsg(prio, suffix, fmt, ap);
	va_end(ap);
}
