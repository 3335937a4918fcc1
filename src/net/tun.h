/* SPDX-License-Identifier: MIT */
/* tun.h: the layer-3 TUN device the overlay's addresses are routed to.
 *
 * IFF_TUN | IFF_NO_PI: every read is one IP packet, no packet-info header.
 * The device is not persistent: closing the fd deletes it. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TUN_NAME_MAX 16 /* IFNAMSIZ, including the NUL */

struct tun {
	int fd;
	int ifindex;
	char name[TUN_NAME_MAX];
};

/* Creates (or attaches to) the device called name; the kernel's name for it is
 * in ret->name. Non-blocking, close-on-exec. -EPERM without CAP_NET_ADMIN. */
int tun_open(const char *name, struct tun *ret);
void tun_close(struct tun *t);
/* One packet; its length, 0 when none is waiting, or a negative errno. */
ssize_t tun_read(const struct tun *t, uint8_t *buf, size_t cap);
/* One packet; 0 or a negative errno (-EAGAIN: the queue is full, dropped). */
int tun_write(const struct tun *t, const uint8_t *pkt, size_t len);
