/* SPDX-License-Identifier: MIT */
/* menu.h: the tray's GtkMenu, drawn from a view (view.h).
 *
 * The items are made once and updated in place (label, sensitivity,
 * visibility), and the peer items are rebuilt only when the peers change,
 * so a menu that is open while the tray polls does not flicker, and the
 * desktop's copy of it (dbusmenu, exported by the AppIndicator) gets
 * only real changes. */
#pragma once

#include <gtk/gtk.h>

#include "tray/view.h"

struct menu_actions {
	void *ctx;
	void (*toggle)(void *ctx);                 /* Connect or Disconnect */
	void (*copy)(void *ctx, const char *text); /* an address to the clipboard */
	void (*open)(void *ctx, const char *url);  /* a peer in the browser */
	void (*quit)(void *ctx);
};

struct menu;

/* A menu showing "Daemon not running" until the first update. */
struct menu *menu_new(const struct menu_actions *actions);
void menu_free(struct menu *m);
GtkMenu *menu_widget(struct menu *m);

/* Shows the view. busy greys Connect/Disconnect while a join or leave runs. */
void menu_update(struct menu *m, const struct view *v, bool busy);

/* A line under Connect/Disconnect for what went wrong with the last action
 * ("Disconnect failed: permission denied"); NULL or "" hides it. */
void menu_set_message(struct menu *m, const char *msg);
