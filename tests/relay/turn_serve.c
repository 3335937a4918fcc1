/* SPDX-License-Identifier: MIT */
/* turn_serve.c: the TURN server alone, with one fixed user, for interoperability tests.
 *
 * turn_serve --listen IP:PORT --relay IP --realm REALM --user NAME --password PASS [-v]
 *
 * Prints "ready PORT" once it listens; on SIGTERM or SIGINT it closes the server,
 * prints its counters as "stats allocations=... relayed_bytes=... refused_auth=...
 * refused_quota=... dropped_rate=..." and exits 0. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <uv.h>

#include "common/log.h"
#include "relay/stun.h"
#include "relay/turn.h"

struct serve {
	const char *user;
	uint8_t key[STUN_KEY_LEN];
	struct turn_server *server;
	uv_signal_t sigterm, sigint;
	struct turn_stats last;
};

static int key_fn(void *arg, const char *user, uint8_t key[16])
{
	struct serve *sv = arg;

	if (strcmp(user, sv->user) != 0)
		return -ENOENT;
	memcpy(key, sv->key, STUN_KEY_LEN);
	return 0;
}

/* "a.b.c.d:port", "[x::y]:port", or without the port (0): "a.b.c.d", "x::y". */
static int parse_addr(const char *s, struct sockaddr_storage *ret)
{
	char host[64];
	const char *colon, *start = s, *end;
	unsigned long port = 0;

	if (s[0] == '[') {
		start = s + 1;
		end = strchr(s, ']');
		colon = end && end[1] == ':' ? end + 1 : NULL;
		if (!end || (end[1] && !colon))
			return -EINVAL;
	} else {
		colon = strrchr(s, ':');
		/* More than one colon: a bare IPv6 address, no port. */
		if (colon && strchr(s, ':') != colon)
			colon = NULL;
		end = colon ? colon : s + strlen(s);
	}
	if ((size_t)(end - start) >= sizeof(host))
		return -EINVAL;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = 0;
	if (colon) {
		char *e;
		port = strtoul(colon + 1, &e, 10);
		if (*e || port > 65535)
			return -EINVAL;
	}
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ret) == 0)
		return 0;
	return uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ret) == 0 ? 0 : -EINVAL;
}

static void on_signal(uv_signal_t *sig, int signum)
{
	struct serve *sv = sig->data;

	turn_server_stats(sv->server, &sv->last);
	turn_server_close(sv->server, NULL, NULL);
	uv_close((uv_handle_t *)&sv->sigterm, NULL);
	uv_close((uv_handle_t *)&sv->sigint, NULL);
}

static int usage(void)
{
	fprintf(stderr, "usage: turn_serve --listen IP:PORT --relay IP --realm REALM --user NAME "
	                "--password PASS [-v]\n");
	return 2;
}

/* SIGTERM and SIGINT stop the server. */
static int signals_start(struct serve *sv, uv_loop_t *loop)
{
	int r = uv_signal_init(loop, &sv->sigterm);

	if (r < 0)
		return r;
	r = uv_signal_init(loop, &sv->sigint);
	if (r < 0) {
		uv_close((uv_handle_t *)&sv->sigterm, NULL);
		return r;
	}
	sv->sigterm.data = sv->sigint.data = sv;
	r = uv_signal_start(&sv->sigterm, on_signal, SIGTERM);
	if (r == 0)
		r = uv_signal_start(&sv->sigint, on_signal, SIGINT);
	if (r < 0) {
		uv_close((uv_handle_t *)&sv->sigterm, NULL);
		uv_close((uv_handle_t *)&sv->sigint, NULL);
	}
	return r;
}

static int run(struct serve *sv, const struct turn_config *cfg, struct sockaddr_storage *listen,
               struct sockaddr_storage *relay)
{
	struct sockaddr_storage bound;
	uv_loop_t loop;
	int r = uv_loop_init(&loop);

	if (r < 0)
		return r;
	r = turn_server_new(&loop, cfg, (struct sockaddr *)listen, (struct sockaddr *)relay, key_fn,
	                    sv, &sv->server);
	if (r == 0) {
		r = turn_server_address(sv->server, &bound);
		if (r == 0)
			r = signals_start(sv, &loop);
		if (r < 0)
			turn_server_close(sv->server, NULL, NULL);
	}
	if (r == 0) {
		printf("ready %u\n", ntohs(((struct sockaddr_in *)&bound)->sin_port));
		fflush(stdout);
	}
	/* Until a signal closes everything, or until a failure's handles are closed. */
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0 && r == 0)
		r = -EBUSY;
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"listen", required_argument, NULL, 'l'},
	        {"relay", required_argument, NULL, 'r'},
	        {"realm", required_argument, NULL, 'm'},
	        {"user", required_argument, NULL, 'u'},
	        {"password", required_argument, NULL, 'p'},
	        {"verbose", no_argument, NULL, 'v'},
	        {NULL, 0, NULL, 0},
	};
	const char *listen_s = NULL, *relay_s = NULL, *realm = NULL, *pass = NULL;
	struct sockaddr_storage listen, relay;
	struct serve sv = {.user = NULL};
	struct turn_config cfg;
	int c, r;

	while ((c = getopt_long(argc, argv, "l:r:m:u:p:v", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_s = optarg;
			break;
		case 'r':
			relay_s = optarg;
			break;
		case 'm':
			realm = optarg;
			break;
		case 'u':
			sv.user = optarg;
			break;
		case 'p':
			pass = optarg;
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		default:
			return usage();
		}
	}
	if (!listen_s || !relay_s || !realm || !sv.user || !pass || optind != argc ||
	    parse_addr(listen_s, &listen) < 0 || parse_addr(relay_s, &relay) < 0)
		return usage();
	r = stun_long_term_key(sv.user, realm, pass, sv.key);
	if (r == 0) {
		turn_config_init(&cfg, realm);
		r = run(&sv, &cfg, &listen, &relay);
	}
	if (r < 0) {
		fprintf(stderr, "turn_serve: %s\n", strerror(-r));
		return 1;
	}
	printf("stats allocations=%u relayed_bytes=%" PRIu64 " refused_auth=%" PRIu64
	       " refused_quota=%" PRIu64 " dropped_rate=%" PRIu64 "\n",
	       sv.last.allocations, sv.last.relayed_bytes, sv.last.refused_auth,
	       sv.last.refused_quota, sv.last.dropped_rate);
	return 0;
}
