#!/bin/sh
# cppcheck.sh: an audit task that runs cppcheck, when it is installed, on
# the C sources (warnings and portability checks).  Severities: error is
# high, warning medium, portability, performance and style low,
# information info.  Without cppcheck it says so in one info finding.
set -eu
# shellcheck source=/dev/null
. "$(dirname -- "$0")/common.sh"

root=$(audit_root)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
audit_files c | grep -E '\.c$' >"$tmp/files" || true

if ! command -v cppcheck >/dev/null 2>&1; then
	audit_issue info "" "" "cppcheck is not installed: this audit was" \
	    " skipped" "apt-get install cppcheck" >"$tmp/issues"
	audit_emit '{"skipped":"cppcheck is not installed"}' "$tmp/issues"
	exit 0
fi

if [ -s "$tmp/files" ]; then
	cppcheck -q --enable=warning,portability --inline-suppr \
	    --suppress=missingIncludeSystem \
	    --template='{file}\t{line}\t{severity}\t{id}\t{message}' \
	    --file-list="$tmp/files" 2>"$tmp/out" >/dev/null ||
	    audit_die "cppcheck failed: $(head -n 1 "$tmp/out")"
fi
touch "$tmp/out"
awk -F '\t' 'NF >= 5 && $1 != "" && $1 != "nofile" {
	sev = "low"
	if ($3 == "error")
		sev = "high"
	else if ($3 == "warning")
		sev = "medium"
	else if ($3 == "information")
		sev = "info"
	printf "%s\t%s\t%s\t%s (cppcheck %s)\t\n", sev, $1, $2, $5, $4
}' "$tmp/out" >"$tmp/tsv"
audit_tsv <"$tmp/tsv" >"$tmp/issues"
results=$(jq -n --arg v "$(cppcheck --version)" \
    --argjson n "$(wc -l <"$tmp/files")" --slurpfile i "$tmp/issues" \
    '{tool: $v, files_checked: $n, findings: ($i | length)}')
audit_emit "$results" "$tmp/issues"
