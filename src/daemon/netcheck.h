/* SPDX-License-Identifier: MIT */
/* netcheck.h: what this host's network looks like to idloc, for `idloc
 * netcheck`: its local addresses, the reflexive address the [ice] STUN
 * servers see, whether the NAT maps endpoint-independently, and which [ice]
 * TURN relays answer.
 *
 * Probes are RFC 5389 Binding requests from one ephemeral UDP socket per
 * address family, never from the HIP port: a NAT that maps
 * endpoint-independently maps the HIP port the same way, and the probes
 * cannot disturb the daemon's traffic. Two STUN servers that see the same
 * mapped address and port mean an endpoint-independent mapping (RFC 4787);
 * with a single server, its OTHER-ADDRESS (RFC 5780) is probed as the
 * second one when it names one. Any STUN answer from a TURN server,
 * success or error, makes that relay reachable. The report's fields are in
 * docs/control.md. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct config;

#define NETCHECK_TXID_LEN    12
#define NETCHECK_REQUEST_LEN 20
/* Requests go at 0, 250, 750 and 1750 ms; no answer by 2750 ms is none. */
#define NETCHECK_GIVE_UP_MS 2750
/* Name resolution included, a check ends within this. */
#define NETCHECK_BUDGET_MS 10000

/* ---- the STUN codec: pure ---- */

struct netcheck_stun_answer {
	bool success;                   /* a Binding success response; else an error response */
	unsigned error;                 /* error responses: the ERROR-CODE (300-699), 0 if absent */
	struct sockaddr_storage mapped; /* success: XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS */
	bool has_other;
	struct sockaddr_storage other; /* OTHER-ADDRESS, else RFC 3489's CHANGED-ADDRESS */
};

/* A Binding request without attributes for transaction txid. */
void netcheck_stun_request(const uint8_t txid[NETCHECK_TXID_LEN],
                           uint8_t out[NETCHECK_REQUEST_LEN]);
/* Parses a Binding response to txid, strictly: the header (leading zero
 * bits, magic cookie, a length that matches len and is a multiple of 4),
 * every attribute inside the message, address attributes of the right size
 * and family, FINGERPRINT last and correct when present, no unknown
 * comprehension-required attribute, and a success response with a mapped
 * address. 0 with ret filled; -ENOMSG for a valid STUN message that is not
 * a Binding response to txid; -EBADMSG for anything malformed. */
int netcheck_stun_parse(const uint8_t *buf, size_t len, const uint8_t txid[NETCHECK_TXID_LEN],
                        struct netcheck_stun_answer *ret);

/* ---- the check: on the daemon's loop ---- */

/* report: the result object (the callee owns it), or NULL when the check
 * was cancelled or ran out of memory (err says which). */
typedef void (*netcheck_done_fn)(void *arg, int err, json_t *report);
/* Polled while the check runs: true stops it early (its client is gone). */
typedef bool (*netcheck_cancelled_fn)(void *arg);

/* Starts a check of cfg's [ice] servers (copied: cfg may go right after).
 * done runs exactly once, never from inside this call; the check's handles
 * are closed after it, while the loop runs. 0, or -ENOMEM/-EIO without
 * calling done. */
int netcheck_start(uv_loop_t *loop, const struct config *cfg, netcheck_done_fn done,
                   netcheck_cancelled_fn cancelled, void *arg);
