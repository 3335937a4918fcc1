/* SPDX-License-Identifier: MIT */
/* hit.c: HIT comparison, classification and text form. */
#include "common/hit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

int hit_cmp(const struct hit *a, const struct hit *b)
{
	return memcmp(a->b, b->b, HIT_LEN);
}

bool hit_is_zero(const struct hit *h)
{
	static const struct hit zero;
	return memcmp(h->b, zero.b, HIT_LEN) == 0;
}

bool hit_is_orchid(const struct hit *h)
{
	return h->b[0] == 0x20 && h->b[1] == 0x01 && h->b[2] == 0x00 && (h->b[3] & 0xf0) == 0x20;
}

uint8_t hit_oga(const struct hit *h)
{
	return h->b[3] & 0x0f;
}

const char *hit_format(const struct hit *h, char buf[HIT_STRLEN])
{
	if (!inet_ntop(AF_INET6, h->b, buf, HIT_STRLEN))
		buf[0] = '\0';
	return buf;
}

int hit_parse(const char *s, struct hit *ret)
{
	struct hit h;

	if (inet_pton(AF_INET6, s, h.b) != 1 || !hit_is_orchid(&h))
		return -EINVAL;
	*ret = h;
	return 0;
}
