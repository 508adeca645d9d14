#!/usr/bin/env bats
# The Makefile's promises: install puts programs, man pages and share/
# under DESTDIR/PREFIX; uninstall removes exactly that.

load test_helper

@test "make install and uninstall honour PREFIX and DESTDIR" {
	make -s -C "$TOP" install DESTDIR="$PWD/root" PREFIX=/opt/lm >/dev/null
	for p in "$TOP"/bin/loom*; do
		[ -x "root/opt/lm/bin/${p##*/}" ]
	done
	for m in "$TOP"/man/*.1; do
		[ -f "root/opt/lm/share/man/man1/${m##*/}" ]
	done
	[ -f root/opt/lm/share/man/man7/loom.7 ]
	[ -d root/opt/lm/share/loom ]
	run root/opt/lm/bin/loom-levels --version
	assert_success
	mkdir -p root/opt/lm/bin/keep && touch root/opt/lm/bin/mine
	make -s -C "$TOP" uninstall DESTDIR="$PWD/root" PREFIX=/opt/lm >/dev/null
	run find root -type f
	assert_output root/opt/lm/bin/mine
}

@test "NO_INSTALL only reports what is missing" {
	run env NO_INSTALL=1 PATH=/nonexistent /bin/sh "$TOP/tests/deps.sh" check
	assert_failure 1
	assert_output --partial 'loom: missing: jq bats'
	assert_output --partial '(NO_INSTALL is set; install them first)'
}

@test "every option a program's --help shows is in its man page" {
	for p in "$TOP"/bin/loom*; do
		name=${p##*/}
		page="$TOP/man/$name.1"
		[ -f "$page" ] || { echo "no man page for $name"; return 1; }
		"$p" --help > help || { echo "$name --help failed"; return 1; }
		sed 's/\\-/-/g' "$page" > page
		for o in $(grep -oE -- '--[a-z][a-z-]+' help | sort -u); do
			grep -qF -- "${o#--}" page || {
				echo "$name: $o is not in $page"
				return 1
			}
		done
	done
}

@test "-h and --help print the same usage to stdout in every filter" {
	for p in "$TOP"/bin/loom-*; do
		a=$("$p" -h) || { echo "${p##*/} -h failed"; return 1; }
		b=$("$p" --help)
		[ "$a" = "$b" ] || { echo "${p##*/}: -h and --help differ"; return 1; }
		case $a in usage:*) ;; *) echo "${p##*/}: no usage"; return 1 ;; esac
	done
}
