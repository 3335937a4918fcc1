/* SPDX-License-Identifier: MIT */
/* ctl.h: the control protocol between idlocd and its clients (idloc, idloc-tray):
 * transport, framing, limits and verbs. The result fields: docs/control.md.
 *
 * A client connects to the UNIX stream socket ([peer] control, default
 * IDLOC_DEFAULT_CONTROL), sends one request, a JSON object on one line
 * ending in "\n", and reads the answer: one JSON object per line,
 * {"ok":true, ...result...} or {"ok":false,"error":"message"}. Every
 * command answers with exactly one line and the server then closes, except
 * "log" with "follow": its answer line is followed by event lines,
 * {"event":"log"|"dropped"|"end", ...}, until either side hangs up. */
#pragma once

#include "idloc/idloc.h"

#define CTL_DEFAULT_SOCKET IDLOC_DEFAULT_CONTROL

#define CTL_REQUEST_MAX  4096      /* bytes of one request line, "\n" included */
#define CTL_RESPONSE_MAX (1 << 20) /* bytes of one answer line, "\n" included */
#define CTL_ERROR_MAX    256       /* bytes of an error message, without the NUL */
#define CTL_NAME_MAX     253       /* a name argument, as a DNS name */
#define CTL_LABEL_MAX    63
#define CTL_TIMEOUT_MS   30000 /* the server answers or gives up within this */
#define CTL_MAX_CONNS    32    /* connections the server serves at once */

/* ping: Echo Requests through the association with a peer. timeout_ms bounds
 * both the setup (lookup, base exchange, ICE) before the first request and
 * the wait for replies after the last one. A ping may take up to
 * timeout + (count - 1) * interval + timeout, which the server and the CLI
 * add to their own limits (ctl_proto_ping_budget_ms). */
#define CTL_PING_COUNT_DEFAULT    4
#define CTL_PING_COUNT_MAX        1000
#define CTL_PING_INTERVAL_DEFAULT 1000 /* ms */
#define CTL_PING_INTERVAL_MIN     200
#define CTL_PING_INTERVAL_MAX     10000
#define CTL_PING_TIMEOUT_DEFAULT  10000 /* ms */
#define CTL_PING_TIMEOUT_MIN      100
#define CTL_PING_TIMEOUT_MAX      60000

/* log: the daemon keeps its last CTL_LOG_KEEP lines; "lines" asks for the
 * last 0 to CTL_LOG_LINES_MAX of them (default CTL_LOG_LINES_DEFAULT). With
 * "follow" the connection then streams every new line. At most
 * CTL_STREAM_MAX streams run at once; a stream whose reader lags by more
 * than CTL_STREAM_QUEUE_MAX bytes loses lines, and is told how many. */
#define CTL_LOG_KEEP          500
#define CTL_LOG_LINES_DEFAULT 50
#define CTL_LOG_LINES_MAX     10000
#define CTL_STREAM_MAX        8
#define CTL_STREAM_QUEUE_MAX  (256 * 1024)

/* The verbs, spelled as in {"cmd": ...}. */
enum ctl_cmd {
	CTL_CMD_STATUS,
	CTL_CMD_PEERS,
	CTL_CMD_ID,
	CTL_CMD_RESOLVE,  /* argument "name": a label or an fqdn */
	CTL_CMD_JOIN,     /* changes state: root or the daemon's user only */
	CTL_CMD_LEAVE,    /* changes state: root or the daemon's user only */
	CTL_CMD_PING,     /* "name", optional "count", "interval_ms", "timeout_ms" */
	CTL_CMD_SHUTDOWN, /* changes state: the daemon answers, then stops */
	CTL_CMD_LOG,      /* optional "lines", "follow" */
	CTL_CMD_NETCHECK, /* STUN probes: reflexive address, NAT mapping, relays */
	CTL_CMD_MAX,
	CTL_CMD_INVALID = -1,
};
