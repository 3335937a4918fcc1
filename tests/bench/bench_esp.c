/* SPDX-License-Identifier: MIT */
/* bench_esp.c: ESP encapsulation and decapsulation (src/esp/sa.h) per AEAD
 * backend at 64, 512 and 1400 bytes and a 64 KiB super-packet, the bare
 * AEAD at 1400 bytes with both key sizes, and batches of 1400-byte packets
 * sealed and opened with and without the crypto worker (esp/worker.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "crypto/aead.h"
#include "esp/sa.h"
#include "esp/worker.h"
#include "hip/wire.h"

/* Decapsulation cycles through this many packets sealed beforehand (about
 * 1 MiB at the largest size: they stay in cache as received packets do). */
#define RING      16
#define SPI       0x8badf00du
#define MAX_SIZE  65535
#define AEAD_SIZE 1400
#define AEAD_AAD  16

struct esp_bench {
	struct esp_sa tx, rx;
	size_t size, cap;
	uint8_t *payload, *out;
	uint8_t *ring[RING];
	size_t ring_len;
	uint64_t next;
};

static int encap_n(void *ctx, uint64_t n)
{
	struct esp_bench *b = ctx;

	for (uint64_t i = 0; i < n; i++) {
		int r = esp_encap(&b->tx, HIP_NEXT_HEADER, b->payload, b->size, b->out, b->cap);

		if (r < 0)
			return r;
		/* Long runs would exhaust the sequence space; a benchmark may reuse it. */
		if (esp_sa_needs_rekey(&b->tx))
			b->tx.seq = RING;
	}
	return 0;
}

static int decap_n(void *ctx, uint64_t n)
{
	struct esp_bench *b = ctx;
	uint8_t nh;

	for (uint64_t i = 0; i < n; i++) {
		size_t k = b->next++ % RING;
		int r;

		/* The ring's sequence numbers come round again: forget them. */
		if (k == 0)
			replay_init(&b->rx.replay);
		r = esp_decap(&b->rx, b->ring[k], b->ring_len, b->out, b->cap, &nh);
		if (r < 0)
			return r;
		if ((size_t)r != b->size)
			return -EIO;
	}
	return 0;
}

/* Both SAs on the chosen backend: esp_sa_init() takes the default one. */
static int use_backend(struct esp_sa *sa, enum aead_backend backend, const uint8_t *keymat)
{
	aead_free(sa->aead);
	sa->aead = NULL;
	return aead_new_backend(backend, AEAD_AES_GCM, keymat, ESP_GCM_KEY_LEN, &sa->aead);
}

/* A sending and a receiving SA with the same key on the chosen backend. */
static int sa_pair(struct esp_sa *tx, struct esp_sa *rx, enum aead_backend backend)
{
	uint8_t keymat[ESP_KEYMAT_LEN];
	int r;

	for (size_t i = 0; i < sizeof(keymat); i++)
		keymat[i] = (uint8_t)(i * 37 + 11);
	r = esp_sa_init(tx, SPI, ESP_SUITE_AES_GCM_ICV16, keymat, sizeof(keymat));
	if (r == 0)
		r = esp_sa_init(rx, SPI, ESP_SUITE_AES_GCM_ICV16, keymat, sizeof(keymat));
	if (r == 0)
		r = use_backend(tx, backend, keymat);
	if (r == 0)
		r = use_backend(rx, backend, keymat);
	return r;
}

static int esp_setup(struct esp_bench *b, enum aead_backend backend, size_t size)
{
	int r;

	b->size = size;
	b->next = 0;
	r = sa_pair(&b->tx, &b->rx, backend);
	for (size_t i = 0; r >= 0 && i < RING; i++) {
		r = esp_encap(&b->tx, HIP_NEXT_HEADER, b->payload, size, b->ring[i], b->cap);
		b->ring_len = (size_t)r;
	}
	return r < 0 ? r : 0;
}

static void esp_teardown(struct esp_bench *b)
{
	esp_sa_done(&b->tx);
	esp_sa_done(&b->rx);
}

static int bench_esp(struct esp_bench *b, enum aead_backend backend, size_t size, double seconds)
{
	const char *name = aead_backend_name(backend);
	struct bench_result res;
	char tags[64];
	int r;

	r = esp_setup(b, backend, size);
	if (r == 0) {
		snprintf(tags, sizeof(tags), "%s size=%zu", name, size);
		r = bench_run(encap_n, b, seconds, &res);
	}
	if (r == 0) {
		bench_print("esp-encap", tags, "packets", size, &res);
		r = bench_run(decap_n, b, seconds, &res);
	}
	if (r == 0)
		bench_print("esp-decap", tags, "packets", size, &res);
	esp_teardown(b);
	return r;
}

/* The bare cipher, as in docs/platform-notes' table: 1400 bytes, 16 bytes of
 * AAD, a fresh nonce per packet, sealing in place. */
struct aead_bench {
	struct aead *a;
	uint8_t nonce[AEAD_NONCE_LEN], aad[AEAD_AAD], tag[AEAD_TAG_LEN];
	uint8_t buf[AEAD_SIZE];
	uint64_t counter;
};

static int seal_n(void *ctx, uint64_t n)
{
	struct aead_bench *b = ctx;

	for (uint64_t i = 0; i < n; i++) {
		int r;

		memcpy(b->nonce + 4, &b->counter, sizeof(b->counter));
		b->counter++;
		r = aead_seal(b->a, b->nonce, b->aad, sizeof(b->aad), b->buf, sizeof(b->buf),
		              b->buf, b->tag);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Opens the same sealed packet again and again (the AEAD has no replay state). */
static int open_n(void *ctx, uint64_t n)
{
	struct aead_bench *b = ctx;
	uint8_t out[AEAD_SIZE];

	for (uint64_t i = 0; i < n; i++) {
		int r = aead_open(b->a, b->nonce, b->aad, sizeof(b->aad), b->buf, sizeof(b->buf),
		                  b->tag, out);

		if (r < 0)
			return r;
	}
	return 0;
}

static int bench_aead(enum aead_backend backend, size_t keylen, double seconds)
{
	static const uint8_t key[32] = {7};
	struct aead_bench b = {0};
	struct bench_result res;
	char tags[64];
	int r;

	r = aead_new_backend(backend, AEAD_AES_GCM, key, keylen, &b.a);
	if (r < 0)
		return r;
	snprintf(tags, sizeof(tags), "%s aes-%zu size=%d", aead_backend_name(backend), keylen * 8,
	         AEAD_SIZE);
	r = bench_run(seal_n, &b, seconds, &res);
	if (r == 0) {
		bench_print("aead-seal", tags, "packets", AEAD_SIZE, &res);
		/* The buffer holds the last packet sealed under the current nonce. */
		b.counter--;
		memcpy(b.nonce + 4, &b.counter, sizeof(b.counter));
		r = bench_run(open_n, &b, seconds, &res);
	}
	if (r == 0)
		bench_print("aead-open", tags, "packets", AEAD_SIZE, &res);
	aead_free(b.a);
	return r;
}

/* ---- batches with and without the crypto worker ---- */

/* A 64 KiB TSO super-packet from the TUN is 47 segments of 1400 bytes; the
 * data path batches up to DATAPATH_SEAL_MAX (256) of one SA per wakeup. */
#define BATCH_SUPER   47
#define BATCH_MAX     256
#define BATCH_PKT     1400
#define BATCH_PKT_CAP (BATCH_PKT + ESP_MAX_OVERHEAD)

struct batch_bench {
	struct worker *w; /* NULL: the calling thread alone */
	enum worker_op op;
	struct esp_sa tx, rx;
	size_t n;
	uint8_t payload[BATCH_PKT];
	uint8_t pkt[BATCH_MAX][BATCH_PKT_CAP];
	uint8_t sealed[BATCH_MAX][BATCH_PKT_CAP]; /* open: what each round starts from */
	struct worker_job job[BATCH_MAX];
	uint64_t helped;
};

/* As the data path seals: sequence numbers and plaintext first, then the
 * cipher for the whole batch. */
static int batch_seal(struct batch_bench *b)
{
	for (size_t i = 0; i < b->n; i++) {
		int r = esp_encap_prepare(&b->tx, HIP_NEXT_HEADER, b->payload, BATCH_PKT, b->pkt[i],
		                          BATCH_PKT_CAP);
		if (r < 0)
			return r;
		b->job[i] = (struct worker_job){.pkt = b->pkt[i], .len = (size_t)r};
	}
	if (esp_sa_needs_rekey(&b->tx))
		b->tx.seq = 0;
	b->helped += worker_run(b->w, WORKER_SEAL, &b->tx, b->job, b->n);
	for (size_t i = 0; i < b->n; i++)
		if (b->job[i].result < 0)
			return b->job[i].result;
	return 0;
}

/* As the data path opens, in place in the receive slots; each round copies
 * the sealed batch there first, as the kernel does. */
static int batch_open(struct batch_bench *b)
{
	size_t len = esp_encap_size(BATCH_PKT);

	replay_init(&b->rx.replay);
	for (size_t i = 0; i < b->n; i++) {
		int r;

		memcpy(b->pkt[i], b->sealed[i], len);
		r = esp_decap_check(&b->rx, b->pkt[i], len);
		if (r < 0)
			return r;
		b->job[i] = (struct worker_job){.pkt = b->pkt[i], .len = len};
	}
	b->helped += worker_run(b->w, WORKER_OPEN, &b->rx, b->job, b->n);
	for (size_t i = 0; i < b->n; i++) {
		int r = b->job[i].result;

		if (r >= 0)
			r = esp_decap_commit(&b->rx, b->pkt[i], len,
			                     b->pkt[i] + ESP_HDR_LEN + ESP_IV_LEN, r);
		if (r < 0)
			return r;
	}
	return 0;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wall-clock throughput (the worker's time is not the caller's CPU time)
 * and the CPU time of the whole process, the worker's spinning included. */
static int batch_measure(struct batch_bench *b, const char *tags, double seconds)
{
	uint64_t budget = (uint64_t)(seconds * 1e9), rounds = 0, wall, cpu;
	uint64_t w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	double bytes;
	int r = 0;

	b->helped = 0;
	do {
		for (int k = 0; r == 0 && k < 64; k++, rounds++)
			r = b->op == WORKER_SEAL ? batch_seal(b) : batch_open(b);
		wall = clock_ns(CLOCK_MONOTONIC) - w0;
	} while (r == 0 && wall < budget);
	cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
	if (r < 0)
		return r;
	bytes = (double)rounds * (double)b->n * BATCH_PKT;
	printf("%-14s %-34s GB/s=%-7.3f cpu-s/GB=%-6.3f us/batch=%-8.2f worker=%.0f%%\n",
	       b->op == WORKER_SEAL ? "esp-batch-seal" : "esp-batch-open", tags, bytes / wall,
	       (double)cpu / bytes, (double)wall / 1e3 / (double)rounds,
	       100.0 * (double)b->helped / ((double)rounds * (double)b->n));
	fflush(stdout);
	return 0;
}

static int batch_setup(struct batch_bench *b, enum aead_backend backend, size_t n)
{
	size_t len = esp_encap_size(BATCH_PKT);
	int r;

	b->n = n;
	r = sa_pair(&b->tx, &b->rx, backend);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		r = esp_encap(&b->tx, HIP_NEXT_HEADER, b->payload, BATCH_PKT, b->sealed[i], len);
		r = r < 0 ? r : 0;
	}
	return r;
}

/* Batch sizes around WORKER_MIN_BATCH and a whole super-packet, sealing and
 * opening: alone, always shared, and as worker_run chooses (adaptive). */
static int bench_batches(enum aead_backend backend, double seconds)
{
	static const size_t sizes[] = {4, 8, 16, BATCH_SUPER, 128, BATCH_MAX};
	struct batch_bench *b = calloc(1, sizeof(*b));
	struct worker *w = NULL;
	int r = b ? worker_new(&w) : -ENOMEM;

	for (size_t i = 0; r == 0 && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (int op = WORKER_SEAL; r == 0 && op <= WORKER_OPEN; op++) {
			for (int mode = 0; r == 0 && mode < 3; mode++) {
				static const char *const modes[] = {"alone", "shared", "adaptive"};
				char tags[64];

				r = batch_setup(b, backend, sizes[i]);
				b->op = (enum worker_op)op;
				b->w = mode ? w : NULL;
				if (w)
					worker_always_share(w, mode == 1);
				snprintf(tags, sizeof(tags), "%s n=%zu size=%d %s",
				         aead_backend_name(backend), sizes[i], BATCH_PKT,
				         modes[mode]);
				if (r == 0)
					r = batch_measure(b, tags, seconds);
				esp_sa_done(&b->tx);
				esp_sa_done(&b->rx);
			}
		}
	}
	worker_free(w);
	free(b);
	return r;
}

static int run_all(struct esp_bench *b, double seconds)
{
	static const size_t sizes[] = {64, 512, 1400, MAX_SIZE};
	static const enum aead_backend backends[] = {AEAD_BACKEND_MBEDTLS, AEAD_BACKEND_OPENSSL};
	int r = 0;

	printf("# ESP and AEAD, one core; default backend: %s; GB/s counts payload bytes\n",
	       aead_backend());
	for (size_t i = 0; r == 0 && i < sizeof(backends) / sizeof(backends[0]); i++) {
		static const uint8_t key[16];
		struct aead *probe;

		if (aead_new_backend(backends[i], AEAD_AES_GCM, key, sizeof(key), &probe) < 0) {
			printf("# %s: not in this build\n", aead_backend_name(backends[i]));
			continue;
		}
		aead_free(probe);
		for (size_t j = 0; r == 0 && j < sizeof(sizes) / sizeof(sizes[0]); j++)
			r = bench_esp(b, backends[i], sizes[j], seconds);
		if (r == 0)
			r = bench_aead(backends[i], 16, seconds);
		if (r == 0)
			r = bench_aead(backends[i], 32, seconds);
		if (r == 0)
			r = bench_batches(backends[i], seconds);
	}
	return r;
}

int main(void)
{
	double seconds = bench_seconds(0.15);
	struct esp_bench b = {.cap = esp_encap_size(MAX_SIZE)};
	bool ok = true;
	int r;

	b.payload = calloc(1, MAX_SIZE);
	b.out = malloc(b.cap);
	ok = b.payload && b.out;
	for (size_t i = 0; i < RING; i++) {
		b.ring[i] = malloc(b.cap);
		ok = ok && b.ring[i];
	}
	r = ok ? run_all(&b, seconds) : -ENOMEM;
	for (size_t i = 0; i < RING; i++)
		free(b.ring[i]);
	free(b.payload);
	free(b.out);
	if (r < 0) {
		fprintf(stderr, "bench_esp: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
