/* SPDX-License-Identifier: MIT */
/* datapath.c: idlocd's packet path between the TUN device, ESP and the UDP socket. */
#include "daemon/datapath.h"
#include "daemon/locator.h"

#include <errno.h>
#include <string.h>
#include <uv.h>

#include "common/bytes.h"
#include "daemon/peers.h"
#include "hip/bex.h"
#include "net/tun.h"

#define TUN_BURST          64 /* packets read per TUN wakeup */
#define UDP_BURST_BATCHES  8  /* recvmmsg batches per UDP wakeup */
#define REKEY_RETRY_MS     (10 * 1000)
#define IPV6_HDR_LEN       40
#define ICMP6_HDR_LEN      8
#define IPPROTO_ICMP6      58
#define ICMP6_DST_UNREACH  1
#define ICMP6_ADDR_UNREACH 3
#define ICMP6_INFO_MIN     128 /* types below are errors */

void datapath_init(struct datapath *dp, const struct datapath_io *io)
{
	dp->io = *io;
	memset(&dp->stats, 0, sizeof(dp->stats));
	dp->rl_hip = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	dp->rl_esp = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	dp->rl_tun = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	dp->rl_send = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	dp->rl_locator = (struct ratelimit)RATELIMIT_INIT(60000, 5);
	dp->rl_icmp = (struct ratelimit)RATELIMIT_INIT(1000, 10);
}

static const char *from_format(const struct udp_dgram *g, char buf[UDP_ADDRSTRLEN])
{
	return udp_addr_format((const struct sockaddr *)&g->from, buf);
}

/* A failed poll has nothing to read. */
static bool poll_failed(struct ratelimit *rl, const char *what, int status, uint64_t now)
{
	if (status >= 0)
		return false;
	log_ratelimited(rl, now, LOG_WARNING, "%s poll error: %s", what, uv_strerror(status));
	return true;
}

int datapath_send_hip(struct datapath *dp, const struct hip_locator *to, const uint8_t *pkt,
                      size_t len, uint64_t now)
{
	char a[UDP_ADDRSTRLEN];
	int r = udp_send_hip(dp->io.udp, (const struct sockaddr *)&to->addr, to->len, pkt, len);

	if (r < 0) {
		dp->stats.udp_send_err++;
		log_ratelimited(&dp->rl_send, now, LOG_WARNING,
		                "sending HIP packet to %s failed: %s", locator_format(to, a),
		                strerror(-r));
	}
	return r;
}

/* ---- ICMPv6 errors back into the TUN ---- */

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += load_be16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

/* Fills in the checksum of the ICMPv6 message that follows the IPv6 header at b. */
static void icmp6_checksum(uint8_t *b, size_t icmp_len)
{
	uint32_t sum = 0;

	/* Pseudo-header: source, destination, upper-layer length, next header. */
	sum = csum_add(sum, b + 8, 32);
	sum += (uint32_t)icmp_len;
	sum += IPPROTO_ICMP6;
	sum = csum_add(sum, b + IPV6_HDR_LEN, icmp_len);
	store_be16(b + IPV6_HDR_LEN + 2, csum_fold(sum));
}

/* Destination unreachable, code 3 (address unreachable), from our HIT to the
 * sender of pkt, quoting as much of it as fits in DATAPATH_ICMP6_MAX bytes.
 * Returns the length of the packet built in b. */
static size_t icmp6_unreach_build(uint8_t *b, const struct hit *ours, const uint8_t *pkt,
                                  size_t len)
{
	const size_t room = DATAPATH_ICMP6_MAX - IPV6_HDR_LEN - ICMP6_HDR_LEN;
	size_t quote = len < room ? len : room;
	size_t icmp_len = ICMP6_HDR_LEN + quote;

	memset(b, 0, IPV6_HDR_LEN + ICMP6_HDR_LEN);
	store_be32(b, UINT32_C(6) << 28);
	store_be16(b + 4, (uint16_t)icmp_len);
	b[6] = IPPROTO_ICMP6;
	b[7] = 64;
	memcpy(b + 8, ours->b, 16);
	memcpy(b + 24, pkt + 8, 16);
	b[IPV6_HDR_LEN] = ICMP6_DST_UNREACH;
	b[IPV6_HDR_LEN + 1] = ICMP6_ADDR_UNREACH;
	memcpy(b + IPV6_HDR_LEN + ICMP6_HDR_LEN, pkt, quote);
	icmp6_checksum(b, icmp_len);
	return IPV6_HDR_LEN + icmp_len;
}

/* No association for the destination HIT. Never in answer to an ICMPv6 error
 * or to a multicast or unspecified source (RFC 4443 2.4 (e)); rate limited
 * (2.4 (f)). */
static void send_unreachable(struct datapath *dp, const uint8_t *pkt, size_t len, uint64_t now)
{
	static const uint8_t unspecified[16];
	const uint8_t *src = pkt + 8;
	size_t n;

	if (src[0] == 0xff || memcmp(src, unspecified, 16) == 0)
		return;
	if (pkt[6] == IPPROTO_ICMP6 &&
	    (len < IPV6_HDR_LEN + 1 || pkt[IPV6_HDR_LEN] < ICMP6_INFO_MIN))
		return;
	if (!ratelimit_allow(&dp->rl_icmp, now))
		return;
	n = icmp6_unreach_build(dp->icmp_buf, &dp->io.hit, pkt, len);
	if (tun_write(dp->io.tun, dp->icmp_buf, n) < 0)
		dp->stats.tun_write_err++;
}

/* ---- TUN -> ESP -> UDP ---- */

/* An IPv6 packet read from the TUN, its header stripped for BEET. */
struct outbound {
	struct hit dst;
	uint8_t nh;
	size_t off; /* where the payload starts */
	size_t len; /* of the payload */
};

/* Asks the engine for an UPDATE rekey; while one is under way (or after one
 * failed) the next attempt waits REKEY_RETRY_MS. True when the engine was
 * asked. */
static bool request_rekey(struct datapath *dp, struct peer *p, uint64_t now)
{
	char h[HIT_STRLEN];
	int r;

	if (now < p->rekey_next || !p->assoc)
		return false;
	p->rekey_next = now + REKEY_RETRY_MS;
	r = hip_host_rekey(dp->io.hip, p->assoc, now);
	if (r == -ERANGE) {
		/* KEYMAT is used up: only a new base exchange (fresh Diffie-Hellman)
		 * can key this peer again. Close; the next base exchange reopens it. */
		log_msg(LOG_NOTICE, "HIP association with %s: key material exhausted, closing",
		        hit_format(&p->hit, h));
		r = hip_host_close(dp->io.hip, p->assoc, now);
	}
	if (r < 0)
		log_errno(LOG_WARNING, r, "HIP association with %s: cannot start a rekey",
		          hit_format(&p->hit, h));
	else
		log_msg(LOG_INFO, "HIP association with %s: rekeying", hit_format(&p->hit, h));
	return true;
}

/* False, with the packet counted, when it is not one for the overlay. */
static bool outbound_parse(struct datapath *dp, const uint8_t *pkt, size_t len, struct outbound *o,
                           uint64_t now)
{
	struct hit src;
	char h[HIT_STRLEN], s[HIT_STRLEN];
	int plen;

	if (len >= 1 && pkt[0] >> 4 == 4) {
		dp->stats.tun_ipv4++; /* LSIs: a later milestone */
		return false;
	}
	plen = beet_ipv6_outbound(pkt, len, &src, &o->dst, &o->nh, &o->off);
	if (plen < 0) {
		dp->stats.tun_bad++;
		return false;
	}
	o->len = (size_t)plen;
	if (!hit_is_orchid(&o->dst)) {
		dp->stats.tun_not_hit++; /* multicast, link-local chatter of the kernel */
		return false;
	}
	if (hit_cmp(&src, &dp->io.hit) != 0) {
		/* BEET rebuilds the header with our HIT as source; anything else
		 * would reach the peer with a different source than it was sent. */
		dp->stats.tun_foreign_src++;
		log_ratelimited(&dp->rl_tun, now, LOG_INFO,
		                "dropped packet to %s: source %s is not our HIT",
		                hit_format(&o->dst, h), hit_format(&src, s));
		return false;
	}
	return true;
}

/* Encapsulates and sends; true when that asked the engine for a rekey. */
static bool esp_send(struct datapath *dp, struct peer *p, const struct hip_locator *loc,
                     const uint8_t *pkt, const struct outbound *o, uint64_t now)
{
	char h[HIT_STRLEN], l[UDP_ADDRSTRLEN];
	bool rekeying = false;
	int n, r;

	n = esp_encap(&p->out, o->nh, pkt + o->off, o->len, dp->esp_buf, sizeof(dp->esp_buf));
	if (n < 0) {
		dp->stats.esp_dropped++;
		if (n == -EOVERFLOW)
			rekeying = request_rekey(dp, p, now);
		log_ratelimited(&dp->rl_tun, now, LOG_WARNING, "dropped packet to %s: %s",
		                hit_format(&o->dst, h), strerror(-n));
		return rekeying;
	}
	r = udp_send_esp(dp->io.udp, (const struct sockaddr *)&loc->addr, loc->len, dp->esp_buf,
	                 (size_t)n);
	if (r < 0) {
		dp->stats.udp_send_err++;
		log_ratelimited(&dp->rl_send, now, LOG_WARNING, "sending ESP to %s failed: %s",
		                locator_format(loc, l), strerror(-r));
	}
	return esp_sa_needs_rekey(&p->out) && request_rekey(dp, p, now);
}

/* The peer with SAs for dst, or NULL (*ret_assoc tells whether an
 * association exists at all). */
static struct peer *keyed_peer(struct datapath *dp, const struct hit *dst,
                               struct hip_assoc **ret_assoc)
{
	struct hip_assoc *a = hip_host_find(dp->io.hip, dst);
	struct peer *p = a ? hip_assoc_user(a) : NULL;
	enum hip_state st = a ? hip_assoc_state(a) : HIP_STATE_UNASSOCIATED;

	*ret_assoc = a;
	/* R2-SENT has verified keys from a signed I2; waiting for ESTABLISHED
	 * would stall a Responder's first packets for 4 retransmit periods. */
	if (!p || (st != HIP_STATE_ESTABLISHED && st != HIP_STATE_R2_SENT))
		return NULL;
	return p;
}

/* True when sending the packet asked the engine for a rekey. */
static bool tun_packet(struct datapath *dp, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct outbound o;
	struct hip_assoc *a;
	struct peer *p;

	if (!outbound_parse(dp, pkt, len, &o, now))
		return false;
	p = keyed_peer(dp, &o.dst, &a);
	if (!a) {
		dp->stats.tun_no_assoc++;
		send_unreachable(dp, pkt, o.off + o.len, now);
		return false;
	}
	if (!p) {
		dp->stats.tun_pending++;
		return false;
	}
	return esp_send(dp, p, hip_assoc_locator(a), pkt, &o, now);
}

int datapath_send_to(struct datapath *dp, const struct hit *dst, uint8_t next_header,
                     const uint8_t *payload, size_t len, uint64_t now)
{
	struct outbound o = {.dst = *dst, .nh = next_header, .off = 0, .len = len};
	struct hip_assoc *a;
	struct peer *p = keyed_peer(dp, dst, &a);

	if (!p)
		return -ENOTCONN;
	return esp_send(dp, p, hip_assoc_locator(a), payload, &o, now) ? 1 : 0;
}

bool datapath_on_tun(struct datapath *dp, int status, uint64_t now)
{
	bool rekeying = false;

	if (poll_failed(&dp->rl_tun, "TUN", status, now))
		return false;
	for (int i = 0; i < TUN_BURST; i++) {
		ssize_t n = tun_read(dp->io.tun, dp->tun_buf, sizeof(dp->tun_buf));
		if (n == 0)
			break;
		if (n < 0) {
			log_ratelimited(&dp->rl_tun, now, LOG_WARNING, "reading TUN failed: %s",
			                strerror((int)-n));
			break;
		}
		if (tun_packet(dp, dp->tun_buf, (size_t)n, now))
			rekeying = true;
	}
	return rekeying;
}

/* ---- UDP -> HIP or ESP -> TUN ---- */

static const char *decap_error(int err)
{
	if (err == -EBADMSG)
		return "malformed or failed authentication";
	if (err == -EALREADY || err == -ERANGE)
		return "replayed or too old";
	return strerror(-err);
}

/* Decrypts g behind room for the IPv6 header BEET puts back; the payload
 * length, or a negative errno with the packet counted and dropped. */
static int esp_receive(struct datapath *dp, const struct udp_dgram *g, uint64_t now,
                       struct peer **ret_peer, uint8_t *ret_nh)
{
	uint32_t spi = esp_peek_spi(g->data, g->len);
	struct esp_sa *sa = spi ? peers_find_spi(dp->io.peers, spi, now, ret_peer) : NULL;
	char a[UDP_ADDRSTRLEN];
	int n;

	if (!sa) {
		dp->stats.esp_unknown_spi++;
		log_ratelimited(&dp->rl_esp, now, LOG_INFO,
		                "dropped ESP packet from %s: unknown SPI 0x%08x", from_format(g, a),
		                spi);
		return -ENOENT;
	}
	n = esp_decap(sa, g->data, g->len, dp->decap_buf + BEET_IPV6_HDR_LEN,
	              sizeof(dp->decap_buf) - BEET_IPV6_HDR_LEN, ret_nh);
	if (n < 0) {
		dp->stats.esp_dropped++;
		log_ratelimited(&dp->rl_esp, now, LOG_INFO, "dropped ESP packet from %s: %s",
		                from_format(g, a), decap_error(n));
	}
	return n;
}

/* Tells the engine the association carries authenticated ESP. */
static void esp_arrived(struct datapath *dp, const struct peer *p, const struct udp_dgram *g,
                        uint64_t now)
{
	const struct hip_locator *loc;
	char a[UDP_ADDRSTRLEN], b[UDP_ADDRSTRLEN], h[HIT_STRLEN];

	if (!p->assoc)
		return;
	hip_assoc_esp_received(p->assoc);
	loc = hip_assoc_locator(p->assoc);
	/* Authenticated, so accepted; following the peer to its new address is
	 * mobility (HIP UPDATE), a later milestone. */
	if (!udp_addr_equal((const struct sockaddr *)&g->from, (const struct sockaddr *)&loc->addr))
		log_ratelimited(&dp->rl_locator, now, LOG_INFO,
		                "ESP from %s for %s arrives from %s; locator unchanged",
		                hit_format(&p->hit, h), from_format(g, a), locator_format(loc, b));
}

static void udp_esp(struct datapath *dp, const struct udp_dgram *g, uint64_t now)
{
	struct peer *p = NULL;
	uint8_t nh;
	int n, r;

	n = esp_receive(dp, g, now, &p, &nh);
	if (n < 0)
		return;
	esp_arrived(dp, p, g, now);
	if (dp->io.local && dp->io.local(dp->io.local_ctx, &p->hit, nh,
	                                 dp->decap_buf + BEET_IPV6_HDR_LEN, (size_t)n, now))
		return;
	r = beet_ipv6_inbound(dp->decap_buf, sizeof(dp->decap_buf), (size_t)n, &p->hit, &dp->io.hit,
	                      nh);
	if (r < 0) {
		dp->stats.esp_dropped++;
		return;
	}
	if (tun_write(dp->io.tun, dp->decap_buf, (size_t)r) < 0)
		dp->stats.tun_write_err++;
}

static void udp_hip(struct datapath *dp, const struct udp_dgram *g, size_t off, uint64_t now)
{
	struct hip_locator from = {.len = g->fromlen};
	const char *reason = NULL;
	char a[UDP_ADDRSTRLEN];
	int r;

	memcpy(&from.addr, &g->from, sizeof(from.addr));
	r = hip_host_input(dp->io.hip, g->data + off, g->len - off, &from, now, &reason);
	if (r < 0) {
		dp->stats.hip_dropped++;
		log_ratelimited(&dp->rl_hip, now, LOG_INFO, "dropped HIP packet from %s: %s",
		                locator_format(&from, a), reason ? reason : strerror(-r));
	}
}

static void udp_dgram(struct datapath *dp, const struct udp_dgram *g, uint64_t now)
{
	size_t off;

	if (g->truncated) {
		dp->stats.udp_truncated++;
		return;
	}
	switch (udp_classify(g->data, g->len, &off)) {
	case UDP_KIND_DROP:
		dp->stats.udp_short++;
		break;
	case UDP_KIND_ESP:
		udp_esp(dp, g, now);
		break;
	case UDP_KIND_HIP:
		udp_hip(dp, g, off, now);
		break;
	}
}

bool datapath_on_udp(struct datapath *dp, int status, uint64_t now)
{
	if (poll_failed(&dp->rl_send, "UDP", status, now))
		return false;
	for (int b = 0; b < UDP_BURST_BATCHES; b++) {
		int n = udp_recv_batch(dp->io.udp, dp->io.batch);
		if (n < 0) {
			/* ICMP errors from earlier sends surface here; not fatal. */
			log_ratelimited(&dp->rl_send, now, LOG_DEBUG, "UDP receive: %s",
			                strerror(-n));
			continue;
		}
		for (int i = 0; i < n; i++)
			udp_dgram(dp, &dp->io.batch->d[i], now);
		if (n < UDP_BATCH)
			break;
	}
	return true;
}
