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
#include "common/ctl_proto.h"

/* A little more than the daemon's own limit, so its "timed out" wins. */
#define CLI_TIMEOUT_MS (CTL_TIMEOUT_MS + 5000)
#define CLI_ERR_MAX    (CTL_ERROR_MAX + 256)
#define SUN_PATH_SIZE  sizeof(((struct sockaddr_un *)NULL)->sun_path)

struct command {
	const char *name;
	enum ctl_cmd cmd;
	const char *arg; /* the one positional argument, or NULL */
	const char *summary;
	const char *help;
	const char *opts;     /* its own options in the synopsis, or NULL */
	const char *opt_help; /* and their help lines */
};

static const struct command commands[] = {
        {"status", CTL_CMD_STATUS, NULL, "this host and its overlay membership",
         "Shows this host's name, fqdn, HIT and LSI, the address of the DNS resolver,\n"
         "the overlay domain, whether the host has joined the overlay, how many\n"
         "neighbors it has in it, and the daemon's version and uptime.\n",
         NULL, NULL},
        {"peers", CTL_CMD_PEERS, NULL, "the hosts this one has associations with",
         "Lists the peers: name, HIT, LSI, association state (ESTABLISHED once the\n"
         "pipe is up), the path in use (host, srflx, prflx or relay, and the remote\n"
         "ip:port), round-trip time and the bytes sent and received.\n"
         "With --json, prints the list itself.\n",
         NULL, NULL},
        {"resolve", CTL_CMD_RESOLVE, "NAME", "look a name up in the overlay",
         "Looks NAME up in the overlay and prints the HIT it maps to and a summary of\n"
         "the name record, whose signature the daemon has verified: the owner's HIT,\n"
         "the sequence number and when it expires. A NAME without a dot is taken\n"
         "under the overlay domain. Fails (exit 1) when nobody holds the name.\n",
         NULL, NULL},
        {"id", CTL_CMD_ID, NULL, "this host's identity",
         "Prints this host's HIT, the algorithm of its Host Identity and its fqdn.\n", NULL, NULL},
        {"join", CTL_CMD_JOIN, NULL, "join the overlay",
         "Makes the daemon join the overlay through its bootstrap peers or its\n"
         "routing-table cache. Allowed to root and to the daemon's own user.\n",
         NULL, NULL},
        {"leave", CTL_CMD_LEAVE, NULL, "leave the overlay",
         "Makes the daemon hand its stored records over and leave the overlay.\n"
         "Allowed to root and to the daemon's own user.\n",
         NULL, NULL},
        {"ping", CTL_CMD_PING, "NAME", "measure the round trip to a peer",
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
         "               (0.1 to 60, default 10)\n"},
};

struct args {
	const char *socket;
	const char *config;
	bool json;
	bool help;
	const struct command *cmd;
	const char *name;
	unsigned count, interval_ms, timeout_ms; /* ping; 0: the daemon's default */
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: idloc [-s SOCKET] [-c CONFIG] COMMAND [ARGS] [--json]\n"
	           "       idloc COMMAND --help\n"
	           "       idloc --version | --help\n"
	           "\n"
	           "Asks the local idlocd, through its control socket.\n"
	           "\n"
	           "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		fprintf(f, "  %-8s %-5s %s\n", c->name, c->arg ? c->arg : "", c->summary);
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

static void command_usage(FILE *f, const struct command *c)
{
	fprintf(f,
	        "Usage: idloc [-s SOCKET] [-c CONFIG] %s%s%s%s%s [--json]\n"
	        "\n"
	        "%s"
	        "\n"
	        "%s"
	        "      --json   print the daemon's answer as JSON\n"
	        "  -h, --help   print this help\n",
	        c->name, c->arg ? " " : "", c->arg ? c->arg : "", c->opts ? " " : "",
	        c->opts ? c->opts : "", c->help, c->opt_help ? c->opt_help : "");
}

static int usage_error(const struct command *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int usage_error(const struct command *c, const char *fmt, ...)
{
	va_list ap;

	fputs("idloc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'idloc %s%s--help'.\n", c ? c->name : "", c ? " " : "");
	return IDLOC_EXIT_USAGE;
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

enum { OPT_JSON = 0x100 };

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

/* A count for ping -c: a plain decimal integer in 1..CTL_PING_COUNT_MAX. */
static int parse_count(const char *s, unsigned *ret)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > CTL_PING_COUNT_MAX)
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
		if (parse_count(val, &a->count) < 0)
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

/* The command's options and argument. -1 to go on, else an exit code. */
static int parse_command(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
	        {"json", no_argument, NULL, OPT_JSON},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	const char *optstring = a->cmd->cmd == CTL_CMD_PING ? ":hc:i:W:" : ":h";
	char name[CTL_NAME_MAX + 1];
	int c, npos, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			a->json = true;
			break;
		case 'h':
			a->help = true;
			break;
		case 'c':
		case 'i':
		case 'W':
			r = ping_option(c, optarg, a);
			if (r >= 0)
				return r;
			break;
		case ':':
			return usage_error(a->cmd, "option '%s' needs an argument",
			                   bad_option(argv));
		default:
			return usage_error(a->cmd, "unknown option '%s' for '%s'", bad_option(argv),
			                   a->cmd->name);
		}
	}
	if (a->help) {
		command_usage(stdout, a->cmd);
		return IDLOC_EXIT_OK;
	}
	npos = argc - optind;
	if (a->cmd->arg && npos == 0)
		return usage_error(a->cmd, "'%s' needs %s", a->cmd->name, a->cmd->arg);
	if (npos > (a->cmd->arg ? 1 : 0))
		return usage_error(a->cmd, "unexpected argument '%s'",
		                   argv[optind + (a->cmd->arg ? 1 : 0)]);
	if (a->cmd->arg) {
		a->name = argv[optind];
		if (ctl_proto_name_normalize(a->name, name) < 0)
			return usage_error(a->cmd,
			                   "invalid name '%s': expected a label or a domain name",
			                   a->name);
	}
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

static int run(const struct args *a)
{
	char path[SUN_PATH_SIZE], err[CLI_ERR_MAX];
	struct ctl_request req = {.cmd = a->cmd->cmd,
	                          .count = a->count,
	                          .interval_ms = a->interval_ms,
	                          .timeout_ms = a->timeout_ms};
	json_t *result;
	int r;

	if (socket_path(a, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "idloc: %s\n", err);
		return IDLOC_EXIT_FAILED;
	}
	if (a->name)
		(void)ctl_proto_name_normalize(a->name, req.name);
	/* A ping runs as long as its arguments say, on top of the usual wait. */
	r = client_call(path, &req, CLI_TIMEOUT_MS + (int)ctl_proto_ping_budget_ms(&req), &result,
	                err, sizeof(err));
	if (r == -EREMOTEIO) {
		fprintf(stderr, "idloc: %s%s%s: %s\n", a->cmd->name, a->name ? " " : "",
		        a->name ? req.name : "", err);
		return IDLOC_EXIT_FAILED;
	}
	if (r < 0) {
		fprintf(stderr, "idloc: %s\n", err);
		return IDLOC_EXIT_FAILED;
	}
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
