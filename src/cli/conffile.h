/* SPDX-License-Identifier: MIT */
/* conffile.h: the one key of idlocd's config file the CLI needs, [peer] control. */
#pragma once

#include <stddef.h>

/* Reads [peer] control from the INI file at path into out (outlen bytes),
 * which is left alone when the file does not set it; other keys, and lines
 * the daemon would reject, are ignored. 0; -errno when the file cannot be
 * read; -EINVAL when the value cannot be a socket path. err gets one line. */
int conffile_control(const char *path, char *out, size_t outlen, char *err, size_t errlen);
