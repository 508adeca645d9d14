/*
 * fuzz_pylit.c: libFuzzer harness for the Python-literal reader
 * (lib/pylit.c).  Feeds the input, exactly its size and not
 * NUL-terminated, to loom_pylit_sniff, loom_pylit_parse and
 * loom_pylit_parse_lines; both parsers must agree on success, and an
 * error must come with a message that starts with the name given.
 */
#include <stdlib.h>
#include <string.h>

#include "loom.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	char err[LOOM_ERRLEN], err2[LOOM_ERRLEN];
	jv v, w, lines;
	int ok;

	(void)loom_pylit_sniff(buf, size);

	err[0] = '\0';
	v = loom_pylit_parse(buf, size, "fuzz", err);
	ok = jv_is_valid(v);
	if (ok && jv_get_kind(v) != JV_KIND_OBJECT)
		abort();
	if (!ok && strncmp(err, "fuzz:", 5) != 0)
		abort();

	err2[0] = '\0';
	w = loom_pylit_parse_lines(buf, size, "fuzz", &lines, err2);
	if (jv_is_valid(w) != ok)
		abort();
	if (ok) {
		if (!jv_is_valid(lines) ||
		    jv_get_kind(lines) != JV_KIND_OBJECT)
			abort();
		if (!jv_equal(jv_copy(v), jv_copy(w)))
			abort();
	} else if (strcmp(err, err2) != 0)
		abort();
	jv_free(lines);
	jv_free(w);
	jv_free(v);
	return 0;
}
