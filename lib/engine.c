/*
 * engine.c: `loom-spawn --engine parallel`.  Starts one GNU parallel
 * that reads job numbers on its stdin, writes each job's description
 * into a file of its own for share/loom/engine/job.pl, and reads back,
 * from a pipe every job inherits, how each job ended.  See engine.h.
 */
#define _GNU_SOURCE	/* pipe2 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "loom.h"
#include "engine.h"

extern char **environ;

struct loom_engine {
	pid_t		 pid;		/* parallel; 0 once reaped */
	int		 infd;		/* its stdin */
	int		 donefd;	/* job ends, ours to read */
	int		 remote;	/* --sshlogin given */
	int		 stopped;
	double		 grace;
	long		 seq;
	char		*dir;
	char		 buf[4096];	/* a partial line of donefd */
	size_t		 buflen;
};

/* The file name in the engine directory installed beside the program,
 * in a new string, or NULL. */
static char *
script(const char *name)
{
	char *agents, *slash, *s;
	size_t len;

	if ((agents = loom_agent_dir()) == NULL)
		return NULL;
	if ((slash = strrchr(agents, '/')) == NULL) {
		free(agents);
		return NULL;
	}
	*slash = '\0';
	len = strlen(agents) + strlen(name) + sizeof("/engine/");
	if ((s = malloc(len)) != NULL)
		snprintf(s, len, "%s/engine/%s", agents, name);
	free(agents);
	return s;
}

/* s in single quotes for sh, in a new string, or NULL. */
static char *
shquote(const char *s, const char *pre, const char *post)
{
	size_t len = strlen(pre) + strlen(post) + 3, i, k;
	char *q;

	for (i = 0; s[i] != '\0'; i++)
		len += s[i] == '\'' ? 4 : 1;
	if ((q = malloc(len)) == NULL)
		return NULL;
	k = (size_t)sprintf(q, "%s'", pre);
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == '\'') {
			memcpy(q + k, "'\\''", 4);
			k += 4;
		} else
			q[k++] = s[i];
	sprintf(q + k, "'%s", post);
	return q;
}

/* perl -e running code, given in hex, with the job's number, in a new
 * string, or NULL. */
static char *
hex_template(const char *code)
{
	static const char pre[] = "perl -e 'eval pack q/H*/, q/",
	    post[] = "/; die $@ if $@' {}", digits[] = "0123456789abcdef";
	size_t len = strlen(code), i;
	char *t, *w;

	if ((t = malloc(sizeof(pre) + 2 * len + sizeof(post))) == NULL)
		return NULL;
	w = t + sprintf(t, "%s", pre);
	for (i = 0; i < len; i++) {
		/* Lines of comment only are left out: a shorter command. */
		if ((i == 0 || code[i - 1] == '\n') &&
		    code[i + strspn(code + i, " \t")] == '#') {
			i += strcspn(code + i, "\n");
			continue;
		}
		*w++ = digits[(unsigned char)code[i] >> 4];
		*w++ = digits[(unsigned char)code[i] & 15];
	}
	strcpy(w, post);
	return t;
}

/* The whole of the file path in a new string, or NULL. */
static char *
slurp(const char *path)
{
	FILE *fp;
	char *s = NULL;
	long len;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (s = malloc((size_t)len + 1)) !=
	    NULL) {
		if (fread(s, 1, (size_t)len, fp) != (size_t)len) {
			free(s);
			s = NULL;
		} else
			s[len] = '\0';
	}
	fclose(fp);
	return s;
}

static char *
envvar(const char *name, long num, const char *val)
{
	char *s;
	size_t len = strlen(name) + (val ? strlen(val) : 24) + 2;

	if ((s = malloc(len)) == NULL)
		return NULL;
	if (val != NULL)
		snprintf(s, len, "%s=%s", name, val);
	else
		snprintf(s, len, "%s=%ld", name, num);
	return s;
}

/* The argument vector for parallel; NULL when out of memory. */
static char **
parallel_argv(const struct loom_engine_opts *o, const char *tmpl,
    const char *ssh)
{
	static char jobs[32], seq[64];
	char **av;
	size_t n = 0, i;

	if ((av = calloc(o->nsshlogins * 2 + 16, sizeof(*av))) == NULL)
		return NULL;
	snprintf(jobs, sizeof(jobs), "%ld", o->jobs);
	/* TERM, then the job's own grace and a second more before KILL:
	 * job.pl ends the task's group itself after the grace. */
	snprintf(seq, sizeof(seq), "TERM,%.0f,KILL,25",
	    o->grace * 1000 + 1000);
	av[n++] = "parallel";
	av[n++] = "--will-cite";
	av[n++] = "--ungroup";
	av[n++] = "--jobs";
	av[n++] = jobs;
	av[n++] = "--termseq";
	av[n++] = seq;
	if (ssh != NULL) {
		av[n++] = "--ssh";
		av[n++] = (char *)ssh;
	}
	for (i = 0; i < o->nsshlogins; i++) {
		av[n++] = "--sshlogin";
		av[n++] = o->sshlogins[i];
	}
	if (o->sshloginfile != NULL) {
		av[n++] = "--sshloginfile";
		av[n++] = (char *)o->sshloginfile;
	}
	av[n++] = (char *)tmpl;
	av[n] = NULL;
	return av;
}

/* 1 when a program by that name is on $PATH. */
static int
on_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *colon;
	char buf[PATH_MAX];

	if (path == NULL)
		path = "/usr/bin:/bin";
	for (p = path; ; p = colon + 1) {
		colon = strchr(p, ':');
		if (colon == NULL)
			colon = p + strlen(p);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(colon - p), p,
		    name);
		if (colon > p && access(buf, X_OK) == 0)
			return 1;
		if (*colon == '\0')
			return 0;
	}
}

struct loom_engine *
loom_engine_start(const struct loom_engine_opts *o, char *err)
{
	struct loom_engine *e;
	char *jobpl = NULL, *sshpl = NULL, *code = NULL, *tmpl = NULL;
	char *ssh = NULL, **av = NULL, **env = NULL;
	int in[2] = { -1, -1 }, done[2] = { -1, -1 };
	size_t n, i;
	pid_t pid;

	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->dir = strdup(o->dir)) == NULL)
		goto nomem;
	e->infd = e->donefd = -1;
	e->grace = o->grace;
	e->remote = o->nsshlogins > 0 || o->sshloginfile != NULL;
	if (!on_path("parallel") || !on_path("perl")) {
		snprintf(err, LOOM_ERRLEN, "GNU parallel and perl are needed "
		    "on PATH");
		goto fail;
	}
	if ((jobpl = script("job.pl")) == NULL ||
	    (sshpl = script("ssh.pl")) == NULL)
		goto nomem;
	if ((code = slurp(jobpl)) == NULL) {
		snprintf(err, LOOM_ERRLEN, "%s: %s", loom_q(jobpl),
		    strerror(errno));
		goto fail;
	}
	if (access(sshpl, R_OK) == -1) {
		snprintf(err, LOOM_ERRLEN, "%s: %s", loom_q(sshpl),
		    strerror(errno));
		goto fail;
	}
	/* The job's number is parallel's argument, quoted by parallel.  A
	 * remote machine gets the script itself, in hex, where parallel
	 * sees no replacement string; here the file is shorter to pass. */
	if ((tmpl = e->remote ? hex_template(code) :
	    shquote(jobpl, "perl ", " {}")) == NULL ||
	    (e->remote && (ssh = shquote(sshpl, "perl ", "")) == NULL) ||
	    (av = parallel_argv(o, tmpl, ssh)) == NULL)
		goto nomem;
	if (mkdir(o->dir, 0777) == -1 && errno != EEXIST) {
		snprintf(err, LOOM_ERRLEN, "%s: %s", loom_q(o->dir),
		    strerror(errno));
		goto fail;
	}
	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(done, O_CLOEXEC) == -1) {
		snprintf(err, LOOM_ERRLEN, "pipe: %s", strerror(errno));
		goto fail;
	}

	for (n = 0; environ[n] != NULL; n++)
		;
	if ((env = calloc(n + 3, sizeof(*env))) == NULL)
		goto nomem;
	for (i = n = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], "LOOM_ENGINE_", 12) != 0)
			env[n++] = environ[i];
	if ((env[n++] = envvar("LOOM_ENGINE_DIR", 0, o->dir)) == NULL ||
	    (env[n++] = envvar("LOOM_ENGINE_FD", done[1], NULL)) == NULL)
		goto nomem;

	if ((pid = fork()) == -1) {
		snprintf(err, LOOM_ERRLEN, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		/* Its own group: the terminal's ^C is loom-spawn's to pass
		 * on; a loom-spawn killed with -9 takes it along. */
		setpgid(0, 0);
#ifdef __linux__
		prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], 0) == -1 || dup2(2, 1) == -1 ||
		    fcntl(done[1], F_SETFD, 0) == -1)
			_exit(127);
		execvpe("parallel", av, env);
		_exit(127);
	}
	e->pid = pid;
	e->infd = in[1];
	e->donefd = done[0];
	close(in[0]);
	close(done[1]);
	fcntl(e->donefd, F_SETFL, O_NONBLOCK);
	free(env[n - 1]);
	free(env[n - 2]);
	free(env);
	free(av);
	free(ssh);
	free(tmpl);
	free(code);
	free(jobpl);
	free(sshpl);
	return e;

nomem:
	snprintf(err, LOOM_ERRLEN, "out of memory");
fail:
	if (env != NULL)
		for (i = 0; env[i] != NULL; i++)
			if (strncmp(env[i], "LOOM_ENGINE_", 12) == 0)
				free(env[i]);
	free(env);
	free(av);
	free(ssh);
	free(tmpl);
	free(code);
	free(jobpl);
	free(sshpl);
	for (i = 0; i < 2; i++) {
		if (in[i] != -1)
			close(in[i]);
		if (done[i] != -1)
			close(done[i]);
	}
	if (e != NULL)
		free(e->dir);
	free(e);
	return NULL;
}

int
loom_engine_fd(const struct loom_engine *e)
{
	return e->donefd;
}

pid_t
loom_engine_pid(const struct loom_engine *e)
{
	return e->pid;
}

char *
loom_engine_remote_path(const char *path)
{
	const char *c = path + strspn(path, "/");
	char *s, *w;

	if ((s = malloc(strlen(c) + 2)) == NULL)
		return NULL;
	for (w = s; *c != '\0'; ) {
		if (c[0] == '.' && c[1] == '.' && (c[2] == '/' ||
		    c[2] == '\0') && (w == s || w[-1] == '/')) {
			*w++ = '_';
			*w++ = '_';
			c += 2;
		} else
			*w++ = *c++;
	}
	*w = '\0';
	if (*s == '\0')
		strcpy(s, ".");
	return s;
}

/* Writes s and a NUL to fp. */
static void
field(FILE *fp, const char *s)
{
	fputs(s, fp);
	putc('\0', fp);
}

/* The value of NAME=VALUE when it is name, else NULL. */
static const char *
value_of(const char *var, const char *name)
{
	size_t len = strlen(name);

	if (strncmp(var, name, len) == 0 && var[len] == '=')
		return var + len + 1;
	return NULL;
}

/* Each line of the dependencies' list made remote, in a new string. */
static char *
remote_lines(const char *list)
{
	char *copy, *line, *r, *out, *tmp;
	size_t len = 1;

	if ((copy = strdup(list)) == NULL || (out = strdup("")) == NULL) {
		free(copy);
		return NULL;
	}
	for (line = strtok(copy, "\n"); line != NULL;
	    line = strtok(NULL, "\n")) {
		if ((r = loom_engine_remote_path(line)) == NULL)
			goto nomem;
		len += strlen(r) + 1;
		if ((tmp = realloc(out, len)) == NULL) {
			free(r);
			goto nomem;
		}
		out = tmp;
		if (*out != '\0')
			strcat(out, "\n");
		strcat(out, r);
		free(r);
	}
	free(copy);
	return out;
nomem:
	free(copy);
	free(out);
	return NULL;
}

/* The remote half of a description: the environment with its paths
 * made remote, then the files to send, each local and remote. */
static int
remote_part(FILE *fp, char *const *env)
{
	const char *v, *plan = NULL, *deps = "";
	static const char *const paths[] = { "LOOM_WORKDIR", "LOOM_PLAN",
	    "LOOM_OUTPUT" };
	char *r, *copy, *line;
	size_t n, i, k;

	for (n = 0; env[n] != NULL; n++)
		;
	fprintf(fp, "%zu%c", n, '\0');
	for (i = 0; i < n; i++) {
		r = NULL;
		for (k = 0; k < 3; k++)
			if ((v = value_of(env[i], paths[k])) != NULL) {
				if (k == 1)
					plan = v;
				r = loom_engine_remote_path(v);
				break;
			}
		if ((v = value_of(env[i], "LOOM_DEPS")) != NULL) {
			deps = v;
			r = remote_lines(v);
		}
		if (k < 3 || v != NULL) {
			if (r == NULL)
				return -1;
			fprintf(fp, "%.*s=%s%c", (int)strcspn(env[i], "="),
			    env[i], r, '\0');
			free(r);
		} else
			field(fp, env[i]);
	}

	if ((copy = strdup(deps)) == NULL)
		return -1;
	for (n = plan != NULL, line = copy; *line != '\0'; line++)
		n += *line == '\n';
	n += *deps != '\0';
	fprintf(fp, "%zu%c", n, '\0');
	for (line = strtok(copy, "\n"); line != NULL;
	    line = strtok(NULL, "\n")) {
		if ((r = loom_engine_remote_path(line)) == NULL) {
			free(copy);
			return -1;
		}
		field(fp, line);
		field(fp, r);
		free(r);
	}
	free(copy);
	if (plan != NULL) {
		if ((r = loom_engine_remote_path(plan)) == NULL)
			return -1;
		field(fp, plan);
		field(fp, r);
		free(r);
	}
	return 0;
}

long
loom_engine_submit(struct loom_engine *e, const struct loom_engine_job *j,
    char *err)
{
	char path[PATH_MAX], line[32];
	size_t n;
	ssize_t w;
	FILE *fp;
	int len, fail;

	e->seq++;
	snprintf(path, sizeof(path), "%s/%ld", e->dir, e->seq);
	if ((fp = fopen(path, "we")) == NULL) {
		snprintf(err, LOOM_ERRLEN, "%s: %s", loom_q(path),
		    strerror(errno));
		return -1;
	}
	field(fp, "LOOM1");
	field(fp, j->out);
	field(fp, j->err);
	fprintf(fp, "%.17g%c%.17g%c", j->timeout, '\0', e->grace, '\0');
	field(fp, j->exec ? "exec" : "sh");
	field(fp, j->cmd);
	fwrite(j->in, 1, j->inlen, fp);
	putc('\0', fp);
	for (n = 0; j->env[n] != NULL; n++)
		;
	fprintf(fp, "%zu%c", n, '\0');
	for (n = 0; j->env[n] != NULL; n++)
		field(fp, j->env[n]);
	fail = 0;
	if (e->remote)
		fail = remote_part(fp, j->env);
	else
		fprintf(fp, "0%c0%c", '\0', '\0');
	if (fail == -1 || ferror(fp)) {
		snprintf(err, LOOM_ERRLEN, "%s: %s", loom_q(path),
		    fail == -1 ? "out of memory" : strerror(errno));
		fclose(fp);
		return -1;
	}
	if (fclose(fp) != 0) {
		snprintf(err, LOOM_ERRLEN, "%s: %s", loom_q(path),
		    strerror(errno));
		return -1;
	}

	len = snprintf(line, sizeof(line), "%ld\n", e->seq);
	do
		w = write(e->infd, line, (size_t)len);
	while (w == -1 && errno == EINTR);
	if (w != len) {
		snprintf(err, LOOM_ERRLEN, "parallel's input: %s",
		    w == -1 ? strerror(errno) : "short write");
		return -1;
	}
	return e->seq;
}

int
loom_engine_read(struct loom_engine *e,
    void (*done)(void *, long, int, int), void *ctx)
{
	char path[PATH_MAX], *nl, *p;
	long n, ws, t;
	ssize_t r;

	for (;;) {
		r = read(e->donefd, e->buf + e->buflen,
		    sizeof(e->buf) - e->buflen - 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		e->buflen += (size_t)r;
		e->buf[e->buflen] = '\0';
		p = e->buf;
		while ((nl = strchr(p, '\n')) != NULL) {
			*nl = '\0';
			if (sscanf(p, "%ld %ld %ld", &n, &ws, &t) == 3 &&
			    n > 0 && n <= e->seq) {
				snprintf(path, sizeof(path), "%s/%ld", e->dir,
				    n);
				unlink(path);
				done(ctx, n, (int)ws, t != 0);
			}
			p = nl + 1;
		}
		e->buflen -= (size_t)(p - e->buf);
		memmove(e->buf, p, e->buflen);
		if (e->buflen == sizeof(e->buf) - 1)
			e->buflen = 0;	/* not ours: no line is that long */
	}
	return r == 0;
}

void
loom_engine_stop(struct loom_engine *e)
{
	if (e->stopped || e->pid <= 0)
		return;
	e->stopped = 1;
	kill(e->pid, SIGTERM);
}

void
loom_engine_reaped(struct loom_engine *e, int ws)
{
	(void)ws;
	e->pid = 0;
}

void
loom_engine_close(struct loom_engine *e)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp;
	int ws;

	if (e == NULL)
		return;
	if (e->infd != -1)
		close(e->infd);
	while (e->pid > 0 && waitpid(e->pid, &ws, 0) == -1 && errno == EINTR)
		;
	close(e->donefd);
	if ((dp = opendir(e->dir)) != NULL) {
		while ((d = readdir(dp)) != NULL) {
			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", e->dir,
			    d->d_name);
			unlink(path);
		}
		closedir(dp);
	}
	rmdir(e->dir);
	free(e->dir);
	free(e);
}
