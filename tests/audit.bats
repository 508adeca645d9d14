#!/usr/bin/env bats
# The shipped audit (share/loom/examples/audit.loom and audit/*.sh): each
# script alone on the fixture code base with planted problems, then the
# whole plan through `loom run`.  Every planted problem must be found at its
# file, line and severity, and the clean files must yield nothing.

load test_helper

FIX="$TOP/tests/fixtures/audit-src"
AUDIT="$TOP/share/loom/examples/audit"

# task severity file line: what each audit must find in the fixture: the
# planted problems, and the one library it links (an info finding).
PLANTED="risky medium src/parse.c 15
risky medium src/parse.c 16
risky critical src/parse.c 17
risky low src/parse.c 19
risky high src/run.c 13
risky high src/run.c 15
cppcheck high src/leak.c 15
cppcheck high src/leak.c 16
cppcheck medium src/parse.c 17
shellcheck medium scripts/deploy.sh 5
shellcheck low scripts/deploy.sh 5
shellcheck low scripts/deploy.sh 6
libs low Makefile 3
libs info Makefile 3"

# audit TASK: runs one audit script on the fixture into TASK.json.
audit() {
	LOOM_TASK_ID="$1" LOOM_AUDIT_DIR="$FIX" sh "$AUDIT/$1.sh" >"$1.json"
}

# A notice of a pending package update depends on the machine: the tests
# leave those out (libs.sh gives them for libraries the fixture links).
NOTPENDING='select(.message | test("is installed but .* is available$") | not)'

# found TASK: the findings of TASK.json as "task severity file line".
found() {
	jq -r --arg t "$1" '.issues[] | '"$NOTPENDING"'
	    | "\($t) \(.severity) \(.file) \(.line)"' "$1.json"
}

need() {
	command -v "$1" >/dev/null || skip "$1 is not installed"
}

@test "risky.sh finds exactly the planted risky calls" {
	audit risky
	run found risky
	assert_success
	assert_output "$(printf '%s\n' "$PLANTED" | grep '^risky ')"
	run jq -c '[.task_id, .iteration, .completed]' risky.json
	assert_output '["risky",1,true]'
}

@test "risky.sh: each finding carries a message and a fix" {
	audit risky
	run jq -r '.issues[] | select(.line == 17) | .message, .fix' risky.json
	assert_output "gets() reads a line with no bound on its length \
into a fixed buffer
use fgets(buf, sizeof buf, stdin)"
}

# One C snippet per case: what risky.awk must report for it, as
# "severity line" lines, or nothing.
@test "risky.awk: calls in context (table)" {
	while IFS='|' read -r code want; do
		printf '%b\n' "$code" >t.c
		got=$(awk -v file=t.c -f "$AUDIT/risky.awk" t.c |
		    cut -f1,3 | tr '\t' ' ' | tr '\n' ';')
		[ "$got" = "$want" ] || {
			echo "code: $code"
			echo "want: $want"
			echo "got:  $got"
			return 1
		}
	done <<'CASES'
	system("ls -l");|low 1;
	if (system(cmd) == 0)|high 1;
	fp = popen("date", "r");|low 1;
	strcpy(buf, "abc");|info 1;
	return strcpy(a, b);|medium 1;
	n = sprintf(buf, "%d", x);|medium 1;
	vsprintf(buf, fmt, ap);|medium 1;
	gets(line);|critical 1;
	char *gets(char *);|
	int system(const char *);|
	j.system(cmd);|
	p->popen(cmd);|
	my_strcpy(a, b);|
	snprintf(buf, sizeof buf, "%s", s);|
	/* strcpy(a, b); system(x); */|
	// gets(line);|
	puts("strcpy(a, b)");|
	a = 'x'; strncpy(a, b, n);|
	/* start\\n system(x);\\n end */|
	p = malloc(n);\n\tif (p == NULL)\n\t\treturn;|
	p = malloc(n);\n\tif (!p)\n\t\treturn;|
	if ((p = malloc(n)) == NULL)\n\t\treturn;|
	if (n > 1 &&\n    (p = malloc(n)) == NULL)\n\t\treturn;\np[0] = 1;|
	s->buf = calloc(1, n);\n\tif (s->buf == NULL)|
	p = (char *)realloc(q, n);\n\tassert(p);|
	p = strdup(s);\n\treturn p;|
	p = malloc(n);\nn = 1;\np[0] = 1;\np[1] = 2;\np[2] = 3;|low 1;
	q = strdup(s);\n\tputs(q);\n\tfree(q);\n\tx = 1;|low 1;
	a = malloc(n);\nb = calloc(1, sizeof(*a));\nif (a && b)|
	r->name = strdup(s);\nx = 1;\ny = 2;\nz = 3;\nif (!r->name)|
	p = malloc(n);\n}\nvoid f(void) {\n\tp[0] = 1;|
	p = malloc(n);\nq = malloc(n);\nif (!q)\nreturn;\np->x = q;|low 1;
CASES
}

@test "cppcheck.sh finds the planted problems" {
	need cppcheck
	audit cppcheck
	run found cppcheck
	assert_success
	assert_output "$(printf '%s\n' "$PLANTED" | grep '^cppcheck ')"
}

@test "cppcheck.sh without cppcheck says it was skipped" {
	mkdir bin
	for t in sh jq dirname cat mktemp rm grep sed head find sort od tr \
	    wc cut awk pwd; do
		ln -s "$(command -v "$t")" "bin/$t"
	done
	PATH="$PWD/bin" LOOM_TASK_ID=cppcheck LOOM_AUDIT_DIR="$FIX" \
	    "$PWD/bin/sh" "$AUDIT/cppcheck.sh" >out.json
	run jq -c '[.results.skipped, .issues[0].severity, .completed]' out.json
	assert_output '["cppcheck is not installed","info",true]'
}

@test "shellcheck.sh finds the planted problems" {
	need shellcheck
	audit shellcheck
	run found shellcheck
	assert_success
	assert_output "$(printf '%s\n' "$PLANTED" | grep '^shellcheck ')"
	run jq -r '.issues[0].message' shellcheck.json
	assert_output --partial "SC2164: "
}

@test "libs.sh lists the linked libraries with their packages" {
	need dpkg-query
	audit libs
	run found libs
	assert_output "$(printf '%s\n' "$PLANTED" | grep '^libs ')"
	want=$(dpkg-query -W -f='${Version}' libc6)
	run jq -r '.results.libraries[] | select(.library == "libm.so")
	    | "\(.package) \(.version) \(.used_by)"' libs.json
	arch=$(dpkg --print-architecture)
	assert_output "libc6:$arch $want [\"Makefile:3\"]"
}

@test "map.sh lists sources and entry points" {
	audit map
	run jq -r '.results | .root, (.files | .c, .sh, .make | join(" ")),
	    (.entry_points | map(.file + ":" + (.line // 0 | tostring))
	    | join(" "))' map.json
	assert_output "$FIX
src/clean.c src/leak.c src/main.c src/parse.c src/run.c
scripts/clean.sh scripts/deploy.sh
Makefile
src/main.c:9 scripts/clean.sh:0 scripts/deploy.sh:0"
	run jq -c '.issues' map.json
	assert_output '[]'
}

@test "the audit scripts default to loom's own sources" {
	sh "$AUDIT/map.sh" >map.json
	run jq -r '.results | .root, (.files.c | index("lib/util.c") != null),
	    (.files.sh | index("cmd/loom") != null)' map.json
	assert_output "$TOP
true
true"
}

@test "the audit scripts take the directory from the map and the plan" {
	LOOM_AUDIT_DIR="$FIX" sh "$AUDIT/map.sh" >map.json
	LOOM_DEPS="$PWD/map.json" sh "$AUDIT/risky.sh" >risky.json
	run jq -r '.results.root, (.issues | length)' risky.json
	assert_output "$FIX
6"
	jq -n --arg t "$FIX/src" '{context: {target: $t}, tasks: []}' >plan.json
	LOOM_PLAN="$PWD/plan.json" sh "$AUDIT/risky.sh" >risky.json
	run jq -r '.results.root, (.issues | map(.file) | unique | join(" "))' \
	    risky.json
	assert_output "$FIX/src
parse.c run.c"
}

@test "LOOM_AUDIT_EXCLUDE names the directories to skip" {
	LOOM_AUDIT_EXCLUDE="scripts .git" LOOM_AUDIT_DIR="$FIX" \
	    sh "$AUDIT/map.sh" >map.json
	run jq -c '.results.files | [(.c | length), .sh]' map.json
	assert_output '[5,[]]'
}

@test "aggregate.sh sums the findings up without repeating them" {
	audit risky
	jq -n '{task_id: "other", issues: [{severity: "info", message: "i",
	    file: "src/run.c", line: 1}, {severity: "odd", message: "o"}]}' \
	    >other.json
	LOOM_TASK_ID=sum LOOM_DEPS="$(printf '%s\n' "$PWD/risky.json" \
	    "$PWD/other.json")" sh "$AUDIT/aggregate.sh" >sum.json
	run jq -c '.results | .total, .by_severity, .by_task, .worst_files[]' \
	    sum.json
	assert_output '8
{"critical":1,"high":2,"medium":2,"low":1,"info":1,"odd":1}
{"risky":6,"other":2}
{"file":"src/parse.c","findings":4,"worst":"critical"}
{"file":"src/run.c","findings":3,"worst":"high"}'
	run jq -c .issues sum.json
	assert_output '[]'
}

@test "the clean files yield no finding from any audit" {
	for t in risky cppcheck shellcheck libs; do
		audit "$t"
	done
	run jq -r '.issues[] | select(.file == "src/clean.c" or
	    .file == "src/main.c" or .file == "scripts/clean.sh")
	    | "\(.file):\(.line)"' risky.json cppcheck.json shellcheck.json \
	    libs.json
	assert_success
	assert_output ''
}

@test "loom run: the shipped audit finds every planted problem" {
	need cppcheck
	need shellcheck
	LOOM_AUDIT_DIR="$FIX" run loom run --no-progress \
	    "$TOP/share/loom/examples/audit.loom"
	assert_success
	assert_output --partial "critical"
	run jq -r 'select(.type == "merge") | .verdict' loom/logs/round_1.ndjson
	assert_output DONE
	run jq -r 'select(.type == "merge") | .findings[] | '"$NOTPENDING"'
	    | "\(.severity) \(.file) \(.line)"' loom/logs/round_1.ndjson
	assert_success
	printf '%s\n' "$PLANTED" | cut -d' ' -f2- | sort >want
	printf '%s\n' "$output" | sort >got
	diff want got
	run jq -r 'select(.type == "result") | "\(.id) \(.status)"' \
	    loom/logs/round_1.ndjson
	assert_output "map_surface ok
audit_calls ok
audit_cppcheck ok
audit_shell ok
audit_libraries ok
aggregate_findings ok" || {
		# started in parallel: the middle four may finish in any order
		printf '%s\n' "$output" | sort | grep -c ' ok$' | grep -qx 6
	}
}

@test "loom run share/loom/examples/audit.loom audits loom's own sources" {
	w=loom
	unset LOOM_AUDIT_DIR LOOM_PLAN_DIR
	run loom run --no-progress "$TOP/share/loom/examples/audit.loom"
	assert_success
	assert_line "loom: round 1: DONE"
	run jq -r 'select(.type == "merge") | .tasks.map_surface.results
	    | .root, (.files.c | index("lib/loom.h") != null)' \
	    "$w/logs/round_1.ndjson"
	assert_output "$TOP
true"
	# nothing from the planted fixture leaks into loom's own audit
	run jq -r 'select(.type == "merge") | .findings[] | .file // empty
	    | select(startswith("tests/fixtures"))' "$w/logs/round_1.ndjson"
	assert_output ''
}
