/* SPDX-License-Identifier: MIT */
/* tun.c: the layer-3 TUN device the overlay's addresses are routed to. */
#include "net/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

/* Linux 6.2; Debian 12's 6.1 headers lack them. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

_Static_assert(TUN_NAME_MAX == IFNAMSIZ, "interface name size");

/* The most the kernel takes, tried in turn: USO4 and USO6 only together and
 * only from Linux 6.2; TSO needs CSUM; TSO_ECN lets CWR segments be cut here
 * too (tso.c clears CWR after the first). Without any, packets still carry the
 * header, with nothing to cut or finish. */
static unsigned set_offloads(int fd)
{
	static const unsigned tries[] = {
	        TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_USO4 | TUN_F_USO6,
	        TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
	        TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
	        TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
	        TUN_F_CSUM,
	};

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		if (ioctl(fd, TUNSETOFFLOAD, tries[i]) == 0)
			return tries[i];
	return 0;
}

int tun_open(const char *name, bool offload, struct tun *ret)
{
	struct ifreq ifr;
	int fd, r;
	unsigned idx;

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	idx = if_nametoindex(ifr.ifr_name);
	if (idx == 0)
		goto fail;
	ret->fd = fd;
	ret->ifindex = (int)idx;
	memcpy(ret->name, ifr.ifr_name, IFNAMSIZ);
	ret->name[IFNAMSIZ - 1] = '\0';
	ret->vnet = offload;
	ret->offloads = offload ? set_offloads(fd) : 0;
	return 0;
fail:
	r = -errno;
	close(fd);
	return r;
}

void tun_close(struct tun *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

ssize_t tun_read(const struct tun *t, struct vnet_hdr *h, uint8_t *buf, size_t cap)
{
	struct iovec iov[2] = {
	        {.iov_base = h, .iov_len = VNET_HDR_LEN},
	        {.iov_base = buf, .iov_len = cap},
	};
	ssize_t n;

	memset(h, 0, sizeof(*h));
	do
		n = t->vnet ? readv(t->fd, iov, 2) : read(t->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (!t->vnet)
		return n;
	return n >= VNET_HDR_LEN ? n - VNET_HDR_LEN : -EIO;
}

int tun_write_vnet(const struct tun *t, const struct vnet_hdr *h, const uint8_t *pkt, size_t len)
{
	struct iovec iov[2] = {
	        {.iov_base = (void *)h, .iov_len = VNET_HDR_LEN},
	        {.iov_base = (void *)pkt, .iov_len = len},
	};
	size_t want = len;
	ssize_t n;

	if (t->vnet)
		want += VNET_HDR_LEN;
	do
		n = t->vnet ? writev(t->fd, iov, 2) : write(t->fd, pkt, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == want ? 0 : -EIO;
}

int tun_write(const struct tun *t, const uint8_t *pkt, size_t len)
{
	static const struct vnet_hdr plain;

	return tun_write_vnet(t, &plain, pkt, len);
}
