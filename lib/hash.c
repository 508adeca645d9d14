/*
 * hash.c: 64-bit FNV-1a over bytes, JSON values and file contents, which
 * loom-spawn records in its journal to tell whether a task changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "loom.h"

#define FNV_PRIME	0x100000001b3ULL

uint64_t
loom_fnv(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

uint64_t
loom_hash_jv(jv v)
{
	jv s;
	uint64_t h;

	s = jv_dump_string(jv_copy(v), JV_PRINT_SORTED);
	h = loom_fnv(LOOM_FNV_INIT, jv_string_value(s),
	    (size_t)jv_string_length_bytes(jv_copy(s)));
	jv_free(s);
	return h;
}

int
loom_hash_fd(int fd, uint64_t *hp)
{
	char buf[65536];
	uint64_t h = LOOM_FNV_INIT;
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		h = loom_fnv(h, buf, (size_t)n);
		off += n;
	}
	*hp = h;
	return 0;
}

int
loom_hash_file(const char *path, uint64_t *hp, char *err)
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, LOOM_ERRLEN, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((rc = loom_hash_fd(fd, hp)) == -1)
		snprintf(err, LOOM_ERRLEN, "%s: %s", path, strerror(errno));
	close(fd);
	return rc;
}
