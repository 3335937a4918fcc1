/* SPDX-License-Identifier: MIT */
/* options.h: the simulator's command line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct options {
	uint32_t nodes;
	uint64_t churn_median_ms; /* 0: no churn */
	double graceful;          /* share of departures that call ovl_node_leave */
	uint64_t duration_ms;     /* measurement phase */
	uint64_t warmup_ms;       /* before it; the initial joins take the first half */
	double lookups_per_s;     /* in the whole overlay */
	uint64_t latency_ms, jitter_ms;
	double loss;
	uint64_t seed;
	unsigned bootstrap;     /* contacts handed to ovl_node_join */
	uint64_t target_age_ms; /* names are looked up once their owner has been up this long */
	const char *csv;
	bool check;
	double check_success; /* --check: minimum success, percent */
	double check_hops;    /* --check: maximum median hops */
	bool progress;
	bool trace;          /* one stderr line per failed lookup */
	const char *command; /* the command line, for the CSV row */
};

/* 0 when the run should go ahead, 1 after --help, -EINVAL with a message in err. */
int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);
void options_usage(FILE *f);
/* "250ms", "90s", "30m", "2h", or plain seconds. 0 or -EINVAL. */
int options_duration(const char *s, uint64_t *ret_ms);
/* "none" (0) or "exp:<median duration>". 0 or -EINVAL. */
int options_churn(const char *s, uint64_t *ret_median_ms);
