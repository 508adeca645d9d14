#!/usr/bin/env bats
# The planning half end to end: the seed's security audit, written in
# every form loom-parse reads, comes out of loom-levels the same way.

load test_helper

@test "the seed audit gives levels 0 1 1 1 2 and its agents from every form" {
	want='map_auth_surface 0 architect_1 loom/outputs/architect_1.py
audit_auth_flow 1 reviewer_1 loom/outputs/reviewer_1.py
audit_input_validation 1 reviewer_2 loom/outputs/reviewer_2.py
audit_dependencies 1 reviewer_3 loom/outputs/reviewer_3.py
aggregate_findings 2 documenter_1 loom/outputs/documenter_1.py'
	for form in audit_class.py audit_flat.py audit.json audit_array.json \
	    audit.ndjson audit.loom; do
		loom-parse "$SEEDS/$form" | loom-levels > out
		got=$(jq -r 'select(.type == "task") |
		    "\(.id) \(.level) \(.agent) \(.outputs_to)"' out)
		[ "$got" = "$want" ] || {
			printf '%s gave:\n%s\n' "$form" "$got"
			return 1
		}
	done
}

@test "the seed audit reads the same from stdin as from a file" {
	for form in audit_class.py audit.loom audit.json; do
		loom-parse "$SEEDS/$form" | loom-levels > a
		loom-parse < "$SEEDS/$form" | loom-levels > b
		cmp a b
	done
}

@test "the graph is drawn the same from the Python and hand-written forms" {
	loom-parse "$SEEDS/audit_class.py" | loom-levels -d text > a
	loom-parse "$SEEDS/audit.loom" | loom-levels -d text > b
	cmp a b
	run head -4 a
	assert_output $'level 0\n  map_auth_surface [architect_1]\n\nlevel 1 (3 in parallel)'
}

@test "a user's own records and fields ride through both filters" {
	{ echo '{"type":"note","by":"me"}'
	  printf 'a: ; true\nb: a ; true\n' | loom-parse; } > plan
	jq -c 'if .type == "task" then .owner = "me" else . end' plan |
	    loom-levels > out
	run jq -c 'select(.type == "note")' out
	assert_output '{"type":"note","by":"me"}'
	run jq -r 'select(.type == "task") | "\(.id) \(.owner) \(.level)"' out
	assert_output $'a me 0\nb me 1'
}
