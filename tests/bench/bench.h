/* SPDX-License-Identifier: MIT */
/* bench.h: what the micro-benchmarks share: CPU-time measurement and the
 * one-line result format. Rates are per second of this thread's CPU time,
 * i.e. per core, so other load on the machine only adds noise. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct bench_result {
	uint64_t ops;
	uint64_t cpu_ns;
};

/* Seconds one measurement runs: IDLOC_BENCH_SECONDS when set (for longer,
 * steadier runs), else dflt. Exits with a message on a malformed value. */
double bench_seconds(double dflt);
/* CPU time of the calling thread, in ns. */
uint64_t bench_cpu_ns(void);

/* Runs n operations on ctx; 0 or a negative errno, which ends the measurement. */
typedef int (*bench_fn)(void *ctx, uint64_t n);

/* Calls fn once to warm up, then in growing batches until seconds of CPU
 * time are spent. 0, or fn's error. */
int bench_run(bench_fn fn, void *ctx, double seconds, struct bench_result *ret);

/* Prints "name tags rate-unit=... [GB/s/core=...] ns/op=...": bytes_per_op
 * 0 leaves GB/s out. unit is what one operation is ("packets", "answers"). */
void bench_print(const char *name, const char *tags, const char *unit, size_t bytes_per_op,
                 const struct bench_result *r);
