/* SPDX-License-Identifier: MIT */
/* test_sim_mock.c: the simulator end to end over a mock engine whose results are
 * known in advance: latency, hops, traffic, churn and determinism. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mock_engine.h"
#include "report.h"
#include "sim.h"

/* Runs the simulator with the given options and returns it (the caller frees). */
static struct sim *run(const struct options *o, struct report *rep)
{
	struct sim *s = malloc(sizeof(*s));

	assert_non_null(s);
	mock_reset();
	assert_int_equal(sim_init(s, o), 0);
	assert_int_equal(sim_run(s), 0);
	report_compute(s, rep);
	return s;
}

static void done(struct sim *s)
{
	sim_release(s);
	free(s);
	mock_reset();
}

static struct options base(uint32_t nodes)
{
	return (struct options){
	        .nodes = nodes,
	        .graceful = 0.5,
	        .duration_ms = 5 * 60000,
	        .warmup_ms = 4 * 60000,
	        .lookups_per_s = 5,
	        .latency_ms = 50,
	        .seed = 1,
	        .bootstrap = 3,
	        .target_age_ms = 60000,
	        .check_success = 99,
	        .check_hops = 4,
	};
}

static void steady_overlay_gives_exact_numbers(void **state)
{
	struct options o = base(200);
	struct report rep;
	struct sim *s;
	double pings;

	(void)state;
	s = run(&o, &rep);
	/* 5 lookups/s for 300 s. */
	assert_int_equal(rep.lookups, 1500);
	assert_int_equal(rep.ok, 1500);
	assert_int_equal(rep.aborted, 0);
	assert_true(rep.success_pct == 100.0);
	assert_int_equal(rep.hops_median, 1);
	assert_int_equal(rep.hops_p99, 1);
	assert_int_equal(rep.latency_median_ms, 100);
	assert_int_equal(rep.latency_p99_ms, 100);
	/* 199 of 200 nodes ping (the first had nobody to join through):
	 * MOCK_PING_LEN bytes every MOCK_PING_MS. */
	pings = 199.0 / 200.0 * MOCK_PING_LEN * 1000.0 / MOCK_PING_MS;
	assert_true(fabs(rep.maintenance_bps - pings) < 0.05);
	/* Plus a 9-byte query and a 9-byte answer per lookup. */
	assert_true(fabs(rep.total_bps - pings - 1500.0 * 18 / (200 * 300.0)) < 0.05);
	assert_int_equal(s->nnodes, 200);
	assert_int_equal(s->nlive, 200);
	assert_int_equal(s->departures_graceful + s->departures_silent, 0);
	assert_int_equal(mock_counters.joins, 199);
	assert_int_equal(s->lost_offline, 0);
	assert_int_equal(s->bad.elapsed_mismatch, 0);
	assert_int_equal(s->bad.timer_stuck, 0);
	assert_int_equal(s->bad.misaddressed, 0);
	assert_true(report_check(s, &rep));
	done(s);
}

static void churn_replaces_departures_at_the_expected_rate(void **state)
{
	struct options o = base(400);
	struct report rep;
	struct sim *s;
	double node_min, expect;
	uint64_t departures;

	(void)state;
	o.churn_median_ms = 30 * 60000;
	o.duration_ms = 30 * 60000;
	o.graceful = 0.25;
	s = run(&o, &rep);
	departures = s->departures_graceful + s->departures_silent;
	/* Node-minutes lived: the joins ramp over the first 2 minutes, then
	 * 400 nodes for the rest of the 4 + 30 minutes (+ 15 s of drain). */
	node_min = 400.0 * (34.25 - 1.0);
	expect = node_min * log(2.0) / 30.0;
	assert_true(fabs((double)departures - expect) < 0.15 * expect);
	assert_int_equal(s->nnodes, 400 + departures);
	assert_int_equal(s->nlive, 400);
	assert_int_equal(mock_counters.leaves, s->departures_graceful);
	assert_true(fabs((double)s->departures_graceful / (double)departures - 0.25) < 0.07);
	/* Targets are live, so only an owner leaving within the 100 ms of
	 * a lookup (or the origin) can make it fail. */
	assert_true(rep.success_pct > 99.5);
	assert_int_equal(rep.lookups + rep.aborted, s->nlookups);
	assert_true(report_check(s, &rep));
	done(s);
}

static void loss_fails_the_expected_share(void **state)
{
	struct options o = base(200);
	struct report rep;
	struct sim *s;

	(void)state;
	o.loss = 0.1;
	o.duration_ms = 10 * 60000;
	s = run(&o, &rep);
	/* Both the query and the answer must get through: 0.9^2 = 81%. */
	assert_true(fabs(rep.success_pct - 81.0) < 2.5);
	assert_int_equal(s->lookup_state_count[LK_TIMEOUT], rep.failed);
	assert_false(report_check(s, &rep));
	done(s);
}

static void jitter_spreads_latency_per_link(void **state)
{
	struct options o = base(200);
	struct report rep;
	struct sim *s;

	(void)state;
	o.jitter_ms = 40;
	s = run(&o, &rep);
	assert_int_equal(rep.success_pct, 100);
	assert_true(rep.latency_median_ms > 115 && rep.latency_median_ms < 145);
	assert_true(rep.latency_p99_ms > 160 && rep.latency_p99_ms <= 180);
	done(s);
}

static void runs_repeat_for_a_seed(void **state)
{
	struct options o = base(300);
	struct report a, b, c;
	struct sim *s1, *s2, *s3;

	(void)state;
	o.churn_median_ms = 10 * 60000;
	s1 = run(&o, &a);
	uint64_t ev1 = s1->events, dep1 = s1->departures_silent;
	done(s1);
	s2 = run(&o, &b);
	assert_int_equal(s2->events, ev1);
	assert_int_equal(s2->departures_silent, dep1);
	assert_memory_equal(&a, &b, sizeof(a));
	done(s2);
	o.seed = 2;
	s3 = run(&o, &c);
	assert_true(s3->events != ev1);
	done(s3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(steady_overlay_gives_exact_numbers),
	        cmocka_unit_test(churn_replaces_departures_at_the_expected_rate),
	        cmocka_unit_test(loss_fails_the_expected_share),
	        cmocka_unit_test(jitter_spreads_latency_per_link),
	        cmocka_unit_test(runs_repeat_for_a_seed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
