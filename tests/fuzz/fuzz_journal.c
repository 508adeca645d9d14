/*
 * fuzz_journal.c: libFuzzer harness for the journal reader of loom-spawn
 * --resume (lib/journal.c), which must survive a journal torn by kill -9
 * or written by someone else.  Writes the input to a scratch file and
 * loads it against a checked graph of three tasks, a <- b <- c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loom.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[] = "/tmp/loom-fuzz-journal-XXXXXX";
static int fd = -1;
static struct loom_graph *g;

static void
ignore(void *ctx, long task, const char *msg)
{
	(void)ctx;
	(void)task;
	(void)msg;
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loom_jentry ent[3];
	char err[LOOM_ERRLEN];
	size_t i;

	if (g == NULL) {
		if ((g = loom_graph_new()) == NULL ||
		    loom_graph_add(g, "a", 1, NULL) != 0 ||
		    loom_graph_add(g, "b", 1, NULL) != 1 ||
		    loom_graph_add_dep(g, "a", 1) != 0 ||
		    loom_graph_add(g, "c", 1, NULL) != 2 ||
		    loom_graph_add_dep(g, "b", 1) != 0 ||
		    loom_graph_check(g, ignore, NULL) != 0)
			abort();
	}
	if (fd == -1 && (fd = mkstemp(path)) == -1)
		abort();
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();

	if (loom_journal_load(path, g, ent, err) != 0)
		abort();
	for (i = 0; i < 3; i++)
		if ((ent[i].ok != 0 && ent[i].ok != 1) || (!ent[i].seen &&
		    (ent[i].ok || ent[i].hash || ent[i].deps)))
			abort();
	return 0;
}
