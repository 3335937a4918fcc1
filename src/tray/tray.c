/* SPDX-License-Identifier: MIT */
/* tray.c: the indicator's state: polling the control socket, icon, menu actions. */
#include <gtk/gtk.h>
#include <libayatana-appindicator/app-indicator.h>
#include <stdio.h>
#include <string.h>

#include "idloc/idloc.h"
#include "tray/call.h"
#include "tray/menu.h"
#include "tray/tray.h"
#include "tray/view.h"

#define POLL_MS         2000
#define POLL_TIMEOUT_MS 5000
/* join and leave: a little more than the daemon's own limit, as idloc waits. */
#define ACTION_TIMEOUT_MS (CTL_TIMEOUT_MS + 5000)
#define MESSAGE_MAX       (CALL_ERR_MAX + 64)

struct tray {
	const char *socket;
	AppIndicator *ind;
	struct menu *menu;
	struct view *view; /* on display */
	struct view *next; /* being filled by a poll: status, then peers */
	bool polling;
	/* Bumped by every join or leave sent and answered: a poll that
	 * started in another epoch may have read the state before the action
	 * and is done again instead of shown. */
	unsigned epoch, poll_epoch;
	bool busy;    /* a join or leave runs */
	bool joining; /* which of the two */
	bool left;    /* we made the daemon leave, and it has not joined since */
	int logged;   /* the state last logged, -1 before the first */
	int host;     /* whether a StatusNotifier host shows us: 1, 0, or -1 not yet known */
};

static void show(struct tray *t)
{
	const struct view *v = t->view;
	const char *icon = app_indicator_get_icon(t->ind);

	menu_update(t->menu, v, t->busy);
	if (!icon || strcmp(icon, view_icon_name(v->state)) != 0)
		app_indicator_set_icon_full(t->ind, view_icon_name(v->state),
		                            view_icon_description(v->state));
	/* One line on stderr per change of state, for the journal. */
	if ((int)v->state != t->logged) {
		bool why = v->state == VIEW_DOWN && v->detail[0];

		fprintf(stderr, "idloc-tray: %s%s%s\n", v->headline, why ? ": " : "",
		        why ? v->detail : "");
		t->logged = (int)v->state;
	}
}

static void poll_start(struct tray *t);

/* The poll is over: the new view goes on display. */
static void poll_done(struct tray *t)
{
	struct view *shown = t->view;

	t->polling = false;
	if (t->poll_epoch != t->epoch) {
		poll_start(t);
		return;
	}
	t->view = t->next;
	t->next = shown;
	if (t->view->state == VIEW_JOINED || t->view->state == VIEW_DOWN)
		t->left = false;
	show(t);
}

static void on_peers(void *data, int r, const json_t *result, const char *err)
{
	struct tray *t = data;

	/* A status without its peers still shows: the list stays empty. */
	if (r < 0 || view_set_peers(t->next, json_object_get(result, "peers")) < 0)
		t->next->npeers = t->next->more_peers = 0;
	poll_done(t);
}

static void on_status(void *data, int r, const json_t *result, const char *err)
{
	struct tray *t = data;

	if (r < 0) {
		view_set_down(t->next, call_no_daemon(r), err);
		poll_done(t);
		return;
	}
	if (view_set_status(t->next, result, t->left) < 0) {
		poll_done(t);
		return;
	}
	call_start(t->socket, &(struct ctl_request){.cmd = CTL_CMD_PEERS}, POLL_TIMEOUT_MS,
	           on_peers, t);
}

static void poll_start(struct tray *t)
{
	if (t->polling)
		return;
	t->polling = true;
	t->poll_epoch = t->epoch;
	call_start(t->socket, &(struct ctl_request){.cmd = CTL_CMD_STATUS}, POLL_TIMEOUT_MS,
	           on_status, t);
}

static gboolean on_poll_timer(gpointer data)
{
	poll_start(data);
	return G_SOURCE_CONTINUE;
}

static void on_action_done(void *data, int r, const json_t *result, const char *err)
{
	struct tray *t = data;
	char msg[MESSAGE_MAX];

	t->busy = false;
	t->epoch++;
	if (r < 0) {
		snprintf(msg, sizeof(msg), "%s failed: %s", t->joining ? "Connect" : "Disconnect",
		         err);
		/* Still out after a failed join, still in (or joining) after a
		 * failed leave. */
		t->left = t->joining;
		menu_set_message(t->menu, msg);
		fprintf(stderr, "idloc-tray: %s\n", msg);
	} else {
		t->left = !json_is_true(json_object_get(result, "joined"));
	}
	show(t);
	poll_start(t);
}

static void toggle(void *ctx)
{
	struct tray *t = ctx;
	bool join = view_toggle_joins(t->view->state);

	if (t->busy || t->view->state == VIEW_DOWN)
		return;
	t->busy = true;
	t->joining = join;
	t->epoch++;
	/* A poll during the action shows it under way ("Disconnected" at once). */
	t->left = !join;
	menu_set_message(t->menu, NULL);
	show(t);
	call_start(t->socket, &(struct ctl_request){.cmd = join ? CTL_CMD_JOIN : CTL_CMD_LEAVE},
	           ACTION_TIMEOUT_MS, on_action_done, t);
}

static void copy(void *ctx, const char *text)
{
	gtk_clipboard_set_text(gtk_clipboard_get(GDK_SELECTION_CLIPBOARD), text, -1);
}

static void on_opened(GObject *source, GAsyncResult *res, gpointer data)
{
	struct tray *t = data;
	GError *e = NULL;
	char msg[MESSAGE_MAX];

	if (g_app_info_launch_default_for_uri_finish(res, &e))
		return;
	snprintf(msg, sizeof(msg), "Cannot open the browser: %s", e->message);
	g_error_free(e);
	menu_set_message(t->menu, msg);
	fprintf(stderr, "idloc-tray: %s\n", msg);
}

static void open_url(void *ctx, const char *url)
{
	struct tray *t = ctx;

	menu_set_message(t->menu, NULL);
	g_app_info_launch_default_for_uri_async(url, NULL, NULL, on_opened, t);
}

/* An icon nobody shows is the usual complaint about tray programs (GNOME
 * without its AppIndicator extension): say where ours went. */
static void on_host_changed(AppIndicator *ind, gboolean connected, gpointer data)
{
	struct tray *t = data;

	if (t->host == (connected ? 1 : 0))
		return;
	t->host = connected ? 1 : 0;
	fprintf(stderr, "idloc-tray: %s\n",
	        connected ? "the desktop's StatusNotifier host shows the icon"
	                  : "no StatusNotifier host: the icon goes to the X tray, if there is one");
}

/* The indicator and its exported menu use the shared session bus
 * connection, which they open asynchronously; opened here first, it is
 * ready before them (under load the indicator could otherwise miss the
 * StatusNotifier watcher), and it stays ours until the end. */
static GDBusConnection *open_session_bus(void)
{
	GError *e = NULL;
	GDBusConnection *bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &e);

	if (!bus) {
		fprintf(stderr,
		        "idloc-tray: no session bus (%s): only an X tray can show the icon\n",
		        e->message);
		g_error_free(e);
	}
	return bus;
}

/* A panel's click on Quit is answered before we act on it; the answer must
 * leave before the process does, or the panel sees an error. */
static void close_session_bus(GDBusConnection *bus)
{
	if (!bus)
		return;
	if (!g_dbus_connection_flush_sync(bus, NULL, NULL))
		fprintf(stderr, "idloc-tray: could not flush the session bus\n");
	g_object_unref(bus);
}

static void quit(void *ctx)
{
	gtk_main_quit();
}

int tray_run(const char *socket_path)
{
	struct tray t = {.socket = socket_path, .logged = -1, .host = -1};
	const struct menu_actions actions = {
	        .ctx = &t, .toggle = toggle, .copy = copy, .open = open_url, .quit = quit};
	GDBusConnection *bus;
	gulong host_handler;
	guint timer;

	bus = open_session_bus();
	t.view = g_new0(struct view, 1);
	t.next = g_new0(struct view, 1);
	view_set_down(t.view, true, "");
	t.menu = menu_new(&actions);
	t.ind = app_indicator_new("idloc-tray", view_icon_name(VIEW_DOWN),
	                          APP_INDICATOR_CATEGORY_SYSTEM_SERVICES);
	/* Found without it once installed under /usr or /usr/local; needed
	 * for another prefix. */
	app_indicator_set_icon_theme_path(t.ind, IDLOC_TRAY_ICON_DIR);
	app_indicator_set_icon_full(t.ind, view_icon_name(VIEW_DOWN),
	                            view_icon_description(VIEW_DOWN));
	app_indicator_set_title(t.ind, "idloc");
	app_indicator_set_menu(t.ind, menu_widget(t.menu));
	host_handler =
	        g_signal_connect(t.ind, "connection-changed", G_CALLBACK(on_host_changed), &t);
	app_indicator_set_status(t.ind, APP_INDICATOR_STATUS_ACTIVE);
	poll_start(&t);
	timer = g_timeout_add(POLL_MS, on_poll_timer, &t);
	gtk_main();
	g_source_remove(timer);
	/* Calls still running hold &t: they are dropped with the process.
	 * Disposing the indicator says "disconnected": not news for anyone. */
	g_signal_handler_disconnect(t.ind, host_handler);
	g_object_unref(t.ind);
	close_session_bus(bus);
	menu_free(t.menu);
	g_free(t.view);
	g_free(t.next);
	return IDLOC_EXIT_OK;
}
