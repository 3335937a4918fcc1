/* SPDX-License-Identifier: MIT */
/* bench.c: CPU-time measurement and result lines for the micro-benchmarks. */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Batches grow until one takes this long, so reading the clock (a system
 * call for thread CPU time) costs nothing measurable. */
#define BATCH_NS 20000000ull

double bench_seconds(double dflt)
{
	const char *v = getenv("IDLOC_BENCH_SECONDS");
	char *end;
	double s;

	if (!v || !*v)
		return dflt;
	errno = 0;
	s = strtod(v, &end);
	if (errno || *end || !(s > 0 && s <= 3600)) {
		fprintf(stderr, "IDLOC_BENCH_SECONDS: '%s' is not a number of seconds (0-3600)\n",
		        v);
		exit(2);
	}
	return s;
}

uint64_t bench_cpu_ns(void)
{
	struct timespec ts;

	/* Cannot fail for the calling thread's own clock on Linux. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bench_run(bench_fn fn, void *ctx, double seconds, struct bench_result *ret)
{
	uint64_t budget = (uint64_t)(seconds * 1e9), batch = 1;
	int r;

	*ret = (struct bench_result){0};
	r = fn(ctx, 1);
	while (r == 0 && ret->cpu_ns < budget) {
		uint64_t t0 = bench_cpu_ns(), dt;

		r = fn(ctx, batch);
		dt = bench_cpu_ns() - t0;
		ret->ops += batch;
		ret->cpu_ns += dt;
		if (dt < BATCH_NS)
			batch *= 2;
	}
	return r;
}

void bench_print(const char *name, const char *tags, const char *unit, size_t bytes_per_op,
                 const struct bench_result *r)
{
	double s = (double)r->cpu_ns / 1e9;
	double rate = s > 0 ? (double)r->ops / s : 0;
	double ns = r->ops ? (double)r->cpu_ns / (double)r->ops : 0;

	printf("%-14s %-26s %s/s=%-11.0f", name, tags, unit, rate);
	if (bytes_per_op)
		printf(" GB/s/core=%-7.3f", rate * (double)bytes_per_op / 1e9);
	printf(" ns/op=%.1f\n", ns);
	fflush(stdout);
}
