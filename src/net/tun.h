/* SPDX-License-Identifier: MIT */
/* tun.h: the layer-3 TUN device the overlay's addresses are routed to.
 *
 * IFF_TUN | IFF_NO_PI: every read is one IP packet, no packet-info header.
 * Opened with offloads, every packet also carries a virtio-net header
 * (esp/vnet.h): the kernel may then hand over TCP (and UDP, Linux 6.2+)
 * super-packets and leave transport checksums to us, and takes super-packets
 * back. The device is not persistent: closing the fd deletes it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "esp/vnet.h"

#define TUN_NAME_MAX 16 /* IFNAMSIZ, including the NUL */

struct tun {
	int fd;
	int ifindex;
	char name[TUN_NAME_MAX];
	bool vnet;         /* packets carry a virtio-net header */
	unsigned offloads; /* the TUN_F_* flags the kernel accepted (TUNSETOFFLOAD) */
};

/* Creates (or attaches to) the device called name; the kernel's name for it is
 * in ret->name. Non-blocking, close-on-exec. With offload: IFF_VNET_HDR, then
 * checksum and TCP segmentation offload with UDP segmentation where the
 * kernel takes it (Linux 6.2+), else without (ret->offloads says which).
 * -EPERM without CAP_NET_ADMIN. */
int tun_open(const char *name, bool offload, struct tun *ret);
void tun_close(struct tun *t);
/* One packet and its virtio-net header (all zero without one); its length,
 * 0 when none is waiting, or a negative errno. */
ssize_t tun_read(const struct tun *t, struct vnet_hdr *h, uint8_t *buf, size_t cap);
/* One ordinary packet; 0 or a negative errno (-EAGAIN: the queue is full,
 * dropped). */
int tun_write(const struct tun *t, const uint8_t *pkt, size_t len);
/* One packet or super-packet with its virtio-net header (ignored, and must
 * then be all zero, without offloads). Same returns. */
int tun_write_vnet(const struct tun *t, const struct vnet_hdr *h, const uint8_t *pkt, size_t len);
