#!/bin/sh
# libs.sh: an audit task that lists the libraries the code links (the
# NEEDED entries of built ELF files, read with readelf, never ldd, which may
# run the file; and the -lNAME flags in makefiles) with the Debian package
# that provides each and its installed version (dpkg-query).  Findings: a
# library no installed package provides (low: nothing keeps it updated),
# and an installed package with a newer version available (medium: it may
# carry security fixes).
set -eu
# shellcheck source=/dev/null
. "$(dirname -- "$0")/common.sh"

root=$(audit_root)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One line per use: library file pattern, where it is used, line.
: >"$tmp/uses"
audit_files elf >"$tmp/elf"
if command -v readelf >/dev/null 2>&1; then
	while IFS= read -r f; do
		LC_ALL=C readelf -d -- "$f" 2>/dev/null |
		    sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' |
		    while IFS= read -r so; do
			printf '%s\t%s\t\n' "$so" "$f"
		done
	done <"$tmp/elf" >>"$tmp/uses"
fi
audit_files make >"$tmp/make"
while IFS= read -r f; do
	grep -n -o -E '(^|[[:space:]])-l[A-Za-z0-9_+.-]+' -- "$f" |
	    sed 's/:[[:space:]]*-l/:/' | while IFS=: read -r n name; do
		printf 'lib%s.so\t%s\t%s\n' "$name" "$f" "$n"
	done
done <"$tmp/make" >>"$tmp/uses"

# Which package has each library: one of this machine's architecture
# first, then other runtime packages, then -dev ones.
: >"$tmp/libs"
: >"$tmp/tsv"
cut -f1 "$tmp/uses" | LC_ALL=C sort -u | while IFS= read -r so; do
	pkg=""
	ver=""
	if command -v dpkg-query >/dev/null 2>&1; then
		arch=$(dpkg --print-architecture 2>/dev/null || true)
		pkg=$(dpkg-query -S "*/$so*" 2>/dev/null |
		    sed -n 's/^\([^ ,:]*\(:[a-z0-9]*\)\{0,1\}\): .*/\1/p' |
		    awk -v arch="$arch" '
			{ r = /-dev(:|$)/ ? 2 : $0 ~ (":" arch "$") ? 0 : 1 }
			!(r in best) { best[r] = $0 }
			END { for (r = 0; r < 3; r++)
				if (r in best) { print best[r]; exit } }')
		[ -n "$pkg" ] && ver=$(dpkg-query -W -f='${Version}' "$pkg" \
		    2>/dev/null || true)
	fi
	grep -F "$(printf '%s\t' "$so")" "$tmp/uses" | head -n 1 >"$tmp/use"
	IFS="$(printf '\t')" read -r _ file line <"$tmp/use" || true
	jq -cn --arg so "$so" --arg pkg "$pkg" --arg ver "$ver" \
	    --rawfile uses "$tmp/uses" \
	    '{library: $so, package: (if $pkg == "" then null else $pkg end),
	      version: (if $ver == "" then null else $ver end),
	      used_by: ($uses | split("\n") | map(split("\t"))
		| map(select(.[0] == $so) | .[1] + (if (.[2] // "") == ""
		  then "" else ":" + .[2] end)))}' >>"$tmp/libs"
	if [ -z "$pkg" ]; then
		printf 'low\t%s\t%s\t%s\t%s\n' "$file" "$line" \
		    "no installed package provides $so: nothing updates it" \
		    "install it from a Debian package" >>"$tmp/tsv"
		continue
	fi
	cand=$(LC_ALL=C apt-cache policy "${pkg%%:*}" 2>/dev/null |
	    sed -n 's/^ *Candidate: //p' | head -n 1)
	if [ -n "$cand" ] && [ "$cand" != "(none)" ] && [ -n "$ver" ] &&
	    dpkg --compare-versions "$cand" gt "$ver" 2>/dev/null; then
		printf 'medium\t%s\t%s\t%s\t%s\n' "$file" "$line" \
		    "$pkg $ver is installed but $cand is available" \
		    "apt-get install --only-upgrade ${pkg%%:*}" >>"$tmp/tsv"
	fi
done
audit_tsv <"$tmp/tsv" >"$tmp/issues"
results=$(jq -s '{libraries: ., count: length}' "$tmp/libs")
audit_emit "$results" "$tmp/issues"
