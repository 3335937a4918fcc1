/* SPDX-License-Identifier: MIT */
/* signer.h: the simulator's record signatures: a keyed hash standing in for ECDSA.
 *
 * 10,000 nodes that sign and verify every stored, replicated and fetched
 * record with ECDSA P-256 would spend hours of CPU in the signatures alone.
 * The overlay only needs sign/verify to accept its own records and to name
 * the owner HIT, so the simulator plugs in HMAC-SHA-256 under a key derived
 * from the Host Identity bytes. Anyone can derive that key: this signer
 * models honest nodes only, never forgers. Sizes match the real thing (a
 * 67-byte ECDSA P-256 HI, a 64-byte signature) so traffic is measured right. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/hit.h"
#include "rng.h"

#define SIGNER_HI_ALGORITHM 7 /* HI_ALG_ECDSA */
#define SIGNER_HI_LEN       67
#define SIGNER_SIG_LEN      64

/* A random Host Identity laid out like ECDSA P-256 (curve 1, 0x04, X, Y) and its HIT. */
void signer_identity(struct rng *r, uint8_t hi[SIGNER_HI_LEN], struct hit *ret_hit);
/* The ORCHID-looking HIT of an HI: 2001:20::/28, OGA 2, 96 bits of SHA-256(HI). */
int signer_hit(const uint8_t *hi, size_t hi_len, struct hit *ret);
/* Like ovl_ops.sign: *siglen is the capacity of sig on entry (-ENOBUFS under
 * SIGNER_SIG_LEN) and the signature length on return. */
int signer_sign(const uint8_t *hi, size_t hi_len, const uint8_t *data, size_t len, uint8_t *sig,
                size_t *siglen);
/* 0 and the owner's HIT when sig matches; -EBADMSG when not, -EPROTONOSUPPORT
 * for another algorithm or HI layout. */
int signer_verify(uint16_t algorithm, const uint8_t *hi, size_t hi_len, const uint8_t *data,
                  size_t len, const uint8_t *sig, size_t siglen, struct hit *ret_owner);
