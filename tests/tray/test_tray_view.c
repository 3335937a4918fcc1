/* SPDX-License-Identifier: MIT */
/* test_tray_view.c: the tray's labels, states and peer list from the daemon's answers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tray/view.h"

#define HIT_MARS  "2001:2a:aa::1"
#define HIT_VENUS "2001:2a:bb::2"

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);

	if (!j)
		fail_msg("bad test JSON: %s: %s", e.text, s);
	return j;
}

static struct view *new_view(void)
{
	struct view *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	return v;
}

/* A status answer with one member replaced (or dropped when value is NULL). */
static json_t *status_with(const char *key, json_t *value)
{
	json_t *s = parse("{\"name\":\"mars\",\"fqdn\":\"mars.example.internal\","
	                  "\"hit\":\"" HIT_MARS "\",\"lsi\":\"100.64.0.7\","
	                  "\"resolver\":\"100.64.0.53\",\"version\":\"0.1.0\",\"uptime_s\":5,"
	                  "\"overlay\":{\"domain\":\"example.internal\",\"joined\":true,"
	                  "\"neighbors\":3}}");

	if (key && strncmp(key, "overlay.", 8) == 0) {
		json_t *ovl = json_object_get(s, "overlay");
		if (value)
			json_object_set_new(ovl, key + 8, value);
		else
			json_object_del(ovl, key + 8);
	} else if (key) {
		if (value)
			json_object_set_new(s, key, value);
		else
			json_object_del(s, key);
	}
	return s;
}

static void test_joined(void **state)
{
	struct view *v = new_view();
	json_t *s = status_with(NULL, NULL);

	assert_int_equal(view_set_status(v, s, false), 0);
	assert_int_equal(v->state, VIEW_JOINED);
	assert_string_equal(v->headline, "Connected to example.internal");
	assert_string_equal(v->detail, "3 overlay neighbors");
	assert_string_equal(v->self, "This device: mars (mars.example.internal)");
	assert_string_equal(v->fqdn, "mars.example.internal");
	assert_string_equal(v->lsi, "100.64.0.7");
	assert_string_equal(v->hit, HIT_MARS);
	assert_string_equal(v->domain, "example.internal");
	assert_string_equal(view_icon_name(v->state), "idloc-joined");
	assert_string_equal(view_toggle_label(v->state), "Disconnect");
	assert_false(view_toggle_joins(v->state));
	/* The tray's own "left" does not hide that the daemon is in. */
	assert_int_equal(view_set_status(v, s, true), 0);
	assert_int_equal(v->state, VIEW_JOINED);
	json_decref(s);
	free(v);
}

static void test_one_neighbor_no_lsi(void **state)
{
	struct view *v = new_view();
	json_t *s = status_with("lsi", json_null());

	json_object_set_new(json_object_get(s, "overlay"), "neighbors", json_integer(1));
	assert_int_equal(view_set_status(v, s, false), 0);
	assert_string_equal(v->detail, "1 overlay neighbor");
	assert_string_equal(v->lsi, "");
	json_decref(s);
	free(v);
}

static void test_connecting_and_disconnected(void **state)
{
	struct view *v = new_view();
	json_t *s = status_with("overlay.joined", json_false());

	assert_int_equal(view_set_status(v, s, false), 0);
	assert_int_equal(v->state, VIEW_CONNECTING);
	assert_string_equal(v->headline, "Connecting to example.internal\u2026");
	assert_string_equal(v->detail, "");
	assert_string_equal(view_icon_name(v->state), "idloc-connecting");
	/* Joining can be stopped. */
	assert_string_equal(view_toggle_label(v->state), "Disconnect");

	assert_int_equal(view_set_status(v, s, true), 0);
	assert_int_equal(v->state, VIEW_DISCONNECTED);
	assert_string_equal(v->headline, "Disconnected from example.internal");
	assert_string_equal(view_icon_name(v->state), "idloc-disconnected");
	assert_string_equal(view_toggle_label(v->state), "Connect");
	assert_true(view_toggle_joins(v->state));
	/* Still this device's addresses. */
	assert_string_equal(v->lsi, "100.64.0.7");
	json_decref(s);
	free(v);
}

static void test_down(void **state)
{
	struct view *v = new_view();
	json_t *s = status_with(NULL, NULL);

	assert_int_equal(view_set_status(v, s, false), 0);
	view_set_down(v, true, "cannot connect to '/run/idloc/idloc.sock': No such file");
	assert_int_equal(v->state, VIEW_DOWN);
	assert_string_equal(v->headline, "Daemon not running");
	assert_string_equal(v->detail, "cannot connect to '/run/idloc/idloc.sock': No such file");
	/* Nothing of the daemon's stays on display. */
	assert_string_equal(v->self, "");
	assert_string_equal(v->fqdn, "");
	assert_string_equal(v->lsi, "");
	assert_string_equal(v->hit, "");
	assert_int_equal(v->npeers, 0);
	assert_string_equal(view_icon_name(v->state), "idloc-down");
	assert_string_equal(view_icon_description(v->state), "idloc: daemon not running");

	view_set_down(v, false, "permission denied");
	assert_string_equal(v->headline, "Cannot reach the daemon");
	json_decref(s);
	free(v);
}

static void test_icons_differ(void **state)
{
	enum view_state all[] = {VIEW_DOWN, VIEW_CONNECTING, VIEW_DISCONNECTED, VIEW_JOINED};

	for (size_t i = 0; i < 4; i++)
		for (size_t j = i + 1; j < 4; j++) {
			assert_string_not_equal(view_icon_name(all[i]), view_icon_name(all[j]));
			assert_string_not_equal(view_icon_description(all[i]),
			                        view_icon_description(all[j]));
		}
}

static void check_bad_status(json_t *s)
{
	struct view *v = new_view();

	assert_int_equal(view_set_status(v, s, false), -EBADMSG);
	assert_int_equal(v->state, VIEW_DOWN);
	assert_string_equal(v->headline, "Cannot reach the daemon");
	assert_string_equal(v->detail, "unexpected answer from the daemon");
	assert_string_equal(v->self, "");
	json_decref(s);
	free(v);
}

static void test_bad_status(void **state)
{
	check_bad_status(parse("[]"));
	check_bad_status(parse("{}"));
	check_bad_status(status_with("name", NULL));
	check_bad_status(status_with("name", json_integer(7)));
	check_bad_status(status_with("name", json_string("mars <b>x</b>")));
	check_bad_status(status_with("name", json_string("")));
	check_bad_status(status_with("fqdn", json_string("-bad.example")));
	check_bad_status(status_with("hit", NULL));
	check_bad_status(status_with("hit", json_string("100.64.0.1")));
	check_bad_status(status_with("hit", json_null()));
	check_bad_status(status_with("lsi", json_string("100.64.0.300")));
	check_bad_status(status_with("lsi", NULL));
	check_bad_status(status_with("overlay", NULL));
	check_bad_status(status_with("overlay", json_string("x")));
	check_bad_status(status_with("overlay.domain", NULL));
	check_bad_status(status_with("overlay.joined", json_string("true")));
	check_bad_status(status_with("overlay.joined", NULL));
	check_bad_status(status_with("overlay.neighbors", json_real(1.5)));
}

/* A joined view of mars, ready for peers. */
static struct view *mars_view(void)
{
	struct view *v = new_view();
	json_t *s = status_with(NULL, NULL);

	assert_int_equal(view_set_status(v, s, false), 0);
	json_decref(s);
	return v;
}

static void test_peers(void **state)
{
	struct view *v = mars_view();
	json_t *p = parse(
	        "[{\"name\":\"venus.example.internal\",\"hit\":\"" HIT_VENUS "\","
	        "\"lsi\":\"100.64.0.9\",\"state\":\"ESTABLISHED\","
	        "\"path\":{\"type\":\"host\",\"remote\":\"192.0.2.2:10500\"},\"rtt_ms\":0.431,"
	        "\"tx_bytes\":1,\"rx_bytes\":2},"
	        "{\"name\":null,\"hit\":\"2001:2a:cc::3\",\"lsi\":null,\"state\":\"I1-SENT\","
	        "\"path\":{\"type\":null,\"remote\":null},\"rtt_ms\":null},"
	        "{\"name\":\"Earth\",\"hit\":\"2001:2a:dd::4\",\"lsi\":null,\"state\":\"CHECKING\","
	        "\"path\":{\"type\":\"relay\",\"remote\":\"[2001:db8::1]:3478\"},\"rtt_ms\":12}]");

	assert_int_equal(view_set_peers(v, p), 0);
	assert_int_equal(v->npeers, 3);
	assert_int_equal(v->more_peers, 0);
	/* Sorted by label: HITs before names. */
	assert_string_equal(v->peers[0].label, "2001:2a:cc::3: I1-SENT, no path yet");
	assert_string_equal(v->peers[0].copy, "2001:2a:cc::3");
	assert_string_equal(v->peers[0].url, "http://[2001:2a:cc::3]/");
	/* A single label gets the overlay domain; names are lowercased. */
	assert_string_equal(v->peers[1].label, "earth.example.internal: CHECKING, relay, 12.0 ms");
	assert_string_equal(v->peers[1].copy, "earth.example.internal");
	assert_string_equal(v->peers[1].url, "http://earth.example.internal/");
	assert_string_equal(v->peers[2].label, "venus.example.internal: ESTABLISHED, host, 0.4 ms");
	assert_string_equal(v->peers[2].url, "http://venus.example.internal/");
	json_decref(p);
	free(v);
}

static void test_many_peers(void **state)
{
	struct view *v = mars_view();
	json_t *p = json_array();
	char hit[64];

	for (int i = 0; i < VIEW_PEERS_MAX + 5; i++) {
		snprintf(hit, sizeof(hit), "2001:2a::%x", i + 1);
		json_array_append_new(p, json_pack("{s:n,s:s,s:s,s:{s:s},s:n}", "name", "hit", hit,
		                                   "state", "ESTABLISHED", "path", "type", "srflx",
		                                   "rtt_ms"));
	}
	assert_int_equal(view_set_peers(v, p), 0);
	assert_int_equal(v->npeers, VIEW_PEERS_MAX);
	assert_int_equal(v->more_peers, 5);
	json_decref(p);
	free(v);
}

static void check_bad_peer(const char *entry)
{
	struct view *v = mars_view();
	char buf[1024];
	json_t *p;

	snprintf(buf, sizeof(buf),
	         "[{\"name\":null,\"hit\":\"" HIT_VENUS "\",\"state\":\"ESTABLISHED\","
	         "\"path\":{\"type\":\"host\"},\"rtt_ms\":null}, %s]",
	         entry);
	p = parse(buf);
	assert_int_equal(view_set_peers(v, p), -EBADMSG);
	assert_int_equal(v->npeers, 0);
	json_decref(p);
	free(v);
}

static void test_bad_peers(void **state)
{
	struct view *v = mars_view();
	json_t *p = parse("{\"peers\":[]}");

	assert_int_equal(view_set_peers(v, p), -EBADMSG);
	assert_int_equal(view_set_peers(v, NULL), -EBADMSG);
	json_decref(p);
	free(v);

	check_bad_peer("7");
	check_bad_peer("{}");
	check_bad_peer("{\"name\":null,\"hit\":\"x\",\"state\":\"UP\",\"path\":{\"type\":null}}");
	check_bad_peer("{\"name\":\"a b\",\"hit\":\"" HIT_MARS "\",\"state\":\"UP\","
	               "\"path\":{\"type\":null}}");
	check_bad_peer("{\"name\":\"x/y\",\"hit\":\"" HIT_MARS "\",\"state\":\"UP\","
	               "\"path\":{\"type\":null}}");
	check_bad_peer("{\"name\":null,\"hit\":\"" HIT_MARS "\",\"state\":\"UP NOW\","
	               "\"path\":{\"type\":null}}");
	check_bad_peer("{\"name\":null,\"hit\":\"" HIT_MARS "\",\"state\":\"\","
	               "\"path\":{\"type\":null}}");
	check_bad_peer("{\"name\":null,\"hit\":\"" HIT_MARS "\",\"state\":\"UP\","
	               "\"path\":{\"type\":\"<i>\"}}");
	check_bad_peer("{\"name\":null,\"hit\":\"" HIT_MARS "\",\"state\":\"UP\"}");
	check_bad_peer("{\"name\":null,\"hit\":\"" HIT_MARS "\",\"state\":\"UP\","
	               "\"path\":{\"type\":null},\"rtt_ms\":\"3\"}");
	check_bad_peer("{\"name\":null,\"hit\":\"" HIT_MARS "\",\"state\":\"UP\","
	               "\"path\":{\"type\":7}}");
}

static void test_peers_equal(void **state)
{
	struct view *a = mars_view(), *b = mars_view();
	json_t *p1 =
	        parse("[{\"name\":\"venus\",\"hit\":\"" HIT_VENUS "\",\"state\":\"ESTABLISHED\","
	              "\"path\":{\"type\":\"host\"},\"rtt_ms\":1}]");
	json_t *p2 =
	        parse("[{\"name\":\"venus\",\"hit\":\"" HIT_VENUS "\",\"state\":\"ESTABLISHED\","
	              "\"path\":{\"type\":\"host\"},\"rtt_ms\":2}]");

	assert_true(view_peers_equal(a, b));
	assert_int_equal(view_set_peers(a, p1), 0);
	assert_false(view_peers_equal(a, b));
	assert_int_equal(view_set_peers(b, p1), 0);
	assert_true(view_peers_equal(a, b));
	/* A new round trip is a change to show. */
	assert_int_equal(view_set_peers(b, p2), 0);
	assert_false(view_peers_equal(a, b));
	json_decref(p1);
	json_decref(p2);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_joined),
	        cmocka_unit_test(test_one_neighbor_no_lsi),
	        cmocka_unit_test(test_connecting_and_disconnected),
	        cmocka_unit_test(test_down),
	        cmocka_unit_test(test_icons_differ),
	        cmocka_unit_test(test_bad_status),
	        cmocka_unit_test(test_peers),
	        cmocka_unit_test(test_many_peers),
	        cmocka_unit_test(test_bad_peers),
	        cmocka_unit_test(test_peers_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
