/* SPDX-License-Identifier: MIT */
/* dh.c: ephemeral ECDH on NIST P-256 (HIP DH group 7) with RFC 5903 encodings. */
#include "crypto/dh.h"

#include <errno.h>
#include <stdlib.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecp.h>

#include "common/bytes.h"
#include "crypto/mbed.h"

#define P256_COORD_LEN 32

/* Only the scalar and the public point are kept: mbedTLS writes cached
 * tables into an ecp_group during multiplication, so each operation loads a
 * private group and struct dh stays immutable behind its const pointers. */
struct dh {
	uint8_t group;
	mbedtls_mpi d;
	mbedtls_ecp_point q;
};

int dh_generate(uint8_t group, struct dh **ret)
{
	mbedtls_ecp_group *grp;
	struct dh *dh;
	int r;

	if (group != DH_GROUP_NIST_P256)
		return -EPROTONOSUPPORT;
	dh = calloc(1, sizeof(*dh));
	if (!dh)
		return -ENOMEM;
	dh->group = group;
	mbedtls_mpi_init(&dh->d);
	mbedtls_ecp_point_init(&dh->q);
	r = mbed_p256_get(&grp);
	if (r == 0) {
		r = mbed_error(mbedtls_ecdh_gen_public(grp, &dh->d, &dh->q, mbed_rng, NULL));
		mbed_p256_put();
	}
	if (r != 0) {
		dh_free(dh);
		return r;
	}
	*ret = dh;
	return 0;
}

struct dh *dh_free(struct dh *dh)
{
	if (dh) {
		/* mbedtls_mpi_free() zeroes the limbs before releasing them. */
		mbedtls_mpi_free(&dh->d);
		mbedtls_ecp_point_free(&dh->q);
		free(dh);
	}
	return NULL;
}

uint8_t dh_group(const struct dh *dh)
{
	return dh->group;
}

int dh_public(const struct dh *dh, uint8_t *out, size_t cap)
{
	int r;

	if (cap < DH_P256_PUB_LEN)
		return -ENOBUFS;
	/* RFC 5903 section 7: X || Y, each the fixed field length, no SEC1 tag. */
	r = mbedtls_mpi_write_binary(&dh->q.X, out, P256_COORD_LEN);
	if (r == 0)
		r = mbedtls_mpi_write_binary(&dh->q.Y, out + P256_COORD_LEN, P256_COORD_LEN);
	return r == 0 ? DH_P256_PUB_LEN : -EIO;
}

/* Reads X || Y into a point and insists it is a finite point on the curve:
 * an off-curve point would leak bits of our scalar (invalid-curve attack). */
static int read_peer_point(const mbedtls_ecp_group *grp, const uint8_t *peer, size_t len,
                           mbedtls_ecp_point *p)
{
	uint8_t sec1[1 + DH_P256_PUB_LEN];

	if (len != DH_P256_PUB_LEN)
		return -EBADMSG;
	sec1[0] = 0x04;
	memcpy(sec1 + 1, peer, DH_P256_PUB_LEN);
	if (mbedtls_ecp_point_read_binary(grp, p, sec1, sizeof(sec1)) != 0)
		return -EBADMSG;
	if (mbedtls_ecp_check_pubkey(grp, p) != 0)
		return -EBADMSG;
	return 0;
}

int dh_shared(const struct dh *dh, const uint8_t *peer, size_t len, uint8_t *out, size_t cap)
{
	mbedtls_ecp_group *grp;
	mbedtls_ecp_point p;
	mbedtls_mpi z;
	int r;

	if (cap < P256_COORD_LEN)
		return -ENOBUFS;
	r = mbed_p256_get(&grp);
	if (r < 0)
		return r;
	mbedtls_ecp_point_init(&p);
	mbedtls_mpi_init(&z);
	r = read_peer_point(grp, peer, len, &p);
	if (r == 0)
		r = mbed_error(mbedtls_ecdh_compute_shared(grp, &z, &p, &dh->d, mbed_rng, NULL));
	mbed_p256_put();
	/* The shared secret is the X coordinate, fixed length (RFC 5903 section 7). */
	if (r == 0)
		r = mbed_error(mbedtls_mpi_write_binary(&z, out, P256_COORD_LEN));
	mbedtls_mpi_free(&z);
	mbedtls_ecp_point_free(&p);
	return r == 0 ? P256_COORD_LEN : r;
}
