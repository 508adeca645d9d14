/*
 * loom-parse: read plans written as JSON, as Loom's Python literals or in
 * loom's hand-written format, and write loom's records, one JSON object a
 * line: the plan record first, then the tasks and any other records in
 * input order.  The form of each file is recognised from its first
 * significant line.  Every input is read before anything is written, so
 * bad input produces messages and no records.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loom.h"

static const char usage_text[] =
    "usage: loom-parse [-c] [-o file] [file ...]\n"
    "       loom-parse [-c] [-o file] --compile cmd prompt\n";

/* Where a task was read, for the graph's messages. */
struct spot {
	const char	*file;
	long		 line;
};

struct parse {
	jv		 plan;		/* the plan fields so far, or invalid */
	jv		 recs;		/* every other record, in order */
	const char	*name;		/* the file being read, for messages */
	char		 err[LOOM_ERRLEN];
	struct spot	*spot;		/* per task, in order */
	size_t		 nspot, capspot;
};

/* The task fields loom reads or writes: a field a letter or two away
 * from one of them is most likely a typing slip. */
static const char *const task_fields[] = {
	"type", "id", "description", "requires", "depends_on", "role",
	"outputs_to", "run", "timeout", "retries", "estimate", "agent",
	"level", NULL
};

static int
bad(struct parse *p, long line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, sizeof(p->err), "%s:%ld: ", p->name, line);
	if (n < 0 || (size_t)n >= sizeof(p->err))
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, sizeof(p->err) - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* A value for a message: a string quoted, anything else as JSON, cut. */
static const char *
show(jv v)
{
	static char b[2][72];
	static int i;
	jv d;

	if (jv_get_kind(v) == JV_KIND_STRING)
		return loom_q(jv_string_value(v));
	i = !i;
	d = jv_dump_string(jv_copy(v), 0);
	snprintf(b[i], sizeof(b[i]), "%.60s%s", jv_string_value(d),
	    jv_string_length_bytes(jv_copy(d)) > 60 ? "..." : "");
	jv_free(d);
	return b[i];
}

static int
has_nul(jv s)
{
	return (size_t)jv_string_length_bytes(jv_copy(s)) !=
	    strlen(jv_string_value(s));
}

static int
string_list(jv v)
{
	int ok = jv_get_kind(v) == JV_KIND_ARRAY;

	if (ok)
		jv_array_foreach(v, i, e) {
			ok = ok && jv_get_kind(e) == JV_KIND_STRING;
			jv_free(e);
		}
	return ok;
}

/*
 * Checks one field of task id; consumes v, returns it (maybe defaulted)
 * or an invalid jv after filling p->err.
 */
static jv
check_field(struct parse *p, long line, const char *id, const char *key,
    jv v)
{
	char why[LOOM_ERRLEN];
	double d;

	if (strcmp(key, "description") == 0 || strcmp(key, "role") == 0 ||
	    strcmp(key, "run") == 0 || strcmp(key, "outputs_to") == 0) {
		if (!jv_is_valid(v) && strcmp(key, "description") == 0)
			return jv_string("");
		if (jv_get_kind(v) != JV_KIND_STRING) {
			bad(p, line, "task %s: \"%s\" must be a string, got %s",
			    loom_q(id), key, show(v));
			goto no;
		}
		if (strcmp(key, "outputs_to") != 0)
			return v;
		if (has_nul(v)) {
			bad(p, line, "task %s: \"outputs_to\" holds a NUL "
			    "byte", loom_q(id));
			goto no;
		}
		if (loom_path_check(jv_string_value(v), why) != 0) {
			bad(p, line, "task %s: bad \"outputs_to\": %s",
			    loom_q(id), why);
			goto no;
		}
		return v;
	}
	if (strcmp(key, "requires") == 0 || strcmp(key, "depends_on") == 0) {
		if (!jv_is_valid(v))
			return jv_array();
		if (!string_list(v)) {
			bad(p, line, "task %s: \"%s\" must be a list of "
			    "strings, got %s", loom_q(id), key, show(v));
			goto no;
		}
		return v;
	}
	if (strcmp(key, "timeout") == 0 || strcmp(key, "estimate") == 0 ||
	    strcmp(key, "retries") == 0) {
		d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : -1;
		if (d < 0 || (strcmp(key, "retries") == 0 && d != floor(d))) {
			bad(p, line, "task %s: \"%s\" must be a %s, got %s",
			    loom_q(id), key, strcmp(key, "retries") == 0 ?
			    "whole number >= 0" : "number of seconds >= 0",
			    show(v));
			goto no;
		}
		return v;
	}
	return v;	/* not ours: passes through */

no:
	jv_free(v);
	return jv_invalid();
}

/* The edit distance between a and b (insertions, deletions, changes and
 * swaps of neighbours), or a number over max once it is sure to be. */
static size_t
distance(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[3][32], best, c;

	if (la >= 32 || lb >= 32 || (la > lb ? la - lb : lb - la) > max)
		return max + 1;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		size_t *row = d[i % 3], *up = d[(i - 1) % 3];

		row[0] = i;
		best = i;
		for (j = 1; j <= lb; j++) {
			c = up[j - 1] + (a[i - 1] != b[j - 1]);
			if (up[j] + 1 < c)
				c = up[j] + 1;
			if (row[j - 1] + 1 < c)
				c = row[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[(i - 2) % 3][j - 2] + 1 <
			    c)
				c = d[(i - 2) % 3][j - 2] + 1;
			row[j] = c;
			if (c < best)
				best = c;
		}
		if (best > max)
			return max + 1;
	}
	return d[la % 3][lb];
}

/* key without case, '_' and '-', into buf. */
static const char *
fold(const char *key, char *buf, size_t size)
{
	size_t n = 0;

	for (; *key != '\0' && n + 1 < size; key++)
		if (*key != '_' && *key != '-')
			buf[n++] = (char)(*key >= 'A' && *key <= 'Z' ?
			    *key - 'A' + 'a' : *key);
	buf[n] = '\0';
	return buf;
}

/* The task field key was probably meant to be, or NULL: the same letters
 * but for case, '_' and '-' (dependsOn), or one slip away (two for long
 * names) from a field of five letters or more. */
static const char *
meant(const char *key)
{
	char a[64], b[64];
	size_t i, len;

	for (i = 0; task_fields[i] != NULL; i++)
		if (strcmp(key, task_fields[i]) == 0)
			return NULL;
	for (i = 0; task_fields[i] != NULL; i++) {
		len = strlen(task_fields[i]);
		if (strcmp(fold(key, a, sizeof(a)), fold(task_fields[i], b,
		    sizeof(b))) == 0 || (len >= 5 &&
		    distance(key, task_fields[i], len >= 8 ? 2 : 1) <=
		    (len >= 8 ? 2u : 1u)))
			return task_fields[i];
	}
	return NULL;
}

/* Normalises and checks a task record.  Consumes t. */
static int
add_task(struct parse *p, jv t, long line)
{
	static const char *first[] = {
		"description", "requires", "depends_on", NULL
	};
	jv id, out, v;
	const char *key, *like;
	int i, rc = 0;

	id = jv_object_get(jv_copy(t), jv_string("id"));
	if (!jv_is_valid(id))
		rc = bad(p, line, "task without \"id\"");
	else if (jv_get_kind(id) != JV_KIND_STRING ||
	    jv_string_length_bytes(jv_copy(id)) == 0)
		rc = bad(p, line, "task \"id\" must be a non-empty string, "
		    "got %s", show(id));
	else if (has_nul(id))
		rc = bad(p, line, "task \"id\" holds a NUL byte");
	if (rc != 0) {
		jv_free(id);
		jv_free(t);
		return -1;
	}
	out = jv_object_set(jv_object(), jv_string("type"),
	    jv_string("task"));
	out = jv_object_set(out, jv_string("id"), jv_copy(id));
	for (i = 0; first[i] != NULL; i++) {
		v = jv_object_get(jv_copy(t), jv_string(first[i]));
		v = check_field(p, line, jv_string_value(id), first[i], v);
		if (!jv_is_valid(v))
			goto no;
		out = jv_object_set(out, jv_string(first[i]), v);
	}
	jv_object_foreach(t, k, val) {
		key = jv_string_value(k);
		if ((like = meant(key)) != NULL)
			warnx("%s:%ld: task %s: field %s is not one loom "
			    "reads; did you mean \"%s\"?", p->name, line,
			    loom_q(jv_string_value(id)), loom_q(key), like);
		if (strcmp(key, "type") == 0 || strcmp(key, "id") == 0 ||
		    strcmp(key, "description") == 0 ||
		    strcmp(key, "requires") == 0 ||
		    strcmp(key, "depends_on") == 0) {
			jv_free(k);
			jv_free(val);
			continue;
		}
		val = check_field(p, line, jv_string_value(id), key, val);
		if (!jv_is_valid(val)) {
			jv_free(k);
			goto no;
		}
		out = jv_object_set(out, k, val);
	}
	jv_free(id);
	jv_free(t);
	if (loom_grow((void **)&p->spot, &p->capspot, p->nspot + 1,
	    sizeof(*p->spot)) != 0)
		err(2, NULL);
	p->spot[p->nspot].file = p->name;
	p->spot[p->nspot++].line = line;
	p->recs = jv_array_append(p->recs, out);
	return 0;

no:
	jv_free(id);
	jv_free(t);
	jv_free(out);
	return -1;
}

/* Adds plan fields (all of obj but "type"); consumes obj. */
static int
add_plan(struct parse *p, jv obj, long line)
{
	jv old;
	int rc = 0;

	if (!jv_is_valid(p->plan))
		p->plan = jv_object_set(jv_object(), jv_string("type"),
		    jv_string("plan"));
	jv_object_foreach(obj, k, v) {
		if (rc != 0 || strcmp(jv_string_value(k), "type") == 0) {
			jv_free(k);
			jv_free(v);
			continue;
		}
		old = jv_object_get(jv_copy(p->plan), jv_copy(k));
		if (jv_is_valid(old) && !jv_equal(old, jv_copy(v))) {
			rc = bad(p, line, "plan field %s given twice with "
			    "different values", show(k));
			jv_free(k);
			jv_free(v);
			continue;
		}
		if (!jv_is_valid(old))
			jv_free(old);
		p->plan = jv_object_set(p->plan, k, v);
	}
	jv_free(obj);
	return rc;
}

/* One record: a task, a plan, or another type passing through. */
static int
add_record(struct parse *p, jv r, long line)
{
	jv type;

	if (jv_get_kind(r) != JV_KIND_OBJECT) {
		bad(p, line, "expected an object, got %s", show(r));
		jv_free(r);
		return -1;
	}
	type = loom_get(r, "type");
	if (jv_get_kind(type) == JV_KIND_NULL) {
		jv_free(type);
		if (jv_object_has(jv_copy(r), jv_string("id")))
			return add_task(p, r, line);
		jv_free(r);
		return bad(p, line, "record without \"type\" or \"id\"");
	}
	if (jv_get_kind(type) != JV_KIND_STRING) {
		bad(p, line, "\"type\" must be a string, got %s", show(type));
		jv_free(type);
		jv_free(r);
		return -1;
	}
	if (strcmp(jv_string_value(type), "task") == 0) {
		jv_free(type);
		return add_task(p, r, line);
	}
	if (strcmp(jv_string_value(type), "plan") == 0) {
		jv_free(type);
		return add_plan(p, r, line);
	}
	jv_free(type);
	p->recs = jv_array_append(p->recs, r);
	return 0;
}

/* Records from an array; lines holds each element's line, or is short. */
static int
add_records(struct parse *p, jv arr, jv lines, long line)
{
	jv l;
	int n, i, rc = 0;

	n = jv_array_length(jv_copy(arr));
	for (i = 0; i < n && rc == 0; i++) {
		l = jv_array_get(jv_copy(lines), i);
		rc = add_record(p, jv_array_get(jv_copy(arr), i),
		    jv_get_kind(l) == JV_KIND_NUMBER ?
		    (long)jv_number_value(l) : line);
		jv_free(l);
	}
	jv_free(arr);
	jv_free(lines);
	return rc;
}

/*
 * The lines on which the elements of the JSON array in raw start, or
 * with key, of the array under that key of the object in raw.  raw starts
 * on line.  Returns a new array of numbers.
 */
static jv
element_lines(const char *raw, size_t n, long line, const char *key)
{
	size_t i, klen = key ? strlen(key) : 0, ks = 0;
	int depth = 0, target = key ? -1 : 1, want = 0, keyhit = 0;
	jv out = jv_array();

	for (i = 0; i < n; i++) {
		if (raw[i] == '\n') {
			line++;
			continue;
		}
		if (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\r')
			continue;
		if (want) {
			want = 0;
			if (raw[i] != ']')
				out = jv_array_append(out, jv_number(line));
		}
		if (raw[i] == '"') {
			ks = i + 1;
			for (i++; i < n && raw[i] != '"'; i++)
				if (raw[i] == '\\')
					i++;
			keyhit = key != NULL && depth == 1 && i - ks == klen &&
			    memcmp(raw + ks, key, klen) == 0;
			continue;
		}
		if (raw[i] == '[' || raw[i] == '{') {
			depth++;
			if (raw[i] == '[' && target < 0 && keyhit && depth == 2)
				target = 2;
			if (raw[i] == '[' && depth == target)
				want = 1;
		} else if (raw[i] == ']' || raw[i] == '}') {
			if (depth == target && target == 2)
				target = -2;	/* done with the tasks */
			depth--;
		} else if (raw[i] == ',' && depth == target)
			want = 1;
		if (raw[i] != ':')
			keyhit = keyhit && raw[i] == '"';
	}
	return out;
}

/* One top-level JSON value: records, an array of them, or a wrapper. */
static int
add_json(struct parse *p, jv v, const char *raw, size_t n, long line)
{
	jv tasks;

	if (jv_get_kind(v) == JV_KIND_ARRAY)
		return add_records(p, v, element_lines(raw, n, line, NULL),
		    line);
	if (jv_get_kind(v) != JV_KIND_OBJECT ||
	    jv_object_has(jv_copy(v), jv_string("type")) ||
	    !jv_object_has(jv_copy(v), jv_string("tasks")))
		return add_record(p, v, line);

	/* {"version": 1, ..., "tasks": [...]} */
	tasks = jv_object_get(jv_copy(v), jv_string("tasks"));
	if (jv_get_kind(tasks) != JV_KIND_ARRAY) {
		bad(p, line, "\"tasks\" must be a list, got %s", show(tasks));
		jv_free(tasks);
		jv_free(v);
		return -1;
	}
	v = jv_object_delete(v, jv_string("tasks"));
	if (jv_object_length(jv_copy(v)) == 0)
		jv_free(v);
	else if (add_plan(p, v, line) != 0) {
		jv_free(tasks);
		return -1;
	}
	return add_records(p, tasks, element_lines(raw, n, line, "tasks"),
	    line);
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* JSON values, read by lib/reader.c from the buffer a line at a time. */
static int
read_json(struct parse *p, const char *buf, size_t len)
{
	struct loom_reader *r;
	const char *raw, *lpos = buf;
	size_t n;
	off_t off;
	long line = 1;
	jv v;
	int rc;

	if ((r = loom_reader_open_mem(buf, len, p->name, p->err)) == NULL)
		return -1;
	while ((rc = loom_reader_next(r, &v, p->err)) == 1) {
		raw = loom_reader_raw(r, &n, &off);
		for (; lpos < buf + off; lpos++)
			line += *lpos == '\n';
		if ((rc = add_json(p, v, raw, n, line)) != 0)
			break;
	}
	loom_reader_close(r);
	return rc;
}

static int
read_python(struct parse *p, const char *buf, size_t len)
{
	jv all, lines, l;
	long line;
	int rc = 0;

	all = loom_pylit_parse_lines(buf, len, p->name, &lines, p->err);
	if (!jv_is_valid(all))
		return -1;
	all = jv_object_delete(all, jv_string("__class__"));
	jv_object_foreach(all, k, v) {
		if (rc != 0) {
			jv_free(k);
			jv_free(v);
			continue;
		}
		l = jv_object_get(jv_copy(lines), jv_copy(k));
		line = (long)jv_number_value(jv_array_get(jv_copy(l), 0));
		if (strcmp(jv_string_value(k), "tasks") == 0) {
			if (jv_get_kind(v) != JV_KIND_ARRAY) {
				rc = bad(p, line, "\"tasks\" must be a list, "
				    "got %s", show(v));
				jv_free(v);
				jv_free(l);
			} else
				rc = add_records(p, v, jv_array_slice(l, 1,
				    jv_array_length(jv_copy(l))), line);
			jv_free(k);
		} else {
			jv_free(l);
			rc = add_plan(p, jv_object_set(jv_object(), k, v),
			    line);
		}
	}
	jv_free(all);
	jv_free(lines);
	return rc;
}

static int
read_hand(struct parse *p, const char *buf, size_t len)
{
	jv recs, lines;

	recs = loom_hand_parse(buf, len, p->name, &lines, p->err);
	if (!jv_is_valid(recs))
		return -1;
	return add_records(p, recs, lines, 0);
}

/* Reads a plan in whatever form it is; 0, or -1 with p->err. */
static int
read_buffer(struct parse *p, const char *buf, size_t len)
{
	const char *s = buf, *nul;
	long line;
	int rc;


	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		for (line = 1; s < nul; s++)
			line += *s == '\n';
		rc = bad(p, line, "NUL byte in input");
	} else {
		while (s < buf + len && is_ws(*s))
			s++;
		if (s < buf + len && (*s == '{' || *s == '['))
			rc = read_json(p, buf, len);
		else if (loom_pylit_sniff(buf, len))
			rc = read_python(p, buf, len);
		else
			rc = read_hand(p, buf, len);
	}
	return rc;
}

/* Reads one file.  Returns 0, 1 or 2. */
static int
read_file(struct parse *p, const char *path)
{
	char *buf;
	size_t len;
	int rc;

	if ((buf = loom_slurp(path, &len, p->err)) == NULL) {
		warnx("%s", p->err);
		return 2;
	}
	p->name = strcmp(path, "-") == 0 ? "stdin" : path;
	rc = read_buffer(p, buf, len);
	free(buf);
	if (rc != 0) {
		warnx("%s", p->err);
		return 1;
	}
	return 0;
}

/* loom_compile_checked's check: the answer must read as a plan with at
 * least one task. */
static int
check_answer(void *ctx, const char *plan, size_t len, char *msg)
{
	struct parse q;
	jv t;
	int rc, n = 0;

	(void)ctx;
	memset(&q, 0, sizeof(q));
	q.plan = jv_invalid();
	q.recs = jv_array();
	q.name = "answer";
	if ((rc = read_buffer(&q, plan, len)) != 0)
		snprintf(msg, LOOM_ERRLEN, "%s", q.err);
	else {
		jv_array_foreach(q.recs, i, r) {
			t = loom_get(r, "type");
			n += jv_get_kind(t) == JV_KIND_STRING &&
			    strcmp(jv_string_value(t), "task") == 0;
			jv_free(t);
			jv_free(r);
		}
		if (n == 0) {
			snprintf(msg, LOOM_ERRLEN, "the answer holds no task");
			rc = -1;
		}
	}
	jv_free(q.plan);
	jv_free(q.recs);
	free(q.spot);
	return rc;
}

static void
graph_report(void *ctx, long task, const char *msg)
{
	struct parse *p = ctx;

	if (task < 0)
		warnx("%s", msg);
	else
		warnx("%s:%ld: %s", p->spot[task].file, p->spot[task].line,
		    msg);
}

/* --check: the graph checks of loom-levels, with the plan's own file and
 * line in the messages.  Returns 0, or 1 with the problems told. */
static int
check_graph(struct parse *p)
{
	struct loom_graph *g;
	size_t n = 0, bad = 0, *spot_of;
	long t, first;
	jv type, id, deps;

	/* graph number -> spot: they differ once a duplicate took none */
	if ((g = loom_graph_new()) == NULL || (spot_of = malloc((p->nspot ?
	    p->nspot : 1) * sizeof(*spot_of))) == NULL)
		err(2, NULL);
	jv_array_foreach(p->recs, i, r) {
		(void)i;
		type = loom_get(r, "type");
		if (strcmp(jv_string_value(type), "task") != 0) {
			jv_free(type);
			jv_free(r);
			continue;
		}
		id = loom_get(r, "id");
		deps = loom_get(r, "depends_on");
		t = loom_graph_add(g, jv_string_value(id),
		    (size_t)jv_string_length_bytes(jv_copy(id)), &first);
		if (t == -2)
			err(2, NULL);
		if (t == -1) {
			warnx("%s:%ld: duplicate task id %s (first at %s:%ld)",
			    p->spot[n].file, p->spot[n].line,
			    loom_q(jv_string_value(id)),
			    p->spot[spot_of[first]].file,
			    p->spot[spot_of[first]].line);
			bad++;
		} else {
			spot_of[t] = n;
			jv_array_foreach(deps, j, d) {
				(void)j;
				if (loom_graph_add_dep(g, jv_string_value(d),
				    (size_t)jv_string_length_bytes(jv_copy(d)))
				    != 0)
					err(2, NULL);
				jv_free(d);
			}
		}
		n++;
		jv_free(deps);
		jv_free(id);
		jv_free(type);
		jv_free(r);
	}
	/* Past a duplicate the graph's numbers are not the spots': the
	 * messages so far are enough. */
	if (bad == 0 && (bad = loom_graph_check(g, graph_report, p)) ==
	    (size_t)-1)
		err(2, NULL);
	loom_graph_free(g);
	free(spot_of);
	return bad > 0;
}

/* Writes the records to fp; 0 or -1 with errno. */
static int
write_all(FILE *fp, void *arg)
{
	struct parse *p = arg;

	if (jv_is_valid(p->plan) && loom_emit(fp, jv_copy(p->plan)) != 0)
		return -1;
	jv_array_foreach(p->recs, i, r)
		if (loom_emit(fp, r) != 0)
			return -1;
	return fflush(fp) == 0 && !ferror(fp) ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "check",	no_argument,		NULL, 'c' },
		{ "compile",	required_argument,	NULL, 'C' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "output",	required_argument,	NULL, 'o' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	struct parse p;
	const char *out = NULL, *cmd = NULL;
	char *buf;
	size_t len;
	int ch, i, r, rc = 0, check = 0;

	while ((ch = getopt_long(argc, argv, "cho:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			check = 1;
			break;
		case 'h':
			loom_usage(usage_text, 0);
		case 'o':
			out = optarg;
			break;
		case 'C':
			cmd = optarg;
			break;
		case 'V':
			loom_version();
		default:
			loom_usage(usage_text, 2);
		}
	}
	argc -= optind;
	argv += optind;

	memset(&p, 0, sizeof(p));
	p.plan = jv_invalid();
	p.recs = jv_array();
	if (cmd != NULL) {
		/* --compile CMD prompt: the plan comes from an agent */
		if (argc != 1)
			loom_usage(usage_text, 2);
		buf = loom_compile_checked(cmd, argv[0], check_answer, NULL,
		    &len, p.err);
		if (buf == NULL)
			errx(1, "%s", p.err);
		p.name = "answer";
		if (read_buffer(&p, buf, len) != 0)
			errx(1, "%s", p.err);
		free(buf);
		argc = -1;
	}
	for (i = 0; i < argc || (i == 0 && argc == 0); i++) {
		r = read_file(&p, argc == 0 ? "-" : argv[i]);
		if (r > rc)
			rc = r;
	}
	if (rc == 0 && check)
		rc = check_graph(&p);
	if (rc == 0) {
		if (out != NULL) {
			if (loom_replace(out, write_all, &p) != 0) {
				warn("%s", out);
				rc = 2;
			}
		} else if (write_all(stdout, &p) != 0) {
			warn("stdout");
			rc = 2;
		}
	}
	jv_free(p.plan);
	jv_free(p.recs);
	free(p.spot);
	if (fclose(stdout) != 0 && rc == 0) {
		warn("stdout");
		rc = 2;
	}
	return rc;
}
