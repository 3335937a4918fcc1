/* SPDX-License-Identifier: MIT */
/* keylog.c: debug-only export of ESP keys as Wireshark/tshark "esp_sa" UAT lines. */
#include "daemon/keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "esp/sa.h"

struct keylog {
	int fd;
};

int keylog_open(const char *path, struct keylog **ret)
{
	struct keylog *kl;
	int fd, r;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	/* An existing file keeps its mode on open(); keys must not stay readable. */
	if (fchmod(fd, 0600) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	kl = calloc(1, sizeof(*kl));
	if (!kl) {
		close(fd);
		return -ENOMEM;
	}
	kl->fd = fd;
	*ret = kl;
	return 0;
}

struct keylog *keylog_free(struct keylog *kl)
{
	if (kl) {
		close(kl->fd);
		free(kl);
	}
	return NULL;
}

int keylog_format(char *buf, size_t cap, uint32_t spi, const uint8_t *keymat, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char key[2 * 64 + 1];
	int n;

	/* Suite 13 only: the UAT label below names it. */
	if (len != ESP_KEYMAT_LEN)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		key[2 * i] = hex[keymat[i] >> 4];
		key[2 * i + 1] = hex[keymat[i] & 15];
	}
	key[2 * len] = '\0';
	n = snprintf(buf, cap,
	             "\"IPv4\",\"*\",\"*\",\"0x%08x\",\"AES-GCM with 16 octet ICV [RFC4106]\","
	             "\"0x%s\",\"NULL\",\"\"\n",
	             spi, key);
	memzero(key, sizeof(key));
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

int keylog_write(struct keylog *kl, uint32_t spi, const uint8_t *keymat, size_t len)
{
	char line[KEYLOG_LINE_MAX];
	int n = keylog_format(line, sizeof(line), spi, keymat, len);
	ssize_t w;

	if (n < 0)
		return n;
	/* O_APPEND and one write per line: concurrent readers see whole lines. */
	do
		w = write(kl->fd, line, (size_t)n);
	while (w < 0 && errno == EINTR);
	memzero(line, sizeof(line));
	if (w < 0)
		return -errno;
	return w == n ? 0 : -EIO;
}
