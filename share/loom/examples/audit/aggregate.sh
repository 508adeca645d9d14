#!/bin/sh
# aggregate.sh: the last audit task: reads the outputs of the audits it
# depends on ($LOOM_DEPS) and sums their findings up: totals by severity,
# by task and by file, the worst first.  It repeats no finding (loom-merge
# already gathers every task's), so nothing is counted twice.
set -eu
# shellcheck source=/dev/null
. "$(dirname -- "$0")/common.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/outs"
printf '%s\n' "${LOOM_DEPS:-}" | while IFS= read -r dep; do
	[ -n "$dep" ] || continue
	if jq -ce 'select(type == "object")' "$dep" >>"$tmp/outs" \
	    2>/dev/null; then
		:
	else
		jq -cn --arg d "$dep" '{task_id: $d, unreadable: true}' \
		    >>"$tmp/outs"
	fi
done
results=$(jq -s '
	def rank: {critical: 0, high: 1, medium: 2, low: 3, info: 4}[.]
	    // 5;
	(map((.task_id // "?") as $t | (.issues // [])[] | . + {task: $t}))
	    as $all
	| {total: ($all | length),
	   by_severity: ($all | group_by(.severity)
		| sort_by(.[0].severity | rank)
		| map({key: .[0].severity, value: length}) | from_entries),
	   by_task: (map({key: (.task_id // "?"),
		value: ((.issues // []) | length)})
		| from_entries),
	   worst_files: ($all | map(select(.file != null))
		| group_by(.file)
		| map({file: .[0].file, findings: length,
		       worst: (map(.severity) | min_by(rank))})
		| sort_by((.worst | rank), -.findings) | .[:10]),
	   unreadable: map(select(.unreadable) | .task_id)}' "$tmp/outs")
: >"$tmp/none"
audit_emit "$results" "$tmp/none"
