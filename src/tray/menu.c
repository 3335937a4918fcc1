/* SPDX-License-Identifier: MIT */
/* menu.c: the tray's menu items, kept in step with the view. */
#include <stdio.h>
#include <string.h>

#include "tray/menu.h"

#define TEXT_KEY "idloc-text" /* what an item copies or opens */

struct menu {
	struct menu_actions act;
	GtkWidget *menu;
	GtkWidget *headline, *detail;
	GtkWidget *self_sep, *self, *lsi, *hit;
	GtkWidget *peers_sep, *no_peers, *more_peers;
	GPtrArray *peer_items;
	GtkWidget *toggle, *message;
	struct view shown; /* the peers on display */
};

static void set_label(GtkWidget *item, const char *label)
{
	if (strcmp(gtk_menu_item_get_label(GTK_MENU_ITEM(item)), label) != 0)
		gtk_menu_item_set_label(GTK_MENU_ITEM(item), label);
}

static void set_text(GtkWidget *item, const char *text)
{
	g_object_set_data_full(G_OBJECT(item), TEXT_KEY, g_strdup(text), g_free);
}

static const char *get_text(GtkWidget *item)
{
	return g_object_get_data(G_OBJECT(item), TEXT_KEY);
}

static void on_copy(GtkMenuItem *item, gpointer data)
{
	struct menu *m = data;

	m->act.copy(m->act.ctx, get_text(GTK_WIDGET(item)));
}

static void on_open(GtkMenuItem *item, gpointer data)
{
	struct menu *m = data;

	m->act.open(m->act.ctx, get_text(GTK_WIDGET(item)));
}

static void on_toggle(GtkMenuItem *item, gpointer data)
{
	struct menu *m = data;

	m->act.toggle(m->act.ctx);
}

static void on_quit(GtkMenuItem *item, gpointer data)
{
	struct menu *m = data;

	m->act.quit(m->act.ctx);
}

/* An item appended to shell; a NULL callback makes it an inert line of text. */
static GtkWidget *add_item(GtkWidget *shell, const char *label, GCallback cb, struct menu *m)
{
	GtkWidget *item = gtk_menu_item_new_with_label(label);

	if (cb)
		g_signal_connect(item, "activate", cb, m);
	else
		gtk_widget_set_sensitive(item, FALSE);
	gtk_menu_shell_append(GTK_MENU_SHELL(shell), item);
	gtk_widget_show(item);
	return item;
}

static GtkWidget *add_separator(GtkWidget *shell)
{
	GtkWidget *sep = gtk_separator_menu_item_new();

	gtk_menu_shell_append(GTK_MENU_SHELL(shell), sep);
	gtk_widget_show(sep);
	return sep;
}

static GtkWidget *add_copy_item(struct menu *m)
{
	GtkWidget *item = add_item(m->menu, "", G_CALLBACK(on_copy), m);

	gtk_widget_set_tooltip_text(item, "Click to copy");
	set_text(item, "");
	return item;
}

struct menu *menu_new(const struct menu_actions *actions)
{
	struct menu *m = g_new0(struct menu, 1);

	m->act = *actions;
	m->menu = g_object_ref_sink(gtk_menu_new());
	m->headline = add_item(m->menu, "Daemon not running", NULL, m);
	m->detail = add_item(m->menu, "", NULL, m);
	m->self_sep = add_separator(m->menu);
	m->self = add_copy_item(m);
	m->lsi = add_copy_item(m);
	m->hit = add_copy_item(m);
	m->peers_sep = add_separator(m->menu);
	m->no_peers = add_item(m->menu, "No peers", NULL, m);
	m->more_peers = add_item(m->menu, "", NULL, m);
	m->peer_items = g_ptr_array_new();
	add_separator(m->menu);
	m->toggle = add_item(m->menu, "Connect", G_CALLBACK(on_toggle), m);
	m->message = add_item(m->menu, "", NULL, m);
	add_separator(m->menu);
	add_item(m->menu, "Quit", G_CALLBACK(on_quit), m);
	m->shown.npeers = 0;
	menu_set_message(m, NULL);
	menu_update(m, &(struct view){.state = VIEW_DOWN, .headline = "Daemon not running"}, false);
	return m;
}

void menu_free(struct menu *m)
{
	if (!m)
		return;
	g_ptr_array_free(m->peer_items, TRUE);
	gtk_widget_destroy(m->menu);
	g_object_unref(m->menu);
	g_free(m);
}

GtkMenu *menu_widget(struct menu *m)
{
	return GTK_MENU(m->menu);
}

/* A peer: its line, with Open in browser and Copy name beneath. */
static GtkWidget *peer_item(struct menu *m, const struct view_peer *p)
{
	GtkWidget *item = gtk_menu_item_new_with_label(p->label);
	GtkWidget *sub = gtk_menu_new();
	GtkWidget *open = add_item(sub, "Open in browser", G_CALLBACK(on_open), m);
	GtkWidget *copy = add_item(sub, "Copy name", G_CALLBACK(on_copy), m);

	set_text(open, p->url);
	gtk_widget_set_tooltip_text(open, p->url);
	set_text(copy, p->copy);
	gtk_menu_item_set_submenu(GTK_MENU_ITEM(item), sub);
	gtk_widget_show(item);
	return item;
}

static int position_of(struct menu *m, GtkWidget *item)
{
	GList *children = gtk_container_get_children(GTK_CONTAINER(m->menu));
	int pos = g_list_index(children, item);

	g_list_free(children);
	return pos;
}

static void update_peers(struct menu *m, const struct view *v)
{
	char more[VIEW_TEXT_MAX];
	int pos;

	if (!view_peers_equal(&m->shown, v)) {
		for (guint i = 0; i < m->peer_items->len; i++)
			gtk_widget_destroy(g_ptr_array_index(m->peer_items, i));
		g_ptr_array_set_size(m->peer_items, 0);
		pos = position_of(m, m->no_peers);
		for (size_t i = 0; i < v->npeers; i++) {
			GtkWidget *item = peer_item(m, &v->peers[i]);

			gtk_menu_shell_insert(GTK_MENU_SHELL(m->menu), item, pos + (int)i);
			g_ptr_array_add(m->peer_items, item);
		}
		m->shown.npeers = v->npeers;
		m->shown.more_peers = v->more_peers;
		memcpy(m->shown.peers, v->peers, v->npeers * sizeof(v->peers[0]));
	}
	snprintf(more, sizeof(more), "%zu more (idloc peers lists them all)", v->more_peers);
	set_label(m->more_peers, more);
	gtk_widget_set_visible(m->more_peers, v->state != VIEW_DOWN && v->more_peers > 0);
	gtk_widget_set_visible(m->no_peers, v->state != VIEW_DOWN && v->npeers == 0);
	gtk_widget_set_visible(m->peers_sep, v->state != VIEW_DOWN);
}

static void update_copy_item(GtkWidget *item, const char *prefix, const char *label,
                             const char *text)
{
	char buf[VIEW_TEXT_MAX + 16];

	snprintf(buf, sizeof(buf), "%s%s", prefix, label);
	set_label(item, buf);
	set_text(item, text);
	gtk_widget_set_visible(item, text[0] != '\0');
}

void menu_update(struct menu *m, const struct view *v, bool busy)
{
	set_label(m->headline, v->headline);
	set_label(m->detail, v->detail);
	gtk_widget_set_visible(m->detail, v->detail[0] != '\0');
	update_copy_item(m->self, "", v->self, v->fqdn);
	update_copy_item(m->lsi, "LSI: ", v->lsi, v->lsi);
	update_copy_item(m->hit, "HIT: ", v->hit, v->hit);
	gtk_widget_set_visible(m->self_sep, v->fqdn[0] != '\0');
	update_peers(m, v);
	set_label(m->toggle, view_toggle_label(v->state));
	gtk_widget_set_sensitive(m->toggle, !busy && v->state != VIEW_DOWN);
}

void menu_set_message(struct menu *m, const char *msg)
{
	set_label(m->message, msg ? msg : "");
	gtk_widget_set_visible(m->message, msg && msg[0]);
}
