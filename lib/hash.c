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

/* A finishing mix (splitmix64's), so that sums of hashes stay spread. */
static uint64_t
mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ h >> 31;
}

/*
 * Folds v (borrowed) into h: its kind, then its bytes, its number, or
 * its members.  An object's members are hashed apart and summed, so
 * that the order of its keys does not count and none need sorting.
 */
static uint64_t
hash_value(uint64_t h, jv v)
{
	unsigned char kind = (unsigned char)jv_get_kind(v);
	uint64_t sum = 0, m;
	double d;
	size_t len;
	int i, n;
	jv k, e;

	h = loom_fnv(h, &kind, 1);
	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		len = (size_t)jv_string_length_bytes(jv_copy(v));
		h = loom_fnv(h, &len, sizeof(len));
		return loom_fnv(h, jv_string_value(v), len);
	case JV_KIND_NUMBER:
		d = jv_number_value(v);
		if (d == 0)
			d = 0;	/* -0 is 0 */
		return loom_fnv(h, &d, sizeof(d));
	case JV_KIND_ARRAY:
		n = jv_array_length(jv_copy(v));
		h = loom_fnv(h, &n, sizeof(n));
		for (i = 0; i < n; i++) {
			e = jv_array_get(jv_copy(v), i);
			h = hash_value(h, e);
			jv_free(e);
		}
		return h;
	case JV_KIND_OBJECT:
		for (i = jv_object_iter(v); jv_object_iter_valid(v, i);
		    i = jv_object_iter_next(v, i)) {
			k = jv_object_iter_key(v, i);
			e = jv_object_iter_value(v, i);
			m = hash_value(hash_value(LOOM_FNV_INIT, k), e);
			sum += mix(m);
			jv_free(k);
			jv_free(e);
		}
		return loom_fnv(h, &sum, sizeof(sum));
	default:
		return h;
	}
}

uint64_t
loom_hash_jv(jv v)
{
	return hash_value(LOOM_FNV_INIT, v);
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
