/* SPDX-License-Identifier: MIT */
/* pinger.h: `idloc ping`: ICMPv6 Echo Requests from the own HIT to a peer's
 * HIT through the HIP association, and the round trips of their replies.
 *
 * A request looks the name up in the overlay, enters HIT and name in the
 * idmap, asks for a pipe and, as soon as the association can carry ESP,
 * sends one Echo Request per interval (ESP next header 58, BEET). The peer's
 * daemon writes it into its TUN, the peer's kernel answers, and the reply
 * comes back through the data path's local delivery hook (pinger_input),
 * which consumes the replies to our requests only. The last round trip is
 * kept in the peer's struct peer (rtt_ms, shown by `idloc peers`).
 *
 * Timeline of one request (timeout = the request's timeout_ms):
 *   - setup: until timeout after the start, the first Echo Request is
 *     retried every PINGER_RETRY_MS while the association has no usable
 *     path (pipes_connect is called again each time); then "no path";
 *   - one Echo Request per interval, count in all;
 *   - after the last, the replies are awaited up to timeout more; the
 *     request ends as soon as every request sent has its reply.
 * Identifiers: one per request, unique among the daemon's running requests;
 * sequence numbers 1..count; the data carry a random per-request cookie so a
 * reply meant for another pinger on this host (ping6 to a HIT) is left alone.
 *
 * Everything runs on the daemon's libuv loop; one timer serves all requests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/hit.h"
#include "overlay/node.h"

struct datapath;
struct hip_host;
struct idmap;
struct mesh;
struct peer;
struct pipes;
struct pinger;

#define PINGER_MAX         16 /* requests running at once */
#define PINGER_RETRY_MS    100
#define PINGER_COOKIE_LEN  8
#define PINGER_DATA_LEN    56 /* as ping(8): cookie, then a fixed pattern */
#define PINGER_ECHO_LEN    (8 + PINGER_DATA_LEN)
#define PINGER_NEXT_HEADER 58 /* ICMPv6 */

/* What the pinger does to the world. NULL members (or NULL ops) use the
 * daemon's modules: mesh_resolve, pipes_connect, datapath_send_to, the peer
 * behind the HIP association, uv_hrtime. Tests put fakes here. */
struct pinger_io;
struct pinger_ops {
	int (*resolve)(const struct pinger_io *io, const char *fqdn, ovl_lookup_cb cb, void *arg);
	/* 0, or a negative errno (the setup goes on retrying until its deadline). */
	int (*connect)(const struct pinger_io *io, const struct hit *peer, uint64_t now_ms);
	/* 0 sent; -ENOTCONN while the association has no usable path. */
	int (*send)(const struct pinger_io *io, const struct hit *dst, const uint8_t *icmp,
	            size_t len, uint64_t now_ms);
	struct peer *(*peer)(const struct pinger_io *io, const struct hit *hit);
	uint64_t (*clock_ns)(const struct pinger_io *io);
};

/* The daemon's objects, borrowed: they outlive the pinger. */
struct pinger_io {
	uv_loop_t *loop;
	struct mesh *mesh;
	struct datapath *dp;
	struct pipes *pipes; /* NULL: only associations over a known address */
	struct hip_host *hip;
	struct idmap *idmap;
	struct hit own; /* the source of our Echo Requests */
	/* The HIP engine may have new timers (a connect, a send that rekeyed). */
	void (*hip_changed)(void *ctx);
	void *ctx;
	const struct pinger_ops *ops; /* NULL: the daemon's modules */
};

/* What a request found. rtt_ms has count entries, one per sequence number
 * (1..count); < 0: no reply (lost, or never sent because the path was down). */
struct pinger_result {
	const char *name;      /* the fqdn asked for */
	const struct hit *hit; /* NULL when the lookup failed */
	unsigned count, sent, received;
	const double *rtt_ms;
};

/* Called exactly once per accepted request, from the loop (never from
 * pinger_start): err 0 when the pings ran (received may be 0); -ENOENT the
 * name is not registered; -ETIMEDOUT and other lookup errors; -EHOSTUNREACH
 * no path within the setup deadline; -ELOOP the name is this host's;
 * -ECANCELED cancelled() said so; -ESHUTDOWN pinger_stop; -ENOSPC the idmap
 * is full. res is valid during the call only. */
typedef void (*pinger_done_fn)(void *arg, int err, const struct pinger_result *res);

struct pinger_request {
	const char *fqdn;
	unsigned count, interval_ms, timeout_ms; /* 0: the CTL_PING_* defaults */
	pinger_done_fn done;
	/* Optional, asked before each Echo Request: true ends the request with
	 * -ECANCELED (the client went away). */
	bool (*cancelled)(void *arg);
	void *arg;
};

/* The stored io is copied. -EINVAL without a loop, -ENOMEM. */
int pinger_new(const struct pinger_io *io, struct pinger **ret);
/* Ends every request with -ESHUTDOWN and closes the timer; later starts
 * fail with -ESHUTDOWN. The loop must run once more before pinger_free.
 * NULL-safe. */
void pinger_stop(struct pinger *p);
/* After pinger_stop, the loop's last run, and mesh_free: a lookup still
 * running holds a request until its callback, which can no longer come then.
 * NULL-safe; returns NULL. */
struct pinger *pinger_free(struct pinger *p);

/* Starts a request (copies req). 0, or without calling done: -EINVAL bad
 * arguments, -EBUSY PINGER_MAX requests running, -ESHUTDOWN, -ENOMEM, -EIO
 * (no randomness), or the lookup's own refusal (-ENOTCONN...). */
int pinger_start(struct pinger *p, const struct pinger_request *req);
/* Requests running now. */
size_t pinger_running(const struct pinger *p);

/* The data path's local delivery hook (datapath_local_fn), with the pinger
 * as ctx (NULL-safe): consumes ICMPv6 Echo Replies to our running requests,
 * true then; false for everything else, which goes on to the TUN. */
bool pinger_input(void *ctx, const struct hit *from, uint8_t next_header, const uint8_t *payload,
                  size_t len, uint64_t now);

/* ---- the ICMPv6 messages, pure ---- */

/* An Echo Request (type 128) of PINGER_ECHO_LEN bytes into out, checksummed
 * over the IPv6 pseudo-header src -> dst: identifier, sequence number, then
 * the cookie and the pattern. Returns PINGER_ECHO_LEN. */
size_t pinger_echo_build(uint8_t out[PINGER_ECHO_LEN], const struct hit *src, const struct hit *dst,
                         uint16_t ident, uint16_t seq, const uint8_t cookie[PINGER_COOKIE_LEN]);

struct pinger_echo {
	uint16_t ident, seq;
	const uint8_t *data; /* what follows the header: the cookie first */
	size_t data_len;
};

/* Parses an Echo Reply (type 129, code 0) that src sent to dst: 0 and *ret;
 * -ENOMSG for any other ICMPv6 message; -EBADMSG when truncated or its
 * checksum is wrong. */
int pinger_echo_parse(const uint8_t *icmp, size_t len, const struct hit *src, const struct hit *dst,
                      struct pinger_echo *ret);
