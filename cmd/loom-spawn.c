/*
 * loom-spawn: runs the task graph that loom-levels wrote, each task the
 * moment every task it depends on has succeeded, at most -j at once.
 *
 * It reads every record first and checks them all, so bad input runs
 * nothing.  Then it passes the records through, writes the plan for the
 * tasks to read, and loops: hand every free slot the next ready task
 * (sched.c), start it (proc.c), wait with one poll(2) for a child to end,
 * stdin to drain, a timer or a signal, and report each end as a result
 * record on stdout and a line in the journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <err.h>

#include "loom.h"
#include "engine.h"

#ifndef F_GETPIPE_SZ
#define F_GETPIPE_SZ	1032	/* Linux's, hidden without _GNU_SOURCE */
#endif

static const char usage_text[] =
"usage: loom-spawn [-j N] [--agent CMD] [--barrier] [--dry-run]\n"
"                  [--engine loom | parallel] [--grace SECONDS]\n"
"                  [--halt never | soon | now] [--joblog FILE]\n"
"                  [--limit ROLE=N] [--no-progress] [--resume]\n"
"                  [--retries N] [--retry-delay SECONDS]\n"
"                  [--sshlogin LOGIN] [--sshloginfile FILE]\n"
"                  [--timeout SECONDS] [--workdir DIR] [FILE ...]\n";

static const char joblog_head[] = "Seq\tHost\tStarttime\tJobRuntime\t"
    "Send\tReceive\tExitval\tSignal\tCommand\n";

extern char **environ;

enum { HALT_NEVER, HALT_SOON, HALT_NOW };

#define NOWAIT	(-1)	/* no wait status: the attempt never ran */
enum { STOP_NONE, STOP_HALT, STOP_KILL };

struct limit {
	char		*role;
	uint32_t	 cap;
};

static struct {
	long		 jobs;
	const char	*agent;
	int		 barrier, dryrun, resume, progress, halt;
	double		 grace, timeout, retry_delay;
	long		 retries;
	const char	*joblog;
	const char	*workdir;
	struct limit	*limits;
	size_t		 nlimits;
	int		 engine;	/* --engine parallel */
	char		**sshlogins;
	size_t		 nsshlogins;
	const char	*sshloginfile;
} opt;

/* One record of the input, in order; task records point at their task. */
struct rec {
	char		*line;		/* compact, ends in '\n' */
	size_t		 len;
	long		 task;		/* or -1 */
};

struct task {
	char		*agent, *role, *out, *run;
	char		*log;		/* WORKDIR/logs/AGENT.log */
	const char	*file;
	long		 lineno;
	long		 rec;		/* its line is recs[rec] */
	double		 timeout, estimate;
	long		 retries;
	uint32_t	 level;
	uint64_t	 hash;		/* of the record */
	uint64_t	 outhash;	/* of its output, once ok */
	uint64_t	 deps;		/* of its dependencies' outputs */
	char		 ended;		/* 'c' cancelled, 'f' other failures */
};

/* A task being run: one attempt at a time, and the pauses between. */
struct job {
	long		 t;		/* -1: the slot is free */
	struct loom_proc p;
	int		 outfd;		/* OUTPUT.tmp; under the loom engine
					 * -1 until stdout says something */
	int		 opipe, opw;	/* the stdout pipe's two ends */
	int		 outerr;	/* errno of a write to outfd, or 0 */
	int		 errfd, errw;	/* the stderr pipe's two ends */
	int		 logfd;		/* -1 until stderr says something */
	int		 attempt;
	long		 seq;
	char		**env;
	double		 first, start;	/* wall clock */
	/* Monotonic times, 0 for none. */
	double		 deadline, killat, wakeat;
	int		 timedout, cancelled;
};

static char		*adapter;	/* --agent NAME found, or NULL */
static char		*adapter_argv[2];
static char		**names;	/* of the input files */
static size_t		 nnames;
static struct rec	*recs;
static size_t		 nrecs;
static struct task	*tasks;
static struct loom_graph *graph;
static struct loom_sched *sched;
static jv		 plan;		/* the plan record, or null */
static struct job	*jobs;
static size_t		 njobs;
static struct loom_jentry *journal;
static int		 jfd = -1, jdirty, jbroken, joblogfd = -1;

/* The stderr pipe of a finished task that something it started in the
 * background still holds open: read on, into the task's log. */
struct linger {
	int		 fd, logfd;
	long		 t;
};
static struct linger	*lingers;
static size_t		 nlingers, caplingers;
static long		 seq;
static int		 stop, stopsig, bad;
static char		 plan_path[PATH_MAX], log_dir[PATH_MAX];
static char		 lock_path[PATH_MAX], empty_path[PATH_MAX + 8];
static int		 lockfd = -1, dirfd = -1;
static int		 lock_stale;	/* a task has ended since write_lock */
static int		 stale_tmps;	/* an earlier run was killed mid-way */
static char		 iteration[32];
static char		**baseenv;
static size_t		 nbaseenv;
static struct loom_status status;
static double		 drawn;
static int		 color;
static int		 outgone;	/* a write to stdout failed */
static struct loom_engine *eng;	/* --engine parallel, once started */
static int		 engine_eof;

/* ---- reading and checking -------------------------------------- */

static void
badrec(const struct task *tk, const char *fmt, const char *a)
{
	char msg[2 * LOOM_ERRLEN];

	snprintf(msg, sizeof(msg), fmt, a);
	warnx("%s:%ld: %s", tk->file, tk->lineno, msg);
	bad = 1;
}

/* Copies the string field key of rec, or NULL with *wrongp set when it
 * is there but not a string free of NUL bytes. */
static char *
str_field(jv rec, const char *key, int *wrongp)
{
	jv v = loom_get(rec, key);
	char *s = NULL;

	*wrongp = 0;
	if (loom_is_string(v)) {
		if (strlen(jv_string_value(v)) !=
		    (size_t)jv_string_length_bytes(jv_copy(v)))
			*wrongp = 1;
		else if ((s = strdup(jv_string_value(v))) == NULL)
			err(2, NULL);
	} else if (jv_get_kind(v) != JV_KIND_NULL)
		*wrongp = 1;
	jv_free(v);
	return s;
}

/* The number field key of rec, or dflt when absent or null; -1 with
 * *wrongp set when it is not a number >= 0. */
static double
num_field(jv rec, const char *key, double dflt, int *wrongp)
{
	jv v = loom_get(rec, key);
	double d = dflt;

	*wrongp = 0;
	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		d = jv_number_value(v);
		if (!(d >= 0) || !isfinite(d))
			*wrongp = 1;
	} else if (jv_get_kind(v) != JV_KIND_NULL)
		*wrongp = 1;
	jv_free(v);
	return d;
}

/* Reads the fields loom-spawn needs from a task record. */
static void
take_task(struct task *tk, jv rec)
{
	static const char again[] = " (run loom-levels first)";
	char e[LOOM_ERRLEN];
	int wrong;
	double d;
	jv deps;

	tk->hash = loom_hash_jv(rec);
	tk->agent = str_field(rec, "agent", &wrong);
	if (tk->agent == NULL)
		badrec(tk, "task without an agent%s", again);
	else if (!loom_name_ok(tk->agent))
		badrec(tk, "bad agent %s", loom_q(tk->agent));
	tk->role = str_field(rec, "role", &wrong);
	if (wrong || (tk->role != NULL && !loom_name_ok(tk->role)))
		badrec(tk, "bad role%s", "");
	if (tk->role == NULL && (tk->role = strdup("general")) == NULL)
		err(2, NULL);
	tk->out = str_field(rec, "outputs_to", &wrong);
	if (tk->out == NULL)
		badrec(tk, "task without outputs_to%s", again);
	else if (loom_path_check(tk->out + strspn(tk->out, "/"), e) == -1)
		/* Absolute is fine when inside the work directory, which
		 * check_paths makes sure of: loom-levels writes WORKDIR/... */
		badrec(tk, "outputs_to: %s", e);
	tk->run = str_field(rec, "run", &wrong);
	if (wrong)
		badrec(tk, "run is not a string%s", "");
	else if (tk->run == NULL && opt.agent == NULL)
		badrec(tk, "task without run, and no --agent given%s", "");

	d = num_field(rec, "level", -1, &wrong);
	if (wrong || d != floor(d) || d > UINT32_MAX)
		badrec(tk, "bad level%s", "");
	else if (d < 0)
		badrec(tk, "task without a level%s", again);
	tk->level = d >= 0 ? (uint32_t)d : 0;
	tk->timeout = num_field(rec, "timeout", opt.timeout, &wrong);
	if (wrong)
		badrec(tk, "bad timeout%s", "");
	d = num_field(rec, "retries", (double)opt.retries, &wrong);
	if (wrong || d != floor(d))
		badrec(tk, "bad retries%s", "");
	tk->retries = d > 1e6 || wrong ? 1000000 : (long)d;
	tk->estimate = num_field(rec, "estimate", 1, &wrong);
	if (wrong)
		badrec(tk, "bad estimate%s", "");
	if (tk->estimate <= 0)
		tk->estimate = 1e-3;

	deps = loom_get(rec, "depends_on");
	if (jv_get_kind(deps) == JV_KIND_ARRAY) {
		jv_array_foreach(deps, i, dep) {
			if (!loom_is_string(dep))
				badrec(tk, "depends_on holds a non-string%s",
				    "");
			else if (loom_graph_add_dep(graph,
			    jv_string_value(dep),
			    (size_t)jv_string_length_bytes(jv_copy(dep))) == -1)
				err(2, NULL);
			jv_free(dep);
		}
	} else if (jv_get_kind(deps) != JV_KIND_NULL)
		badrec(tk, "depends_on is not an array%s", "");
	jv_free(deps);
}

/* The record as one line: its own bytes when they are one line. */
static void
keep_line(struct rec *r, struct loom_reader *rd, jv v)
{
	const char *raw;
	size_t len;
	off_t off;
	jv s;

	raw = loom_reader_raw(rd, &len, &off);
	if (memchr(raw, '\n', len) != NULL || memchr(raw, '\r', len) != NULL) {
		s = jv_dump_string(jv_copy(v), 0);
		raw = jv_string_value(s);
		len = (size_t)jv_string_length_bytes(jv_copy(s));
	} else
		s = jv_null();
	if ((r->line = malloc(len + 1)) == NULL)
		err(2, NULL);
	memcpy(r->line, raw, len);
	r->line[len] = '\n';
	r->len = len + 1;
	jv_free(s);
}

static void
read_file(const char *path)
{
	static size_t capr, capt, capnames;
	struct loom_reader *rd;
	char e[LOOM_ERRLEN];
	const char *name;
	struct task *tk;
	struct rec *r;
	jv v, type, id;
	long first, n;
	int rc;

	if ((rd = loom_reader_open(path, e)) == NULL)
		errx(1, "%s", e);
	/* Tasks keep the name for messages; the list keeps it reachable. */
	if (loom_grow((void **)&names, &capnames, nnames + 1,
	    sizeof(*names)) != 0 ||
	    (name = strdup(loom_reader_name(rd))) == NULL)
		err(2, NULL);
	names[nnames++] = (char *)name;
	while ((rc = loom_reader_next(rd, &v, e)) == 1) {
		if (loom_grow((void **)&recs, &capr, nrecs + 1,
		    sizeof(*recs)) != 0)
			err(2, NULL);
		r = &recs[nrecs];
		r->task = -1;
		if (!loom_is_object(v) ||
		    !loom_is_string(type = loom_get(v, "type"))) {
			if (loom_is_object(v))
				jv_free(type);
			jv_free(v);
			errx(1, "%s:%ld: record without a \"type\"", name,
			    loom_reader_line(rd));
		}
		keep_line(r, rd, v);
		nrecs++;
		if (strcmp(jv_string_value(type), "plan") == 0 &&
		    jv_get_kind(plan) == JV_KIND_NULL) {
			jv_free(plan);
			plan = jv_copy(v);
		}
		if (strcmp(jv_string_value(type), "task") != 0) {
			jv_free(type);
			jv_free(v);
			continue;
		}
		jv_free(type);

		if (loom_grow((void **)&tasks, &capt, graph->n + 1,
		    sizeof(*tasks)) != 0)
			err(2, NULL);
		tk = &tasks[graph->n];
		memset(tk, 0, sizeof(*tk));
		tk->file = name;
		tk->lineno = loom_reader_line(rd);
		tk->rec = (long)nrecs - 1;
		id = loom_get(v, "id");
		if (!loom_is_string(id) || jv_string_length_bytes(jv_copy(id))
		    == 0 || strlen(jv_string_value(id)) !=
		    (size_t)jv_string_length_bytes(jv_copy(id))) {
			jv_free(id);
			jv_free(v);
			errx(1, "%s:%ld: task without a good \"id\"", name,
			    tk->lineno);
		}
		n = loom_graph_add(graph, jv_string_value(id),
		    (size_t)jv_string_length_bytes(jv_copy(id)), &first);
		if (n == -2)
			err(2, NULL);
		if (n == -1)
			errx(1, "%s:%ld: duplicate id %s (first on line %ld)",
			    name, tk->lineno, loom_q(jv_string_value(id)),
			    tasks[first].lineno);
		jv_free(id);
		r->task = n;
		take_task(tk, v);
		jv_free(v);
	}
	if (rc == -1)
		errx(1, "%s", e);
	loom_reader_close(rd);
}

/* a, b, c and d joined into a new string. */
static char *
path_plus(const char *a, const char *b, const char *c, const char *d)
{
	size_t len = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 1;
	char *s;

	if ((s = malloc(len)) == NULL)
		err(2, NULL);
	snprintf(s, len, "%s%s%s%s", a, b, c, d);
	return s;
}

static void
graph_problem(void *ctx, long t, const char *msg)
{
	(void)ctx;
	if (t < 0)
		warnx("%s", msg);
	else
		warnx("%s:%ld: %s", tasks[t].file, tasks[t].lineno, msg);
	bad = 1;
}

/*
 * The canonical form of path: the real path of its longest existing
 * prefix (every symbolic link in it followed), then the rest.  NULL, with
 * the reason in e, when a component is a link that leads nowhere.
 */
static char *
canon(const char *path, char *e)
{
	char *copy, *base, *rest, *slash, *out, *rd, *wr;
	struct stat st;
	size_t restlen = 0, clen;

	if ((copy = strdup(path)) == NULL || (rest = strdup("")) == NULL)
		err(2, NULL);
	while ((base = realpath(*copy != '\0' ? copy : ".", NULL)) == NULL) {
		if (errno != ENOENT || *copy == '\0' ||
		    lstat(copy, &st) == 0) {
			snprintf(e, LOOM_ERRLEN, "%s: %s", loom_q(copy),
			    errno == ENOENT ? "symbolic link leads nowhere" :
			    strerror(errno));
			free(copy);
			free(rest);
			return NULL;
		}
		slash = strrchr(copy, '/');
		slash = slash != NULL ? slash + 1 : copy;
		restlen += strlen(slash) + 1;
		if ((out = malloc(restlen + 1)) == NULL)
			err(2, NULL);
		snprintf(out, restlen + 1, "/%s%s", slash, rest);
		free(rest);
		rest = out;
		if (slash > copy)
			slash[-1] = '\0';
		else
			*slash = '\0';
	}
	/* The part that does not exist yet without its empty and "."
	 * components, so that one file has one form ("a//b", "a/./b"). */
	for (rd = wr = rest; *rd != '\0'; rd += 1 + clen) {
		clen = strcspn(rd + 1, "/");
		if (clen == 0 || (clen == 1 && rd[1] == '.'))
			continue;
		memmove(wr, rd, clen + 1);
		wr += clen + 1;
	}
	*wr = '\0';
	if ((out = malloc(strlen(base) + restlen + 1)) == NULL)
		err(2, NULL);
	snprintf(out, strlen(base) + restlen + 1, "%s%s", base, rest);
	free(copy);
	free(base);
	free(rest);
	return out;
}

/*
 * canon(), with the canonical forms of the last few directories
 * remembered: most outputs share one, and the logs another.  The last
 * component is looked at each time, and a link there takes the long way.
 */
static char *
canon_cached(const char *path, char *e)
{
	enum { NDIRS = 4 };
	static char *dir[NDIRS], *cdir[NDIRS];
	static size_t next;
	const char *slash = strrchr(path, '/');
	size_t dlen = slash != NULL ? (size_t)(slash - path) : 0, i;
	struct stat st;
	char *nd;

	if (slash == NULL || (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)))
		return canon(path, e);
	for (i = 0; i < NDIRS; i++)
		if (dir[i] != NULL && strlen(dir[i]) == dlen &&
		    strncmp(dir[i], path, dlen) == 0)
			break;
	if (i == NDIRS) {
		/* Forget the oldest pair first; remember the new one only
		 * once both halves are known. */
		i = next++ % NDIRS;
		free(dir[i]);
		free(cdir[i]);
		dir[i] = cdir[i] = NULL;
		if ((nd = strndup(path, dlen)) == NULL)
			err(2, NULL);
		if ((cdir[i] = canon(nd, e)) == NULL) {
			free(nd);
			return NULL;
		}
		dir[i] = nd;
	}
	return path_plus(cdir[i], slash, "", "");
}

/* 1 when path, whose canonical form is c, lies strictly inside the
 * directory whose canonical form is wd; else 0 with the reason in e. */
static int
inside_canon(const char *wd, const char *path, const char *c, char *e)
{
	size_t len = strlen(wd);
	int in;

	in = strncmp(c, wd, len) == 0 && c[len] == '/' && c[len + 1] != '\0';
	if (!in)
		snprintf(e, LOOM_ERRLEN, "%s leads outside the work directory "
		    "%s (to %s)", loom_q(path), loom_q(opt.workdir),
		    loom_q(c));
	return in;
}

/* inside_canon(), every symbolic link in path followed. */
static int
inside(const char *wd, const char *path, char *e)
{
	char *c;
	int in;

	if ((c = canon_cached(path, e)) == NULL)
		return 0;
	in = inside_canon(wd, path, c, e);
	free(c);
	return in;
}

/* Canonical plan.json, journal.ndjson, logs and lock of the work
 * directory. */
static char	*ours_c[4];

/* 1 when the canonical path c, inside the work directory, is one of
 * loom's own files (or their temporaries) or lies under logs/. */
static int
own_file(const char *c)
{
	size_t len = strlen(ours_c[2]);

	return strncmp(c, ours_c[0], strlen(ours_c[0])) == 0 ||
	    strncmp(c, ours_c[1], strlen(ours_c[1])) == 0 ||
	    (strncmp(c, ours_c[2], len) == 0 && c[len] == '/') ||
	    strcmp(c, ours_c[3]) == 0;
}

static void
check_paths(void)
{
	char e[LOOM_ERRLEN], p[PATH_MAX + 16];
	struct loom_map *outs, *agents;
	char *wd, *c, **couts;
	size_t i;
	long k;
	int isnew;

	if ((wd = canon(opt.workdir, e)) == NULL)
		errx(1, "work directory: %s", e);
	snprintf(plan_path, sizeof(plan_path), "%s/plan.json", opt.workdir);
	snprintf(log_dir, sizeof(log_dir), "%s/logs", opt.workdir);
	snprintf(lock_path, sizeof(lock_path), "%s/lock", opt.workdir);
	snprintf(p, sizeof(p), "%s/journal.ndjson", opt.workdir);
	if (!inside(wd, plan_path, e) || !inside(wd, log_dir, e) ||
	    !inside(wd, p, e) || !inside(wd, lock_path, e)) {
		free(wd);
		errx(1, "%s", e);
	}
	if ((ours_c[0] = canon(plan_path, e)) == NULL ||
	    (ours_c[1] = canon(p, e)) == NULL ||
	    (ours_c[2] = canon(log_dir, e)) == NULL ||
	    (ours_c[3] = canon(lock_path, e)) == NULL)
		errx(1, "%s", e);

	if ((outs = loom_map_new()) == NULL ||
	    (agents = loom_map_new()) == NULL ||
	    (couts = calloc(graph->n + 1, sizeof(*couts))) == NULL)
		err(2, NULL);
	for (i = 0; i < graph->n; i++) {
		struct task *tk = &tasks[i];

		if (tk->out == NULL || tk->agent == NULL)
			continue;
		/* Outputs are compared in their canonical form: a link,
		 * a "//" or a "./" is no other file. */
		if ((c = canon_cached(tk->out, e)) == NULL ||
		    !inside_canon(wd, tk->out, c, e)) {
			badrec(tk, "outputs_to: %s", e);
			free(c);
			c = NULL;
		} else if (own_file(c))
			badrec(tk, "outputs_to %s names one of loom's own "
			    "files", loom_q(tk->out));
		if ((couts[i] = c) != NULL &&
		    (k = loom_map_intern(outs, c, strlen(c), &isnew)) < 0)
			err(2, NULL);
		if (c != NULL && !isnew)
			badrec(tk, "outputs_to %s is another task's too",
			    loom_q(tk->out));
		if ((k = loom_map_intern(agents, tk->agent,
		    strlen(tk->agent), &isnew)) < 0)
			err(2, NULL);
		if (!isnew)
			badrec(tk, "agent %s is another task's too",
			    loom_q(tk->agent));
		tk->log = path_plus(log_dir, "/", tk->agent, ".log");
		if (!inside(wd, tk->log, e))
			badrec(tk, "log: %s", e);
	}
	/* Nor may one task's output be another's temporary or failure. */
	for (i = 0; i < graph->n; i++) {
		const char *o = couts[i];
		size_t len = o != NULL ? strlen(o) : 0;

		if ((len > 4 && strcmp(o + len - 4, ".tmp") == 0 &&
		    loom_map_get(outs, o, len - 4) >= 0) ||
		    (len > 7 && strcmp(o + len - 7, ".failed") == 0 &&
		    loom_map_get(outs, o, len - 7) >= 0))
			badrec(&tasks[i], "outputs_to %s is where another "
			    "task's output is written first",
			    loom_q(tasks[i].out));
		free(couts[i]);
	}
	free(couts);
	loom_map_free(outs);
	loom_map_free(agents);
	free(wd);
}

/* ---- files in the work directory -------------------------------- */

/* Makes the directories leading to path (not path itself). */
static int
mkdirs(const char *path)
{
	static char last[PATH_MAX];
	char buf[PATH_MAX], *s;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -1;
	if ((s = strrchr(buf, '/')) == NULL)
		return 0;
	*s = '\0';
	if (strcmp(buf, last) == 0)
		return 0;
	for (s = buf + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(buf, 0777) == -1 && errno != EEXIST)
			return -1;
		*s = c;
		if (c == '\0')
			break;
	}
	snprintf(last, sizeof(last), "%s", buf);
	return 0;
}

static void
write_all(int fd, const char *buf, size_t len, const char *what)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			err(2, "%s", what);
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* WORKDIR/plan.json: the plan record's fields and a "tasks" array, the
 * form loom-parse reads, put in place with a rename. */
static void
write_plan(void)
{
	char tmp[PATH_MAX + 8];
	FILE *fp;
	size_t i;
	int fd, any = 0;
	jv s;

	snprintf(tmp, sizeof(tmp), "%s.tmp", plan_path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd == -1 || (fp = fdopen(fd, "w")) == NULL)
		err(2, "%s", tmp);
	putc('{', fp);
	if (jv_get_kind(plan) == JV_KIND_OBJECT) {
		jv_object_foreach(plan, key, val) {
			if (strcmp(jv_string_value(key), "type") != 0 &&
			    strcmp(jv_string_value(key), "tasks") != 0) {
				s = jv_dump_string(key, 0);
				fprintf(fp, "%s:", jv_string_value(s));
				jv_free(s);
				s = jv_dump_string(val, 0);
				fprintf(fp, "%s,", jv_string_value(s));
				jv_free(s);
			} else {
				jv_free(key);
				jv_free(val);
			}
		}
	}
	fputs("\"tasks\":[", fp);
	for (i = 0; i < graph->n; i++) {
		if (any++)
			putc(',', fp);
		fwrite(recs[tasks[i].rec].line, 1, recs[tasks[i].rec].len - 1,
		    fp);
	}
	fputs("]}\n", fp);
	if (fflush(fp) != 0 || fsync(fd) == -1 || fclose(fp) != 0) {
		warn("%s", tmp);
		unlink(tmp);	/* no half-written file left (a full disk) */
		exit(2);
	}
	if (rename(tmp, plan_path) == -1)
		err(2, "%s", plan_path);
}

/* ---- the lock ---------------------------------------------------- */

/*
 * WORKDIR/lock is held with flock(2) while loom-spawn runs, so a second
 * one on the same work directory refuses to start.  It also lists the
 * process group of every task running, so that after a kill -9 (which
 * ends the tasks' shells but not what they started) the next loom-spawn
 * sees what still runs and waits for it rather than start the same
 * tasks beside it.  Its first line is "loom-spawn PID BOOT_ID", then
 * one "PGID AGENT" a line.
 */

static char	 boot_id[64];

static void
read_boot_id(void)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd == -1 ? -1 : read(fd, boot_id, sizeof(boot_id) - 1);

	boot_id[n > 0 ? n : 0] = '\0';
	boot_id[strcspn(boot_id, "\n ")] = '\0';
	if (boot_id[0] == '\0')
		snprintf(boot_id, sizeof(boot_id), "-");
	if (fd != -1)
		close(fd);
}

/* Rewrites the lock's list of running process groups. */
static void
write_lock(void)
{
	static char *buf;
	static size_t cap, last;
	static long pid;
	size_t len, k, need, nj;
	int n;

	/* Made at the first launch, and emptied of an older run's list;
	 * -2 once that failed. */
	lock_stale = 0;
	if (lockfd == -2)
		return;
	if (lockfd == -1) {
		lockfd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC |
		    O_NOFOLLOW, 0666);
		if (lockfd == -1 || ftruncate(lockfd, 0) == -1) {
			warn("%s", lock_path);
			lockfd = -2;
			return;
		}
	}
	/* Under --engine parallel p.pid is parallel's job number, not a
	 * process group of ours: no group is listed, and a --resume after
	 * a kill -9 cannot wait for the engine's jobs. */
	nj = opt.engine || jobs == NULL ? 0 : (size_t)opt.jobs;
	need = 128 + sizeof(boot_id);
	for (k = 0; k < nj; k++)
		if (jobs[k].t != -1 && jobs[k].p.pid > 0)
			need += 32 + strlen(tasks[jobs[k].t].agent);
	if (need < last)
		need = last;
	if (need > cap) {
		free(buf);
		if ((buf = malloc(need)) == NULL)
			err(2, NULL);
		cap = need;
	}
	if (pid == 0)
		pid = (long)getpid();
	n = snprintf(buf, cap, "loom-spawn %ld %s\n", pid, boot_id);
	len = n > 0 ? (size_t)n : 0;
	for (k = 0; k < nj; k++)
		if (jobs[k].t != -1 && jobs[k].p.pid > 0) {
			n = snprintf(buf + len, cap - len, "%ld %s\n",
			    (long)jobs[k].p.pid, tasks[jobs[k].t].agent);
			len += n > 0 ? (size_t)n : 0;
		}
	/* Blank lines pad it to its longest yet, which saves truncating
	 * it each time.  Losing it loses only the wait after a kill -9. */
	if (len < last) {
		memset(buf + len, '\n', last - len);
		len = last;
	}
	if (pwrite(lockfd, buf, len, 0) != (ssize_t)len)
		warn("%s", lock_path);
	last = len;
}

/*
 * The groups an earlier loom-spawn, killed, listed as running: waits,
 * saying so once, while any of them still lives.  A group of the same
 * number that is not ours (another user's) does not count; nor do
 * groups from before a reboot.
 */
static void
wait_orphans(FILE *fp)
{
	char *line = NULL, *sp, boot[64];
	size_t cap = 0;
	long pgid, *pg = NULL;
	char **who = NULL;
	size_t n = 0, i, capg = 0, capw = 0;
	int alive, said = 0;
	unsigned ev;

	if (getline(&line, &cap, fp) == -1 ||
	    sscanf(line, "loom-spawn %*s %63s", boot) != 1) {
		free(line);
		return;
	}
	while (getline(&line, &cap, fp) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if ((pgid = strtol(line, &sp, 10)) <= 1 || *sp != ' ' ||
		    !loom_name_ok(sp + 1))
			continue;
		if (loom_grow((void **)&pg, &capg, n + 1, sizeof(*pg)) != 0 ||
		    loom_grow((void **)&who, &capw, n + 1,
		    sizeof(*who)) != 0 || (who[n] = strdup(sp + 1)) == NULL)
			err(2, NULL);
		pg[n++] = pgid;
	}
	free(line);
	/* It was killed while tasks ran: their OUTPUT.tmp may be left. */
	stale_tmps = n > 0;
	/* Groups from before a reboot are not ours. */
	for (i = 0; i < n && strcmp(boot, boot_id) != 0; i++)
		pg[i] = 0;
	for (;;) {
		alive = 0;
		for (i = 0; i < n; i++) {
			if (pg[i] == 0)
				continue;
			if (kill(-(pid_t)pg[i], 0) == -1) {
				pg[i] = 0;
				continue;
			}
			if (!said)
				warnx("%s: the task of agent %s, left running "
				    "by a loom-spawn that was killed, still "
				    "runs (process group %ld): waiting for it "
				    "to end", opt.workdir, who[i], pg[i]);
			alive = 1;
		}
		said |= alive;
		if (!alive)
			break;
		ev = loom_proc_events();
		if (ev & (1u << SIGINT | 1u << SIGTERM | 1u << SIGHUP))
			exit(128 + (ev & 1u << SIGINT ? SIGINT :
			    ev & 1u << SIGTERM ? SIGTERM : SIGHUP));
		usleep(100000);
	}
	for (i = 0; i < n; i++)
		free(who[i]);
	free(who);
	free(pg);
}

/* Takes the lock, or exits when another loom-spawn holds it. */
static void
take_lock(void)
{
	char line[128];
	FILE *fp;
	int fd;
	ssize_t n;
	long pid = 0;

	read_boot_id();
	/* The directory itself is locked: no file is made before the
	 * plan is written (a full disk). */
	if ((dirfd = open(opt.workdir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		err(2, "%s", opt.workdir);
	if (flock(dirfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			err(2, "%s", opt.workdir);
		fd = open(lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		n = fd == -1 ? -1 : read(fd, line, sizeof(line) - 1);
		line[n > 0 ? n : 0] = '\0';
		if (sscanf(line, "loom-spawn %ld", &pid) == 1)
			errx(2, "%s: another loom-spawn (pid %ld) runs in "
			    "this work directory", opt.workdir, pid);
		errx(2, "%s: another loom-spawn runs in this work directory",
		    opt.workdir);
	}
	if ((fd = open(lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) != -1) {
		if ((fp = fdopen(fd, "r")) == NULL)
			err(2, "%s", lock_path);
		wait_orphans(fp);
		fclose(fp);
	}
}

static void
prepare_workdir(void)
{
	char p[PATH_MAX + 16];
	size_t i;

	snprintf(p, sizeof(p), "%s/", log_dir);
	if (mkdirs(p) == -1)
		err(2, "%s", log_dir);
	take_lock();
	for (i = 0; i < graph->n; i++) {
		if (mkdirs(tasks[i].out) == -1)
			err(2, "%s", tasks[i].out);
		/* A quiet task makes no OUTPUT.tmp, so would leave one a
		 * killed run left. */
		if (stale_tmps) {
			snprintf(p, sizeof(p), "%s.tmp", tasks[i].out);
			unlink(p);
		}
	}
	write_plan();
	/* The file every quiet task's log is a link to (see open_log). */
	snprintf(empty_path, sizeof(empty_path), "%s/.empty", log_dir);
	unlink(empty_path);
	close(open(empty_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0666));
	snprintf(p, sizeof(p), "%s/journal.ndjson", opt.workdir);
	if ((journal = calloc(graph->n + 1, sizeof(*journal))) == NULL)
		err(2, NULL);
	if (opt.resume && loom_journal_load(p, graph, journal, p) == -1)
		errx(2, "%s", p);
	if ((jfd = loom_journal_open(p, p)) == -1)
		errx(2, "%s", p);
}

/* ---- the task's environment ------------------------------------ */

static const char *const ours[] = {
	"LOOM_TASK_ID=", "LOOM_AGENT=", "LOOM_ROLE=", "LOOM_LEVEL=",
	"LOOM_ITERATION=", "LOOM_WORKDIR=", "LOOM_PLAN=", "LOOM_OUTPUT=",
	"LOOM_DEPS=", "LOOM_ATTEMPT=",
};
#define NOURS	(sizeof(ours) / sizeof(ours[0]))

/* environ without the variables loom-spawn sets itself. */
static void
base_env(void)
{
	size_t n, i, k;
	jv it;

	for (n = 0; environ[n] != NULL; n++)
		;
	if ((baseenv = calloc(n + NOURS + 1, sizeof(*baseenv))) == NULL)
		err(2, NULL);
	for (i = 0; i < n; i++) {
		for (k = 0; k < NOURS; k++)
			if (strncmp(environ[i], ours[k], strlen(ours[k])) == 0)
				break;
		if (k == NOURS)
			baseenv[nbaseenv++] = environ[i];
	}

	it = jv_get_kind(plan) == JV_KIND_OBJECT ?
	    loom_get(plan, "iteration") : jv_null();
	if (jv_get_kind(it) == JV_KIND_NUMBER)
		snprintf(iteration, sizeof(iteration), "%.17g",
		    jv_number_value(it));
	else if (loom_is_string(it))
		snprintf(iteration, sizeof(iteration), "%s",
		    jv_string_value(it));
	else if (getenv("LOOM_ITERATION") != NULL)
		snprintf(iteration, sizeof(iteration), "%s",
		    getenv("LOOM_ITERATION"));
	else
		snprintf(iteration, sizeof(iteration), "1");
	jv_free(it);
}

static char *
envvar(const char *name, const char *val)
{
	size_t len = strlen(name) + strlen(val) + 2;
	char *s;

	if ((s = malloc(len)) == NULL)
		err(2, NULL);
	snprintf(s, len, "%s=%s", name, val);
	return s;
}

/* The dependencies' output paths, one a line, in depends_on order. */
static char *
deps_list(uint32_t t)
{
	size_t len = 1, j;
	char *s;

	for (j = graph->dep_off[t]; j < graph->dep_off[t + 1]; j++)
		len += strlen(tasks[graph->dep[j]].out) + 1;
	if ((s = malloc(len)) == NULL)
		err(2, NULL);
	*s = '\0';
	for (j = graph->dep_off[t]; j < graph->dep_off[t + 1]; j++) {
		if (j > graph->dep_off[t])
			strcat(s, "\n");
		strcat(s, tasks[graph->dep[j]].out);
	}
	return s;
}

static char **
task_env(uint32_t t, int attempt)
{
	struct task *tk = &tasks[t];
	char **env, num[32], *deps;
	size_t n = nbaseenv;

	if ((env = calloc(nbaseenv + NOURS + 1, sizeof(*env))) == NULL)
		err(2, NULL);
	memcpy(env, baseenv, nbaseenv * sizeof(*env));
	env[n++] = envvar("LOOM_TASK_ID", loom_graph_id(graph, t));
	env[n++] = envvar("LOOM_AGENT", tk->agent);
	env[n++] = envvar("LOOM_ROLE", tk->role);
	snprintf(num, sizeof(num), "%u", tk->level);
	env[n++] = envvar("LOOM_LEVEL", num);
	env[n++] = envvar("LOOM_ITERATION", iteration);
	env[n++] = envvar("LOOM_WORKDIR", opt.workdir);
	env[n++] = envvar("LOOM_PLAN", plan_path);
	env[n++] = envvar("LOOM_OUTPUT", tk->out);
	deps = deps_list(t);
	env[n++] = envvar("LOOM_DEPS", deps);
	free(deps);
	snprintf(num, sizeof(num), "%d", attempt);
	env[n++] = envvar("LOOM_ATTEMPT", num);
	return env;
}

static void
free_env(char **env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = nbaseenv; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/*
 * The command a task runs: its own "run", else --agent: the adapter
 * found for that name (run as a program, never through a shell), else
 * the user's own command line, used as given.
 */
static const char *
task_command(const struct task *tk)
{
	if (tk->run != NULL)
		return tk->run;
	return adapter != NULL ? adapter : opt.agent;
}

/*
 * --engine parallel: the attempt becomes a line of parallel's input, run
 * by engine.c's job.pl as launch() would run it.  jb->p.pid holds the
 * job's number there, not a process: only job_of and kill_job see it.
 */
static int
engine_launch(struct job *jb, const struct task *tk, char *e)
{
	const struct rec *r = &recs[tk->rec];
	struct loom_engine_job j;
	char *tmp = path_plus(tk->out, ".tmp", "", "");
	long n;

	j.out = tmp;
	j.err = tk->log;
	j.exec = tk->run == NULL && adapter != NULL;
	j.cmd = task_command(tk);
	j.in = r->line;
	j.inlen = r->len;
	j.timeout = tk->timeout;
	j.env = jb->env + nbaseenv;
	n = loom_engine_submit(eng, &j, e);
	free(tmp);
	if (n == -1)
		return -1;
	jb->p.pid = (pid_t)n;
	jb->p.infd = -1;
	return 0;
}

/* Starts the attempt's process: an adapter without a shell, else the
 * command under /bin/sh -c. */
static int
launch(struct job *jb, const struct task *tk, char *e)
{
	const struct rec *r = &recs[tk->rec];

	if (eng != NULL)
		return engine_launch(jb, tk, e);
	if (tk->run == NULL && adapter != NULL)
		return loom_proc_exec(&jb->p, adapter_argv, jb->env,
		    jb->opw, jb->errw, r->line, r->len, e);
	return loom_proc_start(&jb->p, task_command(tk), jb->env,
	    jb->opw, jb->errw, r->line, r->len, e);
}

/* ---- what loom-spawn writes ------------------------------------ */

static double
ms(double t)
{
	return round(t * 1000) / 1000;
}

/* Writes the len bytes of one record and a newline to stdout, at once. */
static void
emit_line(const char *s, size_t len)
{
	if (outgone || (stop == STOP_KILL && stopsig == SIGPIPE))
		return;
	errno = 0;
	if (fwrite(s, 1, len, stdout) != len || putchar('\n') == EOF ||
	    fflush(stdout) == EOF) {
		if (errno == 0)
			warnx("stdout: write error");
		else if (errno != EPIPE)
			warn("stdout");
		outgone = 1;
		if (stop != STOP_KILL) {
			stop = STOP_KILL;
			stopsig = SIGPIPE;
		}
	}
}

/* Writes rec (consumed) as one line on stdout. */
static void
emit(jv rec)
{
	jv line = jv_dump_string(rec, 0);

	emit_line(jv_string_value(line),
	    (size_t)jv_string_length_bytes(jv_copy(line)));
	jv_free(line);
}

static void
draw(int force)
{
	char buf[256];
	double now = loom_mono();

	if (!opt.progress || (!force && now - drawn < 0.1))
		return;
	drawn = now;
	loom_status_format(&status, now, color, buf, sizeof(buf));
	(void)!write(2, buf, strlen(buf));
}

static void
joblog_line(const struct job *jb, double end, int code, int sig,
    off_t bytes)
{
	char head[160], *cmd, *c;
	int len;

	if (joblogfd == -1)
		return;
	if ((cmd = strdup(task_command(&tasks[jb->t]))) == NULL)
		err(2, NULL);
	for (c = cmd; *c != '\0'; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	len = snprintf(head, sizeof(head), "%ld\t:\t%10.3f\t%8.3f\t0\t%lld\t"
	    "%d\t%d\t", jb->seq, jb->first, end - jb->first,
	    (long long)bytes, code, sig);
	write_all(joblogfd, head, (size_t)len, opt.joblog);
	write_all(joblogfd, cmd, strlen(cmd), opt.joblog);
	write_all(joblogfd, "\n", 1, opt.joblog);
	free(cmd);
}

/* Reports how task t ended: a result record on stdout and in the
 * journal.  jb is NULL for tasks that did not run. */
static void
report(uint32_t t, const char *st, const struct job *jb, int wstatus,
    double end, const char *output)
{
	struct task *tk = &tasks[t];
	char e[LOOM_ERRLEN];
	jv rec, line, code = jv_null(), sig = jv_null();
	const char *s;
	size_t len;
	int ok = strcmp(st, "ok") == 0 || strcmp(st, "cached") == 0;

	if (jb != NULL && wstatus != NOWAIT && WIFEXITED(wstatus))
		code = jv_number(WEXITSTATUS(wstatus));
	if (jb != NULL && wstatus != NOWAIT && WIFSIGNALED(wstatus))
		sig = jv_number(WTERMSIG(wstatus));
	rec = jv_object();
	rec = jv_object_set(rec, jv_string("type"), jv_string("result"));
	rec = jv_object_set(rec, jv_string("id"),
	    jv_string(loom_graph_id(graph, t)));
	rec = jv_object_set(rec, jv_string("agent"), jv_string(tk->agent));
	rec = jv_object_set(rec, jv_string("status"), jv_string(st));
	rec = jv_object_set(rec, jv_string("exit"), code);
	rec = jv_object_set(rec, jv_string("signal"), sig);
	rec = jv_object_set(rec, jv_string("start"),
	    jb ? jv_number(ms(jb->first)) : jv_null());
	rec = jv_object_set(rec, jv_string("end"),
	    jb ? jv_number(ms(end)) : jv_null());
	rec = jv_object_set(rec, jv_string("duration"),
	    jb ? jv_number(ms(end - jb->first)) : jv_null());
	rec = jv_object_set(rec, jv_string("attempts"),
	    jv_number(jb ? jb->attempt : 0));
	rec = jv_object_set(rec, jv_string("output"),
	    output ? jv_string(output) : jv_null());
	rec = jv_object_set(rec, jv_string("log"),
	    jb || ok ? jv_string(tk->log) : jv_null());
	/* A journal that cannot be written (a full disk) stops the run as
	 * a signal would, so no task is left running unrecorded; the
	 * results still go to stdout, and the exit status is 2. */
	line = jv_dump_string(rec, 0);
	s = jv_string_value(line);
	len = (size_t)jv_string_length_bytes(jv_copy(line));
	if (!jbroken && loom_journal_append(jfd, s, len, tk->hash, tk->deps,
	    e) == -1) {
		warnx("%s", e);
		jbroken = 1;
		stop = STOP_KILL;
	}
	jdirty = 1;
	emit_line(s, len);
	jv_free(line);

	status.done++;
	if (!ok) {
		tk->ended = strcmp(st, "cancelled") == 0 ? 'c' : 'f';
		if (strcmp(st, "skipped") == 0)
			status.skipped++;
		else if (tk->ended == 'c')
			status.cancelled++;
		else
			status.failed++;
		if (opt.halt != HALT_NEVER && strcmp(st, "cancelled") != 0 &&
		    stop == STOP_NONE)
			stop = opt.halt == HALT_NOW ? STOP_KILL : STOP_HALT;
	}
	draw(0);
}

/* ---- running tasks ----------------------------------------------- */

/* The hash of the outputs of t's dependencies, in order. */
static uint64_t
deps_hash(uint32_t t)
{
	uint64_t h = LOOM_FNV_INIT;
	uint32_t j;

	for (j = graph->dep_off[t]; j < graph->dep_off[t + 1]; j++)
		h = loom_fnv(h, &tasks[graph->dep[j]].outhash,
		    sizeof(uint64_t));
	return h;
}

/* On --resume: 1 when t ran before to success, unchanged. */
static int
cached(uint32_t t, uint64_t deps)
{
	struct loom_jentry *je = &journal[t];
	char e[LOOM_ERRLEN];

	if (!opt.resume || !je->seen || !je->ok || je->hash != tasks[t].hash ||
	    je->deps != deps)
		return 0;
	return loom_hash_file(tasks[t].out, &tasks[t].outhash, e) == 0;
}

static void start_attempt(struct job *);

/* Signals the attempt's process group.  Under --engine parallel the job
 * ends its own task on a timeout, and ending one means ending them all:
 * only a stop gets that far. */
static void
kill_job(struct job *jb, int sig)
{
	if (eng == NULL)
		loom_proc_kill(&jb->p, sig);
	else if (jb->cancelled)
		loom_engine_stop(eng);
}

static void
stop_job(struct job *jb, int sig)
{
	jb->cancelled = 1;
	if (jb->p.pid > 0) {
		kill_job(jb, sig);
		if (jb->killat == 0)
			jb->killat = loom_mono() + opt.grace;
	}
}

static void
close_fd(int *fdp)
{
	if (*fdp != -1)
		close(*fdp);
	*fdp = -1;
}

/* Makes path a link to the run's empty file, in place of whatever was
 * there: no new inode, which costs more than the rest of starting a
 * task on some disks.  A new empty file where a link cannot be made. */
static int
empty_file(const char *path)
{
	int fd;

	if (link(empty_path, path) == 0)
		return 0;
	if (errno == EEXIST && unlink(path) == 0 &&
	    link(empty_path, path) == 0)
		return 0;
	if (errno == EMLINK) {
		/* A file takes at most so many links (65,000 on ext4):
		 * a new empty file for the next ones. */
		unlink(empty_path);
		close(open(empty_path, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0666));
		if (link(empty_path, path) == 0)
			return 0;
	}
	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0666)) == -1)
		return -1;
	close(fd);
	return 0;
}

/* Creates tk's OUTPUT.tmp, never writing through a file or a link left
 * in its place (O_EXCL), which is removed first.  A descriptor or -1. */
static int
open_output(const struct task *tk)
{
	char *tmp = path_plus(tk->out, ".tmp", "", "");
	int fd, e;

	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd == -1 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	e = errno;
	free(tmp);
	errno = e;
	return fd;
}

/* The output cannot be written (a full disk): the task has failed, and
 * is ended as on a timeout, TERM then KILL. */
static void
output_lost(struct job *jb, int e)
{
	char *tmp = path_plus(tasks[jb->t].out, ".tmp", "", "");

	warnx("%s: %s", tmp, strerror(e));
	free(tmp);
	jb->outerr = e;
	if (jb->p.pid > 0) {
		kill_job(jb, SIGTERM);
		if (jb->killat == 0)
			jb->killat = loom_mono() + opt.grace;
	}
}

/*
 * Reads what waits in the pipe fd, at most max times, and hands each
 * piece to put(arg, buf, len).  Returns 0 at the end of the pipe (left
 * open for the caller to close), else 1.
 */
static int
pump(int fd, int max, void (*put)(void *, const char *, size_t),
    void *arg)
{
	static char buf[65536];
	ssize_t n;

	while (max-- > 0) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 1;
		if (n <= 0)
			return 0;
		put(arg, buf, (size_t)n);
	}
	return 1;
}

/* pump()'s sink for a task's stdout: its OUTPUT.tmp, made at the first
 * byte; once a write has failed, the rest is dropped. */
static void
put_output(void *arg, const char *buf, size_t len)
{
	struct job *jb = arg;
	size_t off;
	ssize_t w;

	if (jb->outerr != 0)
		return;
	if (jb->outfd == -1 &&
	    (jb->outfd = open_output(&tasks[jb->t])) == -1) {
		output_lost(jb, errno);
		return;
	}
	for (off = 0; off < len; off += (size_t)w)
		if ((w = write(jb->outfd, buf + off, len - off)) == -1) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			output_lost(jb, errno);
			return;
		}
}

/*
 * Moves what waits in jb's stdout pipe into its OUTPUT.tmp, created at
 * the first byte.  A write the disk refuses fails the task (outerr);
 * the rest of its stdout is read and dropped.  Reads at most max times.
 * Returns 0 at the end of the pipe (then closed), else 1.
 */
static int
read_stdout(struct job *jb, int max)
{
	if (pump(jb->opipe, max, put_output, jb) == 1)
		return 1;
	close_fd(&jb->opipe);
	return 0;
}

/* The task's process has ended: what it wrote is all in the pipe by
 * now, one pipe's worth at most, which is all that is read.  What
 * something it left in the background writes later is not its output:
 * that loses its stdout (EPIPE). */
static void
end_stdout(struct job *jb)
{
	int cap;

	if (jb->opipe == -1)
		return;
	cap = fcntl(jb->opipe, F_GETPIPE_SZ);
	if (read_stdout(jb, cap > 65536 ? (cap + 65535) / 65536 : 1) == 1)
		close_fd(&jb->opipe);
}

static void
unlink_tmp(const struct task *tk)
{
	char *tmp = path_plus(tk->out, ".tmp", "", "");

	unlink(tmp);
	free(tmp);
}

/* Opens task t's log for appending: a file of its own, never the run's
 * empty file it may still be a link to. */
static int
open_log(long t)
{
	const char *log = tasks[t].log;
	struct stat sb;
	int fd;

	fd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd != -1 && fstat(fd, &sb) == 0 && sb.st_nlink == 1)
		return fd;
	if (fd != -1) {
		close(fd);
		unlink(log);
	}
	return open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
	    O_NOFOLLOW, 0666);
}

/* pump()'s sink for a task's stderr: its log, made at the first byte.
 * A log that cannot be written (a full disk) loses the task's stderr
 * quietly, as when the task wrote it. */
struct logsink {
	int	*logfdp;	/* -1 until made, -2 once dropped */
	long	 t;
};

static void
put_log(void *arg, const char *buf, size_t len)
{
	struct logsink *ls = arg;

	if (*ls->logfdp == -1 && (*ls->logfdp = open_log(ls->t)) == -1)
		*ls->logfdp = -2;
	if (*ls->logfdp >= 0 && write(*ls->logfdp, buf, len) != (ssize_t)len) {
		close(*ls->logfdp);
		*ls->logfdp = -2;
	}
}

/*
 * Moves what waits in the stderr pipe fd of task t into its log, which
 * is created (as *logfdp) only when the first byte comes, so a task
 * quiet on stderr costs no file.  Reads at most max times.  Returns 0
 * at the end of the pipe (fd closed), else 1.
 */
static int
read_stderr(int fd, int *logfdp, long t, int max)
{
	struct logsink ls = { logfdp, t };

	if (pump(fd, max, put_log, &ls) == 1)
		return 1;
	close(fd);
	return 0;
}

/* The task's process has ended: take what it wrote to stderr, and keep
 * reading what its background children write, if they hold the pipe. */
static void
end_stderr(struct job *jb)
{
	struct linger *l;

	if (jb->errfd == -1)
		return;
	if (read_stderr(jb->errfd, &jb->logfd, jb->t, 64) == 1) {
		if (loom_grow((void **)&lingers, &caplingers, nlingers + 1,
		    sizeof(*lingers)) != 0)
			err(2, NULL);
		l = &lingers[nlingers++];
		l->fd = jb->errfd;
		l->t = jb->t;
		l->logfd = jb->logfd >= 0 ? dup(jb->logfd) : -1;
		if (l->logfd != -1)
			fcntl(l->logfd, F_SETFD, FD_CLOEXEC);
	}
	jb->errfd = -1;
}

/* The last attempt of jb ended with wait status ws, or NOWAIT when it
 * was cancelled while waiting to be retried. */
static void
finish(struct job *jb, int ws)
{
	struct task *tk = &tasks[jb->t];
	char *tmp, *failed;
	const char *st, *output = NULL;
	double end = loom_now();
	struct stat sb;
	int ok;

	ok = !jb->timedout && !jb->cancelled && ws != NOWAIT &&
	    WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
	st = ok ? "ok" : jb->cancelled ? "cancelled" :
	    jb->timedout ? "timeout" : "failed";
	tmp = path_plus(tk->out, ".tmp", "", "");
	failed = path_plus(tk->out, ".failed", "", "");
	if (jb->outfd == -1)
		sb.st_size = 0;
	else if (fstat(jb->outfd, &sb) == -1)
		sb.st_size = -1;
	if (ok && jb->outerr != 0) {
		ok = 0;
		st = "failed";
	}
	/* An empty output hashes to the start value: nothing to read. */
	if (ok && sb.st_size == 0)
		tk->outhash = LOOM_FNV_INIT;
	else if (ok && loom_hash_fd(jb->outfd, &tk->outhash) == -1) {
		warn("%s", tmp);
		ok = 0;
		st = "failed";
	}
	/* Nothing came on stdout: the output is a link to the run's empty
	 * file (no new inode), made in place when there is none yet, else
	 * renamed over it. */
	if (jb->outfd == -1 && ok && link(empty_path, tk->out) == 0) {
		unlink(failed);
		output = tk->out;
	} else {
		if (jb->outfd == -1 && empty_file(tmp) == -1) {
			warn("%s", tmp);
			ok = 0;
			st = "failed";
		}
		close_fd(&jb->outfd);
		if (ok && rename(tmp, tk->out) == -1) {
			warn("%s", tk->out);
			ok = 0;
			st = "failed";
		} else if (ok) {
			unlink(failed);
			output = tk->out;
		}
		if (!ok && rename(tmp, failed) == 0)
			output = failed;
	}
	joblog_line(jb, end, ws != NOWAIT && WIFEXITED(ws) ?
	    WEXITSTATUS(ws) : -1, ws != NOWAIT && WIFSIGNALED(ws) ?
	    WTERMSIG(ws) : 0, sb.st_size > 0 ? sb.st_size : 0);
	report((uint32_t)jb->t, st, jb, ws, end, output);
	loom_sched_done(sched, (uint32_t)jb->t, ok);

	free(tmp);
	free(failed);
	if (jb->logfd >= 0)
		close(jb->logfd);
	jb->logfd = -1;
	free_env(jb->env);
	jb->env = NULL;
	jb->t = -1;
	njobs--;
	status.running = njobs;
}

/* The attempt's process was reaped with wait status ws. */
static void
attempt_ended(struct job *jb, int ws)
{
	double pause;

	/* Whatever the command left behind in its group goes with it
	 * when it ran out of time or was stopped. */
	if (jb->timedout || jb->cancelled)
		kill_job(jb, SIGKILL);
	loom_proc_close(&jb->p);
	lock_stale = 1;		/* rewritten at the next start, or in run() */
	end_stdout(jb);
	end_stderr(jb);
	jb->deadline = jb->killat = 0;
	if ((jb->timedout || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) &&
	    !jb->cancelled && stop == STOP_NONE &&
	    jb->attempt <= tasks[jb->t].retries) {
		pause = opt.retry_delay * pow(2, jb->attempt - 1);
		jb->wakeat = loom_mono() + (pause < 60 ? pause : 60);
		/* Each attempt's output starts empty: a quiet retry must
		 * not leave this one's bytes behind. */
		if (eng == NULL && jb->outfd != -1)
			unlink_tmp(&tasks[jb->t]);
		close_fd(&jb->outfd);
		return;
	}
	finish(jb, ws);
}

static void
start_attempt(struct job *jb)
{
	struct task *tk = &tasks[jb->t];
	char e[LOOM_ERRLEN];
	int fds[2] = { -1, -1 }, ofds[2] = { -1, -1 };
	jv rec;

	jb->attempt++;
	jb->wakeat = 0;
	jb->timedout = 0;
	jb->outerr = 0;
	/* The loom engine takes stdout through a pipe and makes the
	 * output's file at its first byte (read_stdout): a task quiet on
	 * stdout costs no new file.  The parallel engine's job writes
	 * the file itself. */
	if (eng != NULL)
		jb->outfd = open_output(tk);
	else if (loom_proc_pipe(ofds) == -1)
		warn("pipe");
	jb->opipe = ofds[0];
	jb->opw = ofds[1];
	/* The log holds this run's stderr only.  Until the first byte
	 * comes (read_stderr) it is a link to the run's empty file, which
	 * costs no new file: it says the task started (loom status). */
	if (jb->attempt == 1 && eng == NULL)
		empty_file(tk->log);
	else if (jb->attempt == 1) {
		unlink(tk->log);
		close(open(tk->log, O_WRONLY | O_CREAT | O_CLOEXEC |
		    O_NOFOLLOW, 0666));
	}
	/* The parallel engine's job appends stderr to the log itself. */
	if (eng == NULL && loom_proc_pipe(fds) == -1)
		warn("pipe");
	jb->errfd = fds[0];
	jb->errw = fds[1];
	free_env(jb->env);
	jb->env = task_env((uint32_t)jb->t, jb->attempt);
	jb->start = loom_now();
	if (jb->attempt == 1) {
		jb->first = jb->start;
		jb->seq = ++seq;
	}
	if ((eng != NULL && jb->outfd == -1) ||
	    (eng == NULL && (jb->opw == -1 || jb->errw == -1)) ||
	    launch(jb, tk, e) == -1) {
		if (eng != NULL && jb->outfd == -1)
			warn("%s", tk->out);
		else if (eng != NULL || (jb->opw != -1 && jb->errw != -1))
			warnx("%s", e);
		close_fd(&jb->errw);
		close_fd(&jb->errfd);
		close_fd(&jb->opw);
		close_fd(&jb->opipe);
		jb->p.pid = 0;
		finish(jb, 127 << 8);
		return;
	}
	close_fd(&jb->errw);
	close_fd(&jb->opw);
	jb->deadline = tk->timeout > 0 && eng == NULL ?
	    loom_mono() + tk->timeout : 0;
	write_lock();

	rec = jv_object();
	rec = jv_object_set(rec, jv_string("type"), jv_string("start"));
	rec = jv_object_set(rec, jv_string("id"),
	    jv_string(loom_graph_id(graph, (size_t)jb->t)));
	rec = jv_object_set(rec, jv_string("agent"), jv_string(tk->agent));
	rec = jv_object_set(rec, jv_string("attempt"),
	    jv_number(jb->attempt));
	rec = jv_object_set(rec, jv_string("start"),
	    jv_number(ms(jb->start)));
	emit(rec);
}

/* Starts what can start; tasks unchanged since the journal are cached. */
static void
dispatch(void)
{
	struct job *jb;
	uint64_t deps;
	long t;
	size_t k;

	while (stop == STOP_NONE && njobs < (size_t)opt.jobs &&
	    (t = loom_sched_next(sched)) >= 0) {
		deps = tasks[t].deps = deps_hash((uint32_t)t);
		if (cached((uint32_t)t, deps)) {
			report((uint32_t)t, "cached", NULL, 0, 0,
			    tasks[t].out);
			loom_sched_done(sched, (uint32_t)t, 1);
			continue;
		}
		for (k = 0; jobs[k].t != -1; k++)
			;
		jb = &jobs[k];
		memset(jb, 0, sizeof(*jb));
		jb->t = t;
		jb->p.infd = jb->outfd = jb->logfd = -1;
		jb->errfd = jb->errw = jb->opipe = jb->opw = -1;
		njobs++;
		status.running = njobs;
		start_attempt(jb);
	}
}

/*
 * Reports the tasks the scheduler skipped: "cancelled" when what held
 * them back was only cancelled (the run was stopped), "skipped" when a
 * dependency failed.  Skips come breadth first, so a task's skipped
 * dependencies are reported before it.
 */
static void
drain_skipped(void)
{
	uint32_t j;
	long t;
	int c, f;

	while ((t = loom_sched_skipped(sched)) >= 0) {
		c = f = 0;
		for (j = graph->dep_off[t]; j < graph->dep_off[t + 1]; j++) {
			c |= tasks[graph->dep[j]].ended == 'c';
			f |= tasks[graph->dep[j]].ended == 'f';
		}
		report((uint32_t)t, c && !f ? "cancelled" : "skipped", NULL,
		    0, 0, NULL);
	}
}

static void
stop_all(int sig)
{
	size_t k;

	for (k = 0; k < (size_t)opt.jobs; k++) {
		if (jobs[k].t == -1)
			continue;
		if (jobs[k].p.pid > 0)
			stop_job(&jobs[k], sig);
		else {
			jobs[k].cancelled = 1;
			finish(&jobs[k], NOWAIT);
		}
	}
}

/* Timeouts, kills after the grace period, retries due.  Returns the
 * seconds until the next timer, or -1 for none. */
static double
timers(void)
{
	double now = loom_mono(), next = -1, when;
	struct job *jb;
	size_t k;

	for (k = 0; k < (size_t)opt.jobs; k++) {
		jb = &jobs[k];
		if (jb->t == -1)
			continue;
		if (jb->p.pid > 0 && jb->deadline > 0 && now >= jb->deadline) {
			jb->deadline = 0;
			jb->timedout = 1;
			kill_job(jb, SIGTERM);
			jb->killat = now + opt.grace;
		}
		if (jb->p.pid > 0 && jb->killat > 0 && now >= jb->killat) {
			jb->killat = 0;
			kill_job(jb, SIGKILL);
		}
		if (jb->p.pid == 0 && jb->wakeat > 0 && now >= jb->wakeat) {
			if (stop != STOP_NONE) {
				jb->cancelled = 1;
				finish(jb, NOWAIT);
				continue;
			}
			start_attempt(jb);
		}
		if (jb->t == -1)
			continue;
		when = jb->deadline > 0 ? jb->deadline : 0;
		if (jb->killat > 0 && (when == 0 || jb->killat < when))
			when = jb->killat;
		if (jb->wakeat > 0 && (when == 0 || jb->wakeat < when))
			when = jb->wakeat;
		if (when > 0 && (next < 0 || when - now < next))
			next = when - now > 0 ? when - now : 0;
	}
	return next;
}

/*
 * Puts the journal on disk, at most once a second while running and at
 * the end.  A crash of the process loses nothing (the lines are written
 * at once); a crash of the machine loses at most the last second.
 */
static void
sync_journal(int now)
{
	static double last;
	double t = loom_mono();

	if (!jdirty || (!now && t - last < 1))
		return;
	fdatasync(jfd);
	jdirty = 0;
	last = t;
}

static struct job *
job_of(pid_t pid)
{
	size_t k;

	for (k = 0; k < (size_t)opt.jobs; k++)
		if (jobs[k].t != -1 && jobs[k].p.pid == pid)
			return &jobs[k];
	return NULL;
}

/* Reads the lingering stderr pipes that poll found ready (pfd[i] is
 * lingers[i]'s), or all of them, without waiting, when pfd is NULL;
 * forgets those at their end. */
static void
hear_lingers(const struct pollfd *pfd, size_t n)
{
	size_t k, keep = 0;
	struct linger *l;

	for (k = 0; k < nlingers; k++) {
		l = &lingers[k];
		if ((pfd == NULL || (k < n && pfd[k].revents != 0)) &&
		    read_stderr(l->fd, &l->logfd, l->t, 4) == 0) {
			if (l->logfd >= 0)
				close(l->logfd);
			continue;
		}
		lingers[keep++] = *l;
	}
	nlingers = keep;
}

/* --engine parallel: job n ended with wait status ws. */
static void
engine_done(void *ctx, long n, int ws, int timedout)
{
	struct job *jb = job_of((pid_t)n);

	(void)ctx;
	if (jb == NULL)
		return;
	if (timedout)
		jb->timedout = 1;
	attempt_ended(jb, ws);
}

/* Parallel and every job are gone: what never said it ended did not
 * run to the end. */
static void
engine_lost(void)
{
	size_t k;

	engine_eof = 1;
	for (k = 0; k < (size_t)opt.jobs; k++)
		if (jobs[k].t != -1 && jobs[k].p.pid > 0) {
			loom_proc_close(&jobs[k].p);
			finish(&jobs[k], NOWAIT);
		}
}

/* Adds to pfd, from *np on, the descriptor at offset off in every
 * running job that has one open, and the job to list (NULL-ended). */
static void
watch(struct pollfd *pfd, size_t *np, struct job **list, size_t off,
    short events)
{
	size_t k, i = 0;
	int fd;

	for (k = 0; k < (size_t)opt.jobs; k++) {
		if (jobs[k].t == -1 ||
		    (fd = *(int *)(void *)((char *)&jobs[k] + off)) == -1)
			continue;
		list[i++] = &jobs[k];
		pfd[*np].fd = fd;
		pfd[(*np)++].events = events;
	}
	list[i] = NULL;
}

static void
run(int wakefd)
{
	struct pollfd *pfd = NULL;
	struct job *jb, **fed, **heard, **told;
	struct stat sb;
	double wait;
	unsigned ev;
	size_t k, n, i, hbase, obase, nerr, caplfd = 0;
	int ws, outpipe, ms_, pr;
	pid_t pid;

	if ((fed = calloc((size_t)opt.jobs + 1, sizeof(*fed))) == NULL ||
	    (heard = calloc((size_t)opt.jobs + 1, sizeof(*heard))) == NULL ||
	    (told = calloc((size_t)opt.jobs + 1, sizeof(*told))) == NULL)
		err(2, NULL);
	outpipe = fstat(1, &sb) == 0 && (S_ISFIFO(sb.st_mode) ||
	    S_ISSOCK(sb.st_mode));
	for (;;) {
		dispatch();
		if (lock_stale)
			write_lock();
		drain_skipped();
		/* A closed stdout ends the tasks with TERM: SIGPIPE is
		 * ignored or handled by many programs. */
		if (stop == STOP_KILL)
			stop_all(stopsig != 0 && stopsig != SIGPIPE ?
			    stopsig : SIGTERM);
		if (njobs == 0)
			break;

		wait = timers();
		if (njobs == 0)
			continue;
		if (opt.progress && (wait < 0 || wait > 0.5))
			wait = 0.5;
		if (wait > 3600)	/* a poll timeout fits in an int */
			wait = 3600;
		ms_ = wait < 0 ? -1 : (int)ceil(wait * 1000);
		if (loom_grow((void **)&pfd, &caplfd, (size_t)opt.jobs * 3 +
		    3 + nlingers, sizeof(*pfd)) != 0)
			err(2, NULL);
		n = 0;
		pfd[n].fd = wakefd;
		pfd[n++].events = POLLIN;
		if (outpipe && stopsig != SIGPIPE) {
			pfd[n].fd = 1;
			pfd[n++].events = 0;
		}
		if (eng != NULL && !engine_eof) {
			pfd[n].fd = loom_engine_fd(eng);
			pfd[n++].events = POLLIN;
		}
		watch(pfd, &n, fed, offsetof(struct job, p.infd), POLLOUT);
		hbase = n;
		watch(pfd, &n, heard, offsetof(struct job, errfd), POLLIN);
		obase = n;
		watch(pfd, &n, told, offsetof(struct job, opipe), POLLIN);
		nerr = n;
		for (k = 0; k < nlingers; k++) {
			pfd[n].fd = lingers[k].fd;
			pfd[n++].events = POLLIN;
		}
		if ((pr = poll(pfd, n, ms_)) == -1 && errno != EINTR)
			err(2, "poll");
		/* Interrupted, poll has said nothing of any descriptor. */
		for (k = 0; pr == -1 && k < n; k++)
			pfd[k].revents = 0;

		/* Every signal caught writes a byte to the wake pipe; the
		 * pipe, and the children, are looked at only then. */
		ev = pr == -1 || pfd[0].revents & POLLIN ?
		    loom_proc_events() : 0;
		if (stop != STOP_KILL || stopsig == 0) {
			int sigs[] = { SIGINT, SIGTERM, SIGHUP };

			for (k = 0; k < 3; k++)
				if (ev & 1u << sigs[k]) {
					stop = STOP_KILL;
					stopsig = sigs[k];
				}
		}
		if (outpipe && stopsig != SIGPIPE && n > 1 &&
		    pfd[1].revents & (POLLERR | POLLHUP)) {
			if (stop != STOP_KILL || stopsig == 0) {
				stop = STOP_KILL;
				stopsig = SIGPIPE;
			}
		}
		for (i = 0; fed[i] != NULL; i++)
			loom_proc_feed(&fed[i]->p);
		for (i = 0; heard[i] != NULL; i++)
			if (pfd[hbase + i].revents != 0 &&
			    read_stderr(heard[i]->errfd, &heard[i]->logfd,
			    heard[i]->t, 4) == 0)
				heard[i]->errfd = -1;
		for (i = 0; told[i] != NULL; i++)
			if (pfd[obase + i].revents != 0)
				read_stdout(told[i], 4);
		hear_lingers(pfd + nerr, n - nerr);
		if (eng != NULL && !engine_eof &&
		    loom_engine_read(eng, engine_done, NULL) == 1)
			engine_lost();
		while ((ev & 1u << SIGCHLD) && (pid = loom_proc_reap(&ws)) > 0)
			if (eng != NULL && pid == loom_engine_pid(eng))
				loom_engine_reaped(eng, ws);
			else if (eng == NULL && (jb = job_of(pid)) != NULL)
				attempt_ended(jb, ws);
		sync_journal(0);
		draw(0);
	}
	free(pfd);
	free(fed);
	free(heard);
	free(told);
}

/* After a stop: every task that never ran is cancelled. */
static void
cancel_rest(void)
{
	size_t t;
	int st;

	for (t = 0; t < graph->n; t++) {
		st = loom_sched_state(sched, (uint32_t)t);
		if (st == LOOM_T_WAIT || st == LOOM_T_READY)
			report((uint32_t)t, "cancelled", NULL, 0, 0, NULL);
	}
}

/* ---- --dry-run ----------------------------------------------------- */

static void
quoted(const char *s)
{
	putchar('\'');
	for (; *s != '\0'; s++)
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	putchar('\'');
}

static void
dry_run(void)
{
	char **env;
	long t;
	size_t i;

	while ((t = loom_sched_next(sched)) >= 0) {
		env = task_env((uint32_t)t, 1);
		for (i = nbaseenv; env[i] != NULL; i++) {
			*strchr(env[i], '=') = '\0';
			printf("%s=", env[i]);
			quoted(env[i] + strlen(env[i]) + 1);
			putchar(' ');
		}
		if (tasks[t].run == NULL && adapter != NULL)
			quoted(adapter);
		else {
			fputs("/bin/sh -c ", stdout);
			quoted(task_command(&tasks[t]));
		}
		printf(" >%s 2>%s\n", tasks[t].out, tasks[t].log);
		free_env(env);
		loom_sched_done(sched, (uint32_t)t, 1);
	}
}

/* ---- options and main -------------------------------------------- */

/* A number of seconds with an optional s, m or h suffix, as a plan's
 * timeout is written in loom-parse's hand format. */
static double
seconds(const char *s, const char *what)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (end != s && end[0] != '\0' && end[1] == '\0' &&
	    strchr("smh", end[0]) != NULL) {
		d *= end[0] == 'h' ? 3600 : end[0] == 'm' ? 60 : 1;
		end++;
	}
	if (errno != 0 || end == s || *end != '\0' || !(d >= 0) ||
	    !isfinite(d)) {
		warnx("%s: bad number of seconds %s", what, loom_q(s));
		loom_usage(usage_text, 2);
	}
	return d;
}

static long
count(const char *s, const char *what, long min)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < min ||
	    n > 1000000) {
		warnx("%s: bad number %s", what, loom_q(s));
		loom_usage(usage_text, 2);
	}
	return n;
}

static void
add_limit(const char *arg)
{
	static size_t caplimits;
	const char *eq = strchr(arg, '=');
	struct limit *l;

	if (eq == NULL) {
		warnx("--limit: expected ROLE=N, not %s", loom_q(arg));
		loom_usage(usage_text, 2);
	}
	if (loom_grow((void **)&opt.limits, &caplimits, opt.nlimits + 1,
	    sizeof(*opt.limits)) != 0)
		err(2, NULL);
	l = &opt.limits[opt.nlimits++];
	if ((l->role = strndup(arg, (size_t)(eq - arg))) == NULL)
		err(2, NULL);
	if (!loom_name_ok(l->role)) {
		warnx("--limit: bad role %s", loom_q(l->role));
		loom_usage(usage_text, 2);
	}
	l->cap = (uint32_t)count(eq + 1, "--limit", 1);
}

/*
 * --sshlogin and --sshloginfile are checked before anything is written:
 * GNU parallel, told of a login file it cannot read or one without a
 * login, would fail every task, or run them all here.
 */
static void
check_logins(void)
{
	char *line = NULL, *p, *home;
	const char *path = opt.sshloginfile;
	size_t cap = 0, i, n = 0;
	FILE *fp;

	for (i = 0; i < opt.nsshlogins; i++)
		if (opt.sshlogins[i][strspn(opt.sshlogins[i], " \t,")] ==
		    '\0') {
			warnx("--sshlogin: no login in %s",
			    loom_q(opt.sshlogins[i]));
			loom_usage(usage_text, 2);
		}
	if (path == NULL)
		return;
	/* GNU parallel's name for its own file. */
	if (strcmp(path, "..") == 0)
		path = loom_xprintf("%s/.parallel/sshloginfile",
		    (home = getenv("HOME")) != NULL ? home : "");
	if ((fp = fopen(path, "r")) == NULL)
		err(2, "--sshloginfile %s", path);
	while (n == 0 && getline(&line, &cap, fp) != -1) {
		p = line + strspn(line, " \t\r\n");
		n += *p != '\0' && *p != '#';
	}
	free(line);
	fclose(fp);
	if (n == 0)
		errx(2, "--sshloginfile %s: no login in it", path);
	if (path != opt.sshloginfile)
		free((char *)path);
}

static void
options(int argc, char **argv)
{
	enum { O_AGENT = 256, O_BARRIER, O_DRY, O_GRACE, O_HALT, O_JOBLOG,
	    O_LIMIT, O_NOPROG, O_RESUME, O_RETRIES, O_DELAY, O_TIMEOUT,
	    O_WORKDIR, O_HELP, O_VERSION, O_ENGINE, O_SSHLOGIN,
	    O_SSHLOGINFILE };
	static const struct option lopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "agent", required_argument, NULL, O_AGENT },
		{ "barrier", no_argument, NULL, O_BARRIER },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "engine", required_argument, NULL, O_ENGINE },
		{ "grace", required_argument, NULL, O_GRACE },
		{ "halt", required_argument, NULL, O_HALT },
		{ "joblog", required_argument, NULL, O_JOBLOG },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "no-progress", no_argument, NULL, O_NOPROG },
		{ "resume", no_argument, NULL, O_RESUME },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ "retry-delay", required_argument, NULL, O_DELAY },
		{ "sshlogin", required_argument, NULL, O_SSHLOGIN },
		{ "sshloginfile", required_argument, NULL, O_SSHLOGINFILE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "workdir", required_argument, NULL, O_WORKDIR },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	static size_t caplogins;
	const char *nc;
	long n;
	int c, noprog = 0;

	opt.jobs = (n = sysconf(_SC_NPROCESSORS_ONLN)) > 0 ? n : 1;
	opt.grace = 2;
	opt.retry_delay = 1;
	while ((c = getopt_long(argc, argv, "j:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			opt.jobs = count(optarg, "-j", 1);
			break;
		case O_AGENT:
			opt.agent = optarg;
			break;
		case O_BARRIER:
			opt.barrier = 1;
			break;
		case O_DRY:
			opt.dryrun = 1;
			break;
		case O_ENGINE:
			if (strcmp(optarg, "loom") == 0)
				opt.engine = 0;
			else if (strcmp(optarg, "parallel") == 0)
				opt.engine = 1;
			else {
				warnx("--engine: expected loom or parallel, "
				    "not %s", loom_q(optarg));
				loom_usage(usage_text, 2);
			}
			break;
		case O_SSHLOGIN:
			if (loom_grow((void **)&opt.sshlogins, &caplogins,
			    opt.nsshlogins + 1, sizeof(*opt.sshlogins)) != 0)
				err(2, NULL);
			opt.sshlogins[opt.nsshlogins++] = optarg;
			opt.engine = 1;
			break;
		case O_SSHLOGINFILE:
			opt.sshloginfile = optarg;
			opt.engine = 1;
			break;
		case O_GRACE:
			opt.grace = seconds(optarg, "--grace");
			break;
		case O_HALT:
			if (strcmp(optarg, "never") == 0)
				opt.halt = HALT_NEVER;
			else if (strcmp(optarg, "soon") == 0)
				opt.halt = HALT_SOON;
			else if (strcmp(optarg, "now") == 0)
				opt.halt = HALT_NOW;
			else {
				warnx("--halt: expected never, soon or now, "
				    "not %s", loom_q(optarg));
				loom_usage(usage_text, 2);
			}
			break;
		case O_JOBLOG:
			opt.joblog = optarg;
			break;
		case O_LIMIT:
			add_limit(optarg);
			break;
		case O_NOPROG:
			noprog = 1;
			break;
		case O_RESUME:
			opt.resume = 1;
			break;
		case O_RETRIES:
			opt.retries = count(optarg, "--retries", 0);
			break;
		case O_DELAY:
			opt.retry_delay = seconds(optarg, "--retry-delay");
			break;
		case O_TIMEOUT:
			opt.timeout = seconds(optarg, "--timeout");
			break;
		case O_WORKDIR:
			opt.workdir = optarg;
			break;
		case O_HELP:
		case 'h':
			loom_usage(usage_text, 0);
		case O_VERSION:
			loom_version();
		default:
			loom_usage(usage_text, 2);
		}
	}
	check_logins();
	opt.workdir = loom_workdir(opt.workdir);
	opt.progress = !noprog && !opt.dryrun && isatty(2);
	color = (nc = getenv("NO_COLOR")) == NULL || *nc == '\0';
}

/* Makes sure descriptors 0, 1 and 2 are open, so no file of ours lands
 * on them and reaches a task as its stdin, stdout or stderr. */
static void
std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

/* --engine parallel: one GNU parallel for every attempt, its jobs'
 * files under WORKDIR/logs/.engine. */
static void
start_engine(void)
{
	struct loom_engine_opts eo;
	char e[LOOM_ERRLEN], *dir;

	dir = path_plus(log_dir, "/.engine", "", "");
	eo.jobs = opt.jobs;
	eo.grace = opt.grace;
	eo.dir = dir;
	eo.sshlogins = opt.sshlogins;
	eo.nsshlogins = opt.nsshlogins;
	eo.sshloginfile = opt.sshloginfile;
	if ((eng = loom_engine_start(&eo, e)) == NULL)
		errx(2, "--engine parallel: %s", e);
	free(dir);
}

static void
build_sched(void)
{
	uint32_t *group, *cap;
	double *weight;
	size_t i, k;

	group = malloc((graph->n + 1) * sizeof(*group));
	weight = malloc((graph->n + 1) * sizeof(*weight));
	cap = calloc(opt.nlimits + 1, sizeof(*cap));
	if (group == NULL || weight == NULL || cap == NULL)
		err(2, NULL);
	for (k = 0; k < opt.nlimits; k++)
		cap[k + 1] = opt.limits[k].cap;
	for (i = 0; i < graph->n; i++) {
		weight[i] = tasks[i].estimate;
		group[i] = 0;
		/* The last --limit for a role wins. */
		for (k = opt.nlimits; k-- > 0;)
			if (strcmp(opt.limits[k].role, tasks[i].role) == 0) {
				group[i] = (uint32_t)k + 1;
				break;
			}
	}
	sched = loom_sched_new(graph, weight, group, cap, opt.nlimits + 1,
	    opt.barrier);
	if (sched == NULL)
		err(2, NULL);
	free(weight);
	free(cap);
	/* group stays: the scheduler borrows it. */
}

int
main(int argc, char **argv)
{
	int wakefd, i, rc = 0;
	char e[LOOM_ERRLEN];
	size_t k, t;
	size_t failed;

	std_fds();
	options(argc, argv);
	if (opt.agent != NULL) {
		e[0] = '\0';
		adapter = loom_agent_find(opt.agent, opt.workdir, e);
		if (adapter == NULL && e[0] != '\0')
			errx(2, "--agent: %s", e);
		adapter_argv[0] = adapter;
	}
	plan = jv_null();
	if ((graph = loom_graph_new()) == NULL)
		err(2, NULL);
	if (optind == argc)
		read_file("-");
	for (i = optind; i < argc; i++)
		read_file(argv[i]);
	if (bad)
		return 1;
	k = loom_graph_check(graph, graph_problem, NULL);
	if (k == (size_t)-1 || (k == 0 && loom_graph_rdeps(graph) == -1))
		err(2, NULL);
	if (k > 0)
		return 1;
	check_paths();
	if (bad)
		return 1;
	/* Nothing read (a filter before it refused the plan): nothing to
	 * run, and the work directory is left as it is. */
	if (nrecs == 0)
		return fclose(stdout) == 0 ? 0 : 2;
	base_env();
	build_sched();
	if (opt.dryrun) {
		dry_run();
		return fclose(stdout) == 0 ? 0 : 2;
	}

	if ((wakefd = loom_proc_init(e)) == -1)
		errx(2, "%s", e);
	loom_proc_catch(SIGINT);
	loom_proc_catch(SIGTERM);
	loom_proc_catch(SIGHUP);
	/* With --resume the joblog goes on where it was, as GNU
	 * parallel's does; the header only starts a new one. */
	if (opt.joblog != NULL) {
		struct stat jsb;

		joblogfd = open(opt.joblog, O_WRONLY | O_CREAT | O_CLOEXEC |
		    (opt.resume ? O_APPEND : O_TRUNC), 0666);
		if (joblogfd == -1 || fstat(joblogfd, &jsb) == -1)
			err(2, "%s", opt.joblog);
		if (jsb.st_size == 0)
			write_all(joblogfd, joblog_head, strlen(joblog_head),
			    opt.joblog);
	}
	prepare_workdir();
	if (opt.engine)
		start_engine();
	for (k = 0; k < nrecs; k++)
		if (fwrite(recs[k].line, 1, recs[k].len, stdout) != recs[k].len)
			break;
	if (fflush(stdout) == EOF) {
		outgone = 1;
		stop = STOP_KILL;
		stopsig = SIGPIPE;
	}

	if ((jobs = calloc((size_t)opt.jobs, sizeof(*jobs))) == NULL)
		err(2, NULL);
	for (k = 0; k < (size_t)opt.jobs; k++)
		jobs[k].t = -1;
	status.total = graph->n;
	status.started = loom_mono();
	run(wakefd);
	hear_lingers(NULL, 0);
	loom_engine_close(eng);
	eng = NULL;
	drain_skipped();
	cancel_rest();
	sync_journal(1);
	if (opt.progress) {
		draw(1);
		(void)!write(2, "\n", 1);
	}

	failed = 0;
	for (t = 0; t < graph->n; t++)
		if (loom_sched_state(sched, (uint32_t)t) != LOOM_T_OK)
			failed++;
	/* A write that failed was dealt with when it did; what errno
	 * holds now belongs to some other call. */
	errno = 0;
	if (fclose(stdout) != 0 && stopsig != SIGPIPE && !outgone) {
		if (errno != 0)
			warn("stdout");
		else
			warnx("stdout: write error");
		rc = 1;
	}
	if (stopsig != 0)
		return 128 + stopsig;
	if (jbroken)
		return 2;
	return failed > 0 ? 1 : rc;
}
