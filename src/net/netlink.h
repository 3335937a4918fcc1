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
/* An unreachable route to prefix/plen (no device): senders get
 * EHOSTUNREACH at once and nothing goes out of any other route. */
int netlink_route_add_unreachable(struct netlink *nl, int family, const uint8_t *prefix,
                                  unsigned plen);
/* Deletes the route to prefix/plen through the device, or the unreachable
 * one when ifindex is 0. -ESRCH when there is none. */
int netlink_route_del(struct netlink *nl, int ifindex, int family, const uint8_t *prefix,
                      unsigned plen);

/* Notifications of addresses added and removed (any family) and of links
 * going up or down (an uplink that fails keeps its IPv4 address), on a
 * non-blocking socket to poll. */
struct netlink_watch;
int netlink_watch_open(struct netlink_watch **ret);
struct netlink_watch *netlink_watch_free(struct netlink_watch *w);
int netlink_watch_fd(const struct netlink_watch *w);
/* Reads every pending notification; returns how many concern an interface
 * other than except_ifindex (0: nothing for us), or a negative errno. */
int netlink_watch_drain(struct netlink_watch *w, int except_ifindex);
