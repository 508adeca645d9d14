/*
 * pylit.c: reads Python sources made only of assignments of literals (the
 * Loom orchestrator's compiled_v1.py, agents' output files) into jq
 * values.  Nothing is evaluated: a name, call or operator where a value
 * belongs is an error naming the line.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "loom.h"

#define PYLIT_DEPTH	256	/* brackets inside brackets */
#define PYLIT_INDENTS	100	/* indentation levels */

enum kind { T_EOF, T_NL, T_NAME, T_NUM, T_STR, T_OP };

struct tok {
	enum kind	 kind;
	long		 line;
	int		 indent;	/* columns when first, else -1 */
	const char	*s;		/* NAME and OP: the source bytes */
	size_t		 len;
	jv		 val;		/* NUM and STR; else invalid */
};

struct pl {
	const char	*p, *end;
	const char	*name;
	char		*err;
	long		 line;
	int		 paren;		/* open brackets: newlines are blanks */
	char		 openc[PYLIT_DEPTH + 8];	/* open brackets */
	long		 openl[PYLIT_DEPTH + 8];	/* and their lines */
	int		 bol;		/* at the start of a logical line */
	int		 nest;		/* containers being read */
	int		 failed;
	struct tok	 la;		/* the lookahead token */
	int		 have;
	jv		 items;		/* lines of the top-level elements */
	char		*buf;		/* string and number bytes */
	size_t		 blen, bcap;
};

static const char *keywords[] = {
	"and", "as", "assert", "async", "await", "break", "continue", "def",
	"del", "elif", "else", "except", "finally", "for", "global", "if",
	"in", "is", "lambda", "nonlocal", "not", "or", "raise", "return",
	"try", "while", "with", "yield", NULL
};

static void
fail(struct pl *s, long line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->failed)
		return;
	s->failed = 1;
	n = snprintf(s->err, LOOM_ERRLEN, "%s:%ld: ", s->name, line);
	if (n < 0 || n >= LOOM_ERRLEN)
		return;
	va_start(ap, fmt);
	vsnprintf(s->err + n, LOOM_ERRLEN - n, fmt, ap);
	va_end(ap);
}

static int
is_name(const struct tok *t, const char *w)
{
	return t->kind == T_NAME && t->len == strlen(w) &&
	    memcmp(t->s, w, t->len) == 0;
}

static int
is_op(const struct tok *t, char c)
{
	return t->kind == T_OP && t->s[0] == c;
}

static int
is_keyword(const struct tok *t)
{
	size_t i;

	for (i = 0; keywords[i] != NULL; i++)
		if (is_name(t, keywords[i]))
			return 1;
	return 0;
}

/* A short description of t for messages; uses one of two buffers. */
static const char *
what(const struct tok *t)
{
	static char b[2][64];
	static int i;
	int n;

	i = !i;
	switch (t->kind) {
	case T_EOF:
		return "end of file";
	case T_NL:
		return "end of line";
	case T_NUM:
		return "a number";
	case T_STR:
		return "a string";
	case T_NAME:
		n = t->len > 40 ? 40 : (int)t->len;
		snprintf(b[i], sizeof(b[i]), "name \"%.*s\"", n, t->s);
		return b[i];
	case T_OP:
		if (isprint((unsigned char)t->s[0]))
			snprintf(b[i], sizeof(b[i]), "\"%c\"", t->s[0]);
		else
			snprintf(b[i], sizeof(b[i]), "byte \\x%02x",
			    (unsigned char)t->s[0]);
		return b[i];
	}
	return "?";
}

static int
put(struct pl *s, const char *p, size_t n)
{
	char *nb;
	size_t cap;

	if (s->blen + n + 1 > s->bcap) {
		cap = s->bcap ? s->bcap : 256;
		while (s->blen + n + 1 > cap)
			cap *= 2;
		if ((nb = realloc(s->buf, cap)) == NULL) {
			fail(s, s->line, "out of memory");
			return -1;
		}
		s->buf = nb;
		s->bcap = cap;
	}
	memcpy(s->buf + s->blen, p, n);
	s->blen += n;
	return 0;
}

static int
put_utf8(struct pl *s, unsigned long c)
{
	char b[4];

	if (c < 0x80) {
		b[0] = (char)c;
		return put(s, b, 1);
	}
	if (c < 0x800) {
		b[0] = (char)(0xc0 | c >> 6);
		b[1] = (char)(0x80 | (c & 0x3f));
		return put(s, b, 2);
	}
	if (c < 0x10000) {
		b[0] = (char)(0xe0 | c >> 12);
		b[1] = (char)(0x80 | (c >> 6 & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		return put(s, b, 3);
	}
	b[0] = (char)(0xf0 | c >> 18);
	b[1] = (char)(0x80 | (c >> 12 & 0x3f));
	b[2] = (char)(0x80 | (c >> 6 & 0x3f));
	b[3] = (char)(0x80 | (c & 0x3f));
	return put(s, b, 4);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A newline at p ("\n", "\r\n" or a lone "\r"): its length, else 0. */
static size_t
newline(const struct pl *s, const char *p)
{
	if (p < s->end && *p == '\n')
		return 1;
	if (p < s->end && *p == '\r')
		return p + 1 < s->end && p[1] == '\n' ? 2 : 1;
	return 0;
}

/* The escape after a backslash at s->p, appended to the buffer. */
static int
escape(struct pl *s)
{
	static const char from[] = "\\'\"abfnrtv", to[] = "\\'\"\a\b\f\n\r\t\v";
	const char *q;
	unsigned long c;
	size_t nl;
	int i, n, h;

	s->p++;
	if (s->p == s->end)
		return 0;	/* the caller reports the open string */
	if ((nl = newline(s, s->p)) > 0) {
		s->p += nl;
		s->line++;
		return 0;
	}
	if ((q = strchr(from, *s->p)) != NULL && *s->p != '\0') {
		s->p++;
		return put(s, &to[q - from], 1);
	}
	if (*s->p >= '0' && *s->p <= '7') {
		for (c = 0, i = 0; i < 3 && s->p < s->end &&
		    *s->p >= '0' && *s->p <= '7'; i++)
			c = c * 8 + (unsigned long)(*s->p++ - '0');
		return put_utf8(s, c);
	}
	if (*s->p == 'x' || *s->p == 'u' || *s->p == 'U') {
		n = *s->p == 'x' ? 2 : *s->p == 'u' ? 4 : 8;
		for (c = 0, i = 1; i <= n; i++) {
			if (s->p + i >= s->end ||
			    (h = hexval((unsigned char)s->p[i])) < 0) {
				fail(s, s->line, "bad \\%c escape: %d hex "
				    "digits expected", *s->p, n);
				return -1;
			}
			c = c * 16 + (unsigned long)h;
		}
		if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
			fail(s, s->line, "bad \\%c escape: %.*s is not a "
			    "character", *s->p, n, s->p + 1);
			return -1;
		}
		s->p += n + 1;
		return put_utf8(s, c);
	}
	if (*s->p == 'N') {
		fail(s, s->line, "\\N{...} escapes are not supported");
		return -1;
	}
	return put(s, "\\", 1);	/* kept, as Python does */
}

/* A string from the quote at s->p; raw for an r prefix. */
static int
lex_string(struct pl *s, struct tok *t, int raw)
{
	char q = *s->p;
	int triple = 0;
	size_t nl;

	s->blen = 0;
	if (s->end - s->p >= 3 && s->p[1] == q && s->p[2] == q) {
		triple = 1;
		s->p += 3;
	} else
		s->p++;
	for (;;) {
		if (s->p == s->end) {
			fail(s, t->line, "unterminated string");
			return -1;
		}
		if ((nl = newline(s, s->p)) > 0) {
			if (!triple) {
				fail(s, t->line, "unterminated string");
				return -1;
			}
			s->p += nl;
			s->line++;
			if (put(s, "\n", 1))
				return -1;
		} else if (*s->p == q && (!triple || (s->end - s->p >= 3 &&
		    s->p[1] == q && s->p[2] == q))) {
			s->p += triple ? 3 : 1;
			break;
		} else if (*s->p == '\\' && !raw) {
			if (escape(s))
				return -1;
		} else if (*s->p == '\\') {
			/* raw: the backslash and the next character stay */
			if (put(s, s->p++, 1))
				return -1;
			if ((nl = newline(s, s->p)) > 0) {
				s->p += nl;
				s->line++;
				if (put(s, "\n", 1))
					return -1;
			} else if (s->p < s->end && put(s, s->p++, 1))
				return -1;
		} else if (put(s, s->p++, 1))
			return -1;
	}
	t->kind = T_STR;
	t->val = jv_string_sized(s->buf, (int)s->blen);
	return 0;
}

static int
namechar(int c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* Digits of a number (with underscores between them) into the buffer. */
static int
digits(struct pl *s, int base)
{
	int n = 0;

	while (s->p < s->end) {
		if (*s->p == '_' && n > 0 && s->p + 1 < s->end &&
		    hexval((unsigned char)s->p[1]) >= 0 &&
		    hexval((unsigned char)s->p[1]) < base) {
			s->p++;
			continue;
		}
		if (hexval((unsigned char)*s->p) < 0 ||
		    hexval((unsigned char)*s->p) >= base)
			break;
		if (put(s, s->p++, 1))
			return -1;
		n++;
	}
	return n;
}

static int
lex_number(struct pl *s, struct tok *t)
{
	const char *start = s->p;
	double v = 0;
	int base = 0, n, i;

	s->blen = 0;
	if (*s->p == '0' && s->end - s->p > 1 && strchr("xXoObB", s->p[1]) &&
	    s->p[1] != '\0') {
		base = strchr("xX", s->p[1]) ? 16 : strchr("oO", s->p[1]) ?
		    8 : 2;
		s->p += 2;
		if (s->p < s->end && *s->p == '_')
			s->p++;
		if ((n = digits(s, base)) < 0)
			return -1;
		for (i = 0; i < n; i++)
			v = v * base + hexval((unsigned char)s->buf[i]);
		if (n == 0)
			goto bad;
	} else {
		if ((n = digits(s, 10)) < 0)
			return -1;
		for (i = 0; i < n && s->buf[i] == '0'; i++)
			;
		if (n > 1 && i > 0 && i < n && (s->p == s->end ||
		    !strchr(".eEjJ", *s->p)))
			goto bad;	/* Python rejects leading zeros */
		if (s->p < s->end && *s->p == '.') {
			if (put(s, s->p++, 1) || digits(s, 10) < 0)
				return -1;
		}
		if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
			if (put(s, s->p++, 1))
				return -1;
			if (s->p < s->end && (*s->p == '+' || *s->p == '-') &&
			    put(s, s->p++, 1))
				return -1;
			if ((n = digits(s, 10)) <= 0)
				goto bad;
		}
		if (put(s, "", 1))
			return -1;
		v = strtod(s->buf, NULL);
	}
	if (s->p < s->end && (namechar((unsigned char)*s->p) ||
	    *s->p == '.'))
		goto bad;
	t->kind = T_NUM;
	t->val = jv_number(v);
	return 0;

bad:
	while (s->p < s->end && (namechar((unsigned char)*s->p) ||
	    *s->p == '.'))
		s->p++;
	fail(s, t->line, "bad number \"%.*s\"",
	    (int)(s->p - start > 40 ? 40 : s->p - start), start);
	return -1;
}

/* A name, or a string with its prefix (r, u; f and b are refused). */
static int
lex_name(struct pl *s, struct tok *t)
{
	const char *q;
	int raw = 0;

	t->s = s->p;
	while (s->p < s->end && namechar((unsigned char)*s->p))
		s->p++;
	t->len = (size_t)(s->p - t->s);
	t->kind = T_NAME;
	if (t->len > 2 || s->p == s->end || (*s->p != '"' && *s->p != '\''))
		return 0;
	for (q = t->s; q < s->p; q++) {
		switch (*q) {
		case 'r': case 'R':
			raw = 1;
			break;
		case 'u': case 'U':
			break;
		case 'f': case 'F':
			fail(s, t->line, "f-string is not a literal");
			return -1;
		case 'b': case 'B':
			fail(s, t->line, "bytes are not supported");
			return -1;
		default:
			return 0;
		}
	}
	return lex_string(s, t, raw);
}

static int
lex(struct pl *s, struct tok *t)
{
	size_t nl;
	int col;

	t->val = jv_invalid();
	t->indent = -1;
	for (;;) {
		if (s->bol && s->paren == 0) {
			for (col = 0; s->p < s->end && strchr(" \t\f", *s->p)
			    && *s->p != '\0'; s->p++)
				col = *s->p == ' ' ? col + 1 :
				    *s->p == '\t' ? (col / 8 + 1) * 8 : 0;
			t->indent = col;
		}
		while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
		    *s->p == '\f' || (*s->p == '\r' && s->p + 1 < s->end &&
		    s->p[1] == '\n')))
			s->p++;
		t->line = s->line;
		if (s->p == s->end && s->paren > 0) {
			col = s->paren - 1;
			if (col >= PYLIT_DEPTH + 8)
				col = PYLIT_DEPTH + 7;
			fail(s, s->openl[col], "\"%c\" is never closed",
			    s->openc[col]);
			return -1;
		}
		if (s->p == s->end) {
			t->kind = s->bol ? T_EOF : T_NL;
			s->bol = 1;
			return 0;
		}
		if (*s->p == '#') {
			while (s->p < s->end && *s->p != '\n' && *s->p != '\r')
				s->p++;
			continue;
		}
		if ((nl = newline(s, s->p)) > 0) {
			s->p += nl;
			s->line++;
			if (s->paren > 0 || s->bol)
				continue;
			s->bol = 1;
			t->kind = T_NL;
			return 0;
		}
		if (*s->p == '\\' && (nl = newline(s, s->p + 1)) > 0) {
			s->p += 1 + nl;
			s->line++;
			continue;
		}
		break;
	}
	if (!s->bol)
		t->indent = -1;
	s->bol = 0;
	if (isdigit((unsigned char)*s->p) || (*s->p == '.' &&
	    s->p + 1 < s->end && isdigit((unsigned char)s->p[1])))
		return lex_number(s, t);
	if (namechar((unsigned char)*s->p))
		return lex_name(s, t);
	if (*s->p == '"' || *s->p == '\'')
		return lex_string(s, t, 0);
	t->kind = T_OP;
	t->s = s->p++;
	t->len = 1;
	if (strchr("([{", *t->s)) {
		if (s->paren < PYLIT_DEPTH + 8) {
			s->openc[s->paren] = *t->s;
			s->openl[s->paren] = t->line;
		}
		s->paren++;
	}
	else if (strchr(")]}", *t->s) && s->paren > 0)
		s->paren--;
	return 0;
}

static int
next(struct pl *s, struct tok *t)
{
	if (s->have) {
		*t = s->la;
		s->have = 0;
		return 0;
	}
	return lex(s, t);
}

static struct tok *
peek(struct pl *s)
{
	if (!s->have) {
		if (lex(s, &s->la))
			return NULL;
		s->have = 1;
	}
	return &s->la;
}

static jv value(struct pl *, struct tok *);

/* Refuses an operator right after a value: "1 + 2", "f(x)", "a.b". */
static int
after_value(struct pl *s)
{
	struct tok *t;

	if ((t = peek(s)) == NULL)
		return -1;
	if (t->kind == T_OP && strchr("+-*/%@<>!&|^~.([", *t->s) &&
	    *t->s != '\0') {
		fail(s, t->line, "operator %s is not a literal", what(t));
		return -1;
	}
	if (is_keyword(t)) {
		fail(s, t->line, "expression with %s is not a literal",
		    what(t));
		return -1;
	}
	return 0;
}

/* The elements of a list, tuple or set up to close, after the first. */
static jv
elements(struct pl *s, jv arr, char close)
{
	struct tok t;
	jv v;

	for (;;) {
		if (next(s, &t))
			goto bad;
		if (is_op(&t, close))
			return arr;
		if (s->nest == 1 && jv_is_valid(s->items))
			s->items = jv_array_append(s->items,
			    jv_number(t.line));
		if (!jv_is_valid(v = value(s, &t)))
			goto bad;
		arr = jv_array_append(arr, v);
		if (next(s, &t))
			goto bad;
		if (is_op(&t, close))
			return arr;
		if (!is_op(&t, ',')) {
			fail(s, t.line, "expected \",\" or \"%c\", got %s",
			    close, what(&t));
			jv_free(t.val);
			goto bad;
		}
	}

bad:
	jv_free(arr);
	return jv_invalid();
}

/* A dict after "{KEY:"; consumes key. */
static jv
dict(struct pl *s, jv key, long line)
{
	struct tok t;
	jv obj = jv_object(), v;

	for (;;) {
		if (jv_get_kind(key) != JV_KIND_STRING) {
			fail(s, line, "dict key must be a string");
			jv_free(key);
			goto bad;
		}
		if (next(s, &t))
			goto key;
		if (!jv_is_valid(v = value(s, &t)))
			goto key;
		obj = jv_object_set(obj, key, v);
		if (next(s, &t))
			goto bad;
		if (is_op(&t, '}'))
			return obj;
		if (!is_op(&t, ',')) {
			fail(s, t.line, "expected \",\" or \"}\", got %s",
			    what(&t));
			jv_free(t.val);
			goto bad;
		}
		if (next(s, &t))
			goto bad;
		if (is_op(&t, '}'))
			return obj;
		line = t.line;
		if (!jv_is_valid(key = value(s, &t)))
			goto bad;
		if (next(s, &t))
			goto key;
		if (!is_op(&t, ':')) {
			fail(s, t.line, "expected \":\" after a dict key, "
			    "got %s", what(&t));
			jv_free(t.val);
			goto key;
		}
	}

key:
	jv_free(key);
bad:
	jv_free(obj);
	return jv_invalid();
}

static jv
container(struct pl *s, struct tok *open)
{
	struct tok t, *p;
	jv v;
	long line;

	if (++s->nest > PYLIT_DEPTH) {
		fail(s, open->line, "nesting deeper than %d", PYLIT_DEPTH);
		return jv_invalid();
	}
	if (*open->s == '[')
		v = elements(s, jv_array(), ']');
	else if (*open->s == '(') {
		if ((p = peek(s)) == NULL)
			return jv_invalid();
		if (is_op(p, ')')) {
			next(s, &t);
			v = jv_array();
			goto out;
		}
		if (s->nest == 1 && jv_is_valid(s->items))
			s->items = jv_array_append(s->items,
			    jv_number(p->line));
		if (next(s, &t) || !jv_is_valid(v = value(s, &t)))
			return jv_invalid();
		if (next(s, &t)) {
			jv_free(v);
			return jv_invalid();
		}
		if (is_op(&t, ')'))
			goto out;	/* parentheses, not a tuple */
		if (!is_op(&t, ',')) {
			fail(s, t.line, "expected \",\" or \")\", got %s",
			    what(&t));
			jv_free(t.val);
			jv_free(v);
			return jv_invalid();
		}
		v = elements(s, jv_array_append(jv_array(), v), ')');
	} else {
		if (next(s, &t))
			return jv_invalid();
		if (is_op(&t, '}')) {
			v = jv_object();
			goto out;
		}
		line = t.line;
		if (!jv_is_valid(v = value(s, &t)) || next(s, &t)) {
			jv_free(v);
			return jv_invalid();
		}
		if (!is_op(&t, ':') && s->nest == 1 && jv_is_valid(s->items))
			s->items = jv_array_append(s->items, jv_number(line));
		if (is_op(&t, ':'))
			v = dict(s, v, line);
		else if (is_op(&t, '}'))
			v = jv_array_append(jv_array(), v);
		else if (is_op(&t, ','))
			v = elements(s, jv_array_append(jv_array(), v), '}');
		else {
			fail(s, t.line, "expected \",\", \":\" or \"}\", "
			    "got %s", what(&t));
			jv_free(t.val);
			jv_free(v);
			return jv_invalid();
		}
	}

out:
	s->nest--;
	return v;
}

/* One value starting with t (consumed); invalid on error. */
static jv
value(struct pl *s, struct tok *t)
{
	struct tok u, *p;
	jv v;

	switch (t->kind) {
	case T_STR:
		v = t->val;
		while ((p = peek(s)) != NULL && p->kind == T_STR) {
			next(s, &u);
			v = jv_string_concat(v, u.val);
		}
		if (p == NULL) {
			jv_free(v);
			return jv_invalid();
		}
		break;
	case T_NUM:
		v = t->val;
		break;
	case T_NAME:
		if (is_name(t, "True"))
			v = jv_true();
		else if (is_name(t, "False"))
			v = jv_false();
		else if (is_name(t, "None"))
			v = jv_null();
		else if ((p = peek(s)) != NULL && is_op(p, '(')) {
			fail(s, t->line, "call of %s is not a literal",
			    what(t));
			return jv_invalid();
		} else {
			fail(s, t->line, "%s is not a literal", what(t));
			return jv_invalid();
		}
		break;
	case T_OP:
		if (strchr("([{", *t->s) && *t->s != '\0') {
			v = container(s, t);
			break;
		}
		if (*t->s == '-' || *t->s == '+') {
			if (next(s, &u))
				return jv_invalid();
			if (u.kind != T_NUM) {
				fail(s, t->line, "\"%c\" applied to %s is not "
				    "a literal", *t->s, what(&u));
				jv_free(u.val);
				return jv_invalid();
			}
			v = u.val;
			if (*t->s == '-' && jv_number_value(v) != 0)
				v = jv_number(-jv_number_value(v));
			break;
		}
		/* FALLTHROUGH */
	default:
		fail(s, t->line, "expected a value, got %s", what(t));
		jv_free(t->val);
		return jv_invalid();
	}
	if (!jv_is_valid(v))
		return v;
	if (after_value(s)) {
		jv_free(v);
		return jv_invalid();
	}
	return v;
}

/* Skips tokens up to the end of the logical line, not consuming it. */
static int
skip_line(struct pl *s)
{
	struct tok *p, t;

	while ((p = peek(s)) != NULL && p->kind != T_NL && p->kind != T_EOF) {
		next(s, &t);
		jv_free(t.val);
	}
	return p == NULL ? -1 : 0;
}

/* NAME = VALUE or NAME: TYPE [= VALUE], after NAME and the '=' or ':'. */
static int
assign(struct pl *s, const struct tok *name, const struct tok *op,
    jv *out, jv *lines)
{
	struct tok t, *p;
	jv v = jv_invalid(), key;
	int depth = s->paren;

	if (is_op(op, ':')) {
		/* the annotation is skipped, never read */
		for (;;) {
			if ((p = peek(s)) == NULL)
				return -1;
			if (p->kind == T_NL || p->kind == T_EOF ||
			    (is_op(p, ';') && s->paren == depth))
				return 0;
			next(s, &t);
			jv_free(t.val);
			if (is_op(&t, '=') && s->paren == depth)
				break;
		}
	}
	key = jv_string_sized(name->s, (int)name->len);
	if (strcmp(jv_string_value(key), "__class__") == 0) {
		fail(s, name->line, "the name \"__class__\" is reserved");
		jv_free(key);
		return -1;
	}
	s->items = jv_array_append(jv_array(), jv_number(name->line));
	if (next(s, &t) || !jv_is_valid(v = value(s, &t)))
		goto bad;
	if ((p = peek(s)) == NULL)
		goto bad;
	if (is_op(p, ',')) {
		/* a tuple without parentheses: x = 1, 2 */
		v = jv_array_append(jv_array(), v);
		s->nest++;
		while ((p = peek(s)) != NULL && is_op(p, ',')) {
			next(s, &t);
			if ((p = peek(s)) == NULL)
				break;
			if (p->kind == T_NL || p->kind == T_EOF ||
			    is_op(p, ';'))
				break;
			next(s, &t);
			if (!jv_is_valid(t.val = value(s, &t)))
				break;
			v = jv_array_append(v, t.val);
		}
		s->nest--;
		if (s->failed)
			goto bad;
	}
	*out = jv_object_set(*out, jv_copy(key), v);
	*lines = jv_object_set(*lines, key, s->items);
	s->items = jv_invalid();
	return 0;

bad:
	if (jv_is_valid(v))
		jv_free(v);
	jv_free(key);
	jv_free(s->items);
	s->items = jv_invalid();
	return -1;
}

/* One simple statement starting with t. */
static int
simple(struct pl *s, struct tok *t, jv *out, jv *lines)
{
	struct tok u;
	jv v;

	if (t->kind == T_STR) {
		/* a docstring, or any string standing alone */
		if (!jv_is_valid(v = value(s, t)))
			return -1;
		jv_free(v);
		return 0;
	}
	if (is_name(t, "pass"))
		return 0;
	if (is_name(t, "import") || is_name(t, "from"))
		return skip_line(s);
	if (t->kind == T_NAME && !is_keyword(t) && !is_name(t, "class")) {
		if (next(s, &u))
			return -1;
		if (is_op(&u, '=') || is_op(&u, ':'))
			return assign(s, t, &u, out, lines);
		fail(s, u.line, "expected \"=\" after %s, got %s", what(t),
		    what(&u));
		jv_free(u.val);
		return -1;
	}
	fail(s, t->line, "expected an assignment, got %s", what(t));
	jv_free(t->val);
	return -1;
}

/* The simple statements of one line, separated by ';', up to its end. */
static int
simple_line(struct pl *s, struct tok *t, jv *out, jv *lines)
{
	struct tok u;

	for (;;) {
		if (simple(s, t, out, lines) || next(s, &u))
			return -1;
		if (u.kind == T_NL || u.kind == T_EOF)
			return 0;
		if (!is_op(&u, ';')) {
			fail(s, u.line, "expected end of line, got %s",
			    what(&u));
			jv_free(u.val);
			return -1;
		}
		if (next(s, t))
			return -1;
		if (t->kind == T_NL || t->kind == T_EOF)
			return 0;
	}
}

/* class NAME[(BASES)]: after "class"; sets *block when a body follows. */
static int
class(struct pl *s, jv *out, jv *lines, int *block)
{
	struct tok t;
	jv names;
	int depth;

	if (next(s, &t))
		return -1;
	if (t.kind != T_NAME || is_keyword(&t)) {
		fail(s, t.line, "expected a class name, got %s", what(&t));
		jv_free(t.val);
		return -1;
	}
	names = jv_object_get(jv_copy(*out), jv_string("__class__"));
	names = jv_array_append(names, jv_string_sized(t.s, (int)t.len));
	*out = jv_object_set(*out, jv_string("__class__"), names);
	if (next(s, &t))
		return -1;
	if (is_op(&t, '(')) {
		/* the bases are skipped, never read */
		depth = s->paren - 1;
		while (s->paren > depth) {
			if (next(s, &t))
				return -1;
			jv_free(t.val);
			if (t.kind == T_EOF)
				break;
		}
		if (next(s, &t))
			return -1;
	}
	if (!is_op(&t, ':')) {
		fail(s, t.line, "expected \":\" after the class name, got %s",
		    what(&t));
		jv_free(t.val);
		return -1;
	}
	if (next(s, &t))
		return -1;
	if (t.kind == T_NL || t.kind == T_EOF) {
		*block = 1;
		return 0;
	}
	return simple_line(s, &t, out, lines);
}

jv
loom_pylit_parse_lines(const char *buf, size_t len, const char *name,
    jv *linesp, char *err)
{
	struct pl s;
	struct tok t;
	const char *nul;
	jv out, lines;
	int ind[PYLIT_INDENTS], nind = 1, block = 0;

	memset(&s, 0, sizeof(s));
	s.p = buf;
	s.end = buf + len;
	s.name = name;
	s.err = err;
	s.line = 1;
	s.bol = 1;
	s.items = jv_invalid();
	ind[0] = 0;
	out = jv_object_set(jv_object(), jv_string("__class__"), jv_array());
	lines = jv_object();
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		s.p += 3;
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		for (; buf < nul; buf++)
			s.line += *buf == '\n';
		fail(&s, s.line, "NUL byte");
		goto bad;
	}
	for (;;) {
		if (next(&s, &t))
			goto bad;
		if (t.kind == T_EOF)
			break;
		if (t.kind == T_NL)
			continue;
		if (block) {
			if (t.indent <= ind[nind - 1]) {
				fail(&s, t.line, "expected an indented block "
				    "after the class line");
				goto tbad;
			}
			if (nind == PYLIT_INDENTS) {
				fail(&s, t.line, "classes nested too deep");
				goto tbad;
			}
			ind[nind++] = t.indent;
			block = 0;
		} else if (t.indent > ind[nind - 1]) {
			fail(&s, t.line, "unexpected indent");
			goto tbad;
		}
		while (t.indent < ind[nind - 1])
			nind--;
		if (t.indent != ind[nind - 1]) {
			fail(&s, t.line, "unindent does not match any outer "
			    "indentation level");
			goto tbad;
		}
		if (is_op(&t, '@')) {
			if (skip_line(&s))	/* a decorator */
				goto bad;
			continue;
		}
		if (is_name(&t, "class")) {
			if (class(&s, &out, &lines, &block))
				goto bad;
		} else if (simple_line(&s, &t, &out, &lines))
			goto bad;
	}
	if (block) {
		fail(&s, t.line, "expected an indented block after the class "
		    "line");
		goto bad;
	}
	free(s.buf);
	if (linesp != NULL)
		*linesp = lines;
	else
		jv_free(lines);
	return out;

tbad:
	jv_free(t.val);
bad:
	if (s.have)
		jv_free(s.la.val);
	jv_free(s.items);
	free(s.buf);
	jv_free(out);
	jv_free(lines);
	if (linesp != NULL)
		*linesp = jv_invalid();
	return jv_invalid();
}

jv
loom_pylit_parse(const char *buf, size_t len, const char *name, char *err)
{
	return loom_pylit_parse_lines(buf, len, name, NULL, err);
}

/*
 * Looks at the first line that is not blank or a comment: "class X",
 * "import", "from", a docstring, "NAME =" or "NAME: TYPE =".
 */
int
loom_pylit_sniff(const char *buf, size_t len)
{
	static const char *starts[] = {
		"class ", "import ", "from ", "def ", "async ", "if ",
		"for ", "while ", "with ", NULL
	};
	const char *p = buf, *end = buf + len, *e, *q;
	size_t n, i;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p += 3;
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
	for (e = p; e < end && *e != '\n'; e++)
		;
	n = (size_t)(e - p);
	if (*p == '"' || *p == '\'')
		return 1;
	for (i = 0; starts[i] != NULL; i++)
		if (n > strlen(starts[i]) &&
		    memcmp(p, starts[i], strlen(starts[i])) == 0 &&
		    (isalpha((unsigned char)p[strlen(starts[i])]) ||
		    p[strlen(starts[i])] == '_'))
			return 1;
	if (!isalpha((unsigned char)*p) && *p != '_')
		return 0;
	for (q = p; q < e && (isalnum((unsigned char)*q) || *q == '_'); q++)
		;
	while (q < e && (*q == ' ' || *q == '\t'))
		q++;
	if (q < e && *q == '=')
		return q + 1 == e || q[1] != '=';
	if (q == e || *q != ':')
		return 0;
	/* NAME: TYPE = ...: the type is a dotted name, maybe subscripted */
	for (q++; q < e && (*q == ' ' || *q == '\t'); q++)
		;
	if (q == e || (!isalpha((unsigned char)*q) && *q != '_'))
		return 0;
	while (q < e && (isalnum((unsigned char)*q) || (strchr("_.[],",
	    *q) != NULL && *q != '\0') || (*q == ' ' && q[-1] == ',')))
		q++;
	while (q < e && (*q == ' ' || *q == '\t'))
		q++;
	return q < e && *q == '=' && (q + 1 == e || q[1] != '=');
}
