#!/usr/bin/env bats
# loom-spawn under load, small enough for make check: memory follows
# the plan, descriptors follow -j, and rounds do not grow.  bench/load
# does the same with 100,000 tasks and 30 rounds (issue 8).

load test_helper

# tree N: N tasks running `true`, task i depending on task i/2.
tree() {
	awk -v n="$1" 'BEGIN {
	    for (i = 1; i <= n; i++) {
		lvl = 0; p = i; while (p > 1) { p = int(p / 2); lvl++ }
		printf "{\"type\":\"task\",\"id\":\"t%d\",\"description\":" \
		    "\"task %d\",\"requires\":[],\"depends_on\":[%s]," \
		    "\"level\":%d,\"role\":\"general\",\"agent\":\"a%d\"," \
		    "\"outputs_to\":\"loom/outputs/%d\",\"run\":\"true\"}\n",
		    i, i, (i > 1 ? "\"t" int(i / 2) "\"" : ""), lvl, i, i
	    } }'
}

# spawn_sampled PLAN: loom-spawn -j 64 on PLAN under /usr/bin/time;
# leaves the peak resident size (KB) in PLAN.kb, the most descriptors
# seen open in PLAN.fds, and the output in PLAN.out.
spawn_sampled() {
	local pid sp max=0 n
	rm -rf loom
	/usr/bin/time -f '%M' -o "$1.kb" loom-spawn -j64 --no-progress \
	    "$1" >"$1.out" 2>"$1.err" &
	pid=$!
	# time's child: loom-spawn (under make valgrind, valgrind running
	# it, which has another name).
	while ! sp=$(pgrep -P "$pid"); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	while [ -n "$sp" ] && [ -d "/proc/$sp" ]; do
		n=$(find "/proc/$sp/fd" -mindepth 1 2>/dev/null | wc -l)
		[ "$n" -le "$max" ] || max=$n
		sleep 0.05
	done
	wait "$pid"
	echo "$max" >"$1.fds"
	[ "$(grep -c '"status":"ok"' "$1.out")" -eq "$(wc -l <"$1")" ]
}

@test "-j 64 on 2,000 tasks: memory follows the plan, descriptors follow -j" {
	local small=200 big=2000 per
	tree "$small" >small
	tree "$big" >big
	spawn_sampled small
	spawn_sampled big
	# At most five descriptors a running task (the pipes of its
	# stdin, stdout and stderr, its output and its log once it writes
	# them) and a few of loom-spawn's own.
	[ "$(cat big.fds)" -gt 0 ]
	[ "$(cat big.fds)" -le $((64 * 5 + 16)) ] ||
	    fail "$(cat big.fds) descriptors open at -j 64"
	[ -n "$TEST_SANITIZED" ] && return 0
	# Each task costs loom-spawn under 2 KB (bench/load: about 600
	# bytes; the plan's records themselves are 180).
	per=$(( ($(tail -n 1 big.kb) - $(tail -n 1 small.kb)) * 1024 /
	    (big - small) ))
	echo "# $per bytes a task, $(cat big.fds) descriptors" >&3
	[ "$per" -lt 2048 ] || fail "$per bytes a task"
}

@test "the same plan eight rounds in one work directory: no growth" {
	local r
	tree 200 >plan
	for r in $(seq 8); do
		spawn_sampled plan
		echo "$r $(tail -n 1 plan.kb) $(cat plan.fds)" >>rounds
	done
	# Peak memory of the last three rounds within 5% of the first
	# three; descriptors bounded the same way every round.
	awk '{ k[NR] = $2 }
	    END { for (i = 1; i <= 3; i++) { a += k[i]; b += k[NR - 3 + i] }
		exit !(b <= a * 1.05) }' rounds ||
	    fail "$(cat rounds)"
	run awk '$3 > 64 * 5 + 16' rounds
	assert_output ""
}
