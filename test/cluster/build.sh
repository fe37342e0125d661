#!/usr/bin/env bash
# Builds the test control plane (kube-apiserver, kubectl, embedded etcd) from the Go modules
# pinned in go.mod, once per version, into a cache outside the repository:
#   ${XDG_CACHE_HOME:-~/.cache}/perfpilot/<kubernetes version>-etcd<version>-<sources hash>/{kube-apiserver,kubectl,etcd}
# Prints the cache directory on stdout. Set PERFPILOT_FORCE_BUILD=1 to rebuild.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(cat "$here/KUBERNETES_VERSION")"
etcd="$(awk '{for (i = 1; i < NF; i++) if ($i == "go.etcd.io/etcd/server/v3") print $(i + 1)}' "$here/go.mod")"
# The cache key covers what the binaries are built from, so a change to any of it rebuilds them.
sources=$(cat "$here/go.mod" "$here/go.sum" "$here/cmd/etcd/main.go" "$here/build.sh" | sha256sum | cut -c1-12)
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
echo "perfpilot: building kube-apiserver $version, kubectl $version and etcd $etcd into $dir (first time only; takes minutes)" >&2
start=$(date +%s)
cd "$here"
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$version")"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$version"
measure=()
[[ -x /usr/bin/time ]] && measure=(/usr/bin/time -f "perfpilot: %C: %e s, peak RSS %M KiB")
"${measure[@]}" go build -trimpath -ldflags "$ldflags" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver >&2
"${measure[@]}" go build -trimpath -ldflags "$ldflags" -o "$tmp/kubectl" k8s.io/kubernetes/cmd/kubectl >&2
"${measure[@]}" go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" ./cmd/etcd >&2
mv "$tmp/kube-apiserver" "$tmp/kubectl" "$tmp/etcd" "$dir/"
echo "built in $(( $(date +%s) - start )) s on $(nproc) cores" >"$stamp"
echo "perfpilot: control plane built in $(( $(date +%s) - start )) s" >&2
echo "$dir"
