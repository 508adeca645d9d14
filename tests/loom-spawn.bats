#!/usr/bin/env bats
# loom-spawn: options, records, the task contract, scheduling.

load test_helper
load spawn_helper

@test "--help prints the usage to stdout and exits 0" {
	run loom-spawn --help
	assert_success
	assert_line --index 0 --partial "usage: loom-spawn [-j N]"
	run bash -c "loom-spawn --help | grep -c '^ \{18\}\['"
	assert_output 6
}

@test "--version prints the version" {
	run loom-spawn --version
	assert_success
	assert_output --regexp '^loom-spawn [0-9]'
}

@test "usage errors exit 2" {
	for args in "--bogus" "-j 0" "-j x" "--halt sometimes" \
	    "--limit reviewer" "--limit reviewer=0" "--timeout -1" \
	    "--limit Bad=1"; do
		run loom-spawn $args </dev/null
		[ "$status" -eq 2 ] || fail "$args: exit $status"
	done
}

@test "empty input: exit 0, nothing written" {
	run loom-spawn </dev/null
	assert_success
	assert_output ""
}

@test "records pass through first, then a start and a result per task" {
	{
		echo '{"type":"plan","intent":"x","iteration":1}'
		task a 0 '[]' 'echo A'
		echo '{"type":"note","keep":[1,2]}'
		task b 1 '["a"]' 'cat "$LOOM_DEPS"; echo B'
	} >plan
	run loom-spawn -j2 plan
	assert_success
	head -4 plan | jq -cS . >want
	echo "$output" | head -4 | jq -cS . >got
	diff want got
	echo "$output" >out
	run jq -r 'select(.type == "start" or .type == "result") |
	    "\(.type) \(.id) \(.status // .attempt)"' out
	assert_output "start a 1
result a ok
start b 1
result b ok"
	run cat loom/outputs/b.json
	assert_output "A
B"
}

@test "a result has exactly the fields of the issue" {
	task a 0 '[]' 'exit 4' >plan
	run loom-spawn plan
	assert_failure 1
	echo "$output" | jq -c 'select(.type == "result") | keys' >got
	echo '["agent","attempts","duration","end","exit","id","log","output","signal","start","status","type"]' >want
	diff want got
	echo "$output" | jq -e 'select(.type == "result") | .exit == 4 and
	    .signal == null and .attempts == 1 and .status == "failed" and
	    .end >= .start and (.start * 1000 | floor) > 0'
}

@test "a task gets its record on stdin and the documented environment" {
	{
		echo '{"type":"plan","iteration":3}'
		task a 0 '[]' 'echo A'
		task b 0 '[]' 'echo B'
		task c 2 '["b","a"]' 'cat >stdin.json; env | sort | grep -E "^LOOM_(AGENT|ATTEMPT|ITERATION|LEVEL|OUTPUT|PLAN|ROLE|TASK_ID|WORKDIR)="
		    echo "deps: $LOOM_DEPS"'
	} >plan
	run loom-spawn plan
	assert_success
	run cat loom/outputs/c.json
	assert_output "LOOM_AGENT=general_c
LOOM_ATTEMPT=1
LOOM_ITERATION=3
LOOM_LEVEL=2
LOOM_OUTPUT=loom/outputs/c.json
LOOM_PLAN=loom/plan.json
LOOM_ROLE=general
LOOM_TASK_ID=c
LOOM_WORKDIR=loom
deps: loom/outputs/b.json
loom/outputs/a.json"
	sed -n 4p plan | jq -cS . >want
	jq -cS . stdin.json >got
	diff want got
}

@test "the plan is written once as JSON before the first task" {
	{
		echo '{"type":"plan","intent":"audit","version":2}'
		task a 0 '[]' 'jq -c "[.intent, (.tasks | map(.id))]" "$LOOM_PLAN"'
		task b 0 '[]' 'true'
	} >plan
	run loom-spawn plan
	assert_success
	run cat loom/outputs/a.json
	assert_output '["audit",["a","b"]]'
	run jq -c 'keys' loom/plan.json
	assert_output '["intent","tasks","version"]'
}

@test "stderr goes to the agent's log; outputs only land on success" {
	{
		task a 0 '[]' 'echo partial; echo oops >&2; exit 1'
		task b 0 '[]' 'echo fine; echo note >&2'
	} >plan
	run loom-spawn plan
	assert_failure 1
	[ ! -e loom/outputs/a.json ]
	run cat loom/outputs/a.json.failed
	assert_output partial
	run cat loom/logs/general_a.log
	assert_output oops
	run cat loom/logs/general_b.log
	assert_output note
	run cat loom/outputs/b.json
	assert_output fine
	run ls loom/outputs
	assert_output "a.json.failed
b.json"
}

@test "the log holds all a task's stderr, retries and late writes too" {
	{
		task quiet 0 '[]' 'echo out'
		task retry 0 '[]' 'echo "try $LOOM_ATTEMPT" >&2; exit 1' \
		    '{"retries":1}'
		task late 0 '[]' '(sleep 0.3; echo late >&2) & echo now >&2'
		task slow 0 '[]' 'sleep 1'
		task big 0 '[]' 'head -c 1000000 /dev/zero | tr "\\0" x >&2'
	} >plan
	mkdir -p loom/logs
	echo "an old run's" >loom/logs/general_quiet.log
	run loom-spawn -j5 --retry-delay 0 plan
	assert_failure 1
	echo "$output" >out
	# A quiet task's log is there, empty: an older run's is gone.
	for a in quiet slow; do
		[ -e "loom/logs/general_$a.log" ] &&
		    [ ! -s "loom/logs/general_$a.log" ] || fail "$a's log"
	done
	run cat loom/logs/general_retry.log
	assert_output "try 1
try 2"
	run cat loom/logs/general_late.log
	assert_output "now
late"
	[ "$(tr -d x <loom/logs/general_big.log | wc -c)" -eq 0 ]
	[ "$(wc -c <loom/logs/general_big.log)" -eq 1000000 ]
	run status_of out quiet
	assert_output ok
	run jq -r 'select(.type == "result" and .id == "quiet") | .log' out
	assert_output loom/logs/general_quiet.log
}

@test "a failed task's dependents are skipped, independent tasks go on" {
	{
		task a 0 '[]' 'exit 1'
		task b 1 '["a"]' 'touch ran_b'
		task c 2 '["b"]' 'touch ran_c'
		task d 0 '[]' 'touch ran_d'
	} >plan
	run loom-spawn -j1 plan
	assert_failure 1
	echo "$output" >out
	run results out
	assert_output "a failed
b skipped
c skipped
d ok"
	[ ! -e ran_b ] && [ ! -e ran_c ] && [ -e ran_d ]
}

@test "no level barriers: a slow task holds back only its dependents" {
	{
		# slow waits (up to 10 s) for after, which depends on fast.
		task slow 0 '[]' 'for i in $(seq 200); do
		    [ -e after_done ] && break; sleep 0.05; done
		    echo slow >>order'
		task fast 0 '[]' 'echo fast >>order'
		task after 1 '["fast"]' 'echo after >>order; touch after_done'
		task last 1 '["slow"]' 'echo last >>order'
	} >plan
	run loom-spawn -j3 plan
	assert_success
	run cat order
	assert_output "fast
after
slow
last"
}

@test "--barrier runs level by level" {
	{
		task slow 0 '[]' 'sleep 0.5; echo slow >>order'
		task fast 0 '[]' 'echo fast >>order'
		task after 1 '["fast"]' 'echo after >>order'
	} >plan
	run loom-spawn -j2 --barrier plan
	assert_success
	run cat order
	assert_output "fast
slow
after"
}

@test "the longest remaining chain starts first, weighted by estimate" {
	{
		task leaf 0 '[]' 'echo leaf >>order'
		task c1 0 '[]' 'echo c1 >>order'
		task c2 1 '["c1"]' 'echo c2 >>order'
		task c3 2 '["c2"]' 'echo c3 >>order'
	} >plan
	run loom-spawn -j1 plan
	assert_success
	run cat order
	# c3 and leaf tie (one unit each): input order decides.
	assert_output "c1
c2
leaf
c3"
	rm order
	{
		task leaf 0 '[]' 'echo leaf >>order' '{"estimate":10}'
		task c1 0 '[]' 'echo c1 >>order'
		task c2 1 '["c1"]' 'echo c2 >>order'
	} >plan
	run loom-spawn -j1 plan
	assert_success
	run cat order
	assert_output "leaf
c1
c2"
}

# Each task notes its start and end; the most running at once is counted.
concurrency() {
	awk '/^start/ { n++; if (n > max) max = n } /^end/ { n-- }
	    END { print max }' "$1"
}

@test "-j caps how many run at once" {
	for i in 1 2 3 4 5 6; do
		task "t$i" 0 '[]' 'echo start >>ev; sleep 0.2; echo end >>ev'
	done >plan
	run loom-spawn -j2 plan
	assert_success
	run concurrency ev
	[ "$output" -le 2 ]
	[ "$(grep -c start ev)" -eq 6 ]
}

@test "--limit caps one role" {
	for i in 1 2 3 4; do
		task "r$i" 0 '[]' 'echo start >>ev; sleep 0.2; echo end >>ev' \
		    '{"role":"reviewer"}'
	done >plan
	task other 0 '[]' 'sleep 0.3; echo other >>free' >>plan
	run loom-spawn -j4 --limit reviewer=1 plan
	assert_success
	run concurrency ev
	assert_output 1
	[ "$(grep -c start ev)" -eq 4 ] && [ -e free ]
}

@test "--retries runs a failed task again, with a pause" {
	task a 0 '[]' 'echo x >>tries; [ $(wc -l <tries) -ge 3 ]' >plan
	run loom-spawn --retries 2 --retry-delay 0.05 plan
	assert_success
	echo "$output" >out
	run jq -c 'select(.type == "start") | .attempt' out
	assert_output "1
2
3"
	run jq -c 'select(.type == "result") | [.status, .attempts]' out
	assert_output '["ok",3]'
	task a 0 '[]' 'echo y >>tries2; exit 1' '{"retries":1}' >plan
	run loom-spawn --retry-delay 0.05 plan
	assert_failure 1
	[ "$(wc -l <tries2)" -eq 2 ]
}

@test "--halt soon starts nothing new after a failure" {
	{
		task a 0 '[]' 'exit 1'
		task b 0 '[]' 'touch ran_b'
	} >plan
	run loom-spawn -j1 --halt soon plan
	assert_failure 1
	echo "$output" >out
	run results out
	assert_output "a failed
b cancelled"
	[ ! -e ran_b ]
}

@test "--halt now also stops what runs" {
	{
		task a 0 '[]' 'sleep 0.3; exit 1'
		task b 0 '[]' 'echo $$ >pid_b; exec sleep 30'
	} >plan
	run loom-spawn -j2 --halt now plan
	assert_failure 1
	echo "$output" >out
	run status_of out b
	assert_output cancelled
	! alive pid_b
}

@test "--dry-run prints what would run, in order, and runs nothing" {
	{
		task a 0 '[]' 'touch ran'
		task b 1 '["a"]' "echo it\\'s"
	} >plan
	run loom-spawn --dry-run plan
	assert_success
	assert_line --index 0 --partial "LOOM_TASK_ID='a' "
	assert_line --index 0 --partial "/bin/sh -c 'touch ran' >loom/outputs/a.json 2>loom/logs/general_a.log"
	assert_line --index 1 --partial "LOOM_DEPS='loom/outputs/a.json'"
	assert_line --index 1 --partial "/bin/sh -c 'echo it\\'\\''s' >"
	[ ! -e ran ] && [ ! -e loom ]
}

@test "--joblog writes GNU parallel's format" {
	{
		task a 0 '[]' 'echo hello'
		task b 0 '[]' 'exit 3'
	} >plan
	run loom-spawn -j1 --joblog jl plan
	assert_failure 1
	run head -1 jl
	assert_output "$(printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand')"
	run awk -F'\t' 'NR > 1 { print $1, $2, $5, $6, $7, $8, $9 }' jl
	assert_output "1 : 0 6 0 0 echo hello
2 : 0 0 3 0 exit 3"
}

@test "--resume --joblog appends to the joblog, as GNU parallel does" {
	{
		task a 0 '[]' 'echo a'
		task b 0 '[]' 'exit 3'
	} >plan
	run loom-spawn --joblog jl plan
	assert_failure 1
	run loom-spawn --resume --joblog jl plan
	assert_failure 1
	run awk -F'\t' '{ print $1, $7, $9 }' jl
	assert_output "Seq Exitval Command
1 0 echo a
2 3 exit 3
1 3 exit 3"
	# Without --resume a joblog starts again.
	run loom-spawn --joblog jl plan
	[ "$(wc -l <jl)" -eq 3 ]
}

@test "--workdir and LOOM_WORKDIR move the work directory" {
	task a 0 '[]' 'echo $LOOM_WORKDIR; echo e >&2' \
	    '{"outputs_to":"w/out/a.json"}' >plan
	run loom-spawn --workdir w plan
	assert_success
	[ -s w/journal.ndjson ] && [ -s w/plan.json ] && [ -e w/logs/general_a.log ]
	run cat w/out/a.json
	assert_output w
	rm -rf w
	LOOM_WORKDIR=w run loom-spawn plan
	assert_success
	[ -s w/out/a.json ] && [ ! -e loom ]
	run loom-spawn plan
	assert_failure 1
	assert_output --partial "leads outside the work directory"
}

@test "--agent runs tasks without their own run field" {
	{
		task a 0 '[]' '' '{"run":null}'
		task b 0 '[]' 'echo own'
	} >plan
	run loom-spawn --agent 'jq -r .id; echo "$LOOM_AGENT"' plan
	assert_success
	run cat loom/outputs/a.json
	assert_output "a
general_a"
	run cat loom/outputs/b.json
	assert_output own
}

@test "progress only on a terminal, and without colour under NO_COLOR" {
	{
		task a 0 '[]' 'exit 1'
		task b 0 '[]' 'true'
	} >plan
	script -qec "loom-spawn plan >/dev/null" /dev/null >tty.txt || true
	grep -q '\[2/2\] 0 running, .*1 failed' tty.txt
	grep -q $'\033\\[31m' tty.txt
	NO_COLOR=1 script -qec "loom-spawn plan >/dev/null" /dev/null \
	    >tty2.txt || true
	grep -q '1 failed' tty2.txt
	! grep -q $'\033\\[31m' tty2.txt
	task c 1 '["a"]' 'true' >>plan
	script -qec "loom-spawn plan >/dev/null" /dev/null >tty4.txt || true
	grep -q '\[3/3\] 0 running, .*1 failed.*, 1 skipped, ' tty4.txt
	script -qec "loom-spawn --no-progress plan >/dev/null" /dev/null \
	    >tty3.txt || true
	! grep -q 'running' tty3.txt
	run loom-spawn plan
	refute_output --partial running
}

@test "simple commands run directly behave as under /bin/sh" {
	# command | exit status | first line of output
	while IFS='|' read -r cmd code first; do
		rm -rf loom
		task a 0 '[]' "$cmd" >plan
		run loom-spawn plan
		echo "$output" >out
		[ "$(jq 'select(.type == "result") | .exit' out)" = "$code" ] ||
		    fail "$cmd: exit $(jq 'select(.type == "result")' out)"
		got=$(head -1 loom/outputs/a.json* 2>/dev/null)
		[ "$got" = "$first" ] || fail "$cmd: got '$got'"
	done <<-'EOF2'
	printf %s/%s x y|0|x/y
	echo -e x|0|-e x
	nosuchprogram x|127|
	ls -d  plan   loom|0|loom
	A=1 sh -c exit\ 4|4|
	false|1|
	EOF2
	rm -rf loom
	task a 0 '[]' 'env' >plan
	run loom-spawn plan
	assert_success
	run grep -c '^LOOM_TASK_ID=a$' loom/outputs/a.json
	assert_output 1
}

@test "a program found on PATH once is run from there, as sh would" {
	# A script without #! runs under sh; one found earlier on PATH
	# wins; a program removed mid-run is searched for again.
	mkdir b1 b2
	printf 'echo plain script\n' >b1/plain
	printf '#!/bin/sh\necho first\n' >b1/which
	printf '#!/bin/sh\necho second\n' >b2/which
	printf '#!/bin/sh\necho gone\n' >b1/gone
	printf '#!/bin/sh\necho found again\n' >b2/gone
	chmod +x b1/* b2/*
	{
		task a 0 '[]' 'plain'
		task b 0 '[]' 'which'
		task c 0 '[]' 'gone'
		task d 1 '["c"]' 'rm b1/gone'
		task e 2 '["d"]' 'gone'
	} >plan
	PATH="$PWD/b1:$PWD/b2:$PATH" run loom-spawn -j1 plan
	assert_success
	run cat loom/outputs/a.json loom/outputs/b.json loom/outputs/c.json \
	    loom/outputs/e.json
	assert_output "plain script
first
gone
found again"
}

@test "empty input touches nothing: no output, no work directory, an earlier plan kept" {
	run loom-spawn </dev/null
	assert_success
	assert_output ""
	[ ! -e loom ]
	task a 0 '[]' 'echo A' >plan
	run loom-spawn plan
	assert_success
	cp loom/plan.json plan.before
	cp loom/journal.ndjson journal.before
	# loom-levels refused a plan: the pipeline hands loom-spawn nothing.
	run loom-spawn </dev/null
	assert_success
	assert_output ""
	cmp loom/plan.json plan.before
	cmp loom/journal.ndjson journal.before
}
