/* SPDX-License-Identifier: MIT */
/* r1.c: precomputed, signed R1 packets and stateless puzzles.
 *
 * The Responder keeps no state per I1 (RFC 7401 section 4.1.1). Each R1
 * generation is signed once with HIP_SIGNATURE_2, which leaves the receiver
 * HIT and the PUZZLE's #I and Opaque out of the signature; per I1 we fill in
 * those fields: #I = HMAC(generation secret, HIT-I | HIT-R | source address),
 * Opaque = the generation number's low 16 bits. An I2 is then checked by
 * recomputing #I, so forged or replayed solutions cost us one HMAC. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/dh.h"
#include "crypto/random.h"
#include "hip/engine.h"
#include "hip/msg.h"
#include "hip/params.h"
#include "hip/puzzle.h"

static int r1_template_build(struct hip_host *h, struct r1_gen *g)
{
	static const uint16_t ciphers[] = {HIP_CIPHER_AES128_CBC, HIP_CIPHER_AES256_CBC};
	struct hip_builder b;
	struct hip_puzzle pz = {
	        .k = g->k, .lifetime = h->cfg.puzzle_lifetime, .ilen = HIP_RHASH_LEN};
	struct hip_list8 groups = {.ids = {HIP_OUR_DH_GROUP}, .n = 1};
	struct hip_list8 suites = {.ids = {HIP_OUR_HIT_SUITE}, .n = 1};
	struct hip_list16 cl = {.n = ARRAY_SIZE(ciphers)};
	struct hip_list16 tf = {.ids = {HIP_P_ESP_TRANSFORM}, .n = 1};
	struct hip_list16 esp = {.ids = {HIP_ESP_SUITE}, .n = 1};
	uint8_t pub[DH_MAX_PUB_LEN];
	struct hip_dh dhp = {.group = HIP_OUR_DH_GROUP, .pub = pub};
	const struct hip_param *p;
	struct hip_msg m;
	int r;

	memcpy(cl.ids, ciphers, sizeof(ciphers));
	r = dh_public(g->dh, pub, sizeof(pub));
	if (r < 0)
		return r;
	dhp.publen = (size_t)r;

	hip_builder_init(&b, g->tmpl, sizeof(g->tmpl), HIP_R1, &h->hit, NULL);
	hip_r1_counter_encode(&b, g->counter);
	hip_puzzle_encode(&b, &pz);
	hip_list8_encode(&b, HIP_P_DH_GROUP_LIST, &groups);
	hip_dh_encode(&b, &dhp);
	hip_list16_encode(&b, HIP_P_HIP_CIPHER, &cl);
	if (h->cfg.offer_ice)
		hip_nat_mode_encode(&b, (const uint16_t[]){HIP_NAT_ICE_STUN, HIP_NAT_UDP}, 2);
	hip_builder_param_copy(&b, HIP_P_HOST_ID, h->host_id_tlv + 4,
	                       load_be16(h->host_id_tlv + 2));
	hip_list8_encode(&b, HIP_P_HIT_SUITE_LIST, &suites);
	hip_list16_encode(&b, HIP_P_TRANSPORT_FORMAT_LIST, &tf);
	hip_list16_encode(&b, HIP_P_ESP_TRANSFORM, &esp);
	hip_builder_sign(&b, HIP_P_HIP_SIGNATURE_2, h->id);
	r = hip_builder_finish(&b);
	if (r < 0)
		return r;
	g->tmpl_len = (size_t)r;

	/* Remember where #I and Opaque live so each R1 is a copy plus two writes. */
	r = hip_msg_parse(g->tmpl, g->tmpl_len, &m);
	if (r < 0)
		return r;
	p = hip_msg_find(&m, HIP_P_PUZZLE);
	if (!p)
		return -EINVAL;
	g->puzzle_off = (size_t)(p->val - g->tmpl);
	return 0;
}

int r1_generation_new(struct hip_host *h, uint64_t counter, struct r1_gen *ret)
{
	struct r1_gen g = {.counter = counter, .k = h->cfg.puzzle_k};
	int r;

	r = crypto_random(g.secret, sizeof(g.secret));
	if (r < 0)
		return r;
	r = dh_generate(HIP_OUR_DH_GROUP, &g.dh);
	if (r < 0)
		return r;
	r = r1_template_build(h, &g);
	if (r < 0) {
		r1_generation_done(&g);
		return r;
	}
	*ret = g;
	return 0;
}

void r1_generation_done(struct r1_gen *g)
{
	g->dh = dh_free(g->dh);
	memzero(g->secret, sizeof(g->secret));
	g->tmpl_len = 0;
}

int r1_refresh(struct hip_host *h)
{
	struct r1_gen next;
	int r;

	r = r1_generation_new(h, h->gen[0].counter + 1, &next);
	if (r < 0)
		return r;
	r1_generation_done(&h->gen[1]);
	h->gen[1] = h->gen[0];
	h->gen[0] = next;
	return 0;
}

static size_t locator_addr(const struct hip_locator *l, const uint8_t **ret)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&l->addr;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&l->addr;

	if (l->addr.ss_family == AF_INET6) {
		*ret = s6->sin6_addr.s6_addr;
		return 16;
	}
	if (l->addr.ss_family == AF_INET) {
		*ret = (const uint8_t *)&s4->sin_addr;
		return 4;
	}
	*ret = NULL;
	return 0;
}

static int puzzle_i(const struct r1_gen *g, const struct hit *hit_i, const struct hit *hit_r,
                    const struct hip_locator *from, uint8_t *out)
{
	uint8_t in[2 * HIT_LEN + 16];
	const uint8_t *addr;
	size_t alen = locator_addr(from, &addr);

	memcpy(in, hit_i->b, HIT_LEN);
	memcpy(in + HIT_LEN, hit_r->b, HIT_LEN);
	if (alen)
		memcpy(in + 2 * HIT_LEN, addr, alen);
	return hmac_compute(HIP_RHASH, g->secret, sizeof(g->secret), in, 2 * HIT_LEN + alen, out);
}

int r1_build(struct hip_host *h, const struct hit *hit_i, const struct hip_locator *from,
             uint8_t *out, size_t cap)
{
	const struct r1_gen *g = &h->gen[0];
	uint8_t *pz;
	int r;

	if (cap < g->tmpl_len)
		return -ENOSPC;
	memcpy(out, g->tmpl, g->tmpl_len);
	memcpy(out + 24, hit_i->b, HIT_LEN);
	pz = out + g->puzzle_off;
	store_be16(pz + 2, (uint16_t)g->counter);
	r = puzzle_i(g, hit_i, &h->hit, from, pz + 4);
	if (r < 0)
		return r;
	return (int)g->tmpl_len;
}

int r1_check_solution(struct hip_host *h, const struct hit *hit_i, const struct hip_locator *from,
                      const uint8_t opaque[2], const uint8_t *i, const uint8_t *j, uint8_t k,
                      const struct r1_gen **ret)
{
	uint8_t expect[HASH_MAX_LEN];
	uint16_t gen = load_be16(opaque);

	for (size_t n = 0; n < ARRAY_SIZE(h->gen); n++) {
		const struct r1_gen *g = &h->gen[n];

		if (!g->tmpl_len || (uint16_t)g->counter != gen)
			continue;
		if (puzzle_i(g, hit_i, &h->hit, from, expect) < 0)
			return -EIO;
		if (memcmp_ct(expect, i, HIP_RHASH_LEN) != 0)
			return -EBADMSG;
		/* The Initiator may not pick an easier puzzle than we asked for. */
		if (k != g->k)
			return -EBADMSG;
		if (puzzle_verify(HIP_RHASH, i, HIP_RHASH_LEN, hit_i, &h->hit, k, j) < 0)
			return -EBADMSG;
		*ret = g;
		return 0;
	}
	return -ESTALE;
}
