/* SPDX-License-Identifier: MIT */
/* record.c: encoding, strict parsing and verification of owner-signed overlay records. */
#include "overlay/record.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "overlay/id.h"

#define RECORD_VERSION 1
/* Prefixed to the signed bytes so that a record signature can never be
 * mistaken for a signature over anything else the same Host Identity signs
 * (HIP packets start with their next-header byte). */
#define SIG_CONTEXT     "idloc-overlay-record"
#define SIG_CONTEXT_LEN (sizeof(SIG_CONTEXT) - 1)

/* Bytes from version to payload, i.e. everything the signature covers. */
static size_t body_len(size_t name_len, size_t hi_len, size_t payload_len)
{
	return 3 + name_len + 1 + 4 + hi_len + 16 + 2 + payload_len;
}

static bool name_valid_for(enum ovl_record_kind kind, const char *name)
{
	switch (kind) {
	case OVL_RECORD_NAME:
		return ovl_name_valid(name);
	case OVL_RECORD_RELAY:
		return ovl_relay_branch_valid(name);
	}
	return false;
}

static void key_for(enum ovl_record_kind kind, const char *name, struct ovl_id *ret)
{
	if (kind == OVL_RECORD_NAME)
		ovl_key_for_name(name, ret);
	else
		ovl_key_for_relay(name, ret);
}

/* The signed message: context | body, in one buffer because ops->sign and
 * ops->verify take one. */
static size_t signed_message(const uint8_t *body, size_t len,
                             uint8_t out[SIG_CONTEXT_LEN + OVL_RECORD_MAX])
{
	memcpy(out, SIG_CONTEXT, SIG_CONTEXT_LEN);
	memcpy(out + SIG_CONTEXT_LEN, body, len);
	return SIG_CONTEXT_LEN + len;
}

static size_t encode_body(const struct ovl_record *r, size_t name_len, uint8_t *out)
{
	uint8_t *p = out;

	*p++ = RECORD_VERSION;
	*p++ = (uint8_t)r->kind;
	*p++ = (uint8_t)(name_len + 1);
	memcpy(p, r->name, name_len);
	p += name_len;
	*p++ = 0;
	store_be16(p, r->hi_algorithm);
	store_be16(p + 2, (uint16_t)r->hi_len);
	p += 4;
	memcpy(p, r->hi, r->hi_len);
	p += r->hi_len;
	store_be64(p, r->seq);
	store_be64(p + 8, r->expires);
	store_be16(p + 16, (uint16_t)r->payload_len);
	p += 18;
	if (r->payload_len)
		memcpy(p, r->payload, r->payload_len);
	p += r->payload_len;
	return (size_t)(p - out);
}

int ovl_record_build(const struct ovl_record *r, const struct ovl_ops *ops, uint8_t *out,
                     size_t cap)
{
	uint8_t msg[SIG_CONTEXT_LEN + OVL_RECORD_MAX];
	uint8_t sig[OVL_RECORD_MAX];
	size_t name_len, len, msglen, siglen = sizeof(sig);
	int e;

	if (!r || !ops || !ops->sign || !out || !r->name || !r->hi)
		return -EINVAL;
	if (!name_valid_for(r->kind, r->name))
		return -EINVAL;
	if (r->hi_len == 0 || r->payload_len > OVL_PAYLOAD_MAX || (r->payload_len && !r->payload))
		return -EINVAL;
	name_len = strlen(r->name);
	/* The size check also bounds hi_len below UINT16_MAX. */
	len = body_len(name_len, r->hi_len, r->payload_len);
	if (r->hi_len > OVL_RECORD_MAX || len + 2 >= OVL_RECORD_MAX)
		return -EMSGSIZE;
	if (len + 2 >= cap)
		return -ENOBUFS;

	encode_body(r, name_len, out);
	msglen = signed_message(out, len, msg);
	e = ops->sign(ops->ctx, msg, msglen, sig, &siglen);
	if (e < 0)
		return e;
	if (siglen == 0 || siglen > sizeof(sig))
		return -EIO;
	if (len + 2 + siglen > OVL_RECORD_MAX)
		return -EMSGSIZE;
	if (len + 2 + siglen > cap)
		return -ENOBUFS;
	store_be16(out + len, (uint16_t)siglen);
	memcpy(out + len + 2, sig, siglen);
	return (int)(len + 2 + siglen);
}

/* The name field carries its terminating NUL so that ret->name can point into
 * the buffer; exactly one NUL, at the end. */
static int parse_name(struct reader *rd, enum ovl_record_kind kind, const char **ret)
{
	const uint8_t *p;
	uint8_t n;
	int e;

	e = reader_u8(rd, &n);
	if (e < 0)
		return e;
	if (n < 2 || n > OVL_NAME_MAX + 1)
		return -EBADMSG;
	e = reader_take(rd, n, &p);
	if (e < 0)
		return e;
	if (p[n - 1] != 0 || memchr(p, 0, n - 1))
		return -EBADMSG;
	if (!name_valid_for(kind, (const char *)p))
		return -EBADMSG;
	*ret = (const char *)p;
	return 0;
}

static int parse_blob(struct reader *rd, size_t min, size_t max, const uint8_t **p, size_t *len)
{
	uint16_t n;
	int e;

	e = reader_be16(rd, &n);
	if (e < 0)
		return e;
	if (n < min || n > max)
		return -EBADMSG;
	*len = n;
	return reader_take(rd, n, p);
}

/* Parses and returns the length of the signed body; the signature follows. */
static int parse(const uint8_t *buf, size_t len, struct ovl_record *r, const uint8_t **sig,
                 size_t *siglen)
{
	struct reader rd = reader_init(buf, len);
	uint8_t version, kind;
	size_t body;
	int e;

	if (!buf || len > OVL_RECORD_MAX)
		return -EBADMSG;
	memset(r, 0, sizeof(*r));
	if ((e = reader_u8(&rd, &version)) < 0 || (e = reader_u8(&rd, &kind)) < 0)
		return e;
	if (version != RECORD_VERSION || (kind != OVL_RECORD_NAME && kind != OVL_RECORD_RELAY))
		return -EBADMSG;
	r->kind = kind;
	if ((e = parse_name(&rd, r->kind, &r->name)) < 0 ||
	    (e = reader_be16(&rd, &r->hi_algorithm)) < 0 ||
	    (e = parse_blob(&rd, 1, OVL_RECORD_MAX, &r->hi, &r->hi_len)) < 0 ||
	    (e = reader_be64(&rd, &r->seq)) < 0 || (e = reader_be64(&rd, &r->expires)) < 0 ||
	    (e = parse_blob(&rd, 0, OVL_PAYLOAD_MAX, &r->payload, &r->payload_len)) < 0)
		return e;
	if (r->payload_len == 0)
		r->payload = NULL;
	body = rd.off;
	if ((e = parse_blob(&rd, 1, OVL_RECORD_MAX, sig, siglen)) < 0)
		return e;
	if (reader_left(&rd) != 0)
		return -EBADMSG;
	key_for(r->kind, r->name, &r->key);
	return (int)body;
}

int ovl_record_parse(const uint8_t *buf, size_t len, struct ovl_record *ret)
{
	const uint8_t *sig;
	size_t siglen;
	int e;

	if (!ret)
		return -EINVAL;
	e = parse(buf, len, ret, &sig, &siglen);
	return e < 0 ? e : 0;
}

static int check_time(uint64_t expires, uint64_t now)
{
	if (expires <= now)
		return -ETIME;
	if (expires - now > OVL_MAX_LIFETIME_MS + OVL_CLOCK_SKEW_MS)
		return -EKEYREJECTED;
	return 0;
}

int ovl_record_verify(const uint8_t *buf, size_t len, const struct ovl_ops *ops, uint64_t now,
                      struct ovl_record *ret)
{
	uint8_t msg[SIG_CONTEXT_LEN + OVL_RECORD_MAX];
	struct ovl_record r;
	const uint8_t *sig;
	size_t siglen, msglen;
	int body, e;

	if (!ops || !ops->verify || !ret)
		return -EINVAL;
	body = parse(buf, len, &r, &sig, &siglen);
	if (body < 0)
		return body;
	e = check_time(r.expires, now);
	if (e < 0)
		return e;
	msglen = signed_message(buf, (size_t)body, msg);
	e = ops->verify(ops->ctx, r.hi_algorithm, r.hi, r.hi_len, msg, msglen, sig, siglen,
	                &r.owner);
	/* Resource failures are not the record's fault; anything else is. */
	if (e == -ENOMEM)
		return e;
	if (e < 0)
		return -EKEYREJECTED;
	*ret = r;
	return 0;
}
