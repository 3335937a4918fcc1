/* SPDX-License-Identifier: MIT */
/* test_sim_harness.c: the simulator's own parts, without the engine: event queue,
 * PRNG and distributions, network, signer, percentiles and command line. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "crypto/random.h"
#include "heap.h"
#include "net.h"
#include "options.h"
#include "random.h"
#include "rng.h"
#include "samples.h"
#include "signer.h"

static void heap_pops_in_time_order(void **state)
{
	struct heap h;
	struct event ev;
	struct rng r;
	uint64_t last = 0;

	(void)state;
	heap_init(&h);
	rng_seed(&r, 7, 0);
	assert_false(heap_pop(&h, &ev));
	assert_null(heap_peek(&h));
	for (uint32_t i = 0; i < 20000; i++)
		assert_int_equal(heap_push(&h, rng_below(&r, 5000), 1, i, NULL), 0);
	assert_int_equal(h.len, 20000);
	assert_int_equal(h.peak, 20000);
	for (uint32_t i = 0; i < 20000; i++) {
		assert_true(heap_pop(&h, &ev));
		assert_true(ev.at >= last);
		last = ev.at;
		/* Interleave pushes in the future: they must not jump the queue. */
		if (i % 3 == 0)
			assert_int_equal(heap_push(&h, last + 1 + rng_below(&r, 100), 2, i, NULL),
			                 0);
	}
	while (heap_pop(&h, &ev)) {
		assert_true(ev.at >= last);
		last = ev.at;
	}
	assert_int_equal(h.len, 0);
	heap_release(&h);
}

static void heap_ties_pop_in_insertion_order(void **state)
{
	struct heap h;
	struct event ev;

	(void)state;
	heap_init(&h);
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(heap_push(&h, 100 + (i % 2), 0, i, NULL), 0);
	for (uint32_t i = 0; i < 1000; i += 2) {
		assert_true(heap_pop(&h, &ev));
		assert_int_equal(ev.at, 100);
		assert_int_equal(ev.node, i);
	}
	for (uint32_t i = 1; i < 1000; i += 2) {
		assert_true(heap_pop(&h, &ev));
		assert_int_equal(ev.at, 101);
		assert_int_equal(ev.node, i);
	}
	heap_release(&h);
}

static void rng_repeats_per_seed_and_stream(void **state)
{
	struct rng a, b, c;
	int differ = 0;

	(void)state;
	rng_seed(&a, 42, 1);
	rng_seed(&b, 42, 1);
	rng_seed(&c, 42, 2);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = rng_next(&a);

		assert_true(x == rng_next(&b));
		differ += x != rng_next(&c);
	}
	assert_true(differ > 990);
}

static void rng_below_and_unit_stay_in_range(void **state)
{
	unsigned counts[10] = {0};
	struct rng r;

	(void)state;
	rng_seed(&r, 3, 0);
	for (int i = 0; i < 100000; i++) {
		double u = rng_unit(&r);

		assert_true(u >= 0.0 && u < 1.0);
		counts[rng_below(&r, 10)]++;
	}
	/* Each bucket expects 10000; 5 sigma is about 475. */
	for (int i = 0; i < 10; i++)
		assert_true(counts[i] > 9500 && counts[i] < 10500);
	assert_int_equal(rng_below(&r, 1), 0);
}

static void exponential_sessions_have_the_requested_median(void **state)
{
	const double median = 30 * 60000.0;
	struct samples s;
	struct rng r;
	double m;

	(void)state;
	samples_init(&s);
	rng_seed(&r, 11, 0);
	for (int i = 0; i < 200000; i++)
		assert_int_equal(samples_add(&s, rng_exp_ms(&r, median / log(2.0))), 0);
	m = (double)samples_percentile(&s, 50);
	assert_true(fabs(m - median) < 0.01 * median);
	assert_true(fabs(samples_mean(&s) - median / log(2.0)) < 0.01 * median / log(2.0));
	/* P(X > 2 * median) = 1/4 for an exponential. */
	m = (double)samples_percentile(&s, 75);
	assert_true(fabs(m - 2 * median) < 0.02 * 2 * median);
	samples_release(&s);
}

static void random_override_follows_the_seed(void **state)
{
	uint8_t a[64], b[64];

	(void)state;
	random_seed(5);
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	random_seed(5);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_equal(a, b, sizeof(a));
	random_seed(6);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
}

static void net_delivers_after_the_latency(void **state)
{
	const uint8_t msg[] = "hello";
	struct heap h;
	struct net net;
	struct event ev;
	struct packet *p;

	(void)state;
	heap_init(&h);
	net_init(&net, &h, 9, 50, 0, 0, 1);
	assert_int_equal(net_latency(&net, 1, 2), 50);
	assert_int_equal(net_send(&net, 1000, 1, 2, msg, sizeof(msg)), 0);
	assert_int_equal(net_send(&net, 1010, 2, 1, msg, 3), 0);
	assert_true(heap_pop(&h, &ev));
	assert_int_equal(ev.at, 1050);
	assert_int_equal(ev.kind, 9);
	assert_int_equal(ev.node, 2);
	p = ev.ptr;
	assert_int_equal(p->from, 1);
	assert_int_equal(p->to, 2);
	assert_int_equal(p->len, sizeof(msg));
	assert_memory_equal(p->data, msg, sizeof(msg));
	free(p);
	assert_true(heap_pop(&h, &ev));
	assert_int_equal(ev.at, 1060);
	free(ev.ptr);
	assert_int_equal(net.stats.sent, 2);
	assert_int_equal(net.stats.bytes, sizeof(msg) + 3);
	assert_int_equal(net_send(&net, 0, 1, 2, msg, NET_MAX_MSG + 1), -EMSGSIZE);
	heap_release(&h);
}

static void net_jitter_is_per_link_and_symmetric(void **state)
{
	struct heap h;
	struct net net;
	uint64_t lo = UINT64_MAX, hi = 0;

	(void)state;
	heap_init(&h);
	net_init(&net, &h, 0, 50, 20, 0, 1);
	for (uint32_t a = 0; a < 100; a++) {
		for (uint32_t b = a + 1; b < 100; b++) {
			uint64_t l = net_latency(&net, a, b);

			assert_int_equal(l, net_latency(&net, b, a));
			lo = l < lo ? l : lo;
			hi = l > hi ? l : hi;
		}
	}
	assert_int_equal(lo, 50);
	assert_int_equal(hi, 70);
	heap_release(&h);
}

static void net_loses_the_configured_share(void **state)
{
	const uint8_t msg[8] = {0};
	struct heap h;
	struct net net;
	struct event ev;

	(void)state;
	heap_init(&h);
	net_init(&net, &h, 0, 50, 0, 0.3, 1);
	for (int i = 0; i < 20000; i++)
		assert_int_equal(net_send(&net, 0, 0, 1, msg, sizeof(msg)), 0);
	assert_int_equal(net.stats.sent, 20000);
	assert_true(net.stats.lost > 5700 && net.stats.lost < 6300);
	assert_int_equal(h.len, 20000 - net.stats.lost);
	while (heap_pop(&h, &ev))
		free(ev.ptr);
	heap_release(&h);
}

static void net_locators_name_their_node(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	socklen_t len;
	uint32_t idx;

	(void)state;
	net_addr(12345, &ss, &len);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(net_addr_node(&ss, len, &idx), 0);
	assert_int_equal(idx, 12345);
	net_addr(NET_MAX_NODES - 1, &ss, &len);
	assert_int_equal(net_addr_node(&ss, len, &idx), 0);
	assert_int_equal(idx, NET_MAX_NODES - 1);
	assert_int_equal(net_addr_node(&ss, len - 1, &idx), -EINVAL);
	sin->sin_addr.s_addr = htonl(0xc0a80001);
	assert_int_equal(net_addr_node(&ss, len, &idx), -EINVAL);
	net_addr(1, &ss, &len);
	sin->sin_port = htons(53);
	assert_int_equal(net_addr_node(&ss, len, &idx), -EINVAL);
	ss.ss_family = AF_INET6;
	assert_int_equal(net_addr_node(&ss, sizeof(ss), &idx), -EINVAL);
}

static void signer_round_trip_names_the_owner(void **state)
{
	uint8_t hi[SIGNER_HI_LEN], hi2[SIGNER_HI_LEN], sig[96];
	const uint8_t data[] = "a record";
	struct hit hit, hit2, owner;
	struct rng r;
	size_t siglen = SIGNER_SIG_LEN - 1;

	(void)state;
	rng_seed(&r, 1, 0);
	signer_identity(&r, hi, &hit);
	signer_identity(&r, hi2, &hit2);
	assert_true(hit_is_orchid(&hit));
	assert_memory_not_equal(&hit, &hit2, sizeof(hit));
	assert_int_equal(signer_hit(hi, sizeof(hi), &owner), 0);
	assert_memory_equal(&owner, &hit, sizeof(hit));

	assert_int_equal(signer_sign(hi, sizeof(hi), data, sizeof(data), sig, &siglen), -ENOBUFS);
	siglen = sizeof(sig);
	assert_int_equal(signer_sign(hi, sizeof(hi), data, sizeof(data), sig, &siglen), 0);
	assert_int_equal(siglen, SIGNER_SIG_LEN);
	memset(&owner, 0, sizeof(owner));
	assert_int_equal(signer_verify(SIGNER_HI_ALGORITHM, hi, sizeof(hi), data, sizeof(data), sig,
	                               siglen, &owner),
	                 0);
	assert_memory_equal(&owner, &hit, sizeof(hit));

	/* Another HI, other bytes, a flipped signature bit, a short signature. */
	assert_int_equal(signer_verify(SIGNER_HI_ALGORITHM, hi2, sizeof(hi2), data, sizeof(data),
	                               sig, siglen, &owner),
	                 -EBADMSG);
	assert_int_equal(signer_verify(SIGNER_HI_ALGORITHM, hi, sizeof(hi), data, sizeof(data) - 1,
	                               sig, siglen, &owner),
	                 -EBADMSG);
	sig[40] ^= 1;
	assert_int_equal(signer_verify(SIGNER_HI_ALGORITHM, hi, sizeof(hi), data, sizeof(data), sig,
	                               siglen, &owner),
	                 -EBADMSG);
	sig[40] ^= 1;
	assert_int_equal(signer_verify(SIGNER_HI_ALGORITHM, hi, sizeof(hi), data, sizeof(data), sig,
	                               siglen - 1, &owner),
	                 -EBADMSG);
	assert_int_equal(signer_verify(5, hi, sizeof(hi), data, sizeof(data), sig, siglen, &owner),
	                 -EPROTONOSUPPORT);
	assert_int_equal(signer_verify(SIGNER_HI_ALGORITHM, hi, sizeof(hi) - 1, data, sizeof(data),
	                               sig, siglen, &owner),
	                 -EPROTONOSUPPORT);
}

static void samples_nearest_rank(void **state)
{
	struct samples s;

	(void)state;
	samples_init(&s);
	assert_int_equal(samples_percentile(&s, 50), 0);
	for (uint64_t v = 100; v >= 1; v--)
		assert_int_equal(samples_add(&s, v), 0);
	assert_int_equal(samples_percentile(&s, 50), 50);
	assert_int_equal(samples_percentile(&s, 99), 99);
	assert_int_equal(samples_percentile(&s, 100), 100);
	assert_int_equal(samples_percentile(&s, 0.1), 1);
	assert_int_equal(samples_add(&s, 1000), 0);
	assert_int_equal(samples_percentile(&s, 100), 1000);
	samples_release(&s);
}

static void options_durations_and_churn(void **state)
{
	uint64_t ms;

	(void)state;
	assert_int_equal(options_duration("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(options_duration("90s", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(options_duration("30m", &ms), 0);
	assert_int_equal(ms, 1800000);
	assert_int_equal(options_duration("1.5h", &ms), 0);
	assert_int_equal(ms, 5400000);
	assert_int_equal(options_duration("12", &ms), 0);
	assert_int_equal(ms, 12000);
	assert_int_equal(options_duration("", &ms), -EINVAL);
	assert_int_equal(options_duration("5x", &ms), -EINVAL);
	assert_int_equal(options_duration("-1m", &ms), -EINVAL);
	assert_int_equal(options_duration("nan", &ms), -EINVAL);
	assert_int_equal(options_churn("none", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(options_churn("exp:30m", &ms), 0);
	assert_int_equal(ms, 1800000);
	assert_int_equal(options_churn("exp:0m", &ms), -EINVAL);
	assert_int_equal(options_churn("exp", &ms), -EINVAL);
	assert_int_equal(options_churn("weibull:30m", &ms), -EINVAL);
}

static int parse(struct options *o, const char *first, ...)
{
	static char prog[] = "idloc-sim";
	char *argv[32] = {prog};
	char err[256];
	int argc = 1;
	va_list ap;

	/* getopt permutes argv but never writes into the strings. */
	va_start(ap, first);
	for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)(uintptr_t)a;
	va_end(ap);
	return options_parse(argc, argv, o, err, sizeof(err));
}

static void options_command_line(void **state)
{
	struct options o;

	(void)state;
	assert_int_equal(parse(&o, NULL), 0);
	assert_int_equal(o.nodes, 1000);
	assert_true(fabs(o.lookups_per_s - 1000 / 600.0) < 1e-9);
	assert_int_equal(o.latency_ms, 50);
	assert_int_equal(o.churn_median_ms, 0);
	assert_int_equal(parse(&o, "--nodes", "10000", "--churn", "exp:30m", "--duration", "60m",
	                       "--warmup", "20m", "--lookups-per-s", "20", "--latency-ms", "40",
	                       "--loss", "0.01", "--seed", "9", "--csv", "x.csv", "--check", NULL),
	                 0);
	assert_int_equal(o.nodes, 10000);
	assert_int_equal(o.churn_median_ms, 1800000);
	assert_int_equal(o.duration_ms, 3600000);
	assert_int_equal(o.warmup_ms, 1200000);
	assert_true(o.lookups_per_s == 20);
	assert_int_equal(o.latency_ms, 40);
	assert_true(o.loss == 0.01);
	assert_int_equal(o.seed, 9);
	assert_string_equal(o.csv, "x.csv");
	assert_true(o.check);
	assert_int_equal(parse(&o, "--help", NULL), 1);
	assert_int_equal(parse(&o, "--nodes", "1", NULL), -EINVAL);
	assert_int_equal(parse(&o, "--nodes", "12x", NULL), -EINVAL);
	assert_int_equal(parse(&o, "--loss", "1", NULL), -EINVAL);
	assert_int_equal(parse(&o, "--churn", "sometimes", NULL), -EINVAL);
	assert_int_equal(parse(&o, "--bogus", NULL), -EINVAL);
	assert_int_equal(parse(&o, "--nodes", NULL), -EINVAL);
	assert_int_equal(parse(&o, "stray", NULL), -EINVAL);
	assert_int_equal(parse(&o, "--warmup", "1m", NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(heap_pops_in_time_order),
	        cmocka_unit_test(heap_ties_pop_in_insertion_order),
	        cmocka_unit_test(rng_repeats_per_seed_and_stream),
	        cmocka_unit_test(rng_below_and_unit_stay_in_range),
	        cmocka_unit_test(exponential_sessions_have_the_requested_median),
	        cmocka_unit_test(random_override_follows_the_seed),
	        cmocka_unit_test(net_delivers_after_the_latency),
	        cmocka_unit_test(net_jitter_is_per_link_and_symmetric),
	        cmocka_unit_test(net_loses_the_configured_share),
	        cmocka_unit_test(net_locators_name_their_node),
	        cmocka_unit_test(signer_round_trip_names_the_owner),
	        cmocka_unit_test(samples_nearest_rank),
	        cmocka_unit_test(options_durations_and_churn),
	        cmocka_unit_test(options_command_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
