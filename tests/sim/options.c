/* SPDX-License-Identifier: MIT */
/* options.c: parses and checks the simulator's arguments. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "options.h"

#define MINUTE_MS (60 * 1000ull)

enum {
	OPT_NODES = 256,
	OPT_CHURN,
	OPT_GRACEFUL,
	OPT_DURATION,
	OPT_WARMUP,
	OPT_LOOKUPS,
	OPT_LATENCY,
	OPT_JITTER,
	OPT_LOSS,
	OPT_SEED,
	OPT_BOOTSTRAP,
	OPT_TARGET_AGE,
	OPT_CSV,
	OPT_CHECK,
	OPT_CHECK_SUCCESS,
	OPT_CHECK_HOPS,
	OPT_PROGRESS,
	OPT_TRACE,
	OPT_HELP,
};

static const struct option longopts[] = {
        {"nodes", required_argument, NULL, OPT_NODES},
        {"churn", required_argument, NULL, OPT_CHURN},
        {"graceful", required_argument, NULL, OPT_GRACEFUL},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"lookups-per-s", required_argument, NULL, OPT_LOOKUPS},
        {"latency-ms", required_argument, NULL, OPT_LATENCY},
        {"jitter-ms", required_argument, NULL, OPT_JITTER},
        {"loss", required_argument, NULL, OPT_LOSS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"bootstrap", required_argument, NULL, OPT_BOOTSTRAP},
        {"target-age", required_argument, NULL, OPT_TARGET_AGE},
        {"csv", required_argument, NULL, OPT_CSV},
        {"check", no_argument, NULL, OPT_CHECK},
        {"check-success", required_argument, NULL, OPT_CHECK_SUCCESS},
        {"check-hops", required_argument, NULL, OPT_CHECK_HOPS},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"trace", no_argument, NULL, OPT_TRACE},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
};

void options_usage(FILE *f)
{
	fputs("usage: idloc-sim [--nodes N] [--churn none|exp:MEDIAN] [--graceful P]\n"
	      "                 [--duration D] [--warmup W] [--lookups-per-s R]\n"
	      "                 [--latency-ms MS] [--jitter-ms MS] [--loss P] [--seed S]\n"
	      "                 [--bootstrap K] [--target-age D] [--csv FILE]\n"
	      "                 [--check] [--check-success PCT] [--check-hops H] [--progress]\n"
	      "                 [--trace]\n"
	      "Runs N overlay engines on a virtual clock and measures lookups.\n"
	      "Durations take ms, s, m or h (plain numbers are seconds).\n"
	      "  --nodes N            overlay size, kept constant under churn (1000)\n"
	      "  --churn MODE         none, or exp:MEDIAN exponential sessions (none)\n"
	      "  --graceful P         share of departures that leave gracefully (0.5)\n"
	      "  --duration D         measurement phase (60m)\n"
	      "  --warmup W           before measuring; joins spread over its first half (20m)\n"
	      "  --lookups-per-s R    lookups in the whole overlay (N/600: one per node per 10 "
	      "min)\n"
	      "  --latency-ms MS      one-way link latency (50)\n"
	      "  --jitter-ms MS       extra per-link latency, uniform in [0, MS] (0)\n"
	      "  --loss P             message loss probability (0)\n"
	      "  --seed S             everything follows from it (1)\n"
	      "  --bootstrap K        live contacts given to each joining node (3)\n"
	      "  --target-age D       look up names of nodes up at least this long (2m)\n"
	      "  --csv FILE           append a CSV row (and a header to a new file)\n"
	      "  --check              exit 1 unless success >= --check-success (99)\n"
	      "                       and median hops <= --check-hops (4)\n"
	      "  --progress           one line per simulated minute on stderr\n"
	      "  --trace              one line per failed lookup on stderr\n",
	      f);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int options_duration(const char *s, uint64_t *ret_ms)
{
	static const struct {
		const char *suffix;
		double ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(v) || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		double ms = v * units[i].ms;

		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if (ms > 1e15)
			return -EINVAL;
		*ret_ms = (uint64_t)llround(ms);
		return 0;
	}
	return -EINVAL;
}

int options_churn(const char *s, uint64_t *ret_median_ms)
{
	uint64_t ms;

	if (strcmp(s, "none") == 0) {
		*ret_median_ms = 0;
		return 0;
	}
	if (strncmp(s, "exp:", 4) != 0 || options_duration(s + 4, &ms) < 0 || ms == 0)
		return -EINVAL;
	*ret_median_ms = ms;
	return 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < lo || v > hi)
		return -EINVAL;
	*ret = v;
	return 0;
}

static void defaults(struct options *o)
{
	*o = (struct options){
	        .nodes = 1000,
	        .graceful = 0.5,
	        .duration_ms = 60 * MINUTE_MS,
	        .warmup_ms = 20 * MINUTE_MS,
	        .lookups_per_s = -1,
	        .latency_ms = 50,
	        .seed = 1,
	        .bootstrap = 3,
	        .target_age_ms = 2 * MINUTE_MS,
	        .check_success = 99.0,
	        .check_hops = 4.0,
	};
}

static int option(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	uint64_t v;

	switch (c) {
	case OPT_NODES:
		if (parse_u64(arg, NET_MAX_NODES / 4, &v) < 0 || v < 2)
			return fail(err, errlen, "--nodes: a number from 2 to %u",
			            NET_MAX_NODES / 4);
		o->nodes = (uint32_t)v;
		return 0;
	case OPT_CHURN:
		if (options_churn(arg, &o->churn_median_ms) < 0)
			return fail(err, errlen, "--churn: 'none' or 'exp:MEDIAN', e.g. exp:30m");
		return 0;
	case OPT_GRACEFUL:
		if (parse_double(arg, 0, 1, &o->graceful) < 0)
			return fail(err, errlen, "--graceful: a probability from 0 to 1");
		return 0;
	case OPT_DURATION:
		if (options_duration(arg, &o->duration_ms) < 0 || o->duration_ms == 0)
			return fail(err, errlen, "--duration: a positive duration, e.g. 60m");
		return 0;
	case OPT_WARMUP:
		if (options_duration(arg, &o->warmup_ms) < 0 || o->warmup_ms == 0)
			return fail(err, errlen, "--warmup: a positive duration, e.g. 20m");
		return 0;
	case OPT_LOOKUPS:
		if (parse_double(arg, 0.001, 1e5, &o->lookups_per_s) < 0)
			return fail(err, errlen, "--lookups-per-s: a rate from 0.001 to 100000");
		return 0;
	case OPT_LATENCY:
		if (parse_u64(arg, 60000, &o->latency_ms) < 0)
			return fail(err, errlen, "--latency-ms: 0 to 60000");
		return 0;
	case OPT_JITTER:
		if (parse_u64(arg, 60000, &o->jitter_ms) < 0)
			return fail(err, errlen, "--jitter-ms: 0 to 60000");
		return 0;
	case OPT_LOSS:
		if (parse_double(arg, 0, 0.99, &o->loss) < 0)
			return fail(err, errlen, "--loss: a probability from 0 to 0.99");
		return 0;
	case OPT_SEED:
		if (parse_u64(arg, UINT64_MAX, &o->seed) < 0)
			return fail(err, errlen, "--seed: a non-negative integer");
		return 0;
	case OPT_BOOTSTRAP:
		if (parse_u64(arg, 64, &v) < 0 || v == 0)
			return fail(err, errlen, "--bootstrap: 1 to 64");
		o->bootstrap = (unsigned)v;
		return 0;
	case OPT_TARGET_AGE:
		if (options_duration(arg, &o->target_age_ms) < 0)
			return fail(err, errlen, "--target-age: a duration, e.g. 2m");
		return 0;
	case OPT_CSV:
		o->csv = arg;
		return 0;
	case OPT_CHECK:
		o->check = true;
		return 0;
	case OPT_CHECK_SUCCESS:
		if (parse_double(arg, 0, 100, &o->check_success) < 0)
			return fail(err, errlen, "--check-success: a percentage");
		return 0;
	case OPT_CHECK_HOPS:
		if (parse_double(arg, 0, 1000, &o->check_hops) < 0)
			return fail(err, errlen, "--check-hops: a number of hops");
		return 0;
	case OPT_PROGRESS:
		o->progress = true;
		return 0;
	case OPT_TRACE:
		o->trace = true;
		return 0;
	default:
		return fail(err, errlen, "unknown option (see --help)");
	}
}

int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
	int c, r;

	defaults(o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == OPT_HELP)
			return 1;
		if (c == '?' || c == ':')
			return fail(err, errlen, "bad or incomplete option '%s' (see --help)",
			            argv[optind - 1]);
		r = option(o, c, optarg, err, errlen);
		if (r < 0)
			return r;
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s'", argv[optind]);
	if (o->lookups_per_s < 0)
		o->lookups_per_s = o->nodes / 600.0;
	if (o->warmup_ms < 2 * o->target_age_ms)
		return fail(err, errlen, "--warmup must be at least twice --target-age");
	return 0;
}
