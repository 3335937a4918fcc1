/* SPDX-License-Identifier: MIT */
/* sa.h: ESP security associations for HIP (RFC 7402) in BEET mode, suite 13:
 * AES-GCM with a 16-octet ICV (RFC 4106: nonce = salt(4) | IV(8), AAD = SPI | seq).
 *
 * Wire format of one ESP packet (what follows the UDP header):
 *   SPI(4) | Sequence(4) | IV(8) | ciphertext(payload | pad | padlen | next hdr) | ICV(16)
 * I/O-free: the caller owns every buffer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp/replay.h"

struct aead;

#define ESP_HDR_LEN      8 /* SPI + sequence */
#define ESP_IV_LEN       8
#define ESP_ICV_LEN      16
#define ESP_MAX_OVERHEAD (ESP_HDR_LEN + ESP_IV_LEN + 3 + 2 + ESP_ICV_LEN)
/* Key material drawn per direction for suite 13: AES-128 key + 4-byte salt. */
#define ESP_GCM_KEY_LEN  16
#define ESP_GCM_SALT_LEN 4
#define ESP_KEYMAT_LEN   (ESP_GCM_KEY_LEN + ESP_GCM_SALT_LEN)
/* Rekey well before the 32-bit sequence number wraps (no ESN). */
#define ESP_REKEY_SEQ (UINT32_MAX - (1u << 24))

struct esp_sa {
	uint32_t spi;
	uint16_t suite;
	struct aead *aead;
	/* The crypto worker's own context for this key (esp/worker.h): made by
	 * the loop thread on the SA's first shared batch, freed with the SA. */
	struct aead *worker_aead;
	uint8_t salt[ESP_GCM_SALT_LEN];
	uint64_t seq;                /* outbound: last sequence number used; inbound: unused */
	struct replay_window replay; /* inbound only */
	uint64_t packets;
	uint64_t bytes;
};

/* A random SPI whose top two bits are never 00 (so ESP cannot parse as STUN)
 * and that is never in the reserved range 0-255. */
uint32_t esp_spi_random(void);
/* keymat is ESP_KEYMAT_LEN bytes (key | salt). -EPROTONOSUPPORT for other suites. */
int esp_sa_init(struct esp_sa *sa, uint32_t spi, uint16_t suite, const uint8_t *keymat, size_t len);
void esp_sa_done(struct esp_sa *sa);
/* True once the outbound sequence number passed ESP_REKEY_SEQ. */
bool esp_sa_needs_rekey(const struct esp_sa *sa);
/* Upper bound of the encapsulated size for a payload of len bytes. */
size_t esp_encap_size(size_t len);
/* Encapsulates payload with next_header into out; returns the ESP packet length or
 * -ENOSPC, -EOVERFLOW (sequence exhausted: the SA must be rekeyed). */
int esp_encap(struct esp_sa *sa, uint8_t next_header, const uint8_t *payload, size_t len,
              uint8_t *out, size_t cap);
/* The SPI of an ESP packet, or 0 if too short to be one. */
uint32_t esp_peek_spi(const uint8_t *pkt, size_t len);
/* Verifies (replay + ICV) and decrypts into out; returns the payload length and
 * sets *ret_next_header. -EBADMSG malformed or forged, -EALREADY/-ERANGE replayed.
 * A rejected packet leaves the SA untouched. */
int esp_decap(struct esp_sa *sa, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
              uint8_t *ret_next_header);

/* esp_encap and esp_decap in steps, so that the cipher can run on another
 * thread (esp/worker.h) while everything that changes the SA stays with its
 * owner. The steps that change the SA: */
/* esp_encap without the cipher: consumes the sequence number, counts, and
 * writes the packet with its plaintext; esp_seal finishes it in place.
 * Same returns as esp_encap. */
int esp_encap_prepare(struct esp_sa *sa, uint8_t next_header, const uint8_t *payload, size_t len,
                      uint8_t *out, size_t cap);
/* esp_decap's checks before the cipher (length, SPI, the replay window as it
 * is now): 0 or esp_decap's errors. */
int esp_decap_check(const struct esp_sa *sa, const uint8_t *pkt, size_t len);
/* After esp_open succeeded: marks the sequence number seen and counts the
 * payload_len bytes. Call in arrival order; a number seen meanwhile (a
 * duplicate in the same batch) gives -EALREADY or -ERANGE, and then the
 * decrypted bytes at out (esp_open's) are wiped. */
int esp_decap_commit(struct esp_sa *sa, const uint8_t *pkt, size_t len, uint8_t *out,
                     int payload_len);
/* The cipher steps: they read only sa->salt and use the context a (sa->aead,
 * or sa->worker_aead on the worker), never writing the SA. */
/* Encrypts a prepared packet of len bytes in place and appends its ICV. On
 * error the packet is wiped. */
int esp_seal(const struct esp_sa *sa, struct aead *a, uint8_t *pkt, size_t len);
/* Verifies and decrypts a checked packet into out, which is either
 * pkt + ESP_HDR_LEN + ESP_IV_LEN (in place) or disjoint from pkt and holds
 * len - ESP_HDR_LEN - ESP_IV_LEN - ESP_ICV_LEN bytes. The payload length,
 * or -EBADMSG (out then holds no plaintext). */
int esp_open(const struct esp_sa *sa, struct aead *a, const uint8_t *pkt, size_t len, uint8_t *out,
             uint8_t *ret_next_header);
