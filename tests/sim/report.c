/* SPDX-License-Identifier: MIT */
/* report.c: turns the counters of a finished run into numbers and text. */
#include <errno.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "report.h"

static const char *const state_names[LK_STATES] = {
        [LK_PENDING] = "pending",         [LK_OK] = "ok",
        [LK_NOT_FOUND] = "not-found",     [LK_TIMEOUT] = "timeout",
        [LK_REFUSED] = "refused",         [LK_TTL] = "ttl",
        [LK_WRONG] = "wrong-record",      [LK_ERROR] = "resolve-error",
        [LK_NO_CALLBACK] = "no-callback", [LK_ABORTED] = "aborted",
};

void report_compute(struct sim *s, struct report *ret)
{
	double node_s = (double)s->window_node_ms / 1000.0;

	*ret = (struct report){0};
	for (int i = 0; i < LK_STATES; i++)
		if (i != LK_ABORTED)
			ret->lookups += s->lookup_state_count[i];
	ret->ok = s->lookup_state_count[LK_OK];
	ret->failed = ret->lookups - ret->ok;
	ret->aborted = s->lookup_state_count[LK_ABORTED];
	ret->success_pct = ret->lookups ? 100.0 * (double)ret->ok / (double)ret->lookups : 0;
	ret->hops_median = samples_percentile(&s->hops, 50);
	ret->hops_p99 = samples_percentile(&s->hops, 99);
	ret->latency_median_ms = samples_percentile(&s->latency, 50);
	ret->latency_p99_ms = samples_percentile(&s->latency, 99);
	if (node_s > 0) {
		ret->maintenance_bps = (double)s->window_maint_bytes / node_s;
		ret->total_bps = (double)s->window_bytes / node_s;
	}
}

static void churn_text(const struct sim *s, char *buf, size_t len)
{
	if (!s->opt.churn_median_ms)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "exp:%gm/graceful:%g", (double)s->opt.churn_median_ms / 60000.0,
		         s->opt.graceful);
}

void report_summary(const struct sim *s, const struct report *r, FILE *f)
{
	char churn[64];

	churn_text(s, churn, sizeof(churn));
	fprintf(f,
	        "nodes=%u churn=%s lookups=%" PRIu64 " success=%.3f%% hops=%" PRIu64 "/%" PRIu64
	        " latency=%" PRIu64 "/%" PRIu64 "ms (median/p99) maintenance=%.0fB/s total=%.0fB/s"
	        " per node; failed=%" PRIu64 " aborted=%" PRIu64 " identities=%u events=%" PRIu64
	        " wall=%.1fs lookups/wall-s=%.0f\n",
	        s->opt.nodes, churn, r->lookups, r->success_pct, r->hops_median, r->hops_p99,
	        r->latency_median_ms, r->latency_p99_ms, r->maintenance_bps, r->total_bps,
	        r->failed, r->aborted, s->nnodes, s->events, s->wall_s,
	        /* The simulator's speed as a lookup engine (warm-up included):
	         * what tests/bench's sim_lookups benchmark reports. */
	        s->wall_s > 0 ? (double)r->lookups / s->wall_s : 0);
}

static void line(FILE *f, const char *what, uint64_t n)
{
	if (n)
		fprintf(f, "  %s: %" PRIu64 "\n", what, n);
}

void report_anomalies(const struct sim *s, FILE *f)
{
	const struct sim_anomalies *b = &s->bad;

	fprintf(f, "details:\n");
	for (int i = LK_NOT_FOUND; i < LK_STATES; i++)
		if (s->lookup_state_count[i])
			fprintf(f, "  lookups %s: %" PRIu64 "\n", state_names[i],
			        s->lookup_state_count[i]);
	line(f, "publications ok", s->publish_status_count[OVL_OK]);
	line(f, "publications refused", s->publish_status_count[OVL_REFUSED]);
	line(f, "publications timed out", s->publish_status_count[OVL_TIMEOUT]);
	line(f, "publications out of hops", s->publish_status_count[OVL_TTL]);
	line(f, "departures graceful", s->departures_graceful);
	line(f, "departures silent", s->departures_silent);
	line(f, "messages sent", s->net.stats.sent);
	line(f, "messages delivered", s->delivered);
	line(f, "messages lost (random loss)", s->net.stats.lost);
	line(f, "messages lost (receiver gone)", s->lost_offline);
	line(f, "messages over 1400 bytes", s->net.stats.oversize);
	line(f, "peak event queue", s->heap.peak);
	for (int i = 0; i < SIM_REASONS_MAX && s->input_errors[i].reason; i++)
		fprintf(f, "  input dropped (%s): %" PRIu64 "\n", s->input_errors[i].reason,
		        s->input_errors[i].count);
	line(f, "ANOMALY join errors", b->join_errors);
	line(f, "ANOMALY publish errors", b->publish_errors);
	line(f, "ANOMALY leave errors", b->leave_errors);
	line(f, "ANOMALY resolve errors", b->resolve_errors);
	line(f, "ANOMALY send errors", b->send_errors);
	line(f, "ANOMALY sends to a wrong locator/HIT", b->misaddressed);
	line(f, "ANOMALY sends to self", b->self_sends);
	line(f, "ANOMALY timer still due after tick", b->timer_stuck);
	line(f, "ANOMALY lookup called back twice", b->double_callbacks);
	line(f, "ANOMALY callback elapsed_ms differs from the clock", b->elapsed_mismatch);
	line(f, "ANOMALY no joined origin for a lookup", b->no_origin);
	line(f, "ANOMALY no target for a lookup", b->no_target);
	line(f, "nodes up for --target-age but not joined", b->eligible_unjoined);
}

/* A CSV field: quoted, with quotes doubled. */
static void csv_quoted(FILE *f, const char *v)
{
	fputc('"', f);
	for (; v && *v; v++) {
		if (*v == '"')
			fputc('"', f);
		fputc(*v, f);
	}
	fputc('"', f);
}

int report_csv(const struct sim *s, const struct report *r, const char *path)
{
	const struct options *o = &s->opt;
	struct stat st;
	bool header = stat(path, &st) < 0 || st.st_size == 0;
	FILE *f = fopen(path, "a");
	int err;

	if (!f)
		return -errno;
	if (header)
		fprintf(f, "nodes,churn_median_s,graceful,warmup_s,duration_s,lookups_per_s,"
		           "latency_ms,jitter_ms,loss,seed,lookups,ok,failed,aborted,success_pct,"
		           "hops_median,hops_p99,latency_median_ms,latency_p99_ms,"
		           "maintenance_Bps_per_node,total_Bps_per_node,identities,events,wall_s,"
		           "command\n");
	fprintf(f,
	        "%u,%g,%g,%g,%g,%g,%" PRIu64 ",%" PRIu64 ",%g,%" PRIu64 ",%" PRIu64 ",%" PRIu64
	        ",%" PRIu64 ",%" PRIu64 ",%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
	        ",%.1f,%.1f,%u,%" PRIu64 ",%.1f,",
	        o->nodes, (double)o->churn_median_ms / 1000.0, o->churn_median_ms ? o->graceful : 0,
	        (double)o->warmup_ms / 1000.0, (double)o->duration_ms / 1000.0, o->lookups_per_s,
	        o->latency_ms, o->jitter_ms, o->loss, o->seed, r->lookups, r->ok, r->failed,
	        r->aborted, r->success_pct, r->hops_median, r->hops_p99, r->latency_median_ms,
	        r->latency_p99_ms, r->maintenance_bps, r->total_bps, s->nnodes, s->events,
	        s->wall_s);
	csv_quoted(f, o->command);
	fputc('\n', f);
	err = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && err == 0)
		err = -errno;
	return err;
}

bool report_check(const struct sim *s, const struct report *r)
{
	/* A lookup the engine never finished breaks its contract, whatever the rate. */
	return r->lookups > 0 && r->success_pct >= s->opt.check_success &&
	       (double)r->hops_median <= s->opt.check_hops &&
	       s->lookup_state_count[LK_NO_CALLBACK] == 0 && s->bad.double_callbacks == 0;
}
