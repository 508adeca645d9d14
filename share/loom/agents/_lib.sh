# _lib.sh: what every loom agent adapter shares, sourced by each one.
#
# An adapter reads its task record (one JSON line) on stdin and the task
# contract from the environment (LOOM_TASK_ID, LOOM_ROLE, LOOM_ITERATION,
# LOOM_WORKDIR, LOOM_PLAN, LOOM_DEPS), builds the agent's prompt, runs the
# agent, and writes loom's output form on stdout.  Nothing from a record
# is ever part of a command line: records reach jq on stdin or in files.
# Its name is not a bare word, so `loom-spawn --agent` never picks it.
# The adapter sets me (its name) and here (its directory) first.

# shellcheck shell=sh disable=SC2154

# die MESSAGE [STATUS]: says what went wrong on stderr and exits.
die() {
	if [ -n "${id:-}" ]; then
		printf '%s: task "%s": %s\n' "loom-agents/$me" "$id" "$1" >&2
	else
		printf '%s: %s\n' "loom-agents/$me" "$1" >&2
	fi
	exit "${2:-1}"
}

# load_task: reads the task record from stdin and sets id, role, iter.
load_task() {
	id=${LOOM_TASK_ID:-}
	task=$(cat) || die "cannot read the task record on stdin"
	printf '%s\n' "$task" | jq -ne 'input | type == "object"' \
	    >/dev/null 2>&1 ||
	    die "stdin is not a task record (one JSON object)"
	[ -n "$id" ] || id=$(printf '%s\n' "$task" |
	    jq -r '.id // empty | tostring')

	role=${LOOM_ROLE:-}
	[ -n "$role" ] || role=$(printf '%s\n' "$task" |
	    jq -r '.role // empty | strings')
	case $role in
	'') role=general ;;
	[!a-z]* | *[!a-z0-9_]*)
		printf '%s: task "%s": bad role "%s", using general\n' \
		    "loom-agents/$me" "$id" "$role" >&2
		role=general ;;
	esac

	iter=${LOOM_ITERATION:-1}
	case $iter in
	'' | *[!0-9]*) iter=1 ;;
	esac
	while :; do
		case $iter in
		0?*) iter=${iter#0} ;;
		*) break ;;
		esac
	done
}

# role_file: the instructions for $role: WORKDIR/roles first, then the
# roles installed beside this adapter; general.md when the role has none.
role_file() {
	for r in "$role" general; do
		for d in "${LOOM_WORKDIR:-loom}/roles" "$here/../roles"; do
			if [ -f "$d/$r.md" ]; then
				printf '%s\n' "$d/$r.md"
				return 0
			fi
		done
	done
	printf '%s\n' /dev/null
}

# prompt: prints the agent's whole prompt.
prompt() {
	plan=${LOOM_PLAN:-/dev/null}
	if [ ! -r "$plan" ] || ! jq -e 'type == "object"' "$plan" \
	    >/dev/null 2>&1; then
		[ "$plan" = /dev/null ] ||
		    printf '%s: task "%s": cannot read the plan %s\n' \
		    "loom-agents/$me" "$id" "$plan" >&2
		plan=/dev/null
	fi

	printf '%s\n' "$task" | jq -r --arg id "$id" --arg role "$role" \
	    --argjson iter "$iter" --rawfile rules "$(role_file)" \
	    --slurpfile plan "$plan" '
	def list: if type == "array" then map(tostring) | join(", ")
	    elif . == null then "" else tostring end;
	($plan[0] // {}) as $p
	| "You are one agent in a loom run: a graph of tasks that agents work",
	  "on in parallel.  Do your own task, and only that: other agents do",
	  "the others.",
	  "",
	  "# Your role: \($role)",
	  "",
	  ($rules | sub("\\s+$"; "")),
	  "",
	  "# The plan",
	  "",
	  "Intent: \($p.intent // "(none given)")",
	  (if ($p.original // null) != null then
	      "Original request: \($p.original)" else empty end),
	  (if ($p.context // {}) != {} then
	      "Context (JSON):", ($p.context | tojson) else empty end),
	  (if ($p.tasks // []) != [] then
	      "", "All the tasks of this plan:",
	      ($p.tasks[] | select(type == "object")
	      | "- \(.id)\(if (.id | tostring) == $id then " (yours)"
	          else "" end): \(.description // "")")
	  else empty end),
	  "",
	  "# Your task",
	  "",
	  "id: \($id)",
	  "description: \(.description // "")",
	  (if (.requires // []) != [] then
	      "requires: \(.requires | list)" else empty end),
	  (if (.depends_on // []) != [] then
	      "depends on: \(.depends_on | list)" else empty end),
	  "iteration: \($iter)"
	' || die "cannot build the prompt"

	deps
	answer_form
}

# deps: prints the outputs of the task's dependencies, named by the
# paths in LOOM_DEPS (one a line, in depends_on order).
deps() {
	[ -n "${LOOM_DEPS:-}" ] || return 0
	max=${LOOM_DEP_MAX:-100000}
	case $max in
	'' | *[!0-9]*) max=100000 ;;
	esac

	printf '\n# What the tasks yours depends on found\n'
	i=0
	printf '%s\n' "$LOOM_DEPS" | while IFS= read -r path; do
		[ -n "$path" ] || continue
		dep=$(printf '%s\n' "$task" | jq -r --argjson i "$i" \
		    '.depends_on[$i]? // empty | tostring')
		i=$((i + 1))
		printf '\n## %s (%s)\n\n' "${dep:-dependency $i}" "$path"
		if [ ! -r "$path" ]; then
			printf '(missing: no output was found there)\n'
			continue
		fi
		size=$(wc -c <"$path")
		if [ "$size" -le "$max" ]; then
			cat "$path"
			[ -z "$(tail -c 1 "$path")" ] || printf '\n'
		else
			head -c "$max" "$path"
			printf '\n[cut: %s bytes of %s shown]\n' "$max" "$size"
		fi
	done
}

answer_form() {
	cat <<EOF

# Your answer

Reply with one JSON object and nothing else (no prose around it, no code
fence), in this form:

{
  "task_id": "$(printf '%s' "$id" | jq -Rs . | sed 's/^"//; s/"$//')",
  "iteration": $iter,
  "completed": true,
  "results": {"what you found or made": "any JSON value"},
  "issues": [
    {"severity": "critical", "message": "what is wrong",
     "file": "src/path.c", "line": 42, "fix": "how to fix it"}
  ],
  "prompt_patches": [
    {"action": "add_context", "key": "name", "value": "for later tasks"}
  ],
  "files_changed": ["paths you changed"]
}

severity is one of critical, high, medium, low, info.  file, line and fix
may be left out when not known.  Set completed to false when you could not
finish, and say why in results.  issues, prompt_patches and files_changed
may be empty lists.  A prompt patch changes the plan for the next round:
add_context (key, value), update_task (task_id, field, new_value; field is
description, requires or depends_on), add_task (task), remove_task
(task_id), update_intent (value).  Use them only when the plan should
change.
EOF
}

# finish: reads the agent's normalised answer on stdin, a JSON object
# {text, usage} or {error}, and writes loom's output form on stdout.
# When the text is itself (or fences) a JSON object in loom's form it is
# used as it is; else the text becomes the results.  task_id and
# iteration come from loom, usage from what the agent's CLI measured.
finish() {
	jq -c --arg id "$id" --argjson iter "$iter" '
	def object_in:
	    (try fromjson catch null) as $v
	    | if ($v | type) == "object" then $v
	      else [match("(?:^|\n)```[A-Za-z]*[ \t]*\n([\\s\\S]*?)\n```";
	          "g") | .captures[0].string][0]
	      | if . == null then null
	        else (try fromjson catch null)
	        | if type == "object" then . else null end end end;
	.text as $text
	| ($text | object_in) as $o
	| (if $o != null and ($o | has("results") or has("completed") or
	      has("issues") or has("task_id"))
	   then $o
	   else {completed: true, results: $text, issues: [],
	      prompt_patches: [], files_changed: []} end) as $out
	| {task_id: $id, iteration: $iter}
	  + ($out | del(.task_id, .iteration, .round, .usage))
	  + (if .usage == null then {}
	     else {usage: (.usage | with_entries(select(.value != null)))}
	     end)
	'
}

# answer STATUS NORMALISED: fails on a non-zero STATUS or an error, else
# writes the output form.  NORMALISED is the agent's answer as finish
# reads it.
answer() {
	err=$(printf '%s\n' "$2" | jq -r '.error // empty' 2>/dev/null)
	if [ "$1" -ne 0 ]; then
		case $err in
		"$me reported an error: "*) err=${err#"$me reported an error: "} ;;
		*) err= ;;
		esac
		die "$me exited with status $1${err:+: $err}" "$1"
	fi
	[ -z "$err" ] || die "$err"
	printf '%s\n' "$2" | finish || die "cannot write the output"
}
