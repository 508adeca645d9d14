/*
 * map.c: interned byte strings, numbered 0, 1, 2... in the order first
 * seen, behind an open-addressing hash table.  All keys live in one
 * arena, each as its length (one byte, or 0xff and four) then its bytes
 * and a NUL; where key number k starts is kept for every eighth k only,
 * the rest found by skipping at most seven keys.  A slot is a 32-bit
 * number.  So 100,000 task ids cost about 1.5 MB in a few allocations:
 * loom-levels has to stay within twice the memory of jq streaming the
 * same plan.
 */
#include <stdlib.h>
#include <string.h>

#include "loom.h"

#define STRIDE	8		/* keys per kept start */

struct loom_map {
	uint32_t	*slot;		/* number + 1, or 0 when empty */
	size_t		 cap;		/* slots, a power of two */
	uint32_t	*off;		/* key i * STRIDE starts at arena[off[i]] */
	size_t		 count, offcap;
	unsigned char	*arena;
	size_t		 used, arenacap;
};

/* The key that starts at p: its bytes, and its length in *lenp. */
static const unsigned char *
entry(const unsigned char *p, size_t *lenp)
{
	uint32_t n;

	if (*p != 0xff) {
		*lenp = *p;
		return p + 1;
	}
	memcpy(&n, p + 1, sizeof(n));
	*lenp = n;
	return p + 5;
}

/* Where key number num starts in the arena. */
static const unsigned char *
start(const struct loom_map *m, size_t num)
{
	const unsigned char *p = m->arena + m->off[num / STRIDE];
	size_t i, len;

	for (i = 0; i < num % STRIDE; i++) {
		p = entry(p, &len);
		p += len + 1;
	}
	return p;
}

static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n-- > 0) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

struct loom_map *
loom_map_new(void)
{
	struct loom_map *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->cap = 64;
	m->offcap = 8;
	m->slot = calloc(m->cap, sizeof(*m->slot));
	m->off = malloc(m->offcap * sizeof(*m->off));
	if (m->slot == NULL || m->off == NULL) {
		loom_map_free(m);
		return NULL;
	}
	m->off[0] = 0;
	return m;
}

void
loom_map_free(struct loom_map *m)
{
	if (m == NULL)
		return;
	free(m->slot);
	free(m->off);
	free(m->arena);
	free(m);
}

size_t
loom_map_count(const struct loom_map *m)
{
	return m->count;
}

const char *
loom_map_key(const struct loom_map *m, long num, size_t *lenp)
{
	size_t len;
	const unsigned char *p = entry(start(m, (size_t)num), &len);

	if (lenp != NULL)
		*lenp = len;
	return (const char *)p;
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t *
find(const struct loom_map *m, const char *key, size_t len, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);
	const unsigned char *p;
	uint32_t k;
	size_t klen;

	while ((k = m->slot[i]) != 0) {
		p = entry(start(m, k - 1), &klen);
		if (klen == len && memcmp(p, key, len) == 0)
			break;
		i = (i + 1) & (m->cap - 1);
	}
	return &m->slot[i];
}

long
loom_map_get(const struct loom_map *m, const char *key, size_t len)
{
	uint32_t *s;

	if (m->slot == NULL)
		return -1;
	s = find(m, key, len, hash(key, len));

	return *s != 0 ? (long)*s - 1 : -1;
}

static int
grow(struct loom_map *m)
{
	uint32_t *old = m->slot, *s;
	size_t i, oldcap = m->cap;
	const char *k;
	size_t len;

	if ((m->slot = calloc(oldcap * 2, sizeof(*m->slot))) == NULL) {
		m->slot = old;
		return -1;
	}
	m->cap = oldcap * 2;
	for (i = 0; i < oldcap; i++) {
		if (old[i] == 0)
			continue;
		k = loom_map_key(m, old[i] - 1, &len);
		s = find(m, k, len, hash(k, len));
		*s = old[i];
	}
	free(old);
	return 0;
}

void
loom_map_unindex(struct loom_map *m)
{
	free(m->slot);
	m->slot = NULL;
}

long
loom_map_intern(struct loom_map *m, const char *key, size_t len, int *newp)
{
	uint64_t h = hash(key, len);
	uint32_t *s;

	if (newp != NULL)
		*newp = 0;
	if (m->slot == NULL)
		return -1;
	s = find(m, key, len, h);
	if (*s != 0)
		return (long)*s - 1;
	if (m->count >= UINT32_MAX - 1 || len >= UINT32_MAX ||
	    m->used + len + 6 > UINT32_MAX)
		return -1;
	if ((m->count + 1) * 5 > m->cap * 4) {
		if (grow(m) != 0)
			return -1;
		s = find(m, key, len, h);
	}
	if (loom_grow((void **)&m->arena, &m->arenacap, m->used + len + 6, 1)
	    != 0 || loom_grow((void **)&m->off, &m->offcap, m->count / STRIDE +
	    1, sizeof(*m->off)) != 0)
		return -1;
	if (m->count % STRIDE == 0)
		m->off[m->count / STRIDE] = (uint32_t)m->used;
	if (len < 0xff)
		m->arena[m->used++] = (unsigned char)len;
	else {
		uint32_t n = (uint32_t)len;

		m->arena[m->used++] = 0xff;
		memcpy(m->arena + m->used, &n, sizeof(n));
		m->used += sizeof(n);
	}
	memcpy(m->arena + m->used, key, len);
	m->arena[m->used + len] = '\0';
	m->used += len + 1;
	*s = (uint32_t)++m->count;
	if (newp != NULL)
		*newp = 1;
	return (long)m->count - 1;
}
