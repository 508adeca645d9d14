/*
 * util.c: the small helpers every loom program uses: usage and version
 * output, reading a whole file, writing a record, kind checks that never
 * abort, quoting values for messages, clocks, and replacing a file
 * whole.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

char *
loom_xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		err(2, NULL);
	return d;
}

char *
loom_xprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		err(2, NULL);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

int
loom_mkdirs(const char *path)
{
	char *d = loom_xstrdup(path), *p;
	int rc = 0;

	for (p = d + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(d, 0777) == -1 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*p = '/';
	}
	free(d);
	return rc;
}

int
loom_replace(const char *path, int (*fill)(FILE *, void *), void *arg)
{
	const char *slash = strrchr(path, '/');
	char *tmp;
	mode_t mask;
	FILE *fp = NULL;
	int fd, e;

	tmp = loom_xprintf("%.*s.%s.XXXXXX", slash ? (int)(slash - path) + 1 :
	    0, path, slash ? slash + 1 : path);
	if ((fd = mkstemp(tmp)) == -1) {
		e = errno;
		free(tmp);
		errno = e;
		return -1;
	}
	/* mkstemp makes it 0600; the file it replaces would have been
	 * made 0666 less the umask. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) == -1 || (fp = fdopen(fd, "w")) == NULL)
		goto fail;
	if (fill(fp, arg) != 0 || fflush(fp) != 0 || ferror(fp) ||
	    fsync(fd) == -1)
		goto fail;
	fd = -1;		/* fclose closes it, even when it fails */
	e = fclose(fp);
	fp = NULL;
	if (e != 0 || rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	return 0;

fail:
	e = errno;
	if (fp != NULL)
		fclose(fp);
	else if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = e;
	return -1;
}
