/*
 * proc.c: the process layer.  Starts commands under /bin/sh -c, each in
 * its own process group, feeds their stdin from a buffer, reaps them, and
 * turns SIGCHLD and the caller's signals into bytes on a self-pipe.  It
 * knows nothing of tasks; a different engine can replace it.
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "loom.h"

static int	selfpipe[2] = { -1, -1 };

static void
onsignal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	/* A full pipe already holds a wake-up; losing this byte is fine
	 * for SIGCHLD, and the other signals are rare. */
	(void)write(selfpipe[1], &c, 1);
	errno = saved;
}

int
loom_proc_catch(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsignal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sig == SIGCHLD)
		sa.sa_flags |= SA_NOCLDSTOP;
	return sigaction(sig, &sa, NULL);
}

int
loom_proc_init(char *err)
{
	struct sigaction sa;

	if (pipe2(selfpipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		snprintf(err, LOOM_ERRLEN, "pipe: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    loom_proc_catch(SIGCHLD) == -1) {
		snprintf(err, LOOM_ERRLEN, "sigaction: %s", strerror(errno));
		return -1;
	}
	return selfpipe[0];
}

unsigned
loom_proc_events(void)
{
	unsigned char buf[256];
	unsigned mask = 0;
	ssize_t n, i;

	/* A short read has emptied the pipe: no second read to learn so. */
	while ((n = read(selfpipe[0], buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++)
			if (buf[i] < 32)
				mask |= 1u << buf[i];
		if ((size_t)n < sizeof(buf))
			break;
		/* A pipe this full may have lost a byte (onsignal). */
		mask |= 1u << SIGCHLD;
	}
	return mask;
}

/* Writes s to fd in the child: no stdio after fork. */
static void
child_say(int fd, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;

	while (len > 0 && (n = write(fd, s, len)) > 0) {
		s += n;
		len -= (size_t)n;
	}
}

/* Shell words that are not programs, or builtins that behave otherwise
 * than the program of that name (echo -e, pwd under a link): a command
 * starting with one needs the shell. */
static const char *const shell_words[] = {
	".", ":", "!", "alias", "bg", "break", "case", "cd", "command",
	"continue", "do", "done", "echo", "elif", "else", "esac", "eval",
	"exec", "exit", "export", "fc", "fg", "fi", "for", "function",
	"getopts", "hash", "if", "in", "jobs", "kill", "local", "printf",
	"pwd", "read", "readonly", "return", "select", "set", "shift",
	"test", "then", "time", "times", "trap", "type", "ulimit", "umask",
	"unalias", "unset", "until", "wait", "while",
};

/*
 * The words of cmd when /bin/sh would run it as one simple command with
 * nothing to expand: letters, digits, blanks and "-_./,:+=@%^" only, and
 * a first word that is a program, not an assignment or a shell word.
 * Such a command is executed directly, as make(1) does, which is what
 * the shell would end by doing.  NULL when it needs the shell (or out of
 * memory); else free the array and *bufp, which holds the words.
 */
static char **
simple_argv(const char *cmd, char **bufp)
{
	static const char ok[] = "-_./,:+=@%^ \t";
	const char *c;
	char **argv, *buf, *w;
	size_t n = 0, i;

	for (c = cmd; *c != '\0'; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && strchr(ok, *c) == NULL)
			return NULL;
	if ((buf = strdup(cmd)) == NULL)
		return NULL;
	if ((argv = calloc(strlen(cmd) / 2 + 2, sizeof(*argv))) == NULL) {
		free(buf);
		return NULL;
	}
	for (w = strtok(buf, " \t"); w != NULL; w = strtok(NULL, " \t"))
		argv[n++] = w;
	if (n == 0 || strchr(argv[0], '=') != NULL)
		goto shell;
	for (i = 0; i < sizeof(shell_words) / sizeof(shell_words[0]); i++)
		if (strcmp(argv[0], shell_words[i]) == 0)
			goto shell;
	*bufp = buf;
	return argv;
shell:
	free(buf);
	free(argv);
	return NULL;
}

/*
 * Where name is found on PATH, remembered for the rest of the run as a
 * shell's hash table does, so that the child does not try every
 * directory before it for every task; NULL when name holds a slash or
 * is not found (the child then searches as execvpe does).
 */
static const char *
lookup(const char *name)
{
	enum { NCACHE = 32 };
	static struct {
		char	*name, *path;
	} cache[NCACHE];
	static size_t n;
	const char *path = getenv("PATH"), *d, *end;
	struct stat st;
	char *full;
	size_t i, dlen, len;

	if (strchr(name, '/') != NULL || path == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(cache[i].name, name) == 0)
			return cache[i].path;
	for (d = path; ; d = end + 1) {
		end = strchr(d, ':');
		dlen = end != NULL ? (size_t)(end - d) : strlen(d);
		len = (dlen > 0 ? dlen : 1) + strlen(name) + 2;
		if ((full = malloc(len)) == NULL)
			return NULL;
		snprintf(full, len, "%.*s/%s", (int)(dlen > 0 ? dlen : 1),
		    dlen > 0 ? d : ".", name);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(full, X_OK) == 0)
			break;
		free(full);
		full = NULL;
		if (end == NULL)
			return NULL;
	}
	if (n == NCACHE || (cache[n].name = strdup(name)) == NULL) {
		free(full);
		return NULL;
	}
	cache[n].path = full;
	return cache[n++].path;
}

static void __attribute__((__noreturn__))
child(const char *cmd, char **words, const char *prog, char *const env[],
    int infd, int outfd, int errfd, pid_t parent)
{
	static const int sigs[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP,
	    SIGCHLD, SIGQUIT };
	char *argv[4];
	sigset_t all;
	size_t i;

	setpgid(0, 0);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
#ifdef __linux__
	/* A loom-spawn killed with -9 takes its direct children along. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
#else
	(void)parent;
#endif
	if (dup2(infd, 0) == -1 || dup2(outfd, 1) == -1 ||
	    dup2(errfd, 2) == -1) {
		child_say(errfd, "loom-spawn: cannot set up the task's "
		    "descriptors\n");
		_exit(127);
	}
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (words != NULL) {
		/* Gone since, or a script without #!: search again. */
		if (prog != NULL)
			execve(prog, words, env);
		execvpe(words[0], words, env);
		child_say(2, "loom-spawn: ");
		child_say(2, words[0]);
		child_say(2, errno == ENOENT ? ": not found\n" :
		    ": cannot run it\n");
		_exit(errno == ENOENT ? 127 : 126);
	}
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = (char *)cmd;
	argv[3] = NULL;
	execve("/bin/sh", argv, env);
	child_say(2, "loom-spawn: cannot run /bin/sh: ");
	child_say(2, strerror(errno));
	child_say(2, "\n");
	_exit(127);
}

static int	start(struct loom_proc *, const char *, char *const [],
		    char *const [], int, int, const char *, size_t, char *);

/* vfork in a frame of its own, so that no local of the caller lives
 * across it. */
static pid_t __attribute__((__noinline__))
fork_child(const char *cmd, char **words, const char *prog,
    char *const env[], int infd, int outfd, int errfd, pid_t parent)
{
	pid_t pid = vfork();

	if (pid == 0)
		child(cmd, words, prog, env, infd, outfd, errfd, parent);
	return pid;
}

int
loom_proc_start(struct loom_proc *p, const char *cmd, char *const env[],
    int outfd, int errfd, const char *in, size_t inlen, char *err)
{
	return start(p, cmd, NULL, env, outfd, errfd, in, inlen, err);
}

int
loom_proc_exec(struct loom_proc *p, char *const argv[], char *const env[],
    int outfd, int errfd, const char *in, size_t inlen, char *err)
{
	return start(p, NULL, argv, env, outfd, errfd, in, inlen, err);
}

/* Runs argv when given, else cmd (directly when simple_argv allows). */
static int
start(struct loom_proc *p, const char *cmd, char *const argv[],
    char *const env[], int outfd, int errfd, const char *in, size_t inlen,
    char *err)
{
	static pid_t parent;
	sigset_t all, old;
	char **words, *wordbuf = NULL;
	pid_t pid;
	int fds[2];

	if (parent == 0)
		parent = getpid();

	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(err, LOOM_ERRLEN, "pipe: %s", strerror(errno));
		return -1;
	}

	/* Block signals so that none runs our handlers in the child
	 * before it has put them back to the defaults. */
	words = argv != NULL ? (char **)argv : simple_argv(cmd, &wordbuf);
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);

	/*
	 * vfork: the parent waits until the child has called execve or
	 * _exit, and the child, which shares the parent's memory, makes
	 * only system calls until then (no stdio, no malloc), which saves
	 * copying the page tables of a big plan for every task.
	 */
	pid = fork_child(cmd, words, words != NULL ? lookup(words[0]) : NULL,
	    env, fds[0], outfd, errfd, parent);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (argv == NULL)
		free(words);
	free(wordbuf);
	close(fds[0]);
	if (pid == -1) {
		snprintf(err, LOOM_ERRLEN, "fork: %s", strerror(errno));
		close(fds[1]);
		return -1;
	}

	/* The child has set its group before the parent resumes. */
	p->pid = pid;
	p->infd = fds[1];
	p->in = in;
	p->inlen = inlen;
	p->inoff = 0;
	fcntl(p->infd, F_SETFL, O_NONBLOCK);
	loom_proc_feed(p);
	return 0;
}

int
loom_proc_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	return 0;
}

int
loom_proc_feed(struct loom_proc *p)
{
	ssize_t n;

	while (p->infd != -1 && p->inoff < p->inlen) {
		n = write(p->infd, p->in + p->inoff, p->inlen - p->inoff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 1;
		if (n == -1)
			break;	/* EPIPE: it does not read stdin */
		p->inoff += (size_t)n;
	}
	if (p->infd != -1) {
		close(p->infd);
		p->infd = -1;
	}
	return 0;
}

int
loom_proc_kill(const struct loom_proc *p, int sig)
{
	if (p->pid <= 0)
		return 0;
	return kill(-p->pid, sig);
}

void
loom_proc_close(struct loom_proc *p)
{
	if (p->infd != -1)
		close(p->infd);
	p->infd = -1;
	p->pid = 0;
}

pid_t
loom_proc_reap(int *statusp)
{
	pid_t pid;

	do
		pid = waitpid(-1, statusp, WNOHANG);
	while (pid == -1 && errno == EINTR);
	return pid > 0 ? pid : 0;
}
