/* SPDX-License-Identifier: MIT */
/* resolver.h: asynchronous host name resolution with c-ares on the daemon's
 * libuv loop (bootstrap peers given by name). The only file that includes ares.h. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct resolver;

#define RESOLVER_MAX_ADDRS 8

/* status 0 with n >= 1 addresses (port filled in), or a negative error
 * (-ENOENT: no such name, -ETIMEDOUT, -ECANCELED when the resolver is freed). */
typedef void (*resolver_cb)(void *arg, int status, const struct sockaddr_storage *addrs, size_t n);

int resolver_new(uv_loop_t *loop, struct resolver **ret);
/* Closes the channel; pending callbacks run with -ECANCELED. The memory is
 * released once libuv has closed the handles. */
void resolver_free(struct resolver *r);
/* Replaces the servers from /etc/resolv.conf with "ip[:port],..." (c-ares syntax). */
int resolver_set_servers(struct resolver *r, const char *csv);
/* Resolves host (IPv4 and IPv6) and reports its addresses with port set.
 * The callback may run from inside this call (names c-ares answers from
 * /etc/hosts), so callers must be ready for that. */
int resolver_lookup(struct resolver *r, const char *host, uint16_t port, resolver_cb cb, void *arg);

/* A resolver for relaying other hosts' queries (src/dns/forward): answers
 * reach the callback as received, a truncated one (TC) included, instead of
 * being retried over TCP (ARES_FLAG_IGNTC), so the client sees what the
 * upstream said; UDP answers up to 4096 bytes are taken whole. timeout_ms is the first try's
 * timeout, tries the attempts per server. Its servers must be set with resolver_set_servers. */
int resolver_new_relay(uv_loop_t *loop, unsigned timeout_ms, unsigned tries, struct resolver **ret);
/* status 0 with the answer bytes (valid during the call; their ID is c-ares'
 * own, not the query's), or a negative error: -ETIMEDOUT, -ECONNREFUSED (no
 * server reachable), -EIO (every server answered SERVFAIL, REFUSED or
 * NOTIMP), -ECANCELED (resolver freed), -EINVAL, -ENOMEM. */
typedef void (*resolver_send_cb)(void *arg, int status, const uint8_t *answer, size_t len);
/* Sends the raw query (ares_send: c-ares gives it a fresh ID). The callback
 * may run from inside this call on early failures. */
int resolver_send(struct resolver *r, const uint8_t *query, size_t len, resolver_send_cb cb,
                  void *arg);
