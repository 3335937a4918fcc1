/* SPDX-License-Identifier: MIT */
/* turn.h: a TURN server (RFC 8656 subset over UDP) and STUN Binding responder on libuv.
 *
 * One UDP socket serves clients; every allocation gets its own relayed UDP
 * socket bound to relay_addr. Requests are authenticated with long-term
 * credentials whose keys come from the caller for every request, so a peer
 * that leaves the overlay loses its relay at its next request. What is
 * implemented, the quotas and the deviations: docs/relay.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct turn_server;

/* Peers inside such a prefix are refused (403 for CreatePermission and
 * ChannelBind, silently for data), e.g. the overlay's own LSI and HIT
 * prefixes so relayed traffic cannot enter the relay host's overlay. */
struct turn_prefix {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order; 4 bytes used for AF_INET */
	unsigned len;     /* prefix length in bits */
};

struct turn_config {
	const char *realm;             /* the overlay domain; 1..255 bytes */
	unsigned max_allocs_total;     /* over every user */
	unsigned max_allocs_per_user;  /* more gets 486 */
	uint64_t bytes_per_s_per_user; /* relayed payload, both ways; 0: unlimited */
	unsigned max_lifetime_s;  /* allocation lifetime cap; the default is 600 or this if lower */
	unsigned max_permissions; /* per allocation; channels likewise */
	const struct turn_prefix *deny; /* refused peer prefixes, copied */
	size_t n_deny;
};

#define TURN_DEFAULT_MAX_ALLOCS          128
#define TURN_DEFAULT_MAX_ALLOCS_PER_USER 4
#define TURN_DEFAULT_BYTES_PER_S         (1ull << 30)
#define TURN_DEFAULT_MAX_LIFETIME_S      3600
#define TURN_DEFAULT_MAX_PERMISSIONS     16
#define TURN_REALM_MAX                   255

/* Fills cfg with the defaults above, realm set and no deny list. */
void turn_config_init(struct turn_config *cfg, const char *realm);

/* Returns 0 and the long-term key (MD5(user:realm:pass), stun_long_term_key)
 * for username, or -ENOENT when the user is not (or no longer) an overlay
 * peer allowed to relay; any other negative errno answers 500. Called for
 * every authenticated request, from the loop. */
typedef int (*turn_key_fn)(void *arg, const char *username, uint8_t key[16]);

/* Starts serving on listen (port 0 picks one: see turn_server_address).
 * Relayed sockets bind to relay_addr's address with port 0, and that address
 * is the one announced: it must be a specific address, not a wildcard.
 * The config is copied. 0 or negative errno (-EINVAL for a bad config or
 * addresses, -EADDRINUSE, ...). */
int turn_server_new(uv_loop_t *loop, const struct turn_config *cfg, const struct sockaddr *listen,
                    const struct sockaddr *relay_addr, turn_key_fn key, void *arg,
                    struct turn_server **ret);

/* Drops every allocation and closes every socket; done(arg) runs (from the
 * loop, never from inside this call) once libuv has closed them, and the
 * server is freed then. done may be NULL. NULL-safe. */
void turn_server_close(struct turn_server *s, void (*done)(void *), void *arg);

/* The address the server listens on, port included. 0 or negative errno. */
int turn_server_address(const struct turn_server *s, struct sockaddr_storage *ret);

struct turn_stats {
	unsigned allocations;   /* now */
	uint64_t relayed_bytes; /* payload relayed, both ways, since start */
	uint64_t refused_auth;  /* requests refused for their credentials */
	uint64_t refused_quota; /* Allocates refused for a quota (486) or capacity (508) */
	uint64_t dropped_rate;  /* datagrams dropped by a user's rate limit */
};

void turn_server_stats(const struct turn_server *s, struct turn_stats *ret);

/* Handles one datagram as if it had arrived on the listening socket from
 * `from`: what the socket's callback does. For tests and fuzzing, and for a
 * caller that demultiplexes a shared socket. */
void turn_server_input(struct turn_server *s, const uint8_t *buf, size_t len,
                       const struct sockaddr *from);
