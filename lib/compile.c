/*
 * compile.c: asks an agent to turn a prompt in plain words into a plan
 * (`loom-parse --compile CMD "prompt"`).  The user's own command line runs
 * under /bin/sh -c with the request on its stdin; what it prints, taken
 * out of a Markdown code fence when it wrapped the plan in one, goes back
 * to the caller, who checks it like any other plan.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loom.h"

static const char	 form[] =
"You are planning work for loom, which runs a graph of tasks in parallel,\n"
"each task given to one agent.  Turn the request below into a plan.\n"
"\n"
"Answer with one JSON object and nothing else: no prose, no code fence.\n"
"Its form:\n"
"\n"
"{\n"
"  \"intent\": \"what the whole plan is for, in one sentence\",\n"
"  \"context\": {\"name\": \"facts every task should know\"},\n"
"  \"tasks\": [\n"
"    {\"id\": \"map_code\", \"description\": \"what to do, for one agent\",\n"
"     \"requires\": [\"code_analysis\"], \"depends_on\": []},\n"
"    {\"id\": \"review_a\", \"description\": \"...\",\n"
"     \"requires\": [\"security_review\"], \"depends_on\": [\"map_code\"]}\n"
"  ]\n"
"}\n"
"\n"
"Rules:\n"
"- ids are short, unique, lowercase words joined by '_'.\n"
"- depends_on lists only ids of this plan, and the graph has no cycle.\n"
"  A task depends on another only when it needs that task's result, so\n"
"  that independent tasks run at the same time.\n"
"- Each description says everything its agent needs: the agent sees\n"
"  only its own task, the intent, the context and the outputs of the\n"
"  tasks it depends on.\n"
"- requires names capabilities, such as research, design,\n"
"  code_analysis, coding, security_review, testing, data_analysis,\n"
"  debugging, documentation, reporting.\n"
"- A task may set \"role\" to one of researcher, architect, coder,\n"
"  reviewer, data_analyst, documenter, debugger, general.\n"
"- context is optional; leave out what you do not need.\n";

/* Appends n bytes of s to the growing buffer *bp.  -1 when out of memory. */
static int
put(char **bp, size_t *lenp, size_t *capp, const char *s, size_t n)
{
	char	*nb;
	size_t	 cap;

	if (*lenp + n + 1 > *capp) {
		cap = *capp ? *capp : 4096;
		while (cap < *lenp + n + 1)
			cap *= 2;
		if ((nb = realloc(*bp, cap)) == NULL)
			return -1;
		*bp = nb;
		*capp = cap;
	}
	memcpy(*bp + *lenp, s, n);
	*lenp += n;
	(*bp)[*lenp] = '\0';
	return 0;
}

static int
puts_(char **bp, size_t *lenp, size_t *capp, const char *s)
{
	return put(bp, lenp, capp, s, strlen(s));
}

char *
loom_compile_prompt(const char *prompt, const char *previous,
    const char *feedback)
{
	char	*b = NULL;
	size_t	 len = 0, cap = 0;
	int	 bad = 0;

	bad |= puts_(&b, &len, &cap, form);
	bad |= puts_(&b, &len, &cap, "\nThe request:\n\n");
	bad |= puts_(&b, &len, &cap, prompt);
	bad |= puts_(&b, &len, &cap, "\n");
	if (feedback != NULL) {
		if (previous != NULL) {
			bad |= puts_(&b, &len, &cap, "\nYour previous answer "
			    "was:\n\n");
			bad |= puts_(&b, &len, &cap, previous);
			bad |= puts_(&b, &len, &cap, "\n");
		}
		bad |= puts_(&b, &len, &cap, "\nIt was rejected: ");
		bad |= puts_(&b, &len, &cap, feedback);
		bad |= puts_(&b, &len, &cap, "\nAnswer again with a plan "
		    "that fixes this.\n");
	}
	if (bad) {
		free(b);
		return NULL;
	}
	return b;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Nonzero when a line starts at i of buf (len bytes) with ```. */
static int
fence_at(const char *buf, size_t len, size_t i)
{
	return (i == 0 || buf[i - 1] == '\n') && len - i >= 3 &&
	    memcmp(buf + i, "```", 3) == 0;
}

/*
 * When buf holds a Markdown code fence (a line starting with ```), moves
 * what is inside the first one to the start of buf.  Then trims blank
 * space at both ends.  Returns the new length.
 */
static size_t
unfence(char *buf, size_t len)
{
	size_t	 i, body, close;

	for (i = 0; i < len && !fence_at(buf, len, i); i++)
		;
	if (i < len) {
		while (i < len && buf[i] != '\n')
			i++;
		body = i < len ? i + 1 : len;
		for (close = body; close < len && !fence_at(buf, len, close);
		    close++)
			;
		len = close - body;
		memmove(buf, buf + body, len);
	}

	while (len > 0 && blank(buf[len - 1]))
		len--;
	for (i = 0; i < len && blank(buf[i]); i++)
		;
	len -= i;
	memmove(buf, buf + i, len);
	buf[len] = '\0';
	return len;
}

/* Runs cmd with in on its stdin and returns what it printed, or NULL. */
static char *
run(const char *cmd, const char *in, size_t inlen, size_t *lenp, char *err)
{
	int		 to[2], from[2], status, n, oom = 0;
	pid_t		 pid;
	struct pollfd	 pf[2];
	char		*out = NULL, chunk[8192];
	size_t		 len = 0, cap = 0, off = 0;
	ssize_t		 r;

	if (pipe(to) == -1) {
		snprintf(err, LOOM_ERRLEN, "pipe: %s", strerror(errno));
		return NULL;
	}
	if (pipe(from) == -1) {
		snprintf(err, LOOM_ERRLEN, "pipe: %s", strerror(errno));
		close(to[0]);
		close(to[1]);
		return NULL;
	}

	if ((pid = fork()) == -1) {
		snprintf(err, LOOM_ERRLEN, "fork: %s", strerror(errno));
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		return NULL;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here on. */
		if (dup2(to[0], 0) == -1 || dup2(from[1], 1) == -1)
			_exit(127);
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	fcntl(to[1], F_SETFL, fcntl(to[1], F_GETFL) | O_NONBLOCK);
	if (inlen == 0) {
		close(to[1]);
		to[1] = -1;
	}

	/* Feed stdin and drain stdout together, so neither pipe fills up. */
	while (from[0] != -1) {
		pf[0].fd = from[0];
		pf[0].events = POLLIN;
		pf[1].fd = to[1];
		pf[1].events = POLLOUT;
		if ((n = poll(pf, to[1] == -1 ? 1 : 2, -1)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}

		if (to[1] != -1 && pf[1].revents != 0) {
			r = write(to[1], in + off, inlen - off);
			if (r > 0)
				off += (size_t)r;
			if ((r == -1 && errno != EAGAIN && errno != EINTR) ||
			    off == inlen) {
				close(to[1]);
				to[1] = -1;
			}
		}

		if (pf[0].revents != 0) {
			r = read(from[0], chunk, sizeof(chunk));
			if (r == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (r <= 0) {
				close(from[0]);
				from[0] = -1;
			} else if (put(&out, &len, &cap, chunk,
			    (size_t)r) == -1) {
				oom = 1;
				close(from[0]);
				from[0] = -1;
			}
		}
	}
	if (to[1] != -1)
		close(to[1]);

	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			snprintf(err, LOOM_ERRLEN, "waitpid: %s",
			    strerror(errno));
			free(out);
			return NULL;
		}

	if (oom) {
		snprintf(err, LOOM_ERRLEN, "out of memory");
		free(out);
		return NULL;
	}
	if (WIFSIGNALED(status)) {
		snprintf(err, LOOM_ERRLEN, "compile command %s killed by "
		    "signal %d", loom_q(cmd), WTERMSIG(status));
		free(out);
		return NULL;
	}
	if (WEXITSTATUS(status) != 0) {
		snprintf(err, LOOM_ERRLEN, "compile command %s exited with "
		    "status %d", loom_q(cmd), WEXITSTATUS(status));
		free(out);
		return NULL;
	}

	if (out == NULL || (len = unfence(out, len)) == 0) {
		snprintf(err, LOOM_ERRLEN, "compile command %s printed no plan",
		    loom_q(cmd));
		free(out);
		return NULL;
	}
	if (memchr(out, '\0', len) != NULL) {
		snprintf(err, LOOM_ERRLEN, "compile command %s printed a NUL "
		    "byte", loom_q(cmd));
		free(out);
		return NULL;
	}
	*lenp = len;
	return out;
}

char *
loom_compile(const char *cmd, const char *prompt, const char *previous,
    const char *feedback, size_t *lenp, char *err)
{
	struct sigaction	 ign, old;
	char			*in, *out;

	err[0] = '\0';
	if ((in = loom_compile_prompt(prompt, previous, feedback)) == NULL) {
		snprintf(err, LOOM_ERRLEN, "out of memory");
		return NULL;
	}

	/* A command that exits without reading its stdin must not kill us. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);

	out = run(cmd, in, strlen(in), lenp, err);

	sigaction(SIGPIPE, &old, NULL);
	free(in);
	return out;
}

char *
loom_compile_checked(const char *cmd, const char *prompt,
    int (*check)(void *ctx, const char *plan, size_t len, char *msg),
    void *ctx, size_t *lenp, char *err)
{
	char	*first, *second, why[LOOM_ERRLEN];

	if ((first = loom_compile(cmd, prompt, NULL, NULL, lenp, err)) == NULL)
		return NULL;
	why[0] = '\0';
	if (check(ctx, first, *lenp, why) == 0)
		return first;

	second = loom_compile(cmd, prompt, first, why, lenp, err);
	free(first);
	if (second == NULL)
		return NULL;
	why[0] = '\0';
	if (check(ctx, second, *lenp, why) == 0)
		return second;
	free(second);
	snprintf(err, LOOM_ERRLEN, "compile command %s gave no valid plan in "
	    "two tries: %.400s", loom_q(cmd), why);
	return NULL;
}
