#!/usr/bin/env bash
# Prints a directory holding the benchmark's reference controllers, built from this Go module:
#   service-controller       k8s.io/cloud-provider's service controller over its fake cloud
#   aws-service-controller   the same controller over the legacy AWS provider (k8s.io/cloud-provider-aws)
# Builds them once per content of this module (go.mod, go.sum, *.go) and Go version into
# ~/.cache/lb-provisioner/bench-upstream/<key>/, like scripts/ensure-control-plane.sh caches
# kube-apiserver; a second caller waits for the first build under a lock.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
CACHE_ROOT="${LBP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-provisioner}"
BINARIES=(service-controller aws-service-controller)

fail() { echo "lb-provisioner bench: error: $*" >&2; exit 1; }
command -v go >/dev/null 2>&1 || fail "building the reference controllers needs Go >= 1.26 on PATH"

key=$(
  cd "$here"
  { go env GOVERSION; find . -name '*.go' -o -name go.mod -o -name go.sum | LC_ALL=C sort | xargs sha256sum; } \
    | sha256sum | cut -c1-16
)
dest="$CACHE_ROOT/bench-upstream/$key"
built() { for binary in "${BINARIES[@]}"; do [[ -x "$dest/$binary" ]] || return 1; done; }
if built; then echo "$dest"; exit 0; fi

mkdir -p "$CACHE_ROOT/bench-upstream"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dest.lock"
  if ! flock -n 9; then
    echo "lb-provisioner bench: waiting for another build of the reference controllers into $dest" >&2
    flock 9
  fi
  if built; then echo "$dest"; exit 0; fi
fi

echo "lb-provisioner bench: building the reference controllers into $dest (first run only; a few minutes)" >&2
mkdir -p "$dest"
cd "$here"
export CGO_ENABLED=0 GOFLAGS=-mod=readonly GOTOOLCHAIN=local
for binary in "${BINARIES[@]}"; do
  nice go build -trimpath -ldflags='-s -w' -o "$dest/$binary.tmp" "./$binary" >&2
  mv "$dest/$binary.tmp" "$dest/$binary"
done
echo "$dest"
