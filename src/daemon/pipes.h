/* SPDX-License-Identifier: MIT */
/* pipes.h: on-demand pipes to peers whose address we do not know.
 *
 * The first packet for such a peer (or a DNS answer for its name) starts a
 * HIP base exchange routed through the overlay, in ICE mode: the I2 and R2
 * carry both sides' candidates, libnice runs the connectivity checks, and the
 * selected pair becomes the pipe that carries ESP (and the association's
 * later HIP packets, behind the 4-byte zero marker). Packets wait in a
 * bounded queue meanwhile (per peer and in total; an overflow drops the
 * newest and counts it); a setup that fails answers them with ICMP
 * unreachable and is retried with backoff. A pipe idle for `idle_ms` is
 * closed; the next packet opens it again.
 *
 * Associations the overlay made over a known address (bootstrap, cache,
 * direct contacts) need no pipe: their packets go over the daemon's socket. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "common/hit.h"
#include "hip/bex.h"

struct gloop;
struct ice_turn;
struct pipes;

#define PIPES_QUEUE_PEER  64   /* packets waiting for one peer */
#define PIPES_QUEUE_TOTAL 1024 /* packets waiting for all peers */
#define PIPES_MAX         4096 /* peers with a pipe or a setup under way */
#define PIPES_BACKOFF_MIN 1000 /* ms after a failed setup before the next */
#define PIPES_BACKOFF_MAX 60000
/* ICE checks that have selected no pair this long after the exchange are a
 * failure (libnice never fails a check list that has no pair at all). */
#define PIPES_CHECK_MAX 30000

enum pipe_state {
	PIPE_CONNECTING, /* base exchange through the overlay */
	PIPE_CHECKING,   /* ICE connectivity checks */
	PIPE_UP,         /* a pair is selected: ESP flows */
	PIPE_FAILED,     /* waiting out the backoff */
};

#define PIPES_TURN_MAX 8

struct pipes_config {
	uint64_t idle_ms; /* close a pipe without traffic this long (0: never) */
	/* Our own TUN: its device and its prefixes never make ICE candidates. */
	const char *tun_name;
	uint32_t lsi_prefix; /* host byte order */
	uint8_t lsi_prefix_len;
	bool allow_loopback; /* tests only */
};

struct pipes_io {
	uv_loop_t *loop;
	struct gloop *gloop;
	struct hip_host *hip;
	void *ctx;
	/* The HIP engine may have new timers (a connect, a close). */
	void (*hip_changed)(void *ctx);
	/* A queued packet can go now: the data path sends it as if it had just
	 * come from the TUN. */
	void (*flush)(void *ctx, const uint8_t *pkt, size_t len);
	/* A queued packet will never go: the data path answers it with ICMP. */
	void (*unreachable)(void *ctx, const uint8_t *pkt, size_t len);
	/* A datagram from the peer on its pipe (ESP, or HIP after a zero marker). */
	void (*received)(void *ctx, const struct hit *peer, const uint8_t *data, size_t len);
	/* Optional: the pipe to peer is up (first selected pair). */
	void (*up)(void *ctx, const struct hit *peer);
	/* Optional: an address of peer's own (from its name record's hints):
	 * the routed I1 also goes there directly, and a direct answer makes a
	 * direct association without ICE. */
	bool (*contact)(void *ctx, const struct hit *peer, struct hip_locator *ret);
};

/* What `idloc peers` shows about a pipe. */
struct pipe_info {
	enum pipe_state state;
	const char *path_type; /* "host", "srflx", "prflx", "relay", or NULL before UP */
	struct sockaddr_storage remote;
	socklen_t remote_len; /* 0 before UP */
	uint64_t tx_bytes, rx_bytes;
	uint64_t drops; /* queue overflows and packets refused during backoff */
	size_t queued;
};

int pipes_new(const struct pipes_config *cfg, const struct pipes_io *io, struct pipes **ret);
/* Frees every agent and queued packet. Call before gloop_free. */
struct pipes *pipes_free(struct pipes *p);

/* A packet for peer that has no usable path: queued while the pipe is set up
 * (started here when needed). 0 queued; -ENOBUFS dropped (queue full);
 * -EHOSTUNREACH the last setup failed and the backoff runs (answer with ICMP);
 * -ENOMEM. */
int pipes_queue(struct pipes *p, const struct hit *peer, const uint8_t *pkt, size_t len,
                uint64_t now);
/* Starts a pipe without a packet (a DNS answer announces traffic). */
int pipes_connect(struct pipes *p, const struct hit *peer, uint64_t now);
/* Sends on the peer's pipe. -ENOTCONN when no pair is selected. */
int pipes_send(struct pipes *p, const struct hit *peer, const uint8_t *data, size_t len);
bool pipes_up(const struct pipes *p, const struct hit *peer);
/* 0 and *ret for a peer with a pipe, -ENOENT otherwise. */
int pipes_info(const struct pipes *p, const struct hit *peer, struct pipe_info *ret);

/* The STUN server (numeric host, or NULL for none) and TURN servers (numeric
 * hosts; user and pass must outlive the pipes) for agents created from now
 * on. Copied. -EINVAL for more than PIPES_TURN_MAX or a bad address. */
int pipes_set_servers(struct pipes *p, const char *stun_host, uint16_t stun_port,
                      const struct ice_turn *turn, size_t n_turn);

/* The peers that have a pipe (any state), up to cap; returns how many. */
/* A peer relay found through the overlay, used by pipes set up from now on
 * after the configured TURN servers; host NULL: none. host is numeric; user
 * and pass are copied. 0 or -EINVAL. */
int pipes_set_peer_relay(struct pipes *p, const char *host, uint16_t port, const char *user,
                         const char *pass);
/* Our addresses changed: every pipe is set up again with a new base
 * exchange through the overlay (hip_host_reconnect), which brings new keys,
 * new ICE credentials and candidates from the addresses we have now; packets
 * wait in the queue meanwhile (docs/hip.md "Pipes that move"). */
void pipes_moved(struct pipes *p, uint64_t now);
size_t pipes_list(const struct pipes *p, struct hit *out, size_t cap);

/* For the HIP engine: our candidates for an I2 or R2 (struct hip_ops). */
size_t pipes_candidates(struct pipes *p, struct hip_assoc *a, struct hip_locator_entry *out,
                        size_t cap);
/* From the daemon's HIP event callback. */
void pipes_hip_event(struct pipes *p, struct hip_assoc *a, enum hip_event ev, uint64_t now);
