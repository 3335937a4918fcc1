/* SPDX-License-Identifier: MIT */
/* main.c: idloc-tray's command line: which control socket, then the indicator. */
#include <errno.h>
#include <getopt.h>
#include <gtk/gtk.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "cli/conffile.h"
#include "idloc/ctl.h"
#include "idloc/idloc.h"
#include "tray/tray.h"

#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)NULL)->sun_path)
#define ERR_MAX       512

static void usage(FILE *f)
{
	fprintf(f, "usage: idloc-tray [-s SOCKET] [-c CONFIG]\n");
}

static void help(void)
{
	usage(stdout);
	printf("\nShows idlocd's state in the desktop's tray: the icon tells connected,\n"
	       "connecting or down; the menu gives this device's name and addresses (click\n"
	       "to copy), the peers with their state and path, Connect/Disconnect and\n"
	       "Open in browser for a peer. It only talks to the daemon's control socket.\n"
	       "\n"
	       "  -s, --socket SOCKET  the daemon's control socket (default: [peer] control\n"
	       "                       in CONFIG, else %s)\n"
	       "  -c, --config CONFIG  idlocd's config file (default %s)\n"
	       "  -h, --help           this help\n"
	       "  -V, --version        the version\n",
	       CTL_DEFAULT_SOCKET, IDLOC_DEFAULT_CONFIG);
}

/* -s, else [peer] control from -c or the default config, else the default:
 * the CLI's rule (src/cli/cli.c). */
static int socket_path(const char *socket, const char *config, char out[SUN_PATH_SIZE])
{
	char err[ERR_MAX];
	int r;

	if (socket) {
		if (strlen(socket) >= SUN_PATH_SIZE) {
			fprintf(stderr, "idloc-tray: socket path '%s' is too long\n", socket);
			return -ENAMETOOLONG;
		}
		strcpy(out, socket);
		return 0;
	}
	strcpy(out, CTL_DEFAULT_SOCKET);
	r = conffile_control(config ? config : IDLOC_DEFAULT_CONFIG, out, SUN_PATH_SIZE, err,
	                     sizeof(err));
	/* The default config may be absent or readable by the daemon only. */
	if (r < 0 && !(!config && (r == -ENOENT || r == -EACCES))) {
		fprintf(stderr, "idloc-tray: %s\n", err);
		return r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"socket", required_argument, NULL, 's'},
	        {"config", required_argument, NULL, 'c'},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {NULL, 0, NULL, 0},
	};
	const char *socket = NULL, *config = NULL;
	char path[SUN_PATH_SIZE];
	int c;

	while ((c = getopt_long(argc, argv, "s:c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'h':
			help();
			return IDLOC_EXIT_OK;
		case 'V':
			printf("idloc-tray %s\n", IDLOC_VERSION);
			return IDLOC_EXIT_OK;
		default:
			usage(stderr);
			return IDLOC_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "idloc-tray: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return IDLOC_EXIT_USAGE;
	}
	if (socket_path(socket, config, path) < 0)
		return IDLOC_EXIT_FAILED;
	/* The name desktops and screen readers show for the program. */
	g_set_prgname("idloc-tray");
	g_set_application_name("idloc");
	if (!gtk_init_check(NULL, NULL)) {
		fprintf(stderr, "idloc-tray: cannot open the display\n");
		return IDLOC_EXIT_FAILED;
	}
	return tray_run(path);
}
