/*
 * fuzz_hand.c: libFuzzer harness for loom's hand-written plan format
 * (lib/hand.c).  Feeds the input, exactly its size and not
 * NUL-terminated, to loom_hand_parse with and without line numbers; on
 * success every record is an object with a "type", and there is one
 * line per record; on error the message starts with the name given.
 */
#include <stdlib.h>
#include <string.h>

#include "loom.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	char err[LOOM_ERRLEN];
	jv v, w, lines, t;
	int ok;

	err[0] = '\0';
	v = loom_hand_parse(buf, size, "fuzz", &lines, err);
	ok = jv_is_valid(v);
	if (!ok) {
		if (strncmp(err, "fuzz:", 5) != 0)
			abort();
		jv_free(v);
		jv_free(lines);
		v = loom_hand_parse(buf, size, "fuzz", NULL, err);
		if (jv_is_valid(v))
			abort();
		jv_free(v);
		return 0;
	}
	if (jv_get_kind(v) != JV_KIND_ARRAY || !jv_is_valid(lines) ||
	    jv_get_kind(lines) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(v)) != jv_array_length(jv_copy(lines)))
		abort();
	jv_array_foreach(v, i, rec) {
		if (jv_get_kind(rec) != JV_KIND_OBJECT)
			abort();
		t = jv_object_get(rec, jv_string("type"));
		if (jv_get_kind(t) != JV_KIND_STRING)
			abort();
		jv_free(t);
	}
	w = loom_hand_parse(buf, size, "fuzz", NULL, err);
	if (!jv_equal(jv_copy(v), w))
		abort();
	jv_free(lines);
	jv_free(v);
	return 0;
}
