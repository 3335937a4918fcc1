/* SPDX-License-Identifier: MIT */
/* ctl_proto.c: the control protocol codec: framing, requests, answers, names. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/ctl_proto.h"
#include "common/dnsname.h"

/* How much of an offending client string an error message quotes. */
#define SHOW_MAX 32

static const char *const cmd_names[CTL_CMD_MAX] = {
        [CTL_CMD_STATUS] = "status",     [CTL_CMD_PEERS] = "peers",       [CTL_CMD_ID] = "id",
        [CTL_CMD_RESOLVE] = "resolve",   [CTL_CMD_JOIN] = "join",         [CTL_CMD_LEAVE] = "leave",
        [CTL_CMD_PING] = "ping",         [CTL_CMD_SHUTDOWN] = "shutdown", [CTL_CMD_LOG] = "log",
        [CTL_CMD_NETCHECK] = "netcheck",
};

/* ping's optional integer arguments. */
struct int_arg {
	const char *key;
	size_t offset; /* in struct ctl_request */
	unsigned min, max, dflt;
};

static const struct int_arg ping_args[] = {
        {"count", offsetof(struct ctl_request, count), 1, CTL_PING_COUNT_MAX,
         CTL_PING_COUNT_DEFAULT},
        {"interval_ms", offsetof(struct ctl_request, interval_ms), CTL_PING_INTERVAL_MIN,
         CTL_PING_INTERVAL_MAX, CTL_PING_INTERVAL_DEFAULT},
        {"timeout_ms", offsetof(struct ctl_request, timeout_ms), CTL_PING_TIMEOUT_MIN,
         CTL_PING_TIMEOUT_MAX, CTL_PING_TIMEOUT_DEFAULT},
};

static unsigned *arg_field(struct ctl_request *req, const struct int_arg *a)
{
	return (unsigned *)((char *)req + a->offset);
}

static unsigned arg_value(const struct ctl_request *req, const struct int_arg *a)
{
	unsigned v = *(const unsigned *)((const char *)req + a->offset);

	return v ? v : a->dflt;
}

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* A client-supplied string made safe to quote in a message: printable ASCII
 * only, at most SHOW_MAX bytes, so the message stays one valid UTF-8 line. */
static const char *show(const char *s, char buf[SHOW_MAX + 4])
{
	size_t i;

	for (i = 0; s[i] && i < SHOW_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (s[i]) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* Length of the longest prefix of s, at most max bytes, that does not end
 * inside a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

ssize_t ctl_proto_frame(const char *buf, size_t len, size_t max)
{
	const char *nl = memchr(buf, '\n', len < max ? len : max);

	if (nl)
		return nl - buf;
	return len >= max ? -EMSGSIZE : -EAGAIN;
}

const char *ctl_proto_cmd_name(enum ctl_cmd cmd)
{
	if (cmd < 0 || cmd >= CTL_CMD_MAX)
		return NULL;
	return cmd_names[cmd];
}

enum ctl_cmd ctl_proto_cmd_from_name(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(cmd_names); i++)
		if (strcmp(s, cmd_names[i]) == 0)
			return (enum ctl_cmd)i;
	return CTL_CMD_INVALID;
}

bool ctl_proto_cmd_privileged(enum ctl_cmd cmd)
{
	return cmd == CTL_CMD_JOIN || cmd == CTL_CMD_LEAVE || cmd == CTL_CMD_SHUTDOWN;
}

int ctl_proto_name_normalize(const char *s, char out[CTL_NAME_MAX + 1])
{
	return dns_name_normalize(s, out);
}

int ctl_proto_name_qualify(const char *name, const char *domain, char out[CTL_NAME_MAX + 1])
{
	size_t n = strlen(name), d = domain ? strlen(domain) : 0;

	if (n > CTL_NAME_MAX)
		return -EINVAL;
	if (strchr(name, '.') || d == 0) {
		memmove(out, name, n + 1);
		return 0;
	}
	if (n + 1 + d > CTL_NAME_MAX)
		return -EINVAL;
	memmove(out, name, n);
	out[n] = '.';
	memcpy(out + n + 1, domain, d + 1);
	return 0;
}

static bool takes_name(enum ctl_cmd cmd)
{
	return cmd == CTL_CMD_RESOLVE || cmd == CTL_CMD_PING;
}

static const struct int_arg *ping_arg(enum ctl_cmd cmd, const char *key)
{
	if (cmd != CTL_CMD_PING)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(ping_args); i++)
		if (strcmp(key, ping_args[i].key) == 0)
			return &ping_args[i];
	return NULL;
}

static int parse_int_arg(const struct int_arg *a, json_t *v, struct ctl_request *req, char *err,
                         size_t errlen)
{
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;

	if (n < a->min || n > a->max)
		return fail(err, errlen, -EBADMSG, "\"%s\" must be an integer from %u to %u",
		            a->key, a->min, a->max);
	*arg_field(req, a) = (unsigned)n;
	return 0;
}

static int parse_name_arg(json_t *v, struct ctl_request *req, char *err, size_t errlen)
{
	char s[SHOW_MAX + 4];

	if (!json_is_string(v))
		return fail(err, errlen, -EBADMSG, "\"name\" is not a string");
	if (ctl_proto_name_normalize(json_string_value(v), req->name) < 0)
		return fail(err, errlen, -EBADMSG,
		            "invalid name '%s': expected a label or a domain name",
		            show(json_string_value(v), s));
	return 0;
}

static int parse_log_arg(const char *key, json_t *v, struct ctl_request *req, char *err,
                         size_t errlen)
{
	json_int_t n;

	if (strcmp(key, "follow") == 0) {
		if (!json_is_boolean(v))
			return fail(err, errlen, -EBADMSG, "\"follow\" must be true or false");
		req->follow = json_is_true(v);
		return 0;
	}
	n = json_is_integer(v) ? json_integer_value(v) : -1;
	if (n < 0 || n > CTL_LOG_LINES_MAX)
		return fail(err, errlen, -EBADMSG, "\"lines\" must be an integer from 0 to %d",
		            CTL_LOG_LINES_MAX);
	req->lines = (int)n;
	return 0;
}

static bool log_arg(enum ctl_cmd cmd, const char *key)
{
	return cmd == CTL_CMD_LOG && (strcmp(key, "lines") == 0 || strcmp(key, "follow") == 0);
}

static int parse_args(json_t *root, struct ctl_request *req, char *err, size_t errlen)
{
	char s[SHOW_MAX + 4];
	const struct int_arg *a;
	const char *key;
	json_t *v;
	bool have_name = false, have_lines = false;
	int r;

	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "cmd") == 0)
			continue;
		if (takes_name(req->cmd) && strcmp(key, "name") == 0) {
			r = parse_name_arg(v, req, err, errlen);
			have_name = true;
		} else if ((a = ping_arg(req->cmd, key)) != NULL) {
			r = parse_int_arg(a, v, req, err, errlen);
		} else if (log_arg(req->cmd, key)) {
			if (strcmp(key, "lines") == 0)
				have_lines = true;
			r = parse_log_arg(key, v, req, err, errlen);
		} else {
			r = fail(err, errlen, -EBADMSG, "unknown argument '%s' for '%s'",
			         show(key, s), cmd_names[req->cmd]);
		}
		if (r < 0)
			return r;
	}
	if (takes_name(req->cmd) && !have_name)
		return fail(err, errlen, -EBADMSG, "'%s' needs a \"name\"", cmd_names[req->cmd]);
	if (req->cmd == CTL_CMD_PING)
		for (size_t i = 0; i < ARRAY_SIZE(ping_args); i++)
			*arg_field(req, &ping_args[i]) = arg_value(req, &ping_args[i]);
	if (req->cmd == CTL_CMD_LOG && !have_lines)
		req->lines = CTL_LOG_LINES_DEFAULT;
	return 0;
}

uint64_t ctl_proto_ping_budget_ms(const struct ctl_request *req)
{
	uint64_t count, interval, timeout;

	if (req->cmd != CTL_CMD_PING)
		return 0;
	count = arg_value(req, &ping_args[0]);
	interval = arg_value(req, &ping_args[1]);
	timeout = arg_value(req, &ping_args[2]);
	return 2 * timeout + (count - 1) * interval;
}

int ctl_proto_parse_request(const char *buf, size_t len, struct ctl_request *req, char *err,
                            size_t errlen)
{
	char s[SHOW_MAX + 4];
	json_error_t jerr;
	json_t *root, *cmd;
	int r;

	memset(req, 0, sizeof(*req));
	req->cmd = CTL_CMD_INVALID;
	if (len >= CTL_REQUEST_MAX)
		return fail(err, errlen, -EMSGSIZE, "request longer than %d bytes",
		            CTL_REQUEST_MAX - 1);
	if (memchr(buf, '\n', len))
		return fail(err, errlen, -EBADMSG, "request spans more than one line");
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, errlen, -EBADMSG, "malformed request: %s", jerr.text);
	if (!json_is_object(root)) {
		r = fail(err, errlen, -EBADMSG, "request is not a JSON object");
		goto out;
	}
	cmd = json_object_get(root, "cmd");
	if (!cmd) {
		r = fail(err, errlen, -EBADMSG, "request has no \"cmd\"");
		goto out;
	}
	if (!json_is_string(cmd)) {
		r = fail(err, errlen, -EBADMSG, "\"cmd\" is not a string");
		goto out;
	}
	req->cmd = ctl_proto_cmd_from_name(json_string_value(cmd));
	if (req->cmd == CTL_CMD_INVALID) {
		r = fail(err, errlen, -EBADMSG, "unknown command '%s'",
		         show(json_string_value(cmd), s));
		goto out;
	}
	r = parse_args(root, req, err, errlen);
out:
	json_decref(root);
	if (r < 0) {
		memset(req, 0, sizeof(*req));
		req->cmd = CTL_CMD_INVALID;
	}
	return r;
}

/* obj as one compact line with "\n" and a NUL, of at most max bytes
 * ("\n" included, NUL not). */
static int dump_line(const json_t *obj, size_t max, char **ret, size_t *retlen)
{
	size_t n = json_dumpb(obj, NULL, 0, JSON_COMPACT);
	char *buf;

	if (n == 0)
		return -EINVAL;
	if (n + 1 > max)
		return -EMSGSIZE;
	buf = malloc(n + 2);
	if (!buf)
		return -ENOMEM;
	if (json_dumpb(obj, buf, n, JSON_COMPACT) != n) {
		free(buf);
		return -EINVAL;
	}
	buf[n] = '\n';
	buf[n + 1] = '\0';
	*ret = buf;
	*retlen = n + 1;
	return 0;
}

/* ping's arguments that are set, checked, into obj. */
static int format_ping_args(const struct ctl_request *req, json_t *obj)
{
	for (size_t i = 0; i < ARRAY_SIZE(ping_args); i++) {
		const struct int_arg *a = &ping_args[i];
		unsigned v = *(const unsigned *)((const char *)req + a->offset);

		if (v == 0)
			continue;
		if (v < a->min || v > a->max)
			return -EINVAL;
		if (json_object_set_new(obj, a->key, json_integer(v)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* log's arguments: lines when not negative, follow when true. */
static int format_log_args(const struct ctl_request *req, json_t *obj)
{
	if (req->lines > CTL_LOG_LINES_MAX)
		return -EINVAL;
	if (req->lines >= 0 && json_object_set_new(obj, "lines", json_integer(req->lines)) < 0)
		return -ENOMEM;
	if (req->follow && json_object_set_new(obj, "follow", json_true()) < 0)
		return -ENOMEM;
	return 0;
}

int ctl_proto_format_request(const struct ctl_request *req, char **ret, size_t *retlen)
{
	char name[CTL_NAME_MAX + 1];
	const char *cmd = ctl_proto_cmd_name(req->cmd);
	json_t *obj;
	int r = 0;

	if (!cmd)
		return -EINVAL;
	if (takes_name(req->cmd)) {
		if (ctl_proto_name_normalize(req->name, name) < 0)
			return -EINVAL;
		obj = json_pack("{s:s, s:s}", "cmd", cmd, "name", name);
	} else {
		obj = json_pack("{s:s}", "cmd", cmd);
	}
	if (!obj)
		return -ENOMEM;
	if (req->cmd == CTL_CMD_PING)
		r = format_ping_args(req, obj);
	if (req->cmd == CTL_CMD_LOG)
		r = format_log_args(req, obj);
	if (r == 0)
		r = dump_line(obj, CTL_REQUEST_MAX, ret, retlen);
	json_decref(obj);
	return r;
}

int ctl_proto_format_ok(const json_t *result, char **ret, size_t *retlen)
{
	const char *key;
	json_t *obj, *v;
	int r = 0;

	if (result && !json_is_object(result))
		return -EINVAL;
	obj = json_pack("{s:b}", "ok", 1);
	if (!obj)
		return -ENOMEM;
	/* jansson's iteration macro takes a non-const object; it only reads it. */
	json_object_foreach((json_t *)result, key, v)
	{
		if (strcmp(key, "ok") != 0 && json_object_set(obj, key, v) < 0) {
			r = -ENOMEM;
			break;
		}
	}
	if (r == 0)
		r = dump_line(obj, CTL_RESPONSE_MAX, ret, retlen);
	json_decref(obj);
	return r;
}

int ctl_proto_format_error(const char *msg, char **ret, size_t *retlen)
{
	char cut[CTL_ERROR_MAX + 1];
	size_t n = utf8_cut(msg, strlen(msg), CTL_ERROR_MAX);
	json_t *obj, *s;
	int r;

	memcpy(cut, msg, n);
	cut[n] = '\0';
	s = json_string(cut);
	if (!s)
		s = json_string("internal error");
	if (!s)
		return -ENOMEM;
	obj = json_pack("{s:b, s:o}", "ok", 0, "error", s);
	if (!obj)
		return -ENOMEM;
	r = dump_line(obj, CTL_RESPONSE_MAX, ret, retlen);
	json_decref(obj);
	return r;
}

/* The daemon's message, for a terminal: control characters become '?'. */
static void copy_message(const char *msg, char *err, size_t errlen)
{
	size_t n;

	if (!err || errlen == 0)
		return;
	n = utf8_cut(msg, strlen(msg), errlen - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)msg[i];
		err[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	err[n] = '\0';
}

static int parse_failure(json_t *root, char *err, size_t errlen)
{
	json_t *msg = json_object_get(root, "error");

	if (!json_is_string(msg))
		return fail(err, errlen, -EBADMSG, "malformed answer: failure without \"error\"");
	copy_message(json_string_value(msg), err, errlen);
	return -EREMOTEIO;
}

int ctl_proto_parse_response(const char *buf, size_t len, json_t **result, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *ok, *v, *res;
	const char *key;
	int r = 0;

	*result = NULL;
	if (len >= CTL_RESPONSE_MAX)
		return fail(err, errlen, -EMSGSIZE, "answer longer than %d bytes",
		            CTL_RESPONSE_MAX - 1);
	if (memchr(buf, '\n', len))
		return fail(err, errlen, -EBADMSG, "malformed answer: more than one line");
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, errlen, -EBADMSG, "malformed answer: %s", jerr.text);
	ok = json_object_get(root, "ok");
	if (!json_is_object(root) || !json_is_boolean(ok)) {
		r = fail(err, errlen, -EBADMSG, "malformed answer: no boolean \"ok\"");
		goto out;
	}
	if (!json_is_true(ok)) {
		r = parse_failure(root, err, errlen);
		goto out;
	}
	res = json_object();
	if (!res) {
		r = fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "ok") != 0 && json_object_set(res, key, v) < 0) {
			json_decref(res);
			r = fail(err, errlen, -ENOMEM, "out of memory");
			goto out;
		}
	}
	*result = res;
out:
	json_decref(root);
	return r;
}

int ctl_proto_format_event(const json_t *event, char **ret, size_t *retlen)
{
	if (!json_is_object(event) || !json_is_string(json_object_get(event, "event")))
		return -EINVAL;
	return dump_line(event, CTL_RESPONSE_MAX, ret, retlen);
}

int ctl_proto_parse_event(const char *buf, size_t len, json_t **event, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;

	*event = NULL;
	if (len >= CTL_RESPONSE_MAX)
		return fail(err, errlen, -EMSGSIZE, "event longer than %d bytes",
		            CTL_RESPONSE_MAX - 1);
	if (memchr(buf, '\n', len))
		return fail(err, errlen, -EBADMSG, "malformed event: more than one line");
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, errlen, -EBADMSG, "malformed event: %s", jerr.text);
	if (!json_is_object(root) || !json_is_string(json_object_get(root, "event"))) {
		json_decref(root);
		return fail(err, errlen, -EBADMSG, "malformed event: no string \"event\"");
	}
	*event = root;
	return 0;
}

/* Length of the UTF-8 sequence at s (at most n bytes available), 0 when it
 * is not a valid, shortest-form sequence of a scalar value. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void ctl_proto_text_clean(const char *in, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = strlen(in), o = 0;

	while (n > 0) {
		size_t len = utf8_seq(p, n);
		bool control = len == 1 ? (*p < 0x20 || *p == 0x7f)
		                        : (len == 2 && p[0] == 0xc2 && p[1] <= 0x9f);
		size_t take = len == 0 ? 1 : len;

		if (len == 0 || control) {
			if (o + 1 >= outlen)
				break;
			out[o++] = '?';
		} else {
			if (o + len >= outlen)
				break;
			memcpy(out + o, p, len);
			o += len;
		}
		p += take;
		n -= take;
	}
	out[o] = '\0';
}

const char *ctl_proto_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "not found";
	case -ETIMEDOUT:
		return "timed out";
	case -EPERM:
	case -EACCES:
		return "permission denied";
	case -ENOTCONN:
		return "not joined to the overlay";
	case -EALREADY:
		return "already in progress";
	case -EBUSY:
	case -EAGAIN:
		return "busy, try again";
	case -ENOMEM:
		return "out of memory";
	case -ENOTSUP:
		return "not supported";
	case -ECANCELED:
		return "cancelled";
	case -ESHUTDOWN:
		return "the daemon is shutting down";
	case -EINVAL:
		return "invalid argument";
	default:
		return err < 0 ? strerror(-err) : "internal error";
	}
}
