/* SPDX-License-Identifier: MIT */
/* roam.c: announcing our new locators to the peers when our addresses change. */
#include "daemon/roam.h"

#include <errno.h>
#include <stdbool.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/hit.h"
#include "common/log.h"
#include "daemon/locator.h"
#include "hip/bex.h"
#include "net/netlink.h"

#define ROAM_SETTLE_MS  300 /* a move brings several notifications: act once */
#define ROAM_MAX_ASSOCS 256
/* A peer that has not confirmed our new address by then (its NAT filters
 * the UPDATE from where we are now) is reached through the overlay: a new
 * base exchange with ICE. Above two UPDATE round trips with a retransmission. */
#define ROAM_CONFIRM_MS 3000

struct roam {
	struct roam_io io;
	struct netlink_watch *watch;
	int tun_ifindex;
	uv_poll_t poll;
	uv_timer_t timer, confirm;
	int open_handles;
	/* The addresses last announced: notifications that change nothing we
	 * announce (another link's state, a flag) are not news to the peers. */
	struct hip_locator_entry last[HIP_LOCATORS_MAX];
	size_t n_last;
	bool have_last;
};

struct collect {
	struct hip_assoc *a[ROAM_MAX_ASSOCS];
	size_t n;
};

static void collect_direct(struct hip_assoc *a, void *ctx)
{
	struct collect *c = ctx;

	if (hip_assoc_state(a) == HIP_STATE_ESTABLISHED &&
	    !locator_is_overlay(hip_assoc_locator(a)) && c->n < ROAM_MAX_ASSOCS)
		c->a[c->n++] = a;
}

static void on_confirm(uv_timer_t *t)
{
	struct roam *r = t->data;
	struct hip_locator overlay = locator_overlay();
	struct collect c = {.n = 0};
	char h[HIT_STRLEN];

	hip_host_foreach(r->io.hip, collect_direct, &c);
	for (size_t i = 0; i < c.n; i++) {
		if (!hip_assoc_readdressing(c.a[i]))
			continue;
		log_msg(LOG_INFO,
		        "%s did not confirm our new address: a new base exchange through the "
		        "overlay",
		        hit_format(hip_assoc_peer_hit(c.a[i]), h));
		(void)hip_host_reconnect(r->io.hip, c.a[i], &overlay, uv_now(r->io.loop));
	}
	r->io.hip_changed(r->io.ctx);
}

static void on_settled(uv_timer_t *t)
{
	struct roam *r = t->data;
	struct hip_locator_entry locs[HIP_LOCATORS_MAX];
	size_t n = locator_host_entries(r->io.tun_name, r->io.port, locs, HIP_LOCATORS_MAX);
	struct collect c = {.n = 0};
	size_t told = 0;

	if (n == 0) {
		log_msg(LOG_INFO, "no address left: waiting for one before telling peers");
		return;
	}
	if (r->have_last && n == r->n_last && memcmp(locs, r->last, n * sizeof(locs[0])) == 0)
		return;
	memcpy(r->last, locs, n * sizeof(locs[0]));
	r->n_last = n;
	r->have_last = true;
	/* hip_host_foreach must not see associations change: collect first. */
	hip_host_foreach(r->io.hip, collect_direct, &c);
	for (size_t i = 0; i < c.n; i++)
		if (hip_host_readdress(r->io.hip, c.a[i], locs, n, uv_now(r->io.loop)) == 0)
			told++;
	log_msg(LOG_NOTICE, "our addresses changed: %zu locator(s) announced to %zu peer(s)", n,
	        told);
	if (told)
		uv_timer_start(&r->confirm, on_confirm, ROAM_CONFIRM_MS, 0);
	if (r->io.moved)
		r->io.moved(r->io.ctx);
	r->io.hip_changed(r->io.ctx);
}

static void on_netlink(uv_poll_t *p, int status, int events)
{
	struct roam *r = p->data;
	int n;

	(void)events;
	if (status < 0)
		return;
	n = netlink_watch_drain(r->watch, r->tun_ifindex);
	if (n < 0) {
		log_errno(LOG_DEBUG, n, "address notifications");
		return;
	}
	if (n > 0)
		uv_timer_start(&r->timer, on_settled, ROAM_SETTLE_MS, 0);
}

int roam_start(const struct roam_io *io, struct roam **ret)
{
	struct roam *r = calloc(1, sizeof(*r));
	int e;

	if (!r)
		return -ENOMEM;
	r->io = *io;
	r->tun_ifindex = (int)if_nametoindex(io->tun_name);
	e = netlink_watch_open(&r->watch);
	if (e < 0) {
		free(r);
		return e;
	}
	if (uv_poll_init(io->loop, &r->poll, netlink_watch_fd(r->watch)) < 0) {
		netlink_watch_free(r->watch);
		free(r);
		return -EIO;
	}
	/* Timer inits cannot fail (libuv returns 0). */
	(void)uv_timer_init(io->loop, &r->timer);
	(void)uv_timer_init(io->loop, &r->confirm);
	r->poll.data = r->timer.data = r->confirm.data = r;
	r->open_handles = 3;
	uv_poll_start(&r->poll, UV_READABLE, on_netlink);
	*ret = r;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct roam *r = h->data;

	if (--r->open_handles == 0) {
		netlink_watch_free(r->watch);
		free(r);
	}
}

void roam_stop(struct roam *r)
{
	if (!r)
		return;
	uv_close((uv_handle_t *)&r->poll, on_closed);
	uv_close((uv_handle_t *)&r->timer, on_closed);
	uv_close((uv_handle_t *)&r->confirm, on_closed);
}
