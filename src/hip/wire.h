/* SPDX-License-Identifier: MIT */
/* wire.h: HIPv2 numbers (RFC 7401, 7402, 5770, 8046, 6079; IANA registries).
 * Sources and verification status: ../shared/docs/hip-reference.md sections 1.2-1.6. */
#pragma once

#define HIP_VERSION     2
#define HIP_NEXT_HEADER 59 /* IPPROTO_NONE */
#define HIP_PROTO       139
#define HIP_HDR_LEN     40
#define HIP_MAX_PACKET  2048 /* (255 + 1) * 8 */
#define HIP_UDP_PORT    10500
#define HIP_CONTROL_A   0x0001

enum hip_packet_type {
	HIP_I1 = 1,
	HIP_R1 = 2,
	HIP_I2 = 3,
	HIP_R2 = 4,
	HIP_UPDATE = 16,
	HIP_NOTIFY = 17,
	HIP_CLOSE = 18,
	HIP_CLOSE_ACK = 19,
};

#define HIP_OFF_TYPE     2  /* Packet Type, low 7 bits */
#define HIP_OFF_RECEIVER 24 /* the Receiver's HIT */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* I1, R1, I2 or R2: a packet of a base exchange (len at least HIP_HDR_LEN). */
static inline bool hip_wire_is_bex(const uint8_t *pkt, size_t len)
{
	unsigned type = len >= HIP_HDR_LEN ? pkt[HIP_OFF_TYPE] & 0x7f : 0;

	return type >= HIP_I1 && type <= HIP_R2;
}

enum hip_param_type {
	HIP_P_ESP_INFO = 65,
	HIP_P_R1_COUNTER = 129,
	HIP_P_LOCATOR_SET = 193,
	HIP_P_PUZZLE = 257,
	HIP_P_SOLUTION = 321,
	HIP_P_SEQ = 385,
	HIP_P_ACK = 449,
	HIP_P_DH_GROUP_LIST = 511,
	HIP_P_DIFFIE_HELLMAN = 513,
	HIP_P_HIP_CIPHER = 579,
	HIP_P_NAT_TRAVERSAL_MODE = 608,
	HIP_P_TRANSACTION_PACING = 610,
	HIP_P_ENCRYPTED = 641,
	HIP_P_HOST_ID = 705,
	HIP_P_HIT_SUITE_LIST = 715,
	HIP_P_CERT = 768,
	HIP_P_NOTIFICATION = 832,
	HIP_P_ECHO_REQUEST_SIGNED = 897,
	HIP_P_ECHO_RESPONSE_SIGNED = 961,
	HIP_P_TRANSPORT_FORMAT_LIST = 2049,
	HIP_P_ESP_TRANSFORM = 4095,
	HIP_P_OVERLAY_ID = 4592,
	HIP_P_ROUTE_DST = 4601,
	HIP_P_HIP_MAC = 61505,
	HIP_P_HIP_MAC_2 = 61569,
	HIP_P_HIP_SIGNATURE_2 = 61633,
	HIP_P_HIP_SIGNATURE = 61697,
	HIP_P_ECHO_RESPONSE_UNSIGNED = 63425,
	HIP_P_ECHO_REQUEST_UNSIGNED = 63661,
	HIP_P_OVERLAY_TTL = 64011,
	HIP_P_ROUTE_VIA = 64017,
};

/* Critical parameters have the lowest bit of the type set. */
#define HIP_PARAM_CRITICAL(t) (((t)&1) != 0)

enum hip_cipher_id {
	HIP_CIPHER_NULL = 1,
	HIP_CIPHER_AES128_CBC = 2,
	HIP_CIPHER_AES256_CBC = 4,
};

enum esp_suite_id {
	ESP_SUITE_AES128_CBC_SHA256 = 8,
	ESP_SUITE_AES_GCM_ICV16 = 13,
};

enum hip_notify_type {
	HIP_N_UNSUPPORTED_CRITICAL_PARAMETER_TYPE = 1,
	HIP_N_INVALID_SYNTAX = 7,
	HIP_N_NO_DH_PROPOSAL_CHOSEN = 14,
	HIP_N_INVALID_DH_CHOSEN = 15,
	HIP_N_NO_HIP_PROPOSAL_CHOSEN = 16,
	HIP_N_INVALID_HIP_CIPHER_CHOSEN = 17,
	HIP_N_NO_ESP_PROPOSAL_CHOSEN = 18,
	HIP_N_INVALID_ESP_TRANSFORM_CHOSEN = 19,
	HIP_N_UNSUPPORTED_HIT_SUITE = 20,
	HIP_N_AUTHENTICATION_FAILED = 24,
	HIP_N_CHECKSUM_FAILED = 26,
	HIP_N_HIP_MAC_FAILED = 28,
	HIP_N_ENCRYPTION_FAILED = 32,
	HIP_N_INVALID_HIT = 40,
	HIP_N_BLOCKED_BY_POLICY = 42,
	HIP_N_RESPONDER_BUSY_PLEASE_RETRY = 44,
	HIP_N_I2_ACKNOWLEDGEMENT = 16384,
	HIP_N_NAT_KEEPALIVE = 16385,
};
