#!/usr/bin/env bats
# Faults around loom-spawn's tasks: killed by signals, closing their
# stdout, flooding stderr, a full disk, and loom-spawn itself killed
# with -9 at random points and resumed (issue 8).

load test_helper
load spawn_helper
bats_require_minimum_version 1.5.0

teardown() {
	if mountpoint -q "$BATS_TEST_TMPDIR/loom" 2>/dev/null; then
		umount "$BATS_TEST_TMPDIR/loom" ||
		    umount -l "$BATS_TEST_TMPDIR/loom"
	fi
}

# small_disk: the work directory loom/ becomes a 1 MB tmpfs, or the
# test is skipped.
small_disk() {
	mkdir -p loom
	mount -t tmpfs -o size=1m tmpfs loom 2>/dev/null ||
	    skip "mount -t tmpfs not permitted here (needs root)"
}

@test "a task killed by a signal: failed with its signal, dependents skipped, others go on" {
	local sig num
	for sig in KILL:9 SEGV:11 TERM:15 USR1:10; do
		num=${sig#*:}
		sig=${sig%:*}
		rm -rf loom
		{
			task a 0 '[]' "echo partial; kill -$sig \$\$; echo never"
			task b 1 '["a"]' 'echo b >>ran'
			task c 0 '[]' 'sleep 0.2; echo c'
			task d 1 '["c"]' 'echo d'
		} >plan
		run loom-spawn -j2 --no-progress plan
		assert_failure 1
		echo "$output" >out
		[ "$(jq -c 'select(.type == "result" and .id == "a") |
		    [.status, .exit, .signal, .output]' out)" = \
		    "[\"failed\",null,$num,\"loom/outputs/a.json.failed\"]" ] ||
		    fail "$sig: $(grep '"a"' out)"
		[ "$(status_of out b)" = skipped ]
		[ "$(status_of out c)" = ok ]
		[ "$(status_of out d)" = ok ]
		[ ! -e ran ]
		[ ! -e loom/outputs/a.json ]
		[ "$(cat loom/outputs/a.json.failed)" = partial ]
		[ "$(jq -r 'select(.id == "a") | .signal' \
		    loom/journal.ndjson)" = "$num" ]
	done
}

@test "a task that closes its stdout early is waited for to its end" {
	{
		task a 0 '[]' 'echo before; exec >&-; sleep 0.5; echo after >&2'
		task b 0 '[]' 'echo before; exec >&-; sleep 0.5; exit 3'
		task c 1 '["a"]' 'cat $LOOM_DEPS'
	} >plan
	run loom-spawn -j2 --no-progress plan
	assert_failure 1
	echo "$output" >out
	# Not ended at the close: both ran their half second.
	[ "$(jq 'select(.type == "result" and .id == "a") |
	    .duration >= 0.5' out)" = true ]
	[ "$(jq -c 'select(.type == "result" and .id == "b") |
	    [.status, .exit, .duration >= 0.5]' out)" = '["failed",3,true]' ]
	[ "$(cat loom/outputs/a.json)" = before ]
	[ "$(cat loom/logs/general_a.log)" = after ]
	[ "$(cat loom/outputs/b.json.failed)" = before ]
	[ "$(status_of out c)" = ok ]
	[ "$(cat loom/outputs/c.json)" = before ]
}

@test "a gigabyte on a task's stderr goes whole to its log, loom-spawn stays small" {
	local size=$((1024 * 1024 * 1024)) avail rss
	avail=$(df -Pk . | awk 'NR == 2 { print $4 }')
	[ "$avail" -gt $((3 * 1024 * 1024)) ] ||
	    skip "under 3 GB free here ($avail KB)"
	task a 0 '[]' "head -c $size /dev/zero >&2; echo done" >plan
	task b 0 '[]' 'echo b' >>plan
	run /usr/bin/time -f 'rss %M' -o rss loom-spawn -j2 --no-progress plan
	assert_success
	echo "$output" >out
	[ "$(status_of out a)" = ok ]
	[ "$(status_of out b)" = ok ]
	[ "$(stat -c %s loom/logs/general_a.log)" -eq "$size" ]
	[ "$(cat loom/outputs/a.json)" = done ]
	rm loom/logs/general_a.log
	# It passes through loom-spawn 64 KiB at a time, never held whole:
	# the peak stays that of an idle process.
	rss=$(awk '/^rss/ { print $2 }' rss)
	[ -n "$TEST_SANITIZED" ] || [ "$rss" -lt 10000 ] ||
	    fail "loom-spawn peaked at $rss KB"
}

@test "a quarter gigabyte on a task's stdout goes whole to its output, loom-spawn stays small" {
	local size=$((256 * 1024 * 1024)) rss
	task a 0 '[]' "head -c $size /dev/zero; echo done >&2" >plan
	task b 1 '["a"]' 'wc -c <"$LOOM_DEPS"' >>plan
	run /usr/bin/time -f 'rss %M' -o rss loom-spawn -j2 --no-progress plan
	assert_success
	[ "$(stat -c %s loom/outputs/a.json)" -eq "$size" ]
	[ "$(cat loom/outputs/b.json)" -eq "$size" ]
	[ "$(cat loom/logs/general_a.log)" = done ]
	rm loom/outputs/a.json
	rss=$(awk '/^rss/ { print $2 }' rss)
	[ -n "$TEST_SANITIZED" ] || [ "$rss" -lt 10000 ] ||
	    fail "loom-spawn peaked at $rss KB"
}

@test "what a task's background process writes after the task ended is not its output" {
	task a 0 '[]' '(sleep 0.5; echo late; echo gone >bg) & echo now' >plan
	task b 1 '["a"]' 'cat "$LOOM_DEPS"' >>plan
	run loom-spawn -j2 --no-progress plan
	assert_success
	[ "$(cat loom/outputs/a.json)" = now ]
	[ "$(cat loom/outputs/b.json)" = now ]
	sleep 1
	# Its write failed (EPIPE): the next command never ran.
	[ "$(cat loom/outputs/a.json)" = now ]
	[ ! -e bg ]
}

@test "a retry that writes nothing leaves no bytes of the attempt before it" {
	task a 0 '[]' 'if [ "$LOOM_ATTEMPT" = 1 ]; then echo first; exit 1; fi' \
	    '{"retries": 1}' >plan
	run loom-spawn --retry-delay 0.1 --no-progress plan
	assert_success
	run ls -A loom/outputs
	assert_output a.json
	[ ! -s loom/outputs/a.json ]
}

@test "a quiet task's output and log are links to one empty file, not new files" {
	local i
	for i in 1 2 3; do task "t$i" 0 '[]' 'true'; done >plan
	task loud 0 '[]' 'echo out; echo err >&2' >>plan
	run loom-spawn -j2 --no-progress plan
	assert_success
	# Three outputs and three logs, one inode; the loud task's own.
	run stat -c '%i %s' loom/outputs/t1.json loom/outputs/t2.json \
	    loom/outputs/t3.json loom/logs/general_t1.log
	[ "$(printf '%s\n' "$output" | sort -u | wc -l)" -eq 1 ]
	assert_line --index 0 --regexp ' 0$'
	[ "$(stat -c %h loom/outputs/t1.json)" -ge 6 ]
	[ "$(stat -c %h loom/outputs/loud.json)" -eq 1 ]
	[ "$(cat loom/outputs/loud.json)" = out ]
	[ "$(stat -c %h loom/logs/general_loud.log)" -eq 1 ]
	[ "$(cat loom/logs/general_loud.log)" = err ]
}

@test "a full disk: the task whose output overflows fails, nothing half-written in place" {
	small_disk
	{
		task first 0 '[]' 'echo first'
		task big 1 '["first"]' 'head -c 2000000 /dev/zero'
		task after 2 '["big"]' 'echo after >>../ran'
		task small 1 '["first"]' 'true'
	} >plan
	run --separate-stderr loom-spawn -j1 --no-progress plan
	assert_failure 1
	echo "$output" >out
	[ "$(status_of out first)" = ok ]
	# loom-spawn writes the output: it sees the disk refuse it, says
	# so, and ends the task (TERM).
	assert_equal "$stderr" \
	    "loom-spawn: loom/outputs/big.json.tmp: No space left on device"
	[ "$(jq -c 'select(.type == "result" and .id == "big") |
	    [.status, .exit, .signal]' out)" = '["failed",null,15]' ] ||
	[ "$(jq -c 'select(.type == "result" and .id == "big") |
	    [.status, .exit, .signal]' out)" = '["failed",0,null]' ]
	[ "$(status_of out after)" = skipped ]
	[ "$(status_of out small)" = ok ]
	# What the task managed to write is kept aside, never in place.
	[ ! -e loom/outputs/big.json ]
	[ ! -e loom/outputs/big.json.tmp ]
	[ "$(stat -c %s loom/outputs/big.json.failed)" -lt 2000000 ]
	[ "$(cat loom/outputs/first.json)" = first ]
	[ ! -e ran ]
	# The journal, written into its first page, holds every result.
	[ "$(jq -r .status loom/journal.ndjson | sort | tr '\n' ' ')" = \
	    "failed ok ok skipped " ]
}

@test "a full disk refusing the journal stops the run: a clear error, exit 2, no task left" {
	small_disk
	{
		task big 0 '[]' 'head -c 2000000 /dev/zero'
		task slow 0 '[]' 'echo $$ >../slow.pid; sleep 10'
		task later 0 '[]' 'echo later >>../ran'
	} >plan
	SECONDS=0
	run loom-spawn -j2 --no-progress plan
	assert_failure 2
	[ "$SECONDS" -lt 8 ]
	assert_line "loom-spawn: journal: No space left on device"
	echo "$output" | grep '^{' >out
	# Every task still gets its result on stdout.
	[ "$(results out | tr '\n' ' ')" = \
	    "big failed slow cancelled later cancelled " ]
	! alive slow.pid
	[ ! -e ran ]
	[ ! -e loom/outputs/big.json ]
	[ ! -e loom/outputs/slow.json ]
}

@test "a full disk before the start: a clear error, no output, nothing left" {
	small_disk
	head -c 2000000 /dev/zero >loom/fill 2>/dev/null || true
	task a 0 '[]' 'echo a >>ran' >plan
	run loom-spawn --no-progress plan
	assert_failure 2
	assert_output "loom-spawn: loom/plan.json.tmp: No space left on device"
	[ ! -e ran ]
	[ "$(cd loom && find . -type f | sort | tr '\n' ' ')" = "./fill " ]
}

@test "kill -9 at random points, then --resume, 30 times: no finished task runs twice" {
	local n=30
	[ -z "$TEST_SANITIZED" ] || n=10
	# Each trial: a 20-task plan, loom-spawn killed once at a random
	# point of its run; the tasks it leaves running are waited for (as
	# a user must, see bench/kill9); then --resume to the end.
	run env WIDTH=8 KILLS=1 "$TOP/bench/kill9" "$n"
	assert_success
	assert_output --partial "kill9: $n trials of 20 tasks"
	assert_output --partial "and none ran again; every output whole"
}
