/* SPDX-License-Identifier: MIT */
/* netlink.c: interface configuration over rtnetlink (libmnl). */
#include "net/netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* MNL_SOCKET_BUFFER_SIZE is computed at run time; 8 KiB is its upper bound. */
#define NL_BUF 8192

struct netlink {
	struct mnl_socket *sock;
	unsigned portid;
	unsigned seq;
};

int netlink_open(struct netlink **ret)
{
	struct netlink *nl = calloc(1, sizeof(*nl));
	int r;

	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock) {
		r = -errno;
		free(nl);
		return r;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(nl->sock);
		free(nl);
		return r;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)time(NULL);
	*ret = nl;
	return 0;
}

struct netlink *netlink_free(struct netlink *nl)
{
	if (nl) {
		mnl_socket_close(nl->sock);
		free(nl);
	}
	return NULL;
}

/* Sends one request with NLM_F_ACK and waits for its acknowledgement. */
static int transact(struct netlink *nl, struct nlmsghdr *req)
{
	char buf[NL_BUF];
	unsigned seq = ++nl->seq;
	ssize_t n;
	int r;

	req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	req->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0)
			return errno == EINTR ? -EINTR : -errno;
		/* mnl_cb_run turns NLMSG_ERROR into -1 with errno set, and an
		 * acknowledgement (error 0) into MNL_CB_STOP. */
		r = mnl_cb_run(buf, (size_t)n, seq, nl->portid, NULL, NULL);
		if (r < 0)
			return errno ? -errno : -EIO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static int link_change(struct netlink *nl, int ifindex, unsigned mtu, bool up)
{
	char buf[NL_BUF];
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	h->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	if (mtu)
		mnl_attr_put_u32(h, IFLA_MTU, mtu);
	return transact(nl, h);
}

int netlink_link_set_mtu(struct netlink *nl, int ifindex, unsigned mtu)
{
	if (mtu == 0)
		return -EINVAL;
	return link_change(nl, ifindex, mtu, false);
}

int netlink_link_set_up(struct netlink *nl, int ifindex)
{
	return link_change(nl, ifindex, 0, true);
}

static size_t family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int netlink_addr_add(struct netlink *nl, int ifindex, int family, const uint8_t *addr,
                     unsigned plen)
{
	char buf[NL_BUF];
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	size_t alen = family_len(family);
	struct ifaddrmsg *ifa;

	if (!alen || plen > 8 * alen)
		return -EINVAL;
	h->nlmsg_type = RTM_NEWADDR;
	/* REPLACE: a restart over a persistent device of the same name is not
	 * an error. */
	h->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_flags = family == AF_INET6 ? IFA_F_NODAD : 0;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	mnl_attr_put(h, IFA_LOCAL, alen, addr);
	mnl_attr_put(h, IFA_ADDRESS, alen, addr);
	if (family == AF_INET6)
		mnl_attr_put_u32(h, IFA_FLAGS, IFA_F_NODAD);
	return transact(nl, h);
}

/* One route message: ifindex 0 for routes without a device (unreachable). */
static int route_msg(struct netlink *nl, uint16_t type, uint16_t flags, unsigned char rtype,
                     int ifindex, int family, const uint8_t *prefix, unsigned plen,
                     const uint8_t *prefsrc)
{
	char buf[NL_BUF];
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	size_t alen = family_len(family);
	struct rtmsg *rt;

	if (!alen || plen > 8 * alen)
		return -EINVAL;
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));
	rt->rtm_family = (unsigned char)family;
	rt->rtm_dst_len = (unsigned char)plen;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = rtype == RTN_UNICAST ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
	rt->rtm_type = rtype;
	mnl_attr_put(h, RTA_DST, alen, prefix);
	if (ifindex)
		mnl_attr_put_u32(h, RTA_OIF, (uint32_t)ifindex);
	if (prefsrc)
		mnl_attr_put(h, RTA_PREFSRC, alen, prefsrc);
	return transact(nl, h);
}

int netlink_route_add(struct netlink *nl, int ifindex, int family, const uint8_t *prefix,
                      unsigned plen, const uint8_t *prefsrc)
{
	/* EXCL: a second idlocd in the same namespace must not steal the route. */
	return route_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, RTN_UNICAST, ifindex, family,
	                 prefix, plen, prefsrc);
}

int netlink_route_add_unreachable(struct netlink *nl, int family, const uint8_t *prefix,
                                  unsigned plen)
{
	return route_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, RTN_UNREACHABLE, 0, family,
	                 prefix, plen, NULL);
}

int netlink_route_del(struct netlink *nl, int ifindex, int family, const uint8_t *prefix,
                      unsigned plen)
{
	return route_msg(nl, RTM_DELROUTE, 0, ifindex ? RTN_UNICAST : RTN_UNREACHABLE, ifindex,
	                 family, prefix, plen, NULL);
}

/* ---- address change notifications ---- */

struct netlink_watch {
	struct mnl_socket *sock;
};

int netlink_watch_open(struct netlink_watch **ret)
{
	struct netlink_watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!w->sock) {
		r = -errno;
		free(w);
		return r;
	}
	if (mnl_socket_bind(w->sock, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
	                    MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(w->sock);
		free(w);
		return r;
	}
	*ret = w;
	return 0;
}

struct netlink_watch *netlink_watch_free(struct netlink_watch *w)
{
	if (w) {
		mnl_socket_close(w->sock);
		free(w);
	}
	return NULL;
}

int netlink_watch_fd(const struct netlink_watch *w)
{
	return mnl_socket_get_fd(w->sock);
}

int netlink_watch_drain(struct netlink_watch *w, int except_ifindex)
{
	char buf[NL_BUF];
	int changes = 0;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(w->sock, buf, sizeof(buf));
		const struct nlmsghdr *h;
		int left;

		if (n < 0)
			return errno == EAGAIN ? changes : -errno; /* EAGAIN == EWOULDBLOCK */
		left = (int)n;
		for (h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, left);
		     h = mnl_nlmsg_next(h, &left)) {
			int index;

			if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR)
				index = (int)((const struct ifaddrmsg *)mnl_nlmsg_get_payload(h))
				                ->ifa_index;
			else if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK)
				index = ((const struct ifinfomsg *)mnl_nlmsg_get_payload(h))
				                ->ifi_index;
			else
				continue;
			/* Our own TUN's addresses are identifiers, not locators. */
			if (index != except_ifindex)
				changes++;
		}
	}
}
