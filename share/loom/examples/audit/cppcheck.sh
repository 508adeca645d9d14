#!/bin/sh
# cppcheck.sh: an audit task that runs cppcheck, when it is installed, on
# the C sources (warnings and portability checks).  Severities: error is
# high, warning medium, portability, performance and style low,
# information (and unknownMacro, a want of configuration) info.  Without
# cppcheck it says so in one info finding.
set -eu
# shellcheck source=/dev/null
. "$(dirname -- "$0")/common.sh"

root=$(audit_root)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
audit_files c | grep -E '\.c$' >"$tmp/files" || true

if ! command -v cppcheck >/dev/null 2>&1; then
	audit_issue info "" "" "cppcheck is not installed: this audit was" \
	    " skipped" "apt-get install cppcheck" >"$tmp/issues"
	audit_emit '{"skipped":"cppcheck is not installed"}' "$tmp/issues"
	exit 0
fi

# So that cppcheck knows the macros the code uses (an unknown one makes it
# misread whole functions): -I for each directory with headers, and each
# library header included from /usr/include that is not a standard one.
audit_files c >"$tmp/all"
grep -E '\.h$' "$tmp/all" | sed -e 's|/[^/]*$||' -e 's|^[^/]*$|.|' |
    LC_ALL=C sort -u | sed 's/^/-I\n/' >"$tmp/args"
std=' assert complex ctype errno fenv float inttypes iso646 limits locale
    math setjmp signal stdalign stdarg stdatomic stdbool stddef stdint
    stdio stdlib stdnoreturn string tgmath threads time uchar wchar wctype
    aio cpio dirent dlfcn err fcntl fnmatch ftw getopt glob grp iconv
    langinfo libgen malloc monetary mqueue netdb nl_types poll pthread pwd
    regex sched search semaphore spawn strings syslog tar termios ulimit
    unistd utime utmpx wordexp alloca endian features memory paths '
if [ -s "$tmp/files" ]; then
	inc='s/^[[:space:]]*#[[:space:]]*include[[:space:]]*'
	inc="$inc"'<\([^/>]*\)\.h>.*/\1/p'
	tr '\n' '\0' <"$tmp/all" | xargs -0 sed -n "$inc" |
	    LC_ALL=C sort -u | while IFS= read -r h; do
		case $std in *" $h "*) continue ;; esac
		[ -f "/usr/include/$h.h" ] &&
		    printf -- '--include=/usr/include/%s.h\n' "$h"
		true
	done >>"$tmp/args"
fi

if [ -s "$tmp/files" ]; then
	tr '\n' '\0' <"$tmp/args" | xargs -0 cppcheck -q \
	    --enable=warning,portability --inline-suppr --max-configs=1 \
	    --suppress=missingIncludeSystem \
	    --template='{file}\t{line}\t{severity}\t{id}\t{message}' \
	    --file-list="$tmp/files" 2>"$tmp/out" >/dev/null ||
	    audit_die "cppcheck failed: $(head -n 1 "$tmp/out")"
fi
touch "$tmp/out"
awk -F '\t' 'NF >= 5 && $1 != "" && $1 != "nofile" {
	sev = "low"
	if ($3 == "information" || $4 == "unknownMacro")
		sev = "info"
	else if ($3 == "error")
		sev = "high"
	else if ($3 == "warning")
		sev = "medium"
	printf "%s\t%s\t%s\t%s (cppcheck %s)\t\n", sev, $1, $2, $5, $4
}' "$tmp/out" >"$tmp/tsv"
audit_tsv <"$tmp/tsv" >"$tmp/issues"
results=$(jq -n --arg v "$(cppcheck --version)" \
    --argjson n "$(wc -l <"$tmp/files")" --slurpfile i "$tmp/issues" \
    '{tool: $v, files_checked: $n, findings: ($i | length)}')
audit_emit "$results" "$tmp/issues"
