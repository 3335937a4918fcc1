/* SPDX-License-Identifier: MIT */
/* store.c: the records held for the overlay: hash tables by key and by owner, P2PNS rules. */
#include "overlay/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/random.h"
#include "overlay/id.h"
#include "overlay/record.h"

#define HTAB_MIN_SLOTS 16

/* An intrusive chained hash table keyed by a 16-byte ID. Owners' HITs are
 * 16 bytes as well and share the code. */
struct hlink {
	struct hlink *next;
	struct ovl_id id;
};

struct htab {
	struct hlink **slots;
	size_t nslots; /* a power of two */
	size_t count;
	uint64_t seed;
};

/* Quota accounting for one owner HIT. */
struct owner {
	struct hlink link; /* first: a struct hlink * is a struct owner * */
	size_t records, bytes;
};

struct rec;

/* All records under one key, in arrival order. */
struct keyslot {
	struct hlink link; /* first, as in struct owner */
	size_t n;
	struct rec *head;
};

struct rec {
	struct rec *next_in_key;
	/* Every record, in arrival order: foreach and expire walk this list, so
	 * their order does not depend on the tables' random seed. */
	struct rec *prev, *next;
	struct keyslot *slot;
	struct owner *own;
	struct ovl_record r; /* parsed index; pointers into buf */
	size_t len;
	uint8_t buf[];
};

struct ovl_store {
	size_t quota_records, quota_bytes, max_bytes;
	unsigned branch_limit;
	struct htab keys, owners;
	struct rec *first, *last;
	size_t count, bytes;
};

static int htab_init(struct htab *t, uint64_t seed)
{
	t->slots = calloc(HTAB_MIN_SLOTS, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->nslots = HTAB_MIN_SLOTS;
	t->count = 0;
	t->seed = seed;
	return 0;
}

static size_t htab_index(const struct htab *t, const struct ovl_id *id)
{
	return (size_t)(ovl_id_hash(id, t->seed) & (t->nslots - 1));
}

static struct hlink *htab_find(const struct htab *t, const struct ovl_id *id)
{
	for (struct hlink *l = t->slots[htab_index(t, id)]; l; l = l->next)
		if (ovl_id_eq(&l->id, id))
			return l;
	return NULL;
}

static void htab_resize(struct htab *t, size_t nslots)
{
	struct hlink **slots = calloc(nslots, sizeof(*slots));
	struct hlink **old = t->slots;
	size_t nold = t->nslots;

	/* Without memory the table keeps its size: longer chains, same answers. */
	if (!slots)
		return;
	t->slots = slots;
	t->nslots = nslots;
	for (size_t i = 0; i < nold; i++) {
		struct hlink *l = old[i], *next;

		for (; l; l = next) {
			size_t j = htab_index(t, &l->id);

			next = l->next;
			l->next = slots[j];
			slots[j] = l;
		}
	}
	free(old);
}

static void htab_insert(struct htab *t, struct hlink *l)
{
	size_t i;

	if (t->count >= t->nslots && t->nslots <= SIZE_MAX / 2 / sizeof(*t->slots))
		htab_resize(t, t->nslots * 2);
	i = htab_index(t, &l->id);
	l->next = t->slots[i];
	t->slots[i] = l;
	t->count++;
}

static void htab_unlink(struct htab *t, struct hlink *l)
{
	struct hlink **pp = &t->slots[htab_index(t, &l->id)];

	while (*pp != l)
		pp = &(*pp)->next;
	*pp = l->next;
	t->count--;
}

/* Shrinks after mass expiry so an idle node gives its memory back. */
static void htab_shrink(struct htab *t)
{
	size_t n = t->nslots;

	while (n > HTAB_MIN_SLOTS && t->count < n / 8)
		n /= 2;
	if (n != t->nslots)
		htab_resize(t, n);
}

static struct ovl_id hit_as_id(const struct hit *h)
{
	struct ovl_id id;

	memcpy(id.b, h->b, OVL_ID_LEN);
	return id;
}

static struct keyslot *find_slot(const struct ovl_store *s, const struct ovl_id *key)
{
	return (struct keyslot *)htab_find(&s->keys, key);
}

static struct owner *find_owner(const struct ovl_store *s, const struct hit *hit)
{
	struct ovl_id id = hit_as_id(hit);

	return (struct owner *)htab_find(&s->owners, &id);
}

int ovl_store_new(const struct ovl_config *cfg, struct ovl_store **ret)
{
	struct ovl_store *s;
	uint64_t seed[2];
	int e;

	if (!cfg || !ret)
		return -EINVAL;
	e = crypto_random(seed, sizeof(seed));
	if (e < 0)
		return e;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->quota_records = cfg->quota_records_per_owner;
	s->quota_bytes = cfg->quota_bytes_per_owner;
	s->max_bytes = cfg->max_store_bytes;
	s->branch_limit = cfg->relay_branch_limit;
	if (htab_init(&s->keys, seed[0]) < 0 || htab_init(&s->owners, seed[1]) < 0) {
		free(s->keys.slots);
		free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

struct ovl_store *ovl_store_free(struct ovl_store *s)
{
	if (!s)
		return NULL;
	for (struct rec *r = s->first, *next; r; r = next) {
		next = r->next;
		free(r);
	}
	for (size_t i = 0; i < s->keys.nslots; i++)
		for (struct hlink *l = s->keys.slots[i], *next; l; l = next) {
			next = l->next;
			free(l);
		}
	for (size_t i = 0; i < s->owners.nslots; i++)
		for (struct hlink *l = s->owners.slots[i], *next; l; l = next) {
			next = l->next;
			free(l);
		}
	free(s->keys.slots);
	free(s->owners.slots);
	free(s);
	return NULL;
}

static void list_unlink(struct ovl_store *s, struct rec *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		s->first = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		s->last = r->prev;
}

static void list_append(struct ovl_store *s, struct rec *r)
{
	r->next = NULL;
	r->prev = s->last;
	if (s->last)
		s->last->next = r;
	else
		s->first = r;
	s->last = r;
}

/* Drops one record and whatever key slot or owner entry it was the last of. */
static void drop(struct ovl_store *s, struct rec *r)
{
	struct keyslot *slot = r->slot;
	struct owner *own = r->own;
	struct rec **pp = &slot->head;

	while (*pp != r)
		pp = &(*pp)->next_in_key;
	*pp = r->next_in_key;
	list_unlink(s, r);
	s->count--;
	s->bytes -= r->len;
	own->records--;
	own->bytes -= r->len;
	if (--slot->n == 0) {
		htab_unlink(&s->keys, &slot->link);
		free(slot);
	}
	if (own->records == 0) {
		htab_unlink(&s->owners, &own->link);
		free(own);
	}
	free(r);
}

/* An expired record no longer blocks its name or takes a branch place. */
static struct keyslot *purge_expired(struct ovl_store *s, const struct ovl_id *key, uint64_t now)
{
	struct keyslot *slot = find_slot(s, key);
	struct rec *r, *next;

	if (!slot)
		return NULL;
	for (r = slot->head; r; r = next) {
		next = r->next_in_key;
		if (r->r.expires <= now) {
			if (slot->n == 1) {
				drop(s, r);
				return NULL;
			}
			drop(s, r);
		}
	}
	return slot;
}

static int check_quota(const struct ovl_store *s, const struct owner *own, size_t add_records,
                       size_t old_bytes, size_t new_bytes)
{
	size_t records = (own ? own->records : 0) + add_records;
	size_t bytes = (own ? own->bytes : 0) - old_bytes + new_bytes;
	size_t total = s->bytes - old_bytes + new_bytes;

	if (records > s->quota_records || bytes > s->quota_bytes || total > s->max_bytes)
		return -EDQUOT;
	return 0;
}

/* A copy of buf with its parsed index, consistent with what the caller verified. */
static int rec_new(const uint8_t *buf, size_t len, const struct ovl_record *rec, struct rec **ret)
{
	struct rec *r = malloc(sizeof(*r) + len);
	int e;

	if (!r)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	memcpy(r->buf, buf, len);
	r->len = len;
	e = ovl_record_parse(r->buf, len, &r->r);
	if (e == 0 && (r->r.kind != rec->kind || !ovl_id_eq(&r->r.key, &rec->key) ||
	               r->r.seq != rec->seq || r->r.expires != rec->expires))
		e = -EINVAL;
	if (e < 0) {
		free(r);
		return e;
	}
	r->r.owner = rec->owner;
	*ret = r;
	return 0;
}

/* Links a new record (old == NULL) or puts it in old's place. */
static int link_rec(struct ovl_store *s, struct keyslot *slot, struct rec *r, struct rec *old)
{
	struct owner *own = old ? old->own : find_owner(s, &r->r.owner);
	bool new_slot = !slot, new_owner = !own;

	if (new_slot && !(slot = calloc(1, sizeof(*slot))))
		return -ENOMEM;
	if (new_owner && !(own = calloc(1, sizeof(*own)))) {
		if (new_slot)
			free(slot);
		return -ENOMEM;
	}
	if (new_slot) {
		slot->link.id = r->r.key;
		htab_insert(&s->keys, &slot->link);
	}
	if (new_owner) {
		own->link.id = hit_as_id(&r->r.owner);
		htab_insert(&s->owners, &own->link);
	}
	r->slot = slot;
	r->own = own;
	if (old) {
		struct rec **pp = &slot->head;

		while (*pp != old)
			pp = &(*pp)->next_in_key;
		r->next_in_key = old->next_in_key;
		*pp = r;
		list_unlink(s, old);
		s->count--;
		s->bytes -= old->len;
		own->records--;
		own->bytes -= old->len;
		free(old);
	} else {
		struct rec **pp = &slot->head;

		while (*pp)
			pp = &(*pp)->next_in_key;
		*pp = r;
		slot->n++;
	}
	list_append(s, r);
	s->count++;
	s->bytes += r->len;
	own->records++;
	own->bytes += r->len;
	return 0;
}

/* The record under slot that a put of rec competes with: for a name, the
 * holder of the name whoever owns it; for a relay branch, rec's owner's own. */
static struct rec *competitor(const struct keyslot *slot, const struct ovl_record *rec)
{
	if (!slot)
		return NULL;
	for (struct rec *r = slot->head; r; r = r->next_in_key)
		if (rec->kind == OVL_RECORD_NAME || hit_cmp(&r->r.owner, &rec->owner) == 0)
			return r;
	return NULL;
}

static int admit(const struct ovl_store *s, const struct keyslot *slot, const struct rec *old,
                 size_t len, const struct ovl_record *rec)
{
	if (slot && slot->head->r.kind != rec->kind)
		return -EEXIST;
	if (old && hit_cmp(&old->r.owner, &rec->owner) != 0)
		return -EEXIST;
	if (old)
		return rec->seq <= old->r.seq ? -ESTALE
		                              : check_quota(s, old->own, 0, old->len, len);
	if (rec->kind == OVL_RECORD_RELAY && slot && slot->n >= s->branch_limit)
		return -ENOSPC;
	if (rec->kind == OVL_RECORD_RELAY && s->branch_limit == 0)
		return -ENOSPC;
	return check_quota(s, find_owner(s, &rec->owner), 1, 0, len);
}

int ovl_store_put(struct ovl_store *s, const uint8_t *buf, size_t len, const struct ovl_record *rec,
                  uint64_t now)
{
	struct keyslot *slot;
	struct rec *old, *r;
	int e;

	if (!s || !buf || !rec || len == 0 || len > OVL_RECORD_MAX)
		return -EINVAL;
	if (rec->kind != OVL_RECORD_NAME && rec->kind != OVL_RECORD_RELAY)
		return -EINVAL;
	if (rec->expires <= now)
		return -ETIME;
	slot = purge_expired(s, &rec->key, now);
	old = competitor(slot, rec);
	if (old && hit_cmp(&old->r.owner, &rec->owner) == 0 && old->len == len &&
	    memcmp(old->buf, buf, len) == 0)
		return 0;
	e = admit(s, slot, old, len, rec);
	if (e < 0)
		return e;
	e = rec_new(buf, len, rec, &r);
	if (e < 0)
		return e;
	e = link_rec(s, slot, r, old);
	if (e < 0) {
		free(r);
		return e;
	}
	return 1;
}

const uint8_t *ovl_store_get(const struct ovl_store *s, const struct ovl_id *key, size_t i,
                             size_t *ret_len, uint64_t now)
{
	const struct keyslot *slot;

	if (!s || !key)
		return NULL;
	slot = find_slot(s, key);
	for (const struct rec *r = slot ? slot->head : NULL; r; r = r->next_in_key) {
		if (r->r.expires <= now)
			continue;
		if (i-- == 0) {
			if (ret_len)
				*ret_len = r->len;
			return r->buf;
		}
	}
	return NULL;
}

size_t ovl_store_expire(struct ovl_store *s, uint64_t now)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (struct rec *r = s->first, *next; r; r = next) {
		next = r->next;
		if (r->r.expires <= now) {
			drop(s, r);
			n++;
		}
	}
	htab_shrink(&s->keys);
	htab_shrink(&s->owners);
	return n;
}

void ovl_store_foreach(const struct ovl_store *s, uint64_t now,
                       bool (*fn)(void *arg, const struct ovl_id *key, const uint8_t *buf,
                                  size_t len),
                       void *arg)
{
	if (!s || !fn)
		return;
	/* next is read first: fn may remove the record it is given. */
	for (const struct rec *r = s->first, *next; r; r = next) {
		next = r->next;
		if (r->r.expires > now && !fn(arg, &r->r.key, r->buf, r->len))
			return;
	}
}

void ovl_store_remove(struct ovl_store *s, const struct ovl_id *key, const struct hit *owner)
{
	struct keyslot *slot;

	if (!s || !key || !owner)
		return;
	slot = find_slot(s, key);
	for (struct rec *r = slot ? slot->head : NULL; r; r = r->next_in_key)
		if (hit_cmp(&r->r.owner, owner) == 0) {
			drop(s, r);
			return;
		}
}

size_t ovl_store_count(const struct ovl_store *s)
{
	return s ? s->count : 0;
}

size_t ovl_store_bytes(const struct ovl_store *s)
{
	return s ? s->bytes : 0;
}
