/* SPDX-License-Identifier: MIT */
/* ctl_proto.h: the control protocol codec (include/idloc/ctl.h): framing,
 * strict request parsing, answer building and parsing, name checks.
 *
 * Pure: no I/O, no event loop, no logging; shared by idlocd, idloc and the
 * tray. Every parser takes untrusted bytes and is fuzzed (fuzz_ctl). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "idloc/ctl.h"

struct ctl_request {
	enum ctl_cmd cmd;
	char name[CTL_NAME_MAX + 1]; /* resolve, ping: lowercased, no trailing dot; else "" */
	/* ping only, else 0. Parsing fills in the defaults (CTL_PING_*); when
	 * formatting, 0 leaves the member out so the daemon's default applies. */
	unsigned count, interval_ms, timeout_ms;
	/* log only. Parsing fills in CTL_LOG_LINES_DEFAULT when "lines" is
	 * absent; when formatting, a negative lines leaves the member out. */
	int lines;
	bool follow;
};

/* Finds the end of the first line in buf. Returns its length without the
 * "\n"; -EAGAIN when no "\n" came yet and more may (len < max); -EMSGSIZE
 * when the first max bytes hold no "\n" (the line, "\n" included, would
 * exceed max). */
ssize_t ctl_proto_frame(const char *buf, size_t len, size_t max);

const char *ctl_proto_cmd_name(enum ctl_cmd cmd);
/* CTL_CMD_INVALID for an unknown verb. */
enum ctl_cmd ctl_proto_cmd_from_name(const char *s);
/* Commands that change the daemon's state; the server lets only root and its
 * own user run them. */
bool ctl_proto_cmd_privileged(enum ctl_cmd cmd);

/* Checks a name argument: one label or a dotted name of labels, each 1-63
 * of [A-Za-z0-9-] not starting or ending with '-', at most 253 bytes, one
 * trailing dot allowed. Writes it lowercased without the dot. 0 or -EINVAL. */
int ctl_proto_name_normalize(const char *s, char out[CTL_NAME_MAX + 1]);
/* name (already normalized) as an fqdn: a single label gets "." domain
 * appended, a dotted name is kept. 0, or -EINVAL when too long. */
int ctl_proto_name_qualify(const char *name, const char *domain, char out[CTL_NAME_MAX + 1]);

/* The longest a ping request may take the daemon (include/idloc/ctl.h):
 * timeout + (count - 1) * interval + timeout, with 0 members taken as
 * their defaults; 0 for other commands. */
uint64_t ctl_proto_ping_budget_ms(const struct ctl_request *req);

/* Parses one request line (without its "\n"): exactly one JSON object with a
 * known "cmd" and exactly that command's arguments, correctly typed.
 * 0, or -EMSGSIZE / -EBADMSG with a one-line reason in err (which the server
 * sends back as the error message). */
int ctl_proto_parse_request(const char *buf, size_t len, struct ctl_request *req, char *err,
                            size_t errlen);
/* The request as a line with its "\n", in a malloc'd NUL-terminated buffer.
 * 0, -EINVAL for a bad command, name or ping argument, -ENOMEM. */
int ctl_proto_format_request(const struct ctl_request *req, char **ret, size_t *retlen);

/* {"ok":true} followed by the members of result (an object, or NULL for none;
 * a member "ok" in it is ignored), as a compact line with its "\n", malloc'd.
 * 0, -EINVAL if result is not an object, -EMSGSIZE beyond CTL_RESPONSE_MAX,
 * -ENOMEM. */
int ctl_proto_format_ok(const json_t *result, char **ret, size_t *retlen);
/* {"ok":false,"error":msg}, msg cut to CTL_ERROR_MAX bytes at a character
 * boundary; a msg that is not UTF-8 becomes "internal error". 0 or -ENOMEM. */
int ctl_proto_format_error(const char *msg, char **ret, size_t *retlen);

/* Parses one answer line (without its "\n"). On {"ok":true,...}: 0 and
 * *result is a new object holding the other members (json_decref it). On
 * {"ok":false,"error":M}: -EREMOTEIO with M in err. Anything else: -EBADMSG
 * (or -EMSGSIZE) with a reason in err. *result is NULL on every error. */
int ctl_proto_parse_response(const char *buf, size_t len, json_t **result, char *err,
                             size_t errlen);

/* An event line of a stream ({"event":"log", ...}): event must be an object
 * with a string "event"; a compact line with its "\n", malloc'd. 0, -EINVAL,
 * -EMSGSIZE beyond CTL_RESPONSE_MAX, -ENOMEM. */
int ctl_proto_format_event(const json_t *event, char **ret, size_t *retlen);
/* Parses one line (without its "\n") that follows a streaming answer: an
 * object with a string "event". 0 with *event (json_decref it); -EBADMSG or
 * -EMSGSIZE with a reason in err, *event NULL. */
int ctl_proto_parse_event(const char *buf, size_t len, json_t **event, char *err, size_t errlen);

/* in as text a JSON string can carry and a terminal can show: bytes that are
 * not UTF-8, C0 and C1 controls and DEL become '?'; cut at a character
 * boundary to fit out (outlen bytes with the NUL, at least 1). */
void ctl_proto_text_clean(const char *in, char *out, size_t outlen);

/* The error message the protocol uses for a negative errno from a handler:
 * "not found" for -ENOENT, "timed out", "permission denied", ... */
const char *ctl_proto_strerror(int err);
