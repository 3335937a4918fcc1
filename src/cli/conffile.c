/* SPDX-License-Identifier: MIT */
/* conffile.c: idlocd's INI config from the CLI's side: [peer] control, and
 * the line-preserving edits of `idloc up`. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/conffile.h"
#include "common/fileio.h"

#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)NULL)->sun_path)
#define FILE_MAX      (1u << 20) /* as idlocd: config.c */
#define NAME_MAX_LEN  64         /* section and key names we compare */

struct lookup {
	char value[SUN_PATH_SIZE + 1];
	bool found, too_long;
};

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct lookup *l = user;

	if (l->found || strcmp(section, "peer") != 0 || strcmp(name, "control") != 0)
		return 1;
	l->found = true;
	if (strlen(value) >= sizeof(l->value))
		l->too_long = true;
	else
		strcpy(l->value, value);
	return 1;
}

int conffile_control(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	struct lookup l = {.found = false};
	FILE *f = fopen(path, "re");
	int e;

	if (!f) {
		e = errno;
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(e));
		return -e;
	}
	/* A syntax error elsewhere is the daemon's to report; the key we
	 * want may still be there. */
	(void)ini_parse_file(f, on_key, &l);
	fclose(f);
	if (!l.found)
		return 0;
	/* The same rule idlocd applies to the key. */
	if (l.too_long || l.value[0] != '/' || strlen(l.value) >= SUN_PATH_SIZE ||
	    strlen(l.value) >= outlen) {
		snprintf(err, errlen, "%s: [peer] control is not an absolute socket path", path);
		return -EINVAL;
	}
	strcpy(out, l.value);
	return 0;
}

/* ---- editing ---- */

/* A growing string. */
struct sb {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
	char *bigger;
	size_t cap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		bigger = realloc(b->s, cap);
		if (!bigger) {
			b->oom = true;
			return;
		}
		b->s = bigger;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

enum line_kind { LINE_OTHER, LINE_SECTION, LINE_KEY, LINE_EXAMPLE };

struct line {
	const char *start;
	size_t len; /* without the line end */
	size_t eol; /* bytes of the line end: 0, 1 or 2 */
	enum line_kind kind;
	char name[NAME_MAX_LEN + 1]; /* section, key, or commented-out key; lowercased */
	int section;                 /* index of the line of its section header, -1 */
	/* What the edit makes of it. */
	bool drop;
	char *replace;   /* instead of the line's content; its line end is kept */
	struct sb after; /* new lines after it */
};

struct doc {
	struct line *lines;
	size_t n;
	const char *eol; /* what new lines end with */
	struct sb tail;  /* new sections, after everything */
	bool oom;
};

static void lower_copy(char *dst, const char *s, size_t n)
{
	if (n > NAME_MAX_LEN)
		n = NAME_MAX_LEN;
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[n] = '\0';
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* ";key = value" or "# key=value": a commented-out example of key. */
static bool example_key(const char *p, const char *end, char *name)
{
	const char *k;

	while (p < end && (*p == ';' || *p == '#'))
		p++;
	p = skip_space(p, end);
	k = p;
	while (p < end && (isalnum((unsigned char)*p) || *p == '-' || *p == '_'))
		p++;
	if (p == k)
		return false;
	lower_copy(name, k, (size_t)(p - k));
	p = skip_space(p, end);
	return p < end && *p == '=';
}

/* How inih sees the line: a section header, a key, or neither. */
static void classify(struct line *l, bool first)
{
	const char *p = l->start, *end = l->start + l->len, *e;

	if (first && l->len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	p = skip_space(p, end);
	if (p == end)
		return;
	if (*p == ';' || *p == '#') {
		if (example_key(p, end, l->name))
			l->kind = LINE_EXAMPLE;
		return;
	}
	if (*p == '[') {
		e = memchr(p, ']', (size_t)(end - p));
		if (e) {
			l->kind = LINE_SECTION;
			lower_copy(l->name, p + 1, (size_t)(e - p - 1));
		}
		return;
	}
	for (e = p; e < end && *e != '=' && *e != ':'; e++)
		;
	if (e == end)
		return;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	l->kind = LINE_KEY;
	lower_copy(l->name, p, (size_t)(e - p));
}

static int split(struct doc *d, const char *text)
{
	size_t cap = 16;
	const char *p = text;
	int section = -1;

	d->lines = calloc(cap, sizeof(*d->lines));
	if (!d->lines)
		return -ENOMEM;
	while (*p) {
		struct line *l;
		size_t len = strcspn(p, "\n");

		if (d->n == cap) {
			struct line *bigger = realloc(d->lines, 2 * cap * sizeof(*bigger));
			if (!bigger)
				return -ENOMEM;
			memset(bigger + cap, 0, cap * sizeof(*bigger));
			d->lines = bigger;
			cap *= 2;
		}
		l = &d->lines[d->n];
		l->start = p;
		l->len = len;
		l->eol = p[len] == '\n';
		if (len > 0 && p[len - 1] == '\r') {
			l->len--;
			l->eol++;
		}
		classify(l, d->n == 0);
		if (l->kind == LINE_SECTION)
			section = (int)d->n;
		l->section = section;
		if (d->n == 0 && l->eol == 2)
			d->eol = "\r\n";
		d->n++;
		p += len + (p[len] == '\n');
	}
	return 0;
}

static bool in_section(const struct doc *d, const struct line *l, const char *section)
{
	return l->section >= 0 && strcmp(d->lines[l->section].name, section) == 0;
}

/* Where a new key of section goes: after its commented-out example, else
 * after the section's last key, else after the header. -1: no such section. */
static int anchor(const struct doc *d, const char *section, const char *key)
{
	int header = -1, last_key = -1;

	for (size_t i = 0; i < d->n; i++) {
		const struct line *l = &d->lines[i];
		if (!in_section(d, l, section))
			continue;
		if (l->kind == LINE_EXAMPLE && strcmp(l->name, key) == 0)
			return (int)i;
		if (header < 0)
			header = l->section;
		if (l->kind == LINE_KEY)
			last_key = (int)i;
	}
	return last_key >= 0 ? last_key : header;
}

/* The " ; comment" after a key's value, kept when the value changes. */
static const char *inline_comment(const struct line *l)
{
	const char *end = l->start + l->len;

	for (const char *p = l->start + 1; p < end; p++)
		if (*p == ';' && (p[-1] == ' ' || p[-1] == '\t')) {
			while (p > l->start && (p[-1] == ' ' || p[-1] == '\t'))
				p--;
			return p;
		}
	return end;
}

static void key_line(struct sb *b, const char *key, const char *value, const char *eol)
{
	sb_str(b, key);
	sb_str(b, " = ");
	sb_str(b, value);
	sb_str(b, eol);
}

/* Lines for values (n of them) of key where the file has none: after the
 * anchor, or in a new section at the end. */
static void insert_keys(struct doc *d, const char *section, const char *key,
                        const char *const *values, size_t n)
{
	int at = anchor(d, section, key);
	struct sb *b;
	bool new_section = at < 0;

	if (n == 0)
		return;
	b = at >= 0 ? &d->lines[at].after : &d->tail;
	if (new_section) {
		/* A section added by an earlier edit of this run gets the key. */
		char head[NAME_MAX_LEN + 4];
		snprintf(head, sizeof(head), "[%s]", section);
		if (d->tail.s && strstr(d->tail.s, head)) {
			/* Only [overlay] keys precede [peer] ones: the tail's last
			 * section is this one. */
			new_section = false;
		}
	}
	if (new_section) {
		sb_str(b, d->eol);
		sb_str(b, "[");
		sb_str(b, section);
		sb_str(b, "]");
		sb_str(b, d->eol);
	}
	for (size_t i = 0; i < n; i++)
		key_line(b, key, values[i], d->eol);
}

static void set_scalar(struct doc *d, const char *section, const char *key, const char *value)
{
	struct sb b = {.s = NULL};

	for (size_t i = 0; i < d->n; i++) {
		struct line *l = &d->lines[i];
		const char *c;
		if (l->kind != LINE_KEY || strcmp(l->name, key) != 0 || !in_section(d, l, section))
			continue;
		c = inline_comment(l);
		key_line(&b, key, value, "");
		sb_add(&b, c, (size_t)(l->start + l->len - c));
		if (b.oom) {
			d->oom = true;
			free(b.s);
			return;
		}
		free(l->replace);
		l->replace = b.s;
		return;
	}
	insert_keys(d, section, key, &value, 1);
}

static void set_list(struct doc *d, const char *section, const char *key, const char *const *values,
                     size_t n)
{
	struct line *first = NULL;

	for (size_t i = 0; i < d->n; i++) {
		struct line *l = &d->lines[i];
		if (l->kind != LINE_KEY || strcmp(l->name, key) != 0 || !in_section(d, l, section))
			continue;
		l->drop = true;
		if (!first)
			first = l;
	}
	if (!first) {
		insert_keys(d, section, key, values, n);
		return;
	}
	/* The new list takes the place of the old one's first line. */
	for (size_t i = 0; i < n; i++)
		key_line(&first->after, key, values[i], d->eol);
}

static void render(struct doc *d, struct sb *out)
{
	for (size_t i = 0; i < d->n; i++) {
		struct line *l = &d->lines[i];
		const char *eol = l->start + l->len;
		if (!l->drop) {
			if (l->replace)
				sb_str(out, l->replace);
			else
				sb_add(out, l->start, l->len);
			sb_add(out, eol, l->eol);
		}
		if (l->after.len > 0) {
			/* The file's last line may have no line end. */
			if (!l->drop && l->eol == 0)
				sb_str(out, d->eol);
			sb_add(out, l->after.s, l->after.len);
		}
		d->oom |= l->after.oom;
	}
	if (d->tail.len > 0) {
		if (out->len > 0 && out->s[out->len - 1] != '\n')
			sb_str(out, d->eol);
		/* The tail starts with a blank line; not at the top of a file. */
		sb_add(out, d->tail.s + (out->len == 0 ? strlen(d->eol) : 0),
		       d->tail.len - (out->len == 0 ? strlen(d->eol) : 0));
	}
	d->oom |= d->tail.oom || out->oom;
}

static void doc_free(struct doc *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->lines[i].replace);
		free(d->lines[i].after.s);
	}
	free(d->lines);
	free(d->tail.s);
}

int conffile_edit(const char *old, const char *path, const struct conffile_edits *e, char **ret)
{
	struct doc d = {.eol = "\n"};
	struct sb head = {.s = NULL}, out = {.s = NULL};
	int r;

	if (!old) {
		sb_str(&head, "# ");
		sb_str(&head, path);
		sb_str(&head, ": configuration of idlocd, written by 'idloc up'.\n"
		              "# 'idloc up' changes only the keys it is given and keeps the rest,\n"
		              "# comments included. Keys and values: idloc.conf(5).\n");
		if (head.oom)
			return -ENOMEM;
		old = head.s;
	}
	r = split(&d, old);
	if (r == 0) {
		if (e->domain)
			set_scalar(&d, "overlay", "domain", e->domain);
		if (e->set_bootstrap)
			set_list(&d, "overlay", "bootstrap", e->bootstrap, e->n_bootstrap);
		if (e->name)
			set_scalar(&d, "peer", "name", e->name);
		render(&d, &out);
		r = d.oom ? -ENOMEM : 0;
	}
	doc_free(&d);
	free(head.s);
	if (r < 0 || !out.s) {
		free(out.s);
		if (r == 0) {
			out.s = strdup("");
			r = out.s ? 0 : -ENOMEM;
		}
	}
	if (r == 0)
		*ret = out.s;
	return r;
}

/* ---- reading and writing the file ---- */

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

int conffile_read(const char *path, char **ret, mode_t *mode, uid_t *uid, gid_t *gid, char *err,
                  size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	size_t len = 0;
	char *text;

	if (fd < 0)
		return errno == ENOENT ? -ENOENT
		                       : fail(err, errlen, -errno, "cannot read '%s': %s", path,
		                              strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)FILE_MAX) {
		close(fd);
		return fail(err, errlen, -EFBIG, "'%s' is not a regular file of at most 1 MiB",
		            path);
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, text + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	if (memchr(text, '\0', len)) {
		free(text);
		return fail(err, errlen, -EINVAL, "'%s' holds a NUL byte", path);
	}
	if (mode)
		*mode = st.st_mode & 07777;
	if (uid)
		*uid = st.st_uid;
	if (gid)
		*gid = st.st_gid;
	*ret = text;
	return 0;
}

/* mkdir -p of path's directory, 0755. */
static int make_dirs(const char *path, char *err, size_t errlen)
{
	char dir[4096];
	char *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return fail(err, errlen, -ENAMETOOLONG, "'%s': path too long", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1;; p++) {
		bool last = *p == '\0';
		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return fail(err, errlen, -errno, "cannot create '%s': %s", dir,
			            strerror(errno));
		if (last)
			return 0;
		*p = '/';
	}
}

int conffile_write(const char *path, const char *text, mode_t mode, uid_t uid, gid_t gid, char *err,
                   size_t errlen)
{
	char tmp[4096];
	int fd, r;

	r = make_dirs(path, err, errlen);
	if (r < 0)
		return r;
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return fail(err, errlen, -ENAMETOOLONG, "'%s': path too long", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, -errno, "cannot write '%s': %s", path, strerror(errno));
	/* Another owner only when we may give it (root); else the file is ours. */
	if (fchown(fd, uid, gid) < 0 && errno != EPERM)
		r = -errno;
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0)
		r = fd_write_all(fd, text, strlen(text));
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return fail(err, errlen, r, "cannot write '%s': %s", path, strerror(-r));
	}
	return 0;
}
