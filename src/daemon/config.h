/* SPDX-License-Identifier: MIT */
/* config.h: idlocd's configuration: the INI file, command-line overrides, validation.
 *
 * Pure: parsing touches no global state of the daemon, opens no sockets and
 * never logs; every failure is one line in the caller's error buffer, in the
 * form "<file>:<line>: <what is wrong>". The keys are documented in docs/config.md. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "idloc/idloc.h"

#define CONFIG_DEFAULT_PATH  IDLOC_DEFAULT_CONFIG
#define CONFIG_DEFAULT_PORT  IDLOC_DEFAULT_PORT
#define CONFIG_STUN_PORT     3478
#define CONFIG_DNS_PORT      53
#define CONFIG_MAX_BOOTSTRAP 16
#define CONFIG_MAX_ICE       16 /* per key: stun, turn */
#define CONFIG_MAX_UPSTREAM  8
#define CONFIG_DOMAIN_MAX    253
#define CONFIG_LABEL_MAX     63
#define CONFIG_IFNAME_MAX    15  /* IFNAMSIZ - 1 */
#define CONFIG_SUN_PATH_MAX  107 /* sizeof(sun_path) - 1 */
#define CONFIG_PATH_MAX      1024
#define CONFIG_CRED_MAX      128
#define CONFIG_USER_MAX      32
#define CONFIG_MTU_MIN       1280
#define CONFIG_MTU_MAX       9000
#define CONFIG_PUZZLE_MAX    28
#define CONFIG_ERR_MAX       512

/* A host and port from the config: a literal address (already parsed into
 * addr) or a DNS name kept as text for later resolution. */
struct config_endpoint {
	char host[CONFIG_DOMAIN_MAX + 1]; /* without brackets */
	uint16_t port;
	bool literal;
	struct sockaddr_storage addr; /* literal only; port included */
	socklen_t addrlen;
};

struct config_turn {
	char user[CONFIG_CRED_MAX + 1];
	char password[CONFIG_CRED_MAX + 1];
	struct config_endpoint server;
};

enum config_upstream {
	CONFIG_UPSTREAM_AUTO,
	CONFIG_UPSTREAM_NONE,
	CONFIG_UPSTREAM_LIST,
};

enum config_dns_configure {
	CONFIG_DNS_CONFIGURE_AUTO,
	CONFIG_DNS_CONFIGURE_RESOLVED,
	CONFIG_DNS_CONFIGURE_NONE,
};

enum config_relay {
	CONFIG_RELAY_AUTO,
	CONFIG_RELAY_YES,
	CONFIG_RELAY_NO,
};

struct config {
	/* [overlay] */
	char domain[CONFIG_DOMAIN_MAX + 1]; /* lowercased; "" until set */
	struct config_endpoint bootstrap[CONFIG_MAX_BOOTSTRAP];
	size_t n_bootstrap;
	/* [peer] */
	char name[CONFIG_LABEL_MAX + 1]; /* "" until set; config_finish fills it */
	uint16_t port;
	char state_dir[CONFIG_PATH_MAX + 1];
	char control[CONFIG_SUN_PATH_MAX + 1];
	char user[CONFIG_USER_MAX + 1]; /* "" = stay who we were started as */
	/* [tun] */
	char device[CONFIG_IFNAME_MAX + 1];
	uint32_t lsi_prefix; /* host byte order */
	uint8_t lsi_prefix_len;
	unsigned mtu;
	/* [dns] */
	uint32_t dns_address; /* host byte order */
	enum config_upstream upstream;
	struct config_endpoint upstream_servers[CONFIG_MAX_UPSTREAM]; /* literal only */
	size_t n_upstream;
	enum config_dns_configure dns_configure;
	/* [ice] */
	struct config_endpoint stun[CONFIG_MAX_ICE];
	size_t n_stun;
	struct config_turn turn[CONFIG_MAX_ICE];
	size_t n_turn;
	/* [relay] */
	enum config_relay relay_serve;
	uint16_t relay_port; /* the TURN server's UDP port when serving */
	uint32_t relay_rate; /* Mbit/s relayed per peer, both ways together; 0: no limit */
	/* [hip] */
	unsigned puzzle_difficulty;
	uint64_t retransmit_ms;
	unsigned max_retransmits;
	uint64_t idle_timeout_ms; /* a pipe without traffic this long is closed; 0: never */
	uint64_t keepalive_ms;    /* [peer] keepalive-interval: NAT bindings kept this often */
	/* [debug] */
	char key_log[CONFIG_PATH_MAX + 1]; /* "" = off */

	/* Private to config.c: repeatable keys already replaced by --set. */
	uint32_t cmdline_replaced;
};

/* Every key at its default; [overlay] domain and [peer] name are left empty. */
void config_init(struct config *cfg);
/* config_init, then the keys of text. filename is only used in messages.
 * 0, or -EINVAL with "<filename>:<line>: ..." in err. */
int config_parse_string(const char *text, const char *filename, struct config *cfg, char *err,
                        size_t errlen);
/* Reads path (at most 1 MiB) and parses it like config_parse_string. */
int config_parse_file(const char *path, struct config *cfg, char *err, size_t errlen);
/* Applies one "section.key=value" override (idlocd --set). A repeatable key's
 * first override replaces the file's list and later ones append; an empty
 * value clears it. Errors read "command line: ...". */
int config_set(struct config *cfg, const char *assignment, char *err, size_t errlen);
/* Checks required keys and cross-key rules after the file and the overrides;
 * fills [peer] name from hostname (its first label, lowercased) when unset.
 * hostname may be NULL when the name was set. Errors read "<filename>: ...". */
int config_finish(struct config *cfg, const char *filename, const char *hostname, char *err,
                  size_t errlen);

const char *config_upstream_to_string(enum config_upstream u);
const char *config_dns_configure_to_string(enum config_dns_configure c);
const char *config_relay_to_string(enum config_relay r);
/* "host:port", "[v6]:port", into buf. */
const char *config_endpoint_format(const struct config_endpoint *ep, char *buf, size_t len);
