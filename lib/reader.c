/*
 * reader.c: JSON values from a file, fed a line at a time to one
 * long-lived libjq parser, so that every value and every error carries
 * the line it is on.  Feeding a whole file as one buffer would lose the
 * values after an error and the line numbers with them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "loom.h"

struct loom_reader {
	FILE		*fp;
	char		*name;
	int		 fd;		/* for pread, or -1 */
	long		 line;
	jv_parser	*parser;
	int		 flushed;	/* the final empty buffer was fed */
	char		*buf;		/* the line being parsed */
	size_t		 bufcap;
	char		*acc;		/* bytes fed since the last value */
	size_t		 acclen, acccap;
	off_t		 accoff;	/* file offset of acc[0] */
	const char	*raw;		/* the last value's bytes, in acc */
	size_t		 rawlen;
	off_t		 rawoff;
	size_t		 drop;		/* bytes of acc to drop next call */
};

struct loom_reader *
loom_reader_open(const char *path, char *err)
{
	struct loom_reader *r;
	struct stat st;
	int in = path == NULL || strcmp(path, "-") == 0;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, LOOM_ERRLEN, "out of memory");
		return NULL;
	}
	r->fp = in ? stdin : fopen(path, "rb");
	if (r->fp == NULL) {
		snprintf(err, LOOM_ERRLEN, "%s: %s", path, strerror(errno));
		free(r);
		return NULL;
	}
	r->name = strdup(in ? "stdin" : path);
	r->parser = jv_parser_new(0);
	r->fd = -1;
	if (fstat(fileno(r->fp), &st) == 0 && S_ISREG(st.st_mode) &&
	    ftello(r->fp) == 0)
		r->fd = fileno(r->fp);
	if (r->name == NULL || r->parser == NULL) {
		snprintf(err, LOOM_ERRLEN, "out of memory");
		loom_reader_close(r);
		return NULL;
	}
	return r;
}

struct loom_reader *
loom_reader_open_mem(const char *buf, size_t len, const char *name,
    char *err)
{
	struct loom_reader *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, LOOM_ERRLEN, "out of memory");
		return NULL;
	}
	r->fd = -1;
	/* fmemopen wants a non-empty buffer it may write to; it only reads. */
	r->fp = len > 0 ? fmemopen((void *)buf, len, "r") :
	    fopen("/dev/null", "r");
	r->name = strdup(name);
	r->parser = jv_parser_new(0);
	if (r->fp == NULL || r->name == NULL || r->parser == NULL) {
		snprintf(err, LOOM_ERRLEN, "%s: %s", name, strerror(errno));
		loom_reader_close(r);
		return NULL;
	}
	return r;
}

void
loom_reader_close(struct loom_reader *r)
{
	if (r == NULL)
		return;
	if (r->fp != NULL && r->fp != stdin)
		fclose(r->fp);
	if (r->parser != NULL)
		jv_parser_free(r->parser);
	free(r->name);
	free(r->buf);
	free(r->acc);
	free(r);
}

const char *
loom_reader_name(const struct loom_reader *r)
{
	return r->name;
}

long
loom_reader_line(const struct loom_reader *r)
{
	return r->line;
}

int
loom_reader_fd(const struct loom_reader *r)
{
	return r->fd;
}

const char *
loom_reader_raw(const struct loom_reader *r, size_t *lenp, off_t *offp)
{
	if (lenp != NULL)
		*lenp = r->rawlen;
	if (offp != NULL)
		*offp = r->rawoff;
	return r->raw;
}

int
loom_reader_alone(const struct loom_reader *r)
{
	const char *p = r->raw + r->rawlen, *end = r->acc + r->acclen;

	if (r->raw == NULL)
		return 0;
	for (; p < end && *p != '\n'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return 0;
	return 1;
}

/* jq's messages end in " at line N, column M" counted its own way, and
 * start with a capital: keep the words, lowercase, and give our line. */
static void
parse_error(struct loom_reader *r, jv msg, char *err)
{
	char text[LOOM_ERRLEN], *at;

	snprintf(text, sizeof(text), "%s", jv_string_value(msg));
	jv_free(msg);
	if ((at = strstr(text, " at line ")) != NULL ||
	    (at = strstr(text, " at EOF")) != NULL)
		*at = '\0';
	if (text[0] >= 'A' && text[0] <= 'Z' && !(text[1] >= 'A' &&
	    text[1] <= 'Z'))
		text[0] = (char)(text[0] - 'A' + 'a');
	snprintf(err, LOOM_ERRLEN, "%.200s:%ld: invalid JSON: %.200s", r->name,
	    r->line, text);
}

/* Appends a line to acc, the text of the value being read. */
static int
acc_add(struct loom_reader *r, const char *s, size_t n)
{
	char *p;
	size_t cap;

	if (n == 0)		/* a line that was only a byte-order mark */
		return 0;
	if (r->acclen + n > r->acccap) {
		cap = r->acccap ? r->acccap : 256;
		while (cap < r->acclen + n)
			cap *= 2;
		if ((p = realloc(r->acc, cap)) == NULL)
			return -1;
		r->acc = p;
		r->acccap = cap;
	}
	memcpy(r->acc + r->acclen, s, n);
	r->acclen += n;
	return 0;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
loom_reader_next(struct loom_reader *r, jv *vp, char *err)
{
	ssize_t n;
	size_t used, a, b;
	jv v;

	if (r->drop > 0) {
		memmove(r->acc, r->acc + r->drop, r->acclen - r->drop);
		r->acclen -= r->drop;
		r->accoff += (off_t)r->drop;
		r->drop = 0;
	}
	r->raw = NULL;
	r->rawlen = 0;
	for (;;) {
		v = jv_parser_next(r->parser);
		if (jv_is_valid(v)) {
			used = r->acclen - (size_t)jv_parser_remaining(
			    r->parser);
			for (a = 0; a < used && is_space(r->acc[a]); a++)
				;
			for (b = used; b > a && is_space(r->acc[b - 1]); b--)
				;
			r->raw = r->acc + a;
			r->rawlen = b - a;
			r->rawoff = r->accoff + (off_t)a;
			r->drop = used;
			*vp = v;
			return 1;
		}
		if (jv_invalid_has_msg(jv_copy(v))) {
			parse_error(r, jv_invalid_get_msg(v), err);
			return -1;
		}
		jv_free(v);
		/* No value and no error yet: feed more only once the parser
		 * has used up the line, or libjq asserts. */
		if (jv_parser_remaining(r->parser) > 0)
			continue;
		if (r->flushed)
			return 0;
		n = getline(&r->buf, &r->bufcap, r->fp);
		if (n < 0) {
			if (ferror(r->fp)) {
				snprintf(err, LOOM_ERRLEN, "%s: %s", r->name,
				    strerror(errno));
				return -1;
			}
			r->flushed = 1;
			jv_parser_set_buf(r->parser, "", 0, 0);
			continue;
		}
		r->line++;
		if (memchr(r->buf, '\0', (size_t)n) != NULL) {
			snprintf(err, LOOM_ERRLEN, "%s:%ld: NUL byte in input",
			    r->name, r->line);
			return -1;
		}
		/* libjq takes RS as a JSON-seq separator even when not asked
		 * to, and would pass it on inside a record's raw bytes. */
		if (memchr(r->buf, '\036', (size_t)n) != NULL) {
			snprintf(err, LOOM_ERRLEN, "%s:%ld: RS byte (0x1e) in "
			    "input", r->name, r->line);
			return -1;
		}
		if (r->line == 1 && n >= 3 &&
		    memcmp(r->buf, "\xef\xbb\xbf", 3) == 0) {
			memmove(r->buf, r->buf + 3, (size_t)n - 3);
			n -= 3;
			r->accoff = 3;
		}
		if (n > 0x7fffffff || acc_add(r, r->buf, (size_t)n) != 0) {
			snprintf(err, LOOM_ERRLEN, "%s:%ld: line too long",
			    r->name, r->line);
			return -1;
		}
		jv_parser_set_buf(r->parser, r->buf, (int)n, 1);
	}
}
