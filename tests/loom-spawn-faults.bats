#!/usr/bin/env bats
# loom-spawn: bad input, timeouts, signals, a closed stdout, crashes and
# --resume.

load test_helper
load spawn_helper

@test "bad input is reported before anything runs, with no output" {
	# One case a line: the task's extra fields | the message expected.
	while IFS='|' read -r extra msg; do
		{
			task ok 0 '[]' 'touch ran'
			task bad 0 '[]' 'touch ran' "$extra"
		} >plan
		run loom-spawn plan
		[ "$status" -eq 1 ] || fail "$extra: exit $status"
		msg=${msg//@DIR@/$(pwd -P)}
		[ "${lines[0]}" = "loom-spawn: plan:2: $msg" ] ||
		    fail "$extra: got ${lines[0]}"
		[ "${#lines[@]}" -eq 1 ] || fail "$extra: $output"
		[ ! -e ran ] && [ ! -e loom ] || fail "$extra: ran"
	done <<-'EOF'
	{"agent":null}|task without an agent (run loom-levels first)
	{"level":null}|task without a level (run loom-levels first)
	{"outputs_to":null}|task without outputs_to (run loom-levels first)
	{"run":null}|task without run, and no --agent given
	{"outputs_to":"/tmp/x"}|outputs_to: "/tmp/x" leads outside the work directory "loom" (to "/tmp/x")
	{"outputs_to":"loom/../x"}|outputs_to: path "loom/../x" leaves its directory ("..")
	{"outputs_to":"elsewhere/x"}|outputs_to: "elsewhere/x" leads outside the work directory "loom" (to "@DIR@/elsewhere/x")
	{"outputs_to":"loom/outputs/ok.json"}|outputs_to "loom/outputs/ok.json" is another task's too
	{"agent":"Bad"}|bad agent "Bad"
	{"timeout":"soon"}|bad timeout
	{"depends_on":["nosuch"]}|task "bad" depends on unknown task "nosuch"
	EOF
}

@test "an absolute outputs_to inside the work directory is fine" {
	task a 0 '[]' 'echo data' "{\"outputs_to\":\"$PWD/w/out/a\"}" >plan
	run loom-spawn --workdir "$PWD/w" plan
	assert_success
	run cat w/out/a
	assert_output data
	run loom-spawn --workdir "$PWD/v" plan
	assert_failure 1
	assert_output --partial "leads outside the work directory"
}

@test "a record without a type, or a dependency cycle, runs nothing" {
	echo '{"id":"x"}' >plan
	run loom-spawn plan
	assert_failure 1
	assert_output 'loom-spawn: plan:1: record without a "type"'
	{
		task a 0 '["b"]' 'touch ran'
		task b 0 '["a"]' 'touch ran'
	} >plan
	run loom-spawn plan
	assert_failure 1
	assert_output --partial 'dependency cycle: a -> b -> a'
	[ ! -e ran ] && [ ! -e loom ]
}

@test "a description full of shell syntax never runs" {
	evil='$(touch pwned1); `touch pwned2`; touch pwned3 && echo "$(touch pwned4)" '"'; touch pwned5 #"
	jq -nc --arg d "$evil" '{type: "task", id: "x", description: $d,
	    requires: [], depends_on: [], level: 0, role: "general",
	    agent: "general_1", outputs_to: "loom/outputs/x.json"}' >plan
	run loom-spawn --agent 'jq -r .description; printf %s "$LOOM_TASK_ID"' plan
	assert_success
	run loom-spawn --dry-run --agent 'jq -r .description' plan
	assert_success
	run ls
	assert_output "loom
plan"
	run head -1 loom/outputs/x.json
	assert_output "$evil"
}

@test "outputs_to through a symbolic link that leads outside is refused" {
	mkdir -p loom outside
	ln -s ../outside loom/outputs
	task a 0 '[]' 'touch ran; echo data' >plan
	run loom-spawn plan
	assert_failure 1
	assert_output --partial 'outputs_to: "loom/outputs/a.json" leads outside the work directory'
	[ ! -e ran ] && [ -z "$(ls outside)" ]
	# A link that stays inside is fine.
	rm loom/outputs
	mkdir loom/real
	ln -s real loom/outputs
	run loom-spawn plan
	assert_success
	run cat loom/real/a.json
	assert_output data
	# So is a link that leads nowhere: refused.
	rm loom/outputs
	ln -s nowhere loom/outputs
	run loom-spawn plan
	assert_failure 1
	assert_output --partial "symbolic link leads nowhere"
}

@test "a task that times out loses its whole process group" {
	task a 0 '[]' 'sleep 30 & echo $! >bg; echo $$ >sh; wait' \
	    '{"timeout":0.3}' >plan
	run loom-spawn plan
	assert_failure 1
	echo "$output" >out
	run jq -c 'select(.type == "result") | [.status, .exit, .signal]' out
	assert_output '["timeout",null,15]'
	! alive bg sh
}

@test "a child that ignores TERM is killed after the grace period" {
	task a 0 '[]' '(trap "" TERM; sleep 30) & echo $! >bg; wait' \
	    '{"timeout":0.2}' >plan
	run loom-spawn --grace 0.2 plan
	assert_failure 1
	echo "$output" >out
	run status_of out a
	assert_output timeout
	! alive bg
}

@test "--timeout applies to every task without its own" {
	{
		task a 0 '[]' 'sleep 30'
		task b 0 '[]' 'sleep 0.1' '{"timeout":20}'
	} >plan
	run loom-spawn --timeout 0.3 plan
	assert_failure 1
	echo "$output" >out
	run results out
	assert_output "b ok
a timeout"
}

@test "--timeout, --grace and --retry-delay take s, m and h as plans do" {
	task a 0 '[]' 'exec sleep 5' >plan
	run loom-spawn --timeout 0.005m --grace 0.001h --retry-delay 1s plan
	assert_failure 1
	run status_of <(printf '%s\n' "$output") a
	assert_output timeout
	for bad in 1x 1mm m 1.5d -1m; do
		run loom-spawn --timeout "$bad" plan
		[ "$status" -eq 2 ] || fail "--timeout $bad: exit $status"
		assert_line --index 0 \
		    "loom-spawn: --timeout: bad number of seconds \"$bad\""
	done
}

# spawn_bg ARGS: starts loom-spawn in the background on plan, its output
# in out; the pid in $spawn.
spawn_bg() {
	loom-spawn "$@" plan >out 2>err &
	spawn=$!
}

@test "SIGTERM, SIGINT and SIGHUP go to every task; exit 128+signal" {
	for sig in TERM INT HUP; do
		rm -rf loom out pid_*
		for i in 1 2; do
			task "t$i" 0 '[]' 'echo $$ >pid_$LOOM_TASK_ID; exec sleep 30'
		done >plan
		task t3 1 '["t1"]' 'touch ran' >>plan
		spawn_bg -j2
		wait_for test -s pid_t1 -a -s pid_t2
		kill -s "$sig" "$spawn"
		rc=0
		wait "$spawn" || rc=$?
		case $sig in
		TERM) [ "$rc" -eq 143 ] ;;
		INT) [ "$rc" -eq 130 ] ;;
		HUP) [ "$rc" -eq 129 ] ;;
		esac || fail "$sig: exit $rc"
		results out | sort >got
		run cat got
		assert_output "t1 cancelled
t2 cancelled
t3 cancelled"
		! alive pid_t1 pid_t2
		[ ! -e ran ]
	done
}

@test "a closed stdout (| head -1) stops the run and leaves no children" {
	for i in $(seq 20); do
		task "t$i" 0 '[]' 'echo $$ >pid_$LOOM_TASK_ID; exec sleep 30'
	done >plan
	run bash -c 'loom-spawn -j4 plan | head -1; echo "${PIPESTATUS[0]}"'
	assert_line --index 0 --partial '"id":"t1"'
	assert_line --index 1 141
	for f in pid_*; do
		! alive "$f" || fail "$f still runs"
	done
	[ "$(jq -r 'select(.type == "result") | .status' \
	    loom/journal.ndjson | sort -u)" = cancelled ]
}

@test "a closed stdout ends the tasks with TERM, as the man page says" {
	for i in 1 2; do
		# The shell records the signal that reached it; sleep dies of
		# it either way.
		task "t$i" 0 '[]' 'trap "echo TERM >sig_$LOOM_TASK_ID; exit 1" TERM
trap "echo PIPE >sig_$LOOM_TASK_ID; exit 1" PIPE
echo $$ >pid_$LOOM_TASK_ID; sleep 30 & wait'
	done >plan
	# The reader leaves once both tasks run, having read nothing.
	run bash -c 'loom-spawn -j2 plan | until [ -s pid_t1 ] &&
	    [ -s pid_t2 ]; do sleep 0.05; done; echo "${PIPESTATUS[0]}"'
	assert_output 141
	run cat sig_t1 sig_t2
	assert_output "TERM
TERM"
}

@test "stopped by TERM while its reader is gone: no stale error" {
	for i in 1 2; do
		task "t$i" 0 '[]' 'echo $$ >pid_$LOOM_TASK_ID; exec sleep 30'
	done >plan
	for round in 1 2 3 4 5; do
		rm -rf loom pid_*
		mkfifo fifo
		loom-spawn -j2 --no-progress plan >fifo 2>err &
		spawn=$!
		# A reader that reads nothing, gone just after the TERM.
		sleep 60 <fifo &
		reader=$!
		wait_for test -s pid_t1 -a -s pid_t2
		kill -TERM "$spawn"
		kill "$reader"
		rc=0
		wait "$spawn" || rc=$?
		rm fifo
		# Which of the two ends it sees first is a race.
		[ "$rc" -eq 143 ] || [ "$rc" -eq 141 ] ||
		    fail "round $round: exit $rc"
		run cat err
		assert_output ''
	done
}

@test "kill -9 in the middle, then --resume: a finished task never runs twice" {
	for i in $(seq 8); do
		task "t$i" 0 '[]' 'echo $LOOM_TASK_ID >>runs; sleep 0.3; echo out'
	done >plan
	task t9 1 '["t1","t2"]' 'echo t9 >>runs; cat $LOOM_DEPS' >>plan
	spawn_bg -j2
	wait_for eval '[ "$(oks)" -ge 3 ]'
	kill -9 "$spawn"
	wait "$spawn" || true
	jq -r 'select(.status == "ok") | .id' loom/journal.ndjson | sort >done1
	[ "$(wc -l <done1)" -ge 3 ]
	[ "$(wc -l <done1)" -lt 9 ]
	# It may wait, saying so, for the sleep the kill left behind.
	run loom-spawn -j2 --resume plan
	assert_success
	grep -v '^loom-spawn: ' <<<"$output" >out2
	# Every task ends up done; those done before the crash are cached
	# and ran once; none ran more than twice (once cut off by the kill).
	[ "$(results out2 | awk '$2 == "ok" || $2 == "cached"' | wc -l)" -eq 9 ]
	jq -r 'select(.status == "cached") | .id' out2 | sort >cached
	diff done1 cached
	sort runs | uniq -c | awk '{ print $2, $1 }' >counts
	while read -r id; do
		grep -qx "$id 1" counts || fail "$id ran more than once"
	done <done1
	! awk '$2 > 2' counts | grep -q .
	[ "$(wc -l <counts)" -eq 9 ]
}

@test "after kill -9, --resume waits for the task left running" {
	# The subshell outlives the task's shell, which dies with
	# loom-spawn: it is what a killed loom-spawn leaves behind.
	task a 0 '[]' 'echo start >>runs; (sleep 1.5; echo end >>runs); true' \
	    >plan
	spawn_bg --no-progress
	wait_for test -s runs
	kill -9 "$spawn"
	wait "$spawn" || true
	run loom-spawn --no-progress --resume plan
	assert_success
	assert_line --index 0 --regexp '^loom-spawn: loom: the task of agent general_a, left running by a loom-spawn that was killed, still runs \(process group [0-9]+\): waiting for it to end$'
	run cat runs
	assert_output "start
end
start
end"
}

@test "after kill -9, a task quiet on its next run leaves no OUTPUT.tmp behind" {
	# First run: it writes, then is killed with loom-spawn; the next
	# run it writes nothing, so makes no OUTPUT.tmp of its own.
	task a 0 '[]' 'if [ -e seen ]; then exit 0; fi; touch seen
echo partial; exec sleep 0.5' >plan
	spawn_bg --no-progress
	wait_for test -s loom/outputs/a.json.tmp
	kill -9 "$spawn"
	wait "$spawn" || true
	run loom-spawn --no-progress --resume plan
	assert_success
	run ls -A loom/outputs
	assert_output a.json
	[ ! -s loom/outputs/a.json ]
}

@test "a second loom-spawn on the same work directory refuses to run" {
	task a 0 '[]' 'until [ -f go ]; do sleep 0.05; done' >plan
	spawn_bg --no-progress
	wait_for test -s loom/lock
	task b 0 '[]' 'touch ran' >plan2
	run loom-spawn plan2
	assert_failure 2
	assert_output "loom-spawn: loom: another loom-spawn (pid $spawn) runs in this work directory"
	[ ! -e ran ]
	touch go
	wait "$spawn"
	run loom-spawn plan2
	assert_success
	[ -e ran ]
}

@test "--resume: a record rewritten with its keys in another order is the same task" {
	{
		task a 0 '[]' 'echo a >>runs' '{"env": {"x": 1, "y": [1, 2]}}'
		task b 0 '[]' 'echo b >>runs' '{"env": {"x": 1, "y": [1, 2]}}'
	} >plan
	run loom-spawn plan
	assert_success
	# jq -S sorts every object's keys; a's record means the same.
	jq -cS . plan >plan2
	run loom-spawn --resume plan2
	assert_success
	echo "$output" >out
	run results out
	assert_output "a cached
b cached"
	# An array's order counts, and so does a value deep inside.
	jq -c 'if .id == "a" then .env.y = [2, 1] else .env.x = 2 end' \
	    plan >plan3
	run loom-spawn --resume plan3
	assert_success
	echo "$output" >out
	results out | sort >got
	run cat got
	assert_output "a ok
b ok"
	run sort runs
	assert_output "a
a
b
b"
}

@test "--resume runs again what changed, and what depends on it" {
	{
		task a 0 '[]' 'echo a >>runs; echo A'
		task b 1 '["a"]' 'echo b >>runs; cat $LOOM_DEPS'
		task c 0 '[]' 'echo c >>runs; echo C'
		task d 0 '[]' 'echo d >>runs; exit 1'
	} >plan
	run loom-spawn plan
	assert_failure 1
	# Nothing changed: only the failed task runs again.
	run loom-spawn --resume plan
	assert_failure 1
	echo "$output" >out
	results out | sort >got
	run cat got
	assert_output "a cached
b cached
c cached
d failed"
	# a's record changes and its output with it: a and b run again.
	sed -i 's/echo A/echo AA/' plan
	run loom-spawn --resume plan
	echo "$output" >out
	results out | sort >got
	run cat got
	assert_output "a ok
b ok
c cached
d failed"
	run cat loom/outputs/b.json
	assert_output AA
	# An output removed: that task runs again; its dependent's input
	# comes out the same, so it stays cached.
	rm loom/outputs/a.json
	run loom-spawn --resume plan
	echo "$output" >out
	results out | sort >got
	run cat got
	assert_output "a ok
b cached
c cached
d failed"
	run sort runs
	assert_output "a
a
a
b
b
c
d
d
d
d"
	# Without --resume everything runs.
	run loom-spawn plan
	echo "$output" >out
	[ "$(results out | grep -c cached)" -eq 0 ]
}

@test "a task waiting to be retried is cancelled by a signal at once" {
	task a 0 '[]' 'echo $$ >pid; echo x >>tries; exit 1' >plan
	spawn_bg --retries 3 --retry-delay 30
	wait_for test -s tries
	wait_for eval '! alive pid'
	sleep 0.3	# for loom-spawn to reap it
	kill -TERM "$spawn"
	rc=0
	wait "$spawn" || rc=$?
	[ "$rc" -eq 143 ]
	run jq -c 'select(.type == "result") | [.status, .exit, .attempts]' out
	assert_output '["cancelled",null,1]'
	[ "$(wc -l <tries)" -eq 1 ]
}

@test "outputs_to may not name loom's own files or another's temporary" {
	for out in loom/plan.json loom/journal.ndjson loom/logs/x \
	    loom/plan.json.tmp loom/outputs/a.json.tmp \
	    loom/outputs/a.json.failed; do
		rm -rf loom
		{
			task a 0 '[]' 'echo a'
			task b 0 '[]' 'touch ran' "{\"outputs_to\":\"$out\"}"
		} >plan
		run loom-spawn plan
		[ "$status" -eq 1 ] || fail "$out: exit $status"
		[[ "$output" == *"outputs_to \"$out\""* ]] || fail "$out: $output"
		[ ! -e ran ] && [ ! -e loom ] || fail "$out: ran"
	done
}

# refused_beside OUT: a task writing to loom/outputs/a.json and one to
# OUT, the same file by another spelling, are refused: exit 1, OUT named,
# nothing run, no plan written.
refused_beside() {
	{
		task a 0 '[]' 'echo a >>ran; echo a'
		task b 0 '[]' 'echo b >>ran; echo b' "{\"outputs_to\":\"$1\"}"
	} >plan
	run loom-spawn plan
	[ "$status" -eq 1 ] || fail "$1: exit $status"
	[[ "$output" == *"outputs_to \"$1\""* ]] || fail "$1: $output"
	[ ! -e ran ] && [ ! -e loom/plan.json ] || fail "$1: ran"
}

@test "two outputs_to that are one file by another spelling are refused" {
	local out
	mkdir -p loom/outputs
	ln -s . loom/outputs/self
	for out in loom/outputs/self/a.json loom//outputs/a.json \
	    loom/./outputs/a.json "$PWD/loom/outputs/a.json" \
	    loom/outputs/self/a.json.tmp; do
		refused_beside "$out"
	done
}

@test "one file by another spelling is refused before its directory exists" {
	local out
	for out in loom//outputs/a.json loom/./outputs/a.json \
	    "$PWD/loom/outputs/a.json" loom/outputs/./a.json.failed; do
		rm -rf loom
		refused_beside "$out"
		[ ! -e loom ] || fail "$out: made loom/"
	done
}

@test "huge numbers are clamped, not undefined" {
	task b 0 '[]' 'true' \
	    '{"timeout":1e300,"estimate":1e300,"retries":1e300}' >plan2
	run loom-spawn plan2
	assert_success
	task c 0 '[]' 'true' '{"retries":2.5}' >plan3
	run loom-spawn plan3
	assert_failure 1
	assert_output "loom-spawn: plan3:1: bad retries"
}

@test "--agent NAME runs the adapter found on LOOM_AGENTS_PATH" {
	mkdir -p ad
	printf '#!/bin/sh\ncat >/dev/null\necho "{\\"task_id\\":\\"$LOOM_TASK_ID\\"}"\n' >ad/myagent
	chmod +x ad/myagent
	task a 0 '[]' '' '{"run":null}' >plan
	LOOM_AGENTS_PATH=ad run loom-spawn --agent myagent plan
	assert_success
	run jq -c . loom/outputs/a.json
	assert_output '{"task_id":"a"}'
	LOOM_AGENTS_PATH=ad run loom-spawn --dry-run --agent myagent plan
	assert_output --partial "LOOM_ATTEMPT='1' 'ad/myagent' >"
	chmod -x ad/myagent
	LOOM_AGENTS_PATH=ad run loom-spawn --agent myagent plan
	assert_failure 2
}
