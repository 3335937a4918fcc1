/* SPDX-License-Identifier: MIT */
/* test_cli_conffile.c: the config edits of `idloc up`: comments, order and
 * other keys kept, keys replaced in place or added where they belong, new
 * files, CRLF; and the atomic write. Every result is read back with idlocd's
 * own parser. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/conffile.h"
#include "daemon/config.h"

static struct config cfg;

/* Applies e to old and checks the result against want, and that idlocd
 * reads it. */
static void edit_ok(const char *old, const struct conffile_edits *e, const char *want)
{
	char *text = NULL, err[CONFIG_ERR_MAX];

	assert_int_equal(conffile_edit(old, "/etc/idloc/idloc.conf", e, &text), 0);
	assert_non_null(text);
	if (strcmp(text, want) != 0)
		fprintf(stderr, "got:\n%s\nwant:\n%s\n", text, want);
	assert_string_equal(text, want);
	if (config_parse_string(text, "test.conf", &cfg, err, sizeof(err)) < 0)
		fail_msg("idlocd rejects the edit: %s", err);
	free(text);
}

static void test_new_file(void **state)
{
	static const char *const boot[] = {"192.0.2.1", "[2001:db8::1]:10501"};
	struct conffile_edits e = {.domain = "example.internal",
	                           .name = "mars",
	                           .set_bootstrap = true,
	                           .bootstrap = boot,
	                           .n_bootstrap = 2};

	edit_ok(NULL, &e,
	        "# /etc/idloc/idloc.conf: configuration of idlocd, written by 'idloc up'.\n"
	        "# 'idloc up' changes only the keys it is given and keeps the rest,\n"
	        "# comments included. Keys and values: idloc.conf(5).\n"
	        "\n"
	        "[overlay]\n"
	        "domain = example.internal\n"
	        "bootstrap = 192.0.2.1\n"
	        "bootstrap = [2001:db8::1]:10501\n"
	        "\n"
	        "[peer]\n"
	        "name = mars\n");
	assert_string_equal(cfg.domain, "example.internal");
	assert_int_equal(cfg.n_bootstrap, 2);
	assert_string_equal(cfg.name, "mars");

	/* Only a name: no [overlay] section appears. */
	e = (struct conffile_edits){.name = "venus"};
	edit_ok(NULL, &e,
	        "# /etc/idloc/idloc.conf: configuration of idlocd, written by 'idloc up'.\n"
	        "# 'idloc up' changes only the keys it is given and keeps the rest,\n"
	        "# comments included. Keys and values: idloc.conf(5).\n"
	        "\n"
	        "[peer]\n"
	        "name = venus\n");
}

/* The packaged default config, shortened: every key commented out. */
static const char packaged[] = "# idloc.conf: configuration of idlocd.\n"
                               "\n"
                               "[overlay]\n"
                               "# DNS domain of the overlay: every peer is <name>.<domain>.\n"
                               ";domain = example.internal\n"
                               "\n"
                               "# A peer already in the overlay.\n"
                               ";bootstrap = 192.0.2.1:10500\n"
                               "\n"
                               "[peer]\n"
                               "# This host's label under the domain.\n"
                               ";name = mars\n"
                               "\n"
                               "# UDP port for HIP and ESP.\n"
                               ";port = 10500\n"
                               "\n"
                               "[dns]\n"
                               ";upstream = auto\n";

static void test_packaged_file(void **state)
{
	static const char *const boot[] = {"peer.example.org"};
	struct conffile_edits e = {.domain = "x.internal",
	                           .name = "a",
	                           .set_bootstrap = true,
	                           .bootstrap = boot,
	                           .n_bootstrap = 1};
	char *once = NULL, *twice = NULL;

	/* Each key goes right under its commented-out example. */
	edit_ok(packaged, &e,
	        "# idloc.conf: configuration of idlocd.\n"
	        "\n"
	        "[overlay]\n"
	        "# DNS domain of the overlay: every peer is <name>.<domain>.\n"
	        ";domain = example.internal\n"
	        "domain = x.internal\n"
	        "\n"
	        "# A peer already in the overlay.\n"
	        ";bootstrap = 192.0.2.1:10500\n"
	        "bootstrap = peer.example.org\n"
	        "\n"
	        "[peer]\n"
	        "# This host's label under the domain.\n"
	        ";name = mars\n"
	        "name = a\n"
	        "\n"
	        "# UDP port for HIP and ESP.\n"
	        ";port = 10500\n"
	        "\n"
	        "[dns]\n"
	        ";upstream = auto\n");

	/* A second run changes the values in place; the same values again
	 * change nothing. */
	assert_int_equal(conffile_edit(packaged, "f", &e, &once), 0);
	e.domain = "y.internal";
	e.n_bootstrap = 0;
	assert_int_equal(conffile_edit(once, "f", &e, &twice), 0);
	assert_non_null(strstr(twice, ";domain = example.internal\ndomain = y.internal\n\n"));
	assert_null(strstr(twice, "bootstrap = peer"));
	assert_non_null(strstr(twice, ";bootstrap = 192.0.2.1:10500\n\n[peer]"));
	free(once);
	once = twice;
	assert_int_equal(conffile_edit(once, "f", &e, &twice), 0);
	assert_string_equal(once, twice);
	free(once);
	free(twice);

	/* No edits at all: the same bytes. */
	e = (struct conffile_edits){.domain = NULL};
	assert_int_equal(conffile_edit(packaged, "f", &e, &once), 0);
	assert_string_equal(once, packaged);
	free(once);
}

static void test_in_place(void **state)
{
	struct conffile_edits e = {.domain = "new.internal", .name = "b"};

	/* A comment after the value stays; names are case-insensitive; ':'
	 * works as '='; indentation and the rest stay. */
	edit_ok("[OVERLAY]\n"
	        "  Domain = old.internal ; our overlay\n"
	        "[peer]\n"
	        "port = 10501\n"
	        "NAME: a\n"
	        "state-dir = /var/lib/x ; where the key lives\n",
	        &e,
	        "[OVERLAY]\n"
	        "domain = new.internal ; our overlay\n"
	        "[peer]\n"
	        "port = 10501\n"
	        "name = b\n"
	        "state-dir = /var/lib/x ; where the key lives\n");
	assert_int_equal(cfg.port, 10501);

	/* Without an example, a new key goes after the section's last key. */
	edit_ok("[overlay]\n"
	        "domain = d.internal\n"
	        "\n"
	        "# peer settings\n"
	        "[peer]\n"
	        "port = 10501\n"
	        "\n"
	        "# trailing comment\n"
	        "[tun]\n"
	        "mtu = 1400\n",
	        &(struct conffile_edits){.name = "c"},
	        "[overlay]\n"
	        "domain = d.internal\n"
	        "\n"
	        "# peer settings\n"
	        "[peer]\n"
	        "port = 10501\n"
	        "name = c\n"
	        "\n"
	        "# trailing comment\n"
	        "[tun]\n"
	        "mtu = 1400\n");

	/* An empty section gets it right under its header. */
	edit_ok("[peer]\n# nothing yet\n[overlay]\ndomain = d.internal\n",
	        &(struct conffile_edits){.name = "c"},
	        "[peer]\nname = c\n# nothing yet\n[overlay]\ndomain = d.internal\n");
}

static void test_bootstrap_list(void **state)
{
	static const char *const two[] = {"10.0.0.1", "10.0.0.2:10501"};
	static const char old[] = "[overlay]\n"
	                          "domain = d.internal\n"
	                          "bootstrap = 192.0.2.1\n"
	                          "# the second data centre\n"
	                          "bootstrap = 192.0.2.2\n"
	                          "bootstrap = 192.0.2.3\n"
	                          "[peer]\n"
	                          "name = a\n";

	/* The new list takes the first old line's place; comments stay. */
	edit_ok(old,
	        &(struct conffile_edits){.set_bootstrap = true, .bootstrap = two, .n_bootstrap = 2},
	        "[overlay]\n"
	        "domain = d.internal\n"
	        "bootstrap = 10.0.0.1\n"
	        "bootstrap = 10.0.0.2:10501\n"
	        "# the second data centre\n"
	        "[peer]\n"
	        "name = a\n");
	assert_int_equal(cfg.n_bootstrap, 2);
	/* --no-bootstrap: all gone. */
	edit_ok(old, &(struct conffile_edits){.set_bootstrap = true},
	        "[overlay]\n"
	        "domain = d.internal\n"
	        "# the second data centre\n"
	        "[peer]\n"
	        "name = a\n");
	assert_int_equal(cfg.n_bootstrap, 0);
	/* Not asked for: untouched. */
	edit_ok(old, &(struct conffile_edits){.name = "a"}, old);
}

static void test_missing_section(void **state)
{
	/* [overlay] is appended, also after a last line without its end. */
	edit_ok("[peer]\nname = a", &(struct conffile_edits){.domain = "d.internal"},
	        "[peer]\nname = a\n\n[overlay]\ndomain = d.internal\n");
	/* A key of another section with the same name is not ours. */
	edit_ok("[peer]\nname = a\n[dns]\naddress = 100.64.0.53\n",
	        &(struct conffile_edits){.domain = "d.internal", .name = "b"},
	        "[peer]\nname = b\n[dns]\naddress = 100.64.0.53\n\n[overlay]\ndomain = "
	        "d.internal\n");
	/* An empty file. */
	edit_ok("", &(struct conffile_edits){.domain = "d.internal"},
	        "[overlay]\ndomain = d.internal\n");
}

static void test_crlf(void **state)
{
	static const char *const one[] = {"10.0.0.1"};

	/* New lines end like the file's; replaced ones keep their own end. */
	edit_ok("[overlay]\r\ndomain = old.internal\r\n[peer]\r\nport = 10500\r\n",
	        &(struct conffile_edits){.domain = "d.internal",
	                                 .name = "a",
	                                 .set_bootstrap = true,
	                                 .bootstrap = one,
	                                 .n_bootstrap = 1},
	        "[overlay]\r\ndomain = d.internal\r\nbootstrap = 10.0.0.1\r\n[peer]\r\nport = "
	        "10500\r\nname = a\r\n");
	assert_string_equal(cfg.domain, "d.internal");
	assert_string_equal(cfg.name, "a");
	/* A UTF-8 byte order mark before the first section is kept. */
	edit_ok("\xef\xbb\xbf[overlay]\ndomain = a.b\n", &(struct conffile_edits){.domain = "c.d"},
	        "\xef\xbb\xbf[overlay]\ndomain = c.d\n");
}

static void test_read_write(void **state)
{
	char dir[] = "/tmp/test_cli_conffile_XXXXXX", path[128], sub[96], err[256], *text;
	struct stat st;
	mode_t mode;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/etc/idloc", dir);
	snprintf(path, sizeof(path), "%s/idloc.conf", sub);
	assert_int_equal(conffile_read(path, &text, NULL, NULL, NULL, err, sizeof(err)), -ENOENT);

	/* The directory is made; the mode is the one asked for. */
	assert_int_equal(conffile_write(path, "[peer]\nname = a\n", 0640, (uid_t)-1, (gid_t)-1, err,
	                                sizeof(err)),
	                 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(conffile_read(path, &text, &mode, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(text, "[peer]\nname = a\n");
	assert_int_equal(mode, 0640);
	free(text);

	/* Replaced whole; no temporary file is left. */
	assert_int_equal(conffile_write(path, "[peer]\nname = b\n", 0600, getuid(), getgid(), err,
	                                sizeof(err)),
	                 0);
	assert_int_equal(conffile_read(path, &text, &mode, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(text, "[peer]\nname = b\n");
	assert_int_equal(mode, 0600);
	free(text);
	assert_int_equal(rmdir(sub), -1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(sub), 0);

	/* A file with a NUL byte is not a config. */
	snprintf(path, sizeof(path), "%s/etc/nul.conf", dir);
	{
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fwrite("[peer]\0x\n", 1, 9, f);
		fclose(f);
	}
	assert_int_equal(conffile_read(path, &text, NULL, NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(unlink(path), 0);
	snprintf(sub, sizeof(sub), "%s/etc", dir);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_new_file),        cmocka_unit_test(test_packaged_file),
	        cmocka_unit_test(test_in_place),        cmocka_unit_test(test_bootstrap_list),
	        cmocka_unit_test(test_missing_section), cmocka_unit_test(test_crlf),
	        cmocka_unit_test(test_read_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
