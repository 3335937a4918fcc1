/* SPDX-License-Identifier: MIT */
/* bex.h: the HIPv2 protocol engine: base exchange (I1/R1/I2/R2), the state
 * machine of RFC 7401 section 4.4, UPDATE rekeying, CLOSE/CLOSE_ACK and NOTIFY.
 *
 * I/O-free: packets, a locator and a millisecond clock go in; packets to send
 * and events come out through struct hip_ops. The daemon drives it over UDP
 * today; the overlay will drive the same engine later. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/hit.h"
#include "hip/locator.h"

struct identity;
struct hip_host;
struct hip_assoc;

/* Where a peer is reachable; opaque to the engine apart from being copied. */
struct hip_locator {
	struct sockaddr_storage addr;
	socklen_t len;
};

enum hip_state {
	HIP_STATE_UNASSOCIATED,
	HIP_STATE_I1_SENT,
	HIP_STATE_I2_SENT,
	HIP_STATE_R2_SENT,
	HIP_STATE_ESTABLISHED,
	HIP_STATE_CLOSING,
	HIP_STATE_CLOSED,
	HIP_STATE_E_FAILED,
};

enum hip_event {
	HIP_EVENT_ESTABLISHED, /* ESP keys available: hip_assoc_esp_keys() */
	HIP_EVENT_REKEYED,     /* new ESP keys after an UPDATE */
	HIP_EVENT_CLOSED,      /* CLOSE/CLOSE_ACK done or peer closed: drop the SAs */
	HIP_EVENT_FAILED,      /* gave up (E-FAILED); packets queued for it can be dropped */
	HIP_EVENT_DESTROYED,   /* the association is freed right after this returns */
	HIP_EVENT_MOVED,       /* the peer's locator changed, verified (RFC 8046) */
	HIP_EVENT_CANDIDATES,  /* ICE mode: the peer sent more candidates (hip_assoc_ice) */
};

struct hip_config {
	uint8_t puzzle_k;          /* difficulty #K offered in R1 */
	uint8_t puzzle_lifetime;   /* 2^(v-32) s */
	uint64_t r1_refresh_ms;    /* new DH key and R1 generation this often */
	unsigned max_retransmits;  /* I1, I2, UPDATE, CLOSE */
	uint64_t retransmit_ms;    /* first retransmission timeout; doubles */
	uint64_t failed_hold_ms;   /* E-FAILED before returning to UNASSOCIATED */
	uint64_t closed_hold_ms;   /* CLOSING/CLOSED lifetime (UAL) */
	uint64_t max_puzzle_tries; /* initiator's budget for solving */
	bool offer_ice;            /* R1 offers NAT_TRAVERSAL_MODE ICE-STUN-UDP, UDP */
};

void hip_config_default(struct hip_config *cfg);

struct hip_ops {
	void *ctx;
	/* Sends a HIP packet (without the UDP zero marker) to a locator. */
	int (*send)(void *ctx, const struct hip_locator *to, const uint8_t *pkt, size_t len);
	void (*event)(void *ctx, struct hip_assoc *a, enum hip_event ev);
	/* Optional: our ICE candidates for an I2 or R2 in ICE mode. Fill address,
	 * port, kind, priority (and lifetime, preferred); the engine sets the
	 * locator type, protocol and SPI. Returns how many were written.
	 * hip_assoc_ice() already works on a when this is called. */
	size_t (*candidates)(void *ctx, struct hip_assoc *a, struct hip_locator_entry *out,
	                     size_t cap);
};

/* ICE (RFC 5770 ICE-STUN-UDP) for an association whose exchange chose it:
 * who controls, both sides' credentials (drawn from KEYMAT, docs/hip.md) and
 * the peer's candidates from its I2 or R2. */
#define HIP_ICE_UFRAG_LEN 8
#define HIP_ICE_PWD_LEN   32
struct hip_ice_params {
	bool controlling; /* the Initiator */
	char local_ufrag[HIP_ICE_UFRAG_LEN + 1];
	char local_pwd[HIP_ICE_PWD_LEN + 1];
	char remote_ufrag[HIP_ICE_UFRAG_LEN + 1];
	char remote_pwd[HIP_ICE_PWD_LEN + 1];
	struct hip_locator_entry cands[HIP_LOCATORS_MAX];
	size_t ncands;
};

/* Keys for both ESP directions, as drawn from KEYMAT (RFC 7402 section 7). */
struct hip_esp_keys {
	uint16_t suite;
	uint32_t spi_in;  /* ours: the peer sends with it */
	uint32_t spi_out; /* the peer's: we send with it */
	uint8_t key_in[64];
	uint8_t key_out[64];
	size_t keylen;
};

/* The identity is borrowed and must outlive the host. */
int hip_host_new(const struct identity *id, const struct hip_config *cfg, const struct hip_ops *ops,
                 uint64_t now, struct hip_host **ret);
struct hip_host *hip_host_free(struct hip_host *h);

/* Handles one received HIP packet. Returns 0 when accepted, or a negative error
 * with *ret_reason (static string) saying why it was dropped. A dropped packet
 * never changes an established association. */
int hip_host_input(struct hip_host *h, const uint8_t *pkt, size_t len,
                   const struct hip_locator *from, uint64_t now, const char **ret_reason);
/* Starts a base exchange (sends I1). peer NULL or zero: opportunistic mode. */
int hip_host_connect(struct hip_host *h, const struct hit *peer, const struct hip_locator *to,
                     uint64_t now, struct hip_assoc **ret);
/* Sends CLOSE and moves to CLOSING. */
int hip_host_close(struct hip_host *h, struct hip_assoc *a, uint64_t now);
/* Starts an UPDATE with a fresh ESP_INFO (new SPI, new keys from KEYMAT). */
int hip_host_rekey(struct hip_host *h, struct hip_assoc *a, uint64_t now);
/* In I1-SENT through the overlay: sends the same I1 (and its retransmissions)
 * to a direct locator too, for a peer whose address the overlay knows but
 * which may be behind a NAT. Whichever R1 comes first decides: from the
 * direct locator, the association is direct and plain UDP (no ICE); through
 * the overlay, it goes on in ICE mode. -EBUSY unless in I1-SENT. */
int hip_assoc_also_direct(struct hip_host *h, struct hip_assoc *a,
                          const struct hip_locator *direct);
/* A new base exchange in ICE mode over an established association, sent to
 * `to` (the overlay): what the daemon does for a pipe when the host's
 * addresses change, because the pipe's ICE state is tied to addresses that
 * may be gone (docs/hip.md "Pipes that move"). HIP_EVENT_CLOSED runs first
 * (drop the SAs); the peer treats the I2 as a restart of ours (RFC 7401
 * section 4.4.2) and HIP_EVENT_ESTABLISHED follows with new keys and ICE
 * credentials. -ENOTCONN unless established, -ENETDOWN after a leave. */
int hip_host_reconnect(struct hip_host *h, struct hip_assoc *a, const struct hip_locator *to,
                       uint64_t now);
/* A host that left (idloc leave) takes no new associations: I1 and I2 are
 * dropped and hip_host_connect fails with -ENETDOWN; existing ones are left
 * to the caller (close them). Accepting is the default. */
void hip_host_set_accepting(struct hip_host *h, bool accepting);
/* Absolute time (ms) of the next timer, or UINT64_MAX. */
uint64_t hip_host_next_timer(const struct hip_host *h);
void hip_host_tick(struct hip_host *h, uint64_t now);
struct hip_assoc *hip_host_find(const struct hip_host *h, const struct hit *peer);
/* Calls fn for each association; fn must not free or create associations. */
void hip_host_foreach(const struct hip_host *h, void (*fn)(struct hip_assoc *a, void *ctx),
                      void *ctx);
size_t hip_host_count(const struct hip_host *h);

enum hip_state hip_assoc_state(const struct hip_assoc *a);
const char *hip_state_name(enum hip_state s);
const struct hit *hip_assoc_peer_hit(const struct hip_assoc *a);
const struct hip_locator *hip_assoc_locator(const struct hip_assoc *a);
/* -EAGAIN before the association has keys. */
int hip_assoc_esp_keys(const struct hip_assoc *a, struct hip_esp_keys *ret);
void hip_assoc_set_user(struct hip_assoc *a, void *user);
void *hip_assoc_user(const struct hip_assoc *a);

/* Tells the engine an authenticated ESP packet arrived on the association:
 * completes R2-SENT (RFC 7401 section 4.4.2). Cheap; call per packet or batch. */
void hip_assoc_esp_received(struct hip_assoc *a);

/* Mobility (RFC 8046): announces our locators to the peer after our address
 * changed: UPDATE(ESP_INFO with the current SPI as old and new, LOCATOR_SET,
 * SEQ), sent to the peer's locator (from whatever address the host uses
 * now). The peer verifies the new address with an echo before using it.
 * Fill address, type, port and kind of each entry; the engine sets the SPI.
 * -ENOTCONN unless established, -EBUSY while another UPDATE runs. */
int hip_host_readdress(struct hip_host *h, struct hip_assoc *a,
                       const struct hip_locator_entry *locs, size_t n, uint64_t now);

/* ICE mode: sends our complete candidate list again, in an UPDATE(LOCATOR_SET
 * of type-2 entries, SEQ) without ESP_INFO, once gathering found candidates
 * the I2 or R2 could not carry yet (server-reflexive and relayed ones wait
 * for STUN and TURN answers). The peer acknowledges and adds them to its
 * checks (docs/hip.md "Late candidates"). Fill address, port, kind and
 * priority; the engine sets the rest. -ENOENT when the association does not
 * use ICE, -ENOTCONN unless keyed, -EBUSY while another UPDATE runs (try
 * again later), -EINVAL for an empty or too long list. */
int hip_host_send_candidates(struct hip_host *h, struct hip_assoc *a,
                             const struct hip_locator_entry *cands, size_t n, uint64_t now);

/* Whether the peer announced its own addresses (an UPDATE with a
 * LOCATOR_SET); if so, *ret_listed says whether the association's locator
 * is one of them (else it is where the peer's NAT maps it: reflexive). */
bool hip_assoc_peer_announced(const struct hip_assoc *a, bool *ret_listed);
/* Our readdress UPDATE (hip_host_readdress) is not acknowledged yet. */
bool hip_assoc_readdressing(const struct hip_assoc *a);

/* As Initiator, before the R1 arrives: select ICE-STUN-UDP if the Responder
 * offers it (an exchange routed through the overlay needs ICE for its data
 * path; one over a known direct locator does not). */
void hip_assoc_want_ice(struct hip_assoc *a);
/* An I1 that found nobody at a direct locator (a peer behind a NAT that
 * filters us) is sent again to `to` (the overlay) in ICE mode, with a fresh
 * retransmission budget. -EBUSY unless the association is in I1-SENT. */
int hip_assoc_reroute(struct hip_host *h, struct hip_assoc *a, const struct hip_locator *to,
                      uint64_t now);
/* The password of the TURN credentials a peer relay issues to a client it
 * has this association with (docs/relay.md "Credentials"): hex of
 * HMAC-SHA-256(the client-to-relay HIP integrity key, "idloc relay v1" |
 * client HIT | relay HIT), cut to 32 characters. Both ends compute it; it
 * travels in no packet and changes with every base exchange. client: we
 * are the client (else the relay). -EAGAIN before the keys. */
#define HIP_RELAY_PWD_LEN 32
int hip_assoc_relay_password(const struct hip_assoc *a, bool client,
                             char pwd[HIP_RELAY_PWD_LEN + 1]);
/* -ENOENT when the exchange did not choose ICE, -EAGAIN before the keys. */
int hip_assoc_ice(const struct hip_assoc *a, struct hip_ice_params *ret);
