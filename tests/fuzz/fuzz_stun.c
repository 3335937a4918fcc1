/* SPDX-License-Identifier: MIT */
/* fuzz_stun.c: netcheck's STUN response parser on arbitrary bytes. The
 * transaction id to match is the input's own (bytes 8-19) unless the first
 * byte is odd, so both the matching and the refusing paths are explored. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/netcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_addr(const struct sockaddr_storage *ss)
{
	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t txid[NETCHECK_TXID_LEN] = {0};
	struct netcheck_stun_answer ans, again;
	uint8_t *copy;
	int r;

	if (size >= 20)
		memcpy(txid, data + 8, sizeof(txid));
	if (size > 0 && (data[0] & 1))
		txid[0] ^= 0xff;
	/* An exact-size copy, so ASan sees any read past the end. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	r = netcheck_stun_parse(copy, size, txid, &ans);
	if (r == 0) {
		if (ans.success)
			check_addr(&ans.mapped);
		else if (ans.error != 0 && (ans.error < 300 || ans.error > 699))
			abort();
		if (ans.has_other)
			check_addr(&ans.other);
		/* Deterministic. */
		if (netcheck_stun_parse(copy, size, txid, &again) != 0 ||
		    memcmp(&ans, &again, sizeof(ans)) != 0)
			abort();
	} else if (r != -EBADMSG && r != -ENOMSG) {
		abort();
	}
	free(copy);
	return 0;
}
