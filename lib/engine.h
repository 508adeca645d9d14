/*
 * engine.h: `loom-spawn --engine parallel`, which hands each attempt of a
 * task to one long-lived GNU parallel process instead of starting it
 * itself.  The caller keeps deciding what runs when; this layer only
 * writes a job's description, gives parallel its line, and reports how
 * the job ended.  Nothing here prints or exits.
 *
 * A job runs share/loom/engine/job.pl where parallel starts it (here, or
 * on an --sshlogin through share/loom/engine/ssh.pl, which carries the
 * job's files both ways over the ssh connection).  Each job ends with
 * the line "N WAITSTATUS TIMEDOUT" on a pipe of ours, N being the job's
 * number, as the job ends: GNU parallel 20221122 notices that a job
 * ended only when it next reads a line of input or when all its slots
 * are full, so its own output and --joblog come late.
 */
#ifndef LOOM_ENGINE_H
#define LOOM_ENGINE_H

#include <sys/types.h>

struct loom_engine;

struct loom_engine_opts {
	long		  jobs;		/* parallel's -j */
	double		  grace;	/* TERM to KILL, seconds */
	const char	 *dir;		/* for the jobs' files; made */
	char		**sshlogins;	/* --sshlogin values */
	size_t		  nsshlogins;
	const char	 *sshloginfile;	/* or NULL */
};

/* What one attempt runs.  Every string is borrowed for the call. */
struct loom_engine_job {
	const char	 *out;		/* stdout goes here (truncated) */
	const char	 *err;		/* stderr is appended here */
	const char	 *cmd;		/* for /bin/sh -c, or a program */
	int		  exec;		/* 1: cmd is a program to execute */
	const char	 *in;		/* stdin, inlen bytes, no NUL */
	size_t		  inlen;
	double		  timeout;	/* 0: none */
	char *const	 *env;		/* NAME=VALUE loom sets, NULL-ended */
};

/* Starts parallel with its input a pipe of ours.  The job scripts are
 * looked for in share/loom/engine beside the running program.  NULL with
 * err filled when something is missing or fails. */
struct loom_engine *loom_engine_start(const struct loom_engine_opts *o,
	    char *err);

/* The descriptor to poll for job ends, and parallel's process id (the
 * caller reaps it and says so with loom_engine_reaped). */
int	 loom_engine_fd(const struct loom_engine *e);
pid_t	 loom_engine_pid(const struct loom_engine *e);

/* Writes job j's description and gives parallel its line.  Returns the
 * job's number (1, 2, ...), or -1 with err filled. */
long	 loom_engine_submit(struct loom_engine *e,
	    const struct loom_engine_job *j, char *err);

/* Reads the job ends there are and calls done(ctx, n, ws, timedout) for
 * each; removes that job's description.  Returns 1 once every writer is
 * gone (parallel and all its jobs), else 0. */
int	 loom_engine_read(struct loom_engine *e,
	    void (*done)(void *ctx, long n, int ws, int timedout), void *ctx);

/* Asks parallel to end every job (TERM to it; it passes TERM on, then
 * KILL after the grace period).  Only the first call does anything. */
void	 loom_engine_stop(struct loom_engine *e);

/* The caller reaped parallel with wait status ws. */
void	 loom_engine_reaped(struct loom_engine *e, int ws);

/* Closes parallel's input, waits for it to end unless it was reaped
 * already, removes the jobs' directory and frees e. */
void	 loom_engine_close(struct loom_engine *e);

/* path as a job sees it on another machine, in a new string (NULL when
 * out of memory): relative to the job's own directory there, without a
 * leading '/' and with ".." made "__". */
char	*loom_engine_remote_path(const char *path);

#endif /* LOOM_ENGINE_H */
