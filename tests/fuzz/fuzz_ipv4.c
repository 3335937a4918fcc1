/* SPDX-License-Identifier: MIT */
/* fuzz_ipv4.c: IPv4 translation, MSS clamping and ICMP error building on arbitrary packets.
 *
 * Besides "no crash", checks what must hold for any input: a checksum that
 * verified before a translation or an MSS clamp verifies after it, errors
 * verify and quote a prefix of the packet within their size limits. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "esp/ipv4.h"
#include "esp/pmtu.h"

#define MAX_PACKET 70000

static uint8_t buf[MAX_PACKET], err[PMTU_ICMP6_MAX + 64];

static const uint8_t own_hit[16] = {0x20, 0x01, 0x00, 0x20, [15] = 5};

static void check(bool ok)
{
	if (!ok)
		abort();
}

/* ---- oracles: checksums summed from scratch ---- */

static bool hdr4_ok(const uint8_t *p)
{
	return csum_fold(csum_add(0, p, (size_t)(p[0] & 15) * 4)) == 0;
}

/* Of a whole IPv4 packet that ipv4_parse accepted: true when its TCP,
 * UDP (with a checksum) or ICMP checksum verifies. */
static bool l4_ok(const uint8_t *p, const struct ipv4_info *in)
{
	const uint8_t *l4 = p + in->hdr_len;
	size_t n = (size_t)in->total_len - in->hdr_len;
	uint32_t sum = 0;

	if (in->fragment || n == 0)
		return false;
	if (in->proto == 17 && (n < 8 || load_be16(l4 + 6) == 0))
		return false;
	if (in->proto == 6 || in->proto == 17)
		sum = csum_pseudo4(p + 12, p + 16, in->proto, (uint16_t)n);
	else if (in->proto != 1)
		return false;
	return csum_fold(csum_add(sum, l4, n)) == 0;
}

/* The IPv4 header an ICMP error quotes, when it is all there, else NULL. */
static const uint8_t *quoted_hdr(const uint8_t *p, const struct ipv4_info *in)
{
	const uint8_t *q = p + in->hdr_len + 8;
	size_t n = (size_t)in->total_len - in->hdr_len;

	if (in->proto != 1 || in->fragment || n < 8 + 20 || q[0] >> 4 != 4 ||
	    (size_t)(q[0] & 15) * 4 > n - 8 || (q[0] & 15) < 5)
		return NULL;
	return q;
}

/* ---- inputs made valid ----
 * Random bytes rarely carry right checksums, so each input also runs with
 * every checksum the oracles look at set from scratch. */

static uint8_t fixed[MAX_PACKET];

static void set_sum(uint8_t *field, uint32_t sum, const uint8_t *p, size_t n, bool udp)
{
	uint16_t c;

	store_be16(field, 0);
	c = csum_fold(csum_add(sum, p, n));
	store_be16(field, udp && c == 0 ? 0xffff : c);
}

static void fix4(uint8_t *p, const struct ipv4_info *in)
{
	uint8_t *l4 = p + in->hdr_len, *q = (uint8_t *)quoted_hdr(p, in);
	size_t n = (size_t)in->total_len - in->hdr_len;

	if (q)
		set_sum(q + 10, 0, q, (size_t)(q[0] & 15) * 4, false);
	if (!in->fragment && in->proto == 1 && n >= 8)
		set_sum(l4 + 2, 0, l4, n, false);
	if (!in->fragment && in->proto == 6 && n >= 20)
		set_sum(l4 + 16, csum_pseudo4(p + 12, p + 16, 6, (uint16_t)n), l4, n, false);
	if (!in->fragment && in->proto == 17 && n >= 8 && load_be16(l4 + 6) != 0)
		set_sum(l4 + 6, csum_pseudo4(p + 12, p + 16, 17, (uint16_t)n), l4, n, true);
	set_sum(p + 10, 0, p, in->hdr_len, false);
}

static void fix6(uint8_t *p, size_t len)
{
	size_t plen;

	if (len < 40 || p[0] >> 4 != 6 || p[6] != 6)
		return;
	plen = load_be16(p + 4);
	if (plen > len - 40 || plen < 20)
		return;
	set_sum(p + 40 + 16, csum_pseudo6(p + 8, p + 24, 6, (uint32_t)plen), p + 40, plen, false);
}

static void fix(const uint8_t *data, size_t size)
{
	struct ipv4_info in;

	memcpy(fixed, data, size);
	if (ipv4_parse(fixed, size, &in) >= 0)
		fix4(fixed, &in);
	else
		fix6(fixed, size);
}

/* ---- translation ---- */

/* The packet at buf (len bytes) was translated (r: the result): on success
 * it carries `to` and every checksum that verified before still does. */
struct was {
	bool hdr, l4, quote;
};

static struct was was_ok(const uint8_t *p, const struct ipv4_info *in)
{
	const uint8_t *q = quoted_hdr(p, in);

	return (struct was){hdr4_ok(p), l4_ok(p, in), q && hdr4_ok(q)};
}

static void after_rewrite(int r, size_t len, struct ipv4_addrs to, struct was was,
                          const uint8_t *orig)
{
	struct ipv4_info in;
	const uint8_t *q;

	if (r < 0) {
		check(memcmp(buf, orig, len) == 0);
		return;
	}
	check(ipv4_parse(buf, len, &in) >= 0);
	check(in.src == to.src && in.dst == to.dst);
	if (was.hdr)
		check(hdr4_ok(buf));
	if (was.l4)
		check(l4_ok(buf, &in));
	q = quoted_hdr(buf, &in);
	if (was.quote)
		check(q && hdr4_ok(q));
}

static void translate(const uint8_t *data, size_t size)
{
	const struct ipv4_addrs to = {0x64400707, 0x64400808};
	struct ipv4_info in;
	struct was was;
	int total = ipv4_parse(data, size, &in), r;

	if (total < 0)
		return;
	check((size_t)total <= size && in.hdr_len <= total && in.total_len == total);
	was = was_ok(data, &in);

	memcpy(buf, data, size);
	r = ipv4_rewrite(buf, (size_t)total, to);
	check(r <= 0);
	after_rewrite(r, (size_t)total, to, was, data);

	/* Inbound from the peer the packet claims to come from. */
	memcpy(buf, data, size);
	r = ipv4_inbound(buf, size, (struct ipv4_addrs){in.src, in.dst}, to);
	check(r < 0 || r == total);
	check(r < 0 || was.hdr);
	after_rewrite(r, (size_t)total, to, was, data);
	/* ... and from another one. */
	memcpy(buf, data, size);
	r = ipv4_inbound(buf, size, (struct ipv4_addrs){in.src ^ 1, in.dst}, to);
	check(r < 0);
	check(memcmp(buf, data, size) == 0);
}

/* ---- MSS clamping ---- */

/* The TCP checksum of an IPv6 packet whose next header is TCP. */
static bool tcp6_ok(const uint8_t *p, size_t len)
{
	size_t plen;

	if (len < 40 || p[0] >> 4 != 6 || p[6] != 6)
		return false;
	plen = load_be16(p + 4);
	if (plen > len - 40 || plen < 20)
		return false;
	return csum_fold(csum_add(csum_pseudo6(p + 8, p + 24, 6, (uint32_t)plen), p + 40, plen)) ==
	       0;
}

static void clamp(const uint8_t *data, size_t size)
{
	static const unsigned mtus[] = {41, 61, 1280, 1400, 9000, 70000};

	for (size_t i = 0; i < ARRAY_SIZE(mtus); i++) {
		struct ipv4_info in;
		bool v4 = ipv4_parse(data, size, &in) >= 0 && in.proto == 6;
		bool was4 = v4 && l4_ok(data, &in), was6 = tcp6_ok(data, size);
		int r;

		memcpy(buf, data, size);
		r = ipv4_clamp_mss(buf, size, mtus[i]);
		check(r == -EBADMSG || r == -EINVAL || r == 0 || r == 1);
		if (r <= 0) {
			check(memcmp(buf, data, size) == 0);
			continue;
		}
		if (was4)
			check(l4_ok(buf, &in));
		if (was6)
			check(tcp6_ok(buf, size));
		/* Only MSS values (at most 10 in 40 bytes of options) and the
		 * checksum change. */
		for (size_t k = 0, diff = 0; k < size; k++)
			if (buf[k] != data[k])
				check(++diff <= 2 + 2 * 10);
	}
}

/* ---- ICMP errors ---- */

static void check_error4(int n, const uint8_t *data, size_t size, size_t cap)
{
	if (n <= 0)
		return;
	check((size_t)n <= cap && n <= PMTU_ICMP4_MAX && n >= 28);
	check(hdr4_ok(err) && load_be16(err + 2) == n && err[9] == 1);
	check(csum_fold(csum_add(0, err + 20, (size_t)n - 20)) == 0);
	check((size_t)n - 28 <= size && memcmp(err + 28, data, (size_t)n - 28) == 0);
}

static void check_error6(int n, const uint8_t *data, size_t size, size_t cap)
{
	uint32_t sum;

	if (n <= 0)
		return;
	check((size_t)n <= cap && n <= PMTU_ICMP6_MAX && n >= 48);
	check(load_be16(err + 4) == n - 40 && err[6] == 58);
	sum = csum_pseudo6(err + 8, err + 24, 58, (uint32_t)(n - 40));
	check(csum_fold(csum_add(sum, err + 40, (size_t)n - 40)) == 0);
	check((size_t)n - 48 <= size && memcmp(err + 48, data, (size_t)n - 48) == 0);
}

static void errors(const uint8_t *data, size_t size)
{
	unsigned mtu = 0;
	int v = pmtu_check(data, size, 1194, &mtu);
	/* Vary the room: full, and small buffers cut by the input's length. */
	const size_t caps[] = {sizeof(err), 28 + (size % 64), 48 + (size % 64)};

	check(v == -EBADMSG || (v >= PMTU_FITS && v <= PMTU_TOO_BIG));
	if (v == PMTU_TOO_BIG)
		check(mtu == 1194 || mtu == PMTU_IPV6_MIN);
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		size_t cap = caps[i];

		check_error4(pmtu_icmp4_unreach(err, cap, data, size), data, size, cap);
		check_error4(pmtu_icmp4_frag_needed(err, cap, data, size, 1194), data, size, cap);
		check_error6(pmtu_icmp6_unreach(err, cap, own_hit, data, size), data, size, cap);
		check_error6(pmtu_icmp6_too_big(err, cap, own_hit, data, size, 1280), data, size,
		             cap);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_PACKET)
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		const uint8_t *p = data;

		if (pass == 1) {
			fix(data, size);
			p = fixed;
		}
		translate(p, size);
		clamp(p, size);
		errors(p, size);
	}
	return 0;
}
