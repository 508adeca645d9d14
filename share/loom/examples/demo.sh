#!/bin/sh
# demo.sh: what `make demo` runs after building loom: the shipped security
# audit (audit.loom) on loom's own sources, ending with the report.  Needs
# the jq command, installed with apt-get when missing (saying so) unless
# NO_INSTALL or LOOM_NO_INSTALL is set.  cppcheck and shellcheck add their
# audits when installed.
set -eu
top=$(CDPATH='' cd -- "$(dirname -- "$0")/../../.." && pwd)
cd "$top"

if ! command -v jq >/dev/null 2>&1; then
	if [ -n "${NO_INSTALL:-}${LOOM_NO_INSTALL:-}" ]; then
		echo "loom: missing: jq (NO_INSTALL is set; install it first)" >&2
		exit 1
	fi
	echo "loom: installing missing packages with apt-get: jq" >&2
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo=sudo
	DEBIAN_FRONTEND=noninteractive
	export DEBIAN_FRONTEND
	{ $sudo apt-get update -qq && $sudo apt-get install -y -qq jq; } >&2 ||
	    { echo "loom: could not install: jq" >&2; exit 1; }
fi
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
