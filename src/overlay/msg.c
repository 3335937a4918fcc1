/* SPDX-License-Identifier: MIT */
/* msg.c: overlay message parsing and building (strict, bounded, big-endian). */
#include "overlay/msg.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "overlay/record.h"

#define VIA_COUNT_OFF 28
#define WIRE_FAM_NONE 0
#define WIRE_FAM_IPV4 4
#define WIRE_FAM_IPV6 6
#define FLAGS_KNOWN   (OVL_MSG_F_MAINT | OVL_MSG_F_DIRECT)

enum ovl_msg_class ovl_msg_class(uint8_t type)
{
	switch (type) {
	case OVL_MSG_FIND:
	case OVL_MSG_GET:
	case OVL_MSG_PUT:
	case OVL_MSG_HIP:
		return OVL_CLASS_REQUEST;
	case OVL_MSG_FIND_REPLY:
	case OVL_MSG_GET_REPLY:
	case OVL_MSG_PUT_REPLY:
	case OVL_MSG_ERROR:
		return OVL_CLASS_REPLY;
	default:
		return OVL_CLASS_DIRECT;
	}
}

const char *ovl_msg_type_name(uint8_t type)
{
	static const char *const names[] = {
	        [OVL_MSG_PING] = "PING",
	        [OVL_MSG_PONG] = "PONG",
	        [OVL_MSG_HOP_ACK] = "HOP_ACK",
	        [OVL_MSG_FIND] = "FIND",
	        [OVL_MSG_FIND_REPLY] = "FIND_REPLY",
	        [OVL_MSG_GET] = "GET",
	        [OVL_MSG_GET_REPLY] = "GET_REPLY",
	        [OVL_MSG_PUT] = "PUT",
	        [OVL_MSG_PUT_REPLY] = "PUT_REPLY",
	        [OVL_MSG_STORE] = "STORE",
	        [OVL_MSG_LEAVE] = "LEAVE",
	        [OVL_MSG_HIP] = "HIP",
	        [OVL_MSG_ERROR] = "ERROR",
	};

	if (type < ARRAY_SIZE(names) && names[type])
		return names[type];
	return "?";
}

static bool type_known(uint8_t type)
{
	return type >= OVL_MSG_PING && type <= OVL_MSG_ERROR;
}

/* ---- parsing ---- */

static int parse_blob(struct reader *r, size_t max, struct ovl_msg *m)
{
	uint16_t len;
	int e;

	if ((e = reader_be16(r, &len)) < 0)
		return e;
	if (len == 0 || len > max)
		return -EBADMSG;
	m->data_len = len;
	return reader_take(r, len, &m->data);
}

static int parse_contacts(struct reader *r, struct ovl_msg *m)
{
	struct ovl_contact c;
	size_t start = r->off;
	uint8_t n;
	int e;

	if ((e = reader_u8(r, &n)) < 0)
		return e;
	if (n > OVL_MSG_CONTACTS_MAX)
		return -EBADMSG;
	start = r->off;
	for (unsigned i = 0; i < n; i++)
		if ((e = ovl_msg_next_contact(r, &c)) < 0)
			return e;
	m->count = n;
	m->data = r->p + start;
	m->data_len = r->off - start;
	return 0;
}

static int parse_records(struct reader *r, struct ovl_msg *m)
{
	const uint8_t *rec;
	size_t start, len;
	uint8_t n;
	int e;

	if ((e = reader_u8(r, &m->status)) < 0 || (e = reader_u8(r, &n)) < 0)
		return e;
	if (m->status == OVL_GET_FOUND) {
		if (n == 0 || n > OVL_MSG_RECORDS_MAX)
			return -EBADMSG;
	} else if (m->status != OVL_GET_NOT_FOUND || n != 0) {
		return -EBADMSG;
	}
	start = r->off;
	for (unsigned i = 0; i < n; i++)
		if ((e = ovl_msg_next_record(r, &rec, &len)) < 0)
			return e;
	m->count = n;
	m->data = r->p + start;
	m->data_len = r->off - start;
	return 0;
}

static int parse_put_reply(struct reader *r, struct ovl_msg *m)
{
	int e;

	if ((e = reader_u8(r, &m->status)) < 0 || (e = reader_u8(r, &m->code)) < 0)
		return e;
	if (m->status == OVL_PUT_OK)
		return m->code == OVL_PUT_R_NONE ? 0 : -EBADMSG;
	if (m->status != OVL_PUT_REFUSED || m->code == OVL_PUT_R_NONE ||
	    m->code > OVL_PUT_R_INVALID)
		return -EBADMSG;
	return 0;
}

static int parse_body(struct reader *r, struct ovl_msg *m)
{
	int e;

	switch (m->type) {
	case OVL_MSG_FIND_REPLY:
		return parse_contacts(r, m);
	case OVL_MSG_GET_REPLY:
		return parse_records(r, m);
	case OVL_MSG_PUT:
	case OVL_MSG_STORE:
		return parse_blob(r, OVL_RECORD_MAX, m);
	case OVL_MSG_HIP:
		return parse_blob(r, OVL_HIP_MAX, m);
	case OVL_MSG_PUT_REPLY:
		return parse_put_reply(r, m);
	case OVL_MSG_ERROR:
		if ((e = reader_u8(r, &m->code)) < 0)
			return e;
		return m->code == OVL_ERR_TTL ? 0 : -EBADMSG;
	default: /* PING, PONG, HOP_ACK, FIND, GET, LEAVE: no body */
		return 0;
	}
}

static int check_header(const struct ovl_msg *m, uint8_t version)
{
	enum ovl_msg_class cls = ovl_msg_class(m->type);

	if (version != OVL_MSG_VERSION || !type_known(m->type) || (m->flags & ~FLAGS_KNOWN))
		return -EBADMSG;
	if ((m->flags & OVL_MSG_F_DIRECT) && m->type != OVL_MSG_GET)
		return -EBADMSG;
	if (m->nvia > OVL_VIA_MAX)
		return -EBADMSG;
	if (cls == OVL_CLASS_DIRECT ? m->nvia != 0 : m->nvia == 0)
		return -EBADMSG;
	/* A request with no hop left could never have been sent. */
	if (cls == OVL_CLASS_REQUEST && m->ttl == 0)
		return -EBADMSG;
	return 0;
}

int ovl_msg_parse(const uint8_t *buf, size_t len, struct ovl_msg *ret)
{
	struct reader r = reader_init(buf, len);
	struct ovl_msg m = {0};
	const uint8_t *p;
	uint8_t version, nvia;
	int e;

	if (len > OVL_MSG_MAX)
		return -EBADMSG;
	if ((e = reader_u8(&r, &version)) < 0 || (e = reader_u8(&r, &m.type)) < 0 ||
	    (e = reader_u8(&r, &m.flags)) < 0 || (e = reader_u8(&r, &m.ttl)) < 0 ||
	    (e = reader_be64(&r, &m.txid)) < 0 || (e = reader_take(&r, OVL_ID_LEN, &p)) < 0 ||
	    (e = reader_u8(&r, &nvia)) < 0)
		return e;
	memcpy(m.target.b, p, OVL_ID_LEN);
	m.nvia = nvia;
	if ((e = check_header(&m, version)) < 0)
		return e;
	if ((e = reader_take(&r, m.nvia * OVL_ID_LEN, &m.via)) < 0)
		return e;
	m.body_off = r.off;
	if ((e = parse_body(&r, &m)) < 0)
		return e;
	if (reader_left(&r) != 0)
		return -EBADMSG;
	*ret = m;
	return 0;
}

void ovl_msg_via(const struct ovl_msg *m, size_t i, struct ovl_id *ret)
{
	memcpy(ret->b, m->via + i * OVL_ID_LEN, OVL_ID_LEN);
}

bool ovl_msg_via_has(const struct ovl_msg *m, const struct ovl_id *id)
{
	for (size_t i = 0; i < m->nvia; i++)
		if (memcmp(m->via + i * OVL_ID_LEN, id->b, OVL_ID_LEN) == 0)
			return true;
	return false;
}

static void contact_set_addr(struct ovl_contact *c, uint8_t fam, uint16_t port, const uint8_t *a)
{
	memset(&c->addr, 0, sizeof(c->addr));
	c->addrlen = 0;
	if (fam == WIRE_FAM_IPV4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&c->addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a, 4);
		c->addrlen = sizeof(*sin);
	} else if (fam == WIRE_FAM_IPV6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c->addr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a, 16);
		c->addrlen = sizeof(*sin6);
	} else {
		c->addr.ss_family = AF_UNSPEC;
	}
}

int ovl_msg_next_contact(struct reader *r, struct ovl_contact *ret)
{
	const uint8_t *id, *hit, *a = NULL;
	uint16_t port;
	uint8_t fam;
	int e;

	if ((e = reader_take(r, OVL_ID_LEN, &id)) < 0 || (e = reader_take(r, HIT_LEN, &hit)) < 0 ||
	    (e = reader_u8(r, &fam)) < 0 || (e = reader_be16(r, &port)) < 0)
		return e;
	switch (fam) {
	case WIRE_FAM_NONE:
		if (port != 0)
			return -EBADMSG;
		break;
	case WIRE_FAM_IPV4:
		e = reader_take(r, 4, &a);
		break;
	case WIRE_FAM_IPV6:
		e = reader_take(r, 16, &a);
		break;
	default:
		return -EBADMSG;
	}
	if (e < 0)
		return e;
	memcpy(ret->id.b, id, OVL_ID_LEN);
	memcpy(ret->hit.b, hit, HIT_LEN);
	contact_set_addr(ret, fam, port, a);
	return 0;
}

int ovl_msg_next_record(struct reader *r, const uint8_t **ret, size_t *ret_len)
{
	uint16_t len;
	int e;

	if ((e = reader_be16(r, &len)) < 0)
		return e;
	if (len == 0 || len > OVL_RECORD_MAX)
		return -EBADMSG;
	if ((e = reader_take(r, len, ret)) < 0)
		return e;
	*ret_len = len;
	return 0;
}

/* ---- building ---- */

static uint8_t *reserve(struct ovl_msg_builder *b, size_t n)
{
	uint8_t *p;

	if (b->err)
		return NULL;
	if (n > b->cap - b->len || b->len + n > OVL_MSG_MAX) {
		b->err = -ENOBUFS;
		return NULL;
	}
	p = b->buf + b->len;
	b->len += n;
	return p;
}

void ovl_msg_begin(struct ovl_msg_builder *b, uint8_t *buf, size_t cap, uint8_t type, uint8_t flags,
                   uint8_t ttl, uint64_t txid, const struct ovl_id *target)
{
	uint8_t *p;

	*b = (struct ovl_msg_builder){.buf = buf, .cap = cap};
	if (!type_known(type) || (flags & ~FLAGS_KNOWN)) {
		b->err = -EINVAL;
		return;
	}
	p = reserve(b, OVL_MSG_HDR_LEN);
	if (!p)
		return;
	p[0] = OVL_MSG_VERSION;
	p[1] = type;
	p[2] = flags;
	p[3] = ttl;
	store_be64(p + 4, txid);
	memcpy(p + 12, target->b, OVL_ID_LEN);
	p[VIA_COUNT_OFF] = 0;
}

void ovl_msg_add_via(struct ovl_msg_builder *b, const uint8_t *ids, size_t n)
{
	uint8_t *p;

	if (b->err)
		return;
	if (b->body || b->buf[VIA_COUNT_OFF] + n > OVL_VIA_MAX) {
		b->err = -EINVAL;
		return;
	}
	p = reserve(b, n * OVL_ID_LEN);
	if (!p)
		return;
	if (n)
		memcpy(p, ids, n * OVL_ID_LEN);
	b->buf[VIA_COUNT_OFF] = (uint8_t)(b->buf[VIA_COUNT_OFF] + n);
}

void ovl_msg_add_u8(struct ovl_msg_builder *b, uint8_t v)
{
	uint8_t *p = reserve(b, 1);

	b->body = true;
	if (p)
		*p = v;
}

void ovl_msg_add_blob(struct ovl_msg_builder *b, const uint8_t *data, size_t len)
{
	uint8_t *p;

	b->body = true;
	if (!b->err && (len == 0 || len > UINT16_MAX)) {
		b->err = -EINVAL;
		return;
	}
	p = reserve(b, 2 + len);
	if (!p)
		return;
	store_be16(p, (uint16_t)len);
	memcpy(p + 2, data, len);
}

void ovl_msg_begin_list(struct ovl_msg_builder *b)
{
	uint8_t *p = reserve(b, 1);

	b->body = true;
	if (!p)
		return;
	*p = 0;
	b->count_off = (size_t)(p - b->buf);
}

static bool list_add(struct ovl_msg_builder *b, unsigned max)
{
	if (b->err)
		return false;
	if (b->count_off == 0 || b->buf[b->count_off] >= max) {
		b->err = -EINVAL;
		return false;
	}
	b->buf[b->count_off]++;
	return true;
}

static uint8_t wire_family(const struct ovl_contact *c)
{
	if (c->addr.ss_family == AF_INET && c->addrlen >= sizeof(struct sockaddr_in))
		return WIRE_FAM_IPV4;
	if (c->addr.ss_family == AF_INET6 && c->addrlen >= sizeof(struct sockaddr_in6))
		return WIRE_FAM_IPV6;
	return WIRE_FAM_NONE;
}

size_t ovl_msg_contact_len(const struct ovl_contact *c)
{
	switch (wire_family(c)) {
	case WIRE_FAM_IPV4:
		return 2 * OVL_ID_LEN + 3 + 4;
	case WIRE_FAM_IPV6:
		return 2 * OVL_ID_LEN + 3 + 16;
	default:
		return 2 * OVL_ID_LEN + 3;
	}
}

void ovl_msg_add_contact(struct ovl_msg_builder *b, const struct ovl_contact *c)
{
	uint8_t fam = wire_family(c);
	uint8_t *p;

	if (!list_add(b, OVL_MSG_CONTACTS_MAX))
		return;
	p = reserve(b, ovl_msg_contact_len(c));
	if (!p)
		return;
	memcpy(p, c->id.b, OVL_ID_LEN);
	memcpy(p + OVL_ID_LEN, c->hit.b, HIT_LEN);
	p += 2 * OVL_ID_LEN;
	p[0] = fam;
	if (fam == WIRE_FAM_IPV4) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&c->addr;

		store_be16(p + 1, ntohs(sin->sin_port));
		memcpy(p + 3, &sin->sin_addr, 4);
	} else if (fam == WIRE_FAM_IPV6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&c->addr;

		store_be16(p + 1, ntohs(sin6->sin6_port));
		memcpy(p + 3, &sin6->sin6_addr, 16);
	} else {
		store_be16(p + 1, 0);
	}
}

void ovl_msg_add_record(struct ovl_msg_builder *b, const uint8_t *rec, size_t len)
{
	uint8_t *p;

	if (!b->err && (len == 0 || len > OVL_RECORD_MAX)) {
		b->err = -EINVAL;
		return;
	}
	if (!list_add(b, OVL_MSG_RECORDS_MAX))
		return;
	p = reserve(b, 2 + len);
	if (!p)
		return;
	store_be16(p, (uint16_t)len);
	memcpy(p + 2, rec, len);
}

bool ovl_msg_fits(const struct ovl_msg_builder *b, size_t len)
{
	size_t cap = b->cap < OVL_MSG_MAX ? b->cap : OVL_MSG_MAX;

	return !b->err && b->len + 2 + len <= cap;
}

int ovl_msg_finish(struct ovl_msg_builder *b)
{
	if (b->err)
		return b->err;
	if (b->len < OVL_MSG_HDR_LEN)
		return -EINVAL;
	return (int)b->len;
}

/* ---- transforms ---- */

int ovl_msg_forward(const uint8_t *in, size_t len, const struct ovl_msg *m, const struct ovl_id *id,
                    uint8_t ttl, uint8_t *out, size_t cap)
{
	size_t via_end = OVL_MSG_HDR_LEN + m->nvia * OVL_ID_LEN;

	if (m->nvia >= OVL_VIA_MAX || m->body_off != via_end || len < via_end)
		return -EINVAL;
	if (len + OVL_ID_LEN > cap || len + OVL_ID_LEN > OVL_MSG_MAX)
		return -ENOBUFS;
	memcpy(out, in, via_end);
	memcpy(out + via_end, id->b, OVL_ID_LEN);
	memcpy(out + via_end + OVL_ID_LEN, in + via_end, len - via_end);
	out[3] = ttl;
	out[VIA_COUNT_OFF] = (uint8_t)(m->nvia + 1);
	return (int)(len + OVL_ID_LEN);
}

int ovl_msg_pop_via(const uint8_t *in, size_t len, const struct ovl_msg *m, uint8_t *out,
                    size_t cap)
{
	size_t via_end = OVL_MSG_HDR_LEN + m->nvia * OVL_ID_LEN;

	if (m->nvia == 0 || m->body_off != via_end || len < via_end)
		return -EINVAL;
	if (len - OVL_ID_LEN > cap)
		return -ENOBUFS;
	memcpy(out, in, via_end - OVL_ID_LEN);
	memcpy(out + via_end - OVL_ID_LEN, in + via_end, len - via_end);
	out[VIA_COUNT_OFF] = (uint8_t)(m->nvia - 1);
	return (int)(len - OVL_ID_LEN);
}
