/* SPDX-License-Identifier: MIT */
/* view.h: what idloc-tray shows, computed from the daemon's answers.
 *
 * Pure: no GTK, no I/O. The tray polls `status` and `peers`
 * (docs/control.md) and turns them into a view; the menu and the icon are
 * drawn from the view alone, so every label is tested without a display. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define VIEW_TEXT_MAX  320
#define VIEW_PEERS_MAX 32 /* listed in the menu; the rest are counted */

enum view_state {
	VIEW_DOWN,         /* the daemon does not answer */
	VIEW_CONNECTING,   /* the daemon runs and is joining the overlay */
	VIEW_DISCONNECTED, /* the daemon runs, out of the overlay because it was asked to leave */
	VIEW_JOINED,
};

struct view_peer {
	char label[VIEW_TEXT_MAX]; /* "venus.example.internal: ESTABLISHED, host, 0.4 ms" */
	char copy[VIEW_TEXT_MAX];  /* what "Copy name" puts on the clipboard: fqdn or HIT */
	char url[VIEW_TEXT_MAX];   /* "http://venus.example.internal/" or "http://[HIT]/" */
};

struct view {
	enum view_state state;
	char headline[VIEW_TEXT_MAX]; /* "Connected to example.internal", "Daemon not running" */
	char detail[VIEW_TEXT_MAX];   /* one more line: neighbors, or why the daemon is down */
	char self[VIEW_TEXT_MAX];     /* "This device: mars (mars.example.internal)", or "" */
	char fqdn[VIEW_TEXT_MAX];     /* own fqdn, or "" while down */
	char lsi[VIEW_TEXT_MAX];      /* own LSI, or "" when the daemon has none */
	char hit[VIEW_TEXT_MAX];      /* own HIT, or "" while down */
	char domain[VIEW_TEXT_MAX];   /* the overlay domain, or "" while down */
	struct view_peer peers[VIEW_PEERS_MAX];
	size_t npeers;     /* listed in peers[] */
	size_t more_peers; /* beyond VIEW_PEERS_MAX */
};

/* The daemon did not answer: why is one line for people ("cannot connect
 * to '/run/idloc/idloc.sock': No such file or directory"); not_running
 * tells a daemon that is not there from one that is and refused us. */
void view_set_down(struct view *v, bool not_running, const char *why);

/* Fills the view from a `status` result. left says the tray asked the
 * daemon to leave, which tells "disconnected" from "connecting" while the
 * daemon is out of the overlay (the daemon does not say). Clears the peers.
 * 0, or -EBADMSG when a field docs/control.md promises is missing or has
 * the wrong type (the view is then left down). */
int view_set_status(struct view *v, const json_t *status, bool left);

/* Fills the peers from a `peers` result (after view_set_status: peer names
 * without a dot are qualified with the overlay domain). Sorted by label.
 * 0, or -EBADMSG when the list or an entry is malformed (no peers then). */
int view_set_peers(struct view *v, const json_t *peers);

/* The icon for a state: names of the SVGs installed under
 * hicolor/scalable/status, and a description for screen readers. */
const char *view_icon_name(enum view_state state);
const char *view_icon_description(enum view_state state);

/* The label of the Connect/Disconnect item, and whether that item asks the
 * daemon to join (true) or to leave (false). */
const char *view_toggle_label(enum view_state state);
bool view_toggle_joins(enum view_state state);

/* Whether the two views list the same peers (the menu rebuilds only then). */
bool view_peers_equal(const struct view *a, const struct view *b);
