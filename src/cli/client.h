/* SPDX-License-Identifier: MIT */
/* client.h: one request to idlocd over its control socket, blocking. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "common/ctl_proto.h"

/* Connects to the socket at path, sends req and waits at most timeout_ms for
 * the answer. 0 with *result (json_decref it); -EREMOTEIO with the daemon's
 * message in err; another negative errno with a one-line reason in err. */
int client_call(const char *path, const struct ctl_request *req, int timeout_ms, json_t **result,
                char *err, size_t errlen);
