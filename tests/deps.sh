#!/bin/sh
# Installs what loom needs when it is missing, with apt-get, and says so.
#   deps.sh build   what building needs: libjq-dev, and jq (for scripts)
#   deps.sh demo    that, plus what the shipped audit uses when present:
#                   cppcheck, shellcheck
#   deps.sh check   build, plus what the tests need: bats, bats-assert,
#                   bats-support, GNU parallel, groff, librsvg2-bin,
#                   cppcheck, shellcheck, and openssh-server and
#                   openssh-client (tests/engine.bats runs its own sshd)
# Set NO_INSTALL=1 or LOOM_NO_INSTALL=1 to only report what is missing.
set -u
need=""
want() {	# want COMMAND-OR-PATH PACKAGE
	case $1 in
	/*) [ -e "$1" ] ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac || need="$need $2"
}
[ -f /usr/include/jq.h ] || [ -f /usr/local/include/jq.h ] ||
    need="$need libjq-dev"
want jq jq
case ${1:-build} in
demo)
	want cppcheck cppcheck
	want shellcheck shellcheck
	;;
check)
	want bats bats
	want /usr/lib/bats/bats-assert bats-assert
	want /usr/lib/bats/bats-support bats-support
	want parallel parallel
	want groff groff
	want rsvg-convert librsvg2-bin
	want cppcheck cppcheck
	want shellcheck shellcheck
	want /usr/sbin/sshd openssh-server
	want ssh-keygen openssh-client
	;;
esac
[ -z "$need" ] && exit 0
if [ -n "${NO_INSTALL:-}${LOOM_NO_INSTALL:-}" ]; then
	echo "loom: missing:$need (NO_INSTALL is set; install them first)" >&2
	exit 1
fi
echo "loom: installing missing packages with apt-get:$need" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo
export DEBIAN_FRONTEND=noninteractive
# $need is a list of package names: split it.
# shellcheck disable=SC2086
if ! $sudo apt-get update -qq >&2 ||
    ! $sudo apt-get install -y -qq $need >&2; then
	echo "loom: could not install:$need" >&2
	exit 1
fi
