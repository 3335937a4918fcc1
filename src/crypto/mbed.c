/* SPDX-License-Identifier: MIT */
/* mbed.c: mbedTLS callbacks and error mapping shared by the crypto modules. */
#include "crypto/mbed.h"

#include <errno.h>
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
