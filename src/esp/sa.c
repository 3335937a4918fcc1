/* SPDX-License-Identifier: MIT */
/* sa.c: ESP packet protection for HIP SAs (RFC 4303 framing, RFC 4106 AES-GCM). */
#include "esp/sa.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/aead.h"
#include "crypto/random.h"
#include "hip/wire.h"

/* The smallest packet a conforming sender emits: an empty payload still
 * carries 2 pad bytes and the 2-byte trailer to reach a 4-byte boundary. */
#define ESP_MIN_CIPHERTEXT 4
#define ESP_MIN_LEN        (ESP_HDR_LEN + ESP_IV_LEN + ESP_MIN_CIPHERTEXT + ESP_ICV_LEN)
/* Payloads are IP packets without their header; bounding them keeps every
 * length representable in the int these functions return. */
#define ESP_MAX_PAYLOAD  65535u
#define ESP_TRAILER_LEN  2    /* pad length + next header */
#define ESP_SPI_RESERVED 255u /* RFC 4303 2.1: 1-255 reserved, 0 local use */

_Static_assert(ESP_GCM_SALT_LEN + ESP_IV_LEN == AEAD_NONCE_LEN, "RFC 4106 nonce layout");
_Static_assert(ESP_ICV_LEN == AEAD_TAG_LEN, "suite 13 has a 16-octet ICV");

uint32_t esp_spi_random(void)
{
	uint8_t b[4];

	/* The DRBG fails only when the OS entropy source is gone. Then no key
	 * can be drawn either, and a guessable SPI must not be handed out, so
	 * there is no sane way to carry on. */
	if (crypto_random(b, sizeof(b)) < 0)
		abort();
	/* Top bit set: the first two bits are never 00, so ESP on a shared
	 * socket never parses as STUN (and the SPI is far above 0-255). */
	return load_be32(b) | UINT32_C(0x80000000);
}

int esp_sa_init(struct esp_sa *sa, uint32_t spi, uint16_t suite, const uint8_t *keymat, size_t len)
{
	int r;

	if (suite != ESP_SUITE_AES_GCM_ICV16)
		return -EPROTONOSUPPORT;
	if (!sa || !keymat || len != ESP_KEYMAT_LEN || spi <= ESP_SPI_RESERVED)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	r = aead_new(AEAD_AES_GCM, keymat, ESP_GCM_KEY_LEN, &sa->aead);
	if (r < 0) {
		sa->aead = NULL;
		return r;
	}
	sa->spi = spi;
	sa->suite = suite;
	memcpy(sa->salt, keymat + ESP_GCM_KEY_LEN, ESP_GCM_SALT_LEN);
	replay_init(&sa->replay);
	return 0;
}

void esp_sa_done(struct esp_sa *sa)
{
	if (!sa)
		return;
	if (sa->aead)
		aead_free(sa->aead);
	if (sa->worker_aead)
		aead_free(sa->worker_aead);
	memzero(sa, sizeof(*sa));
}

bool esp_sa_needs_rekey(const struct esp_sa *sa)
{
	return sa->seq >= ESP_REKEY_SEQ;
}

/* Pad bytes so that payload + pad + trailer ends on a 4-byte boundary
 * (RFC 4303 2.4; GCM itself needs no block alignment). */
static size_t pad_len(size_t len)
{
	return (4 - (len + ESP_TRAILER_LEN) % 4) % 4;
}

size_t esp_encap_size(size_t len)
{
	if (len > SIZE_MAX - ESP_MAX_OVERHEAD)
		return SIZE_MAX;
	return ESP_HDR_LEN + ESP_IV_LEN + len + pad_len(len) + ESP_TRAILER_LEN + ESP_ICV_LEN;
}

uint32_t esp_peek_spi(const uint8_t *pkt, size_t len)
{
	if (len < ESP_MIN_LEN)
		return 0;
	return load_be32(pkt);
}

/* RFC 4106 3.1 and 4: nonce = salt | IV, where IV is the packet's explicit IV. */
static void make_nonce(const struct esp_sa *sa, const uint8_t *iv, uint8_t nonce[AEAD_NONCE_LEN])
{
	memcpy(nonce, sa->salt, ESP_GCM_SALT_LEN);
	memcpy(nonce + ESP_GCM_SALT_LEN, iv, ESP_IV_LEN);
}

/* payload may overlap out (it is moved, not copied), e.g. already sit at
 * out + ESP_HDR_LEN + ESP_IV_LEN. -EMSGSIZE for a payload over 65535 bytes. */
int esp_encap_prepare(struct esp_sa *sa, uint8_t next_header, const uint8_t *payload, size_t len,
                      uint8_t *out, size_t cap)
{
	uint8_t *body;
	size_t pad, ct, total;
	uint64_t seq;

	if (!sa->aead)
		return -EINVAL;
	if (len > ESP_MAX_PAYLOAD)
		return -EMSGSIZE;
	pad = pad_len(len);
	ct = len + pad + ESP_TRAILER_LEN;
	total = ESP_HDR_LEN + ESP_IV_LEN + ct + ESP_ICV_LEN;
	if (total > cap)
		return -ENOSPC;
	if (sa->seq >= UINT32_MAX)
		return -EOVERFLOW;

	/* Consumed before sealing: whatever happens below, this sequence
	 * number (and so this GCM nonce) is never used again under the key. */
	seq = ++sa->seq;
	body = out + ESP_HDR_LEN + ESP_IV_LEN;

	/* memmove: the caller may have put the payload in place already. */
	if (len)
		memmove(body, payload, len);
	for (size_t i = 0; i < pad; i++)
		body[len + i] = (uint8_t)(i + 1);
	body[len + pad] = (uint8_t)pad;
	body[len + pad + 1] = next_header;

	store_be32(out, sa->spi);
	store_be32(out + 4, (uint32_t)seq);
	/* RFC 4106 3.1 allows a counter as IV; the sequence number is unique
	 * per key because it never wraps (see the -EOVERFLOW above). */
	store_be64(out + ESP_HDR_LEN, seq);
	sa->packets++;
	sa->bytes += len;
	return (int)total;
}

int esp_seal(const struct esp_sa *sa, struct aead *a, uint8_t *pkt, size_t len)
{
	uint8_t nonce[AEAD_NONCE_LEN];
	uint8_t *body = pkt + ESP_HDR_LEN + ESP_IV_LEN;
	size_t ct;
	int r;

	if (!a || len < ESP_MIN_LEN)
		return -EINVAL;
	ct = len - ESP_HDR_LEN - ESP_IV_LEN - ESP_ICV_LEN;
	make_nonce(sa, pkt + ESP_HDR_LEN, nonce);
	/* RFC 4106 5: AAD = SPI | 32-bit sequence number (no ESN). */
	r = aead_seal(a, nonce, pkt, ESP_HDR_LEN, body, ct, body, body + ct);
	if (r < 0)
		memzero(pkt, len);
	return r;
}

int esp_encap(struct esp_sa *sa, uint8_t next_header, const uint8_t *payload, size_t len,
              uint8_t *out, size_t cap)
{
	int n = esp_encap_prepare(sa, next_header, payload, len, out, cap);
	int r;

	if (n < 0)
		return n;
	r = esp_seal(sa, sa->aead, out, (size_t)n);
	return r < 0 ? r : n;
}

/* The trailer is checked only after the ICV, so these checks reveal nothing
 * to a forger and need not be constant-time. Returns the payload length. */
static int parse_trailer(const uint8_t *pt, size_t ct, uint8_t *ret_next_header)
{
	size_t pad = pt[ct - 2];
	size_t len;

	if (pad > ct - ESP_TRAILER_LEN)
		return -EBADMSG;
	len = ct - ESP_TRAILER_LEN - pad;
	/* RFC 4303 2.4: the default pad bytes are 1, 2, 3, ... and a receiver
	 * that sees otherwise should treat the packet as malformed. */
	for (size_t i = 0; i < pad; i++)
		if (pt[len + i] != (uint8_t)(i + 1))
			return -EBADMSG;
	*ret_next_header = pt[ct - 1];
	return (int)len;
}

int esp_decap_check(const struct esp_sa *sa, const uint8_t *pkt, size_t len)
{
	size_t ct;

	if (!sa->aead)
		return -EINVAL;
	if (len < ESP_MIN_LEN)
		return -EBADMSG;
	ct = len - ESP_HDR_LEN - ESP_IV_LEN - ESP_ICV_LEN;
	if (ct > ESP_MAX_PAYLOAD + 3 + ESP_TRAILER_LEN)
		return -EBADMSG;
	if (load_be32(pkt) != sa->spi)
		return -EBADMSG;
	/* Cheap replay rejection before spending an AES pass on the packet;
	 * the window is only moved once the ICV proved the number genuine. */
	return replay_check(&sa->replay, load_be32(pkt + 4));
}

int esp_open(const struct esp_sa *sa, struct aead *a, const uint8_t *pkt, size_t len, uint8_t *out,
             uint8_t *ret_next_header)
{
	uint8_t nonce[AEAD_NONCE_LEN];
	size_t ct;
	int r, n;

	if (!a || len < ESP_MIN_LEN)
		return -EINVAL;
	ct = len - ESP_HDR_LEN - ESP_IV_LEN - ESP_ICV_LEN;
	make_nonce(sa, pkt + ESP_HDR_LEN, nonce);
	r = aead_open(a, nonce, pkt, ESP_HDR_LEN, pkt + ESP_HDR_LEN + ESP_IV_LEN, ct,
	              pkt + len - ESP_ICV_LEN, out);
	if (r < 0)
		return r; /* aead_open wiped out */
	n = parse_trailer(out, ct, ret_next_header);
	if (n < 0)
		memzero(out, ct);
	return n;
}

int esp_decap_commit(struct esp_sa *sa, const uint8_t *pkt, size_t len, uint8_t *out,
                     int payload_len)
{
	int r = replay_update(&sa->replay, load_be32(pkt + 4));

	if (r < 0) {
		memzero(out, len - ESP_HDR_LEN - ESP_IV_LEN - ESP_ICV_LEN);
		return r;
	}
	sa->packets++;
	sa->bytes += (uint64_t)payload_len;
	return 0;
}

/* out must not overlap pkt: it receives the whole decrypted ciphertext
 * (payload, padding and trailer), so cap must be at least
 * len - ESP_HDR_LEN - ESP_IV_LEN - ESP_ICV_LEN, not just the payload. On any
 * error out holds no plaintext. */
int esp_decap(struct esp_sa *sa, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
              uint8_t *ret_next_header)
{
	uint8_t next_header;
	int r, n;

	r = esp_decap_check(sa, pkt, len);
	if (r < 0)
		return r;
	if (len - ESP_HDR_LEN - ESP_IV_LEN - ESP_ICV_LEN > cap)
		return -ENOSPC;
	n = esp_open(sa, sa->aead, pkt, len, out, &next_header);
	if (n < 0)
		return n;
	r = esp_decap_commit(sa, pkt, len, out, n);
	if (r < 0)
		return r;
	*ret_next_header = next_header;
	return n;
}
