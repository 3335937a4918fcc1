/* SPDX-License-Identifier: MIT */
/* datapath.h: idlocd's packet path between the TUN device, ESP and the UDP socket.
 *
 *   TUN --IPv6 to a HIT--> BEET strip --> ESP encap --> UDP (SPI first)
 *   UDP --zero marker--> HIP engine
 *   UDP --SPI--> peers --> ESP decap --> BEET rebuild --> TUN
 *
 * The daemon owns the TUN device, the socket, the engine and the peer table,
 * and polls the fds; the data path borrows them and keeps what only the
 * packets need: buffers, counters and log rate limits. It never allocates. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hit.h"
#include "common/log.h"
#include "esp/beet.h"
#include "esp/sa.h"
#include "net/udp.h"

struct hip_host;
struct hip_locator;
struct peers;
struct tun;

#define DATAPATH_TUN_BUF   65536 /* any IPv6 packet without jumbograms */
#define DATAPATH_ICMP6_MAX 1280  /* RFC 4443 2.4 (c): error packets fit the minimum MTU */

/* A decrypted payload for this daemon itself rather than the TUN (overlay
 * messages): true when consumed. `from` is the authenticated peer HIT. */
typedef bool (*datapath_local_fn)(void *ctx, const struct hit *from, uint8_t next_header,
                                  const uint8_t *payload, size_t len, uint64_t now);

/* The daemon's objects, borrowed: they outlive the data path. */
struct datapath_io {
	const struct tun *tun;
	const struct udp_sock *udp;
	struct udp_batch *batch;
	struct hip_host *hip;
	struct peers *peers;
	struct hit hit;          /* ours */
	datapath_local_fn local; /* optional */
	void *local_ctx;
};

struct datapath_stats {
	uint64_t udp_short, udp_truncated, hip_dropped, esp_unknown_spi, esp_dropped;
	uint64_t tun_ipv4, tun_not_hit, tun_bad, tun_foreign_src, tun_no_assoc, tun_pending;
	uint64_t tun_write_err, udp_send_err;
};

/* Embedded in the daemon, so the buffers come with its one allocation and the
 * hot path has none. */
struct datapath {
	struct datapath_io io;
	struct datapath_stats stats;
	struct ratelimit rl_hip, rl_esp, rl_tun, rl_icmp, rl_send, rl_locator;
	uint8_t tun_buf[DATAPATH_TUN_BUF];
	uint8_t esp_buf[DATAPATH_TUN_BUF + ESP_MAX_OVERHEAD];
	uint8_t decap_buf[BEET_IPV6_HDR_LEN + UDP_DGRAM_MAX];
	uint8_t icmp_buf[DATAPATH_ICMP6_MAX];
};

/* Before the first packet and before the engine sends anything. */
void datapath_init(struct datapath *dp, const struct datapath_io *io);

/* The TUN fd is readable (status: the libuv poll status): reads a burst of
 * packets and sends them ESP-protected. True when it asked the engine for a
 * rekey: the engine's timers changed and the caller re-arms them. */
bool datapath_on_tun(struct datapath *dp, int status, uint64_t now);
/* The socket is readable: receives a few batches, hands HIP packets to the
 * engine and decapsulated ESP to the TUN. True unless the poll failed (then
 * nothing was read): the engine may have new timers and association states. */
bool datapath_on_udp(struct datapath *dp, int status, uint64_t now);
/* Sends payload ESP-protected to the peer HIT dst (BEET: next_header names
 * the payload). 0, or 1 when that asked the engine for a rekey (re-arm its
 * timers); -ENOTCONN when there is no keyed association with dst. */
int datapath_send_to(struct datapath *dp, const struct hit *dst, uint8_t next_header,
                     const uint8_t *payload, size_t len, uint64_t now);
/* Sends a HIP packet for the engine (behind its hip_ops.send). 0 or -errno. */
int datapath_send_hip(struct datapath *dp, const struct hip_locator *to, const uint8_t *pkt,
                      size_t len, uint64_t now);
