/* SPDX-License-Identifier: MIT */
/* test_dnsconf.c: system DNS integration: the resolv.conf text, the resolv.conf path on files of
 * the test's own, and the systemd-resolved path against a private dbus-daemon and a fake resolved.
 *
 * Nothing here touches /etc/resolv.conf or the host's system bus: every test
 * points dnsconf at a file in its scratch directory and DBUS_SYSTEM_BUS_ADDRESS
 * at a bus the test started (or at a socket that does not exist). The fake
 * resolved is this program run again with --fake-resolved: a GDBus service
 * that owns org.freedesktop.resolve1 on the private bus and appends every call
 * it gets, one line each, to a file. --crash-run configures resolv.conf and
 * dies by SIGKILL, for the crash recovery test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "daemon/dnsconf.h"

#define IFINDEX     7
#define RESOLVER    0x64400035u /* 100.64.0.53 */
#define DOMAIN      "example.internal"
#define DBUS_DAEMON "/usr/bin/dbus-daemon"
#define ORIGINAL    "# from DHCP\nsearch lan\nnameserver 192.0.2.1\noptions edns0\n"

/* ---- helpers ---- */

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 70000);
	size_t n;

	assert_non_null(buf);
	if (!f) {
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, 69999, f);
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static void write_all(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static void assert_file(const char *path, const char *want)
{
	char *got = read_all(path, NULL);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* argv[0] is run with fd `fd3` as its descriptor 3 (when >= 0). */
static pid_t spawn(const char *const argv[], int fd3)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r;

	posix_spawn_file_actions_init(&fa);
	if (fd3 >= 0)
		posix_spawn_file_actions_adddup2(&fa, fd3, 3);
	r = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(r, 0);
	return pid;
}

/* Reads what the child writes to its descriptor 3 until it closes it. */
static void wait_ready(int rfd, char *buf, size_t size)
{
	struct pollfd p = {.fd = rfd, .events = POLLIN};
	size_t n = 0;

	for (;;) {
		ssize_t k;

		assert_int_equal(poll(&p, 1, 10000), 1);
		k = read(rfd, buf + n, size - 1 - n);
		assert_true(k >= 0);
		if (k == 0)
			break;
		n += (size_t)k;
		if (memchr(buf, '\n', n))
			break;
	}
	buf[n] = '\0';
	close(rfd);
}

static void stop_child(pid_t pid)
{
	int st;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

/* ---- fixture: scratch directory, libuv loop, optional private bus ---- */

struct fx {
	char dir[64];
	char resolv[128];
	char state[128];
	char backup[160];
	char calls[128];
	char bus_addr[160];
	pid_t bus_pid;
	pid_t fake_pid;
	uv_loop_t loop;
	uv_timer_t tick;
	struct dnsconf *dc;
};

static const char *self_exe;

static void on_tick(uv_timer_t *t)
{
	(void)t;
}

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_dnsconf.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->resolv, sizeof(f->resolv), "%s/resolv.conf", f->dir);
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	snprintf(f->backup, sizeof(f->backup), "%s/state/" DNSCONF_BACKUP_NAME, f->dir);
	snprintf(f->calls, sizeof(f->calls), "%s/calls", f->dir);
	assert_int_equal(mkdir(f->state, 0700), 0);
	write_all(f->resolv, ORIGINAL);
	/* No bus unless the test starts one. */
	snprintf(f->bus_addr, sizeof(f->bus_addr), "unix:path=%s/no-bus", f->dir);
	setenv("DBUS_SYSTEM_BUS_ADDRESS", f->bus_addr, 1);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	uv_timer_init(&f->loop, &f->tick);
	uv_timer_start(&f->tick, on_tick, 10, 10);
}

static void fx_start_bus(struct fx *f)
{
	char addr_arg[200];
	/* Through --exec, so the bus dies with this process whatever happens. */
	const char *argv[] = {self_exe,   "--exec", DBUS_DAEMON,         "--session",
	                      "--nofork", addr_arg, "--print-address=3", NULL};
	char printed[256];
	int p[2];

	snprintf(f->bus_addr, sizeof(f->bus_addr), "unix:path=%s/bus", f->dir);
	snprintf(addr_arg, sizeof(addr_arg), "--address=%s", f->bus_addr);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	f->bus_pid = spawn(argv, p[1]);
	close(p[1]);
	wait_ready(p[0], printed, sizeof(printed));
	assert_non_null(strstr(printed, f->bus_addr));
	setenv("DBUS_SYSTEM_BUS_ADDRESS", f->bus_addr, 1);
}

/* behaviour: "normal", "deny" (SetLinkDNS answers AccessDenied) or "old"
 * (no SetLinkDefaultRoute, no SetLinkDNSOverTLS: systemd 237). */
static void fx_start_fake(struct fx *f, const char *calls, const char *behaviour)
{
	const char *argv[] = {self_exe, "--fake-resolved", f->bus_addr, calls, behaviour, NULL};
	char ready[64];
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	f->fake_pid = spawn(argv, p[1]);
	close(p[1]);
	wait_ready(p[0], ready, sizeof(ready));
	assert_string_equal(ready, "ready\n");
}

static void fx_stop_fake(struct fx *f)
{
	stop_child(f->fake_pid);
	f->fake_pid = 0;
}

static void fx_config(struct fx *f, struct dnsconf_config *c, enum config_dns_configure mode)
{
	*c = (struct dnsconf_config){
	        .mode = mode,
	        .ifindex = IFINDEX,
	        .ifname = "idl-test",
	        .resolver = RESOLVER,
	        .domain = DOMAIN,
	        .resolv_conf = f->resolv,
	        .state_dir = f->state,
	};
}

static void fx_dnsconf(struct fx *f, enum config_dns_configure mode)
{
	struct dnsconf_config c;

	fx_config(f, &c, mode);
	assert_int_equal(dnsconf_open(&c, &f->dc), 0);
	assert_non_null(f->dc);
	assert_int_equal(dnsconf_start(f->dc, &f->loop), 0);
}

/* Runs the loop until dnsconf's status is want (at most 10 s). */
static void fx_wait_status(struct fx *f, const char *want)
{
	uint64_t end = uv_now(&f->loop) + 10000;

	while (strcmp(dnsconf_status(f->dc), want) != 0 && uv_now(&f->loop) < end)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_string_equal(dnsconf_status(f->dc), want);
}

/* Runs the loop for ms milliseconds. */
static void fx_run(struct fx *f, uint64_t ms)
{
	uint64_t end;

	uv_update_time(&f->loop);
	end = uv_now(&f->loop) + ms;
	while (uv_now(&f->loop) < end)
		uv_run(&f->loop, UV_RUN_ONCE);
}

static void fx_done(struct fx *f)
{
	char cmd[128];

	/* Before the bus and the fake go: RevertLink is checked against them. */
	dnsconf_stop(f->dc);
	f->dc = NULL;
	uv_close((uv_handle_t *)&f->tick, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	fx_stop_fake(f);
	stop_child(f->bus_pid);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
}

/* cmocka runs the teardown after a failed test too: no child outlives it. */
static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	fx_init(f);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	fx_done(f);
	free(f);
	return 0;
}

static const char *inserted(const struct fx *f)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf),
	         DNSCONF_MARKER_START " for " DOMAIN ", removed when it stops; backup: %s\n"
	                              "nameserver 100.64.0.53\n" ORIGINAL,
	         f->backup);
	return buf;
}

/* ---- the text ---- */

static void test_insert_strip_roundtrip(void **state)
{
	const char *texts[] = {"",
	                       "nameserver 1.1.1.1\n",
	                       "nameserver 1.1.1.1",
	                       "\n\n",
	                       ORIGINAL,
	                       "nameserver 1.1.1.1\r\noptions rotate\r\n"};
	const char *backup = "/var/lib/idloc/" DNSCONF_BACKUP_NAME;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *in, *out;
		size_t in_len, out_len;

		assert_int_equal(dnsconf_resolv_insert(texts[i], strlen(texts[i]), RESOLVER, DOMAIN,
		                                       backup, &in, &in_len),
		                 0);
		assert_int_equal(strlen(in), in_len);
		assert_true(strncmp(in,
		                    "# added by idlocd for example.internal, removed when it "
		                    "stops; backup: /var/lib/idloc/resolv.conf.backup\n"
		                    "nameserver 100.64.0.53\n",
		                    in_len - strlen(texts[i])) == 0);
		assert_string_equal(in + in_len - strlen(texts[i]), texts[i]);
		assert_int_equal(dnsconf_resolv_strip(in, in_len, backup, &out, &out_len), 1);
		assert_int_equal(out_len, strlen(texts[i]));
		assert_memory_equal(out, texts[i], out_len);
		free(in);
		free(out);
	}
}

static void strip_case(const char *text, const char *backup, int removed, const char *want)
{
	char *out;
	size_t len;

	assert_int_equal(dnsconf_resolv_strip(text, strlen(text), backup, &out, &len), removed);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
}

static void test_strip_cases(void **state)
{
	const char *b = "/s/" DNSCONF_BACKUP_NAME;

	(void)state;
	/* Another instance's line (its own backup path) stays. */
	strip_case(
	        "# added by idlocd for a.b, removed when it stops; backup: /t/resolv.conf.backup\n"
	        "nameserver 100.64.0.53\nnameserver 1.1.1.1\n",
	        b, 0,
	        "# added by idlocd for a.b, removed when it stops; backup: /t/resolv.conf.backup\n"
	        "nameserver 100.64.0.53\nnameserver 1.1.1.1\n");
	/* Two of ours (different resolvers, different domains): both go. */
	strip_case(
	        "# added by idlocd for a.b, removed when it stops; backup: /s/resolv.conf.backup\n"
	        "nameserver 10.0.0.53\n"
	        "# added by idlocd for c.d, removed when it stops; backup: /s/resolv.conf.backup\n"
	        "nameserver 100.64.0.53\nnameserver 1.1.1.1\n",
	        b, 2, "nameserver 1.1.1.1\n");
	/* The marker alone at the end, without a newline. */
	strip_case(
	        "nameserver 1.1.1.1\n"
	        "# added by idlocd for a.b, removed when it stops; backup: /s/resolv.conf.backup",
	        b, 1, "nameserver 1.1.1.1\n");
	/* Someone put a line of theirs right after the marker: it stays. */
	strip_case(
	        "# added by idlocd for a.b, removed when it stops; backup: /s/resolv.conf.backup\n"
	        "search lan\nnameserver 1.1.1.1\n",
	        b, 1, "search lan\nnameserver 1.1.1.1\n");
	/* Look-alikes are not ours. */
	strip_case(
	        "# added by idlocd for a.b; backup: /s/resolv.conf.backup.old\n"
	        "#added by idlocd for a.b, removed when it stops; backup: /s/resolv.conf.backup\n"
	        "nameserverx 1\n",
	        b, 0,
	        "# added by idlocd for a.b; backup: /s/resolv.conf.backup.old\n"
	        "#added by idlocd for a.b, removed when it stops; backup: /s/resolv.conf.backup\n"
	        "nameserverx 1\n");
	strip_case("", b, 0, "");
}

static void test_insert_bad(void **state)
{
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(
	        dnsconf_resolv_insert("", 0, RESOLVER, "a\nnameserver 1.2.3.4", "/b", &out, &len),
	        -EINVAL);
	assert_int_equal(dnsconf_resolv_insert("", 0, RESOLVER, DOMAIN, "/b\n", &out, &len),
	                 -EINVAL);
	assert_int_equal(dnsconf_resolv_insert(NULL, 3, RESOLVER, DOMAIN, "/b", &out, &len),
	                 -EINVAL);
	assert_int_equal(dnsconf_resolv_strip(NULL, 3, "/b", &out, &len), -EINVAL);
}

static void test_bad_config(void **state)
{
	struct fx *f = *state;
	struct dnsconf_config c;
	struct dnsconf *dc = (struct dnsconf *)&c;

	fx_config(f, &c, CONFIG_DNS_CONFIGURE_AUTO);
	c.ifindex = 0;
	assert_int_equal(dnsconf_open(&c, &dc), -EINVAL);
	assert_null(dc);
	fx_config(f, &c, CONFIG_DNS_CONFIGURE_AUTO);
	c.state_dir = "relative/state";
	assert_int_equal(dnsconf_open(&c, &dc), -EINVAL);
	fx_config(f, &c, CONFIG_DNS_CONFIGURE_AUTO);
	c.domain = "";
	assert_int_equal(dnsconf_open(&c, &dc), -EINVAL);
	fx_config(f, &c, CONFIG_DNS_CONFIGURE_RESOLVED);
	assert_int_equal(dnsconf_open(&c, &dc), 0);
	assert_int_equal(dnsconf_start(dc, NULL), -EINVAL);
	dnsconf_stop(dc);
	assert_int_equal(dnsconf_start(NULL, &f->loop), -EINVAL);
	assert_string_equal(dnsconf_status(NULL), "none");
	assert_file(f->resolv, ORIGINAL);
}

/* The error paths of the daemon's startup stop it between the two halves. */
static void test_open_without_start(void **state)
{
	struct fx *f = *state;
	struct dnsconf_config c;

	fx_config(f, &c, CONFIG_DNS_CONFIGURE_AUTO);
	assert_int_equal(dnsconf_open(&c, &f->dc), 0);
	assert_string_equal(dnsconf_status(f->dc), "none");
	assert_file(f->resolv, ORIGINAL);
	dnsconf_stop(f->dc);
	f->dc = NULL;
	assert_file(f->resolv, ORIGINAL);
	assert_false(exists(f->backup));
	/* Once started, not again. */
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_AUTO);
	assert_int_equal(dnsconf_start(f->dc, &f->loop), -EINVAL);
	assert_string_equal(dnsconf_status(f->dc), "resolv.conf");
}

/* What cannot be opened at dnsconf_open (read-only /etc under systemd's
 * ProtectSystem=, a directory here) is reported at start, nothing changed. */
static void test_file_not_openable(void **state)
{
	struct fx *f = *state;
	char want[200];

	assert_int_equal(unlink(f->resolv), 0);
	assert_int_equal(mkdir(f->resolv, 0755), 0);
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_AUTO);
	snprintf(want, sizeof(want), "error: %s: Is a directory", f->resolv);
	assert_string_equal(dnsconf_status(f->dc), want);
	assert_false(exists(f->backup));
}

/* ---- resolv.conf path ---- */

static void test_file_auto_without_bus(void **state)
{
	struct fx *f = *state;
	struct stat before, after;

	assert_int_equal(stat(f->resolv, &before), 0);
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_AUTO);
	assert_string_equal(dnsconf_status(f->dc), "resolv.conf");
	assert_file(f->resolv, inserted(f));
	assert_file(f->backup, ORIGINAL);
	/* Written in place: bind mounts and the kept descriptor need that. */
	assert_int_equal(stat(f->resolv, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	fx_run(f, 50);
	dnsconf_stop(f->dc);
	f->dc = NULL;
	assert_file(f->resolv, ORIGINAL);
	assert_false(exists(f->backup));
}

static void test_file_keeps_others_changes(void **state)
{
	struct fx *f = *state;
	FILE *a;

	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_AUTO);
	a = fopen(f->resolv, "a");
	assert_non_null(a);
	fputs("nameserver 198.51.100.7\n", a);
	fclose(a);
	dnsconf_stop(f->dc);
	f->dc = NULL;
	assert_file(f->resolv, ORIGINAL "nameserver 198.51.100.7\n");
	assert_false(exists(f->backup));
}

static void test_file_replaced_by_other(void **state)
{
	struct fx *f = *state;
	char tmp[160];

	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_AUTO);
	/* NetworkManager's way: a new file renamed over the old one. */
	snprintf(tmp, sizeof(tmp), "%s.nm", f->resolv);
	write_all(tmp, "nameserver 203.0.113.9\n");
	assert_int_equal(rename(tmp, f->resolv), 0);
	dnsconf_stop(f->dc);
	f->dc = NULL;
	assert_file(f->resolv, "nameserver 203.0.113.9\n");
	assert_false(exists(f->backup));
}

static void test_file_through_symlink(void **state)
{
	struct fx *f = *state;
	char real[160];
	struct stat st;

	/* resolvconf's or NetworkManager's layout: the link stays a link. */
	snprintf(real, sizeof(real), "%s/real-resolv.conf", f->dir);
	assert_int_equal(rename(f->resolv, real), 0);
	assert_int_equal(symlink("real-resolv.conf", f->resolv), 0);
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_AUTO);
	assert_string_equal(dnsconf_status(f->dc), "resolv.conf");
	assert_int_equal(lstat(f->resolv, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_file(real, inserted(f));
	dnsconf_stop(f->dc);
	f->dc = NULL;
	assert_int_equal(lstat(f->resolv, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_file(real, ORIGINAL);
}

static void test_file_missing(void **state)
{
	struct fx *f = *state;

	assert_int_equal(unlink(f->resolv), 0);
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_AUTO);
	assert_non_null(strstr(dnsconf_status(f->dc), "error: "));
	assert_non_null(strstr(dnsconf_status(f->dc), "No such file"));
	assert_false(exists(f->resolv));
	assert_false(exists(f->backup));
}

static void test_file_unwritable_backup(void **state)
{
	struct fx *f = *state;
	char cmd[200];

	/* A directory where the backup should go: no backup, no change. */
	assert_int_equal(mkdir(f->backup, 0700), 0);
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_AUTO);
	assert_non_null(strstr(dnsconf_status(f->dc), "error: cannot write the backup"));
	assert_file(f->resolv, ORIGINAL);
	dnsconf_stop(f->dc);
	f->dc = NULL;
	assert_file(f->resolv, ORIGINAL);
	snprintf(cmd, sizeof(cmd), "rmdir '%s'", f->backup);
	assert_int_equal(system(cmd), 0);
}

static void test_none_leaves_file(void **state)
{
	struct fx *f = *state;

	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_NONE);
	assert_string_equal(dnsconf_status(f->dc), "none");
	assert_file(f->resolv, ORIGINAL);
	assert_false(exists(f->backup));
}

/* What a crashed run leaves: our lines and the backup. */
static void leave_crash(struct fx *f)
{
	write_all(f->resolv, inserted(f));
	write_all(f->backup, ORIGINAL);
}

static void test_recovery_at_start(void **state)
{
	struct fx *f = *state;

	leave_crash(f);
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_AUTO);
	assert_file(f->resolv, inserted(f)); /* one marker, not two */
	assert_file(f->backup, ORIGINAL);
	dnsconf_stop(f->dc);
	f->dc = NULL;
	assert_file(f->resolv, ORIGINAL);
	assert_false(exists(f->backup));
}

static void test_recovery_in_none_mode(void **state)
{
	struct fx *f = *state;

	leave_crash(f);
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_NONE);
	assert_file(f->resolv, ORIGINAL);
	assert_false(exists(f->backup));
}

static void test_cleanup_direct(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dnsconf_cleanup(f->resolv, f->state), 0);
	leave_crash(f);
	assert_int_equal(dnsconf_cleanup(f->resolv, f->state), 1);
	assert_file(f->resolv, ORIGINAL);
	assert_false(exists(f->backup));
	assert_int_equal(dnsconf_cleanup(f->resolv, f->state), 0);
	/* A stale backup without our line (the file was rewritten): just goes. */
	write_all(f->backup, "old\n");
	assert_int_equal(dnsconf_cleanup(f->resolv, f->state), 0);
	assert_false(exists(f->backup));
	assert_file(f->resolv, ORIGINAL);
	assert_int_equal(dnsconf_cleanup(f->resolv, "relative"), -EINVAL);
}

static void test_recovery_after_kill9(void **state)
{
	struct fx *f = *state;
	const char *argv[] = {self_exe, "--crash-run", f->resolv, f->state, NULL};
	pid_t pid;
	int st;
	char *text;

	pid = spawn(argv, -1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_file(f->resolv, inserted(f));
	assert_file(f->backup, ORIGINAL);
	/* Killed again while configured, then a clean run. */
	pid = spawn(argv, -1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_AUTO);
	text = read_all(f->resolv, NULL);
	assert_int_equal(count(text, DNSCONF_MARKER_START), 1);
	assert_int_equal(count(text, "nameserver 100.64.0.53"), 1);
	free(text);
	dnsconf_stop(f->dc);
	f->dc = NULL;
	assert_file(f->resolv, ORIGINAL);
	assert_false(exists(f->backup));
}

/* Debian's layout with resolved installed but not running, no bus at all. */
static void test_resolved_link_without_bus(void **state)
{
	const char *targets[] = {"../../run/systemd/resolve/stub-resolv.conf",
	                         "/run/systemd/resolve/resolv.conf",
	                         "/var/run/systemd/resolve/stub-resolv.conf"};

	(void)state;
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct fx f;
		char link[160];

		fx_init(&f);
		assert_int_equal(unlink(f.resolv), 0);
		assert_int_equal(symlink(targets[i], f.resolv), 0);
		fx_dnsconf(&f, CONFIG_DNS_CONFIGURE_AUTO);
		assert_non_null(strstr(dnsconf_status(f.dc), "error: no system bus"));
		assert_int_equal(readlink(f.resolv, link, sizeof(link)), strlen(targets[i]));
		assert_false(exists(f.backup));
		fx_done(&f);
	}
}

/* ---- systemd-resolved path ---- */

static bool have_dbus(void)
{
	return access(DBUS_DAEMON, X_OK) == 0;
}

#define APPLIED                                \
	"SetLinkDefaultRoute 7 false\n"        \
	"SetLinkDomains 7 ~example.internal\n" \
	"SetLinkDNS 7 AF_INET:100.64.0.53\n"   \
	"SetLinkLLMNR 7 no\n"                  \
	"SetLinkMulticastDNS 7 no\n"           \
	"SetLinkDNSSEC 7 no\n"                 \
	"SetLinkDNSOverTLS 7 no\n"

static void test_resolved_apply_restart_revert(void **state)
{
	struct fx *f = *state;
	char calls2[160];

	if (!have_dbus())
		skip();
	fx_start_bus(f);
	fx_start_fake(f, f->calls, "normal");
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_RESOLVED);
	fx_wait_status(f, "resolved");
	assert_file(f->calls, APPLIED);

	/* resolved restarts: the link is configured again, on the new one. */
	fx_stop_fake(f);
	fx_wait_status(f, "waiting for systemd-resolved");
	snprintf(calls2, sizeof(calls2), "%s/calls2", f->dir);
	fx_start_fake(f, calls2, "normal");
	fx_wait_status(f, "resolved");
	assert_file(calls2, APPLIED);
	assert_file(f->calls, APPLIED);

	dnsconf_stop(f->dc); /* synchronous: the fake has it when this returns */
	f->dc = NULL;
	assert_file(calls2, APPLIED "RevertLink 7\n");
	assert_file(f->resolv, ORIGINAL);
	assert_false(exists(f->backup));
}

static void test_resolved_auto_detects(void **state)
{
	struct fx *f = *state;

	if (!have_dbus())
		skip();
	fx_start_bus(f);
	fx_start_fake(f, f->calls, "normal");
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_AUTO);
	fx_wait_status(f, "resolved");
	assert_file(f->calls, APPLIED);
	assert_file(f->resolv, ORIGINAL);
	dnsconf_stop(f->dc);
	f->dc = NULL;
	assert_file(f->calls, APPLIED "RevertLink 7\n");
}

/* A bus without resolved: auto falls back to resolv.conf at once and stays
 * there, even when resolved shows up later. */
static void test_auto_bus_without_resolved(void **state)
{
	struct fx *f = *state;

	if (!have_dbus())
		skip();
	fx_start_bus(f);
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_AUTO);
	assert_string_equal(dnsconf_status(f->dc), "resolv.conf");
	assert_file(f->resolv, inserted(f));
	fx_start_fake(f, f->calls, "normal");
	fx_run(f, 300);
	assert_string_equal(dnsconf_status(f->dc), "resolv.conf");
	assert_false(exists(f->calls));
	dnsconf_stop(f->dc);
	f->dc = NULL;
	assert_file(f->resolv, ORIGINAL);
}

/* resolv.conf is resolved's, resolved is not running yet: wait for it, leave
 * the file alone, configure resolved when it appears. */
static void test_auto_resolved_link_waits(void **state)
{
	struct fx *f = *state;

	if (!have_dbus())
		skip();
	assert_int_equal(unlink(f->resolv), 0);
	assert_int_equal(symlink("/run/systemd/resolve/stub-resolv.conf", f->resolv), 0);
	fx_start_bus(f);
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_AUTO);
	fx_wait_status(f, "waiting for systemd-resolved");
	fx_start_fake(f, f->calls, "normal");
	fx_wait_status(f, "resolved");
	assert_file(f->calls, APPLIED);
	assert_false(exists(f->backup));
}

static void test_resolved_forced_waits(void **state)
{
	struct fx *f = *state;

	if (!have_dbus())
		skip();
	fx_start_bus(f);
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_RESOLVED);
	fx_wait_status(f, "waiting for systemd-resolved");
	assert_file(f->resolv, ORIGINAL);
	fx_start_fake(f, f->calls, "normal");
	fx_wait_status(f, "resolved");
	assert_file(f->calls, APPLIED);
}

static void test_resolved_denied(void **state)
{
	struct fx *f = *state;
	const char *s;

	if (!have_dbus())
		skip();
	fx_start_bus(f);
	fx_start_fake(f, f->calls, "deny");
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_RESOLVED);
	fx_wait_status(f, "error: systemd-resolved refused SetLinkDNS on idl-test: Permission "
	                  "denied (idlocd needs root or the polkit rule of its package)");
	fx_run(f, 100);
	s = "SetLinkDefaultRoute 7 false\n"
	    "SetLinkDomains 7 ~example.internal\n"
	    "SetLinkDNS 7 AF_INET:100.64.0.53\n";
	assert_file(f->calls, s); /* nothing after the refused call */
	dnsconf_stop(f->dc);
	f->dc = NULL;
	{
		char want[256];

		snprintf(want, sizeof(want), "%sRevertLink 7\n", s);
		assert_file(f->calls, want);
	}
}

static void test_resolved_old(void **state)
{
	struct fx *f = *state;

	if (!have_dbus())
		skip();
	fx_start_bus(f);
	fx_start_fake(f, f->calls, "old");
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_RESOLVED);
	fx_wait_status(f, "resolved");
	assert_file(f->calls, "SetLinkDomains 7 ~example.internal\n"
	                      "SetLinkDNS 7 AF_INET:100.64.0.53\n"
	                      "SetLinkLLMNR 7 no\n"
	                      "SetLinkMulticastDNS 7 no\n"
	                      "SetLinkDNSSEC 7 no\n");
}

static void test_resolved_without_bus(void **state)
{
	struct fx *f = *state;

	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_RESOLVED);
	assert_non_null(strstr(dnsconf_status(f->dc), "error: no system bus"));
	fx_run(f, 50);
	assert_file(f->resolv, ORIGINAL);
	assert_false(exists(f->backup));
}

/* The bus itself goes away: reported, and stop still works. */
static void test_resolved_bus_lost(void **state)
{
	struct fx *f = *state;

	if (!have_dbus())
		skip();
	fx_start_bus(f);
	fx_start_fake(f, f->calls, "normal");
	fx_dnsconf(f, CONFIG_DNS_CONFIGURE_RESOLVED);
	fx_wait_status(f, "resolved");
	fx_stop_fake(f);
	stop_child(f->bus_pid);
	f->bus_pid = 0;
	fx_wait_status(f, "error: lost the connection to the system bus");
}

/* ---- the fake resolved and the crashing run (child processes) ---- */

struct fake {
	const char *calls;
	bool deny;
};

static void fake_record(const struct fake *fk, const char *line)
{
	int fd = open(fk->calls, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		abort();
	close(fd);
}

static void fake_call(GDBusConnection *c, const gchar *sender, const gchar *path,
                      const gchar *iface, const gchar *method, GVariant *params,
                      GDBusMethodInvocation *inv, gpointer data)
{
	struct fake *fk = data;
	GString *line = g_string_new(method);
	gint32 ifindex;

	(void)c;
	(void)sender;
	(void)path;
	(void)iface;
	g_variant_get_child(params, 0, "i", &ifindex);
	g_string_append_printf(line, " %d", ifindex);
	if (strcmp(method, "SetLinkDNS") == 0) {
		GVariant *arr = g_variant_get_child_value(params, 1), *bytes;
		GVariantIter it;
		gint32 family;

		g_variant_iter_init(&it, arr);
		while (g_variant_iter_next(&it, "(i@ay)", &family, &bytes)) {
			gsize n;
			const void *a = g_variant_get_fixed_array(bytes, &n, 1);
			char s[INET6_ADDRSTRLEN] = "?";

			if ((family == AF_INET && n == 4) || (family == AF_INET6 && n == 16))
				inet_ntop(family, a, s, sizeof(s));
			g_string_append_printf(line, " %s:%s",
			                       family == AF_INET ? "AF_INET" : "other", s);
			g_variant_unref(bytes);
		}
		g_variant_unref(arr);
	} else if (strcmp(method, "SetLinkDomains") == 0) {
		GVariantIter *it;
		const gchar *d;
		gboolean routing;

		g_variant_get_child(params, 1, "a(sb)", &it);
		while (g_variant_iter_next(it, "(&sb)", &d, &routing))
			g_string_append_printf(line, " %s%s", routing ? "~" : "", d);
		g_variant_iter_free(it);
	} else if (strcmp(method, "SetLinkDefaultRoute") == 0) {
		gboolean b;

		g_variant_get_child(params, 1, "b", &b);
		g_string_append(line, b ? " true" : " false");
	} else if (strcmp(method, "RevertLink") != 0) {
		const gchar *s;

		g_variant_get_child(params, 1, "&s", &s);
		g_string_append_printf(line, " %s", s);
	}
	g_string_append_c(line, '\n');
	fake_record(fk, line->str);
	g_string_free(line, TRUE);
	if (fk->deny && strcmp(method, "SetLinkDNS") == 0)
		g_dbus_method_invocation_return_dbus_error(
		        inv, "org.freedesktop.DBus.Error.AccessDenied", "Permission denied");
	else
		g_dbus_method_invocation_return_value(inv, NULL);
}

static void fake_acquired(GDBusConnection *c, const gchar *name, gpointer data)
{
	(void)c;
	(void)name;
	(void)data;
	if (write(3, "ready\n", 6) != 6)
		abort();
	close(3);
}

static void fake_lost(GDBusConnection *c, const gchar *name, gpointer data)
{
	(void)c;
	(void)name;
	(void)data;
	exit(3);
}

static int fake_resolved(const char *address, const char *calls, const char *behaviour)
{
	static const GDBusInterfaceVTable vtable = {.method_call = fake_call};
	bool old = strcmp(behaviour, "old") == 0;
	struct fake fk = {.calls = calls, .deny = strcmp(behaviour, "deny") == 0};
	char xml[2048];
	GDBusConnection *c;
	GDBusNodeInfo *node;
	GError *err = NULL;

	snprintf(xml, sizeof(xml),
	         "<node><interface name='org.freedesktop.resolve1.Manager'>"
	         "<method name='SetLinkDNS'><arg type='i'/><arg type='a(iay)'/></method>"
	         "<method name='SetLinkDomains'><arg type='i'/><arg type='a(sb)'/></method>"
	         "%s"
	         "<method name='SetLinkLLMNR'><arg type='i'/><arg type='s'/></method>"
	         "<method name='SetLinkMulticastDNS'><arg type='i'/><arg type='s'/></method>"
	         "<method name='SetLinkDNSSEC'><arg type='i'/><arg type='s'/></method>"
	         "%s"
	         "<method name='RevertLink'><arg type='i'/></method>"
	         "</interface></node>",
	         old ? ""
	             : "<method name='SetLinkDefaultRoute'><arg type='i'/><arg type='b'/></method>",
	         old ? ""
	             : "<method name='SetLinkDNSOverTLS'><arg type='i'/><arg type='s'/></method>");
	node = g_dbus_node_info_new_for_xml(xml, &err);
	if (!node)
		return 2;
	c = g_dbus_connection_new_for_address_sync(
	        address,
	        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
	                G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
	        NULL, NULL, &err);
	if (!c)
		return 2;
	if (!g_dbus_connection_register_object(c, "/org/freedesktop/resolve1", node->interfaces[0],
	                                       &vtable, &fk, NULL, &err))
		return 2;
	g_bus_own_name_on_connection(c, "org.freedesktop.resolve1", G_BUS_NAME_OWNER_FLAGS_NONE,
	                             fake_acquired, fake_lost, NULL, NULL);
	g_main_loop_run(g_main_loop_new(NULL, FALSE));
	return 0;
}

/* Configures resolv.conf like idlocd would, then dies without cleaning up. */
static int crash_run(const char *resolv, const char *state_dir)
{
	struct dnsconf_config c = {
	        .mode = CONFIG_DNS_CONFIGURE_AUTO,
	        .ifindex = IFINDEX,
	        .ifname = "idl-test",
	        .resolver = RESOLVER,
	        .domain = DOMAIN,
	        .resolv_conf = resolv,
	        .state_dir = state_dir,
	};
	struct dnsconf *dc;
	uv_loop_t loop;

	if (uv_loop_init(&loop) < 0 || dnsconf_open(&c, &dc) < 0 || dnsconf_start(dc, &loop) < 0 ||
	    strcmp(dnsconf_status(dc), "resolv.conf") != 0)
		return 2;
	raise(SIGKILL);
	return 2;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_insert_strip_roundtrip),
	        cmocka_unit_test(test_strip_cases),
	        cmocka_unit_test(test_insert_bad),
	        cmocka_unit_test_setup_teardown(test_bad_config, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_open_without_start, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_file_not_openable, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_file_auto_without_bus, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_file_keeps_others_changes, fx_setup,
	                                        fx_teardown),
	        cmocka_unit_test_setup_teardown(test_file_replaced_by_other, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_file_through_symlink, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_file_missing, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_file_unwritable_backup, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_none_leaves_file, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_recovery_at_start, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_recovery_in_none_mode, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_cleanup_direct, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_recovery_after_kill9, fx_setup, fx_teardown),
	        cmocka_unit_test(test_resolved_link_without_bus),
	        cmocka_unit_test_setup_teardown(test_resolved_apply_restart_revert, fx_setup,
	                                        fx_teardown),
	        cmocka_unit_test_setup_teardown(test_resolved_auto_detects, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_auto_bus_without_resolved, fx_setup,
	                                        fx_teardown),
	        cmocka_unit_test_setup_teardown(test_auto_resolved_link_waits, fx_setup,
	                                        fx_teardown),
	        cmocka_unit_test_setup_teardown(test_resolved_forced_waits, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_resolved_denied, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_resolved_old, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_resolved_without_bus, fx_setup, fx_teardown),
	        cmocka_unit_test_setup_teardown(test_resolved_bus_lost, fx_setup, fx_teardown),
	};

	static char exe[4096];
	ssize_t n;

	/* Children die with the test, even when it crashes. */
	if (argc >= 3 && strcmp(argv[1], "--exec") == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[2], argv + 2);
		return 127;
	}
	if (argc == 5 && strcmp(argv[1], "--fake-resolved") == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		return fake_resolved(argv[2], argv[3], argv[4]);
	}
	if (argc == 4 && strcmp(argv[1], "--crash-run") == 0)
		return crash_run(argv[2], argv[3]);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return 1;
	exe[n] = '\0';
	self_exe = exe;
	/* Never the host's system bus, whatever a test forgets. */
	setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/idloc-test-bus", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
