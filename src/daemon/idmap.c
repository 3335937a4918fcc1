/* SPDX-License-Identifier: MIT */
/* idmap.c: the HIT <-> LSI <-> name table of the daemon. */
#include "daemon/idmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"

/* Three open-addressing indexes (linear probing) over one array of entries.
 * Each is sized to at least twice the table's bound, so probes stay short.
 * A slot holds the entry's index + 1; 0 is empty. Only the name index ever
 * deletes (a name moving to another HIT), by backward shifting. */
struct index {
	uint32_t *slot;
	size_t mask;
};

struct idmap {
	struct idmap_config cfg;
	uint32_t hostmask;
	struct idmap_entry **e; /* each allocated once: pointers stay valid */
	size_t n;
	struct index by_hit, by_lsi, by_name;
};

/* ---- the LSI function ---- */

static uint32_t host_mask(uint8_t plen)
{
	return UINT32_MAX >> plen;
}

static bool lsi_forbidden(const struct idmap_config *cfg, uint32_t lsi)
{
	uint32_t host = lsi & host_mask(cfg->prefix_len);

	return host == 0 || host == host_mask(cfg->prefix_len) || lsi == cfg->resolver;
}

static uint32_t lsi_next(const struct idmap_config *cfg, uint32_t lsi)
{
	uint32_t mask = host_mask(cfg->prefix_len);

	return cfg->prefix | ((lsi + 1) & mask);
}

uint32_t idmap_lsi_for_hit(const struct idmap_config *cfg, const struct hit *hit)
{
	uint32_t lsi = cfg->prefix | (load_be32(hit->b + 12) & host_mask(cfg->prefix_len));

	/* A prefix of at most /30 has at least two values that are neither all
	 * zeros nor all ones, and the resolver takes at most one of them. */
	while (lsi_forbidden(cfg, lsi))
		lsi = lsi_next(cfg, lsi);
	return lsi;
}

bool idmap_in_prefix(const struct idmap *m, uint32_t lsi)
{
	return (lsi & ~m->hostmask) == m->cfg.prefix;
}

bool idmap_lsi_usable(const struct idmap *m, uint32_t lsi)
{
	return idmap_in_prefix(m, lsi) && !lsi_forbidden(&m->cfg, lsi);
}

/* ---- hashing ---- */

static uint64_t hash_hit(const struct hit *h)
{
	return mix64(load_be64(h->b) ^ mix64(load_be64(h->b + 8)));
}

static uint64_t hash_lsi(uint32_t lsi)
{
	return mix64(lsi);
}

/* Names are stored and looked up in normalised (lower-case) form. */
static uint64_t hash_name(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return mix64(h);
}

static int index_init(struct index *ix, size_t bound)
{
	size_t size = 16;

	while (size < 2 * bound)
		size *= 2;
	ix->slot = calloc(size, sizeof(ix->slot[0]));
	if (!ix->slot)
		return -ENOMEM;
	ix->mask = size - 1;
	return 0;
}

/* The slot for a new key with hash h: the first empty one. The caller knows
 * the key is absent and the index has room (bounded at half full). */
static void index_put(struct index *ix, uint64_t h, size_t i)
{
	size_t pos = (size_t)h & ix->mask;

	while (ix->slot[pos])
		pos = (pos + 1) & ix->mask;
	ix->slot[pos] = (uint32_t)(i + 1);
}

/* Lookups return the entry's index, or NONE. */
#define NONE SIZE_MAX

static size_t find_hit(const struct idmap *m, const struct hit *hit)
{
	const struct index *ix = &m->by_hit;

	for (size_t pos = (size_t)hash_hit(hit) & ix->mask; ix->slot[pos];
	     pos = (pos + 1) & ix->mask) {
		size_t i = ix->slot[pos] - 1;
		if (memcmp(m->e[i]->hit.b, hit->b, HIT_LEN) == 0)
			return i;
	}
	return NONE;
}

static size_t find_lsi(const struct idmap *m, uint32_t lsi)
{
	const struct index *ix = &m->by_lsi;

	for (size_t pos = (size_t)hash_lsi(lsi) & ix->mask; ix->slot[pos];
	     pos = (pos + 1) & ix->mask) {
		size_t i = ix->slot[pos] - 1;
		if (m->e[i]->lsi == lsi)
			return i;
	}
	return NONE;
}

/* The position of name in the name index (not the entry's index), or NONE. */
static size_t find_name_pos(const struct idmap *m, const char *name)
{
	const struct index *ix = &m->by_name;

	for (size_t pos = (size_t)hash_name(name) & ix->mask; ix->slot[pos];
	     pos = (pos + 1) & ix->mask) {
		if (strcmp(m->e[ix->slot[pos] - 1]->name, name) == 0)
			return pos;
	}
	return NONE;
}

static size_t find_name(const struct idmap *m, const char *name)
{
	size_t pos = find_name_pos(m, name);

	return pos == NONE ? NONE : m->by_name.slot[pos] - 1;
}

/* Deletion under linear probing without tombstones: later members of the
 * cluster move back into the hole when their home slot does not lie
 * (cyclically) between the hole and their current slot (Knuth's 6.4 R). */
static void name_delete(struct idmap *m, size_t hole)
{
	struct index *ix = &m->by_name;
	size_t pos = hole;

	ix->slot[hole] = 0;
	for (;;) {
		size_t home;

		pos = (pos + 1) & ix->mask;
		if (!ix->slot[pos])
			return;
		home = (size_t)hash_name(m->e[ix->slot[pos] - 1]->name) & ix->mask;
		if (((pos - home) & ix->mask) >= ((pos - hole) & ix->mask)) {
			ix->slot[hole] = ix->slot[pos];
			ix->slot[pos] = 0;
			hole = pos;
		}
	}
}

/* ---- the table ---- */

static int config_check(const struct idmap_config *cfg)
{
	if (cfg->prefix_len < IDMAP_PLEN_MIN || cfg->prefix_len > IDMAP_PLEN_MAX)
		return -EINVAL;
	if (cfg->prefix & host_mask(cfg->prefix_len))
		return -EINVAL;
	if (cfg->max_entries > IDMAP_ENTRIES_MAX)
		return -EINVAL;
	return 0;
}

/* Index of the entry, which the caller has just appended to m->e. */
static void index_entry(struct idmap *m, size_t i)
{
	const struct idmap_entry *e = m->e[i];

	index_put(&m->by_hit, hash_hit(&e->hit), i);
	index_put(&m->by_lsi, hash_lsi(e->lsi), i);
	if (e->name[0])
		index_put(&m->by_name, hash_name(e->name), i);
}

/* The first value from canon on (wrapping inside the prefix) that is neither
 * forbidden nor held by another HIT; 0 when the prefix is full. At most
 * n + 3 candidates are ever rejected, so this ends quickly even in a /8. */
static uint32_t lsi_free(const struct idmap *m, uint32_t canon)
{
	uint32_t lsi = canon;

	do {
		if (!lsi_forbidden(&m->cfg, lsi) && find_lsi(m, lsi) == NONE)
			return lsi;
		lsi = lsi_next(&m->cfg, lsi);
	} while (lsi != canon);
	return 0;
}

static int entry_append(struct idmap *m, const struct hit *hit, bool self, uint32_t lsi,
                        uint32_t canon, const char *name)
{
	struct idmap_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->hit = *hit;
	e->lsi = lsi;
	e->canon = canon;
	e->self = self;
	memcpy(e->name, name, strlen(name) + 1);
	m->e[m->n] = e;
	index_entry(m, m->n);
	m->n++;
	return 0;
}

/* name: normalised, or "" for none. */
static int normalize_opt(const char *name, char out[DNS_NAME_MAX + 1])
{
	if (!name || !name[0]) {
		out[0] = '\0';
		return 0;
	}
	return dns_name_normalize(name, out);
}

int idmap_new(const struct idmap_config *cfg, const struct hit *own, const char *own_name,
              struct idmap **ret)
{
	char name[DNS_NAME_MAX + 1];
	struct idmap *m;
	uint32_t lsi;
	int r = config_check(cfg);

	if (r < 0 || (r = normalize_opt(own_name, name)) < 0)
		return r;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	if (!m->cfg.max_entries)
		m->cfg.max_entries = IDMAP_DEFAULT_MAX;
	m->hostmask = host_mask(cfg->prefix_len);
	m->e = calloc(m->cfg.max_entries, sizeof(m->e[0]));
	if (!m->e || index_init(&m->by_hit, m->cfg.max_entries) < 0 ||
	    index_init(&m->by_lsi, m->cfg.max_entries) < 0 ||
	    index_init(&m->by_name, m->cfg.max_entries) < 0) {
		idmap_free(m);
		return -ENOMEM;
	}
	lsi = idmap_lsi_for_hit(&m->cfg, own);
	r = entry_append(m, own, true, lsi, lsi, name);
	if (r < 0) {
		idmap_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

struct idmap *idmap_free(struct idmap *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i]);
	free(m->e);
	free(m->by_hit.slot);
	free(m->by_lsi.slot);
	free(m->by_name.slot);
	free(m);
	return NULL;
}

/* -EEXIST when binding name to the entry at i (NONE: a new entry) would
 * take the own name or rename the own entry. */
static int name_check(const struct idmap *m, size_t i, const char *name)
{
	size_t holder;

	if (i != NONE && strcmp(m->e[i]->name, name) == 0)
		return 0;
	if (i != NONE && m->e[i]->self)
		return -EEXIST;
	holder = find_name(m, name);
	if (holder != NONE && m->e[holder]->self)
		return -EEXIST;
	return 0;
}

/* Binds the normalised name to the entry at i, which name_check allowed;
 * returns IDMAP_* bits. */
static int bind_name(struct idmap *m, size_t i, const char *name)
{
	struct idmap_entry *e = m->e[i];
	size_t pos;
	int bits = IDMAP_NAMED;

	if (strcmp(e->name, name) == 0)
		return 0;
	pos = find_name_pos(m, name);
	if (pos != NONE) {
		m->e[m->by_name.slot[pos] - 1]->name[0] = '\0';
		name_delete(m, pos);
		bits |= IDMAP_NAME_MOVED;
	}
	if (e->name[0])
		name_delete(m, find_name_pos(m, e->name));
	memcpy(e->name, name, strlen(name) + 1);
	index_put(&m->by_name, hash_name(name), i);
	return bits;
}

/* Appends an entry for a HIT the table does not hold; returns IDMAP_* bits
 * with *ret_i set to its index. */
static int entry_new(struct idmap *m, const struct hit *hit, size_t *ret_i)
{
	uint32_t canon, lsi;
	int r;

	if (m->n == m->cfg.max_entries)
		return -ENOSPC;
	canon = idmap_lsi_for_hit(&m->cfg, hit);
	lsi = lsi_free(m, canon);
	if (!lsi)
		return -ENOSPC;
	r = entry_append(m, hit, false, lsi, canon, "");
	if (r < 0)
		return r;
	*ret_i = m->n - 1;
	return IDMAP_ADDED | (lsi != canon ? IDMAP_COLLISION : 0);
}

int idmap_add(struct idmap *m, const struct hit *hit, const char *name,
              const struct idmap_entry **ret)
{
	char norm[DNS_NAME_MAX + 1];
	size_t i = find_hit(m, hit);
	int bits = 0, r = normalize_opt(name, norm);

	if (r < 0)
		return r;
	if (norm[0] && (r = name_check(m, i, norm)) < 0)
		return r;
	if (i == NONE) {
		bits = entry_new(m, hit, &i);
		if (bits < 0)
			return bits;
	}
	if (norm[0])
		bits |= bind_name(m, i, norm);
	if (ret)
		*ret = m->e[i];
	return bits;
}

/* ---- lookups ---- */

static const struct idmap_entry *entry_at(const struct idmap *m, size_t i)
{
	return i == NONE ? NULL : m->e[i];
}

const struct idmap_entry *idmap_by_hit(const struct idmap *m, const struct hit *hit)
{
	return entry_at(m, find_hit(m, hit));
}

const struct idmap_entry *idmap_by_lsi(const struct idmap *m, uint32_t lsi)
{
	return entry_at(m, find_lsi(m, lsi));
}

const struct idmap_entry *idmap_by_name(const struct idmap *m, const char *name)
{
	char norm[DNS_NAME_MAX + 1];

	if (!name || dns_name_normalize(name, norm) < 0)
		return NULL;
	return entry_at(m, find_name(m, norm));
}

const struct idmap_entry *idmap_self(const struct idmap *m)
{
	return m->e[0];
}

size_t idmap_count(const struct idmap *m)
{
	return m->n;
}

const struct idmap_entry *idmap_get(const struct idmap *m, size_t i)
{
	return i < m->n ? m->e[i] : NULL;
}
