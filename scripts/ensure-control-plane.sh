#!/usr/bin/env bash
# Prints a directory holding `kube-apiserver` and `etcd` (the envtest KUBEBUILDER_ASSETS convention):
# $KUBEBUILDER_ASSETS when set; else the per-version cache when it is filled; else both binaries found
# on PATH; else it builds them from Go modules with the machine's Go into that cache, so only the first
# run on a machine pays for the build (minutes: a line on stderr every 15 s says what is being built
# and for how long).
set -euo pipefail

KUBE_VERSION="${LBP_KUBE_VERSION:-1.37.2}"
ETCD_VERSION="${LBP_ETCD_VERSION:-3.6.16}"
CACHE_ROOT="${LBP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-provisioner}"
# 0: build kube-apiserver, then etcd; 1: both at once. On 2 cores both at once is no faster (1.05x the
# time, docs/benchmarks.md "First run"): go build already keeps both cores busy with one binary.
CONCURRENT="${LBP_CONTROL_PLANE_CONCURRENT_BUILD:-0}"

fail() { echo "lb-provisioner: error: $*" >&2; exit 1; }
say() { echo "lb-provisioner: $*" >&2; }

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

# Installed binaries (a package manager, `setup-envtest` output on PATH): no build. They need not share
# a directory, so the cache gets a directory of links to both.
on_path_apiserver=$(command -v kube-apiserver || true)
on_path_etcd=$(command -v etcd || true)
if [[ -n "$on_path_apiserver" && -n "$on_path_etcd" ]]; then
  if [[ "$(dirname "$on_path_apiserver")" == "$(dirname "$on_path_etcd")" ]]; then
    echo "$(dirname "$on_path_apiserver")"
    exit 0
  fi
  links="$CACHE_ROOT/control-plane/from-path"
  mkdir -p "$links"
  ln -sfn "$on_path_apiserver" "$links/kube-apiserver"
  ln -sfn "$on_path_etcd" "$links/etcd"
  echo "$links"
  exit 0
fi

# shellcheck source=lib/go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-build.sh"
mkdir -p "$CACHE_ROOT/control-plane"
go_build_lock "$dest.lock" "kube-apiserver v$KUBE_VERSION into $dest"
if [[ -x "$dest/kube-apiserver" && -x "$dest/etcd" ]]; then
  echo "$dest"
  exit 0
fi

command -v go >/dev/null 2>&1 \
  || fail "building kube-apiserver and etcd needs Go >= 1.24 on PATH; install Go, or put kube-apiserver and etcd on PATH, or set KUBEBUILDER_ASSETS to a directory holding both"

mkdir -p "$dest"
GO_BUILD_WORK=$(mktemp -d)
trap 'go_build_progress_stop; rm -rf "$GO_BUILD_WORK"' EXIT
KUBE="kube-apiserver v$KUBE_VERSION"
ETCD="etcd v$ETCD_VERSION"

build_kube_apiserver() {
  # k8s.io/kubernetes replaces its staging modules with ./staging paths, which a dependent module
  # cannot follow, so pin each staging module to its published v0.N.P twin.
  local minor_patch="${KUBE_VERSION#1.}" kube_gomod version_pkg ldflags
  go_build_phase "$KUBE" "resolving modules"
  mkdir -p "$GO_BUILD_WORK/kube" && cd "$GO_BUILD_WORK/kube"
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
  go_build_binary "$KUBE" k8s.io/kubernetes/cmd/kube-apiserver "$dest/kube-apiserver.tmp" -ldflags="$ldflags"
}

build_etcd() {
  # The etcd server module is itself package main.
  go_build_phase "$ETCD" "resolving modules"
  mkdir -p "$GO_BUILD_WORK/etcd" && cd "$GO_BUILD_WORK/etcd"
  go mod init lbp-build/etcd >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2
  go_build_binary "$ETCD" go.etcd.io/etcd/server/v3 "$dest/etcd.tmp" -ldflags='-s -w'
}

started=$SECONDS
say "building $KUBE and $ETCD from Go modules into $dest (first run only; several minutes)"
go_build_progress_start "$KUBE" "$ETCD"
if [[ "$CONCURRENT" == 1 ]]; then
  build_kube_apiserver &
  kube_pid=$!
  build_etcd &
  etcd_pid=$!
  # Wait for both even when one fails, so no build outlives the script.
  failed=0
  wait "$kube_pid" || failed=1
  wait "$etcd_pid" || failed=1
  ((failed == 0)) || exit 1
else
  (build_kube_apiserver)
  (build_etcd)
fi
go_build_progress_stop

mv "$dest/kube-apiserver.tmp" "$dest/kube-apiserver"
mv "$dest/etcd.tmp" "$dest/etcd"
say "built kube-apiserver and etcd in $(go_build_elapsed "$started")"
echo "$dest"
