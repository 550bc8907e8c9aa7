#!/usr/bin/env bash
# Prints the path of a `helm` executable, for the chart's tests (deploy/chart) and `make manifests`:
# $LBP_HELM when set; else the per-version cache when it is filled; else it builds helm from Go modules
# with the machine's Go into that cache (first run only: a few minutes, with progress on stderr).
# A helm on PATH is not used: its version would decide how the chart renders.
set -euo pipefail

HELM_VERSION="${LBP_HELM_VERSION:-3.22.0}"
CACHE_ROOT="${LBP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-provisioner}"

fail() { echo "lb-provisioner: error: $*" >&2; exit 1; }

if [[ -n "${LBP_HELM:-}" ]]; then
  [[ -x "$LBP_HELM" ]] || fail "LBP_HELM=$LBP_HELM is not an executable helm"
  echo "$LBP_HELM"
  exit 0
fi

dest="$CACHE_ROOT/helm-$HELM_VERSION"
if [[ -x "$dest/helm" ]]; then
  echo "$dest/helm"
  exit 0
fi

# shellcheck source=lib/go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-build.sh"
mkdir -p "$CACHE_ROOT"
go_build_lock "$dest.lock" "helm v$HELM_VERSION into $dest"
if [[ -x "$dest/helm" ]]; then
  echo "$dest/helm"
  exit 0
fi

command -v go >/dev/null 2>&1 \
  || fail "building helm needs Go >= 1.26 on PATH; install Go, or set LBP_HELM to a helm v3 executable"

mkdir -p "$dest"
GO_BUILD_WORK=$(mktemp -d)
trap 'go_build_progress_stop; rm -rf "$GO_BUILD_WORK"' EXIT
HELM="helm v$HELM_VERSION"

started=$SECONDS
echo "lb-provisioner: building $HELM from Go modules into $dest (first run only; a few minutes)" >&2
go_build_progress_start "$HELM"
go_build_phase "$HELM" "resolving modules"
cd "$GO_BUILD_WORK"
go mod init lbp-build/helm >/dev/null 2>&1
go get "helm.sh/helm/v3@v$HELM_VERSION" >&2
# As helm's own Makefile stamps it: its version, and the Kubernetes version its client libraries speak
# (the default of .Capabilities.KubeVersion in `helm template` and of `helm lint`'s deprecation checks).
k8s_minor=$(go list -m -f '{{.Version}}' k8s.io/client-go | cut -d. -f2)
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done
go_build_binary "$HELM" helm.sh/helm/v3/cmd/helm "$dest/helm.tmp" -ldflags="$ldflags"
go_build_progress_stop
mv "$dest/helm.tmp" "$dest/helm"
echo "lb-provisioner: built $HELM in $(go_build_elapsed "$started")" >&2
echo "$dest/helm"
