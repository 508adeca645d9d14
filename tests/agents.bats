# Tests of the agent adapters (share/loom/agents), the role files, and
# the lib functions behind `--agent NAME` and `--compile CMD`.  Each
# adapter runs against a stand-in of the same name, first on PATH, that
# records its arguments and stdin and answers as the real CLI does; the
# stand-in's answer is chosen with FAKE_MODE.
load test_helper
bats_require_minimum_version 1.5.0

AGENTS="$TOP/share/loom/agents"

# The stand-ins.  Each records, then answers per $FAKE_MODE:
# ok (text $FAKE_TEXT), noresult, nonjson, error, exit3, hang.
make_fakes() {
	mkdir -p fake
	for name in claude codex gemini llm; do
		cat >"fake/$name" <<'EOF'
#!/bin/sh
me=${0##*/}
printf '%s\n' "$@" >"$FAKE_DIR/$me.args"
cat >"$FAKE_DIR/$me.stdin"
echo $$ >"$FAKE_DIR/$me.pid"
text=${FAKE_TEXT:-the answer}
case ${FAKE_MODE:-ok} in
hang)	exec sleep 1000 ;;
exit3)	echo "$me: rate limited" >&2; exit 3 ;;
nonjson)
	[ "$me" = llm ] && exit 0
	echo "Error: not logged in"; exit 0 ;;
esac
EOF
	done
	cat >>fake/claude <<'EOF'
case ${FAKE_MODE:-ok} in
ok)	jq -nc --arg t "$text" '{type: "result", subtype: "success",
	    is_error: false, duration_ms: 1200, num_turns: 1, result: $t,
	    session_id: "s1", total_cost_usd: 0.0123, usage: {input_tokens: 10,
	    cache_creation_input_tokens: 100, cache_read_input_tokens: 1000,
	    output_tokens: 7}}' ;;
noresult) echo '{"type":"result","subtype":"success","is_error":false,
	"result":"","total_cost_usd":0.001,"usage":{"input_tokens":3,
	"output_tokens":0}}' ;;
error)	echo '{"type":"result","subtype":"error_max_turns","is_error":true,
	"total_cost_usd":0.5,"usage":{"input_tokens":3,"output_tokens":0}}' ;;
esac
EOF
	cat >>fake/codex <<'EOF'
case ${FAKE_MODE:-ok} in
ok)	echo '{"type":"thread.started","thread_id":"t-1"}'
	echo '{"type":"turn.started"}'
	echo '{"type":"item.completed","item":{"id":"item_0",
	    "type":"reasoning","text":"thinking"}}' | tr -d '\n'; echo
	jq -nc --arg t "$text" '{type: "item.completed",
	    item: {id: "item_1", type: "agent_message", text: $t}}'
	echo '{"type":"turn.completed","usage":{"input_tokens":1200,'\
'"cached_input_tokens":200,"output_tokens":345}}' ;;
noresult)
	echo '{"type":"thread.started","thread_id":"t-1"}'
	echo '{"type":"turn.completed","usage":{"input_tokens":5,'\
'"output_tokens":0}}' ;;
error)	echo '{"type":"thread.started","thread_id":"t-1"}'
	echo '{"type":"turn.failed","error":{"message":"quota exceeded"}}' ;;
esac
EOF
	cat >>fake/gemini <<'EOF'
case ${FAKE_MODE:-ok} in
ok)	jq -nc --arg t "$text" '{response: $t, stats: {models: {
	    "gemini-2.5-pro": {api: {totalRequests: 1}, tokens: {prompt: 900,
	    candidates: 40, total: 960, cached: 0, thoughts: 20}},
	    "gemini-2.5-flash": {tokens: {prompt: 100, candidates: 2}}}}}' ;;
noresult) echo '{"response":"","stats":{"models":{}}}' ;;
error)	echo '{"error":{"type":"ApiError","message":"API key not valid",
	"code":400}}' ;;
errexit) echo '{"error":{"type":"ApiError","message":"quota"}}'; exit 1 ;;
esac
EOF
	cat >>fake/llm <<'EOF'
case ${FAKE_MODE:-ok} in
ok)	printf '%s\n' "$text" ;;
noresult) printf '\n\n' ;;
error)	echo "Error: Unknown model: nope" >&2; exit 1 ;;
esac
EOF
	chmod +x fake/*
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	make_fakes
	PATH="$BATS_TEST_TMPDIR/fake:$PATH"
	FAKE_DIR=$BATS_TEST_TMPDIR
	mkdir -p loom/outputs
	cat >loom/plan.json <<'EOF'
{"type":"plan","intent":"audit the authentication system",
 "context":{"target":"src/auth"},
 "tasks":[{"id":"map_auth_surface","description":"Identify auth files"},
  {"id":"audit_auth_flow","description":"Review the auth flow",
   "depends_on":["map_auth_surface"]}]}
EOF
	echo '{"task_id":"map_auth_surface","results":{"auth_files":4}}' \
	    >loom/outputs/architect_1.json
	TASK=$(jq -nc '{type: "task", id: "audit_auth_flow",
	    description: "Review the auth flow", requires: ["security_review"],
	    depends_on: ["map_auth_surface"], role: "reviewer"}')
	LOOM_TASK_ID=audit_auth_flow
	LOOM_AGENT=reviewer_1
	LOOM_ROLE=reviewer
	LOOM_LEVEL=1
	LOOM_ITERATION=2
	LOOM_WORKDIR=loom
	LOOM_PLAN=loom/plan.json
	LOOM_OUTPUT=loom/outputs/reviewer_1.json
	LOOM_DEPS=loom/outputs/architect_1.json
	export FAKE_DIR LOOM_TASK_ID LOOM_AGENT LOOM_ROLE LOOM_LEVEL \
	    LOOM_ITERATION LOOM_WORKDIR LOOM_PLAN LOOM_OUTPUT LOOM_DEPS
}

# adapter NAME [ARGS]: runs the adapter NAME with $TASK on stdin.
adapter() {
	local name=$1
	shift
	printf '%s\n' "$TASK" | "$AGENTS/$name" "$@"
}

@test "every adapter writes loom's output form with the usage it measured" {
	while read -r name usage; do
		FAKE_MODE=ok run --separate-stderr adapter "$name"
		assert_success
		assert_equal "$stderr" ""
		assert_equal "$(printf '%s\n' "$output" | jq -cS .)" \
		    "$(jq -cnS --argjson u "$usage" '{task_id:
		    "audit_auth_flow", iteration: 2, completed: true,
		    results: "the answer", issues: [], prompt_patches: [],
		    files_changed: []} + $u')"
	done <<'EOF'
claude {"usage":{"input_tokens":1110,"output_tokens":7,"cost_usd":0.0123}}
codex {"usage":{"input_tokens":1200,"output_tokens":345}}
gemini {"usage":{"input_tokens":1000,"output_tokens":42}}
llm {}
EOF
}

@test "every adapter calls its CLI the documented way, passing arguments on" {
	while IFS='|' read -r name args expected; do
		FAKE_MODE=ok run adapter "$name" $args
		assert_success
		assert_equal "$(tr '\n' ' ' <"$name.args")" "$expected"
	done <<'EOF'
claude|--model opus|-p --output-format json --model opus 
codex|--model o3 -s read-only|exec --json --model o3 -s read-only - 
gemini|-m gemini-2.5-pro|--output-format json -m gemini-2.5-pro 
llm|-m gpt-4o|-m gpt-4o 
EOF
}

@test "the prompt has the role, plan, task, dependencies and output form" {
	FAKE_MODE=ok run adapter claude
	assert_success
	run cat claude.stdin
	assert_line "# Your role: reviewer"
	assert_line --partial "You review code or a design for problems"
	assert_line "Intent: audit the authentication system"
	assert_line '{"target":"src/auth"}'
	assert_line "- audit_auth_flow (yours): Review the auth flow"
	assert_line "id: audit_auth_flow"
	assert_line "description: Review the auth flow"
	assert_line "requires: security_review"
	assert_line "depends on: map_auth_surface"
	assert_line "iteration: 2"
	assert_line "## map_auth_surface (loom/outputs/architect_1.json)"
	assert_line '{"task_id":"map_auth_surface","results":{"auth_files":4}}'
	assert_line '  "task_id": "audit_auth_flow",'
	assert_line '  "iteration": 2,'
}

@test "every agent gets the same prompt on stdin" {
	for name in claude codex gemini llm; do
		FAKE_MODE=ok run adapter "$name"
		assert_success
	done
	cmp claude.stdin codex.stdin
	cmp claude.stdin gemini.stdin
	cmp claude.stdin llm.stdin
}

@test "an answer in loom's form is used as it is, with loom's id and usage" {
	FAKE_TEXT=$(jq -nc '{task_id: "wrong", iteration: 9, completed: false,
	    results: {n: 3}, issues: [{severity: "critical",
	    message: "sql injection", file: "auth.py", line: 12}],
	    usage: {input_tokens: 1}}')
	export FAKE_TEXT
	FAKE_MODE=ok run adapter claude
	assert_success
	assert_equal "$(printf '%s\n' "$output" | jq -cS .)" \
	    "$(jq -cnS '{task_id: "audit_auth_flow", iteration: 2,
	    completed: false, results: {n: 3}, issues: [{severity: "critical",
	    message: "sql injection", file: "auth.py", line: 12}],
	    usage: {input_tokens: 1110, output_tokens: 7, cost_usd: 0.0123}}')"
}

@test "an answer in a code fence is taken out of it; other JSON is text" {
	while IFS='|' read -r text expected; do
		FAKE_TEXT=$(printf "$text") FAKE_MODE=ok run adapter codex
		assert_success
		assert_equal "$(printf '%s\n' "$output" | jq -c .results)" \
		    "$expected"
	done <<'EOF'
Here it is:\n```json\n{"results": {"ok": true}}\n```\nDone.|{"ok":true}
```\n{"completed": true, "results": [1, 2]}\n```|[1,2]
[1, 2, 3]|"[1, 2, 3]"
{"answer": 42}|"{\"answer\": 42}"
plain words|"plain words"
EOF
}

@test "an agent that fails or gives no result makes the task fail" {
	while IFS='|' read -r name mode want message; do
		FAKE_MODE=$mode run --separate-stderr adapter "$name"
		assert_equal "$status" "$want"
		assert_equal "$output" ""
		# The last line is the adapter's; the agent's own come first.
		assert_equal "${stderr##*$'\n'}" \
		    "loom-agents/$name: task \"audit_auth_flow\": $message"
	done <<'EOF'
claude|noresult|1|claude exited 0 without a result
claude|nonjson|1|claude printed no JSON: "Error: not logged in"
claude|error|1|claude reported an error: error_max_turns
claude|exit3|3|claude exited with status 3
codex|noresult|1|codex exited 0 without a result
codex|nonjson|1|codex printed no JSON: "Error: not logged in"
codex|error|1|codex reported an error: quota exceeded
codex|exit3|3|codex exited with status 3
gemini|noresult|1|gemini exited 0 without a result
gemini|nonjson|1|gemini printed no JSON: "Error: not logged in"
gemini|error|1|gemini reported an error: API key not valid
gemini|exit3|3|gemini exited with status 3
gemini|errexit|1|gemini exited with status 1: quota
llm|noresult|1|llm exited 0 without a result
llm|nonjson|1|llm exited 0 without a result
llm|error|1|llm exited with status 1
llm|exit3|3|llm exited with status 3
EOF
}

@test "an agent that hangs past the timeout is gone afterwards" {
	for name in claude codex gemini llm; do
		FAKE_MODE=hang timeout 600 "$AGENTS/$name" <<<"$TASK" \
		    >"$name.out" 3>&- &
		tpid=$!
		# Once the stand-in hangs, expire the timeout at once: SIGALRM
		# is how timeout(1) learns its time is up.  This way a slow,
		# loaded machine cannot expire it before the agent started.
		for i in $(seq 300); do
			[ -s "$name.pid" ] && break
			sleep 0.1
		done
		pid=$(cat "$name.pid")
		kill -ALRM "$tpid"
		st=0
		wait "$tpid" || st=$?
		assert_equal "$st" 124
		assert_equal "$(cat "$name.out")" ""
		# Give init a moment to reap it, then it must be gone.
		for i in $(seq 20); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		run kill -0 "$pid"
		assert_failure
	done
}

@test "a description full of shell syntax reaches the agent as text only" {
	d='$(touch p1) `touch p2`; touch p3 && echo "q" | tee p4 >/dev/null'
	TASK=$(jq -nc --arg d "$d" '{id: "x", description: $d}')
	LOOM_TASK_ID=x LOOM_DEPS= FAKE_MODE=ok run adapter claude
	assert_success
	[ ! -e p1 ] && [ ! -e p2 ] && [ ! -e p3 ] && [ ! -e p4 ]
	run grep -Fx "description: $d" claude.stdin
	assert_success
	run jq -r .task_id <<<"$(FAKE_MODE=ok LOOM_TASK_ID= LOOM_DEPS= adapter llm)"
	assert_output x
}

@test "a role file in the work directory wins over the installed one" {
	mkdir -p loom/roles
	echo "Report only what an attacker could use." >loom/roles/reviewer.md
	FAKE_MODE=ok run adapter claude
	assert_success
	run grep -c "attacker could use\|You review code" claude.stdin
	assert_output 1
	run grep -Fx "Report only what an attacker could use." claude.stdin
	assert_success
}

@test "every role has instructions, and an unknown role gets general's" {
	for role in researcher architect coder reviewer data_analyst \
	    documenter debugger general; do
		[ -s "$TOP/share/loom/roles/$role.md" ]
		LOOM_ROLE=$role FAKE_MODE=ok run adapter llm
		assert_success
		run grep -Fxf "$TOP/share/loom/roles/$role.md" llm.stdin
		assert_success
		assert_equal "${#lines[@]}" \
		    "$(grep -c . "$TOP/share/loom/roles/$role.md")"
	done
	while IFS='|' read -r role header warning; do
		LOOM_ROLE=$role FAKE_MODE=ok run --separate-stderr adapter llm
		assert_success
		assert_equal "$stderr" \
		    "${warning:+loom-agents/llm: task \"audit_auth_flow\": }$warning"
		run grep -Fx "# Your role: $header" llm.stdin
		assert_success
		run grep -Fxf "$TOP/share/loom/roles/general.md" llm.stdin
		assert_success
		assert_equal "${#lines[@]}" \
		    "$(grep -c . "$TOP/share/loom/roles/general.md")"
	done <<'EOF'
astronaut|astronaut|
../../etc/passwd|general|bad role "../../etc/passwd", using general
EOF
}

@test "a missing dependency output is said so; a long one is cut" {
	LOOM_DEPS=$'loom/outputs/none.json\nloom/outputs/architect_1.json'
	TASK='{"id":"audit_auth_flow","description":"d","depends_on":["a","b"]}'
	LOOM_DEP_MAX=20 FAKE_MODE=ok run adapter claude
	assert_success
	run sed -n '/^# What the tasks/,/^# Your answer/p' claude.stdin
	assert_output "# What the tasks yours depends on found

## a (loom/outputs/none.json)

(missing: no output was found there)

## b (loom/outputs/architect_1.json)

{\"task_id\":\"map_auth
[cut: 20 bytes of 58 shown]

# Your answer"
}

@test "without a plan the prompt says so, and a bad plan file is reported" {
	LOOM_PLAN= FAKE_MODE=ok run --separate-stderr adapter claude
	assert_success
	assert_equal "$stderr" ""
	grep -Fx "Intent: (none given)" claude.stdin
	echo 'not json' >bad.json
	LOOM_PLAN=bad.json FAKE_MODE=ok run --separate-stderr adapter claude
	assert_success
	assert_equal "$stderr" \
	    'loom-agents/claude: task "audit_auth_flow": cannot read the plan bad.json'
}

@test "an adapter without a task record on stdin fails before the agent runs" {
	for input in '' 'not json' '[1,2]'; do
		run --separate-stderr "$AGENTS/claude" <<<"$input"
		assert_failure 1
		assert_equal "$stderr" "loom-agents/claude: task \"audit_auth_flow\":\
 stdin is not a task record (one JSON object)"
		[ ! -e claude.args ]
	done
}

@test "shell runs the description with the task record on stdin" {
	# b: the output form around a text answer of task t.
	b='{task_id: "t", iteration: 2, completed: true, issues: [],
	    prompt_patches: [], files_changed: []} as $b | $b'
	while IFS='|' read -r description want expected; do
		TASK=$(jq -nc --arg d "$description" '{id: "t", description: $d}')
		LOOM_TASK_ID=t run --separate-stderr adapter shell
		assert_equal "$status" "$want"
		assert_equal "$(printf '%s\n' "$output" | jq -cS .)" \
		    "$(jq -cnS "$b | $expected")"
	done <<'EOF'
echo one; echo two|0|. + {results: "one\ntwo"}
jq -c '{results: .id}'|0|{task_id: "t", iteration: 2, results: "t"}
true|0|. + {results: ""}
echo half; exit 4|4|. + {results: "half", completed: false}
EOF
	TASK='{"id":"t"}'
	LOOM_TASK_ID=t run --separate-stderr adapter shell
	assert_failure 1
	assert_equal "$stderr" \
	    'loom-agents/shell: task "t": the task has no description to run'
}

# The lib functions, through a small driver linked with build/libloom.a.
# It lives in a PREFIX/bin of its own, so that the installed agents
# directory it finds is PREFIX/share/loom/agents.
driver() {
	local pre="$BATS_TEST_TMPDIR/prefix"
	mkdir -p "$pre/bin" "$pre/share/loom/agents"
	# As `make` left it (plain or SANITIZE=1); built only when missing.
	[ -f "$TOP/build/libloom.a" ] ||
	    make -s -C "$TOP" build/libloom.a >&2 || return 1
	cat >driver.c <<'EOF'
#include <stdlib.h>
#include <string.h>
#include "loom.h"

/* Accepts a plan with "tasks" in it. */
static int
check(void *ctx, const char *plan, size_t len, char *msg)
{
	(void)ctx;
	(void)len;
	if (strstr(plan, "\"tasks\"") != NULL)
		return 0;
	snprintf(msg, LOOM_ERRLEN, "no \"tasks\" in the plan");
	return -1;
}

int
main(int argc, char **argv)
{
	char	 err[LOOM_ERRLEN], *s;
	size_t	 len;

	if (argc == 2 && strcmp(argv[1], "dir") == 0) {
		if ((s = loom_agent_dir()) == NULL)
			return 1;
		printf("%s\n", s);
		free(s);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "find") == 0) {
		s = loom_agent_find(argv[2], *argv[3] ? argv[3] : NULL, err);
		if (s == NULL) {
			printf("NULL%s%s\n", *err ? ": " : "", err);
			return 1;
		}
		printf("%s\n", s);
		free(s);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "checked") == 0) {
		s = loom_compile_checked(argv[2], argv[3], check, NULL, &len,
		    err);
		if (s == NULL) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		printf("%s\n", s);
		free(s);
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "compile") == 0) {
		s = loom_compile(argv[2], argv[3], argc > 4 ? argv[4] : NULL,
		    argc > 5 ? argv[5] : NULL, &len, err);
		if (s == NULL) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		fwrite(s, 1, len, stdout);
		printf("\n");
		free(s);
		return 0;
	}
	return 2;
}
EOF
	# The library's own flags, so a SANITIZE=1 build links too.
	sh -c "$(cat "$TOP/build/flags") -I'$TOP/lib' -o '$pre/bin/driver' \
	    driver.c '$TOP/build/libloom.a' -ljq -lm" || return 1
	DRIVER=$pre/bin/driver
	INSTALLED=$pre/share/loom/agents
}

# agent DIR: makes an executable adapter named claude in DIR.
agent() {
	mkdir -p "$1"
	printf '#!/bin/sh\n' >"$1/claude"
	chmod +x "$1/claude"
}

@test "--agent NAME: LOOM_AGENTS_PATH, then WORKDIR/agents, then installed" {
	driver
	T=$BATS_TEST_TMPDIR
	run "$DRIVER" dir
	assert_output "$INSTALLED"

	run "$DRIVER" find claude ""
	assert_failure
	assert_output "NULL"

	agent "$INSTALLED"
	run "$DRIVER" find claude ""
	assert_success
	assert_output "$INSTALLED/claude"

	agent loom/agents
	run "$DRIVER" find claude ""
	assert_output "loom/agents/claude"
	agent work/agents
	run "$DRIVER" find claude work
	assert_output "work/agents/claude"

	agent "$T/second"
	LOOM_AGENTS_PATH="::$T/first:$T/second:" run "$DRIVER" find claude work
	assert_output "$T/second/claude"
	agent "$T/first"
	LOOM_AGENTS_PATH="::$T/first:$T/second:" run "$DRIVER" find claude work
	assert_output "$T/first/claude"
}

@test "--agent with anything but a bare word found is a command line" {
	driver
	agent "$INSTALLED"
	cp "$INSTALLED/claude" "$INSTALLED/_lib.sh"
	for name in "claude -p" ./claude "$INSTALLED/claude" _lib.sh "" \
	    -claude .claude 'claude;true' codex; do
		run "$DRIVER" find "$name" ""
		assert_failure
		assert_output "NULL"
	done
	run "$DRIVER" find my-agent.v2 ""
	assert_output "NULL"
	agent "$INSTALLED/x" && mv "$INSTALLED/x/claude" "$INSTALLED/my-agent.v2"
	run "$DRIVER" find my-agent.v2 ""
	assert_success
	assert_output "$INSTALLED/my-agent.v2"
}

@test "an adapter that is there but cannot run is an error, not a command" {
	driver
	agent "$INSTALLED"
	mkdir -p loom/agents/claude
	run "$DRIVER" find claude ""
	assert_failure
	assert_output "NULL: agent \"claude\": \"loom/agents/claude\" is not an\
 executable file"
	mkdir -p a
	printf 'echo hi\n' >a/claude
	LOOM_AGENTS_PATH=a run "$DRIVER" find claude ""
	assert_output "NULL: agent \"claude\": \"a/claude\" is not an\
 executable file"
}

@test "the shipped adapters are found from the source tree's bin" {
	driver
	mkdir -p tree/bin
	ln -s "$TOP/share" tree/share
	cp "$DRIVER" tree/bin/driver
	for name in claude codex gemini llm shell; do
		run tree/bin/driver find "$name" ""
		assert_success
		assert_output "$(cd "$TOP/share/loom/agents" && pwd -P)/$name"
	done
}

@test "--compile runs the command with the request on stdin" {
	driver
	plan=$(jq -nc '{intent: "audit", tasks: [{id: "a", description: "x",
	    requires: [], depends_on: []}]}')
	run "$DRIVER" compile "cat >req; printf '%s\n' '$plan'" \
	    'audit $(touch pwned) the "auth" code'
	assert_success
	assert_output "$plan"
	[ ! -e pwned ]
	grep -Fx 'audit $(touch pwned) the "auth" code' req
	grep -Fx 'The request:' req
	grep -F '"tasks": [' req
	run grep -c "previous answer\|rejected" req
	assert_output 0
	"$DRIVER" dir >/dev/null
}

@test "--compile feeds back the error and the rejected answer" {
	driver
	run "$DRIVER" compile "cat >req; echo '{}'" "audit" '{"tasks": 3}' \
	    'plan.json:1: "tasks" is not an array'
	assert_success
	assert_output '{}'
	run sed -n '/^Your previous answer/,$p' req
	assert_output 'Your previous answer was:

{"tasks": 3}

It was rejected: plan.json:1: "tasks" is not an array
Answer again with a plan that fixes this.'
}

@test "--compile asks once more when the plan is rejected, and only once" {
	driver
	# Answers prose first, then a plan; keeps each request.
	cat >agent.sh <<'EOF'
n=$(($(cat n 2>/dev/null || echo 0) + 1))
echo "$n" >n
cat >"req$n"
if [ "$n" -ge "${GOOD_AT:-2}" ]; then
	echo '{"tasks": []}'
else
	echo 'I would rather not'
fi
EOF
	run "$DRIVER" checked "sh agent.sh" "audit"
	assert_success
	assert_output '{"tasks": []}'
	assert_equal "$(cat n)" 2
	run sed -n '/^Your previous answer/,$p' req2
	assert_output 'Your previous answer was:

I would rather not

It was rejected: no "tasks" in the plan
Answer again with a plan that fixes this.'

	rm n
	GOOD_AT=1 run "$DRIVER" checked "sh agent.sh" "audit"
	assert_success
	assert_equal "$(cat n)" 1

	rm n
	GOOD_AT=3 run --separate-stderr "$DRIVER" checked "sh agent.sh" "audit"
	assert_failure 1
	assert_equal "$stderr" 'compile command "sh agent.sh" gave no valid plan'\
' in two tries: no "tasks" in the plan'
	assert_equal "$(cat n)" 2
}

@test "--compile takes the plan out of a code fence and trims blank space" {
	driver
	while IFS='|' read -r printed expected; do
		run "$DRIVER" compile "printf '$printed'" "p"
		assert_success
		assert_output "$(printf "$expected")"
	done <<'EOF'
Sure:\n\n```json\n{"tasks": []}\n```\nAnything else?\n|{"tasks": []}
```\n@intent: x\na: ; make it\n```|@intent: x\na: ; make it
  \n\n{"tasks": []}\n\n  \n|{"tasks": []}
```json\n{"a": 1}\n|{"a": 1}
EOF
}

@test "--compile fails clearly when the command fails or prints nothing" {
	driver
	while IFS='|' read -r cmd message; do
		run --separate-stderr "$DRIVER" compile "$cmd" "p"
		assert_failure 1
		assert_equal "$output" ""
		# The last line is loom's; the shell's own may come first.
		assert_equal "${stderr##*$'\n'}" "$message"
	done <<'EOF'
exit 3|compile command "exit 3" exited with status 3
printf ' \n\n'|compile command "printf ' \\n\\n'" printed no plan
kill -9 $$|compile command "kill -9 $$" killed by signal 9
no-such-cli -p|compile command "no-such-cli -p" exited with status 127
printf '{\0}'|compile command "printf '{\\0}'" printed a NUL byte
EOF
}

@test "--compile copes with a command that ignores stdin or prints a lot" {
	driver
	big=$(head -c 120000 /dev/zero | tr '\0' 'x')
	run "$DRIVER" compile "echo '{}'" "$big"
	assert_success
	assert_output '{}'
	run "$DRIVER" compile "wc -c >n; head -c 500000 /dev/zero | tr '\\0' y" p
	assert_success
	assert_equal "${#output}" 500000
	[ "$(cat n)" -gt 300 ]
}

@test "through loom-spawn: agents get their dependencies' outputs" {
	unset LOOM_TASK_ID LOOM_AGENT LOOM_ROLE LOOM_LEVEL LOOM_ITERATION \
	    LOOM_WORKDIR LOOM_PLAN LOOM_OUTPUT LOOM_DEPS
	rm -rf loom
	cat >plan.hand <<'EOF'
@intent: audit the authentication system
@context.target: src/auth
map: | Identify the auth files
	requires: code_analysis
flow: map | Review the auth flow
	requires: security_review
input: map | Check input validation
	requires: security_review
report: flow input | Compile the findings
	requires: reporting
EOF
	# This stand-in keeps each prompt and answers with the task's role.
	cat >fake/claude <<'EOF'
#!/bin/sh
cat >"$LOOM_TASK_ID.prompt"
jq -nc --arg r "found by $LOOM_ROLE" '{type: "result", subtype: "success",
    is_error: false, result: ({results: $r, issues: [{severity: "low",
    message: $r}]} | tojson), total_cost_usd: 0.25,
    usage: {input_tokens: 100, output_tokens: 10}}'
EOF
	loom-parse plan.hand | loom-levels |
	    loom-spawn -j 2 --agent "$AGENTS/claude" >stream
	run jq -r 'select(.type == "result") | "\(.id) \(.status)"' stream
	assert_equal "$(sort <<<"$output" | tr '\n' ,)" \
	    "flow ok,input ok,map ok,report ok,"
	run ls loom/outputs
	assert_equal "${#lines[@]}" 4
	for f in loom/outputs/*; do
		jq -e '(.usage == {input_tokens: 100, output_tokens: 10,
		    cost_usd: 0.25}) and (.issues | length == 1)' "$f"
	done
	run jq -c '[.task_id, .results]' loom/outputs/documenter_1.json
	assert_output '["report","found by documenter"]'
	grep -Fx "## flow (loom/outputs/reviewer_1.json)" report.prompt
	grep -Fx "## input (loom/outputs/reviewer_2.json)" report.prompt
	grep -F '"results":"found by reviewer"' report.prompt
	grep -Fx "Intent: audit the authentication system" report.prompt
	grep -Fx "# Your role: documenter" report.prompt
	run grep -c "^## " map.prompt
	assert_output 0

	# What the agents reported reaches the report.
	run sh -c 'loom-merge stream | loom-report -f json |
	    jq -c "[.usage.tokens_in, .usage.tokens_out, .usage.cost,
	    .findings.total]"'
	assert_success
	assert_output '[400,40,1,4]'
}

@test "a symbolic link to a shipped adapter finds its lib and roles" {
	mkdir -p loom/agents
	ln -s "$AGENTS/claude" loom/agents/claude
	FAKE_MODE=ok run loom/agents/claude <<<"$TASK"
	assert_success
	run grep -c "You review code or a design for problems" claude.stdin
	assert_output 1
}

@test "the iteration is loom's, read as a whole number" {
	while read -r given expected; do
		LOOM_ITERATION=$given FAKE_MODE=ok run adapter llm
		assert_success
		assert_equal "$(jq .iteration <<<"$output")" "$expected"
		grep -Fx "iteration: $expected" llm.stdin
	done <<'EOF'
3 3
007 7
0 0
x2 1
- 1
EOF
}
