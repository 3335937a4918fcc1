/* SPDX-License-Identifier: MIT */
/* privs.h: running with no more privilege than the data path needs.
 *
 * idlocd needs CAP_NET_ADMIN to create and configure its TUN device; after
 * start-up it keeps only that capability (later reconfiguration of the TUN's
 * addresses and routes needs it) and, when started as root with [peer] user
 * set, becomes that user. Under systemd the unit starts it as the user with
 * CAP_NET_ADMIN as ambient capability already; then only the capability
 * sets are trimmed. Uses libcap-ng. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* The user's ids. -ENOENT for an unknown user. */
int privs_lookup(const char *user, uid_t *ret_uid, gid_t *ret_gid);
/* Makes path (a file or directory the daemon must keep writing after the
 * drop: the state directory, the control socket) the user's, when we are
 * root. 0 or -errno. */
int privs_hand_over(const char *path, uid_t uid, gid_t gid);
/* Becomes uid/gid (when root and uid is not (uid_t)-1), dropping
 * supplementary groups, and keeps only CAP_NET_ADMIN, in the effective and
 * permitted sets, with an empty bounding set when we were root. 0 or -errno
 * (-EPERM when the change was refused). */
int privs_drop(uid_t uid, gid_t gid);
