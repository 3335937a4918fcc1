/* SPDX-License-Identifier: MIT */
/* test_dns_wire.c: the DNS codec: strict query parsing (header, question,
 * EDNS0), reply building and truncation, and the IP/UDP framing of queries
 * read from the TUN. Packets are written out by hand here, not by the code
 * under test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "dns/wire.h"

/* ---- hand-made queries ---- */

static size_t put_name(uint8_t *b, const char *name)
{
	size_t o = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		b[o++] = (uint8_t)l;
		memcpy(b + o, name, l);
		o += l;
		name += l + (dot ? 1 : 0);
	}
	b[o++] = 0;
	return o;
}

static size_t put_header(uint8_t *b, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
                         uint16_t ns, uint16_t ar)
{
	store_be16(b, id);
	store_be16(b + 2, flags);
	store_be16(b + 4, qd);
	store_be16(b + 6, an);
	store_be16(b + 8, ns);
	store_be16(b + 10, ar);
	return 12;
}

static size_t put_question(uint8_t *b, const char *name, uint16_t type, uint16_t klass)
{
	size_t o = put_name(b, name);

	store_be16(b + o, type);
	store_be16(b + o + 2, klass);
	return o + 4;
}

static size_t put_opt(uint8_t *b, uint16_t size, uint8_t version, bool dnssec_ok,
                      const uint8_t *opts, size_t optlen)
{
	b[0] = 0;
	store_be16(b + 1, 41);
	store_be16(b + 3, size);
	store_be32(b + 5, (uint32_t)version << 16 | (dnssec_ok ? 0x8000u : 0));
	store_be16(b + 9, (uint16_t)optlen);
	if (optlen)
		memcpy(b + 11, opts, optlen);
	return 11 + optlen;
}

static size_t simple_query(uint8_t *b, uint16_t id, const char *name, uint16_t type)
{
	size_t o = put_header(b, id, DNS_FLAG_RD, 1, 0, 0, 0);

	return o + put_question(b + o, name, type, DNS_CLASS_IN);
}

/* ---- parsing ---- */

static void test_parse_simple(void **state)
{
	uint8_t m[512];
	struct dns_query q;
	size_t n = simple_query(m, 0xbeef, "Mars.Example.Internal", DNS_TYPE_AAAA);

	(void)state;
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	assert_int_equal(q.id, 0xbeef);
	assert_int_equal(q.opcode, 0);
	assert_true(q.has_question);
	assert_int_equal(q.qtype, DNS_TYPE_AAAA);
	assert_int_equal(q.qclass, DNS_CLASS_IN);
	assert_int_equal(q.qname_len, 23);
	assert_memory_equal(q.qname, "\4Mars\7Example\10Internal", 23);
	assert_false(q.edns);
	assert_int_equal(q.udp_size, 512);
	assert_int_equal(dns_reply_limit(&q, 4096), 512);
}

static void test_parse_edns(void **state)
{
	/* A DNS cookie (client part only) and an unknown option. */
	static const uint8_t opts[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0x12, 0x34, 0, 1, 0xff};
	uint8_t m[512];
	struct dns_query q;
	size_t n = put_header(m, 7, DNS_FLAG_RD | DNS_FLAG_CD, 1, 0, 0, 1);

	(void)state;
	n += put_question(m + n, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	n += put_opt(m + n, 1400, 0, true, opts, sizeof(opts));
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	assert_true(q.edns);
	assert_true(q.edns_do);
	assert_int_equal(q.edns_version, 0);
	assert_int_equal(q.udp_size, 1400);
	assert_int_equal(dns_reply_limit(&q, 4096), 1400);
	assert_int_equal(dns_reply_limit(&q, 600), 600);

	/* A payload size below 512 counts as 512 (RFC 6891 6.2.5). */
	n = put_header(m, 7, 0, 1, 0, 0, 1);
	n += put_question(m + n, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	n += put_opt(m + n, 100, 1, false, NULL, 0);
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	assert_int_equal(q.udp_size, 512);
	assert_int_equal(q.edns_version, 1);
	assert_false(q.edns_do);
}

/* Other additional records (a TSIG-like one with a compressed owner) are
 * skipped, not refused. */
static void test_parse_other_additional(void **state)
{
	uint8_t m[512];
	struct dns_query q;
	size_t n = put_header(m, 7, 0, 1, 0, 0, 2);

	(void)state;
	n += put_question(m + n, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	m[n++] = 0xc0; /* owner: pointer to the qname */
	m[n++] = 12;
	store_be16(m + n, 250);
	store_be16(m + n + 2, 255);
	store_be32(m + n + 4, 0);
	store_be16(m + n + 8, 3);
	memcpy(m + n + 10, "xyz", 3);
	n += 13;
	n += put_opt(m + n, 1232, 0, false, NULL, 0);
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	assert_true(q.edns);
}

static void expect_formerr(const uint8_t *m, size_t n, bool question)
{
	struct dns_query q;

	assert_int_equal(dns_query_parse(m, n, &q), -EPROTO);
	assert_int_equal(q.id, load_be16(m));
	assert_int_equal(q.has_question, question);
}

static void test_parse_malformed(void **state)
{
	static const uint8_t bad_cookie[] = {0, 10, 0, 5, 1, 2, 3, 4, 5};
	static const uint8_t overrun[] = {0, 3, 0, 9, 1};
	uint8_t m[512];
	size_t n, q0;

	(void)state;
	/* Two questions, an answer, an authority record. */
	n = put_header(m, 1, 0, 2, 0, 0, 0);
	n += put_question(m + n, "a.b", 1, 1);
	n += put_question(m + n, "c.d", 1, 1);
	expect_formerr(m, n, false);
	n = put_header(m, 2, 0, 0, 0, 0, 0);
	expect_formerr(m, n, false);
	n = put_header(m, 3, 0, 1, 1, 0, 0);
	n += put_question(m + n, "a.b", 1, 1);
	expect_formerr(m, n, false);
	n = put_header(m, 4, 0, 1, 0, 1, 0);
	n += put_question(m + n, "a.b", 1, 1);
	expect_formerr(m, n, false);

	/* A compression pointer in the question. */
	n = put_header(m, 5, 0, 1, 0, 0, 0);
	m[n++] = 1;
	m[n++] = 'a';
	m[n++] = 0xc0;
	m[n++] = 12;
	store_be16(m + n, 1);
	store_be16(m + n + 2, 1);
	expect_formerr(m, n + 4, false);

	/* A question cut short, in the name and in the type. */
	n = put_header(m, 6, 0, 1, 0, 0, 0);
	q0 = n + put_question(m + n, "abc.example", 1, 1);
	expect_formerr(m, n + 5, false);
	expect_formerr(m, q0 - 3, false);

	/* Trailing garbage after the last section. */
	m[q0] = 0x55;
	expect_formerr(m, q0 + 1, true);

	/* A name of 256 bytes. */
	n = put_header(m, 7, 0, 1, 0, 0, 0);
	for (int i = 0; i < 4; i++) {
		m[n++] = 63;
		memset(m + n, 'a', 63);
		n += 63;
	}
	m[n++] = 0;
	store_be16(m + n, 1);
	store_be16(m + n + 2, 1);
	expect_formerr(m, n + 4, false);

	/* Extended label type 0x40. */
	n = put_header(m, 8, 0, 1, 0, 0, 0);
	m[n++] = 0x41;
	m[n++] = 'x';
	m[n++] = 0;
	store_be16(m + n, 1);
	store_be16(m + n + 2, 1);
	expect_formerr(m, n + 4, false);

	/* Two OPT records; an OPT not owned by the root; a bad cookie; an
	 * option overrunning the OPT data; an additional record cut short. */
	n = put_header(m, 9, 0, 1, 0, 0, 2);
	n += put_question(m + n, "a.b", 1, 1);
	n += put_opt(m + n, 1232, 0, false, NULL, 0);
	n += put_opt(m + n, 1232, 0, false, NULL, 0);
	expect_formerr(m, n, true);
	n = put_header(m, 10, 0, 1, 0, 0, 1);
	n += put_question(m + n, "a.b", 1, 1);
	m[n++] = 1; /* owner "x." instead of the root */
	m[n++] = 'x';
	n += put_opt(m + n, 1232, 0, false, NULL, 0);
	expect_formerr(m, n, true);
	n = put_header(m, 11, 0, 1, 0, 0, 1);
	n += put_question(m + n, "a.b", 1, 1);
	n += put_opt(m + n, 1232, 0, false, bad_cookie, sizeof(bad_cookie));
	expect_formerr(m, n, true);
	n = put_header(m, 12, 0, 1, 0, 0, 1);
	n += put_question(m + n, "a.b", 1, 1);
	n += put_opt(m + n, 1232, 0, false, overrun, sizeof(overrun));
	expect_formerr(m, n, true);
	n = put_header(m, 13, 0, 1, 0, 0, 1);
	n += put_question(m + n, "a.b", 1, 1);
	n += put_opt(m + n, 1232, 0, false, NULL, 0);
	expect_formerr(m, n - 3, true);
	/* Additional count larger than the records present. */
	n = put_header(m, 14, 0, 1, 0, 0, 2);
	n += put_question(m + n, "a.b", 1, 1);
	n += put_opt(m + n, 1232, 0, false, NULL, 0);
	expect_formerr(m, n, true);
	/* A forward compression pointer in an additional owner. */
	n = put_header(m, 15, 0, 1, 0, 0, 1);
	n += put_question(m + n, "a.b", 1, 1);
	m[n++] = 0xc1;
	m[n++] = 0xff;
	memset(m + n, 0, 10);
	expect_formerr(m, n + 10, true);
}

static void test_parse_drop(void **state)
{
	uint8_t m[512];
	struct dns_query q;
	size_t n = simple_query(m, 1, "a.b", 1);

	(void)state;
	assert_int_equal(dns_query_parse(m, 11, &q), -EBADMSG);
	assert_int_equal(dns_query_parse(m, 0, &q), -EBADMSG);
	store_be16(m + 2, DNS_FLAG_QR); /* a response */
	assert_int_equal(dns_query_parse(m, n, &q), -EBADMSG);
}

static void test_parse_other_opcode(void **state)
{
	uint8_t m[512];
	struct dns_query q;
	size_t n;

	(void)state;
	/* UPDATE (5): zone section plus prerequisites; only the "question" is read. */
	n = put_header(m, 77, 5 << 11, 1, 1, 0, 0);
	n += put_question(m + n, "example.internal", DNS_TYPE_SOA, DNS_CLASS_IN);
	memset(m + n, 0xee, 9);
	assert_int_equal(dns_query_parse(m, n + 9, &q), 0);
	assert_int_equal(q.opcode, 5);
	assert_true(q.has_question);
	/* STATUS (2) without a question. */
	n = put_header(m, 78, 2 << 11, 0, 0, 0, 0);
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	assert_int_equal(q.opcode, 2);
	assert_false(q.has_question);
}

static void test_query_same(void **state)
{
	uint8_t m[512];
	struct dns_query a, b;
	size_t n = simple_query(m, 9, "Venus.example.internal", DNS_TYPE_A);

	(void)state;
	assert_int_equal(dns_query_parse(m, n, &a), 0);
	assert_int_equal(dns_query_parse(m, n, &b), 0);
	assert_true(dns_query_same(&a, &b));
	store_be16(m, 10);
	assert_int_equal(dns_query_parse(m, n, &b), 0);
	assert_false(dns_query_same(&a, &b));
	n = simple_query(m, 9, "Venus.example.internal", DNS_TYPE_AAAA);
	assert_int_equal(dns_query_parse(m, n, &b), 0);
	assert_false(dns_query_same(&a, &b));
}

/* ---- names ---- */

static void test_names(void **state)
{
	uint8_t w[300];
	char long_label[80];

	(void)state;
	assert_int_equal(dns_name_encode("mars.example.internal", w, sizeof(w)), 23);
	assert_memory_equal(w, "\4mars\7example\10internal", 23);
	assert_int_equal(dns_name_encode("mars.example.internal.", w, sizeof(w)), 23);
	assert_int_equal(dns_name_encode("", w, sizeof(w)), 1);
	assert_int_equal(w[0], 0);
	assert_int_equal(dns_name_encode(".", w, sizeof(w)), 1);
	assert_int_equal(dns_name_encode("a..b", w, sizeof(w)), -EINVAL);
	assert_int_equal(dns_name_encode(".a", w, sizeof(w)), -EINVAL);
	assert_int_equal(dns_name_encode("a..", w, sizeof(w)), -EINVAL);
	assert_int_equal(dns_name_encode("mars.example", w, 5), -EINVAL);
	memset(long_label, 'x', 64);
	long_label[64] = '\0';
	assert_int_equal(dns_name_encode(long_label, w, sizeof(w)), -EINVAL);
	long_label[63] = '\0';
	assert_int_equal(dns_name_encode(long_label, w, sizeof(w)), 65);

	assert_true(dns_name_equal((const uint8_t *)"\4MaRs\0", 6, (const uint8_t *)"\4mars\0", 6));
	assert_false(
	        dns_name_equal((const uint8_t *)"\4mars\0", 6, (const uint8_t *)"\4mart\0", 6));
	assert_false(dns_name_equal((const uint8_t *)"\4mars\0", 6, (const uint8_t *)"\3mar\0", 5));
	/* Only ASCII folds: 0xc4 and 0xe4 (Latin-1 A/a umlaut) differ. */
	assert_false(
	        dns_name_equal((const uint8_t *)"\1\xc4\0", 3, (const uint8_t *)"\1\xe4\0", 3));
}

/* ---- replies ---- */

static void test_reply_header(void **state)
{
	uint8_t m[512], out[512];
	struct dns_query q;
	size_t n = put_header(m, 0x1234, DNS_FLAG_RD | DNS_FLAG_CD | DNS_FLAG_AD, 1, 0, 0, 0);
	int len;

	(void)state;
	n += put_question(m + n, "X.Example", DNS_TYPE_A, DNS_CLASS_IN);
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	len = dns_build_error(&q, DNS_RCODE_REFUSED, out, sizeof(out));
	assert_int_equal(len, (int)n);
	assert_int_equal(load_be16(out), 0x1234);
	/* QR, RD, CD, RA, REFUSED; no AA, no AD. */
	assert_int_equal(load_be16(out + 2),
	                 DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_CD | DNS_FLAG_RA | DNS_RCODE_REFUSED);
	assert_int_equal(load_be16(out + 4), 1);
	assert_int_equal(load_be16(out + 6), 0);
	assert_int_equal(load_be16(out + 10), 0);
	assert_memory_equal(out + 12, m + 12, n - 12); /* the question, case kept */
	assert_int_equal(dns_build_error(&q, DNS_RCODE_REFUSED, out, 511), -EINVAL);
	/* BADVERS needs EDNS. */
	assert_int_equal(dns_build_error(&q, DNS_RCODE_BADVERS, out, sizeof(out)), -EINVAL);
}

static void test_reply_opt(void **state)
{
	uint8_t m[512], out[512];
	struct dns_query q;
	size_t n = put_header(m, 5, 0, 1, 0, 0, 1);
	int len;

	(void)state;
	n += put_question(m + n, "a.b", DNS_TYPE_A, DNS_CLASS_IN);
	n += put_opt(m + n, 4096, 1, true, NULL, 0);
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	len = dns_build_error(&q, DNS_RCODE_BADVERS, out, sizeof(out));
	assert_int_equal(len, 12 + 9 + 11);
	assert_int_equal(load_be16(out + 2) & 0xf, 0); /* BADVERS = 16: low bits 0 */
	assert_int_equal(load_be16(out + 10), 1);
	assert_int_equal(out[21], 0);                  /* root owner */
	assert_int_equal(load_be16(out + 22), 41);     /* OPT */
	assert_int_equal(load_be16(out + 24), 1232);   /* our size */
	assert_int_equal(out[26], 1);                  /* extended rcode 16 >> 4 */
	assert_int_equal(out[27], 0);                  /* version 0 */
	assert_int_equal(load_be16(out + 28), 0x8000); /* DO copied */
	assert_int_equal(load_be16(out + 30), 0);
}

static void test_reply_records_and_truncation(void **state)
{
	uint8_t m[512], out[600];
	struct dns_query q;
	struct dns_reply r;
	uint8_t big[300] = {0};
	size_t n = simple_query(m, 5, "www.Example.ORG", 16);
	size_t len;

	(void)state;
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	assert_int_equal(dns_reply_init(&r, &q, out, sizeof(out), 0, true), 0);
	assert_int_equal(dns_reply_qname_ptr(&r, 0), 12);
	assert_int_equal(dns_reply_qname_ptr(&r, 1), 16);
	assert_int_equal(dns_reply_qname_ptr(&r, 3), 12 + 16); /* the root */
	assert_int_equal(dns_reply_qname_ptr(&r, 4), -EINVAL);
	dns_reply_add(&r, DNS_SECTION_ANSWER, 12, DNS_TYPE_A, 10, (const uint8_t *)"\1\2\3\4", 4);
	dns_reply_add(&r, DNS_SECTION_AUTHORITY, 16, 99, 20, big, 10);
	len = dns_reply_finish(&r);
	assert_int_equal(len, n + 16 + 22);
	assert_int_equal(load_be16(out + 2) & DNS_FLAG_AA, DNS_FLAG_AA);
	assert_int_equal(load_be16(out + 6), 1);
	assert_int_equal(load_be16(out + 8), 1);
	assert_int_equal(load_be16(out + n), 0xc00c);
	assert_int_equal(load_be16(out + n + 2), DNS_TYPE_A);
	assert_int_equal(load_be16(out + n + 4), DNS_CLASS_IN);
	assert_int_equal(load_be32(out + n + 6), 10);
	assert_int_equal(load_be16(out + n + 10), 4);
	assert_memory_equal(out + n + 12, "\1\2\3\4", 4);
	assert_int_equal(load_be16(out + n + 16), 0xc010);

	/* Past 512 bytes without EDNS: header and question only, TC set. */
	assert_int_equal(dns_reply_init(&r, &q, out, sizeof(out), 0, true), 0);
	dns_reply_add(&r, DNS_SECTION_ANSWER, 12, 16, 10, big, 250);
	dns_reply_add(&r, DNS_SECTION_ANSWER, 12, 16, 10, big, 250);
	len = dns_reply_finish(&r);
	assert_int_equal(len, n);
	assert_int_equal(load_be16(out + 2) & DNS_FLAG_TC, DNS_FLAG_TC);
	assert_int_equal(load_be16(out + 6), 0);

	/* An owner outside the question is refused (truncation, not garbage). */
	assert_int_equal(dns_reply_init(&r, &q, out, sizeof(out), 0, true), 0);
	dns_reply_add(&r, DNS_SECTION_ANSWER, (int)n + 3, DNS_TYPE_A, 10, big, 4);
	assert_int_equal(dns_reply_finish(&r), n);

	assert_int_equal(dns_build_truncated(&q, out, sizeof(out)), (int)n);
	assert_int_equal(load_be16(out + 2) & DNS_FLAG_TC, DNS_FLAG_TC);
}

static void test_response_check(void **state)
{
	uint8_t m[600];
	size_t n = put_header(m, 1, DNS_FLAG_QR, 1, 1, 0, 1);

	(void)state;
	n += put_question(m + n, "a.example", DNS_TYPE_A, DNS_CLASS_IN);
	m[n++] = 0xc0;
	m[n++] = 12;
	memcpy(m + n, "\0\1\0\1\0\0\0\x3c\0\4\xc0\0\2\1", 14);
	n += 14;
	n += put_opt(m + n, 1232, 0, false, NULL, 0);
	assert_int_equal(dns_response_check(m, n), 0);
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(dns_response_check(m, cut), -EBADMSG);
	m[n] = 0;
	assert_int_equal(dns_response_check(m, n + 1), -EBADMSG);
	store_be16(m + 6, 2);
	assert_int_equal(dns_response_check(m, n), -EBADMSG);
	store_be16(m + 6, 1);
	store_be16(m + 2, 0); /* a query */
	assert_int_equal(dns_response_check(m, n), -EBADMSG);
	/* A pointer forward (to itself) is refused. */
	store_be16(m + 2, DNS_FLAG_QR);
	m[27 + 1] = 27;
	assert_int_equal(dns_response_check(m, n), -EBADMSG);
}

/* ---- IP/UDP ---- */

#define RESOLVER4 0x64400035u /* 100.64.0.53 */
static const uint8_t resolver6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};
static const uint8_t client6[16] = {0x20, 0x01, 0x00, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static size_t udp4(uint8_t *p, uint32_t dst, uint16_t dport, const uint8_t *data, size_t dlen)
{
	size_t ulen = 8 + dlen;
	uint16_t c;

	memset(p, 0, 28);
	p[0] = 0x45;
	store_be16(p + 2, (uint16_t)(20 + ulen));
	store_be16(p + 4, 0x1111);
	store_be16(p + 6, 0x4000);
	p[8] = 64;
	p[9] = 17;
	store_be32(p + 12, 0x64400102); /* 100.64.1.2 */
	store_be32(p + 16, dst);
	store_be16(p + 10, csum_fold(csum_add(0, p, 20)));
	store_be16(p + 20, 40000);
	store_be16(p + 22, dport);
	store_be16(p + 24, (uint16_t)ulen);
	memcpy(p + 28, data, dlen);
	c = csum_fold(csum_add(csum_pseudo4(p + 12, p + 16, 17, (uint16_t)ulen), p + 20, ulen));
	store_be16(p + 26, c ? c : 0xffff);
	return 20 + ulen;
}

static size_t udp6(uint8_t *p, const uint8_t *dst, const uint8_t *data, size_t dlen)
{
	size_t ulen = 8 + dlen;

	memset(p, 0, 48);
	p[0] = 0x60;
	store_be16(p + 4, (uint16_t)ulen);
	p[6] = 17;
	p[7] = 64;
	memcpy(p + 8, client6, 16);
	memcpy(p + 24, dst, 16);
	store_be16(p + 40, 5353);
	store_be16(p + 42, 53);
	store_be16(p + 44, (uint16_t)ulen);
	memcpy(p + 48, data, dlen);
	store_be16(p + 46, csum_fold(csum_add(csum_pseudo6(p + 8, p + 24, 17, (uint32_t)ulen),
	                                      p + 40, ulen)));
	return 40 + ulen;
}

static void test_udp_match4(void **state)
{
	uint8_t q[512], p[600];
	struct dns_udp_addr a;
	const uint8_t *pl;
	size_t qn = simple_query(q, 3, "mars.example.internal", DNS_TYPE_A), n, plen;

	(void)state;
	n = udp4(p, RESOLVER4, 53, q, qn);
	assert_int_equal(dns_udp_match(p, n, RESOLVER4, NULL, &a, &pl, &plen), 1);
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.src, "\x64\x40\x01\x02", 4);
	assert_memory_equal(a.dst, "\x64\x40\x00\x35", 4);
	assert_int_equal(a.sport, 40000);
	assert_int_equal(a.dport, 53);
	assert_ptr_equal(pl, p + 28);
	assert_int_equal(plen, qn);
	/* Bytes past the IP total length are not part of the packet. */
	assert_int_equal(dns_udp_match(p, n + 7, RESOLVER4, NULL, &a, &pl, &plen), 1);
	assert_int_equal(plen, qn);

	/* Not ours: other address, other port, not UDP, no resolver, not IP. */
	assert_int_equal(dns_udp_match(p, n, RESOLVER4 + 1, NULL, &a, &pl, &plen), 0);
	assert_int_equal(dns_udp_match(p, n, 0, NULL, &a, &pl, &plen), 0);
	n = udp4(p, RESOLVER4, 5353, q, qn);
	assert_int_equal(dns_udp_match(p, n, RESOLVER4, NULL, &a, &pl, &plen), 0);
	n = udp4(p, RESOLVER4, 53, q, qn);
	p[9] = 6;
	assert_int_equal(dns_udp_match(p, n, RESOLVER4, NULL, &a, &pl, &plen), 0);
	p[9] = 17;
	p[0] = 0x25;
	assert_int_equal(dns_udp_match(p, n, RESOLVER4, NULL, &a, &pl, &plen), 0);
	assert_int_equal(dns_udp_match(p, 0, RESOLVER4, NULL, &a, &pl, &plen), 0);

	/* Ours but unusable: truncated, fragment, bad checksums, bad lengths. */
	n = udp4(p, RESOLVER4, 53, q, qn);
	assert_int_equal(dns_udp_match(p, n - 1, RESOLVER4, NULL, &a, &pl, &plen), -EBADMSG);
	p[6] = 0x20; /* MF */
	assert_int_equal(dns_udp_match(p, n, RESOLVER4, NULL, &a, &pl, &plen), -EBADMSG);
	n = udp4(p, RESOLVER4, 53, q, qn);
	p[10] ^= 1;
	assert_int_equal(dns_udp_match(p, n, RESOLVER4, NULL, &a, &pl, &plen), -EBADMSG);
	n = udp4(p, RESOLVER4, 53, q, qn);
	p[40] ^= 1;
	assert_int_equal(dns_udp_match(p, n, RESOLVER4, NULL, &a, &pl, &plen), -EBADMSG);
	n = udp4(p, RESOLVER4, 53, q, qn);
	store_be16(p + 24, 7);
	assert_int_equal(dns_udp_match(p, n, RESOLVER4, NULL, &a, &pl, &plen), -EBADMSG);
	n = udp4(p, RESOLVER4, 53, q, qn);
	p[0] = 0x44; /* IHL 16 bytes */
	assert_int_equal(dns_udp_match(p, n, RESOLVER4, NULL, &a, &pl, &plen), -EBADMSG);

	/* UDP checksum 0: none was computed, allowed over IPv4. */
	n = udp4(p, RESOLVER4, 53, q, qn);
	store_be16(p + 26, 0);
	assert_int_equal(dns_udp_match(p, n, RESOLVER4, NULL, &a, &pl, &plen), 1);
}

static void test_udp_match6(void **state)
{
	uint8_t q[512], p[600];
	struct dns_udp_addr a;
	const uint8_t *pl;
	size_t qn = simple_query(q, 3, "mars.example.internal", DNS_TYPE_AAAA), n, plen;

	(void)state;
	n = udp6(p, resolver6, q, qn);
	assert_int_equal(dns_udp_match(p, n, RESOLVER4, resolver6, &a, &pl, &plen), 1);
	assert_int_equal(a.family, AF_INET6);
	assert_memory_equal(a.src, client6, 16);
	assert_memory_equal(a.dst, resolver6, 16);
	assert_int_equal(a.sport, 5353);
	assert_int_equal(plen, qn);
	assert_int_equal(dns_udp_match(p, n, RESOLVER4, NULL, &a, &pl, &plen), 0);
	assert_int_equal(dns_udp_match(p, n, 0, client6, &a, &pl, &plen), 0);
	store_be16(p + 46, 0); /* mandatory over IPv6 */
	assert_int_equal(dns_udp_match(p, n, 0, resolver6, &a, &pl, &plen), -EBADMSG);
	n = udp6(p, resolver6, q, qn);
	p[6] = 0; /* hop-by-hop header first */
	assert_int_equal(dns_udp_match(p, n, 0, resolver6, &a, &pl, &plen), -EBADMSG);
	p[6] = 58; /* ICMPv6: not DNS */
	assert_int_equal(dns_udp_match(p, n, 0, resolver6, &a, &pl, &plen), 0);
	n = udp6(p, resolver6, q, qn);
	assert_int_equal(dns_udp_match(p, n - 1, 0, resolver6, &a, &pl, &plen), -EBADMSG);
}

static void check_csums4(const uint8_t *p, size_t n)
{
	size_t ulen = load_be16(p + 24);

	assert_int_equal(load_be16(p + 2), n);
	assert_int_equal(csum_fold(csum_add(0, p, 20)), 0);
	assert_int_equal(
	        csum_fold(csum_add(csum_pseudo4(p + 12, p + 16, 17, (uint16_t)ulen), p + 20, ulen)),
	        0);
}

static void test_udp_reply(void **state)
{
	uint8_t q[512], p[700], out[700];
	struct dns_udp_addr a;
	const uint8_t *pl;
	size_t qn = simple_query(q, 3, "mars.example.internal", DNS_TYPE_A), n, plen;
	static const uint8_t answer[] = "an odd-length payload";
	int len;

	(void)state;
	n = udp4(p, RESOLVER4, 53, q, qn);
	assert_int_equal(dns_udp_match(p, n, RESOLVER4, NULL, &a, &pl, &plen), 1);
	len = dns_udp_reply(&a, answer, sizeof(answer), out, sizeof(out));
	assert_int_equal(len, 28 + (int)sizeof(answer));
	assert_int_equal(out[0], 0x45);
	assert_int_equal(out[8], 64);
	assert_int_equal(out[9], 17);
	assert_memory_equal(out + 12, "\x64\x40\x00\x35", 4);
	assert_memory_equal(out + 16, "\x64\x40\x01\x02", 4);
	assert_int_equal(load_be16(out + 20), 53);
	assert_int_equal(load_be16(out + 22), 40000);
	assert_int_equal(load_be16(out + 24), 8 + sizeof(answer));
	assert_memory_equal(out + 28, answer, sizeof(answer));
	check_csums4(out, (size_t)len);
	assert_int_equal(dns_udp_reply(&a, answer, sizeof(answer), out, 28), -ENOSPC);

	/* In place: the payload already sits after the headers. */
	memcpy(out + 28, answer, sizeof(answer));
	len = dns_udp_reply(&a, out + 28, sizeof(answer), out, sizeof(out));
	assert_memory_equal(out + 28, answer, sizeof(answer));
	check_csums4(out, (size_t)len);

	n = udp6(p, resolver6, q, qn);
	assert_int_equal(dns_udp_match(p, n, 0, resolver6, &a, &pl, &plen), 1);
	len = dns_udp_reply(&a, answer, sizeof(answer), out, sizeof(out));
	assert_int_equal(len, 48 + (int)sizeof(answer));
	assert_int_equal(out[0], 0x60);
	assert_int_equal(out[6], 17);
	assert_int_equal(out[7], 64);
	assert_memory_equal(out + 8, resolver6, 16);
	assert_memory_equal(out + 24, client6, 16);
	assert_int_equal(load_be16(out + 40), 53);
	assert_int_equal(load_be16(out + 42), 5353);
	assert_int_equal(csum_fold(csum_add(csum_pseudo6(out + 8, out + 24, 17, 8 + sizeof(answer)),
	                                    out + 40, 8 + sizeof(answer))),
	                 0);
	a.family = 99;
	assert_int_equal(dns_udp_reply(&a, answer, sizeof(answer), out, sizeof(out)), -EINVAL);
	assert_int_equal(dns_udp_header_len(AF_INET), 28);
	assert_int_equal(dns_udp_header_len(AF_INET6), 48);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_simple),
	        cmocka_unit_test(test_parse_edns),
	        cmocka_unit_test(test_parse_other_additional),
	        cmocka_unit_test(test_parse_malformed),
	        cmocka_unit_test(test_parse_drop),
	        cmocka_unit_test(test_parse_other_opcode),
	        cmocka_unit_test(test_query_same),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_reply_header),
	        cmocka_unit_test(test_reply_opt),
	        cmocka_unit_test(test_reply_records_and_truncation),
	        cmocka_unit_test(test_response_check),
	        cmocka_unit_test(test_udp_match4),
	        cmocka_unit_test(test_udp_match6),
	        cmocka_unit_test(test_udp_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
