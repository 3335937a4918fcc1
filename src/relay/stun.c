/* SPDX-License-Identifier: MIT */
/* stun.c: STUN/TURN message parsing and building, integrity and fingerprint. */
#include "relay/stun.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <mbedtls/md.h>

#include "common/bytes.h"

#define FINGERPRINT_XOR 0x5354554eu /* RFC 8489 section 14.7 */
#define ATTR_HEADER_LEN 4

uint16_t stun_type(uint16_t method, enum stun_class cls)
{
	/* RFC 8489 section 5: the class bits C0 and C1 sit at bits 4 and 8,
	 * between the method bits. */
	unsigned m = method & 0xfff, c = (unsigned)cls & 3;

	return (uint16_t)((m & 0x000f) | (m & 0x0070) << 1 | (m & 0x0f80) << 2 | (c & 1) << 4 |
	                  (c & 2) << 7);
}

void stun_type_split(uint16_t type, uint16_t *method, enum stun_class *cls)
{
	*method = (uint16_t)((type & 0x000f) | (type & 0x00e0) >> 1 | (type & 0x3e00) >> 2);
	*cls = (enum stun_class)((type >> 4 & 1) | (type >> 7 & 2));
}

bool stun_looks_like(const uint8_t *buf, size_t len)
{
	return len >= STUN_HEADER_LEN && (buf[0] & 0xc0) == 0 && load_be32(buf + 4) == STUN_COOKIE;
}

static size_t padded(size_t len)
{
	return (len + 3) & ~(size_t)3;
}

uint32_t stun_crc32(const uint8_t *p, size_t len)
{
	/* The reflected 0xedb88320 polynomial, four bits at a time. */
	static const uint32_t nibble[16] = {
	        0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
	        0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	        0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
	};
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		c = (c >> 4) ^ nibble[c & 15];
		c = (c >> 4) ^ nibble[c & 15];
	}
	return ~c;
}

/* FINGERPRINT must be the last attribute and cover everything before it. */
static int check_fingerprint(const uint8_t *buf, size_t len, size_t off, uint16_t alen)
{
	if (alen != 4 || off + ATTR_HEADER_LEN + 4 != len)
		return -EBADMSG;
	if (load_be32(buf + off + ATTR_HEADER_LEN) != (stun_crc32(buf, off) ^ FINGERPRINT_XOR))
		return -EBADMSG;
	return 0;
}

static int index_attr(struct stun_msg *m, uint16_t type, uint16_t alen, size_t off)
{
	/* RFC 8489 section 14.5: attributes after MESSAGE-INTEGRITY (other
	 * than FINGERPRINT) are ignored. */
	if (m->integrity_off)
		return 0;
	if (m->n_attrs == STUN_MAX_ATTRS)
		return -EBADMSG;
	if (type == STUN_ATTR_MESSAGE_INTEGRITY) {
		if (alen != STUN_HMAC_LEN)
			return -EBADMSG;
		m->integrity_off = off;
	}
	m->attrs[m->n_attrs++] = (struct stun_attr){
	        .type = type, .len = alen, .value = m->buf + off + ATTR_HEADER_LEN};
	return 0;
}

static int parse_attrs(struct stun_msg *m)
{
	size_t off = STUN_HEADER_LEN;

	while (off < m->len) {
		uint16_t type, alen;
		int r;

		if (m->len - off < ATTR_HEADER_LEN)
			return -EBADMSG;
		type = load_be16(m->buf + off);
		alen = load_be16(m->buf + off + 2);
		if (padded(alen) > m->len - off - ATTR_HEADER_LEN)
			return -EBADMSG;
		if (type == STUN_ATTR_FINGERPRINT) {
			r = check_fingerprint(m->buf, m->len, off, alen);
			if (r == 0)
				m->fingerprint = true;
		} else {
			r = index_attr(m, type, alen, off);
		}
		if (r < 0)
			return r;
		off += ATTR_HEADER_LEN + padded(alen);
	}
	return 0;
}

int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *ret)
{
	/* RFC 8489 section 5: the length excludes the header and is a multiple
	 * of 4, since every attribute is padded. */
	if (!stun_looks_like(buf, len) || load_be16(buf + 2) != len - STUN_HEADER_LEN || (len & 3))
		return -EBADMSG;
	ret->buf = buf;
	ret->len = len;
	ret->n_attrs = 0;
	ret->integrity_off = 0;
	ret->fingerprint = false;
	stun_type_split(load_be16(buf), &ret->method, &ret->cls);
	memcpy(ret->txid, buf + 8, STUN_TXID_LEN);
	return parse_attrs(ret);
}

const struct stun_attr *stun_find(const struct stun_msg *m, uint16_t type)
{
	for (size_t i = 0; i < m->n_attrs; i++)
		if (m->attrs[i].type == type)
			return &m->attrs[i];
	return NULL;
}

static bool listed(const uint16_t *types, size_t n, uint16_t type)
{
	for (size_t i = 0; i < n; i++)
		if (types[i] == type)
			return true;
	return false;
}

size_t stun_unknown_required(const struct stun_msg *m, const uint16_t *known, size_t n_known,
                             uint16_t *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_attrs; i++) {
		uint16_t t = m->attrs[i].type;
		bool seen = false;

		if (t >= 0x8000 || listed(known, n_known, t))
			continue;
		/* Once listed, later copies of the type are not counted again. */
		for (size_t j = 0; j < i && !seen; j++)
			seen = m->attrs[j].type == t;
		if (seen)
			continue;
		if (n < cap)
			out[n] = t;
		n++;
	}
	return n;
}

int stun_attr_addr(const struct stun_attr *a, bool xor, const uint8_t txid[STUN_TXID_LEN],
                   struct sockaddr_storage *ret)
{
	/* RFC 8489 section 14.2: the port is xored with the cookie's top half,
	 * the address with the cookie followed by the transaction id. */
	uint8_t mask[16];
	uint16_t port;

	if (a->len < 4)
		return -EBADMSG;
	memset(mask, 0, sizeof(mask));
	if (xor) {
		store_be32(mask, STUN_COOKIE);
		memcpy(mask + 4, txid, STUN_TXID_LEN);
	}
	port = (uint16_t)(load_be16(a->value + 2) ^ load_be16(mask));
	memset(ret, 0, sizeof(*ret));
	if (a->value[1] == 0x01 && a->len == 8) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ret;
		uint8_t *ip = (uint8_t *)&sin->sin_addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		for (size_t i = 0; i < 4; i++)
			ip[i] = a->value[4 + i] ^ mask[i];
		return 0;
	}
	if (a->value[1] == 0x02 && a->len == 20) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ret;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		for (size_t i = 0; i < 16; i++)
			sin6->sin6_addr.s6_addr[i] = a->value[4 + i] ^ mask[i];
		return 0;
	}
	return -EBADMSG;
}

int stun_attr_u32(const struct stun_attr *a, uint32_t *ret)
{
	if (a->len != 4)
		return -EBADMSG;
	*ret = load_be32(a->value);
	return 0;
}

int stun_attr_error(const struct stun_attr *a, unsigned *ret)
{
	unsigned cls, num;

	/* RFC 8489 section 14.8: class 3..6 in the low bits of byte 2, number
	 * 0..99 in byte 3, then the reason phrase. */
	if (a->len < 4)
		return -EBADMSG;
	cls = a->value[2] & 7;
	num = a->value[3];
	if (cls < 3 || cls > 6 || num > 99)
		return -EBADMSG;
	*ret = cls * 100 + num;
	return 0;
}

static int md_error(int r)
{
	if (r == 0)
		return 0;
	return r == MBEDTLS_ERR_MD_ALLOC_FAILED ? -ENOMEM : -EIO;
}

int stun_long_term_key(const char *username, const char *realm, const char *password,
                       uint8_t key[STUN_KEY_LEN])
{
	const mbedtls_md_info_t *md5 = mbedtls_md_info_from_type(MBEDTLS_MD_MD5);
	const char *parts[] = {username, ":", realm, ":", password};
	mbedtls_md_context_t ctx;
	int r;

	if (!md5)
		return -EIO;
	mbedtls_md_init(&ctx);
	r = mbedtls_md_setup(&ctx, md5, 0);
	if (r == 0)
		r = mbedtls_md_starts(&ctx);
	for (size_t i = 0; i < ARRAY_SIZE(parts) && r == 0; i++)
		r = mbedtls_md_update(&ctx, (const unsigned char *)parts[i], strlen(parts[i]));
	if (r == 0)
		r = mbedtls_md_finish(&ctx, key);
	/* The context held the password in its buffer. */
	mbedtls_md_free(&ctx);
	return md_error(r);
}

/* HMAC-SHA1 over a 20-byte header whose length field is rewritten to
 * `length`, followed by body. */
static int integrity_hmac(const uint8_t *key, size_t keylen, const uint8_t *header, uint16_t length,
                          const uint8_t *body, size_t body_len, uint8_t out[STUN_HMAC_LEN])
{
	const mbedtls_md_info_t *sha1 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
	uint8_t hdr[STUN_HEADER_LEN];
	mbedtls_md_context_t ctx;
	int r;

	if (!sha1)
		return -EIO;
	memcpy(hdr, header, sizeof(hdr));
	store_be16(hdr + 2, length);
	mbedtls_md_init(&ctx);
	r = mbedtls_md_setup(&ctx, sha1, 1);
	if (r == 0)
		r = mbedtls_md_hmac_starts(&ctx, key, keylen);
	if (r == 0)
		r = mbedtls_md_hmac_update(&ctx, hdr, sizeof(hdr));
	if (r == 0)
		r = mbedtls_md_hmac_update(&ctx, body, body_len);
	if (r == 0)
		r = mbedtls_md_hmac_finish(&ctx, out);
	mbedtls_md_free(&ctx);
	return md_error(r);
}

int stun_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t keylen)
{
	uint8_t mac[STUN_HMAC_LEN];
	size_t off = m->integrity_off;
	int r;

	if (!off)
		return -ENODATA;
	/* RFC 8489 section 14.5: the length field counts up to the end of
	 * MESSAGE-INTEGRITY, as if nothing followed it. */
	r = integrity_hmac(key, keylen, m->buf,
	                   (uint16_t)(off + ATTR_HEADER_LEN + STUN_HMAC_LEN - STUN_HEADER_LEN),
	                   m->buf + STUN_HEADER_LEN, off - STUN_HEADER_LEN, mac);
	if (r < 0)
		return r;
	r = memcmp_ct(mac, m->buf + off + ATTR_HEADER_LEN, sizeof(mac)) == 0 ? 0 : -EACCES;
	memzero(mac, sizeof(mac));
	return r;
}

/* ---- building ---- */

static void set_length(struct stun_builder *b)
{
	store_be16(b->buf + 2, (uint16_t)(b->len - STUN_HEADER_LEN));
}

void stun_build_init(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
                     enum stun_class cls, const uint8_t txid[STUN_TXID_LEN])
{
	*b = (struct stun_builder){.buf = buf, .cap = cap};
	if (cap < STUN_HEADER_LEN) {
		b->err = -EMSGSIZE;
		return;
	}
	store_be16(buf, stun_type(method, cls));
	store_be32(buf + 4, STUN_COOKIE);
	memcpy(buf + 8, txid, STUN_TXID_LEN);
	b->len = STUN_HEADER_LEN;
	set_length(b);
}

uint8_t *stun_reserve(struct stun_builder *b, uint16_t type, size_t len)
{
	uint8_t *p;

	if (b->err)
		return NULL;
	if (len > 0xffff || padded(len) + ATTR_HEADER_LEN > b->cap - b->len ||
	    b->len + ATTR_HEADER_LEN + padded(len) - STUN_HEADER_LEN > 0xffff) {
		b->err = -EMSGSIZE;
		return NULL;
	}
	p = b->buf + b->len;
	store_be16(p, type);
	store_be16(p + 2, (uint16_t)len);
	memset(p + ATTR_HEADER_LEN + len, 0, padded(len) - len);
	b->len += ATTR_HEADER_LEN + padded(len);
	set_length(b);
	return p + ATTR_HEADER_LEN;
}

void stun_put(struct stun_builder *b, uint16_t type, const void *value, size_t len)
{
	uint8_t *p = stun_reserve(b, type, len);

	if (p && len)
		memcpy(p, value, len);
}

void stun_put_u32(struct stun_builder *b, uint16_t type, uint32_t v)
{
	uint8_t *p = stun_reserve(b, type, 4);

	if (p)
		store_be32(p, v);
}

void stun_put_addr(struct stun_builder *b, uint16_t type, const struct sockaddr *sa, bool xor)
{
	const uint8_t *ip;
	uint8_t mask[16] = {0};
	size_t iplen;
	uint16_t port;
	uint8_t *p;

	if (b->err)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		ip = (const uint8_t *)&sin->sin_addr;
		iplen = 4;
		port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		ip = sin6->sin6_addr.s6_addr;
		iplen = 16;
		port = ntohs(sin6->sin6_port);
	} else {
		b->err = -EAFNOSUPPORT;
		return;
	}
	if (xor) {
		store_be32(mask, STUN_COOKIE);
		memcpy(mask + 4, b->buf + 8, STUN_TXID_LEN);
	}
	p = stun_reserve(b, type, 4 + iplen);
	if (!p)
		return;
	p[0] = 0;
	p[1] = iplen == 4 ? 0x01 : 0x02;
	store_be16(p + 2, (uint16_t)(port ^ load_be16(mask)));
	for (size_t i = 0; i < iplen; i++)
		p[4 + i] = ip[i] ^ mask[i];
}

void stun_put_error(struct stun_builder *b, unsigned code, const char *reason)
{
	size_t rlen = strlen(reason);
	uint8_t *p;

	if (!b->err && (code < 300 || code > 699))
		b->err = -EINVAL;
	p = stun_reserve(b, STUN_ATTR_ERROR_CODE, 4 + rlen);
	if (!p)
		return;
	p[0] = 0;
	p[1] = 0;
	p[2] = (uint8_t)(code / 100);
	p[3] = (uint8_t)(code % 100);
	memcpy(p + 4, reason, rlen);
}

void stun_put_unknown(struct stun_builder *b, const uint16_t *types, size_t n)
{
	uint8_t *p = stun_reserve(b, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n);

	for (size_t i = 0; p && i < n; i++)
		store_be16(p + 2 * i, types[i]);
}

void stun_put_integrity(struct stun_builder *b, const uint8_t *key, size_t keylen)
{
	uint8_t mac[STUN_HMAC_LEN];
	size_t covered;
	int r;
	uint8_t *p;

	if (b->err)
		return;
	covered = b->len;
	r = integrity_hmac(key, keylen, b->buf,
	                   (uint16_t)(covered + ATTR_HEADER_LEN + STUN_HMAC_LEN - STUN_HEADER_LEN),
	                   b->buf + STUN_HEADER_LEN, covered - STUN_HEADER_LEN, mac);
	if (r < 0) {
		b->err = r;
		return;
	}
	p = stun_reserve(b, STUN_ATTR_MESSAGE_INTEGRITY, sizeof(mac));
	if (p)
		memcpy(p, mac, sizeof(mac));
}

void stun_put_fingerprint(struct stun_builder *b)
{
	size_t covered = b->len;
	uint8_t *p = stun_reserve(b, STUN_ATTR_FINGERPRINT, 4);

	/* stun_reserve() already set the length to include this attribute, as the
	 * CRC must see it (RFC 8489 section 14.7). */
	if (p)
		store_be32(p, stun_crc32(b->buf, covered) ^ FINGERPRINT_XOR);
}

int stun_build_finish(struct stun_builder *b, size_t *len)
{
	if (b->err)
		return b->err;
	*len = b->len;
	return 0;
}

/* ---- ChannelData ---- */

bool stun_is_channel_data(const uint8_t *buf, size_t len)
{
	/* RFC 8656 section 12: 0b01 in the top bits; STUN has 0b00. */
	return len >= 1 && (buf[0] & 0xc0) == 0x40;
}

int stun_channel_data_parse(const uint8_t *buf, size_t len, uint16_t *channel, const uint8_t **data,
                            size_t *data_len)
{
	uint16_t ch, dlen;

	if (len < STUN_CHANNEL_HEADER_LEN)
		return -EBADMSG;
	ch = load_be16(buf);
	dlen = load_be16(buf + 2);
	if (ch < STUN_CHANNEL_MIN || ch > STUN_CHANNEL_MAX || dlen > len - STUN_CHANNEL_HEADER_LEN)
		return -EBADMSG;
	*channel = ch;
	*data = buf + STUN_CHANNEL_HEADER_LEN;
	*data_len = dlen;
	return 0;
}

int stun_channel_data_header(uint8_t hdr[STUN_CHANNEL_HEADER_LEN], uint16_t channel,
                             size_t data_len)
{
	if (channel < STUN_CHANNEL_MIN || channel > STUN_CHANNEL_MAX || data_len > 0xffff)
		return -EINVAL;
	store_be16(hdr, channel);
	store_be16(hdr + 2, (uint16_t)data_len);
	return 0;
}
