/* SPDX-License-Identifier: MIT */
/* client.h: requests to idlocd over its control socket, blocking: one request
 * and its answer, or an answer followed by a stream of event lines. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/ctl_proto.h"

/* An open connection and what was read from it but not yet taken. */
struct client {
	int fd;
	char *buf;
	size_t len, cap;
	size_t taken; /* bytes of buf the last line used, "\n" included */
};

/* Connects to the socket at path and sends req. 0; else a negative errno
 * with a one-line reason in err: -ENOENT or -ECONNREFUSED when no daemon
 * listens there (client_not_running says so), -EACCES, ... */
int client_open(struct client *c, const char *path, const struct ctl_request *req, char *err,
                size_t errlen);
/* The next line, without its "\n", in *line (valid until the next call),
 * waiting at most timeout_ms (negative: for ever). 0; -ENODATA when the
 * daemon closed the connection at a line boundary; -EBADMSG when it closed
 * within a line; -ETIMEDOUT, -EMSGSIZE, ... with a reason in err. */
int client_read_line(struct client *c, int timeout_ms, const char **line, size_t *len, char *err,
                     size_t errlen);
void client_close(struct client *c);

/* Connects, sends req and waits at most timeout_ms for the answer. 0 with
 * *result (json_decref it); -EREMOTEIO with the daemon's message in err;
 * another negative errno with a one-line reason in err. */
int client_call(const char *path, const struct ctl_request *req, int timeout_ms, json_t **result,
                char *err, size_t errlen);

/* Whether err (from client_open or client_call) means no daemon listens. */
bool client_not_running(int err);
