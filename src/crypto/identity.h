/* SPDX-License-Identifier: MIT */
/* identity.h: the host's ECDSA P-256 Host Identity, its HIT, and HI public keys of peers.
 *
 * The HI wire encoding (RFC 7401 section 5.2.9, ECDSA) is decided in
 * docs/identity.md and implemented in exactly one place (identity.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/hit.h"

#define HI_ALG_ECDSA        7 /* HI and signature algorithm ID */
#define HI_ECDSA_CURVE_P256 1
#define HI_MAX_LEN          128
#define SIG_MAX_LEN         96
#define HIT_SUITE_ECDSA     2 /* OGA ID; RHASH = SHA-384 */
#define HIT_SUITE_RSA_DSA   1 /* SHA-256 */
#define HIT_SUITE_ECDSA_LOW 3 /* SHA-1 */

struct identity;
struct hi_pub;

/* Loads the PEM private key at path, or creates it (mode 0600, written atomically)
 * when absent. Refuses a key readable or writable by group or others, like ssh.
 * On failure writes one human-readable line naming the file into err. */
int identity_load_or_create(const char *path, struct identity **ret, char *err, size_t errlen);
/* A fresh in-memory identity (tests, tools). */
int identity_generate(struct identity **ret);
struct identity *identity_free(struct identity *id);

uint16_t identity_algorithm(const struct identity *id);
/* The Host Identity field of HOST_ID (what the HIT hashes). */
const uint8_t *identity_hi(const struct identity *id, size_t *ret_len);
const struct hit *identity_hit(const struct identity *id);
/* Signs data with the algorithm's hash; writes the raw signature (r||s for ECDSA). */
int identity_sign(const struct identity *id, const void *data, size_t len, uint8_t *sig,
                  size_t *ret_siglen);

/* A peer's public Host Identity from the HOST_ID fields; -EBADMSG if malformed,
 * -EPROTONOSUPPORT for algorithms or curves we do not support. */
int hi_pub_parse(uint16_t algorithm, const uint8_t *hi, size_t len, struct hi_pub **ret);
struct hi_pub *hi_pub_free(struct hi_pub *pub);
uint16_t hi_pub_algorithm(const struct hi_pub *pub);
const struct hit *hi_pub_hit(const struct hi_pub *pub);
/* 0 when sig is a valid signature of data, -EBADMSG otherwise. */
int hi_pub_verify(const struct hi_pub *pub, const void *data, size_t len, const uint8_t *sig,
                  size_t siglen);

/* ORCHIDv2 (RFC 7343): HIT = 2001:20::/28 | OGA(4) | middle 96 bits of
 * RHASH(context-id | hi). -EPROTONOSUPPORT for an unknown suite. */
int orchid_from_hi(uint8_t hit_suite, const uint8_t *hi, size_t len, struct hit *ret);
/* The HIT suite (OGA ID) RFC 7401 assigns to an HI algorithm, or 0. */
uint8_t hit_suite_for_algorithm(uint16_t algorithm);
