/*
 * agent.c: finds the adapter for `loom-spawn --agent NAME`.
 *
 * A bare word names an adapter, an executable file looked up in order in
 * each directory of $LOOM_AGENTS_PATH, in WORKDIR/agents, and in the
 * agents directory installed beside the running program
 * (BINDIR/../share/loom/agents).  Anything else, or a word found nowhere,
 * is a command line for /bin/sh -c and not this file's business.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loom.h"

#define AGENTS_REL	"/../share/loom/agents"

/* Nonzero when name is a bare word: a letter or digit, then letters,
 * digits, '.', '_' or '-', at most NAME_MAX bytes. */
static int
bare_word(const char *name)
{
	const char	*p;

	if (name == NULL || !((*name >= 'a' && *name <= 'z') ||
	    (*name >= 'A' && *name <= 'Z') || (*name >= '0' && *name <= '9')))
		return 0;

	for (p = name; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == '-')
			continue;
		return 0;
	}
	return p - name <= NAME_MAX;
}

/* Joins dir and name into a new string, NULL when out of memory. */
static char *
join(const char *dir, size_t dlen, const char *name)
{
	size_t	 nlen = strlen(name);
	char	*s;

	if ((s = malloc(dlen + nlen + 2)) == NULL)
		return NULL;
	memcpy(s, dir, dlen);
	s[dlen] = '/';
	memcpy(s + dlen + 1, name, nlen + 1);
	return s;
}

/*
 * Looks for name in the directory dir (dlen bytes).  Returns 1 with the
 * path in *pathp when it is an executable regular file, 0 when there is
 * no such file, -1 with err filled when there is one but it cannot be
 * run, or when out of memory.
 */
static int
try_dir(const char *dir, size_t dlen, const char *name, char **pathp,
    char *err)
{
	struct stat	 st;
	char		*path;

	if (dlen == 0)
		return 0;

	if ((path = join(dir, dlen, name)) == NULL) {
		snprintf(err, LOOM_ERRLEN, "out of memory");
		return -1;
	}

	if (stat(path, &st) == -1) {
		free(path);
		return 0;
	}

	if (!S_ISREG(st.st_mode) || access(path, X_OK) == -1) {
		snprintf(err, LOOM_ERRLEN, "agent %s: %s is not an executable "
		    "file", loom_q(name), loom_q(path));
		free(path);
		return -1;
	}
	*pathp = path;
	return 1;
}

/* The installed agents directory, from the running program's own path,
 * in a new string, or NULL when it cannot be known. */
static char *
installed_dir(void)
{
	char	 exe[PATH_MAX], *slash, *dir, *real;
	ssize_t	 n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0 || (size_t)n >= sizeof(exe) - 1)
		return NULL;
	exe[n] = '\0';

	if ((slash = strrchr(exe, '/')) == NULL)
		return NULL;
	*slash = '\0';

	if ((dir = malloc(strlen(exe) + sizeof(AGENTS_REL))) == NULL)
		return NULL;
	strcpy(dir, exe);
	strcat(dir, AGENTS_REL);

	/* Without the "bin/.." in messages; keep it when it does not exist. */
	if ((real = realpath(dir, NULL)) == NULL)
		return dir;
	free(dir);
	return real;
}

char *
loom_agent_dir(void)
{
	return installed_dir();
}

char *
loom_agent_find(const char *name, const char *workdir, char *err)
{
	const char	*path, *p, *colon;
	char		*found = NULL, *dir;
	int		 r;

	err[0] = '\0';
	if (!bare_word(name))
		return NULL;

	/* $LOOM_AGENTS_PATH first; empty entries are skipped, not ".". */
	if ((path = getenv("LOOM_AGENTS_PATH")) != NULL) {
		for (p = path; ; p = colon + 1) {
			colon = strchr(p, ':');
			if (colon == NULL)
				colon = p + strlen(p);
			r = try_dir(p, (size_t)(colon - p), name, &found, err);
			if (r != 0)
				return found;
			if (*colon == '\0')
				break;
		}
	}

	if (workdir == NULL)
		workdir = "loom";
	if ((dir = join(workdir, strlen(workdir), "agents")) == NULL) {
		snprintf(err, LOOM_ERRLEN, "out of memory");
		return NULL;
	}
	r = try_dir(dir, strlen(dir), name, &found, err);
	free(dir);
	if (r != 0)
		return found;

	if ((dir = installed_dir()) == NULL)
		return NULL;
	r = try_dir(dir, strlen(dir), name, &found, err);
	free(dir);
	return r == 1 ? found : NULL;
}
