/* SPDX-License-Identifier: MIT */
/* netlink.h: interface configuration over rtnetlink (libmnl): MTU, link state,
 * IPv6 addresses and routes. Synchronous request/acknowledge; no ip(8). */
#pragma once

#include <stdint.h>

struct netlink;

int netlink_open(struct netlink **ret);
struct netlink *netlink_free(struct netlink *nl);
/* Each returns 0 or the kernel's negative errno for the request. */
int netlink_link_set_mtu(struct netlink *nl, int ifindex, unsigned mtu);
int netlink_link_set_up(struct netlink *nl, int ifindex);
/* Adds addr/plen without duplicate address detection (IFA_F_NODAD): the HIT
 * is ours by construction and must be usable at once. */
int netlink_addr_add6(struct netlink *nl, int ifindex, const uint8_t addr[16], unsigned plen);
int netlink_route_add6(struct netlink *nl, int ifindex, const uint8_t prefix[16], unsigned plen);
