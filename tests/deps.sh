#!/bin/sh
# Installs what loom needs when it is missing, with apt-get, and says so.
#   deps.sh build   what building needs: libjq-dev
#   deps.sh check   that, plus what the tests need: bats, bats-assert,
#                   bats-support, GNU parallel, groff
# Set NO_INSTALL=1 or LOOM_NO_INSTALL=1 to only report what is missing.
set -u
need=""
have_header() { [ -f /usr/include/jq.h ] || [ -f /usr/local/include/jq.h ]; }
have_header || need="$need libjq-dev"
if [ "${1:-build}" = check ]; then
	command -v bats >/dev/null 2>&1 || need="$need bats"
	[ -d /usr/lib/bats/bats-assert ] || need="$need bats-assert"
	[ -d /usr/lib/bats/bats-support ] || need="$need bats-support"
	command -v parallel >/dev/null 2>&1 || need="$need parallel"
	command -v groff >/dev/null 2>&1 || need="$need groff"
	command -v rsvg-convert >/dev/null 2>&1 || need="$need librsvg2-bin"
	command -v jq >/dev/null 2>&1 || need="$need jq"
fi
[ -z "$need" ] && exit 0
if [ -n "${NO_INSTALL:-}${LOOM_NO_INSTALL:-}" ]; then
	echo "loom: missing:$need (NO_INSTALL is set; install them first)" >&2
	exit 1
fi
echo "loom: installing missing packages with apt-get:$need" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2 && $sudo apt-get install -y -qq $need >&2 || {
	echo "loom: could not install:$need" >&2
	exit 1
}
