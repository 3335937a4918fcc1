/* SPDX-License-Identifier: MIT */
/* test_gloop.c: GLib sources on the bridged context fire while only uv_run
 * runs: timeouts, pipe fds and a GSocket; fds added, removed and reused during
 * a dispatch; no busy loop while idle; dup()ed fds released before close; a
 * clean teardown (uv_loop_close returns 0). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/gloop.h"

/* A watchdog: a test that hangs fails instead. */
#define WATCHDOG_MS 5000

struct env {
	uv_loop_t loop;
	struct gloop *g;
	uv_timer_t watchdog;
	uv_check_t counter;
	unsigned long iterations;
	bool timed_out;
};

/* User plus system CPU time of the process so far, in ms. A spinning libuv
 * can stay inside one uv__io_poll call, so counting iterations is not enough. */
static uint64_t cpu_ms(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

static void on_watchdog(uv_timer_t *t)
{
	struct env *e = t->data;

	e->timed_out = true;
	uv_stop(&e->loop);
}

static void on_count(uv_check_t *c)
{
	struct env *e = c->data;

	e->iterations++;
}

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	assert_int_equal(uv_loop_init(&e->loop), 0);
	assert_int_equal(gloop_new(&e->loop, &e->g), 0);
	assert_non_null(gloop_context(e->g));
	uv_timer_init(&e->loop, &e->watchdog);
	e->watchdog.data = e;
	uv_timer_start(&e->watchdog, on_watchdog, WATCHDOG_MS, 0);
	uv_unref((uv_handle_t *)&e->watchdog);
	uv_check_init(&e->loop, &e->counter);
	e->counter.data = e;
	uv_check_start(&e->counter, on_count);
	uv_unref((uv_handle_t *)&e->counter);
}

/* Frees the bridge (unless a test already did) and checks that every handle
 * closes: uv_run must return and uv_loop_close must succeed. */
static void env_done(struct env *e)
{
	assert_false(e->timed_out);
	gloop_free(e->g);
	uv_close((uv_handle_t *)&e->watchdog, NULL);
	uv_close((uv_handle_t *)&e->counter, NULL);
	assert_int_equal(uv_run(&e->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&e->loop), 0);
}

static GSource *attach(struct env *e, GSource *s, GSourceFunc fn, void *arg)
{
	g_source_set_callback(s, fn, arg, NULL);
	g_source_attach(s, gloop_context(e->g));
	return s;
}

static void xpipe(int p[2])
{
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
}

static void xwrite(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* ---- a GLib timeout fires with nothing else on the loop ---- */

struct tick {
	struct env *e;
	int count;
};

static gboolean on_tick(gpointer arg)
{
	struct tick *t = arg;

	if (++t->count < 3)
		return G_SOURCE_CONTINUE;
	/* Freeing the bridge from inside its own dispatch is allowed. */
	gloop_free(t->e->g);
	t->e->g = NULL;
	return G_SOURCE_REMOVE;
}

static void test_timeout(void **state)
{
	struct env e;
	struct tick t = {.e = &e};
	uint64_t start;
	GSource *s;

	(void)state;
	env_init(&e);
	s = attach(&e, g_timeout_source_new(30), on_tick, &t);
	start = uv_hrtime();
	/* Only the bridge's handles are active: uv_run returns once the
	 * callback has freed it. */
	assert_int_equal(uv_run(&e.loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(t.count, 3);
	assert_true(uv_hrtime() - start >= 85 * 1000000ull);
	g_source_unref(s);
	env_done(&e);
}

/* ---- fd sources: a pipe and a GSocket ---- */

struct reader {
	struct env *e;
	int fd;
	char buf[64];
	size_t len;
	int calls;
	bool stop_when_read;
};

static gboolean on_pipe(gint fd, GIOCondition cond, gpointer arg)
{
	struct reader *r = arg;
	ssize_t n;

	assert_true(cond & G_IO_IN);
	r->calls++;
	n = read(fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
	if (n > 0)
		r->len += (size_t)n;
	r->buf[r->len] = '\0';
	if (r->stop_when_read)
		uv_stop(&r->e->loop);
	return G_SOURCE_CONTINUE;
}

struct delayed_write {
	uv_timer_t t;
	int fd;
	const char *text;
};

static void on_delayed_write(uv_timer_t *t)
{
	struct delayed_write *w = t->data;

	xwrite(w->fd, w->text);
}

static void test_pipe_source(void **state)
{
	struct env e;
	struct reader r = {.e = &e, .stop_when_read = true};
	struct delayed_write w = {.text = "hello"};
	int p[2];
	GSource *s;

	(void)state;
	env_init(&e);
	xpipe(p);
	s = attach(&e, g_unix_fd_source_new(p[0], G_IO_IN), G_SOURCE_FUNC(on_pipe), &r);
	uv_timer_init(&e.loop, &w.t);
	w.t.data = &w;
	w.fd = p[1];
	uv_timer_start(&w.t, on_delayed_write, 20, 0);
	assert_true(uv_run(&e.loop, UV_RUN_DEFAULT) >= 0);
	assert_false(e.timed_out);
	assert_string_equal(r.buf, "hello");
	assert_int_equal(r.calls, 1);
	uv_close((uv_handle_t *)&w.t, NULL);
	g_source_destroy(s);
	g_source_unref(s);
	close(p[0]);
	close(p[1]);
	env_done(&e);
}

struct sock_reader {
	struct env *e;
	GSocket *sock;
	char buf[64];
	gssize len;
};

static gboolean on_socket(GSocket *sock, GIOCondition cond, gpointer arg)
{
	struct sock_reader *r = arg;

	(void)cond;
	r->len = g_socket_receive(sock, r->buf, sizeof(r->buf) - 1, NULL, NULL);
	if (r->len > 0)
		r->buf[r->len] = '\0';
	uv_stop(&r->e->loop);
	return G_SOURCE_REMOVE;
}

static GSocket *udp_on_loopback(void)
{
	GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	GSocketAddress *sa = g_inet_socket_address_new(lo, 0);
	GSocket *s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
	                          G_SOCKET_PROTOCOL_UDP, NULL);

	assert_non_null(s);
	assert_true(g_socket_bind(s, sa, FALSE, NULL));
	g_object_unref(sa);
	g_object_unref(lo);
	return s;
}

static void test_gsocket_source(void **state)
{
	struct env e;
	struct sock_reader r = {.e = &e};
	GSocket *rx, *tx;
	GSocketAddress *to;
	GSource *s;

	(void)state;
	env_init(&e);
	rx = udp_on_loopback();
	tx = udp_on_loopback();
	r.sock = rx;
	s = g_socket_create_source(rx, G_IO_IN, NULL);
	attach(&e, s, G_SOURCE_FUNC(on_socket), &r);
	to = g_socket_get_local_address(rx, NULL);
	assert_int_equal(g_socket_send_to(tx, to, "datagram", 8, NULL, NULL), 8);
	assert_true(uv_run(&e.loop, UV_RUN_DEFAULT) >= 0);
	assert_false(e.timed_out);
	assert_int_equal(r.len, 8);
	assert_string_equal(r.buf, "datagram");
	g_source_unref(s);
	g_object_unref(to);
	g_object_unref(tx);
	g_object_unref(rx);
	env_done(&e);
}

/* epoll refuses regular files (EPERM), so libuv cannot poll them; the bridge
 * falls back to poll(2) and the source still fires. */
static gboolean on_file(gint fd, GIOCondition cond, gpointer arg)
{
	struct reader *r = arg;

	(void)fd;
	assert_true(cond & G_IO_IN);
	r->calls++;
	uv_stop(&r->e->loop);
	return G_SOURCE_REMOVE;
}

static void test_unpollable_fd(void **state)
{
	struct env e;
	struct reader r = {.e = &e};
	char path[] = "/tmp/test_gloop.XXXXXX";
	int fd;
	GSource *s;

	(void)state;
	env_init(&e);
	fd = mkostemp(path, O_CLOEXEC);
	assert_true(fd >= 0);
	unlink(path);
	s = attach(&e, g_unix_fd_source_new(fd, G_IO_IN), G_SOURCE_FUNC(on_file), &r);
	assert_true(uv_run(&e.loop, UV_RUN_DEFAULT) >= 0);
	assert_false(e.timed_out);
	assert_int_equal(r.calls, 1);
	g_source_unref(s);
	close(fd);
	env_done(&e);
}

/* Another handle already polls the fd, so libuv refuses the bridge's poll
 * (UV_EEXIST). The fallback must still notice data that arrives while the
 * loop has nothing else to wake it: a child process writes it. */
static void test_refused_fd(void **state)
{
	struct env e;
	struct reader r = {.e = &e, .stop_when_read = true};
	uv_poll_t other;
	pid_t child;
	int p[2], status;
	uint64_t start;
	GSource *s;

	(void)state;
	env_init(&e);
	xpipe(p);
	/* Watches for writability of a read end: never fires. */
	assert_int_equal(uv_poll_init(&e.loop, &other, p[0]), 0);
	assert_int_equal(uv_poll_start(&other, UV_WRITABLE, NULL), 0);
	uv_unref((uv_handle_t *)&other);
	s = attach(&e, g_unix_fd_source_new(p[0], G_IO_IN), G_SOURCE_FUNC(on_pipe), &r);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		usleep(200 * 1000);
		_exit(write(p[1], "late", 4) == 4 ? 0 : 1);
	}
	start = uv_hrtime();
	assert_true(uv_run(&e.loop, UV_RUN_DEFAULT) >= 0);
	assert_false(e.timed_out);
	assert_string_equal(r.buf, "late");
	/* Seen within the fallback period, not when something else woke up. */
	assert_true(uv_hrtime() - start < 1000 * 1000000ull);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	g_source_destroy(s);
	g_source_unref(s);
	uv_close((uv_handle_t *)&other, NULL);
	close(p[0]);
	close(p[1]);
	env_done(&e);
}

/* ---- fds that change during a dispatch ---- */

struct churn {
	struct env *e;
	int old_fd, old_wr;
	int new_rd, new_wr;
	GSource *replacement;
	struct reader r;
	bool reuse; /* give the new pipe the old fd number */
};

/* Removes its own fd and closes it, then watches a new pipe (under the same
 * number when reuse is set) that already holds data. */
static gboolean on_churn(gint fd, GIOCondition cond, gpointer arg)
{
	struct churn *c = arg;
	char b[16];
	int p[2];

	(void)cond;
	assert_true(read(fd, b, sizeof(b)) > 0);
	if (c->reuse) {
		assert_int_equal(close(c->old_fd), 0);
		xpipe(p);
	} else {
		xpipe(p);
		assert_int_equal(close(c->old_fd), 0);
	}
	if (c->reuse && p[0] != c->old_fd) {
		assert_int_equal(dup3(p[0], c->old_fd, O_CLOEXEC), c->old_fd);
		close(p[0]);
		p[0] = c->old_fd;
	}
	c->new_rd = p[0];
	c->new_wr = p[1];
	xwrite(c->new_wr, "second");
	c->r.fd = c->new_rd;
	c->replacement = attach(c->e, g_unix_fd_source_new(c->new_rd, G_IO_IN),
	                        G_SOURCE_FUNC(on_pipe), &c->r);
	return G_SOURCE_REMOVE;
}

static void churn_run(bool reuse)
{
	struct env e;
	struct churn c = {.e = &e, .reuse = reuse};
	int p[2];
	GSource *s;

	env_init(&e);
	c.r.e = &e;
	c.r.stop_when_read = true;
	xpipe(p);
	c.old_fd = p[0];
	c.old_wr = p[1];
	s = attach(&e, g_unix_fd_source_new(p[0], G_IO_IN), G_SOURCE_FUNC(on_churn), &c);
	xwrite(p[1], "first");
	assert_true(uv_run(&e.loop, UV_RUN_DEFAULT) >= 0);
	assert_false(e.timed_out);
	assert_string_equal(c.r.buf, "second");
	if (reuse)
		assert_int_equal(c.new_rd, c.old_fd);
	else
		assert_int_not_equal(c.new_rd, c.old_fd);
	g_source_unref(s);
	g_source_destroy(c.replacement);
	g_source_unref(c.replacement);
	close(c.old_wr);
	close(c.new_rd);
	close(c.new_wr);
	env_done(&e);
}

static void test_fd_replaced_in_dispatch(void **state)
{
	(void)state;
	churn_run(false);
}

/* The fd list looks the same before and after the dispatch, but the kernel
 * dropped the old file's epoll registration: without a re-arm the new pipe
 * would never be seen and the watchdog would fire. */
static void test_fd_reused_in_dispatch(void **state)
{
	(void)state;
	churn_run(true);
}

/* A source removed during a dispatch gives its fd number back to libuv at
 * once: another handle can poll a new fd with that number in the same
 * iteration, before the bridge's next prepare. */
struct handback {
	struct env *e;
	int fd;
	int wr;
	uv_idle_t trigger; /* closed from the dispatch: its close callback runs
	                    * in the closing phase right after the check phase */
	uv_poll_t other;
	int init_rc;
};

static void on_trigger_closed(uv_handle_t *t)
{
	struct handback *h = t->data;

	h->init_rc = uv_poll_init(&h->e->loop, &h->other, h->fd);
	if (h->init_rc == 0)
		uv_close((uv_handle_t *)&h->other, NULL);
	uv_stop(&h->e->loop);
}

static gboolean on_remove_self(gint fd, GIOCondition cond, gpointer arg)
{
	struct handback *h = arg;
	int p[2];

	(void)cond;
	(void)fd;
	assert_int_equal(close(h->fd), 0);
	close(h->wr);
	xpipe(p);
	assert_int_equal(p[0], h->fd); /* lowest free number */
	h->wr = p[1];
	uv_close((uv_handle_t *)&h->trigger, on_trigger_closed);
	return G_SOURCE_REMOVE;
}

static void test_fd_number_handed_back(void **state)
{
	struct env e;
	struct handback h = {.e = &e, .init_rc = 1};
	struct delayed_write w = {.text = "x"};
	int p[2];
	GSource *s;

	(void)state;
	env_init(&e);
	xpipe(p);
	h.fd = p[0];
	h.wr = p[1];
	uv_idle_init(&e.loop, &h.trigger);
	h.trigger.data = &h;
	s = attach(&e, g_unix_fd_source_new(p[0], G_IO_IN), G_SOURCE_FUNC(on_remove_self), &h);
	/* Written once the attach's wakeup has been handled, so the dispatch
	 * runs in a quiet iteration. */
	uv_timer_init(&e.loop, &w.t);
	w.t.data = &w;
	w.fd = p[1];
	uv_timer_start(&w.t, on_delayed_write, 20, 0);
	assert_true(uv_run(&e.loop, UV_RUN_DEFAULT) >= 0);
	assert_false(e.timed_out);
	assert_int_equal(h.init_rc, 0);
	uv_close((uv_handle_t *)&w.t, NULL);
	g_source_unref(s);
	close(h.fd);
	close(h.wr);
	env_done(&e);
}

/* ---- idle: no busy loop ---- */

static void on_stop(uv_timer_t *t)
{
	uv_stop(t->loop);
}

static gboolean on_never(gpointer arg)
{
	(void)arg;
	fail_msg("a 10 s timeout fired during a 1 s test");
	return G_SOURCE_REMOVE;
}

static void test_idle_is_quiet(void **state)
{
	struct env e;
	uv_timer_t stop;
	uint64_t cpu;
	int p[2];
	GSource *fd_src, *far;

	(void)state;
	env_init(&e);
	xpipe(p);
	fd_src = attach(&e, g_unix_fd_source_new(p[0], G_IO_IN), G_SOURCE_FUNC(on_pipe), NULL);
	far = attach(&e, g_timeout_source_new(10000), on_never, NULL);
	uv_timer_init(&e.loop, &stop);
	uv_timer_start(&stop, on_stop, 1000, 0);
	e.iterations = 0;
	cpu = cpu_ms();
	assert_true(uv_run(&e.loop, UV_RUN_DEFAULT) >= 0);
	/* One wakeup for the attach, one for the stop timer; a busy loop would
	 * count millions. */
	assert_true(e.iterations <= 10);
	assert_true(cpu_ms() - cpu < 100);
	uv_close((uv_handle_t *)&stop, NULL);
	g_source_destroy(fd_src);
	g_source_unref(fd_src);
	g_source_destroy(far);
	g_source_unref(far);
	close(p[0]);
	close(p[1]);
	env_done(&e);
}

/* ---- a dup()ed socket: release before close, or libuv spins ---- */

static void test_release_before_close(void **state)
{
	struct env e;
	struct reader r;
	uv_timer_t stop;
	uint64_t cpu;
	int p[2], keep;
	GSource *s;

	(void)state;
	env_init(&e);
	memset(&r, 0, sizeof(r));
	r.e = &e;
	r.stop_when_read = true;
	xpipe(p);
	s = attach(&e, g_unix_fd_source_new(p[0], G_IO_IN), G_SOURCE_FUNC(on_pipe), &r);
	xwrite(p[1], "a");
	assert_true(uv_run(&e.loop, UV_RUN_DEFAULT) >= 0);
	assert_string_equal(r.buf, "a");
	/* One quiet iteration: libuv registers polls with epoll lazily, in its
	 * next poll phase. */
	assert_true(uv_run(&e.loop, UV_RUN_NOWAIT) >= 0);

	/* Someone keeps a duplicate of the watched fd (as a fast path taking
	 * over a libnice socket would), then the watcher goes away. */
	keep = dup(p[0]);
	assert_true(keep >= 0);
	gloop_release_fds(e.g);
	g_source_destroy(s);
	g_source_unref(s);
	close(p[0]);
	/* Data waits on the duplicate and nobody reads it. */
	xwrite(p[1], "b");
	uv_timer_init(&e.loop, &stop);
	uv_timer_start(&stop, on_stop, 300, 0);
	e.iterations = 0;
	cpu = cpu_ms();
	assert_true(uv_run(&e.loop, UV_RUN_DEFAULT) >= 0);
	assert_true(e.iterations <= 10);
	/* A stale epoll entry spins inside libuv's poll: about 300 ms of CPU. */
	assert_true(cpu_ms() - cpu < 100);
	uv_close((uv_handle_t *)&stop, NULL);
	close(keep);
	close(p[1]);
	env_done(&e);
}

/* ---- teardown with polls and a timer armed ---- */

static void test_free_while_busy(void **state)
{
	struct env e;
	int p[2];
	GSource *fd_src, *t;

	(void)state;
	env_init(&e);
	xpipe(p);
	fd_src = attach(&e, g_unix_fd_source_new(p[0], G_IO_IN), G_SOURCE_FUNC(on_pipe), NULL);
	t = attach(&e, g_timeout_source_new(10000), on_never, NULL);
	/* One iteration so the polls and the timer exist. */
	assert_true(uv_run(&e.loop, UV_RUN_NOWAIT) >= 0);
	g_source_destroy(fd_src);
	g_source_unref(fd_src);
	g_source_destroy(t);
	g_source_unref(t);
	close(p[0]);
	close(p[1]);
	env_done(&e);
	gloop_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_timeout),
	        cmocka_unit_test(test_pipe_source),
	        cmocka_unit_test(test_gsocket_source),
	        cmocka_unit_test(test_unpollable_fd),
	        cmocka_unit_test(test_refused_fd),
	        cmocka_unit_test(test_fd_replaced_in_dispatch),
	        cmocka_unit_test(test_fd_reused_in_dispatch),
	        cmocka_unit_test(test_fd_number_handed_back),
	        cmocka_unit_test(test_idle_is_quiet),
	        cmocka_unit_test(test_release_before_close),
	        cmocka_unit_test(test_free_while_busy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
