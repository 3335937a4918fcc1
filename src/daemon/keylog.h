/* SPDX-License-Identifier: MIT */
/* keylog.h: debug-only export of ESP keys as Wireshark/tshark "esp_sa" UAT lines.
 *
 * Anyone who can read the file can decrypt the traffic: it is written with
 * mode 0600 and only when [debug] key-log is set. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KEYLOG_LINE_MAX 256

struct keylog;

/* Opens path for appending (created 0600; an existing file is set to 0600). */
int keylog_open(const char *path, struct keylog **ret);
struct keylog *keylog_free(struct keylog *kl);
/* Formats one line (with "\n"): "IPv4","*","*","0x<spi>","AES-GCM with 16 octet ICV
 * [RFC4106]","0x<key|salt>","NULL","". Returns its length or -ENOSPC/-EINVAL. */
int keylog_format(char *buf, size_t cap, uint32_t spi, const uint8_t *keymat, size_t len);
/* Appends the line for one SA. */
int keylog_write(struct keylog *kl, uint32_t spi, const uint8_t *keymat, size_t len);
