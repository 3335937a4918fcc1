/* SPDX-License-Identifier: MIT */
/* node.h: the overlay engine: a Kademlia-style XOR routing table with recursive,
 * hop-by-hop routing, and a replicated store of owner-signed records.
 *
 * I/O-free, like the HIP engine: bytes from a contact and a millisecond clock
 * go in; messages to contacts and completion callbacks come out through
 * struct ovl_ops. The daemon carries the messages inside ESP over HIP
 * associations; tests/sim/ runs thousands of nodes on a virtual clock with the
 * very same code. Record signatures go through ovl_ops as well, so the
 * simulator can stand in a cheap signer while the daemon uses the Host
 * Identity (ECDSA). Design and wire formats: docs/overlay.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/hit.h"

#define OVL_ID_LEN 16

/* A point in the ID space: node IDs (from HITs) and record keys (from names). */
struct ovl_id {
	uint8_t b[OVL_ID_LEN];
};

/* A peer we can send to directly. The locator is opaque to the engine. */
struct ovl_contact {
	struct ovl_id id;
	struct hit hit;
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

struct ovl_node;

enum ovl_status {
	OVL_OK = 0,
	OVL_NOT_FOUND = 1, /* the responsible nodes answered: no such record */
	OVL_TIMEOUT = 2,   /* no answer within the lookup deadline */
	OVL_REFUSED = 3,   /* a PUT the responsible nodes refused (FCFS, stale sequence, quota) */
	OVL_TTL = 4,       /* the message ran out of hops */
};

enum ovl_record_kind {
	OVL_RECORD_NAME = 1,  /* fqdn -> HIT + Host Identity (+ relay hints) */
	OVL_RECORD_RELAY = 2, /* relay:<branch> -> a peer offering to relay */
};

/* A decoded, verified record (pointers into the engine's storage, valid during
 * the callback only). */
struct ovl_record {
	enum ovl_record_kind kind;
	struct ovl_id key;
	const char *name; /* fqdn, or the relay branch ("relay:a1") */
	struct hit owner; /* HIT of the signing Host Identity */
	uint16_t hi_algorithm;
	const uint8_t *hi; /* the owner's Host Identity */
	size_t hi_len;
	uint64_t seq;
	uint64_t expires;       /* absolute, in the engine's clock (ms) */
	const uint8_t *payload; /* kind-specific (relay hints, relay locators) */
	size_t payload_len;
};

struct ovl_ops {
	void *ctx;
	/* Sends one overlay message to a contact. The daemon opens a HIP
	 * association if it has none (and may queue); the simulator delivers
	 * after the link latency or drops it. */
	int (*send)(void *ctx, const struct ovl_contact *to, const uint8_t *msg, size_t len);
	/* Signs / verifies record bytes with a Host Identity. verify returns 0
	 * and the owner HIT when sig is valid for (hi_algorithm, hi). */
	int (*sign)(void *ctx, const uint8_t *data, size_t len, uint8_t *sig, size_t *siglen);
	int (*verify)(void *ctx, uint16_t hi_algorithm, const uint8_t *hi, size_t hi_len,
	              const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen,
	              struct hit *ret_owner);
	/* Optional: a routed HIP packet for us arrived (base exchange over the overlay). */
	void (*hip)(void *ctx, const struct ovl_contact *prev_hop, const uint8_t *pkt, size_t len);
};

struct ovl_config {
	unsigned k;                     /* bucket size and replication set (default 16) */
	unsigned replicas;              /* copies of each record (default 5) */
	unsigned alpha;                 /* parallel first hops for a lookup (default 1) */
	unsigned max_hops;              /* initial TTL (default 16) */
	uint64_t hop_timeout_ms;        /* next hop must acknowledge within this (default 1000) */
	uint64_t lookup_timeout_ms;     /* whole lookup (default 5000) */
	uint64_t ping_interval_ms;      /* liveness check of idle contacts (default 60 s) */
	uint64_t refresh_ms;            /* bucket refresh without traffic (default 15 min) */
	uint64_t republish_ms;          /* owner republishes its records (default 10 min) */
	uint64_t record_lifetime_ms;    /* default 30 min */
	size_t quota_bytes_per_owner;   /* storage for one owner HIT (default 64 KiB) */
	size_t quota_records_per_owner; /* default 32 */
	size_t max_store_bytes;         /* all records held for others (default 16 MiB) */
	unsigned relay_branch_limit; /* relay records per branch before going deeper (default 8) */
};

void ovl_config_default(struct ovl_config *cfg);

/* self: our own contact (id = ovl_id_from_hit(self->hit)). hi: our Host
 * Identity bytes (copied), used in the records we publish. */
int ovl_node_new(const struct ovl_contact *self, uint16_t hi_algorithm, const uint8_t *hi,
                 size_t hi_len, const struct ovl_config *cfg, const struct ovl_ops *ops,
                 uint64_t now, struct ovl_node **ret);
struct ovl_node *ovl_node_free(struct ovl_node *n);

/* One message from a contact (authenticated by the transport: the daemon
 * passes the HIT of the HIP association it arrived on). Returns 0, or a
 * negative error with *ret_reason when the message was dropped. */
int ovl_node_input(struct ovl_node *n, const struct ovl_contact *from, const uint8_t *msg,
                   size_t len, uint64_t now, const char **ret_reason);
uint64_t ovl_node_next_timer(const struct ovl_node *n);
void ovl_node_tick(struct ovl_node *n, uint64_t now);

/* Join through one or more known contacts (bootstrap or cache): a lookup of
 * our own ID that fills the routing table; then our records are published. */
int ovl_node_join(struct ovl_node *n, const struct ovl_contact *via, size_t nvia, uint64_t now);
/* Hands stored records to the nodes that become responsible and tells the
 * neighbours we go. The caller then closes the associations. */
int ovl_node_leave(struct ovl_node *n, uint64_t now);
bool ovl_node_joined(const struct ovl_node *n);
size_t ovl_node_neighbors(const struct ovl_node *n);
/* Contacts for the persisted routing-table cache, longest-lived first. */
size_t ovl_node_contacts(const struct ovl_node *n, struct ovl_contact *out, size_t cap);
/* A transport-level failure (association failed): the contact is suspect. */
void ovl_node_contact_failed(struct ovl_node *n, const struct ovl_id *id, uint64_t now);

/* Publishes (and keeps republishing until expiry is refreshed or removed) our
 * name record for fqdn, with optional relay hints as payload. */
int ovl_node_publish_name(struct ovl_node *n, const char *fqdn, const uint8_t *hints,
                          size_t hints_len, uint64_t now);
/* Publishes a relay record under the hierarchical relay keys. */
int ovl_node_publish_relay(struct ovl_node *n, const uint8_t *locator, size_t len, uint64_t now);

/* Optional: the outcome of every publication of our own records (the first
 * one and each republication): OVL_OK, OVL_REFUSED (the name belongs to
 * another Host Identity, stale sequence, quota, or every relay branch down
 * to the deepest is full), OVL_TIMEOUT or OVL_TTL. name is the fqdn or the
 * relay branch used. Runs from ovl_node_input or ovl_node_tick. */
typedef void (*ovl_publish_cb)(void *arg, enum ovl_record_kind kind, const char *name,
                               enum ovl_status st);
void ovl_node_set_publish_cb(struct ovl_node *n, ovl_publish_cb cb, void *arg);

typedef void (*ovl_lookup_cb)(void *arg, enum ovl_status st, const struct ovl_record *rec,
                              unsigned hops, uint64_t elapsed_ms);
/* Resolves fqdn to its verified name record. The callback runs exactly once,
 * from ovl_node_input or ovl_node_tick (never from this call itself). */
int ovl_node_resolve(struct ovl_node *n, const char *fqdn, uint64_t now, ovl_lookup_cb cb,
                     void *arg);
/* Finds up to want (1..OVL_RELAYS_MAX) relay records: reads "relay:" first,
 * and goes one level deeper along our own branch path only while a level
 * holds relay_branch_limit records (publishers go deeper only when a branch
 * is full), so the outermost, least loaded relays come first. The callback
 * runs exactly once, never from this call: OVL_OK with the verified records
 * (one per owner), OVL_NOT_FOUND when nobody offers relaying, or the error
 * that ended the first level. */
#define OVL_RELAYS_MAX 16
typedef void (*ovl_relays_cb)(void *arg, enum ovl_status st, const struct ovl_record *recs,
                              size_t n);
int ovl_node_find_relays(struct ovl_node *n, size_t want, uint64_t now, ovl_relays_cb cb,
                         void *arg);
/* Routes a HIP packet toward the node whose ID is closest to
 * ovl_id_from_hit(dst). not_via (NULL for none): a node this node never
 * sends the packet to itself, on the first attempt or the retry; other
 * nodes may still deliver it there. */
int ovl_node_route_hip(struct ovl_node *n, const struct hit *dst, const uint8_t *pkt, size_t len,
                       const struct hit *not_via, uint64_t now);

/* Counters for status output and the simulator. */
struct ovl_stats {
	uint64_t msgs_sent, msgs_recv, bytes_sent, bytes_recv;
	uint64_t maintenance_bytes_sent; /* pings, refreshes, replication, republish */
	uint64_t lookups, lookups_ok, lookups_failed;
	uint64_t dropped_malformed, dropped_forged;
	size_t records_stored, store_bytes;
};
void ovl_node_stats(const struct ovl_node *n, struct ovl_stats *ret);

/* IDs. */
void ovl_id_from_hit(const struct hit *hit, struct ovl_id *ret);
void ovl_key_for_name(const char *fqdn, struct ovl_id *ret);
