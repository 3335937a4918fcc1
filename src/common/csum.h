/* SPDX-License-Identifier: MIT */
/* csum.h: the Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * One implementation for every header the project writes or rewrites: IPv4,
 * ICMP, ICMPv6, and TCP/UDP over both families. Sums are accumulated in 32
 * bits over big-endian 16-bit words and folded at the end. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Adds len bytes at p to sum (an odd trailing byte is padded with zero). Only
 * the last call of a chain may pass an odd length. */
uint32_t csum_add(uint32_t sum, const void *p, size_t len);
/* The checksum field value for sum: folded to 16 bits and complemented. */
uint16_t csum_fold(uint32_t sum);
/* Pseudo-header sums (RFC 768/793 for IPv4, RFC 8200 8.1 for IPv6). */
uint32_t csum_pseudo4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint16_t len);
uint32_t csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto, uint32_t len);
/* Rewrites the big-endian checksum field at field after n bytes at old (a
 * multiple of 2) became the n bytes at new, per RFC 1624 eqn. 3. */
void csum_replace(uint8_t field[2], const void *old, const void *new, size_t n);
