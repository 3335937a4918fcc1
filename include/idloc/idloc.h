/* SPDX-License-Identifier: MIT */
/* idloc.h: the product contract shared by idlocd, idloc and idloc-tray:
 * default locations, the well-known port and the exit codes (design.md). */
#pragma once

#define IDLOC_DEFAULT_CONFIG    "/etc/idloc/idloc.conf"
#define IDLOC_DEFAULT_STATE_DIR "/var/lib/idloc"
#define IDLOC_DEFAULT_CONTROL   "/run/idloc/idloc.sock"
#define IDLOC_DEFAULT_TUN       "idloc0"
/* IANA "hip-nat-t": HIP and ESP over UDP (RFC 5770, RFC 9028). */
#define IDLOC_DEFAULT_PORT 10500

/* Every program exits with one of these. */
#define IDLOC_EXIT_OK     0 /* success */
#define IDLOC_EXIT_FAILED 1 /* the operation failed; a message is on stderr */
#define IDLOC_EXIT_USAGE  2 /* bad command line */
