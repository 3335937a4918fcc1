/* SPDX-License-Identifier: MIT */
/* client.c: connect to idlocd's control socket, send a request, read lines. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/client.h"

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

bool client_not_running(int err)
{
	return err == -ENOENT || err == -ECONNREFUSED;
}

static const char *connect_hint(int e)
{
	return e == EACCES ? " (run as root or as a member of the socket's group)" : "";
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(err, errlen, -ENAMETOOLONG, "socket path '%s' is too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, -errno, "socket: %s", strerror(errno));
	while (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		e = errno;
		close(fd);
		return fail(err, errlen, -e, "cannot connect to '%s': %s%s", path, strerror(e),
		            connect_hint(e));
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len, char *err, size_t errlen)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(err, errlen, -errno, "cannot send the request: %s",
			            strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int client_open(struct client *c, const char *path, const struct ctl_request *req, char *err,
                size_t errlen)
{
	char *line;
	size_t len;
	int r;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	r = ctl_proto_format_request(req, &line, &len);
	if (r < 0)
		return fail(err, errlen, r, "cannot build the request: %s", strerror(-r));
	c->fd = open_socket(path, err, errlen);
	if (c->fd < 0) {
		r = c->fd;
		c->fd = -1;
		free(line);
		return r;
	}
	r = send_all(c->fd, line, len, err, errlen);
	free(line);
	if (r < 0)
		client_close(c);
	return r;
}

void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = c->taken = 0;
}

/* Room for more bytes in c->buf, up to one line of CTL_RESPONSE_MAX. */
static int grow(struct client *c, char *err, size_t errlen)
{
	size_t cap;
	char *bigger;

	if (c->len < c->cap)
		return 0;
	if (c->cap >= CTL_RESPONSE_MAX)
		return fail(err, errlen, -EMSGSIZE, "answer longer than %d bytes",
		            CTL_RESPONSE_MAX - 1);
	cap = c->cap ? 2 * c->cap : 4096;
	if (cap > CTL_RESPONSE_MAX)
		cap = CTL_RESPONSE_MAX;
	bigger = realloc(c->buf, cap);
	if (!bigger)
		return fail(err, errlen, -ENOMEM, "out of memory");
	c->buf = bigger;
	c->cap = cap;
	return 0;
}

/* Waits for readable data until deadline (negative: none). */
static int wait_readable(int fd, int64_t deadline, int timeout_ms, char *err, size_t errlen)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	for (;;) {
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		int r;

		if (deadline >= 0 && left <= 0)
			return fail(err, errlen, -ETIMEDOUT,
			            "no answer from the daemon within %d s", timeout_ms / 1000);
		r = poll(&p, 1, (int)(left > 60000 || left < 0 ? 60000 : left));
		if (r < 0 && errno != EINTR)
			return fail(err, errlen, -errno, "poll: %s", strerror(errno));
		if (r > 0)
			return 0;
	}
}

int client_read_line(struct client *c, int timeout_ms, const char **line, size_t *len, char *err,
                     size_t errlen)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	char *nl;
	int r;

	/* Drop the line returned last time. */
	if (c->taken) {
		memmove(c->buf, c->buf + c->taken, c->len - c->taken);
		c->len -= c->taken;
		c->taken = 0;
	}
	for (;;) {
		ssize_t n;

		nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			*line = c->buf;
			*len = (size_t)(nl - c->buf);
			c->taken = *len + 1;
			return 0;
		}
		r = grow(c, err, errlen);
		if (r == 0)
			r = wait_readable(c->fd, deadline, timeout_ms, err, errlen);
		if (r < 0)
			return r;
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0 && errno != ECONNRESET)
			return fail(err, errlen, -errno, "cannot read the answer: %s",
			            strerror(errno));
		if (n <= 0)
			return c->len == 0 ? fail(err, errlen, -ENODATA,
			                          "the daemon closed the connection")
			                   : fail(err, errlen, -EBADMSG,
			                          "incomplete answer from the daemon");
		c->len += (size_t)n;
	}
}

int client_call(const char *path, const struct ctl_request *req, int timeout_ms, json_t **result,
                char *err, size_t errlen)
{
	struct client c;
	const char *line;
	size_t len;
	int r;

	*result = NULL;
	r = client_open(&c, path, req, err, errlen);
	if (r < 0)
		return r;
	r = client_read_line(&c, timeout_ms, &line, &len, err, errlen);
	if (r == -ENODATA)
		r = fail(err, errlen, -ECONNRESET,
		         "the daemon closed the connection without answering");
	if (r == 0)
		r = ctl_proto_parse_response(line, len, result, err, errlen);
	client_close(&c);
	return r;
}
