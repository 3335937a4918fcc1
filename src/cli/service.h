/* SPDX-License-Identifier: MIT */
/* service.h: `idloc up` and `idloc down`: the config file, and starting,
 * restarting or stopping idlocd, through systemd when it manages the daemon
 * (the default config, idlocd.service installed, systemd running), else as
 * a process of our own with its log in the state directory. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* How long `idloc up` waits for the daemon to join its overlay. */
#define SERVICE_UP_TIMEOUT_MS 30000
/* How long `idloc down` waits for the daemon to exit. */
#define SERVICE_DOWN_TIMEOUT_MS 15000

struct up_args {
	const char *config; /* the file written and given to idlocd */
	const char *domain; /* NULL: as the file says */
	const char *name;
	const char *const *bootstrap;
	size_t n_bootstrap;
	bool set_bootstrap; /* replace the file's list (by none with n_bootstrap 0) */
	bool json, color;
	unsigned timeout_ms;
};

/* Updates the config, starts or restarts the daemon or has it join, waits
 * until it has joined, and prints its status. The exit code (IDLOC_EXIT_*);
 * messages on stderr. */
int service_up(const struct up_args *a);
/* Stops the daemon: with systemctl when systemd runs it from config (which
 * may_systemd allows), else with the control command "shutdown" on socket,
 * waiting until the daemon is gone. The exit code. */
int service_down(const char *config, const char *socket, bool may_systemd);
