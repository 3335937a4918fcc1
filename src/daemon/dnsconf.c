/* SPDX-License-Identifier: MIT */
/* dnsconf.c: points the host's resolver at idlocd: systemd-resolved's per-link
 * settings over D-Bus, or a nameserver line at the top of /etc/resolv.conf. */
#include "daemon/dnsconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/log.h"
#include "daemon/resolved.h"

#define ERROR_MAX RESOLVED_ERROR_MAX

enum dc_kind {
	DC_NONE,
	DC_BUS,  /* watching resolved */
	DC_FILE, /* our line is in resolv.conf */
};

struct dnsconf {
	enum config_dns_configure mode;
	enum dc_kind kind;
	int ifindex;
	uint32_t resolver;
	char ifname[CONFIG_IFNAME_MAX + 1];
	char domain[CONFIG_DOMAIN_MAX + 1];
	char path[CONFIG_PATH_MAX + 1];
	char backup[CONFIG_PATH_MAX + sizeof("/" DNSCONF_BACKUP_NAME)];
	char error[ERROR_MAX]; /* "error: ..." or "" */

	uv_loop_t *loop;
	struct resolved *rs; /* systemd-resolved, while watched */
	bool started;

	/* resolv.conf, opened by dnsconf_open while still privileged, so the
	 * line can be added and removed after the privileges are gone. */
	int fd;
	int open_err; /* why it could not be opened */
	dev_t dev;
	ino_t ino;
};

/* ---- resolv.conf text ---- */

static size_t line_end(const char *text, size_t len, size_t at)
{
	const char *nl = memchr(text + at, '\n', len - at);

	return nl ? (size_t)(nl - text) + 1 : len;
}

static bool has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t p = strlen(prefix);

	return n >= p && memcmp(s, prefix, p) == 0;
}

/* "# added by idlocd ...; backup: <backup>", with or without its newline. */
static bool is_marker(const char *line, size_t n, const char *backup)
{
	char tail[sizeof(((struct dnsconf *)0)->backup) + 16];
	int t = snprintf(tail, sizeof(tail), "; backup: %s", backup);

	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (t < 0 || (size_t)t >= sizeof(tail) || n < (size_t)t)
		return false;
	return has_prefix(line, n, DNSCONF_MARKER_START " ") &&
	       memcmp(line + n - (size_t)t, tail, (size_t)t) == 0;
}

static bool is_nameserver(const char *line, size_t n)
{
	while (n > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	return has_prefix(line, n, "nameserver") && n > 10 && (line[10] == ' ' || line[10] == '\t');
}

int dnsconf_resolv_insert(const char *text, size_t len, uint32_t resolver, const char *domain,
                          const char *backup, char **ret, size_t *ret_len)
{
	struct in_addr in = {.s_addr = htonl(resolver)};
	char addr[INET_ADDRSTRLEN];
	char *out;
	int head;

	if ((!text && len) || !domain || !backup || strchr(domain, '\n') || strchr(backup, '\n') ||
	    !inet_ntop(AF_INET, &in, addr, sizeof(addr)))
		return -EINVAL;
	head = snprintf(NULL, 0,
	                DNSCONF_MARKER_START " for %s, removed when it stops; backup: %s\n"
	                                     "nameserver %s\n",
	                domain, backup, addr);
	if (head < 0)
		return -EINVAL;
	out = malloc((size_t)head + len + 1);
	if (!out)
		return -ENOMEM;
	snprintf(out, (size_t)head + 1,
	         DNSCONF_MARKER_START " for %s, removed when it stops; backup: %s\n"
	                              "nameserver %s\n",
	         domain, backup, addr);
	if (len)
		memcpy(out + head, text, len);
	out[(size_t)head + len] = '\0';
	*ret = out;
	*ret_len = (size_t)head + len;
	return 0;
}

int dnsconf_resolv_strip(const char *text, size_t len, const char *backup, char **ret,
                         size_t *ret_len)
{
	size_t at = 0, n = 0;
	int removed = 0;
	char *out;

	if ((!text && len) || !backup)
		return -EINVAL;
	out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	while (at < len) {
		size_t end = line_end(text, len, at);

		if (is_marker(text + at, end - at, backup)) {
			removed++;
			at = end;
			end = at < len ? line_end(text, len, at) : len;
			if (at < len && is_nameserver(text + at, end - at))
				at = end;
			continue;
		}
		memcpy(out + n, text + at, end - at);
		n += end - at;
		at = end;
	}
	out[n] = '\0';
	*ret = out;
	*ret_len = n;
	return removed;
}

/* ---- resolv.conf I/O ---- */

static int read_fd(int fd, char **ret, size_t *ret_len)
{
	char *buf = malloc(DNSCONF_FILE_MAX + 1);
	size_t len = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = pread(fd, buf + len, DNSCONF_FILE_MAX + 1 - len, (off_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > DNSCONF_FILE_MAX) {
			free(buf);
			return -EFBIG;
		}
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* In place, not by rename: /etc/resolv.conf is often a bind mount
 * (containers, `ip netns exec`) or a symlink into another program's
 * directory, and the descriptor kept from the start must stay valid. */
static int write_fd(int fd, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = pwrite(fd, buf + off, len - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return ftruncate(fd, (off_t)len) < 0 ? -errno : 0;
}

static int write_file(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r;

	if (fd < 0)
		return -errno;
	r = write_fd(fd, buf, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

static int backup_path(const char *state_dir, char *buf, size_t size)
{
	int n;

	if (!state_dir || state_dir[0] != '/')
		return -EINVAL;
	n = snprintf(buf, size, "%s/%s", state_dir, DNSCONF_BACKUP_NAME);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static void remove_backup(const char *backup)
{
	if (unlink(backup) < 0 && errno != ENOENT)
		log_errno(LOG_WARNING, -errno, "DNS: cannot remove %s", backup);
}

/* Strips our lines from the file open as fd. 1 if there were some, 0 if not. */
static int strip_fd(int fd, const char *path, const char *backup)
{
	char *text = NULL, *out = NULL;
	size_t len = 0, out_len = 0;
	int r, n;

	r = read_fd(fd, &text, &len);
	if (r < 0)
		return log_errno(LOG_WARNING, r, "DNS: cannot read %s", path);
	n = dnsconf_resolv_strip(text, len, backup, &out, &out_len);
	free(text);
	if (n < 0)
		return log_errno(LOG_WARNING, n, "DNS: %s", path);
	r = n > 0 ? write_fd(fd, out, out_len) : 0;
	free(out);
	if (r < 0)
		return log_errno(LOG_WARNING, r, "DNS: cannot write %s", path);
	return n > 0;
}

int dnsconf_cleanup(const char *resolv_conf, const char *state_dir)
{
	const char *path = resolv_conf ? resolv_conf : DNSCONF_RESOLV_CONF;
	char backup[sizeof(((struct dnsconf *)0)->backup)];
	char *text = NULL, *out = NULL;
	size_t len = 0, out_len = 0;
	int fd, r, n;

	r = backup_path(state_dir, backup, sizeof(backup));
	if (r < 0)
		return r;
	/* Read-only first: a file without our line needs no write access. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = errno == ENOENT ? 0
		                    : log_errno(LOG_WARNING, -errno, "DNS: cannot read %s", path);
		remove_backup(backup);
		return r;
	}
	r = read_fd(fd, &text, &len);
	close(fd);
	if (r < 0)
		return log_errno(LOG_WARNING, r, "DNS: cannot read %s", path);
	n = dnsconf_resolv_strip(text, len, backup, &out, &out_len);
	free(text);
	if (n < 0)
		return n;
	free(out);
	if (n == 0) {
		remove_backup(backup);
		return 0;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return log_errno(LOG_WARNING, -errno, "DNS: cannot remove an earlier line from %s",
		                 path);
	r = strip_fd(fd, path, backup);
	close(fd);
	if (r < 0)
		return r;
	log_msg(LOG_NOTICE, "DNS: removed the nameserver line an earlier idlocd left in %s", path);
	remove_backup(backup);
	return r;
}

/* ---- status ---- */

const char *dnsconf_status(const struct dnsconf *dc)
{
	if (!dc)
		return "none";
	if (dc->error[0])
		return dc->error;
	switch (dc->kind) {
	case DC_NONE:
		return "none";
	case DC_FILE:
		return "resolv.conf";
	case DC_BUS:
		return resolved_status(dc->rs);
	}
	return "none";
}

/* ---- resolv.conf mode ---- */

static int start_file(struct dnsconf *dc)
{
	char addr[INET_ADDRSTRLEN];
	struct in_addr in = {.s_addr = htonl(dc->resolver)};
	char *text = NULL, *out = NULL;
	size_t len = 0, out_len = 0;
	struct stat st;
	int fd = dc->fd, r;

	dc->fd = -1;
	if (fd < 0) {
		log_keep_error(dc->error, sizeof(dc->error), LOG_WARNING, "DNS", "%s: %s", dc->path,
		               strerror(-dc->open_err));
		return dc->open_err;
	}
	r = fstat(fd, &st) < 0 ? -errno : 0;
	if (r == 0 && !S_ISREG(st.st_mode)) {
		log_keep_error(dc->error, sizeof(dc->error), LOG_WARNING, "DNS",
		               "%s: not a regular file", dc->path);
		r = -EINVAL;
		goto out;
	}
	if (r == 0)
		r = read_fd(fd, &text, &len);
	if (r == 0)
		r = dnsconf_resolv_insert(text, len, dc->resolver, dc->domain, dc->backup, &out,
		                          &out_len);
	if (r < 0) {
		log_keep_error(dc->error, sizeof(dc->error), LOG_WARNING, "DNS", "%s: %s", dc->path,
		               strerror(-r));
		goto out;
	}
	/* The copy first: the file is changed only once it is kept. */
	r = write_file(dc->backup, text, len);
	if (r < 0) {
		log_keep_error(dc->error, sizeof(dc->error), LOG_WARNING, "DNS",
		               "cannot write the backup %s: %s", dc->backup, strerror(-r));
		goto out;
	}
	r = write_fd(fd, out, out_len);
	if (r < 0) {
		log_keep_error(dc->error, sizeof(dc->error), LOG_WARNING, "DNS",
		               "cannot write %s: %s", dc->path, strerror(-r));
		if (write_fd(fd, text, len) == 0)
			remove_backup(dc->backup);
		goto out;
	}
	dc->fd = fd;
	dc->dev = st.st_dev;
	dc->ino = st.st_ino;
	dc->kind = DC_FILE;
	fd = -1;
	log_msg(LOG_NOTICE, "DNS: %s asks %s first (for *.%s); the line goes when idlocd stops",
	        dc->path, inet_ntop(AF_INET, &in, addr, sizeof(addr)), dc->domain);
out:
	free(text);
	free(out);
	if (fd >= 0)
		close(fd);
	return r;
}

static void stop_file(struct dnsconf *dc)
{
	struct stat st;
	int fd = dc->fd, r;

	/* Another program may have replaced the file meanwhile (NetworkManager
	 * writes a new one and renames it): then look at the new one. */
	if (stat(dc->path, &st) < 0 || st.st_dev != dc->dev || st.st_ino != dc->ino) {
		fd = open(dc->path, O_RDWR | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT)
			log_errno(LOG_WARNING, -errno, "DNS: cannot check %s for our line",
			          dc->path);
	}
	r = fd >= 0 ? strip_fd(fd, dc->path, dc->backup) : 0;
	if (r > 0)
		log_msg(LOG_NOTICE, "DNS: removed our nameserver line from %s", dc->path);
	else if (r == 0)
		log_msg(LOG_NOTICE, "DNS: %s was rewritten by another program: left as it is",
		        dc->path);
	if (r >= 0)
		remove_backup(dc->backup);
	if (fd >= 0 && fd != dc->fd)
		close(fd);
	close(dc->fd);
	dc->fd = -1;
}

/* A symlink into resolved's runtime directory, such as Debian's
 * /etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf. */
static bool is_resolved_link(const char *path)
{
	char target[CONFIG_PATH_MAX + 1], full[2 * CONFIG_PATH_MAX + 2], norm[sizeof(full)];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	size_t k = 0;

	if (n < 0)
		return false;
	target[n] = '\0';
	if (target[0] == '/') {
		snprintf(full, sizeof(full), "%s", target);
	} else {
		const char *slash = strrchr(path, '/');
		int dir = slash ? (int)(slash - path) : 0;

		snprintf(full, sizeof(full), "%.*s/%s", dir, path, target);
	}
	/* Lexically, "." and ".." resolved: the target may not exist. */
	for (char *save = NULL, *c = strtok_r(full, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			while (k > 0 && norm[--k] != '/')
				;
			continue;
		}
		k += (size_t)snprintf(norm + k, sizeof(norm) - k, "/%s", c);
		if (k >= sizeof(norm))
			return false;
	}
	norm[k] = '\0';
	return strncmp(norm, "/run/systemd/resolve/", 21) == 0 ||
	       strncmp(norm, "/var/run/systemd/resolve/", 25) == 0;
}

/* prio: how loud a missing bus is. */
static int bus_connect(struct dnsconf *dc, int prio)
{
	struct resolved_link link = {
	        .ifindex = dc->ifindex,
	        .ifname = dc->ifname,
	        .resolver = dc->resolver,
	        .domain = dc->domain,
	};

	return resolved_new(dc->loop, &link, prio, dc->error, sizeof(dc->error), &dc->rs);
}

static void watch_resolved(struct dnsconf *dc)
{
	dc->kind = DC_BUS;
	resolved_watch(dc->rs);
}

/* `auto`: resolved if it is on the bus now; else resolv.conf, unless that is
 * resolved's own file (resolved is down or not started yet: writing to
 * its file would be lost, and it serves nobody until resolved runs), in
 * which case wait for resolved. Decided once, here. */
static void start_auto(struct dnsconf *dc)
{
	int running = bus_connect(dc, LOG_INFO) == 0 ? resolved_running(dc->rs) : -1;

	if ((running == 1 || is_resolved_link(dc->path)) && dc->fd >= 0) {
		close(dc->fd);
		dc->fd = -1;
	}
	if (running == 1) {
		watch_resolved(dc);
		return;
	}
	if (is_resolved_link(dc->path)) {
		if (dc->rs) {
			log_msg(LOG_NOTICE, "DNS: %s is systemd-resolved's; waiting for resolved",
			        dc->path);
			watch_resolved(dc);
			return;
		}
		log_msg(LOG_WARNING, "DNS: %s is systemd-resolved's, and there is no system bus",
		        dc->path);
		return;
	}
	dc->error[0] = '\0';
	resolved_free(dc->rs);
	dc->rs = NULL;
	start_file(dc);
}

static int copy(char *dst, size_t size, const char *src)
{
	if (!src || strlen(src) >= size)
		return -EINVAL;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int dnsconf_open(const struct dnsconf_config *cfg, struct dnsconf **ret)
{
	struct dnsconf *dc;

	*ret = NULL;
	if (!cfg || (cfg->mode != CONFIG_DNS_CONFIGURE_NONE && cfg->ifindex <= 0))
		return -EINVAL;
	dc = calloc(1, sizeof(*dc));
	if (!dc)
		return -ENOMEM;
	dc->mode = cfg->mode;
	dc->ifindex = cfg->ifindex;
	dc->resolver = cfg->resolver;
	dc->fd = -1;
	if (copy(dc->ifname, sizeof(dc->ifname), cfg->ifname ? cfg->ifname : "?") < 0 ||
	    copy(dc->domain, sizeof(dc->domain), cfg->domain) < 0 || !dc->domain[0] ||
	    copy(dc->path, sizeof(dc->path),
	         cfg->resolv_conf ? cfg->resolv_conf : DNSCONF_RESOLV_CONF) < 0 ||
	    backup_path(cfg->state_dir, dc->backup, sizeof(dc->backup)) < 0) {
		free(dc);
		return -EINVAL;
	}
	/* Whatever the mode: a line a crashed run left would point the host at
	 * a resolver that may not be there. */
	(void)dnsconf_cleanup(dc->path, cfg->state_dir);
	if (cfg->mode == CONFIG_DNS_CONFIGURE_AUTO) {
		dc->fd = open(dc->path, O_RDWR | O_CLOEXEC);
		dc->open_err = dc->fd < 0 ? -errno : 0;
	}
	*ret = dc;
	return 0;
}

int dnsconf_start(struct dnsconf *dc, uv_loop_t *loop)
{
	if (!dc || (dc->mode != CONFIG_DNS_CONFIGURE_NONE && !loop) || dc->started)
		return -EINVAL;
	dc->started = true;
	dc->loop = loop;
	switch (dc->mode) {
	case CONFIG_DNS_CONFIGURE_NONE:
		break;
	case CONFIG_DNS_CONFIGURE_RESOLVED:
		if (bus_connect(dc, LOG_WARNING) == 0)
			watch_resolved(dc);
		break;
	case CONFIG_DNS_CONFIGURE_AUTO:
		start_auto(dc);
		break;
	}
	return 0;
}

void dnsconf_stop(struct dnsconf *dc)
{
	if (!dc)
		return;
	if (dc->kind == DC_FILE)
		stop_file(dc);
	else if (dc->fd >= 0)
		close(dc->fd);
	resolved_free(dc->rs);
	free(dc);
}
