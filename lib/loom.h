/*
 * loom.h: the library every loom program shares.
 *
 * Conventions.  Nothing in lib/ prints or exits: a function that can fail
 * returns -1 (or NULL, or an invalid jv) and writes a one-line message,
 * lowercase and without a full stop, into the caller's buffer `err` of
 * LOOM_ERRLEN bytes.  Ownership of every jv is stated at each declaration:
 * "consumes" means the function takes over the reference the caller passed,
 * "borrows" that the caller keeps it, "returns new" that the caller must
 * free the result.  The public API carries the loom_ prefix.
 */
#ifndef LOOM_H
#define LOOM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jv.h>

#define LOOM_ERRLEN	512

#ifndef LOOM_VERSION
#define LOOM_VERSION	"0.1"
#endif

/* ---- util.c: small helpers ---------------------------------------- */

/* Prints usage to stdout and exits 0 when status is 0 (for --help), else
 * to stderr and exits with status.  usage is the man page SYNOPSIS. */
void	 loom_usage(const char *usage, int status)
	    __attribute__((__noreturn__));

/* Prints "PROGRAM VERSION" to stdout and exits 0 (for --version). */
void	 loom_version(void) __attribute__((__noreturn__));

/* Reads a whole file ("-" is stdin) into a new NUL-terminated buffer.
 * Returns the buffer (free it) and stores its length, or NULL. */
char	*loom_slurp(const char *path, size_t *lenp, char *err);

/* Writes v compactly and a newline to fp.  Consumes v.  Returns -1 when
 * the stream has failed (check ferror for the reason). */
int	 loom_emit(FILE *fp, jv v);

/* Kind checks that never abort: borrow v. */
int	 loom_is_string(jv v);
int	 loom_is_object(jv v);
int	 loom_is_array(jv v);

/* Returns a new copy of obj[key], or jv_null() when absent.  Borrows obj,
 * which must be an object. */
jv	 loom_get(jv obj, const char *key);

/* The string obj[key] copied into a new malloc'd string, or NULL when it
 * is absent or not a string.  Borrows obj. */
char	*loom_get_str(jv obj, const char *key);

/* Quotes s for a message: "s", with control characters escaped and cut
 * at about 60 bytes.  Returns a pointer into one of a few rotating static
 * buffers, so up to four may be used in one printf. */
const char *loom_q(const char *s);

/* Wall clock in seconds since the epoch, with sub-second precision. */
double	 loom_now(void);

/* Monotonic clock in seconds. */
double	 loom_mono(void);

/* Makes *p, an array of *cap elements of size bytes, hold at least need,
 * doubling; 0 on success, -1 when out of memory (then *p is unchanged). */
int	 loom_grow(void **p, size_t *cap, size_t need, size_t size);

/* strdup and a printf into a new string that exit 2 when out of memory. */
char	*loom_xstrdup(const char *s);
char	*loom_xprintf(const char *fmt, ...)
	    __attribute__((__format__(printf, 1, 2)));

/* Makes every directory of path up to its last '/' ("a/b/" makes a and
 * a/b; "a/b/c.json" the same).  0, or -1 with errno. */
int	 loom_mkdirs(const char *path);

/* Replaces the file path whole or not at all: fill(fp, arg) writes a
 * temporary file beside it (made with the mode a new file would get),
 * which is synced and renamed over path.  A symbolic link at path is
 * replaced, never written through.  0, or -1 with errno and the
 * temporary removed; fill returns 0 or -1. */
int	 loom_replace(const char *path, int (*fill)(FILE *fp, void *arg),
	    void *arg);

/* ---- reader.c: JSON values from a file, line by line -------------- */

/*
 * A reader feeds one file, a line at a time, to one long-lived jq parser
 * and hands back each complete value with the line it ended on and its
 * raw bytes.  It strips a UTF-8 byte-order mark, accepts CRLF, rejects
 * NUL bytes, and stops at the first error.
 */
struct loom_reader;

/* Opens path ("-" or NULL for stdin).  NULL on failure. */
struct loom_reader *loom_reader_open(const char *path, char *err);

/* Opens a reader over len bytes at buf, which the caller keeps alive
 * until the reader is closed; name is used in messages as given.  A byte
 * order mark at the start is skipped as for a file. */
struct loom_reader *loom_reader_open_mem(const char *buf, size_t len,
	    const char *name, char *err);

/* Stores the next value in *vp (returns new) and returns 1; returns 0 at
 * the end of the input, -1 on error with the message in err, already
 * prefixed "FILE:LINE: ". */
int	 loom_reader_next(struct loom_reader *r, jv *vp, char *err);

/* The name used in messages ("-" reads as "stdin"). */
const char *loom_reader_name(const struct loom_reader *r);

/* The line the last value ended on, counting from 1. */
long	 loom_reader_line(const struct loom_reader *r);

/* The raw bytes of the last value, without the whitespace around it, and
 * their offset in the file.  Valid until the next call. */
const char *loom_reader_raw(const struct loom_reader *r, size_t *lenp,
	    off_t *offp);

/* Whether nothing but white space follows the last value on the line it
 * ends on: then its bytes are, read again from its offset, the rest of
 * that line without the white space at its end. */
int	 loom_reader_alone(const struct loom_reader *r);

/* The file descriptor when the input is a regular file that can be read
 * again with pread(2), else -1. */
int	 loom_reader_fd(const struct loom_reader *r);

void	 loom_reader_close(struct loom_reader *r);

/* ---- map.c: interned strings ------------------------------------ */

/* Byte strings numbered 0, 1, 2... in the order first interned, behind a
 * hash table; the map keeps its own NUL-terminated copies. */
struct loom_map;

struct loom_map *loom_map_new(void);
void	 loom_map_free(struct loom_map *m);

/* The number of key, interning it when new (then *newp is set to 1, when
 * newp is not NULL).  Returns -1 when out of memory. */
long	 loom_map_intern(struct loom_map *m, const char *key, size_t len,
	    int *newp);

/* The number of key, or -1 when it was never interned. */
long	 loom_map_get(const struct loom_map *m, const char *key, size_t len);

/* Frees the hash table: the keys stay readable by number, but from then
 * on loom_map_get finds nothing and loom_map_intern fails. */
void	 loom_map_unindex(struct loom_map *m);

/* The map's copy of key number num, and its length when lenp is not
 * NULL.  Valid until the next intern. */
const char *loom_map_key(const struct loom_map *m, long num, size_t *lenp);

size_t	 loom_map_count(const struct loom_map *m);

/* ---- graph.c: the task graph ------------------------------------- */

/*
 * Tasks are numbered 0..n-1 in the order they were added.  After
 * loom_graph_check the dependencies are task numbers, every task has a
 * level, and order[] lists the tasks by level, ties by number.  The
 * arrays are public for reading; change them only through the calls.
 */
struct loom_graph {
	size_t		  n;		/* tasks */
	uint32_t	 *dep_off;	/* deps of i: dep[dep_off[i]] up to */
					/* dep[dep_off[i + 1]] */
	uint32_t	 *dep;		/* task numbers, once checked */
	uint32_t	 *level;	/* once checked */
	uint32_t	 *order;	/* once checked */
	uint32_t	  nlevels;
	uint32_t	 *rdep_off;	/* dependents, after loom_graph_rdeps */
	uint32_t	 *rdep;
	int		  lean;		/* set before the check: see below */
	/* private */
	struct loom_map	 *names;	/* ids and dependency names */
	uint32_t	 *name;		/* task -> name number */
	unsigned char	 *istask;	/* a bit per name number */
	int32_t		 *task_of;	/* name number -> task, or -1; built */
					/* when first needed */
	size_t		  ndep, capdep, cap, capnames, captask;
	int		  checked;
};

struct loom_graph *loom_graph_new(void);
void	 loom_graph_free(struct loom_graph *g);

/* Adds a task with this id.  Returns its number; or -1 when the id is
 * taken (the first task's number in *firstp), or -2 when out of memory. */
long	 loom_graph_add(struct loom_graph *g, const char *id, size_t len,
	    long *firstp);

/* Adds a dependency, by id, to the task added last.  -1 when out of
 * memory. */
int	 loom_graph_add_dep(struct loom_graph *g, const char *dep, size_t len);

/* The id of task i (the graph's copy). */
const char *loom_graph_id(const struct loom_graph *g, size_t i);

/* The number of the task with this id, or -1 (always on a lean graph
 * once checked).  Before the check it takes time linear in tasks. */
long	 loom_graph_find(const struct loom_graph *g, const char *id);

/*
 * Resolves the dependencies and computes levels, in time linear in tasks
 * plus edges.  For every problem it calls report(ctx, task, message): a
 * dependency on an unknown id or on the task itself, and for a cycle, once
 * with task -1 and "dependency cycle: a -> b -> a", each arrow reading
 * "depends on".  Returns the number of problems, 0 when the graph is
 * sound, or (size_t)-1 when out of memory.  Call once.  On a graph made
 * lean (g->lean = 1 before the call) the check frees what only the check
 * needs: afterwards there are no dep_off and dep (so no rdeps), and
 * loom_graph_find finds nothing; ids, levels and order remain.
 */
size_t	 loom_graph_check(struct loom_graph *g,
	    void (*report)(void *ctx, long task, const char *msg), void *ctx);

/* Builds rdep_off and rdep (the dependents of each task, in task order)
 * after a successful check.  -1 when out of memory. */
int	 loom_graph_rdeps(struct loom_graph *g);

/* ---- role.c: roles from capabilities and descriptions ------------ */

/* The role for a task without one: from the capabilities first, then
 * from keywords in the description, else "general".  Returns a static
 * string.  Borrows requires (an array, or null) and description. */
const char *loom_role_derive(jv requires, const char *description);

/* Nonzero when s is a valid role or agent name: [a-z][a-z0-9_]*. */
int	 loom_name_ok(const char *s);

/* ---- path.c: paths that stay inside the work directory ----------- */

/* The work directory: opt when not NULL, else $LOOM_WORKDIR, else "loom". */
const char *loom_workdir(const char *opt);

/* 0 when p is a relative path, not empty, without a ".." component and
 * without control characters (a newline would split LOOM_DEPS); else -1
 * with the reason in err. */
int	 loom_path_check(const char *p, char *err);

/* ---- pylit.c: Python literals, read and never evaluated ------------ */

/*
 * Reads a Python source made only of assignments of literals, either at
 * module level or indented in class bodies ("class CompiledPrompt:"), and
 * returns an object mapping each assigned name to its value (returns new).
 * Strings in every quoting (single, double, triple, r-prefixed), numbers,
 * True/False/None, lists, tuples and sets (as arrays), dicts with string
 * keys, comments, docstrings, trailing commas and implicit string
 * concatenation are read; anything else is an error.  The class names
 * are kept under "__class__" as an array.  On error returns an invalid jv
 * without a message and fills err with "NAME:LINE: what is wrong".
 */
jv	 loom_pylit_parse(const char *buf, size_t len, const char *name,
	    char *err);

/* Nonzero when buf looks like such a Python source rather than JSON or
 * loom's hand-written format. */
int	 loom_pylit_sniff(const char *buf, size_t len);

/* ---- hand.c: loom's hand-written plan format (loom-parse) ---------- */

/*
 * loom_pylit_parse (in pylit.c) that also tells where things were: when
 * linesp is not NULL it receives a new object mapping each assigned name
 * to an array holding the line of the assignment, then, when the value is
 * a list, tuple or set, the line each of its elements starts on (or an
 * invalid jv on error).
 */
jv	 loom_pylit_parse_lines(const char *buf, size_t len, const char *name,
	    jv *linesp, char *err);

/*
 * Reads loom's hand-written plan format (see loom-parse(1)) and returns a
 * new array of records: a {"type":"plan"} record first when any "@" line
 * was given, then one {"type":"task"} record per task, fields in the order
 * type, id, description, requires, depends_on, then the rest as given.
 * When linesp is not NULL it receives a new array holding the line each
 * record starts on.  On error returns an invalid jv without a message and
 * fills err with "NAME:LINE: what is wrong".  A byte-order mark and CRLF
 * are accepted, NUL bytes refused.
 */
jv	 loom_hand_parse(const char *buf, size_t len, const char *name,
	    jv *linesp, char *err);

/* ---- loom-spawn's lib files ---------------------------------------- */

/* hash.c: 64-bit FNV-1a, for telling whether a task changed. */

#define LOOM_FNV_INIT	0xcbf29ce484222325ULL

/* Folds len bytes of buf into the hash h (start from LOOM_FNV_INIT). */
uint64_t loom_fnv(uint64_t h, const void *buf, size_t len);

/* The hash of v's value: the same for the same JSON whatever the order
 * of object keys or the spelling of numbers.  Borrows v. */
uint64_t loom_hash_jv(jv v);

/* Stores the hash of what the open file fd holds, read with pread(2)
 * from the start, in *hp.  Returns 0, or -1 with errno set. */
int	 loom_hash_fd(int fd, uint64_t *hp);

/* Stores the hash of the contents of the file path in *hp.  Returns 0,
 * or -1 with the reason in err. */
int	 loom_hash_file(const char *path, uint64_t *hp, char *err);

/* journal.c: the append-only record of results, for --resume. */

/* What the journal last said about one task. */
struct loom_jentry {
	uint64_t	 hash;		/* of the task record */
	uint64_t	 deps;		/* of its dependencies' outputs */
	int		 ok;		/* last status was ok or cached */
	int		 seen;
};

/* Opens path for appending, creating it.  Returns the descriptor, or -1
 * with the reason in err. */
int	 loom_journal_open(const char *path, char *err);

/* Appends rec, the len bytes of one JSON object as jv_dump_string
 * wrote it, with the two hashes added as "hash" and "deps_hash" (hex
 * strings), as one line with one write(2).  Returns 0 or -1 with the
 * reason in err.  The caller syncs (fdatasync) when it wants the lines
 * on disk. */
int	 loom_journal_append(int fd, const char *rec, size_t len,
	    uint64_t hash, uint64_t deps, char *err);

/* Reads the journal at path (missing is empty) and fills ent[i] with the
 * last entry of task i of g, found by "id".  Lines that do not parse (a
 * torn last line after a crash) are ignored.  Returns 0 or -1 with the
 * reason in err. */
int	 loom_journal_load(const char *path, const struct loom_graph *g,
	    struct loom_jentry *ent, char *err);

/*
 * proc.c: the process layer.  It runs commands and reports how they
 * ended, and knows nothing of tasks or plans.  Each command runs as
 * /bin/sh -c CMD in its own process group, with stdin fed from a buffer
 * through a pipe, stdout and stderr on descriptors the caller opened.
 * SIGCHLD and the signals the caller asks for are turned into bytes on a
 * self-pipe, so the caller waits for everything with one poll(2).
 */
struct loom_proc {
	pid_t		 pid;		/* and process group; 0 when none */
	int		 infd;		/* stdin pipe while feeding, else -1 */
	const char	*in;		/* borrowed until fed */
	size_t		 inlen, inoff;
};

/* Sets up the self-pipe, catches SIGCHLD and ignores SIGPIPE.  Returns
 * the descriptor to poll for reading, or -1 with the reason in err. */
int	 loom_proc_init(char *err);

/* Also turns sig into a wake-up (SIGINT, SIGTERM, SIGHUP). */
int	 loom_proc_catch(int sig);

/* Reads the self-pipe empty and returns the signals seen since the last
 * call as a bit mask (1u << sig). */
unsigned loom_proc_events(void);

/* Starts cmd with the environment env (NULL-terminated), stdout on
 * outfd and stderr on errfd, and in[0..inlen) to write to its stdin.
 * A command of plain words is exec'd directly, as make(1) does.
 * Returns 0 or -1 with the reason in err. */
int	 loom_proc_start(struct loom_proc *p, const char *cmd,
	    char *const env[], int outfd, int errfd, const char *in,
	    size_t inlen, char *err);

/* The same, but runs argv[0] (a path, or a name looked up on PATH) with
 * argv, and no shell. */
int	 loom_proc_exec(struct loom_proc *p, char *const argv[],
	    char *const env[], int outfd, int errfd, const char *in,
	    size_t inlen, char *err);

/* Writes what stdin can take now without blocking; closes it when all
 * is written or the reader went away.  Returns 1 while more remains. */
int	 loom_proc_feed(struct loom_proc *p);

/* A pipe for a task's stderr: both ends close-on-exec, the read end
 * fds[0] non-blocking.  Returns 0, or -1 with errno set. */
int	 loom_proc_pipe(int fds[2]);

/* Sends sig to the process group of p. */
int	 loom_proc_kill(const struct loom_proc *p, int sig);

/* Closes what p still holds once it has been reaped. */
void	 loom_proc_close(struct loom_proc *p);

/* Reaps one exited child: returns its pid and stores its wait status,
 * or returns 0 when none has exited (never blocks). */
pid_t	 loom_proc_reap(int *statusp);

/*
 * sched.c: the scheduler.  It knows the graph and which tasks are
 * ready, running and finished, and nothing of processes.  A ready task
 * is handed out longest remaining chain first (weighted), ties by
 * number; tasks fall into groups, each capped at cap[k] running (0: no
 * cap).  In barrier mode a level starts only when every task of the
 * levels before it has finished.
 */
enum {
	LOOM_T_WAIT, LOOM_T_READY, LOOM_T_RUN, LOOM_T_OK, LOOM_T_FAIL,
	LOOM_T_SKIP
};

struct loom_sched;

/* Borrows g (checked), weight[n] (estimates, >0) and group[n]; copies
 * cap[ngroups].  Returns NULL when out of memory. */
struct loom_sched *loom_sched_new(const struct loom_graph *g,
	    const double *weight, const uint32_t *group, const uint32_t *cap,
	    size_t ngroups, int barrier);
void	 loom_sched_free(struct loom_sched *s);

/* The next task to start now, marked running, or -1 when none can. */
long	 loom_sched_next(struct loom_sched *s);

/* Task t finished; when not ok, its dependents are skipped. */
void	 loom_sched_done(struct loom_sched *s, uint32_t t, int ok);

/* The next task skipped because a dependency failed, in the order they
 * were skipped, or -1. */
long	 loom_sched_skipped(struct loom_sched *s);

int	 loom_sched_state(const struct loom_sched *s, uint32_t t);

/* The weighted length of the longest chain from t to the end. */
double	 loom_sched_rank(const struct loom_sched *s, uint32_t t);

/* Tasks not yet finished or skipped. */
size_t	 loom_sched_left(const struct loom_sched *s);

/* status.c: the one-line progress display.  It only formats. */
struct loom_status {
	size_t		 total, done, running;
	size_t		 failed;	/* failed or timed out */
	size_t		 skipped, cancelled;
	double		 started;	/* loom_mono() at the start */
};

/* Formats the line for now into buf (no newline; "\r" first and an
 * erase-to-end after), in colour when color is set. */
void	 loom_status_format(const struct loom_status *st, double now,
	    int color, char *buf, size_t len);

/* ---- loom-merge's and loom-report's lib files ---------------------- */

/*
 * output.c: a task's output file in loom's output form.  Reads path and
 * returns new an object with "format" ("json", "python" or "text") and
 * the fields the output gave (task_id, iteration, completed, results,
 * issues, prompt_patches, files_changed, usage and any others); "round"
 * is renamed "iteration" when that is absent, and a Python file's class
 * names are under "class".  A JSON value that is not an object, plain
 * text and Markdown are kept whole under "results".  Returns an invalid
 * jv and fills err with "PATH: what is wrong" (or "PATH:LINE: ...") when
 * the file cannot be read or is JSON or Python that does not parse.
 */
jv	 loom_output_read(const char *path, char *err);

/* Text outputs longer than this keep only their first bytes, with
 * "truncated": true and "bytes": the whole length.  An output with a NUL
 * byte is "format": "binary", its results saying how many bytes. */
#define LOOM_OUTPUT_TEXTMAX	65536

/*
 * The findings of an output in loom's output form (borrowed): its
 * "issues" and its results' "issues_found", in that order.  Returns new
 * an array of objects, each with at least "severity" (lowercased when it
 * is one of the five below, "unknown" when absent) and "message" (taken
 * from description, issue, title or summary when absent; a finding that
 * is a plain string becomes the message).
 */
jv	 loom_output_findings(jv out);

/* The rank of a severity: 0 critical, 1 high, 2 medium, 3 low, 4 info,
 * 5 anything else; and the name of ranks 0..4 (NULL otherwise). */
int	 loom_severity_rank(const char *s);
const char *loom_severity_name(int rank);

/*
 * v with every string in it, keys included, safe for a terminal or a
 * document: control characters (C0, DEL, and C1 as U+0080..U+009F) are
 * written out as \n, \t, \xNN or \u00NN.  Consumes v, returns new.
 */
jv	 loom_output_clean(jv v);

/* ---- agents' lib files ---------------------------------------------- */

/* agent.c: the adapters of `loom-spawn --agent NAME` (see loom-agents(7)).
 *
 * When name is a bare word (a letter or digit, then letters, digits, '.',
 * '_' or '-') naming an executable file in a directory of
 * $LOOM_AGENTS_PATH (colon-separated, empty entries skipped), else in
 * WORKDIR/agents (workdir NULL means "loom"), else in the directory that
 * loom_agent_dir returns, returns that file's path in a new string (free
 * it).  Returns NULL with err empty when name is not a bare word or is
 * found nowhere: the caller then runs name as a command line.  Returns
 * NULL with err filled when the first file found by that name is not an
 * executable regular file, or when out of memory. */
char	*loom_agent_find(const char *name, const char *workdir, char *err);

/* The agents directory installed with the running program,
 * BINDIR/../share/loom/agents resolved through /proc/self/exe (so
 * share/loom/agents in the source tree), in a new string, or NULL. */
char	*loom_agent_dir(void);

/* compile.c: `loom-parse --compile CMD "prompt"`.
 *
 * Runs cmd, the user's own command line, under /bin/sh -c with stdin a
 * request (built by loom_compile_prompt) for a plan in loom's JSON form:
 * an object with intent, optional context, and tasks [{id, description,
 * requires, depends_on}].  When feedback (the error that rejected the
 * previous try) is not NULL it is added to the request, with previous
 * (the text that was rejected) when that is not NULL too.  Returns what
 * cmd printed, the inside of the first Markdown code fence when it used
 * one, blank space trimmed at both ends, as a new NUL-terminated string
 * of *lenp bytes (free it); the caller checks it like any other plan.
 * NULL with err filled when cmd cannot be run, is killed, exits non-zero,
 * prints nothing but blank space, or prints a NUL byte.  cmd's stderr is
 * loom's.  There is no timeout: the caller may set an alarm. */
char	*loom_compile(const char *cmd, const char *prompt,
	    const char *previous, const char *feedback, size_t *lenp,
	    char *err);

/* loom_compile, then check(ctx, plan, len, msg) on what came back: 0
 * accepts it, -1 rejects it with the reason in msg (LOOM_ERRLEN bytes).
 * A rejected plan is asked for once more, with the reason and the
 * rejected text as feedback.  Returns the first accepted plan as
 * loom_compile does, or NULL with err filled, after a second rejection
 * with "compile command "CMD" gave no valid plan in two tries: MSG". */
char	*loom_compile_checked(const char *cmd, const char *prompt,
	    int (*check)(void *ctx, const char *plan, size_t len, char *msg),
	    void *ctx, size_t *lenp, char *err);

/* The request loom_compile sends, in a new string, or NULL when out of
 * memory: for --dry-run and for tests. */
char	*loom_compile_prompt(const char *prompt, const char *previous,
	    const char *feedback);

#endif /* LOOM_H */
