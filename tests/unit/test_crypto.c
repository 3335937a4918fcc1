/* SPDX-License-Identifier: MIT */
/* test_crypto.c: known-answer, negative and cross-implementation tests of src/crypto/. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/hit.h"
#include "crypto/aead.h"
#include "crypto/cipher.h"
#include "crypto/dh.h"
#include "crypto/hash.h"
#include "crypto/identity.h"
#include "crypto/random.h"

/* ---- helpers ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex (whitespace ignored) into out; fails the test on bad input. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (*s == ' ' || *s == '\n')
			continue;
		v = hexval(*s);
		assert_true(v >= 0);
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[512];
	size_t n = unhex(want_hex, want, sizeof(want));

	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
}

static void make_tmpdir(char dir[PATH_MAX])
{
	const char *base = getenv("TMPDIR");

	snprintf(dir, PATH_MAX, "%s/test_crypto.XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
}

/* Removes the files test code put in dir (flat), then dir. */
static void remove_tmpdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (unlink(p) < 0)
			assert_int_equal(rmdir(p), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* ---- random ---- */

static void test_random(void **state)
{
	uint8_t a[32], b[32], big[5000], zero[sizeof(big)] = {0};

	(void)state;
	assert_int_equal(crypto_random(a, 0), 0);
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	/* Larger than one CTR_DRBG request: must be filled to the end. */
	assert_int_equal(crypto_random(big, sizeof(big)), 0);
	assert_memory_not_equal(big + sizeof(big) - 32, zero, 32);
}

/* A forked child must not replay the parent's stream. */
static void test_random_fork(void **state)
{
	uint8_t mine[32], child[32];
	int fds[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(crypto_random(mine, 1), 0); /* seeded before the fork */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t buf[32];
		int ok = crypto_random(buf, sizeof(buf)) == 0 &&
		         write(fds[1], buf, sizeof(buf)) == (ssize_t)sizeof(buf);
		_exit(ok ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(crypto_random(mine, sizeof(mine)), 0);
	assert_int_equal(read(fds[0], child, sizeof(child)), (ssize_t)sizeof(child));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_memory_not_equal(mine, child, sizeof(mine));
}

/* ---- hash, HMAC, HKDF ---- */

static void test_sha(void **state)
{
	uint8_t out[HASH_MAX_LEN];

	(void)state;
	assert_int_equal(hash_len(HASH_SHA256), 32);
	assert_int_equal(hash_len(HASH_SHA384), 48);
	assert_int_equal(hash_digest(HASH_SHA384, "abc", 3, out), 0);
	assert_hex(out, 48,
	           "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
	           "8086072ba1e7cc2358baeca134c825a7");
	assert_int_equal(hash_digest(HASH_SHA256, "abc", 3, out), 0);
	assert_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* RFC 4231 test case 2. */
static const char rfc4231_key[] = "Jefe";
static const char rfc4231_data[] = "what do ya want for nothing?";

static void test_hmac_rfc4231(void **state)
{
	const uint8_t *key = (const uint8_t *)rfc4231_key;
	size_t dlen = strlen(rfc4231_data);
	uint8_t out[HASH_MAX_LEN], split[HASH_MAX_LEN];

	(void)state;
	assert_int_equal(hmac_compute(HASH_SHA256, key, 4, rfc4231_data, dlen, out), 0);
	assert_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	assert_int_equal(hmac_compute(HASH_SHA384, key, 4, rfc4231_data, dlen, out), 0);
	assert_hex(out, 48,
	           "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
	           "8e2240ca5e69e2c78b3239ecfab21649");

	/* Two parts hash as their concatenation. */
	assert_int_equal(hmac_compute2(HASH_SHA384, key, 4, rfc4231_data, 10, rfc4231_data + 10,
	                               dlen - 10, split),
	                 0);
	assert_memory_equal(split, out, 48);
	assert_int_equal(hmac_verify2(HASH_SHA384, key, 4, rfc4231_data, 10, rfc4231_data + 10,
	                              dlen - 10, out),
	                 0);
	assert_int_equal(hmac_verify2(HASH_SHA384, key, 4, rfc4231_data, dlen, NULL, 0, out), 0);
	out[47] ^= 1;
	assert_int_equal(hmac_verify2(HASH_SHA384, key, 4, rfc4231_data, dlen, NULL, 0, out),
	                 -EBADMSG);
	out[47] ^= 1;
	assert_int_equal(hmac_verify2(HASH_SHA384, key, 3, rfc4231_data, dlen, NULL, 0, out),
	                 -EBADMSG);
	assert_int_equal(hmac_verify2(HASH_SHA384, key, 4, rfc4231_data, dlen - 1, NULL, 0, out),
	                 -EBADMSG);
}

/* RFC 5869 test case 1. */
static void test_hkdf_rfc5869(void **state)
{
	uint8_t ikm[22], salt[13], info[10], okm[42], big[255 * 32 + 1];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	for (size_t i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(info); i++)
		info[i] = (uint8_t)(0xf0 + i);
	assert_int_equal(hkdf(HASH_SHA256, salt, sizeof(salt), ikm, sizeof(ikm), info, sizeof(info),
	                      okm, sizeof(okm)),
	                 0);
	assert_hex(okm, sizeof(okm),
	           "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	           "34007208d5b887185865");
	/* HKDF cannot expand beyond 255 blocks. */
	assert_int_equal(hkdf(HASH_SHA256, salt, sizeof(salt), ikm, sizeof(ikm), info, sizeof(info),
	                      big, sizeof(big)),
	                 -EINVAL);
}

/* ---- AES-CBC (NIST SP 800-38A F.2.1 and F.2.5) ---- */

static const char sp800_38a_pt[] =
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

static void check_cbc(const char *key_hex, const char *ct_hex)
{
	uint8_t key[32], iv[CBC_BLOCK], iv_copy[CBC_BLOCK], pt[64], buf[64];
	size_t keylen = unhex(key_hex, key, sizeof(key));

	unhex("000102030405060708090a0b0c0d0e0f", iv, sizeof(iv));
	memcpy(iv_copy, iv, sizeof(iv));
	unhex(sp800_38a_pt, pt, sizeof(pt));

	assert_int_equal(cbc_encrypt(key, keylen, iv, pt, sizeof(pt), buf), 0);
	assert_hex(buf, sizeof(buf), ct_hex);
	assert_memory_equal(iv, iv_copy, sizeof(iv));
	/* In place, both directions. */
	assert_int_equal(cbc_decrypt(key, keylen, iv, buf, sizeof(buf), buf), 0);
	assert_memory_equal(buf, pt, sizeof(pt));
	assert_int_equal(cbc_encrypt(key, keylen, iv, buf, sizeof(buf), buf), 0);
	assert_hex(buf, sizeof(buf), ct_hex);
	assert_memory_equal(iv, iv_copy, sizeof(iv));
}

static void test_cbc(void **state)
{
	uint8_t key[32] = {0}, iv[CBC_BLOCK] = {0}, buf[32] = {0};

	(void)state;
	check_cbc("2b7e151628aed2a6abf7158809cf4f3c",
	          "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
	          "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7");
	check_cbc("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
	          "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
	          "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b");
	assert_int_equal(cbc_encrypt(key, 24, iv, buf, 16, buf), -EINVAL);
	assert_int_equal(cbc_encrypt(key, 16, iv, buf, 17, buf), -EINVAL);
	assert_int_equal(cbc_decrypt(key, 32, iv, buf, 15, buf), -EINVAL);
	assert_int_equal(cbc_decrypt(key, 32, iv, buf, 0, buf), 0);
}

/* ---- AES-GCM (GCM specification test cases 3 and 4) ---- */

static const char gcm_key[] = "feffe9928665731c6d6a8f9467308308";
static const char gcm_iv[] = "cafebabefacedbaddecaf888";
static const char gcm_pt[] = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                             "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
static const char gcm_ct[] = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
                             "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985";

static void test_gcm_vectors(void **state)
{
	uint8_t key[16], nonce[AEAD_NONCE_LEN], pt[64], aad[20], buf[64], tag[AEAD_TAG_LEN];
	struct aead *a;

	(void)state;
	unhex(gcm_key, key, sizeof(key));
	unhex(gcm_iv, nonce, sizeof(nonce));
	unhex(gcm_pt, pt, sizeof(pt));
	unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad, sizeof(aad));
	assert_int_equal(aead_new(AEAD_AES_GCM, key, sizeof(key), &a), 0);

	/* Test case 3: no AAD, 64 bytes. */
	assert_int_equal(aead_seal(a, nonce, NULL, 0, pt, 64, buf, tag), 0);
	assert_hex(buf, 64, gcm_ct);
	assert_hex(tag, sizeof(tag), "4d5c2af327cd64a62cf35abd2ba6fab4");
	assert_int_equal(aead_open(a, nonce, NULL, 0, buf, 64, tag, buf), 0);
	assert_memory_equal(buf, pt, 64);

	/* Test case 4: 20 bytes AAD, 60 bytes, in place. */
	memcpy(buf, pt, 60);
	assert_int_equal(aead_seal(a, nonce, aad, sizeof(aad), buf, 60, buf, tag), 0);
	{
		uint8_t want[64];
		unhex(gcm_ct, want, sizeof(want));
		assert_memory_equal(buf, want, 60);
	}
	assert_hex(tag, sizeof(tag), "5bc94fbc3221a5db94fae95ae7121a47");
	assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), buf, 60, tag, buf), 0);
	assert_memory_equal(buf, pt, 60);
	aead_free(a);
}

static void test_gcm_inplace_and_tamper(void **state)
{
	enum { LEN = 1500 }; /* several bounce-buffer rounds, not a block multiple */
	uint8_t key[32], nonce[AEAD_NONCE_LEN], aad[16], pt[LEN], ref[LEN], buf[LEN];
	uint8_t tag[AEAD_TAG_LEN], tag2[AEAD_TAG_LEN];
	struct aead *a;

	(void)state;
	assert_int_equal(crypto_random(key, sizeof(key)), 0);
	assert_int_equal(crypto_random(nonce, sizeof(nonce)), 0);
	assert_int_equal(crypto_random(aad, sizeof(aad)), 0);
	assert_int_equal(crypto_random(pt, sizeof(pt)), 0);
	assert_int_equal(aead_new(AEAD_AES_GCM, key, sizeof(key), &a), 0);

	assert_int_equal(aead_seal(a, nonce, aad, sizeof(aad), pt, LEN, ref, tag), 0);
	memcpy(buf, pt, LEN);
	assert_int_equal(aead_seal(a, nonce, aad, sizeof(aad), buf, LEN, buf, tag2), 0);
	assert_memory_equal(buf, ref, LEN);
	assert_memory_equal(tag, tag2, sizeof(tag));

	/* Out of place, then in place. */
	assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), ref, LEN, tag, buf), 0);
	assert_memory_equal(buf, pt, LEN);
	memcpy(buf, ref, LEN);
	assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), buf, LEN, tag, buf), 0);
	assert_memory_equal(buf, pt, LEN);

	/* Bad tag, bad AAD, bad ciphertext: -EBADMSG on both paths. */
	tag2[0] ^= 0x80;
	assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), ref, LEN, tag2, buf), -EBADMSG);
	memcpy(buf, ref, LEN);
	assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), buf, LEN, tag2, buf), -EBADMSG);
	aad[3] ^= 1;
	assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), ref, LEN, tag, buf), -EBADMSG);
	aad[3] ^= 1;
	ref[LEN - 1] ^= 1;
	assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), ref, LEN, tag, buf), -EBADMSG);
	memcpy(buf, ref, LEN);
	assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), buf, LEN, tag, buf), -EBADMSG);
	nonce[0] ^= 1;
	ref[LEN - 1] ^= 1;
	assert_int_equal(aead_open(a, nonce, aad, sizeof(aad), ref, LEN, tag, buf), -EBADMSG);
	aead_free(a);

	assert_int_equal(aead_new(AEAD_AES_GCM, key, 24, &a), -EINVAL);
	assert_null(aead_free(NULL));
}

/* ---- ECDH group 7 ---- */

static void test_dh_agree(void **state)
{
	uint8_t pa[DH_MAX_PUB_LEN], pb[DH_MAX_PUB_LEN];
	uint8_t sa[DH_MAX_SECRET_LEN], sb[DH_MAX_SECRET_LEN];
	struct dh *a, *b;

	(void)state;
	assert_int_equal(dh_generate(DH_GROUP_NIST_P256, &a), 0);
	assert_int_equal(dh_generate(DH_GROUP_NIST_P256, &b), 0);
	assert_int_equal(dh_group(a), DH_GROUP_NIST_P256);
	assert_int_equal(dh_public(a, pa, sizeof(pa)), DH_P256_PUB_LEN);
	assert_int_equal(dh_public(b, pb, sizeof(pb)), DH_P256_PUB_LEN);
	assert_memory_not_equal(pa, pb, DH_P256_PUB_LEN);
	assert_int_equal(dh_public(a, pa, DH_P256_PUB_LEN - 1), -ENOBUFS);
	assert_int_equal(dh_shared(a, pb, DH_P256_PUB_LEN, sa, sizeof(sa)), 32);
	assert_int_equal(dh_shared(b, pa, DH_P256_PUB_LEN, sb, sizeof(sb)), 32);
	assert_memory_equal(sa, sb, 32);
	assert_int_equal(dh_shared(a, pb, DH_P256_PUB_LEN, sa, 31), -ENOBUFS);
	dh_free(a);
	dh_free(b);
	assert_null(dh_free(NULL));

	assert_int_equal(dh_generate(8, &a), -EPROTONOSUPPORT);
	assert_int_equal(dh_generate(3, &a), -EPROTONOSUPPORT);
}

static void test_dh_bad_peer(void **state)
{
	uint8_t peer[DH_P256_PUB_LEN + 1], out[DH_MAX_SECRET_LEN];
	struct dh *a, *b;

	(void)state;
	assert_int_equal(dh_generate(DH_GROUP_NIST_P256, &a), 0);
	assert_int_equal(dh_generate(DH_GROUP_NIST_P256, &b), 0);

	memset(peer, 0, sizeof(peer)); /* (0,0): the usual encoding of infinity */
	assert_int_equal(dh_shared(a, peer, DH_P256_PUB_LEN, out, sizeof(out)), -EBADMSG);
	memset(peer, 0xff, sizeof(peer)); /* coordinates >= p */
	assert_int_equal(dh_shared(a, peer, DH_P256_PUB_LEN, out, sizeof(out)), -EBADMSG);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(crypto_random(peer, DH_P256_PUB_LEN), 0);
		assert_int_equal(dh_shared(a, peer, DH_P256_PUB_LEN, out, sizeof(out)), -EBADMSG);
	}

	/* A valid point with Y altered is off the curve. */
	assert_int_equal(dh_public(b, peer, sizeof(peer)), DH_P256_PUB_LEN);
	peer[DH_P256_PUB_LEN - 1] ^= 1;
	assert_int_equal(dh_shared(a, peer, DH_P256_PUB_LEN, out, sizeof(out)), -EBADMSG);
	peer[DH_P256_PUB_LEN - 1] ^= 1;
	/* SEC1 framing (65 bytes) or short input is not our wire form. */
	assert_int_equal(dh_shared(a, peer, DH_P256_PUB_LEN - 1, out, sizeof(out)), -EBADMSG);
	memmove(peer + 1, peer, DH_P256_PUB_LEN);
	peer[0] = 0x04;
	assert_int_equal(dh_shared(a, peer, DH_P256_PUB_LEN + 1, out, sizeof(out)), -EBADMSG);
	assert_int_equal(dh_shared(a, peer + 1, DH_P256_PUB_LEN, out, sizeof(out)), 32);
	dh_free(a);
	dh_free(b);
}

/* ---- identity, HI, HIT, signatures ---- */

static void test_orchid_misc(void **state)
{
	const uint8_t hi[3] = {1, 2, 3};
	struct hit h;

	(void)state;
	assert_int_equal(hit_suite_for_algorithm(HI_ALG_ECDSA), HIT_SUITE_ECDSA);
	assert_int_equal(hit_suite_for_algorithm(5), HIT_SUITE_RSA_DSA);
	assert_int_equal(hit_suite_for_algorithm(3), HIT_SUITE_RSA_DSA);
	assert_int_equal(hit_suite_for_algorithm(9), HIT_SUITE_ECDSA_LOW);
	assert_int_equal(hit_suite_for_algorithm(13), 0);
	assert_int_equal(hit_suite_for_algorithm(0), 0);
	assert_int_equal(orchid_from_hi(0, hi, sizeof(hi), &h), -EPROTONOSUPPORT);
	assert_int_equal(orchid_from_hi(4, hi, sizeof(hi), &h), -EPROTONOSUPPORT);
	assert_int_equal(orchid_from_hi(5, hi, sizeof(hi), &h), -EPROTONOSUPPORT);
	for (uint8_t s = 1; s <= 3; s++) {
		assert_int_equal(orchid_from_hi(s, hi, sizeof(hi), &h), 0);
		assert_true(hit_is_orchid(&h));
		assert_int_equal(hit_oga(&h), s);
	}
}

static void test_identity_sign_verify(void **state)
{
	static const char data[] = "HIP R1 bytes to be signed";
	uint8_t sig[SIG_MAX_LEN], sig2[SIG_MAX_LEN], bad[SIG_MAX_LEN + 1];
	struct identity *id, *other;
	struct hi_pub *pub, *opub;
	const uint8_t *hi;
	size_t hilen, siglen, siglen2;
	struct hit h;

	(void)state;
	assert_int_equal(identity_generate(&id), 0);
	assert_int_equal(identity_algorithm(id), HI_ALG_ECDSA);
	hi = identity_hi(id, &hilen);
	assert_int_equal(hilen, 67);
	assert_int_equal(load_be16(hi), HI_ECDSA_CURVE_P256);
	assert_int_equal(hi[2], 0x04);

	/* The HIT is the suite-2 ORCHID of the HI. */
	assert_true(hit_is_orchid(identity_hit(id)));
	assert_int_equal(hit_oga(identity_hit(id)), HIT_SUITE_ECDSA);
	assert_int_equal(orchid_from_hi(HIT_SUITE_ECDSA, hi, hilen, &h), 0);
	assert_int_equal(hit_cmp(&h, identity_hit(id)), 0);

	assert_int_equal(identity_sign(id, data, strlen(data), sig, &siglen), 0);
	assert_int_equal(siglen, 64);
	/* Deterministic (RFC 6979). */
	assert_int_equal(identity_sign(id, data, strlen(data), sig2, &siglen2), 0);
	assert_int_equal(siglen2, 64);
	assert_memory_equal(sig, sig2, 64);

	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, hi, hilen, &pub), 0);
	assert_int_equal(hi_pub_algorithm(pub), HI_ALG_ECDSA);
	assert_int_equal(hit_cmp(hi_pub_hit(pub), identity_hit(id)), 0);
	assert_int_equal(hi_pub_verify(pub, data, strlen(data), sig, siglen), 0);

	/* Every single-bit flip of the signature fails. */
	for (size_t i = 0; i < 64 * 8; i += 7) {
		memcpy(bad, sig, 64);
		bad[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(hi_pub_verify(pub, data, strlen(data), bad, 64), -EBADMSG);
	}
	/* Data altered or truncated. */
	{
		char d2[sizeof(data)];
		memcpy(d2, data, sizeof(data));
		d2[0] ^= 1;
		assert_int_equal(hi_pub_verify(pub, d2, strlen(d2), sig, 64), -EBADMSG);
		assert_int_equal(hi_pub_verify(pub, data, strlen(data) - 1, sig, 64), -EBADMSG);
	}
	/* Wrong length, including DER-like lengths. */
	memcpy(bad, sig, 64);
	bad[64] = 0;
	assert_int_equal(hi_pub_verify(pub, data, strlen(data), bad, 65), -EBADMSG);
	assert_int_equal(hi_pub_verify(pub, data, strlen(data), sig, 63), -EBADMSG);
	assert_int_equal(hi_pub_verify(pub, data, strlen(data), sig, 0), -EBADMSG);
	assert_int_equal(hi_pub_verify(pub, data, strlen(data), sig, 96), -EBADMSG);
	/* r = 0, s = 0, r = n, s = n are out of range. */
	{
		uint8_t n[32];
		unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", n,
		      sizeof(n));
		memcpy(bad, sig, 64);
		memset(bad, 0, 32);
		assert_int_equal(hi_pub_verify(pub, data, strlen(data), bad, 64), -EBADMSG);
		memcpy(bad, sig, 64);
		memset(bad + 32, 0, 32);
		assert_int_equal(hi_pub_verify(pub, data, strlen(data), bad, 64), -EBADMSG);
		memcpy(bad, sig, 64);
		memcpy(bad, n, 32);
		assert_int_equal(hi_pub_verify(pub, data, strlen(data), bad, 64), -EBADMSG);
		memcpy(bad, sig, 64);
		memcpy(bad + 32, n, 32);
		assert_int_equal(hi_pub_verify(pub, data, strlen(data), bad, 64), -EBADMSG);
	}

	/* Someone else's key does not verify our signature. */
	assert_int_equal(identity_generate(&other), 0);
	assert_int_not_equal(hit_cmp(identity_hit(other), identity_hit(id)), 0);
	hi = identity_hi(other, &hilen);
	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, hi, hilen, &opub), 0);
	assert_int_equal(hi_pub_verify(opub, data, strlen(data), sig, siglen), -EBADMSG);

	hi_pub_free(opub);
	identity_free(other);
	hi_pub_free(pub);
	identity_free(id);
	assert_null(identity_free(NULL));
	assert_null(hi_pub_free(NULL));
}

static void test_hi_pub_parse_rejects(void **state)
{
	uint8_t hi[HI_MAX_LEN + 1];
	const uint8_t *own;
	struct identity *id;
	struct hi_pub *pub = NULL;
	size_t len;

	(void)state;
	assert_int_equal(identity_generate(&id), 0);
	own = identity_hi(id, &len);
	memcpy(hi, own, len);

	assert_int_equal(hi_pub_parse(5, hi, len, &pub), -EPROTONOSUPPORT);
	assert_int_equal(hi_pub_parse(3, hi, len, &pub), -EPROTONOSUPPORT);
	assert_int_equal(hi_pub_parse(9, hi, len, &pub), -EPROTONOSUPPORT);
	assert_int_equal(hi_pub_parse(13, hi, len, &pub), -EPROTONOSUPPORT);
	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, hi, 0, &pub), -EBADMSG);
	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, hi, 1, &pub), -EBADMSG);
	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, hi, 2, &pub), -EBADMSG);
	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, hi, len - 1, &pub), -EBADMSG);
	hi[len] = 0;
	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, hi, len + 1, &pub), -EBADMSG);
	/* No 0x04 tag (the rustdhipv2 form) is rejected, as are other point forms. */
	{
		uint8_t untagged[HI_MAX_LEN];
		memcpy(untagged, hi, 2);
		memcpy(untagged + 2, hi + 3, len - 3);
		assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, untagged, len - 1, &pub), -EBADMSG);
	}
	hi[2] = 0x02;
	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, hi, len, &pub), -EBADMSG);
	hi[2] = 0x03;
	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, hi, len, &pub), -EBADMSG);
	hi[2] = 0x04;
	/* Curves: 2 (P-384) is valid but unsupported; 0 and others unknown. */
	store_be16(hi, 2);
	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, hi, len, &pub), -EPROTONOSUPPORT);
	store_be16(hi, 0);
	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, hi, len, &pub), -EPROTONOSUPPORT);
	store_be16(hi, HI_ECDSA_CURVE_P256);
	/* Off the curve. */
	hi[len - 1] ^= 1;
	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, hi, len, &pub), -EBADMSG);
	hi[len - 1] ^= 1;
	memset(hi + 3, 0, len - 3);
	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, hi, len, &pub), -EBADMSG);
	assert_null(pub);
	memcpy(hi, own, len);
	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, hi, len, &pub), 0);
	hi_pub_free(pub);
	identity_free(id);
}

/* ---- key file ---- */

static const char p384_pem[] = "-----BEGIN EC PRIVATE KEY-----\n"
                               "MIGkAgEBBDCaJRYulXdDMAdmegvgu0sjX1KB4y+rOnzVzzxR32B6KBjere+KMKE2\n"
                               "/zcwdsZ6G3qgBwYFK4EEACKhZANiAATTxqBAm9QJ5wvoqwvAph4n3/Ez1tmgpnMs\n"
                               "ciavcInRugzetPzU0D1FxGQFmuhJRfzpvOrPd9HPrqrvdcMe/Giz+eMiRf5zWbSC\n"
                               "CnwA3YcKWv4UJNcnsWoJQtSPQIdSnvU=\n"
                               "-----END EC PRIVATE KEY-----\n";

/* The RFC 6979 A.2.5 key in OpenSSL's PKCS#8 form; its HIT is vector 0's. */
static const char rfc6979_pkcs8_pem[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgya+p2EW6dRZrXCFX\n"
        "Z7HWk05Qw9s26JsSe4piKxIPZyGhRANCAARg/tS6JVqdMclh63TGNW1owEm4kjth\n"
        "+mzmaWIuYPKftnkD/hAIuLyZpBrp6VYovGTy8bIMLX6fUXejwpTURiKZ\n"
        "-----END PRIVATE KEY-----\n";

static void expect_load_error(const char *path, int want, const char *needle1, const char *needle2)
{
	struct identity *id = NULL;
	char err[512] = "";

	assert_int_equal(identity_load_or_create(path, &id, err, sizeof(err)), want);
	assert_null(id);
	if (!strstr(err, needle1) || (needle2 && !strstr(err, needle2)))
		fail_msg("error '%s' lacks '%s' / '%s'", err, needle1, needle2 ? needle2 : "");
}

static void test_key_file(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], err[512];
	struct identity *id, *again;
	const uint8_t *hi1, *hi2;
	size_t len1, len2;
	struct stat st;

	(void)state;
	make_tmpdir(dir);
	snprintf(path, sizeof(path), "%s/host.key", dir);

	/* Absent: created with mode 0600, no temporary left behind. */
	assert_int_equal(identity_load_or_create(path, &id, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(dir), 1);

	/* Present: the same identity comes back. */
	assert_int_equal(identity_load_or_create(path, &again, err, sizeof(err)), 0);
	assert_int_equal(hit_cmp(identity_hit(id), identity_hit(again)), 0);
	hi1 = identity_hi(id, &len1);
	hi2 = identity_hi(again, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(hi1, hi2, len1);
	identity_free(again);
	identity_free(id);

	/* Readable by others: refused like ssh, naming the file and the fix. */
	assert_int_equal(chmod(path, 0644), 0);
	expect_load_error(path, -EACCES, path, "chmod 600");
	expect_load_error(path, -EACCES, "(mode 0644)", NULL);
	assert_int_equal(chmod(path, 0640), 0);
	expect_load_error(path, -EACCES, path, NULL);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(identity_load_or_create(path, &id, err, sizeof(err)), 0);
	identity_free(id);

	/* Garbage, empty, and a P-384 key. */
	write_file(path, "this is not a key\n", 0600);
	expect_load_error(path, -EBADMSG, path, "not a valid EC private key PEM");
	write_file(path, "", 0600);
	expect_load_error(path, -EBADMSG, path, "not a valid EC private key PEM");
	write_file(path, p384_pem, 0600);
	expect_load_error(path, -EPROTONOSUPPORT, path, "P-256");

	/* PKCS#8 as OpenSSL writes it is accepted too. */
	write_file(path, rfc6979_pkcs8_pem, 0600);
	assert_int_equal(identity_load_or_create(path, &id, err, sizeof(err)), 0);
	{
		struct hit want;
		assert_int_equal(hit_parse("2001:22:e171:ec93:9dfb:dc08:a08c:2192", &want), 0);
		assert_int_equal(hit_cmp(identity_hit(id), &want), 0);
	}
	identity_free(id);
	assert_int_equal(unlink(path), 0);

	/* Not a regular file. */
	assert_int_equal(mkdir(path, 0700), 0);
	expect_load_error(path, -EINVAL, path, "not a regular file");
	assert_int_equal(rmdir(path), 0);
	/* A FIFO must be refused, not block the daemon. */
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_load_error(path, -EINVAL, path, "not a regular file");
	assert_int_equal(unlink(path), 0);

	/* Missing parent directory: not created here (the daemon does that). */
	snprintf(path, sizeof(path), "%s/missing/host.key", dir);
	{
		char missing[PATH_MAX + 64];
		snprintf(missing, sizeof(missing), "'%s/missing'", dir);
		expect_load_error(path, -ENOENT, path, missing);
	}
	assert_int_equal(count_entries(dir), 0);

	/* A NULL or zero-length err buffer is allowed. */
	snprintf(path, sizeof(path), "%s/nope/host.key", dir);
	assert_int_equal(identity_load_or_create(path, &id, NULL, 0), -ENOENT);
	remove_tmpdir(dir);
}

/* ---- cross-check against tests/vectors/hit_vectors.py ---- */

struct vector {
	int n;
	char pem[1024];
	char hi[160], hit1[40], hit2[40], hit3[40], hittext[64], msg[512], sig[160];
};

/* Reads the next "vector" ... "end" block; 1 when one was read, 0 at EOF. */
static int read_vector(FILE *f, struct vector *v)
{
	char line[1024];
	bool in_pem = false, started = false;

	memset(v, 0, sizeof(*v));
	while (fgets(line, sizeof(line), f)) {
		char *val;
		struct {
			const char *key;
			char *dst;
			size_t cap;
		} fields[] = {
		        {"hi", v->hi, sizeof(v->hi)},
		        {"hit1", v->hit1, sizeof(v->hit1)},
		        {"hit2", v->hit2, sizeof(v->hit2)},
		        {"hit3", v->hit3, sizeof(v->hit3)},
		        {"hittext", v->hittext, sizeof(v->hittext)},
		        {"msg", v->msg, sizeof(v->msg)},
		        {"sig", v->sig, sizeof(v->sig)},
		};

		if (in_pem || strncmp(line, "-----BEGIN ", 11) == 0) {
			assert_true(strlen(v->pem) + strlen(line) < sizeof(v->pem));
			strcat(v->pem, line);
			in_pem = strncmp(line, "-----END ", 9) != 0;
			continue;
		}
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		val = strchr(line, ' ');
		val = val ? (*val = '\0', val + 1) : line + strlen(line);
		if (strcmp(line, "vector") == 0) {
			v->n = atoi(val);
			started = true;
			continue;
		}
		assert_true(started);
		if (strcmp(line, "end") == 0)
			return 1;
		for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
			if (strcmp(line, fields[i].key) == 0) {
				assert_true(strlen(val) < fields[i].cap);
				strcpy(fields[i].dst, val);
			}
		}
	}
	assert_false(started); /* a truncated block is an error */
	return 0;
}

static void check_vector(const struct vector *v, const char *dir)
{
	char path[PATH_MAX + 16], err[512], text[HIT_STRLEN];
	uint8_t want_hi[HI_MAX_LEN], msg[256], sig[SIG_MAX_LEN], want_sig[SIG_MAX_LEN];
	size_t hilen, want_hilen, msglen, siglen;
	struct identity *id;
	struct hi_pub *pub;
	const uint8_t *hi;
	struct hit h;

	snprintf(path, sizeof(path), "%s/vector%d.key", dir, v->n);
	write_file(path, v->pem, 0600);
	if (identity_load_or_create(path, &id, err, sizeof(err)) != 0)
		fail_msg("vector %d: %s", v->n, err);

	hi = identity_hi(id, &hilen);
	want_hilen = unhex(v->hi, want_hi, sizeof(want_hi));
	assert_int_equal(hilen, want_hilen);
	assert_memory_equal(hi, want_hi, hilen);
	assert_hex(identity_hit(id)->b, HIT_LEN, v->hit2);
	assert_string_equal(hit_format(identity_hit(id), text), v->hittext);
	assert_int_equal(orchid_from_hi(HIT_SUITE_RSA_DSA, hi, hilen, &h), 0);
	assert_hex(h.b, HIT_LEN, v->hit1);
	assert_int_equal(orchid_from_hi(HIT_SUITE_ECDSA_LOW, hi, hilen, &h), 0);
	assert_hex(h.b, HIT_LEN, v->hit3);

	/* Deterministic signatures must match the Python RFC 6979 implementation. */
	msglen = unhex(v->msg, msg, sizeof(msg));
	assert_int_equal(identity_sign(id, msg, msglen, sig, &siglen), 0);
	assert_int_equal(unhex(v->sig, want_sig, sizeof(want_sig)), siglen);
	assert_memory_equal(sig, want_sig, siglen);

	assert_int_equal(hi_pub_parse(HI_ALG_ECDSA, want_hi, want_hilen, &pub), 0);
	assert_hex(hi_pub_hit(pub)->b, HIT_LEN, v->hit2);
	assert_int_equal(hi_pub_verify(pub, msg, msglen, want_sig, siglen), 0);
	want_sig[siglen - 1] ^= 1;
	assert_int_equal(hi_pub_verify(pub, msg, msglen, want_sig, siglen), -EBADMSG);

	hi_pub_free(pub);
	identity_free(id);
}

static void test_hit_vectors(void **state)
{
	const char *vdir = getenv("IDLOC_TEST_VECTORS");
	char file[PATH_MAX], dir[PATH_MAX];
	struct vector v;
	int count = 0;
	FILE *f;

	(void)state;
	if (!vdir)
		fail_msg("IDLOC_TEST_VECTORS is not set (meson test sets it)");
	snprintf(file, sizeof(file), "%s/hit_vectors.txt", vdir);
	f = fopen(file, "r");
	if (!f)
		fail_msg("cannot open %s: %s", file, strerror(errno));
	make_tmpdir(dir);
	while (read_vector(f, &v)) {
		assert_int_equal(v.n, count);
		check_vector(&v, dir);
		count++;
	}
	fclose(f);
	remove_tmpdir(dir);
	/* Vector 0 is RFC 6979 A.2.5; the rest are the padding edge cases. */
	assert_true(count >= 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_random),
	        cmocka_unit_test(test_random_fork),
	        cmocka_unit_test(test_sha),
	        cmocka_unit_test(test_hmac_rfc4231),
	        cmocka_unit_test(test_hkdf_rfc5869),
	        cmocka_unit_test(test_cbc),
	        cmocka_unit_test(test_gcm_vectors),
	        cmocka_unit_test(test_gcm_inplace_and_tamper),
	        cmocka_unit_test(test_dh_agree),
	        cmocka_unit_test(test_dh_bad_peer),
	        cmocka_unit_test(test_orchid_misc),
	        cmocka_unit_test(test_identity_sign_verify),
	        cmocka_unit_test(test_hi_pub_parse_rejects),
	        cmocka_unit_test(test_key_file),
	        cmocka_unit_test(test_hit_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
