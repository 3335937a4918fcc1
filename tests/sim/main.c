/* SPDX-License-Identifier: MIT */
/* main.c: idloc-sim: runs the overlay engine at scale on a virtual clock and reports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "report.h"
#include "sim.h"
#include "trace.h"

/* The command line as one string, for the CSV row (arguments are simple
 * words: the options accept nothing that needs shell quoting, except a CSV
 * path, which is quoted when it has a space). */
static char *command_line(int argc, char **argv)
{
	size_t len = 1;
	char *s, *p;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 3;
	s = malloc(len);
	if (!s)
		return NULL;
	p = s;
	for (int i = 0; i < argc; i++) {
		bool quote = strpbrk(argv[i], " \t\"'$") != NULL;

		p += sprintf(p, i ? (quote ? " '%s'" : " %s") : "%s", argv[i]);
	}
	return s;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct report rep;
	struct sim *s;
	char err[256];
	int r;

	r = options_parse(argc, argv, &opt, err, sizeof(err));
	if (r == 1) {
		options_usage(stdout);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "idloc-sim: %s\n", err);
		return 2;
	}
	opt.command = command_line(argc, argv);
	s = malloc(sizeof(*s));
	if (!opt.command || !s) {
		fprintf(stderr, "idloc-sim: out of memory\n");
		free(s);
		free((char *)opt.command);
		return 1;
	}
	r = sim_init(s, &opt);
	if (r == 0 && opt.trace) {
		s->trace_send = trace_send;
		s->trace_failure = trace_failure;
	}
	if (r == 0)
		r = sim_run(s);
	if (r < 0) {
		fprintf(stderr, "idloc-sim: the run stopped at %.1f s simulated: %s\n",
		        (double)(s->now - SIM_EPOCH_MS) / 1000.0, strerror(-r));
		sim_release(s);
		free(s);
		free((char *)opt.command);
		return 1;
	}
	report_compute(s, &rep);
	report_summary(s, &rep, stdout);
	fflush(stdout);
	report_anomalies(s, stderr);
	if (opt.csv) {
		r = report_csv(s, &rep, opt.csv);
		if (r < 0)
			fprintf(stderr, "idloc-sim: cannot write '%s': %s\n", opt.csv,
			        strerror(-r));
	}
	if (r == 0 && opt.check && !report_check(s, &rep)) {
		fprintf(stderr,
		        "idloc-sim: check failed: need success >= %g%% and median hops <= %g, "
		        "and every lookup called back exactly once\n",
		        opt.check_success, opt.check_hops);
		r = -EDOM;
	}
	sim_release(s);
	free(s);
	free((char *)opt.command);
	return r < 0 ? 1 : 0;
}
