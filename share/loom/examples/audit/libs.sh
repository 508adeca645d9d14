#!/bin/sh
# libs.sh: an audit task that lists the libraries the code links (the
# NEEDED entries of built ELF files, read with readelf, never ldd, which may
# run the file; and the -lNAME flags in makefiles) with the Debian package
# that provides each and its installed version (dpkg-query).  Findings:
# each library with its package and version (info), a library no installed
# package provides (low: nothing keeps it updated), and an installed
# package with a newer version available (medium: it may carry security
# fixes).
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

# Which package has each library, in one dpkg-query call: a package of
# this machine's architecture first, then other runtime packages, then -dev
# ones.  Then their versions and candidates, one call each.
cut -f1 "$tmp/uses" | LC_ALL=C sort -u >"$tmp/sos"
: >"$tmp/owners"
: >"$tmp/vers"
: >"$tmp/cands"
if [ -s "$tmp/sos" ] && command -v dpkg-query >/dev/null 2>&1; then
	sed 's|.*|*/&*|' "$tmp/sos" | tr '\n' '\0' |
	    xargs -0 dpkg-query -S >"$tmp/owners" 2>/dev/null || true
fi
arch=$(dpkg --print-architecture 2>/dev/null || true)
awk -v arch="$arch" -F '\t' '
	FILENAME == ARGV[1] { want[$1] = 1; next }
	{
		i = index($0, ": ")
		if (i == 0)
			next
		path = substr($0, i + 2)
		base = path
		sub(/.*\//, "", base)
		n = split(substr($0, 1, i - 1), pk, ", ")
		for (so in want) {
			if (index(base, so) != 1)
				continue
			for (j = 1; j <= n; j++) {
				r = pk[j] ~ /-dev(:|$)/ ? 2 : \
				    pk[j] ~ (":" arch "$") ? 0 : 1
				if (!(so in best) || r < rank[so]) {
					best[so] = pk[j]
					rank[so] = r
				}
			}
		}
	}
	END { for (so in best) print so "\t" best[so] }
' "$tmp/sos" "$tmp/owners" >"$tmp/pkgs"
if [ -s "$tmp/pkgs" ]; then
	cut -f2 "$tmp/pkgs" | LC_ALL=C sort -u >"$tmp/pkglist"
	# shellcheck disable=SC2016 # ${...} is dpkg-query's, not the shell's
	tr '\n' '\0' <"$tmp/pkglist" | xargs -0 dpkg-query -W \
	    -f='${binary:Package}\t${Version}\n' >"$tmp/vers" 2>/dev/null ||
	    true
	if command -v apt-cache >/dev/null 2>&1; then
		sed 's/:.*//' "$tmp/pkglist" | tr '\n' '\0' |
		    LC_ALL=C xargs -0 apt-cache policy 2>/dev/null | awk '
			/^[^ ].*:$/ { p = substr($0, 1, length($0) - 1) }
			/^ *Candidate: / { print p "\t" $2 }' >"$tmp/cands" ||
		    true
	fi
fi

# One library a line, with where it is used; findings as tab-separated
# lines.
jq -n --rawfile uses "$tmp/uses" --rawfile sos "$tmp/sos" \
    --rawfile pkgs "$tmp/pkgs" --rawfile vers "$tmp/vers" \
    --rawfile cands "$tmp/cands" '
	def lines: split("\n") | map(select(. != "") | split("\t"));
	($pkgs | lines | map({key: .[0], value: .[1]}) | from_entries)
	    as $pkg
	| ($vers | lines | map({key: .[0], value: .[1]}) | from_entries)
	    as $ver
	| ($cands | lines | map({key: .[0], value: .[1]}) | from_entries)
	    as $cand
	| ($uses | lines) as $u
	| $sos | lines[] | .[0] as $so
	| ($pkg[$so]) as $p
	| {library: $so, package: $p,
	   version: (if $p then ($ver[$p] // $ver[$p | sub(":.*"; "")])
	       else null end),
	   candidate: (if $p then $cand[$p | sub(":.*"; "")] else null end),
	   used_by: [$u[] | select(.[0] == $so)
	       | .[1] + (if (.[2] // "") == "" then "" else ":" + .[2] end)],
	   at: ([$u[] | select(.[0] == $so)][0] | {file: .[1],
	       line: (.[2] // "")})}' >"$tmp/libs"

# A library no package provides; a package with a newer candidate.
# (Fields split on US, not tab: read merges runs of blank separators.)
us=$(printf '\037')
jq -r '[.library, .package // "", .version // "", .candidate // "",
    .at.file, .at.line] | join("\u001f")' "$tmp/libs" |
    while IFS=$us read -r so pkg ver cand file line; do
	if [ -n "$pkg" ]; then
		printf 'info\t%s\t%s\t%s\t\n' "$file" "$line" \
		    "links $so: $pkg $ver"
	fi
	if [ -z "$pkg" ]; then
		printf 'low\t%s\t%s\t%s\t%s\n' "$file" "$line" \
		    "no installed package provides $so: nothing updates it" \
		    "install it from a Debian package"
	elif [ -n "$cand" ] && [ "$cand" != "(none)" ] && [ -n "$ver" ] &&
	    dpkg --compare-versions "$cand" gt "$ver" 2>/dev/null; then
		printf 'medium\t%s\t%s\t%s\t%s\n' "$file" "$line" \
		    "$pkg $ver is installed but $cand is available" \
		    "apt-get install --only-upgrade ${pkg%%:*}"
	fi
done >"$tmp/tsv"
audit_tsv <"$tmp/tsv" >"$tmp/issues"
results=$(jq -s '{libraries: map(del(.at)), count: length}' "$tmp/libs")
audit_emit "$results" "$tmp/issues"
