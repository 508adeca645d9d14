#!/usr/bin/env bats
# The README's "Guarantees" section names, for each promise, the tests
# that check it: each named test must exist, under that name, in the
# file named before it.

load test_helper

@test "every test the README's Guarantees section names exists" {
	local tok file='' n=0 missing=''
	sed -n '/^## Guarantees/,/^## Where/p' "$TOP/README.md" |
	    tr '\n' ' ' | tr -s ' ' |
	    grep -oE '`[a-z0-9-]+\.bats`|"[^"]+"' >tokens
	while read -r tok; do
		case $tok in
		\`*) file=${tok//\`/} ;;
		*)
			[ -n "$file" ] || fail "$tok named before any file"
			n=$((n + 1))
			grep -qF "@test $tok {" "$TOP/tests/$file" ||
			    missing="$missing $file: $tok;"
			;;
		esac
	done <tokens
	[ -z "$missing" ] || fail "not found:$missing"
	[ "$n" -ge 30 ]
}
