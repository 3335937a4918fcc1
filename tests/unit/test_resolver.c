/* SPDX-License-Identifier: MIT */
/* test_resolver.c: c-ares on the libuv loop: names from /etc/hosts, literal
 * addresses, unknown names, and freeing with a query in flight. No traffic
 * leaves the machine: only names the local hosts file or c-ares itself answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "net/resolver.h"

struct result {
	int calls;
	int status;
	size_t n;
	struct sockaddr_storage first;
};

static void on_result(void *arg, int status, const struct sockaddr_storage *addrs, size_t n)
{
	struct result *res = arg;

	res->calls++;
	res->status = status;
	res->n = n;
	if (n)
		res->first = addrs[0];
}

/* Tests never query a real DNS server: the only server is a closed port on
 * loopback. Names come from /etc/hosts or fail. */
static void no_network(struct resolver *r)
{
	assert_int_equal(resolver_set_servers(r, "127.0.0.1:9"), 0);
}

static void run(uv_loop_t *loop)
{
	assert_true(uv_run(loop, UV_RUN_DEFAULT) >= 0);
}

static void close_loop(uv_loop_t *loop)
{
	run(loop);
	assert_int_equal(uv_loop_close(loop), 0);
}

static void test_localhost(void **state)
{
	uv_loop_t loop;
	struct resolver *r;
	struct result res = {0};

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(resolver_new(&loop, &r), 0);
	no_network(r);
	assert_int_equal(resolver_lookup(r, "localhost", 10500, on_result, &res), 0);
	run(&loop);
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.status, 0);
	assert_true(res.n >= 1);
	if (res.first.ss_family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&res.first;
		assert_int_equal(ntohs(s->sin_port), 10500);
		assert_int_equal(ntohl(s->sin_addr.s_addr) >> 24, 127);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&res.first;
		assert_int_equal(res.first.ss_family, AF_INET6);
		assert_int_equal(ntohs(s->sin6_port), 10500);
	}
	resolver_free(r);
	close_loop(&loop);
}

static void test_literal(void **state)
{
	uv_loop_t loop;
	struct resolver *r;
	struct result res = {0};
	struct sockaddr_in *s = (struct sockaddr_in *)&res.first;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(resolver_new(&loop, &r), 0);
	no_network(r);
	assert_int_equal(resolver_lookup(r, "127.0.0.2", 4000, on_result, &res), 0);
	run(&loop);
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.status, 0);
	assert_int_equal(res.first.ss_family, AF_INET);
	assert_int_equal(ntohs(s->sin_port), 4000);
	assert_int_equal(ntohl(s->sin_addr.s_addr), 0x7f000002);
	resolver_free(r);
	close_loop(&loop);
}

/* The query fails against the closed loopback port. */
static void test_unknown(void **state)
{
	uv_loop_t loop;
	struct resolver *r;
	struct result res = {0};

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(resolver_new(&loop, &r), 0);
	no_network(r);
	assert_int_equal(resolver_lookup(r, "nosuchhost.invalid", 1, on_result, &res), 0);
	run(&loop);
	assert_int_equal(res.calls, 1);
	assert_true(res.status < 0);
	assert_int_equal(res.n, 0);
	resolver_free(r);
	close_loop(&loop);
}

static void test_free_cancels(void **state)
{
	uv_loop_t loop;
	struct resolver *r;
	struct result res = {0};

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(resolver_new(&loop, &r), 0);
	no_network(r);
	assert_int_equal(resolver_lookup(r, "localhost", 1, on_result, &res), 0);
	resolver_free(r);
	close_loop(&loop);
	assert_int_equal(res.calls, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_localhost),
	        cmocka_unit_test(test_literal),
	        cmocka_unit_test(test_unknown),
	        cmocka_unit_test(test_free_cancels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
