/* SPDX-License-Identifier: MIT */
/* identity.c: the ECDSA P-256 Host Identity: key file, HI encoding, HIT, signatures. */
#include "crypto/identity.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>

#include "common/bytes.h"
#include "common/fileio.h"
#include "crypto/hash.h"
#include "crypto/mbed.h"

#define P256_COORD_LEN    32
#define P256_SEC1_LEN     (1 + 2 * P256_COORD_LEN) /* 0x04 | X | Y */
#define HI_P256_LEN       (2 + P256_SEC1_LEN)      /* curve | 0x04 | X | Y */
#define P256_SIG_LEN      (2 * P256_COORD_LEN)     /* r | s */
#define SEC1_UNCOMPRESSED 0x04
#define KEY_FILE_MAX      16384 /* a P-256 PEM is ~230 bytes; anything huge is not ours */
#define KEY_PEM_MAX       1024

/* RFC 7343 section 3 / RFC 7401 section 3.2: the HIT context ID. */
static const uint8_t orchid_context_id[16] = {
        0xf0, 0xef, 0xf0, 0x2f, 0xbf, 0xf4, 0x3d, 0x0f,
        0xe7, 0x93, 0x0c, 0x3c, 0x6e, 0x61, 0x74, 0xea,
};

/* mbedTLS caches precomputed tables inside an ecp_group while multiplying, so
 * sign and verify work on a group of their own; the structs below then stay
 * immutable after construction, as their const accessors promise. */
struct identity {
	mbedtls_pk_context pk;
	uint8_t hi[HI_P256_LEN];
	struct hit hit;
};

struct hi_pub {
	uint16_t algorithm;
	mbedtls_ecp_point q;
	struct hit hit;
};

/* ---- HI encoding: the one place that decides the HOST_ID public-key bytes ----
 *
 * ECDSA HI (RFC 7401 section 5.2.9) = ECC Curve (16 bits) | public key as a
 * SEC1 uncompressed octet string (0x04 | X | Y). See docs/identity.md for why
 * the 0x04 tag is included; if that decision changes, only these two
 * functions change (the HIT follows automatically). */

static int hi_encode(const mbedtls_ecp_point *q, uint8_t out[HI_P256_LEN])
{
	int r;

	store_be16(out, HI_ECDSA_CURVE_P256);
	out[2] = SEC1_UNCOMPRESSED;
	r = mbedtls_mpi_write_binary(&q->X, out + 3, P256_COORD_LEN);
	if (r == 0)
		r = mbedtls_mpi_write_binary(&q->Y, out + 3 + P256_COORD_LEN, P256_COORD_LEN);
	return r == 0 ? 0 : -EIO;
}

static int hi_decode(const uint8_t *hi, size_t len, mbedtls_ecp_point *q)
{
	struct reader rd = reader_init(hi, len);
	mbedtls_ecp_group *grp;
	const uint8_t *point;
	uint16_t curve;
	int r;

	r = reader_be16(&rd, &curve);
	if (r < 0)
		return r;
	if (curve != HI_ECDSA_CURVE_P256)
		return -EPROTONOSUPPORT;
	if (reader_left(&rd) != P256_SEC1_LEN)
		return -EBADMSG;
	r = reader_take(&rd, P256_SEC1_LEN, &point);
	if (r < 0)
		return r;
	/* mbedTLS would accept other point forms; the wire format allows one. */
	if (point[0] != SEC1_UNCOMPRESSED)
		return -EBADMSG;
	r = mbed_p256_get(&grp);
	if (r < 0)
		return r;
	if (mbedtls_ecp_point_read_binary(grp, q, point, P256_SEC1_LEN) != 0 ||
	    mbedtls_ecp_check_pubkey(grp, q) != 0)
		r = -EBADMSG;
	mbed_p256_put();
	return r;
}

/* ---- HIT (ORCHIDv2, RFC 7343) ---- */

static const mbedtls_md_info_t *orchid_md(uint8_t hit_suite)
{
	switch (hit_suite) {
	case HIT_SUITE_RSA_DSA:
		return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	case HIT_SUITE_ECDSA:
		return mbedtls_md_info_from_type(MBEDTLS_MD_SHA384);
	case HIT_SUITE_ECDSA_LOW:
		return mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
	}
	return NULL;
}

int orchid_from_hi(uint8_t hit_suite, const uint8_t *hi, size_t len, struct hit *ret)
{
	const mbedtls_md_info_t *md = orchid_md(hit_suite);
	uint8_t digest[MBEDTLS_MD_MAX_SIZE];
	mbedtls_md_context_t ctx;
	size_t dlen, skip;
	int r;

	if (!md)
		return -EPROTONOSUPPORT;
	mbedtls_md_init(&ctx);
	r = mbedtls_md_setup(&ctx, md, 0);
	if (r == 0)
		r = mbedtls_md_starts(&ctx);
	if (r == 0)
		r = mbedtls_md_update(&ctx, orchid_context_id, sizeof(orchid_context_id));
	if (r == 0)
		r = mbedtls_md_update(&ctx, hi, len);
	if (r == 0)
		r = mbedtls_md_finish(&ctx, digest);
	mbedtls_md_free(&ctx);
	if (r != 0)
		return r == MBEDTLS_ERR_MD_ALLOC_FAILED ? -ENOMEM : -EIO;

	/* Prefix 2001:20::/28, then the OGA ID, then Encode_96: the middle 96
	 * bits of the hash. */
	dlen = mbedtls_md_get_size(md);
	skip = (dlen - 12) / 2;
	ret->b[0] = 0x20;
	ret->b[1] = 0x01;
	ret->b[2] = 0x00;
	ret->b[3] = (uint8_t)(0x20 | (hit_suite & 0x0f));
	memcpy(ret->b + 4, digest + skip, 12);
	return 0;
}

uint8_t hit_suite_for_algorithm(uint16_t algorithm)
{
	switch (algorithm) {
	case HI_ALG_ECDSA:
		return HIT_SUITE_ECDSA;
	case 3: /* DSA */
	case 5: /* RSA */
		return HIT_SUITE_RSA_DSA;
	case 9: /* ECDSA_LOW */
		return HIT_SUITE_ECDSA_LOW;
	}
	return 0;
}

/* ---- own identity ---- */

static struct identity *identity_alloc(void)
{
	struct identity *id = calloc(1, sizeof(*id));

	if (id)
		mbedtls_pk_init(&id->pk);
	return id;
}

struct identity *identity_free(struct identity *id)
{
	if (id) {
		/* Frees the private scalar; mbedTLS zeroes bignum limbs on free. */
		mbedtls_pk_free(&id->pk);
		free(id);
	}
	return NULL;
}

/* Accepts only P-256 EC keys, recomputes the public point from the scalar (a
 * key file's stored public key is not trusted to match), and derives HI and HIT. */
static int identity_complete(struct identity *id)
{
	mbedtls_pk_type_t type = mbedtls_pk_get_type(&id->pk);
	mbedtls_ecp_keypair *kp;
	int r;

	if (type != MBEDTLS_PK_ECKEY && type != MBEDTLS_PK_ECDSA)
		return -EPROTONOSUPPORT;
	kp = mbedtls_pk_ec(id->pk);
	if (kp->grp.id != MBEDTLS_ECP_DP_SECP256R1)
		return -EPROTONOSUPPORT;
	if (mbedtls_ecp_check_privkey(&kp->grp, &kp->d) != 0)
		return -EBADMSG;
	r = mbed_error(mbedtls_ecp_mul(&kp->grp, &kp->Q, &kp->d, &kp->grp.G, mbed_rng, NULL));
	if (r == 0)
		r = hi_encode(&kp->Q, id->hi);
	if (r == 0)
		r = orchid_from_hi(HIT_SUITE_ECDSA, id->hi, sizeof(id->hi), &id->hit);
	return r;
}

static int identity_keygen(struct identity *id)
{
	int r;

	r = mbedtls_pk_setup(&id->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (r == 0)
		r = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(id->pk), mbed_rng,
		                        NULL);
	return r == 0 ? identity_complete(id) : mbed_error(r);
}

int identity_generate(struct identity **ret)
{
	struct identity *id = identity_alloc();
	int r;

	if (!id)
		return -ENOMEM;
	r = identity_keygen(id);
	if (r < 0) {
		identity_free(id);
		return r;
	}
	*ret = id;
	return 0;
}

uint16_t identity_algorithm(const struct identity *id)
{
	(void)id;
	return HI_ALG_ECDSA;
}

const uint8_t *identity_hi(const struct identity *id, size_t *ret_len)
{
	*ret_len = sizeof(id->hi);
	return id->hi;
}

const struct hit *identity_hit(const struct identity *id)
{
	return &id->hit;
}

/* ECDSA over SHA-384 (the suite-2 RHASH; P-256 uses its leftmost 256 bits),
 * deterministic k (RFC 6979), output raw r || s, not DER. */
int identity_sign(const struct identity *id, const void *data, size_t len, uint8_t *sig,
                  size_t *ret_siglen)
{
	const mbedtls_ecp_keypair *kp = mbedtls_pk_ec(id->pk);
	uint8_t h[HASH_MAX_LEN];
	mbedtls_ecp_group *grp;
	mbedtls_mpi rr, ss;
	int r;

	r = hash_digest(HASH_SHA384, data, len, h);
	if (r < 0)
		return r;
	r = mbed_p256_get(&grp);
	if (r < 0)
		return r;
	mbedtls_mpi_init(&rr);
	mbedtls_mpi_init(&ss);
	r = mbedtls_ecdsa_sign_det_ext(grp, &rr, &ss, &kp->d, h, hash_len(HASH_SHA384),
	                               MBEDTLS_MD_SHA384, mbed_rng, NULL);
	mbed_p256_put();
	if (r == 0)
		r = mbedtls_mpi_write_binary(&rr, sig, P256_COORD_LEN);
	if (r == 0)
		r = mbedtls_mpi_write_binary(&ss, sig + P256_COORD_LEN, P256_COORD_LEN);
	mbedtls_mpi_free(&rr);
	mbedtls_mpi_free(&ss);
	if (r != 0)
		return mbed_error(r);
	*ret_siglen = P256_SIG_LEN;
	return 0;
}

/* ---- key file ---- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The directory part of path, for messages and the post-rename fsync. */
static void path_dir(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, cap, ".");
	else if (slash == path)
		snprintf(dir, cap, "/");
	else
		snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

static int read_all(int fd, char *buf, size_t cap, size_t *ret_len)
{
	size_t off = 0;

	for (;;) {
		ssize_t n = read(fd, buf + off, cap - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		off += (size_t)n;
		if (off == cap)
			return -EFBIG;
	}
	*ret_len = off;
	return 0;
}

static int check_key_stat(const char *path, int fd, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int r = -errno;

		set_err(err, errlen, "key file '%s': %s", path, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "key file '%s' is not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		set_err(err, errlen,
		        "key file '%s' is accessible by group or others (mode %04o); "
		        "run 'chmod 600 %s'",
		        path, (unsigned)(st.st_mode & 07777), path);
		return -EACCES;
	}
	return 0;
}

static int parse_key_pem(struct identity *id, const char *path, char *pem, size_t len, char *err,
                         size_t errlen)
{
	int r;

	pem[len] = '\0';
	/* For PEM input mbedTLS wants the length to include the terminating NUL. */
	if (mbedtls_pk_parse_key(&id->pk, (const unsigned char *)pem, len + 1, NULL, 0) != 0) {
		set_err(err, errlen, "key file '%s': not a valid EC private key PEM", path);
		return -EBADMSG;
	}
	r = identity_complete(id);
	if (r == -EPROTONOSUPPORT)
		set_err(err, errlen, "key file '%s': not a NIST P-256 EC private key", path);
	else if (r < 0)
		set_err(err, errlen, "key file '%s': unusable key: %s", path, strerror(-r));
	return r;
}

static int load_key_file(struct identity *id, const char *path, int fd, char *err, size_t errlen)
{
	size_t len = 0;
	char *pem;
	int r;

	r = check_key_stat(path, fd, err, errlen);
	if (r < 0)
		return r;
	pem = malloc(KEY_FILE_MAX);
	if (!pem)
		return -ENOMEM;
	r = read_all(fd, pem, KEY_FILE_MAX - 1, &len);
	if (r == -EFBIG)
		set_err(err, errlen, "key file '%s': too large to be a P-256 key", path);
	else if (r < 0)
		set_err(err, errlen, "key file '%s': %s", path, strerror(-r));
	else
		r = parse_key_pem(id, path, pem, len, err, errlen);
	memzero(pem, KEY_FILE_MAX);
	free(pem);
	return r;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Writes pem to "<path>.tmp.<pid>" (0600, exclusive) and renames it over path,
 * so a crash never leaves a truncated key behind. */
static int write_key_file(const char *path, const char *pem, size_t len, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, r;

	path_dir(path, dir, sizeof(dir));
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		set_err(err, errlen, "key file '%s': path too long", path);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			set_err(err, errlen, "key file '%s': directory '%s' does not exist", path,
			        dir);
		else
			set_err(err, errlen, "key file '%s': cannot create '%s': %s", path, tmp,
			        strerror(-r));
		return r;
	}
	r = fd_write_all(fd, pem, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		set_err(err, errlen, "key file '%s': cannot write '%s': %s", path, tmp,
		        strerror(-r));
		unlink(tmp);
		return r;
	}
	r = fsync_dir(dir);
	if (r < 0)
		set_err(err, errlen, "key file '%s': cannot sync directory '%s': %s", path, dir,
		        strerror(-r));
	return r;
}

static int create_key_file(struct identity *id, const char *path, char *err, size_t errlen)
{
	unsigned char pem[KEY_PEM_MAX];
	int r;

	r = identity_keygen(id);
	if (r < 0) {
		set_err(err, errlen, "key file '%s': cannot generate a key: %s", path,
		        strerror(-r));
		return r;
	}
	if (mbedtls_pk_write_key_pem(&id->pk, pem, sizeof(pem)) != 0) {
		set_err(err, errlen, "key file '%s': cannot encode the new key", path);
		r = -EIO;
	} else {
		r = write_key_file(path, (const char *)pem, strlen((const char *)pem), err, errlen);
	}
	memzero(pem, sizeof(pem));
	return r;
}

int identity_load_or_create(const char *path, struct identity **ret, char *err, size_t errlen)
{
	struct identity *id = identity_alloc();
	int fd, r;

	if (!id) {
		set_err(err, errlen, "key file '%s': out of memory", path);
		return -ENOMEM;
	}
	/* O_NONBLOCK: a FIFO planted at path must not hang us before the
	 * regular-file check. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd >= 0) {
		r = load_key_file(id, path, fd, err, errlen);
		close(fd);
	} else if (errno == ENOENT) {
		r = create_key_file(id, path, err, errlen);
	} else {
		r = -errno;
		set_err(err, errlen, "key file '%s': %s", path, strerror(-r));
	}
	if (r < 0) {
		identity_free(id);
		return r;
	}
	*ret = id;
	return 0;
}

/* ---- peers' public Host Identities ---- */

int hi_pub_parse(uint16_t algorithm, const uint8_t *hi, size_t len, struct hi_pub **ret)
{
	struct hi_pub *pub;
	int r;

	if (algorithm != HI_ALG_ECDSA)
		return -EPROTONOSUPPORT;
	pub = calloc(1, sizeof(*pub));
	if (!pub)
		return -ENOMEM;
	pub->algorithm = algorithm;
	mbedtls_ecp_point_init(&pub->q);
	r = hi_decode(hi, len, &pub->q);
	if (r == 0)
		r = orchid_from_hi(hit_suite_for_algorithm(algorithm), hi, len, &pub->hit);
	if (r < 0) {
		hi_pub_free(pub);
		return r;
	}
	*ret = pub;
	return 0;
}

struct hi_pub *hi_pub_free(struct hi_pub *pub)
{
	if (pub) {
		mbedtls_ecp_point_free(&pub->q);
		free(pub);
	}
	return NULL;
}

uint16_t hi_pub_algorithm(const struct hi_pub *pub)
{
	return pub->algorithm;
}

const struct hit *hi_pub_hit(const struct hi_pub *pub)
{
	return &pub->hit;
}

int hi_pub_verify(const struct hi_pub *pub, const void *data, size_t len, const uint8_t *sig,
                  size_t siglen)
{
	uint8_t h[HASH_MAX_LEN];
	mbedtls_ecp_group *grp;
	mbedtls_mpi rr, ss;
	int r;

	if (siglen != P256_SIG_LEN)
		return -EBADMSG;
	r = hash_digest(HASH_SHA384, data, len, h);
	if (r < 0)
		return r;
	r = mbed_p256_get(&grp);
	if (r < 0)
		return r;
	mbedtls_mpi_init(&rr);
	mbedtls_mpi_init(&ss);
	r = mbed_error(mbedtls_mpi_read_binary(&rr, sig, P256_COORD_LEN));
	if (r == 0)
		r = mbed_error(mbedtls_mpi_read_binary(&ss, sig + P256_COORD_LEN, P256_COORD_LEN));
	/* Range check r, s in [1, n-1] here too rather than trusting the library's. */
	if (r == 0 && (mbedtls_mpi_cmp_int(&rr, 1) < 0 || mbedtls_mpi_cmp_mpi(&rr, &grp->N) >= 0 ||
	               mbedtls_mpi_cmp_int(&ss, 1) < 0 || mbedtls_mpi_cmp_mpi(&ss, &grp->N) >= 0))
		r = -EBADMSG;
	if (r == 0) {
		r = mbedtls_ecdsa_verify(grp, h, hash_len(HASH_SHA384), &pub->q, &rr, &ss);
		if (r == MBEDTLS_ERR_MPI_ALLOC_FAILED || r == MBEDTLS_ERR_ECP_ALLOC_FAILED)
			r = -ENOMEM;
		else if (r != 0)
			r = -EBADMSG;
	}
	mbed_p256_put();
	mbedtls_mpi_free(&rr);
	mbedtls_mpi_free(&ss);
	return r;
}
