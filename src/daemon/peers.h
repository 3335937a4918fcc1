/* SPDX-License-Identifier: MIT */
/* peers.h: the daemon's table of peers with live ESP SAs, by HIT and by inbound SPI.
 *
 * One struct peer per HIP association that has keys. Inbound SAs are found by
 * SPI (the receive path), peers by HIT (control and listings; the send path
 * goes through the association's user pointer). After a rekey the previous
 * inbound SA stays valid for PEERS_PREV_SA_MS for packets still in flight.
 * A data structure only: no I/O, no logging. Lookups never allocate. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hit.h"
#include "esp/sa.h"

struct hip_assoc;
struct hip_esp_keys;

#define PEERS_PREV_SA_MS 10000

struct peer {
	struct hit hit;
	struct hip_assoc *assoc;
	struct esp_sa out;
	struct esp_sa in;
	struct esp_sa in_prev;
	bool has_prev;
	uint64_t prev_expires;
	uint64_t rekey_next; /* no new rekey attempt before this; 0 after REKEYED */
	uint64_t since;      /* when the first keys were installed */
	uint64_t last_tx;    /* when we last sent it anything (keepalives) */
	double rtt_ms;       /* last round trip measured (idloc ping); < 0: none yet */
};

struct peers;

int peers_new(struct peers **ret);
/* Frees every peer (wiping the keys). */
struct peers *peers_free(struct peers *ps);
/* Creates the peer for an association from its first keys. An older peer with
 * the same HIT is removed first. -EEXIST if our inbound SPI is already used by
 * another peer, -EPROTONOSUPPORT for an unknown suite. */
int peers_add(struct peers *ps, struct hip_assoc *a, const struct hit *hit,
              const struct hip_esp_keys *k, uint64_t now, struct peer **ret);
/* Switches to new keys; the current inbound SA becomes the previous one. */
int peers_rekey(struct peers *ps, struct peer *p, const struct hip_esp_keys *k, uint64_t now);
/* Removes and frees p. */
void peers_remove(struct peers *ps, struct peer *p);
struct peer *peers_find_hit(const struct peers *ps, const struct hit *hit);
/* The inbound SA for spi (a previous SA past its time is dropped here), or NULL. */
struct esp_sa *peers_find_spi(struct peers *ps, uint32_t spi, uint64_t now, struct peer **ret_peer);
size_t peers_count(const struct peers *ps);
/* The i-th peer in HIT order (for listings), or NULL. */
struct peer *peers_get(const struct peers *ps, size_t i);
