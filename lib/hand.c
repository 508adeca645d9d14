/*
 * hand.c: loom's hand-written plan format, short enough to type in a
 * terminal.  "ID: DEPS | DESCRIPTION" or "ID: DEPS ; COMMAND" starts a
 * task, indented "KEY: VALUE" lines set its fields, "@KEY: VALUE" lines
 * set plan fields.  loom-parse(1) describes it in full.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "loom.h"

struct hand {
	const char	*name;
	char		*err;
	long		 line;
	jv		 plan;		/* invalid until an "@" line */
	long		 planline;
	jv		 recs;		/* the tasks read so far */
	jv		 lines;
	/* the task being read */
	jv		 id, desc, req, deps, rest;
	long		 taskline;
};

static int
fail(struct hand *h, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(h->err, LOOM_ERRLEN, "%s:%ld: ", h->name, h->line);
	if (n < 0 || n >= LOOM_ERRLEN)
		return -1;
	va_start(ap, fmt);
	vsnprintf(h->err + n, LOOM_ERRLEN - n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
blank(int c)
{
	return c == ' ' || c == '\t';
}

/* Trims blanks from both ends of p[0..*np). */
static const char *
trim(const char *p, size_t *np)
{
	size_t n = *np;

	while (n > 0 && blank(*p)) {
		p++;
		n--;
	}
	while (n > 0 && blank(p[n - 1]))
		n--;
	*np = n;
	return p;
}

/* A message-safe copy of p[0..n): at most 40 bytes, controls as '?'. */
static const char *
q(const char *p, size_t n)
{
	static char b[2][48];
	static int i;
	size_t k;

	i = !i;
	if (n > 40)
		n = 40;
	for (k = 0; k < n; k++)
		b[i][k] = (unsigned char)p[k] < 0x20 || p[k] == 0x7f ? '?' :
		    p[k];
	b[i][n] = '\0';
	return b[i];
}

/* Appends the blank-separated words of p[0..n) to arr. */
static jv
words(jv arr, const char *p, size_t n)
{
	const char *e = p + n, *w;

	while (p < e) {
		while (p < e && blank(*p))
			p++;
		for (w = p; p < e && !blank(*p); p++)
			;
		if (p > w)
			arr = jv_array_append(arr, jv_string_sized(w,
			    (int)(p - w)));
	}
	return arr;
}

/* Seconds: a plain number with an optional s, m or h suffix. */
static int
seconds(struct hand *h, const char *key, const char *p, size_t n,
    double *vp)
{
	char b[64];
	size_t i = 0, dot = 0, all = n;
	double mul = 1;

	if (n > 0 && (p[n - 1] == 's' || p[n - 1] == 'm' || p[n - 1] == 'h')) {
		mul = p[n - 1] == 'h' ? 3600 : p[n - 1] == 'm' ? 60 : 1;
		n--;
	}
	for (i = 0; i < n; i++)
		if (p[i] == '.' && !dot && i > 0 && i + 1 < n)
			dot = 1;
		else if (p[i] < '0' || p[i] > '9')
			break;
	if (n == 0 || i < n || n >= sizeof(b))
		return fail(h, "bad number \"%s\" for %s", q(p, all), key);
	memcpy(b, p, n);
	b[n] = '\0';
	*vp = strtod(b, NULL) * mul;
	return 0;
}

/* Finishes the task being read, if any, into h->recs. */
static void
flush(struct hand *h)
{
	jv t;

	if (!jv_is_valid(h->id))
		return;
	t = jv_object_set(jv_object(), jv_string("type"), jv_string("task"));
	t = jv_object_set(t, jv_string("id"), h->id);
	t = jv_object_set(t, jv_string("description"), h->desc);
	t = jv_object_set(t, jv_string("requires"), h->req);
	t = jv_object_set(t, jv_string("depends_on"), h->deps);
	jv_object_foreach(h->rest, k, v)
		t = jv_object_set(t, k, v);
	jv_free(h->rest);
	h->recs = jv_array_append(h->recs, t);
	h->lines = jv_array_append(h->lines, jv_number(h->taskline));
	h->id = h->desc = h->req = h->deps = h->rest = jv_invalid();
}

/* ID: DEPS [| DESCRIPTION | ; COMMAND] */
static int
task_line(struct hand *h, const char *p, size_t n)
{
	const char *e = p + n, *c, *s;
	size_t k;

	for (c = p; c < e && *c != ':' && !blank(*c); c++)
		;
	if (c == p || c == e || *c != ':' || (c + 1 < e && !blank(c[1]) &&
	    c[1] != '|' && c[1] != ';'))
		return fail(h, "expected \"ID:\" at the start of a task line, "
		    "got \"%s\"", q(p, n));
	flush(h);
	h->taskline = h->line;
	h->id = jv_string_sized(p, (int)(c - p));
	h->desc = jv_string("");
	h->req = jv_array();
	h->rest = jv_object();
	for (s = ++c; s < e && *s != '|' && *s != ';'; s++)
		;
	h->deps = words(jv_array(), c, (size_t)(s - c));
	if (s == e)
		return 0;
	k = (size_t)(e - s - 1);
	c = trim(s + 1, &k);
	if (*s == '|') {
		jv_free(h->desc);
		h->desc = jv_string_sized(c, (int)k);
	} else
		h->rest = jv_object_set(h->rest, jv_string("run"),
		    jv_string_sized(c, (int)k));
	return 0;
}

/* Splits "KEY: VALUE" at the colon; the key may not hold blanks. */
static int
key_value(struct hand *h, const char *p, size_t n, size_t *klen,
    const char **vp, size_t *vlen)
{
	const char *e = p + n, *c;

	for (c = p; c < e && *c != ':' && !blank(*c); c++)
		;
	if (c == p || c == e || *c != ':')
		return fail(h, "expected \"KEY: VALUE\", got \"%s\"",
		    q(p, n));
	*klen = (size_t)(c - p);
	*vlen = (size_t)(e - c - 1);
	*vp = trim(c + 1, vlen);
	return 0;
}

static int
is(const char *k, size_t n, const char *w)
{
	return n == strlen(w) && memcmp(k, w, n) == 0;
}

/* An indented "KEY: VALUE" line of the task above. */
static int
field(struct hand *h, const char *p, size_t n)
{
	const char *k, *v;
	size_t kn, vn, i;
	double d = 0;
	jv key, old;

	if (!jv_is_valid(h->id))
		return fail(h, "indented line before any task");
	k = trim(p, &n);
	if (key_value(h, k, n, &kn, &v, &vn))
		return -1;
	if (is(k, kn, "description")) {
		if (jv_string_length_bytes(jv_copy(h->desc)) > 0 && vn > 0)
			h->desc = jv_string_append_str(h->desc, " ");
		h->desc = jv_string_append_buf(h->desc, v, (int)vn);
		return 0;
	}
	if (is(k, kn, "requires")) {
		h->req = words(h->req, v, vn);
		return 0;
	}
	if (is(k, kn, "depends_on")) {
		h->deps = words(h->deps, v, vn);
		return 0;
	}
	key = jv_string_sized(k, (int)kn);
	old = jv_object_get(jv_copy(h->rest), jv_copy(key));
	if (is(k, kn, "run")) {
		/* several run lines make one script */
		if (jv_get_kind(old) == JV_KIND_STRING)
			old = jv_string_append_buf(jv_string_append_str(old,
			    "\n"), v, (int)vn);
		else {
			jv_free(old);
			old = jv_string_sized(v, (int)vn);
		}
		h->rest = jv_object_set(h->rest, key, old);
		return 0;
	}
	if (!is(k, kn, "role") && !is(k, kn, "outputs_to") &&
	    !is(k, kn, "timeout") && !is(k, kn, "estimate") &&
	    !is(k, kn, "retries")) {
		jv_free(old);
		jv_free(key);
		return fail(h, "unknown field \"%s\"", q(k, kn));
	}
	if (jv_is_valid(old)) {
		jv_free(old);
		jv_free(key);
		return fail(h, "field \"%s\" given twice", q(k, kn));
	}
	jv_free(old);
	if (is(k, kn, "role") || is(k, kn, "outputs_to"))
		h->rest = jv_object_set(h->rest, key, jv_string_sized(v,
		    (int)vn));
	else if (is(k, kn, "retries")) {
		for (i = 0, d = 0; i < vn && v[i] >= '0' && v[i] <= '9'; i++)
			d = d * 10 + (v[i] - '0');
		if (vn == 0 || i < vn) {
			jv_free(key);
			return fail(h, "bad number \"%s\" for retries",
			    q(v, vn));
		}
		h->rest = jv_object_set(h->rest, key, jv_number(d));
	} else {
		if (seconds(h, jv_string_value(key), v, vn, &d)) {
			jv_free(key);
			return -1;
		}
		h->rest = jv_object_set(h->rest, key, jv_number(d));
	}
	return 0;
}

/* @KEY: VALUE, @version: NUMBER, @context.NAME: VALUE */
static int
plan_line(struct hand *h, const char *p, size_t n)
{
	const char *k, *v;
	size_t kn, vn, i;
	char b[48];
	jv key, val, ctx;

	if (key_value(h, p + 1, n - 1, &kn, &v, &vn))
		return -1;
	k = p + 1;
	if (!jv_is_valid(h->plan)) {
		h->plan = jv_object_set(jv_object(), jv_string("type"),
		    jv_string("plan"));
		h->planline = h->line;
	}
	if (is(k, kn, "type") || is(k, kn, "tasks"))
		return fail(h, "plan field \"%s\" is reserved", q(k, kn));
	if (kn > 8 && memcmp(k, "context.", 8) == 0) {
		key = jv_string_sized(k + 8, (int)kn - 8);
		val = jv_string_sized(v, (int)vn);
		ctx = jv_object_get(jv_copy(h->plan), jv_string("context"));
		if (jv_get_kind(ctx) != JV_KIND_OBJECT) {
			jv_free(ctx);
			ctx = jv_object();
		}
		if (jv_object_has(jv_copy(ctx), jv_copy(key))) {
			jv_free(ctx);
			jv_free(key);
			jv_free(val);
			return fail(h, "plan field \"%s\" given twice",
			    q(k, kn));
		}
		ctx = jv_object_set(ctx, key, val);
		h->plan = jv_object_set(h->plan, jv_string("context"), ctx);
		return 0;
	}
	key = jv_string_sized(k, (int)kn);
	if (jv_object_has(jv_copy(h->plan), jv_copy(key))) {
		jv_free(key);
		return fail(h, "plan field \"%s\" given twice", q(k, kn));
	}
	if (is(k, kn, "version")) {
		for (i = 0; i < vn && ((v[i] >= '0' && v[i] <= '9') ||
		    (v[i] == '.' && i > 0 && i + 1 < vn)); i++)
			;
		if (vn == 0 || i < vn || vn > 40) {
			jv_free(key);
			return fail(h, "bad number \"%s\" for version",
			    q(v, vn));
		}
		memcpy(b, v, vn);
		b[vn] = '\0';
		val = jv_number(strtod(b, NULL));
	} else
		val = jv_string_sized(v, (int)vn);
	h->plan = jv_object_set(h->plan, key, val);
	return 0;
}

jv
loom_hand_parse(const char *buf, size_t len, const char *name, jv *linesp,
    char *err)
{
	struct hand h;
	const char *p = buf, *end = buf + len, *e, *s;
	size_t n;
	int rc = 0;
	jv out;

	memset(&h, 0, sizeof(h));
	h.name = name;
	h.err = err;
	h.plan = jv_invalid();
	h.recs = jv_array();
	h.lines = jv_array();
	h.id = h.desc = h.req = h.deps = h.rest = jv_invalid();
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (h.line = 1; p < end && rc == 0; h.line++, p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		n = (size_t)(e - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (memchr(p, '\0', n) != NULL) {
			rc = fail(&h, "NUL byte");
			break;
		}
		for (s = p; s < p + n && blank(*s); s++)
			;
		if (s == p + n || *s == '#')
			continue;
		if (s > p)
			rc = field(&h, p, n);
		else if (*p == '@')
			rc = plan_line(&h, p, n);
		else
			rc = task_line(&h, p, n);
	}
	flush(&h);
	if (rc != 0) {
		jv_free(h.plan);
		jv_free(h.recs);
		jv_free(h.lines);
		if (linesp != NULL)
			*linesp = jv_invalid();
		return jv_invalid();
	}
	if (jv_is_valid(h.plan)) {
		out = jv_array_concat(jv_array_append(jv_array(), h.plan),
		    h.recs);
		h.lines = jv_array_concat(jv_array_append(jv_array(),
		    jv_number(h.planline)), h.lines);
	} else
		out = h.recs;
	if (linesp != NULL)
		*linesp = h.lines;
	else
		jv_free(h.lines);
	return out;
}
