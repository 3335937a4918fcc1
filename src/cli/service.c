/* SPDX-License-Identifier: MIT */
/* service.c: idloc up and idloc down: the config file and the daemon's life. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "idloc/ctl.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/conffile.h"
#include "cli/render.h"
#include "cli/service.h"
#include "common/dnsname.h"
#include "daemon/config.h"

#define ERR_MAX   (CONFIG_ERR_MAX + CONFIG_PATH_MAX)
#define POLL_MS   200
#define UNIT      "idlocd.service"
#define LOG_NAME  "idlocd.log"
#define TAIL_KEEP 5 /* lines of a failed daemon's log shown */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Progress for a person: only when stderr is a terminal. */
static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void progress(const char *fmt, ...)
{
	va_list ap;

	if (!isatty(STDERR_FILENO))
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* ---- other programs ---- */

/* Closes every descriptor above stderr, in a child about to exec. */
static void close_from_3(void)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
#endif
	for (long fd = 3, max = sysconf(_SC_OPEN_MAX); fd < (max > 0 ? max : 1024); fd++)
		close((int)fd);
}

/* Runs argv (searched in PATH) and returns its exit status, or -errno. Its
 * output goes to stderr (our stdout is for results), or nowhere when quiet. */
static int run(char *const argv[], bool quiet)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(quiet ? null : STDERR_FILENO, STDOUT_FILENO);
			if (quiet)
				dup2(null, STDERR_FILENO);
		}
		close_from_3();
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int systemctl(const char *verb, bool quiet)
{
	char *argv[] = {(char *)"systemctl", (char *)verb, (char *)UNIT, NULL};
	char *argv_q[] = {(char *)"systemctl", (char *)verb, (char *)"--quiet", (char *)UNIT, NULL};

	return run(quiet ? argv_q : argv, quiet);
}

/* systemd runs this host and has idlocd's unit, which reads the default
 * config: then idloc leaves the daemon's life to it. */
static bool systemd_manages(const char *config)
{
	struct stat st;

	if (strcmp(config, IDLOC_DEFAULT_CONFIG) != 0 || stat("/run/systemd/system", &st) < 0)
		return false;
	return systemctl("cat", true) == 0;
}

/* The daemon's binary: $IDLOCD, next to idloc (or its ../sbin), in PATH,
 * or in the usual sbin directories. */
static int find_idlocd(char out[PATH_MAX])
{
	static const char *const fixed[] = {"/usr/sbin/idlocd", "/usr/local/sbin/idlocd",
	                                    "/sbin/idlocd"};
	const char *env = getenv("IDLOCD"), *path = getenv("PATH");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		snprintf(out, PATH_MAX, "%s", env);
		return access(out, X_OK) == 0 ? 0 : -errno;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (snprintf(out, PATH_MAX, "%s/idlocd", self) < PATH_MAX &&
			    access(out, X_OK) == 0)
				return 0;
			if (snprintf(out, PATH_MAX, "%s/../sbin/idlocd", self) < PATH_MAX &&
			    access(out, X_OK) == 0)
				return 0;
		}
	}
	while (path && *path) {
		size_t len = strcspn(path, ":");
		if (len > 0 && snprintf(out, PATH_MAX, "%.*s/idlocd", (int)len, path) < PATH_MAX &&
		    access(out, X_OK) == 0)
			return 0;
		path += len + (path[len] == ':');
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		snprintf(out, PATH_MAX, "%s", fixed[i]);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Starts `idlocd -c config` in a session of its own, its stdin /dev/null
 * and its output in log (the previous log kept as log.1). */
static int spawn(const char *config, const char *state_dir, char log[PATH_MAX], pid_t *ret)
{
	char idlocd[PATH_MAX], old[PATH_MAX + 2];
	int fd, null;
	pid_t pid;

	if (find_idlocd(idlocd) < 0) {
		fprintf(stderr, "idloc: up: cannot find idlocd (set IDLOCD, or install it in "
		                "/usr/sbin)\n");
		return -ENOENT;
	}
	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "idloc: up: cannot create '%s': %s\n", state_dir, strerror(errno));
		return -errno;
	}
	snprintf(log, PATH_MAX, "%s/" LOG_NAME, state_dir);
	snprintf(old, sizeof(old), "%s.1", log);
	(void)rename(log, old);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "idloc: up: cannot write '%s': %s\n", log, strerror(errno));
		return -errno;
	}
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fflush(NULL);
	pid = null < 0 ? -1 : fork();
	if (pid == 0) {
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		setsid();
		dup2(null, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close_from_3();
		execl(idlocd, "idlocd", "-c", config, (char *)NULL);
		dprintf(STDERR_FILENO, "idloc: cannot run %s: %s\n", idlocd, strerror(errno));
		_exit(127);
	}
	close(fd);
	if (null >= 0)
		close(null);
	if (pid < 0) {
		fprintf(stderr, "idloc: up: cannot start idlocd: %s\n", strerror(errno));
		return -EIO;
	}
	progress("Started %s (log: %s)\n", idlocd, log);
	*ret = pid;
	return 0;
}

/* The last lines of a daemon's log, indented, after it failed. */
static void show_tail(const char *log)
{
	char *text = NULL, err[256];
	const char *p;
	int lines = 0;

	if (conffile_read(log, &text, NULL, NULL, NULL, err, sizeof(err)) < 0)
		return;
	for (p = text + strlen(text); p > text; p--)
		if (p[-1] == '\n' && p[0] && ++lines >= TAIL_KEEP)
			break;
	fprintf(stderr, "idloc: the end of %s:\n", log);
	for (const char *line = p; *line;) {
		size_t len = strcspn(line, "\n");
		fprintf(stderr, "    %.*s\n", (int)len, line);
		line += len + (line[len] == '\n');
	}
	free(text);
}

/* ---- the config ---- */

/* Checks one flag's value with idlocd's own rules. */
static int check_value(const char *flag, const char *key, const char *value)
{
	static struct config scratch;
	char assign[CONFIG_DOMAIN_MAX + 64], err[CONFIG_ERR_MAX];
	const char *why = err;

	if (!*value) {
		fprintf(stderr, "idloc: up: %s needs a value\n", flag);
		return -EINVAL;
	}
	if (strpbrk(value, "\n\r;") ||
	    snprintf(assign, sizeof(assign), "%s=%s", key, value) >= (int)sizeof(assign)) {
		fprintf(stderr, "idloc: up: invalid %s '%s'\n", flag, value);
		return -EINVAL;
	}
	config_init(&scratch);
	if (config_set(&scratch, assign, err, sizeof(err)) < 0) {
		if (strncmp(why, "command line: ", 14) == 0)
			why += 14;
		fprintf(stderr, "idloc: up: invalid %s: %s\n", flag, why);
		return -EINVAL;
	}
	return 0;
}

/* The flags checked, domain and name as idlocd stores them (lowercase, no
 * trailing dot), so that "Example.Internal." changes nothing. */
static int check_flags(const struct up_args *a, char domain[CONFIG_DOMAIN_MAX + 1],
                       char name[CONFIG_DOMAIN_MAX + 1])
{
	int r = 0;

	if (a->domain)
		r = check_value("--overlay", "overlay.domain", a->domain);
	if (r == 0 && a->domain)
		r = dns_name_normalize(a->domain, domain);
	if (r == 0 && a->name)
		r = check_value("--name", "peer.name", a->name);
	if (r == 0 && a->name)
		r = dns_name_normalize(a->name, name);
	for (size_t i = 0; r == 0 && i < a->n_bootstrap; i++)
		r = check_value("--bootstrap", "overlay.bootstrap", a->bootstrap[i]);
	return r;
}

/* text as idlocd will read it from path. */
static int validate(const char *text, const char *path, struct config *cfg)
{
	char err[ERR_MAX], host[256] = "";
	int r = config_parse_string(text, path, cfg, err, sizeof(err));

	if (r == 0) {
		if (gethostname(host, sizeof(host) - 1) < 0)
			host[0] = '\0';
		r = config_finish(cfg, path, host, err, sizeof(err));
	}
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		if (!cfg->domain[0])
			fprintf(stderr, "idloc: up: give the overlay's domain with --overlay\n");
	}
	return r;
}

/* Writes the edited config; *changed tells whether it differs from before. */
static int update_config(const struct up_args *a, const char *domain, const char *name,
                         struct config *cfg, bool *changed)
{
	struct conffile_edits e = {
	        .domain = domain,
	        .name = name,
	        .set_bootstrap = a->set_bootstrap,
	        .bootstrap = a->bootstrap,
	        .n_bootstrap = a->n_bootstrap,
	};
	char err[ERR_MAX], *old = NULL, *text = NULL;
	mode_t mode = 0644;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int r;

	r = conffile_read(a->config, &old, &mode, &uid, &gid, err, sizeof(err));
	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "idloc: up: %s\n", err);
		return r;
	}
	/* A file idlocd rejects is reported as it stands, lines and all. */
	if (old && config_parse_string(old, a->config, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		free(old);
		return -EINVAL;
	}
	r = conffile_edit(old, a->config, &e, &text);
	if (r < 0)
		fprintf(stderr, "idloc: up: out of memory\n");
	if (r == 0)
		r = validate(text, a->config, cfg);
	*changed = r == 0 && (!old || strcmp(old, text) != 0);
	if (*changed) {
		r = conffile_write(a->config, text, mode, uid, gid, err, sizeof(err));
		if (r < 0)
			fprintf(stderr, "idloc: up: %s\n", err);
		else
			progress("Wrote %s\n", a->config);
	}
	free(old);
	free(text);
	return r;
}

/* ---- the daemon ---- */

static int status(const char *socket, json_t **st, char *err, size_t errlen)
{
	return client_call(socket, &(struct ctl_request){.cmd = CTL_CMD_STATUS}, CLI_TIMEOUT_MS, st,
	                   err, errlen);
}

static bool joined(const json_t *st)
{
	return json_is_true(json_object_get(json_object_get(st, "overlay"), "joined"));
}

/* Asks the daemon on socket to stop and waits until it is gone. 0; 1 when
 * none was running; or -errno with a message printed. */
static int stop_daemon(const char *socket, const char *what)
{
	struct client c;
	const char *line;
	char err[CTL_ERROR_MAX + 256];
	json_t *res = NULL;
	size_t len;
	int64_t end;
	int r;

	r = client_open(&c, socket, &(struct ctl_request){.cmd = CTL_CMD_SHUTDOWN}, err,
	                sizeof(err));
	if (client_not_running(r))
		return 1;
	if (r == 0)
		r = client_read_line(&c, CLI_TIMEOUT_MS, &line, &len, err, sizeof(err));
	if (r == 0)
		r = ctl_proto_parse_response(line, len, &res, err, sizeof(err));
	json_decref(res);
	/* The daemon keeps this connection until its process ends. */
	end = now_ms() + SERVICE_DOWN_TIMEOUT_MS;
	while (r == 0) {
		int left = (int)(end - now_ms());
		r = client_read_line(&c, left > 0 ? left : 0, &line, &len, err, sizeof(err));
	}
	client_close(&c);
	if (r == -ENODATA)
		return 0;
	if (r == -ETIMEDOUT)
		fprintf(stderr, "idloc: %s: idlocd is still stopping after %d s\n", what,
		        SERVICE_DOWN_TIMEOUT_MS / 1000);
	else
		fprintf(stderr, "idloc: %s: %s\n", what, err);
	return r;
}

struct start {
	pid_t child; /* a daemon we spawned, or 0 */
	bool systemd;
	char log[PATH_MAX];
};

static int start_daemon(const struct up_args *a, const struct config *cfg, struct start *s)
{
	int r;

	if (s->systemd) {
		progress("Starting " UNIT "\n");
		r = systemctl("start", false);
		if (r != 0) {
			fprintf(stderr, "idloc: up: 'systemctl start " UNIT "' failed; see "
			                "'journalctl -u idlocd'\n");
			return -EIO;
		}
		return 0;
	}
	return spawn(a->config, cfg->state_dir, s->log, &s->child);
}

static int restart_daemon(const struct up_args *a, const struct config *cfg, struct start *s)
{
	int r;

	if (s->systemd && systemctl("is-active", true) == 0) {
		progress("Restarting " UNIT " for the new configuration\n");
		r = systemctl("restart", false);
		if (r != 0) {
			fprintf(stderr, "idloc: up: 'systemctl restart " UNIT "' failed; see "
			                "'journalctl -u idlocd'\n");
			return -EIO;
		}
		return 0;
	}
	progress("Restarting idlocd for the new configuration\n");
	r = stop_daemon(cfg->control, "up");
	if (r < 0)
		return r;
	s->systemd = false;
	return start_daemon(a, cfg, s);
}

/* The daemon we started is gone: why, as far as we can tell. */
static void report_exit(const struct start *s, int wstatus)
{
	if (WIFEXITED(wstatus))
		fprintf(stderr, "idloc: up: idlocd exited with status %d\n", WEXITSTATUS(wstatus));
	else
		fprintf(stderr, "idloc: up: idlocd was killed by signal %d\n", WTERMSIG(wstatus));
	show_tail(s->log);
}

static void end_dots(bool *dots)
{
	if (*dots)
		fputc('\n', stderr);
	*dots = false;
}

/* Polls the daemon until it says it has joined; *ret gets its status. */
static int wait_joined(const struct up_args *a, const struct config *cfg, struct start *s,
                       json_t **ret)
{
	int64_t start = now_ms(), next_dot = start + 1000, next_unit = start + 1000;
	char err[CTL_ERROR_MAX + 256];
	bool dots = isatty(STDERR_FILENO), answered = false;
	json_t *st = NULL;
	int wstatus, r;

	if (dots)
		fprintf(stderr, "Waiting for idlocd to join %s", cfg->domain);
	for (;;) {
		if (s->child > 0 && waitpid(s->child, &wstatus, WNOHANG) == s->child) {
			end_dots(&dots);
			report_exit(s, wstatus);
			return -EIO;
		}
		r = status(cfg->control, &st, err, sizeof(err));
		if (r == 0 && joined(st)) {
			end_dots(&dots);
			*ret = st;
			return 0;
		}
		json_decref(st);
		st = NULL;
		answered |= r == 0;
		/* Not there yet, or on its way down and up again. */
		if (r < 0 && !client_not_running(r) && r != -ECONNRESET) {
			end_dots(&dots);
			fprintf(stderr, "idloc: up: %s\n", err);
			return r;
		}
		if (s->systemd && now_ms() >= next_unit) {
			next_unit += 1000;
			if (systemctl("is-failed", true) == 0) {
				end_dots(&dots);
				fprintf(stderr, "idloc: up: " UNIT " failed; see 'journalctl -u "
				                "idlocd'\n");
				return -EIO;
			}
		}
		if (now_ms() - start >= a->timeout_ms)
			break;
		if (dots && now_ms() >= next_dot) {
			fputc('.', stderr);
			next_dot += 1000;
		}
		sleep_ms(POLL_MS);
	}
	end_dots(&dots);
	if (answered)
		fprintf(stderr,
		        "idloc: up: idlocd runs but has not joined %s after %u s: no bootstrap "
		        "peer "
		        "answered yet; it keeps trying (see 'idloc log')\n",
		        cfg->domain, a->timeout_ms / 1000);
	else
		fprintf(stderr, "idloc: up: idlocd did not answer on %s within %u s\n",
		        cfg->control, a->timeout_ms / 1000);
	if (s->log[0])
		show_tail(s->log);
	return -ETIMEDOUT;
}

/* The running daemon has this config's name and domain. */
static bool runs_config(const json_t *st, const struct config *cfg)
{
	const char *name = json_string_value(json_object_get(st, "name"));
	const char *domain =
	        json_string_value(json_object_get(json_object_get(st, "overlay"), "domain"));

	return name && domain && strcmp(name, cfg->name) == 0 && strcmp(domain, cfg->domain) == 0;
}

static int join(const char *socket)
{
	char err[CTL_ERROR_MAX + 256];
	json_t *res = NULL;
	int r = client_call(socket, &(struct ctl_request){.cmd = CTL_CMD_JOIN}, CLI_TIMEOUT_MS,
	                    &res, err, sizeof(err));

	json_decref(res);
	if (r < 0)
		fprintf(stderr, "idloc: up: join: %s\n", err);
	return r;
}

static int bring_up(const struct up_args *a, const struct config *cfg, bool changed)
{
	struct start s = {.systemd = systemd_manages(a->config)};
	char err[CTL_ERROR_MAX + 256];
	json_t *st = NULL;
	int r = status(cfg->control, &st, err, sizeof(err));

	if (r == 0) {
		if (changed || !runs_config(st, cfg))
			r = restart_daemon(a, cfg, &s);
		else if (!joined(st))
			r = join(cfg->control);
	} else if (client_not_running(r)) {
		r = start_daemon(a, cfg, &s);
	} else {
		fprintf(stderr, "idloc: up: %s\n", err);
	}
	json_decref(st);
	st = NULL;
	if (r == 0)
		r = wait_joined(a, cfg, &s, &st);
	if (r < 0)
		return IDLOC_EXIT_FAILED;
	r = render_result(stdout, CTL_CMD_STATUS, st, a->json, a->color);
	json_decref(st);
	if (r < 0) {
		fprintf(stderr, "idloc: up: malformed answer from the daemon\n");
		return IDLOC_EXIT_FAILED;
	}
	return IDLOC_EXIT_OK;
}

int service_up(const struct up_args *a)
{
	char domain[CONFIG_DOMAIN_MAX + 1], name[CONFIG_DOMAIN_MAX + 1];
	struct config *cfg;
	bool changed = false;
	int r;

	if (check_flags(a, domain, name) < 0)
		return IDLOC_EXIT_USAGE;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		fprintf(stderr, "idloc: up: out of memory\n");
		return IDLOC_EXIT_FAILED;
	}
	r = update_config(a, a->domain ? domain : NULL, a->name ? name : NULL, cfg, &changed);
	r = r < 0 ? IDLOC_EXIT_FAILED : bring_up(a, cfg, changed);
	free(cfg);
	return r;
}

int service_down(const char *config, const char *socket, bool may_systemd)
{
	int r;

	if (may_systemd && systemd_manages(config) && systemctl("is-active", true) == 0) {
		r = systemctl("stop", false);
		if (r != 0) {
			fprintf(stderr, "idloc: down: 'systemctl stop " UNIT "' failed\n");
			return IDLOC_EXIT_FAILED;
		}
		return IDLOC_EXIT_OK;
	}
	r = stop_daemon(socket, "down");
	if (r == 1)
		fprintf(stderr, "idlocd is not running\n");
	return r < 0 ? IDLOC_EXIT_FAILED : IDLOC_EXIT_OK;
}
