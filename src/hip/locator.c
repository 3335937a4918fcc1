/* SPDX-License-Identifier: MIT */
/* locator.c: LOCATOR_SET and NAT_TRAVERSAL_MODE on the wire. */
#include "hip/locator.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "hip/msg.h"
#include "hip/wire.h"

#define ENTRY_HDR_LEN 8

/* Locator length in 4-byte words, per type. */
static size_t locator_words(uint8_t type)
{
	switch (type) {
	case HIP_LOCATOR_IPV6:
		return 4;
	case HIP_LOCATOR_ESP_IPV6:
		return 5;
	case HIP_LOCATOR_TRANSPORT:
		return 7;
	default:
		return 0;
	}
}

static void entry_write(uint8_t *p, const struct hip_locator_entry *e)
{
	size_t words = locator_words(e->type);
	uint8_t *l = p + ENTRY_HDR_LEN;

	p[0] = e->traffic;
	p[1] = e->type;
	p[2] = (uint8_t)words;
	p[3] = e->preferred ? 1 : 0;
	store_be32(p + 4, e->lifetime);
	switch (e->type) {
	case HIP_LOCATOR_IPV6:
		memcpy(l, e->addr, 16);
		break;
	case HIP_LOCATOR_ESP_IPV6:
		store_be32(l, e->spi);
		memcpy(l + 4, e->addr, 16);
		break;
	default:
		store_be16(l, e->port);
		l[2] = e->protocol;
		l[3] = e->kind;
		store_be32(l + 4, e->priority);
		store_be32(l + 8, e->spi);
		memcpy(l + 12, e->addr, 16);
		break;
	}
}

int hip_locator_set_encode(struct hip_builder *b, const struct hip_locator_entry *e, size_t n)
{
	size_t len = 0;
	uint8_t *p;

	if (n > HIP_LOCATORS_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		if (!locator_words(e[i].type) || e[i].lifetime == 0)
			return -EINVAL;
		len += ENTRY_HDR_LEN + 4 * locator_words(e[i].type);
	}
	p = hip_builder_param(b, HIP_P_LOCATOR_SET, len);
	if (!p)
		return b->err;
	for (size_t i = 0; i < n; i++) {
		entry_write(p, &e[i]);
		p += ENTRY_HDR_LEN + 4 * locator_words(e[i].type);
	}
	return 0;
}

static int entry_read(struct reader *r, struct hip_locator_entry *e)
{
	const uint8_t *h, *l;
	size_t words;

	if (reader_take(r, ENTRY_HDR_LEN, &h) < 0)
		return -EBADMSG;
	memset(e, 0, sizeof(*e));
	e->traffic = h[0];
	e->type = h[1];
	e->preferred = h[3] & 1;
	e->lifetime = load_be32(h + 4);
	words = locator_words(e->type);
	if (!words)
		return -EPROTONOSUPPORT;
	if (h[2] != words || e->traffic > HIP_TRAFFIC_DATA || e->lifetime == 0)
		return -EBADMSG;
	if (reader_take(r, 4 * words, &l) < 0)
		return -EBADMSG;
	switch (e->type) {
	case HIP_LOCATOR_IPV6:
		memcpy(e->addr, l, 16);
		break;
	case HIP_LOCATOR_ESP_IPV6:
		e->spi = load_be32(l);
		memcpy(e->addr, l + 4, 16);
		break;
	default:
		e->port = load_be16(l);
		e->protocol = l[2];
		e->kind = l[3];
		e->priority = load_be32(l + 4);
		e->spi = load_be32(l + 8);
		memcpy(e->addr, l + 12, 16);
		if (e->kind > HIP_KIND_RELAY || e->port == 0)
			return -EBADMSG;
		break;
	}
	return 0;
}

int hip_locator_set_decode(const struct hip_param *p, struct hip_locator_entry *out, size_t cap,
                           size_t *ret_n)
{
	struct reader r;
	size_t n = 0;
	int e;

	*ret_n = 0;
	if (!p)
		return -EBADMSG;
	r = reader_init(p->val, p->len);
	while (reader_left(&r) > 0) {
		if (n == cap)
			return -E2BIG;
		e = entry_read(&r, &out[n]);
		if (e < 0)
			return e;
		n++;
	}
	*ret_n = n;
	return 0;
}

int hip_nat_mode_encode(struct hip_builder *b, const uint16_t *modes, size_t n)
{
	uint8_t *p;

	if (n == 0 || n > HIP_NAT_MODES_MAX)
		return -EINVAL;
	p = hip_builder_param(b, HIP_P_NAT_TRAVERSAL_MODE, 2 + 2 * n);
	if (!p)
		return b->err;
	store_be16(p, 0);
	for (size_t i = 0; i < n; i++)
		store_be16(p + 2 + 2 * i, modes[i]);
	return 0;
}

int hip_nat_mode_decode(const struct hip_param *p, uint16_t *out, size_t cap, size_t *ret_n)
{
	size_t n;

	*ret_n = 0;
	if (!p || p->len < 4 || (p->len - 2) % 2 != 0)
		return -EBADMSG;
	n = (p->len - 2u) / 2;
	if (n > cap)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		out[i] = load_be16(p->val + 2 + 2 * i);
	*ret_n = n;
	return 0;
}
