/*
 * util.c: the small helpers every loom program uses: usage and version
 * output, reading a whole file, writing a record, kind checks that never
 * abort, quoting values for messages, and clocks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loom.h"

extern char *program_invocation_short_name;

void
loom_usage(const char *usage, int status)
{
	FILE *fp = status == 0 ? stdout : stderr;

	fputs(usage, fp);
	if (status == 0 && fclose(stdout) != 0)
		status = 2;
	exit(status);
}

void
loom_version(void)
{
	printf("%s %s\n", program_invocation_short_name, LOOM_VERSION);
	exit(fclose(stdout) == 0 ? 0 : 2);
}

char *
loom_slurp(const char *path, size_t *lenp, char *err)
{
	FILE *fp;
	char *buf = NULL, *nbuf;
	size_t len = 0, cap = 0, n;
	int stdin_ = path == NULL || strcmp(path, "-") == 0;

	fp = stdin_ ? stdin : fopen(path, "rb");
	if (fp == NULL) {
		snprintf(err, LOOM_ERRLEN, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536 * 2;
			if ((nbuf = realloc(buf, cap + 1)) == NULL) {
				snprintf(err, LOOM_ERRLEN, "%s: out of memory",
				    stdin_ ? "stdin" : path);
				goto fail;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		snprintf(err, LOOM_ERRLEN, "%s: %s", stdin_ ? "stdin" : path,
		    strerror(errno));
		goto fail;
	}
	if (!stdin_)
		fclose(fp);
	buf[len] = '\0';
	*lenp = len;
	return buf;
fail:
	if (!stdin_)
		fclose(fp);
	free(buf);
	return NULL;
}

int
loom_emit(FILE *fp, jv v)
{
	jv_dumpf(v, fp, 0);
	putc('\n', fp);
	return ferror(fp) ? -1 : 0;
}

int
loom_is_string(jv v)
{
	return jv_get_kind(v) == JV_KIND_STRING;
}

int
loom_is_object(jv v)
{
	return jv_get_kind(v) == JV_KIND_OBJECT;
}

int
loom_is_array(jv v)
{
	return jv_get_kind(v) == JV_KIND_ARRAY;
}

jv
loom_get(jv obj, const char *key)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));

	if (!jv_is_valid(v)) {
		jv_free(v);
		return jv_null();
	}
	return v;
}

char *
loom_get_str(jv obj, const char *key)
{
	jv v = loom_get(obj, key);
	char *s = NULL;

	if (loom_is_string(v))
		s = strdup(jv_string_value(v));
	jv_free(v);
	return s;
}

const char *
loom_q(const char *s)
{
	static char bufs[4][256];
	static int next;
	char *b = bufs[next++ & 3], *p = b;
	const unsigned char *u = (const unsigned char *)s;
	size_t n = 0;

	*p++ = '"';
	for (; *u != '\0'; u++, n++) {
		if (n >= 60 && (*u & 0xc0) != 0x80) {
			memcpy(p, "...", 3);
			p += 3;
			break;
		}
		if (*u < 0x20 || *u == 0x7f || *u == '"' || *u == '\\') {
			p += snprintf(p, 8, *u == '"' || *u == '\\' ?
			    "\\%c" : "\\x%02x", *u);
		} else
			*p++ = (char)*u;
	}
	*p++ = '"';
	*p = '\0';
	return b;
}

double
loom_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double
loom_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
loom_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size)
			return -1;
		ncap *= 2;
	}
	if ((np = realloc(*p, ncap * size)) == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}
