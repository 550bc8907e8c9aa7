#!/usr/bin/env bash
# Runs a command (`npm run demo`, `npm test`) with everything it needs first: a Node that runs the
# TypeScript sources first on PATH (scripts/ensure-node.sh), and the locked dependencies, installed
# with `npm ci` when node_modules is missing or was installed from another package-lock.json (a stamp
# holding the lock file's hash says which). What the demo and the test tiers need beyond that
# (kube-apiserver, etcd, helm, moto) they provision themselves, cached.
#
#   bash scripts/with-deps.sh <command> [args...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# npm finds its global config (the machine's CA file, registry, proxy) next to the node running it; keep
# the machine's when the node becomes the cached Node 24.
if [[ -z "${npm_config_globalconfig:-}" ]] && command -v npm >/dev/null 2>&1; then
  npm_config_globalconfig=$(npm config get globalconfig 2>/dev/null || true)
  [[ -z "$npm_config_globalconfig" ]] || export npm_config_globalconfig
fi
node_bin=$(bash scripts/ensure-node.sh)
export PATH="$node_bin:$PATH"

stamp=node_modules/.lbp-lock-sha
lock_sha=$(node -e 'const { createHash } = require("node:crypto"); process.stdout.write(createHash("sha1").update(require("node:fs").readFileSync("package-lock.json")).digest("hex"))')
if [[ "$(cat "$stamp" 2>/dev/null)" != "$lock_sha" ]]; then
  echo "lb-provisioner: installing the locked dependencies (node $(node -v); node_modules is missing or older than package-lock.json)" >&2
  npm ci --no-audit --no-fund >&2
  echo "$lock_sha" > "$stamp"
fi
exec "$@"
