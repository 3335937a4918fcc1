/* SPDX-License-Identifier: MIT */
/* mbed.c: mbedTLS callbacks and error mapping shared by the crypto modules. */
#include "crypto/mbed.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>

#include "crypto/random.h"

int mbed_rng(void *ctx, unsigned char *buf, size_t len)
{
	(void)ctx;
	return crypto_random(buf, len) == 0 ? 0 : MBEDTLS_ERR_ECP_RANDOM_FAILED;
}

int mbed_error(int mbedtls_err)
{
	switch (mbedtls_err) {
	case 0:
		return 0;
	case MBEDTLS_ERR_MPI_ALLOC_FAILED:
	case MBEDTLS_ERR_ECP_ALLOC_FAILED:
	case MBEDTLS_ERR_PK_ALLOC_FAILED:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static pthread_mutex_t p256_lock = PTHREAD_MUTEX_INITIALIZER;
static mbedtls_ecp_group p256;
static bool p256_loaded;

int mbed_p256_get(struct mbedtls_ecp_group **ret)
{
	int r;

	pthread_mutex_lock(&p256_lock);
	if (!p256_loaded) {
		mbedtls_ecp_group_init(&p256);
		r = mbed_error(mbedtls_ecp_group_load(&p256, MBEDTLS_ECP_DP_SECP256R1));
		if (r < 0) {
			mbedtls_ecp_group_free(&p256);
			pthread_mutex_unlock(&p256_lock);
			return r;
		}
		p256_loaded = true;
	}
	*ret = &p256;
	return 0;
}

void mbed_p256_put(void)
{
	pthread_mutex_unlock(&p256_lock);
}
