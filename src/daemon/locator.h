/* SPDX-License-Identifier: MIT */
/* locator.h: the daemon's kinds of HIP locators.
 *
 * The HIP engine treats a locator as opaque bytes it copies. The daemon uses
 * two kinds: a UDP address (our socket sends there directly), and "the
 * overlay": no address at all, meaning the packet is routed hop by hop to the
 * peer's HIT (the base exchange with a peer whose address we do not know, as
 * in the seed's Figure 4), or carried on the peer's ICE pipe once one is up. */
#pragma once

#include <stdbool.h>

#include "hip/bex.h"
#include "net/udp.h"

/* The overlay locator: family AF_UNSPEC and nothing else. */
struct hip_locator locator_overlay(void);
bool locator_is_overlay(const struct hip_locator *l);
/* "ip:port", or "overlay". */
const char *locator_format(const struct hip_locator *l, char buf[UDP_ADDRSTRLEN]);
/* The host's addresses as type-2 locators with port: interfaces that are up,
 * not tun_name (NULL: none excluded), not loopback, not IPv6 link-local.
 * Returns how many were written (0 also when getifaddrs fails). */
size_t locator_host_entries(const char *tun_name, uint16_t port, struct hip_locator_entry *out,
                            size_t cap);
