/* SPDX-License-Identifier: MIT */
/* test_peers.c: unit tests for the daemon's peer table (ESP SAs by HIT and by SPI). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/hit.h"
#include "crypto/identity.h"
#include "daemon/peers.h"
#include "esp/sa.h"
#include "hip/bex.h"
#include "hip/wire.h"

#define SUITE   ESP_SUITE_AES_GCM_ICV16
#define T0      1000000
#define PREV_NH 59 /* IPv6 "no next header" */

/* ---- helpers ---- */

static struct hit hit_of(uint32_t n)
{
	struct hit h = {.b = {0x20, 0x01, 0x00, 0x20}};

	h.b[12] = (uint8_t)(n >> 24);
	h.b[13] = (uint8_t)(n >> 16);
	h.b[14] = (uint8_t)(n >> 8);
	h.b[15] = (uint8_t)n;
	return h;
}

/* Keys derived from all of (spi_in, spi_out, variant): a wrong SA cannot open
 * what the right one does. */
static struct hip_esp_keys keys_of(uint32_t spi_in, uint32_t spi_out, uint8_t variant)
{
	struct hip_esp_keys k = {
	        .suite = SUITE, .spi_in = spi_in, .spi_out = spi_out, .keylen = ESP_KEYMAT_LEN};
	uint64_t x = ((uint64_t)spi_in << 32 | spi_out) ^ ((uint64_t)variant << 56) ^ 1;

	for (size_t i = 0; i < ESP_KEYMAT_LEN; i++) {
		/* xorshift64 */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k.key_in[i] = (uint8_t)x;
		k.key_out[i] = (uint8_t)(x >> 32);
	}
	return k;
}

/* Every packet gets a fresh sequence number so that no replay window ever
 * rejects it: a failure below is always about keys. */
static uint64_t next_seq = 1;

static int seal(uint32_t spi, const uint8_t *keymat, const uint8_t *msg, size_t len, uint8_t *pkt,
                size_t cap)
{
	struct esp_sa tx;
	int n;

	assert_int_equal(esp_sa_init(&tx, spi, SUITE, keymat, ESP_KEYMAT_LEN), 0);
	tx.seq = next_seq++;
	n = esp_encap(&tx, PREV_NH, msg, len, pkt, cap);
	esp_sa_done(&tx);
	assert_true(n > 0);
	return n;
}

/* True when rx opens a packet the peer sealed with spi and keymat. */
static bool opens(struct esp_sa *rx, uint32_t spi, const uint8_t *keymat)
{
	static const uint8_t msg[] = "inbound";
	uint8_t pkt[128], out[128], nh = 0;
	int n = seal(spi, keymat, msg, sizeof(msg), pkt, sizeof(pkt));

	n = esp_decap(rx, pkt, (size_t)n, out, sizeof(out), &nh);
	return n == (int)sizeof(msg) && nh == PREV_NH && memcmp(out, msg, sizeof(msg)) == 0;
}

/* True when what tx seals the peer opens with spi and keymat. */
static bool reaches(struct esp_sa *tx, uint32_t spi, const uint8_t *keymat)
{
	static const uint8_t msg[] = "outbound";
	uint8_t pkt[128], out[128], nh = 0;
	struct esp_sa rx;
	int n = esp_encap(tx, PREV_NH, msg, sizeof(msg), pkt, sizeof(pkt));

	assert_true(n > 0);
	assert_int_equal(esp_sa_init(&rx, spi, SUITE, keymat, ESP_KEYMAT_LEN), 0);
	n = esp_decap(&rx, pkt, (size_t)n, out, sizeof(out), &nh);
	esp_sa_done(&rx);
	return n == (int)sizeof(msg) && nh == PREV_NH && memcmp(out, msg, sizeof(msg)) == 0;
}

/* The peer whose inbound SA for spi opens packets sealed with keymat, or NULL
 * when spi is unknown (then the test fails if keymat is not NULL). */
static struct peer *find_opening(struct peers *ps, uint32_t spi, uint64_t now,
                                 const uint8_t *keymat)
{
	struct peer *p = NULL;
	struct esp_sa *sa = peers_find_spi(ps, spi, now, &p);

	if (!keymat) {
		assert_null(sa);
		return NULL;
	}
	assert_non_null(sa);
	assert_non_null(p);
	assert_int_equal(sa->spi, spi);
	assert_true(opens(sa, spi, keymat));
	return p;
}

static struct peer *add(struct peers *ps, uint32_t n, const struct hip_esp_keys *k, uint64_t now)
{
	struct hit h = hit_of(n);
	struct peer *p = NULL;

	assert_int_equal(peers_add(ps, NULL, &h, k, now, &p), 0);
	assert_non_null(p);
	return p;
}

static int setup(void **state)
{
	struct peers *ps = NULL;

	if (peers_new(&ps) < 0)
		return -1;
	*state = ps;
	return 0;
}

static int teardown(void **state)
{
	assert_null(peers_free(*state));
	return 0;
}

/* ---- adding and finding ---- */

static void test_empty_and_unknown_spi(void **state)
{
	struct peers *ps = *state;
	struct hit h = hit_of(1);
	struct peer *p = NULL;

	assert_int_equal(peers_count(ps), 0);
	assert_null(peers_get(ps, 0));
	assert_null(peers_find_hit(ps, &h));
	assert_null(peers_find_spi(ps, 0x1001, T0, &p));
	assert_null(peers_find_spi(ps, 0, T0, &p));
	assert_null(peers_free(NULL));
}

static void test_add_and_find(void **state)
{
	struct peers *ps = *state;
	struct hip_esp_keys k = keys_of(0x1001, 0x9001, 0);
	struct hit h = hit_of(7), other = hit_of(8);
	struct peer *p = add(ps, 7, &k, T0), *q = NULL;

	assert_int_equal(peers_count(ps), 1);
	assert_ptr_equal(peers_get(ps, 0), p);
	assert_null(peers_get(ps, 1));
	assert_ptr_equal(peers_find_hit(ps, &h), p);
	assert_null(peers_find_hit(ps, &other));
	assert_int_equal(hit_cmp(&p->hit, &h), 0);
	assert_null(p->assoc);
	assert_int_equal(p->since, T0);
	assert_int_equal(p->rekey_next, 0);

	/* Inbound: our SPI with the key the peer sends with. */
	assert_ptr_equal(find_opening(ps, 0x1001, T0, k.key_in), p);
	/* Outbound: the peer's SPI with the key it receives with. */
	assert_int_equal(p->out.spi, 0x9001);
	assert_true(reaches(&p->out, 0x9001, k.key_out));
	assert_false(reaches(&p->out, 0x9001, k.key_in));

	/* The peer's SPI is not one of ours, and neighbours of ours are unknown. */
	assert_null(peers_find_spi(ps, 0x9001, T0, &q));
	assert_null(peers_find_spi(ps, 0x1000, T0, &q));
	assert_null(peers_find_spi(ps, 0x1002, T0, &q));
	assert_null(peers_find_spi(ps, 0, T0, &q));
	assert_null(q);
}

static void test_add_rejects_used_spi_and_bad_suite(void **state)
{
	struct peers *ps = *state;
	struct hip_esp_keys k1 = keys_of(0x1001, 0x9001, 0);
	struct hip_esp_keys dup = keys_of(0x1001, 0x9002, 1);
	struct hip_esp_keys bad = keys_of(0x1003, 0x9003, 2);
	struct hit h2 = hit_of(2), h3 = hit_of(3);
	struct peer *p1 = add(ps, 1, &k1, T0), *p = NULL;

	assert_int_equal(peers_add(ps, NULL, &h2, &dup, T0, &p), -EEXIST);
	bad.suite = 0;
	assert_int_equal(peers_add(ps, NULL, &h3, &bad, T0, &p), -EPROTONOSUPPORT);
	assert_null(p);
	assert_int_equal(peers_count(ps), 1);
	assert_null(peers_find_hit(ps, &h2));
	assert_null(peers_find_hit(ps, &h3));
	assert_null(peers_find_spi(ps, 0x1003, T0, &p));
	/* The first peer is untouched. */
	assert_ptr_equal(find_opening(ps, 0x1001, T0, k1.key_in), p1);
}

/* ---- rekeying and the previous inbound SA ---- */

static void test_rekey_keeps_previous_for_grace_period(void **state)
{
	struct peers *ps = *state;
	struct hip_esp_keys k1 = keys_of(0x1001, 0x9001, 0);
	struct hip_esp_keys k2 = keys_of(0x1002, 0x9002, 0);
	struct peer *p = add(ps, 1, &k1, T0);
	const uint64_t t = T0 + 5000;

	p->rekey_next = t + 1234;
	assert_int_equal(peers_rekey(ps, p, &k2, t), 0);
	assert_int_equal(p->rekey_next, 0);
	assert_int_equal(p->since, T0);
	assert_int_equal(peers_count(ps), 1);

	/* Outbound switches at once. */
	assert_int_equal(p->out.spi, 0x9002);
	assert_true(reaches(&p->out, 0x9002, k2.key_out));
	/* Inbound: the new SA, and the old one for packets still in flight. */
	assert_ptr_equal(find_opening(ps, 0x1002, t, k2.key_in), p);
	assert_ptr_equal(find_opening(ps, 0x1001, t, k1.key_in), p);
	assert_ptr_equal(find_opening(ps, 0x1001, t + PEERS_PREV_SA_MS - 1, k1.key_in), p);
	/* Past its time the previous SA is gone, also for an earlier clock. */
	find_opening(ps, 0x1001, t + PEERS_PREV_SA_MS, NULL);
	find_opening(ps, 0x1001, t, NULL);
	/* The current one never expires. */
	assert_ptr_equal(find_opening(ps, 0x1002, t + 1000 * PEERS_PREV_SA_MS, k2.key_in), p);

	/* A later rekey again keeps the (new) previous SA. */
	struct hip_esp_keys k3 = keys_of(0x1003, 0x9003, 0);
	const uint64_t t2 = t + 2 * PEERS_PREV_SA_MS;

	assert_int_equal(peers_rekey(ps, p, &k3, t2), 0);
	assert_ptr_equal(find_opening(ps, 0x1002, t2 + PEERS_PREV_SA_MS - 1, k2.key_in), p);
	assert_ptr_equal(find_opening(ps, 0x1003, t2, k3.key_in), p);
	find_opening(ps, 0x1001, t2, NULL);
}

static void test_rekey_twice_drops_oldest(void **state)
{
	struct peers *ps = *state;
	struct hip_esp_keys k1 = keys_of(0x1001, 0x9001, 0);
	struct hip_esp_keys k2 = keys_of(0x1002, 0x9002, 0);
	struct hip_esp_keys k3 = keys_of(0x1003, 0x9003, 0);
	struct peer *p = add(ps, 1, &k1, T0);

	assert_int_equal(peers_rekey(ps, p, &k2, T0), 0);
	assert_int_equal(peers_rekey(ps, p, &k3, T0 + 1000), 0);
	/* Only one previous SA: the first keys are void right away. */
	find_opening(ps, 0x1001, T0 + 1000, NULL);
	assert_ptr_equal(find_opening(ps, 0x1002, T0 + 1000, k2.key_in), p);
	assert_ptr_equal(find_opening(ps, 0x1003, T0 + 1000, k3.key_in), p);
	/* The grace period runs from the second rekey. */
	assert_ptr_equal(find_opening(ps, 0x1002, T0 + 1000 + PEERS_PREV_SA_MS - 1, k2.key_in), p);
	find_opening(ps, 0x1002, T0 + 1000 + PEERS_PREV_SA_MS, NULL);
	assert_true(reaches(&p->out, 0x9003, k3.key_out));
}

static void test_rekey_same_spi_replaces_keys(void **state)
{
	struct peers *ps = *state;
	struct hip_esp_keys k1 = keys_of(0x1001, 0x9001, 0);
	struct hip_esp_keys k2 = keys_of(0x1001, 0x9001, 1);
	struct peer *p = add(ps, 1, &k1, T0), *q = NULL;
	struct esp_sa *sa;

	assert_int_equal(peers_rekey(ps, p, &k2, T0), 0);
	sa = peers_find_spi(ps, 0x1001, T0, &q);
	assert_non_null(sa);
	assert_ptr_equal(q, p);
	/* Nothing in flight can be told apart: only the new keys open. */
	assert_false(opens(sa, 0x1001, k1.key_in));
	assert_true(opens(sa, 0x1001, k2.key_in));
	assert_true(reaches(&p->out, 0x9001, k2.key_out));
}

static void test_rekey_failures_keep_old_keys(void **state)
{
	struct peers *ps = *state;
	struct hip_esp_keys ka = keys_of(0x1001, 0x9001, 0);
	struct hip_esp_keys kb = keys_of(0x2001, 0x9002, 0);
	struct hip_esp_keys clash = keys_of(0x2001, 0x9003, 1);
	struct hip_esp_keys bad = keys_of(0x1005, 0x9005, 0);
	struct peer *a = add(ps, 1, &ka, T0), *b = add(ps, 2, &kb, T0);

	/* Our new SPI already belongs to another peer. */
	assert_int_equal(peers_rekey(ps, a, &clash, T0), -EEXIST);
	bad.suite = 0;
	assert_int_equal(peers_rekey(ps, a, &bad, T0), -EPROTONOSUPPORT);
	find_opening(ps, 0x1005, T0, NULL);
	assert_ptr_equal(find_opening(ps, 0x1001, T0 + 100 * PEERS_PREV_SA_MS, ka.key_in), a);
	assert_ptr_equal(find_opening(ps, 0x2001, T0, kb.key_in), b);
	assert_true(reaches(&a->out, 0x9001, ka.key_out));
	assert_int_equal(peers_count(ps), 2);
}

/* ---- replacement and removal ---- */

static void test_add_same_hit_replaces(void **state)
{
	struct peers *ps = *state;
	struct hip_esp_keys k1 = keys_of(0x1001, 0x9001, 0);
	struct hip_esp_keys k2 = keys_of(0x1002, 0x9002, 0);
	struct hip_esp_keys k3 = keys_of(0x1002, 0x9003, 1);
	struct hip_esp_keys k4 = keys_of(0x1004, 0x9004, 0);
	struct hit h = hit_of(1);
	struct peer *p;

	add(ps, 1, &k1, T0);
	assert_int_equal(peers_rekey(ps, peers_find_hit(ps, &h), &k2, T0), 0);
	/* The peer restarted: new keys for the same HIT replace every old SA,
	 * previous one included, and may reuse the old peer's SPI. */
	p = add(ps, 1, &k3, T0 + 10);
	assert_int_equal(peers_count(ps), 1);
	assert_ptr_equal(peers_find_hit(ps, &h), p);
	assert_int_equal(p->since, T0 + 10);
	find_opening(ps, 0x1001, T0 + 10, NULL);
	assert_ptr_equal(find_opening(ps, 0x1002, T0 + 10, k3.key_in), p);
	assert_true(reaches(&p->out, 0x9003, k3.key_out));
	/* Fresh peer: no previous SA left to expire. */
	p = add(ps, 1, &k4, T0 + 20);
	find_opening(ps, 0x1002, T0 + 20, NULL);
	assert_ptr_equal(find_opening(ps, 0x1004, T0 + 20, k4.key_in), p);
	assert_int_equal(peers_count(ps), 1);
}

static void test_remove(void **state)
{
	struct peers *ps = *state;
	struct hip_esp_keys k1 = keys_of(0x1001, 0x9001, 0);
	struct hip_esp_keys k1b = keys_of(0x1002, 0x9011, 0);
	struct hip_esp_keys k2 = keys_of(0x2001, 0x9002, 0);
	struct hip_esp_keys k2b = keys_of(0x2002, 0x9012, 0);
	struct hip_esp_keys k3 = keys_of(0x3001, 0x9003, 0);
	struct hit h1 = hit_of(1), h2 = hit_of(2), h3 = hit_of(3);
	struct peer *p1 = add(ps, 1, &k1, T0), *p2 = add(ps, 2, &k2, T0), *p3 = add(ps, 3, &k3, T0);

	assert_int_equal(peers_rekey(ps, p2, &k2b, T0), 0);
	peers_remove(ps, p2);
	assert_int_equal(peers_count(ps), 2);
	assert_null(peers_find_hit(ps, &h2));
	/* Both its SAs, the previous one within its grace period too. */
	find_opening(ps, 0x2001, T0, NULL);
	find_opening(ps, 0x2002, T0, NULL);
	assert_ptr_equal(peers_get(ps, 0), p1);
	assert_ptr_equal(peers_get(ps, 1), p3);
	assert_ptr_equal(peers_find_hit(ps, &h1), p1);
	assert_ptr_equal(peers_find_hit(ps, &h3), p3);
	assert_ptr_equal(find_opening(ps, 0x1001, T0, k1.key_in), p1);
	assert_ptr_equal(find_opening(ps, 0x3001, T0, k3.key_in), p3);

	/* A removed peer's SPI is free again. */
	p2 = add(ps, 2, &k2, T0 + 1);
	assert_ptr_equal(find_opening(ps, 0x2001, T0 + 1, k2.key_in), p2);

	/* A peer whose previous SA already expired. */
	assert_int_equal(peers_rekey(ps, p1, &k1b, T0), 0);
	find_opening(ps, 0x1001, T0 + PEERS_PREV_SA_MS, NULL);
	peers_remove(ps, p1);
	peers_remove(ps, p2);
	peers_remove(ps, p3);
	assert_int_equal(peers_count(ps), 0);
	find_opening(ps, 0x1002, T0, NULL);
	find_opening(ps, 0x3001, T0, NULL);
}

/* An older peer of the same HIT belongs to another association (say an
 * opportunistic exchange learned the HIT): that association must not keep
 * pointing at the freed peer. */
static void test_replace_detaches_old_association(void **state)
{
	struct peers *ps = *state;
	struct identity *id = NULL;
	struct hip_host *host = NULL;
	struct hip_config cfg;
	struct hip_ops ops = {0};
	struct hip_locator l1 = {.len = sizeof(struct sockaddr_in)};
	struct hip_locator l2 = {.len = sizeof(struct sockaddr_in)};
	struct sockaddr_in *s1 = (struct sockaddr_in *)&l1.addr;
	struct sockaddr_in *s2 = (struct sockaddr_in *)&l2.addr;
	struct hip_assoc *a1 = NULL, *a2 = NULL;
	struct hip_esp_keys k1 = keys_of(0x1001, 0x9001, 0);
	struct hip_esp_keys k2 = keys_of(0x1002, 0x9002, 0);
	struct hit h = hit_of(1);
	struct peer *p1 = NULL, *p2 = NULL;

	s1->sin_family = s2->sin_family = AF_INET;
	s1->sin_port = s2->sin_port = htons(10500);
	s1->sin_addr.s_addr = htonl(0x0a4d0001);
	s2->sin_addr.s_addr = htonl(0x0a4d0002);
	hip_config_default(&cfg);
	assert_int_equal(identity_generate(&id), 0);
	assert_int_equal(hip_host_new(id, &cfg, &ops, 0, &host), 0);
	assert_int_equal(hip_host_connect(host, &h, &l1, 0, &a1), 0);
	assert_int_equal(hip_host_connect(host, NULL, &l2, 0, &a2), 0);
	assert_ptr_not_equal(a1, a2);

	assert_int_equal(peers_add(ps, a1, &h, &k1, T0, &p1), 0);
	hip_assoc_set_user(a1, p1);
	assert_ptr_equal(p1->assoc, a1);
	assert_int_equal(peers_add(ps, a2, &h, &k2, T0, &p2), 0);
	hip_assoc_set_user(a2, p2);
	assert_null(hip_assoc_user(a1));
	assert_ptr_equal(hip_assoc_user(a2), p2);
	assert_ptr_equal(p2->assoc, a2);
	assert_ptr_equal(peers_find_hit(ps, &h), p2);
	assert_int_equal(peers_count(ps), 1);
	find_opening(ps, 0x1001, T0, NULL);

	/* Re-added for the same association (keyed again), as the daemon's
	 * event handler does after dropping its pointer. */
	hip_assoc_set_user(a2, NULL);
	assert_int_equal(peers_add(ps, a2, &h, &k1, T0, &p1), 0);
	hip_assoc_set_user(a2, p1);
	assert_ptr_equal(p1->assoc, a2);
	assert_int_equal(peers_count(ps), 1);
	find_opening(ps, 0x1002, T0, NULL);
	assert_ptr_equal(find_opening(ps, 0x1001, T0, k1.key_in), p1);

	assert_null(hip_host_free(host));
	assert_null(identity_free(id));
}

/* ---- many peers ---- */

#define MANY 600

/* Distinct for i < 2^30: odd multipliers are bijections modulo powers of two. */
static uint32_t many_spi(uint32_t i)
{
	return 0x40000000u | ((i * 2654435761u) & 0x3fffffffu);
}

static uint32_t many_hit(uint32_t i)
{
	return i * 40503u + 17u; /* inserted in no particular HIT order */
}

static void test_many_peers(void **state)
{
	struct peers *ps = *state;
	static struct peer *p[MANY];
	struct peer *q = NULL;

	for (uint32_t i = 0; i < MANY; i++) {
		struct hip_esp_keys k = keys_of(many_spi(i), 0x5000 + i, 0);
		p[i] = add(ps, many_hit(i), &k, T0 + i);
	}
	assert_int_equal(peers_count(ps), MANY);
	for (size_t i = 1; i < MANY; i++)
		assert_true(hit_cmp(&peers_get(ps, i - 1)->hit, &peers_get(ps, i)->hit) < 0);
	assert_null(peers_get(ps, MANY));

	/* Rekey every third peer. */
	for (uint32_t i = 0; i < MANY; i += 3) {
		struct hip_esp_keys k = keys_of(many_spi(i + MANY), 0x6000 + i, 0);
		assert_int_equal(peers_rekey(ps, p[i], &k, T0), 0);
	}
	/* Remove the even ones. */
	for (uint32_t i = 0; i < MANY; i += 2)
		peers_remove(ps, p[i]);
	assert_int_equal(peers_count(ps), MANY / 2);

	for (uint32_t i = 0; i < MANY; i++) {
		struct hip_esp_keys k = keys_of(many_spi(i), 0x5000 + i, 0);
		struct hip_esp_keys kn = keys_of(many_spi(i + MANY), 0x6000 + i, 0);
		struct hit h = hit_of(many_hit(i));
		bool kept = i % 2 == 1, rekeyed = i % 3 == 0;

		assert_ptr_equal(peers_find_hit(ps, &h), kept ? p[i] : NULL);
		if (!kept) {
			find_opening(ps, many_spi(i), T0, NULL);
			find_opening(ps, many_spi(i + MANY), T0, NULL);
			continue;
		}
		assert_ptr_equal(find_opening(ps, many_spi(i), T0, k.key_in), p[i]);
		if (rekeyed)
			assert_ptr_equal(find_opening(ps, many_spi(i + MANY), T0, kn.key_in), p[i]);
		else
			find_opening(ps, many_spi(i + MANY), T0, NULL);
	}
	/* After the grace period only the current SAs are left. */
	for (uint32_t i = 1; i < MANY; i += 2) {
		struct hip_esp_keys k = keys_of(many_spi(i), 0x5000 + i, 0);
		uint64_t later = T0 + PEERS_PREV_SA_MS;

		if (i % 3 == 0)
			find_opening(ps, many_spi(i), later, NULL);
		else
			assert_ptr_equal(find_opening(ps, many_spi(i), later, k.key_in), p[i]);
	}
	assert_null(peers_find_spi(ps, 0x3fffffff, T0, &q));
	assert_null(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_empty_and_unknown_spi, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_add_and_find, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_add_rejects_used_spi_and_bad_suite, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_rekey_keeps_previous_for_grace_period, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_rekey_twice_drops_oldest, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rekey_same_spi_replaces_keys, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rekey_failures_keep_old_keys, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_add_same_hit_replaces, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_replace_detaches_old_association, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_many_peers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
