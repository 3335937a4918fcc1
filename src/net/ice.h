/* SPDX-License-Identifier: MIT */
/* ice.h: one ICE session per peer association (libnice, RFC 5245 mode, one
 * UDP component), run on the gloop-bridged GLib context.
 *
 * The caller supplies the local credentials (derived from HIP), gathers,
 * sends its candidates to the peer inside HIP (RFC 5770 LOCATOR type 2
 * entries), hands the peer's credentials and candidates to ice_set_remote,
 * and then gets the selected path, or a failure. Datagrams on the selected
 * pair go through ice_send and come back through ops->recv. Callbacks run
 * from the gloop dispatch; ice_free is allowed from inside any of them.
 * See docs/ice.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct gloop;
struct ice;

/* RFC 8445 section 5.3: ufrag at least 4 characters, password at least 22,
 * both at most 256, from the ice-char alphabet (ALPHA / DIGIT / "+" / "/"). */
#define ICE_UFRAG_MIN 4
#define ICE_PWD_MIN   22
#define ICE_CRED_MAX  256

#define ICE_MAX_CANDIDATES 32        /* remote candidates taken per ice_set_remote */
#define ICE_SOCKET_BUFFER  (4 << 20) /* send and receive buffer of a selected pair's socket */

/* The RFC 5770 LOCATOR type 2 "Kind" numbering (libnice uses the same). */
enum ice_kind {
	ICE_KIND_HOST = 0,
	ICE_KIND_SRFLX = 1,
	ICE_KIND_PRFLX = 2,
	ICE_KIND_RELAY = 3,
};

struct ice_candidate {
	enum ice_kind kind;
	struct sockaddr_storage addr; /* AF_INET or AF_INET6, port set */
	socklen_t addrlen;
	uint32_t priority; /* RFC 8445 priority, never 0 */
};

enum ice_state {
	ICE_STATE_NEW,       /* created, not gathering */
	ICE_STATE_GATHERING, /* ice_gather ran, candidates still coming */
	ICE_STATE_GATHERED,  /* local candidates complete */
	ICE_STATE_CHECKING,  /* remote side known, connectivity checks running */
	ICE_STATE_CONNECTED, /* a pair is selected: ice_send works */
	ICE_STATE_FAILED,    /* every pair failed, or a selected pair stopped answering */
};

/* The selected pair. type is "relay" when either end is a TURN relay,
 * otherwise the kind of the remote candidate: "host", "srflx" or "prflx"
 * (design.md's path.type). */
struct ice_path {
	struct sockaddr_storage local, remote;
	socklen_t local_len, remote_len;
	enum ice_kind local_kind, remote_kind;
	const char *type;
};

struct ice_turn {
	const char *host; /* numeric IPv4 or IPv6 address: resolve names first */
	uint16_t port;
	const char *user;
	const char *pass;
};

/* An address prefix whose addresses never make candidates. */
struct ice_prefix {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order; 4 bytes used for AF_INET */
	unsigned len;     /* prefix length in bits */
};

struct ice_config {
	bool controlling;        /* the HIP Initiator controls */
	const char *ufrag, *pwd; /* local credentials, see ICE_UFRAG_MIN... */
	const char *stun_host;   /* numeric address, or NULL for no STUN */
	uint16_t stun_port;      /* 0: 3478 */
	const struct ice_turn *turn;
	size_t n_turn;
	uint16_t port_min, port_max; /* local UDP port range; 0, 0: any */
	/* Local addresses to use. NULL: every address of every interface that
	 * is up, minus the exclusions below. */
	const struct sockaddr_storage *local_addrs;
	size_t n_local_addrs;
	/* Exclusions, applied to local addresses (interface names too) and to
	 * remote candidates (prefixes only). Always excluded besides these:
	 * loopback, IPv6 link-local, the ORCHID/HIT prefix 2001:20::/28,
	 * unspecified and multicast addresses. */
	const char *const *ignore_ifnames; /* e.g. the daemon's TUN device */
	size_t n_ignore_ifnames;
	const struct ice_prefix *ignore_prefixes; /* e.g. the LSI prefix */
	size_t n_ignore_prefixes;
	bool allow_loopback; /* tests: loopback candidates are kept */
	/* libnice timing, 0 for libnice's default: the RTO of the first STUN
	 * request (500 ms), retransmissions (3), and how long an agent with no
	 * check left in progress waits before declaring failure (5000 ms). */
	unsigned stun_initial_timeout_ms;
	unsigned stun_max_retransmissions;
	unsigned idle_timeout_ms;
};

struct ice_ops {
	/* Local candidates are complete: read them with ice_local_candidates.
	 * May run from inside ice_gather (host-only gathering completes at
	 * once). */
	void (*gathered)(void *ctx);
	/* A pair was selected, or the selection moved to a better pair (libnice
	 * nominates aggressively, so this can run more than once). */
	void (*selected)(void *ctx, const struct ice_path *path);
	/* Checks failed, or the selected pair stopped answering keepalive
	 * checks. ice_restart or ice_free are the ways on. */
	void (*failed)(void *ctx);
	/* Every datagram on the component that is not STUN: ESP, and HIP with
	 * its zero marker. */
	void (*recv)(void *ctx, const uint8_t *data, size_t len);
};

/* Creates the agent and its stream; nothing is sent before ice_gather. The
 * config is copied; ops is kept (it must outlive the ice: make it static).
 * ctx is passed to every callback. 0 or negative errno
 * (-EINVAL for bad credentials, addresses or lists). */
int ice_new(struct gloop *g, const struct ice_config *cfg, const struct ice_ops *ops, void *ctx,
            struct ice **ret);
/* Closes the sockets and frees everything; no callback runs afterwards.
 * Allowed from inside a callback of this ice. Must run before gloop_free.
 * NULL-safe. */
void ice_free(struct ice *ice);

/* Gathers host candidates (and server-reflexive / relayed ones when STUN /
 * TURN servers are configured). 0, -EALREADY if already gathered,
 * -EADDRNOTAVAIL when no local address passes the filters, or another
 * negative errno. */
int ice_gather(struct ice *ice);
/* Copies up to cap local candidates, best priority first, and returns how
 * many were copied (0 before gathering completes). */
size_t ice_local_candidates(const struct ice *ice, struct ice_candidate *out, size_t cap);

/* Sets the peer's credentials and candidates and starts the checks; call it
 * after ice_gather (-EINVAL before), gathering need not be complete.
 * Candidates the filters exclude, or that are malformed (bad kind, family,
 * length, port 0, priority 0) are skipped; IPv4-mapped IPv6 addresses count
 * as IPv4. Returns how many were used (possibly 0: the peer may still reach
 * us through peer-reflexive candidates), or a negative errno: -EINVAL for bad
 * credentials or more than ICE_MAX_CANDIDATES candidates. */
int ice_set_remote(struct ice *ice, const char *ufrag, const char *pwd,
                   const struct ice_candidate *cands, size_t n);

/* Sends one datagram on the selected pair. 0, -ENOTCONN when no pair is
 * selected, -EAGAIN when the socket buffer is full (dropped, as IP would),
 * -EMSGSIZE, or -EIO. */
int ice_send(struct ice *ice, const uint8_t *data, size_t len);

/* An ICE restart for mobility: new local credentials, a new agent that
 * gathers afresh on the addresses the host has now (ops->gathered follows),
 * and the old pair dropped. Send the new credentials and candidates to the
 * peer, then call ice_set_remote with the peer's new ones. Allowed from
 * inside a callback. 0 or negative errno (the ice is then FAILED). */
int ice_restart(struct ice *ice, const char *ufrag, const char *pwd);

enum ice_state ice_state(const struct ice *ice);
const char *ice_state_name(enum ice_state s);
/* 0 with the selected pair, or -ENOTCONN. */
int ice_selected_path(const struct ice *ice, struct ice_path *ret);
/* "host", "srflx", "prflx", "relay", or "?" for anything else. */
const char *ice_kind_name(enum ice_kind k);
/* 0 when s is a valid ICE ufrag (min = ICE_UFRAG_MIN) or password (min =
 * ICE_PWD_MIN): length min..ICE_CRED_MAX, ice-char alphabet only; -EINVAL
 * otherwise. */
int ice_cred_check(const char *s, size_t min);
