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
