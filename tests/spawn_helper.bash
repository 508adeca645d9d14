# Helpers for the loom-spawn tests: task records written by hand, in the
# form loom-levels writes them.

# task ID LEVEL DEPS RUN [EXTRA]: one task record.  DEPS is a JSON array
# of ids, EXTRA a JSON object merged in last (it may delete fields by
# setting them to null, see notask).
task() {
	jq -nc --arg id "$1" --argjson level "$2" --argjson deps "$3" \
	    --arg run "$4" --argjson extra "${5:-{\}}" '
	    {type: "task", id: $id, description: "d", requires: [],
	     depends_on: $deps, level: $level, role: "general",
	     agent: ("general_" + $id),
	     outputs_to: ("loom/outputs/" + $id + ".json"), run: $run}
	    + $extra | with_entries(select(.value != null))'
}

# results FILE: "id status" of each result record, in order.
results() {
	jq -r 'select(.type == "result") | "\(.id) \(.status)"' "$1"
}

# status_of FILE ID
status_of() {
	jq -r --arg id "$2" \
	    'select(.type == "result" and .id == $id) | .status' "$1"
}

# alive PIDFILE...: succeeds when any process named in the files lives.
# A zombie is dead (an init that reaps slowly leaves them about).
alive() {
	local f st
	for f in "$@"; do
		[ -s "$f" ] || continue
		st=$(ps -o stat= -p "$(cat "$f")") || continue
		case $st in Z*) ;; *) return 0 ;; esac
	done
	return 1
}

# oks: the number of ok results in the journal.
oks() {
	grep -c '"ok"' loom/journal.ndjson 2>/dev/null
}

# wait_for CMD...: polls CMD for up to 20 s.
wait_for() {
	local i
	for i in $(seq 200); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
