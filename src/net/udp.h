/* SPDX-License-Identifier: MIT */
/* udp.h: the HIP/ESP UDP socket and its RFC 5770 / RFC 9028 framing.
 *
 * One socket carries both protocols: HIP control packets are preceded by a
 * 32-bit zero marker, ESP packets start with their (never zero) SPI. Addresses
 * handed out and taken in are canonical: IPv4 peers are AF_INET even when the
 * socket is a dual-stack AF_INET6 one (whose IPv4-mapped form stays inside
 * this module). Plain fds, no event loop: the daemon polls the fd. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define UDP_MARKER_LEN 4
#define UDP_MIN_DGRAM  8     /* shorter datagrams are neither HIP nor ESP */
#define UDP_BATCH      32    /* datagrams per recvmmsg */
#define UDP_DGRAM_MAX  16384 /* larger datagrams are dropped */
#define UDP_SOCKBUF    (4 << 20)
#define UDP_ADDRSTRLEN 56 /* "[v6]:port" */

struct udp_sock {
	int fd;
	int family; /* AF_INET6 (dual-stack) or AF_INET (fallback) */
	uint16_t port;
};

enum udp_kind {
	UDP_KIND_DROP, /* too short */
	UDP_KIND_HIP,  /* zero marker: the HIP packet follows it */
	UDP_KIND_ESP,
};

/* A batch of received datagrams with fixed buffers (allocated once). */
struct udp_batch {
	unsigned count;
	struct udp_dgram {
		uint8_t *data;
		size_t len;
		bool truncated;
		struct sockaddr_storage from; /* canonical */
		socklen_t fromlen;
	} d[UDP_BATCH];
	uint8_t *buf; /* UDP_BATCH * UDP_DGRAM_MAX */
};

/* Binds [::]:port dual-stack, or 0.0.0.0:port when IPv6 sockets are not
 * available. Non-blocking, close-on-exec; 4 MiB buffers best effort. */
int udp_open(uint16_t port, struct udp_sock *ret);
void udp_close(struct udp_sock *s);

int udp_batch_init(struct udp_batch *b);
void udp_batch_done(struct udp_batch *b);
/* Receives up to UDP_BATCH datagrams; returns how many (0 when none are
 * waiting), or a negative errno. */
int udp_recv_batch(const struct udp_sock *s, struct udp_batch *b);

/* Classifies a datagram; for HIP, *ret_off is where the HIP packet starts. */
enum udp_kind udp_classify(const uint8_t *p, size_t len, size_t *ret_off);

/* Sends an ESP packet (as is) or a HIP packet (with the zero marker put in
 * front, without copying). 0 or negative errno; -EAGAIN when the socket buffer
 * is full (the packet is dropped, as IP would). */
int udp_send_esp(const struct udp_sock *s, const struct sockaddr *to, socklen_t tolen,
                 const uint8_t *pkt, size_t len);
int udp_send_hip(const struct udp_sock *s, const struct sockaddr *to, socklen_t tolen,
                 const uint8_t *pkt, size_t len);

/* Rewrites an address into the canonical form every address from this module
 * has: IPv4-mapped IPv6 becomes AF_INET, unused fields are zero. */
void udp_addr_canonicalize(struct sockaddr_storage *ss, socklen_t *len);
/* "a.b.c.d:port" or "[v6]:port". */
const char *udp_addr_format(const struct sockaddr *sa, char buf[UDP_ADDRSTRLEN]);
/* Same address and port (canonical forms). */
bool udp_addr_equal(const struct sockaddr *a, const struct sockaddr *b);
