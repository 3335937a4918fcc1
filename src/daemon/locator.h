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
