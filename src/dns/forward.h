/* SPDX-License-Identifier: MIT */
/* forward.h: relays queries for names outside the overlay's zones to the
 * upstream servers of dns.upstream, through c-ares (net/resolver.h) on the
 * daemon's libuv loop.
 *
 * Never forwards to ourselves: the resolver address, anything inside the LSI
 * prefix and any HIT are dropped from the server list, whether it came from
 * /etc/resolv.conf (auto) or from the config. Decisions: docs/dns.md. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "dns/wire.h"

#define DNS_FORWARD_MAX_SERVERS 8
#define DNS_FORWARD_CSV_MAX     (DNS_FORWARD_MAX_SERVERS * 56)
#define DNS_FORWARD_TIMEOUT_MS  1000 /* first try; c-ares lengthens later ones */
#define DNS_FORWARD_TRIES       2    /* per server */

struct dns_forward_config {
	/* dns.upstream as a list, "ip[:port],..." ("[v6]:port" for a port with
	 * IPv6), or NULL for auto: the nameserver lines of resolv_conf. */
	const char *servers;
	const char *resolv_conf; /* NULL: /etc/resolv.conf */
	uint32_t resolver_addr;  /* host byte order */
	uint32_t lsi_prefix;     /* host byte order */
	uint8_t lsi_prefix_len;
	unsigned timeout_ms; /* 0: DNS_FORWARD_TIMEOUT_MS */
	unsigned tries;      /* 0: DNS_FORWARD_TRIES */
};

/* Pure: the upstream servers as c-ares csv ("ip:port,[v6]:port") from
 * cfg->servers, or when that is NULL from resolv_conf_text (the contents of a
 * resolv.conf), without the ones that would loop back to us, duplicates,
 * unspecified addresses and scoped (link-local %if) ones. Returns how many,
 * possibly 0; -EINVAL for a malformed cfg->servers entry; -ENOSPC past
 * DNS_FORWARD_MAX_SERVERS or cap. */
int dns_forward_upstreams(const struct dns_forward_config *cfg, const char *resolv_conf_text,
                          char *csv, size_t cap);

struct dns_forward;

/* -ENOENT when no usable upstream is left (the caller then refuses names
 * outside the overlay), -EINVAL for a bad list, -EIO/-ENOMEM from c-ares. */
int dns_forward_new(uv_loop_t *loop, const struct dns_forward_config *cfg,
                    struct dns_forward **ret);
/* Pending queries complete with -ECANCELED; memory is released once libuv has
 * closed c-ares' handles (run the loop). NULL-safe. */
void dns_forward_free(struct dns_forward *f);
/* The servers in use, as c-ares csv (for the log). */
const char *dns_forward_servers(const struct dns_forward *f);

/* status 0: reply is the upstream's answer with the client's ID restored, or,
 * if it exceeded what the client accepts, a truncated (TC) reply of ours.
 * status < 0 (-ETIMEDOUT, -EIO, -ECONNREFUSED, -EBADMSG for a garbled
 * answer...): reply is our SERVFAIL for the query. -ECANCELED: reply is NULL,
 * send nothing. reply is valid during the call only. */
typedef void (*dns_forward_cb)(void *arg, int status, const uint8_t *reply, size_t len);

/* Relays msg (len bytes; q is its parse, from dns_responder_handle). The
 * callback runs exactly once, possibly before this returns; on an error
 * return (-ENOMEM, -EINVAL) it never runs. */
int dns_forward_query(struct dns_forward *f, const struct dns_query *q, const uint8_t *msg,
                      size_t len, dns_forward_cb cb, void *arg);
