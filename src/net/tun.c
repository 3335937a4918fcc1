/* SPDX-License-Identifier: MIT */
/* tun.c: the layer-3 TUN device the overlay's addresses are routed to. */
#include "net/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

_Static_assert(TUN_NAME_MAX == IFNAMSIZ, "interface name size");

int tun_open(const char *name, struct tun *ret)
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
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
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

ssize_t tun_read(const struct tun *t, uint8_t *buf, size_t cap)
{
	ssize_t n;

	do
		n = read(t->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return n;
}

int tun_write(const struct tun *t, const uint8_t *pkt, size_t len)
{
	ssize_t n;

	do
		n = write(t->fd, pkt, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}
