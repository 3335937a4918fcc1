/* SPDX-License-Identifier: MIT */
/* hit.h: the Host Identity Tag (an ORCHIDv2, RFC 7343) as a value type. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define HIT_LEN    16
#define HIT_STRLEN 46 /* INET6_ADDRSTRLEN */

struct hit {
	uint8_t b[HIT_LEN];
};

/* Numeric order of HITs read as unsigned 128-bit big-endian integers: what
 * RFC 7401 uses to pick HOST_g / HOST_l and to sort HITs in the KDF info. */
int hit_cmp(const struct hit *a, const struct hit *b);
bool hit_is_zero(const struct hit *h);
/* True when h lies in the ORCHIDv2 prefix 2001:20::/28. */
bool hit_is_orchid(const struct hit *h);
/* The 4-bit OGA ID (HIT suite) that follows the prefix. */
uint8_t hit_oga(const struct hit *h);
const char *hit_format(const struct hit *h, char buf[HIT_STRLEN]);
/* 0 on success, -EINVAL if s is not an IPv6 address in the ORCHIDv2 prefix. */
int hit_parse(const char *s, struct hit *ret);
