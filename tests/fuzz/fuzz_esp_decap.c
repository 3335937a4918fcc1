/* SPDX-License-Identifier: MIT */
/* fuzz_esp_decap.c: ESP decapsulation and BEET header parsing on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp/beet.h"
#include "esp/sa.h"
#include "hip/wire.h"

/* Must match tests/fuzz/gen_fuzz_esp_decap.py, which builds the valid seeds. */
static const uint8_t keymat[ESP_KEYMAT_LEN] = {
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
        0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xa1, 0xa2, 0xa3, 0xa4,
};
#define SPI UINT32_C(0x8badf00d)

#define MAX_PACKET 70000

static struct esp_sa in_sa, out_sa;
static uint8_t buf[BEET_IPV6_HDR_LEN + MAX_PACKET];
static uint8_t wire[MAX_PACKET + ESP_MAX_OVERHEAD];

static void init_once(void)
{
	static int done;

	if (done)
		return;
	if (esp_sa_init(&in_sa, SPI, ESP_SUITE_AES_GCM_ICV16, keymat, sizeof(keymat)) < 0 ||
	    esp_sa_init(&out_sa, SPI, ESP_SUITE_AES_GCM_ICV16, keymat, sizeof(keymat)) < 0)
		abort();
	done = 1;
}

/* Inbound: the input as a received ESP packet, then BEET rebuilds the header. */
static void decap(const uint8_t *data, size_t size)
{
	struct hit a = {{0x20, 0x01, 0x00, 0x20}}, b = {{0x20, 0x01, 0x00, 0x21}};
	uint8_t nh;
	int n;

	/* Every input meets a fresh window, so runs do not depend on order. */
	replay_init(&in_sa.replay);
	n = esp_decap(&in_sa, data, size, buf + BEET_IPV6_HDR_LEN, sizeof(buf) - BEET_IPV6_HDR_LEN,
	              &nh);
	if (n < 0)
		return;
	if (beet_ipv6_inbound(buf, sizeof(buf), (size_t)n, &a, &b, nh) != BEET_IPV6_HDR_LEN + n)
		abort();
}

/* Outbound: the input as a TUN packet, stripped, protected and recovered. */
static void outbound(const uint8_t *data, size_t size)
{
	struct hit src, dst;
	size_t off;
	uint8_t nh, rnh;
	int plen, w, d;

	plen = beet_ipv6_outbound(data, size, &src, &dst, &nh, &off);
	if (plen < 0)
		return;
	if (off + (size_t)plen > size)
		abort();
	replay_init(&in_sa.replay);
	out_sa.seq = 0;
	w = esp_encap(&out_sa, nh, data + off, (size_t)plen, wire, sizeof(wire));
	if (w < 0)
		abort();
	d = esp_decap(&in_sa, wire, (size_t)w, buf + BEET_IPV6_HDR_LEN,
	              sizeof(buf) - BEET_IPV6_HDR_LEN, &rnh);
	if (d != plen || rnh != nh || memcmp(buf + BEET_IPV6_HDR_LEN, data + off, (size_t)d))
		abort();
	if (beet_ipv6_inbound(buf, sizeof(buf), (size_t)d, &src, &dst, rnh) != (int)off + d)
		abort();
	/* Everything but version, traffic class, flow label and hop limit. */
	if (memcmp(buf + 4, data + 4, 3) || memcmp(buf + 8, data + 8, (size_t)d + 32))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_PACKET)
		return 0;
	init_once();
	decap(data, size);
	outbound(data, size);
	return 0;
}
