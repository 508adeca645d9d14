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

# Under `make check SANITIZE=1`: full stacks, and libjq's own leak on a
# syntax error suppressed (see tests/lsan.supp).
export ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$TOP/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# Set when bin/ was built with SANITIZE=1: scale tests may cut their
# size, since every allocation under ASan walks the stack.
LOOM_SANITIZED=""
grep -q fsanitize "$TOP/build/flags" 2>/dev/null && LOOM_SANITIZED=1
export LOOM_SANITIZED
