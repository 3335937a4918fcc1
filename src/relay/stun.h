/* SPDX-License-Identifier: MIT */
/* stun.h: the STUN message codec (RFC 8489, RFC 5389) with the TURN additions (RFC 8656).
 *
 * Pure: no I/O, no logging, no allocation. stun_parse checks the framing and
 * the FINGERPRINT and indexes the attributes; the caller decides which
 * attributes it understands and what to do with the rest. The builder writes
 * into a caller buffer and remembers the first error, which stun_build_finish
 * returns, so a sequence of puts needs one check. See docs/relay.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HEADER_LEN 20
#define STUN_COOKIE     0x2112a442u
#define STUN_TXID_LEN   12
#define STUN_MAX_ATTRS  40 /* more in one message is refused as malformed */
#define STUN_KEY_LEN    16 /* the long-term key is an MD5 digest */
#define STUN_HMAC_LEN   20 /* HMAC-SHA1 */
/* RFC 8489 section 14.3: USERNAME is shorter than 513 bytes. */
#define STUN_USERNAME_MAX 512

/* Methods (RFC 8489 section 18.2, RFC 8656 section 17). */
enum stun_method {
	STUN_BINDING = 0x001,
	STUN_ALLOCATE = 0x003,
	STUN_REFRESH = 0x004,
	STUN_SEND = 0x006,
	STUN_DATA = 0x007,
	STUN_CREATE_PERMISSION = 0x008,
	STUN_CHANNEL_BIND = 0x009,
};

enum stun_class {
	STUN_REQUEST = 0,
	STUN_INDICATION = 1,
	STUN_SUCCESS = 2,
	STUN_ERROR = 3,
};

/* Attributes (RFC 8489 section 18.3, RFC 8656 section 18). Below 0x8000 they
 * are comprehension-required. */
enum stun_attr_type {
	STUN_ATTR_MAPPED_ADDRESS = 0x0001,
	STUN_ATTR_USERNAME = 0x0006,
	STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
	STUN_ATTR_ERROR_CODE = 0x0009,
	STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000a,
	STUN_ATTR_CHANNEL_NUMBER = 0x000c,
	STUN_ATTR_LIFETIME = 0x000d,
	STUN_ATTR_XOR_PEER_ADDRESS = 0x0012,
	STUN_ATTR_DATA = 0x0013,
	STUN_ATTR_REALM = 0x0014,
	STUN_ATTR_NONCE = 0x0015,
	STUN_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
	STUN_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
	STUN_ATTR_EVEN_PORT = 0x0018,
	STUN_ATTR_REQUESTED_TRANSPORT = 0x0019,
	STUN_ATTR_DONT_FRAGMENT = 0x001a,
	STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	STUN_ATTR_RESERVATION_TOKEN = 0x0022,
	STUN_ATTR_SOFTWARE = 0x8022,
	STUN_ATTR_FINGERPRINT = 0x8028,
};

/* Error codes (RFC 8489 section 14.8, RFC 8656 section 19). */
enum {
	STUN_ERR_BAD_REQUEST = 400,
	STUN_ERR_UNAUTHENTICATED = 401,
	STUN_ERR_FORBIDDEN = 403,
	STUN_ERR_UNKNOWN_ATTRIBUTE = 420,
	STUN_ERR_ALLOCATION_MISMATCH = 437,
	STUN_ERR_STALE_NONCE = 438,
	STUN_ERR_ADDRESS_FAMILY = 440,
	STUN_ERR_WRONG_CREDENTIALS = 441,
	STUN_ERR_UNSUPPORTED_TRANSPORT = 442,
	STUN_ERR_PEER_ADDRESS_FAMILY = 443,
	STUN_ERR_QUOTA = 486,
	STUN_ERR_SERVER_ERROR = 500,
	STUN_ERR_INSUFFICIENT_CAPACITY = 508,
};

struct stun_attr {
	uint16_t type;
	uint16_t len;         /* value length, without padding */
	const uint8_t *value; /* inside the parsed buffer */
};

struct stun_msg {
	uint16_t method; /* 12 bits */
	enum stun_class cls;
	uint8_t txid[STUN_TXID_LEN];
	const uint8_t *buf; /* the whole message, as passed to stun_parse */
	size_t len;
	/* Attributes in message order, up to MESSAGE-INTEGRITY included;
	 * later ones are ignored (RFC 8489 section 14.5). */
	struct stun_attr attrs[STUN_MAX_ATTRS];
	size_t n_attrs;
	size_t integrity_off; /* offset of the MESSAGE-INTEGRITY header; 0: none */
	bool fingerprint;     /* a FINGERPRINT was present (and correct) */
};

/* The STUN type field of a method and class (RFC 8489 section 5). */
uint16_t stun_type(uint16_t method, enum stun_class cls);
/* The method and class of a STUN type field. */
void stun_type_split(uint16_t type, uint16_t *method, enum stun_class *cls);
/* True when buf starts like a STUN message (RFC 8489 section 5: top bits 00,
 * the magic cookie), before any other check. */
bool stun_looks_like(const uint8_t *buf, size_t len);

/* Parses and indexes one message. 0, or -EBADMSG for anything malformed:
 * bad header or length, truncated or overlong attributes, a FINGERPRINT
 * that is not last or does not match, more than STUN_MAX_ATTRS attributes.
 * ret points into buf afterwards. */
int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *ret);
/* The first attribute of this type, or NULL. */
const struct stun_attr *stun_find(const struct stun_msg *m, uint16_t type);
/* Copies to out (up to cap) the comprehension-required attribute types of m
 * that are not in known[], each once, and returns how many there are
 * (which may exceed cap). */
size_t stun_unknown_required(const struct stun_msg *m, const uint16_t *known, size_t n_known,
                             uint16_t *out, size_t cap);

/* Decodes an address attribute into ret (AF_INET or AF_INET6, port set).
 * xor: the XOR- variant (XOR-MAPPED, XOR-PEER, XOR-RELAYED), keyed with the
 * cookie and txid (RFC 8489 section 14.2). 0 or -EBADMSG. */
int stun_attr_addr(const struct stun_attr *a, bool xor, const uint8_t txid[STUN_TXID_LEN],
                   struct sockaddr_storage *ret);
/* A 4-byte attribute (LIFETIME, REQUESTED-TRANSPORT's protocol in the top
 * byte, ...). 0 or -EBADMSG. */
int stun_attr_u32(const struct stun_attr *a, uint32_t *ret);
/* ERROR-CODE: 300..699 into ret. 0 or -EBADMSG. */
int stun_attr_error(const struct stun_attr *a, unsigned *ret);

/* The long-term credential key, MD5(username ":" realm ":" password)
 * (RFC 8489 section 9.2.2). No SASLprep/OpaqueString: the strings are used as
 * given (docs/relay.md). 0 or -EIO. */
int stun_long_term_key(const char *username, const char *realm, const char *password,
                       uint8_t key[STUN_KEY_LEN]);
/* Checks MESSAGE-INTEGRITY (HMAC-SHA1 over the message up to it, with the
 * length field as if it ended there; RFC 8489 section 14.5). 0 when it
 * matches, -ENODATA when there is none, -EACCES when it does not match, -EIO. */
int stun_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t keylen);
/* CRC-32 of FINGERPRINT, before the xor (ISO HDLC, as zlib's crc32). */
uint32_t stun_crc32(const uint8_t *p, size_t len);

/* ---- building ---- */

struct stun_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err; /* the first error; later puts do nothing */
};

/* Starts a message of method and class with txid in buf (cap bytes). */
void stun_build_init(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
                     enum stun_class cls, const uint8_t txid[STUN_TXID_LEN]);
/* Appends the header and padding (zeros) of an attribute of len bytes and
 * returns where its value goes, for the caller to fill (or to find already
 * there: a value placed in the buffer beforehand is not touched). NULL once
 * the builder failed. */
uint8_t *stun_reserve(struct stun_builder *b, uint16_t type, size_t len);
/* Appends an attribute with its padding (zeros). */
void stun_put(struct stun_builder *b, uint16_t type, const void *value, size_t len);
void stun_put_u32(struct stun_builder *b, uint16_t type, uint32_t v);
/* An address attribute; xor as for stun_attr_addr. -EAFNOSUPPORT for a
 * family other than AF_INET and AF_INET6. */
void stun_put_addr(struct stun_builder *b, uint16_t type, const struct sockaddr *sa, bool xor);
/* ERROR-CODE with code (300..699) and a reason phrase. */
void stun_put_error(struct stun_builder *b, unsigned code, const char *reason);
/* UNKNOWN-ATTRIBUTES listing n types. */
void stun_put_unknown(struct stun_builder *b, const uint16_t *types, size_t n);
/* MESSAGE-INTEGRITY over everything so far; only FINGERPRINT may follow. */
void stun_put_integrity(struct stun_builder *b, const uint8_t *key, size_t keylen);
/* FINGERPRINT; must be the last attribute. */
void stun_put_fingerprint(struct stun_builder *b);
/* The message length in *len, or the first error: -EMSGSIZE when buf was
 * too small, -EINVAL, -EAFNOSUPPORT, -EIO. */
int stun_build_finish(struct stun_builder *b, size_t *len);

/* ---- TURN ChannelData (RFC 8656 section 12.4) ---- */

/* RFC 5766's range. RFC 8656 section 12 narrowed it to 0x4000..0x4fff for
 * RFC 7983 demultiplexing, which a TURN server's port does not need, while
 * RFC 5766 clients (coturn's among them) pick numbers up to 0x7fff. */
#define STUN_CHANNEL_MIN        0x4000
#define STUN_CHANNEL_MAX        0x7fff
#define STUN_CHANNEL_HEADER_LEN 4

/* True when the first byte says ChannelData (top bits 01) rather than STUN. */
bool stun_is_channel_data(const uint8_t *buf, size_t len);
/* Parses a ChannelData message: the channel number (0x4000..0x7fff) and the
 * application data. Bytes after the announced length (UDP padding, which is
 * optional, RFC 8656 section 12.5) are ignored. 0 or -EBADMSG. */
int stun_channel_data_parse(const uint8_t *buf, size_t len, uint16_t *channel, const uint8_t **data,
                            size_t *data_len);
/* Writes the 4-byte header for data_len bytes on channel. 0, or -EINVAL for
 * a channel out of range or data_len over 65535. */
int stun_channel_data_header(uint8_t hdr[STUN_CHANNEL_HEADER_LEN], uint16_t channel,
                             size_t data_len);
