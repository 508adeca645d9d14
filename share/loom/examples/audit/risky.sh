#!/bin/sh
# risky.sh: an audit task that looks through C sources for risky calls:
# gets (critical), system and popen with a command built at run time
# (high; low when the command is a string constant), unbounded string
# copies and formatted output into buffers (strcpy, strcat, sprintf,
# vsprintf: medium; low when strcpy/strcat copy a string constant), and
# allocations whose result is not checked before use (low).  Comments and
# string contents are ignored, so a clean file yields nothing.  Writes its
# findings on stdout in the output form loom-merge reads.
set -eu
# shellcheck source=/dev/null
. "$(dirname -- "$0")/common.sh"

root=$(audit_root)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
audit_files c >"$tmp/files"

while IFS= read -r f; do
	AUDIT_FILE=$f awk -f "$AUDIT_LIB/risky.awk" <"$f"
done <"$tmp/files" >"$tmp/tsv"
audit_tsv <"$tmp/tsv" >"$tmp/issues"

results=$(jq -n --arg root "$root" --slurpfile i "$tmp/issues" \
    --rawfile files "$tmp/files" \
    '{root: $root,
      files_scanned: ($files | split("\n") | map(select(. != "")) | length),
      findings: ($i | length),
      by_call: ($i | map(.message | capture("^(?<c>[a-z]+)\\(").c)
		  | group_by(.) | map({key: .[0], value: length})
		  | from_entries)}')
audit_emit "$results" "$tmp/issues"
