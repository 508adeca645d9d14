#!/usr/bin/env bats
# Hostile plans (issue 8): shell syntax, control characters and invalid
# UTF-8 in every field of every input form; ids that look like paths or
# options; huge fields; huge plans; long chains.  Each must give the right
# result or a clear error (exit 1, "loom-NAME: FILE:LINE: ..."), never a
# crash (exit >= 128), a hang (timeout(1), or bats' BATS_TEST_TIMEOUT) or
# a file written outside the work directory (commands run in run/, inputs
# live in in/, and what changed is listed at the end of each test).

load test_helper
bats_require_minimum_version 1.5.0

# Seconds any one command may take before it counts as a hang, and any
# one test (the tables run their many small commands without timeout).
T=20
BATS_TEST_TIMEOUT=300

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

FIELDS='id requires description run intent note role outputs_to'

# Fields whose every string value must be accepted and kept as given.
KEEP='description run intent note'

# Each value is first tried in all the fields of ALL at once, and only
# when that is refused in each alone; the other fields, where refusing
# most values is right (role, outputs_to), are always tried alone.
ALL='id requires description run intent note'

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

# mkplan FORM FIELDS VALUE: a two-task plan in FORM (json, py, hand),
# task a and task b depending on it, with VALUE in each of FIELDS
# (written as the literal $LIT in JSON and Python).
mkplan() {
	local form=$1 v=$3 lit id='"a"' desc='"first"' req='"x"' f
	local extra='' intent='"i"' fields=" $2 "

	if [ "$form" = hand ]; then
		id=a
		[[ $fields = *" id "* ]] && id=$v
		printf '@intent: %s\n' "$([[ $fields = *" intent "* ]] &&
		    printf '%s' "$v" || echo i)"
		printf '%s: | %s\n\trequires: %s\n' "$id" \
		    "$([[ $fields = *" description "* ]] && printf '%s' "$v" ||
		    echo first)" \
		    "$([[ $fields = *" requires "* ]] && printf '%s' "$v" ||
		    echo x)"
		for f in role outputs_to run; do
			[[ $fields = *" $f "* ]] && printf '\t%s: %s\n' "$f" "$v"
		done
		printf 'b: %s | second\n' "$id"
		return 0
	fi
	lit=$LIT
	[[ $fields = *" id "* ]] && id=$lit
	[[ $fields = *" description "* ]] && desc=$lit
	[[ $fields = *" requires "* ]] && req=$lit
	[[ $fields = *" intent "* ]] && intent=$lit
	for f in role outputs_to run note; do
		[[ $fields = *" $f "* ]] && extra="$extra, \"$f\": $lit"
	done
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

# check: every case kept in $IN/c, N.want ({"form", "fields", "name",
# "want"}) beside N.out (what loom-levels wrote), checked in one jq run
# (jq takes a tenth of a second to start): in each field the value came
# through as jq reads it (invalid UTF-8 replaced the same way), and b is
# at level 1.
check() {
	jq -rn '
	[inputs | {f: (input_filename | sub("\\.(want|out)$"; "")), r: .}]
	| group_by(.f)[] | map(.r) as $rs
	| ($rs[] | select(.type == "want")) as $w
	| ($rs | map(select(.type != "want"))) as $out
	| ($out[] | select(.type == "task" and .depends_on == [])) as $a
	| ([$out[] | select(.type == "task" and .depends_on != [])][0]) as $b
	| $w.fields[] as $field
	| (if $field == "intent" then
		$out[] | select(.type == "plan") | .intent
	   elif $field == "requires" then $a.requires[0]
	   else $a[$field] end) as $got
	| select($got != $w.want or $b.level != 1 or $b.depends_on != [$a.id])
	| "\($w.form) \($field)=\($w.name): got \($got | tojson), b at" +
	    " \($b | tojson), want \($w.want | tojson)"' "$IN"/c/*
}

# try FORM NAME VALUE FIELDS: VALUE in FIELDS through loom-parse and
# loom-levels; returns 0 when it came through (kept for check), 2 when it
# was refused cleanly, 1 when it failed otherwise.
try() {
	local form=$1 name=$2 v=$3 fields=$4 what="$1 $4=$2" st

	n=$((n + 1))
	mkplan "$form" "$fields" "$v" > "$IN/plan.$form"
	loom-parse "$IN/plan.$form" > "$IN/parsed" 2> "$IN/err" && st=0 ||
	    st=$?
	sane "loom-parse $what" $st "$IN/parsed" "$IN/err" || return 1
	if [ $st -eq 0 ]; then
		loom-levels "$IN/parsed" > "$IN/c/$n.out" 2> "$IN/err" &&
		    st=0 || st=$?
		sane "loom-levels $what" $st "$IN/c/$n.out" "$IN/err" ||
		    return 1
	fi
	if [ $st -ne 0 ]; then
		rm -f "$IN/c/$n.out"
		echo "$what: $(cat "$IN/err")" >> "$IN/refused"
		return 2
	fi
	printf '{"type": "want", "form": "%s", "fields": ["%s"], ' \
	    "$form" "${fields// /\", \"}" > "$IN/c/$n.want"
	printf '"name": "%s", "want": %s}\n' "$name" "$want" \
	    >> "$IN/c/$n.want"
}

# hostile FORM: every value in every field of FORM through loom-parse and
# loom-levels.
hostile() {
	local form=$1 name raw v field want n=0 all alone f rc

	mkdir -p "$IN/c"
	: > "$IN/refused"
	while read -r name raw; do
		v=$(printf '%b.' "$raw")
		v=${v%.}
		want=$(printf '%s' "$v" | enc json)
		LIT=$want
		[ "$form" = py ] && LIT=$(printf '%s' "$v" | enc py)
		all='' alone=''
		for f in $FIELDS; do
			[ "$form" = hand ] && ! hand_ok "$f" "$v" && continue
			case " $ALL " in
			*" $f "*) all="$all $f" ;;
			*) alone="$alone $f" ;;
			esac
		done
		rc=2
		[ -z "$all" ] || { try "$form" "$name" "$v" "${all# }" &&
		    rc=0 || rc=$?; }
		[ $rc -eq 1 ] && return 1
		[ $rc -eq 2 ] && alone="$all $alone"
		for f in $alone; do
			try "$form" "$name" "$v" "$f" && rc=0 || rc=$?
			[ $rc -eq 1 ] && return 1
			if [ $rc -eq 2 ] && [[ " $KEEP " = *" $f "* ]]; then
				echo "$form $f=$name refused: $(cat "$IN/err")"
				return 1
			fi
		done
	done <<< "$VALUES"
	echo "# $form: $n plans, $(grep -c . "$IN/refused") refused" >&3
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
	local n=100000 want='' l=0 k=1 left

	# 10,000 under the sanitizers, whose unwinding on every malloc is slow.
	[ -z "$TEST_SANITIZED" ] || n=10000
	# Task i depends on task (i-1)/2: a binary tree, 2^l tasks at level l.
	awk -v n=$n 'BEGIN { for (i = 0; i < n; i++) {
		printf "{\"type\":\"task\",\"id\":\"t%d\",\"description\":", i
		printf "\"task %d\",\"requires\":[],\"depends_on\":[", i
		if (i > 0) printf "\"t%d\"", int((i - 1) / 2)
		print "]}" } }' > "$IN/plan.ndjson"
	timeout 120 loom-parse "$IN/plan.ndjson" > "$IN/parsed"
	timeout 120 loom-levels "$IN/parsed" > "$IN/out"
	for ((left = n; left > 0; l++, left -= k, k *= 2)); do
		want="$want$l:$((left < k ? left : k)) "
	done
	run awk -F'"level":' '/"type":"task"/ { split($2, a, ","); n[a[1]]++ }
	    END { for (l = 0; l in n; l++) printf "%d:%d ", l, n[l] }' \
	    "$IN/out"
	assert_output "$want"
	[ $n -eq 10000 ] || assert_output "0:1 1:2 2:4 3:8 4:16 5:32 6:64 \
7:128 8:256 9:512 10:1024 11:2048 12:4096 13:8192 14:16384 15:32768 16:34465 "
	run tail -1 "$IN/out"
	assert_output --partial "\"id\":\"t$((n - 1))\","
	assert_output --partial "\"level\":$((l - 1)),"
	assert_output --partial "\"agent\":\"general_$n\","
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
	assert_output --regexp \
	    '^\{"type":"task","id":"z",.*\["d0","d1",.*,"d9999"\],.*"level":1,'
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

@test "numbers at the ends of a double in timeout, retries and estimate" {
	local kv

	# Under a build with -fsanitize=float-cast-overflow, converting one
	# of these to long or int is undefined behaviour, and aborts.
	for kv in '"retries":1e300' '"retries":1e19' '"retries":9.3e18' \
	    '"timeout":1e300' '"timeout":1.7976931348623157e308' \
	    '"timeout":3e9' '"estimate":1e300' '"estimate":5e-324'; do
		task '"a"' '' | sed "s/}\$/,\"run\":\"true\",$kv}/" \
		    > "$IN/n.json"
		runs "loom-parse $kv" loom-parse "$IN/n.json"
		[ $st -eq 0 ] || continue
		mv "$IN/out" "$IN/parsed"
		runs "loom-levels $kv" loom-levels "$IN/parsed"
		[ $st -eq 0 ] || continue
		mv "$IN/out" "$IN/levels"
		timeout $T loom-spawn --no-progress "$IN/levels" > "$IN/out" \
		    2> "$IN/err" && st=0 || st=$?
		[ $st -eq 0 ] || { echo "loom-spawn $kv: exit $st"; cat \
		    "$IN/err"; return 1; }
		grep -q '"type":"result","id":"a",.*"status":"ok"' "$IN/out"
	done
}

@test "ids with markup are drawn as text in Mermaid" {
	{ task '"<img src=x onerror=alert(1)>"' ''; task '"#amp;"' ''; } \
	    > "$IN/m.json"
	loom-parse "$IN/m.json" > "$IN/parsed"
	runs "loom-levels -d mermaid" loom-levels -d mermaid "$IN/parsed"
	assert_equal "$st" 0
	# Mermaid renders labels as HTML and reads #NAME; as an entity:
	# the only markup left is the <br/> loom puts before the agent.
	run sed 's/<br\/>//g' "$IN/out"
	refute_output --partial '<'
	refute_output --partial '#amp;'
}

@test "spawn: outputs_to naming loom's own files loses nothing" {
	local o

	for o in loom/journal.ndjson loom/plan.json loom/logs/general_2.log; do
		rm -rf loom
		printf 'a: ; echo hi\n\toutputs_to: %s\nb: a ; echo b\n' \
		    "$o" > "$IN/o.loom"
		loom-parse "$IN/o.loom" | loom-levels > "$IN/levels"
		timeout $T loom-spawn --no-progress "$IN/levels" \
		    > "$IN/out" 2> "$IN/err" && st=0 || st=$?
		if [ $st -ne 0 ]; then
			# Refused before anything ran.
			sane "loom-spawn outputs_to=$o" $st "$IN/out" "$IN/err"
			continue
		fi
		# Or run, and every file holds what it should.
		[ "$(cat "$o")" = hi ] ||
		    { echo "$o: output lost: $(head -c 100 "$o")"; return 1; }
		[ "$(grep -c '"type":"result"' loom/journal.ndjson)" = 2 ] ||
		    { echo "$o: the journal was overwritten"; return 1; }
		[ "$(cat loom/logs/general_2.log)" = '' ] &&
		    jq -e '.tasks | length == 2' loom/plan.json > /dev/null ||
		    { echo "$o: the plan or a log was overwritten"; return 1; }
	done
}

@test "spawn: an output path cannot smuggle a line into LOOM_DEPS" {
	local o

	for o in 'loom/x\n/etc/passwd' 'loom/x\r\n/etc/passwd'; do
		rm -rf loom
		{ printf '{"type":"task","id":"a","description":"",'
		  printf '"requires":[],"depends_on":[],"run":"echo hi",'
		  printf '"outputs_to":"%s"}\n' "$o"
		  printf 'b: a ; printf "%%s\\n" "$LOOM_DEPS"\n' |
		      loom-parse; } > "$IN/plan.ndjson"
		runs "loom-parse $o" loom-parse "$IN/plan.ndjson"
		[ $st -eq 0 ] || continue
		mv "$IN/out" "$IN/parsed"
		runs "loom-levels $o" loom-levels "$IN/parsed"
		[ $st -eq 0 ] || continue
		mv "$IN/out" "$IN/levels"
		timeout $T loom-spawn --no-progress "$IN/levels" \
		    > "$IN/out" 2> "$IN/err" && st=0 || st=$?
		if [ $st -ne 0 ]; then
			sane "loom-spawn outputs_to=$o" $st "$IN/out" "$IN/err"
			continue
		fi
		run cat loom/outputs/general_2.json
		assert_equal "${#lines[@]}" 1
	done
}

@test "messages quoting hostile bytes carry no control characters" {
	local s

	for s in 'a: | x\n\tk\033[2Jey: v\n' 'a: | x\n\tk\177ey: v\n' \
	    'a: | x\n\ttimeout: 5\033]0;t\007\n' 'a: | x\n\tretries: \177\n' \
	    'http://\033[2J\n' 'x = [1, \033]\n' \
	    "$(task '"a\\u001b"' '' | sed 's/}$/,"role":"\\u007f"}/')\n"; do
		printf "$s" > "$IN/e"
		runs "loom-parse <<$s>>" loom-parse "$IN/e"
		[ $st -eq 1 ] && continue
		mv "$IN/out" "$IN/parsed"
		runs "loom-levels <<$s>>" loom-levels "$IN/parsed"
		assert_equal "$st" 1
	done
}

@test "hostile task outputs through loom-merge and loom-report" {
	local f

	printf '%s' '{"task_id":"a","completed":true,"issues":[{"severity":' \
	    '"high","message":"\u001b[2J\u001b]0;t\u0007 $(touch pwned) ' \
	    '<script>x</script> &amp;"}],"results":{"summary":' \
	    '"\u001b[31mred\u007f"}}' > "$IN/a"
	printf 'plain \033[2J text \377\376 $(touch pwned) `touch pwned`\n' \
	    > "$IN/b"
	printf 'x = {"issues": ["\\x1b[2Jpy \\x9b2J"]}\n' > "$IN/c"
	printf '{"issues": [{"severity": "\\u001b[1mcritical", "message": 1}]}' \
	    > "$IN/d"
	for f in a b c d; do
		printf '%s: ; cat "$IN/%s"\n' $f $f
	done > "$IN/plan.loom"
	export IN
	loom-parse "$IN/plan.loom" | loom-levels > "$IN/levels"
	runs "loom-spawn" loom-spawn --no-progress "$IN/levels"
	assert_equal "$st" 0
	mv "$IN/out" "$IN/spawned"
	runs "loom-merge" loom-merge "$IN/spawned"
	assert_equal "$st" 0
	mv "$IN/out" "$IN/merged"
	for f in text markdown json svg html; do
		runs "loom-report -f $f" loom-report -f "$f" "$IN/merged"
		assert_equal "$st" 0
		# What goes to a terminal or a browser carries no controls.
		if LC_ALL=C tr -d '\n\t' < "$IN/out" |
		    LC_ALL=C grep -q '[[:cntrl:]]'; then
			echo "loom-report -f $f writes control characters:"
			LC_ALL=C grep -n '[[:cntrl:]]' "$IN/out" | cat -v
			return 1
		fi
	done
	run grep -c '<script>' "$IN/out"
	assert_output 0
}

@test "a file holding only a byte-order mark is empty input" {
	local s

	# Under make check SANITIZE=1 this was a memcpy to NULL (fuzz_reader).
	for s in '\357\273\277' '\357\273\277\n' '\357\273\277\r\n'; do
		printf "$s" > "$IN/bom"
		for p in loom-parse loom-levels; do
			runs "$p <<$s>>" $p "$IN/bom"
			assert_equal "$st" 0
			assert_equal "$(cat "$IN/out")" ''
		done
	done
}

@test "spawn: hand-made records with hostile agents and paths are refused" {
	local kv

	for kv in '"agent":"../../pwned"' '"agent":"a/b"' '"agent":"-rf"' \
	    '"outputs_to":"../pwned"' '"outputs_to":"/tmp/pwned"' \
	    '"outputs_to":"loom/../../pwned"' '"outputs_to":"loom/a\nb"' \
	    '"role":"$(touch pwned)"' '"level":-1' '"level":1.5' \
	    '"level":"0"' '"run":["touch","pwned"]'; do
		rm -rf loom
		printf '{"type":"task","id":"a","description":"",' > "$IN/r"
		printf '"requires":[],"depends_on":[],"run":"echo hi",' \
		    >> "$IN/r"
		printf '"level":0,"role":"general","agent":"general_1",' \
		    >> "$IN/r"
		printf '"outputs_to":"loom/outputs/a.json",%s}\n' "$kv" \
		    >> "$IN/r"
		runs "loom-spawn $kv" loom-spawn --no-progress "$IN/r"
		assert_equal "$st" 1
		[ ! -e /tmp/pwned ]
	done
}
