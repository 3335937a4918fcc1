/* SPDX-License-Identifier: MIT */
/* dnsconf.c: points the host's resolver at idlocd: systemd-resolved's per-link
 * settings over D-Bus, or a nameserver line at the top of /etc/resolv.conf. */
#include "daemon/dnsconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/log.h"
#include "net/gloop.h"

#define RESOLVE1_NAME     "org.freedesktop.resolve1"
#define RESOLVE1_PATH     "/org/freedesktop/resolve1"
#define RESOLVE1_IFACE    "org.freedesktop.resolve1.Manager"
#define CALL_TIMEOUT_MS   5000 /* resolved may ask polkit before answering */
#define REVERT_TIMEOUT_MS 2000 /* at exit: do not hold up the shutdown for long */
#define DRAIN_TIMEOUT_MS  2000
#define ERROR_MAX         320

enum dc_kind {
	DC_NONE,
	DC_BUS,  /* watching resolved */
	DC_FILE, /* our line is in resolv.conf */
};

/* The calls that configure the link, in this order: DefaultRoute off and the
 * routing-only domain before the server, so resolved never holds a server for
 * the link that it may use for other names. */
enum step {
	STEP_DEFAULT_ROUTE,
	STEP_DOMAINS,
	STEP_DNS,
	STEP_LLMNR,
	STEP_MDNS,
	STEP_DNSSEC,
	STEP_DOT,
	STEP_COUNT,
};

static const struct {
	const char *method;
	bool required; /* otherwise best effort: older resolved lacks some */
} steps[STEP_COUNT] = {
        [STEP_DEFAULT_ROUTE] = {"SetLinkDefaultRoute", true},
        [STEP_DOMAINS] = {"SetLinkDomains", true},
        [STEP_DNS] = {"SetLinkDNS", true},
        [STEP_LLMNR] = {"SetLinkLLMNR", false},
        [STEP_MDNS] = {"SetLinkMulticastDNS", false},
        [STEP_DNSSEC] = {"SetLinkDNSSEC", false},
        [STEP_DOT] = {"SetLinkDNSOverTLS", false},
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

	/* systemd-resolved. A gloop of our own, so that draining our callbacks
	 * at stop never dispatches anyone else's GLib sources. */
	uv_loop_t *loop;
	struct gloop *gloop;
	GMainContext *ctx;
	GDBusConnection *bus;
	gulong closed_handler;
	guint watch;
	GCancellable *cancel; /* the running configuration sequence */
	char *owner;          /* resolved's unique name while it has one */
	unsigned epoch;       /* bumped when the owner changes: older replies are stale */
	unsigned pending;     /* calls whose reply has not been dispatched */
	bool watch_freed;
	bool bus_closed;
	bool applied; /* every required call succeeded for the current owner */
	bool sent;    /* the current owner got a SetLink call: revert it at stop */
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

/* Keeps the failure for dnsconf_status and logs it at prio. */
static void PRINTF_LIKE(3, 4) set_error(struct dnsconf *dc, int prio, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(dc->error, sizeof(dc->error), "error: ");

	va_start(ap, fmt);
	vsnprintf(dc->error + n, sizeof(dc->error) - (size_t)n, fmt, ap);
	va_end(ap);
	log_msg(prio, "DNS: %s", dc->error + n);
}

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
		if (dc->bus_closed)
			return "error: lost the connection to the system bus";
		if (!dc->owner)
			return "waiting for systemd-resolved";
		return dc->applied ? "resolved" : "applying";
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
		set_error(dc, LOG_WARNING, "%s: %s", dc->path, strerror(-dc->open_err));
		return dc->open_err;
	}
	r = fstat(fd, &st) < 0 ? -errno : 0;
	if (r == 0 && !S_ISREG(st.st_mode)) {
		set_error(dc, LOG_WARNING, "%s: not a regular file", dc->path);
		r = -EINVAL;
		goto out;
	}
	if (r == 0)
		r = read_fd(fd, &text, &len);
	if (r == 0)
		r = dnsconf_resolv_insert(text, len, dc->resolver, dc->domain, dc->backup, &out,
		                          &out_len);
	if (r < 0) {
		set_error(dc, LOG_WARNING, "%s: %s", dc->path, strerror(-r));
		goto out;
	}
	/* The copy first: the file is changed only once it is kept. */
	r = write_file(dc->backup, text, len);
	if (r < 0) {
		set_error(dc, LOG_WARNING, "cannot write the backup %s: %s", dc->backup,
		          strerror(-r));
		goto out;
	}
	r = write_fd(fd, out, out_len);
	if (r < 0) {
		set_error(dc, LOG_WARNING, "cannot write %s: %s", dc->path, strerror(-r));
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

/* ---- systemd-resolved mode ---- */

struct call {
	struct dnsconf *dc;
	unsigned epoch;
	enum step step;
};

static void send_step(struct dnsconf *dc, enum step s);

static GVariant *step_params(const struct dnsconf *dc, enum step s)
{
	GVariantBuilder b;
	uint8_t a[4];

	switch (s) {
	case STEP_DEFAULT_ROUTE:
		return g_variant_new("(ib)", dc->ifindex, FALSE);
	case STEP_DOMAINS:
		g_variant_builder_init(&b, G_VARIANT_TYPE("a(sb)"));
		g_variant_builder_add(&b, "(sb)", dc->domain, TRUE); /* routing-only */
		return g_variant_new("(ia(sb))", dc->ifindex, &b);
	case STEP_DNS:
		store_be32(a, dc->resolver);
		g_variant_builder_init(&b, G_VARIANT_TYPE("a(iay)"));
		g_variant_builder_add(
		        &b, "(i@ay)", AF_INET,
		        g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, a, sizeof(a), 1));
		return g_variant_new("(ia(iay))", dc->ifindex, &b);
	case STEP_LLMNR:
	case STEP_MDNS:
	case STEP_DNSSEC: /* the overlay zone is unsigned */
	case STEP_DOT:    /* idlocd answers plain DNS only */
		return g_variant_new("(is)", dc->ifindex, "no");
	case STEP_COUNT:
		break;
	}
	return NULL;
}

static const char *error_hint(const char *remote)
{
	if (!remote)
		return "";
	if (strcmp(remote, "org.freedesktop.DBus.Error.AccessDenied") == 0 ||
	    strcmp(remote, "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired") == 0)
		return " (idlocd needs root or the polkit rule of its package)";
	if (strcmp(remote, "org.freedesktop.resolve1.LinkBusy") == 0)
		return " (another program manages the link: mark it unmanaged)";
	return "";
}

static void on_reply(GObject *src, GAsyncResult *res, gpointer data)
{
	struct call *c = data;
	struct dnsconf *dc = c->dc;
	enum step s = c->step;
	bool current = c->epoch == dc->epoch;
	GError *err = NULL;
	GVariant *v = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &err);

	g_free(c);
	dc->pending--;
	if (v)
		g_variant_unref(v);
	if (!current) {
		g_clear_error(&err);
		return;
	}
	if (err) {
		char *remote = g_dbus_error_get_remote_error(err);
		bool tolerated = !steps[s].required ||
		                 (s == STEP_DEFAULT_ROUTE &&
		                  g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD));

		g_dbus_error_strip_remote_error(err);
		if (tolerated)
			log_msg(LOG_INFO, "DNS: systemd-resolved: %s on %s: %s (ignored)",
			        steps[s].method, dc->ifname, err->message);
		else
			set_error(dc, LOG_WARNING, "systemd-resolved refused %s on %s: %s%s",
			          steps[s].method, dc->ifname, err->message, error_hint(remote));
		g_free(remote);
		g_error_free(err);
		if (!tolerated)
			return;
	}
	if (s + 1 < STEP_COUNT) {
		send_step(dc, s + 1);
		return;
	}
	dc->applied = true;
	log_msg(LOG_NOTICE, "DNS: systemd-resolved sends *.%s to idlocd on %s", dc->domain,
	        dc->ifname);
}

static void send_step(struct dnsconf *dc, enum step s)
{
	struct call *c = g_new(struct call, 1);

	*c = (struct call){.dc = dc, .epoch = dc->epoch, .step = s};
	dc->pending++;
	dc->sent = true;
	/* The reply is dispatched on the context that is thread-default now. */
	g_main_context_push_thread_default(dc->ctx);
	g_dbus_connection_call(dc->bus, dc->owner, RESOLVE1_PATH, RESOLVE1_IFACE, steps[s].method,
	                       step_params(dc, s), NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
	                       CALL_TIMEOUT_MS, dc->cancel, on_reply, c);
	g_main_context_pop_thread_default(dc->ctx);
}

/* A new owner, or none: what is in flight belongs to the old one. */
static void new_epoch(struct dnsconf *dc)
{
	dc->epoch++;
	g_cancellable_cancel(dc->cancel);
	g_object_unref(dc->cancel);
	dc->cancel = g_cancellable_new();
	g_clear_pointer(&dc->owner, g_free);
	dc->applied = false;
	dc->sent = false;
	dc->error[0] = '\0';
}

static void on_appeared(GDBusConnection *bus, const gchar *name, const gchar *owner, gpointer data)
{
	struct dnsconf *dc = data;

	new_epoch(dc);
	dc->owner = g_strdup(owner);
	log_msg(LOG_INFO, "DNS: systemd-resolved is on the bus (%s): configuring %s", owner,
	        dc->ifname);
	send_step(dc, 0);
}

static void on_vanished(GDBusConnection *bus, const gchar *name, gpointer data)
{
	struct dnsconf *dc = data;
	bool had = dc->owner != NULL;

	new_epoch(dc);
	if (had)
		log_msg(LOG_NOTICE, "DNS: systemd-resolved left the bus; waiting for its return");
	else
		log_msg(LOG_INFO, "DNS: waiting for systemd-resolved on the system bus");
}

static void on_watch_freed(gpointer data)
{
	struct dnsconf *dc = data;

	dc->watch_freed = true;
}

static void on_closed(GDBusConnection *bus, gboolean remote, GError *err, gpointer data)
{
	struct dnsconf *dc = data;

	dc->bus_closed = true;
	if (remote)
		log_msg(LOG_WARNING, "DNS: lost the connection to the system bus%s%s",
		        err ? ": " : "", err ? err->message : "");
}

static bool drained(const struct dnsconf *dc)
{
	return dc->pending == 0 && (!dc->watch || dc->watch_freed) && dc->bus_closed;
}

static gboolean on_drain_timeout(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

/* GDBus hands cancellations, the watch's teardown and the "closed" signal to
 * our context; they must run before the context goes, or they leak. */
static void drain(struct dnsconf *dc)
{
	bool late = false;
	GSource *t;

	if (drained(dc))
		return;
	t = g_timeout_source_new(DRAIN_TIMEOUT_MS);
	g_source_set_callback(t, on_drain_timeout, &late, NULL);
	g_source_attach(t, dc->ctx);
	while (!drained(dc) && !late)
		g_main_context_iteration(dc->ctx, TRUE);
	g_source_destroy(t);
	g_source_unref(t);
	if (late)
		log_msg(LOG_WARNING, "DNS: D-Bus callbacks still pending after %d ms",
		        DRAIN_TIMEOUT_MS);
}

static void revert_link(struct dnsconf *dc)
{
	GError *err = NULL;
	GVariant *v;

	v = g_dbus_connection_call_sync(dc->bus, dc->owner, RESOLVE1_PATH, RESOLVE1_IFACE,
	                                "RevertLink", g_variant_new("(i)", dc->ifindex), NULL,
	                                G_DBUS_CALL_FLAGS_NO_AUTO_START, REVERT_TIMEOUT_MS, NULL,
	                                &err);
	if (v) {
		g_variant_unref(v);
		log_msg(LOG_NOTICE, "DNS: systemd-resolved settings of %s reverted", dc->ifname);
		return;
	}
	g_dbus_error_strip_remote_error(err);
	log_msg(LOG_WARNING, "DNS: systemd-resolved: RevertLink on %s: %s", dc->ifname,
	        err->message);
	g_error_free(err);
}

static void bus_close(struct dnsconf *dc)
{
	if (!dc->bus)
		return;
	dc->epoch++;
	g_cancellable_cancel(dc->cancel);
	if (dc->watch)
		g_bus_unwatch_name(dc->watch);
	if (!dc->bus_closed)
		g_dbus_connection_close_sync(dc->bus, NULL, NULL);
	drain(dc);
	g_signal_handler_disconnect(dc->bus, dc->closed_handler);
	g_clear_object(&dc->bus);
	g_clear_pointer(&dc->owner, g_free);
	dc->watch = 0;
}

/* prio: how loud a missing bus is. */
static int bus_connect(struct dnsconf *dc, int prio)
{
	GError *err = NULL;
	gchar *addr;
	int r;

	r = gloop_new(dc->loop, &dc->gloop);
	if (r < 0) {
		set_error(dc, LOG_WARNING, "GLib main context: %s", strerror(-r));
		return r;
	}
	dc->ctx = gloop_context(dc->gloop);
	/* DBUS_SYSTEM_BUS_ADDRESS, else the standard socket. A connection of
	 * our own, not g_bus_get's shared one: it is closed at stop and never
	 * exits the process when the bus goes away. */
	addr = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, &err);
	if (addr) {
		/* The context at construction gets the "closed" signal. */
		g_main_context_push_thread_default(dc->ctx);
		dc->bus = g_dbus_connection_new_for_address_sync(
		        addr,
		        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		                G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		        NULL, NULL, &err);
		g_main_context_pop_thread_default(dc->ctx);
		g_free(addr);
	}
	if (!dc->bus) {
		set_error(dc, prio, "no system bus: %s", err->message);
		g_error_free(err);
		return -ENOTCONN;
	}
	dc->closed_handler = g_signal_connect(dc->bus, "closed", G_CALLBACK(on_closed), dc);
	return 0;
}

/* -1 on error, else whether org.freedesktop.resolve1 has an owner. */
static int resolved_running(struct dnsconf *dc)
{
	GError *err = NULL;
	gboolean has = FALSE;
	GVariant *v;

	v = g_dbus_connection_call_sync(dc->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
	                                "org.freedesktop.DBus", "NameHasOwner",
	                                g_variant_new("(s)", RESOLVE1_NAME), G_VARIANT_TYPE("(b)"),
	                                G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &err);
	if (!v) {
		log_msg(LOG_INFO, "DNS: asking the bus for systemd-resolved: %s", err->message);
		g_error_free(err);
		return -1;
	}
	g_variant_get(v, "(b)", &has);
	g_variant_unref(v);
	return has ? 1 : 0;
}

static void watch_resolved(struct dnsconf *dc)
{
	dc->kind = DC_BUS;
	g_main_context_push_thread_default(dc->ctx);
	dc->watch = g_bus_watch_name_on_connection(dc->bus, RESOLVE1_NAME,
	                                           G_BUS_NAME_WATCHER_FLAGS_NONE, on_appeared,
	                                           on_vanished, dc, on_watch_freed);
	g_main_context_pop_thread_default(dc->ctx);
}

static void bus_free(struct dnsconf *dc)
{
	bus_close(dc);
	gloop_free(dc->gloop);
	dc->gloop = NULL;
	dc->ctx = NULL;
}

/* `auto`: resolved if it is on the bus now; else resolv.conf, unless that is
 * resolved's own file (resolved is down or not started yet: writing to
 * its file would be lost, and it serves nobody until resolved runs), in
 * which case wait for resolved. Decided once, here. */
static void start_auto(struct dnsconf *dc)
{
	int running = bus_connect(dc, LOG_INFO) == 0 ? resolved_running(dc) : -1;

	if ((running == 1 || is_resolved_link(dc->path)) && dc->fd >= 0) {
		close(dc->fd);
		dc->fd = -1;
	}
	if (running == 1) {
		watch_resolved(dc);
		return;
	}
	if (is_resolved_link(dc->path)) {
		if (dc->bus) {
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
	bus_free(dc);
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
	dc->cancel = g_cancellable_new();
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
	if (dc->bus && dc->owner && dc->sent && !dc->bus_closed)
		revert_link(dc);
	bus_free(dc);
	g_object_unref(dc->cancel);
	free(dc);
}
