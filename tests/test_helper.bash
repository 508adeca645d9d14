# Loaded by every bats file: puts bin/ first on PATH, loads bats-assert,
# and gives each test its own scratch directory as the working directory.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
PATH="$TOP/bin:$PATH"
SEEDS="$TOP/tests/fixtures"
export TOP PATH SEEDS
unset LOOM_WORKDIR NO_COLOR

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

# jqs FILE: each record of FILE compacted with sorted keys, for comparing.
jqs() {
	jq -cS . "$@"
}
