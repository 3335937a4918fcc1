/* SPDX-License-Identifier: MIT */
/* hints.c: address hints in name records, and the ones we learnt. */
#include "daemon/hints.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/bytes.h"
#include "net/udp.h"

size_t hints_encode(const struct hip_locator_entry *e, size_t n, uint8_t out[HINTS_BUF])
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < HINTS_MAX; i++) {
		uint8_t *d = out + 2 + k * HINTS_ENTRY;

		if (e[i].port == 0)
			continue;
		store_be16(d, e[i].port);
		memcpy(d + 2, e[i].addr, 16);
		k++;
	}
	out[0] = HINTS_VERSION;
	out[1] = (uint8_t)k;
	return 2 + k * HINTS_ENTRY;
}

static void to_locator(const uint8_t *d, struct hip_locator *l)
{
	memset(l, 0, sizeof(*l));
	udp_addr_from16(d + 2, load_be16(d), &l->addr, &l->len);
}

int hints_decode(const uint8_t *p, size_t len, struct hip_locator *out, size_t cap, size_t *ret_n)
{
	size_t n;

	*ret_n = 0;
	if (len < 2 || p[0] != HINTS_VERSION || p[1] > HINTS_MAX ||
	    len != 2 + (size_t)p[1] * HINTS_ENTRY)
		return -EBADMSG;
	n = p[1];
	for (size_t i = 0; i < n && *ret_n < cap; i++) {
		const uint8_t *d = p + 2 + i * HINTS_ENTRY;

		if (load_be16(d) == 0)
			return -EBADMSG;
		to_locator(d, &out[(*ret_n)++]);
	}
	return 0;
}

struct hints_peer {
	bool used;
	struct hit hit;
	struct hip_locator loc[HINTS_PER_PEER];
	size_t n;
	uint64_t last;
};

struct hints_cache {
	struct hints_peer p[HINTS_CACHE];
};

int hints_cache_new(struct hints_cache **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

struct hints_cache *hints_cache_free(struct hints_cache *c)
{
	free(c);
	return NULL;
}

static struct hints_peer *find(struct hints_cache *c, const struct hit *hit)
{
	for (size_t i = 0; i < HINTS_CACHE; i++)
		if (c->p[i].used && hit_cmp(&c->p[i].hit, hit) == 0)
			return &c->p[i];
	return NULL;
}

static struct hints_peer *victim(struct hints_cache *c)
{
	struct hints_peer *v = &c->p[0];

	for (size_t i = 0; i < HINTS_CACHE; i++) {
		if (!c->p[i].used)
			return &c->p[i];
		if (c->p[i].last < v->last)
			v = &c->p[i];
	}
	return v;
}

void hints_cache_put(struct hints_cache *c, const struct hit *hit, const uint8_t *payload,
                     size_t len, uint64_t now)
{
	struct hip_locator loc[HINTS_PER_PEER];
	struct hints_peer *p = find(c, hit);
	size_t n = 0;

	if (!payload || hints_decode(payload, len, loc, HINTS_PER_PEER, &n) < 0 || n == 0) {
		if (p)
			memset(p, 0, sizeof(*p));
		return;
	}
	if (!p)
		p = victim(c);
	*p = (struct hints_peer){.used = true, .hit = *hit, .n = n, .last = now};
	memcpy(p->loc, loc, n * sizeof(loc[0]));
}

bool hints_cache_get(struct hints_cache *c, const struct hit *hit, struct hip_locator *ret,
                     uint64_t now)
{
	struct hints_peer *p = find(c, hit);

	if (!p || p->n == 0)
		return false;
	p->last = now;
	*ret = p->loc[0];
	return true;
}
