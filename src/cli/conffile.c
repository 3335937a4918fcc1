/* SPDX-License-Identifier: MIT */
/* conffile.c: [peer] control from idlocd's INI config, with inih. */
#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "cli/conffile.h"

#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)NULL)->sun_path)

struct lookup {
	char value[SUN_PATH_SIZE + 1];
	bool found, too_long;
};

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct lookup *l = user;

	if (l->found || strcmp(section, "peer") != 0 || strcmp(name, "control") != 0)
		return 1;
	l->found = true;
	if (strlen(value) >= sizeof(l->value))
		l->too_long = true;
	else
		strcpy(l->value, value);
	return 1;
}

int conffile_control(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	struct lookup l = {.found = false};
	FILE *f = fopen(path, "re");
	int e;

	if (!f) {
		e = errno;
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(e));
		return -e;
	}
	/* A syntax error elsewhere is the daemon's to report; the key we
	 * want may still be there. */
	(void)ini_parse_file(f, on_key, &l);
	fclose(f);
	if (!l.found)
		return 0;
	/* The same rule idlocd applies to the key. */
	if (l.too_long || l.value[0] != '/' || strlen(l.value) >= SUN_PATH_SIZE ||
	    strlen(l.value) >= outlen) {
		snprintf(err, errlen, "%s: [peer] control is not an absolute socket path", path);
		return -EINVAL;
	}
	strcpy(out, l.value);
	return 0;
}
