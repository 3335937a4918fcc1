/* SPDX-License-Identifier: MIT */
/* cli.h: the idloc command line: global options, commands, exit codes. */
#pragma once

/* Runs one idloc command line; returns the exit code (IDLOC_EXIT_*). Writes
 * the result to stdout and messages to stderr. */
int cli_main(int argc, char **argv);
