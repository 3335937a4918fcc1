/* SPDX-License-Identifier: MIT */
/* test_tray_call.c: the tray's non-blocking control client against scripted servers. */
#include <errno.h>
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "tray/call.h"

/* What the server thread does with the one connection it accepts. */
enum script {
	ANSWER,       /* reads the request, sends `answer` */
	ANSWER_SPLIT, /* the same, in two writes 50 ms apart */
	SILENT,       /* reads the request and waits until the client hangs up */
	HANG_UP,      /* closes without a word */
	FLOOD,        /* a line longer than CTL_RESPONSE_MAX, no newline */
};

struct server {
	char dir[64], path[108];
	int fd;
	enum script script;
	const char *answer;
	char request[CTL_REQUEST_MAX + 1];
	GThread *thread;
};

struct result {
	bool done;
	int r;
	json_t *result;
	char err[CALL_ERR_MAX];
};

static void on_done(void *data, int r, const json_t *result, const char *err)
{
	struct result *res = data;

	assert_false(res->done);
	res->done = true;
	res->r = r;
	res->result = result ? json_deep_copy(result) : NULL;
	snprintf(res->err, sizeof(res->err), "%s", err ? err : "");
	if (r == 0)
		assert_null(err);
	else
		assert_non_null(err);
}

static void run_until_done(struct result *res)
{
	gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	while (!res->done && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, TRUE);
	assert_true(res->done);
}

static void read_request(struct server *s, int c)
{
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(s->request) - 1) {
		n = read(c, s->request + len, sizeof(s->request) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(s->request, '\n', len))
			break;
	}
	s->request[len] = '\0';
}

static void write_all(int c, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c, buf, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static gpointer serve(gpointer data)
{
	struct server *s = data;
	int c = accept(s->fd, NULL, NULL);
	char *big, byte;

	if (c < 0)
		return NULL;
	switch (s->script) {
	case ANSWER:
		read_request(s, c);
		write_all(c, s->answer, strlen(s->answer));
		break;
	case ANSWER_SPLIT:
		read_request(s, c);
		write_all(c, s->answer, 5);
		g_usleep(50000);
		write_all(c, s->answer + 5, strlen(s->answer) - 5);
		break;
	case SILENT:
		read_request(s, c);
		while (read(c, &byte, 1) > 0)
			;
		break;
	case HANG_UP:
		break;
	case FLOOD:
		read_request(s, c);
		big = malloc(CTL_RESPONSE_MAX + 16);
		assert_non_null(big);
		memset(big, 'x', CTL_RESPONSE_MAX + 16);
		write_all(c, big, CTL_RESPONSE_MAX + 16);
		free(big);
		break;
	}
	close(c);
	return NULL;
}

static struct server *server_start(enum script script, const char *answer)
{
	struct server *s = calloc(1, sizeof(*s));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	assert_non_null(s);
	strcpy(s->dir, "/tmp/test_tray_call.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/ctl.sock", s->dir);
	strcpy(sa.sun_path, s->path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->fd, 4), 0);
	s->script = script;
	s->answer = answer;
	s->thread = g_thread_new("server", serve, s);
	return s;
}

/* Waits for the server thread to be done with its connection. */
static void server_join(struct server *s)
{
	if (s->thread)
		g_thread_join(s->thread);
	s->thread = NULL;
}

static void server_stop(struct server *s)
{
	server_join(s);
	close(s->fd);
	unlink(s->path);
	rmdir(s->dir);
	free(s);
}

static const struct ctl_request status_req = {.cmd = CTL_CMD_STATUS};

static void test_answer(void **state)
{
	struct server *s = server_start(ANSWER, "{\"ok\":true,\"name\":\"mars\"}\n");
	struct result res = {0};

	call_start(s->path, &status_req, 2000, on_done, &res);
	run_until_done(&res);
	server_join(s);
	assert_string_equal(s->request, "{\"cmd\":\"status\"}\n");
	assert_int_equal(res.r, 0);
	assert_string_equal(json_string_value(json_object_get(res.result, "name")), "mars");
	assert_null(json_object_get(res.result, "ok"));
	json_decref(res.result);
	server_stop(s);
}

static void test_leave(void **state)
{
	struct server *s = server_start(ANSWER, "{\"ok\":true,\"joined\":false}\n");
	struct ctl_request leave = {.cmd = CTL_CMD_LEAVE};
	struct result res = {0};

	call_start(s->path, &leave, 2000, on_done, &res);
	run_until_done(&res);
	server_join(s);
	assert_string_equal(s->request, "{\"cmd\":\"leave\"}\n");
	assert_int_equal(res.r, 0);
	assert_true(json_is_false(json_object_get(res.result, "joined")));
	json_decref(res.result);
	server_stop(s);
}

static void test_split_answer(void **state)
{
	struct server *s = server_start(ANSWER_SPLIT, "{\"ok\":true,\"joined\":true}\n");
	struct result res = {0};

	call_start(s->path, &status_req, 2000, on_done, &res);
	run_until_done(&res);
	assert_int_equal(res.r, 0);
	assert_true(json_is_true(json_object_get(res.result, "joined")));
	json_decref(res.result);
	server_stop(s);
}

static void test_daemon_error(void **state)
{
	struct server *s = server_start(ANSWER, "{\"ok\":false,\"error\":\"permission denied\"}\n");
	struct result res = {0};

	call_start(s->path, &status_req, 2000, on_done, &res);
	run_until_done(&res);
	assert_int_equal(res.r, -EREMOTEIO);
	assert_string_equal(res.err, "permission denied");
	assert_null(res.result);
	assert_false(call_no_daemon(res.r));
	server_stop(s);
}

static void test_no_socket(void **state)
{
	struct result res = {0};

	call_start("/tmp/test_tray_call.absent/ctl.sock", &status_req, 2000, on_done, &res);
	/* Never from inside call_start. */
	assert_false(res.done);
	run_until_done(&res);
	assert_true(res.r == -ENOENT);
	assert_true(call_no_daemon(res.r));
	assert_non_null(strstr(res.err, "cannot connect to '/tmp/test_tray_call.absent/ctl.sock'"));
}

static void test_refused(void **state)
{
	char dir[] = "/tmp/test_tray_call.XXXXXX", path[108];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct result res = {0};
	int fd;

	/* A socket file nobody listens on: what a daemon that died leaves. */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	call_start(path, &status_req, 2000, on_done, &res);
	run_until_done(&res);
	assert_int_equal(res.r, -ECONNREFUSED);
	assert_true(call_no_daemon(res.r));
	unlink(path);
	rmdir(dir);
}

static void test_timeout(void **state)
{
	struct server *s = server_start(SILENT, NULL);
	struct result res = {0};
	gint64 t0 = g_get_monotonic_time();

	call_start(s->path, &status_req, 200, on_done, &res);
	run_until_done(&res);
	assert_int_equal(res.r, -ETIMEDOUT);
	assert_string_equal(res.err, "no answer from the daemon within 1 s");
	assert_true(g_get_monotonic_time() - t0 >= 190000);
	/* The call closed its socket: the silent server sees the end. */
	server_stop(s);
}

static void test_hang_up(void **state)
{
	struct server *s = server_start(HANG_UP, NULL);
	struct result res = {0};

	call_start(s->path, &status_req, 2000, on_done, &res);
	run_until_done(&res);
	assert_true(res.r == -ECONNRESET || res.r == -EPIPE);
	server_stop(s);
}

static void test_incomplete(void **state)
{
	struct server *s = server_start(ANSWER, "{\"ok\":tr");
	struct result res = {0};

	call_start(s->path, &status_req, 2000, on_done, &res);
	run_until_done(&res);
	assert_int_equal(res.r, -EBADMSG);
	assert_string_equal(res.err, "incomplete answer from the daemon");
	server_stop(s);
}

static void test_garbage(void **state)
{
	struct server *s = server_start(ANSWER, "hello\n");
	struct result res = {0};

	call_start(s->path, &status_req, 2000, on_done, &res);
	run_until_done(&res);
	assert_int_equal(res.r, -EBADMSG);
	assert_false(call_no_daemon(res.r));
	server_stop(s);
}

static void test_flood(void **state)
{
	struct server *s = server_start(FLOOD, NULL);
	struct result res = {0};

	call_start(s->path, &status_req, 5000, on_done, &res);
	run_until_done(&res);
	assert_int_equal(res.r, -EMSGSIZE);
	server_stop(s);
}

static void test_bad_arguments(void **state)
{
	char path[200];
	struct ctl_request bad = {.cmd = CTL_CMD_RESOLVE, .name = "no spaces allowed"};
	struct result res = {0}, res2 = {0};

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	call_start(path, &status_req, 2000, on_done, &res);
	run_until_done(&res);
	assert_int_equal(res.r, -ENAMETOOLONG);

	call_start("/tmp/x.sock", &bad, 2000, on_done, &res2);
	run_until_done(&res2);
	assert_int_equal(res2.r, -EINVAL);
	assert_non_null(strstr(res2.err, "cannot build the request"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_answer),       cmocka_unit_test(test_leave),
	        cmocka_unit_test(test_split_answer), cmocka_unit_test(test_daemon_error),
	        cmocka_unit_test(test_no_socket),    cmocka_unit_test(test_refused),
	        cmocka_unit_test(test_timeout),      cmocka_unit_test(test_hang_up),
	        cmocka_unit_test(test_incomplete),   cmocka_unit_test(test_garbage),
	        cmocka_unit_test(test_flood),        cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
