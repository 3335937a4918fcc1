/* SPDX-License-Identifier: MIT */
/* privs.c: dropping root and every capability but CAP_NET_ADMIN. */
#include "daemon/privs.h"

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

int privs_lookup(const char *user, uid_t *ret_uid, gid_t *ret_gid)
{
	const struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (!pw)
		return errno ? -errno : -ENOENT;
	*ret_uid = pw->pw_uid;
	*ret_gid = pw->pw_gid;
	return 0;
}

int privs_hand_over(const char *path, uid_t uid, gid_t gid)
{
	if (geteuid() != 0)
		return 0;
	return chown(path, uid, gid) < 0 ? -errno : 0;
}

int privs_drop(uid_t uid, gid_t gid)
{
	bool root = geteuid() == 0;
	int r;

	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN) < 0)
		return -EINVAL;
	if (root && uid != (uid_t)-1) {
		/* setresuid/setresgid with PR_SET_KEEPCAPS kept for the one
		 * capability, supplementary groups gone, bounding set cleared. */
		r = capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
		return r == 0 ? 0 : -EPERM;
	}
	if (root)
		capng_apply(CAPNG_SELECT_BOUNDS);
	return capng_apply(CAPNG_SELECT_CAPS) == 0 ? 0 : -EPERM;
}
