/* SPDX-License-Identifier: MIT */
/* main.c: idlocd's command line: options, config loading, then the daemon. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idloc/idloc.h"
#include "common/hit.h"
#include "common/log.h"
#include "crypto/identity.h"
#include "daemon/config.h"
#include "daemon/daemon.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: idlocd [-c FILE] [-f] [--log-level LEVEL] [--set SECTION.KEY=VALUE]...\n"
	        "       idlocd [-c FILE] [--set SECTION.KEY=VALUE]... --print-hit | --check\n"
	        "       idlocd --version | --help\n"
	        "\n"
	        "The idloc daemon: a serverless Host Identity Protocol VPN.\n"
	        "\n"
	        "  -c, --config FILE       configuration file (default %s)\n"
	        "  -f, --foreground        stay in the foreground (idlocd always does)\n"
	        "  -l, --log-level LEVEL   err, warning, notice, info (default) or debug\n"
	        "  -s, --set S.K=VALUE     override a config key after the file, e.g.\n"
	        "                          --set peer.port=10501; repeatable\n"
	        "      --print-hit         print this host's HIT (creating the identity if\n"
	        "                          needed) and exit\n"
	        "      --check             check the configuration and exit: 0 when the\n"
	        "                          daemon would accept it, 1 with FILE:LINE: why\n"
	        "  -V, --version           print the version and exit\n"
	        "  -h, --help              print this help and exit\n"
	        "\n"
	        "Keys and defaults: docs/config.md.\n",
	        CONFIG_DEFAULT_PATH);
}

static int usage_error(const char *what, const char *arg, const char *hint)
{
	fprintf(stderr, "idlocd: %s '%s'%s\nTry 'idlocd --help'.\n", what, arg, hint);
	return IDLOC_EXIT_USAGE;
}

static int print_hit(const struct config *cfg)
{
	char err[CONFIG_ERR_MAX + CONFIG_PATH_MAX], h[HIT_STRLEN];
	struct identity *id;
	int r = daemon_load_identity(cfg, &id, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		return IDLOC_EXIT_FAILED;
	}
	printf("%s\n", hit_format(identity_hit(id), h));
	identity_free(id);
	return fflush(stdout) == 0 ? IDLOC_EXIT_OK : IDLOC_EXIT_FAILED;
}

static int run(const struct config *cfg)
{
	struct daemon *d;
	int r = daemon_new(cfg, &d);

	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot set up the daemon");
		return IDLOC_EXIT_FAILED;
	}
	r = daemon_start(d);
	if (r == 0)
		r = daemon_run(d);
	daemon_free(d);
	return r < 0 ? IDLOC_EXIT_FAILED : IDLOC_EXIT_OK;
}

int main(int argc, char **argv)
{
	enum { OPT_PRINT_HIT = 0x100, OPT_CHECK };
	static const struct option opts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"foreground", no_argument, NULL, 'f'},
	        {"log-level", required_argument, NULL, 'l'},
	        {"set", required_argument, NULL, 's'},
	        {"print-hit", no_argument, NULL, OPT_PRINT_HIT},
	        {"check", no_argument, NULL, OPT_CHECK},
	        {"version", no_argument, NULL, 'V'},
	        {"help", no_argument, NULL, 'h'},
	        {0},
	};
	const char *path = CONFIG_DEFAULT_PATH;
	const char **sets = calloc((size_t)argc + 1, sizeof(*sets));
	size_t nsets = 0;
	bool want_hit = false, want_check = false;
	static struct config cfg;
	char err[CONFIG_ERR_MAX], host[256] = "";
	int c, level, r;

	if (!sets)
		return IDLOC_EXIT_FAILED;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:fl:s:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			/* We never fork; systemd (Type=simple) wants exactly that. */
			break;
		case 'l':
			if (log_level_parse(optarg, &level) < 0) {
				free(sets);
				return usage_error("invalid log level", optarg,
				                   " (err, warning, notice, info, debug)");
			}
			log_set_level(level);
			break;
		case 's':
			sets[nsets++] = optarg;
			break;
		case OPT_PRINT_HIT:
			want_hit = true;
			break;
		case OPT_CHECK:
			want_check = true;
			break;
		case 'V':
			printf("idlocd %s\n", IDLOC_VERSION);
			free(sets);
			return IDLOC_EXIT_OK;
		case 'h':
			usage(stdout);
			free(sets);
			return IDLOC_EXIT_OK;
		case ':':
			free(sets);
			return usage_error("missing argument for option", argv[optind - 1], "");
		default:
			free(sets);
			if (optopt) {
				char o[3] = {'-', (char)optopt, '\0'};
				return usage_error("unknown option", o, "");
			}
			return usage_error("unknown option", argv[optind - 1], "");
		}
	}
	if (optind < argc) {
		free(sets);
		return usage_error("unexpected argument", argv[optind], "");
	}

	r = config_parse_file(path, &cfg, err, sizeof(err));
	for (size_t i = 0; r == 0 && i < nsets; i++)
		r = config_set(&cfg, sets[i], err, sizeof(err));
	free(sets);
	if (r == 0) {
		if (gethostname(host, sizeof(host) - 1) < 0)
			host[0] = '\0';
		r = config_finish(&cfg, path, host, err, sizeof(err));
	}
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		return IDLOC_EXIT_FAILED;
	}
	if (want_check) {
		printf("%s: OK\n", path);
		return IDLOC_EXIT_OK;
	}
	if (want_hit)
		return print_hit(&cfg);
	return run(&cfg);
}
