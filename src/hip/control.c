/* SPDX-License-Identifier: MIT */
/* control.c: packets of an established association: UPDATE for ESP rekeying
 * (RFC 7402 section 6.9, RFC 7401 section 6.11), CLOSE/CLOSE_ACK (section 6.14)
 * and NOTIFY (section 5.3.8). */
#include <errno.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/identity.h"
#include "crypto/random.h"
#include "hip/engine.h"
#include "hip/msg.h"
#include "hip/params.h"

#define FAIL(why)                \
	do {                     \
		*reason = (why); \
		return -EBADMSG; \
	} while (0)

/* NOTIFYs we send are rate limited: they answer unauthenticated input. */
#define NOTIFY_WINDOW_MS 1000
#define NOTIFY_BURST     5

int hip_verify_peer(const struct hip_assoc *a, const struct hip_msg *m, const char **reason)
{
	if (hip_msg_verify_mac(m, HIP_P_HIP_MAC, HIP_RHASH, a->keys.mac_in, a->keys.maclen, NULL,
	                       0) < 0)
		FAIL("HIP_MAC invalid");
	if (hip_msg_verify_sig(m, HIP_P_HIP_SIGNATURE, a->peer_hi) < 0)
		FAIL("signature invalid");
	return 0;
}

static void begin(struct hip_builder *b, struct hip_assoc *a, uint8_t *buf, size_t cap,
                  uint8_t type)
{
	hip_builder_init(b, buf, cap, type, &a->host->hit, &a->peer);
}

static int finish_signed(struct hip_builder *b, struct hip_assoc *a)
{
	hip_builder_mac(b, HIP_P_HIP_MAC, HIP_RHASH, a->keys.mac_out, a->keys.maclen, NULL, 0);
	hip_builder_sign(b, HIP_P_HIP_SIGNATURE, a->host->id);
	return hip_builder_finish(b);
}

void hip_send_notify(struct hip_host *h, const struct hit *to_hit, const struct hip_locator *to,
                     uint16_t type, const void *data, size_t len, uint64_t now)
{
	uint8_t buf[HIP_MAX_PACKET];
	struct hip_builder b;
	int r;

	if (now - h->notify_window >= NOTIFY_WINDOW_MS) {
		h->notify_window = now;
		h->notify_count = 0;
	}
	if (h->notify_count >= NOTIFY_BURST)
		return;
	h->notify_count++;
	hip_builder_init(&b, buf, sizeof(buf), HIP_NOTIFY, &h->hit, to_hit);
	hip_notification_encode(&b, type, data, len);
	hip_builder_sign(&b, HIP_P_HIP_SIGNATURE, h->id);
	r = hip_builder_finish(&b);
	if (r > 0)
		hip_send(h, to, buf, (size_t)r);
}

int hip_handle_notify(struct hip_host *h, struct hip_assoc *a, const struct hip_msg *m,
                      const char **reason)
{
	struct hip_notification n;

	(void)h;
	if (!a->peer_hi || hip_msg_verify_sig(m, HIP_P_HIP_SIGNATURE, a->peer_hi) < 0)
		FAIL("NOTIFY signature invalid");
	if (hip_notification_decode(hip_msg_find(m, HIP_P_NOTIFICATION), &n) < 0)
		FAIL("NOTIFY without a valid NOTIFICATION");
	/* Informational: errors are reported to the caller, state is unchanged. */
	*reason = n.type < HIP_N_I2_ACKNOWLEDGEMENT ? "peer reported an error in a NOTIFY"
	                                            : "peer sent an informational NOTIFY";
	return 0;
}

/* ---- CLOSE ---- */

int hip_build_close(struct hip_host *h, struct hip_assoc *a)
{
	struct hip_builder b;
	int r;

	r = crypto_random(a->echo, sizeof(a->echo));
	if (r < 0)
		return r;
	begin(&b, a, a->out, sizeof(a->out), HIP_CLOSE);
	hip_opaque_encode(&b, HIP_P_ECHO_REQUEST_SIGNED, a->echo, sizeof(a->echo));
	r = finish_signed(&b, a);
	if (r < 0)
		return r;
	a->out_len = (size_t)r;
	(void)h;
	return 0;
}

int hip_host_close(struct hip_host *h, struct hip_assoc *a, uint64_t now)
{
	int r;

	if (!a->keyed || (a->state != HIP_STATE_ESTABLISHED && a->state != HIP_STATE_R2_SENT))
		return -ENOTCONN;
	r = hip_build_close(h, a);
	if (r < 0)
		return r;
	hip_assoc_set_state(a, HIP_STATE_CLOSING);
	hip_send(h, &a->loc, a->out, a->out_len);
	hip_assoc_arm(a, HIP_PENDING_CLOSE, now);
	return 0;
}

int hip_handle_close(struct hip_host *h, struct hip_assoc *a, const struct hip_msg *m, uint64_t now,
                     const char **reason)
{
	static const uint16_t known[] = {HIP_P_ECHO_REQUEST_SIGNED, HIP_P_HIP_MAC,
	                                 HIP_P_HIP_SIGNATURE};
	uint8_t buf[HIP_MAX_PACKET];
	struct hip_opaque echo;
	struct hip_builder b;
	bool was_open;
	int r;

	if (a->state != HIP_STATE_ESTABLISHED && a->state != HIP_STATE_R2_SENT &&
	    a->state != HIP_STATE_CLOSING && a->state != HIP_STATE_CLOSED)
		FAIL("CLOSE in a state that has nothing to close");
	if (hip_unknown_critical(m, known, ARRAY_SIZE(known)))
		FAIL("CLOSE with an unsupported critical parameter");
	if (hip_verify_peer(a, m, reason) < 0)
		return -EBADMSG;
	if (hip_opaque_decode(hip_msg_find(m, HIP_P_ECHO_REQUEST_SIGNED), &echo) < 0)
		FAIL("CLOSE without ECHO_REQUEST_SIGNED");
	begin(&b, a, buf, sizeof(buf), HIP_CLOSE_ACK);
	hip_opaque_encode(&b, HIP_P_ECHO_RESPONSE_SIGNED, echo.data, echo.len);
	r = finish_signed(&b, a);
	if (r < 0)
		return r;
	hip_send(h, &a->loc, buf, (size_t)r);
	was_open = a->state != HIP_STATE_CLOSED;
	hip_assoc_disarm(a);
	hip_assoc_set_state(a, HIP_STATE_CLOSED);
	/* Keep the keys a while to answer a retransmitted CLOSE. */
	a->timer_at = now + h->cfg.closed_hold_ms;
	if (was_open)
		hip_event(h, a, HIP_EVENT_CLOSED);
	return 0;
}

int hip_handle_close_ack(struct hip_host *h, struct hip_assoc *a, const struct hip_msg *m,
                         uint64_t now, const char **reason)
{
	struct hip_opaque echo;

	if (a->state != HIP_STATE_CLOSING)
		FAIL("unexpected CLOSE_ACK");
	if (hip_verify_peer(a, m, reason) < 0)
		return -EBADMSG;
	if (hip_opaque_decode(hip_msg_find(m, HIP_P_ECHO_RESPONSE_SIGNED), &echo) < 0 ||
	    echo.len != sizeof(a->echo) || memcmp_ct(echo.data, a->echo, sizeof(a->echo)) != 0)
		FAIL("CLOSE_ACK does not echo our CLOSE");
	hip_assoc_disarm(a);
	hip_assoc_set_state(a, HIP_STATE_CLOSED);
	a->timer_at = now + h->cfg.closed_hold_ms;
	hip_event(h, a, HIP_EVENT_CLOSED);
	return 0;
}

/* ---- UPDATE: ESP rekeying ----
 *
 *   A -> B  UPDATE(ESP_INFO(index K, old A-in, new A-in'), SEQ(x))
 *   B -> A  UPDATE(ESP_INFO(index K, old B-in, new B-in'), SEQ(y), ACK(x))
 *   A -> B  UPDATE(ACK(y))
 *
 * Both draw the new ESP keys from KEYMAT at K. B switches when it sends its
 * reply, A when it receives it; the daemon keeps the previous inbound SA for
 * packets still in flight. If both start at once, the lower HIT yields. */

/* What one UPDATE carries; a packet with SEQ is kept in a->out for
 * retransmission. */
struct update {
	const struct hip_esp_info *ei;
	const struct hip_locator_entry *locs;
	size_t nlocs;
	bool with_seq;
	const uint32_t *ack;
	const uint8_t *echo_req; /* HIP_ECHO_NONCE_LEN bytes */
	const struct hip_opaque *echo_resp;
	const struct hip_locator *to; /* NULL: the association's locator */
};

static int send_update_parts(struct hip_host *h, struct hip_assoc *a, const struct update *u)
{
	uint8_t buf[HIP_MAX_PACKET];
	uint8_t *dst = u->with_seq ? a->out : buf;
	size_t cap = u->with_seq ? sizeof(a->out) : sizeof(buf);
	struct hip_builder b;
	int r;

	begin(&b, a, dst, cap, HIP_UPDATE);
	if (u->ei)
		hip_esp_info_encode(&b, u->ei);
	if (u->nlocs)
		hip_locator_set_encode(&b, u->locs, u->nlocs);
	if (u->with_seq)
		hip_seq_encode(&b, a->update_id_out);
	if (u->ack)
		hip_ack_encode(&b, u->ack, 1);
	if (u->echo_req)
		hip_opaque_encode(&b, HIP_P_ECHO_REQUEST_SIGNED, u->echo_req, HIP_ECHO_NONCE_LEN);
	if (u->echo_resp)
		hip_opaque_encode(&b, HIP_P_ECHO_RESPONSE_SIGNED, u->echo_resp->data,
		                  u->echo_resp->len);
	r = finish_signed(&b, a);
	if (r < 0)
		return r;
	if (u->with_seq) {
		a->out_len = (size_t)r;
		a->out_to_set = u->to != NULL;
		if (u->to)
			a->out_to = *u->to;
	}
	return hip_send(h, u->to ? u->to : &a->loc, dst, (size_t)r);
}

static int send_update(struct hip_host *h, struct hip_assoc *a, const struct hip_esp_info *ei,
                       bool with_seq, const uint32_t *ack)
{
	struct update u = {.ei = ei, .with_seq = with_seq, .ack = ack};

	return send_update_parts(h, a, &u);
}

int hip_build_update_rekey(struct hip_host *h, struct hip_assoc *a)
{
	struct hip_esp_info ei = {.keymat_index = (uint16_t)a->esp_index, .old_spi = a->esp.spi_in};

	if (a->esp_index + 2 * ESP_KEYMAT_LEN > a->km.len || a->esp_index > UINT16_MAX)
		return -ERANGE;
	a->rekey_new_spi = esp_spi_random();
	a->rekey_index = (uint16_t)a->esp_index;
	a->rekey_peer_done = false;
	ei.new_spi = a->rekey_new_spi;
	a->update_id_out++;
	return send_update(h, a, &ei, true, NULL);
}

int hip_host_rekey(struct hip_host *h, struct hip_assoc *a, uint64_t now)
{
	int r;

	if (a->state != HIP_STATE_ESTABLISHED)
		return -ENOTCONN;
	if (a->pending != HIP_PENDING_NONE)
		return -EBUSY;
	r = hip_build_update_rekey(h, a);
	if (r < 0 && r != -EAGAIN)
		return r;
	hip_assoc_arm(a, HIP_PENDING_UPDATE, now);
	return 0;
}

/* ---- UPDATE: mobility (RFC 8046 section 3.2) ----
 *
 *   MN -> CN  UPDATE(ESP_INFO(old = new = current SPI), LOCATOR_SET, SEQ(x))
 *   CN -> MN  UPDATE(SEQ(y), ACK(x), ECHO_REQUEST_SIGNED(n))   to the new address
 *   MN -> CN  UPDATE(ACK(y), ECHO_RESPONSE_SIGNED(n))
 *
 * The new address is the UPDATE's source (behind a NAT the locators inside
 * are not where the packets come from, RFC 5770): it becomes the peer's
 * locator only when the echo has come back, so a forged or replayed UPDATE
 * can never redirect traffic (no data goes to an unverified address). */

int hip_host_readdress(struct hip_host *h, struct hip_assoc *a,
                       const struct hip_locator_entry *locs, size_t n, uint64_t now)
{
	struct hip_locator_entry l[HIP_LOCATORS_MAX];
	struct hip_esp_info ei = {.keymat_index = (uint16_t)a->esp_index,
	                          .old_spi = a->esp.spi_in,
	                          .new_spi = a->esp.spi_in};
	struct update u = {.ei = &ei, .locs = l, .nlocs = n, .with_seq = true};
	int r;

	if (a->state != HIP_STATE_ESTABLISHED && a->state != HIP_STATE_R2_SENT)
		return -ENOTCONN;
	if (a->pending != HIP_PENDING_NONE)
		return -EBUSY;
	if (n == 0 || n > HIP_LOCATORS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		l[i] = locs[i];
		l[i].spi = a->esp.spi_in;
		if (l[i].lifetime == 0)
			l[i].lifetime = HIP_LOCATOR_LIFETIME_S;
	}
	a->update_id_out++;
	a->readdressing = true;
	r = send_update_parts(h, a, &u);
	if (r < 0 && r != -EAGAIN && r != -ENETUNREACH && r != -EHOSTUNREACH) {
		a->readdressing = false;
		return r;
	}
	hip_assoc_arm(a, HIP_PENDING_UPDATE, now);
	return 0;
}

/* ---- UPDATE: late ICE candidates (idloc, docs/hip.md "Late candidates") ----
 *
 *   A -> B  UPDATE(LOCATOR_SET of type-2 entries, SEQ(x))
 *   B -> A  UPDATE(ACK(x))
 *
 * Only for associations in ICE-STUN-UDP mode, where the locators are ICE
 * candidates rather than addresses of the association: they change nothing
 * the data path uses until ICE checks them, so they need no echo. */

int hip_host_send_candidates(struct hip_host *h, struct hip_assoc *a,
                             const struct hip_locator_entry *cands, size_t n, uint64_t now)
{
	struct hip_locator_entry l[HIP_LOCATORS_MAX];
	struct update u = {.locs = l, .nlocs = n, .with_seq = true};
	int r;

	if (a->nat_mode != HIP_NAT_ICE_STUN)
		return -ENOENT;
	if (a->state != HIP_STATE_ESTABLISHED && a->state != HIP_STATE_R2_SENT)
		return -ENOTCONN;
	if (a->pending != HIP_PENDING_NONE)
		return -EBUSY;
	if (n == 0 || n > HIP_LOCATORS_MAX)
		return -EINVAL;
	memcpy(l, cands, n * sizeof(l[0]));
	hip_candidates_finish(a, l, n);
	a->update_id_out++;
	r = send_update_parts(h, a, &u);
	if (r < 0 && r != -EAGAIN && r != -ENETUNREACH && r != -EHOSTUNREACH)
		return r;
	hip_assoc_arm(a, HIP_PENDING_UPDATE, now);
	return 0;
}

static int candidates_answer(struct hip_host *h, struct hip_assoc *a, const struct hip_msg *m,
                             uint32_t seq, const char **reason)
{
	struct hip_locator_entry c[HIP_LOCATORS_MAX];
	size_t n;

	if (hip_locator_set_decode(hip_msg_find(m, HIP_P_LOCATOR_SET), c, HIP_LOCATORS_MAX, &n) < 0)
		FAIL("UPDATE LOCATOR_SET malformed or unsupported");
	memcpy(a->peer_cands, c, n * sizeof(c[0]));
	a->npeer_cands = n;
	send_update(h, a, NULL, false, &seq);
	hip_event(h, a, HIP_EVENT_CANDIDATES);
	return 0;
}

/* The peer announced locators: verify where the UPDATE came from. */
static int readdress_answer(struct hip_host *h, struct hip_assoc *a, const struct hip_msg *m,
                            const struct hip_esp_info *ei, uint32_t seq,
                            const struct hip_locator *from, uint64_t now, const char **reason)
{
	struct hip_locator_entry locs[HIP_LOCATORS_MAX];
	struct update u = {.with_seq = true, .ack = &seq};
	size_t n;
	int r;

	if (hip_locator_set_decode(hip_msg_find(m, HIP_P_LOCATOR_SET), locs, HIP_LOCATORS_MAX, &n) <
	    0)
		FAIL("UPDATE LOCATOR_SET malformed or unsupported");
	if (ei->old_spi != a->esp.spi_out || ei->new_spi != ei->old_spi)
		FAIL("UPDATE with locators must keep the current SPI");
	memcpy(a->peer_locs, locs, n * sizeof(locs[0]));
	a->npeer_locs = n;
	if (!from ||
	    (from->len == a->loc.len && memcmp(&from->addr, &a->loc.addr, from->len) == 0)) {
		/* Same address: nothing to verify, acknowledge. */
		return send_update(h, a, NULL, false, &seq);
	}
	r = crypto_random(a->verify_nonce, sizeof(a->verify_nonce));
	if (r < 0)
		return r;
	a->verify_loc = *from;
	a->verifying = true;
	a->update_id_out++;
	u.echo_req = a->verify_nonce;
	u.to = &a->verify_loc;
	r = send_update_parts(h, a, &u);
	if (r < 0 && r != -EAGAIN && r != -ENETUNREACH && r != -EHOSTUNREACH)
		return r;
	hip_assoc_arm(a, HIP_PENDING_UPDATE, now);
	return 0;
}

/* Our echo came back: the new address is the peer's. */
static int verify_done(struct hip_host *h, struct hip_assoc *a, const struct hip_msg *m,
                       const char **reason)
{
	struct hip_opaque echo;

	if (hip_opaque_decode(hip_msg_find(m, HIP_P_ECHO_RESPONSE_SIGNED), &echo) < 0 ||
	    echo.len != sizeof(a->verify_nonce) ||
	    memcmp_ct(echo.data, a->verify_nonce, sizeof(a->verify_nonce)) != 0)
		FAIL("UPDATE does not echo our address check");
	hip_assoc_disarm(a);
	a->verifying = false;
	a->loc = a->verify_loc;
	hip_event(h, a, HIP_EVENT_MOVED);
	return 0;
}

/* Draws the new ESP keys at index and switches both directions. */
static int rekey_apply(struct hip_host *h, struct hip_assoc *a, uint16_t index, uint32_t spi_in,
                       uint32_t spi_out)
{
	struct hip_esp_keys k = {.suite = HIP_ESP_SUITE,
	                         .spi_in = spi_in,
	                         .spi_out = spi_out,
	                         .keylen = ESP_KEYMAT_LEN};
	int r = hip_esp_keys_draw(&a->km, index, ESP_KEYMAT_LEN, &h->hit, &a->peer, k.key_out,
	                          k.key_in);
	if (r < 0)
		return r;
	a->esp = k;
	memzero(&k, sizeof(k));
	a->esp_index = (size_t)index + 2 * ESP_KEYMAT_LEN;
	a->rekey_new_spi = 0;
	hip_event(h, a, HIP_EVENT_REKEYED);
	return 0;
}

/* The peer starts a rekey: answer with our new SPI and switch. */
static int update_answer(struct hip_host *h, struct hip_assoc *a, const struct hip_esp_info *pe,
                         uint32_t peer_seq, uint64_t now, const char **reason)
{
	struct hip_esp_info ei = {.keymat_index = pe->keymat_index, .old_spi = a->esp.spi_in};
	uint32_t spi = esp_spi_random();
	int r;

	if (pe->old_spi != a->esp.spi_out || pe->new_spi == 0 || pe->keymat_index != a->esp_index ||
	    (size_t)pe->keymat_index + 2 * ESP_KEYMAT_LEN > a->km.len)
		FAIL("UPDATE ESP_INFO inconsistent");
	ei.new_spi = spi;
	a->update_id_out++;
	r = send_update(h, a, &ei, true, &peer_seq);
	if (r < 0 && r != -EAGAIN)
		return r;
	hip_assoc_arm(a, HIP_PENDING_UPDATE, now);
	return rekey_apply(h, a, pe->keymat_index, spi, pe->new_spi);
}

int hip_handle_update(struct hip_host *h, struct hip_assoc *a, const struct hip_msg *m,
                      const struct hip_locator *from, uint64_t now, const char **reason)
{
	static const uint16_t known[] = {HIP_P_ESP_INFO,
	                                 HIP_P_LOCATOR_SET,
	                                 HIP_P_SEQ,
	                                 HIP_P_ACK,
	                                 HIP_P_DIFFIE_HELLMAN,
	                                 HIP_P_ECHO_REQUEST_SIGNED,
	                                 HIP_P_ECHO_RESPONSE_SIGNED,
	                                 HIP_P_HIP_MAC,
	                                 HIP_P_HIP_SIGNATURE,
	                                 HIP_P_ECHO_REQUEST_UNSIGNED,
	                                 HIP_P_ECHO_RESPONSE_UNSIGNED};
	const struct hip_param *pseq = hip_msg_find(m, HIP_P_SEQ);
	const struct hip_param *pack = hip_msg_find(m, HIP_P_ACK);
	const struct hip_param *pei = hip_msg_find(m, HIP_P_ESP_INFO);
	const struct hip_param *ploc = hip_msg_find(m, HIP_P_LOCATOR_SET);
	const struct hip_param *preq = hip_msg_find(m, HIP_P_ECHO_REQUEST_SIGNED);
	struct hip_opaque echo_req;
	struct hip_esp_info ei;
	uint32_t seq = 0, acks[16];
	size_t nacks = 0;
	bool acked = false;

	if (a->state != HIP_STATE_ESTABLISHED && a->state != HIP_STATE_R2_SENT)
		FAIL("UPDATE outside an established association");
	if (hip_unknown_critical(m, known, ARRAY_SIZE(known)))
		FAIL("UPDATE with an unsupported critical parameter");
	if (hip_verify_peer(a, m, reason) < 0)
		return -EBADMSG;
	if ((pseq && hip_seq_decode(pseq, &seq) < 0) ||
	    (pack && hip_ack_decode(pack, acks, ARRAY_SIZE(acks), &nacks) < 0) ||
	    (pei && hip_esp_info_decode(pei, &ei) < 0) ||
	    (preq && hip_opaque_decode(preq, &echo_req) < 0))
		FAIL("UPDATE with a malformed parameter");
	if (hip_msg_find(m, HIP_P_DIFFIE_HELLMAN))
		FAIL("UPDATE with a new DH is not supported yet");
	if (ploc && !pseq)
		FAIL("UPDATE with locators needs SEQ");
	if (ploc && !pei && a->nat_mode != HIP_NAT_ICE_STUN)
		FAIL("UPDATE with locators needs ESP_INFO");
	/* Late candidates change no state of ours, so they may cross our own
	 * UPDATE; so may locators announced from the address we already use
	 * (answered with a bare ACK: both ends announce after an exchange). */
	if (ploc && pei && a->pending != HIP_PENDING_NONE &&
	    !(!from ||
	      (from->len == a->loc.len && memcmp(&from->addr, &a->loc.addr, from->len) == 0)) &&
	    !(pseq && a->have_update_in && seq <= a->update_id_in))
		FAIL("UPDATE with locators while another UPDATE runs");
	if (a->state == HIP_STATE_R2_SENT)
		hip_assoc_set_state(a, HIP_STATE_ESTABLISHED);

	for (size_t i = 0; i < nacks; i++)
		acked |= a->pending == HIP_PENDING_UPDATE && acks[i] == a->update_id_out;

	if (pseq && a->have_update_in && seq <= a->update_id_in) {
		/* A retransmission: our answer was lost. If that answer is still
		 * pending (it carries our ESP_INFO and the ACK), send it again;
		 * otherwise acknowledge again. */
		if (a->pending == HIP_PENDING_UPDATE && !a->rekey_new_spi)
			hip_send(h, a->out_to_set ? &a->out_to : &a->loc, a->out, a->out_len);
		else
			send_update(h, a, NULL, false, &seq);
		return 0;
	}
	if (pseq) {
		a->update_id_in = seq;
		a->have_update_in = true;
	}
	if (ploc && !pei)
		return candidates_answer(h, a, m, seq, reason);
	if (ploc)
		return readdress_answer(h, a, m, &ei, seq, from, now, reason);
	if (acked && a->verifying)
		return verify_done(h, a, m, reason);

	if (pei && acked && a->rekey_new_spi) {
		/* The answer to our rekey. */
		uint16_t index = a->rekey_index;
		uint32_t spi_in = a->rekey_new_spi;

		if (ei.keymat_index != index || ei.new_spi == 0)
			FAIL("UPDATE ESP_INFO does not answer our rekey");
		hip_assoc_disarm(a);
		if (pseq)
			send_update(h, a, NULL, false, &seq);
		return rekey_apply(h, a, index, spi_in, ei.new_spi);
	}
	if (pei && pseq) {
		if (a->pending == HIP_PENDING_UPDATE && a->rekey_new_spi) {
			/* Both started a rekey: the greater HIT's wins. */
			if (hit_cmp(&h->hit, &a->peer) > 0) {
				a->have_update_in = false;
				*reason = "simultaneous rekey: ours takes precedence";
				return -EALREADY;
			}
			hip_assoc_disarm(a);
			a->rekey_new_spi = 0;
		}
		return update_answer(h, a, &ei, seq, now, reason);
	}
	/* An ACK without ESP_INFO does not complete our own rekey: the answer
	 * must carry the peer's new SPI, so keep retransmitting for it. */
	if (acked && !a->rekey_new_spi) {
		hip_assoc_disarm(a);
		a->readdressing = false;
	}
	if (pseq && !pei) {
		/* An address check (RFC 8046) is answered with the echo. */
		struct update u = {.ack = &seq, .echo_resp = preq ? &echo_req : NULL};

		send_update_parts(h, a, &u);
	}
	return 0;
}
