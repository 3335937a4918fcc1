/* SPDX-License-Identifier: MIT */
/* render.h: the daemon's answers for people (aligned keys and tables) or as JSON. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "idloc/ctl.h"

/* Prints the result of cmd on f: pretty-printed JSON when json is set (for
 * peers, the list itself), else a compact aligned text, with ANSI colours
 * when color is set. Strings from the daemon are printed with control
 * characters replaced. 0, or -EBADMSG when result lacks what cmd must show. */
int render_result(FILE *f, enum ctl_cmd cmd, const json_t *result, bool json, bool color);
/* One line of the daemon's log ({"time_ms", "level", "msg"}, as in the log
 * answer and its events) as "2025-11-21 10:01:02.123 notice  message", in
 * local time, the level coloured when color is set. 0 or -EBADMSG. */
int render_log_line(FILE *f, const json_t *line, bool color);
