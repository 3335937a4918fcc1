/* SPDX-License-Identifier: MIT */
/* gloop.c: a GMainContext driven from libuv: prepare/query in a uv_prepare_t,
 * persistent uv_poll_t per GLib fd plus a uv_timer_t, check/dispatch in a
 * uv_check_t. */
#include "net/gloop.h"

#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>

/* fds libuv will not watch (epoll refuses regular files; a second poll on one
 * fd is UV_EEXIST) are polled with poll(2) at least this often instead. */
#define GLOOP_FALLBACK_MS 10
/* After GLib's fd set changed, every poll's epoll registration is verified,
 * at most this often (see audit()). */
#define GLOOP_AUDIT_MS 100

struct gloop_fd {
	uv_poll_t poll;
	struct gloop *g;
	int fd;
	int uv_events;   /* what the poll runs with; 0 while stopped */
	gushort revents; /* GLib bits seen since the last check */
	bool has_poll;   /* false: libuv refused the fd (GLOOP_FALLBACK_MS) */
};

struct gloop {
	uv_loop_t *loop;
	GMainContext *ctx;
	uv_prepare_t prepare;
	uv_check_t check;
	uv_timer_t timer;
	GPollFD *fds; /* from the last query, sorted by fd (GLib's order) */
	gint nfds, fds_cap;
	struct gloop_fd **recs; /* one per distinct fd, same order as fds */
	size_t nrecs;
	struct gloop_fd **scratch;
	size_t recs_cap;
	gint max_priority;
	int wakeup_fd; /* the context's own GWakeup */
	unsigned fallback;
	unsigned closing; /* libuv handles not closed yet */
	uint64_t last_audit;
	bool audit_pending;
	bool prepared; /* a prepare ran and its check has not */
	bool dispatching;
	bool freeing;
	bool free_pending;                           /* gloop_free ran inside the dispatch */
	void (*begin)(void *ctx), (*end)(void *ctx); /* around each dispatch */
	void *hook_ctx;
};

static void maybe_release(struct gloop *g)
{
	if (g->freeing && g->closing == 0) {
		free(g->fds);
		free(g->recs);
		free(g->scratch);
		free(g);
	}
}

static void on_handle_closed(uv_handle_t *h)
{
	struct gloop *g = h->data;

	g->closing--;
	maybe_release(g);
}

static void on_fd_closed(uv_handle_t *h)
{
	struct gloop_fd *r = h->data;
	struct gloop *g = r->g;

	free(r);
	g->closing--;
	maybe_release(g);
}

static void fd_close(struct gloop *g, struct gloop_fd *r)
{
	if (!r->has_poll) {
		g->fallback--;
		free(r);
		return;
	}
	/* uv_close stops the poll at once: epoll forgets the fd while its
	 * number is (with luck) still valid, and libuv frees the number for
	 * other handles. */
	g->closing++;
	uv_close((uv_handle_t *)&r->poll, on_fd_closed);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct gloop_fd *r = p->data;

	if (status < 0) {
		/* libuv reports POLLERR this way and has stopped the poll; GLib
		 * would have seen G_IO_ERR. The next sync restarts the poll. */
		r->revents |= G_IO_ERR;
		r->uv_events = 0;
		return;
	}
	if (events & UV_READABLE)
		r->revents |= G_IO_IN;
	if (events & UV_WRITABLE)
		r->revents |= G_IO_OUT;
	if (events & UV_PRIORITIZED)
		r->revents |= G_IO_PRI;
	if (events & UV_DISCONNECT)
		r->revents |= G_IO_HUP;
}

static struct gloop_fd *fd_new(struct gloop *g, int fd)
{
	struct gloop_fd *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->g = g;
	r->fd = fd;
	if (uv_poll_init(g->loop, &r->poll, fd) == 0) {
		r->has_poll = true;
		r->poll.data = r;
	} else {
		g->fallback++;
	}
	return r;
}

static void fd_arm(struct gloop_fd *r, gushort want)
{
	int ev = 0;

	if (want & G_IO_IN)
		ev |= UV_READABLE;
	if (want & G_IO_OUT)
		ev |= UV_WRITABLE;
	if (want & G_IO_PRI)
		ev |= UV_PRIORITIZED;
	/* Errors are always reported; ask for hang-ups so the poll is live. */
	if (!ev)
		ev = UV_DISCONNECT;
	if (!r->has_poll || ev == r->uv_events)
		return;
	if (uv_poll_start(&r->poll, ev, on_poll) == 0)
		r->uv_events = ev;
}

/* Finds polls whose epoll registration vanished although the fd is still
 * listed: GLib closed the fd and opened another file under the same number
 * during one dispatch. The fd list looks unchanged, but the kernel dropped the
 * registration with the old file and libuv, which believes it is registered,
 * would never add the new one. An EPOLL_CTL_ADD probe on libuv's epoll fd
 * tells: EEXIST means still registered (nothing changes); success means it was
 * not, so the probe is removed again and the poll restarted, which makes
 * libuv register the new file. Every poll has been through libuv's poll phase
 * when this runs, so a missing registration is never one libuv is about to
 * add. Probing costs one syscall per fd, so it runs only after GLib's fd set
 * changed (its wakeup fired: a source added or removed an fd, which also
 * happens around each fd source dispatch) and at most every GLOOP_AUDIT_MS. */
static void audit(struct gloop *g)
{
	int ep = uv_backend_fd(g->loop);

	g->audit_pending = false;
	g->last_audit = uv_now(g->loop);
	for (size_t i = 0; i < g->nrecs; i++) {
		struct gloop_fd *r = g->recs[i];
		struct epoll_event ev = {.events = 0, .data.fd = r->fd};

		if (!r->has_poll || !r->uv_events)
			continue;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, r->fd, &ev) != 0)
			continue; /* EEXIST: fine; EBADF: closed, sync drops it */
		epoll_ctl(ep, EPOLL_CTL_DEL, r->fd, &ev);
		uv_poll_stop(&r->poll);
		r->uv_events = 0; /* the sync below restarts it */
	}
}

static bool audit_due(const struct gloop *g, uint64_t *wait_ms)
{
	uint64_t since = uv_now(g->loop) - g->last_audit;

	*wait_ms = since >= GLOOP_AUDIT_MS ? 0 : GLOOP_AUDIT_MS - since;
	return since >= GLOOP_AUDIT_MS;
}

static int query(struct gloop *g, gint *timeout)
{
	for (;;) {
		gint n = g_main_context_query(g->ctx, G_MAXINT, timeout, g->fds, g->fds_cap);
		GPollFD *p;

		if (n <= g->fds_cap) {
			g->nfds = n;
			return 0;
		}
		p = realloc(g->fds, (size_t)n * sizeof(*p));
		if (!p) {
			/* Keep polling what fits; the rest waits for memory. */
			g->nfds = g->fds_cap;
			return -ENOMEM;
		}
		g->fds = p;
		g->fds_cap = n;
	}
}

static int reserve_recs(struct gloop *g, size_t n)
{
	struct gloop_fd **a, **b;
	size_t cap = g->recs_cap ? g->recs_cap : 8;

	if (n <= g->recs_cap)
		return 0;
	while (cap < n)
		cap *= 2;
	a = realloc(g->recs, cap * sizeof(*a));
	if (!a)
		return -ENOMEM;
	g->recs = a;
	b = realloc(g->scratch, cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	g->scratch = b;
	g->recs_cap = cap;
	return 0;
}

/* Brings the polls in line with the fd list of the last query: a merge of two
 * lists sorted by fd (GLib keeps its poll records sorted and merges duplicate
 * fds, and g_main_context_check relies on that order too). */
static void sync_fds(struct gloop *g)
{
	size_t j = 0, k = 0;

	if (reserve_recs(g, (size_t)g->nfds) < 0)
		return; /* keep the old set; the next sync retries */
	for (gint i = 0; i < g->nfds; i++) {
		int fd = g->fds[i].fd;
		struct gloop_fd *r = NULL;

		while (j < g->nrecs && g->recs[j]->fd < fd)
			fd_close(g, g->recs[j++]);
		if (j < g->nrecs && g->recs[j]->fd == fd)
			r = g->recs[j++];
		else
			r = fd_new(g, fd);
		if (!r)
			continue;
		fd_arm(r, g->fds[i].events);
		g->scratch[k++] = r;
	}
	while (j < g->nrecs)
		fd_close(g, g->recs[j++]);

	struct gloop_fd **t = g->recs;
	g->recs = g->scratch;
	g->scratch = t;
	g->nrecs = k;
}

static void on_timer(uv_timer_t *t)
{
	/* Only wakes libuv's poll; the check handle does the work. */
	(void)t;
}

static void on_prepare(uv_prepare_t *p)
{
	struct gloop *g = p->data;
	gint timeout = -1;
	gboolean ready;

	ready = g_main_context_prepare(g->ctx, &g->max_priority);
	query(g, &timeout);
	sync_fds(g);
	if (ready)
		timeout = 0;
	if (g->fallback && (timeout < 0 || timeout > GLOOP_FALLBACK_MS))
		timeout = GLOOP_FALLBACK_MS;
	if (g->audit_pending) {
		uint64_t wait;

		audit_due(g, &wait);
		if (timeout < 0 || (uint64_t)timeout > wait)
			timeout = (gint)wait;
	}
	if (timeout < 0) {
		uv_timer_stop(&g->timer);
	} else {
		/* libuv's clock was read before the timers and idle callbacks
		 * of this iteration ran; a stale clock fires the timer early. */
		uv_update_time(g->loop);
		uv_timer_start(&g->timer, on_timer, (uint64_t)timeout, 0);
	}
	g->prepared = true;
}

static gushort poll_now(int fd, gushort want)
{
	struct pollfd p = {.fd = fd, .events = (short)want};

	if (poll(&p, 1, 0) <= 0)
		return 0;
	return (gushort)p.revents;
}

/* Hands the events the polls collected to GLib's fd array. Returns true when
 * the context's wakeup fd fired: GLib signals it whenever a source adds or
 * removes an fd, and on wakeups from other threads. */
static bool collect(struct gloop *g)
{
	bool woken = false;
	size_t j = 0;

	for (gint i = 0; i < g->nfds; i++) {
		GPollFD *f = &g->fds[i];

		f->revents = 0;
		while (j < g->nrecs && g->recs[j]->fd < f->fd)
			j++;
		if (j < g->nrecs && g->recs[j]->fd == f->fd) {
			struct gloop_fd *r = g->recs[j];

			f->revents = r->has_poll ? r->revents : poll_now(r->fd, f->events);
			r->revents = 0;
		}
		if (f->fd == g->wakeup_fd && f->revents)
			woken = true;
	}
	return woken;
}

static void finish_free(struct gloop *g)
{
	for (size_t i = 0; i < g->nrecs; i++)
		fd_close(g, g->recs[i]);
	g->nrecs = 0;
	g->closing += 3;
	uv_close((uv_handle_t *)&g->prepare, on_handle_closed);
	uv_close((uv_handle_t *)&g->check, on_handle_closed);
	uv_close((uv_handle_t *)&g->timer, on_handle_closed);
	g_main_context_release(g->ctx);
	g_main_context_unref(g->ctx);
	g->ctx = NULL;
	maybe_release(g);
}

static void on_check(uv_check_t *c)
{
	struct gloop *g = c->data;
	bool woken;

	if (!g->prepared)
		return;
	g->prepared = false;
	woken = collect(g);
	g->dispatching = true;
	if (g_main_context_check(g->ctx, g->max_priority, g->fds, g->nfds)) {
		if (g->begin)
			g->begin(g->hook_ctx);
		g_main_context_dispatch(g->ctx);
		if (g->end)
			g->end(g->hook_ctx);
	}
	g->dispatching = false;
	if (g->free_pending) {
		finish_free(g);
		return;
	}
	if (woken)
		g->audit_pending = true;
	if (g->audit_pending) {
		uint64_t wait;

		if (audit_due(g, &wait))
			audit(g);
	}
	/* Sync now rather than at the next prepare: fds closed during the
	 * dispatch must give their numbers back to libuv before other
	 * callbacks of this and the next iteration open new fds. */
	query(g, NULL);
	sync_fds(g);
}

int gloop_new(uv_loop_t *loop, struct gloop **ret)
{
	struct gloop *g;
	GPollFD wake;
	gint timeout;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->loop = loop;
	g->ctx = g_main_context_new();
	if (!g_main_context_acquire(g->ctx)) {
		g_main_context_unref(g->ctx);
		free(g);
		return -EBUSY;
	}
	/* A fresh context lists exactly one fd: its wakeup. */
	if (g_main_context_query(g->ctx, G_MAXINT, &timeout, &wake, 1) != 1) {
		g_main_context_release(g->ctx);
		g_main_context_unref(g->ctx);
		free(g);
		return -EIO;
	}
	g->wakeup_fd = wake.fd;
	uv_prepare_init(loop, &g->prepare);
	uv_check_init(loop, &g->check);
	uv_timer_init(loop, &g->timer);
	g->prepare.data = g;
	g->check.data = g;
	g->timer.data = g;
	/* Never uv_unref these: an unreferenced bridge lets uv_run return
	 * before the first prepare created any poll (platform-notes). */
	uv_prepare_start(&g->prepare, on_prepare);
	uv_check_start(&g->check, on_check);
	*ret = g;
	return 0;
}

void gloop_free(struct gloop *g)
{
	if (!g || g->freeing)
		return;
	g->freeing = true;
	if (g->dispatching) {
		g->free_pending = true;
		return;
	}
	finish_free(g);
}

void gloop_set_dispatch_hooks(struct gloop *g, void (*begin)(void *ctx), void (*end)(void *ctx),
                              void *ctx)
{
	g->begin = begin;
	g->end = end;
	g->hook_ctx = ctx;
}

GMainContext *gloop_context(struct gloop *g)
{
	return g->ctx;
}

void gloop_release_fds(struct gloop *g)
{
	if (g->freeing)
		return;
	for (size_t i = 0; i < g->nrecs; i++)
		fd_close(g, g->recs[i]);
	g->nrecs = 0;
}
