/* SPDX-License-Identifier: MIT */
/* locator.c: the daemon's kinds of HIP locators. */
#include "daemon/locator.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

struct hip_locator locator_overlay(void)
{
	struct hip_locator l;

	memset(&l, 0, sizeof(l));
	l.addr.ss_family = AF_UNSPEC;
	l.len = sizeof(sa_family_t);
	return l;
}

bool locator_is_overlay(const struct hip_locator *l)
{
	return l->addr.ss_family == AF_UNSPEC;
}

const char *locator_format(const struct hip_locator *l, char buf[UDP_ADDRSTRLEN])
{
	if (locator_is_overlay(l)) {
		snprintf(buf, UDP_ADDRSTRLEN, "overlay");
		return buf;
	}
	return udp_addr_format((const struct sockaddr *)&l->addr, buf);
}

size_t locator_host_entries(const char *tun_name, uint16_t port, struct hip_locator_entry *out,
                            size_t cap)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	if (getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i && n < cap; i = i->ifa_next) {
		struct hip_locator_entry *e = &out[n];

		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK) ||
		    (tun_name && strcmp(i->ifa_name, tun_name) == 0))
			continue;
		memset(e, 0, sizeof(*e));
		if (!udp_addr_to16(i->ifa_addr, e->addr, &e->port) ||
		    (i->ifa_addr->sa_family == AF_INET6 &&
		     IN6_IS_ADDR_LINKLOCAL(&((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr)))
			continue;
		e->type = HIP_LOCATOR_TRANSPORT;
		e->traffic = HIP_TRAFFIC_BOTH;
		e->protocol = IPPROTO_UDP;
		e->kind = HIP_KIND_HOST;
		e->port = port;
		n++;
	}
	freeifaddrs(ifa);
	return n;
}
