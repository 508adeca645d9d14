/*
 * output.c: a task's output file read into loom's output form, and the
 * findings it reports.  An output is a JSON object, a Python-literal file
 * of the Loom orchestrator (read, never evaluated), or anything else,
 * which is kept as text.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loom.h"

static const char *severities[] = {
	"critical", "high", "medium", "low", "info"
};

#define NSEV	(sizeof(severities) / sizeof(severities[0]))

/* Reads the whole file; NULL with errno set on failure. */
static char *
readall(const char *path, size_t *lenp)
{
	FILE *fp;
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;

	errno = 0;
	for (;;) {
		if (cap - len < 8192) {
			cap = cap ? cap * 2 : 16384;
			if ((nb = realloc(buf, cap + 1)) == NULL) {
				free(buf);
				fclose(fp);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}

	if (ferror(fp)) {
		int e = errno != 0 ? errno : EIO;

		free(buf);
		fclose(fp);
		errno = e;
		return NULL;
	}
	fclose(fp);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* Renames "round" to "iteration" when only the former is given. */
static jv
norm_round(jv o)
{
	if (!jv_object_has(jv_copy(o), jv_string("iteration")) &&
	    jv_object_has(jv_copy(o), jv_string("round"))) {
		jv r = jv_object_get(jv_copy(o), jv_string("round"));

		o = jv_object_delete(o, jv_string("round"));
		o = jv_object_set(o, jv_string("iteration"), r);
	}
	return o;
}

/* Parses a JSON output.  Consumes nothing; fills err on failure. */
static jv
read_json(const char *path, const char *p, size_t len, char *err)
{
	jv v = jv_parse_sized(p, (int)len);

	if (!jv_is_valid(v)) {
		jv msg = jv_invalid_get_msg(v);
		const char *m = jv_get_kind(msg) == JV_KIND_STRING ?
		    jv_string_value(msg) : "unknown error";
		const char *cut = strstr(m, " (while parsing");

		snprintf(err, LOOM_ERRLEN, "%s: malformed JSON: %.*s", path,
		    cut != NULL ? (int)(cut - m) : (int)strlen(m), m);
		jv_free(msg);
		return jv_invalid();
	}

	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return jv_object_set(jv_object_set(jv_object(),
		    jv_string("format"), jv_string("json")),
		    jv_string("results"), v);
	v = norm_round(v);
	return jv_object_set(v, jv_string("format"), jv_string("json"));
}

/* Parses a Python-literal output.  Fills err on failure. */
static jv
read_python(const char *path, const char *p, size_t len, char *err)
{
	jv v = loom_pylit_parse(p, len, path, err);

	if (!jv_is_valid(v)) {
		jv_free(v);
		return jv_invalid();
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		snprintf(err, LOOM_ERRLEN, "%s: not a Python output", path);
		return jv_invalid();
	}

	if (jv_object_has(jv_copy(v), jv_string("__class__"))) {
		jv c = jv_object_get(jv_copy(v), jv_string("__class__"));

		v = jv_object_delete(v, jv_string("__class__"));
		v = jv_object_set(v, jv_string("class"), c);
	}
	v = norm_round(v);
	return jv_object_set(v, jv_string("format"), jv_string("python"));
}

/*
 * Whether an output is a Python-literal file: its first line that is not
 * blank or a comment opens a class, assigns a name, or opens a docstring.
 * Stricter than loom_pylit_sniff, which would take prose that starts
 * with "from" or "if" for Python.
 */
static int
looks_python(const char *p, size_t n)
{
	const char *end = p + n, *q;

	for (;;) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p == end)
			return 0;
		if (*p != '#')
			break;
		while (p < end && *p != '\n')
			p++;
	}

	if (end - p >= 3 && (memcmp(p, "\"\"\"", 3) == 0 ||
	    memcmp(p, "'''", 3) == 0))
		return 1;
	if (end - p > 6 && memcmp(p, "class ", 6) == 0)
		return isalpha((unsigned char)p[6]) || p[6] == '_';
	if (!isalpha((unsigned char)*p) && *p != '_')
		return 0;
	for (q = p; q < end && (isalnum((unsigned char)*q) || *q == '_'); q++)
		;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	return q < end && *q == '=' && (q + 1 == end || q[1] != '=');
}

jv
loom_output_read(const char *path, char *err)
{
	char *buf;
	const char *p;
	size_t len, n;
	jv v = jv_null();

	if ((buf = readall(path, &len)) == NULL) {
		snprintf(err, LOOM_ERRLEN, "%s: %s", path, strerror(errno));
		return jv_invalid();
	}

	if (memchr(buf, '\0', len) != NULL) {
		free(buf);
		return jv_object_set(jv_object_set(jv_object_set(jv_object(),
		    jv_string("format"), jv_string("binary")),
		    jv_string("results"), jv_string_fmt("%zu bytes of binary "
		    "data", len)), jv_string("bytes"), jv_number((double)len));
	}

	p = buf;
	n = len;
	if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		p += 3;
		n -= 3;
	}
	while (n > 0 && strchr(" \t\r\n", *p) != NULL) {
		p++;
		n--;
	}

	if (n > 0 && *p == '{')
		v = read_json(path, p, n, err);
	else if (n > 0 && *p == '[' &&
	    jv_is_valid(v = jv_parse_sized(p, (int)n)))
		v = jv_object_set(jv_object_set(jv_object(),
		    jv_string("format"), jv_string("json")),
		    jv_string("results"), v);
	else {
		if (n > 0 && *p == '[')
			jv_free(v);
		if (looks_python(p, n))
			v = read_python(path, p, n, err);
		else if (len <= LOOM_OUTPUT_TEXTMAX)
			v = jv_object_set(jv_object_set(jv_object(),
			    jv_string("format"), jv_string("text")),
			    jv_string("results"), jv_string_sized(buf,
			    (int)len));
		else {
			/* Keep the head; jq mends a cut UTF-8 sequence. */
			v = jv_object_set(jv_object_set(jv_object(),
			    jv_string("format"), jv_string("text")),
			    jv_string("results"), jv_string_sized(buf,
			    LOOM_OUTPUT_TEXTMAX));
			v = jv_object_set(v, jv_string("truncated"),
			    jv_true());
			v = jv_object_set(v, jv_string("bytes"),
			    jv_number((double)len));
		}
	}

	free(buf);
	return v;
}

int
loom_severity_rank(const char *s)
{
	size_t i;

	for (i = 0; i < NSEV; i++)
		if (strcmp(s, severities[i]) == 0)
			return (int)i;
	return (int)NSEV;
}

const char *
loom_severity_name(int rank)
{
	return rank >= 0 && (size_t)rank < NSEV ? severities[rank] : NULL;
}

/* The first string among keys of o, as a new jv, or jv_null(). */
static jv
first_string(jv o, const char *const *keys)
{
	for (; *keys != NULL; keys++) {
		jv v = loom_get(o, *keys);

		if (jv_get_kind(v) == JV_KIND_STRING)
			return v;
		jv_free(v);
	}
	return jv_null();
}

/* One finding in the normal form.  Consumes f. */
static jv
norm_finding(jv f)
{
	static const char *const msgkeys[] = {
		"message", "description", "issue", "title", "summary", NULL
	};
	jv sev, msg;

	if (jv_get_kind(f) == JV_KIND_STRING)
		return jv_object_set(jv_object_set(jv_object(),
		    jv_string("severity"), jv_string("unknown")),
		    jv_string("message"), f);
	if (jv_get_kind(f) != JV_KIND_OBJECT)
		return jv_object_set(jv_object_set(jv_object(),
		    jv_string("severity"), jv_string("unknown")),
		    jv_string("message"), jv_dump_string(f, 0));

	sev = loom_get(f, "severity");
	if (jv_get_kind(sev) == JV_KIND_STRING) {
		char low[16];
		const char *s = jv_string_value(sev);
		size_t i, n = strlen(s);

		if (n < sizeof(low)) {
			for (i = 0; i <= n; i++)
				low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ?
				    s[i] - 'A' + 'a' : s[i]);
			if (loom_severity_rank(low) < (int)NSEV) {
				jv_free(sev);
				sev = jv_string(low);
			}
		}
	} else {
		jv_free(sev);
		sev = jv_string("unknown");
	}
	f = jv_object_set(f, jv_string("severity"), sev);

	msg = loom_get(f, "message");
	if (jv_get_kind(msg) != JV_KIND_STRING) {
		jv_free(msg);
		msg = first_string(f, msgkeys);
		if (jv_get_kind(msg) == JV_KIND_NULL) {
			jv_free(msg);
			msg = jv_string("");
		}
		f = jv_object_set(f, jv_string("message"), msg);
	} else
		jv_free(msg);
	return f;
}

/* Appends the normal form of each finding in list to acc.  Consumes
 * both. */
static jv
add_findings(jv acc, jv list)
{
	if (jv_get_kind(list) == JV_KIND_ARRAY) {
		jv_array_foreach(list, i, f)
			acc = jv_array_append(acc, norm_finding(f));
	}
	jv_free(list);
	return acc;
}

jv
loom_output_findings(jv out)
{
	jv acc = jv_array(), res;

	if (jv_get_kind(out) != JV_KIND_OBJECT)
		return acc;

	acc = add_findings(acc, loom_get(out, "issues"));
	res = loom_get(out, "results");
	if (jv_get_kind(res) == JV_KIND_OBJECT)
		acc = add_findings(acc, loom_get(res, "issues_found"));
	jv_free(res);
	return acc;
}

/* Whether s[i..] starts a control character: C0, DEL, or C1 in UTF-8. */
static int
control_at(const unsigned char *s, int n, int i)
{
	return s[i] < 0x20 || s[i] == 0x7f || (s[i] == 0xc2 && i + 1 < n &&
	    s[i + 1] >= 0x80 && s[i + 1] <= 0x9f);
}

/* A string with its control characters written out.  Consumes s. */
static jv
clean_string(jv s)
{
	const unsigned char *p = (const unsigned char *)jv_string_value(s);
	int n = jv_string_length_bytes(jv_copy(s)), i, from = 0;
	jv out;

	for (i = 0; i < n && !control_at(p, n, i); i++)
		;
	if (i == n)
		return s;

	out = jv_string("");
	for (i = 0; i < n; i++) {
		if (!control_at(p, n, i))
			continue;
		out = jv_string_append_buf(out, (const char *)p + from,
		    i - from);
		if (p[i] == '\n')
			out = jv_string_append_str(out, "\\n");
		else if (p[i] == '\t')
			out = jv_string_append_str(out, "\\t");
		else if (p[i] == 0xc2)
			out = jv_string_concat(out,
			    jv_string_fmt("\\u%04x", p[++i]));
		else
			out = jv_string_concat(out,
			    jv_string_fmt("\\x%02x", p[i]));
		from = i + 1;
	}
	out = jv_string_append_buf(out, (const char *)p + from, n - from);
	jv_free(s);
	return out;
}

jv
loom_output_clean(jv v)
{
	jv out;

	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		return clean_string(v);
	case JV_KIND_ARRAY:
		out = jv_array();
		jv_array_foreach(v, i, x)
			out = jv_array_append(out, loom_output_clean(x));
		jv_free(v);
		return out;
	case JV_KIND_OBJECT:
		out = jv_object();
		jv_object_foreach(v, k, x)
			out = jv_object_set(out, clean_string(k),
			    loom_output_clean(x));
		jv_free(v);
		return out;
	default:
		return v;
	}
}
