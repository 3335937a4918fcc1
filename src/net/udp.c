/* SPDX-License-Identifier: MIT */
/* udp.c: the HIP/ESP UDP socket and its RFC 5770 / RFC 9028 framing. */
#include "net/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static const uint8_t zero_marker[UDP_MARKER_LEN];

/* Large buffers ride out bursts (wireguard-go measured 4.1 -> 5.3 Gbit/s
 * with 7 MiB); the FORCE variants pass net.core.rmem_max/wmem_max with
 * CAP_NET_ADMIN, the plain ones are capped there without it. */
static void set_buffers(int fd)
{
	int size = UDP_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static int open_bound(int family, uint16_t port)
{
	union {
		struct sockaddr_in6 v6;
		struct sockaddr_in v4;
	} a;
	socklen_t alen;
	int fd, off = 0;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&a, 0, sizeof(a));
	if (family == AF_INET6) {
		/* Dual-stack whatever net.ipv6.bindv6only says. */
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0)
			goto fail;
		a.v6.sin6_family = AF_INET6;
		a.v6.sin6_addr = in6addr_any;
		a.v6.sin6_port = htons(port);
		alen = sizeof(a.v6);
	} else {
		a.v4.sin_family = AF_INET;
		a.v4.sin_addr.s_addr = htonl(INADDR_ANY);
		a.v4.sin_port = htons(port);
		alen = sizeof(a.v4);
	}
	if (bind(fd, (struct sockaddr *)&a, alen) < 0)
		goto fail;
	return fd;
fail:
	off = -errno;
	close(fd);
	return off;
}

/* UDP_SEGMENT is readable wherever it is settable (Linux 4.18+). */
static bool probe_gso(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return getsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &v, &len) == 0;
}

int udp_open(uint16_t port, struct udp_sock *ret)
{
	int fd = open_bound(AF_INET6, port), family = AF_INET6;

	if (fd == -EAFNOSUPPORT || fd == -EPROTONOSUPPORT || fd == -EADDRNOTAVAIL) {
		fd = open_bound(AF_INET, port);
		family = AF_INET;
	}
	if (fd < 0)
		return fd;
	udp_adopt(fd, family, port, ret);
	return 0;
}

void udp_adopt(int fd, int family, uint16_t port, struct udp_sock *ret)
{
	set_buffers(fd);
	*ret = (struct udp_sock){.fd = fd, .family = family, .port = port};
	ret->gso = probe_gso(fd);
	(void)udp_set_gro(ret, true); /* best effort: older kernels lack it */
}

int udp_set_gro(struct udp_sock *s, bool on)
{
	int v = on;
	socklen_t len = sizeof(v);

	/* Reading UDP_GRO came with Linux 5.12 (setting it with 5.0): like
	 * wireguard-go, older kernels go without. */
	if (on && getsockopt(s->fd, IPPROTO_UDP, UDP_GRO, &v, &len) < 0)
		return -errno;
	v = on;
	if (setsockopt(s->fd, IPPROTO_UDP, UDP_GRO, &v, sizeof(v)) < 0)
		return -errno;
	s->gro = on;
	return 0;
}

void udp_close(struct udp_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

int udp_batch_init(struct udp_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->buf = malloc((size_t)UDP_BATCH * UDP_SLOT);
	return b->buf ? 0 : -ENOMEM;
}

void udp_batch_done(struct udp_batch *b)
{
	free(b->buf);
	b->buf = NULL;
}

/* Rebuilds the sender's address with only the fields that identify it:
 * ::ffff:a.b.c.d becomes AF_INET and the flow label is dropped, so the same
 * peer always yields the same bytes (the HIP engine compares locators with
 * memcmp) and prints the same. */
void udp_addr_from16(const uint8_t addr[16], uint16_t port, struct sockaddr_storage *ss,
                     socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	s6->sin6_family = AF_INET6;
	memcpy(&s6->sin6_addr, addr, 16);
	s6->sin6_port = htons(port);
	*len = sizeof(*s6);
	udp_addr_canonicalize(ss, len);
}

bool udp_addr_to16(const struct sockaddr *sa, uint8_t addr[16], uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		memset(addr, 0, 10);
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		memcpy(addr, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
		return true;
	}
	return false;
}

void udp_addr_canonicalize(struct sockaddr_storage *ss, socklen_t *len)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)ss;
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	bool v4 = true;

	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		s4.sin_port = in6->sin6_port;
		memcpy(&s4.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
	} else if (ss->ss_family == AF_INET6) {
		s6.sin6_port = in6->sin6_port;
		s6.sin6_addr = in6->sin6_addr;
		s6.sin6_scope_id = in6->sin6_scope_id;
		v4 = false;
	} else if (ss->ss_family == AF_INET) {
		s4.sin_port = in4->sin_port;
		s4.sin_addr = in4->sin_addr;
	} else {
		return; /* not from an IP socket: left alone, never matches */
	}
	memset(ss, 0, sizeof(*ss));
	if (v4) {
		memcpy(ss, &s4, sizeof(s4));
		*len = sizeof(s4);
	} else {
		memcpy(ss, &s6, sizeof(s6));
		*len = sizeof(s6);
	}
}

/* Control space for one int-sized option (UDP_GRO, UDP_SEGMENT). */
struct cmsg_int {
	_Alignas(struct cmsghdr) uint8_t buf[CMSG_SPACE(sizeof(int))];
};

/* The segment size of a UDP_GRO run (the kernel writes an int), or 0. */
static uint16_t gro_segment(const struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		int v;
		if (c->cmsg_level != IPPROTO_UDP || c->cmsg_type != UDP_GRO ||
		    c->cmsg_len < CMSG_LEN(sizeof(v)))
			continue;
		memcpy(&v, CMSG_DATA(c), sizeof(v));
		return v > 0 && v <= UINT16_MAX ? (uint16_t)v : 0;
	}
	return 0;
}

static void take_dgram(struct udp_dgram *d, const struct mmsghdr *m)
{
	d->data = m->msg_hdr.msg_iov->iov_base;
	d->len = m->msg_len;
	d->seg = d->len > 0 ? gro_segment(&m->msg_hdr) : 0;
	if (d->seg >= d->len)
		d->seg = 0; /* one datagram after all */
	d->truncated =
	        (m->msg_hdr.msg_flags & MSG_TRUNC) != 0 || (d->seg == 0 && d->len > UDP_DGRAM_MAX);
	d->fromlen = m->msg_hdr.msg_namelen;
	udp_addr_canonicalize(&d->from, &d->fromlen);
}

int udp_recv_batch(const struct udp_sock *s, struct udp_batch *b)
{
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct cmsg_int ctl[UDP_BATCH];
	int n;

	memset(msgs, 0, sizeof(msgs));
	for (unsigned i = 0; i < UDP_BATCH; i++) {
		iov[i].iov_base = b->buf + (size_t)i * UDP_SLOT;
		iov[i].iov_len = s->gro ? UDP_SLOT : UDP_DGRAM_MAX;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &b->d[i].from;
		msgs[i].msg_hdr.msg_namelen = sizeof(b->d[i].from);
		if (s->gro) {
			msgs[i].msg_hdr.msg_control = ctl[i].buf;
			msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		}
	}
	do
		n = recvmmsg(s->fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		b->count = 0;
		return errno == EAGAIN ? 0 : -errno;
	}
	for (int i = 0; i < n; i++)
		take_dgram(&b->d[i], &msgs[i]);
	b->count = (unsigned)n;
	return n;
}

enum udp_kind udp_classify(const uint8_t *p, size_t len, size_t *ret_off)
{
	if (len < UDP_MIN_DGRAM)
		return UDP_KIND_DROP;
	if (memcmp(p, zero_marker, UDP_MARKER_LEN) == 0) {
		*ret_off = UDP_MARKER_LEN;
		return UDP_KIND_HIP;
	}
	*ret_off = 0;
	return UDP_KIND_ESP;
}

/* The destination as the socket wants it: IPv4-mapped on a dual-stack socket. */
static int dest_for(const struct udp_sock *s, const struct sockaddr *to, socklen_t tolen,
                    struct sockaddr_storage *out, socklen_t *outlen)
{
	if (to->sa_family == AF_INET && tolen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)to;
		if (s->family == AF_INET) {
			memcpy(out, s4, sizeof(*s4));
			*outlen = sizeof(*s4);
			return 0;
		}
		struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = s4->sin_port};
		s6.sin6_addr.s6_addr[10] = 0xff;
		s6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6.sin6_addr.s6_addr[12], &s4->sin_addr, 4);
		memcpy(out, &s6, sizeof(s6));
		*outlen = sizeof(s6);
		return 0;
	}
	if (to->sa_family == AF_INET6 && tolen >= sizeof(struct sockaddr_in6)) {
		if (s->family != AF_INET6)
			return -EAFNOSUPPORT;
		memcpy(out, to, sizeof(struct sockaddr_in6));
		*outlen = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -EAFNOSUPPORT;
}

static int send_iov(const struct udp_sock *s, const struct sockaddr *to, socklen_t tolen,
                    struct iovec *iov, size_t iovlen)
{
	struct sockaddr_storage dst;
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = iovlen};
	ssize_t r;
	int e = dest_for(s, to, tolen, &dst, &m.msg_namelen);

	if (e < 0)
		return e;
	m.msg_name = &dst;
	do
		r = sendmsg(s->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

int udp_send_hip(const struct udp_sock *s, const struct sockaddr *to, socklen_t tolen,
                 const uint8_t *pkt, size_t len)
{
	struct iovec iov[2] = {
	        {.iov_base = (void *)zero_marker, .iov_len = UDP_MARKER_LEN},
	        {.iov_base = (void *)pkt, .iov_len = len},
	};

	return send_iov(s, to, tolen, iov, 2);
}

void udp_tx_init(struct udp_tx *tx, bool gso)
{
	tx->gso = gso;
	tx->n = 0;
	tx->used = 0;
	tx->sent = tx->runs = 0;
}

uint8_t *udp_tx_room(struct udp_tx *tx, size_t cap)
{
	if (tx->n == UDP_TX_MSGS || cap > UDP_TX_BYTES - tx->used)
		return NULL;
	return tx->buf + tx->used;
}

/* Whether a datagram of len bytes to `to` can join the last message's run. */
static bool extends(const struct udp_tx *tx, const struct sockaddr_storage *to, socklen_t tolen,
                    size_t len)
{
	const struct udp_tx_msg *m = &tx->m[tx->n - 1];

	return tx->gso && !m->closed && len <= m->seg && m->segs < UDP_GSO_SEGS &&
	       m->len + len <= UDP_GSO_MAX_LEN && m->tolen == tolen &&
	       memcmp(&m->to, to, tolen) == 0;
}

int udp_tx_push(struct udp_tx *tx, const struct udp_sock *s, const struct sockaddr *to,
                socklen_t tolen, size_t len)
{
	struct sockaddr_storage dst;
	socklen_t dstlen;
	struct udp_tx_msg *m;
	int r = dest_for(s, to, tolen, &dst, &dstlen);

	if (r < 0)
		return r;
	if (tx->n > 0 && extends(tx, &dst, dstlen, len)) {
		m = &tx->m[tx->n - 1];
		m->len += len;
		m->segs++;
		m->closed = len < m->seg;
	} else {
		m = &tx->m[tx->n++];
		*m = (struct udp_tx_msg){
		        .off = tx->used, .len = len, .seg = (uint16_t)len, .segs = 1};
		m->tolen = dstlen;
		memcpy(&m->to, &dst, dstlen);
	}
	tx->used += len;
	return 0;
}

/* One message: len bytes at off for m's address; a run when seg < len
 * (the kernel wants UDP_SEGMENT as exactly 16 bits). */
static void msg_fill(struct mmsghdr *h, struct iovec *iov, struct cmsg_int *ctl, struct udp_tx *tx,
                     struct udp_tx_msg *m, size_t off, size_t len, uint16_t seg)
{
	struct cmsghdr *c;

	memset(h, 0, sizeof(*h));
	iov->iov_base = tx->buf + off;
	iov->iov_len = len;
	h->msg_hdr.msg_iov = iov;
	h->msg_hdr.msg_iovlen = 1;
	h->msg_hdr.msg_name = &m->to;
	h->msg_hdr.msg_namelen = m->tolen;
	if (!seg || seg >= len)
		return;
	memset(ctl, 0, sizeof(*ctl));
	h->msg_hdr.msg_control = ctl->buf;
	h->msg_hdr.msg_controllen = CMSG_SPACE(sizeof(seg));
	c = CMSG_FIRSTHDR(&h->msg_hdr);
	c->cmsg_level = IPPROTO_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
}

static int sendmmsg_retry(int fd, struct mmsghdr *h, unsigned n)
{
	int r;

	do
		r = sendmmsg(fd, h, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

/* A refused run, one datagram per message. Returns how many were dropped. */
static unsigned send_singly(struct udp_tx *tx, const struct udp_sock *s, struct udp_tx_msg *m,
                            int *ret_err)
{
	struct mmsghdr h[UDP_GSO_SEGS];
	struct iovec iov[UDP_GSO_SEGS];
	unsigned n = 0, i = 0, dropped = 0;

	for (size_t off = 0; off < m->len; off += m->seg, n++) {
		size_t len = m->len - off < m->seg ? m->len - off : m->seg;
		msg_fill(&h[n], &iov[n], NULL, tx, m, m->off + off, len, 0);
	}
	while (i < n) {
		int r = sendmmsg_retry(s->fd, h + i, n - i);
		if (r > 0) {
			i += (unsigned)r;
			tx->sent += (unsigned)r;
			continue;
		}
		*ret_err = r;
		if (r == -EAGAIN || r == -ENOBUFS)
			return dropped + n - i;
		dropped++;
		i++;
	}
	return dropped;
}

unsigned udp_tx_flush(struct udp_tx *tx, const struct udp_sock *s, int *ret_err)
{
	struct mmsghdr h[UDP_TX_MSGS];
	struct iovec iov[UDP_TX_MSGS];
	struct cmsg_int ctl[UDP_TX_MSGS];
	unsigned i = 0, dropped = 0;

	*ret_err = 0;
	for (unsigned k = 0; k < tx->n; k++) {
		struct udp_tx_msg *m = &tx->m[k];
		msg_fill(&h[k], &iov[k], &ctl[k], tx, m, m->off, m->len, m->segs > 1 ? m->seg : 0);
	}
	while (i < tx->n) {
		struct udp_tx_msg *m;
		int r = sendmmsg_retry(s->fd, h + i, tx->n - i);
		if (r > 0) {
			for (unsigned k = i; k < i + (unsigned)r; k++) {
				tx->sent += tx->m[k].segs;
				tx->runs += tx->m[k].segs > 1;
			}
			i += (unsigned)r;
			continue;
		}
		m = &tx->m[i++];
		if (r == -EAGAIN || r == -ENOBUFS) {
			/* The socket buffer is full: what is left is dropped, as
			 * a full interface queue would. */
			*ret_err = r;
			dropped += m->segs;
			while (i < tx->n)
				dropped += tx->m[i++].segs;
			break;
		}
		if (m->segs > 1) {
			/* EIO: the way out cannot checksum a run (no GSO);
			 * anything else may be this run's size or address. */
			if (r == -EIO)
				tx->gso = false;
			dropped += send_singly(tx, s, m, ret_err);
			continue;
		}
		*ret_err = r;
		dropped++;
	}
	tx->n = 0;
	tx->used = 0;
	return dropped;
}

const char *udp_addr_format(const struct sockaddr *sa, char buf[UDP_ADDRSTRLEN])
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, UDP_ADDRSTRLEN, "%s:%u", a, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, UDP_ADDRSTRLEN, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		snprintf(buf, UDP_ADDRSTRLEN, "(family %d)", sa->sa_family);
	}
	return buf;
}

bool udp_addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0 &&
		       x->sin6_scope_id == y->sin6_scope_id;
	}
	return false;
}
