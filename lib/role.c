/*
 * role.c: the role of a task that was given none.  The capabilities in
 * `requires` decide first, then keywords in the description; a keyword
 * matches a word that starts with it, case aside, and its underscores
 * match a blank or a hyphen too ("web search", "Reviewing").  Among
 * description keywords the earliest in the text wins.
 */
#include <ctype.h>
#include <string.h>

#include "loom.h"

static const struct {
	const char	*word;
	const char	*role;
} table[] = {
	{ "research",		"researcher" },
	{ "web_search",		"researcher" },
	{ "api_research",	"researcher" },
	{ "design",		"architect" },
	{ "architect",		"architect" },
	{ "code_analysis",	"architect" },
	{ "implement",		"coder" },
	{ "coding",		"coder" },
	{ "python",		"coder" },
	{ "security_review",	"reviewer" },
	{ "review",		"reviewer" },
	{ "test",		"reviewer" },
	{ "validat",		"reviewer" },
	{ "data_analysis",	"data_analyst" },
	{ "report",		"documenter" },
	{ "document",		"documenter" },
	{ "debug",		"debugger" },
};
#define NTABLE	(sizeof(table) / sizeof(table[0]))

static int
is_word(int c)
{
	return isalnum(c) || c == '_' || (c & 0x80);
}

/* Length matched when keyword w starts at s, else 0. */
static size_t
match(const char *s, const char *w)
{
	size_t n = 0;

	for (; *w != '\0'; w++, n++) {
		if (*w == '_') {
			if (s[n] != '_' && s[n] != ' ' && s[n] != '-')
				return 0;
		} else if (tolower((unsigned char)s[n]) != *w)
			return 0;
	}
	return n;
}

/* The role whose keyword starts the earliest word of s, or NULL. */
static const char *
scan(const char *s)
{
	size_t i, k, best = 0;
	const char *role = NULL;

	for (i = 0; s[i] != '\0'; i++) {
		if (i > 0 && is_word((unsigned char)s[i - 1]))
			continue;
		for (k = 0; k < NTABLE; k++) {
			/* The longest keyword at this word wins. */
			size_t n = match(s + i, table[k].word);

			if (n > best) {
				best = n;
				role = table[k].role;
			}
		}
		if (role != NULL)
			return role;
	}
	return NULL;
}

const char *
loom_role_derive(jv requires, const char *description)
{
	const char *role;
	int i, n;

	if (loom_is_array(requires)) {
		n = jv_array_length(jv_copy(requires));
		for (i = 0; i < n; i++) {
			jv c = jv_array_get(jv_copy(requires), i);

			role = loom_is_string(c) ? scan(jv_string_value(c)) :
			    NULL;
			jv_free(c);
			if (role != NULL)
				return role;
		}
	}
	if (description != NULL && (role = scan(description)) != NULL)
		return role;
	return "general";
}

int
loom_name_ok(const char *s)
{
	if (*s < 'a' || *s > 'z')
		return 0;
	for (s++; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_'))
			return 0;
	return 1;
}
