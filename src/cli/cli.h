/* SPDX-License-Identifier: MIT */
/* cli.h: the idloc command line: global options, commands, exit codes. */
#pragma once

#include "idloc/ctl.h"

/* A little more than the daemon's own limit, so its "timed out" wins. */
#define CLI_TIMEOUT_MS (CTL_TIMEOUT_MS + 5000)

/* Runs one idloc command line; returns the exit code (IDLOC_EXIT_*). Writes
 * the result to stdout and messages to stderr. */
int cli_main(int argc, char **argv);

/* The one line saying no daemon listens on socket, on stderr. */
void cli_not_running(const char *socket);
