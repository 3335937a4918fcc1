/* SPDX-License-Identifier: MIT */
/* fileio.h: whole writes to file descriptors. */
#pragma once

#include <stddef.h>

/* Writes all len bytes, retrying short writes and EINTR. 0 or -errno. */
int fd_write_all(int fd, const void *buf, size_t len);
