/* SPDX-License-Identifier: MIT */
/* netlink.h: interface configuration over rtnetlink (libmnl): MTU, link state,
 * addresses and routes. Synchronous request/acknowledge; no ip(8). */
#pragma once

#include <stdint.h>

struct netlink;

int netlink_open(struct netlink **ret);
struct netlink *netlink_free(struct netlink *nl);
/* Each returns 0 or the kernel's negative errno for the request. */
int netlink_link_set_mtu(struct netlink *nl, int ifindex, unsigned mtu);
int netlink_link_set_up(struct netlink *nl, int ifindex);
/* Adds addr/plen (family AF_INET: 4 bytes, AF_INET6: 16 bytes); IPv6 without
 * duplicate address detection (IFA_F_NODAD): the HIT is ours by construction
 * and must be usable at once. */
int netlink_addr_add(struct netlink *nl, int ifindex, int family, const uint8_t *addr,
                     unsigned plen);
/* A route to prefix/plen through the device; prefsrc (optional) is the
 * source address the kernel picks for it. */
int netlink_route_add(struct netlink *nl, int ifindex, int family, const uint8_t *prefix,
                      unsigned plen, const uint8_t *prefsrc);
