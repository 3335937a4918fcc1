/* SPDX-License-Identifier: MIT */
/* tray.h: idloc-tray's indicator: polls the daemon, draws the icon and the
 * menu, and carries out the menu's actions (join, leave, copy, open). */
#pragma once

/* Shows the indicator for the daemon listening on socket_path and runs the
 * GTK main loop until Quit. gtk_init must have succeeded. Returns the exit
 * code (IDLOC_EXIT_OK). */
int tray_run(const char *socket_path);
