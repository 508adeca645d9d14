#!/usr/bin/env bats
# loom-spawn --engine parallel: the same plans on both engines give the
# same records, outputs and logs; task data never reaches a shell; a
# stop ends every task; --sshlogin runs tasks through a real sshd on
# 127.0.0.1.  No parallel, sshd or task is left behind (see teardown).

load test_helper
load spawn_helper

# run_in DIR ARGS...: loom-spawn ARGS in DIR (made), its records in
# DIR/out.ndjson, its stderr in DIR/err.txt, its exit status in DIR/rc.
run_in() {
	local dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && { rc=0; loom-spawn --no-progress "$@" >out.ndjson \
	    2>err.txt || rc=$?; echo $rc >rc; })
}

# norm DIR: DIR's start and result records without times, sorted, then
# its exit status, then every file under DIR/loom but the journal, with
# its contents (the lock holds a process id).
norm() {
	jq -cS 'select(.type == "start" or .type == "result") |
	    del(.start, .end, .duration)' "$1/out.ndjson" | sort
	echo "rc $(cat "$1/rc")"
	(cd "$1" && find loom -type f ! -name journal.ndjson ! -path loom/lock |
	    sort |
	    while read -r f; do echo "== $f"; cat "$f"; done)
}

# both PLAN ARGS...: PLAN on each engine, in own/ and par/; fails with
# the difference when what they did differs.
both() {
	local plan=$1
	shift
	run_in own "$@" "$PWD/$plan"
	run_in par --engine parallel "$@" "$PWD/$plan"
	norm own >own.txt
	norm par >par.txt
	run diff own.txt par.txt
	assert_success
}

# Every process whose working directory lies in this test's directory,
# but this shell and its parents: what a test left running.
leftovers() {
	local p cwd self=" $$ $BASHPID $PPID "
	for p in /proc/[0-9]*; do
		cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
		case $cwd in "$BATS_TEST_TMPDIR"/*) ;; *) continue ;; esac
		case $self in *" ${p#/proc/} "*) continue ;; esac
		echo "${p#/proc/}"
	done
}

# kill_tree PID: PID and everything under it.
kill_tree() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		kill_tree "$c"
	done
	kill -KILL "$1" 2>/dev/null || true
}

teardown() {
	local p left
	if [ -s "$BATS_TEST_TMPDIR/sshd/pid" ]; then
		kill_tree "$(cat "$BATS_TEST_TMPDIR/sshd/pid")"
	fi
	left=$(leftovers)
	for p in $left; do
		kill -KILL "$p" 2>/dev/null || true
	done
	# A test that left something running fails, after it was killed.
	[ -z "$left" ] || {
		echo "left running: $left" >&2
		return 1
	}
}

# The plan most tests run: success, a dependency's output read through
# LOOM_DEPS, a failure and the dependent it skips, the record on stdin,
# a timeout, stderr in the log, and an adapter run without a shell.
mixed_plan() {
	task a 0 '[]' 'echo A; echo "log of $LOOM_AGENT" >&2'
	task b 1 '["a"]' 'while read -r f; do cat "$f"; done <<EOF
$LOOM_DEPS
EOF
echo "B $LOOM_LEVEL $LOOM_ROLE $LOOM_ATTEMPT"'
	task c 2 '["b"]' 'jq -c .id; exit 3'
	task d 3 '["c"]' 'echo never'
	task e 0 '[]' 'sleep 10' '{"timeout": 0.3}'
	task f 0 '[]' 'kill -USR1 $$'
	task g 0 '[]' 'cat; echo "$LOOM_TASK_ID"' '{"run": null}'
}

@test "the same plan gives the same records, outputs and logs" {
	mixed_plan >plan.ndjson
	mkdir -p agents
	printf '#!/bin/sh\necho "adapter for $LOOM_TASK_ID"\n' >agents/ad
	chmod +x agents/ad
	LOOM_AGENTS_PATH=$PWD/agents both plan.ndjson -j 3 --agent ad
	assert_equal "$(cat par/rc)" 1
	run jq -r 'select(.type == "result") | "\(.id) \(.status)"' \
	    par/out.ndjson
	assert_line "a ok"
	assert_line "c failed"
	assert_line "d skipped"
	assert_line "e timeout"
	assert_line "f failed"
	assert_line "g ok"
	assert_equal "$(cat par/loom/outputs/b.json)" "A
B 1 general 1"
	assert_equal "$(cat par/loom/outputs/g.json)" "adapter for g"
	assert_equal "$(cat par/loom/logs/general_a.log)" "log of general_a"
	# The engine's own files are gone.
	[ ! -e par/loom/logs/.engine ]
}

@test "retries, --halt soon and --halt now end alike on both engines" {
	task flaky 0 '[]' 'n=$(cat n 2>/dev/null || echo 0)
echo $((n + 1)) >n; echo "try $n"; [ "$n" -ge 2 ]' >r.ndjson
	both r.ndjson --retries 3 --retry-delay 0.05
	assert_equal "$(jq -r 'select(.type == "result") | .attempts' \
	    par/out.ndjson)" 3

	{
		task slow 0 '[]' 'sleep 1; echo done'
		task bad 0 '[]' 'sleep 0.2; exit 1'
		task later 1 '["bad"]' 'true'
		task other 1 '["slow"]' 'true'
	} >h.ndjson
	both h.ndjson -j 2 --halt soon
	assert_equal "$(status_of par/out.ndjson slow)" ok
	assert_equal "$(status_of par/out.ndjson other)" cancelled
	rm -rf own par
	both h.ndjson -j 2 --halt now --grace 0.5
	assert_equal "$(status_of par/out.ndjson slow)" cancelled
}

@test "--resume on the parallel engine reuses what the loom engine did" {
	mixed_plan | jq -c 'select(.id != "e" and .id != "f")' >plan.ndjson
	mkdir -p agents
	printf '#!/bin/sh\necho adapted\n' >agents/ad
	chmod +x agents/ad
	export LOOM_AGENTS_PATH=$PWD/agents
	run_in w -j 2 --agent ad "$PWD/plan.ndjson"
	run_in w --engine parallel -j 2 --agent ad --resume \
	    "$PWD/plan.ndjson"
	run results w/out.ndjson
	assert_output "a cached
b cached
g cached
c failed
d skipped"
}

@test "hostile ids and descriptions reach no shell on either side" {
	local id='x$(touch pwned1)`touch pwned2`;touch pwned3'"'"'"'
	task t 0 '[]' 'printf "%s\n" "$LOOM_TASK_ID"; cat' \
	    "$(jq -nc --arg id "$id" '{id: $id,
	     description: "$(touch pwned4) `touch pwned5` \u0027 \" ; |"}')" \
	    >plan.ndjson
	both plan.ndjson
	assert_equal "$(head -1 par/loom/outputs/t.json)" "$id"
	run find . -name 'pwned*'
	assert_output ""
}

@test "a signal to loom-spawn ends every task alike on both engines" {
	local eng pid st
	{
		task s1 0 '[]' 'echo $$ >s1.pid; exec sleep 30'
		task s2 0 '[]' 'trap "" TERM; echo $$ >s2.pid; sleep 30'
		task s3 1 '["s1"]' 'true'
	} >plan.ndjson
	for eng in loom parallel; do
		mkdir "$eng"
		(cd "$eng" && exec loom-spawn --engine "$eng" --no-progress \
		    --grace 0.5 -j 2 ../plan.ndjson >out.ndjson 2>err.txt) &
		pid=$!
		wait_for test -s "$eng/s1.pid"
		wait_for test -s "$eng/s2.pid"
		kill -TERM "$pid"
		st=0
		wait "$pid" || st=$?
		assert_equal "$st" 143
		! alive "$eng/s1.pid" "$eng/s2.pid"
		results "$eng/out.ndjson" | sort >"$eng.txt"
	done
	run cat parallel.txt
	assert_line "s1 cancelled"
	assert_line "s2 cancelled"
	run diff loom.txt parallel.txt
	assert_success
}

@test "the lock lists no process group under the parallel engine (its numbers are parallel's jobs)" {
	local pid
	task a 0 '[]' 'until [ -f ../go ]; do sleep 0.05; done' >plan.ndjson
	mkdir w
	(cd w && exec loom-spawn --engine parallel --no-progress \
	    ../plan.ndjson >out.ndjson 2>err.txt) &
	pid=$!
	wait_for test -s w/loom/logs/general_a.log -o -e w/out.ndjson
	wait_for grep -q '"type":"start"' w/out.ndjson
	# Only the first line: loom-spawn's own pid and the boot id.  A
	# job number taken for a group made a --resume after kill -9 wait
	# for whatever group had that number.
	run grep -c . w/loom/lock
	assert_output 1
	touch go
	wait "$pid"
	run results w/out.ndjson
	assert_output "a ok"
}

@test "a login file that cannot be read or holds no login, or an empty --sshlogin, is a usage error before anything is written" {
	task a 0 '[]' 'echo ran >>ran' >plan.ndjson
	printf '# nothing here\n\n   \n' >empty
	run loom-spawn --no-progress --sshloginfile nonexistent plan.ndjson
	assert_failure 2
	assert_output "loom-spawn: --sshloginfile nonexistent: No such file or directory"
	run loom-spawn --no-progress --sshloginfile empty plan.ndjson
	assert_failure 2
	assert_output "loom-spawn: --sshloginfile empty: no login in it"
	run loom-spawn --no-progress --sshlogin '' plan.ndjson
	assert_failure 2
	assert_line --index 0 'loom-spawn: --sshlogin: no login in ""'
	[ ! -e ran ]
	[ ! -e loom ]
}

@test "--engine takes loom or parallel, and parallel must be found" {
	run loom-spawn --engine make </dev/null
	assert_failure 2
	assert_output --partial 'expected loom or parallel, not "make"'
	task a 0 '[]' true >plan.ndjson
	run env PATH=/nonexistent "$TOP/bin/loom-spawn" --engine parallel \
	    --no-progress plan.ndjson
	assert_failure 2
	assert_output --partial "GNU parallel and perl are needed"
}

# ---- over ssh ---------------------------------------------------------

# start_sshd: an sshd of our own on 127.0.0.1, a free port, throw-away
# keys, and `ssh` on PATH a wrapper that uses them; skips when sshd
# cannot start here.
start_sshd() {
	local d=$BATS_TEST_TMPDIR/sshd sshd port i
	sshd=$(command -v sshd || echo /usr/sbin/sshd)
	[ -x "$sshd" ] || skip "no sshd (tests/deps.sh installs openssh-server)"
	mkdir -p "$d/bin"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" &&
	    ssh-keygen -q -t ed25519 -N '' -f "$d/id" ||
	    skip "ssh-keygen failed"
	cp "$d/id.pub" "$d/authorized_keys"
	# The remote jobs' directories go under $d/tmp (SetEnv, AcceptEnv).
	mkdir -p "$d/tmp"
	port=$(python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
	    echo $((20000 + RANDOM % 20000)))
	cat >"$d/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $d/host_key
AuthorizedKeysFile $d/authorized_keys
PidFile $d/sshd.pid
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
AcceptEnv TMPDIR
EOF
	cat >"$d/ssh_config" <<EOF
Host *
  Port $port
  User $(id -un)
  IdentityFile $d/id
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  BatchMode yes
  SetEnv TMPDIR=$d/tmp
EOF
	printf '#!/bin/sh\nexec %s -F %s "$@"\n' "$(command -v ssh)" \
	    "$d/ssh_config" >"$d/bin/ssh"
	chmod +x "$d/bin/ssh"
	[ "$(id -u)" -ne 0 ] || mkdir -p /run/sshd
	"$sshd" -D -e -f "$d/sshd_config" 2>"$d/log" &
	echo $! >"$d/pid"
	PATH=$d/bin:$PATH
	for i in $(seq 50); do
		ssh 127.0.0.1 true 2>/dev/null && return 0
		sleep 0.1
	done
	skip "sshd cannot start here: $(tail -2 "$d/log" | tr '\n' ' ')"
}

@test "--sshlogin runs the plan on another machine through a real sshd" {
	start_sshd
	mixed_plan >plan.ndjson
	mkdir -p agents
	printf '#!/bin/sh\necho "adapter for $LOOM_TASK_ID"\n' >agents/ad
	chmod +x agents/ad
	export LOOM_AGENTS_PATH=$PWD/agents
	run_in own -j 3 --agent "$PWD/agents/ad" "$PWD/plan.ndjson"
	run_in ssh -j 3 --agent "$PWD/agents/ad" --sshlogin 127.0.0.1 \
	    "$PWD/plan.ndjson"
	norm own >own.txt
	norm ssh >ssh.txt
	run diff own.txt ssh.txt
	assert_success
	# The tasks ran through sshd, in a directory of their own there
	# that is gone now.
	run grep -c "Accepted publickey" "$BATS_TEST_TMPDIR/sshd/log"
	[ "$output" -ge 7 ]
	run ls -A "$BATS_TEST_TMPDIR/sshd/tmp"
	assert_output ""
}

@test "--sshloginfile: dependency outputs and the plan reach the remote" {
	start_sshd
	local o=$PWD/w/abs/outputs
	{
		task up 0 '[]' 'printf "line 1\nline 2\n"' \
		    "{\"outputs_to\": \"$o/up.json\"}"
		task down 1 '["up"]' 'cat "$LOOM_DEPS" | wc -l
jq -r ".tasks | length" "$LOOM_PLAN"; pwd >&2' \
		    "{\"outputs_to\": \"$o/down.json\"}"
	} >plan.ndjson
	echo 2/127.0.0.1 >logins
	run_in w --sshloginfile "$PWD/logins" --workdir "$PWD/w/abs" \
	    "$PWD/plan.ndjson"
	assert_equal "$(cat w/rc)" 0
	run cat w/abs/outputs/down.json
	assert_output "2
2"
	# It ran elsewhere: not in loom-spawn's own directory.
	run cat w/abs/logs/general_down.log
	refute_output "$PWD/w"
}

# empty_dir DIR: succeeds when DIR holds nothing.
empty_dir() {
	[ -z "$(ls -A "$1")" ]
}

# gone PIDFILE...: succeeds when no process of the groups the files name
# lives (the task and what it left in the background).
gone() {
	local f
	for f in "$@"; do
		[ -s "$f" ] || return 1
		! kill -0 -- "-$(cat "$f")" 2>/dev/null || return 1
	done
}

@test "--sshlogin: a stop ends the remote tasks at once and removes their directories" {
	start_sshd
	local pid st
	{
		task s1 0 '[]' "echo \$\$ >$PWD/s1.pid; sleep 30 & sleep 31"
		task s2 0 '[]' "trap '' TERM; echo \$\$ >$PWD/s2.pid
while :; do sleep 0.1; done"
	} >plan.ndjson
	mkdir w
	(cd w && exec loom-spawn --no-progress --grace 0.5 -j 2 \
	    --sshlogin 127.0.0.1 ../plan.ndjson >out.ndjson 2>err.txt) &
	pid=$!
	wait_for test -s s1.pid
	wait_for test -s s2.pid
	# The jobs' directories are there (TMPDIR reached them).
	run empty_dir "$BATS_TEST_TMPDIR/sshd/tmp"
	assert_failure
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 143
	# GNU parallel's own watch of its ssh takes seconds and leaves the
	# job's directory; the job's watch of its connection does not.
	SECONDS=0
	wait_for gone s1.pid s2.pid
	[ "$SECONDS" -lt 5 ]
	wait_for empty_dir "$BATS_TEST_TMPDIR/sshd/tmp" ||
	    fail "left: $(find "$BATS_TEST_TMPDIR/sshd/tmp")"
	run results w/out.ndjson
	assert_line "s1 cancelled"
	assert_line "s2 cancelled"
}
