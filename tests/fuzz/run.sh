#!/bin/sh
# run.sh DIR SECONDS FUZZER...: runs each libFuzzer harness for SECONDS on
# a fresh copy of its seed corpus (tests/fuzz/corpus/NAME, and the test
# fixtures of its form, named in seeds() below), in DIR/NAME,
# and prints per reader the executions and the crashes found.  After a
# crash the fuzzer is started again for the time left, so one run can
# count several ("crashes"; it stops when the same input crashes again,
# as a seed that still crashes does); each distinct crashing input is
# kept in DIR/NAME/ ("inputs") and named in the output.  Exits 1 when
# any reader crashed.  Called by `make fuzz`.

dir=$1
secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
status=0

# libjq 1.6 leaks its parser stack on a syntax error (tests/lsan.supp);
# libjq has no frame pointers, so only the slow unwinder sees the
# jv_parser_next frame the suppression names.
ASAN_OPTIONS="fast_unwind_on_malloc=0:${ASAN_OPTIONS:-}"
LSAN_OPTIONS="suppressions=$here/../lsan.supp:print_suppressions=0"
export ASAN_OPTIONS LSAN_OPTIONS

# seeds NAME: the fixtures under tests/fixtures that also seed NAME.
seeds() {
	case $1 in
	reader)	echo audit.json audit.ndjson audit_array.json audit.expected ;;
	pylit)	echo audit_class.py audit_flat.py ;;
	hand)	echo audit.loom ;;
	output)	echo outputs/architect_1.py outputs/documenter_1.py \
		    outputs/reviewer_1.py outputs/reviewer_2.py \
		    outputs/reviewer_3.py ;;
	esac
}

printf '%-8s %12s %8s %8s %8s\n' reader executions crashes inputs seconds
for f in "$@"; do
	name=${f##*/fuzz_}
	work=$dir/$name
	rm -rf "$work"
	mkdir -p "$work/corpus"
	cp "$here/corpus/$name/"* "$work/corpus/"
	for s in $(seeds "$name"); do
		cp "$here/../fixtures/$s" "$work/corpus/"
	done
	execs=0
	crashes=0
	seen=0
	start=$(date +%s)
	left=$secs
	while [ "$left" -gt 0 ]; do
		"$f" -max_total_time="$left" -print_final_stats=1 \
		    -timeout=10 -rss_limit_mb=2048 \
		    -artifact_prefix="$work/" "$work/corpus" \
		    > "$work/log" 2>&1
		rc=$?
		n=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		    "$work/log")
		execs=$((execs + ${n:-0}))
		cat "$work/log" >> "$work/log.all"
		[ "$rc" -eq 0 ] && break
		crashes=$((crashes + 1))
		n=$(ls "$work" | grep -cE '^(crash|leak|timeout|oom)-')
		# The same input again (a seed that still crashes): stop.
		[ "$n" -eq "${seen:-0}" ] && break
		seen=$n
		grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY|Assertion' \
		    "$work/log" | sed "s/^/  $name: /" >&2
		[ "$crashes" -ge 20 ] && break
		left=$((secs - ($(date +%s) - start)))
	done
	[ "$crashes" -gt 0 ] && status=1
	inputs=$(ls "$work" | grep -cE '^(crash|leak|timeout|oom)-')
	printf '%-8s %12d %8d %8d %8d\n' "$name" "$execs" "$crashes" \
	    "$inputs" $(($(date +%s) - start))
	for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
	    "$work"/oom-*; do
		[ -e "$a" ] && echo "  $name: input kept in $a" >&2
	done
done
exit $status
