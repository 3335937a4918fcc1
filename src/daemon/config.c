/* SPDX-License-Identifier: MIT */
/* config.c: idlocd's configuration: the INI file, command-line overrides, validation. */
#include "daemon/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/dnsname.h"

#define CONFIG_FILE_MAX (1u << 20)
#define SHOW_MAX        64 /* how much of a bad value an error message quotes */
#define WHY_MAX         256
#define FORMAT(f, a)    __attribute__((format(printf, f, a)))

/* Parses value into cfg, or writes what is wrong (without the "[section] key: "
 * prefix) into why and returns -EINVAL. Repeatable keys append. */
typedef int (*key_parse_fn)(struct config *cfg, const char *v, char *why, size_t n);

struct key {
	const char *section;
	const char *name;
	key_parse_fn parse;
	void (*clear)(struct config *cfg); /* repeatable keys only */
};

static const char *const sections[] = {"overlay", "peer",  "tun", "dns",
                                       "ice",     "relay", "hip", "debug"};

/* ---- value helpers ---- */

/* Copies v for an error message: printable ASCII only, bounded. */
static const char *show(const char *v, char buf[SHOW_MAX + 4])
{
	size_t i;

	for (i = 0; v[i] && i < SHOW_MAX; i++) {
		unsigned char c = (unsigned char)v[i];
		buf[i] = (c < 0x20 || c >= 0x7f || c == '\'') ? '?' : (char)c;
	}
	buf[i] = '\0';
	if (v[i])
		strcpy(buf + i, "...");
	return buf;
}

static int FORMAT(4, 5) invalid(char *why, size_t n, const char *v, const char *fmt, ...)
{
	char s[SHOW_MAX + 4];
	size_t used;
	va_list ap;
	int r;

	r = snprintf(why, n, "'%s' ", show(v, s));
	used = r < 0 ? 0 : ((size_t)r < n ? (size_t)r : n - 1);
	va_start(ap, fmt);
	vsnprintf(why + used, n - used, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Strict unsigned decimal: digits only, no sign, no spaces, no overflow. */
static int parse_u32(const char *s, uint32_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	*ret = (uint32_t)v;
	return 0;
}

static int parse_range(const char *s, uint32_t min, uint32_t max, uint32_t *ret)
{
	uint32_t v;

	if (parse_u32(s, &v) < 0 || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* True when the last label is all digits: such a name is a mistyped IPv4
 * address, never a host name (RFC 3696 section 2). */
static bool looks_numeric(const char *s)
{
	const char *last = strrchr(s, '.');
	last = last ? last + 1 : s;
	if (!*last)
		return false;
	for (; *last; last++)
		if (*last < '0' || *last > '9')
			return false;
	return true;
}

static bool path_valid(const char *v, size_t max)
{
	return v[0] == '/' && strlen(v) <= max;
}

/* host:port, [v6]:port, v6 (bare), host. port_default applies when no port is
 * given. Names are allowed only when allow_names. */
static int parse_endpoint(const char *v, uint16_t port_default, bool allow_names,
                          struct config_endpoint *ret, char *why, size_t n)
{
	struct config_endpoint ep = {.port = port_default};
	const char *host, *port = NULL;
	size_t hostlen;
	const char *colon = strchr(v, ':');

	if (v[0] == '[') {
		const char *close = strchr(v, ']');
		if (!close)
			return invalid(why, n, v, "has no closing ']'");
		host = v + 1;
		hostlen = (size_t)(close - host);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return invalid(why, n, v, "has junk after ']'");
	} else if (colon && strchr(colon + 1, ':')) {
		host = v; /* bare IPv6 literal: no port possible */
		hostlen = strlen(v);
	} else {
		host = v;
		hostlen = colon ? (size_t)(colon - v) : strlen(v);
		if (colon)
			port = colon + 1;
	}
	if (hostlen == 0 || hostlen > CONFIG_DOMAIN_MAX)
		return invalid(why, n, v, "has no valid host");
	memcpy(ep.host, host, hostlen);
	ep.host[hostlen] = '\0';
	if (port) {
		uint32_t p;
		if (parse_range(port, 1, 65535, &p) < 0)
			return invalid(why, n, v, "has an invalid port (1-65535)");
		ep.port = (uint16_t)p;
	}

	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ep.addr;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ep.addr;
	if (inet_pton(AF_INET6, ep.host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(ep.port);
		ep.addrlen = sizeof(*s6);
		ep.literal = true;
	} else if (v[0] == '[') {
		return invalid(why, n, v, "is not a valid IPv6 address in brackets");
	} else if (inet_pton(AF_INET, ep.host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(ep.port);
		ep.addrlen = sizeof(*s4);
		ep.literal = true;
	} else if (looks_numeric(ep.host)) {
		return invalid(why, n, v, "is not a valid IPv4 address");
	} else if (!allow_names) {
		return invalid(why, n, v, "is not an IP address");
	} else if (dns_name_normalize(ep.host, ep.host) < 0) {
		return invalid(why, n, v, "is not a valid host name");
	}
	*ret = ep;
	return 0;
}

static int parse_ipv4(const char *v, uint32_t *ret)
{
	struct in_addr a;

	if (inet_pton(AF_INET, v, &a) != 1)
		return -EINVAL;
	*ret = ntohl(a.s_addr);
	return 0;
}

static int enum_lookup(const char *v, const char *const *names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strcasecmp(v, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

/* ---- [overlay] ---- */

static int parse_domain(struct config *cfg, const char *v, char *why, size_t n)
{
	if (dns_name_normalize(v, cfg->domain) < 0)
		return invalid(why, n, v,
		               "is not a valid domain (labels of 1-63 letters, digits or '-', "
		               "at most 253 characters)");
	return 0;
}

static int parse_bootstrap(struct config *cfg, const char *v, char *why, size_t n)
{
	if (cfg->n_bootstrap == CONFIG_MAX_BOOTSTRAP) {
		snprintf(why, n, "more than %d entries", CONFIG_MAX_BOOTSTRAP);
		return -EINVAL;
	}
	int r = parse_endpoint(v, CONFIG_DEFAULT_PORT, true, &cfg->bootstrap[cfg->n_bootstrap], why,
	                       n);
	if (r < 0)
		return r;
	cfg->n_bootstrap++;
	return 0;
}

static void clear_bootstrap(struct config *cfg)
{
	cfg->n_bootstrap = 0;
}

/* ---- [peer] ---- */

static int parse_name(struct config *cfg, const char *v, char *why, size_t n)
{
	size_t len = strlen(v);

	if (!dns_label_valid(v, len))
		return invalid(why, n, v,
		               "is not a valid name (1-63 letters, digits or '-', not starting "
		               "or ending with '-')");
	for (size_t i = 0; i <= len; i++)
		cfg->name[i] = (char)tolower((unsigned char)v[i]);
	return 0;
}

static int parse_port(struct config *cfg, const char *v, char *why, size_t n)
{
	uint32_t p;

	if (parse_range(v, 1, 65535, &p) < 0)
		return invalid(why, n, v, "is not a port (1-65535)");
	cfg->port = (uint16_t)p;
	return 0;
}

static int parse_state_dir(struct config *cfg, const char *v, char *why, size_t n)
{
	/* Leave room for the file names the daemon puts inside. */
	if (!path_valid(v, CONFIG_PATH_MAX - 32))
		return invalid(why, n, v, "is not an absolute path of at most %d characters",
		               CONFIG_PATH_MAX - 32);
	strcpy(cfg->state_dir, v);
	return 0;
}

static int parse_control(struct config *cfg, const char *v, char *why, size_t n)
{
	if (!path_valid(v, CONFIG_SUN_PATH_MAX))
		return invalid(why, n, v,
		               "is not an absolute path of at most %d characters (the limit of "
		               "a unix socket address)",
		               CONFIG_SUN_PATH_MAX);
	strcpy(cfg->control, v);
	return 0;
}

/* A user name as useradd(8) accepts it: [a-z_][a-z0-9_-]*[$]?, at most 32. */
static bool user_valid(const char *v)
{
	size_t len = strlen(v);

	if (len == 0 || len > CONFIG_USER_MAX || !(islower((unsigned char)v[0]) || v[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (!(islower(c) || isdigit(c) || c == '_' || c == '-' ||
		      (c == '$' && i == len - 1)))
			return false;
	}
	return true;
}

static int parse_user(struct config *cfg, const char *v, char *why, size_t n)
{
	if (!user_valid(v))
		return invalid(why, n, v, "is not a user name");
	strcpy(cfg->user, v);
	return 0;
}

/* ---- [tun] ---- */

static int parse_device(struct config *cfg, const char *v, char *why, size_t n)
{
	size_t len = strlen(v);
	bool ok =
	        len > 0 && len <= CONFIG_IFNAME_MAX && strcmp(v, ".") != 0 && strcmp(v, "..") != 0;

	for (size_t i = 0; ok && i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		ok = isascii(c) && (isalnum(c) || c == '_' || c == '.' || c == '-');
	}
	if (!ok)
		return invalid(why, n, v,
		               "is not a valid interface name (1-15 of letters, digits, '_', "
		               "'.', '-')");
	strcpy(cfg->device, v);
	return 0;
}

static int parse_lsi_prefix(struct config *cfg, const char *v, char *why, size_t n)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(v, '/');
	uint32_t a, len;

	if (!slash || (size_t)(slash - v) >= sizeof(addr))
		return invalid(why, n, v, "is not an IPv4 prefix (a.b.c.d/len)");
	memcpy(addr, v, (size_t)(slash - v));
	addr[slash - v] = '\0';
	if (parse_ipv4(addr, &a) < 0 || parse_range(slash + 1, 0, 32, &len) < 0)
		return invalid(why, n, v, "is not an IPv4 prefix (a.b.c.d/len)");
	if (len < 8 || len > 24)
		return invalid(why, n, v, "has a prefix length outside 8-24");
	if (a & (UINT32_MAX >> len))
		return invalid(why, n, v, "has host bits set");
	cfg->lsi_prefix = a;
	cfg->lsi_prefix_len = (uint8_t)len;
	return 0;
}

static int parse_mtu(struct config *cfg, const char *v, char *why, size_t n)
{
	uint32_t m;

	if (parse_range(v, CONFIG_MTU_MIN, CONFIG_MTU_MAX, &m) < 0)
		return invalid(why, n, v, "is not an MTU (%d-%d)", CONFIG_MTU_MIN, CONFIG_MTU_MAX);
	cfg->mtu = m;
	return 0;
}

/* ---- [dns] ---- */

static int parse_dns_address(struct config *cfg, const char *v, char *why, size_t n)
{
	if (parse_ipv4(v, &cfg->dns_address) < 0)
		return invalid(why, n, v, "is not an IPv4 address");
	return 0;
}

static int parse_upstream(struct config *cfg, const char *v, char *why, size_t n)
{
	static const char *const modes[] = {
	        [CONFIG_UPSTREAM_AUTO] = "auto", [CONFIG_UPSTREAM_NONE] = "none"};
	struct config_endpoint list[CONFIG_MAX_UPSTREAM];
	size_t count = 0;
	int r = enum_lookup(v, modes, ARRAY_SIZE(modes));

	if (r >= 0) {
		cfg->upstream = (enum config_upstream)r;
		cfg->n_upstream = 0;
		return 0;
	}
	for (const char *p = v; *p;) {
		char item[CONFIG_DOMAIN_MAX + 16];
		size_t len = strcspn(p, ", \t");

		if (len == 0) {
			p++;
			continue;
		}
		if (count == CONFIG_MAX_UPSTREAM)
			return invalid(why, n, v, "has more than %d servers", CONFIG_MAX_UPSTREAM);
		if (len >= sizeof(item))
			return invalid(why, n, v, "has an entry that is too long");
		memcpy(item, p, len);
		item[len] = '\0';
		r = parse_endpoint(item, CONFIG_DNS_PORT, false, &list[count], why, n);
		if (r < 0)
			return invalid(why, n, item,
			               "is not a server address (ip, ip:port or [ipv6]:port; or "
			               "auto, none)");
		count++;
		p += len;
	}
	if (count == 0)
		return invalid(why, n, v, "is not auto, none or a list of server addresses");
	memcpy(cfg->upstream_servers, list, count * sizeof(list[0]));
	cfg->n_upstream = count;
	cfg->upstream = CONFIG_UPSTREAM_LIST;
	return 0;
}

static const char *const dns_configure_names[] = {
        [CONFIG_DNS_CONFIGURE_AUTO] = "auto",
        [CONFIG_DNS_CONFIGURE_RESOLVED] = "resolved",
        [CONFIG_DNS_CONFIGURE_NONE] = "none",
};

static int parse_dns_configure(struct config *cfg, const char *v, char *why, size_t n)
{
	int r = enum_lookup(v, dns_configure_names, ARRAY_SIZE(dns_configure_names));

	if (r < 0)
		return invalid(why, n, v, "is not one of auto, resolved, none");
	cfg->dns_configure = (enum config_dns_configure)r;
	return 0;
}

/* ---- [ice] ---- */

static int parse_stun(struct config *cfg, const char *v, char *why, size_t n)
{
	if (cfg->n_stun == CONFIG_MAX_ICE) {
		snprintf(why, n, "more than %d entries", CONFIG_MAX_ICE);
		return -EINVAL;
	}
	int r = parse_endpoint(v, CONFIG_STUN_PORT, true, &cfg->stun[cfg->n_stun], why, n);
	if (r < 0)
		return r;
	cfg->n_stun++;
	return 0;
}

static void clear_stun(struct config *cfg)
{
	cfg->n_stun = 0;
}

static int parse_turn(struct config *cfg, const char *v, char *why, size_t n)
{
	static const char scheme[] = "turn://";
	struct config_turn t = {0};
	const char *rest, *at, *colon;
	char hostwhy[WHY_MAX];

	/* Messages here never quote the value: it holds a password. */
	if (cfg->n_turn == CONFIG_MAX_ICE) {
		snprintf(why, n, "more than %d entries", CONFIG_MAX_ICE);
		return -EINVAL;
	}
	if (strncasecmp(v, scheme, sizeof(scheme) - 1) != 0) {
		snprintf(why, n, "is not a TURN URL (turn://user:password@host:port)");
		return -EINVAL;
	}
	rest = v + sizeof(scheme) - 1;
	/* The password may contain '@'; the host never does. */
	at = strrchr(rest, '@');
	colon = at ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
	if (!at || !colon || colon == rest || colon + 1 == at) {
		snprintf(why, n, "has no user:password@ (turn://user:password@host:port)");
		return -EINVAL;
	}
	if ((size_t)(colon - rest) > CONFIG_CRED_MAX ||
	    (size_t)(at - colon - 1) > CONFIG_CRED_MAX) {
		snprintf(why, n, "has a user or password longer than %d characters",
		         CONFIG_CRED_MAX);
		return -EINVAL;
	}
	if (parse_endpoint(at + 1, CONFIG_STUN_PORT, true, &t.server, hostwhy, sizeof(hostwhy)) <
	    0) {
		snprintf(why, n, "server %s", hostwhy);
		return -EINVAL;
	}
	memcpy(t.user, rest, (size_t)(colon - rest));
	memcpy(t.password, colon + 1, (size_t)(at - colon - 1));
	cfg->turn[cfg->n_turn++] = t;
	memzero(&t, sizeof(t));
	return 0;
}

static void clear_turn(struct config *cfg)
{
	memzero(cfg->turn, sizeof(cfg->turn));
	cfg->n_turn = 0;
}

/* ---- [relay] ---- */

static const char *const relay_names[] = {
        [CONFIG_RELAY_AUTO] = "auto",
        [CONFIG_RELAY_YES] = "yes",
        [CONFIG_RELAY_NO] = "no",
};

static int parse_serve(struct config *cfg, const char *v, char *why, size_t n)
{
	int r = enum_lookup(v, relay_names, ARRAY_SIZE(relay_names));

	if (r < 0)
		return invalid(why, n, v, "is not one of auto, yes, no");
	cfg->relay_serve = (enum config_relay)r;
	return 0;
}

static int parse_relay_port(struct config *cfg, const char *v, char *why, size_t n)
{
	uint32_t p;

	if (parse_range(v, 1, 65535, &p) < 0)
		return invalid(why, n, v, "is not a port (1-65535)");
	cfg->relay_port = (uint16_t)p;
	return 0;
}

static int parse_relay_rate(struct config *cfg, const char *v, char *why, size_t n)
{
	if (parse_range(v, 0, 1000000, &cfg->relay_rate) < 0)
		return invalid(why, n, v, "is not a rate in Mbit/s (0-1000000, 0: no limit)");
	return 0;
}

/* ---- [hip] ---- */

static int parse_puzzle(struct config *cfg, const char *v, char *why, size_t n)
{
	uint32_t k;

	if (parse_range(v, 0, CONFIG_PUZZLE_MAX, &k) < 0)
		return invalid(why, n, v, "is not a puzzle difficulty (0-%d)", CONFIG_PUZZLE_MAX);
	cfg->puzzle_difficulty = k;
	return 0;
}

static int parse_retransmit_ms(struct config *cfg, const char *v, char *why, size_t n)
{
	uint32_t ms;

	if (parse_range(v, 100, 60000, &ms) < 0)
		return invalid(why, n, v, "is not a retransmission timeout (100-60000 ms)");
	cfg->retransmit_ms = ms;
	return 0;
}

static int parse_max_retransmits(struct config *cfg, const char *v, char *why, size_t n)
{
	uint32_t c;

	if (parse_range(v, 0, 20, &c) < 0)
		return invalid(why, n, v, "is not a retransmission count (0-20)");
	cfg->max_retransmits = c;
	return 0;
}

static int parse_keepalive(struct config *cfg, const char *v, char *why, size_t n)
{
	uint32_t s;

	if (parse_range(v, 1, 600, &s) < 0)
		return invalid(why, n, v, "is not a keepalive interval (1-600 s)");
	cfg->keepalive_ms = (uint64_t)s * 1000;
	return 0;
}

static int parse_idle_timeout(struct config *cfg, const char *v, char *why, size_t n)
{
	uint32_t s;

	if (parse_range(v, 0, 86400, &s) < 0)
		return invalid(why, n, v, "is not an idle timeout (0-86400 s, 0: never)");
	cfg->idle_timeout_ms = (uint64_t)s * 1000;
	return 0;
}

/* ---- [debug] ---- */

static int parse_key_log(struct config *cfg, const char *v, char *why, size_t n)
{
	if (!path_valid(v, CONFIG_PATH_MAX))
		return invalid(why, n, v, "is not an absolute path of at most %d characters",
		               CONFIG_PATH_MAX);
	strcpy(cfg->key_log, v);
	return 0;
}

static const struct key keys[] = {
        {"overlay", "domain", parse_domain, NULL},
        {"overlay", "bootstrap", parse_bootstrap, clear_bootstrap},
        {"peer", "name", parse_name, NULL},
        {"peer", "port", parse_port, NULL},
        {"peer", "state-dir", parse_state_dir, NULL},
        {"peer", "control", parse_control, NULL},
        {"peer", "keepalive-interval", parse_keepalive, NULL},
        {"peer", "user", parse_user, NULL},
        {"tun", "device", parse_device, NULL},
        {"tun", "lsi-prefix", parse_lsi_prefix, NULL},
        {"tun", "mtu", parse_mtu, NULL},
        {"dns", "address", parse_dns_address, NULL},
        {"dns", "upstream", parse_upstream, NULL},
        {"dns", "configure", parse_dns_configure, NULL},
        {"ice", "stun", parse_stun, clear_stun},
        {"ice", "turn", parse_turn, clear_turn},
        {"relay", "serve", parse_serve, NULL},
        {"relay", "port", parse_relay_port, NULL},
        {"relay", "rate", parse_relay_rate, NULL},
        {"hip", "puzzle-difficulty", parse_puzzle, NULL},
        {"hip", "retransmit-ms", parse_retransmit_ms, NULL},
        {"hip", "max-retransmits", parse_max_retransmits, NULL},
        {"hip", "idle-timeout", parse_idle_timeout, NULL},
        {"debug", "key-log", parse_key_log, NULL},
};

_Static_assert(ARRAY_SIZE(keys) <= 32, "cmdline_replaced is a 32-bit mask");

static bool section_known(const char *s, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		if (strlen(sections[i]) == len && strncasecmp(s, sections[i], len) == 0)
			return true;
	return false;
}

static const struct key *key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcasecmp(keys[i].section, section) == 0 &&
		    strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* ---- public ---- */

void config_init(struct config *cfg)
{
	*cfg = (struct config){
	        .port = CONFIG_DEFAULT_PORT,
	        .state_dir = IDLOC_DEFAULT_STATE_DIR,
	        .control = IDLOC_DEFAULT_CONTROL,
	        .device = IDLOC_DEFAULT_TUN,
	        .lsi_prefix = UINT32_C(100) << 24 | UINT32_C(64) << 16, /* 100.64.0.0/10 */
	        .lsi_prefix_len = 10,
	        .mtu = 1400,
	        .dns_address = UINT32_C(100) << 24 | UINT32_C(64) << 16 | 53, /* 100.64.0.53 */
	        .upstream = CONFIG_UPSTREAM_AUTO,
	        .dns_configure = CONFIG_DNS_CONFIGURE_AUTO,
	        .relay_serve = CONFIG_RELAY_AUTO,
	        .relay_port = 3478,
	        .puzzle_difficulty = 0,
	        .retransmit_ms = 1000,
	        .max_retransmits = 5,
	        .idle_timeout_ms = 600 * 1000,
	        .keepalive_ms = 15 * 1000,
	};
}

struct parse_ctx {
	struct config *cfg;
	const char *filename;
	const char *pos; /* reader position in the text */
	unsigned line;   /* line the reader last returned */
	unsigned first_line[ARRAY_SIZE(keys)];
	char *err;
	size_t errlen;
	bool failed;
};

static int FORMAT(2, 3) ctx_fail(struct parse_ctx *c, const char *fmt, ...)
{
	char what[WHY_MAX + 128];
	va_list ap;

	if (c->failed)
		return 0;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%u: %s", c->filename, c->line, what);
	c->failed = true;
	return 0;
}

/* Checks a "[section]" line; inih itself accepts junk after ']' and unknown
 * sections without keys, which would hide typos. */
static void check_section_line(struct parse_ctx *c, const char *line, size_t len)
{
	const char *p = line, *end = line + len, *close;
	char s[SHOW_MAX + 4], name[SHOW_MAX + 1];
	size_t nl;

	if (c->line == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3; /* inih skips a UTF-8 BOM */
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end || *p != '[')
		return;
	close = memchr(p, ']', (size_t)(end - p));
	if (!close) {
		ctx_fail(c, "syntax error: '[' without ']'");
		return;
	}
	nl = (size_t)(close - p - 1);
	if (!section_known(p + 1, nl)) {
		nl = nl < SHOW_MAX ? nl : SHOW_MAX;
		memcpy(name, p + 1, nl);
		name[nl] = '\0';
		ctx_fail(c, "unknown section [%s]", show(name, s));
		return;
	}
	for (p = close + 1; p < end && isspace((unsigned char)*p); p++)
		;
	if (p < end && *p != ';' && *p != '#')
		ctx_fail(c, "syntax error: junk after section name");
}

/* inih reader: one line per call, so our line count matches inih's. A line too
 * long for inih's buffer would be split by it into two lines; refuse instead. */
static char *ctx_read_line(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	size_t len, take;

	if (c->failed || !*c->pos)
		return NULL;
	c->line++;
	len = strcspn(c->pos, "\n");
	take = len + (c->pos[len] == '\n');
	if (num < 3 || len > (size_t)num - 2) {
		ctx_fail(c, "line too long (more than %d characters)", num - 2);
		return NULL;
	}
	memcpy(str, c->pos, take);
	str[take] = '\0';
	check_section_line(c, c->pos, len);
	c->pos += take;
	return c->failed ? NULL : str;
}

static int ctx_handle(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;
	char s[SHOW_MAX + 4], s2[SHOW_MAX + 4], why[WHY_MAX];
	const struct key *k;
	size_t i;

	if (c->failed)
		return 0;
	if (!section[0])
		return ctx_fail(c, "key '%s' is outside of any [section]", show(name, s));
	k = key_find(section, name);
	if (!k)
		return ctx_fail(c, "unknown key '%s' in [%s]", show(name, s), show(section, s2));
	i = (size_t)(k - keys);
	if (!k->clear && c->first_line[i])
		return ctx_fail(c, "[%s] %s: duplicate key (first set on line %u)", k->section,
		                k->name, c->first_line[i]);
	if (k->parse(c->cfg, value, why, sizeof(why)) < 0)
		return ctx_fail(c, "[%s] %s: %s", k->section, k->name, why);
	if (!c->first_line[i])
		c->first_line[i] = c->line;
	return 1;
}

int config_parse_string(const char *text, const char *filename, struct config *cfg, char *err,
                        size_t errlen)
{
	struct parse_ctx c = {
	        .cfg = cfg, .filename = filename, .pos = text, .err = err, .errlen = errlen};
	int r;

	config_init(cfg);
	/* Continuation lines would call the handler twice for one key and make
	 * "duplicate key" errors unexplainable; indentation is just whitespace. */
	ini_allow_multiline = false;
	ini_stop_on_first_error = true;
	ini_allow_no_value = false;
	r = ini_parse_stream(ctx_read_line, &c, ctx_handle, &c);
	if (c.failed)
		return -EINVAL;
	if (r != 0) {
		c.line = r > 0 ? (unsigned)r : c.line;
		ctx_fail(&c, "syntax error: expected '[section]' or 'key = value'");
		return -EINVAL;
	}
	return 0;
}

int config_parse_file(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct stat st;
	char *text;
	size_t len = 0;
	const char *nul;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		r = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		snprintf(err, errlen, "%s: not a regular file of at most 1 MiB", path);
		close(fd);
		return r;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (len < (size_t)st.st_size) {
		ssize_t got = read(fd, text + len, (size_t)st.st_size - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = got < 0 ? -errno : -EIO;
			snprintf(err, errlen, "%s: read failed: %s", path, strerror(-r));
			free(text);
			close(fd);
			return r;
		}
		len += (size_t)got;
	}
	close(fd);
	text[len] = '\0';
	nul = memchr(text, '\0', len);
	if (nul) {
		unsigned line = 1;
		for (const char *p = text; p < nul; p++)
			line += *p == '\n';
		snprintf(err, errlen, "%s:%u: NUL byte in the file", path, line);
		free(text);
		return -EINVAL;
	}
	r = config_parse_string(text, path, cfg, err, errlen);
	free(text);
	return r;
}

int config_set(struct config *cfg, const char *assignment, char *err, size_t errlen)
{
	char s[SHOW_MAX + 4], s2[SHOW_MAX + 4], why[WHY_MAX];
	char section[32], name[32];
	const char *eq = strchr(assignment, '='), *dot = strchr(assignment, '.');
	const struct key *k;
	struct config *tmp;
	size_t i;

	if (!eq || !dot || dot > eq || (size_t)(dot - assignment) >= sizeof(section) ||
	    (size_t)(eq - dot - 1) >= sizeof(name) || dot == assignment || eq == dot + 1) {
		snprintf(err, errlen, "command line: --set '%s': expected section.key=value",
		         show(assignment, s));
		return -EINVAL;
	}
	memcpy(section, assignment, (size_t)(dot - assignment));
	section[dot - assignment] = '\0';
	memcpy(name, dot + 1, (size_t)(eq - dot - 1));
	name[eq - dot - 1] = '\0';
	if (!section_known(section, strlen(section))) {
		snprintf(err, errlen, "command line: unknown section [%s]", show(section, s));
		return -EINVAL;
	}
	k = key_find(section, name);
	if (!k) {
		snprintf(err, errlen, "command line: unknown key '%s' in [%s]", show(name, s),
		         show(section, s2));
		return -EINVAL;
	}
	/* Work on a copy so a failed override leaves cfg as it was. */
	tmp = malloc(sizeof(*tmp));
	if (!tmp) {
		snprintf(err, errlen, "command line: out of memory");
		return -ENOMEM;
	}
	*tmp = *cfg;
	i = (size_t)(k - keys);
	if (k->clear && !(tmp->cmdline_replaced & (UINT32_C(1) << i))) {
		k->clear(tmp);
		tmp->cmdline_replaced |= UINT32_C(1) << i;
	}
	if (k->clear && !eq[1])
		k->clear(tmp);
	else if (k->parse(tmp, eq + 1, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "command line: [%s] %s: %s", k->section, k->name, why);
		memzero(tmp, sizeof(*tmp));
		free(tmp);
		return -EINVAL;
	}
	*cfg = *tmp;
	memzero(tmp, sizeof(*tmp)); /* may hold TURN passwords */
	free(tmp);
	return 0;
}

static bool lsi_contains(const struct config *cfg, uint32_t a)
{
	uint32_t mask = cfg->lsi_prefix_len ? UINT32_MAX << (32 - cfg->lsi_prefix_len) : 0;

	return (a & mask) == cfg->lsi_prefix;
}

int config_finish(struct config *cfg, const char *filename, const char *hostname, char *err,
                  size_t errlen)
{
	char s[SHOW_MAX + 4], why[WHY_MAX];

	if (!cfg->domain[0]) {
		snprintf(err, errlen, "%s: [overlay] domain is required", filename);
		return -EINVAL;
	}
	if (!cfg->name[0]) {
		char label[CONFIG_LABEL_MAX + 2] = "";
		size_t len = hostname ? strcspn(hostname, ".") : 0;

		if (len > CONFIG_LABEL_MAX)
			len = CONFIG_LABEL_MAX + 1; /* too long: invalid below */
		if (hostname)
			memcpy(label, hostname, len);
		label[len] = '\0';
		if (parse_name(cfg, label, why, sizeof(why)) < 0) {
			snprintf(err, errlen,
			         "%s: [peer] name is not set and the host name '%s' is not a "
			         "valid label; set [peer] name",
			         filename, show(hostname ? hostname : "", s));
			return -EINVAL;
		}
	}
	if (!lsi_contains(cfg, cfg->dns_address)) {
		char a[INET_ADDRSTRLEN], p[INET_ADDRSTRLEN];
		struct in_addr ia = {htonl(cfg->dns_address)}, ip = {htonl(cfg->lsi_prefix)};

		inet_ntop(AF_INET, &ia, a, sizeof(a));
		inet_ntop(AF_INET, &ip, p, sizeof(p));
		snprintf(err, errlen, "%s: [dns] address %s is outside [tun] lsi-prefix %s/%u",
		         filename, a, p, cfg->lsi_prefix_len);
		return -EINVAL;
	}
	return 0;
}

const char *config_upstream_to_string(enum config_upstream u)
{
	switch (u) {
	case CONFIG_UPSTREAM_AUTO:
		return "auto";
	case CONFIG_UPSTREAM_NONE:
		return "none";
	case CONFIG_UPSTREAM_LIST:
		return "list";
	}
	return "?";
}

const char *config_dns_configure_to_string(enum config_dns_configure c)
{
	return (size_t)c < ARRAY_SIZE(dns_configure_names) ? dns_configure_names[c] : "?";
}

const char *config_relay_to_string(enum config_relay r)
{
	return (size_t)r < ARRAY_SIZE(relay_names) ? relay_names[r] : "?";
}

const char *config_endpoint_format(const struct config_endpoint *ep, char *buf, size_t len)
{
	bool v6 = ep->literal && ep->addr.ss_family == AF_INET6;

	snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", ep->host, ep->port);
	return buf;
}
