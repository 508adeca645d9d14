#!/bin/sh
# map.sh: the first audit task: maps the surface of the code base to audit.
# Lists its C sources and headers, shell scripts, makefiles and built ELF
# files, and its entry points (each main() and each shell script), so the
# audits that follow read one list.  Writes no findings.
set -eu
# shellcheck source=/dev/null
. "$(dirname -- "$0")/common.sh"

root=$(audit_root)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for k in c sh make elf; do
	audit_find "$k" >"$tmp/$k"
done

# main() at the start of a line, with or without "int" before it.
re='^((static|extern)[[:space:]]+)?(int[[:space:]]+)?main[[:space:]]*\('
: >"$tmp/main"
while IFS= read -r f; do
	case $f in *.c) ;; *) continue ;; esac
	grep -n -E "$re" -- "$f" | cut -d: -f1 | while IFS= read -r n; do
		printf '%s\t%s\n' "$f" "$n"
	done >>"$tmp/main"
done <"$tmp/c"

list() {
	jq -R . "$1" | jq -s .
}
results=$(jq -n --arg root "$root" \
    --argjson c "$(list "$tmp/c")" --argjson sh "$(list "$tmp/sh")" \
    --argjson make "$(list "$tmp/make")" --argjson elf "$(list "$tmp/elf")" \
    --argjson main "$(jq -R 'split("\t") | {file: .[0],
	line: (.[1] | tonumber), kind: "main"}' "$tmp/main" | jq -s .)" \
    '{root: $root,
      files: {c: $c, sh: $sh, make: $make, elf: $elf},
      entry_points: ($main + ($sh | map({file: ., kind: "shell script"}))),
      counts: {c: ($c | length), sh: ($sh | length),
	       make: ($make | length), elf: ($elf | length),
	       entry_points: (($main | length) + ($sh | length))}}')
: >"$tmp/none"
audit_emit "$results" "$tmp/none"
