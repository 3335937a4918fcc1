/* SPDX-License-Identifier: MIT */
/* resolved.c: idlocd's link in systemd-resolved, over D-Bus (GDBus). */
#include "daemon/resolved.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/bytes.h"
#include "common/log.h"
#include "net/gloop.h"

#define RESOLVE1_NAME     "org.freedesktop.resolve1"
#define RESOLVE1_PATH     "/org/freedesktop/resolve1"
#define RESOLVE1_IFACE    "org.freedesktop.resolve1.Manager"
#define CALL_TIMEOUT_MS   5000 /* resolved may ask polkit before answering */
#define REVERT_TIMEOUT_MS 2000 /* at exit: do not hold up the shutdown for long */
#define DRAIN_TIMEOUT_MS  2000

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

struct resolved {
	int ifindex;
	uint32_t resolver;
	char *ifname, *domain;
	char error[RESOLVED_ERROR_MAX]; /* "error: ..." or "" */

	/* A gloop of our own, so that draining our callbacks at the end never
	 * dispatches anyone else's GLib sources. */
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
	bool sent;    /* the current owner got a SetLink call: revert it at the end */
};

const char *resolved_status(const struct resolved *rs)
{
	if (rs->error[0])
		return rs->error;
	if (rs->bus_closed)
		return "error: lost the connection to the system bus";
	if (!rs->owner)
		return "waiting for systemd-resolved";
	return rs->applied ? "resolved" : "applying";
}

struct call {
	struct resolved *rs;
	unsigned epoch;
	enum step step;
};

static void send_step(struct resolved *rs, enum step s);

static GVariant *step_params(const struct resolved *rs, enum step s)
{
	GVariantBuilder b;
	uint8_t a[4];

	switch (s) {
	case STEP_DEFAULT_ROUTE:
		return g_variant_new("(ib)", rs->ifindex, FALSE);
	case STEP_DOMAINS:
		g_variant_builder_init(&b, G_VARIANT_TYPE("a(sb)"));
		g_variant_builder_add(&b, "(sb)", rs->domain, TRUE); /* routing-only */
		return g_variant_new("(ia(sb))", rs->ifindex, &b);
	case STEP_DNS:
		store_be32(a, rs->resolver);
		g_variant_builder_init(&b, G_VARIANT_TYPE("a(iay)"));
		g_variant_builder_add(
		        &b, "(i@ay)", AF_INET,
		        g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, a, sizeof(a), 1));
		return g_variant_new("(ia(iay))", rs->ifindex, &b);
	case STEP_LLMNR:
	case STEP_MDNS:
	case STEP_DNSSEC: /* the overlay zone is unsigned */
	case STEP_DOT:    /* idlocd answers plain DNS only */
		return g_variant_new("(is)", rs->ifindex, "no");
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
	struct resolved *rs = c->rs;
	enum step s = c->step;
	bool current = c->epoch == rs->epoch;
	GError *err = NULL;
	GVariant *v = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &err);

	g_free(c);
	rs->pending--;
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
			        steps[s].method, rs->ifname, err->message);
		else
			log_keep_error(rs->error, sizeof(rs->error), LOG_WARNING, "DNS",
			               "systemd-resolved refused %s on %s: %s%s", steps[s].method,
			               rs->ifname, err->message, error_hint(remote));
		g_free(remote);
		g_error_free(err);
		if (!tolerated)
			return;
	}
	if (s + 1 < STEP_COUNT) {
		send_step(rs, s + 1);
		return;
	}
	rs->applied = true;
	log_msg(LOG_NOTICE, "DNS: systemd-resolved sends *.%s to idlocd on %s", rs->domain,
	        rs->ifname);
}

static void send_step(struct resolved *rs, enum step s)
{
	struct call *c = g_new(struct call, 1);

	*c = (struct call){.rs = rs, .epoch = rs->epoch, .step = s};
	rs->pending++;
	rs->sent = true;
	/* The reply is dispatched on the context that is thread-default now. */
	g_main_context_push_thread_default(rs->ctx);
	g_dbus_connection_call(rs->bus, rs->owner, RESOLVE1_PATH, RESOLVE1_IFACE, steps[s].method,
	                       step_params(rs, s), NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
	                       CALL_TIMEOUT_MS, rs->cancel, on_reply, c);
	g_main_context_pop_thread_default(rs->ctx);
}

/* A new owner, or none: what is in flight belongs to the old one. */
static void new_epoch(struct resolved *rs)
{
	rs->epoch++;
	g_cancellable_cancel(rs->cancel);
	g_object_unref(rs->cancel);
	rs->cancel = g_cancellable_new();
	g_clear_pointer(&rs->owner, g_free);
	rs->applied = false;
	rs->sent = false;
	rs->error[0] = '\0';
}

static void on_appeared(GDBusConnection *bus, const gchar *name, const gchar *owner, gpointer data)
{
	struct resolved *rs = data;

	new_epoch(rs);
	rs->owner = g_strdup(owner);
	log_msg(LOG_INFO, "DNS: systemd-resolved is on the bus (%s): configuring %s", owner,
	        rs->ifname);
	send_step(rs, 0);
}

static void on_vanished(GDBusConnection *bus, const gchar *name, gpointer data)
{
	struct resolved *rs = data;
	bool had = rs->owner != NULL;

	new_epoch(rs);
	if (had)
		log_msg(LOG_NOTICE, "DNS: systemd-resolved left the bus; waiting for its return");
	else
		log_msg(LOG_INFO, "DNS: waiting for systemd-resolved on the system bus");
}

static void on_watch_freed(gpointer data)
{
	struct resolved *rs = data;

	rs->watch_freed = true;
}

static void on_closed(GDBusConnection *bus, gboolean remote, GError *err, gpointer data)
{
	struct resolved *rs = data;

	rs->bus_closed = true;
	if (remote)
		log_msg(LOG_WARNING, "DNS: lost the connection to the system bus%s%s",
		        err ? ": " : "", err ? err->message : "");
}

static bool drained(const struct resolved *rs)
{
	return rs->pending == 0 && (!rs->watch || rs->watch_freed) && rs->bus_closed;
}

static gboolean on_drain_timeout(gpointer data)
{
	*(bool *)data = true;
	return G_SOURCE_REMOVE;
}

/* GDBus hands cancellations, the watch's teardown and the "closed" signal to
 * our context; they must run before the context goes, or they leak. */
static void drain(struct resolved *rs)
{
	bool late = false;
	GSource *t;

	if (drained(rs))
		return;
	t = g_timeout_source_new(DRAIN_TIMEOUT_MS);
	g_source_set_callback(t, on_drain_timeout, &late, NULL);
	g_source_attach(t, rs->ctx);
	while (!drained(rs) && !late)
		g_main_context_iteration(rs->ctx, TRUE);
	g_source_destroy(t);
	g_source_unref(t);
	if (late)
		log_msg(LOG_WARNING, "DNS: D-Bus callbacks still pending after %d ms",
		        DRAIN_TIMEOUT_MS);
}

static void revert_link(struct resolved *rs)
{
	GError *err = NULL;
	GVariant *v;

	v = g_dbus_connection_call_sync(rs->bus, rs->owner, RESOLVE1_PATH, RESOLVE1_IFACE,
	                                "RevertLink", g_variant_new("(i)", rs->ifindex), NULL,
	                                G_DBUS_CALL_FLAGS_NO_AUTO_START, REVERT_TIMEOUT_MS, NULL,
	                                &err);
	if (v) {
		g_variant_unref(v);
		log_msg(LOG_NOTICE, "DNS: systemd-resolved settings of %s reverted", rs->ifname);
		return;
	}
	g_dbus_error_strip_remote_error(err);
	log_msg(LOG_WARNING, "DNS: systemd-resolved: RevertLink on %s: %s", rs->ifname,
	        err->message);
	g_error_free(err);
}

static void bus_close(struct resolved *rs)
{
	if (!rs->bus)
		return;
	rs->epoch++;
	g_cancellable_cancel(rs->cancel);
	if (rs->watch)
		g_bus_unwatch_name(rs->watch);
	if (!rs->bus_closed)
		g_dbus_connection_close_sync(rs->bus, NULL, NULL);
	drain(rs);
	g_signal_handler_disconnect(rs->bus, rs->closed_handler);
	g_clear_object(&rs->bus);
	g_clear_pointer(&rs->owner, g_free);
	rs->watch = 0;
}

/* prio: how loud a missing bus is. */
static int bus_connect(struct resolved *rs, uv_loop_t *loop, int prio)
{
	GError *err = NULL;
	gchar *addr;
	int r;

	r = gloop_new(loop, &rs->gloop);
	if (r < 0) {
		log_keep_error(rs->error, sizeof(rs->error), LOG_WARNING, "DNS",
		               "GLib main context: %s", strerror(-r));
		return r;
	}
	rs->ctx = gloop_context(rs->gloop);
	/* DBUS_SYSTEM_BUS_ADDRESS, else the standard socket. A connection of
	 * our own, not g_bus_get's shared one: it is closed at stop and never
	 * exits the process when the bus goes away. */
	addr = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, &err);
	if (addr) {
		/* The context at construction gets the "closed" signal. */
		g_main_context_push_thread_default(rs->ctx);
		rs->bus = g_dbus_connection_new_for_address_sync(
		        addr,
		        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		                G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		        NULL, NULL, &err);
		g_main_context_pop_thread_default(rs->ctx);
		g_free(addr);
	}
	if (!rs->bus) {
		log_keep_error(rs->error, sizeof(rs->error), prio, "DNS", "no system bus: %s",
		               err->message);
		g_error_free(err);
		return -ENOTCONN;
	}
	rs->closed_handler = g_signal_connect(rs->bus, "closed", G_CALLBACK(on_closed), rs);
	return 0;
}

int resolved_running(struct resolved *rs)
{
	GError *err = NULL;
	gboolean has = FALSE;
	GVariant *v;

	v = g_dbus_connection_call_sync(rs->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
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

void resolved_watch(struct resolved *rs)
{
	g_main_context_push_thread_default(rs->ctx);
	rs->watch = g_bus_watch_name_on_connection(rs->bus, RESOLVE1_NAME,
	                                           G_BUS_NAME_WATCHER_FLAGS_NONE, on_appeared,
	                                           on_vanished, rs, on_watch_freed);
	g_main_context_pop_thread_default(rs->ctx);
}

static void free_struct(struct resolved *rs)
{
	if (rs->cancel)
		g_object_unref(rs->cancel);
	free(rs->ifname);
	free(rs->domain);
	free(rs);
}

int resolved_new(uv_loop_t *loop, const struct resolved_link *link, int prio, char *err,
                 size_t errlen, struct resolved **ret)
{
	struct resolved *rs;
	int r;

	*ret = NULL;
	if (errlen)
		err[0] = '\0';
	if (!loop || !link || link->ifindex <= 0 || !link->ifname || !link->domain)
		return -EINVAL;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	rs->ifindex = link->ifindex;
	rs->resolver = link->resolver;
	rs->ifname = strdup(link->ifname);
	rs->domain = strdup(link->domain);
	rs->cancel = g_cancellable_new();
	if (!rs->ifname || !rs->domain) {
		free_struct(rs);
		return -ENOMEM;
	}
	r = bus_connect(rs, loop, prio);
	if (r < 0) {
		snprintf(err, errlen, "%s", rs->error);
		gloop_free(rs->gloop);
		free_struct(rs);
		return r;
	}
	*ret = rs;
	return 0;
}

void resolved_free(struct resolved *rs)
{
	if (!rs)
		return;
	if (rs->owner && rs->sent && !rs->bus_closed)
		revert_link(rs);
	bus_close(rs);
	gloop_free(rs->gloop);
	free_struct(rs);
}
