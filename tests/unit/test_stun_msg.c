/* SPDX-License-Identifier: MIT */
/* test_stun_msg.c: the STUN/TURN codec against RFC 5769's test vectors (short- and
 * long-term integrity, IPv4 and IPv6 responses, fingerprints), round trips through the
 * builder, ChannelData framing, and truncated, altered and random input. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/bytes.h"
#include "relay/stun.h"

/* RFC 5769 section 2.1: a Binding request with SOFTWARE, PRIORITY,
 * ICE-CONTROLLED, USERNAME "evtj:h6vY", MESSAGE-INTEGRITY keyed with the
 * short-term password below, FINGERPRINT. Padding here is spaces. */
static const char sample_request[] = "000100582112a442b7e7a701bc34d686fa87dfae"
                                     "802200105354554e207465737420636c69656e74"
                                     "002400046e0001ff80290008932ff9b151263b36"
                                     "000600096576746a3a68367659202020"
                                     "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
                                     "80280004e57a3bcf";
/* Section 2.2: the IPv4 response, XOR-MAPPED-ADDRESS 192.0.2.1 port 32853. */
static const char sample_v4[] = "0101003c2112a442b7e7a701bc34d686fa87dfae"
                                "8022000b7465737420766563746f7220"
                                "002000080001a147e112a643"
                                "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
                                "80280004c07d4c96";
/* Section 2.3: the IPv6 response, 2001:db8:1234:5678:11:2233:4455:6677 port 32853. */
static const char sample_v6[] = "010100482112a442b7e7a701bc34d686fa87dfae"
                                "8022000b7465737420766563746f7220"
                                "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
                                "00080014a382954e4be67bf11784c97c8292c275bfe3ed41"
                                "80280004c8fb0b4c";
/* Section 2.4: a request with long-term credentials: USERNAME (six katakana,
 * UTF-8), NONCE, REALM "example.org", MESSAGE-INTEGRITY; no FINGERPRINT.
 * Padding here is zeros, as our builder writes it. */
static const char sample_long_term[] = "000100602112a44278ad3433c6ad72c029da412e"
                                       "00060012e3839ee38388e383aae38383e382afe382b90000"
                                       "0015001c662f2f3439396b39353464364f4c33346f4c39"
                                       "465354767936347341"
                                       "0014000b6578616d706c652e6f726700"
                                       "00080014f67024656dd64a3e02b8e0712e85c9a28ca89666";

static const char short_term_password[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const char lt_username[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf"
                                  "\xe3\x82\xb9";
static const char lt_nonce[] = "f//499k954d6OL34oL9FSTvy64sA";

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *ip = ss->ss_family == AF_INET
	                         ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
	                         : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
	unsigned port =
	        ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
	                                       : ((const struct sockaddr_in6 *)ss)->sin6_port);
	char s[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(ss->ss_family, ip, s, sizeof(s)));
	snprintf(buf, len, "%s/%u", s, port);
	return buf;
}

static void test_type(void **state)
{
	uint16_t method;
	enum stun_class cls;

	assert_int_equal(stun_type(STUN_BINDING, STUN_REQUEST), 0x0001);
	assert_int_equal(stun_type(STUN_BINDING, STUN_SUCCESS), 0x0101);
	assert_int_equal(stun_type(STUN_ALLOCATE, STUN_ERROR), 0x0113);
	assert_int_equal(stun_type(STUN_SEND, STUN_INDICATION), 0x0016);
	assert_int_equal(stun_type(STUN_DATA, STUN_INDICATION), 0x0017);
	assert_int_equal(stun_type(STUN_CHANNEL_BIND, STUN_SUCCESS), 0x0109);
	/* Every method and class survives the interleaving. */
	for (unsigned m = 0; m < 0x1000; m++) {
		for (unsigned c = 0; c < 4; c++) {
			stun_type_split(stun_type((uint16_t)m, (enum stun_class)c), &method, &cls);
			assert_int_equal(method, m);
			assert_int_equal(cls, c);
		}
	}
}

static void test_rfc5769_request(void **state)
{
	uint8_t buf[256];
	size_t len = unhex(sample_request, buf, sizeof(buf));
	const struct stun_attr *a;
	struct stun_msg m;
	uint32_t v;

	assert_int_equal(len, 108);
	assert_int_equal(stun_parse(buf, len, &m), 0);
	assert_int_equal(m.method, STUN_BINDING);
	assert_int_equal(m.cls, STUN_REQUEST);
	assert_true(m.fingerprint);
	assert_int_equal(m.n_attrs, 5);
	assert_int_equal(m.integrity_off, 108 - 32);
	a = stun_find(&m, STUN_ATTR_USERNAME);
	assert_non_null(a);
	assert_int_equal(a->len, 9);
	assert_memory_equal(a->value, "evtj:h6vY", 9);
	a = stun_find(&m, 0x0024);
	assert_non_null(a);
	assert_int_equal(stun_attr_u32(a, &v), 0);
	assert_int_equal(v, 0x6e0001ff);
	assert_int_equal(stun_find(&m, STUN_ATTR_SOFTWARE)->len, 16);
	assert_null(stun_find(&m, STUN_ATTR_NONCE));
	/* Short-term credentials: the key is the password itself. */
	assert_int_equal(stun_check_integrity(&m, (const uint8_t *)short_term_password,
	                                      strlen(short_term_password)),
	                 0);
	assert_int_equal(stun_check_integrity(&m, (const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBT", 22),
	                 -EACCES);
	assert_int_equal(stun_crc32(buf, len - 8) ^ 0x5354554e, load_be32(buf + len - 4));
}

static void check_response(const char *hex, const char *want)
{
	uint8_t buf[256];
	size_t len = unhex(hex, buf, sizeof(buf));
	struct sockaddr_storage ss;
	struct stun_msg m;
	char s[80];

	assert_int_equal(stun_parse(buf, len, &m), 0);
	assert_int_equal(m.method, STUN_BINDING);
	assert_int_equal(m.cls, STUN_SUCCESS);
	assert_true(m.fingerprint);
	assert_int_equal(
	        stun_attr_addr(stun_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), true, m.txid, &ss), 0);
	assert_string_equal(addr_str(&ss, s, sizeof(s)), want);
	assert_int_equal(stun_check_integrity(&m, (const uint8_t *)short_term_password,
	                                      strlen(short_term_password)),
	                 0);
	/* Decoded without the xor it is some other address. */
	assert_int_equal(
	        stun_attr_addr(stun_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS), false, m.txid, &ss), 0);
	assert_string_not_equal(addr_str(&ss, s, sizeof(s)), want);
}

static void test_rfc5769_responses(void **state)
{
	check_response(sample_v4, "192.0.2.1/32853");
	check_response(sample_v6, "2001:db8:1234:5678:11:2233:4455:6677/32853");
}

static void test_rfc5769_long_term(void **state)
{
	uint8_t buf[256], key[STUN_KEY_LEN], txid[STUN_TXID_LEN], built[256];
	size_t len = unhex(sample_long_term, buf, sizeof(buf)), blen;
	struct stun_builder b;
	struct stun_msg m;

	assert_int_equal(stun_parse(buf, len, &m), 0);
	assert_false(m.fingerprint);
	assert_int_equal(stun_long_term_key(lt_username, "example.org", "TheMatrIX", key), 0);
	assert_int_equal(stun_check_integrity(&m, key, sizeof(key)), 0);
	assert_int_equal(stun_find(&m, STUN_ATTR_REALM)->len, 11);
	/* The builder reproduces the vector to the byte. */
	memcpy(txid, buf + 8, sizeof(txid));
	stun_build_init(&b, built, sizeof(built), STUN_BINDING, STUN_REQUEST, txid);
	stun_put(&b, STUN_ATTR_USERNAME, lt_username, strlen(lt_username));
	stun_put(&b, STUN_ATTR_NONCE, lt_nonce, strlen(lt_nonce));
	stun_put(&b, STUN_ATTR_REALM, "example.org", 11);
	stun_put_integrity(&b, key, sizeof(key));
	assert_int_equal(stun_build_finish(&b, &blen), 0);
	assert_int_equal(blen, len);
	assert_memory_equal(built, buf, len);
	/* Another password, another key. */
	assert_int_equal(stun_long_term_key(lt_username, "example.org", "TheMatrix", key), 0);
	assert_int_equal(stun_check_integrity(&m, key, sizeof(key)), -EACCES);
}

/* The builder's XOR-MAPPED-ADDRESS equals the one in the vector. */
static void check_xor_encoding(const char *hex, int family, const char *ip)
{
	uint8_t buf[256], out[128];
	size_t len = unhex(hex, buf, sizeof(buf)), olen;
	struct sockaddr_storage ss = {.ss_family = (sa_family_t)family};
	const struct stun_attr *a;
	struct stun_builder b;
	struct stun_msg m;

	assert_int_equal(stun_parse(buf, len, &m), 0);
	a = stun_find(&m, STUN_ATTR_XOR_MAPPED_ADDRESS);
	if (family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_port = htons(32853);
		assert_int_equal(inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr), 1);
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(32853);
		assert_int_equal(inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr),
		                 1);
	}
	stun_build_init(&b, out, sizeof(out), STUN_BINDING, STUN_SUCCESS, m.txid);
	stun_put_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, (struct sockaddr *)&ss, true);
	assert_int_equal(stun_build_finish(&b, &olen), 0);
	assert_int_equal(olen, STUN_HEADER_LEN + 4 + a->len);
	assert_memory_equal(out + STUN_HEADER_LEN + 4, a->value, a->len);
}

static void test_xor_encoding(void **state)
{
	check_xor_encoding(sample_v4, AF_INET, "192.0.2.1");
	check_xor_encoding(sample_v6, AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677");
}

/* Builds a TURN-shaped message, parses it back and checks every attribute. */
static void test_round_trip(void **state)
{
	static const uint8_t txid[STUN_TXID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	static const uint8_t key[STUN_KEY_LEN] = {42};
	uint8_t buf[512];
	struct sockaddr_in6 peer = {.sin6_family = AF_INET6, .sin6_port = htons(4242)};
	struct sockaddr_in relayed = {.sin_family = AF_INET, .sin_port = htons(50000)};
	struct sockaddr_storage ss;
	uint16_t unknown[4];
	struct stun_builder b;
	struct stun_msg m;
	unsigned code;
	size_t len;
	char s[80];

	inet_pton(AF_INET6, "2001:db8::7", &peer.sin6_addr);
	inet_pton(AF_INET, "203.0.113.9", &relayed.sin_addr);
	stun_build_init(&b, buf, sizeof(buf), STUN_ALLOCATE, STUN_ERROR, txid);
	stun_put_error(&b, 420, "Unknown Attribute");
	stun_put_unknown(&b, (const uint16_t[]){0x0018, 0x001a, 0x7777}, 3);
	stun_put_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, (struct sockaddr *)&peer, true);
	stun_put_addr(&b, STUN_ATTR_XOR_RELAYED_ADDRESS, (struct sockaddr *)&relayed, true);
	stun_put_u32(&b, STUN_ATTR_LIFETIME, 600);
	stun_put(&b, STUN_ATTR_DATA, "abcde", 5);
	stun_put(&b, STUN_ATTR_DATA, "", 0);
	stun_put_integrity(&b, key, sizeof(key));
	stun_put_fingerprint(&b);
	assert_int_equal(stun_build_finish(&b, &len), 0);
	assert_int_equal(len % 4, 0);

	assert_int_equal(stun_parse(buf, len, &m), 0);
	assert_int_equal(m.method, STUN_ALLOCATE);
	assert_int_equal(m.cls, STUN_ERROR);
	assert_memory_equal(m.txid, txid, sizeof(txid));
	assert_true(m.fingerprint);
	assert_int_equal(m.n_attrs, 8);
	assert_int_equal(stun_attr_error(stun_find(&m, STUN_ATTR_ERROR_CODE), &code), 0);
	assert_int_equal(code, 420);
	assert_int_equal(stun_find(&m, STUN_ATTR_UNKNOWN_ATTRIBUTES)->len, 6);
	assert_int_equal(load_be16(stun_find(&m, STUN_ATTR_UNKNOWN_ATTRIBUTES)->value + 4), 0x7777);
	assert_int_equal(stun_attr_addr(stun_find(&m, STUN_ATTR_XOR_PEER_ADDRESS), true, txid, &ss),
	                 0);
	assert_string_equal(addr_str(&ss, s, sizeof(s)), "2001:db8::7/4242");
	assert_int_equal(
	        stun_attr_addr(stun_find(&m, STUN_ATTR_XOR_RELAYED_ADDRESS), true, txid, &ss), 0);
	assert_string_equal(addr_str(&ss, s, sizeof(s)), "203.0.113.9/50000");
	assert_int_equal(stun_find(&m, STUN_ATTR_DATA)->len, 5);
	assert_memory_equal(stun_find(&m, STUN_ATTR_DATA)->value, "abcde", 5);
	assert_int_equal(m.attrs[6].len, 0);
	assert_int_equal(stun_check_integrity(&m, key, sizeof(key)), 0);
	/* Only the comprehension-required types we do not list, each once. */
	assert_int_equal(stun_unknown_required(&m,
	                                       (const uint16_t[]){STUN_ATTR_ERROR_CODE,
	                                                          STUN_ATTR_XOR_PEER_ADDRESS,
	                                                          STUN_ATTR_XOR_RELAYED_ADDRESS,
	                                                          STUN_ATTR_MESSAGE_INTEGRITY},
	                                       4, unknown, ARRAY_SIZE(unknown)),
	                 3);
	assert_int_equal(unknown[0], STUN_ATTR_UNKNOWN_ATTRIBUTES);
	assert_int_equal(unknown[1], STUN_ATTR_LIFETIME);
	assert_int_equal(unknown[2], STUN_ATTR_DATA);
	/* A smaller output still gets the full count. */
	assert_int_equal(stun_unknown_required(&m, NULL, 0, unknown, 1), 7);
}

/* Attributes after MESSAGE-INTEGRITY are ignored, FINGERPRINT excepted. */
static void test_after_integrity(void **state)
{
	static const uint8_t txid[STUN_TXID_LEN] = {9};
	static const uint8_t key[STUN_KEY_LEN] = {1};
	uint8_t buf[256];
	struct stun_builder b;
	struct stun_msg m;
	size_t len;

	stun_build_init(&b, buf, sizeof(buf), STUN_REFRESH, STUN_REQUEST, txid);
	stun_put_u32(&b, STUN_ATTR_LIFETIME, 0);
	stun_put_integrity(&b, key, sizeof(key));
	stun_put(&b, STUN_ATTR_USERNAME, "late", 4);
	stun_put_fingerprint(&b);
	assert_int_equal(stun_build_finish(&b, &len), 0);
	assert_int_equal(stun_parse(buf, len, &m), 0);
	assert_int_equal(m.n_attrs, 2);
	assert_null(stun_find(&m, STUN_ATTR_USERNAME));
	assert_true(m.fingerprint);
	/* The MAC covers what came before it only; the later attribute and
	 * FINGERPRINT do not break it. */
	assert_int_equal(stun_check_integrity(&m, key, sizeof(key)), 0);
}

static void test_fingerprint(void **state)
{
	uint8_t buf[256];
	size_t len = unhex(sample_request, buf, sizeof(buf));
	struct stun_builder b;
	struct stun_msg m;
	size_t blen;

	/* Any change under the fingerprint is caught. */
	for (size_t off = STUN_HEADER_LEN; off < len - 8; off++) {
		buf[off] ^= 0x01;
		assert_int_equal(stun_parse(buf, len, &m), -EBADMSG);
		buf[off] ^= 0x01;
	}
	buf[len - 1] ^= 0x80;
	assert_int_equal(stun_parse(buf, len, &m), -EBADMSG);
	/* FINGERPRINT that is not last. */
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, (uint8_t[12]){0});
	stun_put_fingerprint(&b);
	stun_put(&b, STUN_ATTR_SOFTWARE, "x", 1);
	assert_int_equal(stun_build_finish(&b, &blen), 0);
	assert_int_equal(stun_parse(buf, blen, &m), -EBADMSG);
	/* Not 4 bytes long. */
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, (uint8_t[12]){0});
	stun_put(&b, STUN_ATTR_FINGERPRINT, "12345678", 8);
	assert_int_equal(stun_build_finish(&b, &blen), 0);
	assert_int_equal(stun_parse(buf, blen, &m), -EBADMSG);
	/* The CRC itself: the standard check value of CRC-32. */
	assert_int_equal(stun_crc32((const uint8_t *)"123456789", 9), 0xcbf43926);
	assert_int_equal(stun_crc32(NULL, 0), 0);
}

static void test_malformed(void **state)
{
	uint8_t buf[256], copy[256];
	size_t len = unhex(sample_v4, buf, sizeof(buf));
	struct stun_msg m;

	/* Every truncation (the length field then disagrees). */
	for (size_t n = 0; n < len; n++) {
		memcpy(copy, buf, n);
		assert_int_equal(stun_parse(copy, n, &m), -EBADMSG);
	}
	/* Header: top bits, cookie, length not a multiple of 4, length field. */
	memcpy(copy, buf, len);
	copy[0] |= 0x40;
	assert_int_equal(stun_parse(copy, len, &m), -EBADMSG);
	memcpy(copy, buf, len);
	copy[5] ^= 1;
	assert_int_equal(stun_parse(copy, len, &m), -EBADMSG);
	memcpy(copy, buf, len);
	store_be16(copy + 2, (uint16_t)(len - STUN_HEADER_LEN - 2));
	assert_int_equal(stun_parse(copy, len - 2, &m), -EBADMSG);
	/* An attribute that runs past the end. */
	memcpy(copy, buf, len);
	store_be16(copy + STUN_HEADER_LEN + 2, 200);
	assert_int_equal(stun_parse(copy, len, &m), -EBADMSG);
	/* MESSAGE-INTEGRITY of the wrong size. */
	memcpy(copy, buf, 20);
	store_be16(copy + 2, 8);
	store_be16(copy + 20, STUN_ATTR_MESSAGE_INTEGRITY);
	store_be16(copy + 22, 4);
	memset(copy + 24, 0, 4);
	assert_int_equal(stun_parse(copy, 28, &m), -EBADMSG);
	/* No MESSAGE-INTEGRITY to check. */
	store_be16(copy + 20, STUN_ATTR_SOFTWARE);
	assert_int_equal(stun_parse(copy, 28, &m), 0);
	assert_int_equal(stun_check_integrity(&m, (const uint8_t *)"k", 1), -ENODATA);
}

static void test_too_many_attrs(void **state)
{
	uint8_t buf[1024];
	struct stun_builder b;
	struct stun_msg m;
	size_t len;

	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_INDICATION, (uint8_t[12]){0});
	for (unsigned i = 0; i < STUN_MAX_ATTRS; i++)
		stun_put(&b, STUN_ATTR_SOFTWARE, "", 0);
	assert_int_equal(stun_build_finish(&b, &len), 0);
	assert_int_equal(stun_parse(buf, len, &m), 0);
	assert_int_equal(m.n_attrs, STUN_MAX_ATTRS);
	stun_put(&b, STUN_ATTR_SOFTWARE, "", 0);
	assert_int_equal(stun_build_finish(&b, &len), 0);
	assert_int_equal(stun_parse(buf, len, &m), -EBADMSG);
}

static void test_bad_attr_values(void **state)
{
	struct stun_attr a;
	struct sockaddr_storage ss;
	unsigned code;
	uint32_t v;

	a = (struct stun_attr){.type = STUN_ATTR_XOR_PEER_ADDRESS,
	                       .len = 8,
	                       .value = (const uint8_t *)"\x00\x03\x00\x01\x01\x02\x03\x04"};
	assert_int_equal(stun_attr_addr(&a, true, (uint8_t[12]){0}, &ss), -EBADMSG);
	a.value = (const uint8_t *)"\x00\x02\x00\x01\x01\x02\x03\x04";
	assert_int_equal(stun_attr_addr(&a, true, (uint8_t[12]){0}, &ss), -EBADMSG);
	a.len = 3;
	assert_int_equal(stun_attr_addr(&a, true, (uint8_t[12]){0}, &ss), -EBADMSG);
	assert_int_equal(stun_attr_u32(&a, &v), -EBADMSG);
	a.len = 4;
	a.value = (const uint8_t *)"\x00\x00\x07\x01";
	assert_int_equal(stun_attr_error(&a, &code), -EBADMSG);
	a.value = (const uint8_t *)"\x00\x00\x04\x64";
	assert_int_equal(stun_attr_error(&a, &code), -EBADMSG);
	a.value = (const uint8_t *)"\x00\x00\x04\x26";
	assert_int_equal(stun_attr_error(&a, &code), 0);
	assert_int_equal(code, 438);
}

static void test_builder_errors(void **state)
{
	uint8_t buf[64], value[41] = {0};
	struct sockaddr sa = {.sa_family = AF_UNIX};
	struct stun_builder b;
	size_t len;

	stun_build_init(&b, buf, 10, STUN_BINDING, STUN_REQUEST, (uint8_t[12]){0});
	assert_int_equal(stun_build_finish(&b, &len), -EMSGSIZE);
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, (uint8_t[12]){0});
	stun_put(&b, STUN_ATTR_SOFTWARE, value, 41);
	assert_int_equal(stun_build_finish(&b, &len), -EMSGSIZE);
	/* The first error sticks. */
	stun_put_u32(&b, STUN_ATTR_LIFETIME, 1);
	assert_int_equal(stun_build_finish(&b, &len), -EMSGSIZE);
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_REQUEST, (uint8_t[12]){0});
	stun_put(&b, STUN_ATTR_SOFTWARE, value, 40);
	assert_int_equal(stun_build_finish(&b, &len), 0);
	assert_int_equal(len, 64);
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_ERROR, (uint8_t[12]){0});
	stun_put_error(&b, 700, "no");
	assert_int_equal(stun_build_finish(&b, &len), -EINVAL);
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING, STUN_SUCCESS, (uint8_t[12]){0});
	stun_put_addr(&b, STUN_ATTR_XOR_MAPPED_ADDRESS, &sa, true);
	assert_int_equal(stun_build_finish(&b, &len), -EAFNOSUPPORT);
}

static void test_channel_data(void **state)
{
	uint8_t buf[16] = {0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0};
	const uint8_t *data;
	uint16_t ch;
	size_t dlen;

	assert_true(stun_is_channel_data(buf, 9));
	assert_false(stun_is_channel_data(buf, 0));
	assert_int_equal(stun_channel_data_parse(buf, 9, &ch, &data, &dlen), 0);
	assert_int_equal(ch, 0x4001);
	assert_int_equal(dlen, 5);
	assert_memory_equal(data, "hello", 5);
	/* Padded, as over TCP (and optionally UDP). */
	assert_int_equal(stun_channel_data_parse(buf, 12, &ch, &data, &dlen), 0);
	assert_int_equal(dlen, 5);
	/* Short of the announced length, short of a header. */
	assert_int_equal(stun_channel_data_parse(buf, 8, &ch, &data, &dlen), -EBADMSG);
	assert_int_equal(stun_channel_data_parse(buf, 3, &ch, &data, &dlen), -EBADMSG);
	/* RFC 5766's wider range is accepted; below it is STUN, not a channel. */
	buf[0] = 0x7f;
	assert_true(stun_is_channel_data(buf, 9));
	assert_int_equal(stun_channel_data_parse(buf, 9, &ch, &data, &dlen), 0);
	assert_int_equal(ch, 0x7f01);
	buf[0] = 0x3f;
	assert_false(stun_is_channel_data(buf, 9));
	assert_int_equal(stun_channel_data_parse(buf, 9, &ch, &data, &dlen), -EBADMSG);
	/* The header writer. */
	assert_int_equal(stun_channel_data_header(buf, 0x4fff, 65535), 0);
	assert_memory_equal(buf, "\x4f\xff\xff\xff", 4);
	assert_int_equal(stun_channel_data_header(buf, 0x3fff, 1), -EINVAL);
	assert_int_equal(stun_channel_data_header(buf, 0x8000, 1), -EINVAL);
	assert_int_equal(stun_channel_data_header(buf, 0x4000, 65536), -EINVAL);
}

/* Random and mutated input never crashes and always gives 0 or -EBADMSG;
 * what parses has attributes inside the buffer. */
static void test_garbage(void **state)
{
	uint8_t seed[256], buf[256];
	size_t slen = unhex(sample_request, seed, sizeof(seed));
	uint64_t x = 0x1234567;
	struct stun_msg m;

	for (unsigned i = 0; i < 20000; i++) {
		size_t len;
		int r;

		x = mix64(x + i);
		if (i & 1) {
			len = x % sizeof(buf);
			for (size_t j = 0; j < len; j++)
				buf[j] = (uint8_t)mix64(x + j);
			if (len >= 8)
				store_be32(buf + 4, STUN_COOKIE);
			if (len >= 4)
				store_be16(buf + 2, (uint16_t)(len - 20));
			buf[0] &= 0x3f;
		} else {
			len = slen;
			memcpy(buf, seed, len);
			buf[20 + x % (len - 20)] ^= (uint8_t)(1u << (x >> 20) % 8);
			len -= (x >> 32) % 2 ? 0 : 8; /* also without the fingerprint */
			store_be16(buf + 2, (uint16_t)(len - 20));
		}
		r = stun_parse(buf, len, &m);
		assert_true(r == 0 || r == -EBADMSG);
		for (size_t k = 0; r == 0 && k < m.n_attrs; k++)
			assert_true(m.attrs[k].value >= buf &&
			            m.attrs[k].value + m.attrs[k].len <= buf + len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_type),
	        cmocka_unit_test(test_rfc5769_request),
	        cmocka_unit_test(test_rfc5769_responses),
	        cmocka_unit_test(test_rfc5769_long_term),
	        cmocka_unit_test(test_xor_encoding),
	        cmocka_unit_test(test_round_trip),
	        cmocka_unit_test(test_after_integrity),
	        cmocka_unit_test(test_fingerprint),
	        cmocka_unit_test(test_malformed),
	        cmocka_unit_test(test_too_many_attrs),
	        cmocka_unit_test(test_bad_attr_values),
	        cmocka_unit_test(test_builder_errors),
	        cmocka_unit_test(test_channel_data),
	        cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
