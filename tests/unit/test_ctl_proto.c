/* SPDX-License-Identifier: MIT */
/* test_ctl_proto.c: the control protocol codec: framing, requests, answers, names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/ctl_proto.h"

static int parse(const char *s, struct ctl_request *req, char *err, size_t errlen)
{
	return ctl_proto_parse_request(s, strlen(s), req, err, errlen);
}

static void test_frame(void **state)
{
	char big[64];

	assert_int_equal(ctl_proto_frame("", 0, 16), -EAGAIN);
	assert_int_equal(ctl_proto_frame("{\"cmd\"", 6, 16), -EAGAIN);
	assert_int_equal(ctl_proto_frame("{}\n", 3, 16), 2);
	assert_int_equal(ctl_proto_frame("{}\nmore\n", 8, 16), 2);
	assert_int_equal(ctl_proto_frame("\n", 1, 16), 0);
	/* The line with its "\n" may fill max exactly, not one byte more. */
	memset(big, 'x', sizeof(big));
	big[15] = '\n';
	assert_int_equal(ctl_proto_frame(big, 16, 16), 15);
	big[15] = 'x';
	big[16] = '\n';
	assert_int_equal(ctl_proto_frame(big, 17, 16), -EMSGSIZE);
	assert_int_equal(ctl_proto_frame(big, 16, 16), -EMSGSIZE);
	assert_int_equal(ctl_proto_frame(big, 15, 16), -EAGAIN);
}

static void test_cmd_names(void **state)
{
	for (int c = 0; c < CTL_CMD_MAX; c++) {
		const char *n = ctl_proto_cmd_name((enum ctl_cmd)c);
		assert_non_null(n);
		assert_int_equal(ctl_proto_cmd_from_name(n), c);
	}
	assert_null(ctl_proto_cmd_name(CTL_CMD_MAX));
	assert_null(ctl_proto_cmd_name(CTL_CMD_INVALID));
	assert_int_equal(ctl_proto_cmd_from_name("Status"), CTL_CMD_INVALID);
	assert_int_equal(ctl_proto_cmd_from_name(""), CTL_CMD_INVALID);
	assert_true(ctl_proto_cmd_privileged(CTL_CMD_JOIN));
	assert_true(ctl_proto_cmd_privileged(CTL_CMD_LEAVE));
	assert_false(ctl_proto_cmd_privileged(CTL_CMD_STATUS));
	assert_false(ctl_proto_cmd_privileged(CTL_CMD_RESOLVE));
	assert_false(ctl_proto_cmd_privileged(CTL_CMD_PEERS));
	assert_false(ctl_proto_cmd_privileged(CTL_CMD_ID));
	assert_false(ctl_proto_cmd_privileged(CTL_CMD_PING));
	assert_true(ctl_proto_cmd_privileged(CTL_CMD_SHUTDOWN));
	assert_false(ctl_proto_cmd_privileged(CTL_CMD_LOG));
	assert_false(ctl_proto_cmd_privileged(CTL_CMD_NETCHECK));
	assert_string_equal(ctl_proto_cmd_name(CTL_CMD_SHUTDOWN), "shutdown");
	assert_string_equal(ctl_proto_cmd_name(CTL_CMD_LOG), "log");
	assert_string_equal(ctl_proto_cmd_name(CTL_CMD_NETCHECK), "netcheck");
}

static void test_name_normalize(void **state)
{
	static const char *const bad[] = {
	        "",     ".",   "..",     "-a",       "a-",      "a..b",  ".a",
	        "a b",  "a_b", "a.-b.c", "\xc3\xa9", "a\tb",    "a.b..", "a/b",
	        "a.b-", "*",   "a:b",    "@",        "a.b.c..",
	};
	char out[CTL_NAME_MAX + 1], s[CTL_NAME_MAX + 8];

	assert_int_equal(ctl_proto_name_normalize("mars", out), 0);
	assert_string_equal(out, "mars");
	assert_int_equal(ctl_proto_name_normalize("MaRs", out), 0);
	assert_string_equal(out, "mars");
	assert_int_equal(ctl_proto_name_normalize("Mars.Example.Internal.", out), 0);
	assert_string_equal(out, "mars.example.internal");
	assert_int_equal(ctl_proto_name_normalize("a-1.b2", out), 0);
	assert_string_equal(out, "a-1.b2");
	assert_int_equal(ctl_proto_name_normalize("42", out), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ctl_proto_name_normalize(bad[i], out), -EINVAL);

	/* A label of 63 is fine, 64 is not. */
	memset(s, 'a', 63);
	s[63] = '\0';
	assert_int_equal(ctl_proto_name_normalize(s, out), 0);
	s[63] = 'a';
	s[64] = '\0';
	assert_int_equal(ctl_proto_name_normalize(s, out), -EINVAL);
	/* 253 bytes of name (plus an optional dot) are fine, 254 are not. */
	memset(s, 'a', sizeof(s));
	for (size_t i = 63; i < 253; i += 64)
		s[i] = '.';
	s[253] = '\0';
	assert_int_equal(ctl_proto_name_normalize(s, out), 0);
	assert_int_equal(strlen(out), 253);
	s[253] = '.';
	s[254] = '\0';
	assert_int_equal(ctl_proto_name_normalize(s, out), 0);
	s[253] = 'a';
	assert_int_equal(ctl_proto_name_normalize(s, out), -EINVAL);
}

static void test_name_qualify(void **state)
{
	char out[CTL_NAME_MAX + 1], label[CTL_LABEL_MAX + 1], domain[CTL_NAME_MAX + 1];

	assert_int_equal(ctl_proto_name_qualify("mars", "example.internal", out), 0);
	assert_string_equal(out, "mars.example.internal");
	assert_int_equal(ctl_proto_name_qualify("mars.other.net", "example.internal", out), 0);
	assert_string_equal(out, "mars.other.net");
	assert_int_equal(ctl_proto_name_qualify("mars", "", out), 0);
	assert_string_equal(out, "mars");
	assert_int_equal(ctl_proto_name_qualify("mars", NULL, out), 0);
	assert_string_equal(out, "mars");

	memset(label, 'a', CTL_LABEL_MAX);
	label[CTL_LABEL_MAX] = '\0';
	memset(domain, 'b', sizeof(domain));
	domain[253 - 64] = '\0'; /* label + "." + domain = 253 */
	assert_int_equal(ctl_proto_name_qualify(label, domain, out), 0);
	assert_int_equal(strlen(out), 253);
	domain[253 - 64] = 'b';
	domain[253 - 63] = '\0';
	assert_int_equal(ctl_proto_name_qualify(label, domain, out), -EINVAL);
}

static void test_request_valid(void **state)
{
	struct ctl_request req;
	char err[CTL_ERROR_MAX];

	assert_int_equal(parse("{\"cmd\":\"status\"}", &req, err, sizeof(err)), 0);
	assert_int_equal(req.cmd, CTL_CMD_STATUS);
	assert_string_equal(req.name, "");
	assert_int_equal(parse(" { \"cmd\" : \"peers\" } \r", &req, err, sizeof(err)), 0);
	assert_int_equal(req.cmd, CTL_CMD_PEERS);
	assert_int_equal(parse("{\"cmd\":\"id\"}", &req, err, sizeof(err)), 0);
	assert_int_equal(req.cmd, CTL_CMD_ID);
	assert_int_equal(parse("{\"cmd\":\"join\"}", &req, err, sizeof(err)), 0);
	assert_int_equal(req.cmd, CTL_CMD_JOIN);
	assert_int_equal(parse("{\"cmd\":\"leave\"}", &req, err, sizeof(err)), 0);
	assert_int_equal(req.cmd, CTL_CMD_LEAVE);
	assert_int_equal(parse("{\"cmd\":\"resolve\",\"name\":\"Mars\"}", &req, err, sizeof(err)),
	                 0);
	assert_int_equal(req.cmd, CTL_CMD_RESOLVE);
	assert_string_equal(req.name, "mars");
	/* Order of members does not matter. */
	assert_int_equal(parse("{\"name\":\"venus.example.internal.\",\"cmd\":\"resolve\"}", &req,
	                       err, sizeof(err)),
	                 0);
	assert_string_equal(req.name, "venus.example.internal");
	/* Escapes are JSON's business: "\u0061" is "a". */
	assert_int_equal(
	        parse("{\"cmd\":\"resolve\",\"name\":\"\\u0061b\"}", &req, err, sizeof(err)), 0);
	assert_string_equal(req.name, "ab");
	assert_int_equal(req.count, 0);

	/* ping: the defaults are filled in, given values kept. */
	assert_int_equal(parse("{\"cmd\":\"ping\",\"name\":\"Mars\"}", &req, err, sizeof(err)), 0);
	assert_int_equal(req.cmd, CTL_CMD_PING);
	assert_string_equal(req.name, "mars");
	assert_int_equal(req.count, CTL_PING_COUNT_DEFAULT);
	assert_int_equal(req.interval_ms, CTL_PING_INTERVAL_DEFAULT);
	assert_int_equal(req.timeout_ms, CTL_PING_TIMEOUT_DEFAULT);
	assert_int_equal(parse("{\"timeout_ms\":100,\"cmd\":\"ping\",\"count\":1000,\"name\":"
	                       "\"a.b\",\"interval_ms\":200}",
	                       &req, err, sizeof(err)),
	                 0);
	assert_string_equal(req.name, "a.b");
	assert_int_equal(req.count, 1000);
	assert_int_equal(req.interval_ms, 200);
	assert_int_equal(req.timeout_ms, 100);
	assert_int_equal(parse("{\"cmd\":\"ping\",\"name\":\"x\",\"count\":1,\"interval_ms\":"
	                       "10000,\"timeout_ms\":60000}",
	                       &req, err, sizeof(err)),
	                 0);
	assert_int_equal(req.count, 1);
	assert_int_equal(req.interval_ms, 10000);
	assert_int_equal(req.timeout_ms, 60000);
}

static void test_request_errors(void **state)
{
	static const struct {
		const char *in;
		const char *msg; /* prefix of the message */
	} cases[] = {
	        {"", "malformed request"},
	        {"{", "malformed request"},
	        {"{\"cmd\":\"status\"} x", "malformed request"},
	        {"{\"cmd\":\"status\"}{\"cmd\":\"status\"}", "malformed request"},
	        {"{\"cmd\":\"status\",\"cmd\":\"status\"}", "malformed request"},
	        {"{\"cmd\":\"st\\u0000atus\"}", "malformed request"},
	        {"{\"cmd\":\"\xff\"}", "malformed request"},
	        {"\"status\"", "malformed request"},
	        {"[\"status\"]", "request is not a JSON object"},
	        {"{}", "request has no \"cmd\""},
	        {"{\"name\":\"mars\"}", "request has no \"cmd\""},
	        {"{\"cmd\":1}", "\"cmd\" is not a string"},
	        {"{\"cmd\":null}", "\"cmd\" is not a string"},
	        {"{\"cmd\":[\"status\"]}", "\"cmd\" is not a string"},
	        {"{\"cmd\":\"STATUS\"}", "unknown command 'STATUS'"},
	        {"{\"cmd\":\"pong\"}", "unknown command 'pong'"},
	        {"{\"cmd\":\"\\u001b[31m\"}", "unknown command '?[31m'"},
	        {"{\"cmd\":\"status\",\"json\":true}", "unknown argument 'json' for 'status'"},
	        {"{\"cmd\":\"status\",\"name\":\"mars\"}", "unknown argument 'name' for 'status'"},
	        {"{\"cmd\":\"resolve\"}", "'resolve' needs a \"name\""},
	        {"{\"cmd\":\"resolve\",\"name\":1}", "\"name\" is not a string"},
	        {"{\"cmd\":\"resolve\",\"name\":null}", "\"name\" is not a string"},
	        {"{\"cmd\":\"resolve\",\"name\":\"\"}", "invalid name ''"},
	        {"{\"cmd\":\"resolve\",\"name\":\"a..b\"}", "invalid name 'a..b'"},
	        {"{\"cmd\":\"resolve\",\"name\":\"-x\"}", "invalid name '-x'"},
	        {"{\"cmd\":\"resolve\",\"name\":\"mars\",\"x\":1}", "unknown argument 'x'"},
	        {"{\"cmd\":\"resolve\",\"name\":\"mars\",\"count\":1}",
	         "unknown argument 'count' for 'resolve'"},
	        {"{\"cmd\":\"status\",\"timeout_ms\":1000}",
	         "unknown argument 'timeout_ms' for 'status'"},
	        {"{\"cmd\":\"ping\"}", "'ping' needs a \"name\""},
	        {"{\"cmd\":\"ping\",\"count\":3}", "'ping' needs a \"name\""},
	        {"{\"cmd\":\"ping\",\"name\":\"a..b\"}", "invalid name 'a..b'"},
	        {"{\"cmd\":\"ping\",\"name\":7}", "\"name\" is not a string"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"x\":1}", "unknown argument 'x' for 'ping'"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"count\":0}",
	         "\"count\" must be an integer from 1 to 1000"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"count\":1001}", "\"count\" must be"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"count\":-1}", "\"count\" must be"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"count\":\"3\"}", "\"count\" must be"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"count\":2.0}", "\"count\" must be"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"count\":null}", "\"count\" must be"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"count\":true}", "\"count\" must be"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"count\":99999999999999999999}",
	         "malformed request"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"count\":4294967297}", "\"count\" must be"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"interval_ms\":199}",
	         "\"interval_ms\" must be an integer from 200 to 10000"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"interval_ms\":10001}",
	         "\"interval_ms\" must be"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"timeout_ms\":99}",
	         "\"timeout_ms\" must be an integer from 100 to 60000"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"timeout_ms\":60001}",
	         "\"timeout_ms\" must be"},
	        {"{\"cmd\":\"ping\",\"name\":\"mars\",\"count\":2,\"count\":3}",
	         "malformed request"},
	};
	struct ctl_request req;
	char err[CTL_ERROR_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(cases[i].in, &req, err, sizeof(err)), -EBADMSG);
		assert_int_equal(req.cmd, CTL_CMD_INVALID);
		if (strncmp(err, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("case %zu: '%s' does not start with '%s'", i, err, cases[i].msg);
	}
	/* A raw NUL and a second line are refused too. */
	assert_int_equal(ctl_proto_parse_request("{\"cmd\":\"id\"}\0", 13, &req, err, sizeof(err)),
	                 -EBADMSG);
	assert_int_equal(parse("{\"cmd\":\n\"id\"}", &req, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "request spans more than one line");
}

static void test_request_limits(void **state)
{
	static const char head[] = "{\"cmd\":\"status\"";
	struct ctl_request req;
	char err[CTL_ERROR_MAX], *buf = malloc(CTL_REQUEST_MAX + 1), name[300];

	assert_non_null(buf);
	/* CTL_REQUEST_MAX - 1 bytes plus the "\n" is the largest request. */
	memset(buf, ' ', CTL_REQUEST_MAX);
	memcpy(buf, head, strlen(head));
	buf[CTL_REQUEST_MAX - 2] = '}';
	assert_int_equal(ctl_proto_parse_request(buf, CTL_REQUEST_MAX - 1, &req, err, sizeof(err)),
	                 0);
	assert_int_equal(req.cmd, CTL_CMD_STATUS);
	buf[CTL_REQUEST_MAX - 2] = ' ';
	buf[CTL_REQUEST_MAX - 1] = '}';
	assert_int_equal(ctl_proto_parse_request(buf, CTL_REQUEST_MAX, &req, err, sizeof(err)),
	                 -EMSGSIZE);
	assert_string_equal(err, "request longer than 4095 bytes");
	free(buf);

	/* A long offending string is quoted shortened. */
	memset(name, 'x', sizeof(name));
	memcpy(name, "{\"cmd\":\"", 8);
	memcpy(name + 200, "\"}", 3);
	assert_int_equal(parse(name, &req, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "unknown command 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'");
	/* A small error buffer is respected. */
	assert_int_equal(parse("{}", &req, err, 8), -EBADMSG);
	assert_string_equal(err, "request");
}

static void test_request_format(void **state)
{
	struct ctl_request req = {.cmd = CTL_CMD_RESOLVE}, back;
	char err[CTL_ERROR_MAX], *line;
	size_t len;

	strcpy(req.name, "Mars");
	assert_int_equal(ctl_proto_format_request(&req, &line, &len), 0);
	assert_string_equal(line, "{\"cmd\":\"resolve\",\"name\":\"mars\"}\n");
	assert_int_equal(len, strlen(line));
	assert_int_equal(ctl_proto_parse_request(line, len - 1, &back, err, sizeof(err)), 0);
	assert_int_equal(back.cmd, CTL_CMD_RESOLVE);
	assert_string_equal(back.name, "mars");
	free(line);
	for (int c = 0; c < CTL_CMD_MAX; c++) {
		if (c == CTL_CMD_RESOLVE || c == CTL_CMD_PING)
			continue;
		req = (struct ctl_request){.cmd = (enum ctl_cmd)c};
		assert_int_equal(ctl_proto_format_request(&req, &line, &len), 0);
		assert_int_equal(ctl_proto_parse_request(line, len - 1, &back, err, sizeof(err)),
		                 0);
		assert_int_equal(back.cmd, c);
		free(line);
	}
	req = (struct ctl_request){.cmd = CTL_CMD_RESOLVE};
	assert_int_equal(ctl_proto_format_request(&req, &line, &len), -EINVAL);
	req.cmd = CTL_CMD_PING;
	assert_int_equal(ctl_proto_format_request(&req, &line, &len), -EINVAL);
	req.cmd = CTL_CMD_INVALID;
	assert_int_equal(ctl_proto_format_request(&req, &line, &len), -EINVAL);
	req.cmd = CTL_CMD_MAX;
	assert_int_equal(ctl_proto_format_request(&req, &line, &len), -EINVAL);
}

static void test_ping_request(void **state)
{
	struct ctl_request req = {.cmd = CTL_CMD_PING, .name = "Venus."}, back;
	char err[CTL_ERROR_MAX], *line;
	size_t len;

	/* Members left at 0 stay out: the daemon's defaults apply. */
	assert_int_equal(ctl_proto_format_request(&req, &line, &len), 0);
	assert_string_equal(line, "{\"cmd\":\"ping\",\"name\":\"venus\"}\n");
	free(line);
	req.count = 3;
	req.timeout_ms = 2500;
	assert_int_equal(ctl_proto_format_request(&req, &line, &len), 0);
	assert_string_equal(
	        line, "{\"cmd\":\"ping\",\"name\":\"venus\",\"count\":3,\"timeout_ms\":2500}\n");
	assert_int_equal(ctl_proto_parse_request(line, len - 1, &back, err, sizeof(err)), 0);
	assert_int_equal(back.cmd, CTL_CMD_PING);
	assert_string_equal(back.name, "venus");
	assert_int_equal(back.count, 3);
	assert_int_equal(back.interval_ms, CTL_PING_INTERVAL_DEFAULT);
	assert_int_equal(back.timeout_ms, 2500);
	free(line);
	req.interval_ms = 250;
	assert_int_equal(ctl_proto_format_request(&req, &line, &len), 0);
	assert_int_equal(ctl_proto_parse_request(line, len - 1, &back, err, sizeof(err)), 0);
	assert_int_equal(back.interval_ms, 250);
	free(line);

	/* Out of range is refused, not clamped. */
	req.count = CTL_PING_COUNT_MAX + 1;
	assert_int_equal(ctl_proto_format_request(&req, &line, &len), -EINVAL);
	req.count = 1;
	req.interval_ms = CTL_PING_INTERVAL_MIN - 1;
	assert_int_equal(ctl_proto_format_request(&req, &line, &len), -EINVAL);
	req.interval_ms = 0;
	req.timeout_ms = CTL_PING_TIMEOUT_MAX + 1;
	assert_int_equal(ctl_proto_format_request(&req, &line, &len), -EINVAL);
}

static void test_ping_budget(void **state)
{
	struct ctl_request req = {.cmd = CTL_CMD_PING, .name = "mars"};

	/* Defaults: 10 s setup, 3 intervals of 1 s, 10 s for the last replies. */
	assert_int_equal(ctl_proto_ping_budget_ms(&req), 23000);
	req.count = 1;
	req.timeout_ms = 100;
	assert_int_equal(ctl_proto_ping_budget_ms(&req), 200);
	req.count = CTL_PING_COUNT_MAX;
	req.interval_ms = CTL_PING_INTERVAL_MAX;
	req.timeout_ms = CTL_PING_TIMEOUT_MAX;
	assert_int_equal(ctl_proto_ping_budget_ms(&req), 120000 + 999 * 10000);
	/* Within what the CLI's int milliseconds can hold. */
	assert_true(ctl_proto_ping_budget_ms(&req) + CTL_TIMEOUT_MS < 0x7fffffff);
	req.cmd = CTL_CMD_RESOLVE;
	assert_int_equal(ctl_proto_ping_budget_ms(&req), 0);
}

static void test_format_ok(void **state)
{
	json_t *res = json_pack("{s:s, s:b, s:{s:i}}", "name", "mars", "ok", 0, "overlay",
	                        "neighbors", 3);
	char *line, *big;
	size_t len;

	assert_int_equal(ctl_proto_format_ok(NULL, &line, &len), 0);
	assert_string_equal(line, "{\"ok\":true}\n");
	assert_int_equal(len, 12);
	free(line);
	/* "ok" comes first; a member "ok" of the result cannot override it. */
	assert_int_equal(ctl_proto_format_ok(res, &line, &len), 0);
	assert_string_equal(line,
	                    "{\"ok\":true,\"name\":\"mars\",\"overlay\":{\"neighbors\":3}}\n");
	free(line);
	json_decref(res);
	/* Strings with newlines stay on one line. */
	res = json_pack("{s:s}", "x", "a\nb");
	assert_int_equal(ctl_proto_format_ok(res, &line, &len), 0);
	assert_string_equal(line, "{\"ok\":true,\"x\":\"a\\nb\"}\n");
	free(line);
	json_decref(res);

	res = json_array();
	assert_int_equal(ctl_proto_format_ok(res, &line, &len), -EINVAL);
	json_decref(res);

	big = malloc(CTL_RESPONSE_MAX);
	assert_non_null(big);
	memset(big, 'a', CTL_RESPONSE_MAX - 1);
	big[CTL_RESPONSE_MAX - 1] = '\0';
	res = json_pack("{s:s}", "x", big);
	assert_int_equal(ctl_proto_format_ok(res, &line, &len), -EMSGSIZE);
	json_decref(res);
	/* Exactly at the limit: {"ok":true,"x":"..."}\n */
	big[CTL_RESPONSE_MAX - 1 - strlen("{\"ok\":true,\"x\":\"\"}\n")] = '\0';
	res = json_pack("{s:s}", "x", big);
	assert_int_equal(ctl_proto_format_ok(res, &line, &len), 0);
	assert_int_equal(len, CTL_RESPONSE_MAX - 1);
	free(line);
	json_decref(res);
	free(big);
}

static void test_format_error(void **state)
{
	char msg[CTL_ERROR_MAX + 16], *line, expect[CTL_ERROR_MAX + 64];
	size_t len;

	assert_int_equal(ctl_proto_format_error("not found", &line, &len), 0);
	assert_string_equal(line, "{\"ok\":false,\"error\":\"not found\"}\n");
	free(line);
	assert_int_equal(ctl_proto_format_error("bad \xff utf-8", &line, &len), 0);
	assert_string_equal(line, "{\"ok\":false,\"error\":\"internal error\"}\n");
	free(line);
	/* Cut at CTL_ERROR_MAX bytes, between characters: 255 'a' then a 2-byte
	 * character that would end at byte 257. */
	memset(msg, 'a', CTL_ERROR_MAX - 1);
	strcpy(msg + CTL_ERROR_MAX - 1, "\xc3\xa9tail");
	assert_int_equal(ctl_proto_format_error(msg, &line, &len), 0);
	msg[CTL_ERROR_MAX - 1] = '\0';
	snprintf(expect, sizeof(expect), "{\"ok\":false,\"error\":\"%s\"}\n", msg);
	assert_string_equal(line, expect);
	free(line);
}

static int parse_answer(const char *s, json_t **res, char *err, size_t errlen)
{
	return ctl_proto_parse_response(s, strlen(s), res, err, errlen);
}

static void test_parse_response(void **state)
{
	static const char *const bad[] = {
	        "",
	        "{",
	        "[]",
	        "{}",
	        "{\"ok\":1}",
	        "{\"ok\":\"true\"}",
	        "{\"ok\":false}",
	        "{\"ok\":false,\"error\":3}",
	        "{\"ok\":true,\"ok\":true}",
	        "{\"ok\":true} {}",
	        "{\"ok\":true,\"x\":\"\xff\"}",
	};
	char err[CTL_ERROR_MAX];
	json_t *res;

	assert_int_equal(parse_answer("{\"ok\":true,\"hit\":\"2001:20::1\",\"n\":2}", &res, err,
	                              sizeof(err)),
	                 0);
	assert_non_null(res);
	assert_null(json_object_get(res, "ok"));
	assert_string_equal(json_string_value(json_object_get(res, "hit")), "2001:20::1");
	assert_int_equal(json_integer_value(json_object_get(res, "n")), 2);
	json_decref(res);

	assert_int_equal(
	        parse_answer("{\"ok\":false,\"error\":\"not found\"}", &res, err, sizeof(err)),
	        -EREMOTEIO);
	assert_null(res);
	assert_string_equal(err, "not found");
	/* Control characters in the daemon's message cannot reach the terminal. */
	assert_int_equal(parse_answer("{\"ok\":false,\"error\":\"a\\u001b[2Jb\\n\"}", &res, err,
	                              sizeof(err)),
	                 -EREMOTEIO);
	assert_string_equal(err, "a?[2Jb?");
	/* A short buffer cuts between characters. */
	assert_int_equal(parse_answer("{\"ok\":false,\"error\":\"ab\xc3\xa9\"}", &res, err, 4),
	                 -EREMOTEIO);
	assert_string_equal(err, "ab");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		res = (json_t *)1;
		assert_int_equal(
		        ctl_proto_parse_response(bad[i], strlen(bad[i]), &res, err, sizeof(err)),
		        -EBADMSG);
		assert_null(res);
	}
	assert_int_equal(ctl_proto_parse_response("{}", CTL_RESPONSE_MAX, &res, err, sizeof(err)),
	                 -EMSGSIZE);
}

static void test_roundtrip_answer(void **state)
{
	json_t *res = json_pack("{s:[{s:s, s:n, s:{s:s, s:s}, s:f, s:I}]}", "peers", "hit",
	                        "2001:20::1", "lsi", "path", "type", "host", "remote",
	                        "192.0.2.1:10500", "rtt_ms", 1.5, "tx_bytes", (json_int_t)1 << 40);
	char err[CTL_ERROR_MAX], *line;
	json_t *back;
	size_t len;

	assert_non_null(res);
	assert_int_equal(ctl_proto_format_ok(res, &line, &len), 0);
	assert_int_equal(ctl_proto_parse_response(line, len - 1, &back, err, sizeof(err)), 0);
	assert_true(json_equal(res, back));
	free(line);
	json_decref(back);
	json_decref(res);

	assert_int_equal(ctl_proto_format_error("timed out", &line, &len), 0);
	assert_int_equal(ctl_proto_parse_response(line, len - 1, &back, err, sizeof(err)),
	                 -EREMOTEIO);
	assert_string_equal(err, "timed out");
	free(line);
}

static void test_log_request(void **state)
{
	struct ctl_request req, back;
	char err[CTL_ERROR_MAX], *line;
	size_t len;

	/* Absent "lines" is the default; "follow" is false unless said. */
	assert_int_equal(parse("{\"cmd\":\"log\"}", &req, err, sizeof(err)), 0);
	assert_int_equal(req.cmd, CTL_CMD_LOG);
	assert_int_equal(req.lines, CTL_LOG_LINES_DEFAULT);
	assert_false(req.follow);
	assert_int_equal(
	        parse("{\"follow\":true,\"cmd\":\"log\",\"lines\":0}", &req, err, sizeof(err)), 0);
	assert_int_equal(req.lines, 0);
	assert_true(req.follow);
	assert_int_equal(
	        parse("{\"cmd\":\"log\",\"lines\":10000,\"follow\":false}", &req, err, sizeof(err)),
	        0);
	assert_int_equal(req.lines, CTL_LOG_LINES_MAX);
	assert_false(req.follow);

	/* Wrong types and ranges are refused, never clamped. */
	assert_int_equal(parse("{\"cmd\":\"log\",\"lines\":10001}", &req, err, sizeof(err)),
	                 -EBADMSG);
	assert_string_equal(err, "\"lines\" must be an integer from 0 to 10000");
	assert_int_equal(parse("{\"cmd\":\"log\",\"lines\":-1}", &req, err, sizeof(err)), -EBADMSG);
	assert_int_equal(parse("{\"cmd\":\"log\",\"lines\":\"5\"}", &req, err, sizeof(err)),
	                 -EBADMSG);
	assert_int_equal(parse("{\"cmd\":\"log\",\"lines\":5.0}", &req, err, sizeof(err)),
	                 -EBADMSG);
	assert_int_equal(parse("{\"cmd\":\"log\",\"follow\":1}", &req, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "\"follow\" must be true or false");
	assert_int_equal(parse("{\"cmd\":\"log\",\"follow\":null}", &req, err, sizeof(err)),
	                 -EBADMSG);
	assert_int_equal(parse("{\"cmd\":\"log\",\"name\":\"x\"}", &req, err, sizeof(err)),
	                 -EBADMSG);
	assert_string_equal(err, "unknown argument 'name' for 'log'");
	assert_int_equal(parse("{\"cmd\":\"status\",\"lines\":3}", &req, err, sizeof(err)),
	                 -EBADMSG);
	assert_int_equal(
	        parse("{\"cmd\":\"ping\",\"name\":\"a\",\"follow\":true}", &req, err, sizeof(err)),
	        -EBADMSG);
	assert_int_equal(parse("{\"cmd\":\"shutdown\",\"now\":true}", &req, err, sizeof(err)),
	                 -EBADMSG);
	assert_int_equal(parse("{\"cmd\":\"netcheck\"}", &req, err, sizeof(err)), 0);
	assert_int_equal(req.cmd, CTL_CMD_NETCHECK);

	/* Formatting: lines when not negative, follow only when true. */
	req = (struct ctl_request){.cmd = CTL_CMD_LOG, .lines = 7, .follow = true};
	assert_int_equal(ctl_proto_format_request(&req, &line, &len), 0);
	assert_string_equal(line, "{\"cmd\":\"log\",\"lines\":7,\"follow\":true}\n");
	assert_int_equal(ctl_proto_parse_request(line, len - 1, &back, err, sizeof(err)), 0);
	assert_int_equal(back.lines, 7);
	assert_true(back.follow);
	free(line);
	req = (struct ctl_request){.cmd = CTL_CMD_LOG, .lines = -1};
	assert_int_equal(ctl_proto_format_request(&req, &line, &len), 0);
	assert_string_equal(line, "{\"cmd\":\"log\"}\n");
	free(line);
	req = (struct ctl_request){.cmd = CTL_CMD_LOG, .lines = CTL_LOG_LINES_MAX + 1};
	assert_int_equal(ctl_proto_format_request(&req, &line, &len), -EINVAL);
}

static void test_events(void **state)
{
	char err[CTL_ERROR_MAX], *line;
	json_t *ev, *back;
	size_t len;

	ev = json_pack("{s:s, s:I, s:s, s:s}", "event", "log", "time_ms", (json_int_t)1732183200123,
	               "level", "notice", "msg", "a \"b\"\nc");
	assert_int_equal(ctl_proto_format_event(ev, &line, &len), 0);
	assert_string_equal(line, "{\"event\":\"log\",\"time_ms\":1732183200123,\"level\":"
	                          "\"notice\",\"msg\":\"a \\\"b\\\"\\nc\"}\n");
	assert_int_equal(ctl_proto_parse_event(line, len - 1, &back, err, sizeof(err)), 0);
	assert_true(json_equal(ev, back));
	json_decref(back);
	free(line);
	json_decref(ev);

	/* An event needs a string "event". */
	ev = json_pack("{s:i}", "event", 1);
	assert_int_equal(ctl_proto_format_event(ev, &line, &len), -EINVAL);
	json_decref(ev);
	assert_int_equal(ctl_proto_format_event(NULL, &line, &len), -EINVAL);
	assert_int_equal(ctl_proto_parse_event("{\"ok\":true}", 11, &back, err, sizeof(err)),
	                 -EBADMSG);
	assert_null(back);
	assert_string_equal(err, "malformed event: no string \"event\"");
	assert_int_equal(ctl_proto_parse_event("[1]", 3, &back, err, sizeof(err)), -EBADMSG);
	assert_int_equal(ctl_proto_parse_event("{\"event\":\"a\",\"event\":\"b\"}", 25, &back, err,
	                                       sizeof(err)),
	                 -EBADMSG);
	assert_int_equal(
	        ctl_proto_parse_event("{\"event\":\"end\"}\n{", 17, &back, err, sizeof(err)),
	        -EBADMSG);
	assert_int_equal(ctl_proto_parse_event("{\"event\":\"end\"}", 15, &back, err, sizeof(err)),
	                 0);
	json_decref(back);
}

static void test_text_clean(void **state)
{
	char out[16];

	ctl_proto_text_clean("plain text", out, sizeof(out));
	assert_string_equal(out, "plain text");
	/* Controls, DEL, C1 controls and bytes that are not UTF-8 become '?'. */
	ctl_proto_text_clean("a\tb\x1b[0m\x7f", out, sizeof(out));
	assert_string_equal(out, "a?b?[0m?");
	ctl_proto_text_clean("\xc2\x85x\xff\xc3", out, sizeof(out));
	assert_string_equal(out, "?x??");
	/* Overlong forms and surrogates are not UTF-8. */
	ctl_proto_text_clean("\xc0\xaf\xed\xa0\x80", out, sizeof(out));
	assert_string_equal(out, "?????");
	ctl_proto_text_clean("\xe2\x82\xac\xf0\x9f\x98\x80", out, sizeof(out));
	assert_string_equal(out, "\xe2\x82\xac\xf0\x9f\x98\x80");
	/* Cut between characters, never inside one. */
	ctl_proto_text_clean("abcdefghijklm\xe2\x82\xac", out, sizeof(out));
	assert_string_equal(out, "abcdefghijklm");
	ctl_proto_text_clean("abcdefghijkl\xe2\x82\xac", out, sizeof(out));
	assert_string_equal(out, "abcdefghijkl\xe2\x82\xac");
	ctl_proto_text_clean("abcdefghijklmnopq", out, 4);
	assert_string_equal(out, "abc");
	ctl_proto_text_clean("abc", out, 1);
	assert_string_equal(out, "");
}

static void test_strerror(void **state)
{
	assert_string_equal(ctl_proto_strerror(-ENOENT), "not found");
	assert_string_equal(ctl_proto_strerror(-ETIMEDOUT), "timed out");
	assert_string_equal(ctl_proto_strerror(-EPERM), "permission denied");
	assert_string_equal(ctl_proto_strerror(-EACCES), "permission denied");
	assert_string_equal(ctl_proto_strerror(-ENOTCONN), "not joined to the overlay");
	assert_string_equal(ctl_proto_strerror(-ENOTSUP), "not supported");
	assert_string_equal(ctl_proto_strerror(-EIO), strerror(EIO));
	assert_string_equal(ctl_proto_strerror(0), "internal error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_frame),          cmocka_unit_test(test_cmd_names),
	        cmocka_unit_test(test_name_normalize), cmocka_unit_test(test_name_qualify),
	        cmocka_unit_test(test_request_valid),  cmocka_unit_test(test_request_errors),
	        cmocka_unit_test(test_request_limits), cmocka_unit_test(test_request_format),
	        cmocka_unit_test(test_format_ok),      cmocka_unit_test(test_format_error),
	        cmocka_unit_test(test_parse_response), cmocka_unit_test(test_roundtrip_answer),
	        cmocka_unit_test(test_strerror),       cmocka_unit_test(test_ping_request),
	        cmocka_unit_test(test_ping_budget),    cmocka_unit_test(test_log_request),
	        cmocka_unit_test(test_events),         cmocka_unit_test(test_text_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
