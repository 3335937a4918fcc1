/* SPDX-License-Identifier: MIT */
/* udp.c: the HIP/ESP UDP socket and its RFC 5770 / RFC 9028 framing. */
#include "net/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static const uint8_t zero_marker[UDP_MARKER_LEN];

static int open_bound(int family, uint16_t port)
{
	union {
		struct sockaddr_in6 v6;
		struct sockaddr_in v4;
	} a;
	socklen_t alen;
	int fd, off = 0, bufsz = UDP_SOCKBUF;

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
	/* Bursts of ESP must not overflow the default ~200 KiB buffers; the
	 * kernel caps these at rmem_max/wmem_max, which is fine. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if (bind(fd, (struct sockaddr *)&a, alen) < 0)
		goto fail;
	return fd;
fail:
	off = -errno;
	close(fd);
	return off;
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
	*ret = (struct udp_sock){.fd = fd, .family = family, .port = port};
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
	b->buf = malloc((size_t)UDP_BATCH * UDP_DGRAM_MAX);
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

int udp_recv_batch(const struct udp_sock *s, struct udp_batch *b)
{
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	int n;

	memset(msgs, 0, sizeof(msgs));
	for (unsigned i = 0; i < UDP_BATCH; i++) {
		iov[i].iov_base = b->buf + (size_t)i * UDP_DGRAM_MAX;
		iov[i].iov_len = UDP_DGRAM_MAX;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &b->d[i].from;
		msgs[i].msg_hdr.msg_namelen = sizeof(b->d[i].from);
	}
	do
		n = recvmmsg(s->fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		b->count = 0;
		return errno == EAGAIN ? 0 : -errno;
	}
	for (int i = 0; i < n; i++) {
		struct udp_dgram *d = &b->d[i];
		d->data = iov[i].iov_base;
		d->len = msgs[i].msg_len;
		d->truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
		d->fromlen = msgs[i].msg_hdr.msg_namelen;
		udp_addr_canonicalize(&d->from, &d->fromlen);
	}
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

int udp_send_esp(const struct udp_sock *s, const struct sockaddr *to, socklen_t tolen,
                 const uint8_t *pkt, size_t len)
{
	struct iovec iov = {.iov_base = (void *)pkt, .iov_len = len};

	return send_iov(s, to, tolen, &iov, 1);
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
