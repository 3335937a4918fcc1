/* SPDX-License-Identifier: MIT */
/* bench_esp.c: ESP encapsulation and decapsulation (src/esp/sa.h) per AEAD
 * backend at 64, 512 and 1400 bytes and a 64 KiB super-packet, and the bare
 * AEAD at 1400 bytes with both key sizes. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "crypto/aead.h"
#include "esp/sa.h"
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

static int esp_setup(struct esp_bench *b, enum aead_backend backend, size_t size)
{
	uint8_t keymat[ESP_KEYMAT_LEN];
	int r;

	for (size_t i = 0; i < sizeof(keymat); i++)
		keymat[i] = (uint8_t)(i * 37 + 11);
	b->size = size;
	b->next = 0;
	r = esp_sa_init(&b->tx, SPI, ESP_SUITE_AES_GCM_ICV16, keymat, sizeof(keymat));
	if (r == 0)
		r = esp_sa_init(&b->rx, SPI, ESP_SUITE_AES_GCM_ICV16, keymat, sizeof(keymat));
	if (r == 0)
		r = use_backend(&b->tx, backend, keymat);
	if (r == 0)
		r = use_backend(&b->rx, backend, keymat);
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
