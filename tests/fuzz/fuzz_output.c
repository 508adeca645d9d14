/*
 * fuzz_output.c: libFuzzer harness for the task output reader of
 * loom-merge (lib/output.c).  Writes the input to a scratch file, reads
 * it with loom_output_read and, when that succeeds, takes its findings
 * with loom_output_findings: every finding must be an object with a
 * string "severity" and "message"; an error must name the file.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loom.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[] = "/tmp/loom-fuzz-output-XXXXXX";
static int fd = -1;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[LOOM_ERRLEN];
	jv out, f, s;

	if (fd == -1 && (fd = mkstemp(path)) == -1)
		abort();
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();

	err[0] = '\0';
	out = loom_output_read(path, err);
	if (!jv_is_valid(out)) {
		if (strncmp(err, path, strlen(path)) != 0)
			abort();
		jv_free(out);
		return 0;
	}
	if (jv_get_kind(out) != JV_KIND_OBJECT)
		abort();
	f = loom_output_findings(out);
	if (jv_get_kind(f) != JV_KIND_ARRAY)
		abort();
	jv_array_foreach(f, i, one) {
		if (jv_get_kind(one) != JV_KIND_OBJECT)
			abort();
		s = jv_object_get(jv_copy(one), jv_string("severity"));
		if (jv_get_kind(s) != JV_KIND_STRING)
			abort();
		(void)loom_severity_rank(jv_string_value(s));
		jv_free(s);
		s = jv_object_get(one, jv_string("message"));
		if (jv_get_kind(s) != JV_KIND_STRING)
			abort();
		jv_free(s);
	}
	jv_free(f);
	jv_free(out);
	return 0;
}
