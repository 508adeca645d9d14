#!/usr/bin/env bats
# Hostile plans (issue 8): shell syntax, control characters and invalid
# UTF-8 in every field of every input form; ids that look like paths or
# options; huge fields; huge plans; long chains.  Each must give the right
# result or a clear error (exit 1, "loom-NAME: FILE:LINE: ..."), never a
# crash (exit >= 128), a hang (everything runs under timeout) or a file
# written outside the work directory (commands run in run/, inputs live
# in in/, and what changed is listed at the end of each test).

load test_helper
bats_require_minimum_version 1.5.0

# Seconds any one command may take before it counts as a hang.
T=20

setup() {
	mkdir -p "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/run"
	cd "$BATS_TEST_TMPDIR/run" || return 1
	IN=$BATS_TEST_TMPDIR/in
	cksum /etc/passwd > "$IN/passwd.sum"
}

# Nothing was written but inputs in in/ and, under run/, the work
# directory loom/; /etc/passwd is untouched; no canary file "pwned".
teardown() {
	local stray

	stray=$(cd "$BATS_TEST_TMPDIR" && find . -mindepth 1 \
	    ! -path './in' ! -path './in/*' ! -path './run' \
	    ! -name 'separate-stderr-*' \
	    ! -path './run/loom' ! -path './run/loom/*' | head -5)
	[ -z "$stray" ] || { echo "written outside loom/: $stray"; return 1; }
	[ -z "$(find "$BATS_TEST_TMPDIR" -name pwned)" ] ||
	    { echo "a hostile value ran"; return 1; }
	cksum /etc/passwd | cmp -s - "$IN/passwd.sum" ||
	    { echo "/etc/passwd changed"; return 1; }
}

# sane NAME STATUS OUT ERR: a run that ended with STATUS, its stdout in
# OUT and stderr in ERR, neither crashed nor hung, and when it failed it
# did so cleanly: exit 1, nothing on stdout, every message line naming
# the program and the file and line (or the cycle), and no control
# characters echoed to the terminal.
sane() {
	if [ "$2" -ge 124 ]; then
		echo "$1: crashed or hung (exit $2): $(head -c 300 "$4")"
		return 1
	fi
	case $2 in
	0)	return 0 ;;
	1)	;;
	*)	echo "$1: exit $2: $(head -c 300 "$4")"; return 1 ;;
	esac
	if [ -s "$3" ]; then
		echo "$1: output on failure: $(head -c 200 "$3")"
		return 1
	fi
	if LC_ALL=C grep -qvE \
	    "^loom-[a-z]+: ([^:]*:[0-9]+: |dependency cycle: )" "$4"; then
		echo "$1: unclear message: $(head -c 300 "$4")"
		return 1
	fi
	if LC_ALL=C tr -d '\n' < "$4" | LC_ALL=C grep -q '[[:cntrl:]]'; then
		echo "$1: control characters in the message"
		return 1
	fi
}

# enc json|py: the bytes on stdin as a JSON or Python string literal,
# escaping quotes, backslashes and controls, keeping other bytes raw
# (invalid UTF-8 included).
enc() {
	od -An -v -tu1 | LC_ALL=C awk -v m="$1" '
	BEGIN { q = m == "json" ? "\"" : "\047"; printf "%s", q }
	{ for (i = 1; i <= NF; i++) {
		b = $i
		if (b < 32 || b == 127)
			printf(m == "json" ? "\\u%04x" : "\\x%02x", b)
		else if (b == 92)
			printf "\\\\"
		else if (m == "json" && b == 34)
			printf "\\\""
		else if (m == "py" && b == 39)
			printf "\\\047"
		else
			printf "%c", b
	} }
	END { printf "%s", q }'
}

# The hostile values, as printf %b strings, one a line: NAME VALUE.
VALUES='shell_subst $(touch pwned)
shell_subst_word $(touch${IFS}pwned)
shell_backquote `touch pwned`
shell_ops ;touch pwned;|cat&&rm -rf ./x||true>y<z&
shell_quotes \x27"\\\\ $HOME ${IFS} *?[a] ~root !! {a,b} #x
ctl_low a\x01b\x02c\x1fd
ctl_escape \x1b[2J\x1b]0;title\x07x
ctl_tab_cr a\tb\rc
ctl_newline line1\nline2
ctl_del a\x7fb
utf8_bad \xff\xfe
utf8_truncated ab\xc3
utf8_overlong \xc0\xaf\xe0\x80\xaf
utf8_surrogate \xed\xa0\x80
utf8_good \xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80
utf8_bidi a\xe2\x80\xaeb
opt_rf -rf
opt_help --help
path_dotdot ../x
path_abs /etc/passwd
path_slash a/b
path_dot .
env_ref $LOOM_TASK_ID'

FIELDS='id description requires role outputs_to run intent note'

# Fields whose every string value must be accepted and kept as given.
KEEP='description run intent note'

# hand_ok FIELD VALUE: the hand-written format can carry VALUE in FIELD
# (one line, no blanks at the ends; ids and capabilities are words).
hand_ok() {
	case $2 in
	*$'\n'* | *$'\r'* | ' '* | *' ' | $'\t'* | *$'\t') return 1 ;;
	esac
	case $1 in
	note) return 1 ;;
	id)	case $2 in
		*[' :|;']* | *$'\t'* | '#'* | @*) return 1 ;;
		esac ;;
	requires)
		case $2 in
		*[' ']* | *$'\t'*) return 1 ;;
		esac ;;
	esac
	return 0
}

# mkplan FORM FIELD VALUE: a two-task plan in FORM (json, py, hand), task
# a and task b depending on it, with VALUE in FIELD.
mkplan() {
	local form=$1 field=$2 v=$3 lit id='"a"' desc='"first"' req='"x"'
	local extra='' intent='"i"'

	if [ "$form" = hand ]; then
		id=a
		[ "$field" = id ] && id=$v
		printf '@intent: %s\n' "$([ "$field" = intent ] && \
		    printf '%s' "$v" || echo i)"
		printf '%s: | %s\n\trequires: %s\n' "$id" \
		    "$([ "$field" = description ] && printf '%s' "$v" ||
		    echo first)" \
		    "$([ "$field" = requires ] && printf '%s' "$v" || echo x)"
		case $field in
		role | outputs_to | run)
			printf '\t%s: %s\n' "$field" "$v" ;;
		esac
		printf 'b: %s | second\n' "$id"
		return
	fi
	lit=$(printf '%s' "$v" | enc "$form")
	case $field in
	id)	id=$lit ;;
	description) desc=$lit ;;
	requires) req=$lit ;;
	intent)	intent=$lit ;;
	*)	extra=", \"$field\": $lit" ;;
	esac
	if [ "$form" = json ]; then
		printf '{"type": "plan", "intent": %s}\n' "$intent"
		printf '{"type": "task", "id": %s, "description": %s, ' \
		    "$id" "$desc"
		printf '"requires": [%s], "depends_on": []%s}\n' "$req" \
		    "$extra"
		printf '{"type": "task", "id": "b", "description": "second", '
		printf '"requires": [], "depends_on": [%s]}\n' "$id"
	else
		printf 'intent = %s\ntasks = [\n' "$intent"
		printf '    {"id": %s, "description": %s, "requires": [%s], ' \
		    "$id" "$desc" "$req"
		printf '"depends_on": []%s},\n' "$extra"
		printf '    {"id": "b", "description": "second", '
		printf '"depends_on": [%s]},\n]\n' "$id"
	fi
}

# check: every case kept in $IN/c, N.want ({"form", "field", "name",
# "want"}) beside N.out (what loom-levels wrote), checked in one jq run
# (jq takes a tenth of a second to start): the value came through as
# jq reads it (invalid UTF-8 replaced the same way) and b is at level 1.
check() {
	jq -rn '
	[inputs | {f: (input_filename | sub("\\.(want|out)$"; "")), r: .}]
	| group_by(.f)[] | map(.r) as $rs
	| ($rs[] | select(.type == "want")) as $w
	| ($rs | map(select(.type != "want"))) as $out
	| ($out[] | select(.type == "task" and .depends_on == [])) as $a
	| (if $w.field == "intent" then
		$out[] | select(.type == "plan") | .intent
	   elif $w.field == "requires" then $a.requires[0]
	   else $a[$w.field] end) as $got
	| ([$out[] | select(.id == "b") | .level] | first) as $lvl
	| select($got != $w.want or $lvl != 1)
	| "\($w.form) \($w.field)=\($w.name): got \($got | tojson) at" +
	    " level \($lvl), want \($w.want | tojson)"' "$IN"/c/*
}

# hostile FORM: every value in every field of FORM through loom-parse and
# loom-levels.
hostile() {
	local form=$1 name raw v field want n=0 st

	mkdir -p "$IN/c"
	while read -r name raw; do
		v=$(printf '%b.' "$raw")
		v=${v%.}
		want=$(printf '%s' "$v" | enc json)
		for field in $FIELDS; do
			[ "$form" = hand ] && ! hand_ok "$field" "$v" && continue
			n=$((n + 1))
			mkplan "$form" "$field" "$v" > "$IN/plan.$form"
			timeout $T loom-parse "$IN/plan.$form" > "$IN/parsed" \
			    2> "$IN/err" && st=0 || st=$?
			sane "loom-parse $form $field=$name" $st \
			    "$IN/parsed" "$IN/err" || return 1
			[ $st -eq 0 ] && { timeout $T loom-levels "$IN/parsed" \
			    > "$IN/c/$n.out" 2> "$IN/err" && st=0 || st=$?
			    sane "loom-levels $form $field=$name" $st \
			    "$IN/c/$n.out" "$IN/err" || return 1; }
			if [ $st -ne 0 ]; then
				case " $KEEP " in *" $field "*)
					echo "$form $field=$name refused:" \
					    "$(cat "$IN/err")"
					return 1 ;;
				esac
				rm -f "$IN/c/$n.out"
				continue
			fi
			printf '{"type": "want", "form": "%s", "field": "%s", ' \
			    "$form" "$field" > "$IN/c/$n.want"
			printf '"name": "%s", "want": %s}\n' "$name" "$want" \
			    >> "$IN/c/$n.want"
		done
	done <<< "$VALUES"
	echo "# $form: $n cases, $(ls "$IN/c" | grep -c out) accepted" >&3
	run check
	assert_output ''
}

@test "hostile values in every field of NDJSON plans" {
	hostile json
}

@test "hostile values in every field of Python-literal plans" {
	hostile py
}

@test "hostile values in every field of hand-written plans" {
	hostile hand
}

# runs NAME PROGRAM ARG...: runs PROGRAM under timeout with stdout in
# $IN/out and stderr in $IN/err, sets st, and checks it is sane.
runs() {
	local name=$1

	shift
	timeout $T "$@" > "$IN/out" 2> "$IN/err" && st=0 || st=$?
	sane "$name" $st "$IN/out" "$IN/err"
}

# A task record with ID (a JSON string literal) and DEPS (JSON list).
task() {
	printf '{"type":"task","id":%s,"description":"","requires":[],' "$1"
	printf '"depends_on":[%s]}\n' "$2"
}

@test "an RS byte (0x1e) between or inside records is no crash" {
	for input in '\036\n' "$(task '"a"' '')\n\036\n" \
	    "\036$(task '"a"' '')\n" "$(task '"a"' '')\036$(task '"b"' '')\n" \
	    "[\n\036\n]\n"; do
		printf "$input" > "$IN/rs"
		runs "loom-parse <<$input>>" loom-parse "$IN/rs"
		runs "loom-levels <<$input>>" loom-levels "$IN/rs"
	done
}

@test "a 1 MB description comes through every form whole" {
	local d

	d=$(head -c 1000000 /dev/zero | tr '\0' x)
	printf '{"type":"task","id":"a","description":"%s"}\n' "$d" \
	    > "$IN/big.json"
	printf 'tasks = [{"id": "a", "description": "%s"}]\n' "$d" \
	    > "$IN/big.py"
	printf 'a: | %s\n' "$d" > "$IN/big.loom"
	for f in big.json big.py big.loom; do
		runs "loom-parse $f" loom-parse "$IN/$f"
		[ $st -eq 0 ] || { cat "$IN/err"; return 1; }
		mv "$IN/out" "$IN/parsed"
		runs "loom-levels $f" loom-levels "$IN/parsed"
		[ $st -eq 0 ] || { cat "$IN/err"; return 1; }
		run jq -r '"\(.id) \(.level) \(.description | length)"' \
		    "$IN/out"
		assert_output 'a 0 1000000'
	done
}

@test "a 1 MB id, role or dependency is kept or refused cleanly" {
	local d

	d=$(head -c 1000000 /dev/zero | tr '\0' x)
	{ task "\"$d\"" ''; task '"b"' "\"$d\""; } > "$IN/id.json"
	task '"a"' "\"$d\"" > "$IN/dep.json"
	printf '{"type":"task","id":"a","role":"%s"}\n' "$d" > "$IN/role.json"
	printf '%s: | x\nb: %s\n' "$d" "$d" > "$IN/id.loom"
	printf 'a: | x\n\t%s: y\n' "$d" > "$IN/key.loom"
	printf '%s = 1\n' "$d" > "$IN/name.py"
	for f in id.json dep.json role.json id.loom key.loom name.py; do
		runs "loom-parse $f" loom-parse "$IN/$f"
		[ $st -eq 0 ] || continue
		mv "$IN/out" "$IN/parsed"
		runs "loom-levels $f" loom-levels "$IN/parsed"
	done
	# The dependency names no task, and the message stays short.
	run --separate-stderr loom-levels "$IN/dep.json"
	assert_failure 1
	[ ${#stderr} -lt 300 ]
}

@test "deep nesting is a clean error in JSON and Python literals" {
	awk 'BEGIN { for (i = 0; i < 100000; i++) printf "["
	    for (i = 0; i < 100000; i++) printf "]"; print "" }' \
	    > "$IN/deep.json"
	{ printf 'x = '; cat "$IN/deep.json"; } > "$IN/deep.py"
	for f in deep.json deep.py; do
		runs "loom-parse $f" loom-parse "$IN/$f"
		assert_equal "$st" 1
		runs "loom-levels $f" loom-levels "$IN/$f"
		assert_equal "$st" 1
	done
}

@test "100,000 tasks through loom-parse | loom-levels" {
	# Task i depends on task i/2: a binary tree 17 levels deep.
	awk 'BEGIN { for (i = 0; i < 100000; i++) {
		printf "{\"type\":\"task\",\"id\":\"t%d\",\"description\":", i
		printf "\"task %d\",\"requires\":[],\"depends_on\":[", i
		if (i > 0) printf "\"t%d\"", int((i - 1) / 2)
		print "]}" } }' > "$IN/plan.ndjson"
	timeout 60 loom-parse "$IN/plan.ndjson" > "$IN/parsed"
	timeout 60 loom-levels "$IN/parsed" > "$IN/out"
	run awk -F'"level":' '/"type":"task"/ { split($2, a, ","); n[a[1]]++ }
	    END { for (l = 0; l in n; l++) printf "%d:%d ", l, n[l] }' \
	    "$IN/out"
	assert_output "0:1 1:2 2:4 3:8 4:16 5:32 6:64 7:128 8:256 9:512 \
10:1024 11:2048 12:4096 13:8192 14:16384 15:32768 16:34465 "
	run tail -1 "$IN/out"
	assert_output --partial '"id":"t99999",'
	assert_output --partial '"level":16,'
	assert_output --partial '"agent":"general_100000",'
}

@test "100,000 hand-written tasks through loom-parse | loom-levels" {
	awk 'BEGIN { for (i = 0; i < 100000; i++)
		printf "t%d: %s ; true\n", i, i ? "t" int((i - 1) / 2) : "" }' \
	    > "$IN/plan.loom"
	timeout 60 loom-parse "$IN/plan.loom" | timeout 60 loom-levels \
	    > "$IN/out"
	run grep -c '"type":"task"' "$IN/out"
	assert_output 100000
	run grep -c '"level":16,' "$IN/out"
	assert_output 34465
}

@test "one task with 10,000 dependencies" {
	awk 'BEGIN { for (i = 0; i < 10000; i++) print "d" i ": ; true"
	    printf "z:"; for (i = 0; i < 10000; i++) printf " d%d", i
	    print " | all of them" }' > "$IN/plan.loom"
	runs "loom-parse" loom-parse "$IN/plan.loom"
	assert_equal "$st" 0
	mv "$IN/out" "$IN/parsed"
	runs "loom-levels" loom-levels "$IN/parsed"
	assert_equal "$st" 0
	run tail -1 "$IN/out"
	assert_output --regexp '^\{"type":"task","id":"z",.*"depends_on":\["d0","d1",.*,"d9999"\],.*"level":1,'
	run jq -r 'select(.id == "z") | .depends_on | length' "$IN/out"
	assert_output 10000
}

@test "a chain of 10,000 tasks, and a cycle through all of them" {
	awk 'BEGIN { for (i = 0; i < 10000; i++) {
		printf "{\"type\":\"task\",\"id\":\"t%d\",\"description\":", i
		printf "\"\",\"requires\":[],\"depends_on\":[\"t%d\"]}\n", \
		    i ? i - 1 : 9999 } }' > "$IN/cycle.ndjson"
	sed '1s/\["t9999"\]/[]/' "$IN/cycle.ndjson" > "$IN/chain.ndjson"

	runs "chain" loom-levels "$IN/chain.ndjson"
	assert_equal "$st" 0
	run tail -1 "$IN/out"
	assert_output --regexp '^\{"type":"task","id":"t9999",.*"level":9999,'

	runs "cycle" loom-levels "$IN/cycle.ndjson"
	assert_equal "$st" 1
	run cut -c 1-54 "$IN/err"
	assert_output 'loom-levels: dependency cycle: t0 -> t9999 -> t9998 ->'
	run grep -o ' -> ' "$IN/err"
	assert_equal "${#lines[@]}" 10000
}

# spawn_ids WAY: every hostile value as a task id and description, each
# task printing $LOOM_TASK_ID (base64) through a fixed command given WAY
# (run: each task's run field; agent: --agent).  The id reaches the
# command through the environment alone, byte for byte, and nothing in
# the values runs.
spawn_ids() {
	local name raw v lit n=0 cmd='printf %s "$LOOM_TASK_ID" | base64 -w0'
	local agent id

	while read -r name raw; do
		v=$(printf '%b.' "$raw")
		lit=$(printf '%s' "${v%.}" | enc json)
		printf '{"type":"task","id":%s,"description":%s,' "$lit" "$lit"
		printf '"requires":[],"depends_on":[]%s}\n' "$([ "$1" = run ] &&
		    printf ',"run":%s' "$(printf '%s' "$cmd" | jq -Rs .)")"
		n=$((n + 1))
	done <<< "$VALUES" > "$IN/plan.json"
	loom-parse "$IN/plan.json" | loom-levels > "$IN/levels"
	if [ "$1" = run ]; then
		runs "spawn run" loom-spawn --no-progress -j 4 "$IN/levels"
	else
		runs "spawn agent" loom-spawn --no-progress -j 4 --agent "$cmd" \
		    "$IN/levels"
	fi
	assert_equal "$st" 0
	run grep -c '"type":"result".*"status":"ok"' "$IN/out"
	assert_output "$n"
	jq -r 'select(.type == "task") | "\(.agent) \(.id | @base64)"' \
	    "$IN/levels" > "$IN/want"
	assert_equal "$(wc -l < "$IN/want")" "$n"
	while read -r agent id; do
		[ "$(cat "loom/outputs/$agent.json")" = "$id" ] || {
			echo "$agent: got $(cat "loom/outputs/$agent.json")," \
			    "want $id"
			return 1
		}
	done < "$IN/want"
}

@test "spawn: hostile ids reach a task's run only through LOOM_TASK_ID" {
	spawn_ids run
}

@test "spawn: hostile ids reach --agent only through LOOM_TASK_ID" {
	spawn_ids agent
}
