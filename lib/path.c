/*
 * path.c: the work directory, and the check that keeps a path from a
 * record relative and free of "..", so that joined to a base it cannot
 * climb out of it.  (Symbolic links are loom-spawn's to refuse, where the
 * files are written.)
 */
#include <stdlib.h>
#include <string.h>

#include "loom.h"

const char *
loom_workdir(const char *opt)
{
	const char *w;

	if (opt != NULL && *opt != '\0')
		return opt;
	if ((w = getenv("LOOM_WORKDIR")) != NULL && *w != '\0')
		return w;
	return "loom";
}

int
loom_path_check(const char *p, char *err)
{
	const char *c = p, *end;

	if (*p == '\0') {
		snprintf(err, LOOM_ERRLEN, "empty path");
		return -1;
	}
	for (c = p; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			snprintf(err, LOOM_ERRLEN, "control character in path "
			    "%s", loom_q(p));
			return -1;
		}
	c = p;
	if (*p == '/') {
		snprintf(err, LOOM_ERRLEN, "absolute path %s", loom_q(p));
		return -1;
	}
	for (;;) {
		end = strchr(c, '/');
		if (end == NULL)
			end = c + strlen(c);
		if (end - c == 2 && c[0] == '.' && c[1] == '.') {
			snprintf(err, LOOM_ERRLEN, "path %s leaves its "
			    "directory (\"..\")", loom_q(p));
			return -1;
		}
		if (*end == '\0')
			break;
		c = end + 1;
	}
	if (p[strlen(p) - 1] == '/') {
		snprintf(err, LOOM_ERRLEN, "path %s names a directory",
		    loom_q(p));
		return -1;
	}
	return 0;
}
