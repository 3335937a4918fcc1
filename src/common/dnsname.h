/* SPDX-License-Identifier: MIT */
/* dnsname.h: the one rule for overlay names: DNS labels of 1-63 [a-z0-9-]
 * (upper case folded), not starting or ending with '-', names of at most 253. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define DNS_LABEL_MAX 63
#define DNS_NAME_MAX  253

bool dns_label_valid(const char *s, size_t len);
/* Validates s (one trailing dot allowed) and writes it lowercased without the
 * dot into out (DNS_NAME_MAX + 1 bytes; may be s itself). 0 or -EINVAL. */
int dns_name_normalize(const char *s, char *out);
