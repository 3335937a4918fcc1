/* SPDX-License-Identifier: MIT */
/* udp.h: the HIP/ESP UDP socket and its RFC 5770 / RFC 9028 framing.
 *
 * One socket carries both protocols: HIP control packets are preceded by a
 * 32-bit zero marker, ESP packets start with their (never zero) SPI. Addresses
 * handed out and taken in are canonical: IPv4 peers are AF_INET even when the
 * socket is a dual-stack AF_INET6 one (whose IPv4-mapped form stays inside
 * this module). Plain fds, no event loop: the daemon polls the fd.
 *
 * ESP moves in batches (recvmmsg, sendmmsg) and, where the kernel has them,
 * in runs: UDP_SEGMENT hands the kernel many datagrams in one buffer to cut,
 * UDP_GRO hands back many in one slot. On the wire every datagram is still
 * one ordinary ESP packet in RFC 9028 framing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define UDP_MARKER_LEN 4
#define UDP_MIN_DGRAM  8     /* shorter datagrams are neither HIP nor ESP */
#define UDP_BATCH      32    /* receive slots per recvmmsg */
#define UDP_DGRAM_MAX  16384 /* larger datagrams are dropped */
#define UDP_SLOT       65536 /* a receive slot: one datagram, or a UDP_GRO run */
#define UDP_SOCKBUF    (7 << 20)
#define UDP_ADDRSTRLEN 56 /* "[v6]:port" */
/* Sending: messages per sendmmsg, bytes queued, datagrams per UDP_SEGMENT
 * run (the kernel's UDP_MAX_SEGMENTS before Linux 6.9 was 64). */
#define UDP_TX_MSGS     64
#define UDP_TX_BYTES    (256 << 10)
#define UDP_GSO_SEGS    64
#define UDP_GSO_MAX_LEN (65535 - 8 - 40) /* a run fits one IPv6 or IPv4 datagram */

struct udp_sock {
	int fd;
	int family; /* AF_INET6 (dual-stack) or AF_INET (fallback) */
	uint16_t port;
	bool gso; /* the kernel takes UDP_SEGMENT (Linux 4.18+) */
	bool gro; /* UDP_GRO is on: a receive slot may hold a run of datagrams */
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
		/* UDP_GRO: len bytes are datagrams of seg bytes each from the
		 * same sender, the last one possibly shorter; 0: one datagram. */
		uint16_t seg;
		bool truncated;               /* cut short, or one datagram over UDP_DGRAM_MAX */
		struct sockaddr_storage from; /* canonical */
		socklen_t fromlen;
	} d[UDP_BATCH];
	uint8_t *buf; /* UDP_BATCH * UDP_SLOT; pages are touched only when used */
};

/* Datagrams waiting to go out in one sendmmsg: consecutive ones to the same
 * address with the same length (the last may be shorter) travel as one
 * UDP_SEGMENT run, which the kernel cuts into ordinary datagrams (GSO). */
struct udp_tx {
	bool gso;      /* make runs; turned off for good when the kernel refuses */
	unsigned n;    /* messages */
	size_t used;   /* bytes of buf */
	uint64_t sent; /* datagrams handed to the kernel (statistics) */
	uint64_t runs; /* UDP_SEGMENT messages among them */
	struct udp_tx_msg {
		size_t off, len;
		uint16_t seg; /* the length of each datagram but the last */
		uint16_t segs;
		bool closed; /* ended by a shorter datagram */
		socklen_t tolen;
		struct sockaddr_storage to; /* as the socket wants it */
	} m[UDP_TX_MSGS];
	uint8_t buf[UDP_TX_BYTES];
};

/* Binds [::]:port dual-stack, or 0.0.0.0:port when IPv6 sockets are not
 * available. Non-blocking, close-on-exec; 7 MiB buffers (past the sysctl
 * limits with CAP_NET_ADMIN, which the daemon still has at start-up), best
 * effort; UDP_GRO on and UDP_SEGMENT probed when the kernel has them. */
int udp_open(uint16_t port, struct udp_sock *ret);
/* Wraps fd, a UDP socket the caller made and bound (non-blocking; family
 * AF_INET, or AF_INET6 dual-stack or IPv6-only; port in host byte order),
 * with what udp_open gives its own: the buffers, UDP_GRO, the UDP_SEGMENT
 * probe. For the TURN server's sockets (src/relay/turn.c). */
void udp_adopt(int fd, int family, uint16_t port, struct udp_sock *ret);
void udp_close(struct udp_sock *s);
/* Turns UDP_GRO on or off. 0 or negative errno (-ENOPROTOOPT: a kernel
 * before 5.12). */
int udp_set_gro(struct udp_sock *s, bool on);

int udp_batch_init(struct udp_batch *b);
void udp_batch_done(struct udp_batch *b);
/* Receives up to UDP_BATCH slots; returns how many (0 when none are waiting),
 * or a negative errno. */
int udp_recv_batch(const struct udp_sock *s, struct udp_batch *b);

/* Empties the queue; gso: whether to make UDP_SEGMENT runs. Only the
 * message table is written, not the buffer. */
void udp_tx_init(struct udp_tx *tx, bool gso);
/* Where the next datagram (at most cap bytes) is to be written, or NULL
 * when the queue is full: flush it first. */
uint8_t *udp_tx_room(struct udp_tx *tx, size_t cap);
/* Queues the len bytes just written at udp_tx_room for to. 0, or
 * -EAFNOSUPPORT when the socket cannot reach that family (not queued). */
int udp_tx_push(struct udp_tx *tx, const struct udp_sock *s, const struct sockaddr *to,
                socklen_t tolen, size_t len);
/* Sends everything queued and empties the queue. Returns how many datagrams
 * were dropped (socket buffer full, or an error for their destination), with
 * the last such error in *ret_err. A run the kernel refuses is sent again as
 * single datagrams; on EIO (no checksum offload on the way out) runs stop
 * for good (tx->gso false). */
unsigned udp_tx_flush(struct udp_tx *tx, const struct udp_sock *s, int *ret_err);

/* Classifies a datagram; for HIP, *ret_off is where the HIP packet starts. */
enum udp_kind udp_classify(const uint8_t *p, size_t len, size_t *ret_off);

/* Sends a HIP packet with the zero marker put in front, without copying (ESP
 * goes through struct udp_tx). 0 or negative errno; -EAGAIN when the socket
 * buffer is full (the packet is dropped, as IP would). */
int udp_send_hip(const struct udp_sock *s, const struct sockaddr *to, socklen_t tolen,
                 const uint8_t *pkt, size_t len);

/* Rewrites an address into the canonical form every address from this module
 * has: IPv4-mapped IPv6 becomes AF_INET, unused fields are zero. */
void udp_addr_canonicalize(struct sockaddr_storage *ss, socklen_t *len);
/* The 16-byte form HIP locators, ICE candidates and records use (IPv4
 * mapped into IPv6) to a canonical sockaddr, and back (false for other
 * families). Ports in host byte order. */
void udp_addr_from16(const uint8_t addr[16], uint16_t port, struct sockaddr_storage *ss,
                     socklen_t *len);
bool udp_addr_to16(const struct sockaddr *sa, uint8_t addr[16], uint16_t *port);
/* "a.b.c.d:port" or "[v6]:port". */
const char *udp_addr_format(const struct sockaddr *sa, char buf[UDP_ADDRSTRLEN]);
/* Same address and port (canonical forms). */
bool udp_addr_equal(const struct sockaddr *a, const struct sockaddr *b);
