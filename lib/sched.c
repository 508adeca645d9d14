/*
 * sched.c: decides which ready task starts next.  It knows the graph and
 * each task's state, and nothing of processes: the caller asks for the
 * next task while it has a free slot and says when one has finished.
 * Ready tasks wait in one heap per group, ordered by the weighted length
 * of the longest chain from the task to the end of the graph (longest
 * first, ties by task number), which keeps the makespan near its bound.
 */
#include <stdlib.h>
#include <string.h>

#include "loom.h"

struct heap {
	uint32_t	*v;
	size_t		 n, cap;
};

struct loom_sched {
	const struct loom_graph *g;
	double		*rank;
	const uint32_t	*group;
	uint32_t	*cap;		/* per group, 0: none */
	uint32_t	*running;	/* per group */
	size_t		 ngroups;
	struct heap	*ready;		/* per group */
	uint32_t	*waiting;	/* dependencies not yet ok */
	unsigned char	*state;
	uint32_t	*skipped;	/* tasks skipped, to report */
	size_t		 nskipped, skiphead;
	size_t		 left;
	int		 barrier;
	uint32_t	 level;		/* open in barrier mode */
	uint32_t	*unfinished;	/* per level */
	uint32_t	*held;		/* ready, level not open: a list */
	uint32_t	*heldhead;	/* per level */
};

#define NONE	UINT32_MAX

static int
before(const struct loom_sched *s, uint32_t a, uint32_t b)
{
	if (s->rank[a] != s->rank[b])
		return s->rank[a] > s->rank[b];
	return a < b;
}

/* Never allocates: each group's heap holds room for all its tasks. */
static void
heap_push(const struct loom_sched *s, struct heap *h, uint32_t t)
{
	size_t i, up;

	for (i = h->n++; i > 0; i = up) {
		up = (i - 1) / 2;
		if (!before(s, t, h->v[up]))
			break;
		h->v[i] = h->v[up];
	}
	h->v[i] = t;
}

static uint32_t
heap_pop(const struct loom_sched *s, struct heap *h)
{
	uint32_t top = h->v[0], last = h->v[--h->n];
	size_t i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(s, h->v[c + 1], h->v[c]))
			c++;
		if (!before(s, h->v[c], last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n > 0)
		h->v[i] = last;
	return top;
}

/* t has every dependency done: queue it, or hold it for its level. */
static void
make_ready(struct loom_sched *s, uint32_t t)
{
	uint32_t l = s->g->level[t];

	s->state[t] = LOOM_T_READY;
	if (s->barrier && l > s->level) {
		s->held[t] = s->heldhead[l];
		s->heldhead[l] = t;
		return;
	}
	heap_push(s, &s->ready[s->group[t]], t);
}

/* One fewer task left on t's level: open the next levels in barrier
 * mode once theirs are all finished. */
static void
finished(struct loom_sched *s, uint32_t t)
{
	uint32_t l, u;

	s->left--;
	s->unfinished[s->g->level[t]]--;
	if (!s->barrier)
		return;
	while (s->level < s->g->nlevels && s->unfinished[s->level] == 0) {
		l = ++s->level;
		if (l >= s->g->nlevels)
			break;
		for (u = s->heldhead[l]; u != NONE; u = s->held[u])
			heap_push(s, &s->ready[s->group[u]], u);
		s->heldhead[l] = NONE;
	}
}

struct loom_sched *
loom_sched_new(const struct loom_graph *g, const double *weight,
    const uint32_t *group, const uint32_t *cap, size_t ngroups,
    int barrier)
{
	struct loom_sched *s;
	size_t i, n = g->n, k;
	uint32_t t, j;
	double best;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->g = g;
	s->group = group;
	s->ngroups = ngroups;
	s->barrier = barrier;
	s->left = n;
	s->rank = malloc((n + 1) * sizeof(*s->rank));
	s->cap = malloc((ngroups + 1) * sizeof(*s->cap));
	s->running = calloc(ngroups + 1, sizeof(*s->running));
	s->ready = calloc(ngroups + 1, sizeof(*s->ready));
	s->waiting = malloc((n + 1) * sizeof(*s->waiting));
	s->state = calloc(n + 1, 1);
	s->skipped = malloc((n + 1) * sizeof(*s->skipped));
	s->unfinished = calloc(g->nlevels + 1, sizeof(*s->unfinished));
	s->held = malloc((n + 1) * sizeof(*s->held));
	s->heldhead = malloc((g->nlevels + 1) * sizeof(*s->heldhead));
	if (s->rank == NULL || s->cap == NULL || s->running == NULL ||
	    s->ready == NULL || s->waiting == NULL || s->state == NULL ||
	    s->skipped == NULL || s->unfinished == NULL || s->held == NULL ||
	    s->heldhead == NULL) {
		loom_sched_free(s);
		return NULL;
	}
	memcpy(s->cap, cap, ngroups * sizeof(*cap));
	for (t = 0; t < n; t++)
		s->ready[group[t]].cap++;
	for (k = 0; k <= ngroups; k++) {
		if ((s->ready[k].v = malloc((s->ready[k].cap + 1) *
		    sizeof(*s->ready[k].v))) == NULL) {
			loom_sched_free(s);
			return NULL;
		}
	}
	for (k = 0; k <= g->nlevels; k++)
		s->heldhead[k] = NONE;

	/* Ranks from the last level back: a task's dependents all lie on
	 * later levels, so theirs are known when it is reached. */
	for (i = n; i-- > 0;) {
		t = g->order[i];
		best = 0;
		for (j = g->rdep_off[t]; j < g->rdep_off[t + 1]; j++)
			if (s->rank[g->rdep[j]] > best)
				best = s->rank[g->rdep[j]];
		s->rank[t] = weight[t] + best;
	}

	for (t = 0; t < n; t++) {
		s->unfinished[g->level[t]]++;
		s->waiting[t] = g->dep_off[t + 1] - g->dep_off[t];
	}
	for (t = 0; t < n; t++)
		if (s->waiting[t] == 0)
			make_ready(s, t);
	return s;
}

void
loom_sched_free(struct loom_sched *s)
{
	size_t k;

	if (s == NULL)
		return;
	if (s->ready != NULL)
		for (k = 0; k <= s->ngroups; k++)
			free(s->ready[k].v);
	free(s->rank);
	free(s->cap);
	free(s->running);
	free(s->ready);
	free(s->waiting);
	free(s->state);
	free(s->skipped);
	free(s->unfinished);
	free(s->held);
	free(s->heldhead);
	free(s);
}

long
loom_sched_next(struct loom_sched *s)
{
	size_t k, best = SIZE_MAX;
	uint32_t t;

	for (k = 0; k < s->ngroups; k++) {
		if (s->ready[k].n == 0)
			continue;
		if (s->cap[k] != 0 && s->running[k] >= s->cap[k])
			continue;
		if (best == SIZE_MAX ||
		    before(s, s->ready[k].v[0], s->ready[best].v[0]))
			best = k;
	}
	if (best == SIZE_MAX)
		return -1;
	t = heap_pop(s, &s->ready[best]);
	s->running[best]++;
	s->state[t] = LOOM_T_RUN;
	return (long)t;
}

/* Marks everything downstream of t skipped, breadth first, using the
 * list of skipped tasks as the work list, so a long chain needs no deep
 * recursion. */
static void
skip_from(struct loom_sched *s, uint32_t t)
{
	const struct loom_graph *g = s->g;
	size_t i = s->nskipped;
	uint32_t j, u;

	for (;;) {
		for (j = g->rdep_off[t]; j < g->rdep_off[t + 1]; j++) {
			u = g->rdep[j];
			if (s->state[u] != LOOM_T_WAIT)
				continue;
			s->state[u] = LOOM_T_SKIP;
			s->skipped[s->nskipped++] = u;
			finished(s, u);
		}
		if (i == s->nskipped)
			break;
		t = s->skipped[i++];
	}
}

void
loom_sched_done(struct loom_sched *s, uint32_t t, int ok)
{
	const struct loom_graph *g = s->g;
	uint32_t j, u;

	s->running[s->group[t]]--;
	s->state[t] = ok ? LOOM_T_OK : LOOM_T_FAIL;
	if (!ok)
		skip_from(s, t);
	else
		for (j = g->rdep_off[t]; j < g->rdep_off[t + 1]; j++) {
			u = g->rdep[j];
			if (--s->waiting[u] == 0 &&
			    s->state[u] == LOOM_T_WAIT)
				make_ready(s, u);
		}
	finished(s, t);
}

long
loom_sched_skipped(struct loom_sched *s)
{
	if (s->skiphead == s->nskipped) {
		s->skiphead = s->nskipped = 0;
		return -1;
	}
	return (long)s->skipped[s->skiphead++];
}

int
loom_sched_state(const struct loom_sched *s, uint32_t t)
{
	return s->state[t];
}

double
loom_sched_rank(const struct loom_sched *s, uint32_t t)
{
	return s->rank[t];
}

size_t
loom_sched_left(const struct loom_sched *s)
{
	return s->left;
}
