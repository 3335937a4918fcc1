/* SPDX-License-Identifier: MIT */
/* test_overlay_msg.c: overlay message codec: round trips, strict parsing, via transforms. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "overlay/id.h"
#include "overlay/msg.h"
#include "overlay/record.h"

static struct ovl_id id_of(uint8_t v)
{
	struct ovl_id id;

	memset(id.b, v, sizeof(id.b));
	return id;
}

static struct ovl_contact contact_v4(uint8_t v, const char *ip, uint16_t port)
{
	struct ovl_contact c;
	struct sockaddr_in *sin = (struct sockaddr_in *)&c.addr;

	memset(&c, 0, sizeof(c));
	c.id = id_of(v);
	memset(c.hit.b, v ^ 0x55, HIT_LEN);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	c.addrlen = sizeof(*sin);
	return c;
}

static struct ovl_contact contact_v6(uint8_t v, const char *ip, uint16_t port)
{
	struct ovl_contact c;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c.addr;

	memset(&c, 0, sizeof(c));
	c.id = id_of(v);
	memset(c.hit.b, v ^ 0x33, HIT_LEN);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	c.addrlen = sizeof(*sin6);
	return c;
}

static int build_simple(uint8_t *buf, size_t cap, uint8_t type, uint8_t flags, uint8_t ttl,
                        size_t nvia)
{
	struct ovl_msg_builder b;
	struct ovl_id t = id_of(0xaa);
	uint8_t via[OVL_VIA_MAX * OVL_ID_LEN];

	for (size_t i = 0; i < sizeof(via); i++)
		via[i] = (uint8_t)(i / OVL_ID_LEN + 1);
	ovl_msg_begin(&b, buf, cap, type, flags, ttl, 0x0102030405060708ull, &t);
	ovl_msg_add_via(&b, via, nvia);
	return ovl_msg_finish(&b);
}

/* Every strict prefix of a valid message, and one trailing byte, are refused. */
static void assert_strict(const uint8_t *buf, size_t len)
{
	uint8_t tmp[OVL_MSG_MAX + 1];
	struct ovl_msg m;

	assert_int_equal(ovl_msg_parse(buf, len, &m), 0);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(ovl_msg_parse(buf, i, &m), -EBADMSG);
	memcpy(tmp, buf, len);
	tmp[len] = 0;
	assert_int_equal(ovl_msg_parse(tmp, len + 1, &m), -EBADMSG);
}

static void test_header_layout(void **state)
{
	uint8_t buf[OVL_MSG_MAX];
	struct ovl_msg m;
	struct ovl_id v;
	int len = build_simple(buf, sizeof(buf), OVL_MSG_FIND, OVL_MSG_F_MAINT, 7, 2);

	(void)state;
	assert_int_equal(len, OVL_MSG_HDR_LEN + 2 * OVL_ID_LEN);
	/* version | type | flags | ttl | txid(8) | target(16) | nvia | via */
	assert_int_equal(buf[0], 1);
	assert_int_equal(buf[1], OVL_MSG_FIND);
	assert_int_equal(buf[2], OVL_MSG_F_MAINT);
	assert_int_equal(buf[3], 7);
	assert_int_equal(buf[4], 0x01);
	assert_int_equal(buf[11], 0x08);
	assert_int_equal(buf[12], 0xaa);
	assert_int_equal(buf[27], 0xaa);
	assert_int_equal(buf[28], 2);
	assert_int_equal(buf[29], 1);
	assert_int_equal(buf[45], 2);
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), 0);
	assert_int_equal(m.type, OVL_MSG_FIND);
	assert_int_equal(m.flags, OVL_MSG_F_MAINT);
	assert_int_equal(m.ttl, 7);
	assert_true(m.txid == 0x0102030405060708ull);
	assert_int_equal(m.nvia, 2);
	ovl_msg_via(&m, 1, &v);
	assert_true(
	        ovl_id_eq(&v, &(struct ovl_id){{2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}}));
	assert_true(ovl_msg_via_has(&m, &v));
	v.b[0] = 9;
	assert_false(ovl_msg_via_has(&m, &v));
	assert_int_equal(m.body_off, (size_t)len);
	assert_strict(buf, (size_t)len);
}

static void test_header_rules(void **state)
{
	uint8_t buf[OVL_MSG_MAX];
	struct ovl_msg m;
	int len;

	(void)state;
	/* Direct messages carry no via list; requests and replies need one. */
	for (uint8_t type = OVL_MSG_PING; type <= OVL_MSG_ERROR; type++) {
		enum ovl_msg_class cls = ovl_msg_class(type);
		bool bodyless = type == OVL_MSG_PING || type == OVL_MSG_PONG ||
		                type == OVL_MSG_HOP_ACK || type == OVL_MSG_LEAVE ||
		                type == OVL_MSG_FIND || type == OVL_MSG_GET;

		len = build_simple(buf, sizeof(buf), type, 0, 1, 0);
		assert_true(len > 0);
		if (bodyless)
			assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m),
			                 cls == OVL_CLASS_DIRECT ? 0 : -EBADMSG);
		len = build_simple(buf, sizeof(buf), type, 0, 1, 1);
		if (bodyless)
			assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m),
			                 cls == OVL_CLASS_DIRECT ? -EBADMSG : 0);
		assert_string_not_equal(ovl_msg_type_name(type), "?");
	}
	assert_string_equal(ovl_msg_type_name(0), "?");
	assert_string_equal(ovl_msg_type_name(200), "?");

	len = build_simple(buf, sizeof(buf), OVL_MSG_GET, 0, 1, OVL_VIA_MAX);
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), 0);
	/* Version, type, flags, ttl and the via bound. */
	len = build_simple(buf, sizeof(buf), OVL_MSG_GET, 0, 1, 1);
	buf[0] = 2;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
	buf[0] = 1;
	buf[1] = 0;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
	buf[1] = 14;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
	buf[1] = OVL_MSG_GET;
	buf[2] = 0x04;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
	buf[2] = OVL_MSG_F_DIRECT;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), 0);
	buf[1] = OVL_MSG_FIND;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
	buf[1] = OVL_MSG_GET;
	buf[2] = 0;
	buf[3] = 0;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
	buf[3] = 1;
	buf[28] = OVL_VIA_MAX + 1;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
	buf[28] = 2;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
	/* Oversized input is refused before anything else. */
	assert_int_equal(ovl_msg_parse(buf, OVL_MSG_MAX + 1, &m), -EBADMSG);
	assert_int_equal(ovl_msg_parse(NULL, 0, &m), -EBADMSG);
}

static void test_find_reply(void **state)
{
	uint8_t buf[OVL_MSG_MAX];
	struct ovl_contact in[3], out;
	struct ovl_msg_builder b;
	struct ovl_id t = id_of(1);
	struct ovl_msg m;
	struct reader r;
	int len;

	(void)state;
	in[0] = contact_v4(0x10, "192.0.2.7", 10500);
	in[1] = contact_v6(0x20, "2001:db8::1", 443);
	memset(&in[2], 0, sizeof(in[2]));
	in[2].id = id_of(0x30);
	memset(in[2].hit.b, 0x77, HIT_LEN);
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_FIND_REPLY, 0, 3, 42, &t);
	ovl_msg_add_via(&b, t.b, 1);
	ovl_msg_begin_list(&b);
	for (size_t i = 0; i < 3; i++)
		ovl_msg_add_contact(&b, &in[i]);
	len = ovl_msg_finish(&b);
	assert_int_equal(len, OVL_MSG_HDR_LEN + OVL_ID_LEN + 1 + 3 * 35 + 4 + 16);
	assert_int_equal(ovl_msg_contact_len(&in[0]), 39);
	assert_int_equal(ovl_msg_contact_len(&in[1]), 51);
	assert_int_equal(ovl_msg_contact_len(&in[2]), 35);
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), 0);
	assert_int_equal(m.count, 3);
	r = reader_init(m.data, m.data_len);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(ovl_msg_next_contact(&r, &out), 0);
		assert_true(ovl_id_eq(&out.id, &in[i].id));
		assert_memory_equal(out.hit.b, in[i].hit.b, HIT_LEN);
		assert_int_equal(out.addrlen, in[i].addrlen);
		assert_int_equal(out.addr.ss_family, i == 2 ? AF_UNSPEC : in[i].addr.ss_family);
		if (in[i].addrlen)
			assert_memory_equal(&out.addr, &in[i].addr, in[i].addrlen);
	}
	assert_int_equal(reader_left(&r), 0);
	assert_strict(buf, (size_t)len);

	/* Bad family, a port without an address, too many contacts. */
	{
		size_t fam_off = OVL_MSG_HDR_LEN + OVL_ID_LEN + 1 + 2 * OVL_ID_LEN;

		assert_int_equal(buf[fam_off], 4);
		buf[fam_off] = 5;
		assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
		buf[fam_off] = 4;
		fam_off = (size_t)len - 2;
		assert_int_equal(buf[fam_off - 1], 0);
		buf[fam_off + 1] = 1;
		assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
		buf[fam_off + 1] = 0;
		buf[OVL_MSG_HDR_LEN + OVL_ID_LEN] = OVL_MSG_CONTACTS_MAX + 1;
		assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
	}
	/* The builder refuses a 33rd contact. */
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_FIND_REPLY, 0, 3, 42, &t);
	ovl_msg_add_via(&b, t.b, 1);
	ovl_msg_begin_list(&b);
	for (size_t i = 0; i < OVL_MSG_CONTACTS_MAX; i++)
		ovl_msg_add_contact(&b, &in[1]);
	assert_true(ovl_msg_finish(&b) > 0);
	ovl_msg_add_contact(&b, &in[1]);
	assert_int_equal(ovl_msg_finish(&b), -EINVAL);
}

static void test_get_reply(void **state)
{
	uint8_t buf[OVL_MSG_MAX], rec1[10], rec2[OVL_RECORD_MAX];
	struct ovl_msg_builder b;
	struct ovl_id t = id_of(2);
	const uint8_t *p;
	struct ovl_msg m;
	struct reader r;
	size_t plen;
	int len;

	(void)state;
	memset(rec1, 0x11, sizeof(rec1));
	memset(rec2, 0x22, sizeof(rec2));
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_GET_REPLY, 0, 4, 7, &t);
	ovl_msg_add_via(&b, t.b, 1);
	ovl_msg_add_u8(&b, OVL_GET_FOUND);
	ovl_msg_begin_list(&b);
	assert_true(ovl_msg_fits(&b, sizeof(rec1)));
	ovl_msg_add_record(&b, rec1, sizeof(rec1));
	ovl_msg_add_record(&b, rec2, sizeof(rec2));
	len = ovl_msg_finish(&b);
	assert_true(len > 0);
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), 0);
	assert_int_equal(m.status, OVL_GET_FOUND);
	assert_int_equal(m.count, 2);
	r = reader_init(m.data, m.data_len);
	assert_int_equal(ovl_msg_next_record(&r, &p, &plen), 0);
	assert_int_equal(plen, sizeof(rec1));
	assert_memory_equal(p, rec1, plen);
	assert_int_equal(ovl_msg_next_record(&r, &p, &plen), 0);
	assert_int_equal(plen, sizeof(rec2));
	assert_memory_equal(p, rec2, plen);
	assert_strict(buf, (size_t)len);
	/* FOUND needs records, NOT_FOUND none; other statuses are malformed. */
	buf[OVL_MSG_HDR_LEN + OVL_ID_LEN] = OVL_GET_NOT_FOUND;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
	buf[OVL_MSG_HDR_LEN + OVL_ID_LEN] = 2;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);

	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_GET_REPLY, 0, 4, 7, &t);
	ovl_msg_add_via(&b, t.b, 1);
	ovl_msg_add_u8(&b, OVL_GET_NOT_FOUND);
	ovl_msg_begin_list(&b);
	len = ovl_msg_finish(&b);
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), 0);
	assert_int_equal(m.status, OVL_GET_NOT_FOUND);
	assert_int_equal(m.count, 0);
	assert_strict(buf, (size_t)len);
	buf[len - 2] = OVL_GET_FOUND;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);

	/* Record length bounds. */
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_GET_REPLY, 0, 4, 7, &t);
	ovl_msg_add_via(&b, t.b, 1);
	ovl_msg_add_u8(&b, OVL_GET_FOUND);
	ovl_msg_begin_list(&b);
	ovl_msg_add_record(&b, rec1, 0);
	assert_int_equal(ovl_msg_finish(&b), -EINVAL);
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_GET_REPLY, 0, 4, 7, &t);
	ovl_msg_add_via(&b, t.b, 1);
	ovl_msg_add_u8(&b, OVL_GET_FOUND);
	ovl_msg_begin_list(&b);
	ovl_msg_add_record(&b, rec1, 1);
	len = ovl_msg_finish(&b);
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), 0);
	buf[len - 3] = 0; /* length 0 */
	buf[len - 2] = 0;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len - 1, &m), -EBADMSG);
	store_be16(buf + len - 3, OVL_RECORD_MAX + 1);
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
}

static void test_blobs_and_statuses(void **state)
{
	uint8_t buf[OVL_MSG_MAX], rec[OVL_RECORD_MAX + 1], pkt[OVL_HIP_MAX + 1];
	struct ovl_msg_builder b;
	struct ovl_id t = id_of(3);
	struct ovl_msg m;
	int len;

	(void)state;
	memset(rec, 0x5a, sizeof(rec));
	memset(pkt, 0x3c, sizeof(pkt));
	/* PUT and STORE carry one record of 1..OVL_RECORD_MAX bytes. */
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_PUT, 0, 16, 1, &t);
	ovl_msg_add_via(&b, t.b, 1);
	ovl_msg_add_blob(&b, rec, OVL_RECORD_MAX);
	len = ovl_msg_finish(&b);
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), 0);
	assert_int_equal(m.data_len, OVL_RECORD_MAX);
	assert_ptr_equal(m.data, buf + OVL_MSG_HDR_LEN + OVL_ID_LEN + 2);
	assert_strict(buf, (size_t)len);
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_STORE, OVL_MSG_F_MAINT, 0, 1, &t);
	ovl_msg_add_blob(&b, rec, OVL_RECORD_MAX + 1);
	len = ovl_msg_finish(&b);
	assert_true(len > 0);
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
	store_be16(buf + OVL_MSG_HDR_LEN, 0);
	assert_int_equal(ovl_msg_parse(buf, OVL_MSG_HDR_LEN + 2, &m), -EBADMSG);
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_STORE, OVL_MSG_F_MAINT, 0, 1, &t);
	ovl_msg_add_blob(&b, rec, 0);
	assert_int_equal(ovl_msg_finish(&b), -EINVAL);

	/* HIP: up to a full HIP packet. */
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_HIP, 0, 5, 1, &t);
	ovl_msg_add_via(&b, t.b, 1);
	ovl_msg_add_blob(&b, pkt, OVL_HIP_MAX);
	len = ovl_msg_finish(&b);
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), 0);
	assert_int_equal(m.data_len, OVL_HIP_MAX);
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_HIP, 0, 5, 1, &t);
	ovl_msg_add_via(&b, t.b, 1);
	ovl_msg_add_blob(&b, pkt, OVL_HIP_MAX + 1);
	len = ovl_msg_finish(&b);
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);

	/* PUT_REPLY: OK has no reason; REFUSED has a known one. */
	for (unsigned st = 0; st < 3; st++) {
		for (unsigned reason = 0; reason < 7; reason++) {
			bool ok = (st == OVL_PUT_OK && reason == OVL_PUT_R_NONE) ||
			          (st == OVL_PUT_REFUSED && reason >= OVL_PUT_R_OWNED &&
			           reason <= OVL_PUT_R_INVALID);

			ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_PUT_REPLY, 0, 2, 9, &t);
			ovl_msg_add_via(&b, t.b, 1);
			ovl_msg_add_u8(&b, (uint8_t)st);
			ovl_msg_add_u8(&b, (uint8_t)reason);
			len = ovl_msg_finish(&b);
			assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), ok ? 0 : -EBADMSG);
			if (ok) {
				assert_int_equal(m.status, st);
				assert_int_equal(m.code, reason);
				assert_strict(buf, (size_t)len);
			}
		}
	}
	/* ERROR: TTL only. */
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_ERROR, OVL_MSG_F_MAINT, 2, 9, &t);
	ovl_msg_add_via(&b, t.b, 1);
	ovl_msg_add_u8(&b, OVL_ERR_TTL);
	len = ovl_msg_finish(&b);
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), 0);
	assert_int_equal(m.code, OVL_ERR_TTL);
	assert_strict(buf, (size_t)len);
	buf[len - 1] = 2;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len, &m), -EBADMSG);
	/* Bodyless types refuse a body. */
	len = build_simple(buf, sizeof(buf), OVL_MSG_PING, 0, 0, 0);
	buf[len] = 0;
	assert_int_equal(ovl_msg_parse(buf, (size_t)len + 1, &m), -EBADMSG);
}

static void test_forward_and_pop(void **state)
{
	uint8_t in[OVL_MSG_MAX], out[OVL_MSG_MAX], back[OVL_MSG_MAX], body[20];
	struct ovl_msg_builder b;
	struct ovl_id t = id_of(4), self = id_of(0xee), v;
	struct ovl_msg m, m2, m3;
	int len, flen, plen;

	(void)state;
	memset(body, 0x99, sizeof(body));
	ovl_msg_begin(&b, in, sizeof(in), OVL_MSG_PUT, 0, 9, 77, &t);
	ovl_msg_add_via(&b, id_of(1).b, 1);
	ovl_msg_add_blob(&b, body, sizeof(body));
	len = ovl_msg_finish(&b);
	assert_int_equal(ovl_msg_parse(in, (size_t)len, &m), 0);
	flen = ovl_msg_forward(in, (size_t)len, &m, &self, 8, out, sizeof(out));
	assert_int_equal(flen, len + OVL_ID_LEN);
	assert_int_equal(ovl_msg_parse(out, (size_t)flen, &m2), 0);
	assert_int_equal(m2.ttl, 8);
	assert_int_equal(m2.nvia, 2);
	ovl_msg_via(&m2, 1, &v);
	assert_true(ovl_id_eq(&v, &self));
	assert_int_equal(m2.data_len, sizeof(body));
	assert_memory_equal(m2.data, body, sizeof(body));
	assert_int_equal(ovl_msg_forward(in, (size_t)len, &m, &self, 8, out, (size_t)len),
	                 -ENOBUFS);

	plen = ovl_msg_pop_via(out, (size_t)flen, &m2, back, sizeof(back));
	assert_int_equal(plen, len);
	assert_memory_equal(back + 4, in + 4, (size_t)len - 4);
	assert_int_equal(ovl_msg_parse(back, (size_t)plen, &m3), 0);
	assert_int_equal(m3.nvia, 1);

	/* A full via list cannot grow. */
	len = build_simple(in, sizeof(in), OVL_MSG_GET, 0, 3, OVL_VIA_MAX);
	assert_int_equal(ovl_msg_parse(in, (size_t)len, &m), 0);
	assert_int_equal(ovl_msg_forward(in, (size_t)len, &m, &self, 2, out, sizeof(out)), -EINVAL);
}

static void test_builder_errors(void **state)
{
	uint8_t buf[OVL_MSG_MAX];
	struct ovl_msg_builder b;
	struct ovl_id t = id_of(5);

	(void)state;
	ovl_msg_begin(&b, buf, 10, OVL_MSG_PING, 0, 0, 1, &t);
	assert_int_equal(ovl_msg_finish(&b), -ENOBUFS);
	ovl_msg_begin(&b, buf, sizeof(buf), 99, 0, 0, 1, &t);
	assert_int_equal(ovl_msg_finish(&b), -EINVAL);
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_PING, 0x80, 0, 1, &t);
	assert_int_equal(ovl_msg_finish(&b), -EINVAL);
	/* Via entries after the body, or beyond the bound. */
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_PUT_REPLY, 0, 0, 1, &t);
	ovl_msg_add_u8(&b, 0);
	ovl_msg_add_via(&b, t.b, 1);
	assert_int_equal(ovl_msg_finish(&b), -EINVAL);
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_GET, 0, 1, 1, &t);
	for (size_t i = 0; i <= OVL_VIA_MAX; i++)
		ovl_msg_add_via(&b, t.b, 1);
	assert_int_equal(ovl_msg_finish(&b), -EINVAL);
	/* List items need an open list. */
	ovl_msg_begin(&b, buf, sizeof(buf), OVL_MSG_GET_REPLY, 0, 1, 1, &t);
	ovl_msg_add_via(&b, t.b, 1);
	ovl_msg_add_record(&b, buf, 5);
	assert_int_equal(ovl_msg_finish(&b), -EINVAL);
	/* A blob larger than the buffer. */
	ovl_msg_begin(&b, buf, 100, OVL_MSG_STORE, 0, 0, 1, &t);
	ovl_msg_add_blob(&b, buf, 200);
	assert_int_equal(ovl_msg_finish(&b), -ENOBUFS);
	assert_false(ovl_msg_fits(&b, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_header_layout),      cmocka_unit_test(test_header_rules),
	        cmocka_unit_test(test_find_reply),         cmocka_unit_test(test_get_reply),
	        cmocka_unit_test(test_blobs_and_statuses), cmocka_unit_test(test_forward_and_pop),
	        cmocka_unit_test(test_builder_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
