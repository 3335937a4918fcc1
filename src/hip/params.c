/* SPDX-License-Identifier: MIT */
/* params.c: encoders and strict decoders for the HIPv2 parameters we speak.
 *
 * Decoders look only at the contents (the caller found the parameter by type),
 * except where the type changes the layout: HIT_SUITE_LIST and ESP_TRANSFORM.
 * Reserved fields are written as zero and ignored on receipt. Encoders record
 * their errors in the builder too, so a caller checking only
 * hip_builder_finish() still sees them. */
#include "hip/params.h"

#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "hip/msg.h"
#include "hip/wire.h"

#define ESP_INFO_LEN   12
#define R1_COUNTER_LEN 12
#define PUZZLE_HDR     4 /* K, lifetime, opaque */
#define DH_HDR         3 /* group, public value length */
#define HOST_ID_HDR    6 /* HI length, DI type and length, algorithm */
#define DI_LEN_MAX     0x0fff
#define NOTIFY_HDR     4 /* reserved, type */
#define ESP_TF_HDR     2 /* reserved */

static int fail(struct hip_builder *b, int err)
{
	if (b->err == 0)
		b->err = err;
	return b->err;
}

int hip_esp_info_encode(struct hip_builder *b, const struct hip_esp_info *v)
{
	uint8_t *p = hip_builder_param(b, HIP_P_ESP_INFO, ESP_INFO_LEN);

	if (!p)
		return b->err;
	store_be16(p + 2, v->keymat_index);
	store_be32(p + 4, v->old_spi);
	store_be32(p + 8, v->new_spi);
	return 0;
}

int hip_esp_info_decode(const struct hip_param *p, struct hip_esp_info *ret)
{
	if (p->len != ESP_INFO_LEN)
		return -EBADMSG;
	ret->keymat_index = load_be16(p->val + 2);
	ret->old_spi = load_be32(p->val + 4);
	ret->new_spi = load_be32(p->val + 8);
	return 0;
}

int hip_r1_counter_encode(struct hip_builder *b, uint64_t counter)
{
	uint8_t *p = hip_builder_param(b, HIP_P_R1_COUNTER, R1_COUNTER_LEN);

	if (!p)
		return b->err;
	store_be64(p + 4, counter);
	return 0;
}

int hip_r1_counter_decode(const struct hip_param *p, uint64_t *ret)
{
	if (p->len != R1_COUNTER_LEN)
		return -EBADMSG;
	*ret = load_be64(p->val + 4);
	return 0;
}

static bool ilen_ok(size_t ilen)
{
	return ilen > 0 && ilen <= HASH_MAX_LEN;
}

int hip_puzzle_encode(struct hip_builder *b, const struct hip_puzzle *v)
{
	uint8_t *p;

	if (!ilen_ok(v->ilen))
		return fail(b, -EINVAL);
	p = hip_builder_param(b, HIP_P_PUZZLE, PUZZLE_HDR + v->ilen);
	if (!p)
		return b->err;
	p[0] = v->k;
	p[1] = v->lifetime;
	memcpy(p + 2, v->opaque, 2);
	memcpy(p + 4, v->i, v->ilen);
	return 0;
}

int hip_puzzle_decode(const struct hip_param *p, size_t ilen, struct hip_puzzle *ret)
{
	if (!ilen_ok(ilen))
		return -EINVAL;
	if (p->len != PUZZLE_HDR + ilen)
		return -EBADMSG;
	memset(ret, 0, sizeof(*ret));
	ret->k = p->val[0];
	ret->lifetime = p->val[1];
	memcpy(ret->opaque, p->val + 2, 2);
	memcpy(ret->i, p->val + 4, ilen);
	ret->ilen = ilen;
	return 0;
}

int hip_solution_encode(struct hip_builder *b, const struct hip_solution *v)
{
	uint8_t *p;

	if (!ilen_ok(v->ilen))
		return fail(b, -EINVAL);
	p = hip_builder_param(b, HIP_P_SOLUTION, PUZZLE_HDR + 2 * v->ilen);
	if (!p)
		return b->err;
	p[0] = v->k;
	memcpy(p + 2, v->opaque, 2);
	memcpy(p + 4, v->i, v->ilen);
	memcpy(p + 4 + v->ilen, v->j, v->ilen);
	return 0;
}

int hip_solution_decode(const struct hip_param *p, size_t ilen, struct hip_solution *ret)
{
	if (!ilen_ok(ilen))
		return -EINVAL;
	if (p->len != PUZZLE_HDR + 2 * ilen)
		return -EBADMSG;
	memset(ret, 0, sizeof(*ret));
	ret->k = p->val[0];
	memcpy(ret->opaque, p->val + 2, 2);
	memcpy(ret->i, p->val + 4, ilen);
	memcpy(ret->j, p->val + 4 + ilen, ilen);
	ret->ilen = ilen;
	return 0;
}

int hip_list8_encode(struct hip_builder *b, uint16_t type, const struct hip_list8 *v)
{
	bool suites = type == HIP_P_HIT_SUITE_LIST;
	uint8_t *p;

	if (v->n == 0 || v->n > HIP_LIST_MAX)
		return fail(b, -EINVAL);
	for (size_t i = 0; i < v->n; i++)
		if (suites && v->ids[i] > 0x0f)
			return fail(b, -EINVAL);
	p = hip_builder_param(b, type, v->n);
	if (!p)
		return b->err;
	for (size_t i = 0; i < v->n; i++)
		p[i] = suites ? (uint8_t)(v->ids[i] << 4) : v->ids[i];
	return 0;
}

int hip_list8_decode(const struct hip_param *p, struct hip_list8 *ret)
{
	bool suites = p->type == HIP_P_HIT_SUITE_LIST;

	if (p->len == 0 || p->len > HIP_LIST_MAX)
		return -EBADMSG;
	memset(ret, 0, sizeof(*ret));
	/* The low nibble of a HIT suite byte is reserved: ignored. */
	/* The second bound is redundant with the check above; gcc -O3 cannot see
	 * that and warns (stringop-overflow). */
	for (size_t i = 0; i < p->len && i < HIP_LIST_MAX; i++)
		ret->ids[i] = suites ? (uint8_t)(p->val[i] >> 4) : p->val[i];
	ret->n = p->len;
	return 0;
}

static size_t list16_hdr(uint16_t type)
{
	return type == HIP_P_ESP_TRANSFORM ? ESP_TF_HDR : 0;
}

int hip_list16_encode(struct hip_builder *b, uint16_t type, const struct hip_list16 *v)
{
	size_t hdr = list16_hdr(type);
	uint8_t *p;

	if (v->n == 0 || v->n > HIP_LIST_MAX)
		return fail(b, -EINVAL);
	p = hip_builder_param(b, type, hdr + 2 * v->n);
	if (!p)
		return b->err;
	for (size_t i = 0; i < v->n; i++)
		store_be16(p + hdr + 2 * i, v->ids[i]);
	return 0;
}

int hip_list16_decode(const struct hip_param *p, struct hip_list16 *ret)
{
	size_t hdr = list16_hdr(p->type), n;

	if (p->len <= hdr || (p->len - hdr) % 2 != 0)
		return -EBADMSG;
	n = (p->len - hdr) / 2;
	if (n > HIP_LIST_MAX)
		return -EBADMSG;
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < n; i++)
		ret->ids[i] = load_be16(p->val + hdr + 2 * i);
	ret->n = n;
	return 0;
}

int hip_dh_encode(struct hip_builder *b, const struct hip_dh *v)
{
	uint8_t *p;

	if (v->publen == 0 || v->publen > UINT16_MAX - DH_HDR)
		return fail(b, -EINVAL);
	p = hip_builder_param(b, HIP_P_DIFFIE_HELLMAN, DH_HDR + v->publen);
	if (!p)
		return b->err;
	p[0] = v->group;
	store_be16(p + 1, (uint16_t)v->publen);
	memcpy(p + DH_HDR, v->pub, v->publen);
	return 0;
}

/* One DH value: Group ID | Public Value Length | Public Value. */
static int dh_value(struct reader *r, struct hip_dh *ret)
{
	uint16_t publen;
	int e;

	if ((e = reader_u8(r, &ret->group)) < 0 || (e = reader_be16(r, &publen)) < 0)
		return e;
	if (publen == 0)
		return -EBADMSG;
	ret->publen = publen;
	return reader_take(r, publen, &ret->pub);
}

int hip_dh_decode(const struct hip_param *p, struct hip_dh *ret)
{
	struct reader r = reader_init(p->val, p->len);
	struct hip_dh first, second;
	int e;

	/* RFC 7401 allows a second value (for a second group); we use the first
	 * but still require the contents to be exactly one or two values. */
	if ((e = dh_value(&r, &first)) < 0)
		return e;
	if (reader_left(&r) > 0 && ((e = dh_value(&r, &second)) < 0 || reader_left(&r) > 0))
		return -EBADMSG;
	*ret = first;
	return 0;
}

static int host_id_len(const struct hip_host_id *v, size_t *ret)
{
	if (v->hilen == 0 || v->hilen > UINT16_MAX || v->dilen > DI_LEN_MAX || v->di_type > 0x0f ||
	    HOST_ID_HDR + v->hilen + v->dilen > UINT16_MAX)
		return -EINVAL;
	*ret = HOST_ID_HDR + v->hilen + v->dilen;
	return 0;
}

static void host_id_write(const struct hip_host_id *v, uint8_t *p)
{
	store_be16(p, (uint16_t)v->hilen);
	store_be16(p + 2, (uint16_t)((unsigned)v->di_type << 12 | v->dilen));
	store_be16(p + 4, v->algorithm);
	memcpy(p + HOST_ID_HDR, v->hi, v->hilen);
	if (v->dilen > 0)
		memcpy(p + HOST_ID_HDR + v->hilen, v->di, v->dilen);
}

int hip_host_id_encode(struct hip_builder *b, const struct hip_host_id *v)
{
	uint8_t *p;
	size_t len;
	int e;

	if ((e = host_id_len(v, &len)) < 0)
		return fail(b, e);
	p = hip_builder_param(b, HIP_P_HOST_ID, len);
	if (!p)
		return b->err;
	host_id_write(v, p);
	return 0;
}

int hip_host_id_tlv(const struct hip_host_id *v, uint8_t *out, size_t cap)
{
	size_t len, total;
	int e;

	if ((e = host_id_len(v, &len)) < 0)
		return e;
	total = (4 + len + 7) & ~(size_t)7;
	if (total > cap)
		return -EMSGSIZE;
	memset(out, 0, total);
	store_be16(out, HIP_P_HOST_ID);
	store_be16(out + 2, (uint16_t)len);
	host_id_write(v, out + 4);
	return (int)total;
}

int hip_host_id_decode(const struct hip_param *p, struct hip_host_id *ret)
{
	struct reader r = reader_init(p->val, p->len);
	uint16_t hilen, di, alg;
	int e;

	if ((e = reader_be16(&r, &hilen)) < 0 || (e = reader_be16(&r, &di)) < 0 ||
	    (e = reader_be16(&r, &alg)) < 0)
		return e;
	if (hilen == 0 || reader_left(&r) != (size_t)hilen + (di & DI_LEN_MAX))
		return -EBADMSG;
	ret->algorithm = alg;
	ret->hilen = hilen;
	ret->di_type = (uint8_t)(di >> 12);
	ret->dilen = di & DI_LEN_MAX;
	if ((e = reader_take(&r, ret->hilen, &ret->hi)) < 0 ||
	    (e = reader_take(&r, ret->dilen, &ret->di)) < 0)
		return e;
	return 0;
}

int hip_sig_decode(const struct hip_param *p, struct hip_sig *ret)
{
	if (p->len < 3)
		return -EBADMSG;
	ret->algorithm = load_be16(p->val);
	ret->sig = p->val + 2;
	ret->siglen = p->len - 2u;
	return 0;
}

int hip_notification_encode(struct hip_builder *b, uint16_t type, const void *data, size_t len)
{
	uint8_t *p;

	if (len > UINT16_MAX - NOTIFY_HDR || (len > 0 && !data))
		return fail(b, -EINVAL);
	p = hip_builder_param(b, HIP_P_NOTIFICATION, NOTIFY_HDR + len);
	if (!p)
		return b->err;
	store_be16(p + 2, type);
	if (len > 0)
		memcpy(p + NOTIFY_HDR, data, len);
	return 0;
}

int hip_notification_decode(const struct hip_param *p, struct hip_notification *ret)
{
	if (p->len < NOTIFY_HDR)
		return -EBADMSG;
	ret->type = load_be16(p->val + 2);
	ret->data = p->val + NOTIFY_HDR;
	ret->len = p->len - (size_t)NOTIFY_HDR;
	return 0;
}

int hip_opaque_encode(struct hip_builder *b, uint16_t type, const void *data, size_t len)
{
	if (len > 0 && !data)
		return fail(b, -EINVAL);
	return hip_builder_param_copy(b, type, data, len);
}

int hip_opaque_decode(const struct hip_param *p, struct hip_opaque *ret)
{
	ret->data = p->val;
	ret->len = p->len;
	return 0;
}

int hip_seq_encode(struct hip_builder *b, uint32_t update_id)
{
	uint8_t *p = hip_builder_param(b, HIP_P_SEQ, 4);

	if (!p)
		return b->err;
	store_be32(p, update_id);
	return 0;
}

int hip_seq_decode(const struct hip_param *p, uint32_t *ret)
{
	if (p->len != 4)
		return -EBADMSG;
	*ret = load_be32(p->val);
	return 0;
}

int hip_ack_encode(struct hip_builder *b, const uint32_t *ids, size_t n)
{
	uint8_t *p;

	if (n == 0 || n > UINT16_MAX / 4)
		return fail(b, -EINVAL);
	p = hip_builder_param(b, HIP_P_ACK, 4 * n);
	if (!p)
		return b->err;
	for (size_t i = 0; i < n; i++)
		store_be32(p + 4 * i, ids[i]);
	return 0;
}

int hip_ack_decode(const struct hip_param *p, uint32_t *ids, size_t cap, size_t *ret_n)
{
	size_t n = p->len / 4;

	if (p->len == 0 || p->len % 4 != 0 || n > cap)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		ids[i] = load_be32(p->val + 4 * i);
	*ret_n = n;
	return 0;
}
