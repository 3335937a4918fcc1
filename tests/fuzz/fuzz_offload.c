/* SPDX-License-Identifier: MIT */
/* fuzz_offload.c: TUN super-packets cut (tso) and packets coalesced (gro) on
 * arbitrary input.
 *
 * The input is a sequence of records: a virtio-net header (10 bytes, host
 * order), a 16-bit big-endian length, that many packet bytes. A record with
 * a GSO type is cut; every segment must carry valid checksums and fit its
 * size, and goes on to GRO with the plain records. Whatever GRO writes must
 * fit 64 KiB, and a super-packet it writes must be one tso accepts. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "esp/gro.h"
#include "esp/tso.h"

static struct gro gro;
static uint8_t pkt[70000], seg[70000];

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool l4_ok(const uint8_t *p, size_t len, size_t l4, uint8_t proto, bool v6)
{
	size_t l4len = len - l4;
	uint32_t sum = v6 ? csum_pseudo6(p + 8, p + 24, proto, (uint32_t)l4len)
	                  : csum_pseudo4(p + 12, p + 16, proto, (uint16_t)l4len);

	return csum_fold(csum_add(sum, p + l4, l4len)) == 0;
}

static void emitted(void *ctx, const struct vnet_hdr *h, const uint8_t *p, size_t len)
{
	struct tso t;

	(void)ctx;
	check(len <= GRO_PKT_MAX);
	if (h->gso_type != VNET_GSO_NONE)
		check(tso_init(&t, h, p, len) == 0);
}

static void cut(const struct vnet_hdr *h, const uint8_t *p, size_t len)
{
	struct tso t;
	int n;

	if (tso_init(&t, h, p, len) < 0)
		return;
	while ((n = tso_next(&t, seg, sizeof(seg))) > 0) {
		check((size_t)n <= t.hdr_len + t.seg_size);
		if (t.v6) {
			check(load_be16(seg + 4) == (size_t)n - 40);
		} else {
			check(load_be16(seg + 2) == (size_t)n);
			check(csum_fold(csum_add(0, seg, t.l4_off)) == 0);
		}
		check(l4_ok(seg, (size_t)n, t.l4_off, t.proto, t.v6));
		gro_add(&gro, seg, (size_t)n, emitted, NULL);
	}
	check(n == 0);
}

/* A completed checksum verifies with the pseudo-header sum the field held. */
static void finish(const struct vnet_hdr *h, uint8_t *p, size_t len)
{
	size_t start = h->csum_start, field = start + h->csum_offset;
	uint16_t pseudo = field + 2 <= len ? load_be16(p + field) : 0;

	if (tso_finish_csum(h, p, len) < 0) {
		check(field + 2 > len || h->csum_offset % 2);
		return;
	}
	if (h->flags & VNET_F_NEEDS_CSUM)
		check(csum_fold(csum_add(pseudo, p + start, len - start)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gro_init(&gro);
	while (size >= VNET_HDR_LEN + 2) {
		struct vnet_hdr h;
		size_t len;

		memcpy(&h, data, VNET_HDR_LEN);
		len = load_be16(data + VNET_HDR_LEN);
		data += VNET_HDR_LEN + 2;
		size -= VNET_HDR_LEN + 2;
		if (len > size)
			len = size;
		memcpy(pkt, data, len);
		data += len;
		size -= len;
		if (h.gso_type != VNET_GSO_NONE) {
			cut(&h, pkt, len);
			continue;
		}
		finish(&h, pkt, len);
		gro_add(&gro, pkt, len, emitted, NULL);
	}
	gro_flush(&gro, emitted, NULL);
	return 0;
}
