#!/bin/sh
# Audit task shellcheck.sh: runs shellcheck, when it is installed,
# on the shell scripts.  Severities: error is high, warning medium, info
# low, style info.  Without shellcheck it says so in one info finding.
set -eu
# shellcheck source=/dev/null
. "$(dirname -- "$0")/common.sh"

root=$(audit_root)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
audit_files sh >"$tmp/files"

if ! command -v shellcheck >/dev/null 2>&1; then
	audit_issue info "" "" "shellcheck is not installed: this audit" \
	    " was skipped" "apt-get install shellcheck" >"$tmp/issues"
	audit_emit '{"skipped":"shellcheck is not installed"}' "$tmp/issues"
	exit 0
fi

echo '{"comments":[]}' >"$tmp/out"
if [ -s "$tmp/files" ]; then
	# One file at a time: its exit status says only "found something".
	while IFS= read -r f; do
		shellcheck -f json1 -- "$f" || true
	done <"$tmp/files" >"$tmp/out"
fi
jq -c '.comments[] | {
	severity: ({error: "high", warning: "medium", info: "low",
	    style: "info"}[.level] // "low"),
	message: "SC\(.code): \(.message)",
	file: .file, line: .line,
	fix: "see https://www.shellcheck.net/wiki/SC\(.code)"}' "$tmp/out" \
    >"$tmp/issues"
results=$(jq -n --arg v "$(shellcheck --version | sed -n 's/^version: //p')" \
    --argjson n "$(wc -l <"$tmp/files")" --slurpfile i "$tmp/issues" \
    '{tool: ("shellcheck " + $v), files_checked: $n,
      findings: ($i | length)}')
audit_emit "$results" "$tmp/issues"
