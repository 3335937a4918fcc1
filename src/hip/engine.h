/* SPDX-License-Identifier: MIT */
/* engine.h: internal state shared by the engine's files (bex.c: base exchange
 * and timers; r1.c: precomputed R1 generations; control.c: UPDATE, CLOSE, NOTIFY).
 * Not for use outside src/hip/. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hit.h"
#include "crypto/hash.h"
#include "esp/sa.h"
#include "hip/bex.h"
#include "hip/keymat.h"
#include "hip/wire.h"

struct dh;
struct hi_pub;
struct hip_msg;

/* What this host offers, in preference order. */
#define HIP_OUR_DH_GROUP       7
#define HIP_OUR_HIT_SUITE      2
#define HIP_RHASH              HASH_SHA384
#define HIP_RHASH_LEN          48
#define HIP_ESP_SUITE          ESP_SUITE_AES_GCM_ICV16
#define HIP_ECHO_NONCE_LEN     16
#define HIP_MAX_PUZZLE_K       28
#define HIP_ICE_KEY_LEN        32  /* drawn from KEYMAT after the ESP keys in ICE mode */
#define HIP_LOCATOR_LIFETIME_S 600 /* for candidates that come without one */

/* One R1 generation: a DH key, the secret behind stateless puzzles, and the
 * signed template. Two generations are kept so I2s answering the previous R1
 * still validate after a refresh. */
struct r1_gen {
	uint64_t counter;
	struct dh *dh;
	uint8_t secret[32];
	uint8_t k;
	uint8_t tmpl[HIP_MAX_PACKET];
	size_t tmpl_len;
	size_t puzzle_off; /* contents offset of PUZZLE in tmpl */
};

struct hip_host {
	const struct identity *id;
	struct hip_config cfg;
	struct hip_ops ops;
	struct hit hit;
	uint8_t host_id_tlv[HIP_MAX_PACKET / 4]; /* our HOST_ID TLV, for R2's HIP_MAC_2 */
	size_t host_id_tlv_len;
	struct r1_gen gen[2]; /* gen[0] current, gen[1] previous */
	uint64_t r1_refresh_at;
	struct hip_assoc *assocs;
	uint64_t notify_window; /* rate limit for NOTIFYs we send */
	unsigned notify_count;
	bool refusing; /* no new associations (hip_host_set_accepting) */
};

enum hip_pending {
	HIP_PENDING_NONE,
	HIP_PENDING_I1,
	HIP_PENDING_I2,
	HIP_PENDING_UPDATE,
	HIP_PENDING_CLOSE,
};

struct hip_assoc {
	struct hip_assoc *next;
	struct hip_host *host;
	enum hip_state state;
	struct hit peer;
	bool opportunistic; /* peer HIT not known until R1 */
	struct hip_locator loc;
	void *user;

	/* Retransmission of our last packet that expects an answer. */
	enum hip_pending pending;
	uint8_t out[HIP_MAX_PACKET];
	size_t out_len;
	unsigned retries;
	uint64_t rto;
	uint64_t timer_at; /* UINT64_MAX: none */

	/* Base exchange material. */
	struct hi_pub *peer_hi;
	uint8_t peer_host_id_tlv[HIP_MAX_PACKET / 4]; /* from R1, for HIP_MAC_2 */
	size_t peer_host_id_tlv_len;
	uint64_t r1_counter; /* highest R1 generation seen from the peer */
	bool have_r1_counter;
	uint8_t r2[HIP_MAX_PACKET]; /* last R2 sent, resent for a retransmitted I2 */
	size_t r2_len;
	uint8_t i2_digest[HASH_MAX_LEN]; /* identifies a retransmitted I2 */
	uint8_t r1_digest[HASH_MAX_LEN]; /* identifies a repeated R1 */

	/* Keys. */
	bool keyed;
	struct hip_keymat km;
	struct hip_keys keys;
	uint16_t cipher;
	size_t esp_index; /* next unused KEYMAT byte for ESP keys */
	struct hip_esp_keys esp;

	/* NAT traversal (RFC 5770): the chosen mode, the ICE key from KEYMAT and
	 * the peer's candidates. */
	uint16_t nat_mode; /* 0: none chosen */
	bool want_ice;
	/* I1-SENT through the overlay: the same I1 also goes to this direct
	 * locator (hip_assoc_also_direct); an R1 from it makes a direct
	 * association, without ICE. */
	struct hip_locator alt;
	bool have_alt;
	bool initiator; /* we sent the I2 that keyed this association */
	bool have_ice_key;
	uint8_t ice_key[HIP_ICE_KEY_LEN];
	/* The addresses the peer announced as its own (UPDATE LOCATOR_SET). */
	struct hip_locator_entry peer_locs[HIP_LOCATORS_MAX];
	size_t npeer_locs;
	struct hip_locator_entry peer_cands[HIP_LOCATORS_MAX];
	size_t npeer_cands;

	/* UPDATE (rekey) and CLOSE. */
	uint32_t update_id_out; /* last Update ID we sent */
	uint32_t update_id_in;  /* highest Update ID received */
	bool have_update_in;
	uint32_t rekey_new_spi; /* our new inbound SPI while a rekey runs */
	uint16_t rekey_index;
	bool rekey_peer_done; /* peer's ESP_INFO received for this rekey */
	uint32_t rekey_peer_spi;
	uint8_t echo[HIP_ECHO_NONCE_LEN];

	/* Mobility (RFC 8046). The peer's new address under verification: it
	 * is used only once the echo came back from it. */
	bool verifying;
	struct hip_locator verify_loc;
	uint8_t verify_nonce[HIP_ECHO_NONCE_LEN];
	bool readdressing; /* our UPDATE with LOCATOR_SET awaits its answer */
	/* Where the pending packet goes when not to loc (an echo request to an
	 * address being verified). */
	struct hip_locator out_to;
	bool out_to_set;
};

/* bex.c */
struct hip_assoc *hip_assoc_new(struct hip_host *h, const struct hit *peer,
                                const struct hip_locator *loc);
void hip_assoc_set_state(struct hip_assoc *a, enum hip_state s);
void hip_assoc_arm(struct hip_assoc *a, enum hip_pending p, uint64_t now);
void hip_assoc_disarm(struct hip_assoc *a);
int hip_send(struct hip_host *h, const struct hip_locator *to, const uint8_t *pkt, size_t len);
void hip_event(struct hip_host *h, struct hip_assoc *a, enum hip_event ev);
void hip_assoc_forget_keys(struct hip_assoc *a);
/* Checks the packet's parameters against the set the packet type allows;
 * returns the first unknown critical type or 0. */
uint16_t hip_unknown_critical(const struct hip_msg *m, const uint16_t *known, size_t n);

/* r1.c */
int r1_generation_new(struct hip_host *h, uint64_t counter, struct r1_gen *ret);
void r1_generation_done(struct r1_gen *g);
int r1_refresh(struct hip_host *h);
/* Builds the R1 answering an I1 from hit_i at from into out; returns its length. */
int r1_build(struct hip_host *h, const struct hit *hit_i, const struct hip_locator *from,
             uint8_t *out, size_t cap);
/* Finds the generation an I2 answers and checks its puzzle solution. */
int r1_check_solution(struct hip_host *h, const struct hit *hit_i, const struct hip_locator *from,
                      const uint8_t opaque[2], const uint8_t *i, const uint8_t *j, uint8_t k,
                      const struct r1_gen **ret);

/* control.c */
/* Sets the locator type, protocol, traffic, SPI and default lifetime of our
 * ICE candidates (type-2 entries) for an I2, R2 or candidate UPDATE. */
void hip_candidates_finish(const struct hip_assoc *a, struct hip_locator_entry *c, size_t n);
int hip_handle_update(struct hip_host *h, struct hip_assoc *a, const struct hip_msg *m,
                      const struct hip_locator *from, uint64_t now, const char **reason);
int hip_handle_close(struct hip_host *h, struct hip_assoc *a, const struct hip_msg *m, uint64_t now,
                     const char **reason);
int hip_handle_close_ack(struct hip_host *h, struct hip_assoc *a, const struct hip_msg *m,
                         uint64_t now, const char **reason);
int hip_handle_notify(struct hip_host *h, struct hip_assoc *a, const struct hip_msg *m,
                      const char **reason);
/* Sends a signed NOTIFY (rate limited per host). */
void hip_send_notify(struct hip_host *h, const struct hit *to_hit, const struct hip_locator *to,
                     uint16_t type, const void *data, size_t len, uint64_t now);
int hip_build_close(struct hip_host *h, struct hip_assoc *a);
int hip_build_update_rekey(struct hip_host *h, struct hip_assoc *a);
/* Verifies HIP_MAC and HIP_SIGNATURE of a packet from an established peer. */
int hip_verify_peer(const struct hip_assoc *a, const struct hip_msg *m, const char **reason);
