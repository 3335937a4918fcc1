/* SPDX-License-Identifier: MIT */
/* datapath.h: idlocd's packet path between the TUN device, ESP, the UDP
 * socket and the peers' ICE pipes.
 *
 *   TUN --IPv6 to a HIT--> BEET strip ------------> ESP --> UDP or pipe
 *   TUN --IPv4 to an LSI--> canonical LSIs (nh 4) -> ESP --> UDP or pipe
 *   TUN --UDP to the resolver address--> DNS hook
 *   TUN --peer without a path--> pipes (queued; base exchange, ICE)
 *   UDP or pipe --zero marker--> HIP engine
 *   UDP or pipe --SPI--> peers --> ESP decap --> BEET or IPv4 rebuild --> TUN
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
#include "esp/gro.h"
#include "esp/sa.h"
#include "esp/worker.h"
#include "net/udp.h"

struct hip_host;
struct hip_locator;
struct idmap;
struct peers;
struct pipes;
struct tun;

#define DATAPATH_TUN_BUF  65536 /* any IPv6 packet without jumbograms */
#define DATAPATH_ICMP_MAX 1280  /* errors quote at most this much (RFC 4443 2.4 (c)) */
/* The path the ESP datagrams take is assumed to carry 1500 bytes, with IPv6
 * outside and a TURN channel header (docs/datapath.md "MTU and MSS"). */
#define DATAPATH_PATH_MTU 1500
/* ESP packets whose cipher pass waits, batched for the crypto worker:
 * queued for the socket but not sealed yet, and received ones of one SA. */
#define DATAPATH_SEAL_MAX 256
#define DATAPATH_OPEN_MAX 256

/* The kernel offloads the data path uses (docs/datapath.md, "Offloads"). */
enum {
	DATAPATH_OFFLOAD_TUN = 1u << 0, /* TUN virtio-net header: TSO/USO, checksums, GRO */
	DATAPATH_OFFLOAD_GSO = 1u << 1, /* UDP_SEGMENT runs on the socket */
	DATAPATH_OFFLOAD_GRO = 1u << 2, /* UDP_GRO on the socket */
	DATAPATH_OFFLOAD_ALL = (1u << 3) - 1,
};

/* A decrypted payload for this daemon itself rather than the TUN (overlay
 * messages): true when consumed. `from` is the authenticated peer HIT. */
typedef bool (*datapath_local_fn)(void *ctx, const struct hit *from, uint8_t next_header,
                                  const uint8_t *payload, size_t len, uint64_t now);
/* An IPv4 packet from the TUN to the resolver address: true when consumed. */
typedef bool (*datapath_dns_fn)(void *ctx, const uint8_t *pkt, size_t len, uint64_t now);

/* The daemon's objects, borrowed: they outlive the data path. */
struct datapath_io {
	const struct tun *tun;
	struct udp_sock *udp; /* datapath_init may turn its UDP_GRO off */
	struct udp_batch *batch;
	struct hip_host *hip;
	struct peers *peers;
	struct hit hit;          /* ours */
	struct idmap *idmap;     /* LSIs; NULL: IPv4 packets are not ours */
	struct pipes *pipes;     /* NULL: peers without an address are unreachable */
	unsigned mtu;            /* the TUN's, for TCP MSS clamping */
	uint32_t resolver;       /* dns.address, host byte order */
	datapath_local_fn local; /* optional */
	void *local_ctx;
	datapath_dns_fn dns; /* optional */
	void *dns_ctx;
};

struct datapath_stats {
	uint64_t udp_short, udp_truncated, hip_dropped, esp_unknown_spi, esp_dropped;
	uint64_t tun_not_ours, tun_bad, tun_foreign_src, tun_no_peer, tun_queued, tun_queue_full;
	uint64_t tun_too_big, tun_write_err, udp_send_err, pipe_send_err, ipv4_refused;
	uint64_t keepalives_sent, esp_keepalives;
	uint64_t tun_super, tun_segments;      /* super-packets read, segments cut from them */
	uint64_t udp_gro_runs;                 /* UDP_GRO slots holding several datagrams */
	uint64_t worker_sealed, worker_opened; /* packets the crypto worker did */
};

/* Embedded in the daemon, so the buffers come with its one allocation and the
 * hot path has none. */
struct datapath {
	struct datapath_io io;
	struct datapath_stats stats;
	unsigned esp_max;  /* the largest inner packet one ESP datagram carries */
	unsigned offloads; /* DATAPATH_OFFLOAD_* in use */
	bool in_burst;     /* handling a batch from the socket: GRO holds TCP */
	struct ratelimit rl_hip, rl_esp, rl_tun, rl_icmp, rl_send, rl_locator;
	struct udp_tx tx; /* ESP for the socket, sent when a burst ends */
	struct gro gro;   /* decrypted TCP for the TUN, written when a burst ends */
	/* The crypto worker (docs/datapath.md, "Two cores"): started with the
	 * first batch worth it, so after the daemon dropped its privileges. */
	bool worker_wanted;
	struct worker *worker;
	/* Queued in tx, sealed before it is sent: runs of one SA. */
	unsigned nseal;
	struct esp_sa *seal_sa[DATAPATH_SEAL_MAX];
	struct worker_job seal_job[DATAPATH_SEAL_MAX];
	/* Received for one SA, checked, opened and committed together. */
	unsigned nopen;
	struct esp_sa *open_sa;
	struct peer *open_peer;
	struct worker_job open_job[DATAPATH_OPEN_MAX];
	const struct sockaddr_storage *open_from[DATAPATH_OPEN_MAX];
	uint8_t tun_buf[DATAPATH_TUN_BUF];
	uint8_t seg_buf[DATAPATH_TUN_BUF];   /* one segment cut from a super-packet */
	uint8_t flush_buf[DATAPATH_TUN_BUF]; /* packets the pipes release */
	uint8_t esp_buf[DATAPATH_TUN_BUF + ESP_MAX_OVERHEAD];
	uint8_t decap_buf[BEET_IPV6_HDR_LEN + UDP_DGRAM_MAX];
	uint8_t icmp_buf[DATAPATH_ICMP_MAX];
};

/* The offloads to use: all, unless IDLOC_OFFLOAD in the environment says
 * "none" or lists the ones to keep ("tun,gso,gro"), for comparisons. */
unsigned datapath_offloads(void);

/* Whether to use the crypto worker: the machine has more than one CPU
 * online, unless IDLOC_CRYPTO_WORKER=0 in the environment (comparisons). */
bool datapath_crypto_worker(void);

/* Before the first packet and before the engine sends anything. Touches
 * only the small fields: the buffers' pages are used when packets come. */
void datapath_init(struct datapath *dp, const struct datapath_io *io);
/* Stops the crypto worker thread, if one runs. After the last packet. */
void datapath_done(struct datapath *dp);

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
/* Sends a keepalive (an ESP dummy packet, next header 59, RFC 4303 2.6) to
 * every established peer we have sent nothing for interval ms: it keeps NAT
 * bindings along the path open and tells the peer we are alive, for the
 * price of one authenticated datagram the receiver discards. True when that
 * asked the engine for a rekey. */
bool datapath_keepalive(struct datapath *dp, uint64_t interval, uint64_t now);
/* A packet a pipe held back, sent as if it came from the TUN now. True when
 * that asked the engine for a rekey. */
bool datapath_tun_packet(struct datapath *dp, const uint8_t *pkt, size_t len, uint64_t now);
/* ICMP destination unreachable back into the TUN for a packet that cannot
 * go (rate limited; never for ICMP errors, multicast or broadcast). */
void datapath_unreachable(struct datapath *dp, const uint8_t *pkt, size_t len, uint64_t now);
/* Brackets what the pipes deliver in one GLib dispatch (gloop's hooks):
 * decrypted TCP segments are coalesced for the TUN until the end. */
void datapath_pipe_burst(struct datapath *dp, bool begin);
/* A datagram from peer on its pipe: ESP, or HIP behind a zero marker. */
void datapath_pipe_input(struct datapath *dp, const struct hit *peer, const uint8_t *data,
                         size_t len, uint64_t now);
/* Sends a HIP packet for the engine (behind its hip_ops.send). 0 or -errno. */
int datapath_send_hip(struct datapath *dp, const struct hip_locator *to, const uint8_t *pkt,
                      size_t len, uint64_t now);
