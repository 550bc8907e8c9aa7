#!/usr/bin/env bash
# Prints the path of a `moto_server` executable, installing the pinned moto[server] into a cached
# virtualenv on first use. Not needed when AWS_ENDPOINT_URL points at LocalStack or another emulator.
set -euo pipefail

MOTO_VERSION="${LBP_MOTO_VERSION:-5.2.5}"
CACHE_ROOT="${LBP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-provisioner}"
venv="$CACHE_ROOT/moto-$MOTO_VERSION"

fail() { echo "lb-provisioner: error: $*" >&2; exit 1; }

# The marker is written last, so an interrupted install is never mistaken for a usable one.
if [[ -f "$venv/.complete" ]]; then
  echo "$venv/bin/moto_server"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$venv.lock"
  if ! flock -n 9; then
    echo "lb-provisioner: waiting for another installation of moto into $venv" >&2
    flock 9
  fi
  if [[ -f "$venv/.complete" ]]; then
    echo "$venv/bin/moto_server"
    exit 0
  fi
fi

python=""
for candidate in python3 python; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
    python="$candidate"; break
  fi
done
[[ -n "$python" ]] || fail "the AWS tier needs Python >= 3.9 with venv to run moto; install python3, or set AWS_ENDPOINT_URL to a running emulator (e.g. LocalStack)"

echo "lb-provisioner: installing moto[server]==$MOTO_VERSION into $venv (first run only)" >&2
rm -rf "$venv"
"$python" -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
touch "$venv/.complete"
echo "$venv/bin/moto_server"
