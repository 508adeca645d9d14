/*
 * loom-report: reads the stream of plan, task, result and merge records
 * and tells a person what happened: the findings, worst first; the run,
 * with the speedup over running the tasks one by one and level by level,
 * the critical path and how busy the job slots were; a timeline of the
 * agents; and the tokens and cost.  As plain text, Markdown, JSON (every
 * figure), or a self-contained SVG or HTML timeline.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loom.h"

static const char usage_text[] =
    "usage: loom-report [-s] [-f format] [-j slots] [-W width] [-w dir] "
    "[file ...]\n";

enum format { TEXT, MARKDOWN, JSON, SVG, HTML };

struct rtask {
	char	*id;
	jv	 rec;		/* task record, or null */
	jv	 res;		/* last result record, or null */
	char	*agent;
	char	*role;
	char	*status;
	double	 start, end;	/* seconds from the first start */
	double	 dur;
	int	 timed;		/* start and end known */
	long	 level;
};

static struct rtask	*tasks;
static size_t		 ntasks, captasks;
static struct loom_map	*taskmap;
static jv		 plan, merge;
static int		 bad, colour;


static struct rtask *
task_get(const char *id)
{
	struct rtask *t;
	long i;
	int isnew = 0;

	if ((i = loom_map_intern(taskmap, id, strlen(id), &isnew)) < 0)
		err(2, NULL);
	if (!isnew)
		return &tasks[i];
	if (ntasks == captasks) {
		captasks = captasks ? captasks * 2 : 64;
		tasks = reallocarray(tasks, captasks, sizeof(*tasks));
		if (tasks == NULL)
			err(2, NULL);
	}
	t = &tasks[ntasks++];
	memset(t, 0, sizeof(*t));
	t->id = loom_xstrdup(id);
	t->rec = jv_null();
	t->res = jv_null();
	return t;
}

static void
take(struct loom_reader *r, jv v)
{
	const char *type;
	jv tv;
	char *id;

	if (jv_get_kind(v) != JV_KIND_OBJECT ||
	    jv_get_kind(tv = loom_get(v, "type")) != JV_KIND_STRING) {
		if (jv_get_kind(v) == JV_KIND_OBJECT)
			jv_free(tv);
		warnx("%s:%ld: record without a \"type\"",
		    loom_reader_name(r), loom_reader_line(r));
		bad = 1;
		jv_free(v);
		return;
	}
	type = jv_string_value(tv);

	if (strcmp(type, "plan") == 0 && jv_get_kind(plan) == JV_KIND_NULL)
		plan = jv_copy(v);
	else if (strcmp(type, "merge") == 0) {
		jv_free(merge);
		merge = jv_copy(v);
	} else if (strcmp(type, "task") == 0 || strcmp(type, "result") == 0) {
		if ((id = loom_get_str(v, "id")) == NULL || *id == '\0') {
			warnx("%s:%ld: %s without an \"id\"",
			    loom_reader_name(r), loom_reader_line(r), type);
			bad = 1;
		} else if (type[0] == 't') {
			struct rtask *t = task_get(id);

			jv_free(t->rec);
			t->rec = jv_copy(v);
		} else {
			struct rtask *t = task_get(id);

			jv_free(t->res);
			t->res = jv_copy(v);
		}
		free(id);
	}
	jv_free(tv);
	jv_free(v);
}

static void
read_file(const char *path)
{
	char e[LOOM_ERRLEN];
	struct loom_reader *r;
	int rc;
	jv v;

	if ((r = loom_reader_open(path, e)) == NULL)
		errx(2, "%s", e);
	while ((rc = loom_reader_next(r, &v, e)) == 1)
		take(r, v);
	if (rc < 0) {
		warnx("%s", e);
		bad = 1;
	}
	loom_reader_close(r);
}

/* ---- the figures ---------------------------------------------------- */

static double
num(jv o, const char *key, double dflt)
{
	jv v;
	double d = dflt;

	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return dflt;
	v = loom_get(o, key);
	if (jv_get_kind(v) == JV_KIND_NUMBER)
		d = jv_number_value(v);
	jv_free(v);
	return d;
}

static char *
str(jv o, const char *key, const char *dflt)
{
	char *s = NULL;

	if (jv_get_kind(o) == JV_KIND_OBJECT)
		s = loom_get_str(o, key);
	return s != NULL ? s : loom_xstrdup(dflt);
}

/* Fills the derived fields of every task; returns the first start. */
static double
settle(void)
{
	double t0 = INFINITY;
	size_t i;

	for (i = 0; i < ntasks; i++) {
		struct rtask *t = &tasks[i];
		double s = num(t->res, "start", NAN);
		double e = num(t->res, "end", NAN);
		char *a;

		a = str(t->res, "agent", "");
		if (*a == '\0') {
			free(a);
			a = str(t->rec, "agent", t->id);
		}
		t->agent = a;
		t->role = str(t->rec, "role", "");
		if (*t->role == '\0') {
			size_t n = strcspn(t->agent, "_");

			free(t->role);
			t->role = strndup(t->agent, n);
		}
		t->status = str(t->res, "status", jv_get_kind(t->res) ==
		    JV_KIND_NULL ? "missing" : "unknown");
		t->level = (long)num(t->rec, "level", 0);
		t->timed = isfinite(s) && isfinite(e) && e >= s;
		t->dur = t->timed ? e - s : num(t->res, "duration", 0);
		if (t->timed) {
			t->start = s;
			t->end = e;
			if (s < t0)
				t0 = s;
		}
	}

	if (!isfinite(t0))
		return 0;
	for (i = 0; i < ntasks; i++)
		if (tasks[i].timed) {
			tasks[i].start -= t0;
			tasks[i].end -= t0;
		}
	return t0;
}

static void
ignore(void *ctx, long task, const char *msg)
{
	(void)ctx;
	(void)task;
	(void)msg;
}

/* The critical path: the chain of dependencies longest in time. */
static jv
critical_path(double *lenp)
{
	struct loom_graph *g;
	double *best;
	long *prev, end = -1;
	jv path = jv_array();
	size_t i, k;

	*lenp = 0;
	if ((g = loom_graph_new()) == NULL)
		err(2, NULL);
	for (i = 0; i < ntasks; i++) {
		jv deps = jv_get_kind(tasks[i].rec) == JV_KIND_OBJECT ?
		    loom_get(tasks[i].rec, "depends_on") : jv_null();

		if (loom_graph_add(g, tasks[i].id, strlen(tasks[i].id),
		    NULL) == -2)
			err(2, NULL);
		if (jv_get_kind(deps) == JV_KIND_ARRAY) {
			jv_array_foreach(deps, j, d) {
				if (jv_get_kind(d) == JV_KIND_STRING &&
				    strcmp(jv_string_value(d), tasks[i].id) !=
				    0 &&
				    loom_graph_add_dep(g, jv_string_value(d),
				    strlen(jv_string_value(d))) < 0)
					err(2, NULL);
				jv_free(d);
			}
		}
		jv_free(deps);
	}
	if (loom_graph_check(g, ignore, NULL) != 0) {
		loom_graph_free(g);
		return path;
	}

	best = calloc(ntasks + 1, sizeof(*best));
	prev = calloc(ntasks + 1, sizeof(*prev));
	if (best == NULL || prev == NULL)
		err(2, NULL);
	for (k = 0; k < g->n; k++) {
		uint32_t t = g->order[k], d;

		prev[t] = -1;
		for (d = g->dep_off[t]; d < g->dep_off[t + 1]; d++)
			if (prev[t] < 0 || best[g->dep[d]] > best[prev[t]])
				prev[t] = g->dep[d];
		best[t] = tasks[t].dur + (prev[t] >= 0 ? best[prev[t]] : 0);
		if (end < 0 || best[t] > best[end])
			end = t;
	}
	if (end >= 0) {
		long *chain = calloc(ntasks + 1, sizeof(*chain));
		size_t len = 0;

		if (chain == NULL)
			err(2, NULL);
		*lenp = best[end];
		for (; end >= 0; end = prev[end])
			chain[len++] = end;
		while (len > 0)
			path = jv_array_append(path,
			    jv_string(tasks[chain[--len]].id));
		free(chain);
	}
	free(best);
	free(prev);
	loom_graph_free(g);
	return path;
}

struct event {
	double	t;
	int	k;		/* +1 a start, -1 an end */
};

static int
cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->k - y->k;	/* an end before a start at the same time */
}

/* The most tasks that ran at once. */
static long
max_running(void)
{
	struct event *e;
	size_t i, n = 0;
	long cur = 0, max = 0;

	if ((e = calloc(2 * ntasks + 1, sizeof(*e))) == NULL)
		err(2, NULL);
	for (i = 0; i < ntasks; i++)
		if (tasks[i].timed && tasks[i].end > tasks[i].start) {
			e[n].t = tasks[i].start;
			e[n++].k = 1;
			e[n].t = tasks[i].end;
			e[n++].k = -1;
		}
	qsort(e, n, sizeof(*e), cmp_event);

	for (i = 0; i < n; i++) {
		cur += e[i].k;
		if (cur > max)
			max = cur;
	}
	free(e);
	return max;
}

static int
cmp_level(const void *a, const void *b)
{
	const struct rtask *x = *(struct rtask *const *)a;
	const struct rtask *y = *(struct rtask *const *)b;

	if (x->level != y->level)
		return x->level < y->level ? -1 : 1;
	if (x->dur != y->dur)
		return x->dur > y->dur ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Sifts the smallest of heap[0..n) to the top after heap[0] grew. */
static void
sift_down(double *heap, size_t n)
{
	size_t i = 0, c;
	double t;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && heap[c + 1] < heap[c])
			c++;
		if (heap[i] <= heap[c])
			break;
		t = heap[i];
		heap[i] = heap[c];
		heap[c] = t;
		i = c;
	}
}

/*
 * The time the tasks would take run level by level, as the Loom
 * orchestrator does: each level waits for the one before, and runs its
 * tasks on the same number of slots, the longest first, each on the slot
 * free soonest.
 */
static double
level_by_level(long slots)
{
	struct rtask **v;
	double total = 0, *heap = NULL;
	size_t i, j, k, n;

	if ((v = calloc(ntasks + 1, sizeof(*v))) == NULL)
		err(2, NULL);
	for (i = 0; i < ntasks; i++)
		v[i] = &tasks[i];
	qsort(v, ntasks, sizeof(*v), cmp_level);

	for (i = 0; i < ntasks; i = j) {
		double span = 0;

		for (j = i; j < ntasks && v[j]->level == v[i]->level; j++)
			;
		n = j - i;
		if (slots <= 0 || n <= (size_t)slots) {
			total += v[i]->dur;	/* its longest */
			continue;
		}
		free(heap);
		if ((heap = calloc((size_t)slots, sizeof(*heap))) == NULL)
			err(2, NULL);
		for (k = i; k < j; k++) {
			heap[0] += v[k]->dur;
			if (heap[0] > span)
				span = heap[0];
			sift_down(heap, (size_t)slots);
		}
		total += span;
	}
	free(heap);
	free(v);
	return total;
}

/* The run: statuses, times, speedups, critical path, slots. */
static jv
run_figures(long slots)
{
	jv st = jv_object(), run, cp;
	double wall = 0, seq = 0, levels = 0, cplen;
	long maxrun;
	size_t i;

	for (i = 0; i < ntasks; i++) {
		struct rtask *t = &tasks[i];
		jv n = jv_object_get(jv_copy(st), jv_string(t->status));

		st = jv_object_set(st, jv_string(t->status), jv_number(
		    (jv_get_kind(n) == JV_KIND_NUMBER ?
		    jv_number_value(n) : 0) + 1));
		jv_free(n);
		seq += t->dur;
		if (t->timed && t->end > wall)
			wall = t->end;
	}

	cp = critical_path(&cplen);
	maxrun = max_running();
	if (slots <= 0)
		slots = maxrun;
	levels = level_by_level(slots);

	run = jv_object_set(jv_object(), jv_string("tasks"),
	    jv_number((double)ntasks));
	run = jv_object_set(run, jv_string("status"), st);
	run = jv_object_set(run, jv_string("wall"), jv_number(wall));
	run = jv_object_set(run, jv_string("sequential"), jv_number(seq));
	run = jv_object_set(run, jv_string("level_by_level"),
	    jv_number(levels));
	run = jv_object_set(run, jv_string("speedup"), wall > 0 ?
	    jv_number(seq / wall) : jv_null());
	run = jv_object_set(run, jv_string("speedup_over_levels"), wall > 0 ?
	    jv_number(levels / wall) : jv_null());
	run = jv_object_set(run, jv_string("critical_path"),
	    jv_object_set(jv_object_set(jv_object(), jv_string("seconds"),
	    jv_number(cplen)), jv_string("tasks"), cp));
	run = jv_object_set(run, jv_string("max_running"),
	    jv_number((double)maxrun));
	run = jv_object_set(run, jv_string("slots"), jv_number((double)slots));
	run = jv_object_set(run, jv_string("busy"), wall > 0 && slots > 0 ?
	    jv_number(seq / (wall * (double)slots)) : jv_null());
	return run;
}

struct ranked {
	int	rank;
	size_t	index;
};

static int
cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank - y->rank;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int
sev_rank(jv f)
{
	jv s = loom_get(f, "severity");
	int r = jv_get_kind(s) == JV_KIND_STRING ?
	    loom_severity_rank(jv_string_value(s)) : 5;

	jv_free(s);
	return r;
}

/* The findings of the merge record, worst first, and by task. */
static jv
finding_figures(void)
{
	jv list, sorted, bytask, fig, *per;
	struct ranked *rk;
	size_t n, i;

	if (jv_get_kind(merge) != JV_KIND_OBJECT)
		return jv_null();
	sorted = jv_array();
	bytask = jv_array();
	list = loom_get(merge, "findings");
	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		list = jv_array();
	}

	n = (size_t)jv_array_length(jv_copy(list));
	if ((rk = calloc(n + 1, sizeof(*rk))) == NULL)
		err(2, NULL);
	for (i = 0; i < n; i++) {
		jv f = jv_array_get(jv_copy(list), (int)i);

		rk[i].rank = jv_get_kind(f) == JV_KIND_OBJECT ? sev_rank(f) : 5;
		rk[i].index = i;
		jv_free(f);
	}
	qsort(rk, n, sizeof(*rk), cmp_ranked);
	for (i = 0; i < n; i++)
		sorted = jv_array_append(sorted,
		    jv_array_get(jv_copy(list), (int)rk[i].index));
	free(rk);

	/* Counts by task in one pass: per[i] is null until task i has one. */
	if ((per = calloc(ntasks + 1, sizeof(*per))) == NULL)
		err(2, NULL);
	for (i = 0; i < ntasks; i++)
		per[i] = jv_null();
	jv_array_foreach(list, k, f) {
		jv task = jv_get_kind(f) == JV_KIND_OBJECT ?
		    loom_get(f, "task") : jv_null();
		long t = jv_get_kind(task) == JV_KIND_STRING ?
		    loom_map_get(taskmap, jv_string_value(task),
		    strlen(jv_string_value(task))) : -1;
		jv s, o;

		jv_free(task);
		if (t < 0) {
			jv_free(f);
			continue;
		}
		s = loom_get(f, "severity");
		if (jv_get_kind(s) != JV_KIND_STRING) {
			jv_free(s);
			s = jv_string("unknown");
		}
		if (jv_get_kind(per[t]) == JV_KIND_NULL)
			per[t] = jv_object();
		o = jv_object_get(jv_copy(per[t]), jv_copy(s));
		per[t] = jv_object_set(per[t], s, jv_number(1 +
		    (jv_get_kind(o) == JV_KIND_NUMBER ?
		    jv_number_value(o) : 0)));
		jv_free(o);
		jv_free(f);
	}
	for (i = 0; i < ntasks; i++) {
		double total = 0;
		jv e;

		if (jv_get_kind(per[i]) == JV_KIND_NULL)
			continue;
		jv_object_foreach(per[i], k, v) {
			total += jv_number_value(v);
			jv_free(k);
			jv_free(v);
		}
		e = jv_object_set(jv_object(), jv_string("task"),
		    jv_string(tasks[i].id));
		e = jv_object_set(e, jv_string("agent"),
		    jv_string(tasks[i].agent));
		e = jv_object_set(e, jv_string("total"), jv_number(total));
		bytask = jv_array_append(bytask,
		    jv_object_set(e, jv_string("counts"), per[i]));
	}
	free(per);

	fig = jv_object_set(jv_object(), jv_string("total"),
	    jv_number((double)n));
	fig = jv_object_set(fig, jv_string("counts"),
	    loom_get(merge, "counts"));
	fig = jv_object_set(fig, jv_string("by_task"), bytask);
	fig = jv_object_set(fig, jv_string("list"), sorted);
	jv_free(list);
	return fig;
}

/* The first number among keys of o. */
static double
num_of(jv o, const char *const *keys)
{
	for (; *keys != NULL; keys++) {
		double d = num(o, *keys, NAN);

		if (!isnan(d))
			return d;
	}
	return NAN;
}

/* Tokens and cost, in total and by role, from the outputs' usage. */
static jv
usage_figures(void)
{
	static const char *const in[] = {
		"tokens_in", "input_tokens", "prompt_tokens", NULL
	};
	static const char *const out[] = {
		"tokens_out", "output_tokens", "completion_tokens", NULL
	};
	static const char *const cost[] = { "cost", "cost_usd", NULL };
	static const char *const *const keys[3] = { in, out, cost };
	static const char *const names[3] = {
		"tokens_in", "tokens_out", "cost"
	};
	jv mt, total, byrole;
	size_t i;
	int any = 0, k;

	if (jv_get_kind(merge) != JV_KIND_OBJECT)
		return jv_null();
	total = jv_object();
	byrole = jv_object();
	mt = loom_get(merge, "tasks");
	for (i = 0; i < ntasks && jv_get_kind(mt) == JV_KIND_OBJECT; i++) {
		jv te = jv_object_get(jv_copy(mt), jv_string(tasks[i].id));
		jv u = jv_get_kind(te) == JV_KIND_OBJECT ?
		    loom_get(te, "usage") : jv_null();
		jv r;

		jv_free(te);
		if (jv_get_kind(u) != JV_KIND_OBJECT) {
			jv_free(u);
			continue;
		}
		any = 1;
		r = jv_object_get(jv_copy(byrole), jv_string(tasks[i].role));
		if (!jv_is_valid(r)) {
			jv_free(r);
			r = jv_object();
		}
		for (k = 0; k < 3; k++) {
			double d = num_of(u, keys[k]);

			if (isnan(d))
				continue;
			r = jv_object_set(r, jv_string(names[k]),
			    jv_number(num(r, names[k], 0) + d));
			total = jv_object_set(total, jv_string(names[k]),
			    jv_number(num(total, names[k], 0) + d));
		}
		byrole = jv_object_set(byrole, jv_string(tasks[i].role), r);
		jv_free(u);
	}
	jv_free(mt);
	if (!any) {
		jv_free(total);
		jv_free(byrole);
		return jv_null();
	}
	return jv_object_set(total, jv_string("by_role"), byrole);
}

static int
cmp_start(const void *a, const void *b)
{
	const struct rtask *x = *(struct rtask *const *)a;
	const struct rtask *y = *(struct rtask *const *)b;

	if (x->timed != y->timed)
		return y->timed - x->timed;
	if (x->timed && x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* One row per agent, by start time; tasks that never ran last. */
static jv
timeline(void)
{
	struct rtask **v;
	jv rows = jv_array();
	size_t i;

	if ((v = calloc(ntasks + 1, sizeof(*v))) == NULL)
		err(2, NULL);
	for (i = 0; i < ntasks; i++)
		v[i] = &tasks[i];
	qsort(v, ntasks, sizeof(*v), cmp_start);
	for (i = 0; i < ntasks; i++) {
		jv r = jv_object_set(jv_object(), jv_string("id"),
		    jv_string(v[i]->id));

		r = jv_object_set(r, jv_string("agent"),
		    jv_string(v[i]->agent));
		r = jv_object_set(r, jv_string("role"), jv_string(v[i]->role));
		r = jv_object_set(r, jv_string("level"),
		    jv_number((double)v[i]->level));
		r = jv_object_set(r, jv_string("status"),
		    jv_string(v[i]->status));
		r = jv_object_set(r, jv_string("start"), v[i]->timed ?
		    jv_number(v[i]->start) : jv_null());
		r = jv_object_set(r, jv_string("end"), v[i]->timed ?
		    jv_number(v[i]->end) : jv_null());
		r = jv_object_set(r, jv_string("duration"),
		    jv_number(v[i]->dur));
		rows = jv_array_append(rows, r);
	}
	free(v);
	return rows;
}

/* The iteration: the merge record's, else the plan's version, else 1. */
static long
iteration(void)
{
	double d = num(merge, "iteration", NAN);

	if (isnan(d))
		d = num(plan, "version", 1);
	return d >= 1 && d < 1e9 ? (long)d : 1;
}

static jv
figures(long slots)
{
	jv fig = jv_object_set(jv_object(), jv_string("type"),
	    jv_string("report"));
	double t0 = settle();

	fig = jv_object_set(fig, jv_string("iteration"),
	    jv_number((double)iteration()));
	fig = jv_object_set(fig, jv_string("intent"),
	    jv_get_kind(plan) == JV_KIND_OBJECT ? loom_get(plan, "intent") :
	    jv_null());
	if (jv_get_kind(merge) == JV_KIND_OBJECT) {
		static const char *const keep[] = {
			"verdict", "reasons", "next_plan", "patches",
			"conflicts", NULL
		};
		const char *const *k;
		jv ps = loom_get(merge, "patches"), pc = jv_object();

		for (k = keep; *k != NULL; k++)
			fig = jv_object_set(fig, jv_string(*k),
			    loom_get(merge, *k));
		if (jv_get_kind(ps) == JV_KIND_ARRAY) {
			jv_array_foreach(ps, i, p) {
				char *s = str(p, "status", "unknown");

				pc = jv_object_set(pc, jv_string(s),
				    jv_number(num(pc, s, 0) + 1));
				free(s);
				jv_free(p);
			}
		}
		jv_free(ps);
		fig = jv_object_set(fig, jv_string("patch_counts"), pc);
	}
	fig = jv_object_set(fig, jv_string("findings"), finding_figures());
	fig = jv_object_set(fig, jv_string("run"), run_figures(slots));
	fig = jv_object_set(fig, jv_string("started"),
	    t0 > 0 ? jv_number(t0) : jv_null());
	fig = jv_object_set(fig, jv_string("timeline"), timeline());
	fig = jv_object_set(fig, jv_string("usage"), usage_figures());
	return fig;
}

/* ---- text and Markdown ---------------------------------------------- */

/* A duration for people: 4.25s, 12.5s, 5m00s, 1h05m.  Rotating buffers. */
static const char *
dur(double s)
{
	static char buf[8][32];
	static int k;
	char *b = buf[k++ & 7];
	long r = lround(s);

	if (!isfinite(s))
		snprintf(b, 32, "-");
	else if (s < 10)
		snprintf(b, 32, "%.2fs", s);
	else if (s < 60)
		snprintf(b, 32, "%.1fs", s);
	else if (r < 3600)
		snprintf(b, 32, "%ldm%02lds", r / 60, r % 60);
	else
		snprintf(b, 32, "%ldh%02ldm", r / 3600, r % 3600 / 60);
	return b;
}

static void
paint(FILE *fp, const char *code, const char *fmt, ...)
    __attribute__((__format__(printf, 3, 4)));

/* Prints in colour when colour is on and code is not NULL. */
static void
paint(FILE *fp, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (colour && code != NULL)
		fprintf(fp, "\033[%sm", code);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	if (colour && code != NULL)
		fputs("\033[0m", fp);
}

static const char *
sev_colour(const char *s)
{
	static const char *const c[] = { "1;31", "31", "33", "36", "2" };
	int r = loom_severity_rank(s);

	return r < 5 ? c[r] : NULL;
}

static const char *
verdict_colour(const char *v)
{
	if (strcmp(v, "DONE") == 0 || strcmp(v, "CONVERGED") == 0)
		return "1;32";
	return strcmp(v, "ITERATE") == 0 ? "1;33" : "1;31";
}

static const char *
status_colour(const char *s)
{
	if (strcmp(s, "ok") == 0 || strcmp(s, "cached") == 0)
		return "32";
	return strcmp(s, "skipped") == 0 ? "2" : "31";
}

/*
 * Writes counts ({"critical":3,...}) as "3 critical, 5 medium", the five
 * known severities first, zeros left out.
 */
static void
put_counts(FILE *fp, jv counts, int paintit)
{
	const char *sep = "";
	int r;

	if (jv_get_kind(counts) != JV_KIND_OBJECT)
		return;
	for (r = 0; r < 5; r++) {
		double n = num(counts, loom_severity_name(r), 0);

		if (n <= 0)
			continue;
		fputs(sep, fp);
		if (paintit)
			paint(fp, sev_colour(loom_severity_name(r)),
			    "%.0f %s", n, loom_severity_name(r));
		else
			fprintf(fp, "%.0f %s", n, loom_severity_name(r));
		sep = ", ";
	}
	jv_object_foreach(counts, k, v) {
		if (loom_severity_rank(jv_string_value(k)) == 5 &&
		    jv_get_kind(v) == JV_KIND_NUMBER &&
		    jv_number_value(v) > 0) {
			fprintf(fp, "%s%.0f %s", sep, jv_number_value(v),
			    jv_string_value(k));
			sep = ", ";
		}
		jv_free(k);
		jv_free(v);
	}
}

/* "file:line", "file" or "" for a finding. */
static const char *
where(jv f)
{
	static char buf[512];
	char *file = str(f, "file", "");
	double line = num(f, "line", NAN);

	if (*file != '\0' && !isnan(line))
		snprintf(buf, sizeof(buf), "%s:%.0f", file, line);
	else
		snprintf(buf, sizeof(buf), "%s", file);
	free(file);
	return buf;
}

/* Writes the string value of o[key], or dflt. */
static void
put_str(FILE *fp, jv o, const char *key, const char *dflt)
{
	char *s = str(o, key, dflt);

	fputs(s, fp);
	free(s);
}

/* A Markdown table cell: pipes escaped, line breaks as spaces. */
static void
put_cell(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '|')
			fputs("\\|", fp);
		else if (*s == '\n' || *s == '\r')
			putc(' ', fp);
		else
			putc(*s, fp);
}

/* The timeline drawn with characters, width cells wide. */
static void
put_bars(FILE *fp, jv fig, int width)
{
	jv rows = loom_get(fig, "timeline"), run = loom_get(fig, "run");
	double wall = num(run, "wall", 0);
	int lw = 5;

	jv_array_foreach(rows, i, r) {
		char *a = str(r, "agent", "");

		if ((int)strlen(a) > lw)
			lw = (int)strlen(a) > 24 ? 24 : (int)strlen(a);
		free(a);
		jv_free(r);
	}

	fprintf(fp, "%-*s  0%*s\n", lw, "", width, dur(wall));
	jv_array_foreach(rows, i, r) {
		char *a = str(r, "agent", ""), *st = str(r, "status", "");
		double s = num(r, "start", NAN), e = num(r, "end", NAN);
		int c, from = 0, to = 0, ch;

		if (!isnan(s) && wall > 0) {
			from = (int)floor(s / wall * width);
			to = (int)ceil(e / wall * width);
			if (to <= from)
				to = from + 1;
			if (to > width)
				to = width;
		}
		ch = strcmp(st, "ok") == 0 ? '#' : strcmp(st, "cached") == 0 ?
		    '=' : strcmp(st, "timeout") == 0 ? 'T' :
		    strcmp(st, "cancelled") == 0 ? 'C' : 'X';
		fprintf(fp, "%-*.*s |", lw, lw, a);
		for (c = 0; c < width; c++) {
			if (c >= from && c < to && !isnan(s)) {
				if (colour)
					paint(fp, status_colour(st), "%c", ch);
				else
					putc(ch, fp);
			} else
				putc(c % 10 == 9 ? '.' : ' ', fp);
		}
		fprintf(fp, "| ");
		paint(fp, status_colour(st), "%s", st);
		if (!isnan(s))
			fprintf(fp, " %s", dur(e - s));
		putc('\n', fp);
		free(a);
		free(st);
		jv_free(r);
	}
	jv_free(rows);
	jv_free(run);
}

static void
put_statuses(FILE *fp, jv run)
{
	static const char *const order[] = {
		"ok", "cached", "failed", "timeout", "cancelled", "skipped",
		"missing", NULL
	};
	const char *const *o;
	jv st = loom_get(run, "status");
	const char *sep = "";

	for (o = order; *o != NULL; o++) {
		double n = num(st, *o, 0);

		if (n > 0) {
			fputs(sep, fp);
			paint(fp, status_colour(*o), "%.0f %s", n, *o);
			sep = ", ";
		}
	}
	jv_object_foreach(st, k, v) {
		for (o = order; *o != NULL; o++)
			if (strcmp(*o, jv_string_value(k)) == 0)
				break;
		if (*o == NULL) {
			fprintf(fp, "%s%.0f %s", sep, jv_number_value(v),
			    jv_string_value(k));
			sep = ", ";
		}
		jv_free(k);
		jv_free(v);
	}
	jv_free(st);
}

/* "a -> b -> c" */
static void
put_path(FILE *fp, jv run)
{
	jv cp = loom_get(run, "critical_path"), ts = loom_get(cp, "tasks");

	jv_array_foreach(ts, i, t) {
		fprintf(fp, "%s%s", i > 0 ? " -> " : "", jv_string_value(t));
		jv_free(t);
	}
	jv_free(ts);
	jv_free(cp);
}

static void
put_speedup(FILE *fp, jv run, const char *key)
{
	double x = num(run, key, NAN);

	if (!isnan(x))
		fprintf(fp, "%.2fx", x);
	else
		fputs("-", fp);
}

/* The verdict and its reasons, for text. */
static void
text_head(FILE *fp, jv fig)
{
	char *verdict = str(fig, "verdict", ""), *np;
	jv rs = loom_get(fig, "reasons");

	paint(fp, "1", "loom report, iteration %.0f", num(fig, "iteration", 1));
	if (*verdict != '\0') {
		fputs(": ", fp);
		paint(fp, verdict_colour(verdict), "%s", verdict);
	}
	putc('\n', fp);
	if (jv_get_kind(rs) == JV_KIND_ARRAY) {
		jv_array_foreach(rs, i, r) {
			if (jv_get_kind(r) == JV_KIND_STRING)
				fprintf(fp, "  %s\n", jv_string_value(r));
			jv_free(r);
		}
	}
	np = str(fig, "next_plan", "");
	if (*np != '\0')
		fprintf(fp, "  next plan: %s\n", np);
	free(np);
	free(verdict);
	jv_free(rs);
}

/* What a patch is about: "add_context auth_map", "update_task b.field". */
static void
put_patch(FILE *fp, jv p)
{
	char *a = str(p, "action", "?"), *x = NULL, *y = NULL;

	fputs(a, fp);
	if (strcmp(a, "add_context") == 0)
		x = str(p, "key", "");
	else if (strcmp(a, "update_task") == 0) {
		x = str(p, "task_id", "");
		y = str(p, "field", "");
	} else if (strcmp(a, "remove_task") == 0)
		x = str(p, "task_id", "");
	else if (strcmp(a, "add_task") == 0) {
		jv t = loom_get(p, "task");

		x = str(t, "id", "");
		jv_free(t);
	}
	if (x != NULL && *x != '\0')
		fprintf(fp, " %s", x);
	if (y != NULL && *y != '\0')
		fprintf(fp, ".%s", y);
	free(a);
	free(x);
	free(y);
}

static const char *
patch_colour(const char *s)
{
	if (strcmp(s, "applied") == 0)
		return "32";
	return strcmp(s, "unchanged") == 0 ? "2" : "31";
}

/* The patches, one a line, with why when not applied; md for Markdown. */
static void
put_patches(FILE *fp, jv fig, int md)
{
	jv ps = loom_get(fig, "patches");

	if (jv_get_kind(ps) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(ps)) == 0) {
		jv_free(ps);
		return;
	}
	if (md)
		fputs("## Patches\n\n| status | patch | from | why |\n"
		    "|---|---|---|---|\n", fp);
	else
		paint(fp, "1", "\nPatches\n");
	jv_array_foreach(ps, i, p) {
		char *st = str(p, "status", ""), *why = str(p, "reason", "");
		char *task = str(p, "from", "");

		if (md) {
			fprintf(fp, "| %s | ", st);
			put_patch(fp, p);
			fprintf(fp, " | %s | ", task);
			put_cell(fp, why);
			fputs(" |\n", fp);
		} else {
			fputs("  ", fp);
			paint(fp, patch_colour(st), "%-9s", st);
			fputs(" ", fp);
			put_patch(fp, p);
			fprintf(fp, " [%s]", task);
			if (*why != '\0')
				fprintf(fp, ": %s", why);
			putc('\n', fp);
		}
		free(st);
		free(why);
		free(task);
		jv_free(p);
	}
	if (md)
		putc('\n', fp);
	jv_free(ps);
}

static void
text_findings(FILE *fp, jv f)
{
	jv bt, l, c;

	if (jv_get_kind(f) != JV_KIND_OBJECT) {
		fprintf(fp, "Findings: none known (no merge record)\n");
		return;
	}
	paint(fp, "1", "Findings: %.0f", num(f, "total", 0));
	if (num(f, "total", 0) > 0) {
		fputs(" (", fp);
		put_counts(fp, c = loom_get(f, "counts"), 1);
		jv_free(c);
		fputs(")", fp);
	}
	putc('\n', fp);

	bt = loom_get(f, "by_task");
	jv_array_foreach(bt, i, b) {
		char *task = str(b, "task", ""), *agent = str(b, "agent", "");

		fprintf(fp, "  %-24s %-14s %3.0f  ", task, agent,
		    num(b, "total", 0));
		put_counts(fp, c = loom_get(b, "counts"), 0);
		jv_free(c);
		putc('\n', fp);
		free(task);
		free(agent);
		jv_free(b);
	}
	jv_free(bt);

	l = loom_get(f, "list");
	if (jv_array_length(jv_copy(l)) > 0)
		fprintf(fp, "\n  worst first:\n");
	jv_array_foreach(l, i, x) {
		char *sev = str(x, "severity", "unknown");
		char *msg = str(x, "message", ""), *fix = str(x, "fix", "");
		const char *w = where(x);

		fputs("  ", fp);
		paint(fp, sev_colour(sev), "%-8s", sev);
		fprintf(fp, " %s", msg);
		if (*w != '\0')
			fprintf(fp, " (%s)", w);
		fputs(" [", fp);
		put_str(fp, x, "task", "");
		fputs("]\n", fp);
		if (*fix != '\0')
			fprintf(fp, "           fix: %s\n", fix);
		free(sev);
		free(msg);
		free(fix);
		jv_free(x);
	}
	jv_free(l);
}

static void
text_run(FILE *fp, jv run)
{
	double wall = num(run, "wall", 0), busy = num(run, "busy", NAN);
	jv cp = loom_get(run, "critical_path");

	paint(fp, "1", "Run: %.0f tasks", num(run, "tasks", 0));
	fputs(": ", fp);
	put_statuses(fp, run);
	putc('\n', fp);
	fprintf(fp, "  wall time        %8s\n", dur(wall));
	fprintf(fp, "  one by one       %8s   speedup ",
	    dur(num(run, "sequential", 0)));
	put_speedup(fp, run, "speedup");
	fprintf(fp, "\n  level by level   %8s   speedup ",
	    dur(num(run, "level_by_level", 0)));
	put_speedup(fp, run, "speedup_over_levels");
	fprintf(fp, "\n  critical path    %8s   ", dur(num(cp, "seconds", 0)));
	put_path(fp, run);
	fprintf(fp, "\n  job slots        %8.0f   ", num(run, "slots", 0));
	if (!isnan(busy))
		fprintf(fp, "%.0f%% busy, ", busy * 100);
	fprintf(fp, "at most %.0f running at once\n",
	    num(run, "max_running", 0));
	jv_free(cp);
}

static void
text_usage(FILE *fp, jv u)
{
	jv br;

	if (jv_get_kind(u) != JV_KIND_OBJECT)
		return;
	paint(fp, "1", "Tokens: %.0f in, %.0f out", num(u, "tokens_in", 0),
	    num(u, "tokens_out", 0));
	if (!isnan(num(u, "cost", NAN)))
		fprintf(fp, ", cost %.4g", num(u, "cost", 0));
	putc('\n', fp);
	br = loom_get(u, "by_role");
	jv_object_foreach(br, k, v) {
		fprintf(fp, "  %-16s %10.0f in %10.0f out", jv_string_value(k),
		    num(v, "tokens_in", 0), num(v, "tokens_out", 0));
		if (!isnan(num(v, "cost", NAN)))
			fprintf(fp, "   cost %.4g", num(v, "cost", 0));
		putc('\n', fp);
		jv_free(k);
		jv_free(v);
	}
	jv_free(br);
}

static void
text(FILE *fp, jv fig, int width)
{
	jv f = loom_get(fig, "findings"), run = loom_get(fig, "run");
	jv u = loom_get(fig, "usage");

	text_head(fp, fig);
	put_patches(fp, fig, 0);
	putc('\n', fp);
	text_findings(fp, f);
	putc('\n', fp);
	text_run(fp, run);
	putc('\n', fp);
	paint(fp, "1", "Timeline");
	putc('\n', fp);
	put_bars(fp, fig, width);
	if (jv_get_kind(u) == JV_KIND_OBJECT) {
		putc('\n', fp);
		text_usage(fp, u);
	}
	jv_free(f);
	jv_free(run);
	jv_free(u);
}

static void
markdown(FILE *fp, jv fig, int width)
{
	jv f = loom_get(fig, "findings"), run = loom_get(fig, "run");
	jv u = loom_get(fig, "usage"), rs = loom_get(fig, "reasons"), c, cp;
	char *verdict = str(fig, "verdict", ""), *np = str(fig, "next_plan",
	    "");
	int saved = colour;

	colour = 0;
	fprintf(fp, "# loom report, iteration %.0f\n\n",
	    num(fig, "iteration", 1));
	if (*verdict != '\0')
		fprintf(fp, "**Verdict: %s**\n\n", verdict);
	if (jv_get_kind(rs) == JV_KIND_ARRAY) {
		jv_array_foreach(rs, i, r) {
			if (jv_get_kind(r) == JV_KIND_STRING)
				fprintf(fp, "- %s\n", jv_string_value(r));
			jv_free(r);
		}
	}
	if (*np != '\0')
		fprintf(fp, "- next plan: `%s`\n", np);
	if (*verdict != '\0' || *np != '\0')
		putc('\n', fp);

	fputs("## Findings\n\n", fp);
	if (jv_get_kind(f) != JV_KIND_OBJECT)
		fputs("None known: no merge record in the input.\n\n", fp);
	else {
		jv bt = loom_get(f, "by_task"), l = loom_get(f, "list");

		fprintf(fp, "%.0f findings", num(f, "total", 0));
		if (num(f, "total", 0) > 0) {
			fputs(": ", fp);
			put_counts(fp, c = loom_get(f, "counts"), 0);
			jv_free(c);
		}
		fputs(".\n\n", fp);
		if (jv_array_length(jv_copy(bt)) > 0)
			fputs("| task | agent | findings | by severity |\n"
			    "|---|---|---:|---|\n", fp);
		jv_array_foreach(bt, i, b) {
			fputs("| ", fp);
			put_str(fp, b, "task", "");
			fputs(" | ", fp);
			put_str(fp, b, "agent", "");
			fprintf(fp, " | %.0f | ", num(b, "total", 0));
			put_counts(fp, c = loom_get(b, "counts"), 0);
			jv_free(c);
			fputs(" |\n", fp);
			jv_free(b);
		}
		if (jv_array_length(jv_copy(l)) > 0)
			fputs("\n| severity | finding | where | task |\n"
			    "|---|---|---|---|\n", fp);
		jv_array_foreach(l, i, x) {
			char *sev = str(x, "severity", "unknown");
			char *msg = str(x, "message", "");
			const char *w = where(x);

			fprintf(fp, "| %s | ", sev);
			put_cell(fp, msg);
			fputs(" | ", fp);
			if (*w != '\0') {
				putc('`', fp);
				put_cell(fp, w);
				putc('`', fp);
			}
			fputs(" | ", fp);
			put_str(fp, x, "task", "");
			fputs(" |\n", fp);
			free(sev);
			free(msg);
			jv_free(x);
		}
		putc('\n', fp);
		jv_free(bt);
		jv_free(l);
	}

	put_patches(fp, fig, 1);
	cp = loom_get(run, "critical_path");
	fprintf(fp, "## Run\n\n%.0f tasks: ", num(run, "tasks", 0));
	put_statuses(fp, run);
	fprintf(fp, ".\n\n| | time | speedup |\n|---|---:|---:|\n"
	    "| wall time | %s | |\n| one by one | %s | ",
	    dur(num(run, "wall", 0)), dur(num(run, "sequential", 0)));
	put_speedup(fp, run, "speedup");
	fprintf(fp, " |\n| level by level | %s | ",
	    dur(num(run, "level_by_level", 0)));
	put_speedup(fp, run, "speedup_over_levels");
	fprintf(fp, " |\n| critical path | %s | |\n\nCritical path: ",
	    dur(num(cp, "seconds", 0)));
	put_path(fp, run);
	fprintf(fp, ".  \nJob slots: %.0f", num(run, "slots", 0));
	if (!isnan(num(run, "busy", NAN)))
		fprintf(fp, ", %.0f%% busy", num(run, "busy", 0) * 100);
	fprintf(fp, ", at most %.0f running at once.\n\n",
	    num(run, "max_running", 0));
	jv_free(cp);

	fputs("## Timeline\n\n```text\n", fp);
	put_bars(fp, fig, width);
	fputs("```\n", fp);

	if (jv_get_kind(u) == JV_KIND_OBJECT) {
		jv br = loom_get(u, "by_role");

		fputs("\n## Tokens and cost\n\n| role | tokens in | "
		    "tokens out | cost |\n|---|---:|---:|---:|\n", fp);
		jv_object_foreach(br, k, v) {
			fprintf(fp, "| %s | %.0f | %.0f | %.4g |\n",
			    jv_string_value(k), num(v, "tokens_in", 0),
			    num(v, "tokens_out", 0), num(v, "cost", 0));
			jv_free(k);
			jv_free(v);
		}
		fprintf(fp, "| **total** | %.0f | %.0f | %.4g |\n",
		    num(u, "tokens_in", 0), num(u, "tokens_out", 0),
		    num(u, "cost", 0));
		jv_free(br);
	}
	colour = saved;
	free(verdict);
	free(np);
	jv_free(rs);
	jv_free(f);
	jv_free(run);
	jv_free(u);
}

/* ---- SVG and HTML --------------------------------------------------- */

#define SVG_W		800
#define SVG_LABEL	190	/* left of the plot */
#define SVG_RIGHT	20
#define SVG_TOP		70
#define SVG_ROW		26
#define SVG_BOTTOM	44

/* Text escaped for XML. */
static void
put_xml(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		case '\'':
			fputs("&#39;", fp);
			break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t' ||
			    *s == '\n')
				putc(*s, fp);
		}
}

static const char *
status_fill(const char *s)
{
	if (strcmp(s, "ok") == 0)
		return "#4c9f70";
	if (strcmp(s, "cached") == 0)
		return "#a3c9b4";
	if (strcmp(s, "timeout") == 0)
		return "#e8913a";
	if (strcmp(s, "cancelled") == 0 || strcmp(s, "skipped") == 0)
		return "#9e9e9e";
	return "#d9534f";
}

/* A step for the time axis that gives at most about eight ticks. */
static double
tick_step(double wall)
{
	static const double steps[] = {
		0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120,
		300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400
	};
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (wall / steps[i] <= 8)
			return steps[i];
	return wall / 8;
}

/* The height of the SVG for a number of rows. */
static int
svg_height(size_t rows)
{
	return SVG_TOP + (int)rows * SVG_ROW + SVG_BOTTOM;
}

static void
svg(FILE *fp, jv fig)
{
	jv rows = loom_get(fig, "timeline"), run = loom_get(fig, "run");
	jv f = loom_get(fig, "findings"), c;
	size_t n = (size_t)jv_array_length(jv_copy(rows));
	double wall = num(run, "wall", 0), step, t;
	int h = svg_height(n), pw = SVG_W - SVG_LABEL - SVG_RIGHT;
	int axis = SVG_TOP + (int)n * SVG_ROW + 6;
	char *verdict = str(fig, "verdict", "");

	fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "font-family=\"sans-serif\" font-size=\"12\">\n",
	    SVG_W, h, SVG_W, h);
	fprintf(fp, "<title>loom timeline, iteration %.0f</title>\n",
	    num(fig, "iteration", 1));
	fprintf(fp, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
	    SVG_W, h);

	fprintf(fp, "<text x=\"12\" y=\"24\" font-size=\"15\" "
	    "font-weight=\"bold\">loom, iteration %.0f", num(fig,
	    "iteration", 1));
	if (*verdict != '\0')
		fprintf(fp, ": %s", verdict);
	fprintf(fp, "</text>\n<text x=\"12\" y=\"44\">%.0f tasks in %s; "
	    "one by one %s (", num(run, "tasks", 0), dur(wall),
	    dur(num(run, "sequential", 0)));
	put_speedup(fp, run, "speedup");
	fprintf(fp, " faster); level by level %s (",
	    dur(num(run, "level_by_level", 0)));
	put_speedup(fp, run, "speedup_over_levels");
	fputs(")</text>\n", fp);
	if (jv_get_kind(f) == JV_KIND_OBJECT) {
		fprintf(fp, "<text x=\"12\" y=\"60\">%.0f findings",
		    num(f, "total", 0));
		if (num(f, "total", 0) > 0) {
			fputs(": ", fp);
			put_counts(fp, c = loom_get(f, "counts"), 0);
			jv_free(c);
		}
		fputs("</text>\n", fp);
	}

	step = tick_step(wall > 0 ? wall : 1);
	for (t = 0; wall > 0 && t <= wall + step / 1000; t += step) {
		double x = SVG_LABEL + t / wall * pw;

		fprintf(fp, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
		    "y2=\"%d\" stroke=\"#dddddd\"/>\n", x, SVG_TOP - 4, x,
		    axis);
		fprintf(fp, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
		    "fill=\"#555555\">%s</text>\n", x, axis + 16,
		    t > 0 ? dur(t) : "0");
	}
	fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	    "stroke=\"#555555\"/>\n", SVG_LABEL, axis, SVG_LABEL + pw, axis);

	jv_array_foreach(rows, i, r) {
		char *a = str(r, "agent", ""), *id = str(r, "id", "");
		char *st = str(r, "status", "");
		double s = num(r, "start", NAN), e = num(r, "end", NAN);
		int y = SVG_TOP + i * SVG_ROW;

		fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
		    SVG_LABEL - 8, y + 14);
		put_xml(fp, a);
		fputs("</text>\n", fp);
		if (!isnan(s) && wall > 0) {
			double x = SVG_LABEL + s / wall * pw;
			double w = (e - s) / wall * pw;

			fprintf(fp, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
			    "height=\"18\" rx=\"3\" fill=\"%s\"><title>", x,
			    y, w < 1 ? 1 : w, status_fill(st));
			put_xml(fp, id);
			fprintf(fp, ": %s, %s</title></rect>\n", st,
			    dur(e - s));
			if (w > 7.0 * (double)strlen(id) + 10) {
				fprintf(fp, "<text x=\"%.1f\" y=\"%d\" "
				    "fill=\"#ffffff\">", x + 5, y + 13);
				put_xml(fp, id);
				fputs("</text>\n", fp);
			}
		} else {
			fprintf(fp, "<text x=\"%d\" y=\"%d\" "
			    "fill=\"#9e9e9e\">%s</text>\n", SVG_LABEL + 4,
			    y + 14, st);
		}
		free(a);
		free(id);
		free(st);
		jv_free(r);
	}
	fputs("</svg>\n", fp);
	free(verdict);
	jv_free(rows);
	jv_free(run);
	jv_free(f);
}

static void
html(FILE *fp, jv fig, int width)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n", fp);
	fprintf(fp, "<title>loom report, iteration %.0f</title>\n",
	    num(fig, "iteration", 1));
	fputs("<style>\nbody { font-family: sans-serif; margin: 2em; "
	    "max-width: 60em; }\npre { background: #f6f6f6; padding: 1em; "
	    "overflow-x: auto; }\n</style>\n</head>\n<body>\n", fp);
	svg(fp, fig);
	fputs("<pre>\n", fp);
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&buf, &len);
		int saved = colour;

		if (mem == NULL)
			err(2, NULL);
		colour = 0;
		text(mem, fig, width);
		colour = saved;
		if (fclose(mem) != 0)
			err(2, NULL);
		put_xml(fp, buf);
		free(buf);
	}
	fputs("</pre>\n</body>\n</html>\n", fp);
}

/* ---- main ----------------------------------------------------------- */

/* Makes dir and its parents. */
struct save {
	jv	 fig;
	int	 width;
};

static int
save_fill(FILE *fp, void *arg)
{
	struct save *sv = arg;

	markdown(fp, sv->fig, sv->width);
	return ferror(fp) ? -1 : 0;
}

/* Writes the Markdown report to WORKDIR/logs/iteration_N.md, atomically. */
static void
save(const char *workdir, jv fig, int width)
{
	struct save sv = { fig, width };
	char *dir, *path;

	dir = loom_xprintf("%s/logs/", workdir);
	path = loom_xprintf("%siteration_%.0f.md", dir,
	    num(fig, "iteration", 1));
	if (loom_mkdirs(dir) != 0)
		err(2, "%s", dir);
	if (loom_replace(path, save_fill, &sv) != 0)
		err(2, "%s", path);
	free(dir);
	free(path);
}

static long
number_arg(const char *opt, const char *arg, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || n < min ||
	    n > max) {
		warnx("bad %s %s", opt, loom_q(arg));
		loom_usage(usage_text, 2);
	}
	return n;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "format",	required_argument,	NULL, 'f' },
		{ "jobs",	required_argument,	NULL, 'j' },
		{ "save",	no_argument,		NULL, 's' },
		{ "width",	required_argument,	NULL, 'W' },
		{ "workdir",	required_argument,	NULL, 'w' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	static const char *const fmts[] = {
		"text", "markdown", "json", "svg", "html", NULL
	};
	const char *wopt = NULL;
	enum format fmt = TEXT;
	long slots = 0, width = 60;
	int ch, dosave = 0, i;
	jv fig, safe;

	while ((ch = getopt_long(argc, argv, "f:j:sW:w:hV", longopts,
	    NULL)) != -1)
		switch (ch) {
		case 'f':
			for (i = 0; fmts[i] != NULL; i++)
				if (strcmp(optarg, fmts[i]) == 0 ||
				    (i == MARKDOWN &&
				    strcmp(optarg, "md") == 0))
					break;
			if (fmts[i] == NULL) {
				warnx("unknown format %s", loom_q(optarg));
				loom_usage(usage_text, 2);
			}
			fmt = (enum format)i;
			break;
		case 'j':
			slots = number_arg("--jobs", optarg, 1, 1000000);
			break;
		case 's':
			dosave = 1;
			break;
		case 'W':
			width = number_arg("--width", optarg, 10, 1000);
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

	colour = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL &&
	    fmt == TEXT;
	if ((taskmap = loom_map_new()) == NULL)
		err(2, NULL);
	plan = jv_null();
	merge = jv_null();
	if (argc == 0)
		read_file("-");
	for (i = 0; i < argc; i++)
		read_file(argv[i]);
	if (bad)
		return 1;

	fig = figures(slots);
	safe = loom_output_clean(jv_copy(fig));
	if (dosave)
		save(loom_workdir(wopt), safe, (int)width);
	switch (fmt) {
	case TEXT:
		text(stdout, safe, (int)width);
		break;
	case MARKDOWN:
		markdown(stdout, safe, (int)width);
		break;
	case JSON:
		if (loom_emit(stdout, jv_copy(fig)) < 0)
			err(2, "stdout");
		break;
	case SVG:
		svg(stdout, safe);
		break;
	case HTML:
		html(stdout, safe, (int)width);
		break;
	}
	jv_free(fig);
	jv_free(safe);
	if (fclose(stdout) != 0)
		err(2, "stdout");
	return 0;
}
