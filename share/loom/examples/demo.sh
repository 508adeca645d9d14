#!/bin/sh
# demo.sh: what `make demo` runs after building loom: the shipped security
# audit (audit.loom) on loom's own sources, ending with the report.  The
# Makefile runs `tests/deps.sh demo` first, which installs jq, cppcheck and
# shellcheck when missing; without the last two their audits are skipped.
set -eu
top=$(CDPATH='' cd -- "$(dirname -- "$0")/../../.." && pwd)
cd "$top"

command -v jq >/dev/null 2>&1 ||
    { echo "loom: the demo needs jq (sh tests/deps.sh demo)" >&2; exit 1; }
for t in cppcheck shellcheck; do
	command -v "$t" >/dev/null 2>&1 ||
	    echo "loom: $t is not installed: its audit is skipped" >&2
done

workdir=build/demo
rm -rf -- "$workdir"
echo "loom: auditing loom's own sources: bin/loom run --workdir $workdir" \
    "share/loom/examples/audit.loom" >&2
echo "loom: afterwards, bin/loom status --workdir $workdir; the audit's" \
    "outputs are in $workdir/outputs" >&2
unset LOOM_AUDIT_DIR
exec bin/loom run --workdir "$workdir" share/loom/examples/audit.loom
