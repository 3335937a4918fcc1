/* SPDX-License-Identifier: MIT */
/* test_esp.c: unit tests for the replay window, ESP SAs and BEET header handling. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "crypto/aead.h"
#include "esp/beet.h"
#include "esp/replay.h"
#include "esp/sa.h"
#include "hip/wire.h"

/* ---- replay window ---- */

/* Marks 1..n seen, in order. */
static void fill(struct replay_window *w, uint64_t n)
{
	for (uint64_t s = 1; s <= n; s++)
		assert_int_equal(replay_update(w, s), 0);
}

static void test_replay_first_and_zero(void **state)
{
	struct replay_window w;

	replay_init(&w);
	assert_int_equal(replay_check(&w, 0), -ERANGE);
	assert_int_equal(replay_update(&w, 0), -ERANGE);
	assert_int_equal(replay_check(&w, 1), 0);
	assert_int_equal(replay_update(&w, 1), 0);
	assert_int_equal(w.top, 1);
	assert_int_equal(replay_check(&w, 1), -EALREADY);
	assert_int_equal(replay_update(&w, 1), -EALREADY);
	assert_int_equal(replay_check(&w, 0), -ERANGE);
	/* A first packet far ahead is fine too. */
	replay_init(&w);
	assert_int_equal(replay_update(&w, 1000000), 0);
	assert_int_equal(replay_check(&w, 1000000), -EALREADY);
	assert_int_equal(replay_check(&w, 1000000 - 2047), 0);
	assert_int_equal(replay_check(&w, 1000000 - 2048), -ERANGE);
}

static void test_replay_in_order_and_duplicates(void **state)
{
	struct replay_window w;

	replay_init(&w);
	fill(&w, 5000);
	assert_int_equal(w.top, 5000);
	for (uint64_t s = 5000 - 2047; s <= 5000; s++)
		assert_int_equal(replay_update(&w, s), -EALREADY);
	for (uint64_t s = 1; s <= 5000 - 2048; s++)
		assert_int_equal(replay_check(&w, s), -ERANGE);
	assert_int_equal(replay_check(&w, 5001), 0);
}

static void test_replay_left_edge(void **state)
{
	struct replay_window w;
	uint64_t top = 10000;

	replay_init(&w);
	assert_int_equal(replay_update(&w, top), 0);
	assert_int_equal(replay_check(&w, top - 2047), 0);
	assert_int_equal(replay_update(&w, top - 2047), 0);
	assert_int_equal(replay_update(&w, top - 2047), -EALREADY);
	assert_int_equal(replay_check(&w, top - 2048), -ERANGE);
	assert_int_equal(replay_update(&w, top - 2048), -ERANGE);
	/* Near the start: top 2048 still covers 1, top 2049 no longer does. */
	replay_init(&w);
	assert_int_equal(replay_update(&w, 2048), 0);
	assert_int_equal(replay_update(&w, 1), 0);
	assert_int_equal(replay_update(&w, 2049), 0);
	assert_int_equal(replay_check(&w, 1), -ERANGE);
	assert_int_equal(replay_check(&w, 2), 0);
}

/* After every number up to top was seen, jumps by d: the numbers skipped over
 * must be fresh, everything older still in the window still seen. */
static void check_jump(uint64_t top, uint64_t d)
{
	struct replay_window w;
	uint64_t nt = top + d;

	replay_init(&w);
	fill(&w, top);
	assert_int_equal(replay_update(&w, nt), 0);
	assert_int_equal(w.top, nt);
	assert_int_equal(replay_check(&w, nt), -EALREADY);
	for (uint64_t s = top + 1; s < nt; s++)
		if (nt - s < REPLAY_WINDOW_BITS)
			assert_int_equal(replay_check(&w, s), 0);
	for (uint64_t s = nt > 2047 ? nt - 2047 : 1; s <= top; s++)
		assert_int_equal(replay_check(&w, s), -EALREADY);
	if (nt > 2048)
		assert_int_equal(replay_check(&w, nt - 2048), -ERANGE);
	if (nt > 3000)
		assert_int_equal(replay_check(&w, nt - 3000), -ERANGE);
}

static void test_replay_jumps(void **state)
{
	static const uint64_t tops[] = {1, 63, 64, 65, 2047, 2048, 2049, 3000, 4100};
	static const uint64_t jumps[] = {1,    2,    63,   64,   65,   127,  128, 129,
	                                 1000, 2046, 2047, 2048, 2049, 4096, 5000};

	for (size_t i = 0; i < ARRAY_SIZE(tops); i++)
		for (size_t j = 0; j < ARRAY_SIZE(jumps); j++)
			check_jump(tops[i], jumps[j]);
}

static void test_replay_out_of_order(void **state)
{
	struct replay_window w;

	replay_init(&w);
	assert_int_equal(replay_update(&w, 100), 0);
	assert_int_equal(replay_update(&w, 50), 0);
	assert_int_equal(replay_update(&w, 99), 0);
	assert_int_equal(replay_update(&w, 60), 0);
	assert_int_equal(w.top, 100);
	assert_int_equal(replay_update(&w, 50), -EALREADY);
	assert_int_equal(replay_update(&w, 99), -EALREADY);
	assert_int_equal(replay_update(&w, 60), -EALREADY);
	assert_int_equal(replay_check(&w, 61), 0);
	assert_int_equal(replay_check(&w, 98), 0);
	assert_int_equal(replay_check(&w, 1), 0);
}

static void test_replay_check_does_not_mark(void **state)
{
	struct replay_window w, before;

	replay_init(&w);
	fill(&w, 10);
	memcpy(&before, &w, sizeof(w));
	assert_int_equal(replay_check(&w, 5000), 0);
	assert_int_equal(replay_check(&w, 5000), 0);
	assert_int_equal(replay_check(&w, 11), 0);
	assert_memory_equal(&w, &before, sizeof(w));
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random walk against an obviously correct model: a set of seen numbers. */
static void test_replay_model(void **state)
{
	enum { MAX = 40000 };
	uint8_t *seen = calloc(MAX + 1, 1);
	struct replay_window w;
	uint64_t rng = 0x9e3779b97f4a7c15u, top = 0;

	assert_non_null(seen);
	replay_init(&w);
	for (int i = 0; i < 200000; i++) {
		uint64_t r = xorshift(&rng), s;
		int want, got;

		switch (r % 4) {
		case 0: /* ahead, by a small or large step */
			s = top + 1 + (r >> 8) % ((r >> 40) % 2 ? 70 : 2500);
			break;
		default: /* around the left edge and inside the window */
			s = top + 8 - (r >> 8) % 2100;
			if (s > top + 8)
				s = 0;
			break;
		}
		if (s > MAX)
			break;
		if (s == 0 || (top >= 2048 && s <= top - 2048))
			want = -ERANGE;
		else
			want = seen[s] ? -EALREADY : 0;
		got = replay_check(&w, s);
		assert_int_equal(got, want);
		if ((r >> 60) % 4 == 0)
			continue; /* checked only, as for a forged packet */
		assert_int_equal(replay_update(&w, s), want);
		if (want == 0) {
			seen[s] = 1;
			if (s > top)
				top = s;
		}
	}
	assert_true(top > 20000);
	free(seen);
}

/* ---- SPI ---- */

static void test_spi_random(void **state)
{
	uint32_t all_or = 0, all_and = UINT32_MAX;

	for (int i = 0; i < 10000; i++) {
		uint32_t spi = esp_spi_random();

		assert_true(spi >> 30 != 0);
		assert_true(spi > 255);
		all_or |= spi;
		all_and &= spi;
	}
	/* The other 31 bits vary. */
	assert_int_equal(all_or, UINT32_MAX);
	assert_int_equal(all_and, UINT32_C(0x80000000));
}

/* ---- SA ---- */

static const uint8_t kat_keymat[ESP_KEYMAT_LEN] = {
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
        0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xa1, 0xa2, 0xa3, 0xa4,
};
#define KAT_SPI UINT32_C(0x8badf00d)

static void pair(struct esp_sa *out, struct esp_sa *in)
{
	assert_int_equal(
	        esp_sa_init(out, KAT_SPI, ESP_SUITE_AES_GCM_ICV16, kat_keymat, sizeof(kat_keymat)),
	        0);
	assert_int_equal(
	        esp_sa_init(in, KAT_SPI, ESP_SUITE_AES_GCM_ICV16, kat_keymat, sizeof(kat_keymat)),
	        0);
}

static void test_sa_init_errors(void **state)
{
	struct esp_sa sa;

	assert_int_equal(esp_sa_init(&sa, KAT_SPI, ESP_SUITE_AES128_CBC_SHA256, kat_keymat,
	                             sizeof(kat_keymat)),
	                 -EPROTONOSUPPORT);
	assert_int_equal(esp_sa_init(&sa, KAT_SPI, 0, kat_keymat, sizeof(kat_keymat)),
	                 -EPROTONOSUPPORT);
	assert_int_equal(esp_sa_init(&sa, KAT_SPI, ESP_SUITE_AES_GCM_ICV16, kat_keymat, 16),
	                 -EINVAL);
	assert_int_equal(esp_sa_init(&sa, KAT_SPI, ESP_SUITE_AES_GCM_ICV16, kat_keymat, 32),
	                 -EINVAL);
	assert_int_equal(
	        esp_sa_init(&sa, 0, ESP_SUITE_AES_GCM_ICV16, kat_keymat, sizeof(kat_keymat)),
	        -EINVAL);
	assert_int_equal(
	        esp_sa_init(&sa, 255, ESP_SUITE_AES_GCM_ICV16, kat_keymat, sizeof(kat_keymat)),
	        -EINVAL);
	assert_int_equal(
	        esp_sa_init(&sa, 256, ESP_SUITE_AES_GCM_ICV16, kat_keymat, sizeof(kat_keymat)), 0);
	esp_sa_done(&sa);
}

static void test_sa_done_wipes(void **state)
{
	static const uint8_t zero[sizeof(struct esp_sa)];
	struct esp_sa out, in;

	pair(&out, &in);
	esp_sa_done(&out);
	esp_sa_done(&in);
	assert_memory_equal(&out, zero, sizeof(out));
	esp_sa_done(&out); /* idempotent */
	esp_sa_done(NULL);
}

static void round_trip(struct esp_sa *out, struct esp_sa *in, size_t len)
{
	uint8_t *payload = malloc(len + 1), *pkt, *dec;
	size_t size = esp_encap_size(len);
	uint8_t nh = 0;
	int n, m;

	assert_non_null(payload);
	for (size_t i = 0; i < len; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	pkt = malloc(size);
	dec = malloc(size);
	assert_non_null(pkt);
	assert_non_null(dec);

	n = esp_encap(out, 17, payload, len, pkt, size);
	assert_int_equal(n, size);
	assert_true(size <= len + ESP_MAX_OVERHEAD);
	assert_int_equal((size - ESP_HDR_LEN - ESP_IV_LEN - ESP_ICV_LEN) % 4, 0);
	assert_int_equal(load_be32(pkt), KAT_SPI);
	assert_int_equal(load_be32(pkt + 4), out->seq);
	assert_int_equal(load_be64(pkt + 8), out->seq);
	assert_int_equal(esp_peek_spi(pkt, (size_t)n), KAT_SPI);
	if (len >= 4)
		assert_memory_not_equal(pkt + 16, payload, len);

	m = esp_decap(in, pkt, (size_t)n, dec, size, &nh);
	assert_int_equal(m, len);
	assert_int_equal(nh, 17);
	if (len)
		assert_memory_equal(dec, payload, len);
	free(payload);
	free(pkt);
	free(dec);
}

static void test_round_trip(void **state)
{
	static const size_t sizes[] = {0, 1,  2,  3,  4,   5,    6,     7,
	                               8, 15, 16, 17, 100, 1400, 65000, 65535};
	struct esp_sa out, in;
	uint64_t bytes = 0;

	pair(&out, &in);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		round_trip(&out, &in, sizes[i]);
		bytes += sizes[i];
	}
	assert_int_equal(out.seq, ARRAY_SIZE(sizes));
	assert_int_equal(out.packets, ARRAY_SIZE(sizes));
	assert_int_equal(in.packets, ARRAY_SIZE(sizes));
	assert_int_equal(out.bytes, bytes);
	assert_int_equal(in.bytes, bytes);
	assert_int_equal(in.replay.top, ARRAY_SIZE(sizes));
	esp_sa_done(&out);
	esp_sa_done(&in);
}

static void test_encap_limits(void **state)
{
	static uint8_t payload[65536], pkt[65536 + 64];
	struct esp_sa out, in;
	size_t size = esp_encap_size(100);

	pair(&out, &in);
	assert_int_equal(esp_encap(&out, 17, payload, 65536, pkt, sizeof(pkt)), -EMSGSIZE);
	assert_int_equal(esp_encap(&out, 17, payload, 100, pkt, size - 1), -ENOSPC);
	assert_int_equal(esp_encap(&out, 17, payload, 100, pkt, 0), -ENOSPC);
	assert_int_equal(out.seq, 0);
	assert_int_equal(out.packets, 0);
	assert_int_equal(esp_encap(&out, 17, payload, 100, pkt, size), size);
	assert_int_equal(esp_encap_size(SIZE_MAX), SIZE_MAX);
	esp_sa_done(&out);
	esp_sa_done(&in);
}

/* The payload may already sit where the ciphertext goes (zero-copy TUN read). */
static void test_encap_in_place(void **state)
{
	uint8_t pkt[256], dec[256], nh;
	struct esp_sa out, in;
	int n;

	pair(&out, &in);
	for (int i = 0; i < 100; i++)
		pkt[ESP_HDR_LEN + ESP_IV_LEN + i] = (uint8_t)i;
	n = esp_encap(&out, 6, pkt + ESP_HDR_LEN + ESP_IV_LEN, 100, pkt, sizeof(pkt));
	assert_int_equal(n, esp_encap_size(100));
	assert_int_equal(esp_decap(&in, pkt, (size_t)n, dec, sizeof(dec), &nh), 100);
	assert_int_equal(nh, 6);
	for (int i = 0; i < 100; i++)
		assert_int_equal(dec[i], i);
	esp_sa_done(&out);
	esp_sa_done(&in);
}

/* Encapsulates a fixed 100-byte payload; returns the packet length. */
static size_t make_packet(struct esp_sa *out, uint8_t *pkt, size_t cap)
{
	uint8_t payload[100];
	int n;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(0xc0 ^ i);
	n = esp_encap(out, 17, payload, sizeof(payload), pkt, cap);
	assert_true(n > 0);
	return (size_t)n;
}

static void assert_decap_ok(struct esp_sa *in, const uint8_t *pkt, size_t len)
{
	uint8_t dec[256], nh = 0;

	assert_int_equal(esp_decap(in, pkt, len, dec, sizeof(dec), &nh), 100);
	assert_int_equal(nh, 17);
	assert_int_equal(dec[5], 0xc0 ^ 5);
}

static void test_decap_wrong_spi_and_space(void **state)
{
	uint8_t pkt[256], dec[256], nh = 0xee;
	struct esp_sa out, in, before;
	size_t n;

	pair(&out, &in);
	n = make_packet(&out, pkt, sizeof(pkt));
	memcpy(&before, &in, sizeof(in));
	in.spi ^= 1;
	assert_int_equal(esp_decap(&in, pkt, n, dec, sizeof(dec), &nh), -EBADMSG);
	in.spi ^= 1;
	/* The whole ciphertext (payload + pad + trailer) must fit. */
	assert_int_equal(esp_decap(&in, pkt, n, dec, 103, &nh), -ENOSPC);
	assert_int_equal(nh, 0xee);
	assert_memory_equal(&in, &before, sizeof(in));
	assert_decap_ok(&in, pkt, n);
	esp_sa_done(&out);
	esp_sa_done(&in);
}

static void test_decap_truncated(void **state)
{
	uint8_t pkt[256], dec[256], nh = 0xee;
	struct esp_sa out, in, before;
	size_t n;

	pair(&out, &in);
	n = make_packet(&out, pkt, sizeof(pkt));
	memcpy(&before, &in, sizeof(in));
	for (size_t len = 0; len < n; len++) {
		/* An exact-size copy, so the sanitizers see any over-read. */
		uint8_t *copy = malloc(len ? len : 1);

		assert_non_null(copy);
		memcpy(copy, pkt, len);
		assert_int_equal(esp_decap(&in, copy, len, dec, sizeof(dec), &nh), -EBADMSG);
		free(copy);
	}
	assert_int_equal(esp_peek_spi(pkt, 35), 0);
	assert_int_equal(esp_peek_spi(pkt, 36), KAT_SPI);
	assert_int_equal(nh, 0xee);
	assert_memory_equal(&in, &before, sizeof(in));
	assert_decap_ok(&in, pkt, n);
	esp_sa_done(&out);
	esp_sa_done(&in);
}

static void test_decap_bit_flips(void **state)
{
	uint8_t pkt[256], dec[256], nh = 0xee;
	static const uint8_t zero[256];
	struct esp_sa out, in, before;
	size_t n;

	pair(&out, &in);
	/* Sequence 7: no single bit flip turns it into 0 (-ERANGE). */
	out.seq = 6;
	n = make_packet(&out, pkt, sizeof(pkt));
	memcpy(&before, &in, sizeof(in));
	for (size_t bit = 0; bit < n * 8; bit++) {
		pkt[bit / 8] ^= (uint8_t)(1u << bit % 8);
		memset(dec, 0xaa, sizeof(dec));
		assert_int_equal(esp_decap(&in, pkt, n, dec, sizeof(dec), &nh), -EBADMSG);
		pkt[bit / 8] ^= (uint8_t)(1u << bit % 8);
		/* No unauthenticated plaintext is left behind. */
		if (bit >= 8 * (ESP_HDR_LEN + ESP_IV_LEN))
			assert_memory_equal(dec, zero, n - 32);
	}
	assert_int_equal(nh, 0xee);
	assert_memory_equal(&in, &before, sizeof(in));
	assert_decap_ok(&in, pkt, n);
	esp_sa_done(&out);
	esp_sa_done(&in);
}

static void test_decap_replay(void **state)
{
	uint8_t first[256], held[256], pkt[256], dec[256], nh;
	struct esp_sa out, in, before;
	size_t n1, nh3, n;

	pair(&out, &in);
	n1 = make_packet(&out, first, sizeof(first));
	n = make_packet(&out, pkt, sizeof(pkt));
	nh3 = make_packet(&out, held, sizeof(held)); /* seq 3, never delivered in time */
	assert_decap_ok(&in, pkt, n);
	assert_int_equal(esp_decap(&in, pkt, n, dec, sizeof(dec), &nh), -EALREADY);
	assert_decap_ok(&in, first, n1); /* late but inside the window */
	assert_int_equal(esp_decap(&in, first, n1, dec, sizeof(dec), &nh), -EALREADY);

	/* Sequence 2051 moves the window to [4, 2051]. */
	out.seq = 2050;
	n = make_packet(&out, pkt, sizeof(pkt));
	assert_decap_ok(&in, pkt, n);
	memcpy(&before, &in, sizeof(in));
	assert_int_equal(esp_decap(&in, first, n1, dec, sizeof(dec), &nh), -ERANGE);
	assert_int_equal(esp_decap(&in, held, nh3, dec, sizeof(dec), &nh), -ERANGE);
	assert_memory_equal(&in, &before, sizeof(in));
	esp_sa_done(&out);
	esp_sa_done(&in);
}

static void test_seq_exhaustion_and_rekey(void **state)
{
	uint8_t pkt[256];
	struct esp_sa out, in;
	size_t n;

	pair(&out, &in);
	assert_false(esp_sa_needs_rekey(&out));
	out.seq = ESP_REKEY_SEQ - 1;
	assert_false(esp_sa_needs_rekey(&out));
	make_packet(&out, pkt, sizeof(pkt));
	assert_true(esp_sa_needs_rekey(&out));

	out.seq = UINT32_MAX - 1;
	n = make_packet(&out, pkt, sizeof(pkt));
	assert_int_equal(load_be32(pkt + 4), UINT32_MAX);
	assert_decap_ok(&in, pkt, n);
	assert_int_equal(esp_encap(&out, 17, pkt, 10, pkt, sizeof(pkt)), -EOVERFLOW);
	assert_int_equal(out.seq, UINT32_MAX);
	assert_int_equal(esp_encap(&out, 17, pkt, 10, pkt, sizeof(pkt)), -EOVERFLOW);
	esp_sa_done(&out);
	esp_sa_done(&in);
}

/* Builds a packet with an arbitrary plaintext (payload | pad | trailer as
 * given) under the KAT key, bypassing esp_encap's padding rules. */
static size_t craft(uint32_t seq, const uint8_t *pt, size_t len, uint8_t *pkt)
{
	uint8_t nonce[AEAD_NONCE_LEN];
	struct aead *a = NULL;

	assert_int_equal(aead_new(AEAD_AES_GCM, kat_keymat, ESP_GCM_KEY_LEN, &a), 0);
	store_be32(pkt, KAT_SPI);
	store_be32(pkt + 4, seq);
	store_be64(pkt + 8, seq);
	memcpy(nonce, kat_keymat + ESP_GCM_KEY_LEN, ESP_GCM_SALT_LEN);
	memcpy(nonce + ESP_GCM_SALT_LEN, pkt + 8, ESP_IV_LEN);
	assert_int_equal(aead_seal(a, nonce, pkt, 8, pt, len, pkt + 16, pkt + 16 + len), 0);
	aead_free(a);
	return 16 + len + 16;
}

static void test_decap_bad_trailer(void **state)
{
	static const uint8_t bad_pad[] = {'a', 2, 1, 17};         /* pad must be 1, 2 */
	static const uint8_t bad_pad2[] = {'a', 'b', 1, 3, 2, 6}; /* pad must be 1, 2 */
	static const uint8_t pad_too_long[] = {'a', 'b', 3, 17};  /* 3 > 4 - 2 */
	static const uint8_t pad_max[] = {'a', 'b', 255, 17};
	static const uint8_t extra_pad[] = {'a', 'b', 'c', 'd', 1, 2, 3, 4, 4, 58};
	static const uint8_t all_pad[] = {1, 2, 17};
	uint8_t pkt[256], dec[256], nh = 0xee;
	struct esp_sa out, in, before;
	size_t n;

	pair(&out, &in);
	memcpy(&before, &in, sizeof(in));
	n = craft(1, bad_pad, sizeof(bad_pad), pkt);
	assert_int_equal(esp_decap(&in, pkt, n, dec, sizeof(dec), &nh), -EBADMSG);
	n = craft(2, bad_pad2, sizeof(bad_pad2), pkt);
	assert_int_equal(esp_decap(&in, pkt, n, dec, sizeof(dec), &nh), -EBADMSG);
	n = craft(3, pad_too_long, sizeof(pad_too_long), pkt);
	assert_int_equal(esp_decap(&in, pkt, n, dec, sizeof(dec), &nh), -EBADMSG);
	n = craft(4, pad_max, sizeof(pad_max), pkt);
	assert_int_equal(esp_decap(&in, pkt, n, dec, sizeof(dec), &nh), -EBADMSG);
	assert_int_equal(nh, 0xee);
	assert_memory_equal(&in, &before, sizeof(in));

	/* Longer padding than needed is allowed (RFC 4303 2.4, traffic flow
	 * confidentiality), as is an all-padding plaintext. */
	n = craft(1, extra_pad, sizeof(extra_pad), pkt);
	assert_int_equal(esp_decap(&in, pkt, n, dec, sizeof(dec), &nh), 4);
	assert_int_equal(nh, 58);
	assert_memory_equal(dec, "abcd", 4);
	n = craft(5, all_pad, sizeof(all_pad), pkt);
	assert_int_equal(esp_decap(&in, pkt, n, dec, sizeof(dec), &nh), -EBADMSG); /* 3 < 4 */
	esp_sa_done(&out);
	esp_sa_done(&in);
}

/* Known-answer vectors, computed independently with /usr/bin/python3 and the
 * cryptography package (38.0.4):
 *   key = 000102...0f, salt = a1a2a3a4, SPI = 0x8badf00d
 *   hdr = pack(">II", spi, seq); iv = pack(">Q", seq)
 *   pkt = hdr + iv + AESGCM(key).encrypt(salt + iv, payload + pad + bytes([padlen, nh]), hdr)
 * vector 1: seq 1, nh 17, payload = UDP header (4000 -> 5000, length 13,
 *           checksum 0) + "hello", pad 01
 * vector 2: seq 2, nh 59, empty payload, pad 01 02 */
static const uint8_t kat_payload1[] = {0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0d, 0x00,
                                       0x00, 'h',  'e',  'l',  'l',  'o'};
static const uint8_t kat_pkt1[] = {
        0x8b, 0xad, 0xf0, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x0e, 0x4d, 0x1a, 0x43, 0x76, 0xe5, 0x2a, 0x2c,
        0x39, 0xb7, 0x66, 0x25, 0x93, 0x32, 0xee, 0x95, 0xc4, 0xf1, 0x89, 0x2f,
        0xdf, 0xa2, 0x18, 0xb4, 0xec, 0xb5, 0x41, 0x67, 0xa9, 0x87, 0xa5, 0x9d,
};
static const uint8_t kat_pkt2[] = {
        0x8b, 0xad, 0xf0, 0x0d, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x02, 0x82, 0xc9, 0xdc, 0x38, 0xf5, 0xbd, 0xb5, 0x04,
        0x7a, 0x24, 0xe9, 0xbc, 0xd1, 0x25, 0x2a, 0x27, 0x17, 0x23, 0x25, 0xde,
};

static void test_known_answer(void **state)
{
	uint8_t pkt[128], dec[128], nh = 0;
	struct esp_sa out, in;

	pair(&out, &in);
	assert_int_equal(esp_encap(&out, 17, kat_payload1, sizeof(kat_payload1), pkt, sizeof(pkt)),
	                 sizeof(kat_pkt1));
	assert_memory_equal(pkt, kat_pkt1, sizeof(kat_pkt1));
	assert_int_equal(esp_encap(&out, 59, NULL, 0, pkt, sizeof(pkt)), sizeof(kat_pkt2));
	assert_memory_equal(pkt, kat_pkt2, sizeof(kat_pkt2));

	assert_int_equal(esp_decap(&in, kat_pkt2, sizeof(kat_pkt2), dec, sizeof(dec), &nh), 0);
	assert_int_equal(nh, 59);
	assert_int_equal(esp_decap(&in, kat_pkt1, sizeof(kat_pkt1), dec, sizeof(dec), &nh),
	                 sizeof(kat_payload1));
	assert_int_equal(nh, 17);
	assert_memory_equal(dec, kat_payload1, sizeof(kat_payload1));
	esp_sa_done(&out);
	esp_sa_done(&in);
}

/* ---- BEET ---- */

static const struct hit hit_a = {{0x20, 0x01, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
static const struct hit hit_b = {{0x20, 0x01, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}};

/* An IPv6/UDP packet from a to b as a TUN would deliver it. */
static size_t make_ipv6(uint8_t *p, size_t payload_len, uint8_t hop_limit)
{
	store_be32(p, UINT32_C(0x6abcdef1)); /* traffic class and flow label set */
	store_be16(p + 4, (uint16_t)payload_len);
	p[6] = 17;
	p[7] = hop_limit;
	memcpy(p + 8, hit_a.b, 16);
	memcpy(p + 24, hit_b.b, 16);
	for (size_t i = 0; i < payload_len; i++)
		p[40 + i] = (uint8_t)(i + 1);
	return 40 + payload_len;
}

static void test_beet_outbound(void **state)
{
	uint8_t p[200];
	struct hit src, dst;
	uint8_t nh = 0;
	size_t off = 0;
	size_t n = make_ipv6(p, 50, 9);

	assert_int_equal(beet_ipv6_outbound(p, n, &src, &dst, &nh, &off), 50);
	assert_memory_equal(&src, &hit_a, sizeof(src));
	assert_memory_equal(&dst, &hit_b, sizeof(dst));
	assert_int_equal(nh, 17);
	assert_int_equal(off, BEET_IPV6_HDR_LEN);
	/* Trailing bytes are not part of the packet. */
	assert_int_equal(beet_ipv6_outbound(p, n + 20, &src, &dst, &nh, &off), 50);
	make_ipv6(p, 0, 9);
	assert_int_equal(beet_ipv6_outbound(p, 40, &src, &dst, &nh, &off), 0);
}

static void test_beet_outbound_rejects(void **state)
{
	uint8_t p[200];
	struct hit src, dst;
	uint8_t nh = 0;
	size_t off = 0;
	size_t n = make_ipv6(p, 50, 9);

	for (size_t len = 0; len < 40; len++) {
		uint8_t *copy = malloc(len ? len : 1);

		assert_non_null(copy);
		memcpy(copy, p, len);
		assert_int_equal(beet_ipv6_outbound(copy, len, &src, &dst, &nh, &off), -EBADMSG);
		free(copy);
	}
	for (size_t len = 40; len < n; len++)
		assert_int_equal(beet_ipv6_outbound(p, len, &src, &dst, &nh, &off), -EBADMSG);
	p[0] = 0x45; /* IPv4 */
	assert_int_equal(beet_ipv6_outbound(p, n, &src, &dst, &nh, &off), -EBADMSG);
	p[0] = 0x00;
	assert_int_equal(beet_ipv6_outbound(p, n, &src, &dst, &nh, &off), -EBADMSG);
	p[0] = 0x7a;
	assert_int_equal(beet_ipv6_outbound(p, n, &src, &dst, &nh, &off), -EBADMSG);
	p[0] = 0x6a;
	store_be16(p + 4, 0xffff);
	assert_int_equal(beet_ipv6_outbound(p, n, &src, &dst, &nh, &off), -EBADMSG);
	assert_int_equal(nh, 0);
}

static void test_beet_inbound(void **state)
{
	uint8_t buf[200];
	int n;

	memset(buf, 0x55, sizeof(buf));
	n = beet_ipv6_inbound(buf, sizeof(buf), 13, &hit_b, &hit_a, 6);
	assert_int_equal(n, 53);
	assert_int_equal(load_be32(buf), UINT32_C(0x60000000));
	assert_int_equal(load_be16(buf + 4), 13);
	assert_int_equal(buf[6], 6);
	assert_int_equal(buf[7], 64);
	assert_memory_equal(buf + 8, hit_b.b, 16);
	assert_memory_equal(buf + 24, hit_a.b, 16);
	assert_int_equal(buf[40], 0x55); /* payload untouched */

	assert_int_equal(beet_ipv6_inbound(buf, 52, 13, &hit_b, &hit_a, 6), -ENOSPC);
	assert_int_equal(beet_ipv6_inbound(buf, 39, 0, &hit_b, &hit_a, 6), -ENOSPC);
	assert_int_equal(beet_ipv6_inbound(buf, 0, 0, &hit_b, &hit_a, 6), -ENOSPC);
	assert_int_equal(beet_ipv6_inbound(buf, 40, 0, &hit_b, &hit_a, 6), 40);
	assert_int_equal(beet_ipv6_inbound(buf, SIZE_MAX, 65536, &hit_b, &hit_a, 6), -EMSGSIZE);
}

/* TUN packet -> BEET strip -> ESP -> BEET rebuild gives the packet back
 * (apart from the fields BEET resets). */
static void test_beet_esp_path(void **state)
{
	uint8_t tun[1500], wire[1600], rx[1600];
	struct esp_sa out, in;
	struct hit src, dst;
	size_t off, n = make_ipv6(tun, 1000, 64);
	uint8_t nh, rnh;
	int plen, w, d, r;

	pair(&out, &in);
	plen = beet_ipv6_outbound(tun, n, &src, &dst, &nh, &off);
	assert_int_equal(plen, 1000);
	w = esp_encap(&out, nh, tun + off, (size_t)plen, wire, sizeof(wire));
	assert_true(w > 0);
	d = esp_decap(&in, wire, (size_t)w, rx + BEET_IPV6_HDR_LEN, sizeof(rx) - BEET_IPV6_HDR_LEN,
	              &rnh);
	assert_int_equal(d, plen);
	r = beet_ipv6_inbound(rx, sizeof(rx), (size_t)d, &src, &dst, rnh);
	assert_int_equal(r, n);
	assert_int_equal(load_be32(rx), UINT32_C(0x60000000));
	assert_memory_equal(rx + 4, tun + 4, n - 4);
	esp_sa_done(&out);
	esp_sa_done(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_replay_first_and_zero),
	        cmocka_unit_test(test_replay_in_order_and_duplicates),
	        cmocka_unit_test(test_replay_left_edge),
	        cmocka_unit_test(test_replay_jumps),
	        cmocka_unit_test(test_replay_out_of_order),
	        cmocka_unit_test(test_replay_check_does_not_mark),
	        cmocka_unit_test(test_replay_model),
	        cmocka_unit_test(test_spi_random),
	        cmocka_unit_test(test_sa_init_errors),
	        cmocka_unit_test(test_sa_done_wipes),
	        cmocka_unit_test(test_round_trip),
	        cmocka_unit_test(test_encap_limits),
	        cmocka_unit_test(test_encap_in_place),
	        cmocka_unit_test(test_decap_wrong_spi_and_space),
	        cmocka_unit_test(test_decap_truncated),
	        cmocka_unit_test(test_decap_bit_flips),
	        cmocka_unit_test(test_decap_replay),
	        cmocka_unit_test(test_seq_exhaustion_and_rekey),
	        cmocka_unit_test(test_decap_bad_trailer),
	        cmocka_unit_test(test_known_answer),
	        cmocka_unit_test(test_beet_outbound),
	        cmocka_unit_test(test_beet_outbound_rejects),
	        cmocka_unit_test(test_beet_inbound),
	        cmocka_unit_test(test_beet_esp_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
