/*
 * status.c: formats loom-spawn's one-line progress display.  It only
 * listens and formats; the caller decides when and where to write it.
 */
#include <stdio.h>

#include "loom.h"

static void
clock_fmt(char *buf, size_t len, double s)
{
	long t = (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600,
		    t / 60 % 60, t % 60);
	else
		snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

void
loom_status_format(const struct loom_status *st, double now, int color,
    char *buf, size_t len)
{
	char el[32], left[32];
	double elapsed = now - st->started;
	const char *red = "", *off = "";
	int n;

	clock_fmt(el, sizeof(el), elapsed);
	if (st->done > 0 && st->done < st->total)
		clock_fmt(left, sizeof(left), elapsed / (double)st->done *
		    (double)(st->total - st->done));
	else
		snprintf(left, sizeof(left), "?");
	if (color && st->failed > 0) {
		red = "\033[31m";
		off = "\033[0m";
	}
	n = snprintf(buf, len, "\r[%zu/%zu] %zu running, %s%zu failed%s",
	    st->done, st->total, st->running, red, st->failed, off);
	if (st->skipped > 0 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, ", %zu skipped",
		    st->skipped);
	if (st->cancelled > 0 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, ", %zu cancelled",
		    st->cancelled);
	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", %s elapsed, ~%s left"
		    "\033[K", el, left);
}
