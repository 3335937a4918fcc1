/* SPDX-License-Identifier: MIT */
/* report.h: the results of a run: one summary line, a CSV row, the --check verdict. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim.h"

struct report {
	uint64_t lookups; /* that count: every state but LK_ABORTED */
	uint64_t ok, failed, aborted;
	double success_pct;
	uint64_t hops_median, hops_p99;
	uint64_t latency_median_ms, latency_p99_ms;
	double maintenance_bps, total_bps; /* per node alive in the window */
};

void report_compute(struct sim *s, struct report *ret);
void report_summary(const struct sim *s, const struct report *r, FILE *f);
/* Departures from what the engine promises, and why lookups failed. */
void report_anomalies(const struct sim *s, FILE *f);
/* Appends a row to path, with a header first when the file is new or empty. 0 or -errno. */
int report_csv(const struct sim *s, const struct report *r, const char *path);
bool report_check(const struct sim *s, const struct report *r);
