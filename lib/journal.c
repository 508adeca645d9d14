/*
 * journal.c: loom-spawn's journal, one result record a line, appended as
 * each task ends, and read back for --resume.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loom.h"

int
loom_journal_open(const char *path, char *err)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
	    O_NOFOLLOW, 0666);
	if (fd == -1)
		snprintf(err, LOOM_ERRLEN, "%s: %s", path, strerror(errno));
	return fd;
}

int
loom_journal_append(int fd, const char *rec, size_t len, uint64_t hash,
    uint64_t deps, char *err)
{
	char tail[64], *buf;
	size_t tlen, off;
	ssize_t n;
	int k;

	if (len < 2 || rec[len - 1] != '}') {
		snprintf(err, LOOM_ERRLEN, "journal: not a JSON object");
		return -1;
	}
	k = snprintf(tail, sizeof(tail), "%s\"hash\":\"%016" PRIx64
	    "\",\"deps_hash\":\"%016" PRIx64 "\"}\n", len > 2 ? "," : "",
	    hash, deps);
	tlen = (size_t)k;

	/* One write, so a crash leaves at worst a torn last line. */
	if ((buf = malloc(len - 1 + tlen)) == NULL) {
		snprintf(err, LOOM_ERRLEN, "out of memory");
		return -1;
	}
	memcpy(buf, rec, len - 1);
	memcpy(buf + len - 1, tail, tlen);
	len += tlen - 1;
	for (off = 0; off < len; off += (size_t)n) {
		n = write(fd, buf + off, len - off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n == -1) {
			snprintf(err, LOOM_ERRLEN, "journal: %s",
			    strerror(errno));
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 0;
}

/* Parses a 16-digit hex string; -1 when it is not one. */
static int
hex64(jv v, uint64_t *hp)
{
	const char *s, *e;

	if (!loom_is_string(v))
		return -1;
	s = jv_string_value(v);
	errno = 0;
	*hp = strtoull(s, (char **)&e, 16);
	return errno != 0 || e == s || *e != '\0' ? -1 : 0;
}

static void
load_one(jv rec, const struct loom_graph *g, struct loom_jentry *ent)
{
	jv id, st, h, d;
	struct loom_jentry e;
	const char *status;
	long t;

	id = loom_get(rec, "id");
	st = loom_get(rec, "status");
	h = loom_get(rec, "hash");
	d = loom_get(rec, "deps_hash");
	if (!loom_is_string(id) || !loom_is_string(st) ||
	    hex64(h, &e.hash) == -1 || hex64(d, &e.deps) == -1)
		goto out;
	if ((t = loom_graph_find(g, jv_string_value(id))) < 0)
		goto out;
	status = jv_string_value(st);
	e.ok = strcmp(status, "ok") == 0 || strcmp(status, "cached") == 0;
	e.seen = 1;
	ent[t] = e;
out:
	jv_free(id);
	jv_free(st);
	jv_free(h);
	jv_free(d);
}

int
loom_journal_load(const char *path, const struct loom_graph *g,
    struct loom_jentry *ent, char *err)
{
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	jv rec;

	memset(ent, 0, g->n * sizeof(*ent));
	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, LOOM_ERRLEN, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, fp)) != -1) {
		if (n > 0x7fffffff || memchr(line, '\0', (size_t)n) != NULL)
			continue;
		rec = jv_parse_sized(line, (int)n);
		if (loom_is_object(rec))
			load_one(rec, g, ent);
		jv_free(rec);
	}
	free(line);
	if (ferror(fp)) {
		snprintf(err, LOOM_ERRLEN, "%s: %s", path, strerror(errno));
		fclose(fp);
		return -1;
	}
	fclose(fp);
	return 0;
}
