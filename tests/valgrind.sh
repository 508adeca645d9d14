#!/bin/sh
# tests/valgrind.sh [BATS FILE...]: the bats suite with every loom
# program run under valgrind's memcheck (`make valgrind`).
#
# Builds build/valgrind/, a tree the tests take for the repository
# (tests/test_helper.bash finds bin/ beside tests/): tests, fixtures,
# share, man and bench are links to the real ones, lib/ and cmd/ copies
# (the audit tests look for loom's sources there); bin/ holds one
# wrapper per compiled program that execs valgrind on a copy of the
# real binary in real/bin, so a rebuild meanwhile changes nothing, and
# the `loom` script, which runs the filters beside it.  Task commands
# run by loom-spawn are not traced.  build/flags gets a flag that
# changes nothing (-fsanitize-recover=all) so scale tests shrink as
# under the sanitizers.
#
# A memcheck error or a definite or indirect leak makes the program
# exit 99 (the test fails) and leaves its report in
# build/valgrind/logs/PID.log; libjq's own leak on a syntax error is
# suppressed (tests/valgrind.supp).  Prints the tests' result, the
# programs run and the reports with errors; exit 1 when any.
# tests/make.bats (the build itself) is left out.  VALGRIND_DIR (an
# absolute path) puts the tree elsewhere, to run two at once.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
vg=${VALGRIND_DIR:-$top/build/valgrind}
valgrind=$(command -v valgrind) || { echo "valgrind: not installed" >&2;
    exit 2; }
rm -rf "$vg"
mkdir -p "$vg/bin" "$vg/real/bin" "$vg/build" "$vg/logs"
for d in tests share man bench README.md; do
	ln -s "$top/$d" "$vg/$d"
done
# Copies, not links, where a test looks for loom's own sources there.
cp -R "$top/lib" "$top/cmd" "$vg/"
ln -s "$top/build/libloom.a" "$vg/build/libloom.a"
# Where loom-spawn looks for share/ beside its bin/ (the engine's job.pl).
ln -s "$top/share" "$vg/real/share"
# The real compile command (tests build drivers with it), plus a flag
# that changes nothing but makes test_helper shrink the scale tests.
printf '%s -fsanitize-recover=all\n' "$(cat "$top/build/flags")" \
    >"$vg/build/flags"
for p in "$top"/bin/loom-*; do
	name=$(basename "$p")
	cp "$p" "$vg/real/bin/$name"
	cat >"$vg/bin/$name" <<EOF
#!/bin/sh
exec $valgrind -q --error-exitcode=99 --leak-check=full \\
    --show-leak-kinds=definite,indirect \\
    --errors-for-leak-kinds=definite,indirect \\
    --suppressions="$top/tests/valgrind.supp" \\
    --log-file="$vg/logs/%p.log" "$vg/real/bin/$name" "\$@"
EOF
	chmod +x "$vg/bin/$name"
done
cp "$top/bin/loom" "$vg/bin/loom"

if [ $# -eq 0 ]; then
	for f in "$top"/tests/*.bats; do
		[ "$f" = "$top/tests/make.bats" ] || set -- "$@" "$f"
	done
fi
files=''
for f in "$@"; do
	files="$files $vg/tests/$(basename "$f")"
done
rc=0
# shellcheck disable=SC2086
bats $files | tee "$vg/bats.tap" || rc=1
awk '/^ok .* # skip/ { s++; next } /^ok / { p++ } /^not ok / { f++ }
    END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' \
    "$vg/bats.tap"
runs=$(find "$vg/logs" -type f -name '*.log' | wc -l)
bad=$(find "$vg/logs" -type f -name '*.log' -size +0 | wc -l)
echo "valgrind: $runs program runs, $bad with a report" \
    "(in $vg/logs)"
if [ "$bad" -gt 0 ]; then
	find "$vg/logs" -type f -name '*.log' -size +0 | head -n 5 | xargs cat
	rc=1
fi
exit $rc
