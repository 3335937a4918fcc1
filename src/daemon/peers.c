/* SPDX-License-Identifier: MIT */
/* peers.c: the daemon's table of peers with live ESP SAs, by HIT and by inbound SPI. */
#include "daemon/peers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "hip/bex.h"

/* Both indexes are sorted arrays searched by bisection: lookups are O(log n)
 * without allocation, and the rare insertions (one per base exchange or
 * rekey) pay the memmove. */
struct spi_slot {
	uint32_t spi;
	bool prev; /* the peer's in_prev rather than in */
	struct peer *peer;
};

struct peers {
	struct peer **by_hit;
	size_t n, cap;
	struct spi_slot *by_spi;
	size_t nspi, capspi;
};

int peers_new(struct peers **ret)
{
	struct peers *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return -ENOMEM;
	*ret = ps;
	return 0;
}

static void peer_free(struct peer *p)
{
	esp_sa_done(&p->out);
	esp_sa_done(&p->in);
	if (p->has_prev)
		esp_sa_done(&p->in_prev);
	memzero(p, sizeof(*p));
	free(p);
}

struct peers *peers_free(struct peers *ps)
{
	if (!ps)
		return NULL;
	for (size_t i = 0; i < ps->n; i++)
		peer_free(ps->by_hit[i]);
	free(ps->by_hit);
	free(ps->by_spi);
	free(ps);
	return NULL;
}

/* Index of the first entry >= key. */
static size_t hit_lower(const struct peers *ps, const struct hit *hit)
{
	size_t lo = 0, hi = ps->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (hit_cmp(&ps->by_hit[mid]->hit, hit) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t spi_lower(const struct peers *ps, uint32_t spi)
{
	size_t lo = 0, hi = ps->nspi;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ps->by_spi[mid].spi < spi)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool spi_used(const struct peers *ps, uint32_t spi)
{
	size_t i = spi_lower(ps, spi);
	return i < ps->nspi && ps->by_spi[i].spi == spi;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*arr, ncap * elem);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

/* The caller has checked that spi is free and that there is room. */
static void spi_insert(struct peers *ps, uint32_t spi, struct peer *p, bool prev)
{
	size_t i = spi_lower(ps, spi);

	memmove(&ps->by_spi[i + 1], &ps->by_spi[i], (ps->nspi - i) * sizeof(ps->by_spi[0]));
	ps->by_spi[i] = (struct spi_slot){.spi = spi, .prev = prev, .peer = p};
	ps->nspi++;
}

static void spi_remove(struct peers *ps, uint32_t spi)
{
	size_t i = spi_lower(ps, spi);

	if (i >= ps->nspi || ps->by_spi[i].spi != spi)
		return;
	memmove(&ps->by_spi[i], &ps->by_spi[i + 1], (ps->nspi - i - 1) * sizeof(ps->by_spi[0]));
	ps->nspi--;
}

static void spi_mark_prev(struct peers *ps, uint32_t spi)
{
	size_t i = spi_lower(ps, spi);

	if (i < ps->nspi && ps->by_spi[i].spi == spi)
		ps->by_spi[i].prev = true;
}

/* Sets up both SAs of k into out/in; on failure neither is left initialised. */
static int sas_init(const struct hip_esp_keys *k, struct esp_sa *out, struct esp_sa *in)
{
	int r = esp_sa_init(out, k->spi_out, k->suite, k->key_out, k->keylen);

	if (r < 0)
		return r;
	r = esp_sa_init(in, k->spi_in, k->suite, k->key_in, k->keylen);
	if (r < 0) {
		esp_sa_done(out);
		return r;
	}
	return 0;
}

int peers_add(struct peers *ps, struct hip_assoc *a, const struct hit *hit,
              const struct hip_esp_keys *k, uint64_t now, struct peer **ret)
{
	struct peer *p, *old = peers_find_hit(ps, hit);
	size_t i;
	int r;

	if (old) {
		/* The association must not keep pointing at a freed peer. */
		if (old->assoc && old->assoc != a && hip_assoc_user(old->assoc) == old)
			hip_assoc_set_user(old->assoc, NULL);
		peers_remove(ps, old);
	}
	if (spi_used(ps, k->spi_in))
		return -EEXIST;
	r = grow((void **)&ps->by_hit, &ps->cap, ps->n + 1, sizeof(ps->by_hit[0]));
	if (r == 0)
		r = grow((void **)&ps->by_spi, &ps->capspi, ps->nspi + 2, sizeof(ps->by_spi[0]));
	if (r < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = sas_init(k, &p->out, &p->in);
	if (r < 0) {
		free(p);
		return r;
	}
	p->hit = *hit;
	p->assoc = a;
	p->since = now;
	p->last_tx = now;
	p->rtt_ms = -1;
	i = hit_lower(ps, hit);
	memmove(&ps->by_hit[i + 1], &ps->by_hit[i], (ps->n - i) * sizeof(ps->by_hit[0]));
	ps->by_hit[i] = p;
	ps->n++;
	spi_insert(ps, k->spi_in, p, false);
	*ret = p;
	return 0;
}

int peers_rekey(struct peers *ps, struct peer *p, const struct hip_esp_keys *k, uint64_t now)
{
	struct esp_sa out, in;
	int r;

	if (k->spi_in != p->in.spi && spi_used(ps, k->spi_in))
		return -EEXIST;
	r = grow((void **)&ps->by_spi, &ps->capspi, ps->nspi + 1, sizeof(ps->by_spi[0]));
	if (r < 0)
		return r;
	r = sas_init(k, &out, &in);
	if (r < 0)
		return r;
	if (p->has_prev) {
		spi_remove(ps, p->in_prev.spi);
		esp_sa_done(&p->in_prev);
	}
	if (k->spi_in != p->in.spi) {
		spi_mark_prev(ps, p->in.spi);
		p->in_prev = p->in;
		p->has_prev = true;
		p->prev_expires = now + PEERS_PREV_SA_MS;
		spi_insert(ps, k->spi_in, p, false);
	} else {
		/* Same SPI, new keys: nothing in flight can be told apart. */
		esp_sa_done(&p->in);
		p->has_prev = false;
	}
	esp_sa_done(&p->out);
	p->out = out;
	p->in = in;
	p->rekey_next = 0;
	return 0;
}

void peers_remove(struct peers *ps, struct peer *p)
{
	size_t i = hit_lower(ps, &p->hit);

	for (; i < ps->n && ps->by_hit[i] != p; i++)
		;
	if (i < ps->n) {
		memmove(&ps->by_hit[i], &ps->by_hit[i + 1],
		        (ps->n - i - 1) * sizeof(ps->by_hit[0]));
		ps->n--;
	}
	spi_remove(ps, p->in.spi);
	if (p->has_prev)
		spi_remove(ps, p->in_prev.spi);
	peer_free(p);
}

struct peer *peers_find_hit(const struct peers *ps, const struct hit *hit)
{
	size_t i = hit_lower(ps, hit);

	return i < ps->n && hit_cmp(&ps->by_hit[i]->hit, hit) == 0 ? ps->by_hit[i] : NULL;
}

struct esp_sa *peers_find_spi(struct peers *ps, uint32_t spi, uint64_t now, struct peer **ret_peer)
{
	size_t i = spi_lower(ps, spi);
	struct spi_slot *s;

	if (i >= ps->nspi || ps->by_spi[i].spi != spi)
		return NULL;
	s = &ps->by_spi[i];
	if (!s->prev) {
		*ret_peer = s->peer;
		return &s->peer->in;
	}
	if (now >= s->peer->prev_expires) {
		struct peer *p = s->peer;
		spi_remove(ps, spi);
		esp_sa_done(&p->in_prev);
		p->has_prev = false;
		return NULL;
	}
	*ret_peer = s->peer;
	return &s->peer->in_prev;
}

size_t peers_count(const struct peers *ps)
{
	return ps->n;
}

struct peer *peers_get(const struct peers *ps, size_t i)
{
	return i < ps->n ? ps->by_hit[i] : NULL;
}
