/* SPDX-License-Identifier: MIT */
/* fuzz_hip_locator.c: LOCATOR_SET and NAT_TRAVERSAL_MODE decoders on arbitrary
 * parameter contents, with a re-encode of whatever decodes. */
#include <stdint.h>
#include <string.h>

#include "hip/locator.h"
#include "hip/msg.h"
#include "hip/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[HIP_MAX_PACKET];
	struct hip_locator_entry e[HIP_LOCATORS_MAX];
	uint16_t modes[HIP_NAT_MODES_MAX];
	struct hip_param p;
	struct hip_builder b;
	struct hit h = {{0}};
	size_t n;

	if (size > UINT16_MAX)
		return 0;
	p = (struct hip_param){.type = HIP_P_LOCATOR_SET, .len = (uint16_t)size, .val = data};
	if (hip_locator_set_decode(&p, e, HIP_LOCATORS_MAX, &n) == 0) {
		hip_builder_init(&b, pkt, sizeof(pkt), HIP_UPDATE, &h, &h);
		/* Every decoded set encodes again, to the same bytes. */
		if (hip_locator_set_encode(&b, e, n) == 0 && hip_builder_finish(&b) > 0 &&
		    memcmp(pkt + HIP_HDR_LEN + 4, data, size) != 0 && n > 0) {
			/* Reserved bits other than P are not kept: only those may differ. */
			for (size_t i = 0, off = 0; i < n; i++) {
				if ((pkt[HIP_HDR_LEN + 4 + off + 3] ^ data[off + 3]) & 1)
					__builtin_trap();
				off += 8 + 4u * data[off + 2];
			}
		}
	}
	p.type = HIP_P_NAT_TRAVERSAL_MODE;
	(void)hip_nat_mode_decode(&p, modes, HIP_NAT_MODES_MAX, &n);
	return 0;
}
