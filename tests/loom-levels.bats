#!/usr/bin/env bats
# loom-levels: graph checks, levels, roles, agents, output paths, drawing.

load test_helper

# t ID DEPS [EXTRA]: one task record; DEPS is a JSON array.
t() {
	printf '{"type":"task","id":"%s","description":"","requires":[],"depends_on":%s%s}\n' \
	    "$1" "$2" "${3:-}"
}

audit() {
	cat <<'JSON'
{"type":"plan","intent":"perform comprehensive security audit"}
{"type":"task","id":"map_auth_surface","description":"Identify all authentication-related files and entry points","requires":["code_analysis"],"depends_on":[]}
{"type":"task","id":"audit_auth_flow","description":"Review authentication flow logic for vulnerabilities","requires":["security_review"],"depends_on":["map_auth_surface"]}
{"type":"task","id":"audit_input_validation","description":"Check all input validation in auth endpoints","requires":["security_review"],"depends_on":["map_auth_surface"]}
{"type":"task","id":"audit_dependencies","description":"Scan authentication dependencies for known vulnerabilities","requires":["security_review"],"depends_on":["map_auth_surface"]}
{"type":"task","id":"aggregate_findings","description":"Compile all findings into comprehensive security report","requires":["reporting"],"depends_on":["audit_auth_flow","audit_input_validation","audit_dependencies"]}
JSON
}

@test "the audit example gets levels 0 1 1 1 2 and the seed's agents" {
	audit > plan.ndjson
	run loom-levels plan.ndjson
	assert_success
	run jq -r 'select(.type=="task") | "\(.id) \(.level) \(.role) \(.agent) \(.outputs_to)"' <<<"$output"
	assert_output - <<'OUT'
map_auth_surface 0 architect architect_1 loom/outputs/architect_1.json
audit_auth_flow 1 reviewer reviewer_1 loom/outputs/reviewer_1.json
audit_input_validation 1 reviewer reviewer_2 loom/outputs/reviewer_2.json
audit_dependencies 1 reviewer reviewer_3 loom/outputs/reviewer_3.json
aggregate_findings 2 documenter documenter_1 loom/outputs/documenter_1.json
OUT
}

@test "the plan record comes first, other records next, tasks by level" {
	{ t b '["a"]'; echo '{"type":"note","text":"hi"}'; t a '[]'
	  echo '{"type":"plan","version":2}'; } > in
	run loom-levels in
	assert_success
	run jq -c '[.type, .id]' <<<"$output"
	assert_output - <<'OUT'
["plan",null]
["note",null]
["task","a"]
["task","b"]
OUT
}

@test "input order breaks ties within a level, whatever the id" {
	{ t z '[]'; t y '["z"]'; t m '[]'; t a '["m"]'; t k '["z"]'; } > in
	loom-levels in > out
	run jq -r '"\(.level) \(.id)"' out
	assert_output - <<'OUT'
0 z
0 m
1 y
1 a
1 k
OUT
}

@test "a level is one more than the highest level among the dependencies" {
	{ t d '["a","c"]'; t c '["b"]'; t b '["a"]'; t a '[]'; } > in
	loom-levels in > out
	run jq -r '"\(.id)=\(.level)"' out
	assert_output - <<'OUT'
a=0
b=1
c=2
d=3
OUT
}

@test "records pass through byte for byte, new fields at the end" {
	printf '%s\n' '{"type":"task", "id":"a","x":{"k":[1, 2.50]},"depends_on":[],"zz":"\u00e9"}' > in
	run loom-levels in
	assert_success
	assert_output '{"type":"task", "id":"a","x":{"k":[1, 2.50]},"depends_on":[],"zz":"\u00e9","level":0,"role":"general","agent":"general_1","outputs_to":"loom/outputs/general_1.json"}'
}

@test "given role, agent and outputs_to are kept; level is recomputed" {
	t a '[]' ',"role":"coder","agent":"mine","outputs_to":"loom/o/a.txt","level":7' > in
	t b '["a"]' ',"role":"coder"' >> in
	run sh -c 'loom-levels in | jq -c "[.id,.level,.role,.agent,.outputs_to]"'
	assert_output - <<'OUT'
["a",0,"coder","mine","loom/o/a.txt"]
["b",1,"coder","coder_1","loom/outputs/coder_1.json"]
OUT
}

@test "agent numbers skip names given to other tasks" {
	{ t a '[]' ',"role":"coder"'; t b '[]' ',"role":"coder","agent":"coder_1"'; } > in
	run sh -c 'loom-levels in | jq -r .agent'
	assert_output $'coder_2\ncoder_1'
}

@test "roles come from requires, then from the description" {
	while read -r req desc want; do
		desc=${desc//_/ }
		[ "$desc" = - ] && desc=""
		printf '{"type":"task","id":"x","description":"%s","requires":%s,"depends_on":[]}\n' \
		    "$desc" "$req" > in
		got=$(loom-levels in | jq -r .role)
		[ "$got" = "$want" ] || { echo "$req '$desc': got $got, want $want"; return 1; }
	done <<'TABLE'
["research"] - researcher
["web_search"] - researcher
["api_research"] - researcher
["design"] - architect
["architecture"] - architect
["code_analysis"] - architect
["implementation"] - coder
["coding"] - coder
["python"] - coder
["security_review"] - reviewer
["review"] - reviewer
["testing"] - reviewer
["validation"] - reviewer
["data_analysis"] - data_analyst
["reporting"] - documenter
["documentation"] - documenter
["debugging"] - debugger
["cooking"] - general
[] Research_the_API researcher
[] Design_the_schema architect
[] Implement_the_parser coder
[] Reviewing_the_code reviewer
[] Write_the_final_report documenter
[] Debug_the_crash debugger
[] Compile_a_web-search_list researcher
[] Do_it general
["cooking","debugging"] Design debugger
[] Test_the_design_and_report reviewer
[] prereview_things general
TABLE
}

@test "the work directory moves the default output paths" {
	t a '[]' > in
	run sh -c 'loom-levels -w run1 in | jq -r .outputs_to'
	assert_output run1/outputs/general_1.json
	run sh -c 'LOOM_WORKDIR=/tmp/w loom-levels in | jq -r .outputs_to'
	assert_output /tmp/w/outputs/general_1.json
	run sh -c 'LOOM_WORKDIR=/tmp/w loom-levels --workdir=x in | jq -r .outputs_to'
	assert_output x/outputs/general_1.json
}

@test "bad input: messages name file and line, exit 1, no records" {
	check() {
		printf '%b' "$1" > in.ndjson
		run loom-levels in.ndjson
		[ "$status" -eq 1 ] || { echo "status $status for $1"; return 1; }
		[ "$output" = "$2" ] || { printf 'for %s\ngot:  %s\nwant: %s\n' "$1" "$output" "$2"; return 1; }
	}
	T='{"type":"task","id":'
	check "$T\"a\",\"depends_on\":[]}\n$T\"a\",\"depends_on\":[]}\n" \
	    'loom-levels: in.ndjson:2: duplicate task id "a" (first at in.ndjson:1)'
	check "$T\"a\",\"depends_on\":[\"nope\"]}\n" \
	    'loom-levels: in.ndjson:1: task "a" depends on unknown task "nope"'
	check "\n$T\"a\",\"depends_on\":[\"a\"]}\n" \
	    'loom-levels: in.ndjson:2: task "a" depends on itself'
	check "$T\"a\",\"depends_on\":[\"c\"]}\n$T\"b\",\"depends_on\":[\"a\"]}\n$T\"c\",\"depends_on\":[\"b\"]}\n" \
	    'loom-levels: dependency cycle: a -> c -> b -> a'
	check "$T\"\",\"depends_on\":[]}\n" \
	    'loom-levels: in.ndjson:1: task id must be a non-empty string'
	check "$T 5,\"depends_on\":[]}\n" \
	    'loom-levels: in.ndjson:1: task id must be a non-empty string'
	check "$T\"a\",\"depends_on\":\"b\"}\n" \
	    'loom-levels: in.ndjson:1: task "a": depends_on must be an array of strings'
	check "$T\"a\",\"depends_on\":[],\"role\":\"Chief\"}\n" \
	    'loom-levels: in.ndjson:1: task "a": bad role "Chief" (roles match [a-z][a-z0-9_]*)'
	check "$T\"a\",\"depends_on\":[],\"outputs_to\":\"/etc/x\"}\n" \
	    'loom-levels: in.ndjson:1: task "a": outputs_to: absolute path "/etc/x"'
	check "$T\"a\",\"depends_on\":[],\"outputs_to\":\"loom/../../x\"}\n" \
	    'loom-levels: in.ndjson:1: task "a": outputs_to: path "loom/../../x" leaves its directory ("..")'
	check '{"id":"a"}\n' \
	    'loom-levels: in.ndjson:1: record has no "type"'
	check '[1]\n' \
	    'loom-levels: in.ndjson:1: record is not a JSON object'
	check '{"type":"plan"}\n{"type":"plan"}\n' \
	    'loom-levels: in.ndjson:2: a second plan record (the first is at in.ndjson:1)'
	check '{"type":"task",\n"id":\n' \
	    'loom-levels: in.ndjson:2: invalid JSON: unfinished JSON term at EOF'
	check '{"type":"task" "id":"a"}\n' \
	    'loom-levels: in.ndjson:1: invalid JSON: expected separator between values'
}

@test "every problem is reported, not only the first" {
	{ t a '["x"]'; t b '["y"]'; t a '[]'; } > in
	run loom-levels in
	assert_failure 1
	assert_line -n 0 'loom-levels: in:3: duplicate task id "a" (first at in:1)'
	assert_line -n 1 'loom-levels: in:1: task "a" depends on unknown task "x"'
	assert_line -n 2 'loom-levels: in:2: task "b" depends on unknown task "y"'
}

@test "a cycle is found among many tasks and printed as its path" {
	{ for i in $(seq 1 200); do t "n$i" "[\"n$((i + 1))\"]"; done; t n201 '["n150"]'; } > in
	run loom-levels in
	assert_failure 1
	assert_output "loom-levels: dependency cycle: $(seq -f 'n%g ->' 150 201 | tr '\n' ' ')n150"
}

@test "lines are right on stdin, after CRLF and a byte-order mark" {
	printf '\xef\xbb\xbf{"type":"task","id":"a","depends_on":[]}\r\n\r\n{"type":"task","id":"a","depends_on":[]}\r\n' > in
	run sh -c 'cat in | loom-levels'
	assert_failure 1
	assert_output 'loom-levels: stdin:3: duplicate task id "a" (first at stdin:1)'
	run loom-levels in
	assert_output 'loom-levels: in:3: duplicate task id "a" (first at in:1)'
	printf '\xef\xbb\xbf{"type":"task","id":"a","depends_on":[]}\r\n' > in
	run sh -c 'cat in | loom-levels | jq -r .agent'
	assert_output general_1
}

@test "several files are read in order; messages name each" {
	t a '[]' > one
	{ t b '["a"]'; t a '[]'; } > two
	run loom-levels one two
	assert_failure 1
	assert_output 'loom-levels: two:2: duplicate task id "a" (first at one:1)'
	run sh -c 'loom-levels one - < two'
	assert_output 'loom-levels: stdin:2: duplicate task id "a" (first at one:1)'
	t b '["a"]' > two
	run sh -c 'loom-levels one two | jq -r .id'
	assert_output $'a\nb'
}

@test "a record over several lines is read and written on one" {
	printf '{"type":"task",\n "id":"a",\n "depends_on":[]}\n' > in
	run loom-levels in
	assert_success
	assert_output '{"type":"task","id":"a","depends_on":[],"level":0,"role":"general","agent":"general_1","outputs_to":"loom/outputs/general_1.json"}'
}

@test "a NUL byte is refused" {
	printf '{"type":"task","id":"a","depends_on":[]}\n\0\n' > in
	run loom-levels in
	assert_failure 1
	assert_output 'loom-levels: in:2: NUL byte in input'
}

@test "an RS byte is refused, not passed on (libjq took it for a separator)" {
	printf '\036\n' > in
	run loom-levels in
	assert_failure 1
	assert_output 'loom-levels: in:1: RS byte (0x1e) in input'
	printf '{"type":"plan"}\n{"type":"task","id":"a"}\036\n' > in
	run loom-levels in
	assert_failure 1
	assert_output 'loom-levels: in:2: RS byte (0x1e) in input'
}

@test "deep nesting is a clean error" {
	{ printf '{"type":"task","id":"a","x":'; head -c 5000 /dev/zero | tr '\0' '['; echo; } > in
	run loom-levels in
	assert_failure 1
	assert_output 'loom-levels: in:1: invalid JSON: exceeds depth limit for parsing'
}

@test "empty input: no output, exit 0" {
	run loom-levels /dev/null
	assert_success
	assert_output ''
	printf '\xef\xbb\xbf' > bom
	run loom-levels bom
	assert_success
	assert_output ''
	run sh -c 'printf "\n\n" | loom-levels'
	assert_success
	assert_output ''
}

@test "usage errors exit 2; --help and --version exit 0" {
	run loom-levels --bogus
	assert_failure 2
	run loom-levels -d svg
	assert_failure 2
	assert_line -n 0 'loom-levels: unknown drawing "svg" (text, dot or mermaid)'
	run loom-levels no-such-file
	assert_failure 2
	assert_output 'loom-levels: no-such-file: No such file or directory'
	run loom-levels --help
	assert_success
	assert_output 'usage: loom-levels [-w dir] [-d text | dot | mermaid] [file ...]'
	run loom-levels --version
	assert_success
	assert_output --regexp '^loom-levels [0-9]'
}

@test "draw text groups tasks by level" {
	audit > plan
	run loom-levels -d text plan
	assert_success
	assert_output - <<'OUT'
level 0
  map_auth_surface [architect_1]

level 1 (3 in parallel)
  audit_auth_flow [reviewer_1]  <- map_auth_surface
  audit_input_validation [reviewer_2]  <- map_auth_surface
  audit_dependencies [reviewer_3]  <- map_auth_surface

level 2
  aggregate_findings [documenter_1]  <- audit_auth_flow, audit_input_validation, audit_dependencies
OUT
}

@test "draw dot has an edge per dependency and a rank per level" {
	audit > plan
	run loom-levels --draw dot plan
	assert_success
	assert_line '	n0 [label="map_auth_surface\narchitect_1"];'
	assert_line '	n0 -> n1;'
	assert_line '	{ rank=same; n1; n2; n3; }'
	[ "$(grep -c -- '->' <<<"$output")" -eq 6 ]
}

@test "draw escapes quotes in ids for dot and mermaid" {
	t 'a\"b' '[]' > in
	run loom-levels -d dot in
	assert_line '	n0 [label="a\"b\ngeneral_1"];'
	run loom-levels -d mermaid in
	assert_output $'flowchart TD\n\tn0["a#quot;b<br/>general_1"]'
}

@test "draw mermaid names nodes by number and links them" {
	audit > plan
	run loom-levels -d mermaid plan
	assert_success
	assert_line -n 0 'flowchart TD'
	assert_line '	n0 --> n1'
	assert_line '	n3 --> n4'
}

@test "a closed stdout is an error, not a crash" {
	audit > plan
	run sh -c 'loom-levels plan > /dev/full'
	assert_failure 2
	assert_output --partial 'loom-levels: stdout'
}

@test "ids with markup or controls are drawn as text" {
	t '<b>x&#1;' '[]' > in
	run loom-levels -d mermaid in
	assert_output $'flowchart TD\n\tn0["#lt;b#gt;x#amp;#35;1;<br/>general_1"]'
	printf '{"type":"task","id":"a\\u001b[2Jb\\u007f","depends_on":[]}\n' > in
	run loom-levels -d text in
	assert_output $'level 0\n  a?[2Jb? [general_1]'
}

@test "an output path with a control character is refused" {
	t a '[]' ',"outputs_to":"loom/x\n/etc/passwd"' > in
	run loom-levels in
	assert_failure 1
	assert_output 'loom-levels: in:1: task "a": outputs_to: control character in path "loom/x\x0a/etc/passwd"'
}

@test "two tasks may not write one output, given or by default" {
	{ t a '[]' ',"outputs_to":"loom/x.json"'; t b '[]' ',"outputs_to":"./loom//x.json"'; } > in
	run loom-levels in
	assert_failure 1
	assert_output 'loom-levels: in:2: task "b" writes "./loom//x.json", the output of task "a"'
	{ t a '[]' ',"outputs_to":"loom/outputs/general_2.json"'; t b '[]'; t c '[]'; } > in
	run loom-levels in
	assert_failure 1
	assert_output 'loom-levels: in:2: task "b" would write "loom/outputs/general_2.json", the output of task "a": give it an outputs_to'
}

@test "ids that differ only in control characters stay two nodes in dot" {
	printf '%s\n' '{"type":"task","id":"x\ny","depends_on":[]}' \
	    '{"type":"task","id":"x?y","depends_on":["x\ny"]}' > in
	run loom-levels -d dot in
	assert_line '	n0 [label="x?y\ngeneral_1"];'
	assert_line '	n1 [label="x?y\ngeneral_2"];'
	assert_line '	n0 -> n1;'
}

# --- how records are kept: what the memory savings must not change -----

@test "records sharing a line, over lines, or with trailing blanks come out whole" {
	# From a file loom-levels re-reads a record alone on its line up to
	# the line's end; these are the records for which that is not so.
	printf '%s' '{"type":"task","id":"a","depends_on":[]} {"type":"task","id":"b","depends_on":["a"]}' > in
	printf '\n{"type":"task",\n "id":"c", "depends_on":["b"]}  {"type":"task","id":"d","depends_on":[]}\t \r\n' >> in
	printf '  {"type":"task","id":"e","depends_on":["d"],"x":"} {"}   \n' >> in
	printf '{"type":"task","id":"f","depends_on":[]}' >> in
	run loom-levels in
	assert_success
	assert_output - <<'OUT'
{"type":"task","id":"a","depends_on":[],"level":0,"role":"general","agent":"general_1","outputs_to":"loom/outputs/general_1.json"}
{"type":"task","id":"d","depends_on":[],"level":0,"role":"general","agent":"general_2","outputs_to":"loom/outputs/general_2.json"}
{"type":"task","id":"f","depends_on":[],"level":0,"role":"general","agent":"general_3","outputs_to":"loom/outputs/general_3.json"}
{"type":"task","id":"b","depends_on":["a"],"level":1,"role":"general","agent":"general_4","outputs_to":"loom/outputs/general_4.json"}
{"type":"task","id":"e","depends_on":["d"],"x":"} {","level":1,"role":"general","agent":"general_5","outputs_to":"loom/outputs/general_5.json"}
{"type":"task","id":"c","depends_on":["b"],"level":2,"role":"general","agent":"general_6","outputs_to":"loom/outputs/general_6.json"}
OUT
	run sh -c 'cat in | loom-levels'
	assert_success
	assert_output "$(loom-levels in)"
}

@test "long ids and many ids are told apart" {
	# Ids of 300 bytes and more (a longer length field), over many
	# groups of eight (the map keeps where every eighth one starts).
	long=$(printf 'x%.0s' $(seq 300))
	{ for i in $(seq 1 1000); do t "$long$i" "[\"${long}$((i / 2))\"]"; done
	  t "$long" '[]'; } | sed "s/\"${long}0\"/\"$long\"/" > in
	run loom-levels in
	assert_success
	run jq -r '"\(.id | ltrimstr("'"$long"'")) \(.level)"' <<<"$output"
	assert_line -n 0 " 0"
	assert_line -n 1 "1 1"
	assert_line "511 9"
	assert_line "512 10"
	assert_line -n 1000 "1000 10"
}

@test "duplicates are found before and after the first, with the first's line" {
	{ t a '[]'; t b '[]'; t a '[]'; t c '["a"]'; t b '[]'; t c '[]'; t d '["c"]'; } > in
	run loom-levels in
	assert_failure 1
	assert_output - <<'OUT'
loom-levels: in:3: duplicate task id "a" (first at in:1)
loom-levels: in:5: duplicate task id "b" (first at in:2)
loom-levels: in:6: duplicate task id "c" (first at in:4)
OUT
}

@test "more than 255 roles keep each task's own" {
	for i in $(seq 1 300); do t "t$i" '[]' ",\"role\":\"r$i\""; done > in
	run sh -c 'loom-levels in | jq -r "\"\(.role) \(.agent)\"" | sort -u | wc -l'
	assert_output 300
	run sh -c 'loom-levels in | jq -r "select(.id == \"t1\" or .id == \"t300\") | .agent"'
	assert_output $'r1_1\nr300_1'
}
