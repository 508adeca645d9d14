/*
 * graph.c: the task graph.  Ids and dependency names are interned in one
 * map as they come, so a dependency may name a task that comes later.
 * loom_graph_check resolves the names, then a depth-first walk over the
 * dependencies gives each task its level (0 without dependencies, else one
 * more than the highest among them) and finds a cycle, reported as the
 * path around it.  Everything is linear in tasks plus edges.
 */
#include <stdlib.h>
#include <string.h>

#include "loom.h"

#define UNSEEN	UINT32_MAX
#define ONSTACK	(UINT32_MAX - 1)
#define NODEP	UINT32_MAX	/* an edge that was reported and dropped */

struct loom_graph *
loom_graph_new(void)
{
	struct loom_graph *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	if ((g->names = loom_map_new()) == NULL ||
	    (g->dep_off = malloc(sizeof(*g->dep_off))) == NULL) {
		loom_graph_free(g);
		return NULL;
	}
	g->dep_off[0] = 0;
	return g;
}

void
loom_graph_free(struct loom_graph *g)
{
	if (g == NULL)
		return;
	loom_map_free(g->names);
	free(g->name);
	free(g->task_of);
	free(g->istask);
	free(g->dep_off);
	free(g->dep);
	free(g->level);
	free(g->order);
	free(g->rdep_off);
	free(g->rdep);
	free(g);
}

/* task_of from name[]: built when first needed, a duplicate id or the
 * resolution, so that reading a sound plan costs a bit per name. */
static int
build_task_of(struct loom_graph *g)
{
	size_t k, count = loom_map_count(g->names);

	if (g->task_of != NULL)
		return 0;
	g->capnames = count ? count : 1;
	if ((g->task_of = malloc(g->capnames * sizeof(*g->task_of))) == NULL)
		return -1;
	for (k = 0; k < count; k++)
		g->task_of[k] = -1;
	for (k = 0; k < g->n; k++)
		g->task_of[g->name[k]] = (int32_t)k;
	return 0;
}

/* Interns a name; keeps the task bits, and task_of once built, as long
 * as the names. */
static long
intern(struct loom_graph *g, const char *s, size_t len)
{
	int isnew;
	long k = loom_map_intern(g->names, s, len, &isnew);
	size_t bytes;

	if (k < 0 || !isnew)
		return k;
	if (g->task_of != NULL) {
		if (loom_grow((void **)&g->task_of, &g->capnames, (size_t)k + 1,
		    sizeof(*g->task_of)) != 0)
			return -1;
		g->task_of[k] = -1;
	}
	bytes = g->captask;
	if (loom_grow((void **)&g->istask, &g->captask, (size_t)k / 8 + 1, 1)
	    != 0)
		return -1;
	memset(g->istask + bytes, 0, g->captask - bytes);
	return k;
}

#define IS_TASK(g, k)	((g)->istask[(k) / 8] & (1u << ((k) % 8)))

long
loom_graph_add(struct loom_graph *g, const char *id, size_t len,
    long *firstp)
{
	long k;
	size_t cap;

	if ((k = intern(g, id, len)) < 0)
		return -2;
	if (IS_TASK(g, k)) {
		if (build_task_of(g) != 0)
			return -2;
		if (firstp != NULL)
			*firstp = g->task_of[k];
		return -1;
	}
	if (g->n >= INT32_MAX - 1)
		return -2;
	cap = g->cap;
	if (loom_grow((void **)&g->name, &g->cap, g->n + 1,
	    sizeof(*g->name)) != 0)
		return -2;
	if (cap != g->cap) {
		uint32_t *p = realloc(g->dep_off, (g->cap + 1) *
		    sizeof(*g->dep_off));

		if (p == NULL)
			return -2;
		g->dep_off = p;
	}
	g->name[g->n] = (uint32_t)k;
	g->istask[k / 8] |= (unsigned char)(1u << (k % 8));
	if (g->task_of != NULL)
		g->task_of[k] = (int32_t)g->n;
	g->n++;
	g->dep_off[g->n] = (uint32_t)g->ndep;
	return (long)g->n - 1;
}

int
loom_graph_add_dep(struct loom_graph *g, const char *dep, size_t len)
{
	long k;

	if (g->n == 0 || g->ndep >= UINT32_MAX - 1 ||
	    (k = intern(g, dep, len)) < 0 ||
	    loom_grow((void **)&g->dep, &g->capdep, g->ndep + 1,
	    sizeof(*g->dep)) != 0)
		return -1;
	g->dep[g->ndep++] = (uint32_t)k;
	g->dep_off[g->n] = (uint32_t)g->ndep;
	return 0;
}

const char *
loom_graph_id(const struct loom_graph *g, size_t i)
{
	return loom_map_key(g->names, g->name[i], NULL);
}

long
loom_graph_find(const struct loom_graph *g, const char *id)
{
	long k;
	size_t i;

	if (g->lean)
		return -1;
	k = loom_map_get(g->names, id, strlen(id));
	if (k < 0 || !IS_TASK(g, k))
		return -1;
	if (g->task_of != NULL)
		return g->task_of[k];
	for (i = 0; i < g->n; i++)	/* before the check, and no duplicate */
		if (g->name[i] == (uint32_t)k)
			return (long)i;
	return -1;
}

/* Reports the cycle that closes when the task on top of the stack
 * depends on w, which is further down the stack. */
static void
report_cycle(struct loom_graph *g, const uint32_t *stack, size_t top,
    uint32_t w, void (*report)(void *, long, const char *), void *ctx)
{
	static const char head[] = "dependency cycle: ", arrow[] = " -> ";
	size_t i = top, len, at, n, pos;
	const char *id;
	char *msg;

	while (stack[i] != w)
		i--;
	len = sizeof(head) + strlen(loom_graph_id(g, w));
	for (at = i; at <= top; at++)
		len += strlen(loom_graph_id(g, stack[at])) + sizeof(arrow);
	if ((msg = malloc(len)) == NULL) {
		report(ctx, -1, "dependency cycle");
		return;
	}
	memcpy(msg, head, sizeof(head) - 1);
	pos = sizeof(head) - 1;
	for (at = i; at <= top + 1; at++) {
		id = loom_graph_id(g, at <= top ? stack[at] : w);
		n = strlen(id);
		memcpy(msg + pos, id, n);
		pos += n;
		if (at <= top) {
			memcpy(msg + pos, arrow, sizeof(arrow) - 1);
			pos += sizeof(arrow) - 1;
		}
	}
	msg[pos] = '\0';
	report(ctx, -1, msg);
	free(msg);
}

/* Resolves names to task numbers; reports and drops bad edges. */
static size_t
resolve(struct loom_graph *g, void (*report)(void *, long, const char *),
    void *ctx)
{
	size_t i, e, bad = 0;
	int32_t t;
	char msg[LOOM_ERRLEN];

	for (i = 0; i < g->n; i++) {
		for (e = g->dep_off[i]; e < g->dep_off[i + 1]; e++) {
			t = g->task_of[g->dep[e]];
			if (t >= 0 && (size_t)t != i) {
				g->dep[e] = (uint32_t)t;
				continue;
			}
			if (t < 0)
				snprintf(msg, sizeof(msg), "task %s depends on "
				    "unknown task %s", loom_q(loom_graph_id(g,
				    i)), loom_q(loom_map_key(g->names,
				    g->dep[e], NULL)));
			else
				snprintf(msg, sizeof(msg), "task %s depends on "
				    "itself", loom_q(loom_graph_id(g, i)));
			report(ctx, (long)i, msg);
			g->dep[e] = NODEP;
			bad++;
		}
	}
	return bad;
}

/* Depth-first over the dependencies: a task's level is known once all
 * of its dependencies are.  Returns 1 on a cycle, -1 out of memory. */
static int
levels(struct loom_graph *g, void (*report)(void *, long, const char *),
    void *ctx)
{
	uint32_t *stack = NULL, *cur = NULL, v, w, lv;
	size_t cap = 0, cap2 = 0, top, root, e;
	int rc = 0;

	for (root = 0; root < g->n; root++)
		g->level[root] = UNSEEN;
	for (root = 0; root < g->n && rc == 0; root++) {
		if (g->level[root] != UNSEEN)
			continue;
		if (loom_grow((void **)&stack, &cap, 1, sizeof(*stack)) != 0 ||
		    loom_grow((void **)&cur, &cap2, 1, sizeof(*cur)) != 0) {
			rc = -1;
			break;
		}
		top = 0;
		stack[0] = (uint32_t)root;
		cur[0] = g->dep_off[root];
		g->level[root] = ONSTACK;
		for (;;) {
			v = stack[top];
			if (cur[top] < g->dep_off[v + 1]) {
				w = g->dep[cur[top]++];
				if (w == NODEP || (g->level[w] != UNSEEN &&
				    g->level[w] != ONSTACK))
					continue;
				if (g->level[w] == ONSTACK) {
					report_cycle(g, stack, top, w, report,
					    ctx);
					rc = 1;
					break;
				}
				if (loom_grow((void **)&stack, &cap, top + 2,
				    sizeof(*stack)) != 0 ||
				    loom_grow((void **)&cur, &cap2, top + 2,
				    sizeof(*cur)) != 0) {
					rc = -1;
					break;
				}
				stack[++top] = w;
				cur[top] = g->dep_off[w];
				g->level[w] = ONSTACK;
				continue;
			}
			lv = 0;
			for (e = g->dep_off[v]; e < g->dep_off[v + 1]; e++)
				if (g->dep[e] != NODEP &&
				    g->level[g->dep[e]] + 1 > lv)
					lv = g->level[g->dep[e]] + 1;
			g->level[v] = lv;
			if (lv + 1 > g->nlevels)
				g->nlevels = lv + 1;
			if (top-- == 0)
				break;
		}
	}
	free(stack);
	free(cur);
	return rc;
}

/* order[]: tasks by level, ties by number, with a counting sort. */
static int
sort_levels(struct loom_graph *g)
{
	uint32_t *start;
	size_t i;

	g->order = malloc((g->n ? g->n : 1) * sizeof(*g->order));
	start = calloc((size_t)g->nlevels + 1, sizeof(*start));
	if (g->order == NULL || start == NULL) {
		free(start);
		return -1;
	}
	for (i = 0; i < g->n; i++)
		start[g->level[i] + 1]++;
	for (i = 1; i <= g->nlevels; i++)
		start[i] += start[i - 1];
	for (i = 0; i < g->n; i++)
		g->order[start[g->level[i]]++] = (uint32_t)i;
	free(start);
	return 0;
}

size_t
loom_graph_check(struct loom_graph *g,
    void (*report)(void *ctx, long task, const char *msg), void *ctx)
{
	size_t bad;
	int rc;

	if (g->checked++)
		return (size_t)-1;
	/* Lean: no more lookups, so the hash table makes room for task_of,
	 * which goes once the names are resolved. */
	if (g->lean)
		loom_map_unindex(g->names);
	if (build_task_of(g) != 0)
		return (size_t)-1;
	bad = resolve(g, report, ctx);
	if (g->lean) {
		free(g->task_of);
		g->task_of = NULL;
	}
	if ((g->level = malloc((g->n ? g->n : 1) * sizeof(*g->level))) == NULL)
		return (size_t)-1;
	if ((rc = levels(g, report, ctx)) < 0)
		return (size_t)-1;
	bad += (size_t)rc;
	/* Lean: the edges have served; the order takes their place. */
	if (g->lean) {
		free(g->dep);
		g->dep = NULL;
		free(g->dep_off);
		g->dep_off = NULL;
	}
	if (bad == 0 && sort_levels(g) != 0)
		return (size_t)-1;
	return bad;
}

int
loom_graph_rdeps(struct loom_graph *g)
{
	uint32_t *pos;
	size_t i, e, m = g->n;

	free(g->rdep_off);
	free(g->rdep);
	g->rdep_off = calloc(m + 2, sizeof(*g->rdep_off));
	g->rdep = malloc((g->ndep ? g->ndep : 1) * sizeof(*g->rdep));
	pos = malloc((m + 1) * sizeof(*pos));
	if (g->rdep_off == NULL || g->rdep == NULL || pos == NULL) {
		free(pos);
		return -1;
	}
	for (e = 0; e < g->ndep; e++)
		if (g->dep[e] != NODEP)
			g->rdep_off[g->dep[e] + 1]++;
	for (i = 1; i <= m; i++)
		g->rdep_off[i] += g->rdep_off[i - 1];
	memcpy(pos, g->rdep_off, (m + 1) * sizeof(*pos));
	for (i = 0; i < m; i++)
		for (e = g->dep_off[i]; e < g->dep_off[i + 1]; e++)
			if (g->dep[e] != NODEP)
				g->rdep[pos[g->dep[e]]++] = (uint32_t)i;
	free(pos);
	return 0;
}
