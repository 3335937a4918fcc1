/* SPDX-License-Identifier: MIT */
/* test_aead.c: every AEAD backend against the GCM specification and NIST
 * vectors, the backends against each other (same bytes, cross-decryption, in
 * place and apart), and the shared error rules: forged -> -EBADMSG with the
 * output wiped, bad keys, overlapping buffers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/random.h"

#define MAXLEN 65536

static const enum aead_backend all_backends[] = {AEAD_BACKEND_MBEDTLS, AEAD_BACKEND_OPENSSL};

/* The backends this build has, in the order of all_backends. */
static size_t available(enum aead_backend *out)
{
	static const uint8_t key[16];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(all_backends) / sizeof(all_backends[0]); i++) {
		struct aead *a;
		int r = aead_new_backend(all_backends[i], AEAD_AES_GCM, key, sizeof(key), &a);

		if (r == -EPROTONOSUPPORT)
			continue;
		assert_int_equal(r, 0);
		aead_free(a);
		out[n++] = all_backends[i];
	}
	/* mbedTLS is never optional. */
	assert_true(n >= 1 && out[0] == AEAD_BACKEND_MBEDTLS);
	return n;
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s) / 2;

	assert_true(strlen(s) % 2 == 0 && n <= cap);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sscanf(s + 2 * i, "%2hhx", &out[i]), 1);
	return n;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	assert_non_null(p);
	return p;
}

/* ---- known answers ---- */

struct vector {
	const char *name, *key, *nonce, *aad, *pt, *ct, *tag;
};

#define GCM_P                                                              \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
#define GCM_P60                                                            \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_A   "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define GCM_K   "feffe9928665731c6d6a8f9467308308"
#define GCM_IV  "cafebabefacedbaddecaf888"
#define ZERO_IV "000000000000000000000000"
#define ZERO16  "00000000000000000000000000000000"

/* The GCM specification (McGrew and Viega) test cases 1-4 and 13-16, and
 * two from NIST CAVP gcmEncryptExtIV128 (12-byte IV, empty text). */
static const struct vector vectors[] = {
        {"gcm-tc1", ZERO16, ZERO_IV, "", "", "", "58e2fccefa7e3061367f1d57a4e7455a"},
        {"gcm-tc2", ZERO16, ZERO_IV, "", ZERO16, "0388dace60b6a392f328c2b971b2fe78",
         "ab6e47d42cec13bdf53a67b21257bddf"},
        {"gcm-tc3", GCM_K, GCM_IV, "", GCM_P,
         "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
         "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
         "4d5c2af327cd64a62cf35abd2ba6fab4"},
        {"gcm-tc4", GCM_K, GCM_IV, GCM_A, GCM_P60,
         "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
         "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
         "5bc94fbc3221a5db94fae95ae7121a47"},
        {"gcm-tc13", ZERO16 ZERO16, ZERO_IV, "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
        {"gcm-tc14", ZERO16 ZERO16, ZERO_IV, "", ZERO16, "cea7403d4d606b6e074ec5d3baf39d18",
         "d0d1c8a799996bf0265b98b5d48ab919"},
        {"gcm-tc15", GCM_K GCM_K, GCM_IV, "", GCM_P,
         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
         "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
         "b094dac5d93471bdec1a502270e3cc6c"},
        {"gcm-tc16", GCM_K GCM_K, GCM_IV, GCM_A, GCM_P60,
         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
         "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
         "76fc6ece0f4e1768cddf8853bb2d551b"},
        {"cavp-128-0", "11754cd72aec309bf52f7687212e8957", "3c819d9a9bed087615030b65", "", "", "",
         "250327c674aaf477aef2675748cf6971"},
        {"cavp-128-aad", "77be63708971c4e240d1cb79e8d77feb", "e0e00f19fed7ba0136a797f3",
         "7a43ec1d9c0a5a78a0b16533a6213cab", "", "", "209fcc8d3675ed938e9c7166709dd946"},
};

struct decoded {
	uint8_t key[32], nonce[AEAD_NONCE_LEN], aad[32], pt[64], ct[64], tag[AEAD_TAG_LEN];
	size_t keylen, aadlen, len;
};

static void decode(const struct vector *v, struct decoded *d)
{
	d->keylen = unhex(v->key, d->key, sizeof(d->key));
	assert_int_equal(unhex(v->nonce, d->nonce, sizeof(d->nonce)), AEAD_NONCE_LEN);
	d->aadlen = unhex(v->aad, d->aad, sizeof(d->aad));
	d->len = unhex(v->pt, d->pt, sizeof(d->pt));
	assert_int_equal(unhex(v->ct, d->ct, sizeof(d->ct)), d->len);
	assert_int_equal(unhex(v->tag, d->tag, sizeof(d->tag)), AEAD_TAG_LEN);
}

static void check_vector(enum aead_backend b, const struct decoded *d)
{
	uint8_t buf[64], tag[AEAD_TAG_LEN];
	const uint8_t *aad = d->aadlen ? d->aad : NULL;
	struct aead *a;

	assert_int_equal(aead_new_backend(b, AEAD_AES_GCM, d->key, d->keylen, &a), 0);
	/* Apart, then in place. */
	assert_int_equal(aead_seal(a, d->nonce, aad, d->aadlen, d->pt, d->len, buf, tag), 0);
	assert_memory_equal(buf, d->ct, d->len);
	assert_memory_equal(tag, d->tag, AEAD_TAG_LEN);
	memcpy(buf, d->pt, d->len);
	memset(tag, 0, sizeof(tag));
	assert_int_equal(aead_seal(a, d->nonce, aad, d->aadlen, buf, d->len, buf, tag), 0);
	assert_memory_equal(buf, d->ct, d->len);
	assert_memory_equal(tag, d->tag, AEAD_TAG_LEN);

	assert_int_equal(aead_open(a, d->nonce, aad, d->aadlen, d->ct, d->len, d->tag, buf), 0);
	assert_memory_equal(buf, d->pt, d->len);
	memcpy(buf, d->ct, d->len);
	assert_int_equal(aead_open(a, d->nonce, aad, d->aadlen, buf, d->len, d->tag, buf), 0);
	assert_memory_equal(buf, d->pt, d->len);

	/* One flipped tag bit: refused, and no plaintext left behind. */
	memcpy(tag, d->tag, sizeof(tag));
	tag[AEAD_TAG_LEN - 1] ^= 0x01;
	assert_int_equal(aead_open(a, d->nonce, aad, d->aadlen, d->ct, d->len, tag, buf), -EBADMSG);
	for (size_t i = 0; i < d->len; i++)
		assert_int_equal(buf[i], 0);
	aead_free(a);
}

static void test_vectors(void **state)
{
	enum aead_backend bs[2];
	size_t nb = available(bs);

	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		struct decoded d;

		decode(&vectors[i], &d);
		for (size_t j = 0; j < nb; j++) {
			print_message("%s on %s\n", vectors[i].name, aead_backend_name(bs[j]));
			check_vector(bs[j], &d);
		}
	}
}

/* ---- the backends against each other ---- */

struct pair {
	struct aead *x, *y;
	uint8_t *pt, *ref, *buf;
};

/* x seals (apart), y must give the same bytes in place and open x's output
 * both ways; then the roles swap through the caller. */
static void cross_one(struct pair *p, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
                      size_t len)
{
	uint8_t tx[AEAD_TAG_LEN], ty[AEAD_TAG_LEN];

	assert_int_equal(aead_seal(p->x, nonce, aad, aadlen, p->pt, len, p->ref, tx), 0);
	memcpy(p->buf, p->pt, len);
	assert_int_equal(aead_seal(p->y, nonce, aad, aadlen, p->buf, len, p->buf, ty), 0);
	assert_memory_equal(p->buf, p->ref, len);
	assert_memory_equal(tx, ty, AEAD_TAG_LEN);

	assert_int_equal(aead_open(p->y, nonce, aad, aadlen, p->ref, len, tx, p->buf), 0);
	assert_memory_equal(p->buf, p->pt, len);
	memcpy(p->buf, p->ref, len);
	assert_int_equal(aead_open(p->y, nonce, aad, aadlen, p->buf, len, tx, p->buf), 0);
	assert_memory_equal(p->buf, p->pt, len);

	if (len) {
		/* A flipped ciphertext bit, in place: refused, buffer wiped. */
		memcpy(p->buf, p->ref, len);
		p->buf[len / 2] ^= 0x40;
		assert_int_equal(aead_open(p->y, nonce, aad, aadlen, p->buf, len, tx, p->buf),
		                 -EBADMSG);
		for (size_t i = 0; i < len; i++)
			assert_int_equal(p->buf[i], 0);
	}
}

static void test_cross(void **state)
{
	/* Block edges, the mbedTLS in-place staging size (512), ESP sizes, the maximum. */
	static const size_t lens[] = {0,   1,   15,   16,   17,   31,   255,  511,
	                              512, 513, 1024, 1400, 1500, 9000, 65535};
	static const size_t keylens[] = {16, 32};
	uint8_t key[32], nonce[AEAD_NONCE_LEN], aad[64];
	enum aead_backend bs[2];
	struct pair p;

	(void)state;
	if (available(bs) < 2)
		skip(); /* built without OpenSSL: nothing to compare */
	p.pt = xmalloc(MAXLEN);
	p.ref = xmalloc(MAXLEN);
	p.buf = xmalloc(MAXLEN);
	assert_int_equal(crypto_random(p.pt, MAXLEN), 0);
	for (size_t k = 0; k < 2; k++) {
		struct aead *m, *o;

		assert_int_equal(crypto_random(key, sizeof(key)), 0);
		assert_int_equal(aead_new_backend(bs[0], AEAD_AES_GCM, key, keylens[k], &m), 0);
		assert_int_equal(aead_new_backend(bs[1], AEAD_AES_GCM, key, keylens[k], &o), 0);
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			size_t aadlen = (i * 7) % (sizeof(aad) + 1); /* 0 to 64, with 8 (ESP) */

			assert_int_equal(crypto_random(nonce, sizeof(nonce)), 0);
			assert_int_equal(crypto_random(aad, sizeof(aad)), 0);
			p.x = m;
			p.y = o;
			cross_one(&p, nonce, aadlen ? aad : NULL, aadlen, lens[i]);
			p.x = o;
			p.y = m;
			cross_one(&p, nonce, aadlen ? aad : NULL, aadlen, lens[i]);
		}
		aead_free(m);
		aead_free(o);
	}
	free(p.pt);
	free(p.ref);
	free(p.buf);
}

/* The same key used for many packets in a row, both directions interleaved:
 * the per-packet reset of a reused context must not leak state between packets. */
static void test_context_reuse(void **state)
{
	uint8_t key[16], nonce[AEAD_NONCE_LEN] = {0}, aad[8], pt[200], ct[200], out[200];
	uint8_t tag[AEAD_TAG_LEN], tag1[AEAD_TAG_LEN];
	enum aead_backend bs[2];
	size_t nb = available(bs);

	(void)state;
	assert_int_equal(crypto_random(key, sizeof(key)), 0);
	assert_int_equal(crypto_random(pt, sizeof(pt)), 0);
	for (size_t j = 0; j < nb; j++) {
		struct aead *a, *fresh;

		assert_int_equal(aead_new_backend(bs[j], AEAD_AES_GCM, key, sizeof(key), &a), 0);
		for (unsigned i = 0; i < 100; i++) {
			size_t len = 1 + i * 2 % sizeof(pt);

			nonce[11] = (uint8_t)i;
			memset(aad, (int)i, sizeof(aad));
			assert_int_equal(aead_seal(a, nonce, aad, sizeof(aad), pt, len, ct, tag),
			                 0);
			/* A failed open in between must not disturb the next packet. */
			tag[0] ^= 1;
			assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), ct, len, tag, out),
			                 -EBADMSG);
			tag[0] ^= 1;
			assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), ct, len, tag, out),
			                 0);
			assert_memory_equal(out, pt, len);
			/* Same bytes as a context that saw only this packet. */
			assert_int_equal(
			        aead_new_backend(bs[j], AEAD_AES_GCM, key, sizeof(key), &fresh), 0);
			assert_int_equal(
			        aead_seal(fresh, nonce, aad, sizeof(aad), pt, len, out, tag1), 0);
			assert_memory_equal(out, ct, len);
			assert_memory_equal(tag1, tag, sizeof(tag));
			aead_free(fresh);
		}
		aead_free(a);
	}
}

/* ---- errors ---- */

static void test_errors(void **state)
{
	uint8_t key[32] = {1}, nonce[AEAD_NONCE_LEN] = {2}, aad[8] = {3}, buf[64], copy[64];
	uint8_t tag[AEAD_TAG_LEN];
	enum aead_backend bs[2];
	size_t nb = available(bs);

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	for (size_t j = 0; j < nb; j++) {
		struct aead *a = NULL;

		assert_int_equal(aead_new_backend(bs[j], AEAD_AES_GCM, key, 0, &a), -EINVAL);
		assert_int_equal(aead_new_backend(bs[j], AEAD_AES_GCM, key, 24, &a), -EINVAL);
		assert_int_equal(aead_new_backend(bs[j], AEAD_AES_GCM, key, 33, &a), -EINVAL);
		assert_int_equal(aead_new_backend(bs[j], (enum aead_alg)7, key, 16, &a),
		                 -EPROTONOSUPPORT);
		assert_int_equal(aead_new_backend(bs[j], AEAD_AES_GCM, NULL, 16, &a), -EINVAL);
		assert_int_equal(aead_new_backend(bs[j], AEAD_AES_GCM, key, 16, NULL), -EINVAL);
		assert_null(a);

		assert_int_equal(aead_new_backend(bs[j], AEAD_AES_GCM, key, 32, &a), 0);
		/* Shifted overlap either way: refused before anything is written. */
		memcpy(copy, buf, sizeof(buf));
		assert_int_equal(aead_seal(a, nonce, aad, sizeof(aad), buf, 32, buf + 1, tag),
		                 -EINVAL);
		assert_int_equal(aead_seal(a, nonce, aad, sizeof(aad), buf + 16, 32, buf, tag),
		                 -EINVAL);
		assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), buf, 32, tag, buf + 31),
		                 -EINVAL);
		assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), buf + 8, 32, tag, buf),
		                 -EINVAL);
		assert_memory_equal(buf, copy, sizeof(buf));
		/* Adjacent is not overlapping. */
		assert_int_equal(aead_seal(a, nonce, aad, sizeof(aad), buf, 32, buf + 32, tag), 0);
		assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), buf + 32, 32, tag, buf), 0);
		assert_memory_equal(buf, copy, 32);

		/* Wrong nonce, wrong AAD, missing AAD: all forged. */
		assert_int_equal(aead_seal(a, nonce, aad, sizeof(aad), copy, 32, buf, tag), 0);
		nonce[0] ^= 1;
		assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), buf, 32, tag, copy),
		                 -EBADMSG);
		nonce[0] ^= 1;
		aad[7] ^= 1;
		assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), buf, 32, tag, copy),
		                 -EBADMSG);
		aad[7] ^= 1;
		assert_int_equal(aead_open(a, nonce, NULL, 0, buf, 32, tag, copy), -EBADMSG);
		assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), buf, 31, tag, copy),
		                 -EBADMSG);
		assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), buf, 32, tag, copy), 0);

		/* No data at all: buffers may be NULL, the tag still covers the AAD. */
		assert_int_equal(aead_seal(a, nonce, aad, sizeof(aad), NULL, 0, NULL, tag), 0);
		assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), NULL, 0, tag, NULL), 0);
		aad[0] ^= 1;
		assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), NULL, 0, tag, NULL),
		                 -EBADMSG);
		aad[0] ^= 1;
		aead_free(a);
	}
	assert_null(aead_free(NULL));
}

/* An aead_new() context starts on mbedTLS and moves to OpenSSL once it has
 * carried 1 MiB, giving the same bytes throughout; a clone made before the
 * move keeps the count and moves too. */
static void seal_same(struct aead *x, struct aead *ref, uint64_t seq, const uint8_t *pt, size_t len)
{
	uint8_t nonce[AEAD_NONCE_LEN] = {0}, a[2048], b[2048], ta[AEAD_TAG_LEN], tb[AEAD_TAG_LEN];

	memcpy(nonce + 4, &seq, sizeof(seq));
	assert_int_equal(aead_seal(x, nonce, NULL, 0, pt, len, a, ta), 0);
	assert_int_equal(aead_seal(ref, nonce, NULL, 0, pt, len, b, tb), 0);
	assert_memory_equal(a, b, len);
	assert_memory_equal(ta, tb, AEAD_TAG_LEN);
	/* And x opens what ref sealed. */
	assert_int_equal(aead_open(x, nonce, NULL, 0, b, len, tb, a), 0);
	assert_memory_equal(a, pt, len);
}

static void test_bulk_switch(void **state)
{
	uint8_t key[16], pt[1400];
	enum aead_backend bs[2];
	struct aead *x, *ref, *early, *late;
	uint64_t seq = 0;

	(void)state;
	if (available(bs) < 2)
		skip(); /* built without OpenSSL: aead_new is mbedTLS only */
	assert_int_equal(crypto_random(key, sizeof(key)), 0);
	assert_int_equal(crypto_random(pt, sizeof(pt)), 0);
	assert_int_equal(aead_new(AEAD_AES_GCM, key, sizeof(key), &x), 0);
	assert_int_equal(
	        aead_new_backend(AEAD_BACKEND_MBEDTLS, AEAD_AES_GCM, key, sizeof(key), &ref), 0);
	assert_int_equal(aead_current_backend(x), AEAD_BACKEND_MBEDTLS);
	/* 2 x 1400 bytes per round: 200 rounds are 560 000 bytes. */
	for (int i = 0; i < 200; i++)
		seal_same(x, ref, seq++, pt, sizeof(pt));
	assert_int_equal(aead_current_backend(x), AEAD_BACKEND_MBEDTLS);
	assert_int_equal(aead_clone(x, &early), 0);
	assert_int_equal(aead_current_backend(early), AEAD_BACKEND_MBEDTLS);
	for (int i = 0; i < 200; i++)
		seal_same(x, ref, seq++, pt, sizeof(pt));
	assert_int_equal(aead_current_backend(x), AEAD_BACKEND_OPENSSL);
	for (int i = 0; i < 20; i++)
		seal_same(x, ref, seq++, pt, sizeof(pt));
	assert_int_equal(aead_clone(x, &late), 0);
	assert_int_equal(aead_current_backend(late), AEAD_BACKEND_OPENSSL);
	/* The clone counted on from the 560 000 bytes of its original. */
	for (int i = 0; i < 200; i++)
		seal_same(early, ref, seq++, pt, sizeof(pt));
	assert_int_equal(aead_current_backend(early), AEAD_BACKEND_OPENSSL);
	seal_same(late, ref, seq++, pt, sizeof(pt));
	aead_free(early);
	aead_free(late);
	aead_free(x);
	aead_free(ref);
}

static void test_names(void **state)
{
	static const uint8_t key[16];
	enum aead_backend bs[2];
	size_t nb = available(bs);

	(void)state;
	assert_string_equal(aead_backend_name(AEAD_BACKEND_MBEDTLS), "mbedtls");
	assert_string_equal(aead_backend_name(AEAD_BACKEND_OPENSSL), "openssl");
	assert_null(aead_backend_name((enum aead_backend)9));
	/* aead_new() takes the fastest backend built in. */
	assert_string_equal(aead_backend(), aead_backend_name(bs[nb - 1]));
	assert_int_equal(aead_new_backend((enum aead_backend)9, AEAD_AES_GCM, key, sizeof(key),
	                                  &(struct aead *){NULL}),
	                 -EPROTONOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_vectors),       cmocka_unit_test(test_cross),
	        cmocka_unit_test(test_context_reuse), cmocka_unit_test(test_errors),
	        cmocka_unit_test(test_bulk_switch),   cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
