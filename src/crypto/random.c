/* SPDX-License-Identifier: MIT */
/* random.c: the process-wide CTR_DRBG, seeded lazily from the OS entropy source. */
#include "crypto/random.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

static pthread_mutex_t drbg_lock = PTHREAD_MUTEX_INITIALIZER;
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static bool seeded;
static pid_t seeded_pid;

static const unsigned char personalization[] = "idloc";

/* Called with drbg_lock held. A failed seed leaves nothing behind, so the next
 * call simply tries again. */
static int drbg_seed(void)
{
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, personalization,
	                          sizeof(personalization) - 1) != 0) {
		mbedtls_ctr_drbg_free(&drbg);
		mbedtls_entropy_free(&entropy);
		return -EIO;
	}
	seeded = true;
	seeded_pid = getpid();
	return 0;
}

/* A forked child would otherwise replay its parent's output stream. */
static int drbg_ensure_ready(void)
{
	if (!seeded)
		return drbg_seed();
	if (seeded_pid != getpid()) {
		if (mbedtls_ctr_drbg_reseed(&drbg, NULL, 0) != 0)
			return -EIO;
		seeded_pid = getpid();
	}
	return 0;
}

int crypto_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	int r;

	pthread_mutex_lock(&drbg_lock);
	r = drbg_ensure_ready();
	/* CTR_DRBG caps a single request; larger ones are served in pieces. */
	while (r == 0 && len > 0) {
		size_t n = len < MBEDTLS_CTR_DRBG_MAX_REQUEST ? len : MBEDTLS_CTR_DRBG_MAX_REQUEST;

		if (mbedtls_ctr_drbg_random(&drbg, p, n) != 0)
			r = -EIO;
		p += n;
		len -= n;
	}
	pthread_mutex_unlock(&drbg_lock);
	return r;
}
