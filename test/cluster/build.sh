#!/usr/bin/env bash
# Builds the test cluster (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
# embedded etcd, kwok; prometheus-adapter from its own module) from the Go modules pinned in
# go.mod files, once per version, into a cache outside the repository:
#   ${XDG_CACHE_HOME:-~/.cache}/perfpilot/<kubernetes version>-etcd<version>-<sources hash>/
# Prints the cache directory on stdout. Set PERFPILOT_FORCE_BUILD=1 to rebuild.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(cat "$here/KUBERNETES_VERSION")"
etcd="$(awk '{for (i = 1; i < NF; i++) if ($i == "go.etcd.io/etcd/server/v3") print $(i + 1)}' "$here/go.mod")"
# The cache key covers what the binaries are built from, so a change to any of it rebuilds them.
sources=$(cat "$here/go.mod" "$here/go.sum" "$here/cmd/etcd/main.go" "$here/build.sh" \
  "$here/prometheus-adapter/go.mod" "$here/prometheus-adapter/go.sum" | sha256sum | cut -c1-12)
dir="${PERFPILOT_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/perfpilot/$version-etcd$etcd-$sources}"
stamp="$dir/.complete"
if [[ -f "$stamp" && "${PERFPILOT_FORCE_BUILD:-0}" != 1 ]]; then
  echo "$dir"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "perfpilot: missing Go toolchain (needed once to build kube-apiserver $version)." >&2
  echo "  install it: apt-get install -y golang-go   (or put /usr/local/go/bin on PATH)" >&2
  exit 1
fi
mkdir -p "$dir"
# One build at a time per version: parallel test workers wait for the first one's result.
exec 9>"$dir/.lock"
flock 9
if [[ -f "$stamp" && "${PERFPILOT_FORCE_BUILD:-0}" != 1 ]]; then
  echo "$dir"
  exit 0
fi
tmp="$(mktemp -d "$dir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "perfpilot: building Kubernetes $version (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl), etcd $etcd, kwok and prometheus-adapter into $dir (first time only: about 20 minutes on 2 cores)" >&2
start=$(date +%s)
cd "$here"
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$version")"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$version"
measure=()
[[ -x /usr/bin/time ]] && measure=(/usr/bin/time -f "perfpilot: %C: %e s, peak RSS %M KiB")
step=0
build() { # build NAME LDFLAGS PACKAGE: one binary, timed, with progress on stderr
  step=$((step + 1))
  echo "perfpilot: [$step/7] building $1 ($(( $(date +%s) - start )) s so far)" >&2
  "${measure[@]}" go build -trimpath -ldflags "$2" -o "$tmp/$1" "$3" >&2
}
build kube-apiserver "$ldflags" k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager "$ldflags" k8s.io/kubernetes/cmd/kube-controller-manager
build kube-scheduler "$ldflags" k8s.io/kubernetes/cmd/kube-scheduler
build kubectl "$ldflags" k8s.io/kubernetes/cmd/kubectl
build etcd "-s -w" ./cmd/etcd
build kwok "-s -w" sigs.k8s.io/kwok/cmd/kwok
# prometheus-adapter v0.12.0 is built on k8s.io v0.30, so it keeps its own module.
(cd prometheus-adapter && build prometheus-adapter "-s -w" sigs.k8s.io/prometheus-adapter/cmd/adapter)
# kwok's own stages from its module: nodes become Ready and keep a heartbeat, pods become Running.
kwok_dir=$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
for stage in node/fast/node-initialize node/heartbeat/node-heartbeat pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
  echo "---"
  cat "$kwok_dir/kustomize/stage/$stage.yaml"
done >"$tmp/kwok-stages.yaml"
mv "$tmp"/* "$dir/"
echo "built in $(( $(date +%s) - start )) s on $(nproc) cores" >"$stamp"
echo "perfpilot: control plane built in $(( $(date +%s) - start )) s" >&2
echo "$dir"
