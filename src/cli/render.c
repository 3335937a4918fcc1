/* SPDX-License-Identifier: MIT */
/* render.c: the daemon's answers as aligned text or pretty JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/render.h"

#define KEY_WIDTH 10
#define CELL_MAX  128 /* bytes of one table cell or value, NUL included */

#define MSG_MAX 1280 /* bytes of a log message or a long detail, NUL included */

#define C_BOLD   "\033[1m"
#define C_DIM    "\033[2m"
#define C_RED    "\033[31m"
#define C_GREEN  "\033[32m"
#define C_YELLOW "\033[33m"
#define C_RESET  "\033[0m"

struct out {
	FILE *f;
	bool color;
};

/* Copies s into dst (cap bytes, at least 4) for a terminal: C0 and C1
 * control characters become '?', so an answer cannot drive the terminal; a
 * value that does not fit ends in "...", cut between characters. */
static const char *clean_into(const char *s, char *dst, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t limit = strlen(s) < cap ? cap - 1 : cap - 4, i = 0;

	while (*p) {
		size_t n = 1;
		while (n < 4 && (p[n] & 0xc0) == 0x80)
			n++;
		if (i + n > limit)
			break;
		if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && n == 2 && p[1] <= 0x9f)) {
			dst[i++] = '?';
		} else {
			memcpy(dst + i, p, n);
			i += n;
		}
		p += n;
	}
	if (*p) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
	return dst;
}

static const char *clean(const char *s, char dst[CELL_MAX])
{
	return clean_into(s, dst, CELL_MAX);
}

/* Terminal columns of a cleaned string: one per character. */
static size_t width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static const char *integer(const json_t *o, const char *key, char buf[CELL_MAX])
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return NULL;
	snprintf(buf, CELL_MAX, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return buf;
}

static const char *yes_no(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v))
		return NULL;
	return json_is_true(v) ? "yes" : "no";
}

static const char *bytes(const json_t *o, const char *key, char buf[CELL_MAX])
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	const json_t *v = json_object_get(o, key);
	double n;
	size_t u = 0;

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return NULL;
	if (json_integer_value(v) < 1024) {
		snprintf(buf, CELL_MAX, "%" JSON_INTEGER_FORMAT " B", json_integer_value(v));
		return buf;
	}
	n = (double)json_integer_value(v) / 1024;
	while (n >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		n /= 1024;
		u++;
	}
	snprintf(buf, CELL_MAX, "%.1f %s", n, units[u]);
	return buf;
}

static const char *milliseconds(const json_t *o, const char *key, char buf[CELL_MAX])
{
	const json_t *v = json_object_get(o, key);
	double ms;

	if (!json_is_number(v))
		return NULL;
	ms = json_number_value(v);
	if (ms < 0 || ms > 1e9)
		return NULL;
	snprintf(buf, CELL_MAX, ms < 100 ? "%.1f ms" : "%.0f ms", ms);
	return buf;
}

/* The two largest units: "3d 4h", "4h 5m", "5m 6s", "6s". */
static const char *duration(const json_t *o, const char *key, char buf[CELL_MAX])
{
	static const struct {
		long long secs;
		char unit;
	} u[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	const json_t *v = json_object_get(o, key);
	long long s;

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return NULL;
	s = json_integer_value(v);
	for (size_t i = 0; i + 1 < sizeof(u) / sizeof(u[0]); i++) {
		if (s >= u[i].secs) {
			snprintf(buf, CELL_MAX, "%lld%c %lld%c", s / u[i].secs, u[i].unit,
			         s % u[i].secs / u[i + 1].secs, u[i + 1].unit);
			return buf;
		}
	}
	snprintf(buf, CELL_MAX, "%llds", s);
	return buf;
}

static void put_key(const struct out *o, const char *key)
{
	fprintf(o->f, "%s%-*s%s  ", o->color ? C_BOLD : "", KEY_WIDTH, key,
	        o->color ? C_RESET : "");
}

/* One "key  value" line; a missing value shows as "-". */
static void kv(const struct out *o, const char *key, const char *val, const char *color)
{
	char buf[CELL_MAX];

	put_key(o, key);
	if (o->color && color && val)
		fprintf(o->f, "%s%s%s\n", color, clean(val, buf), C_RESET);
	else
		fprintf(o->f, "%s\n", val ? clean(val, buf) : "-");
}

static const char *good_or_not(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_true(v) ? C_GREEN : C_YELLOW;
}

/* Only what there is: the relay this host serves, the one it uses. */
static void relay_lines(const struct out *o, const json_t *relay)
{
	char buf[CELL_MAX];

	if (str(relay, "serving")) {
		snprintf(buf, sizeof(buf), "serving on %s", str(relay, "serving"));
		kv(o, "relay", buf, NULL);
	}
	if (str(relay, "using")) {
		snprintf(buf, sizeof(buf), "using %s", str(relay, "using"));
		kv(o, "relay", buf, NULL);
	}
}

static int render_status(const struct out *o, const json_t *r)
{
	const json_t *ov = json_object_get(r, "overlay");
	char n[CELL_MAX], up[CELL_MAX];

	kv(o, "name", str(r, "name"), NULL);
	kv(o, "fqdn", str(r, "fqdn"), NULL);
	kv(o, "HIT", str(r, "hit"), NULL);
	kv(o, "LSI", str(r, "lsi"), NULL);
	kv(o, "resolver", str(r, "resolver"), NULL);
	kv(o, "overlay", str(ov, "domain"), NULL);
	kv(o, "joined", yes_no(ov, "joined"), good_or_not(ov, "joined"));
	kv(o, "neighbors", integer(ov, "neighbors", n), NULL);
	relay_lines(o, json_object_get(r, "relay"));
	kv(o, "version", str(r, "version"), NULL);
	kv(o, "uptime", duration(r, "uptime_s", up), NULL);
	return 0;
}

static int render_id(const struct out *o, const json_t *r)
{
	kv(o, "HIT", str(r, "hit"), NULL);
	kv(o, "algorithm", str(r, "hi_algorithm"), NULL);
	kv(o, "fqdn", str(r, "fqdn"), NULL);
	return 0;
}

#define HINTS_MAX (4 * CELL_MAX)

/* A list field, comma-separated; any item that is not a string as JSON. */
static const char *hints(const json_t *r, const char *key, char buf[HINTS_MAX])
{
	const json_t *a = json_object_get(r, key);
	size_t used = 0, i;
	json_t *v;

	if (!json_is_array(a))
		return NULL;
	if (json_array_size(a) == 0)
		return "none";
	buf[0] = '\0';
	json_array_foreach(a, i, v)
	{
		char *dump =
		        json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		const char *s = json_is_string(v) ? json_string_value(v) : dump;
		int n = snprintf(buf + used, HINTS_MAX - used, "%s%s", i ? ", " : "", s ? s : "?");
		free(dump);
		if (n < 0 || (size_t)n >= HINTS_MAX - used)
			break; /* clean() marks the cut */
		used += (size_t)n;
	}
	return buf;
}

static int render_resolve(const struct out *o, const json_t *r)
{
	char seq[CELL_MAX], exp[CELL_MAX], rel[HINTS_MAX], in[CELL_MAX + 8], addrs[HINTS_MAX];
	const char *e = integer(r, "expires_in_s", exp);

	if (e)
		snprintf(in, sizeof(in), "in %s s", e);
	kv(o, "name", str(r, "name"), NULL);
	kv(o, "HIT", str(r, "hit"), NULL);
	kv(o, "owner", str(r, "owner"), NULL);
	kv(o, "seq", integer(r, "seq", seq), NULL);
	kv(o, "expires", e ? in : NULL, NULL);
	kv(o, "relays", hints(r, "relay_hints", rel), NULL);
	if (json_array_size(json_object_get(r, "addresses")))
		kv(o, "addresses", hints(r, "addresses", addrs), NULL);
	return 0;
}

static int render_joined(const struct out *o, const json_t *r)
{
	kv(o, "joined", yes_no(r, "joined"), good_or_not(r, "joined"));
	return 0;
}

enum { COL_NAME, COL_HIT, COL_LSI, COL_STATE, COL_PATH, COL_RTT, COL_TX, COL_RX, COLS };

struct peer_row {
	char cell[COLS][CELL_MAX];
};

static void set_cell(struct peer_row *row, int col, const char *s)
{
	clean(s ? s : "-", row->cell[col]);
}

static void fill_row(struct peer_row *row, const json_t *p)
{
	const json_t *path = json_object_get(p, "path");
	const char *type = str(path, "type"), *remote = str(path, "remote");
	char buf[2 * CELL_MAX + 2];

	set_cell(row, COL_NAME, str(p, "name"));
	set_cell(row, COL_HIT, str(p, "hit"));
	set_cell(row, COL_LSI, str(p, "lsi"));
	set_cell(row, COL_STATE, str(p, "state"));
	if (type || remote) {
		snprintf(buf, sizeof(buf), "%s %s", type ? type : "?", remote ? remote : "-");
		set_cell(row, COL_PATH, buf);
	} else {
		set_cell(row, COL_PATH, NULL);
	}
	set_cell(row, COL_RTT, milliseconds(p, "rtt_ms", buf));
	set_cell(row, COL_TX, bytes(p, "tx_bytes", buf));
	set_cell(row, COL_RX, bytes(p, "rx_bytes", buf));
}

static void print_row(const struct out *o, const struct peer_row *row, const size_t w[COLS],
                      bool header)
{
	for (int c = 0; c < COLS; c++) {
		const char *s = row->cell[c], *color = NULL;
		if (header)
			color = C_BOLD;
		else if (c == COL_STATE)
			color = strcmp(s, "ESTABLISHED") == 0 ? C_GREEN : C_YELLOW;
		if (o->color && color)
			fprintf(o->f, "%s%s%s", color, s, C_RESET);
		else
			fputs(s, o->f);
		if (c + 1 < COLS)
			fprintf(o->f, "%*s", (int)(w[c] - width(s) + 2), "");
	}
	fputc('\n', o->f);
}

static int render_peers(const struct out *o, const json_t *r)
{
	static const struct peer_row head = {
	        {"NAME", "HIT", "LSI", "STATE", "PATH", "RTT", "TX", "RX"}};
	const json_t *list = json_object_get(r, "peers");
	size_t n = json_array_size(list), w[COLS], i;
	struct peer_row *rows;
	json_t *p;

	if (!json_is_array(list))
		return -EBADMSG;
	if (n == 0) {
		fputs("no peers\n", o->f);
		return 0;
	}
	rows = calloc(n, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (int c = 0; c < COLS; c++)
		w[c] = width(head.cell[c]);
	json_array_foreach(list, i, p)
	{
		fill_row(&rows[i], p);
		for (int c = 0; c < COLS; c++)
			if (width(rows[i].cell[c]) > w[c])
				w[c] = width(rows[i].cell[c]);
	}
	print_row(o, &head, w, true);
	for (i = 0; i < n; i++)
		print_row(o, &rows[i], w, false);
	free(rows);
	return 0;
}

/* A round trip as ping(8) prints it: three significant digits. */
static const char *rtt_text(double ms, char buf[CELL_MAX])
{
	int decimals = ms < 1 ? 3 : ms < 10 ? 2 : ms < 100 ? 1 : 0;

	snprintf(buf, CELL_MAX, "%.*f", decimals, ms);
	return buf;
}

static bool sample(const json_t *v, double *ret)
{
	if (!json_is_number(v) || json_number_value(v) < 0)
		return false;
	*ret = json_number_value(v);
	return true;
}

static void ping_header(const struct out *o, const json_t *r, const char *name, const char *hit)
{
	const json_t *path = json_object_get(r, "path");
	const char *lsi = str(r, "lsi"), *type = str(path, "type"), *remote = str(path, "remote");
	char c1[CELL_MAX], c2[CELL_MAX];

	fprintf(o->f, "%sPING%s %s (%s)", o->color ? C_BOLD : "", o->color ? C_RESET : "", name,
	        hit);
	if (lsi)
		fprintf(o->f, ", LSI %s", clean(lsi, c1));
	if (type && remote)
		fprintf(o->f, ", path %s %s", clean(type, c1), clean(remote, c2));
	fputc('\n', o->f);
}

/* "rtt min/avg/max = ..." when the daemon measured any. */
static void ping_rtt_summary(const struct out *o, const json_t *r)
{
	double min, avg, max;
	char a[CELL_MAX], b[CELL_MAX], c[CELL_MAX];

	if (!sample(json_object_get(r, "rtt_min"), &min) ||
	    !sample(json_object_get(r, "rtt_avg"), &avg) ||
	    !sample(json_object_get(r, "rtt_max"), &max))
		return;
	snprintf(a, sizeof(a), "%.3f", min);
	snprintf(b, sizeof(b), "%.3f", avg);
	snprintf(c, sizeof(c), "%.3f", max);
	fprintf(o->f, "rtt min/avg/max = %s/%s/%s ms\n", a, b, c);
}

static int render_ping(const struct out *o, const json_t *r)
{
	const json_t *list = json_object_get(r, "rtt_ms"), *sent = json_object_get(r, "sent"),
	             *received = json_object_get(r, "received");
	char name[CELL_MAX], hit[CELL_MAX], t[CELL_MAX];
	json_int_t ns, nr;
	double ms;
	size_t i;
	json_t *v;

	if (!str(r, "name") || !str(r, "hit") || !json_is_array(list) || !json_is_integer(sent) ||
	    !json_is_integer(received))
		return -EBADMSG;
	ns = json_integer_value(sent);
	nr = json_integer_value(received);
	if (ns < 0 || nr < 0)
		return -EBADMSG;
	clean(str(r, "name"), name);
	clean(str(r, "hit"), hit);
	ping_header(o, r, name, hit);
	json_array_foreach(list, i, v)
	{
		if (sample(v, &ms))
			fprintf(o->f, "reply from %s (%s): seq=%zu time=%s ms\n", name, hit, i + 1,
			        rtt_text(ms, t));
	}
	fprintf(o->f, "--- %s ping statistics ---\n", name);
	fprintf(o->f, "%" JSON_INTEGER_FORMAT " sent, %" JSON_INTEGER_FORMAT " received", ns, nr);
	if (ns > 0 && nr <= ns)
		fprintf(o->f, ", %.0f%% loss", 100.0 * (double)(ns - nr) / (double)ns);
	fputc('\n', o->f);
	ping_rtt_summary(o, r);
	return 0;
}

/* ---- log ---- */

static const char *level_color(const char *level)
{
	if (strcmp(level, "err") == 0 || strcmp(level, "crit") == 0 ||
	    strcmp(level, "alert") == 0 || strcmp(level, "emerg") == 0)
		return C_RED;
	if (strcmp(level, "warning") == 0)
		return C_YELLOW;
	if (strcmp(level, "notice") == 0)
		return C_BOLD;
	if (strcmp(level, "debug") == 0)
		return C_DIM;
	return NULL;
}

int render_log_line(FILE *f, const json_t *line, bool color)
{
	const json_t *t = json_object_get(line, "time_ms");
	const char *level = str(line, "level"), *msg = str(line, "msg"), *c;
	char when[64], lv[CELL_MAX], m[MSG_MAX];
	json_int_t ms;
	time_t secs;
	struct tm tm;

	if (!json_is_integer(t) || !level || !msg || json_integer_value(t) < 0)
		return -EBADMSG;
	ms = json_integer_value(t);
	secs = (time_t)(ms / 1000);
	if (!localtime_r(&secs, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm))
		return -EBADMSG;
	clean(level, lv);
	clean_into(msg, m, sizeof(m));
	c = color ? level_color(lv) : NULL;
	fprintf(f, "%s.%03d %s%-7s%s %s\n", when, (int)(ms % 1000), c ? c : "", lv,
	        c ? C_RESET : "", m);
	return 0;
}

static int render_log(const struct out *o, const json_t *r)
{
	const json_t *lines = json_object_get(r, "lines");
	size_t i;
	json_t *l;

	if (!json_is_array(lines))
		return -EBADMSG;
	json_array_foreach(lines, i, l)
	{
		if (render_log_line(o->f, l, o->color) < 0)
			return -EBADMSG;
	}
	return 0;
}

/* ---- netcheck ---- */

#define NC_COLS 5

struct nc_row {
	char cell[NC_COLS][CELL_MAX];
};

/* A table of rows under head, columns two spaces apart, the header bold. */
static void table(const struct out *o, const struct nc_row *head, const struct nc_row *rows,
                  size_t n, int cols)
{
	size_t w[NC_COLS] = {0};

	for (int c = 0; c < cols; c++) {
		w[c] = width(head->cell[c]);
		for (size_t i = 0; i < n; i++)
			if (width(rows[i].cell[c]) > w[c])
				w[c] = width(rows[i].cell[c]);
	}
	for (size_t i = 0; i <= n; i++) {
		const struct nc_row *row = i == 0 ? head : &rows[i - 1];
		for (int c = 0; c < cols; c++) {
			const char *s = row->cell[c];
			if (i == 0 && o->color)
				fprintf(o->f, "%s%s%s", C_BOLD, s, C_RESET);
			else
				fputs(s, o->f);
			if (c + 1 < cols)
				fprintf(o->f, "%*s", (int)(w[c] - width(s) + 2), "");
		}
		fputc('\n', o->f);
	}
}

static void nc_cell(struct nc_row *row, int col, const char *s)
{
	clean(s ? s : "-", row->cell[col]);
}

/* The STUN servers (relays: false) or the relays (true) as a table. */
static int nc_servers(const struct out *o, const json_t *list, bool relays)
{
	static const struct nc_row stun_head = {
	        {"STUN SERVER", "ADDRESS", "MAPPED", "RTT", "ERROR"}};
	static const struct nc_row relay_head = {{"RELAY", "ADDRESS", "REACHABLE", "RTT", "ERROR"}};
	size_t n = json_array_size(list), i;
	struct nc_row *rows;
	char buf[CELL_MAX];
	json_t *p;

	if (!json_is_array(list))
		return -EBADMSG;
	if (n == 0)
		return 0;
	rows = calloc(n, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	json_array_foreach(list, i, p)
	{
		const char *alt = str(p, "alternate_of");
		char server[CELL_MAX];
		if (alt)
			snprintf(server, sizeof(server), "%s (other address of %s)",
			         str(p, "server") ? str(p, "server") : "?", alt);
		nc_cell(&rows[i], 0, alt ? server : str(p, "server"));
		nc_cell(&rows[i], 1, str(p, "address"));
		nc_cell(&rows[i], 2, relays ? yes_no(p, "reachable") : str(p, "mapped"));
		nc_cell(&rows[i], 3, milliseconds(p, "rtt_ms", buf));
		nc_cell(&rows[i], 4, str(p, "error"));
	}
	fputc('\n', o->f);
	table(o, relays ? &relay_head : &stun_head, rows, n, NC_COLS);
	free(rows);
	return 0;
}

static void nc_list(const struct out *o, const char *key, const json_t *list)
{
	char line[2 * CELL_MAX + 2];
	size_t i;
	json_t *v;

	if (json_array_size(list) == 0) {
		kv(o, key, "none", NULL);
		return;
	}
	json_array_foreach(list, i, v)
	{
		const char *s = json_string_value(v);
		if (!s && str(v, "address"))
			snprintf(line, sizeof(line), "%s %s",
			         str(v, "interface") ? str(v, "interface") : "?",
			         str(v, "address"));
		kv(o, i == 0 ? key : "", s ? s : str(v, "address") ? line : "?", NULL);
	}
}

static int render_netcheck(const struct out *o, const json_t *r)
{
	const json_t *nat = json_object_get(r, "nat");
	const char *mapping = str(nat, "mapping"), *detail = str(nat, "detail");
	char d[MSG_MAX];
	int e;

	if (!mapping || !json_is_array(json_object_get(r, "stun")) ||
	    !json_is_array(json_object_get(r, "relays")))
		return -EBADMSG;
	kv(o, "NAT", mapping,
	   strcmp(mapping, "unknown") == 0 || strcmp(mapping, "endpoint-dependent") == 0 ? C_YELLOW
	                                                                                 : C_GREEN);
	if (detail)
		fprintf(o->f, "%*s  %s\n", KEY_WIDTH, "", clean_into(detail, d, sizeof(d)));
	nc_list(o, "reflexive", json_object_get(r, "reflexive"));
	nc_list(o, "local", json_object_get(r, "local"));
	e = nc_servers(o, json_object_get(r, "stun"), false);
	if (e == 0)
		e = nc_servers(o, json_object_get(r, "relays"), true);
	return e;
}

/* Reals with 15 significant digits: a round trip of 0.431 ms reads 0.431,
 * not the 17 digits that name the same double exactly. */
static int dump_json(FILE *f, const json_t *v)
{
	if (json_dumpf(v, f, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) < 0)
		return -EIO;
	fputc('\n', f);
	return 0;
}

int render_result(FILE *f, enum ctl_cmd cmd, const json_t *result, bool json, bool color)
{
	const struct out o = {.f = f, .color = color};

	if (!json_is_object(result))
		return -EBADMSG;
	if (json) {
		/* Lists are printed as lists, as the product contract wants. */
		const char *list = cmd == CTL_CMD_PEERS ? "peers"
		                   : cmd == CTL_CMD_LOG ? "lines"
		                                        : NULL;
		if (!list)
			return dump_json(f, result);
		if (!json_is_array(json_object_get(result, list)))
			return -EBADMSG;
		return dump_json(f, json_object_get(result, list));
	}
	switch (cmd) {
	case CTL_CMD_STATUS:
		return render_status(&o, result);
	case CTL_CMD_PEERS:
		return render_peers(&o, result);
	case CTL_CMD_ID:
		return render_id(&o, result);
	case CTL_CMD_RESOLVE:
		return render_resolve(&o, result);
	case CTL_CMD_JOIN:
	case CTL_CMD_LEAVE:
		return render_joined(&o, result);
	case CTL_CMD_PING:
		return render_ping(&o, result);
	case CTL_CMD_LOG:
		return render_log(&o, result);
	case CTL_CMD_NETCHECK:
		return render_netcheck(&o, result);
	case CTL_CMD_SHUTDOWN:
		return 0;
	default:
		return -EINVAL;
	}
}
