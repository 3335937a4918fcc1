/* SPDX-License-Identifier: MIT */
/* main.c: the idloc command; all of it is in cli.c. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
