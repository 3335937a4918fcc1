/* SPDX-License-Identifier: MIT */
/* id.c: overlay ID derivations (node IDs, name and relay keys) and XOR arithmetic. */
#include "overlay/id.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/dnsname.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "overlay/record.h"

#define NODE_ID_CONTEXT "idloc-node-id"
#define NAME_CONTEXT    "idloc-name:"
#define RELAY_CONTEXT   "idloc-relay:"

/* SHA-256(context | data) truncated to an ID. The largest input is a context
 * and a name, so a stack buffer suffices. */
static void derive(const char *context, const void *data, size_t len, struct ovl_id *ret)
{
	uint8_t buf[sizeof(NODE_ID_CONTEXT) + sizeof(NAME_CONTEXT) + OVL_NAME_MAX + 1];
	uint8_t digest[HASH_MAX_LEN];
	size_t clen = strlen(context);

	if (clen + len > sizeof(buf))
		len = sizeof(buf) - clen;
	memcpy(buf, context, clen);
	memcpy(buf + clen, data, len);
	/* SHA-256 over memory cannot fail in mbedTLS; the void contract of the
	 * derivations (node.h) leaves no error to return if it ever did, and a
	 * wrong ID would silently partition the overlay. */
	if (hash_digest(HASH_SHA256, buf, clen + len, digest) != 0)
		abort();
	memcpy(ret->b, digest, OVL_ID_LEN);
}

void ovl_id_from_hit(const struct hit *hit, struct ovl_id *ret)
{
	derive(NODE_ID_CONTEXT, hit->b, HIT_LEN, ret);
}

/* Names longer than OVL_NAME_MAX are never valid record names; only their
 * first OVL_NAME_MAX + 1 bytes are hashed, which keeps them distinct from
 * every valid name. */
void ovl_key_for_name(const char *fqdn, struct ovl_id *ret)
{
	derive(NAME_CONTEXT, fqdn, strnlen(fqdn, OVL_NAME_MAX + 1), ret);
}

void ovl_key_for_relay(const char *branch, struct ovl_id *ret)
{
	derive(RELAY_CONTEXT, branch, strnlen(branch, OVL_NAME_MAX + 1), ret);
}

int ovl_id_cmp(const struct ovl_id *a, const struct ovl_id *b)
{
	return memcmp(a->b, b->b, OVL_ID_LEN);
}

bool ovl_id_eq(const struct ovl_id *a, const struct ovl_id *b)
{
	return memcmp(a->b, b->b, OVL_ID_LEN) == 0;
}

bool ovl_id_is_zero(const struct ovl_id *id)
{
	static const struct ovl_id zero;

	return ovl_id_eq(id, &zero);
}

void ovl_id_distance(const struct ovl_id *a, const struct ovl_id *b, struct ovl_id *ret)
{
	for (size_t i = 0; i < OVL_ID_LEN; i++)
		ret->b[i] = a->b[i] ^ b->b[i];
}

int ovl_id_closer(const struct ovl_id *target, const struct ovl_id *a, const struct ovl_id *b)
{
	for (size_t i = 0; i < OVL_ID_LEN; i++) {
		uint8_t da = a->b[i] ^ target->b[i];
		uint8_t db = b->b[i] ^ target->b[i];

		if (da != db)
			return da < db ? -1 : 1;
	}
	return 0;
}

static unsigned leading_zeros8(uint8_t x)
{
	unsigned n = 0;

	for (uint8_t m = 0x80; m && !(x & m); m >>= 1)
		n++;
	return n;
}

unsigned ovl_id_prefix_len(const struct ovl_id *a, const struct ovl_id *b)
{
	for (size_t i = 0; i < OVL_ID_LEN; i++) {
		uint8_t x = a->b[i] ^ b->b[i];

		if (x)
			return (unsigned)i * 8 + leading_zeros8(x);
	}
	return OVL_ID_BITS;
}

bool ovl_id_bit(const struct ovl_id *id, unsigned i)
{
	return (id->b[i / 8] >> (7 - i % 8)) & 1;
}

int ovl_id_random(struct ovl_id *ret)
{
	return crypto_random(ret->b, OVL_ID_LEN);
}

int ovl_id_random_in_bucket(const struct ovl_id *self, unsigned prefix_len, struct ovl_id *ret)
{
	struct ovl_id r;
	unsigned byte, bit;
	uint8_t keep;
	int e;

	if (prefix_len >= OVL_ID_BITS)
		return -EINVAL;
	e = ovl_id_random(&r);
	if (e < 0)
		return e;
	byte = prefix_len / 8;
	bit = prefix_len % 8;
	/* Bytes before byte: self's. In byte: self's top bits, the flipped bit,
	 * then random bits. After: random. */
	memcpy(ret->b, self->b, byte);
	keep = (uint8_t)(0xff00u >> bit);
	ret->b[byte] = (uint8_t)((self->b[byte] & keep) | (r.b[byte] & ~keep));
	ret->b[byte] =
	        (uint8_t)((ret->b[byte] & ~(0x80u >> bit)) | (~self->b[byte] & (0x80u >> bit)));
	memcpy(ret->b + byte + 1, r.b + byte + 1, OVL_ID_LEN - byte - 1);
	return 0;
}

const char *ovl_id_format(const struct ovl_id *id, char buf[OVL_ID_STRLEN])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < OVL_ID_LEN; i++) {
		buf[2 * i] = hex[id->b[i] >> 4];
		buf[2 * i + 1] = hex[id->b[i] & 0xf];
	}
	buf[2 * OVL_ID_LEN] = '\0';
	return buf;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ovl_id_parse(const char *s, struct ovl_id *ret)
{
	struct ovl_id id;

	if (strnlen(s, 2 * OVL_ID_LEN + 1) != 2 * OVL_ID_LEN)
		return -EINVAL;
	for (size_t i = 0; i < OVL_ID_LEN; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		id.b[i] = (uint8_t)(hi << 4 | lo);
	}
	*ret = id;
	return 0;
}

uint64_t ovl_id_hash(const struct ovl_id *id, uint64_t seed)
{
	uint64_t h = mix64(load_be64(id->b) ^ seed);

	return mix64(h ^ load_be64(id->b + 8) ^ (seed >> 32 | seed << 32));
}

/* Already normalised: what dns_name_normalize would write back unchanged. */
bool ovl_name_valid(const char *fqdn)
{
	char n[DNS_NAME_MAX + 1];

	return dns_name_normalize(fqdn, n) == 0 && strcmp(n, fqdn) == 0;
}

bool ovl_relay_branch_valid(const char *branch)
{
	size_t plen = sizeof(OVL_RELAY_PREFIX) - 1;
	size_t len = strnlen(branch, plen + OVL_RELAY_BRANCH_MAX + 1);

	if (len < plen || len > plen + OVL_RELAY_BRANCH_MAX ||
	    memcmp(branch, OVL_RELAY_PREFIX, plen) != 0)
		return false;
	for (size_t i = plen; i < len; i++) {
		char c = branch[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}
