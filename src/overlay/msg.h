/* SPDX-License-Identifier: MIT */
/* msg.h: overlay messages on the wire: a versioned header with a via list, and
 * one strict body per type. Layout byte by byte: docs/overlay.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "overlay/node.h"

#define OVL_MSG_VERSION      1
#define OVL_MSG_MAX          4096 /* whole message; larger input is malformed */
#define OVL_MSG_HDR_LEN      29   /* without the via entries */
#define OVL_VIA_MAX          32   /* via entries, hence the largest usable max_hops */
#define OVL_MSG_CONTACTS_MAX 32   /* contacts in a FIND_REPLY */
#define OVL_MSG_RECORDS_MAX  16   /* records in a GET_REPLY */
#define OVL_HIP_MAX          2048 /* a HIP packet (HIP_MAX_PACKET) */
#define OVL_CONTACT_WIRE_MAX (2 * OVL_ID_LEN + 3 + 16)

enum ovl_msg_type {
	OVL_MSG_PING = 1,
	OVL_MSG_PONG = 2,
	OVL_MSG_HOP_ACK = 3,
	OVL_MSG_FIND = 4,
	OVL_MSG_FIND_REPLY = 5,
	OVL_MSG_GET = 6,
	OVL_MSG_GET_REPLY = 7,
	OVL_MSG_PUT = 8,
	OVL_MSG_PUT_REPLY = 9,
	OVL_MSG_STORE = 10,
	OVL_MSG_LEAVE = 11,
	OVL_MSG_HIP = 12,
	OVL_MSG_ERROR = 13,
};

enum ovl_msg_flag {
	OVL_MSG_F_MAINT = 0x01,  /* overlay upkeep, counted as maintenance at every hop */
	OVL_MSG_F_DIRECT = 0x02, /* GET only: answer from the local store, do not route */
};

/* GET_REPLY status. */
enum ovl_get_status {
	OVL_GET_FOUND = 0,
	OVL_GET_NOT_FOUND = 1,
};

/* PUT_REPLY status and reason. */
enum ovl_put_status {
	OVL_PUT_OK = 0,
	OVL_PUT_REFUSED = 1,
};

enum ovl_put_reason {
	OVL_PUT_R_NONE = 0,
	OVL_PUT_R_OWNED = 1,   /* the name belongs to another Host Identity */
	OVL_PUT_R_STALE = 2,   /* a newer sequence number is stored */
	OVL_PUT_R_QUOTA = 3,   /* per-owner or total storage quota */
	OVL_PUT_R_FULL = 4,    /* relay branch full: go one level deeper */
	OVL_PUT_R_INVALID = 5, /* malformed, forged, expired, or stored under the wrong key */
};

enum ovl_error_code {
	OVL_ERR_TTL = 1, /* the request ran out of hops */
};

enum ovl_msg_class {
	OVL_CLASS_DIRECT,  /* one hop, no via list */
	OVL_CLASS_REQUEST, /* routed toward target, acknowledged hop by hop */
	OVL_CLASS_REPLY,   /* travels back along the via list */
};

/* A parsed message; pointers into the buffer it was parsed from. */
struct ovl_msg {
	uint8_t type;
	uint8_t flags;
	uint8_t ttl; /* requests: hops left; replies: hops the request took */
	uint64_t txid;
	struct ovl_id target;
	size_t nvia;
	const uint8_t *via; /* nvia IDs of OVL_ID_LEN bytes, originator first */
	size_t body_off;    /* where the body starts in the buffer */
	uint8_t status;     /* GET_REPLY, PUT_REPLY */
	uint8_t code;       /* PUT_REPLY reason, ERROR code */
	size_t count;       /* FIND_REPLY contacts, GET_REPLY records */
	/* PUT/STORE: the record. HIP: the packet. FIND_REPLY/GET_REPLY: the
	 * encoded list, read with ovl_msg_next_contact/ovl_msg_next_record. */
	const uint8_t *data;
	size_t data_len;
};

enum ovl_msg_class ovl_msg_class(uint8_t type);
/* Human-readable type name for logs and tests ("FIND"), or "?" */
const char *ovl_msg_type_name(uint8_t type);

/* Validates everything: version, known type and flags, via count by class,
 * exact body layout and lengths, every contact and record length, no trailing
 * bytes. Returns 0 or -EBADMSG. IDs of contacts are not checked against their
 * HITs here (that needs a hash; the engine does it). */
int ovl_msg_parse(const uint8_t *buf, size_t len, struct ovl_msg *ret);
/* Via entry i as an ID. */
void ovl_msg_via(const struct ovl_msg *m, size_t i, struct ovl_id *ret);
bool ovl_msg_via_has(const struct ovl_msg *m, const struct ovl_id *id);

/* Iterate the FIND_REPLY contacts / GET_REPLY records: start with
 * reader_init(m->data, m->data_len), call count times. 0 or -EBADMSG. */
int ovl_msg_next_contact(struct reader *r, struct ovl_contact *ret);
int ovl_msg_next_record(struct reader *r, const uint8_t **ret, size_t *ret_len);

/* A builder over a caller buffer; errors are sticky (-ENOBUFS, -EINVAL) and
 * reported by ovl_msg_finish. Call order: begin, via*, then the body. */
struct ovl_msg_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	size_t count_off; /* 0 = no counted list open */
	bool body;
	int err;
};

void ovl_msg_begin(struct ovl_msg_builder *b, uint8_t *buf, size_t cap, uint8_t type, uint8_t flags,
                   uint8_t ttl, uint64_t txid, const struct ovl_id *target);
/* Appends n via entries (n * OVL_ID_LEN bytes). */
void ovl_msg_add_via(struct ovl_msg_builder *b, const uint8_t *ids, size_t n);
void ovl_msg_add_u8(struct ovl_msg_builder *b, uint8_t v);
/* A length-prefixed blob (PUT, STORE, HIP). */
void ovl_msg_add_blob(struct ovl_msg_builder *b, const uint8_t *p, size_t len);
/* Opens the counted list of a FIND_REPLY or GET_REPLY. */
void ovl_msg_begin_list(struct ovl_msg_builder *b);
void ovl_msg_add_contact(struct ovl_msg_builder *b, const struct ovl_contact *c);
void ovl_msg_add_record(struct ovl_msg_builder *b, const uint8_t *rec, size_t len);
/* Room left for one more list item of len payload bytes. */
bool ovl_msg_fits(const struct ovl_msg_builder *b, size_t len);
/* The message length, or the first error. */
int ovl_msg_finish(struct ovl_msg_builder *b);

/* The message m (parsed from in) with id appended to the via list and a new
 * TTL: what a hop sends on. Returns the length or -ENOBUFS/-EINVAL. */
int ovl_msg_forward(const uint8_t *in, size_t len, const struct ovl_msg *m, const struct ovl_id *id,
                    uint8_t ttl, uint8_t *out, size_t cap);
/* The message m (parsed from in) without its last via entry: a reply taking
 * its next step back. Returns the length or -ENOBUFS/-EINVAL. */
int ovl_msg_pop_via(const uint8_t *in, size_t len, const struct ovl_msg *m, uint8_t *out,
                    size_t cap);

/* Wire size of a contact's locator-bearing entry. */
size_t ovl_msg_contact_len(const struct ovl_contact *c);
