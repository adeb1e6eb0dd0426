#!/usr/bin/env bash
# Creates the moto (S3-compatible test server) virtualenv the std-io tests use, at $MOTO_VENV
# (default /tmp/sstkit-moto-venv), if it is not there yet. About 70 s on a fresh machine.
# The tests start `$MOTO_VENV/bin/moto_server -H 127.0.0.1 -p PORT` themselves (std-io/tests/support).
set -euo pipefail
MOTO_VENV="${MOTO_VENV:-/tmp/sstkit-moto-venv}"
if [ -x "$MOTO_VENV/bin/moto_server" ]; then
  echo "moto: $MOTO_VENV/bin/moto_server present"
  exit 0
fi
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq python3-venv >/dev/null
fi
rm -rf "$MOTO_VENV"
python3 -m venv "$MOTO_VENV"
"$MOTO_VENV/bin/pip" install -q --disable-pip-version-check 'moto[server]'
test -x "$MOTO_VENV/bin/moto_server"
echo "moto: installed into $MOTO_VENV ($("$MOTO_VENV/bin/python" -c 'import moto; print(moto.__version__)'))"
