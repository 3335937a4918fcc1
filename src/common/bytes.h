/* SPDX-License-Identifier: MIT */
/* bytes.h: big-endian load/store and a bounds-checked reader for wire formats. */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline uint16_t load_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t load_be64(const uint8_t *p)
{
	return (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
}

static inline void store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void store_be64(uint8_t *p, uint64_t v)
{
	store_be32(p, (uint32_t)(v >> 32));
	store_be32(p + 4, (uint32_t)v);
}

/* A reader over untrusted bytes: every take fails with -EBADMSG rather than
 * reading past the end, so parsers need no length arithmetic of their own. */
struct reader {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static inline struct reader reader_init(const uint8_t *p, size_t len)
{
	return (struct reader){.p = p, .len = len, .off = 0};
}

static inline size_t reader_left(const struct reader *r)
{
	return r->len - r->off;
}

static inline int reader_take(struct reader *r, size_t n, const uint8_t **ret)
{
	if (reader_left(r) < n)
		return -EBADMSG;
	*ret = r->p + r->off;
	r->off += n;
	return 0;
}

static inline int reader_u8(struct reader *r, uint8_t *v)
{
	const uint8_t *p;
	int e = reader_take(r, 1, &p);
	if (e == 0)
		*v = p[0];
	return e;
}

static inline int reader_be16(struct reader *r, uint16_t *v)
{
	const uint8_t *p;
	int e = reader_take(r, 2, &p);
	if (e == 0)
		*v = load_be16(p);
	return e;
}

static inline int reader_be32(struct reader *r, uint32_t *v)
{
	const uint8_t *p;
	int e = reader_take(r, 4, &p);
	if (e == 0)
		*v = load_be32(p);
	return e;
}

static inline int reader_be64(struct reader *r, uint64_t *v)
{
	const uint8_t *p;
	int e = reader_take(r, 8, &p);
	if (e == 0)
		*v = load_be64(p);
	return e;
}

/* splitmix64's finaliser: every input bit affects every output bit. For hash
 * tables and non-secret identifiers, never for anything an attacker must not
 * predict. */
static inline uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Wipes secrets in a way the compiler may not elide. */
void memzero(void *p, size_t n);

/* Constant-time comparison: 0 when equal. */
int memcmp_ct(const void *a, const void *b, size_t n);

/* n bytes as 2n lowercase hex digits and a NUL: out holds 2n + 1. */
void hex_encode(const uint8_t *b, size_t n, char *out);
/* The len characters of s, exactly 2n lowercase hex digits, into n bytes:
 * 0, or -EINVAL for another length or any other character. */
int hex_decode(const char *s, size_t len, uint8_t *out, size_t n);
