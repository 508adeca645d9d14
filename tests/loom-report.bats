#!/usr/bin/env bats
# loom-report: findings, run figures, timeline and tokens, in every format.

load test_helper
bats_require_minimum_version 1.5.0

OUTS="$TOP/tests/fixtures/outputs"

# The audit example run through loom-merge: the stream loom-report reads.
audit() {
	mkdir -p loom/outputs
	cp "$OUTS"/*.py loom/outputs/
	loom-merge "$OUTS/audit_run.ndjson" > stream
}

# task ID DEPS LEVEL and result ID STATUS START END: small runs by hand.
task() {
	printf '{"type":"task","id":"%s","depends_on":%s,"level":%s,"agent":"%s_1","role":"%s"}\n' \
	    "$1" "$2" "$3" "$1" "$1"
}
result() {
	printf '{"type":"result","id":"%s","agent":"%s_1","status":"%s","start":%s,"end":%s}\n' \
	    "$1" "$1" "$2" "$3" "$4"
}

# The width and height of a PNG, from its IHDR chunk.
png_size() {
	od -An -tu1 -j16 -N8 "$1" | awk '{ print $3 * 256 + $4 "x" $7 * 256 + $8 }'
}

@test "the audit example: 12 findings, five tasks, 1.67x over one by one" {
	audit
	run loom-report stream
	assert_success
	assert_line 'loom report, iteration 1: ITERATE'
	assert_line 'Findings: 12 (3 critical, 5 medium, 4 low)'
	assert_line '  audit_auth_flow          reviewer_1       3  2 critical, 1 medium'
	assert_line '  audit_input_validation   reviewer_2       5  1 critical, 3 medium, 1 low'
	assert_line '  audit_dependencies       reviewer_3       4  1 medium, 3 low'
	assert_line 'Run: 5 tasks: 5 ok'
	assert_line '  wall time          15m00s'
	assert_line '  one by one         25m00s   speedup 1.67x'
	assert_line '  level by level     15m00s   speedup 1.00x'
	assert_line '  critical path      15m00s   map_auth_surface -> audit_auth_flow -> aggregate_findings'
	assert_line '  job slots               3   56% busy, at most 3 running at once'
	assert_line 'Tokens: 65000 in, 11500 out, cost 0.15'
	run grep -c '^[a-z_0-9]* *|.*| ok 5m00s$' <<<"$output"
	assert_output 5
}

@test "the audit example as JSON: every figure" {
	audit
	run loom-report --format json stream
	assert_success
	printf '%s\n' "$output" > report.json
	run jq -c '[.type, .iteration, .verdict, .findings.total,
	    .findings.counts, .run.tasks, .run.status, .run.wall,
	    .run.sequential, .run.level_by_level, (.run.speedup * 100 | round),
	    .run.speedup_over_levels, .run.critical_path, .run.max_running,
	    .run.slots, (.run.busy * 1000 | round)]' report.json
	assert_output '["report",1,"ITERATE",12,{"critical":3,"high":0,"medium":5,"low":4,"info":0},5,{"ok":5},900,1500,900,167,1,{"seconds":900,"tasks":["map_auth_surface","audit_auth_flow","aggregate_findings"]},3,3,556]'
	run jq -c '[.findings.list[] | .severity] | join(" ")' report.json
	assert_output '"critical critical critical medium medium medium medium medium low low low low"'
	run jq -c '[.timeline[] | [.agent, .start, .end]]' report.json
	assert_output '[["architect_1",0,300],["reviewer_1",300,600],["reviewer_2",300,600],["reviewer_3",300,600],["documenter_1",600,900]]'
	run jq -c '.usage | [.tokens_in, .tokens_out, (.cost * 100 | round), (.by_role | keys_unsorted), .by_role.reviewer.tokens_in]' report.json
	assert_output '[65000,11500,15,["architect","reviewer","documenter"],39000]'
}

@test "the audit example as Markdown, and --save writes iteration_1.md" {
	audit
	run loom-report -f markdown --save stream
	assert_success
	assert_line '# loom report, iteration 1'
	assert_line '**Verdict: ITERATE**'
	assert_line '12 findings: 3 critical, 5 medium, 4 low.'
	assert_line '| audit_input_validation | reviewer_2 | 5 | 1 critical, 3 medium, 1 low |'
	assert_line '| critical | JWT signature is not verified on refresh | `src/auth/session.py:88` | audit_auth_flow |'
	assert_line '| one by one | 25m00s | 1.67x |'
	assert_line '| **total** | 65000 | 11500 | 0.15 |'
	printf '%s\n' "$output" > want
	run diff want loom/logs/iteration_1.md
	assert_success
	run ls -A loom/logs
	assert_output 'iteration_1.md'
}

@test "--save names the file by the iteration and honours --workdir" {
	{ echo '{"type":"plan","version":2}'; task a '[]' 0
	  result a ok 0 1; } > in
	run loom-report -s -w elsewhere in
	assert_success
	assert_line 'loom report, iteration 2'
	[ -f elsewhere/logs/iteration_2.md ]
	[ ! -e loom ]
}

@test "--save makes the report with the mode a new file gets (umask), not 0600" {
	{ echo '{"type":"plan","version":1}'; task a '[]' 0
	  result a ok 0 1; } > in
	umask 022
	loom-report -s in > /dev/null
	run stat -c %a loom/logs/iteration_1.md
	assert_output 644
	run ls -A loom/logs
	assert_output iteration_1.md
}

@test "the SVG timeline renders to an 800x244 PNG" {
	audit
	loom-report -f svg stream > t.svg
	run head -c 39 t.svg
	assert_output '<svg xmlns="http://www.w3.org/2000/svg"'
	run grep -c '<rect x=' t.svg
	assert_output 5
	run rsvg-convert -o t.png t.svg
	assert_success
	[ -s t.png ]
	run png_size t.png
	assert_output 800x244
	run grep -E 'href|<script|@import|url\(' t.svg
	assert_failure
}

@test "the SVG grows a row per agent and escapes what it shows" {
	{ task 'a<&>\"' '[]' 0; result 'a<&>\"' ok 0 10
	  for i in 1 2 3 4 5 6 7; do task "t$i" '[]' 0
	  result "t$i" ok "$i" 20; done; } > in
	loom-report -f svg in > t.svg
	assert_equal "$(grep -c 'a&lt;&amp;&gt;&quot;' t.svg)" 3
	rsvg-convert -o t.png t.svg
	run png_size t.png
	assert_output 800x322
}

@test "the HTML page carries the SVG and the text report, escaped" {
	audit
	run loom-report --format html stream
	assert_success
	assert_line --index 0 '<!DOCTYPE html>'
	assert_line --partial '<svg xmlns="http://www.w3.org/2000/svg"'
	assert_line 'Findings: 12 (3 critical, 5 medium, 4 low)'
	assert_line '  critical path      15m00s   map_auth_surface -&gt; audit_auth_flow -&gt; aggregate_findings'
	assert_line '</html>'
	run grep -c '<script' <<<"$output"
	assert_output 0
}

@test "failed, skipped and timed-out tasks in the run and the timeline" {
	{ task a '[]' 0; task b '["a"]' 1; task c '["b"]' 2; task d '[]' 0
	  result a ok 0 10; result b failed 10 15; result d timeout 0 20
	  echo '{"type":"result","id":"c","status":"skipped"}'; } > in
	run loom-report -W 20 in
	assert_success
	assert_line 'Run: 4 tasks: 1 ok, 1 failed, 1 timeout, 1 skipped'
	assert_line 'a_1   |##########         .| ok 10.0s'
	assert_line 'd_1   |TTTTTTTTTTTTTTTTTTTT| timeout 20.0s'
	assert_line 'b_1   |         .XXXXX    .| failed 5.00s'
	assert_line 'c_1   |         .         .| skipped'
	assert_line '  one by one          35.0s   speedup 1.75x'
	assert_line '  level by level      25.0s   speedup 1.25x'
	assert_line '  critical path       20.0s   d'
	assert_line '  job slots               2   88% busy, at most 2 running at once'
	assert_line 'Findings: none known (no merge record)'
}

@test "level by level sums the slowest task of each level" {
	{ task a '[]' 0; task b '[]' 0; task c '["a"]' 1
	  result a ok 0 10; result b ok 0 40; result c ok 10 30; } > in
	run loom-report -f json in
	run jq -c '[.run.wall, .run.sequential, .run.level_by_level, .run.speedup, .run.speedup_over_levels, .run.critical_path.tasks]' <<<"$output"
	assert_output '[40,70,60,1.75,1.5,["b"]]'
}

@test "level by level runs each level on the run's slots, longest first" {
	{ for t in a b c d; do task $t '[]' 0; done
	  result a ok 0 10; result b ok 0 10; result c ok 10 20; result d ok 10 20; } > in
	run loom-report -f json in
	run jq -c '[.run.slots, .run.wall, .run.level_by_level, .run.speedup_over_levels]' <<<"$output"
	assert_output '[2,20,20,1]'
	# 5 4 3 3 3 on two slots: 5+3 and 4+3+3, so 10, not 5.
	{ for t in a b c d e; do task $t '[]' 0; done
	  result a ok 0 5; result b ok 0 4; result c ok 4 7; result d ok 5 8
	  result e ok 7 10; } > in
	run loom-report -f json in
	run jq -c '[.run.slots, .run.level_by_level]' <<<"$output"
	assert_output '[2,10]'
	run loom-report -f json -j 5 in
	run jq -c '[.run.slots, .run.level_by_level]' <<<"$output"
	assert_output '[5,5]'
}

@test "a long chain's critical path is found in linear time" {
	awk 'BEGIN { for (i = 0; i < 20000; i++) {
		printf "{\"type\":\"task\",\"id\":\"t%d\",\"depends_on\":[%s],\"level\":%d}\n", i, i ? "\"t" i - 1 "\"" : "", i
		printf "{\"type\":\"result\",\"id\":\"t%d\",\"status\":\"ok\",\"start\":%d,\"end\":%d}\n", i, i, i + 1 } }' > in
	run timeout 20 loom-report -f json in
	assert_success
	run jq -c '.run.critical_path | [.seconds, (.tasks | length), .tasks[0], .tasks[-1]]' <<<"$output"
	assert_output '[20000,20000,"t0","t19999"]'
}

@test "--jobs sets the slots the busy figure is measured against" {
	audit
	run loom-report -f json -j 5 stream
	run jq -c '[.run.slots, (.run.busy * 1000 | round)]' <<<"$output"
	assert_output '[5,333]'
	run loom-report -j 0 stream
	assert_failure 2
	assert_line --index 0 'loom-report: bad --jobs "0"'
}

@test "colour only on a terminal, and never with NO_COLOR" {
	audit
	run loom-report stream
	refute_output --partial $'\033['
	run script -qec "loom-report stream" /dev/null
	assert_output --partial $'\033[1;31m3 critical\033[0m'
	NO_COLOR=1 run script -qec "loom-report stream" /dev/null
	refute_output --partial $'\033['
	run script -qec "loom-report -f markdown stream" /dev/null
	refute_output --partial $'\033['
}

@test "a merge record's reasons and next plan are shown" {
	audit
	run loom-report stream
	assert_line '  the patches changed the plan'
	assert_line '  next plan: loom/compiled_v2.json'
}

@test "the patches, with why each was not applied" {
	mkdir -p loom/outputs
	printf '{"type":"task","id":"a","outputs_to":"loom/outputs/a.json"}\n{"type":"result","id":"a","status":"ok"}\n' > in
	echo '{"completed":true,"prompt_patches":[{"action":"add_context","key":"k","value":1},{"action":"update_task","task_id":"zz","field":"description","new_value":"x"},{"action":"add_task","task":{"id":"a","description":"other"}}]}' > loom/outputs/a.json
	loom-merge in > stream
	run loom-report stream
	assert_line '  applied   add_context k [a]'
	assert_line '  rejected  update_task zz.description [a]: no task "zz"'
	assert_line '  rejected  add_task a [a]: task "a" exists'
	run loom-report -f md stream
	assert_line '| rejected | update_task zz.description | a | no task "zz" |'
	run loom-report -f json stream
	run jq -c '[.patch_counts, (.patches | length)]' <<<"$output"
	assert_output '[{"applied":1,"rejected":2},3]'
}

@test "control characters from outputs never reach a terminal or a document" {
	mkdir -p loom/outputs
	printf '{"type":"task","id":"a","outputs_to":"loom/outputs/a.json"}\n{"type":"result","id":"a","status":"ok"}\n' > in
	printf '%s' '{"completed":true,"issues":[{"severity":"\u001b[1mcritical","message":"\u001b[2J\u001b]0;t\u0007 <script>x</script>\u009b2J","file":"a\tb"}],' \
	    '"prompt_patches":[{"action":"add_context","key":"\u001b[31m","value":1}]}' > loom/outputs/a.json
	loom-merge in > stream
	for f in text markdown svg html; do
		loom-report -f $f stream > out
		run env LC_ALL=C grep -c '[[:cntrl:]]' <(tr -d '\n' < out)
		assert_output 0
		run grep -c $'\xc2\x9b' out
		assert_output 0
	done
	run loom-report stream
	assert_line '  \x1b[1mcritical \x1b[2J\x1b]0;t\x07 <script>x</script>\u009b2J (a\tb) [a]'
	run grep -c '<script>' <(loom-report -f html stream)
	assert_output 0
	loom-report -f svg stream | rsvg-convert -o t.png
	[ -s t.png ]
}

@test "without usage in the outputs there is no tokens section" {
	{ task a '[]' 0; result a ok 0 1; } > in
	run loom-report in
	assert_success
	refute_output --partial 'Tokens'
	run loom-report -f json in
	run jq -c .usage <<<"$output"
	assert_output null
}

@test "bad input: exit 1 with file and line, nothing on stdout" {
	printf '{"type":"task","id":"a"}\n[1]\n' > in
	run --separate-stderr loom-report in
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" 'loom-report: in:2: record without a "type"'
	printf '{"type":"result"}\n' > in
	run loom-report in
	assert_failure 1
	assert_output 'loom-report: in:1: result without an "id"'
}

@test "an empty input is a report of nothing" {
	run loom-report -f json < /dev/null
	assert_success
	run jq -c '[.run.tasks, .run.wall, .run.speedup, .findings]' <<<"$output"
	assert_output '[0,0,null,null]'
}

@test "--help, --version and usage errors" {
	run loom-report --help
	assert_success
	assert_output 'usage: loom-report [-s] [-f format] [-j slots] [-W width] [-w dir] [file ...]'
	run loom-report --version
	assert_output 'loom-report 0.1'
	run loom-report -f pdf
	assert_failure 2
	assert_line --index 0 'loom-report: unknown format "pdf"'
	run loom-report -W 3
	assert_failure 2
	run loom-report missing-file
	assert_failure 2
}
