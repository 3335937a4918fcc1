/* SPDX-License-Identifier: MIT */
/* fuzz_hip_msg.c: the HIPv2 parser, every parameter decoder, and MAC/signature
 * verification on untrusted packets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/identity.h"
#include "hip/msg.h"
#include "hip/params.h"
#include "hip/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t mac_key[48] = {0x6b, 0x65, 0x79};

/* One public key for the whole run: generating one per input would dominate. */
static const struct hi_pub *fixed_pub(void)
{
	static struct hi_pub *pub;
	static int done;

	if (!done) {
		struct identity *id;
		const uint8_t *hi;
		size_t hilen;

		done = 1;
		if (identity_generate(&id) < 0)
			abort();
		hi = identity_hi(id, &hilen);
		if (hi_pub_parse(identity_algorithm(id), hi, hilen, &pub) < 0)
			abort();
		identity_free(id);
	}
	return pub;
}

static void decode_all(const struct hip_param *p)
{
	struct hip_esp_info ei;
	struct hip_puzzle pz;
	struct hip_solution so;
	struct hip_list8 l8;
	struct hip_list16 l16;
	struct hip_dh dh;
	struct hip_host_id hid;
	struct hip_sig sig;
	struct hip_notification nt;
	struct hip_opaque op;
	uint64_t c;
	uint32_t v, ids[HIP_LIST_MAX];
	size_t n;

	hip_esp_info_decode(p, &ei);
	hip_r1_counter_decode(p, &c);
	hip_puzzle_decode(p, 48, &pz);
	hip_puzzle_decode(p, 32, &pz);
	hip_solution_decode(p, 48, &so);
	hip_solution_decode(p, 32, &so);
	hip_list8_decode(p, &l8);
	hip_list16_decode(p, &l16);
	if (hip_dh_decode(p, &dh) == 0 && (dh.publen == 0 || dh.pub + dh.publen > p->val + p->len))
		abort();
	if (hip_host_id_decode(p, &hid) == 0) {
		struct hi_pub *pub;
		uint8_t tlv[HIP_MAX_PACKET];

		if (hip_host_id_tlv(&hid, tlv, sizeof(tlv)) < 0)
			abort();
		if (hi_pub_parse(hid.algorithm, hid.hi, hid.hilen, &pub) == 0)
			hi_pub_free(pub);
	}
	hip_sig_decode(p, &sig);
	hip_notification_decode(p, &nt);
	hip_opaque_decode(p, &op);
	hip_seq_decode(p, &v);
	hip_ack_decode(p, ids, HIP_LIST_MAX, &n);
}

/* Parsing then rebuilding the parameters gives back the same bytes. */
static void rebuild(const struct hip_msg *m)
{
	uint8_t buf[HIP_MAX_PACKET];
	struct hip_builder b;

	hip_builder_init(&b, buf, sizeof(buf), m->type, &m->sender, &m->receiver);
	for (size_t i = 0; i < m->nparams; i++)
		hip_builder_param_copy(&b, m->params[i].type, m->params[i].val, m->params[i].len);
	if (hip_builder_finish(&b) != (int)m->len || memcmp(buf + 8, m->raw + 8, m->len - 8) != 0)
		abort();
}

static void verify_all(const struct hip_msg *m)
{
	const struct hip_param *hp = hip_msg_find(m, HIP_P_HOST_ID);
	uint8_t tlv[HIP_MAX_PACKET];
	size_t tlen = 0;

	hip_msg_verify_mac(m, HIP_P_HIP_MAC, HASH_SHA384, mac_key, sizeof(mac_key), NULL, 0);
	hip_msg_verify_mac(m, HIP_P_HIP_MAC, HASH_SHA256, mac_key, 32, NULL, 0);
	if (hp) {
		tlen = hp->len + 4u + 7u;
		tlen -= tlen % 8;
		memcpy(tlv, m->raw + hp->offset, tlen);
	}
	hip_msg_verify_mac(m, HIP_P_HIP_MAC_2, HASH_SHA384, mac_key, sizeof(mac_key), tlv, tlen);
	hip_msg_verify_sig(m, HIP_P_HIP_SIGNATURE, fixed_pub());
	hip_msg_verify_sig(m, HIP_P_HIP_SIGNATURE_2, fixed_pub());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hip_msg m;

	if (hip_msg_parse(data, size, &m) != 0)
		return 0;
	if (m.nparams > HIP_MAX_PARAMS || m.len != size)
		abort();
	for (size_t i = 0; i < m.nparams; i++) {
		const struct hip_param *p = &m.params[i];

		if (p->offset + 4 + p->len > size || p->val != data + p->offset + 4 ||
		    hip_msg_find(&m, p->type) == NULL || hip_msg_index(&m, p->type) > (int)i)
			abort();
		decode_all(p);
	}
	rebuild(&m);
	verify_all(&m);
	return 0;
}
