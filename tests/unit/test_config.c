/* SPDX-License-Identifier: MIT */
/* test_config.c: idlocd config parsing, overrides and validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"

static struct config cfg;
static char err[CONFIG_ERR_MAX];

static int parse(const char *text)
{
	err[0] = '\0';
	return config_parse_string(text, "t.conf", &cfg, err, sizeof(err));
}

/* Parses text and finishes it; returns the first error. */
static int load(const char *text)
{
	int r = parse(text);
	if (r < 0)
		return r;
	return config_finish(&cfg, "t.conf", "Mars.example.org", err, sizeof(err));
}

#define assert_err(text, expected)                     \
	do {                                           \
		assert_int_equal(load(text), -EINVAL); \
		assert_string_equal(err, expected);    \
	} while (0)

static void test_defaults(void **state)
{
	char buf[300];

	assert_int_equal(load("[overlay]\ndomain = Example.Internal\n"), 0);
	assert_string_equal(cfg.domain, "example.internal");
	assert_int_equal(cfg.n_bootstrap, 0);
	assert_string_equal(cfg.name, "mars"); /* from the host name */
	assert_int_equal(cfg.port, 10500);
	assert_string_equal(cfg.state_dir, "/var/lib/idloc");
	assert_string_equal(cfg.control, "/run/idloc/idloc.sock");
	assert_string_equal(cfg.device, "idloc0");
	assert_int_equal(cfg.lsi_prefix, 0x64400000);
	assert_int_equal(cfg.lsi_prefix_len, 10);
	assert_int_equal(cfg.mtu, 1400);
	assert_int_equal(cfg.dns_address, 0x64400035);
	assert_int_equal(cfg.upstream, CONFIG_UPSTREAM_AUTO);
	assert_int_equal(cfg.dns_configure, CONFIG_DNS_CONFIGURE_AUTO);
	assert_int_equal(cfg.n_stun, 0);
	assert_int_equal(cfg.n_turn, 0);
	assert_int_equal(cfg.relay_serve, CONFIG_RELAY_AUTO);
	assert_int_equal(cfg.relay_rate, 0);
	assert_int_equal(cfg.puzzle_difficulty, 0);
	assert_int_equal(cfg.retransmit_ms, 1000);
	assert_int_equal(cfg.max_retransmits, 5);
	assert_string_equal(cfg.key_log, "");
	assert_string_equal(config_upstream_to_string(cfg.upstream), "auto");
	assert_string_equal(config_dns_configure_to_string(cfg.dns_configure), "auto");
	assert_string_equal(config_relay_to_string(cfg.relay_serve), "auto");
	(void)buf;
}

static const char full[] = "; a complete file\n"
                           "# with both comment styles\n"
                           "[overlay]\n"
                           "domain = example.internal.   ; required\n"
                           "bootstrap = 10.1.0.1:10501\n"
                           "bootstrap = [2001:db8::1]:7\n"
                           "bootstrap = 2001:db8::2\n"
                           "bootstrap = seed.Example.org\n"
                           "bootstrap = 192.0.2.9\n"
                           "\n"
                           "[Peer]\n"
                           "Name = Venus\n"
                           "port = 4000\n"
                           "state-dir = /tmp/st\n"
                           "control = /tmp/ctl.sock\n"
                           "[tun]\n"
                           "device = hip.0_x-y\n"
                           "lsi-prefix = 10.128.0.0/9\n"
                           "mtu = 1280\n"
                           "[dns]\n"
                           "address = 10.128.0.1\n"
                           "upstream = 192.0.2.53, [2001:db8::53]:5353 198.51.100.1:54\n"
                           "configure = resolved\n"
                           "[ice]\n"
                           "stun = stun.example.org\n"
                           "stun = 192.0.2.3:3479\n"
                           "turn = turn://alice:s3cr@t@turn.example.org:3480\n"
                           "[relay]\n"
                           "serve = yes\n"
                           "rate = 250\n"
                           "[hip]\n"
                           "puzzle-difficulty = 28\n"
                           "retransmit-ms = 250\n"
                           "max-retransmits = 0\n"
                           "[debug]\n"
                           "key-log = /tmp/keys\n";

static void test_every_key(void **state)
{
	char buf[300];
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;

	assert_int_equal(load(full), 0);
	assert_string_equal(cfg.domain, "example.internal");
	assert_int_equal(cfg.n_bootstrap, 5);
	assert_true(cfg.bootstrap[0].literal);
	s4 = (const struct sockaddr_in *)&cfg.bootstrap[0].addr;
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 10501);
	assert_int_equal(ntohl(s4->sin_addr.s_addr), 0x0a010001);
	assert_int_equal(cfg.bootstrap[0].addrlen, sizeof(*s4));
	assert_string_equal(config_endpoint_format(&cfg.bootstrap[0], buf, sizeof(buf)),
	                    "10.1.0.1:10501");
	s6 = (const struct sockaddr_in6 *)&cfg.bootstrap[1].addr;
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 7);
	assert_string_equal(config_endpoint_format(&cfg.bootstrap[1], buf, sizeof(buf)),
	                    "[2001:db8::1]:7");
	assert_string_equal(config_endpoint_format(&cfg.bootstrap[2], buf, sizeof(buf)),
	                    "[2001:db8::2]:10500");
	assert_false(cfg.bootstrap[3].literal);
	assert_string_equal(cfg.bootstrap[3].host, "seed.example.org");
	assert_int_equal(cfg.bootstrap[3].port, 10500);
	assert_string_equal(config_endpoint_format(&cfg.bootstrap[4], buf, sizeof(buf)),
	                    "192.0.2.9:10500");
	assert_string_equal(cfg.name, "venus");
	assert_int_equal(cfg.port, 4000);
	assert_string_equal(cfg.state_dir, "/tmp/st");
	assert_string_equal(cfg.control, "/tmp/ctl.sock");
	assert_string_equal(cfg.device, "hip.0_x-y");
	assert_int_equal(cfg.lsi_prefix, 0x0a800000);
	assert_int_equal(cfg.lsi_prefix_len, 9);
	assert_int_equal(cfg.mtu, 1280);
	assert_int_equal(cfg.dns_address, 0x0a800001);
	assert_int_equal(cfg.upstream, CONFIG_UPSTREAM_LIST);
	assert_int_equal(cfg.n_upstream, 3);
	assert_string_equal(config_endpoint_format(&cfg.upstream_servers[0], buf, sizeof(buf)),
	                    "192.0.2.53:53");
	assert_string_equal(config_endpoint_format(&cfg.upstream_servers[1], buf, sizeof(buf)),
	                    "[2001:db8::53]:5353");
	assert_string_equal(config_endpoint_format(&cfg.upstream_servers[2], buf, sizeof(buf)),
	                    "198.51.100.1:54");
	assert_int_equal(cfg.dns_configure, CONFIG_DNS_CONFIGURE_RESOLVED);
	assert_int_equal(cfg.n_stun, 2);
	assert_string_equal(cfg.stun[0].host, "stun.example.org");
	assert_int_equal(cfg.stun[0].port, 3478);
	assert_int_equal(cfg.stun[1].port, 3479);
	assert_int_equal(cfg.n_turn, 1);
	assert_string_equal(cfg.turn[0].user, "alice");
	assert_string_equal(cfg.turn[0].password, "s3cr@t");
	assert_string_equal(cfg.turn[0].server.host, "turn.example.org");
	assert_int_equal(cfg.turn[0].server.port, 3480);
	assert_int_equal(cfg.relay_serve, CONFIG_RELAY_YES);
	assert_int_equal(cfg.relay_rate, 250);
	assert_int_equal(cfg.puzzle_difficulty, 28);
	assert_int_equal(cfg.retransmit_ms, 250);
	assert_int_equal(cfg.max_retransmits, 0);
	assert_string_equal(cfg.key_log, "/tmp/keys");
}

static void test_enums(void **state)
{
	assert_int_equal(load("[overlay]\ndomain=d\n[dns]\nupstream=NONE\nconfigure=none\n"
	                      "[relay]\nserve=no\n"),
	                 0);
	assert_int_equal(cfg.upstream, CONFIG_UPSTREAM_NONE);
	assert_int_equal(cfg.dns_configure, CONFIG_DNS_CONFIGURE_NONE);
	assert_int_equal(cfg.relay_serve, CONFIG_RELAY_NO);
	assert_int_equal(load("[overlay]\ndomain=d\n[relay]\nserve=auto\n[dns]\nconfigure=auto\n"),
	                 0);
	assert_int_equal(cfg.relay_serve, CONFIG_RELAY_AUTO);
}

static void test_invalid_values(void **state)
{
	static const struct {
		const char *line;
		const char *msg;
	} cases[] = {
	        {"[peer]\nport = 70000", "t.conf:4: [peer] port: '70000' is not a port (1-65535)"},
	        {"[peer]\nport = 0", "t.conf:4: [peer] port: '0' is not a port (1-65535)"},
	        {"[peer]\nport = 12a", "t.conf:4: [peer] port: '12a' is not a port (1-65535)"},
	        {"[peer]\nport = -1", "t.conf:4: [peer] port: '-1' is not a port (1-65535)"},
	        {"[peer]\nport = 99999999999999999999",
	         "t.conf:4: [peer] port: '99999999999999999999' is not a port (1-65535)"},
	        {"[peer]\nname = -mars",
	         "t.conf:4: [peer] name: '-mars' is not a valid name (1-63 letters, digits or "
	         "'-', not starting or ending with '-')"},
	        {"[peer]\nname = a.b", "t.conf:4: [peer] name: 'a.b' is not a valid name (1-63 "
	                               "letters, digits or '-', not starting or ending with '-')"},
	        {"[peer]\nstate-dir = var/lib",
	         "t.conf:4: [peer] state-dir: 'var/lib' is not an absolute path of at most 992 "
	         "characters"},
	        {"[peer]\ncontrol = /tmp/"
	         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	         "xx"
	         "xxxxxxxxxxxxxxxxxxxx",
	         "t.conf:4: [peer] control: '/tmp/"
	         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not an "
	         "absolute path of at most 107 characters (the limit of a unix socket address)"},
	        {"[tun]\ndevice = 0123456789abcdef",
	         "t.conf:4: [tun] device: '0123456789abcdef' is not a valid interface name (1-15 "
	         "of letters, digits, '_', '.', '-')"},
	        {"[tun]\ndevice = a/b", "t.conf:4: [tun] device: 'a/b' is not a valid interface "
	                                "name (1-15 of letters, digits, '_', '.', '-')"},
	        {"[tun]\ndevice = ..", "t.conf:4: [tun] device: '..' is not a valid interface name "
	                               "(1-15 of letters, digits, '_', '.', '-')"},
	        {"[tun]\nlsi-prefix = 100.64.0.0",
	         "t.conf:4: [tun] lsi-prefix: '100.64.0.0' is not an IPv4 prefix (a.b.c.d/len)"},
	        {"[tun]\nlsi-prefix = 100.64.0.0/33",
	         "t.conf:4: [tun] lsi-prefix: '100.64.0.0/33' is not an IPv4 prefix (a.b.c.d/len)"},
	        {"[tun]\nlsi-prefix = 100.64.0.1/10",
	         "t.conf:4: [tun] lsi-prefix: '100.64.0.1/10' has host bits set"},
	        {"[tun]\nlsi-prefix = 100.64.0.0/26",
	         "t.conf:4: [tun] lsi-prefix: '100.64.0.0/26' has a prefix length outside 8-24"},
	        {"[tun]\nmtu = 1279", "t.conf:4: [tun] mtu: '1279' is not an MTU (1280-9000)"},
	        {"[tun]\nmtu = 9001", "t.conf:4: [tun] mtu: '9001' is not an MTU (1280-9000)"},
	        {"[dns]\naddress = 100.64.0.256",
	         "t.conf:4: [dns] address: '100.64.0.256' is not an IPv4 address"},
	        {"[dns]\nupstream = 1.2.3.4 resolver.example",
	         "t.conf:4: [dns] upstream: 'resolver.example' is not a server address (ip, "
	         "ip:port or [ipv6]:port; or auto, none)"},
	        {"[dns]\nupstream = , ,",
	         "t.conf:4: [dns] upstream: ', ,' is not auto, none or a list of server addresses"},
	        {"[dns]\nconfigure = systemd",
	         "t.conf:4: [dns] configure: 'systemd' is not one of auto, resolved, none"},
	        {"[ice]\nstun = stun.example.org:0",
	         "t.conf:4: [ice] stun: 'stun.example.org:0' has an invalid port (1-65535)"},
	        {"[ice]\nturn = stun://a:b@c",
	         "t.conf:4: [ice] turn: is not a TURN URL (turn://user:password@host:port)"},
	        {"[ice]\nturn = turn://secret@c",
	         "t.conf:4: [ice] turn: has no user:password@ (turn://user:password@host:port)"},
	        {"[ice]\nturn = turn://u:secret@bad_host",
	         "t.conf:4: [ice] turn: server 'bad_host' is not a valid host name"},
	        {"[relay]\nserve = maybe",
	         "t.conf:4: [relay] serve: 'maybe' is not one of auto, yes, no"},
	        {"[relay]\nrate = 10M",
	         "t.conf:4: [relay] rate: '10M' is not a rate in Mbit/s (0-1000000, 0: no limit)"},
	        {"[hip]\npuzzle-difficulty = 29",
	         "t.conf:4: [hip] puzzle-difficulty: '29' is not a puzzle difficulty (0-28)"},
	        {"[hip]\nretransmit-ms = 99", "t.conf:4: [hip] retransmit-ms: '99' is not a "
	                                      "retransmission timeout (100-60000 ms)"},
	        {"[hip]\nmax-retransmits = 21",
	         "t.conf:4: [hip] max-retransmits: '21' is not a retransmission count (0-20)"},
	        {"[debug]\nkey-log = keys.txt",
	         "t.conf:4: [debug] key-log: 'keys.txt' is not an absolute path of at most 1024 "
	         "characters"},
	        {"[overlay]\nbootstrap = 10.0.0.1:",
	         "t.conf:4: [overlay] bootstrap: '10.0.0.1:' has an invalid port (1-65535)"},
	        {"[overlay]\nbootstrap = 10.0.0.300",
	         "t.conf:4: [overlay] bootstrap: '10.0.0.300' is not a valid IPv4 address"},
	        {"[overlay]\nbootstrap = [10.0.0.1]:5",
	         "t.conf:4: [overlay] bootstrap: '[10.0.0.1]:5' is not a valid IPv6 address in "
	         "brackets"},
	        {"[overlay]\nbootstrap = [::1",
	         "t.conf:4: [overlay] bootstrap: '[::1' has no closing ']'"},
	        {"[overlay]\nbootstrap = [::1]x",
	         "t.conf:4: [overlay] bootstrap: '[::1]x' has junk after ']'"},
	        {"[overlay]\nbootstrap = :10500",
	         "t.conf:4: [overlay] bootstrap: ':10500' has no valid host"},
	        {"[overlay]\nbootstrap = a..b:1",
	         "t.conf:4: [overlay] bootstrap: 'a..b:1' is not a valid host name"},
	        {"[peer]\nname = a\tb", "t.conf:4: [peer] name: 'a?b' is not a valid name (1-63 "
	                                "letters, digits or '-', not starting or ending with '-')"},
	};
	char text[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[overlay]\ndomain = d\n%s\n", cases[i].line);
		assert_int_equal(load(text), -EINVAL);
		if (strcmp(err, cases[i].msg) != 0)
			fail_msg("case %zu:\n got  '%s'\n want '%s'", i, err, cases[i].msg);
	}
}

static void test_domain(void **state)
{
	char longname[300];

	assert_err(
	        "[overlay]\ndomain = ex_ample.org\n",
	        "t.conf:2: [overlay] domain: 'ex_ample.org' is not a valid domain (labels of 1-63 "
	        "letters, digits or '-', at most 253 characters)");
	assert_err("[overlay]\ndomain = a-.org\n",
	           "t.conf:2: [overlay] domain: 'a-.org' is not a valid domain (labels of 1-63 "
	           "letters, digits or '-', at most 253 characters)");
	assert_err("[overlay]\ndomain = .\n",
	           "t.conf:2: [overlay] domain: '.' is not a valid domain (labels of 1-63 "
	           "letters, digits or '-', at most 253 characters)");
	/* 64-character label */
	memset(longname, 'a', 64);
	strcpy(longname + 64, ".org");
	char text[400];
	snprintf(text, sizeof(text), "[overlay]\ndomain = %s\n", longname);
	assert_int_equal(load(text), -EINVAL);
	assert_non_null(strstr(err, "t.conf:2: [overlay] domain: 'aaaa"));
	/* 63 is fine */
	longname[63] = '.';
	memmove(longname + 63, longname + 64, strlen(longname + 64) + 1);
	snprintf(text, sizeof(text), "[overlay]\ndomain = %s\n", longname);
	assert_int_equal(load(text), 0);
}

static void test_structure_errors(void **state)
{
	assert_err("[overlay]\ndomain = d\n[peer]\nfoo = 1\n",
	           "t.conf:4: unknown key 'foo' in [peer]");
	assert_err("[overlay]\ndomain = d\n\n[pear]\nport = 1\n",
	           "t.conf:4: unknown section [pear]");
	assert_err("[overlay]\ndomain = d\n[empty]\n", "t.conf:3: unknown section [empty]");
	assert_err("domain = d\n", "t.conf:1: key 'domain' is outside of any [section]");
	assert_err("[overlay]\ndomain = d\n[peer]\nport = 1\nname = x\n[peer]\nport = 2\n",
	           "t.conf:7: [peer] port: duplicate key (first set on line 4)");
	assert_err("[overlay]\ndomain = d\ndomain = e\n",
	           "t.conf:3: [overlay] domain: duplicate key (first set on line 2)");
	assert_err("[overlay]\ndomain = d\njust words\n",
	           "t.conf:3: syntax error: expected '[section]' or 'key = value'");
	assert_err("[overlay\ndomain = d\n", "t.conf:1: syntax error: '[' without ']'");
	assert_err("[overlay] junk\ndomain = d\n",
	           "t.conf:1: syntax error: junk after section name");
	assert_err("[overlay]\ndomain = d\n  continued\n",
	           "t.conf:3: syntax error: expected '[section]' or 'key = value'");
	assert_err("[peer]\nport = 1\n", "t.conf: [overlay] domain is required");
	assert_err("", "t.conf: [overlay] domain is required");
}

static void test_syntax_accepted(void **state)
{
	/* BOM, CRLF, colon separator, comments after sections, case-insensitive names. */
	assert_int_equal(load("\xEF\xBB\xBF[OVERLAY] ; c\r\nDOMAIN: d\r\n[peer]\r\n  port=7\r\n"),
	                 0);
	assert_string_equal(cfg.domain, "d");
	assert_int_equal(cfg.port, 7);
	/* No newline at the end of the last line. */
	assert_int_equal(load("[overlay]\ndomain=d\n[tun]\nmtu=1500"), 0);
	assert_int_equal(cfg.mtu, 1500);
}

static void test_long_line(void **state)
{
	char text[600];
	char v[300];

	memset(v, 'a', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	snprintf(text, sizeof(text), "[overlay]\ndomain = d\n[peer]\nname = %s\n", v);
	assert_int_equal(load(text), -EINVAL);
	assert_string_equal(err, "t.conf:4: line too long (more than 198 characters)");

	/* 198 characters is the longest line accepted. */
	memset(v, 'a', 187);
	v[187] = '\0';
	snprintf(text, sizeof(text), "[overlay]\ndomain = d\n[debug]\nkey-log = /%s\n", v);
	assert_int_equal(strlen(strstr(text, "key-log")) - 1, 198);
	assert_int_equal(load(text), 0);
	assert_int_equal(strlen(cfg.key_log), 188);
}

static void test_bootstrap_repeat(void **state)
{
	char text[2048];
	size_t off = (size_t)snprintf(text, sizeof(text), "[overlay]\ndomain = d\n");

	for (int i = 0; i < CONFIG_MAX_BOOTSTRAP; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "bootstrap = 10.0.0.%d\n",
		                        i + 1);
	assert_int_equal(load(text), 0);
	assert_int_equal(cfg.n_bootstrap, CONFIG_MAX_BOOTSTRAP);
	assert_int_equal(cfg.bootstrap[15].port, 10500);
	assert_string_equal(cfg.bootstrap[15].host, "10.0.0.16");
	snprintf(text + off, sizeof(text) - off, "bootstrap = 10.0.1.1\n");
	assert_int_equal(load(text), -EINVAL);
	assert_string_equal(err, "t.conf:19: [overlay] bootstrap: more than 16 entries");
}

static void test_set(void **state)
{
	assert_int_equal(parse("[overlay]\nbootstrap = 10.0.0.1\nbootstrap = 10.0.0.2\n[peer]\n"
	                       "port = 5\n"),
	                 0);
	assert_int_equal(config_set(&cfg, "overlay.domain=Over.Lay", err, sizeof(err)), 0);
	assert_int_equal(config_set(&cfg, "peer.port=6", err, sizeof(err)), 0);
	assert_int_equal(config_set(&cfg, "peer.port=7", err, sizeof(err)), 0);
	assert_int_equal(config_set(&cfg, "tun.mtu=1300", err, sizeof(err)), 0);
	/* The first override of a repeatable key replaces the file's list... */
	assert_int_equal(config_set(&cfg, "overlay.bootstrap=10.0.0.3:9", err, sizeof(err)), 0);
	assert_int_equal(cfg.n_bootstrap, 1);
	/* ...later ones append. */
	assert_int_equal(config_set(&cfg, "overlay.bootstrap=10.0.0.4", err, sizeof(err)), 0);
	assert_int_equal(cfg.n_bootstrap, 2);
	assert_string_equal(cfg.bootstrap[0].host, "10.0.0.3");
	assert_int_equal(cfg.bootstrap[0].port, 9);
	assert_int_equal(config_finish(&cfg, "t.conf", NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.conf: [peer] name is not set and the host name '' is not a "
	                         "valid label; set [peer] name");
	assert_int_equal(config_set(&cfg, "Peer.Name=x", err, sizeof(err)), 0);
	assert_int_equal(config_finish(&cfg, "t.conf", NULL, err, sizeof(err)), 0);
	assert_string_equal(cfg.domain, "over.lay");
	assert_int_equal(cfg.port, 7);
	assert_int_equal(cfg.mtu, 1300);
	/* An empty value clears a list. */
	assert_int_equal(config_set(&cfg, "overlay.bootstrap=", err, sizeof(err)), 0);
	assert_int_equal(cfg.n_bootstrap, 0);
}

static void test_set_errors(void **state)
{
	static const struct {
		const char *arg;
		const char *msg;
	} cases[] = {
	        {"peer.port=70000", "command line: [peer] port: '70000' is not a port (1-65535)"},
	        {"peer.port", "command line: --set 'peer.port': expected section.key=value"},
	        {"port=1", "command line: --set 'port=1': expected section.key=value"},
	        {".port=1", "command line: --set '.port=1': expected section.key=value"},
	        {"peer.=1", "command line: --set 'peer.=1': expected section.key=value"},
	        {"pear.port=1", "command line: unknown section [pear]"},
	        {"peer.prot=1", "command line: unknown key 'prot' in [peer]"},
	        {"peer.name=", "command line: [peer] name: '' is not a valid name (1-63 letters, "
	                       "digits or '-', not starting or ending with '-')"},
	        {"ice.turn=turn://u:hunter2@",
	         "command line: [ice] turn: server '' has no valid host"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_init(&cfg);
		cfg.port = 42;
		assert_int_equal(config_set(&cfg, cases[i].arg, err, sizeof(err)), -EINVAL);
		if (strcmp(err, cases[i].msg) != 0)
			fail_msg("case %zu:\n got  '%s'\n want '%s'", i, err, cases[i].msg);
		assert_int_equal(cfg.port, 42); /* untouched */
		assert_null(strstr(err, "hunter2"));
	}
}

static void test_hostname_default(void **state)
{
	assert_int_equal(parse("[overlay]\ndomain=d\n"), 0);
	assert_int_equal(config_finish(&cfg, "t.conf", "JUPITER", err, sizeof(err)), 0);
	assert_string_equal(cfg.name, "jupiter");
	assert_int_equal(parse("[overlay]\ndomain=d\n"), 0);
	assert_int_equal(config_finish(&cfg, "t.conf", "bad_host.lan", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.conf: [peer] name is not set and the host name 'bad_host.lan' "
	                         "is not a valid label; set [peer] name");
}

static void test_cross_checks(void **state)
{
	assert_err("[overlay]\ndomain=d\n[dns]\naddress=10.0.0.53\n",
	           "t.conf: [dns] address 10.0.0.53 is outside [tun] lsi-prefix 100.64.0.0/10");
	assert_int_equal(load("[overlay]\ndomain=d\n[dns]\naddress=10.0.0.53\n[tun]\n"
	                      "lsi-prefix=10.0.0.0/8\n"),
	                 0);
}

static void test_file(void **state)
{
	char path[] = "/tmp/test_config_XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "[overlay]\ndomain = d\n[peer]\nport = 70000\n";
	static const char nul[] = "[overlay]\ndomain = d\n\0x\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(config_parse_file(path, &cfg, err, sizeof(err)), -EINVAL);
	char want[256];
	snprintf(want, sizeof(want), "%s:4: [peer] port: '70000' is not a port (1-65535)", path);
	assert_string_equal(err, want);

	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, nul, sizeof(nul) - 1, 0), (ssize_t)sizeof(nul) - 1);
	assert_int_equal(config_parse_file(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: NUL byte in the file", path);
	assert_string_equal(err, want);

	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, full, strlen(full), 0), (ssize_t)strlen(full));
	assert_int_equal(config_parse_file(path, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.port, 4000);
	close(fd);
	unlink(path);

	assert_int_equal(config_parse_file("/nonexistent/idloc.conf", &cfg, err, sizeof(err)),
	                 -ENOENT);
	assert_string_equal(err, "/nonexistent/idloc.conf: cannot open: No such file or directory");
	assert_int_equal(config_parse_file("/tmp", &cfg, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_defaults),
	        cmocka_unit_test(test_every_key),
	        cmocka_unit_test(test_enums),
	        cmocka_unit_test(test_invalid_values),
	        cmocka_unit_test(test_domain),
	        cmocka_unit_test(test_structure_errors),
	        cmocka_unit_test(test_syntax_accepted),
	        cmocka_unit_test(test_long_line),
	        cmocka_unit_test(test_bootstrap_repeat),
	        cmocka_unit_test(test_set),
	        cmocka_unit_test(test_set_errors),
	        cmocka_unit_test(test_hostname_default),
	        cmocka_unit_test(test_cross_checks),
	        cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
