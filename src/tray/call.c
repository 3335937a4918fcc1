/* SPDX-License-Identifier: MIT */
/* call.c: a control request over a non-blocking UNIX socket driven by GLib fd watches. */
#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tray/call.h"

struct call {
	int fd;
	guint watch, timer, idle;
	char *out; /* the request line */
	size_t outlen, outoff;
	char *in; /* the answer so far */
	size_t inlen, incap;
	unsigned timeout_ms;
	int r;
	char err[CALL_ERR_MAX];
	call_done_fn done;
	void *data;
};

static int fail(struct call *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records why the call failed; returns r. */
static int fail(struct call *c, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->r = r;
	return r;
}

static void call_free(struct call *c)
{
	if (c->watch)
		g_source_remove(c->watch);
	if (c->timer)
		g_source_remove(c->timer);
	if (c->idle)
		g_source_remove(c->idle);
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	free(c->in);
	g_free(c);
}

/* Parses the answer (when the call got that far), reports and frees. */
static void finish(struct call *c, size_t linelen)
{
	json_t *result = NULL;

	if (c->r == 0)
		c->r = ctl_proto_parse_response(c->in, linelen, &result, c->err, sizeof(c->err));
	c->done(c->data, c->r, result, c->r == 0 ? NULL : c->err);
	json_decref(result);
	call_free(c);
}

static gboolean on_idle_failure(gpointer data)
{
	struct call *c = data;

	c->idle = 0;
	finish(c, 0);
	return G_SOURCE_REMOVE;
}

static gboolean on_timeout(gpointer data)
{
	struct call *c = data;

	c->timer = 0;
	fail(c, -ETIMEDOUT, "no answer from the daemon within %u s", (c->timeout_ms + 999) / 1000);
	finish(c, 0);
	return G_SOURCE_REMOVE;
}

/* Reads what came; 1 when the answer line is complete, 0 for more, <0 failed. */
static int read_some(struct call *c, size_t *linelen)
{
	ssize_t n, line;

	if (c->inlen == c->incap) {
		size_t cap = c->incap * 2 > CTL_RESPONSE_MAX ? CTL_RESPONSE_MAX : c->incap * 2;
		char *bigger = realloc(c->in, cap);

		if (!bigger)
			return fail(c, -ENOMEM, "out of memory");
		c->in = bigger;
		c->incap = cap;
	}
	n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0)
		return fail(c, -errno, "cannot read the answer: %s", strerror(errno));
	if (n == 0 && c->inlen)
		return fail(c, -EBADMSG, "incomplete answer from the daemon");
	if (n == 0)
		return fail(c, -ECONNRESET, "the daemon closed the connection without answering");
	c->inlen += (size_t)n;
	line = ctl_proto_frame(c->in, c->inlen, CTL_RESPONSE_MAX);
	if (line == -EAGAIN)
		return 0;
	if (line < 0)
		return fail(c, -EMSGSIZE, "answer longer than %d bytes", CTL_RESPONSE_MAX - 1);
	*linelen = (size_t)line;
	return 1;
}

/* Sends what the socket takes; 1 when the request is all out. */
static int write_some(struct call *c)
{
	ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0)
		return fail(c, -errno, "cannot send the request: %s", strerror(errno));
	c->outoff += (size_t)n;
	return c->outoff == c->outlen;
}

static gboolean on_fd(gint fd, GIOCondition cond, gpointer data)
{
	struct call *c = data;
	size_t linelen = 0;
	int r;

	if (c->outoff < c->outlen) {
		r = write_some(c);
		if (r == 1) {
			/* Now wait for the answer only. */
			c->watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_fd, c);
			return G_SOURCE_REMOVE;
		}
	} else {
		r = read_some(c, &linelen);
	}
	if (r == 0)
		return G_SOURCE_CONTINUE;
	c->watch = 0;
	finish(c, linelen);
	return G_SOURCE_REMOVE;
}

/* A non-blocking connect to a UNIX socket completes or fails at once (or
 * says EAGAIN when the daemon's backlog is full: then we try next poll). */
static int open_socket(struct call *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(c, -ENAMETOOLONG, "socket path '%s' is too long", path);
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return fail(c, -errno, "socket: %s", strerror(errno));
	while (connect(c->fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		e = errno;
		return fail(c, -e, "cannot connect to '%s': %s%s", path, strerror(e),
		            e == EACCES ? " (the socket's group may use it)" : "");
	}
	return 0;
}

void call_start(const char *path, const struct ctl_request *req, unsigned timeout_ms,
                call_done_fn done, void *data)
{
	struct call *c = g_new0(struct call, 1);
	int r;

	c->fd = -1;
	c->done = done;
	c->data = data;
	c->timeout_ms = timeout_ms;
	c->incap = 4096;
	c->in = malloc(c->incap);
	r = c->in ? ctl_proto_format_request(req, &c->out, &c->outlen) : -ENOMEM;
	if (r < 0)
		fail(c, r, "cannot build the request: %s", strerror(-r));
	else
		r = open_socket(c, path);
	if (r < 0) {
		c->idle = g_idle_add(on_idle_failure, c);
		return;
	}
	c->watch = g_unix_fd_add(c->fd, G_IO_OUT | G_IO_HUP | G_IO_ERR, on_fd, c);
	c->timer = g_timeout_add(timeout_ms, on_timeout, c);
}
