# shellcheck shell=sh
# common.sh: what every audit task shares; sourced, never run.
#
# The directory to audit is, first found: $LOOM_AUDIT_DIR; the "root" the
# map task recorded in its output (the first path in $LOOM_DEPS); the plan's
# context.target (from $LOOM_PLAN); the loom source tree these scripts ship
# in; the current directory.  Directories named in $LOOM_AUDIT_EXCLUDE
# (blank-separated names, default ".git bin build loom fixtures") are
# skipped.  Findings name files relative to that directory.

audit_die() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

command -v jq >/dev/null 2>&1 || audit_die "jq is needed (apt-get install jq)"

AUDIT_LIB=$(CDPATH="" cd -- "$(dirname -- "$0")" && pwd)
TASK_ID=${LOOM_TASK_ID:-${0##*/}}
TASK_ID=${TASK_ID%.sh}

# audit_map: the map task's output, when it is among the dependencies.
audit_map() {
	[ -n "${LOOM_DEPS:-}" ] || return 1
	printf '%s\n' "$LOOM_DEPS" | while IFS= read -r dep; do
		[ -f "$dep" ] || continue
		jq -e 'type == "object" and
		    (.results.root | type) == "string"' "$dep" \
		    >/dev/null 2>&1 || continue
		printf '%s\n' "$dep"
		break
	done
}

# audit_root: prints the absolute directory to audit.
audit_root() {
	dir=${LOOM_AUDIT_DIR:-}
	if [ -z "$dir" ]; then
		map=$(audit_map || true)
		[ -n "$map" ] && dir=$(jq -r '.results.root' "$map")
	fi
	if [ -z "$dir" ] && [ -n "${LOOM_PLAN:-}" ] && [ -f "$LOOM_PLAN" ]; then
		dir=$(jq -r 'if type == "object" then (.context.target //
		    .plan.context.target // empty) else empty end' \
		    "$LOOM_PLAN" 2>/dev/null | head -n 1)
	fi
	if [ -z "$dir" ]; then
		top=$(CDPATH="" cd -- "$AUDIT_LIB/../../../.." && pwd)
		if [ -f "$top/lib/loom.h" ] && [ -d "$top/cmd" ]; then
			dir=$top
		else
			dir=.
		fi
	fi
	[ -d "$dir" ] || audit_die "no directory to audit: \"$dir\""
	CDPATH="" cd -- "$dir" && pwd
}

# audit_find KIND: prints, relative to the current directory (the audit
# root), one a line and sorted, the C sources and headers (c), the shell
# scripts (sh: *.sh, *.bash, or a #! line naming sh, bash or dash), the
# makefiles (make) or the ELF files (elf, looked for in bin and build
# too).
audit_find() {
	set -f
	prune=""
	skip=${LOOM_AUDIT_EXCLUDE-.git bin build loom fixtures}
	[ "$1" = elf ] && skip=.git
	for d in $skip; do
		prune="$prune -name $d -o"
	done
	shebang='^#![[:space:]]*(/usr)?/bin/(env[[:space:]]+)?(ba|da)?sh'
	shebang="$shebang([[:space:]]|$)"
	case $1 in
	c)	sel="-name *.[ch]" ;;
	sh)	sel="( -name *.sh -o -name *.bash -o ! -name *.* )" ;;
	make)	sel="( -name Makefile -o -name makefile -o -name GNUmakefile"
		sel="$sel -o -name *.mk -o -name *.mak )" ;;
	elf)	sel="( -perm -u+x -o -name *.so -o -name *.so.* )" ;;
	esac
	set -f
	# shellcheck disable=SC2086 # $prune and $sel are find arguments
	find . \( -type d \( $prune -false \) -prune \) -o -type f $sel -print |
	    sed 's|^\./||' | LC_ALL=C sort | while IFS= read -r f; do
		case $1 in
		sh)	case $f in
			*.sh|*.bash) printf '%s\n' "$f" ;;
			*)	head -n 1 "$f" 2>/dev/null |
				    grep -Eq "$shebang" && printf '%s\n' "$f" ;;
			esac ;;
		elf)	[ "$(head -c 4 "$f" 2>/dev/null | od -An -c |
			    tr -d ' ')" = '177ELF' ] && printf '%s\n' "$f" ;;
		*)	printf '%s\n' "$f" ;;
		esac
		true
	done
	set +f
}

# audit_files KIND: the map task's list when there is one, else audit_find.
audit_files() {
	map=$(audit_map || true)
	if [ -n "$map" ] &&
	    jq -e --arg k "$1" '.results.files[$k] | type == "array"' \
	    "$map" >/dev/null 2>&1; then
		jq -r --arg k "$1" '.results.files[$k][]' "$map"
	else
		audit_find "$1"
	fi
}

# audit_emit RESULTS_JSON ISSUES_NDJSON_FILE: writes the task's output, in
# the form loom-merge reads, on stdout.
audit_emit() {
	jq -n --arg id "$TASK_ID" --argjson results "$1" \
	    --slurpfile issues "$2" \
	    '{task_id: $id, iteration: 1, completed: true,
	      results: $results, issues: $issues}'
}

# audit_tsv: turns findings written one a line as SEVERITY, FILE, LINE,
# MESSAGE and FIX separated by tabs into JSON lines (empty fields left out).
audit_tsv() {
	jq -cR 'split("\t") as $f
	    | {severity: $f[0], message: $f[3]}
	    + (if ($f[1] // "") == "" then {} else {file: $f[1]} end)
	    + (if ($f[2] // "") == "" then {} else {line: ($f[2] | tonumber)}
	       end)
	    + (if ($f[4] // "") == "" then {} else {fix: $f[4]} end)'
}

# audit_issue SEVERITY FILE LINE MESSAGE FIX: one finding as a JSON line.
# An empty FILE or LINE is left out.
audit_issue() {
	jq -cn --arg s "$1" --arg f "$2" --arg l "$3" --arg m "$4" \
	    --arg x "$5" \
	    '{severity: $s, message: $m}
	    + (if $f == "" then {} else {file: $f} end)
	    + (if $l == "" then {} else {line: ($l | tonumber)} end)
	    + (if $x == "" then {} else {fix: $x} end)'
}
