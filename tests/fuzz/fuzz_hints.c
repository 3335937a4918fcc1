/* SPDX-License-Identifier: MIT */
/* fuzz_hints.c: the address hints of a name record (an overlay record's
 * payload, written by any peer) on arbitrary bytes.
 *
 * Besides "no crash": what decodes re-encodes to the same bytes, and the
 * cache takes any payload. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "daemon/hints.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hip_locator l[HINTS_MAX];
	struct hip_locator_entry e[HINTS_MAX];
	static struct hints_cache *cache;
	struct hit hit = {.b = {0x20, 0x01, 0x00, 0x20}};
	uint8_t again[HINTS_BUF];
	size_t n;

	if (hints_decode(data, size, l, HINTS_MAX, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			memset(&e[i], 0, sizeof(e[i]));
			if (l[i].addr.ss_family == AF_INET) {
				const struct sockaddr_in *s =
				        (const struct sockaddr_in *)&l[i].addr;

				e[i].addr[10] = e[i].addr[11] = 0xff;
				memcpy(e[i].addr + 12, &s->sin_addr, 4);
				e[i].port = ntohs(s->sin_port);
			} else {
				const struct sockaddr_in6 *s =
				        (const struct sockaddr_in6 *)&l[i].addr;

				memcpy(e[i].addr, &s->sin6_addr, 16);
				e[i].port = ntohs(s->sin6_port);
			}
		}
		check(hints_encode(e, n, again) == size && memcmp(again, data, size) == 0);
	}
	if (!cache && hints_cache_new(&cache) < 0)
		abort();
	if (size)
		hit.b[15] = data[0];
	hints_cache_put(cache, &hit, data, size, size);
	(void)hints_cache_get(cache, &hit, l, size + 1);
	return 0;
}
