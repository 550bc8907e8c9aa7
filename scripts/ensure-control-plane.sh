#!/usr/bin/env bash
# Prints a directory holding `kube-apiserver` and `etcd` (the envtest KUBEBUILDER_ASSETS convention).
# Uses $KUBEBUILDER_ASSETS when it already holds both; otherwise builds them from Go modules with the
# machine's Go into a per-version cache, so only the first run on a machine pays for the build.
set -euo pipefail

KUBE_VERSION="${LBP_KUBE_VERSION:-1.37.2}"
ETCD_VERSION="${LBP_ETCD_VERSION:-3.6.16}"
CACHE_ROOT="${LBP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-provisioner}"

fail() { echo "lb-provisioner: error: $*" >&2; exit 1; }

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  [[ -x "$KUBEBUILDER_ASSETS/kube-apiserver" && -x "$KUBEBUILDER_ASSETS/etcd" ]] \
    || fail "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS must contain executable kube-apiserver and etcd (e.g. the output of 'setup-envtest use')"
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

dest="$CACHE_ROOT/control-plane/k8s-$KUBE_VERSION-etcd-$ETCD_VERSION"
if [[ -x "$dest/kube-apiserver" && -x "$dest/etcd" ]]; then
  echo "$dest"
  exit 0
fi

# One build per version at a time: a second caller (another test run, the demo) waits for the first
# and then finds the binaries in the cache.
mkdir -p "$CACHE_ROOT/control-plane"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dest.lock"
  if ! flock -n 9; then
    echo "lb-provisioner: waiting for another build of kube-apiserver v$KUBE_VERSION into $dest" >&2
    flock 9
  fi
  if [[ -x "$dest/kube-apiserver" && -x "$dest/etcd" ]]; then
    echo "$dest"
    exit 0
  fi
fi

command -v go >/dev/null 2>&1 \
  || fail "building kube-apiserver and etcd needs Go >= 1.24 on PATH; install Go, or set KUBEBUILDER_ASSETS to a directory holding kube-apiserver and etcd"

mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local

echo "lb-provisioner: building kube-apiserver v$KUBE_VERSION and etcd v$ETCD_VERSION into $dest (first run only; several minutes)" >&2

# kube-apiserver: k8s.io/kubernetes replaces its staging modules with ./staging paths, which a
# dependent module cannot follow, so pin each staging module to its published v0.N.P twin.
minor_patch="${KUBE_VERSION#1.}"
mkdir -p "$work/kube" && cd "$work/kube"
go mod init lbp-build/kube >/dev/null 2>&1
kube_gomod=$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
[[ -f "$kube_gomod" ]] || fail "could not download k8s.io/kubernetes@v$KUBE_VERSION from the Go module proxy"
go mod edit -require="k8s.io/kubernetes@v$KUBE_VERSION"
grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$kube_gomod" | awk '{print $1}' | sort -u | while read -r m; do
  go mod edit -replace="$m=$m@v0.$minor_patch"
done
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
go mod tidy >&2
# Stamp the version the apiserver reports on /version (a plain `go build` says v0.0.0-master).
version_pkg=k8s.io/component-base/version
ldflags="-s -w -X $version_pkg.gitVersion=v$KUBE_VERSION -X $version_pkg.gitMajor=1"
ldflags+=" -X $version_pkg.gitMinor=${minor_patch%%.*} -X $version_pkg.gitTreeState=clean"
go build -trimpath -ldflags="$ldflags" -o "$dest/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver >&2

# etcd: the server module is itself package main.
mkdir -p "$work/etcd" && cd "$work/etcd"
go mod init lbp-build/etcd >/dev/null 2>&1
go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2
go build -trimpath -ldflags='-s -w' -o "$dest/etcd.tmp" go.etcd.io/etcd/server/v3 >&2

mv "$dest/kube-apiserver.tmp" "$dest/kube-apiserver"
mv "$dest/etcd.tmp" "$dest/etcd"
echo "$dest"
