/* SPDX-License-Identifier: MIT */
/* dnsname.c: validation and normalisation of overlay names. */
#include "common/dnsname.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

bool dns_label_valid(const char *s, size_t len)
{
	if (len == 0 || len > DNS_LABEL_MAX || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isascii(c) && (isalnum(c) || c == '-')))
			return false;
	}
	return true;
}

int dns_name_normalize(const char *s, char *out)
{
	size_t len = strnlen(s, DNS_NAME_MAX + 2);
	const char *p = s, *end;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX)
		return -EINVAL;
	end = s + len;
	for (;;) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t l = dot ? (size_t)(dot - p) : (size_t)(end - p);
		if (!dns_label_valid(p, l))
			return -EINVAL;
		if (!dot)
			break;
		p = dot + 1;
	}
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[len] = '\0';
	return 0;
}
