/* SPDX-License-Identifier: MIT */
/* client.c: connect to idlocd's control socket, send one request, read the answer. */
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

static const char *connect_hint(int e)
{
	switch (e) {
	case ENOENT:
	case ECONNREFUSED:
		return " (is idlocd running?)";
	case EACCES:
		return " (run as root or as a member of the socket's group)";
	default:
		return "";
	}
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

/* Waits for the readable end of the answer line; *ret holds it without "\n". */
static int read_line(int fd, int timeout_ms, char **ret, size_t *retlen, char *err, size_t errlen)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap), *nl, *bigger;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;

	if (!buf)
		return fail(err, errlen, -ENOMEM, "out of memory");
	for (;;) {
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0) {
			r = fail(err, errlen, -ETIMEDOUT, "no answer from the daemon within %d s",
			         timeout_ms / 1000);
			break;
		}
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno != EINTR) {
			r = fail(err, errlen, -errno, "poll: %s", strerror(errno));
			break;
		}
		if (r <= 0)
			continue;
		if (len == cap) {
			cap = cap * 2 > CTL_RESPONSE_MAX ? CTL_RESPONSE_MAX : cap * 2;
			bigger = realloc(buf, cap);
			if (!bigger) {
				r = fail(err, errlen, -ENOMEM, "out of memory");
				break;
			}
			buf = bigger;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0 && errno != ECONNRESET) {
			r = fail(err, errlen, -errno, "cannot read the answer: %s",
			         strerror(errno));
			break;
		}
		if (n <= 0) {
			r = len == 0 ? fail(err, errlen, -ECONNRESET,
			                    "the daemon closed the connection without answering")
			             : fail(err, errlen, -EBADMSG,
			                    "incomplete answer from the daemon");
			break;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			*ret = buf;
			*retlen = (size_t)(nl - buf);
			return 0;
		}
		if (len >= CTL_RESPONSE_MAX) {
			r = fail(err, errlen, -EMSGSIZE, "answer longer than %d bytes",
			         CTL_RESPONSE_MAX - 1);
			break;
		}
	}
	free(buf);
	return r;
}

int client_call(const char *path, const struct ctl_request *req, int timeout_ms, json_t **result,
                char *err, size_t errlen)
{
	char *line = NULL, *answer = NULL;
	size_t len, alen = 0;
	int fd, r;

	*result = NULL;
	r = ctl_proto_format_request(req, &line, &len);
	if (r < 0)
		return fail(err, errlen, r, "cannot build the request: %s", strerror(-r));
	fd = open_socket(path, err, errlen);
	if (fd < 0) {
		free(line);
		return fd;
	}
	r = send_all(fd, line, len, err, errlen);
	if (r == 0)
		r = read_line(fd, timeout_ms, &answer, &alen, err, errlen);
	close(fd);
	free(line);
	if (r == 0)
		r = ctl_proto_parse_response(answer, alen, result, err, errlen);
	free(answer);
	return r;
}
