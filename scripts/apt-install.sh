#!/usr/bin/env bash
# Installs the given Debian packages (apt-get, through sudo when not root), quietly; nothing when none is given.
# Used by scripts/test.sh and scripts/test-python.sh for the tools their tests need.
set -euo pipefail
[ $# -gt 0 ] || exit 0
echo "$(basename "${CALLER:-$0}"): installing $*"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "$@" >/dev/null
