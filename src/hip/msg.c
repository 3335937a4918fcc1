/* SPDX-License-Identifier: MIT */
/* msg.c: HIPv2 packet parsing, building, checksum and HIP_MAC/HIP_SIGNATURE coverage. */
#include "hip/msg.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/identity.h"
#include "hip/wire.h"

#define HIP_VERSION_BYTE ((HIP_VERSION << 4) | 0x01)

/* Contents length -> total TLV size: T/L plus contents, padded to 8 (section 5.2.1). */
static size_t tlv_size(size_t len)
{
	return (4 + len + 7) & ~(size_t)7;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static int parse_header(struct reader *r, struct hip_msg *m)
{
	const uint8_t *h;
	int e = reader_take(r, HIP_HDR_LEN, &h);

	if (e < 0)
		return e;
	/* The fixed bits keep HIP apart from SHIM6; the RES bits are ignored. */
	if (h[0] != HIP_NEXT_HEADER || (h[2] & 0x80) != 0 || (h[3] & 0x01) != 1 ||
	    (h[3] >> 4) != HIP_VERSION)
		return -EBADMSG;
	if (((size_t)h[1] + 1) * 8 != r->len)
		return -EBADMSG;
	m->type = h[2] & 0x7f;
	m->checksum = load_be16(h + 4);
	m->controls = load_be16(h + 6);
	memcpy(m->sender.b, h + 8, HIT_LEN);
	memcpy(m->receiver.b, h + 24, HIT_LEN);
	return 0;
}

static int parse_param(struct reader *r, struct hip_param *p)
{
	size_t off = r->off;
	const uint8_t *val, *pad;
	uint16_t type, len;
	int e;

	if ((e = reader_be16(r, &type)) < 0 || (e = reader_be16(r, &len)) < 0 ||
	    (e = reader_take(r, len, &val)) < 0 ||
	    (e = reader_take(r, tlv_size(len) - 4 - len, &pad)) < 0)
		return e;
	if (!all_zero(pad, tlv_size(len) - 4 - len))
		return -EBADMSG;
	*p = (struct hip_param){.type = type, .len = len, .val = val, .offset = off};
	return 0;
}

int hip_msg_parse(const uint8_t *pkt, size_t len, struct hip_msg *ret)
{
	struct reader r = reader_init(pkt, len);
	int e;

	if (len < HIP_HDR_LEN || len > HIP_MAX_PACKET)
		return -EBADMSG;
	ret->raw = pkt;
	ret->len = len;
	ret->nparams = 0;
	if ((e = parse_header(&r, ret)) < 0)
		return e;
	while (reader_left(&r) > 0) {
		struct hip_param p;

		if ((e = parse_param(&r, &p)) < 0)
			return e;
		/* Equal types may repeat (several LOCATOR_SETs, ACKs). */
		if (ret->nparams > 0 && p.type < ret->params[ret->nparams - 1].type)
			return -EBADMSG;
		if (ret->nparams == HIP_MAX_PARAMS)
			return -E2BIG;
		ret->params[ret->nparams++] = p;
	}
	return 0;
}

int hip_msg_index(const struct hip_msg *m, uint16_t type)
{
	for (size_t i = 0; i < m->nparams; i++)
		if (m->params[i].type == type)
			return (int)i;
	return -1;
}

const struct hip_param *hip_msg_find(const struct hip_msg *m, uint16_t type)
{
	int i = hip_msg_index(m, type);

	return i < 0 ? NULL : &m->params[i];
}

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += load_be16(p + i);
	if (i < n)
		acc += (uint32_t)p[i] << 8;
	/* Fold now so long inputs cannot overflow the accumulator. */
	while (acc > 0xffff)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc;
}

uint16_t hip_checksum(const uint8_t *src, const uint8_t *dst, size_t alen, const uint8_t *pkt,
                      size_t len)
{
	uint8_t tail[8] = {0};
	size_t tlen;
	uint32_t acc = 0;

	acc = sum16(acc, src, alen);
	acc = sum16(acc, dst, alen);
	if (alen == 4) {
		tail[1] = HIP_PROTO;
		store_be16(tail + 2, (uint16_t)len);
		tlen = 4;
	} else {
		store_be32(tail, (uint32_t)len);
		tail[7] = HIP_PROTO;
		tlen = 8;
	}
	acc = sum16(acc, tail, tlen);
	acc = sum16(acc, pkt, len);
	return (uint16_t)~acc;
}

static void builder_fail(struct hip_builder *b, int err)
{
	if (b->err == 0)
		b->err = err;
}

void hip_builder_init(struct hip_builder *b, uint8_t *buf, size_t cap, uint8_t type,
                      const struct hit *sender, const struct hit *receiver)
{
	*b = (struct hip_builder){.buf = buf, .cap = cap < HIP_MAX_PACKET ? cap : HIP_MAX_PACKET};
	if (b->cap < HIP_HDR_LEN || type > 0x7f) {
		builder_fail(b, b->cap < HIP_HDR_LEN ? -EMSGSIZE : -EINVAL);
		return;
	}
	memset(buf, 0, HIP_HDR_LEN);
	buf[0] = HIP_NEXT_HEADER;
	buf[1] = HIP_HDR_LEN / 8 - 1;
	buf[2] = type;
	buf[3] = HIP_VERSION_BYTE;
	if (sender)
		memcpy(buf + 8, sender->b, HIT_LEN);
	if (receiver)
		memcpy(buf + 24, receiver->b, HIT_LEN);
	b->len = HIP_HDR_LEN;
}

uint8_t *hip_builder_param(struct hip_builder *b, uint16_t type, size_t len)
{
	uint8_t *p;

	if (b->err)
		return NULL;
	if (type < b->last_type || len > UINT16_MAX) {
		builder_fail(b, -EINVAL);
		return NULL;
	}
	if (tlv_size(len) > b->cap - b->len) {
		builder_fail(b, -EMSGSIZE);
		return NULL;
	}
	p = b->buf + b->len;
	store_be16(p, type);
	store_be16(p + 2, (uint16_t)len);
	memset(p + 4, 0, tlv_size(len) - 4);
	b->len += tlv_size(len);
	b->last_type = type;
	return p + 4;
}

int hip_builder_param_copy(struct hip_builder *b, uint16_t type, const void *val, size_t len)
{
	uint8_t *p = hip_builder_param(b, type, len);

	if (!p)
		return b->err;
	if (len > 0)
		memcpy(p, val, len);
	return 0;
}

/* The header as the MAC/signature coverage rules want it: a length that counts
 * exactly the covered bytes, and a zero checksum (section 6.4.1). */
static int cover_header(uint8_t *pkt, size_t covered)
{
	if (covered < HIP_HDR_LEN || covered % 8 != 0 || covered > HIP_MAX_PACKET)
		return -EBADMSG;
	pkt[1] = (uint8_t)(covered / 8 - 1);
	store_be16(pkt + 4, 0);
	return 0;
}

static bool mac_args_ok(uint16_t type, const uint8_t *extra, size_t extra_len)
{
	if (type == HIP_P_HIP_MAC)
		return extra_len == 0;
	return type == HIP_P_HIP_MAC_2 && extra_len % 8 == 0 && (extra || extra_len == 0);
}

int hip_builder_mac(struct hip_builder *b, uint16_t type, enum hash_alg alg, const uint8_t *key,
                    size_t keylen, const uint8_t *extra_tlv, size_t extra_len)
{
	uint8_t mac[HASH_MAX_LEN];
	size_t mlen = hash_len(alg);
	int e;

	if (b->err)
		return b->err;
	if (!mac_args_ok(type, extra_tlv, extra_len) || mlen == 0 || mlen > sizeof(mac) ||
	    type < b->last_type) {
		builder_fail(b, -EINVAL);
		return b->err;
	}
	if (extra_len > HIP_MAX_PACKET - b->len) {
		builder_fail(b, -EMSGSIZE);
		return b->err;
	}
	if ((e = cover_header(b->buf, b->len + extra_len)) < 0 ||
	    (e = hmac_compute2(alg, key, keylen, b->buf, b->len, extra_tlv, extra_len, mac)) < 0) {
		builder_fail(b, e);
		return e;
	}
	return hip_builder_param_copy(b, type, mac, mlen);
}

/* Finds the first TLV of a type in a well-formed packet prefix; the contents
 * offset and length, or -ENOENT. Bounds are checked all the same. */
static int tlv_find(const uint8_t *pkt, size_t len, uint16_t type, size_t *ret_off, size_t *ret_len)
{
	size_t off = HIP_HDR_LEN;

	while (len - off >= 4) {
		uint16_t t = load_be16(pkt + off);
		size_t l = load_be16(pkt + off + 2);

		if (tlv_size(l) > len - off)
			return -EBADMSG;
		if (t == type) {
			*ret_off = off + 4;
			*ret_len = l;
			return 0;
		}
		off += tlv_size(l);
	}
	return -ENOENT;
}

/* HIP_SIGNATURE_2 lets the Responder precompute R1: the receiver HIT and the
 * PUZZLE Opaque and #I are signed as zeros (section 5.2.15). */
static int zero_sig2_fields(uint8_t *pkt, size_t len)
{
	size_t off, plen;
	int e;

	memset(pkt + 24, 0, HIT_LEN);
	e = tlv_find(pkt, len, HIP_P_PUZZLE, &off, &plen);
	if (e == -ENOENT)
		return 0;
	if (e < 0)
		return e;
	if (plen > 2)
		memset(pkt + off + 2, 0, plen - 2);
	return 0;
}

/* Copies the signed prefix of a packet and applies the coverage rules. */
static int sig_coverage(const uint8_t *pkt, size_t covered, uint16_t type, uint8_t *copy)
{
	int e;

	if (covered > HIP_MAX_PACKET)
		return -EBADMSG;
	memcpy(copy, pkt, covered);
	if ((e = cover_header(copy, covered)) < 0)
		return e;
	return type == HIP_P_HIP_SIGNATURE_2 ? zero_sig2_fields(copy, covered) : 0;
}

static bool sig_type_ok(uint16_t type)
{
	return type == HIP_P_HIP_SIGNATURE || type == HIP_P_HIP_SIGNATURE_2;
}

int hip_builder_sign(struct hip_builder *b, uint16_t type, const struct identity *id)
{
	uint8_t copy[HIP_MAX_PACKET];
	uint8_t sig[2 + SIG_MAX_LEN];
	size_t siglen = SIG_MAX_LEN;
	int e;

	if (b->err)
		return b->err;
	if (!sig_type_ok(type) || type < b->last_type) {
		builder_fail(b, -EINVAL);
		return b->err;
	}
	if ((e = sig_coverage(b->buf, b->len, type, copy)) < 0 ||
	    (e = identity_sign(id, copy, b->len, sig + 2, &siglen)) < 0) {
		builder_fail(b, e);
		return e;
	}
	if (siglen > SIG_MAX_LEN) {
		builder_fail(b, -EIO);
		return b->err;
	}
	store_be16(sig, identity_algorithm(id));
	return hip_builder_param_copy(b, type, sig, 2 + siglen);
}

int hip_builder_finish(struct hip_builder *b)
{
	if (b->err)
		return b->err;
	b->buf[1] = (uint8_t)(b->len / 8 - 1);
	store_be16(b->buf + 4, 0);
	return (int)b->len;
}

int hip_msg_verify_mac(const struct hip_msg *m, uint16_t type, enum hash_alg alg,
                       const uint8_t *key, size_t keylen, const uint8_t *extra_tlv,
                       size_t extra_len)
{
	uint8_t copy[HIP_MAX_PACKET];
	const struct hip_param *p;
	int e;

	if (!mac_args_ok(type, extra_tlv, extra_len) || hash_len(alg) == 0)
		return -EINVAL;
	p = hip_msg_find(m, type);
	if (!p)
		return -ENOENT;
	if (p->len != hash_len(alg) || extra_len > HIP_MAX_PACKET - p->offset)
		return -EBADMSG;
	memcpy(copy, m->raw, p->offset);
	if ((e = cover_header(copy, p->offset + extra_len)) < 0)
		return e;
	return hmac_verify2(alg, key, keylen, copy, p->offset, extra_tlv, extra_len, p->val);
}

int hip_msg_verify_sig(const struct hip_msg *m, uint16_t type, const struct hi_pub *pub)
{
	uint8_t copy[HIP_MAX_PACKET];
	const struct hip_param *p;
	int e;

	if (!sig_type_ok(type))
		return -EINVAL;
	p = hip_msg_find(m, type);
	if (!p)
		return -ENOENT;
	if (p->len < 3 || load_be16(p->val) != hi_pub_algorithm(pub))
		return -EBADMSG;
	if ((e = sig_coverage(m->raw, p->offset, type, copy)) < 0)
		return e;
	return hi_pub_verify(pub, copy, p->offset, p->val + 2, p->len - 2u);
}
