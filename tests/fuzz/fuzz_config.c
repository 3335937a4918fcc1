/* SPDX-License-Identifier: MIT */
/* fuzz_config.c: arbitrary text into the config parser, overrides and checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	char err[CONFIG_ERR_MAX];
	char *text;
	const char *nl;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_parse_string(text, "fuzz.conf", &cfg, err, sizeof(err)) == 0)
		(void)config_finish(&cfg, "fuzz.conf", "fuzz-host", err, sizeof(err));
	/* Each line is also tried as a --set argument. */
	config_init(&cfg);
	for (char *p = text; *p; p = (char *)nl + 1) {
		nl = strchr(p, '\n');
		if (!nl) {
			(void)config_set(&cfg, p, err, sizeof(err));
			break;
		}
		*(char *)nl = '\0';
		(void)config_set(&cfg, p, err, sizeof(err));
	}
	(void)config_finish(&cfg, "command line", NULL, err, sizeof(err));
	free(text);
	return 0;
}
