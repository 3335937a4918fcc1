/* SPDX-License-Identifier: MIT */
/* datapath.c: idlocd's packet path between the TUN device, ESP, the UDP socket
 * and the peers' pipes. */
#include "daemon/datapath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "common/bytes.h"
#include "daemon/idmap.h"
#include "daemon/locator.h"
#include "daemon/peers.h"
#include "daemon/pipes.h"
#include "esp/ipv4.h"
#include "esp/pmtu.h"
#include "esp/tso.h"
#include "hip/bex.h"
#include "net/tun.h"

#define TUN_BURST         64 /* packets read per TUN wakeup */
#define UDP_BURST_BATCHES 8  /* recvmmsg batches per UDP wakeup */
#define REKEY_RETRY_MS    (10 * 1000)
#define ESP_NH_NONE       59 /* RFC 4303 2.6: a dummy packet, discarded on receipt */

unsigned datapath_offloads(void)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
	        {"tun", DATAPATH_OFFLOAD_TUN},
	        {"gso", DATAPATH_OFFLOAD_GSO},
	        {"gro", DATAPATH_OFFLOAD_GRO},
	};
	const char *e = getenv("IDLOC_OFFLOAD");
	unsigned r = 0;

	if (!e || !*e || strcmp(e, "all") == 0)
		return DATAPATH_OFFLOAD_ALL;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		size_t n = strlen(names[i].name);
		for (const char *p = e; (p = strstr(p, names[i].name)); p += n)
			if ((p == e || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
				r |= names[i].bit;
	}
	return r;
}

bool datapath_crypto_worker(void)
{
	const char *e = getenv("IDLOC_CRYPTO_WORKER");

	if (e && strcmp(e, "0") == 0)
		return false;
	return sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

/* Settles which offloads the fds ended up with, and says so once. */
static void offloads_init(struct datapath *dp)
{
	unsigned want = datapath_offloads();
	const struct tun *t = dp->io.tun;
	struct udp_sock *u = dp->io.udp;

	/* The daemon opened the TUN with datapath_offloads() too. */
	dp->offloads = t->vnet ? DATAPATH_OFFLOAD_TUN : 0;
	if (want & DATAPATH_OFFLOAD_GSO && u->gso)
		dp->offloads |= DATAPATH_OFFLOAD_GSO;
	if (!(want & DATAPATH_OFFLOAD_GRO) && u->gro && udp_set_gro(u, false) < 0)
		log_msg(LOG_WARNING, "cannot turn UDP_GRO off");
	if (u->gro)
		dp->offloads |= DATAPATH_OFFLOAD_GRO;
	udp_tx_init(&dp->tx, dp->offloads & DATAPATH_OFFLOAD_GSO);
	gro_init(&dp->gro);
	log_msg(LOG_INFO, "data path offloads: TUN %s (0x%x), UDP GSO %s, UDP GRO %s",
	        dp->offloads & DATAPATH_OFFLOAD_TUN ? "on" : "off", t->offloads,
	        dp->offloads & DATAPATH_OFFLOAD_GSO ? "on" : "off",
	        dp->offloads & DATAPATH_OFFLOAD_GRO ? "on" : "off");
}

void datapath_init(struct datapath *dp, const struct datapath_io *io)
{
	dp->io = *io;
	memset(&dp->stats, 0, sizeof(dp->stats));
	offloads_init(dp);
	dp->esp_max = pmtu_esp_max(DATAPATH_PATH_MTU, PMTU_OUTER_IPV6 + PMTU_TURN_CHANNEL);
	dp->rl_hip = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	dp->rl_esp = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	dp->rl_tun = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	dp->rl_send = (struct ratelimit)RATELIMIT_INIT(5000, 10);
	dp->rl_locator = (struct ratelimit)RATELIMIT_INIT(60000, 5);
	dp->rl_icmp = (struct ratelimit)RATELIMIT_INIT(1000, 10);
	dp->nseal = dp->nopen = 0;
	dp->worker = NULL;
	dp->worker_wanted = datapath_crypto_worker();
	log_msg(LOG_INFO, "crypto worker thread: %s",
	        dp->worker_wanted ? "on, from the first batch of packets" : "off");
}

void datapath_done(struct datapath *dp)
{
	dp->worker = worker_free(dp->worker);
}

/* The crypto worker for a batch of n packets, started on the first batch
 * worth it: that comes from the event loop, after the daemon dropped its
 * privileges (a thread made before would keep them). NULL: the loop thread
 * does the batch alone. */
static struct worker *batch_worker(struct datapath *dp, size_t n)
{
	int r;

	if (dp->worker || !dp->worker_wanted || n < WORKER_MIN_BATCH)
		return dp->worker;
	r = worker_new(&dp->worker);
	if (r < 0) {
		dp->worker_wanted = false;
		dp->worker = NULL;
		log_errno(LOG_WARNING, r, "crypto worker thread not started");
	} else {
		log_msg(LOG_INFO, "crypto worker thread started");
	}
	return dp->worker;
}

/* Seals the ESP packets the send queue holds unsealed, each run of one SA
 * as one batch. Before the queue is sent, and before anything that may
 * replace or free an SA (a rekey, a close). */
static void seal_pending(struct datapath *dp)
{
	unsigned n = dp->nseal;

	dp->nseal = 0;
	for (unsigned i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && dp->seal_sa[j] == dp->seal_sa[i]; j++)
			;
		dp->stats.worker_sealed += worker_run(batch_worker(dp, j - i), WORKER_SEAL,
		                                      dp->seal_sa[i], &dp->seal_job[i], j - i);
	}
	/* A library failure: esp_seal wiped the packet, which leaves as zeros
	 * (a malformed HIP packet to the receiver), never as plaintext. */
	for (unsigned i = 0; i < n; i++)
		if (dp->seal_job[i].result < 0)
			dp->stats.esp_dropped++;
}

static const char *from_format(const struct sockaddr_storage *from, char buf[UDP_ADDRSTRLEN])
{
	return udp_addr_format((const struct sockaddr *)from, buf);
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

/* ---- ICMP errors back into the TUN ---- */

static void icmp_write(struct datapath *dp, int n, uint64_t now)
{
	if (n <= 0 || !ratelimit_allow(&dp->rl_icmp, now))
		return;
	if (tun_write(dp->io.tun, dp->icmp_buf, (size_t)n) < 0)
		dp->stats.tun_write_err++;
}

void datapath_unreachable(struct datapath *dp, const uint8_t *pkt, size_t len, uint64_t now)
{
	int n;

	if (len >= 1 && pkt[0] >> 4 == 4)
		n = pmtu_icmp4_unreach(dp->icmp_buf, sizeof(dp->icmp_buf), pkt, len);
	else
		n = pmtu_icmp6_unreach(dp->icmp_buf, sizeof(dp->icmp_buf), dp->io.hit.b, pkt, len);
	icmp_write(dp, n, now);
}

/* False, with "too big" sent back, when one ESP datagram cannot carry pkt
 * and its sender forbids fragmentation. */
static bool fits(struct datapath *dp, const uint8_t *pkt, size_t len, uint64_t now)
{
	unsigned mtu;
	int n;

	if (pmtu_check(pkt, len, dp->esp_max, &mtu) != PMTU_TOO_BIG)
		return true;
	dp->stats.tun_too_big++;
	if (pkt[0] >> 4 == 4)
		n = pmtu_icmp4_frag_needed(dp->icmp_buf, sizeof(dp->icmp_buf), pkt, len,
		                           (uint16_t)mtu);
	else
		n = pmtu_icmp6_too_big(dp->icmp_buf, sizeof(dp->icmp_buf), dp->io.hit.b, pkt, len,
		                       mtu);
	icmp_write(dp, n, now);
	return false;
}

/* ---- TUN -> ESP -> UDP or pipe ---- */

/* One packet from the TUN on its way to a peer. */
struct outbound {
	const uint8_t *pkt; /* as read from the TUN (what a pipe queues) */
	size_t pkt_len;
	struct hit dst;
	uint8_t nh;
	const uint8_t *payload; /* what ESP carries */
	size_t len;
	uint8_t *ipv4;           /* IPv4: the packet, rewritten before ESP */
	struct ipv4_addrs canon; /* IPv4: the addresses on the wire */
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
	seal_pending(dp);
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

/* An IPv6 packet: to a HIT, from our HIT. */
static bool parse_ipv6(struct datapath *dp, uint8_t *pkt, size_t len, struct outbound *o,
                       uint64_t now)
{
	struct hit src;
	char h[HIT_STRLEN], s[HIT_STRLEN];
	size_t off;
	int plen;

	plen = beet_ipv6_outbound(pkt, len, &src, &o->dst, &o->nh, &off);
	if (plen < 0) {
		dp->stats.tun_bad++;
		return false;
	}
	if (!hit_is_orchid(&o->dst)) {
		dp->stats.tun_not_ours++; /* multicast, link-local chatter of the kernel */
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
	o->pkt_len = off + (size_t)plen;
	if (!fits(dp, pkt, o->pkt_len, now))
		return false;
	(void)ipv4_clamp_mss(pkt, o->pkt_len, dp->io.mtu);
	o->payload = pkt + off;
	o->len = (size_t)plen;
	return true;
}

/* An IPv4 packet: to an LSI (or the resolver), from our LSI. */
static bool parse_ipv4(struct datapath *dp, uint8_t *pkt, size_t len, struct outbound *o,
                       uint64_t now)
{
	const struct idmap_entry *self, *peer;
	struct ipv4_info ip;
	int n = ipv4_parse(pkt, len, &ip);

	if (n < 0) {
		dp->stats.tun_bad++;
		return false;
	}
	o->pkt_len = (size_t)n;
	if (ip.dst == dp->io.resolver && dp->io.dns &&
	    dp->io.dns(dp->io.dns_ctx, pkt, o->pkt_len, now))
		return false;
	/* Outside the prefix, or its network, broadcast or resolver address:
	 * not a peer, and no ICMP error answers a broadcast. */
	if (!dp->io.idmap || !idmap_lsi_usable(dp->io.idmap, ip.dst)) {
		dp->stats.tun_not_ours++;
		return false;
	}
	self = idmap_self(dp->io.idmap);
	if (ip.src != self->lsi) {
		dp->stats.tun_foreign_src++;
		return false;
	}
	peer = idmap_by_lsi(dp->io.idmap, ip.dst);
	if (!peer || peer->self) {
		dp->stats.tun_no_peer++;
		datapath_unreachable(dp, pkt, o->pkt_len, now);
		return false;
	}
	if (!fits(dp, pkt, o->pkt_len, now))
		return false;
	(void)ipv4_clamp_mss(pkt, o->pkt_len, dp->io.mtu);
	o->dst = peer->hit;
	o->nh = IPV4_PROTO_IPIP;
	o->payload = pkt;
	o->len = o->pkt_len;
	o->ipv4 = pkt;
	o->canon = (struct ipv4_addrs){.src = self->canon, .dst = peer->canon};
	return true;
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

/* True when ESP for the association can go now: over its own address, or
 * over its pipe once that is up. */
static bool has_path(const struct datapath *dp, const struct hip_assoc *a, const struct hit *peer)
{
	return !locator_is_overlay(hip_assoc_locator(a)) ||
	       (dp->io.pipes && pipes_up(dp->io.pipes, peer));
}

/* Sends what the socket's queue holds (the end of every entry point that
 * sends ESP: a burst's datagrams leave in as few system calls as possible). */
static void flush_tx(struct datapath *dp, uint64_t now)
{
	bool gso = dp->tx.gso;
	unsigned dropped;
	int err;

	seal_pending(dp);
	if (!dp->tx.n)
		return;
	dropped = udp_tx_flush(&dp->tx, dp->io.udp, &err);
	if (gso && !dp->tx.gso)
		log_msg(LOG_NOTICE, "UDP segmentation offload refused (EIO): sending singly");
	if (!dropped)
		return;
	dp->stats.udp_send_err += dropped;
	log_ratelimited(&dp->rl_send, now, LOG_WARNING, "sending ESP failed: %u datagrams: %s",
	                dropped, strerror(-err));
}

/* ESP for the peer's pipe, at once: the pipe has no batching. */
static int pipe_send(struct datapath *dp, struct peer *p, struct outbound *o, uint64_t now)
{
	char h[HIT_STRLEN];
	int n = esp_encap(&p->out, o->nh, o->payload, o->len, dp->esp_buf, sizeof(dp->esp_buf));

	if (n < 0)
		return n;
	n = dp->io.pipes ? pipes_send(dp->io.pipes, &p->hit, dp->esp_buf, (size_t)n) : -ENOTCONN;
	if (n < 0) {
		dp->stats.pipe_send_err++;
		log_ratelimited(&dp->rl_send, now, LOG_INFO,
		                "sending ESP to %s on its pipe failed: %s", hit_format(&p->hit, h),
		                strerror(-n));
		return 0; /* counted and logged: not an ESP error */
	}
	p->last_tx = now;
	return 0;
}

/* ESP for the socket, written straight into its send queue. */
static int socket_send(struct datapath *dp, struct peer *p, const struct hip_locator *loc,
                       struct outbound *o, uint64_t now)
{
	char a[UDP_ADDRSTRLEN];
	size_t cap = esp_encap_size(o->len);
	uint8_t *out = udp_tx_room(&dp->tx, cap);
	int n, r;

	if (!out) {
		flush_tx(dp, now);
		out = udp_tx_room(&dp->tx, cap);
		if (!out)
			return -EMSGSIZE;
	}
	if (dp->nseal == DATAPATH_SEAL_MAX)
		seal_pending(dp);
	n = esp_encap_prepare(&p->out, o->nh, o->payload, o->len, out, cap);
	if (n < 0)
		return n;
	r = udp_tx_push(&dp->tx, dp->io.udp, (const struct sockaddr *)&loc->addr, loc->len,
	                (size_t)n);
	if (r < 0) {
		memzero(out, (size_t)n); /* not queued: the plaintext goes nowhere */
		dp->stats.udp_send_err++;
		log_ratelimited(&dp->rl_send, now, LOG_WARNING, "sending ESP to %s failed: %s",
		                locator_format(loc, a), strerror(-r));
		return 0;
	}
	/* Sealed when the queue is sent (flush_tx): the packets of a burst
	 * form batches for the crypto worker. */
	dp->seal_sa[dp->nseal] = &p->out;
	dp->seal_job[dp->nseal++] = (struct worker_job){.pkt = out, .len = (size_t)n};
	p->last_tx = now;
	return 0;
}

/* Encapsulates and queues or sends: over the peer's pipe when the
 * association has no address of its own, else over our socket. True when
 * that asked the engine for a rekey. The payload may be rewritten (IPv4 to
 * canonical LSIs). */
static bool esp_send(struct datapath *dp, struct peer *p, const struct hip_locator *loc,
                     struct outbound *o, uint64_t now)
{
	char h[HIT_STRLEN];
	bool rekeying = false;
	int n;

	if (o->ipv4 && ipv4_rewrite(o->ipv4, o->len, o->canon) < 0) {
		dp->stats.tun_bad++;
		return false;
	}
	if (locator_is_overlay(loc))
		n = pipe_send(dp, p, o, now);
	else
		n = socket_send(dp, p, loc, o, now);
	if (n < 0) {
		dp->stats.esp_dropped++;
		if (n == -EOVERFLOW)
			rekeying = request_rekey(dp, p, now);
		log_ratelimited(&dp->rl_tun, now, LOG_WARNING, "dropped packet to %s: %s",
		                hit_format(&o->dst, h), strerror(-n));
		return rekeying;
	}
	return esp_sa_needs_rekey(&p->out) && request_rekey(dp, p, now);
}

/* No usable path to the peer: the pipes set one up while the packet waits. */
static void hold(struct datapath *dp, struct outbound *o, uint64_t now)
{
	int r = dp->io.pipes ? pipes_queue(dp->io.pipes, &o->dst, o->pkt, o->pkt_len, now)
	                     : -EHOSTUNREACH;

	if (r == 0) {
		dp->stats.tun_queued++;
		return;
	}
	if (r == -ENOBUFS) {
		dp->stats.tun_queue_full++; /* the newest is dropped */
		return;
	}
	dp->stats.tun_no_peer++;
	datapath_unreachable(dp, o->pkt, o->pkt_len, now);
}

/* True when sending the packet asked the engine for a rekey. */
static bool route(struct datapath *dp, struct outbound *o, uint64_t now)
{
	struct hip_assoc *a;
	struct peer *p = keyed_peer(dp, &o->dst, &a);
	const struct hip_locator *loc = a ? hip_assoc_locator(a) : NULL;

	if (!p || !has_path(dp, a, &o->dst)) {
		hold(dp, o, now);
		return false;
	}
	return esp_send(dp, p, loc, o, now);
}

static bool tun_packet(struct datapath *dp, uint8_t *pkt, size_t len, uint64_t now)
{
	struct outbound o = {.pkt = pkt};
	bool ok;

	if (len >= 1 && pkt[0] >> 4 == 4)
		ok = parse_ipv4(dp, pkt, len, &o, now);
	else
		ok = parse_ipv6(dp, pkt, len, &o, now);
	return ok && route(dp, &o, now);
}

bool datapath_tun_packet(struct datapath *dp, const uint8_t *pkt, size_t len, uint64_t now)
{
	bool rekeying;

	if (len > sizeof(dp->flush_buf))
		return false;
	memcpy(dp->flush_buf, pkt, len);
	rekeying = tun_packet(dp, dp->flush_buf, len, now);
	flush_tx(dp, now);
	return rekeying;
}

int datapath_send_to(struct datapath *dp, const struct hit *dst, uint8_t next_header,
                     const uint8_t *payload, size_t len, uint64_t now)
{
	struct outbound o = {.dst = *dst, .nh = next_header, .payload = payload, .len = len};
	struct hip_assoc *a;
	struct peer *p = keyed_peer(dp, dst, &a);
	bool rekeying;

	if (!p || !has_path(dp, a, dst))
		return -ENOTCONN;
	rekeying = esp_send(dp, p, hip_assoc_locator(a), &o, now);
	flush_tx(dp, now);
	return rekeying ? 1 : 0;
}

bool datapath_keepalive(struct datapath *dp, uint64_t interval, uint64_t now)
{
	bool rekeying = false;

	for (size_t i = 0; i < peers_count(dp->io.peers); i++) {
		struct peer *p = peers_get(dp->io.peers, i);
		struct hip_assoc *a = p->assoc;
		static const uint8_t none[1];
		struct outbound o = {.dst = p->hit, .nh = ESP_NH_NONE, .payload = none};

		if (!a || now - p->last_tx < interval ||
		    hip_assoc_state(a) != HIP_STATE_ESTABLISHED)
			continue;
		if (!has_path(dp, a, &p->hit))
			continue;
		if (esp_send(dp, p, hip_assoc_locator(a), &o, now))
			rekeying = true;
		dp->stats.keepalives_sent++;
	}
	flush_tx(dp, now);
	return rekeying;
}

/* A super-packet from the TUN, cut into the packets it stands for. */
static bool tun_super(struct datapath *dp, const struct vnet_hdr *h, const uint8_t *pkt, size_t len,
                      uint64_t now)
{
	bool rekeying = false;
	struct tso t;
	int n = tso_init(&t, h, pkt, len);

	if (n < 0) {
		dp->stats.tun_bad++;
		log_ratelimited(&dp->rl_tun, now, LOG_INFO,
		                "dropped TUN super-packet (type %u, %zu bytes): %s", h->gso_type,
		                len, strerror(-n));
		return false;
	}
	dp->stats.tun_super++;
	while ((n = tso_next(&t, dp->seg_buf, sizeof(dp->seg_buf))) > 0) {
		dp->stats.tun_segments++;
		if (tun_packet(dp, dp->seg_buf, (size_t)n, now))
			rekeying = true;
	}
	if (n < 0)
		dp->stats.tun_bad++;
	return rekeying;
}

/* One read from the TUN: a packet, maybe with its checksum left to us, or
 * a super-packet. */
static bool tun_input(struct datapath *dp, const struct vnet_hdr *h, uint8_t *pkt, size_t len,
                      uint64_t now)
{
	if (h->gso_type != VNET_GSO_NONE)
		return tun_super(dp, h, pkt, len, now);
	if (tso_finish_csum(h, pkt, len) < 0) {
		dp->stats.tun_bad++;
		return false;
	}
	return tun_packet(dp, pkt, len, now);
}

bool datapath_on_tun(struct datapath *dp, int status, uint64_t now)
{
	bool rekeying = false;
	struct vnet_hdr h;

	if (poll_failed(&dp->rl_tun, "TUN", status, now))
		return false;
	for (int i = 0; i < TUN_BURST; i++) {
		ssize_t n = tun_read(dp->io.tun, &h, dp->tun_buf, sizeof(dp->tun_buf));
		if (n == 0)
			break;
		if (n < 0) {
			log_ratelimited(&dp->rl_tun, now, LOG_WARNING, "reading TUN failed: %s",
			                strerror((int)-n));
			break;
		}
		if (tun_input(dp, &h, dp->tun_buf, (size_t)n, now))
			rekeying = true;
	}
	flush_tx(dp, now);
	return rekeying;
}

/* ---- UDP or pipe -> HIP or ESP -> TUN ---- */

static const char *decap_error(int err)
{
	if (err == -EBADMSG)
		return "malformed or failed authentication";
	if (err == -EALREADY || err == -ERANGE)
		return "replayed or too old";
	return strerror(-err);
}

/* Where a datagram came from: a UDP address, or a peer's pipe. */
struct origin {
	const struct sockaddr_storage *from; /* NULL: a pipe */
	const struct hit *peer;              /* pipe: whose */
};

static const char *origin_format(const struct origin *o, char buf[UDP_ADDRSTRLEN + 8])
{
	char h[HIT_STRLEN];

	if (o->from)
		return from_format(o->from, buf);
	snprintf(buf, UDP_ADDRSTRLEN + 8, "pipe %s", hit_format(o->peer, h));
	return buf;
}

/* The inbound SA for an ESP packet, or NULL with the packet counted. */
static struct esp_sa *find_sa(struct datapath *dp, const uint8_t *data, size_t len,
                              const struct origin *o, uint64_t now, struct peer **ret_peer)
{
	uint32_t spi = esp_peek_spi(data, len);
	struct esp_sa *sa = spi ? peers_find_spi(dp->io.peers, spi, now, ret_peer) : NULL;
	char a[UDP_ADDRSTRLEN + 8];

	if (!sa) {
		dp->stats.esp_unknown_spi++;
		log_ratelimited(&dp->rl_esp, now, LOG_INFO,
		                "dropped ESP packet from %s: unknown SPI 0x%08x",
		                origin_format(o, a), spi);
	}
	return sa;
}

static void esp_rejected(struct datapath *dp, const struct origin *o, int err, uint64_t now)
{
	char a[UDP_ADDRSTRLEN + 8];

	dp->stats.esp_dropped++;
	log_ratelimited(&dp->rl_esp, now, LOG_INFO, "dropped ESP packet from %s: %s",
	                origin_format(o, a), decap_error(err));
}

/* Decrypts into decap_buf behind room for the IPv6 header BEET puts back; the
 * payload length, or a negative errno with the packet counted and dropped. */
static int esp_receive(struct datapath *dp, const uint8_t *data, size_t len, const struct origin *o,
                       uint64_t now, struct peer **ret_peer, uint8_t *ret_nh)
{
	struct esp_sa *sa = find_sa(dp, data, len, o, now, ret_peer);
	int n;

	if (!sa)
		return -ENOENT;
	n = esp_decap(sa, data, len, dp->decap_buf + BEET_IPV6_HDR_LEN,
	              sizeof(dp->decap_buf) - BEET_IPV6_HDR_LEN, ret_nh);
	if (n < 0)
		esp_rejected(dp, o, n, now);
	return n;
}

/* Tells the engine the association carries authenticated ESP. */
static void esp_arrived(struct datapath *dp, const struct peer *p, const struct origin *o,
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
	if (o->from && !locator_is_overlay(loc) &&
	    !udp_addr_equal((const struct sockaddr *)o->from, (const struct sockaddr *)&loc->addr))
		log_ratelimited(&dp->rl_locator, now, LOG_INFO,
		                "ESP from %s for %s arrives from %s; locator unchanged",
		                hit_format(&p->hit, h), from_format(o->from, a),
		                locator_format(loc, b));
}

/* A whole IPv4 packet from the peer: canonical LSIs on the wire, ours in
 * the TUN. Returns its length or a negative errno. */
static int ipv4_in(struct datapath *dp, const struct hit *from, uint8_t *pkt, size_t len,
                   uint64_t now)
{
	const struct idmap_entry *self, *peer;
	char h[HIT_STRLEN];
	int r;

	/* Every keyed peer got its entry when its keys arrived (daemon.c,
	 * on_established): a lookup, not an insertion, per packet. */
	peer = dp->io.idmap ? idmap_by_hit(dp->io.idmap, from) : NULL;
	if (!peer) {
		dp->stats.ipv4_refused++;
		return -ENOENT;
	}
	self = idmap_self(dp->io.idmap);
	r = ipv4_inbound(pkt, len, (struct ipv4_addrs){.src = peer->canon, .dst = self->canon},
	                 (struct ipv4_addrs){.src = peer->lsi, .dst = self->lsi});
	if (r < 0) {
		dp->stats.ipv4_refused++;
		log_ratelimited(&dp->rl_esp, now, LOG_INFO, "dropped IPv4 packet from %s: %s",
		                hit_format(from, h),
		                r == -EACCES          ? "source is not its LSI"
		                : r == -EADDRNOTAVAIL ? "destination is not our LSI"
		                                      : "malformed");
	}
	return r;
}

static void gro_emit(void *ctx, const struct vnet_hdr *h, const uint8_t *pkt, size_t len)
{
	struct datapath *dp = ctx;

	if (tun_write_vnet(dp->io.tun, h, pkt, len) < 0)
		dp->stats.tun_write_err++;
}

/* A decrypted packet for the TUN. Within a burst (from the socket, or what
 * libnice delivers in one dispatch: datapath_pipe_burst) TCP waits for its
 * flow's next segments, and the burst's end flushes them. */
static void to_tun(struct datapath *dp, const uint8_t *pkt, size_t len)
{
	if (dp->in_burst)
		gro_add(&dp->gro, pkt, len, gro_emit, dp);
	else if (tun_write(dp->io.tun, pkt, len) < 0)
		dp->stats.tun_write_err++;
}

/* A verified payload from the peer: for the daemon, or rebuilt for the
 * TUN. BEET needs room for the IPv6 header in front: a payload elsewhere
 * (decrypted in its receive slot) is copied into decap_buf first. */
static void deliver(struct datapath *dp, const struct hit *from, uint8_t nh, uint8_t *payload,
                    size_t n, uint64_t now)
{
	uint8_t *room = dp->decap_buf + BEET_IPV6_HDR_LEN;
	int r;

	if (nh == ESP_NH_NONE) {
		dp->stats.esp_keepalives++; /* a keepalive: its work is done */
		return;
	}
	if (dp->io.local && dp->io.local(dp->io.local_ctx, from, nh, payload, n, now))
		return;
	if (nh == IPV4_PROTO_IPIP) {
		r = ipv4_in(dp, from, payload, n, now);
		if (r >= 0)
			to_tun(dp, payload, (size_t)r);
		return;
	}
	if (payload != room) {
		if (n > sizeof(dp->decap_buf) - BEET_IPV6_HDR_LEN) {
			dp->stats.esp_dropped++;
			return;
		}
		memcpy(room, payload, n);
	}
	r = beet_ipv6_inbound(dp->decap_buf, sizeof(dp->decap_buf), n, from, &dp->io.hit, nh);
	if (r < 0) {
		dp->stats.esp_dropped++;
		return;
	}
	to_tun(dp, dp->decap_buf, (size_t)r);
}

/* One ESP packet at once (from a pipe). */
static void esp_input(struct datapath *dp, const uint8_t *data, size_t len, const struct origin *o,
                      uint64_t now)
{
	struct peer *p = NULL;
	uint8_t nh;
	int n;

	n = esp_receive(dp, data, len, o, now, &p, &nh);
	if (n < 0)
		return;
	esp_arrived(dp, p, o, now);
	deliver(dp, &p->hit, nh, dp->decap_buf + BEET_IPV6_HDR_LEN, (size_t)n, now);
}

/* Opens the ESP packets of one SA gathered from the socket (open_add), the
 * crypto worker helping, then, on the loop thread and in arrival order,
 * moves the replay window and hands the payloads on. Every SA access ends
 * before the first payload goes to the daemon's hooks. */
static void open_run(struct datapath *dp, uint64_t now)
{
	unsigned n = dp->nopen;
	struct esp_sa *sa = dp->open_sa;
	struct hit from;

	if (!n)
		return;
	dp->nopen = 0;
	dp->stats.worker_opened +=
	        worker_run(batch_worker(dp, n), WORKER_OPEN, sa, dp->open_job, n);
	for (unsigned i = 0; i < n; i++) {
		struct worker_job *j = &dp->open_job[i];
		struct origin o = {.from = dp->open_from[i]};
		uint8_t *payload = j->pkt + ESP_HDR_LEN + ESP_IV_LEN;
		int r = j->result;

		if (r >= 0)
			r = esp_decap_commit(sa, j->pkt, j->len, payload, j->result);
		if (r < 0) {
			j->result = r;
			esp_rejected(dp, &o, r, now);
			continue;
		}
		esp_arrived(dp, dp->open_peer, &o, now);
	}
	from = dp->open_peer->hit;
	for (unsigned i = 0; i < n; i++) {
		struct worker_job *j = &dp->open_job[i];

		if (j->result >= 0)
			deliver(dp, &from, j->nh, j->pkt + ESP_HDR_LEN + ESP_IV_LEN,
			        (size_t)j->result, now);
	}
}

/* An ESP packet from the socket, checked and queued to be opened in place
 * with the others of its SA: a packet of another SA, a HIP packet or the
 * batch's end opens the queue first, so everything keeps its order. */
static void open_add(struct datapath *dp, uint8_t *data, size_t len,
                     const struct sockaddr_storage *from, uint64_t now)
{
	struct origin o = {.from = from};
	struct peer *p = NULL;
	struct esp_sa *sa;
	int r;

	/* Before the lookup: the payloads handed on may make the daemon
	 * change its SAs, and the one looked up must still be there. */
	if (dp->nopen &&
	    (esp_peek_spi(data, len) != dp->open_sa->spi || dp->nopen == DATAPATH_OPEN_MAX))
		open_run(dp, now);
	sa = find_sa(dp, data, len, &o, now, &p);
	if (!sa)
		return;
	if (dp->nopen && sa != dp->open_sa) {
		/* Not expected (one SPI is one SA within a batch); looked up
		 * again after the payloads went on, for the reason above. */
		open_run(dp, now);
		sa = find_sa(dp, data, len, &o, now, &p);
		if (!sa)
			return;
	}
	r = esp_decap_check(sa, data, len);
	if (r < 0) {
		esp_rejected(dp, &o, r, now);
		return;
	}
	dp->open_sa = sa;
	dp->open_peer = p;
	dp->open_from[dp->nopen] = from;
	dp->open_job[dp->nopen++] = (struct worker_job){.pkt = data, .len = len};
}

static void hip_input(struct datapath *dp, const uint8_t *pkt, size_t len,
                      const struct hip_locator *from, uint64_t now)
{
	const char *reason = NULL;
	char a[UDP_ADDRSTRLEN];
	int r;

	r = hip_host_input(dp->io.hip, pkt, len, from, now, &reason);
	if (r < 0) {
		dp->stats.hip_dropped++;
		log_ratelimited(&dp->rl_hip, now, LOG_INFO, "dropped HIP packet from %s: %s",
		                locator_format(from, a), reason ? reason : strerror(-r));
	}
}

/* One datagram of slot g (all of it, or one of a UDP_GRO run). */
static void udp_dgram(struct datapath *dp, const struct udp_dgram *g, uint8_t *data, size_t len,
                      uint64_t now)
{
	struct hip_locator from;
	size_t off;

	switch (udp_classify(data, len, &off)) {
	case UDP_KIND_DROP:
		dp->stats.udp_short++;
		break;
	case UDP_KIND_ESP:
		open_add(dp, data, len, &g->from, now);
		break;
	case UDP_KIND_HIP:
		open_run(dp, now); /* the engine may change the SAs */
		from.len = g->fromlen;
		memcpy(&from.addr, &g->from, sizeof(from.addr));
		hip_input(dp, data + off, len - off, &from, now);
		break;
	}
}

static void udp_slot(struct datapath *dp, const struct udp_dgram *g, uint64_t now)
{
	if (g->truncated) {
		dp->stats.udp_truncated++;
		return;
	}
	if (!g->seg) {
		udp_dgram(dp, g, g->data, g->len, now);
		return;
	}
	dp->stats.udp_gro_runs++;
	for (size_t off = 0; off < g->len; off += g->seg) {
		size_t n = g->len - off < g->seg ? g->len - off : g->seg;
		udp_dgram(dp, g, g->data + off, n, now);
	}
}

void datapath_pipe_burst(struct datapath *dp, bool begin)
{
	if (begin) {
		dp->in_burst = dp->offloads & DATAPATH_OFFLOAD_TUN;
		return;
	}
	gro_flush(&dp->gro, gro_emit, dp);
	dp->in_burst = false;
}

void datapath_pipe_input(struct datapath *dp, const struct hit *peer, const uint8_t *data,
                         size_t len, uint64_t now)
{
	struct origin o = {.peer = peer};
	struct hip_locator overlay;
	size_t off;

	switch (udp_classify(data, len, &off)) {
	case UDP_KIND_DROP:
		dp->stats.udp_short++;
		break;
	case UDP_KIND_ESP:
		esp_input(dp, data, len, &o, now);
		break;
	case UDP_KIND_HIP:
		/* Answers go back the way the association sends: its pipe. */
		overlay = locator_overlay();
		hip_input(dp, data + off, len - off, &overlay, now);
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
		dp->in_burst = dp->offloads & DATAPATH_OFFLOAD_TUN;
		for (int i = 0; i < n; i++)
			udp_slot(dp, &dp->io.batch->d[i], now);
		open_run(dp, now);
		gro_flush(&dp->gro, gro_emit, dp);
		dp->in_burst = false;
		if (n < UDP_BATCH)
			break;
	}
	return true;
}
