/* SPDX-License-Identifier: MIT */
/* params.h: encoders and strict decoders for each HIPv2 parameter we speak.
 * Decoders return 0 or -EBADMSG; decoded pointers point into the packet. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"

struct hip_builder;
struct hip_param;

#define HIP_LIST_MAX 16

struct hip_esp_info {
	uint16_t keymat_index;
	uint32_t old_spi;
	uint32_t new_spi;
};

struct hip_puzzle {
	uint8_t k;
	uint8_t lifetime; /* 2^(lifetime-32) seconds */
	uint8_t opaque[2];
	uint8_t i[HASH_MAX_LEN];
	size_t ilen; /* RHASH_len / 8 */
};

struct hip_solution {
	uint8_t k;
	uint8_t opaque[2];
	uint8_t i[HASH_MAX_LEN];
	uint8_t j[HASH_MAX_LEN];
	size_t ilen;
};

struct hip_list8 { /* DH_GROUP_LIST, HIT_SUITE_LIST (ids in the high nibble) */
	uint8_t ids[HIP_LIST_MAX];
	size_t n;
};

struct hip_list16 { /* HIP_CIPHER, TRANSPORT_FORMAT_LIST, ESP_TRANSFORM */
	uint16_t ids[HIP_LIST_MAX];
	size_t n;
};

struct hip_dh {
	uint8_t group;
	const uint8_t *pub;
	size_t publen;
};

struct hip_host_id {
	uint16_t algorithm;
	const uint8_t *hi;
	size_t hilen;
	uint8_t di_type;
	const uint8_t *di;
	size_t dilen;
};

struct hip_sig {
	uint16_t algorithm;
	const uint8_t *sig;
	size_t siglen;
};

struct hip_notification {
	uint16_t type;
	const uint8_t *data;
	size_t len;
};

struct hip_opaque { /* ECHO_*, ENCRYPTED contents, SEQ/ACK bodies */
	const uint8_t *data;
	size_t len;
};

int hip_esp_info_encode(struct hip_builder *b, const struct hip_esp_info *v);
int hip_esp_info_decode(const struct hip_param *p, struct hip_esp_info *ret);
int hip_r1_counter_encode(struct hip_builder *b, uint64_t counter);
int hip_r1_counter_decode(const struct hip_param *p, uint64_t *ret);
/* ilen must equal RHASH_len/8 for the suite; the decoder takes it as expected. */
int hip_puzzle_encode(struct hip_builder *b, const struct hip_puzzle *v);
int hip_puzzle_decode(const struct hip_param *p, size_t ilen, struct hip_puzzle *ret);
int hip_solution_encode(struct hip_builder *b, const struct hip_solution *v);
int hip_solution_decode(const struct hip_param *p, size_t ilen, struct hip_solution *ret);
int hip_list8_encode(struct hip_builder *b, uint16_t type, const struct hip_list8 *v);
int hip_list8_decode(const struct hip_param *p, struct hip_list8 *ret);
int hip_list16_encode(struct hip_builder *b, uint16_t type, const struct hip_list16 *v);
int hip_list16_decode(const struct hip_param *p, struct hip_list16 *ret);
int hip_dh_encode(struct hip_builder *b, const struct hip_dh *v);
int hip_dh_decode(const struct hip_param *p, struct hip_dh *ret);
int hip_host_id_encode(struct hip_builder *b, const struct hip_host_id *v);
int hip_host_id_decode(const struct hip_param *p, struct hip_host_id *ret);
/* The whole HOST_ID TLV as it would be built (for HIP_MAC_2); returns its length. */
int hip_host_id_tlv(const struct hip_host_id *v, uint8_t *out, size_t cap);
int hip_sig_decode(const struct hip_param *p, struct hip_sig *ret);
int hip_notification_encode(struct hip_builder *b, uint16_t type, const void *data, size_t len);
int hip_notification_decode(const struct hip_param *p, struct hip_notification *ret);
int hip_opaque_encode(struct hip_builder *b, uint16_t type, const void *data, size_t len);
int hip_opaque_decode(const struct hip_param *p, struct hip_opaque *ret);
int hip_seq_encode(struct hip_builder *b, uint32_t update_id);
int hip_seq_decode(const struct hip_param *p, uint32_t *ret);
/* ACK carries one or more peer Update IDs. */
int hip_ack_encode(struct hip_builder *b, const uint32_t *ids, size_t n);
int hip_ack_decode(const struct hip_param *p, uint32_t *ids, size_t cap, size_t *ret_n);
