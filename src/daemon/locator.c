/* SPDX-License-Identifier: MIT */
/* locator.c: the daemon's kinds of HIP locators. */
#include "daemon/locator.h"

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
