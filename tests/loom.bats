#!/usr/bin/env bats
# loom, the front end: `loom run` rounds (a task that proposes a new task
# makes a second round that runs only the new one and ends DONE), --print,
# exit statuses, `loom status` and `loom graph`.

load test_helper
bats_require_minimum_version 1.5.0

# A stand-in agent: counts its runs per task in count.ID; task a proposes
# a new task c that depends on it; a task named fail fails.
agent() {
	cat >agent.sh <<'AGENT'
#!/bin/sh
n=$(cat "count.$LOOM_TASK_ID" 2>/dev/null || echo 0)
echo $((n + 1)) >"count.$LOOM_TASK_ID"
case $LOOM_TASK_ID in
a)	jq -n '{task_id: "a", iteration: 1, completed: true, results: {},
	    prompt_patches: [{action: "add_task", task: {id: "c",
	    description: "check what a found", depends_on: ["a"]}}]}' ;;
fail)	echo "fail: planned failure" >&2
	exit 3 ;;
*)	jq -n --arg id "$LOOM_TASK_ID" \
	    '{task_id: $id, iteration: 1, completed: true, results: {n: 1}}' ;;
esac
AGENT
	printf '%s\n' '@intent: count the rounds' 'a: | first' 'b: | second' \
	    >plan.loom
}

count() {
	cat "count.$1" 2>/dev/null || echo 0
}

@test "loom run: a proposed task makes one more round with only that task" {
	agent
	run loom run --no-progress --agent "sh ./agent.sh" plan.loom
	st=$status
	out=$output
	assert_line "loom: round 1: ITERATE"
	[ "$(count a) $(count b) $(count c)" = "1 1 1" ]
	[ -f loom/compiled_v2.json ]
	[ -f loom/logs/iteration_2.md ]
	run jq -r 'select(.type == "result") | "\(.id) \(.status)"' \
	    loom/logs/round_2.ndjson
	assert_success
	assert_line "a cached"
	assert_line "b cached"
	assert_line "c ok"
	run jq -r 'select(.type == "merge") | .verdict' loom/logs/round_2.ndjson
	assert_output DONE
	[ "$st" -eq 0 ]
	printf '%s\n' "$out" | grep -qx "loom: round 2: DONE"
}

@test "loom run: --max-iterations 1 stops after the first round" {
	agent
	run loom run --no-progress --max-iterations 1 --agent "sh ./agent.sh" \
	    plan.loom
	assert_failure 1
	refute_line --partial "round 2"
	[ "$(count a) $(count b) $(count c)" = "1 1 0" ]
}

@test "loom run: a failed task ends with the report and exit 1" {
	agent
	printf '%s\n' 'b: | second' 'fail: b | fails' 'after: fail | waits' \
	    >fail.loom
	run loom run --no-progress --agent "sh ./agent.sh" fail.loom
	assert_failure 1
	assert_line "loom: round 1: BLOCKED"
	[ "$(count b) $(count fail) $(count after)" = "1 1 0" ]
	run jq -r 'select(.type == "result") | "\(.id) \(.status)"' \
	    loom/logs/round_1.ndjson
	assert_output "b ok
fail failed
after skipped"
}

@test "loom run: a bad plan exits 2 with loom-parse's message" {
	printf 'a: | x\n\tbogus: 1\n' >bad.loom
	run loom run --no-progress --agent true bad.loom
	assert_failure 2
	assert_output --partial 'loom-parse: bad.loom:2: unknown field "bogus"'
	[ ! -e loom/logs/round_2.ndjson ]
}

@test "loom run --format passes the format to loom-report" {
	agent
	loom run --no-progress --format json --agent "sh ./agent.sh" \
	    plan.loom 2>/dev/null >report.json
	run jq -r '.type, .verdict' report.json
	assert_output "report
DONE"
}

@test "loom run --dry-run shows what would run and runs nothing" {
	agent
	run loom run --dry-run --agent "sh ./agent.sh" plan.loom
	assert_success
	assert_line --index 0 --partial "LOOM_TASK_ID='a' "
	assert_line --index 1 --partial "LOOM_TASK_ID='b' "
	[ "$(count a) $(count b)" = "0 0" ]
	[ ! -e loom/logs/round_1.ndjson ]
	run loom run --dry-run --print plan.loom
	assert_output "$TOP/bin/loom-parse -- plan.loom | $TOP/bin/loom-levels \
| $TOP/bin/loom-spawn --dry-run"
}

@test "loom run passes every loom-spawn option that takes a value with its value" {
	local opt val want
	printf 'a: | true\n' >p.loom
	# Each option of loom-spawn's usage written "[--name VALUE]".
	loom-spawn --help | grep -oE -- '\[--[a-z-]+ [^]]+\]' |
	    sed 's/^\[//' | cut -d' ' -f1 | sort -u >opts
	[ "$(wc -l <opts)" -ge 10 ]
	while read -r opt; do
		case $opt in
		--agent) val=true ;;
		--engine) val=parallel ;;
		--grace | --retry-delay | --timeout) val=2 ;;
		--halt) val=soon ;;
		--joblog | --sshloginfile) val=file ;;
		--limit) val=general=1 ;;
		--retries) val=1 ;;
		--sshlogin) val=host1 ;;
		--workdir) val=w ;;
		*) fail "no value known for $opt" ;;
		esac
		want="loom-spawn*$opt $val"
		# loom keeps the work directory for every filter.
		[ "$opt" != --workdir ] || want="LOOM_WORKDIR=w"
		run loom run --print "$opt" "$val" p.loom
		[ "$status" -eq 0 ] || fail "$opt $val: exit $status: $output"
		# shellcheck disable=SC2053
		[[ "$output" == *$want* ]] || fail "$opt $val: $output"
	done <opts
}

@test "loom run: a cycle exits 2, named by loom-parse --check" {
	printf 'a: b | x\nb: a | y\n' >c.loom
	run loom run --no-progress --agent true c.loom
	assert_failure 2
	assert_output "loom-parse: dependency cycle: a -> b -> a"
	[ ! -e loom/logs/round_1.ndjson ]
	run loom run --dry-run --agent true c.loom
	assert_failure 2
}

@test "loom run and loom graph name the plan's own line for graph errors" {
	printf 'a: | x\n\n# c needs a task that is not there\nc: a zz | y\n' \
	    >m.loom
	run --separate-stderr loom run --no-progress --agent true m.loom
	assert_failure 2
	assert_equal "$stderr" \
	    'loom-parse: m.loom:4: task "c" depends on unknown task "zz"'
	[ ! -e loom/logs/round_1.ndjson ]
	run --separate-stderr loom graph m.loom
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" \
	    'loom-parse: m.loom:4: task "c" depends on unknown task "zz"'
}

@test "loom run: a plan loom-spawn rejects exits 2" {
	printf 'a: | no command and no --agent\n' >p.loom
	run loom run --no-progress p.loom
	assert_failure 2
	assert_line --partial "loom-spawn: "
	assert_line "loom: round 1: loom-spawn ran nothing"
}

@test "loom run: --workdir moves everything it writes" {
	agent
	run loom run --no-progress --workdir w --agent "sh ./agent.sh" \
	    plan.loom
	assert_success
	[ -f w/logs/round_2.ndjson ] && [ -f w/journal.ndjson ]
	[ ! -e loom ]
}

@test "loom run: arguments with quotes and blanks reach loom-spawn intact" {
	agent
	run loom run --no-progress --agent "sh './agent.sh'  # it's" plan.loom
	assert_success
	[ "$(count a) $(count b) $(count c)" = "1 1 1" ]
}

@test "loom run: LOOM_PLAN_DIR is the plan's directory for its commands" {
	mkdir -p p/tools
	cat >p/tools/t.sh <<'T'
#!/bin/sh
jq -n --arg d "$(pwd)" '{task_id: "t", completed: true, results: $d}'
T
	printf '%s\n' 't: ; sh "$LOOM_PLAN_DIR/tools/t.sh"' >p/plan.loom
	LOOM_PLAN_DIR=/nowhere run loom run --no-progress p/plan.loom
	assert_success
	run jq -r 'select(.type == "merge") | .tasks.t.results' \
	    loom/logs/round_1.ndjson
	assert_output "$PWD"
}

@test "loom run --print shows the exact pipeline" {
	touch x.loom
	run loom run --print -j 4 --limit reviewer=2 --agent "echo 'a b'" \
	    --barrier --max-iterations 2 x.loom
	assert_success
	b=$TOP/bin
	assert_output "export LOOM_WORKDIR=loom LOOM_PLAN_DIR=$PWD
mkdir -p loom/logs
$b/loom-parse -- x.loom | $b/loom-levels | $b/loom-spawn -j 4 \
--limit reviewer=2 --agent 'echo '\\''a b'\\''' --barrier | \
$b/loom-merge --max-iterations 2 > loom/logs/round_1.ndjson
# while round N < 2 says \"verdict\": \"ITERATE\" in its merge record,
# round N+1: the same on its \"next_plan\", with loom-spawn --resume
$TOP/bin/loom-report --save --jobs 4 loom/logs/round_N.ndjson"
	[ ! -e loom ]
}

@test "loom: usage errors exit 2" {
	while IFS='|' read -r args; do
		# shellcheck disable=SC2086 # split on purpose
		run loom $args
		[ "$status" -eq 2 ] || { echo "loom $args: $status"; return 1; }
		assert_output --partial "usage: loom run"
	done <<'CASES'

frobnicate
run
run a b
run --workdir
status extra
graph
CASES
	run loom run --max-iterations x p
	assert_failure 2
	assert_output 'loom: bad --max-iterations "x"'
}

@test "loom --help and --version" {
	run loom --help
	assert_success
	assert_line --index 0 --partial "usage: loom run [--print]"
	run loom --version
	assert_output "loom 0.1"
}

@test "loom status: what ran, from the work directory alone" {
	agent
	loom run --no-progress --agent "sh ./agent.sh" plan.loom >/dev/null 2>&1
	run loom status
	assert_success
	assert_line --index 0 "loom: 3 tasks: 1 ok, 2 cached"
	assert_line --regexp '^  ok +c( |$)'
	run loom status --json
	assert_success
	run jq -c '[.all_ok, (.tasks | map(.id) | sort)]' <<<"$output"
	assert_output '[true,["a","b","c"]]'
}

@test "loom status: a failed task and what remains, exit 1" {
	agent
	printf '%s\n' 'b: | second' 'fail: b | fails' 'after: fail | waits' \
	    >fail.loom
	loom run --no-progress --agent "sh ./agent.sh" fail.loom \
	    >/dev/null 2>&1 || true
	run loom status
	assert_failure 1
	assert_line --regexp '^  failed +fail .*log: '
	run loom status --json
	run jq -r '.tasks[] | select(.id == "after") | .state' <<<"$output"
	assert_output skipped
}

@test "loom status: a run in progress shows what has started" {
	# slow waits for the file go, which the test makes when it has looked
	printf '%s\n' 'slow: ; until [ -f go ]; do sleep 0.1; done; echo {}' \
	    'after: slow ; echo "{}"' >p.loom
	{ loom-parse p.loom | loom-levels | loom-spawn --no-progress \
	    >out.ndjson; } 3>&- &
	pid=$!
	i=0
	while [ ! -f loom/logs/general_1.log ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	# On a loaded machine the first look may come before loom-spawn has
	# written all it writes at a start: look again, for a while.
	i=0
	while :; do
		run loom status
		[ "${lines[0]}" = "loom: 2 tasks: 1 started, 1 not run" ] ||
		    [ $i -ge 50 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	touch go
	wait "$pid"
	assert_failure 1
	assert_line --index 0 "loom: 2 tasks: 1 started, 1 not run"
	assert_line --regexp '^  started +slow +log: loom/logs/general_1.log$'
	assert_line --regexp '^  not run +after$'
	run loom status
	assert_success
	assert_line --index 0 "loom: 2 tasks: 2 ok"
}

@test "loom status: no work directory" {
	run loom status --workdir nowhere
	assert_failure 2
	assert_output 'loom: no work directory "nowhere"'
}

@test "loom graph draws the plan (text, dot, mermaid)" {
	printf '%s\n' 'map: | m' 'one: map | 1' 'two: map | 2' \
	    'sum: one two | s' >g.loom
	run loom graph g.loom
	assert_success
	for id in map one two sum; do
		assert_output --partial "$id"
	done
	run loom graph --format dot g.loom
	assert_success
	assert_output --partial "digraph"
	run loom graph --format mermaid g.loom
	assert_success
	assert_output --partial "flowchart"
	run loom graph --format png g.loom
	assert_failure 2
}

@test "loom graph: a plan loom-parse rejects exits 2, as loom(1) says" {
	printf 'a: b | x\n' >missing.loom
	printf 'a: | x\na: | y\n' >dup.loom
	printf 'a: b | x\nb: a | y\n' >cycle.loom
	printf '{"tasks": [\n' >bad.json
	for plan in missing.loom dup.loom cycle.loom bad.json nosuch.loom; do
		run --separate-stderr loom graph "$plan"
		assert_failure 2
		assert_output ""
		[ -n "$stderr" ]
	done
}

# descendants PID: the processes below PID, one a line.
descendants() {
	ps -e -o pid= -o ppid= | awk -v p="$1" '
	    { par[$1] = $2 }
	    END { n = 1; want[p] = 1
		while (n) { n = 0
		    for (c in par) if (want[par[c]] && !want[c]) {
			want[c] = 1; n = 1; print c } } }'
}

@test "loom run: TERM to the loom process stops the pipeline and its tasks" {
	n=30.$$
	printf '%s\n' "a: ; sleep $n" "b: ; sleep $n" >s.loom
	loom run --no-progress s.loom >out 2>err &
	pid=$!
	i=0
	until [ "$(pgrep -f -c "sleep $n")" -ge 2 ] || [ $i -ge 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.3
	kids=$(descendants "$pid")
	[ -n "$kids" ]
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 143 ]
	sleep 0.2
	for k in $kids; do
		! ps -p "$k" -o pid=,args= || { echo "left: $k"; return 1; }
	done
	[ "$(pgrep -f -c "sleep $n")" -eq 0 ]
	run jq -r 'select(.type == "result") | "\(.id) \(.status)"' \
	    loom/journal.ndjson
	assert_line "a cancelled"
	assert_line "b cancelled"
}

@test "loom run: a round that ran nothing is not recorded as DONE" {
	printf 'a: | needs an agent\n' >p.loom
	run loom run --no-progress p.loom
	assert_failure 2
	assert_line "loom: round 1: loom-spawn ran nothing"
	run loom status
	refute_output --partial "verdict DONE"
	assert_line "round 1: failed: loom-spawn ran nothing"
}

@test "loom run: a plan with no tasks is an error" {
	: >empty.loom
	printf '@intent: nothing to do\n' >intent.loom
	printf '{"type": "note", "text": "x"}\n' >other.json
	for p in empty.loom intent.loom other.json; do
		run loom run --no-progress --agent true "$p"
		[ "$status" -eq 1 ] || { echo "$p: $status"; return 1; }
		assert_output "loom: $p: no tasks"
		[ ! -e loom/logs/round_1.ndjson ]
		run loom run --dry-run --agent true "$p"
		[ "$status" -eq 1 ] || { echo "$p dry: $status"; return 1; }
	done
}

@test "loom run: a bad loom-spawn or loom-report option stops before anything runs" {
	printf 'a: ; touch ran\n' >t.loom
	while IFS='|' read -r args message; do
		# shellcheck disable=SC2086 # split on purpose
		run loom run --no-progress $args t.loom
		[ "$status" -eq 2 ] || { echo "$args: $status"; return 1; }
		assert_line --partial "$message"
		refute_output --partial "loom-levels"
		refute_output --partial "exited 141"
		[ ! -e ran ] || { echo "$args: the task ran"; return 1; }
	done <<'CASES'
-j 0|loom-spawn: -j: bad number "0"
--timeout abc|loom-spawn: 
--halt sometimes|loom-spawn: 
--bogus-flag|loom-spawn: 
--format bogus|loom-report: unknown format "bogus"
CASES
}

@test "loom status is linear in the tasks: 3,000 at once well within the suite's patience" {
	local i
	for i in $(seq 3000); do
		printf '{"type":"task","id":"t%d","description":"","requires":[],"depends_on":[],"level":0,"role":"general","agent":"general_%d","outputs_to":"loom/outputs/t%d.json","run":"true"}\n' "$i" "$i" "$i"
	done >plan
	loom-spawn -j2 --no-progress plan >/dev/null
	SECONDS=0
	run loom status --json
	assert_success
	# It took 12 s with a lookup by select for each task, under 1 s now.
	[ "$SECONDS" -lt 8 ] || fail "loom status took $SECONDS s"
	run jq -c '.counts' <<<"$output"
	assert_output '{"ok":3000}'
}
