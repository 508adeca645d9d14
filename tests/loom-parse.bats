#!/usr/bin/env bats
# loom-parse: every input form of the seed's security audit, the records it
# writes, and every way it refuses input.

load test_helper
bats_require_minimum_version 1.5.0

F="$TOP/tests/fixtures"

# tasks FILE...: the task records loom-parse writes, compact, sorted keys.
tasks() {
	loom-parse "$@" | jq -cS 'select(.type == "task")'
}

# rejects NAME CONTENT STATUS MESSAGE: CONTENT (printf %b) written to NAME
# makes loom-parse exit with STATUS, print MESSAGE and write no record.
rejects() {
	printf '%b' "$2" > "$1"
	run --separate-stderr loom-parse "$1"
	assert_equal "$status" "$3"
	assert_equal "$output" ""
	assert_equal "$stderr" "loom-parse: $4"
}

# accepts NAME CONTENT EXPECTED: CONTENT (printf %b) in NAME gives the
# records EXPECTED (compared after jq -cS).
accepts() {
	printf '%b' "$2" > "$1"
	run --separate-stderr loom-parse "$1"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(printf '%s\n' "$output" | jq -cS .)" \
	    "$(printf '%s\n' "$3" | jq -cS .)"
}

# --- the seed's plan in every form ------------------------------------

@test "the fixtures hold the seed's five tasks and their levels' shape" {
	run jq -r 'select(.type == "task") |
	    "\(.id) \(.requires | join(",")) \(.depends_on | join(",")) \(.outputs_to)"' \
	    "$F/audit.expected"
	assert_output - <<'EOF'
map_auth_surface code_analysis  loom/outputs/architect_1.py
audit_auth_flow security_review map_auth_surface loom/outputs/reviewer_1.py
audit_input_validation security_review map_auth_surface loom/outputs/reviewer_2.py
audit_dependencies security_review map_auth_surface loom/outputs/reviewer_3.py
aggregate_findings reporting audit_auth_flow,audit_input_validation,audit_dependencies loom/outputs/documenter_1.py
EOF
}

@test "every form gives the same five task records" {
	jq -cS 'select(.type == "task")' "$F/audit.expected" > want
	[ "$(wc -l < want)" -eq 5 ]
	for f in audit_class.py audit_flat.py audit.json audit_array.json \
	    audit.ndjson audit.loom; do
		tasks "$F/$f" > got || { echo "$f failed"; return 1; }
		diff -u want got || { echo "$f differs"; return 1; }
	done
}

@test "every form with plan fields gives the same plan record, first" {
	for f in audit_class.py audit_flat.py audit.json audit.ndjson \
	    audit.loom; do
		loom-parse "$F/$f" > got
		diff -u "$F/audit.expected" got || { echo "$f"; return 1; }
	done
}

@test "the plan record of the class form" {
	run loom-parse "$F/audit_class.py"
	assert_success
	assert_line -n 0 '{"type":"plan","version":1,"original":"perform comprehensive security audit of the authentication system","intent":"Find and report security issues in authentication","context":{"target":"src/auth","focus":"authentication"}}'
}

@test "a bare array of tasks gives no plan record" {
	run loom-parse "$F/audit_array.json"
	assert_success
	refute_output --partial '"plan"'
	assert_equal "${#lines[@]}" 5
}

@test "stdin, '-' and a file give the same records" {
	loom-parse "$F/audit.loom" > a
	loom-parse < "$F/audit.loom" > b
	loom-parse - < "$F/audit.loom" > c
	cmp a b
	cmp a c
}

@test "task records come out with type, id, description, requires, depends_on first" {
	run loom-parse "$F/audit_array.json"
	assert_line -n 0 '{"type":"task","id":"map_auth_surface","description":"Identify all authentication-related files and entry points","requires":["code_analysis"],"depends_on":[],"outputs_to":"loom/outputs/architect_1.py"}'
}

@test "loom-levels reads what loom-parse writes (when built)" {
	[ -x "$TOP/bin/loom-levels" ] || skip "loom-levels not built"
	for f in audit_class.py audit.loom audit.ndjson; do
		loom-parse "$F/$f" | loom-levels |
		    jq -r 'select(.type == "task") | "\(.level) \(.agent)"' \
		    > got
		printf '%s\n' "0 architect_1" "1 reviewer_1" "1 reviewer_2" \
		    "1 reviewer_3" "2 documenter_1" | diff -u - got
	done
}

# --- several files ----------------------------------------------------

@test "several files: plan fields combine first, tasks in file order" {
	printf '@intent: x\n@context.a: 1\na: | one\n' > one.loom
	printf '{"tasks": [{"id": "b"}], "version": 2, "intent": "x"}\n' \
	    > two.json
	printf 'context = {"a": "1"}\ntasks = [{"id": "c"}]\n' > three.py
	run loom-parse one.loom two.json three.py
	assert_success
	assert_output - <<'EOF'
{"type":"plan","intent":"x","context":{"a":"1"},"version":2}
{"type":"task","id":"a","description":"one","requires":[],"depends_on":[]}
{"type":"task","id":"b","description":"","requires":[],"depends_on":[]}
{"type":"task","id":"c","description":"","requires":[],"depends_on":[]}
EOF
}

@test "several files: a plan field given twice with different values" {
	printf '@intent: x\na:\n' > one.loom
	printf '{"type":"plan","intent":"y"}\n' > two.ndjson
	run --separate-stderr loom-parse one.loom two.ndjson
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" \
	    'loom-parse: two.ndjson:1: plan field "intent" given twice with different values'
}

@test "several files: a bad one writes nothing, the others are still read" {
	printf 'a:\n' > good.loom
	printf '{"id": 1}\n' > bad.json
	printf 'x = y\n' > bad.py
	run --separate-stderr loom-parse good.loom bad.json bad.py
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" "$(printf '%s\n' \
	    'loom-parse: bad.json:1: task "id" must be a non-empty string, got 1' \
	    'loom-parse: bad.py:1: name "y" is not a literal')"
}

# --- empty input, CRLF, byte-order mark, NUL ---------------------------

@test "empty input: exit 0 and no output" {
	for c in '' '\n\n' '  \n\t\n' '# only a comment\n' '\xef\xbb\xbf'; do
		printf '%b' "$c" > in
		run --separate-stderr loom-parse in
		assert_success
		assert_equal "$output" ""
		assert_equal "$stderr" ""
	done
	run loom-parse < /dev/null
	assert_success
	assert_output ""
}

@test "CRLF line ends in every form" {
	jq -cS 'select(.type == "task")' "$F/audit.expected" > want
	for f in audit_class.py audit_flat.py audit.json audit_array.json \
	    audit.ndjson audit.loom; do
		sed 's/$/\r/' "$F/$f" > "crlf.$f"
		grep -q $'\r$' "crlf.$f"
		tasks "crlf.$f" > got || { echo "$f failed"; return 1; }
		diff -u want got || { echo "$f differs"; return 1; }
	done
}

@test "a UTF-8 byte-order mark in every form" {
	jq -cS 'select(.type == "task")' "$F/audit.expected" > want
	for f in audit_class.py audit_flat.py audit.json audit_array.json \
	    audit.ndjson audit.loom; do
		{ printf '\xef\xbb\xbf'; cat "$F/$f"; } > "bom.$f"
		tasks "bom.$f" > got || { echo "$f failed"; return 1; }
		diff -u want got || { echo "$f differs"; return 1; }
	done
}

@test "a NUL byte is refused in every form, with its line" {
	rejects in.json '{"id": "a"}\n{"id": "b\0"}\n' 1 \
	    'in.json:2: NUL byte in input'
	rejects in.py 'x = 1\ny = 2\n\0\n' 1 'in.py:3: NUL byte in input'
	rejects in.loom 'a:\n\0' 1 'in.loom:2: NUL byte in input'
	rejects in.bom '\xef\xbb\xbf\0' 1 'in.bom:1: NUL byte in input'
}

@test "an RS byte in JSON is refused, not a crash in libjq" {
	rejects in.json '{"id": "a",\n\x1e"x": 1}\n' 1 \
	    'in.json:2: RS byte (0x1e) in input'
	rejects in.json '["\x1e"]\n' 1 \
	    'in.json:1: RS byte (0x1e) in input'
	accepts in.loom 'a: | x\x1ey\n' \
	    '{"type":"task","id":"a","description":"x\u001ey","requires":[],"depends_on":[]}'
}

@test "a string escape for NUL cannot smuggle a path or an id" {
	rejects in.json '{"id": "a", "outputs_to": "x\\u0000/../../etc"}\n' 1 \
	    'in.json:1: task "a": "outputs_to" holds a NUL byte'
	rejects in.json '{"id": "a\\u0000b"}\n' 1 \
	    'in.json:1: task "id" holds a NUL byte'
}

# --- JSON -------------------------------------------------------------

@test "NDJSON: a typeless object with an id is a task" {
	accepts in.ndjson '{"id": "a", "requires": ["x"]}\n' \
	    '{"type":"task","id":"a","description":"","requires":["x"],"depends_on":[]}'
}

@test "pass-through: unknown task fields keep their place and value" {
	printf '{"zeta": [1, {"k": null}], "id": "a", "alpha": "x", "type": "task", "run": "make", "mid": 1.5}\n' > in
	run loom-parse in
	assert_success
	assert_output '{"type":"task","id":"a","description":"","requires":[],"depends_on":[],"zeta":[1,{"k":null}],"alpha":"x","run":"make","mid":1.5}'
}

@test "pass-through: other record types, unchanged and in order" {
	cat > in <<'EOF'
{"type": "note", "text": "before", "n": [1, 2]}
{"type": "task", "id": "a"}
{"type": "checkpoint", "at": "a"}
{"type": "plan", "intent": "z"}
{"type": "task", "id": "b"}
EOF
	run loom-parse in
	assert_success
	assert_output - <<'EOF'
{"type":"plan","intent":"z"}
{"type":"note","text":"before","n":[1,2]}
{"type":"task","id":"a","description":"","requires":[],"depends_on":[]}
{"type":"checkpoint","at":"a"}
{"type":"task","id":"b","description":"","requires":[],"depends_on":[]}
EOF
}

@test "pretty-printed JSON: an array and an object with tasks" {
	printf '[\n  {\n    "id": "a"\n  },\n  {\n    "id": "b",\n    "depends_on": [\n      "a"\n    ]\n  }\n]\n' > arr.json
	run loom-parse arr.json
	assert_success
	assert_output - <<'EOF'
{"type":"task","id":"a","description":"","requires":[],"depends_on":[]}
{"type":"task","id":"b","description":"","requires":[],"depends_on":["a"]}
EOF
	printf '{\n "version": 3,\n "tasks": [\n  {"id": "a"}\n ],\n "deliverables": ["r.md"]\n}\n' > obj.json
	run loom-parse obj.json
	assert_success
	assert_output - <<'EOF'
{"type":"plan","version":3,"deliverables":["r.md"]}
{"type":"task","id":"a","description":"","requires":[],"depends_on":[]}
EOF
}

@test "JSON errors name the line of the task in pretty-printed input" {
	sed 's/"id": "audit_dependencies"/"id": 5/' "$F/audit.json" > a.json
	rejects b.json "$(cat a.json)" 1 \
	    'b.json:28: task "id" must be a non-empty string, got 5'
	sed 's/"id": "audit_dependencies"/"id": 5/' "$F/audit_array.json" \
	    > a.json
	rejects c.json "$(cat a.json)" 1 \
	    'c.json:33: task "id" must be a non-empty string, got 5'
}

@test "JSON errors" {
	rejects in.json '{"a": 1,\n"b" 2}\n' 1 \
	    'in.json:2: invalid JSON: expected separator between values'
	rejects in.json '[{"id": "a"}\n' 1 \
	    'in.json:1: invalid JSON: unfinished JSON term at EOF'
	rejects in.json '{"id": "a"}\n5\n' 1 'in.json:2: expected an object, got 5'
	rejects in.json '[{"id": "a"}, "b"]\n' 1 \
	    'in.json:1: expected an object, got "b"'
	rejects in.json '{"name": "a"}\n' 1 \
	    'in.json:1: record without "type" or "id"'
	rejects in.json '{"type": 7}\n' 1 \
	    'in.json:1: "type" must be a string, got 7'
	rejects in.json '{"tasks": {"id": "a"}}\n' 1 \
	    'in.json:1: "tasks" must be a list, got {"id":"a"}'
}

@test "deeply nested JSON is a clean error, never a crash" {
	for n in 300 100000; do
		printf '{"id": "a", "x": ' > in.json
		head -c "$n" /dev/zero | tr '\0' '[' >> in.json
		head -c "$n" /dev/zero | tr '\0' ']' >> in.json
		printf '}\n' >> in.json
		run --separate-stderr loom-parse in.json
		assert_failure 1
		assert_equal "$output" ""
		assert_equal "$stderr" \
		    'loom-parse: in.json:1: invalid JSON: exceeds depth limit for parsing'
	done
}

# --- task checks, in every form ----------------------------------------

@test "task field checks" {
	rejects in.json '{"id": ""}\n' 1 \
	    'in.json:1: task "id" must be a non-empty string, got ""'
	rejects in.json '{"type": "task"}\n' 1 'in.json:1: task without "id"'
	rejects in.json '{"id": ["a"]}\n' 1 \
	    'in.json:1: task "id" must be a non-empty string, got ["a"]'
	rejects in.json '{"id": "a", "description": 5}\n' 1 \
	    'in.json:1: task "a": "description" must be a string, got 5'
	rejects in.json '{"id": "a", "requires": "x"}\n' 1 \
	    'in.json:1: task "a": "requires" must be a list of strings, got "x"'
	rejects in.json '{"id": "a", "depends_on": [1]}\n' 1 \
	    'in.json:1: task "a": "depends_on" must be a list of strings, got [1]'
	rejects in.json '{"id": "a", "role": null}\n' 1 \
	    'in.json:1: task "a": "role" must be a string, got null'
	rejects in.json '{"id": "a", "run": ["ls"]}\n' 1 \
	    'in.json:1: task "a": "run" must be a string, got ["ls"]'
	rejects in.json '{"id": "a", "timeout": -1}\n' 1 \
	    'in.json:1: task "a": "timeout" must be a number of seconds >= 0, got -1'
	rejects in.json '{"id": "a", "estimate": "5m"}\n' 1 \
	    'in.json:1: task "a": "estimate" must be a number of seconds >= 0, got "5m"'
	rejects in.json '{"id": "a", "retries": 1.5}\n' 1 \
	    'in.json:1: task "a": "retries" must be a whole number >= 0, got 1.5'
}

@test "outputs_to may not be absolute or leave the work directory" {
	rejects in.json '{"id": "a", "outputs_to": "/etc/passwd"}\n' 1 \
	    'in.json:1: task "a": bad "outputs_to": absolute path "/etc/passwd"'
	rejects in.json '{"id": "a", "outputs_to": "loom/../../x"}\n' 1 \
	    'in.json:1: task "a": bad "outputs_to": path "loom/../../x" leaves its directory ("..")'
	rejects in.py 'tasks = [\n  {"id": "a",\n   "outputs_to": ".."}]\n' 1 \
	    'in.py:2: task "a": bad "outputs_to": path ".." leaves its directory ("..")'
	rejects in.loom 'a:\n\toutputs_to: ../x\n' 1 \
	    'in.loom:1: task "a": bad "outputs_to": path "../x" leaves its directory ("..")'
	rejects in.json '{"id": "a", "outputs_to": ""}\n' 1 \
	    'in.json:1: task "a": bad "outputs_to": empty path'
	accepts in.json '{"id": "a", "outputs_to": "loom/..x/y..z"}\n' \
	    '{"type":"task","id":"a","description":"","requires":[],"depends_on":[],"outputs_to":"loom/..x/y..z"}'
}

@test "numbers and ids are checked the same way in Python and hand forms" {
	rejects in.py 'tasks = [{"id": "a"},\n  {"id": None}]\n' 1 \
	    'in.py:2: task "id" must be a non-empty string, got null'
	rejects in.py 'tasks = [{"id": "a", "retries": -2}]\n' 1 \
	    'in.py:1: task "a": "retries" must be a whole number >= 0, got -2'
	rejects in.py 'tasks = {"id": "a"}\n' 1 \
	    'in.py:1: "tasks" must be a list, got {"id":"a"}'
	rejects in.py 'tasks = [1]\n' 1 'in.py:1: expected an object, got 1'
}

# --- Python literals ----------------------------------------------------

@test "Python: the literals it reads" {
	cat > in.py <<'EOF'
"""Module docstring."""
import os
from x import (a,
               b)
s1 = 'single' "double" '''triple
quoted''' r'raw\n\'' R"\d"
s2 = "esc \t \x41 \101 \u00e9 \U0001F600 \q \\ \" end\
ed"
nums = [0, -1, +2, 3.5, -.5, 1e3, 1_000, 0x1F, 0o17, 0b101, 1., -0]
consts = (True, False, None)
tup = 1, 2,
one = (1)
single = (1,)
empty = ((), [], {})
st = {"x", 'y',}
d = {"a": {"b": [1, (2, 3)]}, 'c': "d",}
ann: dict[str, int] = {"k": 1}
bare: int
a = 1; b = 2
EOF
	run --separate-stderr loom-parse in.py
	assert_success
	assert_equal "$stderr" ""
	assert_output '{"type":"plan","s1":"singledoubletriple\nquotedraw\\n\\'"'"'\\d","s2":"esc \t A A é 😀 \\q \\ \" ended","nums":[0,-1,2,3.5,-0.5,1000,1000,31,15,5,1,0],"consts":[true,false,null],"tup":[1,2],"one":1,"single":[1],"empty":[[],[],{}],"st":["x","y"],"d":{"a":{"b":[1,[2,3]]},"c":"d"},"ann":{"k":1},"a":1,"b":2}'
}

@test "Python: the class form and the flat form give the same records" {
	printf 'class CompiledPrompt:\n    """Doc."""\n\n    version = 2\n    # comment\n    tasks = [\n        {"id": "a"},  # Level 0\n    ]\n' > class.py
	printf 'version = 2\ntasks = [{"id": "a"}]\n' > flat.py
	loom-parse class.py > a
	loom-parse flat.py > b
	cmp a b
	run cat a
	assert_line -n 0 '{"type":"plan","version":2}'
}

@test "Python: a class with bases and a one-line body" {
	accepts in.py 'class P(object): version = 1; tasks = []\n' \
	    '{"type":"plan","version":1}'
}

@test "Python: errors name the line" {
	rejects in.py 'x = 1\ny = os.path\n' 1 'in.py:2: name "os" is not a literal'
	rejects in.py 'tasks = [\n  {"id": make_id()}]\n' 1 \
	    'in.py:2: call of name "make_id" is not a literal'
	rejects in.py 'x = 1 + 2\n' 1 'in.py:1: operator "+" is not a literal'
	rejects in.py 'x = [1,\n  2 * 3]\n' 1 'in.py:2: operator "*" is not a literal'
	rejects in.py 'x = "a"[0]\n' 1 'in.py:1: operator "[" is not a literal'
	rejects in.py 'x = f"{y}"\n' 1 'in.py:1: f-string is not a literal'
	rejects in.py 'x = b"y"\n' 1 'in.py:1: bytes are not supported'
	rejects in.py 'x = 1 if y else 2\n' 1 \
	    'in.py:1: expression with name "if" is not a literal'
	rejects in.py 'x = -y\n' 1 'in.py:1: "-" applied to name "y" is not a literal'
	rejects in.py 'x = {1: "a"}\n' 1 'in.py:1: dict key must be a string'
	rejects in.py 'x = "\\N{BULLET}"\n' 1 \
	    'in.py:1: \N{...} escapes are not supported'
	rejects in.py 'x = "\\x4"\n' 1 \
	    'in.py:1: bad \x escape: 2 hex digits expected'
	rejects in.py 'x = "\\ud800"\n' 1 \
	    'in.py:1: bad \u escape: d800 is not a character'
	rejects in.py 'x = 1\ny = "abc\n' 1 'in.py:2: unterminated string'
	rejects in.py 'x = """abc\n\n' 1 'in.py:1: unterminated string'
	rejects in.py 'x = [1,\n  2\n' 1 'in.py:1: "[" is never closed'
	rejects in.py 'x = [1 2]\n' 1 'in.py:1: expected "," or "]", got a number'
	rejects in.py 'x = 007\n' 1 'in.py:1: bad number "007"'
	rejects in.py 'x = 1j\n' 1 'in.py:1: bad number "1j"'
	rejects in.py 'x = 1 = 2\n' 1 'in.py:1: expected end of line, got "="'
	rejects in.py 'def f():\n    pass\n' 1 \
	    'in.py:1: expected an assignment, got name "def"'
	rejects in.py 'x = 1\nprint(x)\n' 1 \
	    'in.py:2: expected "=" after name "print", got "("'
	rejects in.py 'class A:\nx = 1\n' 1 \
	    'in.py:2: expected an indented block after the class line'
	rejects in.py 'x = 1\n  y = 2\n' 1 'in.py:2: unexpected indent'
	rejects in.py 'class A:\n    x = 1\n  y = 2\n' 1 \
	    'in.py:3: unindent does not match any outer indentation level'
	rejects in.py '__class__ = 1\n' 1 'in.py:1: the name "__class__" is reserved'
}

@test "Python: nesting deeper than 256 is a clean error" {
	{ printf 'x = '; head -c 100000 /dev/zero | tr '\0' '['; } > in.py
	run --separate-stderr loom-parse in.py
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" 'loom-parse: in.py:1: nesting deeper than 256'
	python3 -c 'print("x = " + "[" * 256 + "]" * 256)' > ok.py 2>/dev/null ||
	    { printf 'x = '; head -c 256 /dev/zero | tr '\0' '[';
	      head -c 256 /dev/zero | tr '\0' ']'; echo; } > ok.py
	run loom-parse ok.py
	assert_success
}

# --- the hand-written format ----------------------------------------------

@test "hand: the example of the format description" {
	cat > in.loom <<'EOF'
# a comment: a line whose first non-blank character is '#'
@intent: perform a security audit of src/
@context.target: src
map: ; grep -rln auth src/
audit_flow: map | Review authentication flow logic
	requires: security_review
	run: ./audit-flow.sh
report: audit_flow audit_input ; ./report.sh
EOF
	run loom-parse in.loom
	assert_success
	assert_output - <<'EOF'
{"type":"plan","intent":"perform a security audit of src/","context":{"target":"src"}}
{"type":"task","id":"map","description":"","requires":[],"depends_on":[],"run":"grep -rln auth src/"}
{"type":"task","id":"audit_flow","description":"Review authentication flow logic","requires":["security_review"],"depends_on":["map"],"run":"./audit-flow.sh"}
{"type":"task","id":"report","description":"","requires":[],"depends_on":["audit_flow","audit_input"],"run":"./report.sh"}
EOF
}

@test "hand: '|' and ';' whichever comes first takes the rest" {
	accepts in.loom 'a: | x; y\nb: a ; cmd | grep x\nc: a|d\n' \
	    "$(printf '%s\n' \
	    '{"type":"task","id":"a","description":"x; y","requires":[],"depends_on":[]}' \
	    '{"type":"task","id":"b","description":"","requires":[],"depends_on":["a"],"run":"cmd | grep x"}' \
	    '{"type":"task","id":"c","description":"d","requires":[],"depends_on":["a"]}')"
}

@test "hand: fields, joins, suffixes and their order" {
	printf 'b: a ; one\n\ttimeout: 1.5m\n  run: two\n\tdescription: first\n\tdescription: second\n\testimate: 2h\n\tretries: 3\n\trole: coder\n\trequires: x y\n\trequires: z\n\tdepends_on: c\n\toutputs_to: out/b.json\n' > in.loom
	run loom-parse in.loom
	assert_success
	assert_output '{"type":"task","id":"b","description":"first second","requires":["x","y","z"],"depends_on":["a","c"],"run":"one\ntwo","timeout":90,"estimate":7200,"retries":3,"role":"coder","outputs_to":"out/b.json"}'
}

@test "hand: plan fields" {
	accepts in.loom '@version: 2.5\n@original: do it | now\n@context.a: b c\n@deliverables: report.md\n' \
	    '{"type":"plan","version":2.5,"original":"do it | now","context":{"a":"b c"},"deliverables":"report.md"}'
}

@test "hand: errors" {
	rejects in.loom 'http://x\n' 1 \
	    'in.loom:1: expected "ID:" at the start of a task line, got "http://x"'
	rejects in.loom 'a b: c\n' 1 \
	    'in.loom:1: expected "ID:" at the start of a task line, got "a b: c"'
	rejects in.loom '\trequires: x\n' 1 'in.loom:1: indented line before any task'
	rejects in.loom 'a:\n\treqires: x\n' 1 'in.loom:2: unknown field "reqires"'
	rejects in.loom 'a:\n\tno colon\n' 1 \
	    'in.loom:2: expected "KEY: VALUE", got "no colon"'
	rejects in.loom 'a:\n\ttimeout: 5x\n' 1 'in.loom:2: bad number "5x" for timeout'
	rejects in.loom 'a:\n\testimate: -1\n' 1 'in.loom:2: bad number "-1" for estimate'
	rejects in.loom 'a:\n\tretries: 1.5\n' 1 'in.loom:2: bad number "1.5" for retries'
	rejects in.loom 'a:\n\trole: x\n\trole: y\n' 1 'in.loom:3: field "role" given twice'
	rejects in.loom '@version: one\n' 1 'in.loom:1: bad number "one" for version'
	rejects in.loom '@intent: a\n@intent: b\n' 1 \
	    'in.loom:2: plan field "intent" given twice'
	rejects in.loom '@type: x\n' 1 'in.loom:1: plan field "type" is reserved'
}

@test "the form is recognised from the first significant line" {
	accepts a '# comment\n\nx = 1\n' '{"type":"plan","x":1}'
	accepts b '# comment\n\nx: int = 1\n' '{"type":"plan","x":1}'
	accepts c '# comment\nx: y = 1\n' '{"type":"plan","x":1}'
	accepts c2 '# comment\nx: y z = 1\n' \
	    '{"type":"task","id":"x","description":"","requires":[],"depends_on":["y","z","=","1"]}'
	accepts d '\n  [{"id": "a"}]\n' \
	    '{"type":"task","id":"a","description":"","requires":[],"depends_on":[]}'
	accepts e 'class P:\n    x = 1\n' '{"type":"plan","x":1}'
	accepts f '@x: 1\n' '{"type":"plan","x":"1"}'
}

# --- options and output -----------------------------------------------------

@test "--help prints the synopsis and exits 0; --version" {
	run loom-parse --help
	assert_success
	assert_output "$(printf '%s\n' 'usage: loom-parse [-c] [-o file] [file ...]' \
	    '       loom-parse [-c] [-o file] --compile cmd prompt')"
	run loom-parse -h
	assert_success
	assert_line -n 0 'usage: loom-parse [-c] [-o file] [file ...]'
	run loom-parse --version
	assert_success
	assert_output 'loom-parse 0.1'
}

@test "--help matches the man page synopsis" {
	man -l "$TOP/man/loom-parse.1" 2>/dev/null >/dev/null ||
	    skip "man cannot render pages here"
	run sh -c "MANWIDTH=200 man -l '$TOP/man/loom-parse.1' 2>/dev/null |
	    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;\$d;/^ *\$/d' |
	    sed 's/^ *//'"
	assert_output "$(loom-parse --help | sed 's/^usage: //; s/^ *//')"
}

@test "usage errors and unreadable files exit 2 and write nothing" {
	run --separate-stderr loom-parse --bogus
	assert_failure 2
	assert_equal "$output" ""
	run --separate-stderr loom-parse -o
	assert_failure 2
	run --separate-stderr loom-parse "$F/audit.loom" missing.loom
	assert_failure 2
	assert_equal "$output" ""
	assert_equal "$stderr" \
	    'loom-parse: missing.loom: No such file or directory'
	mkdir dir
	run --separate-stderr loom-parse dir
	assert_failure 2
	assert_equal "$output" ""
}

@test "-o writes the file, --output too" {
	run loom-parse -o out "$F/audit.ndjson"
	assert_success
	assert_output ""
	cmp out "$F/audit.expected"
	run loom-parse --output=out2 "$F/audit.loom"
	assert_success
	cmp out2 "$F/audit.expected"
	run loom-parse --output out3 "$F/audit.json"
	cmp out3 "$F/audit.expected"
	[ "$(ls -A | grep -c loom-parse)" -eq 0 ]
}

@test "-o: bad input leaves an existing file untouched and no temp file" {
	printf 'old contents\n' > out
	printf '{"id": "a"}\n{"id": 2}\n' > bad.json
	run --separate-stderr loom-parse -o out bad.json
	assert_failure 1
	assert_equal "$stderr" \
	    'loom-parse: bad.json:2: task "id" must be a non-empty string, got 2'
	assert_equal "$(cat out)" "old contents"
	[ "$(ls -A | grep -c loom-parse)" -eq 0 ]
}

@test "-o replaces the file by rename, never rewriting it in place" {
	printf 'old contents\n' > out
	ln out keep		# a second name for the old file's inode
	run loom-parse -o out "$F/audit.loom"
	assert_success
	cmp out "$F/audit.expected"
	assert_equal "$(cat keep)" "old contents"
}

@test "-o into a directory that cannot be written exits 2" {
	[ "$(id -u)" -ne 0 ] || skip "root can write anywhere"
	mkdir ro
	printf 'old\n' > ro/out
	chmod a-w ro
	run --separate-stderr loom-parse -o ro/out "$F/audit.loom"
	chmod u+w ro
	assert_failure 2
	assert_equal "$(cat ro/out)" "old"
}

@test "-o into a directory that does not exist exits 2 and writes nothing" {
	run --separate-stderr loom-parse -o nodir/out "$F/audit.loom"
	assert_failure 2
	assert_equal "$output" ""
	assert_equal "$stderr" 'loom-parse: nodir/out: No such file or directory'
	[ ! -e nodir ]
}

@test "-o may name one of its own inputs: all is read before writing" {
	cp "$F/audit.loom" plan
	run loom-parse -o plan plan
	assert_success
	cmp plan "$F/audit.expected"
}

@test "Python: the seed's agent output file reads as plain data" {
	run loom-parse "$F/architect_1.py"
	assert_success
	run jq -c '[.type, .task_id, .iteration, .completed,
	    (.results.entry_points | length), .results.external_deps[1],
	    .prompt_patches[0].value.endpoints]' <<< "$output"
	assert_output '["plan","map_auth_surface",1,true,4,"PyJWT",4]'
}

@test "hand: 'ID:' may be followed at once by '|' or ';'" {
	accepts in.loom 'a:| text\nb:; cmd\n' "$(printf '%s\n' \
	    '{"type":"task","id":"a","description":"text","requires":[],"depends_on":[]}' \
	    '{"type":"task","id":"b","description":"","requires":[],"depends_on":[],"run":"cmd"}')"
}

@test "retries: a huge whole number is checked without a cast" {
	accepts in.json '{"id": "a", "retries": 1e300}\n' \
	    '{"type":"task","id":"a","description":"","requires":[],"depends_on":[],"retries":1e300}'
	rejects in.json '{"id": "a", "retries": 1e300, "timeout": -1e300}\n' 1 \
	    'in.json:1: task "a": "timeout" must be a number of seconds >= 0, got -1e+300'
	accepts in.json '{"id": "a", "retries": 1e3}\n' \
	    '{"type":"task","id":"a","description":"","requires":[],"depends_on":[],"retries":1000}'
}

@test "hand: control characters and DEL are not copied into messages" {
	rejects in.loom 'a\x7fb c\n' 1 \
	    'in.loom:1: expected "ID:" at the start of a task line, got "a?b c"'
}

@test "--compile: the agent's answer is read and checked like a plan" {
	printf 'x: | the answer\n' > answer
	run --separate-stderr loom-parse --compile "cat > request; cat answer" \
	    "do x"
	assert_success
	assert_output '{"type":"task","id":"x","description":"the answer","requires":[],"depends_on":[]}'
	grep -q 'do x' request
}

@test "--compile: two bad answers are an error, nothing written" {
	run --separate-stderr loom-parse --compile \
	    "cat > /dev/null; echo '{\"id\": 5}'; echo x >> tries" "do x"
	assert_failure 1
	assert_equal "$output" ""
	assert_equal "$stderr" "loom-parse: compile command \"cat > /dev/null; echo '{\\\"id\\\": 5}'; echo x >> tries\" gave no valid plan in two tries: answer:1: task \"id\" must be a non-empty string, got 5"
	assert_equal "$(wc -l < tries)" 2
}

@test "--compile takes exactly one prompt" {
	run loom-parse --compile true
	assert_failure 2
	run loom-parse --compile true a b
	assert_failure 2
}

# --- --check: the graph, with the plan's own lines --------------------

@test "--check: unknown, self and duplicate tasks name the plan's lines" {
	printf 'a: | x\nb: a zz | y\nc: c | z\na: | again\n' >g.loom
	run --separate-stderr loom-parse --check g.loom
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" 'loom-parse: g.loom:4: duplicate task id "a" (first at g.loom:1)'
	printf 'a: | x\nb: a zz | y\nc: c | z\n' >g.loom
	run --separate-stderr loom-parse -c g.loom
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" 'loom-parse: g.loom:2: task "b" depends on unknown task "zz"
loom-parse: g.loom:3: task "c" depends on itself'
}

@test "--check: a cycle is named as a path; a sound graph passes as is" {
	printf '{"id":"a","depends_on":["c"]}\n{"id":"b","depends_on":["a"]}\n{"id":"c","depends_on":["b"]}\n' >cyc.ndjson
	run --separate-stderr loom-parse --check cyc.ndjson
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "loom-parse: dependency cycle: a -> c -> b -> a"
	run loom-parse --check "$F/audit.json"
	assert_success
	assert_output "$(loom-parse "$F/audit.json")"
}

@test "--check: the tasks of several files are one graph" {
	printf 'a: | x\n' >one.loom
	printf 'b: a | y\n' >two.loom
	run loom-parse --check one.loom two.loom
	assert_success
	run --separate-stderr loom-parse --check two.loom
	assert_failure 1
	assert_equal "$stderr" 'loom-parse: two.loom:1: task "b" depends on unknown task "a"'
	# without --check the graph is loom-levels' business
	run loom-parse two.loom
	assert_success
}

@test "a field a slip away from a task field is warned of and passed on" {
	printf '%s\n' '{"id":"a","dependson":["b"],"descripton":"x","Run":"true","timout":3,"notes":"mine","runs":2}' >typo.ndjson
	run --separate-stderr loom-parse typo.ndjson
	assert_success
	assert_equal "$(jq -c '[.dependson, .descripton, .Run, .timout, .notes, .runs]' <<<"$output")" \
	    '[["b"],"x","true",3,"mine",2]'
	assert_equal "$stderr" 'loom-parse: typo.ndjson:1: task "a": field "dependson" is not one loom reads; did you mean "depends_on"?
loom-parse: typo.ndjson:1: task "a": field "descripton" is not one loom reads; did you mean "description"?
loom-parse: typo.ndjson:1: task "a": field "Run" is not one loom reads; did you mean "run"?
loom-parse: typo.ndjson:1: task "a": field "timout" is not one loom reads; did you mean "timeout"?'
}
