/* SPDX-License-Identifier: MIT */
/* fuzz_ctl.c: the control protocol's parsers on arbitrary bytes: requests (the
 * daemon's side), answers and their rendering (the CLI's side), framing and
 * error messages. The first byte picks the target; the rest is the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctl_proto.h"
/* The CLI's renderer is not in a library the fuzzers link; it is one
 * self-contained file, so it is compiled in here. */
#include "cli/render.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *sink(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "w");
	if (!f)
		abort();
	return f;
}

static void fuzz_request(const char *s, size_t n)
{
	struct ctl_request req, back;
	char err[CTL_ERROR_MAX], *line;
	size_t len;

	if (ctl_proto_parse_request(s, n, &req, err, sizeof(err)) < 0) {
		/* The server sends err back: it must make a valid answer. */
		if (ctl_proto_format_error(err, &line, &len) < 0)
			return;
		if (ctl_proto_parse_response(line, len - 1, &(json_t *){NULL}, err, sizeof(err)) !=
		    -EREMOTEIO)
			abort();
		free(line);
		return;
	}
	/* Whatever parses must survive a round trip unchanged. */
	if (ctl_proto_format_request(&req, &line, &len) < 0)
		abort();
	if (ctl_proto_parse_request(line, len - 1, &back, err, sizeof(err)) < 0 ||
	    back.cmd != req.cmd || strcmp(back.name, req.name) != 0 || back.count != req.count ||
	    back.interval_ms != req.interval_ms || back.timeout_ms != req.timeout_ms)
		abort();
	free(line);
	/* A ping's budget fits the CLI's int milliseconds with its margin. */
	if (ctl_proto_ping_budget_ms(&req) > 0x7fffffff - 2 * CTL_TIMEOUT_MS)
		abort();
}

static void fuzz_response(const char *s, size_t n)
{
	char err[CTL_ERROR_MAX], *line;
	json_t *res, *back;
	size_t len;

	if (ctl_proto_parse_response(s, n, &res, err, sizeof(err)) < 0)
		return;
	for (int c = 0; c < CTL_CMD_MAX; c++) {
		(void)render_result(sink(), (enum ctl_cmd)c, res, false, c & 1);
		(void)render_result(sink(), (enum ctl_cmd)c, res, true, false);
	}
	/* An answer the CLI accepts, rebuilt by the server's code, reads the same. */
	if (ctl_proto_format_ok(res, &line, &len) == 0) {
		if (ctl_proto_parse_response(line, len - 1, &back, err, sizeof(err)) < 0 ||
		    !json_equal(res, back))
			abort();
		json_decref(back);
		free(line);
	}
	json_decref(res);
}

static void fuzz_text(const char *s, size_t n)
{
	char name[CTL_NAME_MAX + 1], fqdn[CTL_NAME_MAX + 1], err[CTL_ERROR_MAX], *line;
	char *z = strndup(s, n);
	json_t *res;
	size_t len;

	if (!z)
		return;
	if (ctl_proto_name_normalize(z, name) == 0) {
		if (strlen(name) > CTL_NAME_MAX || ctl_proto_name_normalize(name, fqdn) != 0 ||
		    strcmp(name, fqdn) != 0)
			abort();
		(void)ctl_proto_name_qualify(name, "example.internal", fqdn);
	}
	if (ctl_proto_format_error(z, &line, &len) == 0) {
		if (ctl_proto_parse_response(line, len - 1, &res, err, sizeof(err)) != -EREMOTEIO)
			abort();
		free(line);
	}
	(void)ctl_proto_frame(s, n, n / 2 + 1);
	free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;

	if (size < 1 || size > CTL_REQUEST_MAX * 4)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_request(s, size - 1);
		break;
	case 1:
		fuzz_response(s, size - 1);
		break;
	default:
		fuzz_text(s, size - 1);
		break;
	}
	return 0;
}
