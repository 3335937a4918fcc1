/* SPDX-License-Identifier: MIT */
/* conffile.h: idlocd's config file as the CLI sees it: the one key it needs to
 * find the daemon ([peer] control), and the edits `idloc up` makes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads [peer] control from the INI file at path into out (outlen bytes),
 * which is left alone when the file does not set it; other keys, and lines
 * the daemon would reject, are ignored. 0; -errno when the file cannot be
 * read; -EINVAL when the value cannot be a socket path. err gets one line. */
int conffile_control(const char *path, char *out, size_t outlen, char *err, size_t errlen);

/* What `idloc up` changes; NULL or false leaves a key as it is. */
struct conffile_edits {
	const char *domain; /* [overlay] domain */
	const char *name;   /* [peer] name */
	bool set_bootstrap; /* replace every [overlay] bootstrap with these */
	const char *const *bootstrap;
	size_t n_bootstrap;
};

/* Applies e to the text of a config file, old (NULL: there is no file yet),
 * and returns the new text in *ret (malloc'd, NUL-terminated). Everything
 * but the edited keys stays as it was, byte for byte: comments, blank lines,
 * other keys, the order, CRLF line ends. A key that is set is replaced where
 * it stands (a comment after it is kept); a new key goes after the
 * commented-out example of it in its section (";domain = ..."), else after
 * the section's last key; a missing section is appended. A new file starts
 * with a comment naming path. Values are written as given: the caller
 * validates them. 0 or -ENOMEM. */
int conffile_edit(const char *old, const char *path, const struct conffile_edits *e, char **ret);

/* Reads the whole file at path (at most 1 MiB) into *ret (malloc'd, NUL-
 * terminated). 0; -ENOENT when there is none; another -errno, or -EFBIG, with
 * a line in err. A file holding a NUL byte is -EINVAL. *mode gets its mode,
 * *uid and *gid its owner (any may be NULL). */
int conffile_read(const char *path, char **ret, mode_t *mode, uid_t *uid, gid_t *gid, char *err,
                  size_t errlen);
/* Replaces the file at path with text atomically (a temporary file in the
 * same directory, fsync, rename), creating its directory (0755) if needed.
 * The new file gets mode and, when the caller may, owner uid:gid. 0 or
 * -errno with a line in err. */
int conffile_write(const char *path, const char *text, mode_t mode, uid_t uid, gid_t gid, char *err,
                   size_t errlen);
