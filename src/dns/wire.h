/* SPDX-License-Identifier: MIT */
/* wire.h: the DNS message codec (RFC 1035, EDNS0 per RFC 6891) and the IP/UDP
 * framing of queries that reach the resolver address through the TUN.
 *
 * Queries are parsed strictly into a self-contained struct dns_query (no
 * pointers into the packet, so it can wait for an overlay lookup). Responses
 * are built into caller buffers; owner names are compression pointers into the
 * echoed question, so every answer carries the query's own letter case.
 *
 * I/O-free: no allocation, no logging. Decisions: docs/dns.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_PORT          53
#define DNS_HDR_LEN       12
#define DNS_WIRE_NAME_MAX 255  /* RFC 1035 2.3.4, length octets included */
#define DNS_UDP_MIN       512  /* the limit without EDNS, and the EDNS floor */
#define DNS_EDNS_SIZE     1232 /* what our OPT advertises (DNS flag day 2020) */
#define DNS_MSG_MAX       4096 /* the largest reply relayed or built over UDP */

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_BADVERS = 16, /* extended: needs an OPT record */
};

enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_IXFR = 251,
	DNS_TYPE_AXFR = 252,
	DNS_TYPE_ANY = 255,
};

#define DNS_CLASS_IN     1
#define DNS_OPCODE_QUERY 0

/* Header flag bits (the 16-bit word after the ID). */
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_FLAG_AD 0x0020
#define DNS_FLAG_CD 0x0010

/* One query, copied out of the message. */
struct dns_query {
	uint16_t id;
	uint16_t flags; /* the header's flag word as received */
	uint8_t opcode;
	bool has_question; /* qname/qtype/qclass are valid */
	uint16_t qtype;
	uint16_t qclass;
	uint8_t qname[DNS_WIRE_NAME_MAX]; /* wire form, uncompressed, case as received */
	size_t qname_len;
	bool edns; /* the query carried an OPT record */
	uint8_t edns_version;
	bool edns_do;      /* DNSSEC OK, copied into our OPT (RFC 3225) */
	uint16_t udp_size; /* the client's limit: 512 without EDNS, never below 512 */
	size_t opt_off;    /* where the OPT record starts in the message (if edns) */
};

/* Parses a DNS message received as a query.
 * 0: a well-formed query. For opcodes other than QUERY only the header and,
 *    when there is exactly one, the question are read (for the NOTIMP echo).
 * -EPROTO: the header was read (q->id, flags, opcode set; has_question and
 *    edns tell what else was) but the rest is malformed: answer FORMERR.
 * -EBADMSG: shorter than a header, or a response (QR set): never answered. */
int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q);

/* The same query from the same client: a retransmission (same ID, type,
 * class and name bytes). */
bool dns_query_same(const struct dns_query *a, const struct dns_query *b);

/* Checks that msg is a whole DNS response: a header with QR set and every
 * section's records present, no byte missing or left over (names may use
 * backward compression pointers). 0 or -EBADMSG. */
int dns_response_check(const uint8_t *msg, size_t len);

/* The most a reply to q may take: the client's UDP limit capped at cap. */
size_t dns_reply_limit(const struct dns_query *q, size_t cap);

/* Case-insensitive (ASCII only, RFC 4343) comparison of two wire names. */
bool dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* Encodes a dotted name (no escapes; one trailing dot allowed; "" or "." is
 * the root) into wire form. Returns the length or -EINVAL (empty label, label
 * over 63, name over 255). */
int dns_name_encode(const char *text, uint8_t *out, size_t cap);

/* A response under construction. Counts and sizes are private. */
struct dns_reply {
	uint8_t *buf;
	size_t limit; /* dns_reply_limit() */
	size_t len;
	size_t question_end;
	const struct dns_query *q;
	uint16_t rcode;
	uint16_t count[3]; /* answer, authority, additional */
	bool overflow;     /* a record did not fit: finish sends TC */
};

enum dns_section {
	DNS_SECTION_ANSWER = 0,
	DNS_SECTION_AUTHORITY = 1,
};

/* Starts the reply to q in out (cap >= DNS_UDP_MIN): ID and opcode copied, QR
 * and RA set, RD and CD copied, AA if aa, the question echoed when q has one.
 * rcode may be extended (BADVERS), which needs q->edns. -EINVAL otherwise. */
int dns_reply_init(struct dns_reply *r, const struct dns_query *q, uint8_t *out, size_t cap,
                   unsigned rcode, bool aa);
/* The offset of the question name with its first skip labels removed, for use
 * as a compression pointer (an owner name that is the qname or an ancestor of
 * it). -EINVAL if the reply has no question or skip is too large. */
int dns_reply_qname_ptr(const struct dns_reply *r, unsigned skip);
/* Appends one record whose owner is the name at offset owner (see
 * dns_reply_qname_ptr), class IN. A record that does not fit makes the whole
 * reply truncated (dns_reply_finish). */
void dns_reply_add(struct dns_reply *r, enum dns_section s, int owner, uint16_t type, uint32_t ttl,
                   const uint8_t *rdata, size_t rdlen);
/* Completes the reply: our OPT when the query had one (payload size
 * DNS_EDNS_SIZE, DO copied, extended rcode). If the records did not fit, the
 * reply becomes header + question (+ OPT) with TC set and no records.
 * Returns the length. */
size_t dns_reply_finish(struct dns_reply *r);

/* A reply carrying only rcode (FORMERR, NOTIMP, REFUSED, SERVFAIL, BADVERS),
 * not authoritative. Returns the length, or -EINVAL (cap < DNS_UDP_MIN). */
int dns_build_error(const struct dns_query *q, unsigned rcode, uint8_t *out, size_t cap);
/* Header + question (+ OPT) with TC set, for replies larger than the client
 * accepts: a well-behaved client retries over TCP. */
int dns_build_truncated(const struct dns_query *q, uint8_t *out, size_t cap);

/* ---- IP/UDP framing of queries seen on the TUN ---- */

#define DNS_IP_TTL 64

/* Where a query came from and went to, as the reply must swap them. */
struct dns_udp_addr {
	int family;      /* AF_INET or AF_INET6 */
	uint8_t src[16]; /* the client; IPv4 uses the first 4 bytes */
	uint8_t dst[16]; /* the resolver address */
	uint16_t sport;
	uint16_t dport;
};

/* Recognises a packet read from the TUN as a UDP datagram to one of the
 * resolver addresses on port 53: resolver4 (host byte order, 0 = none) or
 * resolver6 (NULL = none). Returns 1 and sets *addr, *payload and *plen;
 * 0 when the packet is anything else (not IP, not UDP, another address or
 * port); -EBADMSG when it is addressed to the resolver but unusable
 * (truncated, a fragment, IPv6 extension headers, a bad IPv4 header or UDP
 * checksum): drop it. */
int dns_udp_match(const uint8_t *pkt, size_t len, uint32_t resolver4, const uint8_t *resolver6,
                  struct dns_udp_addr *addr, const uint8_t **payload, size_t *plen);
/* Writes the IP/UDP packet carrying payload from the resolver back to the
 * client of addr (addresses and ports swapped, TTL/hop limit DNS_IP_TTL,
 * checksums computed). Returns the packet length, -ENOSPC if cap is too
 * small, -EMSGSIZE if the datagram would exceed 65535 bytes, -EINVAL for an
 * unknown family. payload may lie inside out at the payload offset
 * (dns_udp_header_len) to avoid a copy. */
int dns_udp_reply(const struct dns_udp_addr *addr, const uint8_t *payload, size_t plen,
                  uint8_t *out, size_t cap);
/* IP + UDP header length for family: 28 or 48 (0 for an unknown family). */
size_t dns_udp_header_len(int family);
