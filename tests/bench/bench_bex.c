/* SPDX-License-Identifier: MIT */
/* bench_bex.c: base exchanges per second as responder. One responder host
 * (default configuration, so the default puzzle difficulty) meets a stream
 * of brand-new initiators in memory, I1/R1/I2/R2 through the ops callbacks
 * as in tests/unit/test_hip_bex.c; only the responder's CPU time counts. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "crypto/identity.h"
#include "hip/bex.h"
#include "hip/wire.h"

/* An exchange has at most four packets in flight; room for retransmissions. */
#define QUEUE 8

struct side {
	struct hip_host *host;
	struct hip_locator loc;
	struct side *peer;
	unsigned established;
	uint64_t cpu_ns; /* spent inside this host's engine calls */
};

struct packet {
	struct side *to;
	uint8_t data[HIP_MAX_PACKET];
	size_t len;
};

static struct packet queue[QUEUE];
static size_t qlen;
static int send_error;

static int net_send(void *ctx, const struct hip_locator *to, const uint8_t *pkt, size_t len)
{
	struct side *s = ctx;

	(void)to;
	if (qlen == QUEUE || len > HIP_MAX_PACKET) {
		send_error = -ENOBUFS;
		return -ENOBUFS;
	}
	queue[qlen].to = s->peer;
	memcpy(queue[qlen].data, pkt, len);
	queue[qlen].len = len;
	qlen++;
	return 0;
}

static void net_event(void *ctx, struct hip_assoc *a, enum hip_event ev)
{
	struct side *s = ctx;

	(void)a;
	if (ev == HIP_EVENT_ESTABLISHED)
		s->established++;
}

static void side_init(struct side *s, uint32_t addr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&s->loc.addr;

	memset(s, 0, sizeof(*s));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(HIP_UDP_PORT);
	sin->sin_addr.s_addr = htonl(addr);
	s->loc.len = sizeof(*sin);
}

static int host_new(struct side *s, const struct identity *id, uint64_t now)
{
	struct hip_config cfg;
	struct hip_ops ops = {.ctx = s, .send = net_send, .event = net_event};

	hip_config_default(&cfg);
	return hip_host_new(id, &cfg, &ops, now, &s->host);
}

/* Delivers packets (and those they cause) until the network is quiet. A
 * dropped packet ends the exchange without completing it; the caller sees
 * that in the event count. */
static void deliver_all(uint64_t now)
{
	while (qlen) {
		struct packet *p = &queue[0];
		struct side *to = p->to;
		const char *why;
		uint64_t t0 = bench_cpu_ns();

		hip_host_input(to->host, p->data, p->len, &to->peer->loc, now, &why);
		to->cpu_ns += bench_cpu_ns() - t0;
		qlen--;
		memmove(queue, queue + 1, qlen * sizeof(queue[0]));
	}
}

/* One exchange with a fresh initiator: its identity and host are made and
 * freed outside the measured time. */
static int exchange(struct side *resp, struct side *init, uint64_t now)
{
	struct identity *id;
	unsigned before = resp->established;
	uint64_t t0;
	int r;

	r = identity_generate(&id);
	if (r < 0)
		return r;
	r = host_new(init, id, now);
	if (r == 0) {
		t0 = bench_cpu_ns();
		r = hip_host_connect(init->host, NULL, &resp->loc, now, NULL);
		init->cpu_ns += bench_cpu_ns() - t0;
	}
	if (r == 0) {
		deliver_all(now);
		r = send_error;
	}
	if (r == 0 && (resp->established != before + 1 || init->established != 1))
		r = -EPROTO;
	init->host = hip_host_free(init->host);
	init->established = 0;
	identity_free(id);
	return r;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const struct side *resp, const struct side *init)
{
	struct hip_config cfg;
	struct bench_result res = {.ops = resp->established, .cpu_ns = resp->cpu_ns};
	char tags[32];

	hip_config_default(&cfg);
	snprintf(tags, sizeof(tags), "puzzle-k=%u", cfg.puzzle_k);
	printf("# HIP base exchange I1/R1/I2/R2, ECDSA P-256 hosts, one core\n");
	bench_print("bex-responder", tags, "exchanges", 0, &res);
	/* For comparison: the initiator's side of the same exchanges. */
	res.cpu_ns = init->cpu_ns;
	bench_print("bex-initiator", tags, "exchanges", 0, &res);
}

int main(void)
{
	double seconds = bench_seconds(2.0), start;
	struct side resp, init;
	struct identity *rid = NULL;
	uint64_t now = 1000;
	int r;

	side_init(&resp, 0x0a000001u);
	side_init(&init, 0x0a000002u);
	resp.peer = &init;
	init.peer = &resp;
	r = identity_generate(&rid);
	if (r == 0)
		r = host_new(&resp, rid, now);
	start = wall_s();
	/* Wall time bounds the run: the initiators' unmeasured work (key
	 * generation, their half of the exchange) takes as long again. */
	while (r == 0 && wall_s() - start < seconds)
		r = exchange(&resp, &init, ++now);
	if (r < 0)
		fprintf(stderr, "bench_bex: exchange %u failed: %s\n", resp.established + 1,
		        strerror(-r));
	else
		report(&resp, &init);
	hip_host_free(resp.host);
	identity_free(rid);
	return r < 0 ? 1 : 0;
}
