/*
 * loom-levels: check a plan's task graph as a whole and give every task
 * its level, role, agent name and output path; or draw the graph.
 *
 * It reads every record before it writes one, so a plan with a duplicate
 * id, a dependency on nothing, a task that depends on itself or a cycle
 * produces messages and no records at all.  To stay within twice the
 * memory of jq streaming the same plan, a task is not kept as a parsed
 * value: the graph holds interned ids and numbered edges, and each record
 * is remembered by where its bytes are (in the file when it is a regular
 * one, else in one copy in memory).  On output the new fields are added
 * after the record's own bytes, which pass through untouched; a record
 * that already has one of them is parsed again and rewritten.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loom.h"

static const char usage_text[] =
    "usage: loom-levels [-w dir] [-d text | dot | mermaid] [file ...]\n";

/* What a task record already has. */
#define HAS_LEVEL	0x01
#define HAS_ROLE	0x02
#define HAS_AGENT	0x04
#define HAS_OUTPUT	0x08
#define MULTILINE	0x10
#define EXCEPTION	0x20	/* not alone on its line: length kept */

/* Where records' bytes are: the input file, or a copy in memory. */
struct source {
	int		 fd;		/* pread from here when >= 0 */
	char		*mem;
	size_t		 used, cap;
};

struct levels {
	struct loom_graph *g;
	struct source	 src;
	const char	**files;
	size_t		 nfiles;
	/* per task */
	uint32_t	*off;		/* in the file, or in src.mem */
	uint32_t	*line;		/* only when not read from a file */
	uint16_t	*file;
	unsigned char	*role8;		/* role numbers while under 256 */
	uint16_t	*role16;	/* then these */
	uint8_t		*flags;
	size_t		 cap;
	/* lengths of records that are not the rest of their line */
	uint32_t	*exc_task, *exc_len;
	size_t		 nexc, capexc;
	/* roles and agents */
	struct loom_map	*roles;
	uint32_t	*nextnum;	/* per role */
	struct loom_map	*agents;	/* names given in the input */
	struct loom_map	*outs;		/* outputs_to given, normalised */
	uint32_t	*out_task;	/* out number -> task */
	size_t		 capouts;
	/* the plan and the other records, compact, in input order */
	char		*plan;
	long		 planline;
	const char	*planfile;
	char		**other;
	size_t		 nother, capother;
	/* messages */
	size_t		 errors;
	size_t		 curfile;
	const char	*workdir;
};

static void
bad(struct levels *L, const char *file, long line, const char *fmt, ...)
    __attribute__((__format__(__printf__, 4, 5)));

static void
bad(struct levels *L, const char *file, long line, const char *fmt, ...)
{
	va_list ap;

	if (L->errors++ >= 50) {
		if (L->errors == 52)
			warnx("too many errors");
		return;
	}
	fprintf(stderr, "loom-levels: %s:%ld: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void *
xgrow(void *p, size_t n, size_t size)
{
	if ((p = realloc(p, n * size)) == NULL)
		err(2, NULL);
	return p;
}

static char *
copy_dump(jv v)
{
	jv s = jv_dump_string(v, 0);
	char *c = strdup(jv_string_value(s));

	jv_free(s);
	if (c == NULL)
		err(2, NULL);
	return c;
}

/* Keeps a record's bytes in memory and returns their offset there. */
static off_t
keep(struct levels *L, const char *raw, size_t len)
{
	off_t at;

	if (L->src.used + len > L->src.cap) {
		size_t cap = L->src.cap ? L->src.cap : 1 << 16;

		while (cap < L->src.used + len)
			cap *= 2;
		L->src.mem = xgrow(L->src.mem, cap, 1);
		L->src.cap = cap;
	}
	memcpy(L->src.mem + L->src.used, raw, len);
	at = (off_t)L->src.used;
	L->src.used += len;
	return at;
}

static int
is_string_array(jv a)
{
	int ok = loom_is_array(a);

	if (ok)
		jv_array_foreach(a, i, x) {
			(void)i;
			if (!loom_is_string(x))
				ok = 0;
			jv_free(x);
		}
	return ok;
}

static int
has_nul(jv s)
{
	return (size_t)jv_string_length_bytes(jv_copy(s)) !=
	    strlen(jv_string_value(s));
}

/* The file and line of task t.  Lines are not kept for a file that can
 * be read again: they are counted there, on the way to a message. */
static void
where(struct levels *L, size_t t, const char **filep, long *linep)
{
	char buf[65536];
	off_t at = 0;
	ssize_t n, i;
	long line = 1;

	if (L->line != NULL) {
		*filep = L->files[L->file[t]];
		*linep = (long)L->line[t];
		return;
	}
	*filep = L->files[0];
	while (at < (off_t)L->off[t]) {
		n = (off_t)L->off[t] - at < (off_t)sizeof(buf) ?
		    (ssize_t)(L->off[t] - at) : (ssize_t)sizeof(buf);
		if ((n = pread(L->src.fd, buf, (size_t)n, at)) <= 0)
			break;
		for (i = 0; i < n; i++)
			line += buf[i] == '\n';
		at += n;
	}
	*linep = line;
}

/* Writes p without "." components and repeated slashes into buf, so that
 * two spellings of one file compare equal. */
static const char *
normal_path(const char *p, char *buf, size_t size)
{
	size_t n = 0;
	const char *c = p, *end;

	while (*c != '\0' && n + 1 < size) {
		end = strchr(c, '/');
		if (end == NULL)
			end = c + strlen(c);
		if (end - c > 0 && !(end - c == 1 && *c == '.')) {
			if (n > 0 || *p == '/')
				buf[n++] = '/';
			while (c < end && n + 1 < size)
				buf[n++] = *c++;
		}
		c = *end == '/' ? end + 1 : end;
	}
	buf[n] = '\0';
	return buf;
}

/* Remembers task t's own output path; two tasks may not share one. */
static void
add_output(struct levels *L, long t, const char *path, const char *file,
    long line)
{
	char buf[4096];
	const char *norm = normal_path(path, buf, sizeof(buf));
	int isnew;
	long k = loom_map_intern(L->outs, norm, strlen(norm), &isnew);

	if (k < 0)
		err(2, NULL);
	if (!isnew) {
		bad(L, file, line, "task %s writes %s, the output of task %s",
		    loom_q(loom_graph_id(L->g, (size_t)t)), loom_q(path),
		    loom_q(loom_graph_id(L->g, L->out_task[k])));
		return;
	}
	if ((size_t)k >= L->capouts) {
		L->capouts = L->capouts ? L->capouts * 2 : 64;
		L->out_task = xgrow(L->out_task, L->capouts,
		    sizeof(*L->out_task));
	}
	L->out_task[k] = (uint32_t)t;
}

/* Checks a task record and adds it to the graph. */
static void
add_task(struct levels *L, struct loom_reader *r, jv v)
{
	const char *file = L->files[L->curfile];
	long line = loom_reader_line(r), first, t;
	jv id = loom_get(v, "id"), deps = loom_get(v, "depends_on");
	jv req = loom_get(v, "requires"), desc = loom_get(v, "description");
	jv role = loom_get(v, "role"), agent = loom_get(v, "agent");
	jv out = loom_get(v, "outputs_to");
	char msg[LOOM_ERRLEN];
	const char *raw, *rolename;
	size_t rawlen;
	off_t off;
	uint8_t flags = 0;
	long rn;

	if (!loom_is_string(id) || jv_string_length_bytes(jv_copy(id)) == 0 ||
	    has_nul(id)) {
		bad(L, file, line, "task id must be a non-empty string");
		goto done;
	}
	if (jv_get_kind(deps) != JV_KIND_NULL && !is_string_array(deps)) {
		bad(L, file, line, "task %s: depends_on must be an array of "
		    "strings", loom_q(jv_string_value(id)));
		goto done;
	}
	if (jv_get_kind(req) != JV_KIND_NULL && !is_string_array(req))
		bad(L, file, line, "task %s: requires must be an array of "
		    "strings", loom_q(jv_string_value(id)));
	if (jv_get_kind(desc) != JV_KIND_NULL && !loom_is_string(desc))
		bad(L, file, line, "task %s: description must be a string",
		    loom_q(jv_string_value(id)));
	if (jv_get_kind(role) != JV_KIND_NULL) {
		if (!loom_is_string(role) || !loom_name_ok(
		    jv_string_value(role)) || has_nul(role))
			bad(L, file, line, "task %s: bad role %s (roles match "
			    "[a-z][a-z0-9_]*)", loom_q(jv_string_value(id)),
			    loom_is_string(role) ? loom_q(jv_string_value(
			    role)) : "(not a string)");
		flags |= HAS_ROLE;
	}
	if (jv_get_kind(agent) != JV_KIND_NULL) {
		if (!loom_is_string(agent) || !loom_name_ok(
		    jv_string_value(agent)) || has_nul(agent))
			bad(L, file, line, "task %s: bad agent %s (agents "
			    "match [a-z][a-z0-9_]*)",
			    loom_q(jv_string_value(id)), loom_is_string(agent) ?
			    loom_q(jv_string_value(agent)) : "(not a string)");
		else {
			int isnew;
			const char *a = jv_string_value(agent);

			if (loom_map_intern(L->agents, a, strlen(a), &isnew) <
			    0)
				err(2, NULL);
			if (!isnew)
				bad(L, file, line, "task %s: agent %s is "
				    "given to another task too",
				    loom_q(jv_string_value(id)), loom_q(a));
		}
		flags |= HAS_AGENT;
	}
	if (jv_get_kind(out) != JV_KIND_NULL) {
		if (!loom_is_string(out) || has_nul(out))
			bad(L, file, line, "task %s: outputs_to must be a "
			    "string", loom_q(jv_string_value(id)));
		else if (loom_path_check(jv_string_value(out), msg) != 0)
			bad(L, file, line, "task %s: outputs_to: %s",
			    loom_q(jv_string_value(id)), msg);
		flags |= HAS_OUTPUT;
	}
	if (jv_object_has(jv_copy(v), jv_string("level")))
		flags |= HAS_LEVEL;

	t = loom_graph_add(L->g, jv_string_value(id),
	    (size_t)jv_string_length_bytes(jv_copy(id)), &first);
	if (t == -2)
		err(2, NULL);
	if (t == -1) {
		const char *ffile;
		long fline;

		where(L, (size_t)first, &ffile, &fline);
		bad(L, file, line, "duplicate task id %s (first at %s:%ld)",
		    loom_q(jv_string_value(id)), ffile, fline);
		goto done;
	}
	if (jv_get_kind(deps) == JV_KIND_ARRAY)
		jv_array_foreach(deps, i, d) {
			(void)i;
			if (loom_graph_add_dep(L->g, jv_string_value(d),
			    (size_t)jv_string_length_bytes(jv_copy(d))) != 0)
				err(2, NULL);
			jv_free(d);
		}

	rolename = loom_is_string(role) ? jv_string_value(role) :
	    loom_role_derive(req, loom_is_string(desc) ?
	    jv_string_value(desc) : NULL);
	if ((rn = loom_map_intern(L->roles, rolename, strlen(rolename),
	    NULL)) < 0 || rn > UINT16_MAX)
		errx(2, "too many roles");

	if ((flags & HAS_OUTPUT) && loom_is_string(out))
		add_output(L, t, jv_string_value(out), file, line);

	raw = loom_reader_raw(r, &rawlen, &off);
	if (memchr(raw, '\n', rawlen) != NULL)
		flags |= MULTILINE;
	if (rawlen > UINT32_MAX)
		errx(2, "%s:%ld: record too long", file, line);
	if ((size_t)t >= L->cap) {
		L->cap = L->cap ? L->cap * 2 : 1024;
		L->off = xgrow(L->off, L->cap, sizeof(*L->off));
		if (L->src.fd < 0) {
			L->line = xgrow(L->line, L->cap, sizeof(*L->line));
			L->file = xgrow(L->file, L->cap, sizeof(*L->file));
		}
		if (L->role16 != NULL)
			L->role16 = xgrow(L->role16, L->cap,
			    sizeof(*L->role16));
		else
			L->role8 = xgrow(L->role8, L->cap, 1);
		L->flags = xgrow(L->flags, L->cap, sizeof(*L->flags));
	}
	if (L->src.fd < 0)
		off = keep(L, raw, rawlen);
	if (off + (off_t)rawlen > UINT32_MAX)
		errx(2, "%s:%ld: plan too large (over 4 GiB)", file, line);
	L->off[t] = (uint32_t)off;
	if (L->src.fd >= 0 && ((flags & MULTILINE) || !loom_reader_alone(r))) {
		flags |= EXCEPTION;
		if (L->nexc == L->capexc) {
			L->capexc = L->capexc ? L->capexc * 2 : 16;
			L->exc_task = xgrow(L->exc_task, L->capexc,
			    sizeof(*L->exc_task));
			L->exc_len = xgrow(L->exc_len, L->capexc,
			    sizeof(*L->exc_len));
		}
		L->exc_task[L->nexc] = (uint32_t)t;
		L->exc_len[L->nexc++] = (uint32_t)rawlen;
	}
	if (L->src.fd < 0) {
		L->line[t] = (uint32_t)line;
		L->file[t] = (uint16_t)L->curfile;
	}
	if (rn > UCHAR_MAX && L->role16 == NULL) {
		size_t i;

		L->role16 = xgrow(NULL, L->cap, sizeof(*L->role16));
		for (i = 0; i < (size_t)t; i++)
			L->role16[i] = L->role8[i];
		free(L->role8);
		L->role8 = NULL;
	}
	if (L->role16 != NULL)
		L->role16[t] = (uint16_t)rn;
	else
		L->role8[t] = (unsigned char)rn;
	L->flags[t] = flags;
done:
	jv_free(v);
	jv_free(id);
	jv_free(deps);
	jv_free(req);
	jv_free(desc);
	jv_free(role);
	jv_free(agent);
	jv_free(out);
}

static void
read_file(struct levels *L, const char *path, int seekable)
{
	char errbuf[LOOM_ERRLEN];
	struct loom_reader *r;
	jv v, type;
	int rc;

	if ((r = loom_reader_open(path, errbuf)) == NULL)
		errx(2, "%s", errbuf);
	if ((L->files[L->curfile] = strdup(loom_reader_name(r))) == NULL)
		err(2, NULL);
	L->src.fd = seekable ? loom_reader_fd(r) : -1;
	while ((rc = loom_reader_next(r, &v, errbuf)) > 0) {
		const char *file = L->files[L->curfile];
		long line = loom_reader_line(r);

		if (!loom_is_object(v)) {
			bad(L, file, line, "record is not a JSON object");
			jv_free(v);
			continue;
		}
		type = loom_get(v, "type");
		if (!loom_is_string(type))
			bad(L, file, line, "record has no \"type\"");
		else if (strcmp(jv_string_value(type), "task") == 0)
			add_task(L, r, jv_copy(v));
		else if (strcmp(jv_string_value(type), "plan") == 0) {
			if (L->plan != NULL)
				bad(L, file, line, "a second plan record (the "
				    "first is at %s:%ld)", L->planfile,
				    L->planline);
			else {
				L->plan = copy_dump(jv_copy(v));
				L->planfile = file;
				L->planline = line;
			}
		} else {
			if (L->nother == L->capother) {
				L->capother = L->capother ? L->capother * 2 :
				    16;
				L->other = xgrow(L->other, L->capother,
				    sizeof(*L->other));
			}
			L->other[L->nother++] = copy_dump(jv_copy(v));
		}
		jv_free(type);
		jv_free(v);
	}
	if (rc < 0) {
		fprintf(stderr, "loom-levels: %s\n", errbuf);
		L->errors++;
	}
	/* A single regular file is read again with pread: keep its fd. */
	if (L->src.fd >= 0 && (L->src.fd = dup(L->src.fd)) < 0)
		err(2, "dup");
	loom_reader_close(r);
}

static void
report(void *ctx, long task, const char *msg)
{
	struct levels *L = ctx;

	if (task < 0) {
		warnx("%s", msg);
		L->errors++;
	} else
	{
		const char *file;
		long line;

		where(L, (size_t)task, &file, &line);
		bad(L, file, line, "%s", msg);
	}
}

/* The length of task t's record, when it is not the rest of its line. */
static size_t
exception_len(const struct levels *L, size_t t)
{
	size_t lo = 0, hi = L->nexc, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (L->exc_task[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return L->exc_len[lo];
}

/* Reads task t's bytes into *buf, NUL-terminated, and returns their
 * length.  From a file, a record alone on its line is the rest of that
 * line without the white space at its end: its length is not kept. */
static size_t
fetch(struct levels *L, size_t t, char **buf, size_t *cap)
{
	size_t len, got = 0, want;
	ssize_t n;
	char *nl = NULL;

	if (L->src.fd < 0) {
		len = (t + 1 < L->g->n ? L->off[t + 1] : L->src.used) -
		    L->off[t];
		if (len + 1 > *cap) {
			*cap = len + 1 > 4096 ? len + 1 : 4096;
			*buf = xgrow(*buf, *cap, 1);
		}
		memcpy(*buf, L->src.mem + L->off[t], len);
		(*buf)[len] = '\0';
		return len;
	}
	want = L->flags[t] & EXCEPTION ? exception_len(L, t) : 0;
	for (;;) {
		if (got + 4096 + 1 > *cap) {
			*cap = got + 4096 + 1 > 2 * *cap ? got + 4096 + 1 :
			    2 * *cap;
			*buf = xgrow(*buf, *cap, 1);
		}
		n = pread(L->src.fd, *buf + got, want ? (want - got < 4096 ?
		    want - got : 4096) : 4096, L->off[t] + (off_t)got);
		if (n < 0 || (n == 0 && (want || got == 0)))
			errx(2, "%s: input changed while read", L->files[0]);
		if (n == 0)
			break;
		if (!want && (nl = memchr(*buf + got, '\n', (size_t)n)) !=
		    NULL) {
			got = (size_t)(nl - *buf);
			break;
		}
		got += (size_t)n;
		if (want && got == want)
			break;
	}
	while (!want && got > 0 && ((*buf)[got - 1] == ' ' ||
	    (*buf)[got - 1] == '\t' || (*buf)[got - 1] == '\r'))
		got--;
	(*buf)[got] = '\0';
	return got;
}

static size_t
role_of(const struct levels *L, size_t t)
{
	return L->role16 != NULL ? L->role16[t] : L->role8[t];
}

/* The agent name for task t, in output order: given, or ROLE_N with the
 * smallest N not taken. */
static const char *
agent_of(struct levels *L, size_t t, jv rec)
{
	static char name[128];
	const char *role = loom_map_key(L->roles, role_of(L, t), NULL);
	jv a;

	if (L->flags[t] & HAS_AGENT) {
		a = loom_get(rec, "agent");
		snprintf(name, sizeof(name), "%s", jv_string_value(a));
		jv_free(a);
		return name;
	}
	do
		snprintf(name, sizeof(name), "%s_%u", role,
		    ++L->nextnum[role_of(L, t)]);
	while (loom_map_get(L->agents, name, strlen(name)) >= 0);
	return name;
}

static jv
json_str(const char *s)
{
	return jv_dump_string(jv_string(s), 0);
}

/* Writes task t with its new fields. */
static void
write_task(struct levels *L, size_t t, char **buf, size_t *cap)
{
	size_t len = fetch(L, t, buf, cap);
	char *raw = *buf;
	const char *role = loom_map_key(L->roles, role_of(L, t), NULL);
	const char *agent;
	char path[4096];
	jv rec = jv_null(), s;

	if (L->flags[t] & (HAS_LEVEL | HAS_ROLE | HAS_AGENT | HAS_OUTPUT |
	    MULTILINE)) {
		rec = jv_parse_sized(raw, (int)len);
		agent = agent_of(L, t, rec);
		snprintf(path, sizeof(path), "%s/outputs/%s.json", L->workdir,
		    agent);
		rec = jv_object_set(rec, jv_string("level"),
		    jv_number(L->g->level[t]));
		if (!(L->flags[t] & HAS_ROLE))
			rec = jv_object_set(rec, jv_string("role"),
			    jv_string(role));
		if (!(L->flags[t] & HAS_AGENT))
			rec = jv_object_set(rec, jv_string("agent"),
			    jv_string(agent));
		if (!(L->flags[t] & HAS_OUTPUT))
			rec = jv_object_set(rec, jv_string("outputs_to"),
			    jv_string(path));
		loom_emit(stdout, rec);
		return;
	}
	agent = agent_of(L, t, rec);
	snprintf(path, sizeof(path), "%s/outputs/%s.json", L->workdir, agent);
	s = json_str(path);
	fwrite(raw, 1, len - 1, stdout);
	printf("%s\"level\":%u,\"role\":\"%s\",\"agent\":\"%s\","
	    "\"outputs_to\":%s}\n", len > 2 ? "," : "",
	    L->g->level[t], role, agent, jv_string_value(s));
	jv_free(s);
}

/* A default output path must not be a path another task names: walks
 * the tasks in output order as the writing will, and counts clashes. */
static size_t
check_default_outputs(struct levels *L)
{
	char path[4096], norm[4096], *buf = NULL;
	size_t i, t, cap = 0, clashes = 0;
	const char *file;
	long k, line;
	jv rec;

	memset(L->nextnum, 0, (loom_map_count(L->roles) + 1) *
	    sizeof(*L->nextnum));
	for (i = 0; i < L->g->n; i++) {
		t = L->g->order[i];
		rec = jv_null();
		if (L->flags[t] & HAS_AGENT) {
			fetch(L, t, &buf, &cap);
			rec = jv_parse(buf);
		}
		snprintf(path, sizeof(path), "%s/outputs/%s.json", L->workdir,
		    agent_of(L, t, rec));
		jv_free(rec);
		if (L->flags[t] & HAS_OUTPUT)
			continue;
		normal_path(path, norm, sizeof(norm));
		if ((k = loom_map_get(L->outs, norm, strlen(norm))) < 0)
			continue;
		where(L, t, &file, &line);
		bad(L, file, line, "task %s would write %s, the output of "
		    "task %s: give it an outputs_to", loom_q(loom_graph_id(
		    L->g, t)), loom_q(path), loom_q(loom_graph_id(L->g,
		    L->out_task[k])));
		clashes++;
	}
	free(buf);
	return clashes;
}

/* ---- drawing ---- */

/* Writes an id for a drawing: Graphviz wants quotes and backslashes
 * escaped; Mermaid reads labels as HTML with #NAME; entities; a terminal
 * gets no control characters. */
static void
draw_esc(const char *s, const char *fmt)
{
	int mermaid = strcmp(fmt, "mermaid") == 0;

	for (; *s != '\0'; s++) {
		if (strcmp(fmt, "dot") == 0 && (*s == '"' || *s == '\\'))
			printf("\\%c", *s);
		else if (mermaid && *s == '"')
			fputs("#quot;", stdout);
		else if (mermaid && *s == '<')
			fputs("#lt;", stdout);
		else if (mermaid && *s == '>')
			fputs("#gt;", stdout);
		else if (mermaid && *s == '&')
			fputs("#amp;", stdout);
		else if (mermaid && *s == '#')
			fputs("#35;", stdout);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			putchar('?');
		else
			putchar(*s);
	}
}

static void
draw(struct levels *L, const char *fmt)
{
	struct loom_graph *g = L->g;
	char *buf = NULL;
	size_t cap = 0, i, e, t;
	uint32_t lv = UINT32_MAX;
	const char **agents;

	agents = xgrow(NULL, g->n ? g->n : 1, sizeof(*agents));
	for (i = 0; i < g->n; i++) {
		t = g->order[i];
		jv rec = jv_null();

		if (L->flags[t] & HAS_AGENT) {
			fetch(L, t, &buf, &cap);
			rec = jv_parse(buf);
		}
		if ((agents[t] = strdup(agent_of(L, t, rec))) == NULL)
			err(2, NULL);
		jv_free(rec);
	}
	if (strcmp(fmt, "dot") == 0)
		printf("digraph loom {\n\trankdir=TB;\n\tnode [shape=box];\n");
	else if (strcmp(fmt, "mermaid") == 0)
		printf("flowchart TD\n");
	for (i = 0; i < g->n; i++) {
		t = g->order[i];
		if (strcmp(fmt, "text") == 0) {
			if (g->level[t] != lv) {
				size_t k = i;

				lv = g->level[t];
				while (k < g->n && g->level[g->order[k]] == lv)
					k++;
				printf("%slevel %u", i ? "\n" : "", lv);
				if (k - i > 1)
					printf(" (%zu in parallel)", k - i);
				putchar('\n');
			}
			printf("  ");
			draw_esc(loom_graph_id(g, t), fmt);
			printf(" [%s]", agents[t]);
			for (e = g->dep_off[t]; e < g->dep_off[t + 1]; e++) {
				printf(e == g->dep_off[t] ? "  <- " : ", ");
				draw_esc(loom_graph_id(g, g->dep[e]), fmt);
			}
			putchar('\n');
		} else if (strcmp(fmt, "dot") == 0) {
			/* Nodes by number: two ids may look alike once their
			 * control characters are drawn. */
			printf("\tn%zu [label=\"", t);
			draw_esc(loom_graph_id(g, t), fmt);
			printf("\\n%s\"];\n", agents[t]);
			for (e = g->dep_off[t]; e < g->dep_off[t + 1]; e++)
				printf("\tn%u -> n%zu;\n", g->dep[e], t);
		} else {
			printf("\tn%zu[\"", t);
			draw_esc(loom_graph_id(g, t), fmt);
			printf("<br/>%s\"]\n", agents[t]);
			for (e = g->dep_off[t]; e < g->dep_off[t + 1]; e++)
				printf("\tn%u --> n%zu\n", g->dep[e], t);
		}
	}
	if (strcmp(fmt, "dot") == 0) {
		/* Tasks of one level side by side. */
		for (i = 0; i < g->n; i = e) {
			lv = g->level[g->order[i]];
			printf("\t{ rank=same;");
			for (e = i; e < g->n && g->level[g->order[e]] == lv;
			    e++)
				printf(" n%u;", g->order[e]);
			printf(" }\n");
		}
		printf("}\n");
	}
	for (i = 0; i < g->n; i++)
		free((void *)agents[i]);
	free(agents);
	free(buf);
}

/* Everything lives here, reachable to the end, so that a leak checker
 * tells real leaks from memory still in use at exit. */
static struct levels L;

static void
cleanup(void)
{
	size_t i;

	for (i = 0; i < L.nother; i++)
		free(L.other[i]);
	free(L.other);
	free(L.plan);
	for (i = 0; L.files != NULL && i < L.nfiles; i++)
		free((void *)L.files[i]);
	free(L.files);
	free(L.off);
	free(L.exc_task);
	free(L.exc_len);
	free(L.line);
	free(L.file);
	free(L.role8);
	free(L.role16);
	free(L.flags);
	free(L.nextnum);
	free(L.src.mem);
	if (L.src.fd >= 0)
		close(L.src.fd);
	loom_graph_free(L.g);
	loom_map_free(L.roles);
	loom_map_free(L.agents);
	loom_map_free(L.outs);
	free(L.out_task);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "workdir",	required_argument,	NULL, 'w' },
		{ "draw",	required_argument,	NULL, 'd' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	const char *fmt = NULL, *stdin_only[] = { "-" };
	const char **files;
	char *buf = NULL;
	size_t nfiles, i, cap = 0, bad;
	int ch, seekable;

#ifdef __GLIBC__
	/* The graph's arrays double as they grow: from the heap, each move
	 * leaves the old copy's pages behind; mapped, they move in place. */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
#endif
	while ((ch = getopt_long(argc, argv, "w:d:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			L.workdir = optarg;
			break;
		case 'd':
			fmt = optarg;
			if (strcmp(fmt, "text") != 0 && strcmp(fmt, "dot") !=
			    0 && strcmp(fmt, "mermaid") != 0) {
				warnx("unknown drawing %s (text, dot or "
				    "mermaid)", loom_q(fmt));
				loom_usage(usage_text, 2);
			}
			break;
		case 'h':
			loom_usage(usage_text, 0);
		case 'V':
			loom_version();
		default:
			loom_usage(usage_text, 2);
		}
	}
	L.workdir = loom_workdir(L.workdir);
	files = argc > optind ? (const char **)argv + optind : stdin_only;
	nfiles = argc > optind ? (size_t)(argc - optind) : 1;
	if (nfiles > UINT16_MAX)
		errx(2, "too many files");
	if ((L.g = loom_graph_new()) == NULL || (L.roles = loom_map_new()) ==
	    NULL || (L.agents = loom_map_new()) == NULL ||
	    (L.outs = loom_map_new()) == NULL)
		err(2, NULL);
	L.g->lean = fmt == NULL;	/* drawing needs the edges after */
	L.files = xgrow(NULL, nfiles, sizeof(*L.files));
	memset(L.files, 0, nfiles * sizeof(*L.files));
	L.nfiles = nfiles;
	L.src.fd = -1;
	seekable = nfiles == 1;
	for (i = 0; i < nfiles; i++) {
		L.curfile = i;
		read_file(&L, files[i], seekable);
	}
	bad = loom_graph_check(L.g, report, &L);
	if (bad == (size_t)-1)
		err(2, NULL);
	if (bad > 0 || L.errors > 0)
		exit(1);

	L.nextnum = xgrow(NULL, loom_map_count(L.roles) + 1,
	    sizeof(*L.nextnum));
	if (loom_map_count(L.outs) > 0 && check_default_outputs(&L) > 0)
		exit(1);
	memset(L.nextnum, 0, (loom_map_count(L.roles) + 1) *
	    sizeof(*L.nextnum));
	if (fmt != NULL)
		draw(&L, fmt);
	else {
		if (L.plan != NULL)
			puts(L.plan);
		for (i = 0; i < L.nother; i++)
			puts(L.other[i]);
		for (i = 0; i < L.g->n; i++)
			write_task(&L, L.g->order[i], &buf, &cap);
	}
	free(buf);
	cleanup();
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0)
		err(2, "stdout");
	return 0;
}
