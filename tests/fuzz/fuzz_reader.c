/*
 * fuzz_reader.c: libFuzzer harness for the NDJSON reader (lib/reader.c).
 * Reads every value of the input through loom_reader_open_mem, touching
 * the raw bytes of each, until the end or the first error; an error must
 * come with a message that starts with the name given.
 */
#include <stdlib.h>
#include <string.h>

#include "loom.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loom_reader *r;
	char err[LOOM_ERRLEN];
	const char *raw;
	size_t len, sum = 0;
	off_t off;
	jv v;
	int rc;

	if ((r = loom_reader_open_mem((const char *)data, size, "fuzz",
	    err)) == NULL)
		return 0;
	while ((rc = loom_reader_next(r, &v, err)) == 1) {
		raw = loom_reader_raw(r, &len, &off);
		if (raw == NULL || off < 0 || (size_t)off + len > size)
			abort();
		if (memcmp(raw, data + off, len) != 0)
			abort();
		sum += len;
		if (loom_reader_line(r) < 1)
			abort();
		jv_free(v);
	}
	if (rc == -1 && strncmp(err, "fuzz", 4) != 0)
		abort();
	loom_reader_close(r);
	(void)sum;
	return 0;
}
