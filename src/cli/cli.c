/* SPDX-License-Identifier: MIT */
/* cli.c: the idloc command line: options, the command table, exit codes. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "idloc/ctl.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/conffile.h"
#include "cli/render.h"
#include "cli/service.h"
#include "common/ctl_proto.h"

#define CLI_ERR_MAX   (CTL_ERROR_MAX + 256)
#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)NULL)->sun_path)
#define MAX_BOOTSTRAP 16 /* as idlocd: CONFIG_MAX_BOOTSTRAP */

enum kind {
	KIND_QUERY, /* one request, one answer, printed */
	KIND_LOG,   /* a query, or a stream with -f */
	KIND_UP,
	KIND_DOWN,
	KIND_HELP,
};

struct command {
	const char *name;
	enum kind kind;
	enum ctl_cmd cmd;
	const char *arg; /* the one positional argument, or NULL; "[X]" is optional */
	const char *summary;
	const char *help;
	const char *opts;     /* its own options in the synopsis, or NULL */
	const char *opt_help; /* and their help lines */
	bool json;            /* takes --json */
	bool socket;          /* uses -s */
};

static const struct command commands[] = {
        {"up", KIND_UP, CTL_CMD_STATUS, NULL, "configure, start and join the overlay",
         "Writes the options into the config file (creating it, or changing only the\n"
         "keys given and keeping everything else), checks it with idlocd's own rules,\n"
         "then starts idlocd (with systemctl when systemd manages idlocd.service,\n"
         "else in the background with its log in the state directory), restarts it\n"
         "when the configuration changed, or asks a running one to join. Waits until\n"
         "the daemon has joined the overlay (at most 30 s) and prints its status.\n"
         "Without any bootstrap peer, this host starts a new overlay.\n",
         "[--overlay DOMAIN] [--name NAME] [--bootstrap ADDR]... [--no-bootstrap] "
         "[-c CONFIG]",
         "      --overlay DOMAIN   the overlay's domain ([overlay] domain)\n"
         "      --name NAME        this host's name in it ([peer] name)\n"
         "      --bootstrap ADDR   a peer already in the overlay, ip[:port] or\n"
         "                         host[:port]; repeatable; replaces the file's list\n"
         "      --no-bootstrap     remove every bootstrap peer: start a new overlay\n"
         "  -c, --config FILE      the config file (default " IDLOC_DEFAULT_CONFIG ")\n",
         true, false},
        {"down", KIND_DOWN, CTL_CMD_SHUTDOWN, NULL, "stop the daemon",
         "Stops idlocd: with systemctl when systemd manages it, else by asking the\n"
         "daemon itself, which closes its associations and exits; waits until it is\n"
         "gone. Allowed to root and to the daemon's own user.\n",
         NULL, NULL, false, true},
        {"status", KIND_QUERY, CTL_CMD_STATUS, NULL, "this host and its overlay membership",
         "Shows this host's name, fqdn, HIT and LSI, the address of the DNS resolver,\n"
         "the overlay domain, whether the host has joined the overlay, how many\n"
         "neighbors it has in it, and the daemon's version and uptime.\n",
         NULL, NULL, true, true},
        {"peers", KIND_QUERY, CTL_CMD_PEERS, NULL, "the hosts this one has associations with",
         "Lists the peers: name, HIT, LSI, association state (ESTABLISHED once the\n"
         "pipe is up), the path in use (host, srflx, prflx or relay, and the remote\n"
         "ip:port), round-trip time and the bytes sent and received.\n"
         "With --json, prints the list itself.\n",
         NULL, NULL, true, true},
        {"resolve", KIND_QUERY, CTL_CMD_RESOLVE, "NAME", "look a name up in the overlay",
         "Looks NAME up in the overlay and prints the HIT it maps to and a summary of\n"
         "the name record, whose signature the daemon has verified: the owner's HIT,\n"
         "the sequence number and when it expires. A NAME without a dot is taken\n"
         "under the overlay domain. Fails (exit 1) when nobody holds the name.\n",
         NULL, NULL, true, true},
        {"ping", KIND_QUERY, CTL_CMD_PING, "NAME", "measure the round trip to a peer",
         "Looks NAME up in the overlay, sets up the association with it if needed\n"
         "(base exchange, ICE) and sends ICMPv6 Echo Requests from this host's HIT\n"
         "to the peer's HIT through it; the peer's kernel answers. Prints a line per\n"
         "reply and a summary once the last reply is in or given up, like ping(8).\n"
         "The last round trip also shows in 'idloc peers'. Fails (exit 1) when the\n"
         "name is not found, no path comes up in time, or no reply arrives.\n",
         "[-c N] [-i SECONDS] [-W SECONDS]",
         "  -c N         send N requests (1 to 1000, default 4)\n"
         "  -i SECONDS   between requests (0.2 to 10, default 1)\n"
         "  -W SECONDS   to set the path up, and to wait for the last replies\n"
         "               (0.1 to 60, default 10)\n",
         true, true},
        {"id", KIND_QUERY, CTL_CMD_ID, NULL, "this host's identity",
         "Prints this host's HIT, the algorithm of its Host Identity and its fqdn.\n", NULL, NULL,
         true, true},
        {"join", KIND_QUERY, CTL_CMD_JOIN, NULL, "join the overlay",
         "Makes the daemon join the overlay through its bootstrap peers or its\n"
         "routing-table cache. Allowed to root and to the daemon's own user.\n",
         NULL, NULL, true, true},
        {"leave", KIND_QUERY, CTL_CMD_LEAVE, NULL, "leave the overlay",
         "Makes the daemon hand its stored records over and leave the overlay.\n"
         "Allowed to root and to the daemon's own user.\n",
         NULL, NULL, true, true},
        {"netcheck", KIND_QUERY, CTL_CMD_NETCHECK, NULL, "NAT type, reflexive address, relays",
         "Has the daemon probe the STUN and TURN servers of its [ice] section from\n"
         "an ephemeral UDP port (a few seconds) and prints this host's addresses, the\n"
         "reflexive address the STUN servers see, whether the NAT maps endpoint-\n"
         "independently (two servers see the same address and port) or per\n"
         "destination, and which TURN relays answer. Without a STUN server the NAT\n"
         "type is unknown.\n",
         NULL, NULL, true, true},
        {"log", KIND_LOG, CTL_CMD_LOG, NULL, "the daemon's recent log; -f follows it",
         "Prints the last lines the daemon logged (it keeps 500). With -f, keeps\n"
         "printing new lines as they come until interrupted; a terminal that reads\n"
         "too slowly loses lines, and is told how many. With --json, prints the list\n"
         "of line objects, or with -f one JSON object per line.\n",
         "[-f] [-n N]",
         "  -f, --follow   print new lines as they are logged\n"
         "  -n, --lines N  the last N lines, 0 to 10000 (default 50)\n",
         true, true},
        {"help", KIND_HELP, CTL_CMD_STATUS, "[COMMAND]", "this help, or a command's",
         "Prints the list of commands, or with COMMAND that command's help.\n", NULL, NULL, false,
         false},
};

struct args {
	const char *socket;
	const char *config;
	bool json;
	bool help;
	const struct command *cmd;
	const char *name;                        /* the positional argument */
	unsigned count, interval_ms, timeout_ms; /* ping; 0: the daemon's default */
	int lines;                               /* log */
	bool follow;
	const char *domain, *peer_name; /* up */
	const char *bootstrap[MAX_BOOTSTRAP];
	size_t n_bootstrap;
	bool no_bootstrap;
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: idloc [-s SOCKET] [-c CONFIG] COMMAND [ARGS] [--json]\n"
	           "       idloc COMMAND --help\n"
	           "       idloc --version | --help\n"
	           "\n"
	           "Controls the local idlocd, through its control socket.\n"
	           "\n"
	           "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		fprintf(f, "  %-8s %-5s %s\n", c->name, c->arg && c->arg[0] != '[' ? c->arg : "",
		        c->summary);
	}
	fprintf(f,
	        "\n"
	        "Options:\n"
	        "  -s, --socket SOCKET  the daemon's control socket (default: [peer] control\n"
	        "                       in the config file, else %s)\n"
	        "  -c, --config FILE    the config file to take it from\n"
	        "                       (default %s)\n"
	        "      --json           print the daemon's answer as JSON\n"
	        "  -V, --version        print the version and exit\n"
	        "  -h, --help           print this help; COMMAND --help for a command's\n"
	        "\n"
	        "Exit status: 0 success, 1 the operation failed, 2 bad command line.\n",
	        CTL_DEFAULT_SOCKET, IDLOC_DEFAULT_CONFIG);
}

/* "Usage: idloc ... CMD ARGS OPTIONS", without the newline. */
static void synopsis(FILE *f, const struct command *c)
{
	fprintf(f, "Usage: idloc %s%s%s%s%s%s%s", c->socket ? "[-s SOCKET] [-c CONFIG] " : "",
	        c->name, c->arg ? " " : "", c->arg ? c->arg : "", c->opts ? " " : "",
	        c->opts ? c->opts : "", c->json ? " [--json]" : "");
}

static void command_usage(FILE *f, const struct command *c)
{
	synopsis(f, c);
	fprintf(f, "\n\n%s\n%s%s  -h, --help   print this help\n", c->help,
	        c->opt_help ? c->opt_help : "",
	        c->json ? "      --json   print the daemon's answer as JSON\n" : "");
}

static int usage_error(const struct command *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* One line saying what is wrong, the short usage, and where to read more. */
static int usage_error(const struct command *c, const char *fmt, ...)
{
	va_list ap;

	fputs("idloc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c)
		synopsis(stderr, c);
	else
		fputs("Usage: idloc [-s SOCKET] [-c CONFIG] COMMAND [ARGS] [--json]", stderr);
	fprintf(stderr, "\nTry 'idloc %s%s--help'.\n", c ? c->name : "", c ? " " : "");
	return IDLOC_EXIT_USAGE;
}

void cli_not_running(const char *socket)
{
	if (strcmp(socket, CTL_DEFAULT_SOCKET) == 0)
		fprintf(stderr, "idlocd is not running: start it with 'idloc up' or 'systemctl "
		                "start idlocd'\n");
	else
		fprintf(stderr,
		        "idlocd is not running (nothing answers on %s): start it with 'idloc up' "
		        "or 'systemctl start idlocd'\n",
		        socket);
}

/* The option getopt refused, as the user typed it. */
static const char *bad_option(char **argv)
{
	static char shortopt[3] = "-?";

	if (optopt) {
		shortopt[1] = (char)optopt;
		return shortopt;
	}
	return argv[optind - 1];
}

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

enum {
	OPT_JSON = 0x100,
	OPT_OVERLAY,
	OPT_NAME,
	OPT_BOOTSTRAP,
	OPT_NO_BOOTSTRAP,
};

/* Global options, up to the command. -1 to go on, else an exit code. */
static int parse_global(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
	        {"socket", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
	        {"json", no_argument, NULL, OPT_JSON},    {"version", no_argument, NULL, 'V'},
	        {"help", no_argument, NULL, 'h'},         {0},
	};
	int c;

	/* "+": stop at the command, whose options are its own. */
	while ((c = getopt_long(argc, argv, "+:s:c:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->socket = optarg;
			break;
		case 'c':
			a->config = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case 'V':
			printf("idloc %s\n", IDLOC_VERSION);
			return IDLOC_EXIT_OK;
		case 'h':
			a->help = true;
			break;
		case ':':
			return usage_error(NULL, "option '%s' needs an argument", bad_option(argv));
		default:
			return usage_error(NULL, "unknown option '%s'", bad_option(argv));
		}
	}
	if (optind == argc) {
		if (a->help) {
			usage(stdout);
			return IDLOC_EXIT_OK;
		}
		return usage_error(NULL, "no command given");
	}
	a->cmd = command_find(argv[optind]);
	if (!a->cmd)
		return usage_error(NULL, "unknown command '%s'", argv[optind]);
	return -1;
}

/* A plain decimal integer in lo..hi. */
static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned *ret)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

/* Seconds, as ping(8) takes them ("0.5", "2"), as milliseconds in lo..hi. */
static int parse_seconds(const char *s, unsigned lo, unsigned hi, unsigned *ret)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end) * 1000;
	if (errno || *end || !(v >= lo - 0.5 && v <= hi + 0.5))
		return -EINVAL;
	*ret = (unsigned)(v + 0.5);
	return 0;
}

/* ping's own options. -1 to go on, else an exit code. */
static int ping_option(int c, const char *val, struct args *a)
{
	switch (c) {
	case 'c':
		if (parse_uint(val, 1, CTL_PING_COUNT_MAX, &a->count) < 0)
			return usage_error(a->cmd, "invalid count '%s': expected 1 to %d", val,
			                   CTL_PING_COUNT_MAX);
		return -1;
	case 'i':
		if (parse_seconds(val, CTL_PING_INTERVAL_MIN, CTL_PING_INTERVAL_MAX,
		                  &a->interval_ms) < 0)
			return usage_error(
			        a->cmd, "invalid interval '%s': expected %g to %g seconds", val,
			        CTL_PING_INTERVAL_MIN / 1000.0, CTL_PING_INTERVAL_MAX / 1000.0);
		return -1;
	default:
		if (parse_seconds(val, CTL_PING_TIMEOUT_MIN, CTL_PING_TIMEOUT_MAX, &a->timeout_ms) <
		    0)
			return usage_error(
			        a->cmd, "invalid timeout '%s': expected %g to %g seconds", val,
			        CTL_PING_TIMEOUT_MIN / 1000.0, CTL_PING_TIMEOUT_MAX / 1000.0);
		return -1;
	}
}

/* The options of the command's kind, and its short options. */
static const struct option *command_options(const struct command *cmd, const char **optstring)
{
	static const struct option query[] = {
	        {"json", no_argument, NULL, OPT_JSON},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	static const struct option log[] = {
	        {"json", no_argument, NULL, OPT_JSON},
	        {"help", no_argument, NULL, 'h'},
	        {"follow", no_argument, NULL, 'f'},
	        {"lines", required_argument, NULL, 'n'},
	        {0},
	};
	static const struct option up[] = {
	        {"json", no_argument, NULL, OPT_JSON},
	        {"help", no_argument, NULL, 'h'},
	        {"config", required_argument, NULL, 'c'},
	        {"overlay", required_argument, NULL, OPT_OVERLAY},
	        {"name", required_argument, NULL, OPT_NAME},
	        {"bootstrap", required_argument, NULL, OPT_BOOTSTRAP},
	        {"no-bootstrap", no_argument, NULL, OPT_NO_BOOTSTRAP},
	        {0},
	};
	static const struct option down[] = {
	        {"help", no_argument, NULL, 'h'},
	        {"config", required_argument, NULL, 'c'},
	        {0},
	};
	static const struct option help[] = {
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};

	switch (cmd->kind) {
	case KIND_LOG:
		*optstring = ":hfn:";
		return log;
	case KIND_UP:
		*optstring = ":hc:";
		return up;
	case KIND_DOWN:
		*optstring = ":hc:";
		return down;
	case KIND_HELP:
		*optstring = ":h";
		return help;
	default:
		*optstring = cmd->cmd == CTL_CMD_PING ? ":hc:i:W:" : ":h";
		return query;
	}
}

/* One option of the command. -1 to go on, else an exit code. */
static int command_option(int c, char **argv, struct args *a)
{
	switch (c) {
	case OPT_JSON:
		a->json = true;
		return -1;
	case 'h':
		a->help = true;
		return -1;
	case 'f':
		a->follow = true;
		return -1;
	case 'n':
		if (parse_uint(optarg, 0, CTL_LOG_LINES_MAX, (unsigned *)&a->lines) < 0)
			return usage_error(a->cmd, "invalid line count '%s': expected 0 to %d",
			                   optarg, CTL_LOG_LINES_MAX);
		return -1;
	case 'c':
		if (a->cmd->kind == KIND_UP || a->cmd->kind == KIND_DOWN) {
			a->config = optarg;
			return -1;
		}
		return ping_option(c, optarg, a);
	case 'i':
	case 'W':
		return ping_option(c, optarg, a);
	case OPT_OVERLAY:
		a->domain = optarg;
		return -1;
	case OPT_NAME:
		a->peer_name = optarg;
		return -1;
	case OPT_BOOTSTRAP:
		if (a->n_bootstrap == MAX_BOOTSTRAP)
			return usage_error(a->cmd, "at most %d --bootstrap", MAX_BOOTSTRAP);
		a->bootstrap[a->n_bootstrap++] = optarg;
		return -1;
	case OPT_NO_BOOTSTRAP:
		a->no_bootstrap = true;
		return -1;
	case ':':
		return usage_error(a->cmd, "option '%s' needs an argument", bad_option(argv));
	default:
		return usage_error(a->cmd, "unknown option '%s' for '%s'", bad_option(argv),
		                   a->cmd->name);
	}
}

/* The positional argument, if the command takes one. */
static int command_argument(int argc, char **argv, struct args *a)
{
	char name[CTL_NAME_MAX + 1];
	bool optional = a->cmd->arg && a->cmd->arg[0] == '[';
	int npos = argc - optind, max = a->cmd->arg ? 1 : 0;

	if (a->cmd->arg && !optional && npos == 0)
		return usage_error(a->cmd, "'%s' needs %s", a->cmd->name, a->cmd->arg);
	if (npos > max)
		return usage_error(a->cmd, "unexpected argument '%s'", argv[optind + max]);
	if (npos == 0)
		return -1;
	a->name = argv[optind];
	if (a->cmd->kind == KIND_HELP) {
		if (!command_find(a->name))
			return usage_error(a->cmd, "unknown command '%s'", a->name);
		return -1;
	}
	if (ctl_proto_name_normalize(a->name, name) < 0)
		return usage_error(a->cmd, "invalid name '%s': expected a label or a domain name",
		                   a->name);
	return -1;
}

/* The command's options and argument. -1 to go on, else an exit code. */
static int parse_command(int argc, char **argv, struct args *a)
{
	const char *optstring;
	const struct option *opts = command_options(a->cmd, &optstring);
	int c, r;

	a->lines = CTL_LOG_LINES_DEFAULT;
	optind = 0;
	while ((c = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
		r = command_option(c, argv, a);
		if (r >= 0)
			return r;
	}
	if (a->help) {
		command_usage(stdout, a->cmd);
		return IDLOC_EXIT_OK;
	}
	r = command_argument(argc, argv, a);
	if (r >= 0)
		return r;
	if (a->cmd->kind == KIND_UP && a->socket)
		return usage_error(a->cmd, "'up' takes the socket from the config file, not -s");
	if (a->no_bootstrap && a->n_bootstrap > 0)
		return usage_error(a->cmd, "--no-bootstrap and --bootstrap exclude each other");
	if (a->json && !a->cmd->json)
		return usage_error(a->cmd, "'%s' has no --json", a->cmd->name);
	return -1;
}

/* -s, else [peer] control from -c or the default config, else the default. */
static int socket_path(const struct args *a, char out[SUN_PATH_SIZE], char *err, size_t errlen)
{
	const char *config = a->config ? a->config : IDLOC_DEFAULT_CONFIG;
	int r;

	if (a->socket) {
		if (strlen(a->socket) >= SUN_PATH_SIZE) {
			snprintf(err, errlen, "socket path '%s' is too long", a->socket);
			return -ENAMETOOLONG;
		}
		strcpy(out, a->socket);
		return 0;
	}
	strcpy(out, CTL_DEFAULT_SOCKET);
	r = conffile_control(config, out, SUN_PATH_SIZE, err, errlen);
	/* The default config may be absent or readable by the daemon only;
	 * most hosts use the default socket then anyway. */
	if (!a->config && (r == -ENOENT || r == -EACCES))
		return 0;
	return r;
}

static bool want_color(const struct args *a)
{
	const char *no = getenv("NO_COLOR");
	return !a->json && isatty(STDOUT_FILENO) && !(no && *no);
}

/* A ping that got no reply failed, even though the daemon answered. */
static bool no_reply(const struct args *a, const json_t *result)
{
	const json_t *v = json_object_get(result, "received");

	return a->cmd->cmd == CTL_CMD_PING && json_is_integer(v) && json_integer_value(v) == 0;
}

static struct ctl_request request_of(const struct args *a)
{
	struct ctl_request req = {.cmd = a->cmd->cmd,
	                          .count = a->count,
	                          .interval_ms = a->interval_ms,
	                          .timeout_ms = a->timeout_ms,
	                          .lines = a->cmd->cmd == CTL_CMD_LOG ? a->lines : -1,
	                          .follow = a->follow};

	if (a->name)
		(void)ctl_proto_name_normalize(a->name, req.name);
	return req;
}

/* The daemon's error, or why it could not be asked. */
static int report_error(const struct args *a, const char *path, const char *name, int r,
                        const char *err)
{
	if (client_not_running(r))
		cli_not_running(path);
	else if (r == -EREMOTEIO)
		fprintf(stderr, "idloc: %s%s%s: %s\n", a->cmd->name, name ? " " : "",
		        name ? name : "", err);
	else
		fprintf(stderr, "idloc: %s\n", err);
	return IDLOC_EXIT_FAILED;
}

static int run_query(const struct args *a, const char *path)
{
	char err[CLI_ERR_MAX];
	struct ctl_request req = request_of(a);
	json_t *result;
	int r;

	/* A ping runs as long as its arguments say, on top of the usual wait;
	 * a netcheck takes a few seconds, well within it. */
	r = client_call(path, &req, CLI_TIMEOUT_MS + (int)ctl_proto_ping_budget_ms(&req), &result,
	                err, sizeof(err));
	if (r < 0)
		return report_error(a, path, a->name ? req.name : NULL, r, err);
	r = render_result(stdout, a->cmd->cmd, result, a->json, want_color(a));
	if (r < 0) {
		json_decref(result);
		fprintf(stderr, "idloc: %s: malformed answer from the daemon\n", a->cmd->name);
		return IDLOC_EXIT_FAILED;
	}
	r = IDLOC_EXIT_OK;
	if (no_reply(a, result)) {
		fflush(stdout);
		fprintf(stderr, "idloc: %s %s: no reply\n", a->cmd->name, req.name);
		r = IDLOC_EXIT_FAILED;
	}
	json_decref(result);
	return r;
}

/* A log line or event as one compact JSON line. */
static int print_ndjson(const json_t *v)
{
	if (json_dumpf(v, stdout, JSON_COMPACT) < 0)
		return -EIO;
	putchar('\n');
	return 0;
}

/* The lines of the first answer of log -f, as the events that follow. */
static int follow_start(const struct args *a, json_t *result, bool color)
{
	const json_t *lines = json_object_get(result, "lines");
	size_t i;
	json_t *l;

	if (!json_is_array(lines))
		return -EBADMSG;
	json_array_foreach(lines, i, l)
	{
		int r;
		if (a->json) {
			if (json_object_set_new(l, "event", json_string("log")) < 0)
				return -ENOMEM;
			r = print_ndjson(l);
		} else {
			r = render_log_line(stdout, l, color);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* One event of the stream. 1 when it ends the stream. */
static int follow_event(const struct args *a, const json_t *ev, bool color)
{
	const char *type = json_string_value(json_object_get(ev, "event"));
	const json_t *count = json_object_get(ev, "count");
	char reason[CTL_ERROR_MAX + 1];

	if (a->json && print_ndjson(ev) < 0)
		return -EIO;
	if (strcmp(type, "log") == 0)
		return a->json ? 0 : render_log_line(stdout, ev, color);
	if (strcmp(type, "dropped") == 0 && json_is_integer(count)) {
		fflush(stdout);
		fprintf(stderr,
		        "idloc: log: %" JSON_INTEGER_FORMAT " lines dropped: the output "
		        "was read too slowly\n",
		        json_integer_value(count));
		return 0;
	}
	if (strcmp(type, "end") == 0) {
		ctl_proto_text_clean(json_string_value(json_object_get(ev, "reason"))
		                             ? json_string_value(json_object_get(ev, "reason"))
		                             : "the stream ended",
		                     reason, sizeof(reason));
		fflush(stdout);
		fprintf(stderr, "idloc: log: %s\n", reason);
		return 1;
	}
	return 0; /* an event a newer daemon knows */
}

static int run_follow(const struct args *a, const char *path)
{
	char err[CLI_ERR_MAX];
	struct ctl_request req = request_of(a);
	bool color = want_color(a);
	const char *line;
	struct client c;
	json_t *v = NULL;
	size_t len;
	int r;

	r = client_open(&c, path, &req, err, sizeof(err));
	if (r < 0)
		return report_error(a, path, NULL, r, err);
	r = client_read_line(&c, CLI_TIMEOUT_MS, &line, &len, err, sizeof(err));
	if (r == 0)
		r = ctl_proto_parse_response(line, len, &v, err, sizeof(err));
	if (r == 0 && follow_start(a, v, color) < 0)
		r = -EBADMSG;
	json_decref(v);
	while (r == 0) {
		fflush(stdout);
		r = client_read_line(&c, -1, &line, &len, err, sizeof(err));
		if (r == 0)
			r = ctl_proto_parse_event(line, len, &v, err, sizeof(err));
		if (r == 0) {
			r = follow_event(a, v, color);
			json_decref(v);
		}
	}
	client_close(&c);
	if (r == 1)
		return IDLOC_EXIT_OK;
	return report_error(a, path, NULL, r, err);
}

static int run_up(const struct args *a)
{
	struct up_args u = {
	        .config = a->config ? a->config : IDLOC_DEFAULT_CONFIG,
	        .domain = a->domain,
	        .name = a->peer_name,
	        .bootstrap = a->bootstrap,
	        .n_bootstrap = a->n_bootstrap,
	        .set_bootstrap = a->n_bootstrap > 0 || a->no_bootstrap,
	        .json = a->json,
	        .color = want_color(a),
	        .timeout_ms = SERVICE_UP_TIMEOUT_MS,
	};

	return service_up(&u);
}

static int run(const struct args *a)
{
	char path[SUN_PATH_SIZE], err[CLI_ERR_MAX];

	if (a->cmd->kind == KIND_HELP) {
		if (a->name)
			command_usage(stdout, command_find(a->name));
		else
			usage(stdout);
		return IDLOC_EXIT_OK;
	}
	if (a->cmd->kind == KIND_UP)
		return run_up(a);
	if (socket_path(a, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "idloc: %s\n", err);
		return IDLOC_EXIT_FAILED;
	}
	if (a->cmd->kind == KIND_DOWN)
		return service_down(a->config ? a->config : IDLOC_DEFAULT_CONFIG, path, !a->socket);
	if (a->cmd->kind == KIND_LOG && a->follow)
		return run_follow(a, path);
	return run_query(a, path);
}

int cli_main(int argc, char **argv)
{
	struct args a = {0};
	int r;

	optind = 0; /* GNU getopt: start over, also when called twice */
	opterr = 0;
	r = parse_global(argc, argv, &a);
	if (r < 0)
		r = parse_command(argc - optind, argv + optind, &a);
	if (r < 0)
		r = run(&a);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "idloc: cannot write the output: %s\n", strerror(errno));
		return IDLOC_EXIT_FAILED;
	}
	return r;
}
