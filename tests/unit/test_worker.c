/* SPDX-License-Identifier: MIT */
/* test_worker.c: unit tests for the crypto worker (esp/worker.h) and the
 * split ESP steps and AEAD clones it relies on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "crypto/aead.h"
#include "esp/sa.h"
#include "esp/worker.h"
#include "hip/wire.h"

#define SPI     0x8badf00du
#define BATCH   64
#define MAX_PKT 1500
/* Batches are repeated until the worker took part in some, or this long:
 * on a busy machine its thread may need a few scheduler ticks to run. */
#define HELP_DEADLINE_NS 5000000000ull

static const enum aead_backend backends[] = {AEAD_BACKEND_OPENSSL, AEAD_BACKEND_MBEDTLS};

struct pkts {
	uint8_t buf[BATCH][MAX_PKT];
	struct worker_job job[BATCH];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void keymat_fill(uint8_t keymat[ESP_KEYMAT_LEN])
{
	for (size_t i = 0; i < ESP_KEYMAT_LEN; i++)
		keymat[i] = (uint8_t)(i * 37 + 11);
}

/* An SA on the chosen backend; false when this build lacks it. */
static bool sa_make(struct esp_sa *sa, enum aead_backend backend)
{
	uint8_t keymat[ESP_KEYMAT_LEN];
	struct aead *a;

	keymat_fill(keymat);
	if (aead_new_backend(backend, AEAD_AES_GCM, keymat, ESP_GCM_KEY_LEN, &a) < 0)
		return false;
	assert_int_equal(esp_sa_init(sa, SPI, ESP_SUITE_AES_GCM_ICV16, keymat, sizeof(keymat)), 0);
	aead_free(sa->aead);
	sa->aead = a;
	return true;
}

/* Payload i of a batch: sizes from 0 to 1400 bytes, with every padding. */
static size_t payload(size_t i, uint8_t *p)
{
	size_t len = i == 0 ? 0 : 1400 - (i % 7) * 3 - (i % 2) * 600;

	for (size_t k = 0; k < len; k++)
		p[k] = (uint8_t)(i * 131 + k);
	return len;
}

/* Writes the batch's packets with esp_encap_prepare. */
static void prepare(struct esp_sa *sa, struct pkts *b, size_t n)
{
	uint8_t p[MAX_PKT];

	for (size_t i = 0; i < n; i++) {
		size_t len = payload(i, p);
		int r = esp_encap_prepare(sa, HIP_NEXT_HEADER, p, len, b->buf[i], MAX_PKT);

		assert_true(r > 0);
		b->job[i] = (struct worker_job){.pkt = b->buf[i], .len = (size_t)r, .result = 1};
	}
}

/* ---- AEAD clones ---- */

static void test_aead_clone(void **state)
{
	static const uint8_t key[32] = {1, 2, 3};
	static const uint8_t nonce[AEAD_NONCE_LEN] = {9};
	uint8_t in[300], a_out[300], b_out[300], a_tag[16], b_tag[16], back[300];
	bool any = false;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	for (size_t k = 0; k < ARRAY_SIZE(backends); k++) {
		for (size_t keylen = 16; keylen <= 32; keylen += 16) {
			struct aead *a, *b;

			if (aead_new_backend(backends[k], AEAD_AES_GCM, key, keylen, &a) < 0)
				continue;
			any = true;
			assert_int_equal(aead_clone(a, &b), 0);
			assert_int_equal(aead_seal(a, nonce, key, 8, in, sizeof(in), a_out, a_tag),
			                 0);
			/* The clone outlives its original and shares nothing with it. */
			aead_free(a);
			assert_int_equal(aead_seal(b, nonce, key, 8, in, sizeof(in), b_out, b_tag),
			                 0);
			assert_memory_equal(a_out, b_out, sizeof(a_out));
			assert_memory_equal(a_tag, b_tag, sizeof(a_tag));
			assert_int_equal(
			        aead_open(b, nonce, key, 8, b_out, sizeof(b_out), b_tag, back), 0);
			assert_memory_equal(back, in, sizeof(in));
			aead_free(b);
		}
	}
	assert_true(any);
	assert_int_equal(aead_clone(NULL, NULL), -EINVAL);
}

/* ---- the split steps equal the whole ---- */

static void test_split_equals_encap(void **state)
{
	static struct pkts b;
	struct esp_sa x, y, rx;
	uint8_t p[MAX_PKT], out[MAX_PKT], nh;

	assert_true(sa_make(&x, AEAD_BACKEND_MBEDTLS));
	assert_true(sa_make(&y, AEAD_BACKEND_MBEDTLS));
	assert_true(sa_make(&rx, AEAD_BACKEND_MBEDTLS));
	prepare(&x, &b, 8);
	for (size_t i = 0; i < 8; i++) {
		size_t len = payload(i, p);
		int n = esp_encap(&y, HIP_NEXT_HEADER, p, len, out, sizeof(out));

		assert_int_equal(esp_seal(&x, x.aead, b.buf[i], b.job[i].len), 0);
		assert_int_equal((size_t)n, b.job[i].len);
		assert_memory_equal(out, b.buf[i], (size_t)n);
		assert_int_equal(esp_decap(&rx, out, (size_t)n, p, sizeof(p), &nh), (int)len);
	}
	assert_int_equal(x.seq, y.seq);
	assert_int_equal(x.packets, y.packets);
	assert_int_equal(x.bytes, y.bytes);
	esp_sa_done(&x);
	esp_sa_done(&y);
	esp_sa_done(&rx);
}

/* ---- sealing: two threads give the bytes of one ---- */

static void seal_compare(struct worker *w, enum aead_backend backend, size_t n, size_t *helped)
{
	static struct pkts one, two;
	struct esp_sa a, b;

	if (!sa_make(&a, backend))
		return;
	assert_true(sa_make(&b, backend));
	/* Several batches on the same SAs: sequence numbers go on. */
	for (int round = 0; round < 4; round++) {
		prepare(&a, &one, n);
		prepare(&b, &two, n);
		assert_int_equal(worker_run(NULL, WORKER_SEAL, &a, one.job, n), 0);
		*helped += worker_run(w, WORKER_SEAL, &b, two.job, n);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(one.job[i].result, 0);
			assert_int_equal(two.job[i].result, 0);
			assert_int_equal(one.job[i].len, two.job[i].len);
			assert_int_equal(load_be32(two.buf[i] + 4), round * n + i + 1);
			assert_memory_equal(one.buf[i], two.buf[i], one.job[i].len);
		}
	}
	assert_int_equal(a.seq, b.seq);
	esp_sa_done(&a);
	esp_sa_done(&b);
}

/* Runs round on every backend without the worker, then with one that
 * shares every batch, until the worker took part in some. */
static void with_worker(size_t (*round)(struct worker *w, enum aead_backend backend))
{
	struct worker *w;
	uint64_t t0 = mono_ns();
	size_t helped = 0;

	for (size_t k = 0; k < ARRAY_SIZE(backends); k++)
		(void)round(NULL, backends[k]);
	assert_int_equal(worker_new(&w), 0);
	worker_always_share(w, true);
	do {
		for (size_t k = 0; k < ARRAY_SIZE(backends); k++)
			helped += round(w, backends[k]);
	} while (helped == 0 && mono_ns() - t0 < HELP_DEADLINE_NS);
	assert_true(helped > 0);
	worker_free(w);
}

static size_t seal_round(struct worker *w, enum aead_backend backend)
{
	size_t helped = 0;

	seal_compare(w, backend, BATCH, &helped);
	seal_compare(w, backend, WORKER_MIN_BATCH, &helped);
	return helped;
}

static void test_seal_two_threads(void **state)
{
	struct worker *w;
	size_t helped = 0;

	with_worker(seal_round);
	/* Below the threshold the caller works alone. */
	assert_int_equal(worker_new(&w), 0);
	worker_always_share(w, true);
	seal_compare(w, AEAD_BACKEND_MBEDTLS, WORKER_MIN_BATCH - 1, &helped);
	assert_int_equal(helped, 0);
	worker_free(w);
}

/* ---- opening: a forged packet in the middle, the replay window ---- */

/* Seals a batch on the calling thread into b (sequence numbers 1..n). */
static void seal_batch(struct esp_sa *tx, struct pkts *b, size_t n)
{
	prepare(tx, b, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(esp_seal(tx, tx->aead, b->buf[i], b->job[i].len), 0);
}

/* Opens jobs[0..n) as the data path does: check, worker_run, commit in
 * order. Returns how many the worker did; results[i] is the outcome. */
static size_t open_batch(struct worker *w, struct esp_sa *rx, struct worker_job *jobs, size_t n,
                         int *results)
{
	size_t helped;

	for (size_t i = 0; i < n; i++)
		assert_int_equal(esp_decap_check(rx, jobs[i].pkt, jobs[i].len), 0);
	helped = worker_run(w, WORKER_OPEN, rx, jobs, n);
	for (size_t i = 0; i < n; i++) {
		int r = jobs[i].result;

		if (r >= 0)
			r = esp_decap_commit(rx, jobs[i].pkt, jobs[i].len,
			                     jobs[i].pkt + ESP_HDR_LEN + ESP_IV_LEN, r);
		results[i] = r < 0 ? r : jobs[i].result;
	}
	return helped;
}

static size_t forged_round(struct worker *w, enum aead_backend backend)
{
	static struct pkts b;
	struct esp_sa tx, rx;
	int results[BATCH];
	uint8_t p[MAX_PKT];
	size_t helped, bad = BATCH / 2;

	if (!sa_make(&tx, backend))
		return 0;
	assert_true(sa_make(&rx, backend));
	seal_batch(&tx, &b, BATCH);
	b.buf[bad][ESP_HDR_LEN + ESP_IV_LEN + 5] ^= 0x40;
	helped = open_batch(w, &rx, b.job, BATCH, results);
	for (size_t i = 0; i < BATCH; i++) {
		size_t len = payload(i, p);

		if (i == bad) {
			assert_int_equal(results[i], -EBADMSG);
			/* Never marked seen: the genuine packet may still come. */
			assert_int_equal(replay_check(&rx.replay, i + 1), 0);
			continue;
		}
		assert_int_equal(results[i], (int)len);
		assert_int_equal(b.job[i].nh, HIP_NEXT_HEADER);
		assert_memory_equal(b.buf[i] + ESP_HDR_LEN + ESP_IV_LEN, p, len);
		assert_int_equal(replay_check(&rx.replay, i + 1), -EALREADY);
	}
	assert_int_equal(rx.packets, BATCH - 1);
	esp_sa_done(&tx);
	esp_sa_done(&rx);
	return helped;
}

static void test_open_forged_in_middle(void **state)
{
	with_worker(forged_round);
}

/* A batch with duplicates and reordering, opened in one batch (worker or
 * not), gives the same verdicts and the same window as esp_decap one by one. */
static size_t replay_round(struct worker *w, enum aead_backend backend)
{
	static struct pkts sealed, batch;
	/* Positions in sealed (sequence number - 1): out of order, repeated. */
	static const size_t order[] = {3,  0,  1,  2,  3,  9,  8,  9,  4,  5,  6,  7,  20, 19,
	                               18, 17, 16, 15, 14, 13, 12, 11, 10, 0,  21, 21, 22, 23,
	                               24, 25, 26, 27, 28, 29, 30, 31, 1,  40, 39, 38};
	struct esp_sa tx, rx_batch, rx_one;
	int results[ARRAY_SIZE(order)];
	uint8_t out[MAX_PKT], nh;
	size_t helped, n = ARRAY_SIZE(order);

	if (!sa_make(&tx, backend))
		return 0;
	assert_true(sa_make(&rx_batch, backend));
	assert_true(sa_make(&rx_one, backend));
	seal_batch(&tx, &sealed, 41);
	for (size_t i = 0; i < n; i++) {
		const struct worker_job *s = &sealed.job[order[i]];

		memcpy(batch.buf[i], s->pkt, s->len);
		batch.job[i] = (struct worker_job){.pkt = batch.buf[i], .len = s->len};
	}
	helped = open_batch(w, &rx_batch, batch.job, n, results);
	for (size_t i = 0; i < n; i++) {
		const struct worker_job *s = &sealed.job[order[i]];
		int r = esp_decap(&rx_one, s->pkt, s->len, out, sizeof(out), &nh);

		assert_int_equal(results[i], r);
		if (r >= 0)
			assert_memory_equal(batch.buf[i] + ESP_HDR_LEN + ESP_IV_LEN, out,
			                    (size_t)r);
	}
	/* The first of each duplicate pair wins, as one by one. */
	assert_int_equal(results[4], -EALREADY);
	assert_true(results[0] >= 0);
	assert_memory_equal(&rx_batch.replay, &rx_one.replay, sizeof(rx_one.replay));
	assert_int_equal(rx_batch.packets, rx_one.packets);
	assert_int_equal(rx_batch.bytes, rx_one.bytes);
	esp_sa_done(&tx);
	esp_sa_done(&rx_batch);
	esp_sa_done(&rx_one);
	return helped;
}

static void test_open_replay_in_order(void **state)
{
	with_worker(replay_round);
}

/* Many batches back to back, both directions, checked every time, with
 * worker_run choosing between sharing and not: the protocol's races show
 * here (and under -Db_sanitize=thread). */
static void test_many_batches(void **state)
{
	static struct pkts b;
	struct worker *w;
	struct esp_sa tx, rx;
	uint8_t p[MAX_PKT];
	size_t helped = 0;

	assert_int_equal(worker_new(&w), 0);
	assert_true(sa_make(&tx, AEAD_BACKEND_MBEDTLS));
	assert_true(sa_make(&rx, AEAD_BACKEND_MBEDTLS));
	for (int round = 0; round < 300; round++) {
		size_t n = WORKER_MIN_BATCH + (size_t)round % (BATCH - WORKER_MIN_BATCH);
		int results[BATCH];

		prepare(&tx, &b, n);
		helped += worker_run(w, WORKER_SEAL, &tx, b.job, n);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(b.job[i].result, 0);
		helped += open_batch(w, &rx, b.job, n, results);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(results[i], (int)payload(i, p));
	}
	assert_int_equal(rx.packets, tx.packets);
	esp_sa_done(&tx);
	esp_sa_done(&rx);
	worker_free(w);
	(void)helped; /* may be 0 on a machine whose other core stays busy */
}

static void test_free_without_batches(void **state)
{
	struct worker *w;

	assert_int_equal(worker_new(&w), 0);
	assert_null(worker_free(w));
	assert_null(worker_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_aead_clone),
	        cmocka_unit_test(test_split_equals_encap),
	        cmocka_unit_test(test_seal_two_threads),
	        cmocka_unit_test(test_open_forged_in_middle),
	        cmocka_unit_test(test_open_replay_in_order),
	        cmocka_unit_test(test_many_batches),
	        cmocka_unit_test(test_free_without_batches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
