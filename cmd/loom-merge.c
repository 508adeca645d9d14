/*
 * loom-merge: reads the stream of plan, task and result records, reads the
 * output of every task that succeeded, and writes the stream through
 * followed by one merge record: each task's status and results, the
 * findings of all tasks, the prompt patches applied or rejected, and the
 * verdict.  When the patches change the plan it writes the next plan,
 * WORKDIR/compiled_vN.json, for the next round.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loom.h"

static const char usage_text[] =
    "usage: loom-merge [-e] [-m max] [-w dir] [file ...]\n";

/* What --exit-status returns for ITERATE and BLOCKED. */
#define EXIT_ITERATE	3
#define EXIT_BLOCKED	4

struct rec {
	char	*raw;		/* as read, for passing on */
	size_t	 len;
};

struct task {
	char	*id;
	int	 cached;	/* status cached */
	jv	 rec;		/* task record, or null (result only) */
	jv	 result;	/* the last result record, or null */
	jv	 out;		/* output form, or null */
	char	*error;		/* why the output is missing */
	int	 ok;		/* status ok or cached */
	int	 completed;
};

struct patch {
	jv		 p;		/* the patch as given, or null */
	const char	*task;		/* whose output gave it */
	int		 cached;	/* it is from a cached task */
	char		*action;
	char		*target;	/* what it sets, for conflicts */
	jv		 value;
	const char	*status;	/* applied, unchanged, rejected... */
	char		*reason;
};

static struct rec	*recs;
static size_t		 nrecs, caprecs;
static struct task	*tasks;
static size_t		 ntasks, captasks;
static struct loom_map	*taskmap;
static struct patch	*patches;
static size_t		 npatches, cappatches;
static jv		 plan;		/* the plan record, or null */
static long		 planline;
static int		 bad;

static void *
grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	if ((p = reallocarray(p, *cap, size)) == NULL)
		err(2, NULL);
	return p;
}


/* The task with this id, adding an empty one when absent. */
static struct task *
task_get(const char *id)
{
	long i;
	int isnew = 0;
	struct task *t;

	if ((i = loom_map_intern(taskmap, id, strlen(id), &isnew)) < 0)
		err(2, NULL);
	if (!isnew)
		return &tasks[i];
	tasks = grow(tasks, &captasks, ntasks, sizeof(*tasks));
	t = &tasks[ntasks++];
	memset(t, 0, sizeof(*t));
	t->id = loom_xstrdup(id);
	t->rec = jv_null();
	t->result = jv_null();
	t->out = jv_null();
	return t;
}

/* Checks one record and files it.  Consumes v. */
static void
take(struct loom_reader *r, jv v)
{
	const char *name = loom_reader_name(r);
	long line = loom_reader_line(r);
	jv type;
	char *id;

	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		warnx("%s:%ld: record is not an object", name, line);
		bad = 1;
		jv_free(v);
		return;
	}

	type = loom_get(v, "type");
	if (jv_get_kind(type) != JV_KIND_STRING) {
		warnx("%s:%ld: record without a \"type\"", name, line);
		bad = 1;
		jv_free(type);
		jv_free(v);
		return;
	}

	if (strcmp(jv_string_value(type), "plan") == 0) {
		if (jv_get_kind(plan) != JV_KIND_NULL) {
			warnx("%s:%ld: a second plan record (the first is on "
			    "line %ld)", name, line, planline);
			bad = 1;
			jv_free(v);
		} else {
			plan = v;
			planline = line;
		}
	} else if (strcmp(jv_string_value(type), "task") == 0 ||
	    strcmp(jv_string_value(type), "result") == 0) {
		int istask = jv_string_value(type)[0] == 't';
		struct task *t;

		id = loom_get_str(v, "id");
		if (id == NULL || *id == '\0') {
			warnx("%s:%ld: %s without an \"id\"", name, line,
			    jv_string_value(type));
			bad = 1;
			jv_free(v);
		} else if (istask) {
			t = task_get(id);
			if (jv_get_kind(t->rec) != JV_KIND_NULL) {
				warnx("%s:%ld: duplicate task id %s", name,
				    line, loom_q(id));
				bad = 1;
				jv_free(v);
			} else
				t->rec = v;
		} else {
			t = task_get(id);
			jv_free(t->result);
			t->result = v;
		}
		free(id);
	} else
		jv_free(v);
	jv_free(type);
}

static void
read_file(const char *path)
{
	char e[LOOM_ERRLEN];
	struct loom_reader *r;
	const char *raw;
	size_t len;
	int rc;
	jv v;

	if ((r = loom_reader_open(path, e)) == NULL)
		errx(2, "%s", e);

	while ((rc = loom_reader_next(r, &v, e)) == 1) {
		raw = loom_reader_raw(r, &len, NULL);
		recs = grow(recs, &caprecs, nrecs, sizeof(*recs));
		if ((recs[nrecs].raw = malloc(len + 1)) == NULL)
			err(2, NULL);
		memcpy(recs[nrecs].raw, raw, len);
		recs[nrecs].raw[len] = '\n';
		recs[nrecs++].len = len + 1;
		take(r, v);
	}
	if (rc < 0) {
		warnx("%s", e);
		bad = 1;
	}
	loom_reader_close(r);
}

/* ---- the outputs ---------------------------------------------------- */

static int
status_ok(const char *s)
{
	return strcmp(s, "ok") == 0 || strcmp(s, "cached") == 0;
}

/* Reads the output of each task that succeeded. */
static void
read_outputs(void)
{
	char e[LOOM_ERRLEN];
	size_t i;

	for (i = 0; i < ntasks; i++) {
		struct task *t = &tasks[i];
		char *status = NULL, *path = NULL;
		jv c;

		if (jv_get_kind(t->result) == JV_KIND_OBJECT)
			status = loom_get_str(t->result, "status");
		t->ok = status != NULL && status_ok(status);
		t->cached = status != NULL && strcmp(status, "cached") == 0;
		free(status);
		if (!t->ok)
			continue;

		path = loom_get_str(t->result, "output");
		if (path == NULL && jv_get_kind(t->rec) == JV_KIND_OBJECT)
			path = loom_get_str(t->rec, "outputs_to");
		if (path == NULL) {
			t->error = loom_xstrdup("no output path");
			warnx("task %s: no output path", loom_q(t->id));
			continue;
		}

		t->out = loom_output_read(path, e);
		free(path);
		if (!jv_is_valid(t->out)) {
			jv_free(t->out);
			t->out = jv_null();
			t->error = loom_xstrdup(e);
			c = loom_output_clean(jv_string(e));
			warnx("%s (output of task %s)", jv_string_value(c),
			    loom_q(t->id));
			jv_free(c);
			continue;
		}

		c = loom_get(t->out, "completed");
		t->completed = jv_get_kind(c) != JV_KIND_FALSE;
		jv_free(c);
	}
}

/* ---- the patches ---------------------------------------------------- */

static int
key_ok(const char *s)
{
	if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') ||
	    (*s >= 'a' && *s <= 'z')))
		return 0;
	for (s++; *s != '\0'; s++)
		if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

static void
reject(struct patch *p, const char *status, char *reason)
{
	p->status = status;
	free(p->reason);
	p->reason = reason;
}

/* The first string of o among these keys, or NULL. */
static jv
value_of(jv o, const char *k1, const char *k2, const char *k3, int *found)
{
	const char *keys[3] = { k1, k2, k3 };
	int i;

	for (i = 0; i < 3; i++)
		if (keys[i] != NULL &&
		    jv_object_has(jv_copy(o), jv_string(keys[i]))) {
			*found = 1;
			return loom_get(o, keys[i]);
		}
	*found = 0;
	return jv_null();
}

/* Files one patch of task id, working out what it sets. Consumes p. */
static void
add_patch(const struct task *t, jv p)
{
	struct patch *q;
	char *s;
	int found;

	patches = grow(patches, &cappatches, npatches, sizeof(*patches));
	q = &patches[npatches++];
	memset(q, 0, sizeof(*q));
	q->task = t->id;
	q->cached = t->cached;
	q->p = p;
	q->value = jv_null();

	if (jv_get_kind(p) != JV_KIND_OBJECT) {
		reject(q, "rejected", loom_xstrdup("patch is not an object"));
		return;
	}
	if ((q->action = loom_get_str(p, "action")) == NULL) {
		reject(q, "rejected",
		    loom_xstrdup("patch without an \"action\""));
		return;
	}

	if (strcmp(q->action, "add_context") == 0) {
		if ((s = loom_get_str(p, "key")) == NULL) {
			reject(q, "rejected", loom_xstrdup("no \"key\""));
			return;
		}
		if (!key_ok(s)) {
			reject(q, "rejected", loom_xprintf("bad context key %s",
			    loom_q(s)));
			free(s);
			return;
		}
		q->value = value_of(p, "value", "new_value", NULL, &found);
		if (!found) {
			reject(q, "rejected", loom_xstrdup("no \"value\""));
			free(s);
			return;
		}
		q->target = loom_xprintf("context key %s", loom_q(s));
		free(s);
	} else if (strcmp(q->action, "update_intent") == 0) {
		q->value = value_of(p, "value", "new_value", "intent", &found);
		if (jv_get_kind(q->value) != JV_KIND_STRING) {
			reject(q, "rejected", loom_xstrdup(found ?
			    "the intent must be a string" : "no \"value\""));
			return;
		}
		q->target = loom_xstrdup("intent");
	} else if (strcmp(q->action, "update_task") == 0) {
		char *tid = loom_get_str(p, "task_id");

		s = loom_get_str(p, "field");
		if (tid == NULL || s == NULL) {
			reject(q, "rejected", loom_xstrdup(tid == NULL ?
			    "no \"task_id\"" : "no \"field\""));
			free(tid);
			free(s);
			return;
		}
		q->value = value_of(p, "new_value", "value", NULL, &found);
		if (!found)
			reject(q, "rejected", loom_xstrdup("no \"new_value\""));
		else if (strcmp(s, "description") != 0 &&
		    strcmp(s, "requires") != 0 &&
		    strcmp(s, "depends_on") != 0)
			reject(q, "rejected", loom_xprintf("field %s cannot be "
			    "updated", loom_q(s)));
		else
			q->target = loom_xprintf("field %s of task %s",
			    loom_q(s), loom_q(tid));
		free(tid);
		free(s);
	} else if (strcmp(q->action, "add_task") != 0 &&
	    strcmp(q->action, "remove_task") != 0)
		reject(q, "rejected", loom_xprintf("unknown action %s",
		    loom_q(q->action)));
}

static void
collect_patches(void)
{
	size_t i;

	for (i = 0; i < ntasks; i++) {
		jv pp;

		if (jv_get_kind(tasks[i].out) != JV_KIND_OBJECT)
			continue;
		pp = loom_get(tasks[i].out, "prompt_patches");
		if (jv_get_kind(pp) == JV_KIND_ARRAY) {
			jv_array_foreach(pp, k, p)
				add_patch(&tasks[i], p);
		} else if (jv_get_kind(pp) != JV_KIND_NULL) {
			add_patch(&tasks[i], jv_null());
			reject(&patches[npatches - 1], "rejected",
			    loom_xstrdup("prompt_patches is not a list"));
		}
		jv_free(pp);
	}
}

/*
 * Two patches that set the same thing to different values conflict: both
 * are kept and reported, and neither is applied.  Returns the conflicts.
 */
static jv
find_conflicts(void)
{
	jv conflicts = jv_array();
	size_t i, j;

	for (i = 0; i < npatches; i++) {
		struct patch *a = &patches[i];
		int differ = 0;
		jv vals;

		if (a->target == NULL || a->status != NULL)
			continue;
		for (j = i + 1; j < npatches; j++)
			if (patches[j].target != NULL &&
			    patches[j].status == NULL &&
			    strcmp(a->target, patches[j].target) == 0 &&
			    !jv_equal(jv_copy(a->value),
			    jv_copy(patches[j].value)))
				differ = 1;
		if (!differ)
			continue;

		vals = jv_array();
		for (j = i; j < npatches; j++) {
			struct patch *b = &patches[j];

			if (b->target == NULL || b->status != NULL ||
			    strcmp(a->target, b->target) != 0)
				continue;
			vals = jv_array_append(vals, jv_object_set(
			    jv_object_set(jv_object(), jv_string("task"),
			    jv_string(b->task)), jv_string("value"),
			    jv_copy(b->value)));
			if (b != a)
				reject(b, "conflict", loom_xprintf("conflicts "
				    "with another value for %s", a->target));
		}
		reject(a, "conflict", loom_xprintf("conflicts with another "
		    "value for %s", a->target));
		conflicts = jv_array_append(conflicts, jv_object_set(
		    jv_object_set(jv_object(), jv_string("target"),
		    jv_string(a->target)), jv_string("values"), vals));
	}
	return conflicts;
}

/* ---- the next plan -------------------------------------------------- */

static jv	 next;	/* the next plan's fields, without tasks */
static jv	 ntask;	/* its tasks, without "type" */
static const char *workdir;

/* The index of task id in ntask, or -1. */
static int
ntask_find(const char *id)
{
	jv_array_foreach(ntask, i, t) {
		jv v = loom_get(t, "id");
		int same = jv_get_kind(v) == JV_KIND_STRING &&
		    strcmp(jv_string_value(v), id) == 0;

		jv_free(v);
		jv_free(t);
		if (same)
			return i;
	}
	return -1;
}

struct report_ctx {
	char	*msg;
};

static void
graph_report(void *ctx, long task, const char *msg)
{
	struct report_ctx *c = ctx;

	(void)task;
	if (c->msg == NULL)
		c->msg = loom_xstrdup(msg);
}

/* Checks the graph of tasks; NULL when sound, else the first problem. */
static char *
graph_problem(jv ts)
{
	struct loom_graph *g;
	struct report_ctx c = { NULL };

	if ((g = loom_graph_new()) == NULL)
		err(2, NULL);
	jv_array_foreach(ts, i, t) {
		jv id = loom_get(t, "id"), deps = loom_get(t, "depends_on");

		if (loom_graph_add(g, jv_string_value(id),
		    (size_t)jv_string_length_bytes(jv_copy(id)), NULL) == -2)
			err(2, NULL);
		if (jv_get_kind(deps) == JV_KIND_ARRAY) {
			jv_array_foreach(deps, k, d) {
				if (jv_get_kind(d) == JV_KIND_STRING &&
				    loom_graph_add_dep(g, jv_string_value(d),
				    (size_t)jv_string_length_bytes(
				    jv_copy(d))) < 0)
					err(2, NULL);
				jv_free(d);
			}
		}
		jv_free(id);
		jv_free(deps);
		jv_free(t);
	}
	if (loom_graph_check(g, graph_report, &c) == (size_t)-1)
		err(2, NULL);
	loom_graph_free(g);
	return c.msg;
}

/* NULL when v is an array of strings, else what is wrong. */
static char *
strings_problem(jv v, const char *what)
{
	if (jv_get_kind(v) != JV_KIND_ARRAY)
		return loom_xprintf("%s must be a list", what);
	jv_array_foreach(v, i, s) {
		int isstr = jv_get_kind(s) == JV_KIND_STRING;

		jv_free(s);
		if (!isstr)
			return loom_xprintf("%s must be a list of strings",
			    what);
	}
	return NULL;
}

/* Appends the lexical, absolute form of p to buf (no "." or ".."). */
static int
absolute(const char *p, char *buf, size_t size)
{
	char tmp[PATH_MAX], cwd[PATH_MAX];
	char *s, *save = NULL;
	size_t n = 0, len;
	int w;

	if (*p == '/')
		w = snprintf(tmp, sizeof(tmp), "%s", p);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	else
		w = snprintf(tmp, sizeof(tmp), "%s/%s", cwd, p);
	if (w < 0 || (size_t)w >= sizeof(tmp))
		return -1;

	buf[0] = '\0';
	for (s = strtok_r(tmp, "/", &save); s != NULL;
	    s = strtok_r(NULL, "/", &save)) {
		if (strcmp(s, ".") == 0)
			continue;
		if (strcmp(s, "..") == 0) {
			char *slash = strrchr(buf, '/');

			if (slash != NULL)
				*slash = '\0';
			n = strlen(buf);
			continue;
		}
		len = strlen(s);
		if (n + len + 2 > size)
			return -1;
		buf[n++] = '/';
		memcpy(buf + n, s, len + 1);
		n += len;
	}
	return 0;
}

/* NULL when the output path stays inside the work directory. */
static char *
path_problem(const char *p)
{
	char e[LOOM_ERRLEN], a[PATH_MAX], w[PATH_MAX];
	size_t n;

	if (loom_path_check(p, e) < 0)
		return loom_xprintf("outputs_to: %s", e);
	if (absolute(p, a, sizeof(a)) < 0 ||
	    absolute(workdir, w, sizeof(w)) < 0)
		return loom_xprintf("outputs_to %s is too long", loom_q(p));
	n = strlen(w);
	if (strncmp(a, w, n) != 0 || a[n] != '/')
		return loom_xprintf("outputs_to %s leaves the work "
		    "directory %s", loom_q(p), loom_q(workdir));
	return NULL;
}

/* Whether task id finished its work in this round. */
static int
finished(const char *id)
{
	long i = loom_map_get(taskmap, id, strlen(id));

	return i >= 0 && tasks[i].ok && tasks[i].error == NULL &&
	    tasks[i].completed;
}

static void
apply_context(struct patch *p)
{
	jv ctx = loom_get(next, "context");
	char *key = loom_get_str(p->p, "key");
	jv old;

	if (jv_get_kind(ctx) == JV_KIND_NULL) {
		jv_free(ctx);
		ctx = jv_object();
	}
	if (jv_get_kind(ctx) != JV_KIND_OBJECT) {
		reject(p, "rejected",
		    loom_xstrdup("the plan's context is not an object"));
		jv_free(ctx);
		free(key);
		return;
	}

	old = jv_object_get(jv_copy(ctx), jv_string(key));
	if (jv_is_valid(old) && jv_equal(old, jv_copy(p->value)))
		p->status = "unchanged";
	else {
		jv_free(old);
		ctx = jv_object_set(ctx, jv_string(key), jv_copy(p->value));
		next = jv_object_set(next, jv_string("context"), jv_copy(ctx));
		p->status = "applied";
	}
	jv_free(ctx);
	free(key);
}

static void
apply_intent(struct patch *p)
{
	jv old = loom_get(next, "intent");

	if (jv_equal(old, jv_copy(p->value)))
		p->status = "unchanged";
	else {
		next = jv_object_set(next, jv_string("intent"),
		    jv_copy(p->value));
		p->status = "applied";
	}
}

static void
apply_update(struct patch *p)
{
	char *tid = loom_get_str(p->p, "task_id");
	char *field = loom_get_str(p->p, "field");
	char *msg = NULL;
	jv t, nt;
	int i;

	if ((i = ntask_find(tid)) < 0) {
		reject(p, "rejected", loom_xprintf("no task %s", loom_q(tid)));
		goto out;
	}

	if (strcmp(field, "description") == 0) {
		if (jv_get_kind(p->value) != JV_KIND_STRING)
			msg = loom_xstrdup("description must be a string");
	} else
		msg = strings_problem(p->value, field);
	if (msg != NULL) {
		reject(p, "rejected", msg);
		goto out;
	}

	t = jv_array_get(jv_copy(ntask), i);
	if (jv_equal(loom_get(t, field), jv_copy(p->value))) {
		jv_free(t);
		p->status = "unchanged";
		goto out;
	}

	nt = jv_array_set(jv_copy(ntask), i, jv_object_set(t,
	    jv_string(field), jv_copy(p->value)));
	if ((msg = graph_problem(nt)) != NULL) {
		reject(p, "rejected", msg);
		jv_free(nt);
		goto out;
	}
	jv_free(ntask);
	ntask = nt;
	p->status = "applied";
out:
	free(tid);
	free(field);
}

/*
 * Whether every field of the new task t (borrowed) other than "type" has
 * the same value in task i of the next plan: a task added in an earlier
 * round, whose output comes back cached.
 */
static int
same_task(jv t, int i)
{
	jv old = jv_array_get(jv_copy(ntask), i);
	int same = 1;

	jv_object_foreach(t, k, v) {
		if (strcmp(jv_string_value(k), "type") != 0 &&
		    !jv_equal(jv_object_get(jv_copy(old), jv_copy(k)), v))
			same = 0;
		else if (strcmp(jv_string_value(k), "type") == 0)
			jv_free(v);
		jv_free(k);
	}
	jv_free(old);
	return same;
}

static void
apply_add(struct patch *p)
{
	static const char *const lists[] = { "requires", "depends_on" };
	jv t = loom_get(p->p, "task"), nt;
	char *id = NULL, *msg = NULL, *out;
	size_t k;

	if (jv_get_kind(t) != JV_KIND_OBJECT) {
		reject(p, "rejected", loom_xstrdup("no \"task\" object"));
		jv_free(t);
		return;
	}
	id = loom_get_str(t, "id");
	if (id == NULL || *id == '\0')
		msg = loom_xstrdup("the new task has no \"id\"");
	else if (ntask_find(id) >= 0) {
		if (same_task(t, ntask_find(id))) {
			p->status = "unchanged";
			goto out;
		}
		msg = loom_xprintf("task %s exists", loom_q(id));
	}
	else if (jv_object_has(jv_copy(t), jv_string("run")))
		msg = loom_xstrdup("a new task may not carry a "
		    "\"run\" command");
	if (msg != NULL)
		goto out;

	t = jv_object_delete(t, jv_string("type"));
	if (!jv_object_has(jv_copy(t), jv_string("description")))
		t = jv_object_set(t, jv_string("description"), jv_string(""));
	for (k = 0; k < 2; k++) {
		jv v;

		if (!jv_object_has(jv_copy(t), jv_string(lists[k])))
			t = jv_object_set(t, jv_string(lists[k]), jv_array());
		v = loom_get(t, lists[k]);
		msg = strings_problem(v, lists[k]);
		jv_free(v);
		if (msg != NULL)
			goto out;
	}
	if (jv_object_has(jv_copy(t), jv_string("outputs_to"))) {
		if ((out = loom_get_str(t, "outputs_to")) == NULL)
			msg = loom_xstrdup("outputs_to must be a string");
		else
			msg = path_problem(out);
		free(out);
		if (msg != NULL)
			goto out;
	}

	nt = jv_array_append(jv_copy(ntask), jv_copy(t));
	if ((msg = graph_problem(nt)) != NULL) {
		jv_free(nt);
		goto out;
	}
	jv_free(ntask);
	ntask = nt;
	p->status = "applied";
out:
	if (msg != NULL)
		reject(p, "rejected", msg);
	free(id);
	jv_free(t);
}

/* Removes dep from the depends_on of task t (returns new). */
static jv
drop_dep(jv t, const char *dep)
{
	jv deps = loom_get(t, "depends_on"), nd = jv_array();

	jv_array_foreach(deps, i, d) {
		if (jv_get_kind(d) != JV_KIND_STRING ||
		    strcmp(jv_string_value(d), dep) != 0)
			nd = jv_array_append(nd, d);
		else
			jv_free(d);
	}
	jv_free(deps);
	return jv_object_set(t, jv_string("depends_on"), nd);
}

/* Whether the task t (borrowed) depends on id. */
static int
depends(jv t, const char *id)
{
	jv deps = loom_get(t, "depends_on");
	int yes = 0;

	if (jv_get_kind(deps) == JV_KIND_ARRAY) {
		jv_array_foreach(deps, i, d) {
			if (jv_get_kind(d) == JV_KIND_STRING &&
			    strcmp(jv_string_value(d), id) == 0)
				yes = 1;
			jv_free(d);
		}
	}
	jv_free(deps);
	return yes;
}

/*
 * A task may go only when no unfinished task depends on it; finished
 * dependents lose the dependency (and so run again in the next round).
 */
static void
apply_remove(struct patch *p)
{
	char *tid = loom_get_str(p->p, "task_id");
	jv nt;
	int i;

	if (tid == NULL) {
		reject(p, "rejected", loom_xstrdup("no \"task_id\""));
		return;
	}
	if ((i = ntask_find(tid)) < 0) {
		if (p->cached)
			p->status = "unchanged";
		else
			reject(p, "rejected", loom_xprintf("no task %s",
			    loom_q(tid)));
		free(tid);
		return;
	}

	nt = jv_array();
	jv_array_foreach(ntask, k, t) {
		char *id = loom_get_str(t, "id");

		if (k != i && depends(t, tid) && !finished(id) &&
		    p->status == NULL)
			reject(p, "rejected", loom_xprintf("unfinished task %s "
			    "depends on it", loom_q(id)));
		free(id);
		if (k == i)
			jv_free(t);
		else if (depends(t, tid))
			nt = jv_array_append(nt, drop_dep(t, tid));
		else
			nt = jv_array_append(nt, t);
	}

	if (p->status != NULL)
		jv_free(nt);
	else {
		jv_free(ntask);
		ntask = nt;
		p->status = "applied";
	}
	free(tid);
}

static void
apply_patches(void)
{
	size_t i;

	for (i = 0; i < npatches; i++) {
		struct patch *p = &patches[i];

		if (p->status != NULL)
			continue;
		if (strcmp(p->action, "add_context") == 0)
			apply_context(p);
		else if (strcmp(p->action, "update_intent") == 0)
			apply_intent(p);
		else if (strcmp(p->action, "update_task") == 0)
			apply_update(p);
		else if (strcmp(p->action, "add_task") == 0)
			apply_add(p);
		else
			apply_remove(p);
	}
}

/* The plan's version: a whole number of at least 1, else 1. */
static long
plan_version(void)
{
	jv v;
	long n = 1;

	if (jv_get_kind(plan) != JV_KIND_OBJECT)
		return 1;
	v = loom_get(plan, "version");
	if (jv_get_kind(v) == JV_KIND_NUMBER &&
	    jv_number_value(v) >= 1 && jv_number_value(v) < 1e9)
		n = (long)jv_number_value(v);
	jv_free(v);
	return n;
}

/* Dumps the next plan, *(jv *)arg, indented. */
static int
dump_plan(FILE *fp, void *arg)
{
	jv s = jv_dump_string(jv_copy(*(jv *)arg), JV_PRINT_INDENT_FLAGS(2));

	fputs(jv_string_value(s), fp);
	putc('\n', fp);
	jv_free(s);
	return ferror(fp) ? -1 : 0;
}

/* Writes the next plan atomically; returns its path or exits. */
static char *
write_plan(long version)
{
	char *path, *dir;
	jv doc;

	dir = loom_xprintf("%s/", workdir);
	if (loom_mkdirs(dir) != 0)
		err(2, "%s", workdir);
	free(dir);
	path = loom_xprintf("%s/compiled_v%ld.json", workdir, version);
	doc = jv_object_set(jv_object_set(jv_copy(next), jv_string("version"),
	    jv_number((double)version)), jv_string("tasks"), jv_copy(ntask));
	if (loom_replace(path, dump_plan, &doc) != 0)
		err(2, "%s", path);
	jv_free(doc);
	return path;
}

/* ---- the merge record ----------------------------------------------- */

static jv
task_entry(struct task *t, jv *findings, jv *counts)
{
	jv e = jv_object(), st, f, v;
	static const char *const keep[] = {
		"iteration", "files_changed", "usage", "truncated", "bytes",
		NULL
	};
	const char *const *k;

	st = jv_get_kind(t->result) == JV_KIND_OBJECT ?
	    loom_get(t->result, "status") : jv_string("missing");
	e = jv_object_set(e, jv_string("status"), st);
	v = jv_get_kind(t->rec) == JV_KIND_OBJECT ?
	    loom_get(t->rec, "agent") : jv_null();
	if (jv_get_kind(v) == JV_KIND_STRING)
		e = jv_object_set(e, jv_string("agent"), v);
	else
		jv_free(v);
	e = jv_object_set(e, jv_string("completed"),
	    jv_bool(t->ok && t->error == NULL && t->completed));

	if (t->error != NULL) {
		e = jv_object_set(e, jv_string("error"),
		    jv_string(t->error));
		return e;
	}
	if (jv_get_kind(t->out) != JV_KIND_OBJECT)
		return e;

	e = jv_object_set(e, jv_string("format"), loom_get(t->out, "format"));
	e = jv_object_set(e, jv_string("results"),
	    loom_get(t->out, "results"));
	for (k = keep; *k != NULL; k++)
		if (jv_object_has(jv_copy(t->out), jv_string(*k)))
			e = jv_object_set(e, jv_string(*k),
			    loom_get(t->out, *k));

	f = loom_output_findings(t->out);
	e = jv_object_set(e, jv_string("findings"),
	    jv_number(jv_array_length(jv_copy(f))));
	jv_array_foreach(f, i, x) {
		jv sev = loom_get(x, "severity");
		jv n = jv_object_get(jv_copy(*counts), jv_copy(sev));
		double c = jv_get_kind(n) == JV_KIND_NUMBER ?
		    jv_number_value(n) : 0;

		jv_free(n);
		*counts = jv_object_set(*counts, sev, jv_number(c + 1));
		x = jv_object_merge(jv_object_set(jv_object(),
		    jv_string("task"), jv_string(t->id)), x);
		*findings = jv_array_append(*findings,
		    jv_object_set(x, jv_string("task"), jv_string(t->id)));
	}
	jv_free(f);
	return e;
}

static jv
patch_entry(struct patch *p)
{
	jv e = jv_object_set(jv_object(), jv_string("from"),
	    jv_string(p->task));

	/* "from", not "task": an add_task carries its new task there. */
	if (jv_get_kind(p->p) == JV_KIND_OBJECT)
		e = jv_object_merge(e, jv_copy(p->p));
	e = jv_object_set(e, jv_string("from"), jv_string(p->task));
	e = jv_object_set(e, jv_string("status"), jv_string(p->status));
	if (p->reason != NULL)
		e = jv_object_set(e, jv_string("reason"),
		    jv_string(p->reason));
	return e;
}

static jv
plan_fields(jv p)
{
	if (jv_get_kind(p) != JV_KIND_OBJECT) {
		jv_free(p);
		return jv_object();
	}
	return jv_object_delete(p, jv_string("type"));
}

static jv
task_fields(void)
{
	jv a = jv_array();
	size_t i;

	for (i = 0; i < ntasks; i++)
		if (jv_get_kind(tasks[i].rec) == JV_KIND_OBJECT)
			a = jv_array_append(a, jv_object_delete(
			    jv_copy(tasks[i].rec), jv_string("type")));
	return a;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "exit-status", no_argument, NULL, 'e' },
		{ "max-iterations", required_argument, NULL, 'm' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *wopt = NULL, *verdict;
	char *endp, *nextpath = NULL;
	long max = 3, version;
	size_t news = 0;
	int ch, exitstatus = 0, changed, failed = 0, incomplete = 0;
	jv rec, findings, counts, tasksobj, plist, conflicts, reasons, cur;
	size_t i;

	while ((ch = getopt_long(argc, argv, "em:w:hV", longopts, NULL)) != -1)
		switch (ch) {
		case 'e':
			exitstatus = 1;
			break;
		case 'm':
			errno = 0;
			max = strtol(optarg, &endp, 10);
			if (*optarg == '\0' || *endp != '\0' || errno != 0 ||
			    max < 1) {
				warnx("bad --max-iterations %s",
				    loom_q(optarg));
				loom_usage(usage_text, 2);
			}
			break;
		case 'w':
			wopt = optarg;
			break;
		case 'h':
			loom_usage(usage_text, 0);
		case 'V':
			loom_version();
		default:
			loom_usage(usage_text, 2);
		}
	argc -= optind;
	argv += optind;
	workdir = loom_workdir(wopt);

	if ((taskmap = loom_map_new()) == NULL)
		err(2, NULL);
	plan = jv_null();
	if (argc == 0)
		read_file("-");
	for (i = 0; i < (size_t)argc; i++)
		read_file(argv[i]);
	if (bad)
		return 1;

	read_outputs();
	collect_patches();
	conflicts = find_conflicts();

	next = plan_fields(jv_copy(plan));
	ntask = task_fields();
	cur = jv_object_set(jv_object_delete(jv_copy(next),
	    jv_string("version")), jv_string("tasks"), task_fields());
	apply_patches();
	changed = !jv_equal(cur, jv_object_set(jv_object_delete(jv_copy(next),
	    jv_string("version")), jv_string("tasks"), jv_copy(ntask)));

	reasons = jv_array();
	findings = jv_array();
	counts = jv_object();
	for (i = 0; i < 5; i++)
		counts = jv_object_set(counts,
		    jv_string(loom_severity_name((int)i)), jv_number(0));
	tasksobj = jv_object();
	for (i = 0; i < ntasks; i++) {
		struct task *t = &tasks[i];

		tasksobj = jv_object_set(tasksobj, jv_string(t->id),
		    task_entry(t, &findings, &counts));
		if (jv_get_kind(t->result) != JV_KIND_OBJECT) {
			failed++;
			reasons = jv_array_append(reasons, jv_string_fmt(
			    "no result for task %s", loom_q(t->id)));
		} else if (!t->ok) {
			jv st = loom_get(t->result, "status");

			failed++;
			reasons = jv_array_append(reasons, jv_string_fmt(
			    "task %s: %s", loom_q(t->id),
			    jv_get_kind(st) == JV_KIND_STRING ?
			    jv_string_value(st) : "no status"));
			jv_free(st);
		} else if (t->error != NULL) {
			failed++;
			reasons = jv_array_append(reasons, jv_string_fmt(
			    "task %s: output: %s", loom_q(t->id), t->error));
		} else if (!t->completed) {
			incomplete++;
			reasons = jv_array_append(reasons, jv_string_fmt(
			    "task %s reported completed: false",
			    loom_q(t->id)));
		}
	}
	plist = jv_array();
	for (i = 0; i < npatches; i++)
		plist = jv_array_append(plist, patch_entry(&patches[i]));

	/* Patches of reused tasks that change nothing were applied in the
	 * round that made them: they do not make a round CONVERGED. */
	for (i = 0; i < npatches; i++)
		if (!patches[i].cached ||
		    strcmp(patches[i].status, "unchanged") != 0)
			news++;

	version = plan_version();
	if (changed && version < max) {
		verdict = "ITERATE";
		reasons = jv_array_append(reasons,
		    jv_string("the patches changed the plan"));
	} else if (changed) {
		verdict = "BLOCKED";
		reasons = jv_array_append(reasons, jv_string_fmt(
		    "the patches changed the plan but the iteration limit %ld "
		    "is reached", max));
	} else if (failed || incomplete ||
	    jv_array_length(jv_copy(conflicts)) > 0) {
		verdict = "BLOCKED";
		if (jv_array_length(jv_copy(conflicts)) > 0)
			reasons = jv_array_append(reasons, jv_string(
			    "conflicting patches need a person to decide"));
	} else if (news > 0) {
		verdict = "CONVERGED";
		reasons = jv_array_append(reasons, jv_string(
		    "the next plan would equal this one"));
	} else {
		verdict = "DONE";
		reasons = jv_array_append(reasons, jv_string(
		    "every task succeeded and completed"));
	}

	if (changed)
		nextpath = write_plan(version + 1);

	for (i = 0; i < nrecs; i++)
		if (fwrite(recs[i].raw, 1, recs[i].len, stdout) !=
		    recs[i].len)
			err(2, "stdout");

	rec = jv_object_set(jv_object(), jv_string("type"),
	    jv_string("merge"));
	rec = jv_object_set(rec, jv_string("iteration"),
	    jv_number((double)version));
	rec = jv_object_set(rec, jv_string("max_iterations"),
	    jv_number((double)max));
	rec = jv_object_set(rec, jv_string("verdict"), jv_string(verdict));
	rec = jv_object_set(rec, jv_string("reasons"), reasons);
	rec = jv_object_set(rec, jv_string("tasks"), tasksobj);
	rec = jv_object_set(rec, jv_string("total"),
	    jv_number(jv_array_length(jv_copy(findings))));
	rec = jv_object_set(rec, jv_string("counts"), counts);
	rec = jv_object_set(rec, jv_string("findings"), findings);
	rec = jv_object_set(rec, jv_string("patches"), plist);
	rec = jv_object_set(rec, jv_string("conflicts"), conflicts);
	rec = jv_object_set(rec, jv_string("context"),
	    loom_get(next, "context"));
	rec = jv_object_set(rec, jv_string("next_plan"),
	    nextpath ? jv_string(nextpath) : jv_null());
	if (loom_emit(stdout, rec) < 0 || fclose(stdout) != 0)
		err(2, "stdout");
	free(nextpath);

	if (!exitstatus || strcmp(verdict, "DONE") == 0 ||
	    strcmp(verdict, "CONVERGED") == 0)
		return 0;
	return strcmp(verdict, "ITERATE") == 0 ? EXIT_ITERATE : EXIT_BLOCKED;
}
