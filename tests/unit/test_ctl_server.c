/* SPDX-License-Identifier: MIT */
/* test_ctl_server.c: the control server on a temporary socket, with fake
 * handlers, driven by raw clients and by the real idloc command line. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "idloc/ctl.h"
#include "cli/cli.h"
#include "common/log.h"
#include "daemon/answers.h"
#include "daemon/ctl.h"

#define WAIT_MS 5000

enum resolve_mode {
	RESOLVE_HOLD,   /* keep the reply; the test completes it */
	RESOLVE_NOW,    /* answer before returning */
	RESOLVE_REFUSE, /* return -ENOENT without taking it */
};

enum ping_mode {
	PING_REPLIES, /* answer at once: 2 of 3 replies */
	PING_SILENT,  /* answer at once: no reply */
	PING_NO_PATH, /* answer at once: the daemon's "no path" */
	PING_HOLD,    /* keep the reply */
};

struct fake {
	uv_loop_t loop;
	enum ping_mode ping_mode;
	struct ctl_ping ping; /* the last one asked for, fqdn in pinged */
	char pinged[CTL_NAME_MAX + 1];
	struct ctl *ctl;
	struct ctl_options opt;
	char dir[64];
	char path[128];
	enum resolve_mode mode;
	struct ctl_reply *pending;
	char resolved[CTL_NAME_MAX + 1];
	bool stop_in_status;
	bool not_joined; /* status says so until a join */
	int joins;
	int shutdowns;
	struct answers_log *log;  /* the daemon's real log ring */
	struct ctl_handlers real; /* answers.c's handlers over it */
};

struct client {
	int fd;
	char buf[8192];
	size_t len;
	bool eof;
};

/* ---- fake handlers ---- */

static json_t *status_json(void)
{
	return json_pack("{s:s, s:s, s:s, s:n, s:s, s:{s:s, s:b, s:i}, s:s, s:i}", "name", "mars",
	                 "fqdn", "mars.example.internal", "hit", "2001:2a:1:2:3:4:5:6", "lsi",
	                 "resolver", "100.64.0.53", "overlay", "domain", "example.internal",
	                 "joined", 1, "neighbors", 3, "version", "0.1.0", "uptime_s", 3725);
}

static json_t *resolve_json(const char *name)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:[s]}", "name", name, "hit", "2001:2a:aa::1",
	                 "owner", "2001:2a:aa::1", "seq", 7, "expires_in_s", 3540, "relay_hints",
	                 "relay:a1");
}

static int fake_status(void *ctx, json_t *result)
{
	struct fake *f = ctx;
	json_t *s = status_json();

	if (f->stop_in_status) {
		ctl_stop(f->ctl);
		f->ctl = NULL;
	}
	if (f->not_joined)
		json_object_set_new(json_object_get(s, "overlay"), "joined", json_false());
	json_object_update(result, s);
	json_decref(s);
	return 0;
}

static int fake_peers(void *ctx, json_t *result)
{
	json_t *p = json_pack("[{s:s, s:s, s:n, s:s, s:{s:s, s:s}, s:f, s:i, s:i}, "
	                      "{s:n, s:s, s:n, s:s, s:{s:s, s:s}, s:n, s:i, s:i}]",
	                      "name", "venus", "hit", "2001:2a::2", "lsi", "state", "ESTABLISHED",
	                      "path", "type", "host", "remote", "192.0.2.2:10500", "rtt_ms", 1.1,
	                      "tx_bytes", 2048, "rx_bytes", 100, "name", "hit", "2001:2a::3", "lsi",
	                      "state", "I1-SENT", "path", "type", "relay", "remote",
	                      "[2001:db8::1]:10500", "rtt_ms", "tx_bytes", 0, "rx_bytes", 0);
	return json_object_set_new(result, "peers", p);
}

static int fake_id(void *ctx, json_t *result)
{
	json_object_set_new(result, "hit", json_string("2001:2a:1:2:3:4:5:6"));
	json_object_set_new(result, "hi_algorithm", json_string("ECDSA P-256"));
	json_object_set_new(result, "fqdn", json_string("mars.example.internal"));
	return 0;
}

static int fake_resolve(void *ctx, const char *fqdn, struct ctl_reply *reply)
{
	struct fake *f = ctx;

	snprintf(f->resolved, sizeof(f->resolved), "%s", fqdn);
	switch (f->mode) {
	case RESOLVE_HOLD:
		f->pending = reply;
		return 0;
	case RESOLVE_NOW:
		ctl_reply_send(reply, resolve_json(fqdn));
		return 0;
	default:
		return -ENOENT;
	}
}

static json_t *ping_json(const char *name, bool replies)
{
	if (!replies)
		return json_pack("{s:s, s:s, s:n, s:{s:n, s:n}, s:i, s:i, s:[n, n], s:n, s:n, s:n}",
		                 "name", name, "hit", "2001:2a:aa::1", "lsi", "path", "type",
		                 "remote", "sent", 2, "received", 0, "rtt_ms", "rtt_min", "rtt_avg",
		                 "rtt_max");
	return json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:i, s:i, s:[f, n, f], s:f, s:f, s:f}",
	                 "name", name, "hit", "2001:2a:aa::1", "lsi", "100.64.0.7", "path", "type",
	                 "host", "remote", "192.0.2.2:10500", "sent", 3, "received", 2, "rtt_ms",
	                 0.375, 12.5, "rtt_min", 0.375, "rtt_avg", 6.4375, "rtt_max", 12.5);
}

static int fake_ping(void *ctx, const struct ctl_ping *ping, struct ctl_reply *reply)
{
	struct fake *f = ctx;
	char msg[CTL_ERROR_MAX];

	snprintf(f->pinged, sizeof(f->pinged), "%s", ping->fqdn);
	f->ping = *ping;
	f->ping.fqdn = f->pinged;
	switch (f->ping_mode) {
	case PING_REPLIES:
	case PING_SILENT:
		ctl_reply_send(reply, ping_json(ping->fqdn, f->ping_mode == PING_REPLIES));
		return 0;
	case PING_NO_PATH:
		snprintf(msg, sizeof(msg), "no path to %s", ping->fqdn);
		ctl_reply_error(reply, msg);
		return 0;
	default:
		f->pending = reply;
		return 0;
	}
}

static int fake_join(void *ctx, struct ctl_reply *reply)
{
	struct fake *f = ctx;

	f->joins++;
	f->not_joined = false;
	ctl_reply_send(reply, json_pack("{s:b}", "joined", 1));
	return 0;
}

static int fake_leave(void *ctx, struct ctl_reply *reply)
{
	return -ENOTCONN;
}

static json_t *netcheck_json(void)
{
	return json_pack("{s:[{s:s, s:s}], s:[{s:s, s:s, s:s, s:f, s:n, s:n}, {s:s, s:s, s:n, "
	                 "s:n, s:s, s:n}], s:[s], s:{s:s, s:s}, s:[{s:s, s:s, s:b, s:f, s:n}]}",
	                 "local", "interface", "eth0", "address", "192.168.1.20", "stun", "server",
	                 "stun.example.org:3478", "address", "198.51.100.1:3478", "mapped",
	                 "203.0.113.5:40001", "rtt_ms", 12.25, "error", "alternate_of", "server",
	                 "stun2.example.org:3478", "address", "198.51.100.2:3478", "mapped",
	                 "rtt_ms", "error", "no answer", "alternate_of", "reflexive",
	                 "203.0.113.5:40001", "nat", "mapping", "unknown", "detail",
	                 "only stun.example.org:3478 answered", "relays", "server",
	                 "turn.example.org:3478", "address", "198.51.100.3:3478", "reachable", 1,
	                 "rtt_ms", 15.5, "error");
}

static int fake_netcheck(void *ctx, struct ctl_reply *reply)
{
	ctl_reply_send(reply, netcheck_json());
	return 0;
}

/* As idlocd: stops the server (and, there, the daemon). */
static void fake_shutdown(void *ctx)
{
	struct fake *f = ctx;

	f->shutdowns++;
	ctl_stop(f->ctl);
	f->ctl = NULL;
}

static int real_log(void *ctx, const struct ctl_log *log, struct ctl_reply *reply)
{
	struct fake *f = ctx;

	return f->real.log(f->real.ctx, log, reply);
}

static const struct ctl_handlers handlers = {
        .status = fake_status,
        .peers = fake_peers,
        .id = fake_id,
        .resolve = fake_resolve,
        .join = fake_join,
        .leave = fake_leave,
        .ping = fake_ping,
};

/* ---- loop and client helpers ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void client_pump(struct client *c)
{
	while (!c->eof && c->len < sizeof(c->buf) - 1) {
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			c->buf[c->len] = '\0';
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->eof = true; /* EOF, or ECONNRESET after the answer */
		} else {
			break;
		}
	}
}

/* Turns the loop until cond(arg) holds; false after WAIT_MS. */
static bool run_until(struct fake *f, bool (*cond)(void *), void *arg)
{
	uint64_t end = now_ms() + WAIT_MS;

	while (now_ms() < end) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (cond(arg))
			return true;
		poll(NULL, 0, 2);
	}
	return false;
}

static bool client_done(void *arg)
{
	struct client *c = arg;
	client_pump(c);
	return c->eof;
}

static bool have_pending(void *arg)
{
	return ((struct fake *)arg)->pending != NULL;
}

static bool no_connections(void *arg)
{
	struct fake *f = arg;
	return ctl_connections(f->ctl) == 0;
}

static bool one_connection(void *arg)
{
	struct fake *f = arg;
	return ctl_connections(f->ctl) == 1;
}

static bool two_connections(void *arg)
{
	struct fake *f = arg;
	return ctl_connections(f->ctl) == 2;
}

/* A few turns of the loop without waiting for anything in particular. */
static void spin(struct fake *f, unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		poll(NULL, 0, 2);
	}
}

static void client_open(struct client *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(c, 0, sizeof(*c));
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
}

static void client_send(struct client *c, const void *buf, size_t len)
{
	assert_int_equal(send(c->fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void client_puts(struct client *c, const char *s)
{
	client_send(c, s, strlen(s));
}

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Sends req, waits for the server to close, returns what it said. */
static const char *exchange(struct fake *f, struct client *c, const char *req)
{
	client_open(c, f->path);
	client_puts(c, req);
	assert_true(run_until(f, client_done, c));
	client_close(c);
	return c->buf;
}

/* ---- fixture ---- */

static int start(struct fake *f)
{
	return ctl_start(&f->loop, &f->opt,
	                 &(struct ctl_handlers){.ctx = f,
	                                        .status = handlers.status,
	                                        .peers = handlers.peers,
	                                        .id = handlers.id,
	                                        .resolve = handlers.resolve,
	                                        .join = handlers.join,
	                                        .leave = handlers.leave,
	                                        .ping = handlers.ping,
	                                        .log = real_log,
	                                        .netcheck = fake_netcheck,
	                                        .shutdown = fake_shutdown},
	                 &f->ctl);
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_ctl_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/run/idloc/ctl.sock", f->dir);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	ctl_options_init(&f->opt, f->path);
	f->opt.domain = "example.internal";
	/* The log ring and its streams are answers.c's, as in idlocd. */
	assert_int_equal(answers_log_new(8, &f->log), 0);
	{
		static struct answers a;
		a = (struct answers){.log = f->log};
		answers_handlers(&a, &f->real);
	}
	*state = f;
	return 0;
}

static int setup_started(void **state)
{
	struct fake *f;

	setup(state);
	f = *state;
	assert_int_equal(start(f), 0);
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	char p[192];

	if (f->ctl)
		ctl_stop(f->ctl);
	if (f->pending)
		ctl_reply_error(f->pending, "test over");
	f->log = answers_log_free(f->log);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s/run/idloc", f->dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/run", f->dir);
	rmdir(p);
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
	return 0;
}

/* ---- tests: the socket ---- */

static void test_socket_file(void **state)
{
	struct fake *f = *state;
	char dir[192];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/run/idloc", f->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	ctl_stop(f->ctl);
	f->ctl = NULL;
	assert_int_equal(lstat(f->path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_stale_and_busy_path(void **state)
{
	struct fake *f = *state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ctl *second;
	char dir[192];
	int fd;

	/* A socket nobody listens on is stale and replaced. */
	snprintf(dir, sizeof(dir), "%s/run", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/run/idloc", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	strcpy(sa.sun_path, f->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(start(f), 0);

	/* A live one is not touched. */
	assert_int_equal(ctl_start(&f->loop, &f->opt, &handlers, &second), -EADDRINUSE);
	ctl_stop(f->ctl);
	f->ctl = NULL;

	/* Nor is a file that is not a socket. */
	fd = open(f->path, O_CREAT | O_WRONLY | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(start(f), -EEXIST);
	assert_int_equal(unlink(f->path), 0);

	/* Paths a socket address cannot hold, or relative ones. */
	f->opt.path = "/tmp/a-very-long-directory-name-for-a-unix-socket-that-cannot-fit-in-"
	              "sun-path-because-it-is-too-long/ctl.sock";
	assert_int_equal(start(f), -ENAMETOOLONG);
	f->opt.path = "relative.sock";
	assert_int_equal(start(f), -EINVAL);
	f->opt.path = f->path;
	assert_int_equal(start(f), 0);
}

/* ---- tests: commands ---- */

static void test_status(void **state)
{
	struct fake *f = *state;
	struct client c;

	assert_string_equal(
	        exchange(f, &c, "{\"cmd\":\"status\"}\n"),
	        "{\"ok\":true,\"name\":\"mars\",\"fqdn\":\"mars.example.internal\",\"hit\":"
	        "\"2001:2a:1:2:3:4:5:6\",\"lsi\":null,\"resolver\":\"100.64.0.53\",\"overlay\":{"
	        "\"domain\":\"example.internal\",\"joined\":true,\"neighbors\":3},\"version\":"
	        "\"0.1.0\",\"uptime_s\":3725}\n");
	assert_true(run_until(f, no_connections, f));
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"id\"}\n"),
	                    "{\"ok\":true,\"hit\":\"2001:2a:1:2:3:4:5:6\",\"hi_algorithm\":\"ECDSA "
	                    "P-256\",\"fqdn\":\"mars.example.internal\"}\n");
	assert_non_null(strstr(exchange(f, &c, "{\"cmd\":\"peers\"}\n"), "\"peers\":[{"));
}

static void test_bad_requests(void **state)
{
	struct fake *f = *state;
	char big[5000];
	struct client c;

	assert_string_equal(exchange(f, &c, "{\"cmd\":\"frob\"}\n"),
	                    "{\"ok\":false,\"error\":\"unknown command 'frob'\"}\n");
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"status\",\"x\":1}\n"),
	                    "{\"ok\":false,\"error\":\"unknown argument 'x' for 'status'\"}\n");
	assert_non_null(strstr(exchange(f, &c, "status\n"), "\"error\":\"malformed request: "));
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"id\"}\n{\"cmd\":\"id\"}\n"),
	                    "{\"ok\":false,\"error\":\"data after the request: one request per "
	                    "connection\"}\n");
	memset(big, 'x', sizeof(big));
	client_open(&c, f->path);
	client_send(&c, big, sizeof(big));
	assert_true(run_until(f, client_done, &c));
	client_close(&c);
	assert_string_equal(c.buf, "{\"ok\":false,\"error\":\"request longer than 4095 bytes\"}\n");

	/* The end of the stream before the newline. */
	client_open(&c, f->path);
	client_puts(&c, "{\"cmd\":\"id\"}");
	shutdown(c.fd, SHUT_WR);
	assert_true(run_until(f, client_done, &c));
	client_close(&c);
	assert_string_equal(
	        c.buf,
	        "{\"ok\":false,\"error\":\"incomplete request: no newline before the end\"}\n");

	/* Connected, said nothing, left: closed without a word. */
	client_open(&c, f->path);
	shutdown(c.fd, SHUT_WR);
	assert_true(run_until(f, client_done, &c));
	client_close(&c);
	assert_string_equal(c.buf, "");
	assert_true(run_until(f, no_connections, f));
}

static void test_resolve_async(void **state)
{
	struct fake *f = *state;
	struct client c;

	f->mode = RESOLVE_HOLD;
	client_open(&c, f->path);
	client_puts(&c, "{\"cmd\":\"resolve\",\"name\":\"Venus\"}\n");
	assert_true(run_until(f, have_pending, f));
	assert_string_equal(f->resolved, "venus.example.internal");
	spin(f, 50);
	client_pump(&c);
	assert_int_equal(c.len, 0);
	assert_false(ctl_reply_cancelled(f->pending));
	ctl_reply_send(f->pending, resolve_json(f->resolved));
	f->pending = NULL;
	assert_true(run_until(f, client_done, &c));
	client_close(&c);
	assert_string_equal(c.buf,
	                    "{\"ok\":true,\"name\":\"venus.example.internal\",\"hit\":\"2001:"
	                    "2a:aa::1\",\"owner\":\"2001:2a:aa::1\",\"seq\":7,\"expires_in_"
	                    "s\":3540,\"relay_hints\":[\"relay:a1\"]}\n");

	/* A dotted name is kept as it is. */
	f->mode = RESOLVE_NOW;
	assert_non_null(strstr(exchange(f, &c, "{\"cmd\":\"resolve\",\"name\":\"a.b.c.\"}\n"),
	                       "\"name\":\"a.b.c\""));
	f->mode = RESOLVE_REFUSE;
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"resolve\",\"name\":\"nobody\"}\n"),
	                    "{\"ok\":false,\"error\":\"not found\"}\n");
	/* Completing with an error later. */
	f->mode = RESOLVE_HOLD;
	client_open(&c, f->path);
	client_puts(&c, "{\"cmd\":\"resolve\",\"name\":\"x\"}\n");
	assert_true(run_until(f, have_pending, f));
	ctl_reply_errno(f->pending, -ETIMEDOUT);
	f->pending = NULL;
	assert_true(run_until(f, client_done, &c));
	client_close(&c);
	assert_string_equal(c.buf, "{\"ok\":false,\"error\":\"timed out\"}\n");
}

static void test_early_disconnect(void **state)
{
	struct fake *f = *state;
	struct client c;

	f->mode = RESOLVE_HOLD;
	client_open(&c, f->path);
	client_puts(&c, "{\"cmd\":\"resolve\",\"name\":\"venus\"}\n");
	assert_true(run_until(f, have_pending, f));
	client_close(&c);
	spin(f, 20);
	/* The answer goes nowhere, and the connection is released. */
	ctl_reply_send(f->pending, resolve_json(f->resolved));
	f->pending = NULL;
	assert_true(run_until(f, no_connections, f));
}

static void test_timeout(void **state)
{
	struct fake *f = *state;
	struct client c, idle;

	ctl_stop(f->ctl);
	f->opt.timeout_ms = 100;
	assert_int_equal(start(f), 0);
	f->mode = RESOLVE_HOLD;
	client_open(&c, f->path);
	client_puts(&c, "{\"cmd\":\"resolve\",\"name\":\"venus\"}\n");
	client_open(&idle, f->path);
	assert_true(run_until(f, client_done, &c));
	assert_string_equal(c.buf, "{\"ok\":false,\"error\":\"timed out\"}\n");
	assert_true(run_until(f, client_done, &idle));
	assert_string_equal(idle.buf, "{\"ok\":false,\"error\":\"timed out\"}\n");
	client_close(&c);
	client_close(&idle);
	/* The handler still holds the reply: cancelled, and freed on completion. */
	assert_non_null(f->pending);
	assert_true(ctl_reply_cancelled(f->pending));
	ctl_reply_send(f->pending, resolve_json("venus"));
	f->pending = NULL;
	assert_true(run_until(f, no_connections, f));
}

static void test_ping_async(void **state)
{
	struct fake *f = *state;
	struct client c;
	uint64_t t0;

	assert_string_equal(
	        exchange(f, &c,
	                 "{\"cmd\":\"ping\",\"name\":\"Venus\",\"count\":3,\"interval_ms\":500}\n"),
	        "{\"ok\":true,\"name\":\"venus.example.internal\",\"hit\":\"2001:2a:aa::1\","
	        "\"lsi\":\"100.64.0.7\",\"path\":{\"type\":\"host\",\"remote\":\"192.0.2.2:"
	        "10500\"},\"sent\":3,\"received\":2,\"rtt_ms\":[0.375,null,12.5],\"rtt_min\":"
	        "0.375,\"rtt_avg\":6.4375,\"rtt_max\":12.5}\n");
	assert_string_equal(f->pinged, "venus.example.internal");
	assert_int_equal(f->ping.count, 3);
	assert_int_equal(f->ping.interval_ms, 500);
	assert_int_equal(f->ping.timeout_ms, CTL_PING_TIMEOUT_DEFAULT);
	f->ping_mode = PING_NO_PATH;
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"ping\",\"name\":\"a.b\"}\n"),
	                    "{\"ok\":false,\"error\":\"no path to a.b\"}\n");
	assert_int_equal(f->ping.count, CTL_PING_COUNT_DEFAULT);
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"ping\",\"name\":\"a\",\"count\":0}\n"),
	                    "{\"ok\":false,\"error\":\"\\\"count\\\" must be an integer from "
	                    "1 to 1000\"}\n");

	/* A ping's connection lives as long as its arguments say, on top of
	 * the server's own limit: 100 ms + 2 * 100 ms + 1 * 200 ms here. */
	ctl_stop(f->ctl);
	f->opt.timeout_ms = 100;
	assert_int_equal(start(f), 0);
	f->ping_mode = PING_HOLD;
	t0 = now_ms();
	client_open(&c, f->path);
	client_puts(&c, "{\"cmd\":\"ping\",\"name\":\"venus\",\"count\":2,\"interval_ms\":200,"
	                "\"timeout_ms\":100}\n");
	assert_true(run_until(f, have_pending, f));
	spin(f, 300);
	client_pump(&c);
	assert_int_equal(c.len, 0);
	assert_false(ctl_reply_cancelled(f->pending));
	assert_true(run_until(f, client_done, &c));
	client_close(&c);
	assert_true(now_ms() - t0 >= 495);
	assert_string_equal(c.buf, "{\"ok\":false,\"error\":\"timed out\"}\n");
	/* The pinger learns it through ctl_reply_cancelled. */
	assert_true(ctl_reply_cancelled(f->pending));
	ctl_reply_send(f->pending, ping_json("venus", true));
	f->pending = NULL;
}

static void test_busy(void **state)
{
	struct fake *f = *state;
	struct client a, b, c;

	ctl_stop(f->ctl);
	f->opt.max_conns = 2;
	assert_int_equal(start(f), 0);
	client_open(&a, f->path);
	client_open(&b, f->path);
	assert_true(run_until(f, two_connections, f));
	client_open(&c, f->path);
	assert_true(run_until(f, client_done, &c));
	assert_string_equal(c.buf, "{\"ok\":false,\"error\":\"busy, try again\"}\n");
	client_close(&c);
	client_close(&a);
	client_close(&b);
	assert_true(run_until(f, no_connections, f));
	assert_non_null(strstr(exchange(f, &c, "{\"cmd\":\"status\"}\n"), "\"ok\":true"));
}

static void test_join_leave_rights(void **state)
{
	struct fake *f = *state;
	struct client c;

	assert_string_equal(exchange(f, &c, "{\"cmd\":\"join\"}\n"),
	                    "{\"ok\":true,\"joined\":true}\n");
	assert_int_equal(f->joins, 1);
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"leave\"}\n"),
	                    "{\"ok\":false,\"error\":\"not joined to the overlay\"}\n");
	if (geteuid() == 0) {
		/* Root is always allowed; another uid cannot be faked here. */
		return;
	}
	ctl_stop(f->ctl);
	f->opt.admin_uid = geteuid() + 1;
	assert_int_equal(start(f), 0);
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"join\"}\n"),
	                    "{\"ok\":false,\"error\":\"permission denied\"}\n");
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"leave\"}\n"),
	                    "{\"ok\":false,\"error\":\"permission denied\"}\n");
	assert_int_equal(f->joins, 1);
	/* Reading is for everyone. */
	assert_non_null(strstr(exchange(f, &c, "{\"cmd\":\"id\"}\n"), "\"ok\":true"));
}

static void test_missing_handler(void **state)
{
	struct fake *f = *state;
	struct ctl_handlers none = {.ctx = f};
	struct client c;

	ctl_stop(f->ctl);
	assert_int_equal(ctl_start(&f->loop, &f->opt, &none, &f->ctl), 0);
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"peers\"}\n"),
	                    "{\"ok\":false,\"error\":\"not supported\"}\n");
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"resolve\",\"name\":\"x\"}\n"),
	                    "{\"ok\":false,\"error\":\"not supported\"}\n");
}

static void test_stop_with_pending(void **state)
{
	struct fake *f = *state;
	struct client c;

	f->mode = RESOLVE_HOLD;
	client_open(&c, f->path);
	client_puts(&c, "{\"cmd\":\"resolve\",\"name\":\"venus\"}\n");
	assert_true(run_until(f, have_pending, f));
	ctl_stop(f->ctl);
	f->ctl = NULL;
	assert_true(run_until(f, client_done, &c));
	client_close(&c);
	assert_string_equal(c.buf, "");
	assert_true(ctl_reply_cancelled(f->pending));
	ctl_reply_send(f->pending, resolve_json("venus"));
	f->pending = NULL;
}

static void test_stop_in_handler(void **state)
{
	struct fake *f = *state;
	struct client c;

	f->stop_in_status = true;
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"status\"}\n"), "");
	assert_null(f->ctl);
}

/* ---- tests: shutdown and log streams ---- */

static bool shut_down(void *arg)
{
	return ((struct fake *)arg)->shutdowns > 0;
}

static void test_shutdown(void **state)
{
	struct fake *f = *state;
	struct client c;

	client_open(&c, f->path);
	client_puts(&c, "{\"cmd\":\"shutdown\"}\n");
	/* The answer goes first, then the daemon stops (here: the server). */
	assert_true(run_until(f, shut_down, f));
	assert_null(f->ctl);
	spin(f, 50);
	client_pump(&c);
	assert_string_equal(c.buf, "{\"ok\":true}\n");
	/* The connection lasts as long as the process: the client learns
	 * from its end that the daemon is gone. */
	assert_false(c.eof);
	client_close(&c);
	assert_int_equal(start(f), 0);
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"shutdown\",\"now\":1}\n"),
	                    "{\"ok\":false,\"error\":\"unknown argument 'now' for "
	                    "'shutdown'\"}\n");
	if (geteuid() != 0) {
		ctl_stop(f->ctl);
		f->opt.admin_uid = geteuid() + 1;
		assert_int_equal(start(f), 0);
		assert_string_equal(exchange(f, &c, "{\"cmd\":\"shutdown\"}\n"),
		                    "{\"ok\":false,\"error\":\"permission denied\"}\n");
	}
	assert_int_equal(f->shutdowns, 1);
	/* A daemon without the handler. */
	ctl_stop(f->ctl);
	assert_int_equal(ctl_start(&f->loop, &f->opt, &(struct ctl_handlers){.ctx = f}, &f->ctl),
	                 0);
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"shutdown\"}\n"),
	                    "{\"ok\":false,\"error\":\"not supported\"}\n");
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"log\"}\n"),
	                    "{\"ok\":false,\"error\":\"not supported\"}\n");
	assert_string_equal(exchange(f, &c, "{\"cmd\":\"netcheck\"}\n"),
	                    "{\"ok\":false,\"error\":\"not supported\"}\n");
}

/* The "msg" of every line of a log answer, joined by ",". */
static const char *log_msgs(const char *answer)
{
	static char buf[512];
	json_t *root = json_loads(answer, 0, NULL), *l;
	size_t i;

	assert_non_null(root);
	buf[0] = '\0';
	json_array_foreach(json_object_get(root, "lines"), i, l)
	{
		assert_string_equal(json_string_value(json_object_get(l, "level")), "warning");
		assert_true(json_is_integer(json_object_get(l, "time_ms")));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "",
		         json_string_value(json_object_get(l, "msg")));
	}
	json_decref(root);
	return buf;
}

static void test_log_lines(void **state)
{
	struct fake *f = *state;
	struct client c;

	assert_string_equal(exchange(f, &c, "{\"cmd\":\"log\"}\n"), "{\"ok\":true,\"lines\":[]}\n");
	for (int i = 0; i < 10; i++)
		log_msg(LOG_WARNING, "line %d", i);
	/* Below the level: neither on stderr nor kept. */
	log_msg(LOG_DEBUG, "not kept");
	assert_string_equal(log_msgs(exchange(f, &c, "{\"cmd\":\"log\",\"lines\":3}\n")),
	                    "line 7,line 8,line 9");
	/* The ring keeps 8 here (500 in idlocd). */
	assert_string_equal(log_msgs(exchange(f, &c, "{\"cmd\":\"log\",\"lines\":100}\n")),
	                    "line 2,line 3,line 4,line 5,line 6,line 7,line 8,line 9");
	assert_string_equal(log_msgs(exchange(f, &c, "{\"cmd\":\"log\",\"lines\":0}\n")), "");
	/* Control characters and bytes that are not UTF-8 are made safe. */
	log_msg(LOG_WARNING, "bad \x1b[31m\xff");
	assert_string_equal(log_msgs(exchange(f, &c, "{\"cmd\":\"log\",\"lines\":1}\n")),
	                    "bad ?[31m?");
}

static bool got_line(void *arg)
{
	struct client *c = arg;

	client_pump(c);
	return strchr(c->buf, '\n') != NULL || c->eof;
}

static bool got_text(void *arg)
{
	struct client *c = arg;

	client_pump(c);
	return strstr(c->buf, "follow me") != NULL || c->eof;
}

/* A follower: its first answer is in c->buf. */
static void follow(struct fake *f, struct client *c, const char *req)
{
	client_open(c, f->path);
	client_puts(c, req);
	assert_true(run_until(f, got_line, c));
	assert_false(c->eof);
}

static void test_log_follow(void **state)
{
	struct fake *f = *state;
	struct client c, more[CTL_STREAM_MAX], busy;

	/* The connection deadline does not cut a stream. */
	ctl_stop(f->ctl);
	f->opt.timeout_ms = 100;
	assert_int_equal(start(f), 0);
	log_msg(LOG_WARNING, "before");
	follow(f, &c, "{\"cmd\":\"log\",\"lines\":1,\"follow\":true}\n");
	assert_non_null(strstr(c.buf, "\"msg\":\"before\"}]}\n"));
	spin(f, 300);
	client_pump(&c);
	assert_false(c.eof);
	c.len = 0;
	c.buf[0] = '\0';
	log_msg(LOG_WARNING, "follow me %d", 1);
	assert_true(run_until(f, got_text, &c));
	assert_non_null(strstr(c.buf, "{\"event\":\"log\",\"time_ms\":"));
	assert_non_null(strstr(c.buf, ",\"level\":\"warning\",\"msg\":\"follow me 1\"}\n"));

	/* At most CTL_STREAM_MAX at once: one more is busy. */
	for (size_t i = 0; i + 1 < CTL_STREAM_MAX; i++)
		follow(f, &more[i], "{\"cmd\":\"log\",\"lines\":0,\"follow\":true}\n");
	assert_string_equal(exchange(f, &busy, "{\"cmd\":\"log\",\"lines\":0,\"follow\":true}\n"),
	                    "{\"ok\":false,\"error\":\"busy, try again\"}\n");
	/* A client that hangs up ends its stream (a half close too). */
	client_close(&c);
	for (size_t i = 0; i + 1 < CTL_STREAM_MAX; i++) {
		if (i % 2)
			shutdown(more[i].fd, SHUT_WR);
		else
			client_close(&more[i]);
	}
	assert_true(run_until(f, no_connections, f));
	for (size_t i = 0; i + 1 < CTL_STREAM_MAX; i++)
		client_close(&more[i]);
	log_msg(LOG_WARNING, "nobody follows");

	/* ctl_stop tells the followers, then closes. */
	follow(f, &c, "{\"cmd\":\"log\",\"lines\":0,\"follow\":true}\n");
	assert_string_equal(c.buf, "{\"ok\":true,\"lines\":[]}\n");
	ctl_stop(f->ctl);
	f->ctl = NULL;
	assert_true(run_until(f, client_done, &c));
	assert_string_equal(c.buf, "{\"ok\":true,\"lines\":[]}\n{\"event\":\"end\",\"reason\":"
	                           "\"the daemon is shutting down\"}\n");
	client_close(&c);
}

/* A follower that reads line by line and only remembers what it looks for. */
struct drain {
	int fd;
	char line[4096];
	size_t len;
	bool dropped, seen;
	const char *want;
	uint64_t last_data; /* when something came last */
};

static bool drained(void *arg)
{
	struct drain *d = arg;
	char buf[65536];
	ssize_t n;

	while ((n = recv(d->fd, buf, sizeof(buf), 0)) > 0) {
		d->last_data = now_ms();
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (d->len < sizeof(d->line) - 1)
					d->line[d->len++] = buf[i];
				continue;
			}
			d->line[d->len] = '\0';
			d->len = 0;
			if (strstr(d->line, "{\"event\":\"dropped\",\"count\":"))
				d->dropped = true;
			if (d->want && strstr(d->line, d->want))
				d->seen = true;
		}
	}
	return d->want ? d->seen : now_ms() - d->last_data > 300;
}

static void test_log_slow_reader(void **state)
{
	struct fake *f = *state;
	struct drain d = {.fd = -1};
	struct client c;
	char big[1001];
	int rcvbuf = 4096, saved, null;

	/* A follower that does not read while 3 MB are logged. */
	client_open(&c, f->path);
	setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	client_puts(&c, "{\"cmd\":\"log\",\"lines\":0,\"follow\":true}\n");
	assert_true(run_until(f, got_line, &c));
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY);
	dup2(null, STDERR_FILENO);
	for (int i = 0; i < 3000; i++) {
		log_msg(LOG_WARNING, "%s", big);
		if (i % 100 == 0)
			uv_run(&f->loop, UV_RUN_NOWAIT);
	}
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(null);
	/* The daemon kept a bounded queue; the reader catches up, and the
	 * next line comes after word of what was lost. */
	d.fd = c.fd;
	d.last_data = now_ms();
	assert_true(run_until(f, drained, &d));
	d.want = "\"msg\":\"after the flood\"}";
	log_msg(LOG_WARNING, "after the flood");
	assert_true(run_until(f, drained, &d));
	assert_true(d.dropped);
	client_close(&c);
}

/* ---- tests: the idloc command line against the server ---- */

struct child {
	pid_t pid;
	int status;
	bool exited;
};

static bool child_exited(void *arg)
{
	struct child *ch = arg;

	if (waitpid(ch->pid, &ch->status, WNOHANG) == ch->pid)
		ch->exited = true;
	return ch->exited;
}

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* Starts `idloc args...` (ap, NULL-terminated) in a child with stdout and
 * stderr in files of the test's directory. */
static void idloc_start(struct fake *f, struct child *ch, va_list ap)
{
	char arg0[] = "idloc", *argv[16] = {arg0}, o[192], e[192];
	int argc = 1, fd;

	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	snprintf(o, sizeof(o), "%s/out", f->dir);
	snprintf(e, sizeof(e), "%s/err", f->dir);
	fflush(NULL);
	*ch = (struct child){0};
	ch->pid = fork();
	assert_true(ch->pid >= 0);
	if (ch->pid == 0) {
		fd = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, STDOUT_FILENO);
		close(fd);
		fd = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, STDERR_FILENO);
		close(fd);
		setenv("NO_COLOR", "1", 1);
		fd = cli_main(argc, argv);
		fflush(NULL);
		_exit(fd);
	}
}

/* Serves the child until it exits. Returns its exit code; out and err get
 * what it printed. */
static int idloc_wait(struct fake *f, struct child *ch, char **out, char **err)
{
	char o[192], e[192];
	static char errbuf[8192];

	snprintf(o, sizeof(o), "%s/out", f->dir);
	snprintf(e, sizeof(e), "%s/err", f->dir);
	assert_true(run_until(f, child_exited, ch));
	assert_true(WIFEXITED(ch->status));
	strcpy(errbuf, slurp(e));
	*err = errbuf;
	*out = slurp(o);
	unlink(o);
	unlink(e);
	return WEXITSTATUS(ch->status);
}

/* Runs `idloc args...` in a child while the loop serves it. */
static int idloc(struct fake *f, char **out, char **err, ...)
{
	struct child ch;
	va_list ap;

	va_start(ap, err);
	idloc_start(f, &ch, ap);
	va_end(ap);
	return idloc_wait(f, &ch, out, err);
}

/* Starts `idloc args...` in the background. */
static void idloc_bg(struct fake *f, struct child *ch, ...)
{
	va_list ap;

	va_start(ap, ch);
	idloc_start(f, ch, ap);
	va_end(ap);
}

static void test_cli_status(void **state)
{
	struct fake *f = *state;
	json_t *got, *want;
	char *out, *err;

	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "status", NULL), 0);
	assert_string_equal(err, "");
	assert_string_equal(out, "name        mars\n"
	                         "fqdn        mars.example.internal\n"
	                         "HIT         2001:2a:1:2:3:4:5:6\n"
	                         "LSI         -\n"
	                         "resolver    100.64.0.53\n"
	                         "overlay     example.internal\n"
	                         "joined      yes\n"
	                         "neighbors   3\n"
	                         "version     0.1.0\n"
	                         "uptime      1h 2m\n");

	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "status", "--json", NULL), 0);
	got = json_loads(out, 0, NULL);
	want = status_json();
	assert_non_null(got);
	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	/* Pretty-printed: one member per line. */
	assert_non_null(strstr(out, "\n  \"name\": \"mars\",\n"));

	assert_int_equal(idloc(f, &out, &err, "--json", "-s", f->path, "id", NULL), 0);
	assert_non_null(strstr(out, "\"hi_algorithm\": \"ECDSA P-256\""));
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "id", NULL), 0);
	assert_string_equal(out, "HIT         2001:2a:1:2:3:4:5:6\n"
	                         "algorithm   ECDSA P-256\n"
	                         "fqdn        mars.example.internal\n");
}

static void test_cli_peers(void **state)
{
	struct fake *f = *state;
	char *out, *err;
	json_t *got;

	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "peers", NULL), 0);
	assert_string_equal(
	        out,
	        "NAME   HIT         LSI  STATE        PATH                       RTT     TX       "
	        "RX\n"
	        "venus  2001:2a::2  -    ESTABLISHED  host 192.0.2.2:10500       1.1 ms  2.0 KiB  "
	        "100 B\n"
	        "-      2001:2a::3  -    I1-SENT      relay [2001:db8::1]:10500  -       0 B      "
	        "0 B\n");
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "peers", "--json", NULL), 0);
	got = json_loads(out, 0, NULL);
	assert_true(json_is_array(got));
	assert_int_equal(json_array_size(got), 2);
	json_decref(got);
	/* Reals as a person writes them, not the 17 digits of the double. */
	assert_non_null(strstr(out, "\"rtt_ms\": 1.1,\n"));
}

static void test_cli_resolve(void **state)
{
	struct fake *f = *state;
	char *out, *err;

	f->mode = RESOLVE_NOW;
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "resolve", "VENUS", NULL), 0);
	assert_string_equal(out, "name        venus.example.internal\n"
	                         "HIT         2001:2a:aa::1\n"
	                         "owner       2001:2a:aa::1\n"
	                         "seq         7\n"
	                         "expires     in 3540 s\n"
	                         "relays      relay:a1\n");
	f->mode = RESOLVE_REFUSE;
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "resolve", "nobody", NULL), 1);
	assert_string_equal(out, "");
	assert_string_equal(err, "idloc: resolve nobody: not found\n");
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "resolve", "no..body", NULL), 2);
	assert_non_null(strstr(err, "invalid name 'no..body'"));
}

static void test_cli_ping(void **state)
{
	struct fake *f = *state;
	json_t *got, *want;
	char conf[192], *out, *err;
	FILE *fp;

	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "venus", "-c", "3", NULL), 0);
	assert_string_equal(err, "");
	assert_string_equal(
	        out, "PING venus.example.internal (2001:2a:aa::1), LSI 100.64.0.7, path host "
	             "192.0.2.2:10500\n"
	             "reply from venus.example.internal (2001:2a:aa::1): seq=1 time=0.375 ms\n"
	             "reply from venus.example.internal (2001:2a:aa::1): seq=3 time=12.5 ms\n"
	             "--- venus.example.internal ping statistics ---\n"
	             "3 sent, 2 received, 33% loss\n"
	             "rtt min/avg/max = 0.375/6.438/12.500 ms\n");
	assert_string_equal(f->pinged, "venus.example.internal");
	assert_int_equal(f->ping.count, 3);
	assert_int_equal(f->ping.interval_ms, CTL_PING_INTERVAL_DEFAULT);
	assert_int_equal(f->ping.timeout_ms, CTL_PING_TIMEOUT_DEFAULT);

	/* Seconds as ping(8) takes them; options before or after the name. */
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "-i", "0.25", "-W", "2.5",
	                       "mars.example.internal.", NULL),
	                 0);
	assert_string_equal(f->pinged, "mars.example.internal");
	assert_int_equal(f->ping.count, CTL_PING_COUNT_DEFAULT);
	assert_int_equal(f->ping.interval_ms, 250);
	assert_int_equal(f->ping.timeout_ms, 2500);

	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "venus", "--json", NULL), 0);
	got = json_loads(out, 0, NULL);
	want = ping_json("venus.example.internal", true);
	assert_non_null(got);
	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);

	/* The global -c is the config, the command's -c the count. */
	snprintf(conf, sizeof(conf), "%s/idloc.conf", f->dir);
	fp = fopen(conf, "w");
	assert_non_null(fp);
	fprintf(fp, "[peer]\ncontrol = %s\n", f->path);
	fclose(fp);
	assert_int_equal(idloc(f, &out, &err, "-c", conf, "ping", "venus", "-c", "7", NULL), 0);
	assert_int_equal(f->ping.count, 7);
	unlink(conf);

	/* No reply at all: the summary, and exit 1 with a word on stderr. */
	f->ping_mode = PING_SILENT;
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "venus", "-c", "2", NULL), 1);
	assert_string_equal(out, "PING venus.example.internal (2001:2a:aa::1)\n"
	                         "--- venus.example.internal ping statistics ---\n"
	                         "2 sent, 0 received, 100% loss\n");
	assert_string_equal(err, "idloc: ping venus: no reply\n");
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "venus", "--json", NULL), 1);
	assert_non_null(strstr(out, "\"received\": 0"));
	f->ping_mode = PING_NO_PATH;
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "venus", NULL), 1);
	assert_string_equal(out, "");
	assert_string_equal(err, "idloc: ping venus: no path to venus.example.internal\n");

	/* Usage errors never reach the daemon. */
	f->pinged[0] = '\0';
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", NULL), 2);
	assert_non_null(strstr(err, "'ping' needs NAME"));
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "venus", "-c", "0", NULL), 2);
	assert_non_null(strstr(err, "invalid count '0': expected 1 to 1000"));
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "venus", "-c", "1001", NULL),
	                 2);
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "venus", "-c", "3x", NULL), 2);
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "venus", "-c", "-3", NULL), 2);
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "venus", "-i", "0.1", NULL),
	                 2);
	assert_non_null(strstr(err, "invalid interval '0.1': expected 0.2 to 10 seconds"));
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "venus", "-i", "nan", NULL),
	                 2);
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "venus", "-W", "61", NULL), 2);
	assert_non_null(strstr(err, "invalid timeout '61': expected 0.1 to 60 seconds"));
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "venus", "-W", NULL), 2);
	assert_non_null(strstr(err, "option '-W' needs an argument"));
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "ping", "a..b", NULL), 2);
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "status", "-c", "3", NULL), 2);
	assert_non_null(strstr(err, "unknown option '-c' for 'status'"));
	assert_string_equal(f->pinged, "");

	assert_int_equal(idloc(f, &out, &err, "ping", "--help", NULL), 0);
	assert_non_null(strstr(out, "Usage: idloc [-s SOCKET] [-c CONFIG] ping NAME [-c N] "
	                            "[-i SECONDS] [-W SECONDS] [--json]"));
	assert_non_null(strstr(out, "  -c N "));
	assert_int_equal(idloc(f, &out, &err, "--help", NULL), 0);
	assert_non_null(strstr(out, "  ping     NAME  measure the round trip to a peer\n"));
}

static void test_cli_join_leave(void **state)
{
	struct fake *f = *state;
	char *out, *err;

	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "join", NULL), 0);
	assert_string_equal(out, "joined      yes\n");
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "leave", NULL), 1);
	assert_string_equal(err, "idloc: leave: not joined to the overlay\n");
}

static void test_cli_config_and_errors(void **state)
{
	struct fake *f = *state;
	char conf[192], *out, *err;
	FILE *fp;

	snprintf(conf, sizeof(conf), "%s/idloc.conf", f->dir);
	fp = fopen(conf, "w");
	assert_non_null(fp);
	fprintf(fp, "[overlay]\ndomain = example.internal\n[peer]\ncontrol = %s ; here\n", f->path);
	fclose(fp);
	assert_int_equal(idloc(f, &out, &err, "-c", conf, "id", NULL), 0);
	assert_non_null(strstr(out, "mars.example.internal"));

	fp = fopen(conf, "w");
	assert_non_null(fp);
	fprintf(fp, "[peer]\ncontrol = relative/path\n");
	fclose(fp);
	assert_int_equal(idloc(f, &out, &err, "-c", conf, "id", NULL), 1);
	assert_non_null(strstr(err, "[peer] control is not an absolute socket path"));
	unlink(conf);
	assert_int_equal(idloc(f, &out, &err, "-c", conf, "id", NULL), 1);
	assert_non_null(strstr(err, "cannot read"));

	assert_int_equal(idloc(f, &out, &err, "-s", "/nonexistent/idloc.sock", "status", NULL), 1);
	assert_string_equal(err, "idlocd is not running (nothing answers on "
	                         "/nonexistent/idloc.sock): start it with 'idloc up' or "
	                         "'systemctl start idlocd'\n");
	assert_int_equal(idloc(f, &out, &err, NULL), 2);
	assert_int_equal(idloc(f, &out, &err, "status", "extra", NULL), 2);
	assert_int_equal(idloc(f, &out, &err, "--help", NULL), 0);
	assert_non_null(strstr(out, "Usage: idloc"));
	assert_int_equal(idloc(f, &out, &err, "peers", "--help", NULL), 0);
	assert_non_null(strstr(out, "Usage: idloc [-s SOCKET] [-c CONFIG] peers [--json]"));
	assert_int_equal(idloc(f, &out, &err, "--version", NULL), 0);
	assert_non_null(strstr(out, "idloc "));
}

static void test_cli_log(void **state)
{
	struct fake *f = *state;
	struct child ch;
	char *out, *err;
	json_t *got;

	log_msg(LOG_WARNING, "first %d", 1);
	log_msg(LOG_ERR, "second");
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "log", "-n", "1", NULL), 0);
	assert_string_equal(err, "");
	/* "2025-11-21 10:01:02.123 err     second", in local time. */
	assert_int_equal(strlen(out), 24 + 8 + 7);
	assert_int_equal(out[4], '-');
	assert_int_equal(out[19], '.');
	assert_string_equal(out + 23, " err     second\n");
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "log", "--json", NULL), 0);
	got = json_loads(out, 0, NULL);
	assert_true(json_is_array(got));
	assert_int_equal(json_array_size(got), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(got, 0), "msg")),
	                    "first 1");
	json_decref(got);
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "log", "-n", "10001", NULL), 2);
	assert_non_null(strstr(err,
	                       "invalid line count '10001': expected 0 to 10000\n"
	                       "Usage: idloc [-s SOCKET] [-c CONFIG] log [-f] [-n N] [--json]\n"));

	/* -f: the last line, then what comes, until the daemon stops. */
	idloc_bg(f, &ch, "-s", f->path, "log", "-f", "-n", "1", NULL);
	assert_true(run_until(f, one_connection, f));
	spin(f, 200);
	log_msg(LOG_WARNING, "third");
	spin(f, 200);
	ctl_stop(f->ctl);
	f->ctl = NULL;
	assert_int_equal(idloc_wait(f, &ch, &out, &err), 0);
	assert_non_null(strstr(out, " err     second\n"));
	assert_non_null(strstr(out, " warning third\n"));
	assert_null(strstr(out, "first"));
	assert_string_equal(err, "idloc: log: the daemon is shutting down\n");

	/* -f --json: one object per line, events included. */
	assert_int_equal(start(f), 0);
	idloc_bg(f, &ch, "-s", f->path, "log", "-f", "-n", "1", "--json", NULL);
	spin(f, 300);
	ctl_stop(f->ctl);
	f->ctl = NULL;
	assert_int_equal(idloc_wait(f, &ch, &out, &err), 0);
	assert_non_null(strstr(out, "\"msg\":\"third\",\"event\":\"log\"}\n"));
	assert_non_null(strstr(out, "{\"event\":\"end\",\"reason\":\"the daemon is shutting "
	                            "down\"}\n"));
}

static void test_cli_netcheck(void **state)
{
	struct fake *f = *state;
	json_t *got, *want;
	char *out, *err;

	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "netcheck", NULL), 0);
	assert_string_equal(err, "");
	assert_string_equal(
	        out,
	        "NAT         unknown\n"
	        "            only stun.example.org:3478 answered\n"
	        "reflexive   203.0.113.5:40001\n"
	        "local       eth0 192.168.1.20\n"
	        "\n"
	        "STUN SERVER             ADDRESS            MAPPED             RTT      ERROR\n"
	        "stun.example.org:3478   198.51.100.1:3478  203.0.113.5:40001  12.2 ms  -\n"
	        "stun2.example.org:3478  198.51.100.2:3478  -                  -        no "
	        "answer\n"
	        "\n"
	        "RELAY                  ADDRESS            REACHABLE  RTT      ERROR\n"
	        "turn.example.org:3478  198.51.100.3:3478  yes        15.5 ms  -\n");
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "netcheck", "--json", NULL), 0);
	got = json_loads(out, 0, NULL);
	want = netcheck_json();
	assert_true(json_equal(got, want));
	json_decref(got);
	json_decref(want);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_cli_up(void **state)
{
	struct fake *f = *state;
	char conf[192], text[512], *out, *err, *before;
	struct stat st;

	snprintf(conf, sizeof(conf), "%s/idloc.conf", f->dir);
	/* A file idlocd would reject: its own message, file and line. */
	write_file(conf, "[overlay]\ndomain = example.internal\n[peer]\nprot = 1\n");
	assert_int_equal(idloc(f, &out, &err, "up", "-c", conf, "--name", "mars", NULL), 1);
	snprintf(text, sizeof(text), "%s:4: unknown key 'prot' in [peer]\n", conf);
	assert_string_equal(err, text);
	/* Bad values are usage errors, checked with idlocd's rules. */
	assert_int_equal(idloc(f, &out, &err, "up", "-c", conf, "--overlay", "a..b", NULL), 2);
	assert_non_null(strstr(err, "idloc: up: invalid --overlay: [overlay] domain: 'a..b'"));
	assert_int_equal(idloc(f, &out, &err, "up", "-c", conf, "--bootstrap", "1.2.3.4:0", NULL),
	                 2);
	assert_int_equal(idloc(f, &out, &err, "up", "-c", conf, "--bootstrap", "", NULL), 2);
	assert_int_equal(idloc(f, &out, &err, "up", "-c", conf, "--bootstrap", "a;b", NULL), 2);
	assert_int_equal(
	        idloc(f, &out, &err, "up", "--no-bootstrap", "--bootstrap", "1.2.3.4", NULL), 2);
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "up", NULL), 2);
	assert_int_equal(idloc(f, &out, &err, "up", "extra", NULL), 2);
	/* A new file needs the domain; nothing is written without it. */
	unlink(conf);
	assert_int_equal(idloc(f, &out, &err, "up", "-c", conf, "--name", "mars", NULL), 1);
	assert_non_null(strstr(err, ": [overlay] domain is required\n"
	                            "idloc: up: give the overlay's domain with --overlay\n"));
	assert_int_equal(stat(conf, &st), -1);

	/* The daemon runs this config and has joined: nothing to do but
	 * show its status; the file stays as it is. */
	snprintf(text, sizeof(text),
	         "# mine\n[overlay]\ndomain = example.internal\n[peer]\nname = mars\ncontrol = "
	         "%s\n[dns]\nupstream = none\n",
	         f->path);
	write_file(conf, text);
	assert_int_equal(idloc(f, &out, &err, "up", "-c", conf, NULL), 0);
	assert_non_null(strstr(out, "joined      yes\n"));
	assert_int_equal(f->joins, 0);
	before = strdup(text);
	/* The same values, spelled otherwise: still nothing to do. */
	assert_int_equal(idloc(f, &out, &err, "-c", conf, "up", "--overlay", "Example.Internal.",
	                       "--name", "MARS", NULL),
	                 0);
	assert_string_equal(slurp(conf), before);
	/* Not joined: asked to join, then waited for. */
	f->not_joined = true;
	assert_int_equal(idloc(f, &out, &err, "up", "-c", conf, "--json", NULL), 0);
	assert_int_equal(f->joins, 1);
	assert_non_null(strstr(out, "\"joined\": true"));
	assert_string_equal(slurp(conf), before);
	free(before);
	unlink(conf);
}

static void test_cli_down_and_help(void **state)
{
	struct fake *f = *state;
	char *out, *err;

	assert_int_equal(idloc(f, &out, &err, "-s", "/nonexistent/idloc.sock", "down", NULL), 0);
	assert_string_equal(err, "idlocd is not running\n");
	assert_int_equal(idloc(f, &out, &err, "-s", f->path, "down", "--json", NULL), 2);
	assert_non_null(strstr(err, "unknown option '--json' for 'down'"));
	assert_int_equal(idloc(f, &out, &err, "--json", "-s", f->path, "down", NULL), 2);
	assert_non_null(strstr(err, "'down' has no --json"));
	assert_int_equal(idloc(f, &out, &err, "help", NULL), 0);
	assert_non_null(strstr(out, "  netcheck       NAT type, reflexive address, relays\n"));
	assert_non_null(strstr(out, "  up             configure, start and join the overlay\n"));
	assert_int_equal(idloc(f, &out, &err, "help", "up", NULL), 0);
	assert_non_null(strstr(out, "Usage: idloc up [--overlay DOMAIN] [--name NAME] [--bootstrap "
	                            "ADDR]... [--no-bootstrap] [-c CONFIG] [--json]\n"));
	assert_int_equal(idloc(f, &out, &err, "help", "nope", NULL), 2);
	assert_int_equal(idloc(f, &out, &err, "frob", NULL), 2);
	assert_string_equal(err, "idloc: unknown command 'frob'\n"
	                         "Usage: idloc [-s SOCKET] [-c CONFIG] COMMAND [ARGS] [--json]\n"
	                         "Try 'idloc --help'.\n");
	assert_int_equal(idloc(f, &out, &err, "status", "-x", NULL), 2);
	assert_string_equal(err, "idloc: unknown option '-x' for 'status'\n"
	                         "Usage: idloc [-s SOCKET] [-c CONFIG] status [--json]\n"
	                         "Try 'idloc status --help'.\n");
	assert_int_equal(idloc(f, &out, &err, "-s", "/nonexistent/idloc.sock", "log", "-f", NULL),
	                 1);
	assert_non_null(strstr(err, "idlocd is not running"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_socket_file, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_stale_and_busy_path, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_status, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_bad_requests, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_resolve_async, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_early_disconnect, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_timeout, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_ping_async, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_busy, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_join_leave_rights, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_missing_handler, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_stop_with_pending, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_stop_in_handler, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_cli_status, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_cli_peers, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_cli_resolve, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_cli_ping, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_cli_join_leave, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_cli_config_and_errors, setup_started,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_shutdown, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_log_lines, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_log_follow, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_log_slow_reader, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_cli_log, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_cli_netcheck, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_cli_up, setup_started, teardown),
	        cmocka_unit_test_setup_teardown(test_cli_down_and_help, setup_started, teardown),
	};

	/* No SIGPIPE handling here: ctl_start must take care of it. */
	log_set_level(LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
